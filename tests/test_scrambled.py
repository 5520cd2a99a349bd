"""Converter Markdown with scrambled tables (split, generic headers, page numbers inside,
labels displaced by one or two lines, wrapped labels): value rows assigned in form order only
when the identities confirm; otherwise unresolved with candidates — never a wrong number."""

from __future__ import annotations

import random

import pytest

from pipeline.process import process_bytes
from pipeline.devtools.render import SCRAMBLES, generate_markdown


def score(g):
    p = process_bytes(g.data, g.name)
    got = {(c["table_name"], c["row_key"], c["column_key"]): c for c in p.cells}
    right = sum(1 for k, v in g.truth.items() if k in got and got[k]["how"] in ("read", "split") and got[k]["value"] == v)
    wrong = [(k, v, got[k]["value"]) for k, v in g.truth.items() if k in got and got[k]["how"] in ("read", "split") and got[k]["value"] != v]
    return p, right, wrong


@pytest.mark.parametrize("scramble", [*SCRAMBLES, "all"])
def test_scrambled_markdown_reads_right_and_never_wrong(scramble):
    rng = random.Random(11)
    total = right = 0
    for i in range(6):
        g = generate_markdown(rng, i, ("2019", "2021")[i % 2], SCRAMBLES if scramble == "all" else (scramble,))
        _, r, wrong = score(g)
        assert not wrong, (g.name, wrong[:3])
        total += len(g.truth)
        right += r
    assert right / total >= 0.99, (right, total)


def test_a_lost_value_row_leaves_the_table_unresolved_with_candidates():
    g = generate_markdown(random.Random(5), 0, "2021")
    lines = g.data.decode("utf-8").split("\n")
    start = lines.index(next(x for x in lines if "三、收到和处理" in x))
    rows = [i for i, x in enumerate(lines) if i > start and x.startswith("| ") and x.count("|") == 8 and x[2].isdigit()]
    lost = lines[rows[5]]
    del lines[rows[5]]  # the converter dropped one value row of the applications table
    g.data = "\n".join(lines).encode("utf-8")
    p, _, wrong = score(g)
    apps = [c for c in p.cells if c["table_name"] == "applications"]
    assert not wrong
    # the rows the order can no longer place are unresolved with the surviving readings;
    # only rows every reading that satisfies the identities agrees on are read
    unresolved = [c for c in apps if c["how"] == "unresolved"]
    assert len(unresolved) >= 7 * 20, lost
    assert all(c["candidates"] for c in unresolved)
    assert all(c["how"] in ("read", "unresolved", "missing") for c in apps)


def test_random_scramble_subsets_read_right():
    """Random subsets of the scrambles per document: the converter reader and the region
    markers must not take cells from the scrambled reader (a first marker fallback that
    started the region at a displaced label lost 3.5 % of these cells)."""
    rng = random.Random(77)
    total = right = 0
    for i in range(40):
        g = generate_markdown(rng, i, None, tuple(s for s in SCRAMBLES if rng.random() < 0.6))
        _, r, wrong = score(g)
        assert not wrong, (g.name, wrong[:3])
        total += len(g.truth)
        right += r
    assert right / total >= 0.99, (right, total)
