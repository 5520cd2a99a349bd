"""Generated reports as the documents bodies publish: a PDF (reportlab, CID font STSong-Light)
and a Word .docx (python-docx), with the form's ruled tables as printed — merged label cells,
three header rows, a table that runs across a page break with its header repeated.

The tables are built once as a grid (``Grid``: cell texts and spans) and drawn by each
renderer, so both forms carry the same structure. The truth comes from ``generate``; these
renderers only change how it is printed. reportlab and python-docx are test/bench
dependencies, imported when a document is rendered.
"""

from __future__ import annotations

import io
import random
import re
from dataclasses import dataclass, field

from pipeline.form import FORM_2019, FORM_2021, FormSpec, canonical_label
from pipeline.devtools.generate import SECTION_TITLES, Generated, Truth, _fmt, _prose, make_values, PLACES, DISTRICTS, BODIES

DOCUMENT_KINDS = ("pdf", "docx")
_SECTIONS_2021 = {"regulations": "第二十条第（一）项", "licensing": "第二十条第（五）项", "penalties": "第二十条第（六）项", "fees": "第二十条第（八）项"}
_GROUPS = {"withheld": "（三）不予公开", "unavailable": "（四）无法提供", "rejected": "（五）不予处理", "other": "（六）其他处理"}
_APPLICANTS = ("商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他")


@dataclass
class Grid:
    """A ruled table: cells[r][c] is the text at a position ('' for an empty cell; positions
    covered by a span hold ''), spans are (row0, col0, row1, col1) inclusive, and the first
    `header_rows` rows repeat on each page the table runs onto."""
    cells: list[list[str]]
    spans: list[tuple[int, int, int, int]] = field(default_factory=list)
    header_rows: int = 0
    widths: list[float] | None = None  # relative column widths
    break_at: int | None = None  # PDF: the page breaks before this row (the header repeats after it)
    repeat_header: bool = True  # PDF: the header rows print again at the head of the continuation
    split_row: str = ""  # "" · "top" · "bottom": the row at the break itself breaks across the pages (Word's
    # "allow row to break across pages"), its label cut in two and its values on the top or the bottom part
    cut_label: str = "top"  # a merged label cut by the break prints on the top part, the bottom part, or cut in two

    def row(self, *cells: str) -> int:
        self.cells.append(list(cells))
        return len(self.cells) - 1

    def span(self, r0: int, c0: int, r1: int, c1: int) -> None:
        if (r0, c0) != (r1, c1):
            self.spans.append((r0, c0, r1, c1))


def _v(truth: Truth, blanks: set, key) -> str:
    return "" if key in blanks else _fmt(truth[key])


def active_grid(spec: FormSpec, truth: Truth, blanks: set) -> Grid:
    table = spec.tables["active_disclosure"]
    g = Grid([], widths=[2.2, 1.3, 1.3, 1.3])
    previous_cols = None
    for row in table.rows:
        cols = [c.key for c in table.columns_of(row)]
        title = _SECTIONS_2021.get(row.key) if spec.form_id == "2021" else None
        if title:
            g.span(g.row(title, "", "", ""), 0, len(g.cells) - 1, 3)
        if title or cols != previous_cols:
            labels = [canonical_label(spec.form_id, "active_disclosure", row.key, c)[1] for c in cols]
            r = g.row("信息内容", *labels, *[""] * (3 - len(labels)))
            g.span(r, len(labels), r, 3)
        values = [_v(truth, blanks, ("active_disclosure", row.key, c)) for c in cols]
        r = g.row(row.label, *values, *[""] * (3 - len(values)))
        g.span(r, len(values), r, 3)
        previous_cols = cols
    return g


