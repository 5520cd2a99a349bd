"""The same report from two sources (issue 9, item 5), on real DuckDB stores built from the
fixtures: the hongze PDF and its text dump agree; a twin that prints a run-together row apart
decides it by agreement; a twin that prints a different number fails `sources_agree` for both
files, naming both; the views show one report per body and year."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from pipeline.check.report_checks import CHECK_NAMES
from pipeline.store.ingest import run_ingest
from pipeline.store.sources import SourceCell, compare

FIXTURES = Path(__file__).parent / "fixtures"
PINGTAN = "pingtan_2021.txt"
RUN_TOGETHER = "行政规范性文件693665"  # issued·repealed·in_force printed as one run: no identity decides it
HONGGUTAN = "001_a940ca4a84d42417.txt"  # one cell per line; line 64 is applications.new_received.natural_person = 27


def _twin(src: str, dst: Path, edit) -> None:
    dst.write_text(edit((FIXTURES / src).read_text(encoding="utf-8")), encoding="utf-8")


def _changed_line(text: str, line_no: int, old: str, new: str) -> str:
    lines = text.split("\n")
    assert lines[line_no - 1].strip(" |") == old, lines[line_no - 1]
    lines[line_no - 1] = lines[line_no - 1].replace(old, new)
    return "\n".join(lines)


def _report(con, path: str) -> str:
    return con.execute("SELECT report_id FROM reports WHERE source_path = ?", [path]).fetchone()[0]


def _check(con, path: str) -> dict:
    cur = con.execute("SELECT k.* FROM check_results k JOIN reports r USING (report_id) WHERE r.source_path = ? AND check_name = 'sources_agree'", [path])
    return dict(zip([d[0] for d in cur.description], cur.fetchone()))


@pytest.fixture(scope="module")
def pair_store(tmp_path_factory) -> Path:
    """pingtan_2021 with a twin that prints the run apart (agreement), 红谷滩 2023 with a twin
    that prints 29 for 27 (disagreement), and a report without a twin."""
    root = tmp_path_factory.mktemp("pairs")
    drop = root / "drop"
    drop.mkdir()
    for name in (PINGTAN, HONGGUTAN, "000_9fd4f163df564d66.txt"):
        shutil.copy(FIXTURES / name, drop / name)
    _twin(PINGTAN, drop / "pingtan_2021_spaced.txt", lambda t: t.replace(RUN_TOGETHER, "行政规范性文件6 93 665"))
    _twin(HONGGUTAN, drop / "honggutan_copy.txt", lambda t: _changed_line(t, 64, "27", "29"))
    db = root / "store.duckdb"
    run_ingest(drop, db, workers=2)
    return db


@pytest.fixture
def pcon(pair_store):
    c = duckdb.connect(str(pair_store), read_only=True)
    yield c
    c.close()


def test_hongze_pdf_and_its_text_dump_agree_cell_by_cell(con):
    pdf, txt = _report(con, "hongze_2024.pdf"), _report(con, "hongze_2024_pdftext.txt")
    pairs = con.execute("SELECT report_id, other_report_id, cells_compared, cells_equal, cells_differ FROM report_pairs ORDER BY report_id").fetchall()
    assert sorted(pairs) == sorted([(pdf, txt, 186, 186, 0), (txt, pdf, 186, 186, 0)])
    assert _check(con, "hongze_2024.pdf")["passed"] and "hongze_2024_pdftext.txt: 186 of 186 cells equal" in _check(con, "hongze_2024.pdf")["message"]
    assert _check(con, "hongze_2024_pdftext.txt")["passed"]
    # the rest of the corpus has no twin, and says so
    alone = con.execute("""SELECT count(*) FROM check_results WHERE check_name = 'sources_agree'
                           AND message = 'no other source for this organ and year'""").fetchone()[0]
    assert alone == con.execute("SELECT count(*) FROM reports").fetchone()[0] - 2


def test_every_report_has_every_check_including_sources_agree(con, pcon):
    for c in (con, pcon):
        per_report = c.execute("SELECT report_id, count(DISTINCT check_name), count(*) FROM check_results GROUP BY ALL").fetchall()
        assert per_report and all(n == len(CHECK_NAMES) == rows for _, n, rows in per_report)


def test_agreement_decides_cells_one_source_left_unresolved(pcon):
    orig, spaced = _report(pcon, PINGTAN), _report(pcon, "pingtan_2021_spaced.txt")
    # the source's own rows are untouched: still unresolved, with their candidates
    own = pcon.execute("""SELECT column_key, how, value FROM report_cells WHERE report_id = ?
                          AND table_name = 'active_disclosure' AND row_key = 'normative_documents' ORDER BY column_key""", [orig]).fetchall()
    assert [h for _, h, _ in own] == ["unresolved"] * 3 and all(v is None for *_, v in own)
    decided = pcon.execute("""SELECT column_key, value, how, decided_by_path, decided_raw FROM cells_decided WHERE report_id = ?
                              AND table_name = 'active_disclosure' AND row_key = 'normative_documents' ORDER BY column_key""", [orig]).fetchall()
    assert decided == [("in_force", Decimal(665), "agreement", "pingtan_2021_spaced.txt", "665"),
                       ("issued", Decimal(6), "agreement", "pingtan_2021_spaced.txt", "6"),
                       ("repealed", Decimal(93), "agreement", "pingtan_2021_spaced.txt", "93")]
    pair = pcon.execute("SELECT cells_decided, cells_differ FROM report_pairs WHERE report_id = ? AND other_report_id = ?", [orig, spaced]).fetchone()
    assert pair == (3, 0)
    check = _check(pcon, PINGTAN)
    assert check["passed"] and "3 unresolved here decided by agreement" in check["message"]


def test_disagreement_fails_for_both_files_naming_both_and_the_cell(pcon):
    for me, other in ((HONGGUTAN, "honggutan_copy.txt"), ("honggutan_copy.txt", HONGGUTAN)):
        check = _check(pcon, me)
        assert not check["passed"] and check["severity"] == "error"
        assert me in check["message"] and other in check["message"]
        assert "applications.new_received.natural_person" in check["message"]
        details = json.loads(check["details"])
        assert details == [{"cell": "applications.new_received.natural_person", "this_file": me,
                            "this_reading": ("27 ← '27' [read] (line 64)" if me == HONGGUTAN else "29 ← '29' [read] (line 64)"),
                            "other_file": other,
                            "other_reading": ("29 ← '29' [read] (line 64)" if me == HONGGUTAN else "27 ← '27' [read] (line 64)"),
                            "why": "both read, values differ"}]
    failing = pcon.execute("SELECT source_path FROM failing_checks WHERE check_name = 'sources_agree' ORDER BY 1").fetchall()
    assert failing == [(HONGGUTAN,), ("honggutan_copy.txt",)]
    # a disagreement never decides a cell
    assert pcon.execute("SELECT count(*) FROM cells_decided WHERE how IN ('agreement', 'other_source') AND organ_key LIKE '%红谷滩%'").fetchone()[0] == 0


def test_views_show_one_report_per_body_and_year(pcon):
    assert pcon.execute("SELECT count(*) FROM report_choice WHERE chosen").fetchone()[0] == 3
    assert pcon.execute("SELECT max(n) FROM (SELECT count(DISTINCT report_id) AS n FROM applications_wide GROUP BY organ_key, year)").fetchone()[0] == 1
    assert pcon.execute("SELECT count(*) FROM (SELECT organ_key, year, row_key FROM applications_wide GROUP BY ALL HAVING count(*) > 1)").fetchone()[0] == 0
    # complete tables first: the twin that reads the run is chosen over the file that left it unresolved
    choice = pcon.execute("SELECT source_path, why FROM report_choice WHERE organ_key = '平潭综合实验区' AND year = 2021 AND chosen").fetchone()
    assert choice == ("pingtan_2021_spaced.txt", f"chosen over {PINGTAN}: tables: extracted vs partial")
    wide = pcon.execute("SELECT DISTINCT source_path, sources FROM applications_wide WHERE organ_key = '平潭综合实验区'").fetchall()
    assert wide == [("pingtan_2021_spaced.txt", 2)]


def test_a_reading_not_among_the_candidates_is_a_disagreement_and_leaving_the_folder_clears_it(tmp_path):
    drop = tmp_path / "drop"
    drop.mkdir()
    shutil.copy(FIXTURES / PINGTAN, drop / PINGTAN)
    _twin(PINGTAN, drop / "pingtan_2021_other.txt", lambda t: t.replace(RUN_TOGETHER, "行政规范性文件6 93 666"))
    db = tmp_path / "store.duckdb"
    run_ingest(drop, db, workers=1)
    with duckdb.connect(str(db), read_only=True) as c:
        for me, other in ((PINGTAN, "pingtan_2021_other.txt"), ("pingtan_2021_other.txt", PINGTAN)):
            check = _check(c, me)
            assert not check["passed"] and me in check["message"] and other in check["message"]
            assert "active_disclosure.normative_documents.in_force" in check["message"]
        details = json.loads(_check(c, PINGTAN)["details"])
        assert {d["why"] for d in details} == {"the other source's reading 6·93·666 is not among this source's 10 surviving readings"}
        assert details[0]["this_reading"] == "unresolved ← '693665' [unresolved] (line 1)"
        assert c.execute("SELECT count(*) FROM cells_decided WHERE how = 'agreement'").fetchone()[0] == 0
    (drop / "pingtan_2021_other.txt").unlink()
    run_ingest(drop, db, workers=1)
    with duckdb.connect(str(db), read_only=True) as c:
        check = _check(c, PINGTAN)
        assert check["passed"] and check["message"] == "no other source for this organ and year"
        assert c.execute("SELECT count(*) FROM report_pairs").fetchone()[0] == 0
        assert c.execute("SELECT count(*) FROM cell_comparisons").fetchone()[0] == 0


def _cell(col: str, value, how: str = "read", candidates: str | None = None) -> SourceCell:
    return SourceCell("applications", "new_received", col, None if value is None else Decimal(value), str(value), 5, None, how, candidates)


def test_compare_per_cell_candidates_and_missing_cells():
    """Scrambled layouts keep one candidate value per cell; a missing cell is filled, not agreed."""
    own = {c.key: c for c in (_cell("natural_person", None, "unresolved", "3 | 4"), _cell("other_org", None, "missing"),
                              _cell("total", None, "unresolved", "7 | 8"), _cell("legal_service_org", 1))}
    other = {c.key: c for c in (_cell("natural_person", 4), _cell("other_org", 0), _cell("total", 9), _cell("legal_service_org", 1))}
    counts, found = compare(own, other)
    assert {c.own.column_key: c.outcome for c in found} == {"natural_person": "decided", "other_org": "filled", "total": "differ"}
    assert counts == {"cells_compared": 4, "cells_equal": 1, "cells_decided": 1, "cells_filled": 1, "cells_differ": 1, "cells_open": 0}


def test_many_copies_are_compared_with_a_few_references_not_each_other(tmp_path):
    """A scraper's many copies of one report (each with its own trailing line): every copy is
    compared with at most MAX_TWINS references, added over several batches, and all agree."""
    from pipeline.store.sources import MAX_TWINS
    drop = tmp_path / "drop"
    drop.mkdir()
    for i in range(9):
        _twin(HONGGUTAN, drop / f"copy{i}.txt", lambda t, i=i: t + f"\n抓取时间 2024-01-0{i + 1}\n")
    db = tmp_path / "store.duckdb"
    run_ingest(drop, db, workers=1, batch_size=2)
    con = duckdb.connect(str(db), read_only=True)
    per_report = con.execute("SELECT report_id, count(*) FROM report_pairs GROUP BY ALL").fetchall()
    assert len(per_report) == 9 and all(n == MAX_TWINS for _, n in per_report)
    rows = con.execute("SELECT passed, message FROM check_results WHERE check_name = 'sources_agree'").fetchall()
    assert len(rows) == 9 and all(passed for passed, _ in rows), rows
    # the same store whatever the batching
    one = tmp_path / "one.duckdb"
    run_ingest(drop, one, workers=1, batch_size=100)
    con2 = duckdb.connect(str(one), read_only=True)
    q = "SELECT report_id, other_report_id, cells_equal FROM report_pairs ORDER BY ALL"
    assert con.execute(q).fetchall() == con2.execute(q).fetchall()


def test_two_different_reports_under_one_body_and_year_are_not_two_sources(tmp_path):
    """Two unrelated reports printed under one body and year (different figures throughout):
    sources_agree fails for both with the whole count, but nothing is decided, filled or listed
    cell by cell from the other, and the details name only the first DIFFERENT_SHOWN cells."""
    import random

    from pipeline.form import FORM_2021
    from pipeline.devtools.generate import make_values, render_text
    from pipeline.store.sources import DIFFERENT_SHOWN

    drop = tmp_path / "drop"
    drop.mkdir()
    for name, seed in (("a.txt", 1), ("b.txt", 2)):
        rng = random.Random(seed)
        text = render_text(FORM_2021, make_values(rng, FORM_2021), "深圳市司法局", 2023, "lines", set(), rng)
        (drop / name).write_text(text, encoding="utf-8")
    db = tmp_path / "store.duckdb"
    run_ingest(drop, db, workers=1)
    with duckdb.connect(str(db), read_only=True) as c:
        pairs = c.execute("SELECT report_id, same_report, cells_compared, cells_differ FROM report_pairs").fetchall()
        assert len(pairs) == 2 and all(not same and differ * 2 > compared for _, same, compared, differ in pairs)
        assert c.execute("SELECT count(*) FROM cell_comparisons").fetchone()[0] == 0
        for me, other in (("a.txt", "b.txt"), ("b.txt", "a.txt")):
            check = _check(c, me)
            differ = next(d for rid, _, _, d in pairs if rid == _report(c, me))
            assert not check["passed"] and me in check["message"] and other in check["message"]
            assert f"differ in {differ} cells" in check["message"] and "rather two different reports" in check["message"]
            assert f"details list the first {DIFFERENT_SHOWN}" in check["message"]
            assert len(json.loads(check["details"])) == DIFFERENT_SHOWN
