"""Split run-together digits back into cells, using the form's identities.

Scraped text loses cell boundaries: ``640020470`` is 64·0·0·2·0·4·70. A row's tokens (digit
strings that were separated by whitespace keep that boundary) are cut into exactly as many
numbers as the row has cells. Numbers never have leading zeros except 0 itself.

Rows with a total column are cut only where the total equals the sum of the parts, which
prunes the search to a handful of candidates; the column identities then decide between the
survivors (``solve_linear``). What survives every identity in more than one way is returned as
ambiguous — never picked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

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
    review rows). The total is a suffix of the last token, so it is fixed first; the rest is
    cut depth-first with the remaining sum as a bound (a cell never exceeds what is left)."""
    results: list[tuple[int, ...]] = []
    last = tokens[-1]
    for t_len in range(1, len(last) + 1):
        total_s = last[-t_len:]
        if len(total_s) > 1 and total_s[0] == "0":
            continue
        head_tokens = list(tokens[:-1]) + ([last[:-t_len]] if t_len < len(last) else [])
        if not head_tokens:
            continue
        text = "".join(head_tokens)
        if _digit_sum(text) % 9 != _digit_sum(total_s) % 9:
            continue  # casting out nines: no cut of these digits sums to this total
        bounds = _bounds(head_tokens)
        total = int(total_s)
        for cells in _cuts_summing(text, bounds, 0, parts - 1, total):
            results.append((*cells, total))
            if len(results) > MAX_CANDIDATES:
                return results
    return results


def _digit_sum(digits: str) -> int:
    return sum(map(int, digits))


def _bounds(tokens: Sequence[str]) -> set[int]:
    """Positions in the joined text where whitespace separated tokens: a cut must fall there."""
    out, acc = set(), 0
    for t in tokens[:-1]:
        acc += len(t)
        out.add(acc)
    return out


def _cuts_summing(text: str, bounds: set[int], pos: int, parts: int, target: int) -> list[tuple[int, ...]]:
    """Cut text[pos:] into `parts` numbers (no leading zeros) that sum to `target`, never
    running a number across a token boundary. Memoized on (pos, parts, target): long runs
    revisit the same suffix many times."""
    memo: dict[tuple[int, int, int], list[tuple[int, ...]]] = {}
    nb = _next_bounds(text, bounds)

    def rec(pos: int, parts: int, target: int) -> list[tuple[int, ...]]:
        key = (pos, parts, target)
        if key in memo:
            return memo[key]
        rest = len(text) - pos
        width = len(str(target))
        out: list[tuple[int, ...]] = []
        # each remaining number has at most as many digits as what is left to reach, and
        # `parts` numbers of `rest` digits sum to less than 10**(rest-parts+1) + 10*(parts-1)
        # (one long number and single digits is the largest split)
        if parts == 0 or rest < parts or rest > parts * width or target >= 10 ** (rest - parts + 1) + 10 * (parts - 1):
            pass
        elif target == 0:
            if rest == parts and text[pos:] == "0" * rest:
                out = [(0,) * parts]
        elif parts == 1:
            s = text[pos:]
            if s[0] != "0" and int(s) == target and not nb[pos] < len(text):
                out = [(target,)]
        else:
            max_len = 1 if text[pos] == "0" else min(width, rest - parts + 1)
            for ln in range(1, max_len + 1):
                end = pos + ln
                if nb[pos] < end:
                    break
                v = int(text[pos:end])
                if v > target:
                    break
                out += [(v, *tail) for tail in rec(end, parts - 1, target - v)]
                if len(out) > MAX_CANDIDATES:
                    break
        memo[key] = out
        return out

    return rec(pos, parts, target)


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
    row_cuts = {}

    next_bound = _next_bounds(text, bounds)

    def cuts_at(pos: int) -> list[tuple[int, list[int]]]:
        if pos not in row_cuts:
            row_cuts[pos] = list(_row_cuts(text, pos, cols, bounds, next_bound))
        return row_cuts[pos]

    memo: dict[tuple[int, int], list[tuple[int, ...]]] = {}

    def rec(pos: int, row: int) -> list[tuple[int, ...]]:
        if (pos, row) in memo:
            return memo[(pos, row)]
        if row == rows:
            out = [()] if pos == len(text) else []
        else:
            out = []
            for end, values in cuts_at(pos):
                out += [(*values, *tail) for tail in rec(end, row + 1)]
                if len(out) > MAX_CANDIDATES:
                    break
        memo[(pos, row)] = out
        return out

    return rec(0, 0)