def applications_grid(spec: FormSpec, truth: Truth, blanks: set) -> Grid:
    table = spec.tables["applications"]
    cols = [c.key for c in table.columns]
    g = Grid([], header_rows=3, widths=[0.5, 1.3, 2.4, *[0.6] * 7])
    g.row("（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", "", "", "申请人情况", *[""] * 6)
    g.row("", "", "", "自然人", "法人或其他组织", "", "", "", "", "总计")
    g.row("", "", "", "", *_APPLICANTS, "")
    g.spans += [(0, 0, 2, 2), (0, 3, 0, 9), (1, 3, 2, 3), (1, 4, 1, 8), (1, 9, 2, 9)]
    keys = [r.key for r in table.rows]
    results = keys[keys.index("granted"): keys.index("results_total") + 1]
    first_result = None
    group_start: dict[str, int] = {}
    for row in table.rows:
        values = [_v(truth, blanks, ("applications", row.key, c)) for c in cols]
        group = row.key.split("_")[0] if row.key.split("_")[0] in _GROUPS and row.key != "other_handling" else None
        if row.key not in results:
            r = g.row(row.label, "", "", *values)
            g.span(r, 0, r, 2)
            continue
        head = "三、本年度办理结果" if first_result is None else ""
        if group:
            label = _GROUPS[group] if group not in group_start else ""
            r = g.row(head, label, row.label, *values)
            group_start.setdefault(group, r)
        else:
            r = g.row(head, row.label, "", *values)
            g.span(r, 1, r, 2)
        if first_result is None:
            first_result = r
    for group, start in group_start.items():
        end = max(i for i, row in enumerate(table.rows) if row.key.startswith(group + "_")) + 3
        g.span(start, 1, end, 1)
    g.span(first_result, 0, first_result + len(results) - 1, 0)
    return g


def review_grid(spec: FormSpec, truth: Truth, blanks: set) -> Grid:
    table = spec.tables["review_litigation"]
    outcome = ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"]
    g = Grid([], header_rows=3)
    g.row("行政复议", *[""] * 4, "行政诉讼", *[""] * 9)
    g.row(*outcome, "未经复议直接起诉", *[""] * 4, "复议后起诉", *[""] * 4)
    g.row(*[""] * 5, *outcome, *outcome)
    g.row(*[_v(truth, blanks, ("review_litigation", r.key, c.key)) for r in table.rows for c in table.columns])
    g.spans += [(0, 0, 0, 4), (0, 5, 0, 14), (1, 5, 1, 9), (1, 10, 1, 14)] + [(1, c, 2, c) for c in range(5)]
    return g


