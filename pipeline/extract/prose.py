"""Statistics stated in sentences, and in the pre-2019 政府信息公开情况统计表.

Reports state their key numbers in prose (全市各级行政机关共收到政府信息公开申请4411宗。其中，
网络申请3522宗…). For legacy reports these sentences are the only data; for standard-form
reports they are a second witness to the tables (seed 004: 上年结转2件, 新收443件, 办结442件,
结转1件 — which does not balance).

A total is found by a pattern; its parts are read from the 其中 clause that follows it, each
part keyed by the first alias its label contains. The old 统计表 prints two columns (本年度,
历年累计) that scraping runs together; the cut is decided by the prose (2017年全区主动公开政府
信息2122条 → 2122 · 10037) or by the parts not exceeding their total — otherwise it stays
unresolved with its candidates.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, replace

from pipeline.extract.splitting import split_plain

_N = r"\s*(\d+)\s*"


@dataclass(frozen=True)
class Metric:
    metric: str
    value: int | None
    unit: str
    offset: int
    sentence: str
    origin: str = "prose"  # prose · stat_table
    note: str = ""


# total metric → patterns (first group is the number); parts aliases: (substring, key)
TOTALS: dict[str, tuple[tuple[str, ...], tuple[tuple[str, str], ...]]] = {
    "active_disclosure_total": (
        (rf"主动公开(?:政府)?信息(?:共计?)?{_N}条",),
        (("政府公报", "gazette"), ("政府网站", "website"), ("微博微信", "social_media"), ("微信", "social_media"),
         ("报刊", "other_media"), ("其他方式", "other_media")),
    ),
    "applications_received": (
        (rf"(?:收到|受理)(?:政府信息公开|依申请公开)?申请(?:共计?)?{_N}(?:宗|件次?)", rf"共?收到{_N}(?:宗|件)申请",
         rf"新收到?(?:政府信息公开)?申请{_N}件"),
        (("网络", "online"), ("网上", "online"), ("信函", "letter"), ("当面", "in_person"), ("传真", "fax"),
         ("电子邮件", "email"), ("电话", "phone"), ("自然人", "natural_person"), ("法人或其他组织", "organizations")),
    ),
    "applications_answered": (
        (rf"答复(?:政府信息公开)?申请(?:共计?)?{_N}(?:宗|件)", rf"(?:答复)?办结(?:政府信息公开申请)?{_N}件"),
        (("已主动公开", "already_public"), ("同意部分公开", "partially_granted"), ("不同意公开", "withheld"),
         ("同意公开", "granted"), ("不予公开", "withheld"), ("其他", "other")),
    ),
    "carried_over_in": ((rf"上年度?结转(?:政府信息公开)?申请{_N}件",), ()),
    "carried_over_out": ((rf"{_N}件结转(?:至)?下年度", rf"结转(?:至)?下年度(?:继续办理)?{_N}件"), ()),
    "administrative_reviews_total": (
        (rf"行政复议案件[^。]{{0,12}}?共{_N}宗",),
        (("维持", "upheld"), ("纠错", "corrected"), ("纠正", "corrected"), ("其他", "other")),
    ),
    "lawsuits_total": (
        (rf"行政诉讼案件[^。]{{0,12}}?共{_N}宗",),
        (("维持", "upheld"), ("驳回", "upheld"), ("纠错", "corrected"), ("纠正", "corrected"), ("其他", "other")),
    ),
}

_PART = re.compile(r"([\u4e00-\u9fff、，“”]{2,30}?)\s*(\d+)\s*(条|宗|件)")


def _sentence_at(text: str, pos: int) -> tuple[int, int]:
    start = max(text.rfind("。", 0, pos), text.rfind("\n", 0, pos)) + 1
    ends = [i for i in (text.find("。", pos), text.find("\n", pos)) if i >= 0]
    return start, (min(ends) + 1 if ends else len(text))


_LABEL_NOISE = re.compile(r"^[、，“”]+|(?:主动公开政府信息|主动公开|发布信息|政府信息|申请)$")


def _parts(text: str, after: int, aliases, total_key: str, total: int) -> list[Metric]:
    """The 其中 clause right after a total: 其中，网络申请3522宗，占79.8%；信函申请524宗…
    It may run on into the next sentence (平潭 2017); reading stops at the second sentence end
    or as soon as the parts add up to the total."""
    window = text[after: after + 12]
    if "其中" not in window:
        return []
    start = after + window.index("其中")
    end = start
    for _ in range(2):
        nxt = text.find("。", end + 1)
        end = nxt if nxt >= 0 else len(text)
        parts = []
        for m in _PART.finditer(text, start, end):
            label = _LABEL_NOISE.sub("", m.group(1).split("，")[-1].split("；")[-1].replace("其中", ""))
            key = next((k for alias, k in aliases if alias in label), label)
            parts.append(Metric(f"{total_key}.{key}", int(m.group(2)), m.group(3), m.start(2), text[start:end + 1]))
        if sum(p.value for p in parts) == total:
            break
    return parts


def join_lines(text: str) -> tuple[str, Callable[[int], int]]:
    """Text with line breaks removed (PDF text breaks sentences mid-word: 受理政府\n信息公开申请
    17 件) and a map from a joined offset back to the original offset. The map is built from
    the line breaks alone, not per character: this runs on every document."""
    shifted = []  # joined position of the k-th removed line break
    pos = text.find("\n")
    while pos >= 0:
        shifted.append(pos - len(shifted))
        pos = text.find("\n", pos + 1)
    return text.replace("\n", ""), lambda j: j + bisect_right(shifted, j)


def prose_metrics(text: str) -> list[Metric]:
    """Totals and their parts stated in sentences; the first statement of each total wins.
    Offsets in the result refer to `text` (sentences are matched across line breaks)."""
    joined, original = join_lines(text)
    return [replace(m, offset=original(m.offset)) for m in _prose_metrics(joined)]


# Patterns that may start almost anywhere (an optional first word, leading digits) make the
# regex engine try every position of the text. Each holds a literal that every match
# contains; no match can start before its first occurrence, less what may precede it inside
# a match (a count of characters, or None: a run of spaces and digits).
_ANCHORS: dict[str, tuple[str, int | None]] = {
    TOTALS["carried_over_out"][0][0]: ("件结转", None),
    TOTALS["applications_answered"][0][1]: ("办结", len("答复")),
    TOTALS["applications_received"][0][1]: ("收到", len("共")),
}
_SPACE_OR_DIGIT = re.compile(r"[\s\d]")


def _search(pat: str, text: str) -> re.Match | None:
    """``re.search(pat, text)``, started where a match can first begin."""
    anchor = _ANCHORS.get(pat)
    if anchor is None:
        return re.search(pat, text)
    literal, back = anchor
    i = text.find(literal)
    if i < 0:
        return None
    if back is None:
        while i > 0 and _SPACE_OR_DIGIT.match(text, i - 1):
            i -= 1
    else:
        i = max(0, i - back)
    return re.compile(pat).search(text, i)


def _prose_metrics(text: str) -> list[Metric]:
    out: list[Metric] = []
    for key, (patterns, aliases) in TOTALS.items():
        best = None
        for pat in patterns:
            m = _search(pat, text)
            if m and (best is None or m.start() < best.start()):
                best = m
        if best is None:
            continue
        unit = re.search(r"条|宗|件", best.group(0)[best.end(1) - best.start():])
        s, e = _sentence_at(text, best.start())
        value = int(best.group(1))
        out.append(Metric(key, value, unit.group(0) if unit else "", best.start(1), text[s:e]))
        out += _parts(text, best.end(), aliases, key, value)
    return out


# --- the old 政府信息公开情况统计表 ---------------------------------------------------------------

STAT_TABLE_ROWS = (
    ("主动公开文件数", "active_disclosure_total"),
    ("政府网站公开数", "active_disclosure_total.website"),
    ("政府公报公开数", "active_disclosure_total.gazette"),
    ("受理政府信息依申请公开总数", "applications_received"),
    ("当面申请数", "applications_received.in_person"),
    ("网上申请数", "applications_received.online"),
    ("信函、传真申请数", "applications_received.letter_fax"),
    ("对申请的答复总数", "applications_answered"),
    ("同意公开答复数", "applications_answered.granted"),
    ("同意部分公开答复数", "applications_answered.partially_granted"),
    ("不予公开答复数", "applications_answered.withheld"),
    ("其他类型答复数", "applications_answered.other"),
    ("接受行政诉讼、举报数", "complaints_total"),
    ("行政复议数", "administrative_reviews_total"),
    ("行政诉讼数", "lawsuits_total"),
)


def stat_table_metrics(text: str, stated: dict[str, int]) -> list[Metric]:
    """Rows of the old statistics table: label, unit, then 本年度 and 历年累计 run together."""
    head = text.find("统计表")
    if head < 0:
        return []
    rows = []
    pos = head
    for label, key in STAT_TABLE_ROWS:
        m = re.compile(r"(?:\d、)?" + re.escape(label) + r"\s*(条|件|个)?").search(text, pos)
        if m:
            rows.append((key, m))
            pos = m.end()
    out: list[Metric] = []
    decided: dict[str, tuple[int, int]] = {}
    for i, (key, m) in enumerate(rows):
        end = rows[i + 1][1].start() if i + 1 < len(rows) else min(len(text), m.end() + 40)
        digits = re.match(r"\s*(\d+)", text[m.end(): end])
        if not digits:
            continue
        run = digits.group(1)
        cands = [c for c in split_plain([run], 2) if c[1] >= c[0]]
        total_key = key.split(".")[0]
        if key in stated:
            cands = [c for c in cands if c[0] == stated[key]] or cands
        if "." in key and total_key in decided:
            whole = decided[total_key]  # a part never exceeds its total, in either column
            cands = [c for c in cands if c[0] <= whole[0] and c[1] <= whole[1]] or cands
        unit = m.group(1) or ""
        sentence = text[m.start(): m.end() + len(run)]
        if len(cands) == 1:
            decided[key] = cands[0]
            out.append(Metric(key, cands[0][0], unit, m.end(), sentence, "stat_table", "本年度" if len(run) > 1 else ""))
            out.append(Metric(f"{key}.cumulative", cands[0][1], unit, m.end(), sentence, "stat_table", "历年累计"))
        else:
            shown = ", ".join(f"{a}·{b}" for a, b in cands[:10])
            out.append(Metric(key, None, unit, m.end(), sentence, "stat_table", f"unresolved: {shown}"))
    return out
