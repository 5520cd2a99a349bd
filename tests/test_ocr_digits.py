"""Every OCR'd digit is confirmed by the form's identities or flagged (extract/ocr_digits.py).

No engine here: the tables come from a generated report's text, and each cell is given what
an OCR engine reports (confidence, digits with the model's second choice, ink that read as
nothing); the misreads are the ones OCR makes (3/8, 1/7, 0/6/9, a lost leading digit)."""

from __future__ import annotations

import random
from decimal import Decimal

from pipeline.devtools.generate import generate_report
from pipeline.extract.meta import read_meta
from pipeline.extract.ocr_digits import decide_ocr, readings
from pipeline.extract.tables import extract_tables
from pipeline.read.ocr import Digit
from pipeline.read.ocr_grid import OcrCell
from pipeline.text.normalize import normalize


def _tables(seed: int = 3):
    g = generate_report(random.Random(seed), 0, form="2021", layout="pipes", script="simplified", encoding="utf-8")
    norm = normalize(g.data.decode("utf-8"))
    meta = read_meta(norm.text, norm.header)
    spec, tables = extract_tables(norm.text, meta.sections, meta.form)
    assert all(c.how == "read" for t in tables.values() for c in t.cells)
    return g, spec, tables


def _ocr_all(tables, conf: float = 0.99) -> dict:
    """Every cell OCR'd, surely."""
    out = {}
    for name, t in tables.items():
        for c in t.cells:
            text = "" if c.value is None else str(int(c.value))
            out[(name, c.row_key, c.column_key)] = OcrCell(text, 3, (0, 0, 10, 10), conf, [Digit(ch, conf) for ch in text])
    return out


def _cell(tables, name, row, col):
    return next(c for c in tables[name].cells if c.row_key == row and c.column_key == col)


def _run(spec, tables, ocr):
    decide_ocr(spec, tables, lambda c: ocr.get((c.table, c.row_key, c.column_key)))


def _nonzero_cell(g, digits: str = "0123456789"):
    return next(k for k, v in sorted(g.truth.items()) if k[0] == "applications" and v and v >= 10 and k[2] != "total"
                and k[1] != "results_total" and any(ch in digits for ch in str(int(v))))


def test_sure_cells_in_holding_identities_are_confirmed():
    g, spec, tables = _tables()
    _run(spec, tables, _ocr_all(tables))
    apps = tables["applications"].cells
    assert {c.how for c in apps} == {"ocr"}
    assert all(c.value == g.truth[("applications", c.row_key, c.column_key)] for c in apps)
    assert all("unconfirmed" not in c.note for c in apps)
    # the active-disclosure table has no identity: its cells are kept but flagged
    assert all("unconfirmed" in c.note for c in tables["active_disclosure"].cells)


def test_a_misread_digit_is_decided_by_the_identities():
    g, spec, tables = _tables()
    ocr = _ocr_all(tables)
    key = _nonzero_cell(g, "381706")
    truth = str(int(g.truth[key]))
    i = next(i for i, ch in enumerate(truth) if ch in "381706")
    wrong = truth[:i] + {"3": "8", "8": "3", "1": "7", "7": "1", "0": "6", "6": "0"}[truth[i]] + truth[i + 1:]
    cell = _cell(tables, *key)
    cell.value, cell.raw = Decimal(wrong), wrong
    ocr[key] = OcrCell(wrong, 3, (0, 0, 10, 10), 0.97, [Digit(ch, 0.97) for ch in wrong])  # sure, and wrong
    _run(spec, tables, ocr)
    assert cell.value == g.truth[key]
    assert cell.how.startswith("ocr, decided by ")
    assert f"OCR read '{wrong}'" in cell.note


def test_an_unread_cell_is_implied_by_its_identities():
    g, spec, tables = _tables()
    ocr = _ocr_all(tables)
    key = _nonzero_cell(g)
    cell = _cell(tables, *key)
    cell.value, cell.raw = None, "-"
    ocr[key] = OcrCell("", 3, (0, 0, 10, 10), 0.0, [], unread=True)
    _run(spec, tables, ocr)
    assert cell.value == g.truth[key] and cell.how.startswith("ocr, decided by")


def test_a_lost_leading_digit_is_restored():
    g, spec, tables = _tables()
    ocr = _ocr_all(tables)
    key = next(k for k, v in sorted(g.truth.items()) if k[0] == "applications" and v and v >= 10 and k[2] != "total")
    truth = str(int(g.truth[key]))
    lost = truth[1:].lstrip("0") or "0"
    cell = _cell(tables, *key)
    cell.value = Decimal(lost)
    ocr[key] = OcrCell(lost, 3, (0, 0, 10, 10), 0.6, [Digit(ch, 0.6) for ch in lost])
    _run(spec, tables, ocr)
    assert cell.value == g.truth[key], (truth, lost, cell)


