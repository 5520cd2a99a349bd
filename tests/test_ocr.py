"""Scans, photos and pictures read by OCR into the PDF's grid (read/scan.py, ocr_grid.py).

The engine really runs here, on three pages at 150 dpi (≈ 10 s): a generated report scanned
with a seal (two pages, truth known) and a photo of the corpus PDF's table page (truth: its
text layer). The large measurement is ``make bench-ocr``."""

from __future__ import annotations

import io
import os
import random
import re
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from pipeline.devtools import degrade
from pipeline.devtools.render import generate_document
from pipeline.process import process_bytes
from pipeline.read import ocr_cache
from pipeline.read.decode import DecodeError
from pipeline.read.dropfolder import TooBig, read_regular
from pipeline.read.formats import read_binary
from pipeline.read.images import image_kind
from pipeline.read.ocr_grid import binarize, find_tables, grid_regions, remove_seal

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def scanned(tmp_path_factory):
    """A generated 2021 report, printed, scanned at 150 dpi with a seal, as an image-only PDF."""
    cache = tmp_path_factory.mktemp("ocr_cache")
    old = os.environ.get(ocr_cache.ENV)
    os.environ[ocr_cache.ENV] = str(cache)
    rng = random.Random(7)
    g = generate_document(rng, 0, "pdf", "2021")
    pages = [degrade.scan(p, rng, with_seal=True) for p in degrade.render_pages(g.data, 150)]
    data = degrade.to_pdf(pages, 150)
    out = process_bytes(data, "scan.pdf")
    yield g, data, out, cache
    if old is None:
        os.environ.pop(ocr_cache.ENV, None)
    else:
        os.environ[ocr_cache.ENV] = old


def test_a_scanned_report_is_read_through_the_pdf_grid(scanned):
    g, _, out, _ = scanned
    assert out.document["error"] is None
    assert out.document["encoding"].startswith("ocr of a PDF without a usable text layer")
    assert (out.report["organ"], out.report["year"], out.report["form"]) == (g.organ, g.year, g.form)
    got = {(c["table_name"], c["row_key"], c["column_key"]): c for c in out.cells}
    right = sum(1 for k, v in g.truth.items() if got[k]["value"] == v and got[k]["how"] != "unresolved")
    flagged = {k for k, c in got.items() if c["how"] == "unresolved" or "unconfirmed" in (c["note"] or "")}
    wrong = [(k, v, got[k]["value"], got[k]["how"]) for k, v in g.truth.items() if got[k]["value"] != v and k not in flagged]
    assert not wrong, wrong
    assert right >= 0.99 * len(g.truth), (right, len(g.truth))
    apps = [c for c in out.cells if c["table_name"] == "applications"]
    assert all(c["how"] == "ocr" or c["how"].startswith("ocr, decided by") for c in apps)
    assert all(c["page"] in (1, 2) and c["confidence"] is not None and re.fullmatch(r"\d+,\d+,\d+,\d+", c["box"]) for c in apps)


def test_ocr_is_cached_per_document_and_never_run_twice(scanned, monkeypatch):
    _, data, out, cache = scanned
    files = list(cache.rglob("*.json.gz"))
    assert len(files) == 1 and files[0].name.startswith(out.document["document_id"])

    def no_engine():
        raise AssertionError("OCR ran again")
    monkeypatch.setattr("pipeline.read.ocr.engine", no_engine)
    again = process_bytes(data, "renamed.pdf")
    assert again.cells == out.cells and again.document["normalized_text"] == out.document["normalized_text"]


def test_a_photo_of_the_corpus_table_page_reads_its_numbers():
    """Page 3 of the real PDF photographed (perspective, uneven light, JPEG): every number of
    its table rows equals its text layer's, in order."""
    import pdfplumber

    rng = random.Random(2)
    pdf = (FIXTURES / "hongze_2024.pdf").read_bytes()
    photo = degrade.photo(degrade.render_pages(pdf, 150)[2], rng)
    got = read_binary(degrade.to_image(photo, "JPEG"), ".jpg")
    assert got.decoded.encoding.startswith("ocr of a JPEG image (1 pages")
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        rows = [r for t in doc.pages[2].find_tables() for r in t.extract()]
    truth = [n for r in rows for c in r if c and re.fullmatch(r"\d+", c.strip()) for n in [c.strip()]]
    ocr = [p for line in got.decoded.text.splitlines() if " | " in line for p in line.split(" | ") if re.fullmatch(r"\d+", p)]
    assert ocr == truth


