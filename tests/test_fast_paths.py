"""The fast paths of issue 10 give exactly what the plain versions they replaced gave.

Each plain version is kept here as the reference (it is the code that ran before), and the
fast one must agree with it on real text and on generated input built to hit the edge cases.
The store-level check of the same promise is tests/test_store_reference.py.
"""

from __future__ import annotations

import random
import re
from itertools import permutations
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.read.decode import _common_ratio, detect_and_decode
from pipeline.extract.tables import Token, _accepted_orders, _groups_balance
from pipeline.text.normalize import _HALF_TO_FULL_PUNCT, _FULL_TO_HALF, _heading_vocabulary, _nearest_heading, unify_width
from pipeline.extract.prose import _ANCHORS, _search
from pipeline.extract.splitting import _row_cuts
from pipeline.t2s import _converter, count_traditional

FIXTURES = sorted(p for p in (Path(__file__).parent / "fixtures").iterdir() if p.suffix in (".txt", ".html"))


def _texts() -> list[str]:
    return [detect_and_decode(p.read_bytes())[0] for p in FIXTURES]


# --- the plain versions ----------------------------------------------------------------------


def plain_accepted_orders(groups):
    seen = {}
    for perm in permutations(range(len(groups))):
        if _groups_balance(groups, perm):
            moved = sum(1 for i, p in enumerate(perm) if i != p)
            values = tuple(tuple(g.raw for g in groups[p]) for p in perm)
            if values not in seen or moved < seen[values][0]:
                seen[values] = (moved, list(perm))
    return sorted(seen.values())


def edit_distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def plain_nearest_heading(s: str):
    nearest = min(_heading_vocabulary(), key=lambda h: edit_distance(s, h))
    d = edit_distance(s, nearest)
    return (nearest, d) if d <= 2 else None


def plain_count_traditional(text: str) -> int:
    converted = text.translate(_converter()[1])
    return sum(1 for a, b in zip(text, converted) if a != b)


def plain_common_ratio(text: str) -> float:
    cjk = common = 0
    for ch in text[:20000]:
        if "\u4e00" <= ch <= "\u9fff":
            cjk += 1
            try:
                if 0xB0 <= ch.encode("gb2312")[0] <= 0xD7:
                    common += 1
            except UnicodeEncodeError:
                pass
    return common / cjk if cjk else 0.0


_CJK = r"\u3400-\u9fff\uff08\uff09\uff0c\uff1a\uff1b\u3001\u3002\u201c\u201d\u300a\u300b"
_PUNCT_NEAR_CJK = re.compile(rf"(?<=[{_CJK}])[(),:;!?]|[(),:;!?](?=[{_CJK}])")


def plain_unify_width(text: str) -> str:
    text = text.translate(_FULL_TO_HALF)
    text = re.sub(r"(?<=\d)．(?=\d)", ".", text)
    text = re.sub(r"(?<=\d)．", ".", text)
    return _PUNCT_NEAR_CJK.sub(lambda m: _HALF_TO_FULL_PUNCT[m.group()], text)


def plain_row_cuts(text, pos, cols, bounds):
    def rec(p, left, vals):
        if left == 0:
            total = str(sum(vals))
            end = p + len(total)
            if text.startswith(total, p) and not any(p < b < end for b in bounds):
                yield end, [*vals, int(total)]
            return
        if p >= len(text):
            return
        for ln in range(1, (1 if text[p] == "0" else len(text) - p) + 1):
            end = p + ln
            if any(p < b < end for b in bounds):
                break
            yield from rec(end, left - 1, [*vals, int(text[p:end])])

    yield from rec(pos, cols - 1, [])


# --- agreement --------------------------------------------------------------------------------


def test_column_orders_agree():
    rng = random.Random(5)
    accepted = 0
    for _ in range(600):
        k, n = rng.randint(2, 7), rng.randint(1, 4)
        pool = [[str(rng.choice([0, 0, 1, 2, 3])) for _ in range(n)] for _ in range(rng.randint(1, k))]
        cols = [list(rng.choice(pool)) for _ in range(k - 1)]
        cols.insert(rng.randrange(k), [str(sum(int(c[r]) for c in cols)) for r in range(n)])
        if rng.random() < 0.2:
            cols[rng.randrange(k)][0] = "7"
        groups = [[Token(v, v, 0) for v in c] for c in cols]
        want = plain_accepted_orders(groups)
        assert _accepted_orders(groups) == want, cols
        accepted += bool(want)
    assert accepted > 300  # the comparison is not only between empty lists