def _next_bounds(text: str, bounds: set[int]) -> list[int]:
    """For each position, the first token boundary after it (len(text) + 1 when none): a
    number starting at p may not end beyond it."""
    out, nxt = [len(text) + 1] * (len(text) + 1), len(text) + 1
    for p in range(len(text), -1, -1):
        out[p] = nxt
        if p in bounds:
            nxt = p
    return out


def _row_cuts(text: str, pos: int, cols: int, bounds: set[int], next_bound: list[int] | None = None) -> Iterator[tuple[int, list[int]]]:
    """Cuts of one row starting at pos: cols − 1 numbers, then their sum printed next.
    A part is never longer than the total that follows it, so a part of n digits needs n
    digits left for the total (and one for each part still to come): longer parts are not
    tried."""
    nb = next_bound or _next_bounds(text, bounds)
    n = len(text)

    def rec(p: int, left: int, vals: list[int], longest: int) -> Iterator[tuple[int, list[int]]]:
        if left == 0:
            total = str(sum(vals))
            end = p + len(total)
            if text.startswith(total, p) and not nb[p] < end:
                yield end, [*vals, int(total)]
            return
        if p >= n:
            return
        max_len = 1 if text[p] == "0" else n - p
        for ln in range(1, max_len + 1):
            end = p + ln
            if nb[p] < end:
                break
            if end + (left - 1) + max(ln, longest) > n:
                break  # no room left for the rest and a total at least this long
            yield from rec(end, left - 1, [*vals, int(text[p:end])], max(ln, longest))

    yield from rec(pos, cols - 1, [], 0)


def solve_linear(
    const: Sequence[int],
    contributions: Sequence[Sequence[Sequence[int]]],
    max_states: int = 200_000,
) -> tuple[list[tuple[int, ...]], bool]:
    """Choose one alternative per unit so that every identity's residual is zero.

    Each identity instance is linear: residual_i = const_i + Σ_u contribution[u][alt][i].
    Dynamic programming over units keeps the distinct residual vectors reachable so far,
    pruned by what the remaining units can still add (min/max per instance). Returns (all
    solutions as alternative indices, searched); searched is False when the state count
    exceeded `max_states` and nothing was decided."""
    n = len(const)
    lo_rest = [[0] * n for _ in range(len(contributions) + 1)]
    hi_rest = [[0] * n for _ in range(len(contributions) + 1)]
    for u in range(len(contributions) - 1, -1, -1):
        for i in range(n):
            vals = [alt[i] for alt in contributions[u]]
            lo_rest[u][i] = lo_rest[u + 1][i] + min(vals)
            hi_rest[u][i] = hi_rest[u + 1][i] + max(vals)
    states: dict[tuple[int, ...], list[tuple[int, ...]]] = {tuple(const): [()]}
    for u, alts in enumerate(contributions):
        nxt: dict[tuple[int, ...], list[tuple[int, ...]]] = {}
        lo, hi = lo_rest[u + 1], hi_rest[u + 1]
        for residual, paths in states.items():
            for a, alt in enumerate(alts):
                new = tuple(r + c for r, c in zip(residual, alt))
                if any(not (-hi[i] <= new[i] <= -lo[i]) for i in range(n)):
                    continue
                nxt.setdefault(new, []).extend(p + (a,) for p in paths)
        states = nxt
        if sum(len(v) for v in states.values()) > max_states:
            return [], False
    return states.get(tuple([0] * n), []), True