def test_image_files_are_recognised_by_content():
    im = Image.new("RGB", (40, 40), "white")
    for fmt, kind in (("PNG", "PNG"), ("JPEG", "JPEG"), ("TIFF", "TIFF"), ("BMP", "BMP"), ("WEBP", "WEBP"), ("GIF", "GIF")):
        buf = io.BytesIO()
        im.save(buf, fmt)
        assert image_kind(buf.getvalue()) == kind
    assert image_kind(b"plain text") is None


def _png(w: int, h: int) -> bytes:
    buf = io.BytesIO()
    Image.new("L", (w, h), 255).save(buf, "PNG")
    return buf.getvalue()


def test_a_picture_too_large_is_refused_before_decoding():
    import zlib

    data = bytearray(_png(64, 64))
    data[16:24] = (60000).to_bytes(4, "big") + (60000).to_bytes(4, "big")  # header claims 3.6 Gpx
    data[29:33] = zlib.crc32(bytes(data[12:29])).to_bytes(4, "big")  # with a valid checksum
    out = process_bytes(bytes(data), "bomb.png")
    assert "pixels (over" in out.document["error"]


def test_broken_and_empty_pictures_get_clear_errors():
    assert process_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 50, "broken.png").document["error"].startswith("broken image")
    assert process_bytes(_png(600, 800), "white.png").document["error"] == "OCR found no text on 1 page(s)"


