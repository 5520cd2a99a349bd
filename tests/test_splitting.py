"""Run-together digits: examples from real reports and a round-trip property."""

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.extract.splitting import split_grouped, split_plain, split_with_total


def test_examples_from_real_reports():
    assert split_with_total(["640020470"], 7) == [(64, 0, 0, 2, 0, 4, 70)]
    # a row with two cuts that both satisfy its own total: only the columns can decide
    assert set(split_with_total(["270020130"], 7)) == {(27, 0, 0, 2, 0, 1, 30), (2, 7, 0, 0, 20, 1, 30)}
    assert split_with_total(["500000", "5"], 7) == [(5, 0, 0, 0, 0, 0, 5)]
    assert split_grouped(["10203120001200000"], 3, 5) == [(1, 0, 2, 0, 3, 12, 0, 0, 0, 12, 0, 0, 0, 0, 0)]
    assert split_plain(["000"], 3) == [(0, 0, 0)]


def test_no_leading_zeros():
    # "1005" cannot be 1·005 or 10·05; only a cut whose parts print back as the text survives
    assert split_plain(["1005"], 2) == [(100, 5)]
    assert split_plain(["105"], 2) == [(10, 5)]
    assert split_plain(["05"], 2) == [(0, 5)]
    assert split_plain(["50"], 2) == [(5, 0)]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=3000), min_size=6, max_size=6))
def test_round_trip_row_with_total(parts):
    row = (*parts, sum(parts))
    cands = split_with_total(["".join(map(str, row))], 7)
    assert row in cands
    assert all(sum(c[:-1]) == c[-1] for c in cands)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.text(alphabet="0123456789", min_size=1, max_size=9), min_size=1, max_size=3),
    st.integers(min_value=2, max_value=7),
)
def test_cuts_with_a_total_are_exactly_the_brute_force_ones(tokens, parts):
    """The search's prunings (casting out nines on the total, the largest sum the digits left
    can reach) drop no cut: every cut that sums to its total is found, and no other."""
    brute = {c for c in split_plain(tokens, parts, limit=10**6) if sum(c[:-1]) == c[-1]}
    assert set(split_with_total(tokens, parts)) == brute