def test_nearest_heading_agrees():
    rng = random.Random(1)
    alphabet = "（一二三）主动公开情况政府信息管理平台监督保障存在问题改进措施abc"
    vocabulary = _heading_vocabulary()
    snapped = 0
    for _ in range(3000):
        s = list(rng.choice(vocabulary))
        for _ in range(rng.randint(0, 3)):
            i = rng.randrange(len(s) + 1)
            op = rng.random()
            if op < 0.33 and s:
                del s[min(i, len(s) - 1)]
            elif op < 0.66:
                s.insert(i, rng.choice(alphabet))
            elif s:
                s[min(i, len(s) - 1)] = rng.choice(alphabet)
        s = "".join(s) if rng.random() < 0.85 else "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 20)))
        want = plain_nearest_heading(s)
        assert _nearest_heading(s) == want, s
        snapped += want is not None
    assert snapped > 1000


@pytest.mark.parametrize("text", _texts(), ids=[p.name for p in FIXTURES])
def test_character_passes_agree_on_real_text(text):
    assert count_traditional(text) == plain_count_traditional(text)
    assert _common_ratio(text) == plain_common_ratio(text)
    assert unify_width(text) == plain_unify_width(text)


_MIXED = st.text(alphabet="國語體臺灣發展著作乾隆ａＢ０９％＋\u3000\xa0．.1(),:;!?中文（）a𠀋𡃁𪚥 \n", max_size=80)


@settings(max_examples=300, deadline=None)
@given(_MIXED)
def test_character_passes_agree_on_edge_cases(text):
    assert count_traditional(text) == plain_count_traditional(text)
    assert _common_ratio(text) == plain_common_ratio(text)
    assert unify_width(text) == plain_unify_width(text)


def test_row_cuts_agree():
    rng = random.Random(7)
    found = 0
    for _ in range(1500):
        rows = []
        for _ in range(rng.randint(1, 3)):
            vals = [rng.choice([0, 0, 1, 2, 5, 12, 30, 105]) for _ in range(rng.randint(1, 5))]
            rows.append(vals + [sum(vals)])
        text = "".join(str(v) for row in rows for v in row)
        cols = len(rows[0])
        bounds = set(rng.sample(range(1, len(text)), k=min(len(text) - 1, rng.randint(0, 2)))) if len(text) > 1 else set()
        for pos in range(len(text)):
            want = list(plain_row_cuts(text, pos, cols, bounds))
            assert list(_row_cuts(text, pos, cols, bounds)) == want, (text, pos, cols, bounds)
            found += bool(want)
    assert found > 1000


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(["件结转下年度", "件结转至下年度", " ", "\u3000", "1", "23", "办结", "答复办结", "答复",
                                 "共收到", "收到", "5件申请", "件", "宗申请", "政府信息公开申请", "。", "x"]), max_size=14))
def test_prose_search_agrees(pieces):
    text = "".join(pieces)
    for pat in _ANCHORS:
        got, want = _search(pat, text), re.search(pat, text)
        assert (got and (got.span(), got.groups())) == (want and (want.span(), want.groups()))


def _lookalike_plain(token, parent):
    """organs._lookalike as it was: every gazetteer name scanned."""
    from pipeline.extract.organs import LOOKALIKES, _is_under, gazetteer

    found = []
    for name, codes in gazetteer().names.items():
        if len(name) != len(token) or name[-1] != token[-1]:
            continue
        diff = [(a, b) for a, b in zip(name, token) if a != b]
        if len(diff) != 1:
            continue
        if parent is None and frozenset(diff[0]) not in LOOKALIKES:
            continue
        found += [(c, name) for c in codes if _is_under(c, parent)]
    return found[0] if len(found) == 1 else None


def test_organ_lookalikes_indexed_by_shape_agree_with_the_full_scan():
    """Issue 10: resolve/_lookalike took 7–20% of worker time; the look-alike search now looks
    only at names of the same length and last character, and both are cached by name."""
    from pipeline.extract import organs

    names = sorted(organs.gazetteer().names)
    rnd = random.Random(7)
    swaps = {a: b for pair in organs.LOOKALIKES for a, b in (tuple(pair), tuple(pair)[::-1])}
    tokens = []
    for name in rnd.sample(names, 300):
        i = rnd.randrange(len(name) - 1) if len(name) > 1 else 0
        tokens.append(name[:i] + swaps.get(name[i], "某") + name[i + 1:])
    tokens += ["洪译区", "淮按市", "江宁区", "某某县"]
    parents = [None, "320000", "320800", "110000"]
    for token in tokens:
        for parent in parents:
            assert organs._lookalike.__wrapped__(token, parent) == _lookalike_plain(token, parent), (token, parent)
    for printed in ("洪译区人民政府", "淮安市洪泽区政府办", "江苏淮安市洪泽区司法局", "鼓楼区人民政府", "", None, "某某县政府"):
        assert organs.resolve(printed) == organs.resolve.__wrapped__(printed) == organs.resolve(printed)