def test_a_cut_multi_page_tiff_is_a_broken_image_at_every_cut():
    """make fuzz found a cut TIFF whose page count raised TypeError inside PIL ("OCR failed:
    TypeError: Missing dimensions"): every cut must say the picture is broken."""
    import numpy as np

    rng = np.random.default_rng(1)
    frames = [Image.fromarray(rng.integers(0, 255, (120, 90, 3), dtype=np.uint8)) for _ in range(3)]
    buf = io.BytesIO()
    frames[0].save(buf, "TIFF", save_all=True, append_images=frames[1:])
    data = buf.getvalue()
    errors = {(process_bytes(data[:cut], "cut.tif").document["error"] or "read").split(" (")[0] for cut in range(8, len(data), len(data) // 60)}
    assert "broken image: its pages cannot be counted" in errors  # the cuts that used to raise
    # pages of noise that decode are OCR'd like any picture (read, or no text found)
    assert all(e.startswith(("broken image", "OCR found no text", "read")) for e in errors), errors


def test_scans_have_their_own_size_limit(tmp_path):
    big = _png(64, 64) + b"\x00" * 11_000_000  # a PNG past the 10 MB text limit
    (tmp_path / "scan.png").write_bytes(big)
    (tmp_path / "big.txt").write_bytes(b"a" * 11_000_000)
    assert len(read_regular(tmp_path, "scan.png", 10_000_000)) == len(big)
    with pytest.raises(TooBig):
        read_regular(tmp_path, "big.txt", 10_000_000)


def _ruled_table() -> np.ndarray:
    """A 3×4 grid drawn in black; the first column's two lower cells merged (no rule between)."""
    img = np.full((400, 600), 255, np.uint8)
    ys, xs = [50, 150, 250, 350], [50, 200, 330, 460, 560]
    for y in ys:
        cv2.line(img, (xs[0], y), (xs[-1], y), 0, 2)
    cv2.line(img, (xs[0], 250), (xs[1], 250), 255, 4)  # erase: rows 1–2 of column 0 are one cell
    for x in xs:
        cv2.line(img, (x, ys[0]), (x, ys[-1]), 0, 2)
    cv2.putText(img, "1", (260, 120), cv2.FONT_HERSHEY_SIMPLEX, 2.5, 0, 4)  # a tall 1 is not a rule
    return img


def test_the_grid_comes_from_the_rules_and_merged_cells_from_missing_ones():
    img = _ruled_table()
    tables = find_tables(binarize(img))
    assert len(tables) == 1
    _, ys, xs, hor, ver = tables[0]
    assert len(ys) == 4 and len(xs) == 5
    regions = sorted(grid_regions(ys, xs, hor, ver))
    assert (1, 0, 2, 0) in regions and len(regions) == 11


def test_a_seal_stamped_on_a_rule_leaves_the_rule():
    img = cv2.cvtColor(_ruled_table(), cv2.COLOR_GRAY2RGB)
    sealed = degrade.seal(img, random.Random(1), where=(300, 200))
    clean = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    plain = cv2.cvtColor(sealed, cv2.COLOR_RGB2GRAY)
    assert (binarize(plain) > 0).sum() > (binarize(clean) > 0).sum() + 1000  # the seal is ink to a plain grey
    gray = remove_seal(sealed)
    assert (binarize(gray) > 0).sum() < (binarize(clean) > 0).sum() + 100  # and gone here
    tables = find_tables(binarize(gray))
    _, ys, xs, hor, ver = tables[0]
    assert len(ys) == 4 and len(xs) == 5 and len(grid_regions(ys, xs, hor, ver)) == 11


def test_the_cache_is_filled_by_shares_and_the_ingest_never_ocrs_again(scanned, tmp_path, monkeypatch):
    """`python -m pipeline ocr --part k/n`: each file in exactly one share; a cached file is
    skipped; an ingest pointed at the cache then loads the scan without the engine."""
    from pipeline.__main__ import main
    from pipeline.read.ocr_fill import fill, in_part
    from pipeline.store.ingest import run_ingest

    _, data, out, cache = scanned
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "scan.pdf").write_bytes(data)
    (drop / "note.txt").write_text("not a scan", encoding="utf-8")
    sha = out.document["document_id"]
    mine = next(k for k in (0, 1) if in_part(sha, k, 2))
    assert fill(str(drop), str(cache), mine, 2).cached == 1
    assert fill(str(drop), str(cache), 1 - mine, 2).other == 2
    assert main(["ocr", str(drop), "--cache", str(cache), "--part", f"{mine + 1}/2"]) == 0

    def no_engine():
        raise AssertionError("OCR ran again")
    monkeypatch.setattr("pipeline.read.ocr.engine", no_engine)
    monkeypatch.setenv(ocr_cache.ENV, str(cache))
    run_ingest(drop, tmp_path / "s.duckdb", workers=1)
    import duckdb

    con = duckdb.connect(str(tmp_path / "s.duckdb"), read_only=True)
    assert con.execute("SELECT count(*) FROM report_cells WHERE how LIKE 'ocr%'").fetchone()[0] > 150


def test_a_mixed_pdf_ocrs_only_its_pages_without_a_text_layer(tmp_path, monkeypatch):
    """Page 1 born digital, page 2 a scan (the applications table runs on to it): one report,
    the table joined across the two kinds of page, page 2's cells OCR'd, page 1's read."""
    import pypdfium2 as pdfium

    monkeypatch.setenv(ocr_cache.ENV, str(tmp_path / "cache"))
    rng = random.Random(1)
    g = generate_document(rng, 0, "pdf", "2021")
    scan2 = degrade.to_pdf([degrade.scan(degrade.render_pages(g.data, 150)[1], rng, with_seal=False)], 150)
    mixed = pdfium.PdfDocument.new()
    mixed.import_pages(pdfium.PdfDocument(g.data), [0])
    mixed.import_pages(pdfium.PdfDocument(scan2), [0])
    buf = io.BytesIO()
    mixed.save(buf)
    out = process_bytes(buf.getvalue(), "mixed.pdf")
    assert out.document["error"] is None and "1 scanned page(s) with tables OCR'd" in out.document["encoding"]
    got = {(c["table_name"], c["row_key"], c["column_key"]): c for c in out.cells}
    assert all(got[k]["value"] == v for k, v in g.truth.items()), [(k, v, got[k]["value"]) for k, v in g.truth.items() if got[k]["value"] != v]
    hows = {(c["page"], c["how"].split(",")[0]) for c in out.cells if c["table_name"] == "review_litigation"}
    assert hows == {(2, "ocr")}
    assert {c["how"] for c in out.cells if c["page"] == 1} == {"read"}


def test_a_seal_leaves_no_ring_of_specks_round_its_strokes():
    """A generated table page stamped with a seal, blurred and saved as JPEG as a scanner
    does: what binarizes as ink in the seal's disc is compared with the same page unsealed.
    Red pixels alone whitened left the seal's pale JPEG edges as ink (≈ 100 % of the true ink
    there on the bench pages); the red channel on and round the seal leaves a fraction."""
    rng = random.Random(5)
    g = generate_document(rng, 0, "pdf", "2019")
    page = degrade.render_pages(g.data, 150)[1]
    h, w = page.shape[:2]
    cx, cy, r = w // 3, h // 3, int(min(h, w) * 0.1)
    sealed = degrade.seal(page, random.Random(1), where=(cx, cy))

    def scanned(p):
        return degrade._jpeg(cv2.GaussianBlur(p, (0, 0), 0.6), 70)

    from pipeline.read.ocr_grid import flatten_light

    yy, xx = np.ogrid[:h, :w]
    disc = (xx - cx) ** 2 + (yy - cy) ** 2 <= (r + 6) ** 2
    clean = binarize(flatten_light(cv2.cvtColor(scanned(page), cv2.COLOR_RGB2GRAY))) > 0
    got = binarize(flatten_light(remove_seal(scanned(sealed)))) > 0
    false_ink = int((got & ~clean & disc).sum())
    lost_ink = int((clean & ~got & disc).sum())
    true_ink = int((clean & disc).sum())
    assert false_ink < 0.3 * true_ink, (false_ink, true_ink)
    assert lost_ink < 0.15 * true_ink, (lost_ink, true_ink)


def test_a_rule_a_seal_broke_and_bent_is_still_a_rule():
    """The seal's stroke crossing a rule leaves it with a gap and a pixel's kink: the column
    it bounds is still found (before: its pieces were shorter than a rule and ended in a cell,
    the cells either side merged and a row lost a value)."""
    img = _ruled_table()
    img[160:168, 455:466] = 255  # a gap in the rule at x = 460, row 1
    img[190:215, 458:463] = 255
    img[190:215, 461:464] = 0  # and a kink: the rule shifted by two pixels
    _, ys, xs, hor, ver = find_tables(binarize(img))[0]
    assert len(xs) == 5 and 460 in range(xs[3] - 3, xs[3] + 4)
    assert (1, 3, 1, 3) in grid_regions(ys, xs, hor, ver)


def test_a_character_under_a_table_does_not_stretch_its_rule():
    """A stroke just below the table's bottom rule, joined to a column rule by the gap
    bridging, must not turn the rule into one that ends in the open (the table's last row
    lost its column: 行政事业性收费 | 0 read as one cell)."""
    img = _ruled_table()
    cv2.line(img, (330, 356), (330, 390), 0, 2)  # a character's stroke 6 px under the rule
    _, ys, xs, hor, ver = find_tables(binarize(img))[0]
    assert len(xs) == 5 and (2, 2, 2, 2) in grid_regions(ys, xs, hor, ver)


def test_an_unread_cell_keeps_its_place_in_its_row():
    """A one-row table (the review table) whose cell under a seal read as nothing: it is
    written as a blank value, so the row keeps 15 parts and no number moves to its neighbour."""
    from pipeline.read.grid import grid_lines
    from pipeline.read.ocr_grid import OcrCell
    from pipeline.read.scan import OcrText

    def cell(text, unread=False):
        t = OcrText(text)
        t.cell = OcrCell(text, 1, (0, 0, 1, 1), 0.0 if unread else 1.0, unread=unread)
        return t

    rows = [[cell("行政复议"), cell("总计")], [cell("3"), cell("", unread=True)]]
    assert grid_lines(rows)[1] == "3 | -"


def test_a_damaged_short_label_is_restored_without_its_item_number():
    from pipeline.read.scan import form_label

    assert form_label("2重复中请") == "2.重复申请"  # one character of four misread, the point lost
    assert form_label("3要求提供公开出版") == "3.要求提供公开出版物"