def split_grid(g: Grid, at: int) -> tuple[Grid, Grid]:
    """The grid cut before row `at` as a paginated table prints: the header rows repeat on the
    second part, and a merged cell that crosses the cut continues there. Its label prints as
    Word prints it (``g.cut_label``): on the top part (the continuation empty), on the bottom
    part (a label centred in the merged cell falls below the break), or cut in two
    (（四）无 at the foot of one page, 法提供 at the head of the next)."""
    if g.split_row:
        g, at = _row_cut(g, at), at + 1
    h = g.header_rows
    top = Grid([list(r) for r in g.cells[:at]], [s for s in g.spans if s[0] < at], h, g.widths)
    top.spans = [(r0, c0, min(r1, at - 1), c1) for r0, c0, r1, c1 in top.spans]
    bottom = Grid([list(r) for r in g.cells[:h]] + [list(r) for r in g.cells[at:]], [s for s in g.spans if s[2] < h], h, g.widths)
    for r0, c0, r1, c1 in g.spans:
        if r1 >= at and r0 >= h:
            bottom.span(max(r0, at) - at + h, c0, r1 - at + h, c1)
            if r0 < at and c0 == c1 and g.cells[r0][c0]:
                label = g.cells[r0][c0]
                if g.cut_label == "bottom":
                    top.cells[r0][c0], bottom.cells[h][c0] = "", label
                elif g.cut_label == "cut":
                    cut = max(2, len(label) // 2)
                    top.cells[r0][c0], bottom.cells[h][c0] = label[:cut], label[cut:]
    if not g.repeat_header:
        bottom.cells = bottom.cells[h:]
        bottom.spans = [(r0 - h, c0, r1 - h, c1) for r0, c0, r1, c1 in bottom.spans if r0 >= h]
        bottom.header_rows = 0
    return top, bottom


_NUMBER_CELL = re.compile(r"^-?\d+(?:\.\d+)?$")


def _row_cut(g: Grid, at: int) -> Grid:
    """The grid with row `at` broken in two, as a row that breaks across pages prints: the
    first part of its label (and its values when ``split_row == "top"``) on the upper half,
    the rest on the lower half; cells merged over the row cover both halves."""
    value_cols = {j for r in g.cells[g.header_rows:] for j, c in enumerate(r) if _NUMBER_CELL.match(c)}
    row = g.cells[at]
    label_col = max(j for j, c in enumerate(row) if c and j not in value_cols)
    label = row[label_col]
    cut = max(2, len(label) // 2)
    upper, lower = list(row), ["" for _ in row]
    upper[label_col], lower[label_col] = label[:cut], label[cut:]
    if g.split_row == "bottom":
        for j in value_cols:
            upper[j], lower[j] = "", row[j]
    out = Grid([list(r) for r in g.cells[:at]] + [upper, lower] + [list(r) for r in g.cells[at + 1:]], [], g.header_rows, g.widths,
               None, g.repeat_header, "", g.cut_label)
    for r0, c0, r1, c1 in g.spans:
        if r0 == r1 == at:  # a label spanning columns on this row spans them on both halves
            out.span(at, c0, at, c1)
            out.span(at + 1, c0, at + 1, c1)
        else:
            out.span(r0 + (r0 > at), c0, r1 + (r1 >= at), c1)
    return out


@dataclass
class Document:
    """What a renderer draws: title, paragraphs and tables in order."""
    title: str
    blocks: list[str | Grid]


def document(spec: FormSpec, truth: Truth, organ: str, year: int, blanks: set, filler: int) -> Document:
    """The report in print order; `filler` paragraphs of prose before the applications table
    move where the page break falls inside it."""
    intro, body = _prose(organ, year, truth)
    more = [f"（{n}）政府信息管理情况。本机关严格落实信息发布审核制度，第{n}项工作按计划推进，及时更新政府信息公开指南和目录。" for n in range(1, filler + 1)]
    return Document(f"{organ}{year}年政府信息公开工作年度报告", [
        intro, SECTION_TITLES[0], body, *more, SECTION_TITLES[1], active_grid(spec, truth, blanks),
        SECTION_TITLES[2], applications_grid(spec, truth, blanks), SECTION_TITLES[3], review_grid(spec, truth, blanks),
        SECTION_TITLES[4], "一是政策解读形式不够丰富。下一步，将进一步加强培训。", SECTION_TITLES[5], "本年度未收取信息处理费。",
    ])


# --- PDF ---------------------------------------------------------------------------------------

def render_pdf(doc: Document) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    body = ParagraphStyle("body", fontName="STSong-Light", fontSize=11, leading=18, wordWrap="CJK")
    title = ParagraphStyle("title", parent=body, fontSize=16, leading=24, alignment=1)
    cell = ParagraphStyle("cell", fontName="STSong-Light", fontSize=7.5, leading=9.5, wordWrap="CJK", alignment=1)
    width = A4[0] - 40 * mm
    story = [Paragraph(doc.title, title), Spacer(1, 6)]
    for block in doc.blocks:
        if isinstance(block, str):
            story.append(Paragraph(block, body))
            continue
        parts = split_grid(block, block.break_at) if block.break_at else (block,)
        story.append(Spacer(1, 4))
        for n, part in enumerate(parts):
            if n:
                story.append(PageBreak())
            rel = part.widths or [1.0] * len(part.cells[0])
            data = [[Paragraph(text, cell) if text else "" for text in row] for row in part.cells]
            style = [("GRID", (0, 0), (-1, -1), 0.5, colors.black), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                     ("FONT", (0, 0), (-1, -1), "STSong-Light", 7.5)]
            style += [("SPAN", (c0, r0), (c1, r1)) for r0, c0, r1, c1 in part.spans]
            story.append(Table(data, colWidths=[width * w / sum(rel) for w in rel], style=TableStyle(style), repeatRows=part.header_rows))
        story.append(Spacer(1, 4))
    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm, topMargin=20 * mm, bottomMargin=20 * mm,
                      title=doc.title, author="govreport generator").build(story, onLaterPages=_page_number, onFirstPage=_page_number)
    return buf.getvalue()


def _page_number(canvas, doc) -> None:
    canvas.setFont("STSong-Light", 9)
    canvas.drawCentredString(canvas._pagesize[0] / 2, 25, f"- {doc.page} -")


# --- DOCX --------------------------------------------------------------------------------------

def render_docx(doc: Document) -> bytes:
    import docx
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    d = docx.Document()
    d.add_heading(doc.title, level=1)
    for block in doc.blocks:
        if isinstance(block, str):
            d.add_paragraph(block)
            continue
        table = d.add_table(rows=len(block.cells), cols=len(block.cells[0]))
        table.style = "Table Grid"
        for r0, c0, r1, c1 in block.spans:
            table.cell(r0, c0).merge(table.cell(r1, c1))
        covered = {(r, c) for r0, c0, r1, c1 in block.spans for r in range(r0, r1 + 1) for c in range(c0, c1 + 1) if (r, c) != (r0, c0)}
        for r, row in enumerate(block.cells):
            for c, text in enumerate(row):
                if text and (r, c) not in covered:
                    table.cell(r, c).text = text
        for r in range(block.header_rows):  # repeat the header on each page, as Word prints it
            tr_pr = table.rows[r]._tr.get_or_add_trPr()
            header = OxmlElement("w:tblHeader")
            header.set(qn("w:val"), "true")
            tr_pr.append(header)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def generate_document(rng: random.Random, index: int, kind: str, form: str | None = None, break_at: int | None = None,
                      split_row: str = "", cut_label: str = "top", repeat_header: bool = True) -> Generated:
    """One generated report rendered as a PDF or DOCX, with its truth (blank cells: None). The
    applications table breaks across pages before row `break_at` (random when None), printed
    as ``Grid.split_row`` / ``cut_label`` / ``repeat_header`` say."""
    form = form or rng.choice(("2019", "2021"))
    spec = FORM_2019 if form == "2019" else FORM_2021
    year = rng.choice((2019, 2020)) if form == "2019" else rng.randint(2021, 2024)
    organ = rng.choice(PLACES) + rng.choice(DISTRICTS) + rng.choice(BODIES)
    truth = make_values(rng, spec)
    blanks = {k for k, v in truth.items() if v == 0 and k[0] == "applications" and k[2] != "total" and rng.random() < 0.3} if rng.random() < 0.5 else set()
    doc = document(spec, truth, organ, year, blanks, filler=rng.randint(0, 3))
    apps = next(b for b in doc.blocks if isinstance(b, Grid) and b.header_rows == 3 and len(b.cells) > 10)
    apps.break_at = rng.randint(apps.header_rows + 1, len(apps.cells) - 1) if break_at is None else break_at
    apps.split_row, apps.cut_label, apps.repeat_header = split_row, cut_label, repeat_header
    data = render_pdf(doc) if kind == "pdf" else render_docx(doc)
    for key in blanks:
        truth[key] = None
    return Generated(f"d{index:06d}_{form}.{kind}", data, truth, form, kind, "simplified", kind, organ, year)


def break_positions(form: str) -> range:
    """Every row of the applications table a page break can fall before (after its header)."""
    spec = FORM_2019 if form == "2019" else FORM_2021
    return range(4, 3 + len(spec.tables["applications"].rows))


def sweep_page_breaks(forms=("2019", "2021"), modes=(("", "top"), ("", "cut"), ("top", "cut"), ("bottom", "cut"), ("top", "bottom")),
                      repeat=(True, False)) -> list[tuple]:
    """Every page-break position × way of printing the cut (row broken or not, label cut or
    not, header repeated or not): (form, position, split_row, cut_label, repeat_header, cells,
    cells not read right). ``make pdf-breaks`` prints it."""
    from pipeline.process import process_bytes

    out = []
    for form in forms:
        for at in break_positions(form):
            for split_row, cut_label in modes:
                for rep in repeat:
                    g = generate_document(random.Random(at), at, "pdf", form, at, split_row, cut_label, rep)
                    cells = {(c["table_name"], c["row_key"], c["column_key"]): c for c in process_bytes(g.data, g.name).cells}
                    bad = [k for k, v in g.truth.items() if cells[k]["how"] != "read" or cells[k]["value"] != v]
                    out.append((form, at, split_row, cut_label, rep, len(g.truth), bad))
    return out


def main() -> int:
    results = sweep_page_breaks()
    bad = [r for r in results if r[-1]]
    cells = sum(r[5] for r in results)
    print(f"{len(results)} generated PDFs (every break position × 5 ways of printing the cut × header repeated or not): "
          f"{cells - sum(len(r[-1]) for r in results)} of {cells} cells read right; {len(bad)} PDFs with a cell not read right")
    for r in bad[:20]:
        print("  ", r[:5], len(r[-1]), r[-1][:3])
    return 1 if bad else 0


# --- converter Markdown, scrambled -----------------------------------------------------------

SCRAMBLES = ("split", "generic_headers", "page_numbers", "displaced", "wrapped")


def render_markdown(spec: FormSpec, truth: Truth, organ: str, year: int, rng: random.Random,
                    scrambles: tuple[str, ...] = SCRAMBLES) -> str:
    """The report as a PDF-to-Markdown converter leaves it: the tables' label column lost into
    plain lines that stand up to two lines away from their value rows (`displaced`), long labels
    wrapped (`wrapped`), one table cut into several (`split`), header rows named 数据1 … 数据n
    (`generic_headers`), page numbers between rows (`page_numbers`). The value rows keep the
    form's order — that is what a careful reader (and ``scrambled.py``) relies on."""
    intro, body = _prose(organ, year, truth)
    out = [f"# {organ}{year}年政府信息公开工作年度报告", "", intro, "", f"## {SECTION_TITLES[0]}", "", body, ""]
    page = [rng.randint(1, 3)]

    def table_block(labels: list[str], rows: list[list[str]], head: list[str]) -> list[str]:
        width = max(len(r) for r in rows)
        header = [f"数据{i}" for i in range(1, width + 1)] if "generic_headers" in scrambles else (head + [""] * width)[:width]

        def md_head() -> list[str]:
            return ["| " + " | ".join(header) + " |", "|" + "---|" * width]

        items: list[tuple[tuple[int, int, int], str]] = []
        for i, (label, row) in enumerate(zip(labels, rows)):
            shift = rng.choice((-2, -1, 0, 1, 2)) if "displaced" in scrambles else 0
            parts = [label]
            if "wrapped" in scrambles and len(label) > 10 and rng.random() < 0.5:
                cut = rng.randint(4, len(label) - 4)
                parts = [label[:cut], label[cut:]]
            # the label stands before value row i+shift (up to two rows away from its own)
            items.append(((max(i + shift, 0), 0, i), "\n".join(parts)))
            items.append(((i, 1, i), "| " + " | ".join(row) + " |"))
        items.sort(key=lambda x: x[0])
        lines = md_head()
        in_table = True
        for n, (_, text) in enumerate(items):
            is_row = text.startswith("|")
            if is_row and not in_table:
                lines += [""] + (md_head() if "split" in scrambles else [])
                in_table = True
            if not is_row:
                if in_table:
                    lines.append("")
                in_table = False
            lines.extend(text.split("\n"))
            if is_row and "page_numbers" in scrambles and rng.random() < 0.06:
                page[0] += 1
                lines.append(rng.choice((f"- {page[0]} -", str(page[0]), f"第{page[0]}页")))
            if is_row and "split" in scrambles and rng.random() < 0.1 and n < len(items) - 1:
                lines += ["", *md_head()]
        return lines + [""]

    act = spec.tables["active_disclosure"]
    a_labels = [r.label for r in act.rows]
    a_rows = [[_fmt(truth[("active_disclosure", r.key, c.key)]) for c in act.columns_of(r)] for r in act.rows]
    out += [f"## {SECTION_TITLES[1]}", ""] + table_block(a_labels, a_rows, ["信息内容"])
    apps = spec.tables["applications"]
    p_labels = [r.label for r in apps.rows]
    p_rows = [[_fmt(truth[("applications", r.key, c.key)]) for c in apps.columns_of(r)] for r in apps.rows]
    out += [f"## {SECTION_TITLES[2]}", ""] + table_block(p_labels, p_rows, ["自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计"])
    rev = spec.tables["review_litigation"]
    review = [_fmt(truth[("review_litigation", r.key, c.key)]) for r in rev.rows for c in rev.columns]
    out += [f"## {SECTION_TITLES[3]}", "", "| 行政复议 | | | | | 行政诉讼 |", "|---|---|---|---|---|---|",
            "| " + " | ".join(["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"] * 3) + " |", "| " + " | ".join(review) + " |", ""]
    out += [f"## {SECTION_TITLES[4]}", "", "一是政策解读形式不够丰富。", "", f"## {SECTION_TITLES[5]}", "", "本年度未收取信息处理费。"]
    return "\n".join(out) + "\n"


def generate_markdown(rng: random.Random, index: int, form: str | None = None, scrambles: tuple[str, ...] = SCRAMBLES) -> Generated:
    """One generated report as scrambled converter Markdown, with its truth."""
    form = form or rng.choice(("2019", "2021"))
    spec = FORM_2019 if form == "2019" else FORM_2021
    year = rng.choice((2019, 2020)) if form == "2019" else rng.randint(2021, 2024)
    organ = rng.choice(PLACES) + rng.choice(DISTRICTS) + rng.choice(BODIES)
    truth = make_values(rng, spec)
    text = render_markdown(spec, truth, organ, year, rng, scrambles)
    return Generated(f"m{index:06d}_{form}.md", text.encode("utf-8"), truth, form, "markdown", "simplified", "utf-8", organ, year)


if __name__ == "__main__":
    raise SystemExit(main())
