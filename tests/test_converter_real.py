"""Real converter Markdown (wild/shanghai_office_2025_md.txt, a PDF-to-Markdown tool's output):
every value its truth file lists as certain is read right, the two cells the text leaves open
(本年废止 of 规章 and of 行政规范性文件) stay unresolved, and no cell is wrong."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from pipeline.form import FORM_2021
from pipeline.process import process_bytes

HERE = Path(__file__).parent / "fixtures_converter"
OPEN = {("active_disclosure", "regulations", "repealed"), ("active_disclosure", "normative_documents", "repealed")}


def truth_cells(t: dict) -> dict[tuple[str, str, str], Decimal]:
    """The truth file's certain values keyed as the store keys cells."""
    out = {}
    act = FORM_2021.tables["active_disclosure"]
    for r in act.rows:
        for c in act.columns_of(r):
            v = t["active"].get(r.label, {}).get(c.label)
            if v is not None:
                out[("active_disclosure", r.key, c.key)] = Decimal(v)
    apps = FORM_2021.tables["applications"]
    for r in apps.rows:
        vals = next(v for k, v in t["applications"].items() if r.label == k or r.label.startswith(k))
        out.update({("applications", r.key, c.key): Decimal(v) for c, v in zip(apps.columns, vals)})
    rev = FORM_2021.tables["review_litigation"]
    flat = iter(t["review_litigation"])
    out.update({("review_litigation", r.key, c.key): Decimal(next(flat)) for r in rev.rows for c in rev.columns})
    return out


@pytest.fixture(scope="module")
def read():
    data = (HERE / "shanghai_office_2025_md.txt").read_bytes()
    truth = json.loads((HERE / "shanghai_office_2025_md.truth.json").read_text(encoding="utf-8"))["shanghai_office_2025_md"]
    p = process_bytes(data, "shanghai_office_2025_md.txt")
    return p, {(c["table_name"], c["row_key"], c["column_key"]): c for c in p.cells}, truth


def test_every_certain_cell_is_read_right(read):
    _, got, truth = read
    want = truth_cells(truth)
    assert len(want) == 198
    wrong = {k: (v, got[k]["how"], got[k]["value"]) for k, v in want.items() if not (got[k]["how"] in ("read", "split") and got[k]["value"] == v)}
    assert not wrong


def test_the_two_open_cells_are_unresolved_not_guessed(read):
    _, got, _ = read
    for k in OPEN:
        assert got[k]["how"] == "unresolved" and got[k]["value"] is None, got[k]
        assert set(got[k]["candidates"].split(" | ")) >= {"22", "55"}


def test_no_cell_outside_the_truth_is_read(read):
    _, got, truth = read
    want = truth_cells(truth)
    extra = [k for k, c in got.items() if c["how"] in ("read", "split") and k not in want]
    assert not extra


def test_report_metadata(read):
    p, _, truth = read
    assert (p.report["year"], p.report["form"]) == (truth["year"], truth["form"])


def test_section_headings_lost_too():
    """The same text with the section headings 二、三、四 dropped (a converter that lost them):
    the tables are framed by their own markers, every certain cell is still read right."""
    text = (HERE / "shanghai_office_2025_md.txt").read_text(encoding="utf-8")
    kept = "\n".join(ln for ln in text.split("\n") if not ln.startswith(("二、主动公开", "三、收到和处理", "四、政府信息公开行政复议")))
    truth = json.loads((HERE / "shanghai_office_2025_md.truth.json").read_text(encoding="utf-8"))["shanghai_office_2025_md"]
    got = {(c["table_name"], c["row_key"], c["column_key"]): c for c in process_bytes(kept.encode("utf-8"), "x.txt").cells}
    want = truth_cells(truth)
    assert not {k: got[k]["value"] for k, v in want.items() if not (got[k]["how"] == "read" and got[k]["value"] == v)}
    assert all(got[k]["how"] == "unresolved" for k in OPEN)
