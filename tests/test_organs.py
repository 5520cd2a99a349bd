"""One identity per issuing body: printed variants → one organ_key, checked against GB/T 2260."""

from __future__ import annotations

import random
from pathlib import Path
from decimal import Decimal

import duckdb
import pytest

from pipeline.form import FORM_2021
from pipeline.devtools.generate import make_values, render_text
from pipeline.store.ingest import run_ingest
from pipeline.extract.organs import resolve


@pytest.mark.parametrize("variants,key,code", [
    # 办公厅 / 办公室 / 办, 人民政府 / 政府, full width, with or without province and city
    (["深圳市人民政府办公厅", "深圳市政府办", "深圳市人民政府办公室", "广东省深圳市人民政府办公厅", "深圳市　人民政府办公厅"],
     "广东省深圳市人民政府办公室", "440300"),
    (["红谷滩区政府办", "南昌市红谷滩区人民政府办公室", "江西省南昌市红谷滩区政府办公室"], "江西省南昌市红谷滩区人民政府办公室", "360113"),
    # OCR look-alikes in the place name, corrected only where the gazetteer confirms one reading
    (["淮安市洪泽区人民政府", "洪泽区政府", "江苏淮安市洪泽区人民政府", "淮安市洪译区人民政府", "淮按市洪泽区人民政府", "洪译区人民政府"],
     "江苏省淮安市洪泽区人民政府", "320813"),
    (["上海市人民政府办公厅", "上海市政府办公室"], "上海市人民政府办公室", "310000"),
    (["ＡＢ深圳市司法局"], "AB深圳市司法局", None),  # width normalized; not a place at the start: no code
])
def test_variants_map_to_one_key(variants, key, code):
    got = {v: (resolve(v).key, resolve(v).division_code) for v in variants}
    assert set(got.values()) == {(key, code)}, got


def test_ambiguous_place_gets_no_code():
    # 鼓楼区 is in four cities: without its city there is no code, never a guess
    assert resolve("鼓楼区人民政府").division_code is None
    assert resolve("福州市鼓楼区人民政府").division_code == "350102"
    assert resolve("南京市鼓楼区人民政府").division_code == "320106"


def test_lookalike_needs_confirmation():
    # 南京 → 南景 is not a known look-alike pair and nothing after it confirms a reading
    assert resolve("南景市人民政府").division_code is None
    assert resolve("淮安市洪译区人民政府").corrected == "洪译区→洪泽区"


def test_every_fixture_has_an_organ_key(con):
    rows = con.execute("SELECT source_path, organ, organ_key, division_code FROM reports WHERE organ IS NOT NULL").fetchall()
    assert len(rows) >= 9 and all(r[2] for r in rows), rows
    keys = {r[0]: (r[2], r[3]) for r in rows}
    assert keys["hongze_2024.pdf"] == keys["hongze_2024_pdftext.txt"] == ("江苏省淮安市洪泽区人民政府", "320813")
    assert keys["001_a940ca4a84d42417.txt"] == ("江西省南昌市红谷滩区人民政府办公室", "360113")
    # a province's office can ask which of its bodies reported
    assert con.execute("SELECT count(*) FROM reports WHERE division_code LIKE '44%'").fetchone()[0] >= 4


def _report(organ: str, year: int, carried_in: int | None, seed: int) -> bytes:
    rng = random.Random(seed)
    truth = make_values(rng, FORM_2021)
    if carried_in is not None:  # keep the form's identities: new_received absorbs the change
        for col in ("natural_person", "total"):
            delta = carried_in - truth[("applications", "carried_over_in", "total")]
            truth[("applications", "carried_over_in", col)] += delta
            truth[("applications", "new_received", col)] -= delta
    return render_text(FORM_2021, truth, organ, year, "lines", set(), rng).encode("utf-8"), truth


CONTINUITY_2023 = """SELECT r.organ, k.passed, k.expected, k.actual, k.message FROM check_results k JOIN reports r USING (report_id)
                     WHERE k.check_name = 'carry_over_continuity' AND r.year = 2023"""


def _two_years(tmp_path) -> tuple[Path, Path, int]:
    """A body's 2022 report (a.txt) and its 2023 report under a shorter printed name (b.txt)
    whose carried-over-in is 5 more than 2022's carried-over-out, ingested: (drop, db, out)."""
    drop = tmp_path / "drop"
    drop.mkdir()
    first, truth = _report("深圳市人民政府办公厅", 2022, None, 1)
    out = int(truth[("applications", "carried_over_out", "total")])
    (drop / "a.txt").write_bytes(first)
    (drop / "b.txt").write_bytes(_report("深圳市政府办", 2023, out + 5, 2)[0])  # carried in ≠ last year's carried out
    db = tmp_path / "s.duckdb"
    run_ingest(drop, db, workers=1)
    return drop, db, out


def test_continuity_follows_the_key_across_printed_names(tmp_path):
    _, db, out = _two_years(tmp_path)
    with duckdb.connect(str(db), read_only=True) as con:
        got = con.execute(CONTINUITY_2023).fetchone()
    assert got[:2] == ("深圳市政府办", False) and (Decimal(got[2]), Decimal(got[3])) == (out, out + 5)


def test_continuity_is_redone_when_last_years_report_leaves_the_folder(tmp_path):
    drop, db, _ = _two_years(tmp_path)
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute(CONTINUITY_2023).fetchone()[1] is False
    (drop / "a.txt").unlink()
    run_ingest(drop, db, workers=1)
    with duckdb.connect(str(db), read_only=True) as con:
        _, passed, _, _, message = con.execute(CONTINUITY_2023).fetchone()
    assert (passed, message) == (True, "no report of the same organ for the year before in the store")
