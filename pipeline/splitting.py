"""Split run-together digits back into cells, using the form's identities.

Scraped text loses cell boundaries: ``640020470`` is 64·0·0·2·0·4·70. A row's tokens (digit
strings that were separated by whitespace keep that boundary) are cut into exactly as many
numbers as the row has cells. Numbers never have leading zeros except 0 itself.

Rows with a total column are cut only where the total equals the sum of the parts, which
prunes the search to a handful of candidates; the column identities then decide between the
survivors (``joint_solve``). What survives every identity in more than one way is returned as
ambiguous — never picked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from itertools import product

MAX_CANDIDATES = 5000  # per row; beyond this the row is reported as unresolvable by splitting


def _numbers(s: str, parts: int) -> Iterator[list[int]]:
    """All ways to cut digit string s into `parts` numbers without leading zeros."""
    if parts == 1:
        if s and (s == "0" or s[0] != "0"):
            yield [int(s)]
        return
    if s.startswith("0"):
        for rest in _numbers(s[1:], parts - 1):
            yield [0, *rest]
        return
    for cut in range(1, len(s) - parts + 2):
        head = s[:cut]
        for rest in _numbers(s[cut:], parts - 1):
            yield [int(head), *rest]


def _distributions(tokens: Sequence[str], parts: int) -> Iterator[list[int]]:
    """Cuts of several tokens: each token yields at least one number, `parts` in all."""
    if not tokens:
        if parts == 0:
            yield []
        return
    first, rest = tokens[0], tokens[1:]
    # the remaining tokens need at least one part each, and at most one per digit
    low = max(1, parts - sum(len(t) for t in rest))
    high = min(len(first), parts - len(rest))
    for k in range(low, high + 1):
        for head in _numbers(first, k):
            for tail in _distributions(rest, parts - k):
                yield head + tail


def split_with_total(tokens: Sequence[str], parts: int) -> list[tuple[int, ...]]:
    """Cuts of a row whose last cell is the total of the others (applications rows,
    review rows). The total is the last token's suffix, so we fix it first and cut the rest
    with the sum known."""
    results: list[tuple[int, ...]] = []
    last = tokens[-1]
    for t_len in range(1, len(last) + 1):
        total_s = last[-t_len:]
        if len(total_s) > 1 and total_s[0] == "0":
            continue
        total = int(total_s)
        head_tokens = list(tokens[:-1]) + ([last[:-t_len]] if t_len < len(last) else [])
        if not head_tokens:
            continue
        for cells in _bounded(head_tokens, parts - 1, total):
            results.append((*cells, total))
            if len(results) > MAX_CANDIDATES:
                return results
    return results


def _bounded(tokens: Sequence[str], parts: int, total: int) -> Iterator[list[int]]:
    """_distributions, pruned: the cells must sum to `total`."""
    for cells in _distributions(tokens, parts):
        if sum(cells) == total:
            yield cells


def split_plain(tokens: Sequence[str], parts: int, limit: int = MAX_CANDIDATES) -> list[tuple[int, ...]]:
    """Every cut into `parts` numbers (rows without an identity, e.g. 规章 000)."""
    out = []
    for cells in _distributions(tokens, parts):
        out.append(tuple(cells))
        if len(out) > limit:
            break
    return out


def split_grouped(tokens: Sequence[str], rows: int, cols: int) -> list[tuple[int, ...]]:
    """Cut one run that covers several rows of `cols` cells, each ending in its total
    (the review/litigation block ``10203120001200000`` is 1·0·2·0·3 / 12·0·0·0·12 / 0·0·0·0·0)."""
    text = "".join(tokens)
    bounds = set()
    acc = 0
    for t in tokens[:-1]:
        acc += len(t)
        bounds.add(acc)  # whitespace boundaries that a number may not cross
    out: list[tuple[int, ...]] = []

    def rec(pos: int, row: int, cells: list[int]) -> None:
        if len(out) > MAX_CANDIDATES:
            return
        if row == rows:
            if pos == len(text):
                out.append(tuple(cells))
            return
        for parts in _row_cuts(text, pos, cols, bounds):
            end, values = parts
            rec(end, row + 1, cells + values)

    rec(0, 0, [])
    return out


def _row_cuts(text: str, pos: int, cols: int, bounds: set[int]) -> Iterator[tuple[int, list[int]]]:
    def rec(p: int, left: int, vals: list[int]) -> Iterator[tuple[int, list[int]]]:
        if left == 0:
            total = str(sum(vals))
            end = p + len(total)
            if text.startswith(total, p) and not any(p < b < end for b in bounds):
                yield end, [*vals, int(total)]
            return
        if p >= len(text):
            return
        max_len = 1 if text[p] == "0" else len(text) - p
        for ln in range(1, max_len + 1):
            end = p + ln
            if any(p < b < end for b in bounds):
                break
            yield from rec(end, left - 1, [*vals, int(text[p:end])])

    yield from rec(pos, cols - 1, [])


def joint_solve(
    options: dict[int, list[int]],
    consistent: Callable[[dict[int, int]], bool],
    limit: int = 200_000,
) -> tuple[list[dict[int, int]], bool]:
    """Every combination of the units' alternatives that `consistent` accepts over the whole
    table. Returns (solutions, searched) — searched is False when the space was larger than
    `limit` and was not searched (then nothing is decided)."""
    keys = list(options)
    space = 1
    for k in keys:
        space *= max(1, len(options[k]))
    if space > limit:
        return [], False
    solutions = []
    for combo in product(*(options[k] for k in keys)):
        choice = dict(zip(keys, combo))
        if consistent(choice):
            solutions.append(choice)
    return solutions, True