def test_two_unread_cells_one_identity_cannot_place_stay_unresolved():
    """Two unread cells of one row, and the column identities leave several splits: never guessed."""
    g, spec, tables = _tables()
    ocr = _ocr_all(tables)
    row = next(r for (t, r, c), v in sorted(g.truth.items()) if t == "applications" and c == "natural_person" and v and v > 2 and r == "new_received")
    keys = [("applications", row, "natural_person"), ("applications", row, "total")]
    for key in keys:
        cell = _cell(tables, *key)
        cell.value = None
        ocr[key] = OcrCell("", 3, (0, 0, 10, 10), 0.0, [], unread=True)
    # and the column's other end unread too, so no identity has only one unknown
    for col in ("natural_person", "total"):
        key = ("applications", "results_total", col)
        _cell(tables, *key).value = None
        ocr[key] = OcrCell("", 3, (0, 0, 10, 10), 0.0, [], unread=True)
    _run(spec, tables, ocr)
    open_cells = [_cell(tables, *k) for k in keys]
    assert all(c.how == "unresolved" and c.value is None and "OCR read nothing" in c.note for c in open_cells)


def test_an_unsure_cell_that_several_readings_fit_is_unresolved_with_candidates():
    """A low-confidence cell whose every identity also holds a second unsure cell."""
    g, spec, tables = _tables()
    ocr = _ocr_all(tables)
    a = ("applications", "new_received", "natural_person")
    b = ("applications", "new_received", "commercial_enterprise")
    va, vb = g.truth[a], g.truth[b]
    # read both wrong the same way, so the row total balances but the columns do not
    ca, cb = _cell(tables, *a), _cell(tables, *b)
    ca.value, cb.value = va + 1, vb - 1 if vb else vb
    for k, c in ((a, ca), (b, cb)):
        t = str(int(c.value))
        ocr[k] = OcrCell(t, 3, (0, 0, 10, 10), 0.5, [Digit(ch, 0.5) for ch in t])
    _run(spec, tables, ocr)
    for k, c in ((a, ca), (b, cb)):
        assert c.value == g.truth[k] or (c.how == "unresolved" and c.value is None), c


def test_readings_cover_the_lookalikes():
    assert set(readings("38")) >= {38, 88, 33, 138, 938}
    assert set(readings("0")) >= {0, 6, 9, 10, 90}
    assert set(readings("17", [Digit("1", 0.6, "4", 0.3), Digit("7", 0.9)])) >= {17, 77, 11, 47}
    assert readings("5")[0] == 5  # the read value first


def test_a_digit_too_many_is_among_the_readings():
    """A speck or a seal's remains read as a digit beside the real one (85 for 5)."""
    assert 5 in readings("85") and 8 in readings("85") and 15 in readings("165")


def test_letters_read_in_a_value_cell_take_the_value_the_identities_imply():
    """'国' for 268 under a seal: the digits decoded from it are junk, so the cell is decided
    like an unread one — the identities imply its value; the sure cells of its column total
    stay read, not suspects of a failing identity."""
    g, spec, tables = _tables()
    ocr = _ocr_all(tables)
    key = _nonzero_cell(g)
    cell = _cell(tables, *key)
    cell.value, cell.raw = Decimal(3), "3"
    ocr[key] = OcrCell("3", 3, (0, 0, 10, 10), 0.08, [Digit("3", 0.08)], letters="国")
    _run(spec, tables, ocr)
    assert cell.value == g.truth[key] and cell.how.startswith("ocr, decided by ")
    assert "'国'" in cell.note
    assert all(c.how != "unresolved" for c in tables["applications"].cells)


def test_letters_where_the_identities_want_zero_stay_blank_and_flagged():
    """A 0 under a seal's remains and a blank cell with them look alike: blank is not zero."""
    g, spec, tables = _tables()
    ocr = _ocr_all(tables)
    key = next(k for k, v in sorted(g.truth.items()) if k[0] == "applications" and v == 0 and k[2] != "total")
    cell = _cell(tables, *key)
    cell.value, cell.raw = Decimal(0), "0"
    ocr[key] = OcrCell("0", 3, (0, 0, 10, 10), 0.2, [Digit("0", 0.2)], letters="co")
    _run(spec, tables, ocr)
    assert cell.value is None and "a 0 or a blank" in cell.note

