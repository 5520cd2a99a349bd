"""What a report is: issuing organ, report year, form version, title and its six sections.

The organ and year come from the title line when there is one, from the sentence that
publishes the report when there is not (seed 001: 现将红谷滩区政府办2023年政府信息公开工作年度报告
向社会公布), or from a title split over two lines (PDF text: 淮安市洪泽区人民政府 / 2024 年…).
The form version comes from the tables' own labels, never from the year alone: bodies lag.
When there are no tables to read, the form is taken from the format notice the report cites,
else from the year, and ``form_basis`` says which.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_REPORT = r"政府信息公开(?:工作)?(?:年度)?(?:工作)?报告"
_TITLE_ORGAN_FIRST = re.compile(rf"^(?:标题[:：])?\s*(?P<organ>[^\s，。；：:]{{2,40}}?)\s*(?P<year>(?:19|20)\d{{2}})\s*年度?\s*{_REPORT}", re.M)
_TITLE_YEAR_FIRST = re.compile(rf"^(?P<year>(?:19|20)\d{{2}})\s*年度?\s*(?P<organ>[^\s，。；：:]{{2,40}}?){_REPORT}", re.M)
_TITLE_YEAR_ONLY = re.compile(rf"^(?P<year>(?:19|20)\d{{2}})\s*年度?\s*{_REPORT}\s*$", re.M)
_IN_SENTENCE = re.compile(rf"(?:现将|现公布|现予公布|特发布|现发布|公布)(?P<organ>[^，。；、\s《》]{{2,40}}?)(?P<year>(?:19|20)\d{{2}})\s*年度?\s*{_REPORT}")
_PERIOD = re.compile(r"(?P<year>(?:19|20)\d{2})\s*年\s*1\s*月\s*1\s*日\s*(?:起)?\s*(?:至|到|-|—)")
_ORGAN_LINE = re.compile(r"^[\u4e00-\u9fff（）()]{2,30}$")

FORM_2019_MARKERS = ("第二十条第（九）项", "政府集中采购", "本年新制作数量", "上一年项目数量", "本年增/减", "对外公开总数量", "本年新公开数量")
FORM_2021_MARKERS = ("本年制发件数", "现行有效件数", "本年废止件数", "逾期不补正", "逾期未按收费", "本年收费金额", "本年处理决定数量")
TABLE_MARKERS = ("本年新收", "上年结转", "结转下年度", "未经复议直接起诉", "复议后起诉", "第二十条第", "予以公开")
FORM_SECTION_MARKERS = ("收到和处理政府信息公开申请情况", "政府信息公开行政复议、行政诉讼情况", "政府信息公开行政复议和行政诉讼情况")

_NUMERALS = "一二三四五六"
_NOT_SECTION = re.compile(r"^(?:本年新收|上年结转|本年度办理结果|结转下年度)")
_SECTION_TITLE_END = re.compile(r"(?:情况|事项|措施|概述|问题)")


@dataclass(frozen=True)
class Section:
    number: int
    title: str
    start: int  # character offset in the normalized text
    end: int


@dataclass
class ReportMeta:
    organ: str | None = None
    year: int | None = None
    title: str | None = None
    form: str = "legacy"
    form_basis: str = "none"  # tables · citation · year · none
    sections: list[Section] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    not_report: str | None = None  # why the document is not an annual report (a letter, a notice)


def _clean_organ(organ: str) -> str:
    organ = re.sub(r"^(?:关于|《|“)", "", organ.strip())
    return organ.rstrip("的《“ ")


def find_title(text: str, header: dict[str, str]) -> tuple[str | None, str | None, int | None, str]:
    """(title, organ, year, how) from the head of the text; how names the rule that fired."""
    head = text[:4000]
    if header.get("标题"):
        m = _TITLE_ORGAN_FIRST.match(header["标题"]) or _TITLE_YEAR_FIRST.match(header["标题"])
        if m:
            return header["标题"], _clean_organ(m.group("organ")), int(m.group("year")), "archive header"
    for rx, how in ((_TITLE_ORGAN_FIRST, "title line"), (_TITLE_YEAR_FIRST, "title line")):
        m = rx.search(head)
        if m:
            line = head[m.start(): head.find("\n", m.start()) if "\n" in head[m.start():] else len(head)]
            return line.strip(), _clean_organ(m.group("organ")), int(m.group("year")), how
    m = _TITLE_YEAR_ONLY.search(head)
    if m:
        before = head[: m.start()].rstrip("\n").split("\n")
        prev = before[-1].strip() if before else ""
        if _ORGAN_LINE.match(prev):
            return f"{prev}{m.group(0).strip()}", prev, int(m.group("year")), "title over two lines"
    wrapped = _wrapped_title(head)
    if wrapped:
        return wrapped
    m = _IN_SENTENCE.search(text[:20000])
    if m:
        return None, _clean_organ(m.group("organ")), int(m.group("year")), "publishing sentence"
    return None, None, None, "none"


_TITLE_TAIL = re.compile(rf"^\s*[\u4e00-\u9fff\s]{{1,20}}$")
_ENDS_REPORT = re.compile(rf"{_REPORT}\s*$")


def _wrapped_title(head: str) -> tuple[str, str, int, str] | None:
    """A title wrapped over two lines (2024 年上海市科委政府信息公开工作 / 年度报告): two lines
    of the head that, joined, are a whole title ending the line in 报告."""
    lines = head.split("\n")[:40]
    for first, second in zip(lines, lines[1:]):
        if not _TITLE_TAIL.match(second) or not re.search(r"(?:19|20)\d{2}", first):
            continue
        joined = first.strip() + second.strip()
        if not _ENDS_REPORT.search(joined):
            continue
        m = _TITLE_ORGAN_FIRST.match(joined) or _TITLE_YEAR_FIRST.match(joined)
        if m:
            return joined, _clean_organ(m.group("organ")), int(m.group("year")), "title wrapped over two lines"
    return None


def find_sections(text: str) -> list[Section]:
    """The numbered top-level sections (一、…六、), searched in order so that a table row
    such as 四、结转下年度继续办理 is never taken for section 四."""
    found: list[tuple[int, str, int]] = []
    pos = 0
    for n, numeral in enumerate(_NUMERALS, 1):
        for m in re.finditer(rf"{numeral}\s*、\s*", text[pos:]):
            start = pos + m.start()
            after = text[pos + m.end(): pos + m.end() + 40]
            if _NOT_SECTION.match(after) or not re.match(r"[\u4e00-\u9fff]", after):
                continue
            line_end = after.find("\n")
            title = after if line_end < 0 else after[:line_end]
            end = _SECTION_TITLE_END.search(title)
            title = title[: end.end()] if end else title[:20]
            found.append((n, f"{numeral}、{title.strip()}", start))
            pos = start + 1
            break
    sections = []
    for i, (n, title, start) in enumerate(found):
        end = found[i + 1][2] if i + 1 < len(found) else len(text)
        sections.append(Section(n, title, start, end))
    return sections


def detect_form(text: str, year: int | None) -> tuple[str, str]:
    """(form id, basis). Table labels decide; without tables, the cited format notice, then
    the year, decide between the two standard forms; with neither tables nor the standard
    section titles the report is legacy."""
    n2019 = sum(m in text for m in FORM_2019_MARKERS)
    n2021 = sum(m in text for m in FORM_2021_MARKERS)
    ntable = sum(m in text for m in TABLE_MARKERS)
    if n2019 >= 2 and n2019 > n2021:
        return "2019", "tables"
    if n2021 >= 2 or (ntable >= 3 and n2021 >= 1):
        return "2021", "tables"
    if ntable >= 3:
        return ("2021" if (year or 0) >= 2021 else "2019"), "tables (year decided the version)"
    if any(m in text for m in FORM_SECTION_MARKERS):
        if "〔2021〕30号" in text:
            return "2021", "citation"
        if "〔2019〕60号" in text:
            return "2019", "citation"
        if year:
            return ("2021" if year >= 2021 else "2019"), "year"
    return "legacy", "no standard tables"


_LETTER_TITLE = re.compile(r"^\s*(?:关于|转发|印发)[^\n]{2,80}?(?:的)?(?:通知|函|复函|请示|批复|意见|通报|公告)\s*$", re.M)
_SALUTATION = re.compile(r"^[^\n，。]{2,40}[：:]\s*$", re.M)


def not_a_report(text: str, meta: ReportMeta, how: str) -> str | None:
    """Why a document filed as an annual report is not one, or None. Only a document without
    tables is judged: a letter or notice by its title (关于…的通知/函 heading the text), or a
    text with no report title, no publishing sentence and no statistics period. A pre-2019
    report in prose keeps its title and period, so it stays a (legacy) report."""
    if meta.form != "legacy" or sum(m in text for m in TABLE_MARKERS) >= 2:
        return None
    head = text[:600]
    first = next((ln.strip() for ln in head.split("\n") if ln.strip()), "")
    m = _LETTER_TITLE.match(first)
    if m:
        kind = re.search(r"(?:通知|复函|函|请示|批复|意见|通报|公告)\s*$", first).group(0)
        return f"not an annual report: a {kind} (title {first[:60]}), no tables"
    if how == "none" and not _PERIOD.search(text):
        salutation = _SALUTATION.search(head)
        shape = f", addressed to {salutation.group(0).strip()[:30]}" if salutation else ""
        return f"not an annual report: no report title, no statistics period, no tables{shape}"
    return None


def read_meta(text: str, header: dict[str, str] | None = None) -> ReportMeta:
    """Organ, year, title, form and sections of a normalized report."""
    meta = ReportMeta()
    meta.title, meta.organ, meta.year, how = find_title(text, header or {})
    if meta.year is None:
        m = _PERIOD.search(text)
        if m:
            meta.year = int(m.group("year"))
            how = "statistics period"
    meta.notes.append(f"organ/year from {how}")
    meta.form, meta.form_basis = detect_form(text, meta.year)
    meta.sections = find_sections(text)
    meta.not_report = not_a_report(text, meta, how)
    if meta.not_report:
        meta.form_basis = "not an annual report"
    return meta
