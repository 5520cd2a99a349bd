"""Round trip over the generated corpus: every layout, both forms, zero wrong cells.

A cell is right when its value equals the truth, or when it is honestly unresolved with the
truth among its candidates (several cuts survive every identity: reported, never guessed)."""

import random
import zlib
from collections import Counter
from decimal import Decimal

import pytest

from pipeline.devtools.generate import LAYOUTS, generate_report
from pipeline.process import process_bytes


def score(g):
    p = process_bytes(g.data, g.name)
    got = {(c["table_name"], c["row_key"], c["column_key"]): c for c in p.cells}
    wrong, unresolved = [], 0
    for key, truth in g.truth.items():
        c = got.get(key)
        if c is None:
            wrong.append((key, truth, "absent"))
        elif c["how"] == "unresolved":
            unresolved += 1
            if truth is not None and not any(str(int(truth)) in cand.split("·") for cand in (c["candidates"] or "").split(" | ")):
                wrong.append((key, truth, c["candidates"]))
        elif c["value"] != truth:
            wrong.append((key, truth, c["value"], c["how"], c["raw"]))
    return p, wrong, unresolved


@pytest.mark.parametrize("form", ["2019", "2021"])
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("script", ["simplified", "traditional"])
def test_every_layout_round_trips(form, layout, script):
    rng = random.Random(zlib.crc32(f"{form}{layout}{script}".encode()))
    for i in range(12):
        g = generate_report(rng, i, form=form, layout=layout, script=script)
        p, wrong, _ = score(g)
        assert p.report["form"] == form, (g.name, p.report)
        assert p.report["organ"] == g.organ and p.report["year"] == g.year
        assert not wrong, (g.name, wrong[:5])


def test_several_hundred_reports_zero_wrong_cells():
    rng = random.Random(2024)
    stats = Counter()
    for i in range(300):
        g = generate_report(rng, i)
        _, wrong, unresolved = score(g)
        stats["reports"] += 1
        stats["cells"] += len(g.truth)
        stats["wrong"] += len(wrong)
        stats["unresolved"] += unresolved
        stats["complete"] += unresolved == 0
    assert stats["wrong"] == 0, stats
    assert stats["complete"] / stats["reports"] > 0.5, stats


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "gb18030", "big5"])
def test_encodings_round_trip(encoding):
    g = generate_report(random.Random(5), 1, form="2021", layout="lines", script="traditional", encoding=encoding)
    p, wrong, _ = score(g)
    # the generator falls back to GB18030 when a character has no Big5 code
    assert not wrong and p.document["encoding"] == g.encoding


def test_a_province_corpus_holds_one_report_per_body_and_year_rolling_on(tmp_path):
    """The benchmarks' province corpus (generate_province): the store finds one report per
    body and year, a second source differs from the first at most where one printed a zero
    as a blank, and every carried-over total and stock of documents in force rolls on from the
    year before."""
    import duckdb

    from pipeline.devtools.generate import generate_province, write_corpus
    from pipeline.store.ingest import run_ingest

    drop, db = tmp_path / "drop", tmp_path / "store.duckdb"
    made = list(generate_province(160, seed=4, broken_share=0.0))
    write_corpus(drop, 160, seed=4, broken_share=0.0, province=True)
    run_ingest(drop, db)
    con = duckdb.connect(str(db), read_only=True)
    groups = con.execute("SELECT count(DISTINCT (organ_key, year)) FROM reports").fetchone()[0]
    assert groups == len({(g.organ, g.year) for g in made})
    pairs = con.execute("SELECT count(*), count(*) FILTER (WHERE same_report) FROM report_pairs").fetchone()
    assert pairs[0] > 0 and pairs[0] == pairs[1], pairs
    continuity_failed = con.execute("""SELECT count(*) FROM check_results
                                          WHERE check_name IN ('carry_over_continuity', 'normative_documents_stock') AND NOT passed""").fetchone()[0]
    assert continuity_failed == 0
    # a second source may print a zero as a blank ('-'): sources_agree names that, and nothing else differs
    differ = con.execute("""SELECT count(*), count(*) FILTER (WHERE coalesce(own_value, 0) <> 0 OR coalesce(other_value, 0) <> 0)
                            FROM cell_comparisons WHERE outcome = 'differ'""").fetchone()
    assert differ[1] == 0, differ
    evaluated = con.execute("""SELECT count(*) FROM check_results WHERE check_name = 'carry_over_continuity' AND passed
                               AND message NOT LIKE 'not %'""").fetchone()[0]
    assert evaluated >= 80
    stock = con.execute("""SELECT count(*) FROM check_results WHERE check_name = 'normative_documents_stock' AND passed
                           AND message NOT LIKE 'not %'""").fetchone()[0]
    assert stock >= 40
