"""Decoded text → normalized text: simplified script, half-width digits, no chrome, no spam.

Every change that is more than whitespace is recorded as a repair (kind, line, before, after)
so a reviewer can see what the text looked like before we touched it. Line numbers in the
store refer to the normalized text this module returns.

Order matters: mojibake is repaired on the decoded characters (it is a byte-level accident),
then pinyin is stripped, then widths unified, then the script converted, and only then are
chrome and spam recognised — their patterns are written once, in simplified characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from pipeline.t2s import count_traditional, to_simplified

# --- width ---------------------------------------------------------------------------------

_FULL_TO_HALF = {ord(c): ord(c) - 0xFEE0 for c in "０１２３４５６７８９ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ％＋"}
_FULL_TO_HALF[ord("\u3000")] = ord(" ")
_FULL_TO_HALF[ord("\xa0")] = ord(" ")
_HALF_TO_FULL_PUNCT = {"(": "（", ")": "）", ",": "，", ":": "：", ";": "；", "!": "！", "?": "？"}
_FULLWIDTH_DOT = re.compile(r"(?<=\d)．(?=\d)")


_FULL_RUN = re.compile("[" + re.escape("".join(map(chr, _FULL_TO_HALF))) + "]+")
_ASCII_PUNCT = re.compile(r"[(),:;!?]")
_CJK_SET = frozenset(
    [chr(c) for c in range(0x3400, 0xA000)] + list("\uff08\uff09\uff0c\uff1a\uff1b\u3001\u3002\u201c\u201d\u300a\u300b")
)


def unify_width(text: str) -> str:
    """Full-width digits and letters → ASCII; ASCII punctuation touching Chinese text →
    the full-width form the form itself prints (（一）, ：, ，). URLs and decimals keep theirs.

    Each step touches only the characters it changes (runs of full-width characters,
    ASCII punctuation): a whole-text ``str.translate`` costs ~40 ns a character."""
    text = _FULL_RUN.sub(lambda m: m.group().translate(_FULL_TO_HALF), text)
    if "．" in text:
        text = _FULLWIDTH_DOT.sub(".", text)
        # an enumerator like 1． before Chinese is the same as 1.
        text = re.sub(r"(?<=\d)．", ".", text)
    return _ASCII_PUNCT.sub(_full_width_punct, text)


def _full_width_punct(m: re.Match) -> str:
    """The punctuation in full width when a neighbour (in the text as it was) is Chinese."""
    i, s = m.start(), m.string
    if (i > 0 and s[i - 1] in _CJK_SET) or (i + 1 < len(s) and s[i + 1] in _CJK_SET):
        return _HALF_TO_FULL_PUNCT[m.group()]
    return m.group()


# --- pinyin --------------------------------------------------------------------------------

_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ"
_NEUTRAL = "de|le|ma|me|men|zi|ge|ba|ne|zhe|shang|li|tou|men"
_PINYIN = re.compile(
    rf"(?<=[\u3400-\u9fff])[(（](?:[a-zü]*[{_TONED}][a-zü{_TONED}]*|{_NEUTRAL})[)）]"
)


def strip_pinyin(text: str) -> tuple[str, int]:
    """Remove pinyin inserted after a character (區(qū) → 區). Real parentheses survive:
    the content must be one pinyin syllable with a tone mark (or a neutral-tone syllable)."""
    return _PINYIN.subn("", text)


# --- mojibake ------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _gbk_symbol_chars() -> frozenset[str]:
    """Characters of GBK rows A6–A9 (Greek, Cyrillic, pinyin/bopomofo, box drawing): text
    that contains them next to Chinese is almost always GBK decoded one byte off."""
    chars = set()
    for lead in range(0xA6, 0xAA):
        for trail in range(0xA1, 0xFF):
            try:
                chars.add(bytes([lead, trail]).decode("gbk"))
            except UnicodeDecodeError:
                pass
    return frozenset(chars)


@lru_cache(maxsize=1)
def _symbol_regex() -> re.Pattern:
    return re.compile("[" + "".join(re.escape(c) for c in sorted(_gbk_symbol_chars())) + "]")


_HEADING_TOPICS = (
    "主动公开情况", "主动公开方面", "依申请公开情况", "依申请公开方面", "政府信息管理情况", "政府信息管理方面",
    "政府信息公开平台建设情况", "平台建设情况", "政府信息公开监督保障", "政府信息公开监督保障情况", "监督保障方面",
    "存在的主要问题", "改进措施", "改进情况", "主要问题", "其他需要报告的事项",
)
_ENUMS = "一二三四五六七八九"


@lru_cache(maxsize=1)
def _heading_vocabulary() -> tuple[str, ...]:
    return tuple(f"（{n}）{topic}" for n in _ENUMS for topic in _HEADING_TOPICS)


def _deletions(s: str) -> set[str]:
    """s with up to two characters deleted (s itself included)."""
    one = {s[:i] + s[i + 1:] for i in range(len(s))}
    return {s} | one | {t[:i] + t[i + 1:] for t in one for i in range(len(t))}


@lru_cache(maxsize=1)
def _heading_index() -> dict[str, tuple[int, ...]]:
    """Every heading under each of its two-deletion variants (a symmetric-deletion index):
    two strings within two edits share a variant, so a line is compared only with the few
    headings it shares one with, not with all 144."""
    index: dict[str, set[int]] = {}
    for i, h in enumerate(_heading_vocabulary()):
        for v in _deletions(h):
            index.setdefault(v, set()).add(i)
    return {v: tuple(sorted(ids)) for v, ids in index.items()}


@lru_cache(maxsize=1)
def _heading_set() -> frozenset[str]:
    return frozenset(_heading_vocabulary())


_HEADING_LENGTHS = range(min(map(len, _heading_vocabulary())) - 2, max(map(len, _heading_vocabulary())) + 3)


def _within_two(a: str, b: str) -> int | None:
    """Edit distance of a and b when it is at most 2, else None: only the diagonal band
    |i − j| ≤ 2 of the table can hold such a path (cells outside it count as 3, which is
    "too far"), and a row whose band is all above 2 ends the search."""
    la, lb = len(a), len(b)
    if abs(la - lb) > 2:
        return None
    far = 3
    prev = [j if j < far else far for j in range(lb + 1)]
    for i in range(1, la + 1):
        ca = a[i - 1]
        cur = [far] * (lb + 1)
        cur[0] = best = i if i < far else far
        for j in range(max(1, i - 2), min(lb, i + 2) + 1):
            v = prev[j - 1] + (ca != b[j - 1])
            if prev[j] + 1 < v:
                v = prev[j] + 1
            if cur[j - 1] + 1 < v:
                v = cur[j - 1] + 1
            cur[j] = v if v < far else far
            if v < best:
                best = v
        if best >= far:
            return None
        prev = cur
    return prev[lb] if prev[lb] < far else None


def _nearest_heading(s: str) -> tuple[str, int] | None:
    """The first heading of the vocabulary at the least edit distance from s, when that
    distance is at most 2 (a heading further away is never snapped to)."""
    if len(s) not in _HEADING_LENGTHS:
        return None
    index, vocabulary = _heading_index(), _heading_vocabulary()
    if s in _heading_set():
        return s, 0  # the heading itself: no heading is nearer, and only it is at distance 0
    candidates = sorted({i for v in _deletions(s) for i in index.get(v, ())})
    best: tuple[int, int] | None = None
    for i in candidates:
        d = _within_two(s, vocabulary[i])
        if d is not None and (best is None or (d, i) < best):
            best = (d, i)
            if d == 0:
                break
    return None if best is None else (vocabulary[best[1]], best[0])


def _quality(s: str) -> float:
    good = sum(1 for ch in s if "\u4e00" <= ch <= "\u9fff" or ch in "（）、，。：；")
    bad = sum(1 for ch in s if ch in "\ufffd?" or ch in _gbk_symbol_chars())
    return good - 3 * bad


def repair_mojibake_line(line: str) -> tuple[str, str] | None:
    """Repair a line of GBK text that was decoded one byte off (seed 002:
    ``?。ㄒ唬┲鲃庸_情況`` is （一）主動公開情況). Returns (repaired, how) or None.

    The bytes are recovered by re-encoding, realigned by dropping 0–3 leading bytes, and
    decoded again. Pairs that the first wrong decoding could not map were dropped by the
    site, so a few characters stay lost; a short line is then snapped to the known heading
    it is nearest to (at most two edits), and the repair says which way it was made."""
    stripped = strip_pinyin(line)[0].strip()
    symbols = _gbk_symbol_chars()
    if not stripped or len(stripped) > 60 or sum(ch in symbols for ch in stripped) < 1:
        return None
    # gb18030 round-trips the private-use characters that unmapped pairs decoded to
    raw = stripped.encode("gb18030", errors="replace")
    best = max((raw[k:].decode("gb18030", errors="replace") for k in range(4)), key=_quality)
    best = best.lstrip("?\ufffd .。")
    if _quality(best) <= _quality(stripped):
        return None
    snap = _nearest_heading(to_simplified(best))
    if snap is not None and snap[1] <= len(snap[0]) // 4:
        nearest, distance = snap
        return nearest, f"realigned GBK bytes, snapped to known heading ({distance} edits)"
    if "\ufffd" in best:
        return None
    return best, "realigned GBK bytes"


# --- chrome, spam, page furniture -------------------------------------------------------------

_SPAM_WORDS = ("无码", "精品", "中文字幕", "高清", "美女", "在线视频", "国产", "呦", "成人", "伦理", "日韩", "欧美", "彩票", "博彩", "百家乐", "娱乐城", "棋牌", "不卡", "一区二区", "av")
_CHROME_LINE = re.compile(
    r"^(?:当前位置|您现在的位置|您的位置|所在位置|首页\s*[>＞»]|信息来源|【?字体|视力保护色|打印本页|关闭窗口|分享到|扫一扫|"
    r"附件下载|附件[:：]?$|相关词条|热门词条|联络我们|联系我们$|触碰右侧展开|网站地图|版权所有|主办单位|返回顶部|上一篇|下一篇|"
    r"相关解读|相关链接|[×x]$|-{2,}$|【打印】|【关闭】)"
)
_CHROME_MAX_LINE = 120  # a longer line is report text with chrome inside, cut by span
_BREADCRUMB_SPAN = re.compile(r"^(?:当前位置|您现在的位置)[:： ].{0,400}?(?:相关链接[:：]?\s*-->|-->)\s*")
_BREADCRUMB_STARTS = ("当前位置", "您现在的位置")
_TRAILING_WORDS = ("附件下载", "打印本页", "关闭窗口")
_TRAILING_CHROME = re.compile(r"\s*(?:附件下载|打印本页|关闭窗口)\s*[:：]?\s*$")
_PAGE_NUMBER = re.compile(r"^\s*(?:[-－—]\s*\d{1,3}\s*[-－—]|第\s*\d{1,3}\s*页(?:\s*[,，/]?\s*共\s*\d{1,3}\s*页)?|\d{1,3}\s*/\s*\d{1,3})\s*$")
_ARCHIVE_HEADER = re.compile(r"^(?:标题|发布时间|文号|发布机构|栏目|原文链接|本地目录|页面链接与图片详见)[:：]?\s*(.*)$")
_ARCHIVE_BODY_MARK = re.compile(r"^=+\s*正文\s*=+$")


def _spam_words_in(text: str, words: tuple[str, ...] = _SPAM_WORDS) -> tuple[str, ...]:
    low = text.lower()
    return tuple(w for w in words if w in low)


def is_spam(line: str, words: tuple[str, ...] = _SPAM_WORDS) -> bool:
    """Three distinct spam words in one line. `words`: those the whole text holds (a word
    the text lacks is in none of its lines)."""
    return len(_spam_words_in(line, words)) >= 3


@dataclass
class Normalized:
    text: str
    repairs: list[dict] = field(default_factory=list)
    source_script: str = "simplified"
    header: dict[str, str] = field(default_factory=dict)  # site-archive metadata (标题, 发布时间 …)


_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")


def source_script(text: str) -> str:
    """simplified · traditional · mixed, by the share of CJK characters that t2s changes."""
    changed = count_traditional(text)
    if changed == 0:
        return "simplified"
    cjk = len(text) - len(_CJK_RUN.sub("", text))
    if cjk == 0:
        return "simplified"
    return "traditional" if changed / cjk >= 0.03 else "mixed"


def normalize(text: str) -> Normalized:
    """Normalize decoded report text; see the module docstring for the order of steps."""
    repairs: list[dict] = []
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    # pinyin first: it was inserted after the mojibake happened (區(qū) inside a garbled line)
    text, pinyin = strip_pinyin(text)
    if pinyin:
        repairs.append({"kind": "pinyin", "count": pinyin, "how": "removed pinyin annotations like 區(qū)"})

    lines = text.split("\n")
    # only a line that holds a GBK symbol can be repaired (repair_mojibake_line needs one)
    symbol = _symbol_regex().search
    suspects = [i for i, line in enumerate(lines) if symbol(line)] if symbol(text) else ()
    for i in suspects:
        line = lines[i]
        fixed = repair_mojibake_line(line)
        if fixed:
            lines[i] = fixed[0]
            repairs.append({"kind": "mojibake", "line": i + 1, "before": line.strip(), "after": fixed[0], "how": fixed[1]})
    text = "\n".join(lines)

    script = source_script(text)
    if script != "simplified":
        text = to_simplified(text)
        repairs.append({"kind": "t2s", "how": f"converted {script} script to simplified (OpenCC t2s)"})

    widened = unify_width(text)
    if widened != text:
        repairs.append({"kind": "width", "how": "unified full/half-width digits, letters and punctuation"})
    text = widened

    out: list[str] = []
    header: dict[str, str] = {}
    in_header = text.lstrip().startswith("标题")
    # tests that no line can pass are made once on the whole text
    spam_words = _spam_words_in(text)
    spam_words = spam_words if len(spam_words) >= 3 else ()
    trailing_possible = any(w in text for w in _TRAILING_WORDS)
    for n, line in enumerate(text.split("\n"), 1):
        line = line.strip()
        if not line:
            continue
        if in_header:
            m = _ARCHIVE_HEADER.match(line)
            if m:
                header[line.split(":")[0].split("：")[0]] = m.group(1).strip()
                repairs.append({"kind": "archive_header", "line": n, "before": line})
                continue
            in_header = False
            if _ARCHIVE_BODY_MARK.match(line):
                repairs.append({"kind": "archive_header", "line": n, "before": line})
                continue
        kind = _line_kind(line, spam_words)
        if kind:
            repairs.append({"kind": kind, "line": n, "before": line[:200]})
            continue
        cut = _BREADCRUMB_SPAN.sub("", line) if line.startswith(_BREADCRUMB_STARTS) else line
        if trailing_possible:
            cut = _TRAILING_CHROME.sub("", cut)
        if cut != line:
            repairs.append({"kind": "chrome", "line": n, "before": line[:200], "after": cut[:200]})
            line = cut
            if not line:
                continue
        out.append(line)
    return Normalized("\n".join(out), repairs, script, header)


def _line_kind(line: str, spam_words: tuple[str, ...] = _SPAM_WORDS) -> str | None:
    if _PAGE_NUMBER.match(line):
        return "page_number"
    if spam_words and len(line) <= _CHROME_MAX_LINE and is_spam(line, spam_words):
        return "spam"
    if len(line) <= _CHROME_MAX_LINE and _CHROME_LINE.match(line):
        return "chrome"
    return None
