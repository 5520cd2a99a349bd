"""Converter Markdown laid out by the second generator (``devtools/converter_layouts``: rules
taken from real converter output, combined at random per row): ≥ 99 % of certain cells right,
no cell read wrong, and no open cell (a pulled-out 本年废止) read — with every rule alone and
with random combinations the reader was not written against."""

from __future__ import annotations

import random

import pytest

from pipeline.devtools.converter_layouts import RULES, generate, score
from pipeline.process import process_bytes


def _run(seed: int, docs: int, rules=None) -> dict[str, int]:
    rng = random.Random(seed)
    totals: dict[str, int] = {}
    for i in range(docs):
        chosen = rules if rules is not None else tuple(r for r in RULES if rng.random() < 0.7)
        doc = generate(rng, i, ("2019", "2021")[i % 2], chosen)
        for k, v in score(doc, process_bytes(doc.data, doc.name).cells).items():
            totals[k] = totals.get(k, 0) + v
    return totals


@pytest.mark.parametrize("rule", RULES)
def test_each_rule_alone(rule):
    t = _run(3, 8, (rule,))
    assert t["wrong"] == 0 and t["open_read"] == 0, t
    assert t["right"] / t["cells"] >= 0.99, t


def test_random_combinations_held_back():
    t = _run(20261206, 120)
    assert t["wrong"] == 0 and t["open_read"] == 0, t
    assert t["right"] / t["cells"] >= 0.99, t
