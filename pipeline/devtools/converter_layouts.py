"""A second generator of converter Markdown, from what real converter output shows
(wild/shanghai_office_2025_md.txt) and the OCR-Markdown variant (table 三 cut into many small
tables headed 数据1 … 数据n): the reader (``extract/converter.py``) was not written against these
rules' combinations, so they measure it on layouts it has never seen.

Each rule is one thing a converter was seen to do to a ruled table; a layout draws each rule
per row with its own probability, so no two documents are laid out alike:

* ``plain_rows``     — 主动公开 rows printed as plain ``label value`` lines outside any table;
* ``pulled_cells``   — a docs row loses its 本年废止 cell, printed as loose lines above the table
                       (``55`` / ``（含自然失效 29 件）``), the row keeping two numbers;
* ``mangled_header`` — header rows cut into fragments (``| 等于第三项加第四项之和） | 自然人 | 商业 |``);
* ``group_fragment`` — a group label cut in two, the pieces in the first cell of unrelated rows
                       (``| （三）不 | 4.保护第三方合法权益 | …``, ``| 予公开 | 5.属于… | …``);
* ``empty_cell``     — an extra empty cell at the end of a row;
* ``orphan``         — the label leaves its row and floats above it as plain lines, maybe wrapped;
* ``cut_label``      — only a piece of the label stays in the row (``行政机关不再处理其政府信息公``);
* ``split_label``    — the label split over two cells (``| 缴纳费用、 | 行政机关不再处理其政 | 0 …``);
* ``page_lines``     — page-number lines (``— 5 —``) between rows and inside tables;
* ``many_tables``    — the table cut into small tables, headed 数据1 … 数据n (OCR) or repeated titles;
* ``heading_bits``   — the row-group heading 三、本年度办理结果 as fragments between tables;
* ``lost_headings``  — the section headings 二、三、四 lost (as images, or in a running header).

The truth is every cell, except the cells a pulled-out row leaves open (its 本年废止, which the
text cannot place): those are returned in ``open_cells`` and must not be read.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from pipeline.devtools.generate import BODIES, DISTRICTS, PLACES, SECTION_TITLES, Truth, _fmt, _prose, make_values
from pipeline.form import FORM_2019, FORM_2021, FormSpec

RULES = ("plain_rows", "pulled_cells", "mangled_header", "group_fragment", "empty_cell", "orphan", "cut_label",
         "split_label", "page_lines", "many_tables", "heading_bits", "lost_headings")
_GROUP_LABELS = {"withheld": "（三）不予公开", "unavailable": "（四）无法提供", "rejected": "（五）不予处理", "other": "（六）其他处理"}
_HEADER_BITS = ("申请人情况", "法人或其他组织", "（本列数据的勾稽关系为：第一项加第二项之和，", "等于第三项加第四项之和）",
                "自然人", "商业", "企业", "科研", "机构", "社会", "公益", "组织", "法律", "服务", "其他", "总计")


@dataclass
class ConverterDoc:
    name: str
    data: bytes
    truth: Truth
    open_cells: set = field(default_factory=set)
    form: str = "2021"
    rules: tuple[str, ...] = RULES


class _Writer:
    """Lines of the document with page-number lines dropped in at random."""

    def __init__(self, rng: random.Random, rules: tuple[str, ...]):
        self.rng, self.rules, self.lines, self.page = rng, rules, [], rng.randint(1, 4)

    def add(self, *lines: str) -> None:
        for line in lines:
            self.lines.append(line)
            if "page_lines" in self.rules and self.rng.random() < 0.07:
                self.page += 1
                self.lines.append(self.rng.choice((f"— {self.page} —", f"- {self.page} -", f"第{self.page}页", f"{self.page}")))


def _cells(values: list[str]) -> str:
    return "| " + " | ".join(values) + " |"


def _table_start(w: _Writer, width: int, title: str) -> None:
    rng = w.rng
    if "many_tables" in w.rules and rng.random() < 0.5:
        w.add("", _cells([f"数据{i}" for i in range(1, width + 1)]), "|" + "---|" * width)
    else:
        w.add("", f"## {title}", _cells(["" for _ in range(width)]), "|" + "---|" * width)


def _active(w: _Writer, spec: FormSpec, truth: Truth, open_cells: set) -> None:
    rng, rules = w.rng, w.rules
    table = spec.tables["active_disclosure"]
    piped, loose = [], []
    for row in table.rows:
        cols = table.columns_of(row)
        values = [_fmt(truth[("active_disclosure", row.key, c.key)]) for c in cols]
        if len(cols) == 1 and "plain_rows" in rules and rng.random() < 0.7:
            w.add("信息内容" + cols[0].label if rng.random() < 0.5 else "信息内容", f"{row.label} {values[0]}")
            continue
        if (spec.form_id == "2021" and len(cols) == 3 and "pulled_cells" in rules and rng.random() < 0.5):
            loose.append((values[1], rng.choice(("含自然失效", "其中修订", "含废止"))))
            open_cells.add(("active_disclosure", row.key, cols[1].key))
            values = [values[0], values[2]]
        piped.append((row.label, values))
    for value, note in loose:
        w.add(value, f"（{note} {rng.randint(1, 9)} 件）")
    width = 1 + max(len(v) for _, v in piped) if piped else 4
    for label, values in piped:
        _table_start(w, width, "表二：主动公开政府信息情况") if rng.random() < 0.6 or label == piped[0][0] else None
        w.add(_cells([label, *values]))


def _applications(w: _Writer, spec: FormSpec, truth: Truth) -> None:
    rng, rules = w.rng, w.rules
    table = spec.tables["applications"]
    if "mangled_header" in rules:
        w.add("申请人情况", "法人或其他组织")
        bits = rng.sample(_HEADER_BITS, 5)
        w.add("", _cells(bits), "|" + "---|" * len(bits))
    _table_start(w, 8, "表三：收到和处理政府信息公开申请情况")
    fragments: list[str] = []
    seen_groups: set[str] = set()
    results_started = False
    for i, row in enumerate(table.rows):
        values = [_fmt(truth[("applications", row.key, c.key)]) for c in table.columns]
        group = row.key.split("_")[0]
        if group in _GROUP_LABELS and row.key != "other_handling" and group not in seen_groups:
            seen_groups.add(group)
            g = _GROUP_LABELS[group]
            if "group_fragment" in rules and rng.random() < 0.6:
                cut = rng.randint(3, len(g) - 2)
                fragments = [g[:cut], g[cut:]]
            else:
                w.add("", g[:4], g[4:])  # floating, as the real file prints （四）无 …
        if row.key == "granted" and not results_started:
            results_started = True
            if "heading_bits" in rules:
                w.add("", "三、本年", "度办", "理结果")
        label_cells = [row.label]
        r = rng.random()
        if "orphan" in rules and r < 0.15:
            label = row.label
            if len(label) > 10 and rng.random() < 0.5:
                cut = rng.randint(4, len(label) - 4)
                w.add("", label[:cut], label[cut:])
            else:
                w.add("", label)
            label_cells = []
            if "many_tables" in rules or rng.random() < 0.5:
                _table_start(w, 8, "表三：收到和处理政府信息公开申请情况")
        elif "cut_label" in rules and r < 0.3 and len(row.label) > 8:
            a = rng.randint(0, 3)
            b = rng.randint(max(a + 6, len(row.label) - 5), len(row.label))
            label_cells = [row.label[a:b]]
        elif "split_label" in rules and r < 0.45 and len(row.label) > 8:
            cut = rng.randint(3, len(row.label) - 3)
            label_cells = [row.label[:cut], row.label[cut:]]
        if fragments and label_cells and rng.random() < 0.7:
            label_cells = [fragments.pop(0), *label_cells]
        cells = [*label_cells, *values]
        if "empty_cell" in rules and rng.random() < 0.3:
            cells.append("")
        if "many_tables" in rules and rng.random() < 0.15 and i:
            _table_start(w, len(cells), "表三：收到和处理政府信息公开申请情况")
        w.add(_cells(cells))


def _review(w: _Writer, spec: FormSpec, truth: Truth) -> None:
    table = spec.tables["review_litigation"]
    values = [_fmt(truth[("review_litigation", r.key, c.key)]) for r in table.rows for c in table.columns]
    w.add("行政复议行政诉讼", "未经复议直接起诉复议后起诉", "结果结果其他尚未", "总计结果结果其他尚未结果结果其他尚未",
          "维持纠正结果审结维持纠正结果审结", "", _cells(["维持", "纠正", "结果", "审结", "总计", "总计"]), "|---|---|---|---|---|---|",
          _cells(values), "")


def generate(rng: random.Random, index: int, form: str | None = None, rules: tuple[str, ...] = RULES) -> ConverterDoc:
    """One report as converter Markdown laid out by `rules`, with its truth and open cells."""
    form = form or rng.choice(("2019", "2021"))
    spec = FORM_2019 if form == "2019" else FORM_2021
    year = rng.choice((2019, 2020)) if form == "2019" else rng.randint(2021, 2025)
    organ = rng.choice(PLACES) + rng.choice(DISTRICTS) + rng.choice(BODIES)
    truth = make_values(rng, spec)
    intro, body = _prose(organ, year, truth)
    w = _Writer(rng, rules)
    w.add("正文", f"{year} 年{organ}政府信息公开", "工作年度报告", intro, "", SECTION_TITLES[0], body, "")
    open_cells: set = set()
    lost = "lost_headings" in rules and rng.random() < 0.5
    w.add("" if lost else SECTION_TITLES[1])
    _active(w, spec, truth, open_cells)
    w.add("", "" if lost else SECTION_TITLES[2])
    _applications(w, spec, truth)
    w.add("", "" if lost else SECTION_TITLES[3])
    _review(w, spec, truth)
    w.add(SECTION_TITLES[4], "一是政策解读形式不够丰富。", "", SECTION_TITLES[5], "本年度未收取信息处理费。")
    text = "\n".join(w.lines) + "\n"
    return ConverterDoc(f"c{index:06d}_{form}.md", text.encode("utf-8"), truth, open_cells, form, rules)


def score(doc: ConverterDoc, cells: list[dict]) -> dict[str, int]:
    """right · wrong (read, not the truth: a silent error) · open_read (an open cell read) ·
    unresolved · missing, over the truth's certain cells."""
    got = {(c["table_name"], c["row_key"], c["column_key"]): c for c in cells}
    out = {"cells": 0, "right": 0, "wrong": 0, "open_read": 0, "unresolved": 0, "missing": 0}
    for k, v in doc.truth.items():
        c = got.get(k)
        read = c is not None and c["how"] in ("read", "split")
        if k in doc.open_cells:
            out["open_read"] += read
            continue
        out["cells"] += 1
        if read and c["value"] == v:
            out["right"] += 1
        elif read:
            out["wrong"] += 1
        elif c is not None and c["how"] == "unresolved":
            out["unresolved"] += 1
        else:
            out["missing"] += 1
    return out


def main(argv: list[str] | None = None) -> int:
    import argparse

    from pipeline.process import process_bytes

    ap = argparse.ArgumentParser(description="converter-Markdown layouts the reader was not written against: cells right, silent errors")
    ap.add_argument("--docs", type=int, default=300)
    ap.add_argument("--seed", type=int, default=2025)
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    totals: dict[str, int] = {}
    per_rule: dict[str, list[int]] = {}
    for i in range(args.docs):
        rules = tuple(r for r in RULES if rng.random() < 0.7)
        doc = generate(rng, i, rules=rules)
        s = score(doc, process_bytes(doc.data, doc.name).cells)
        for k, v in s.items():
            totals[k] = totals.get(k, 0) + v
        for r in rules:
            acc = per_rule.setdefault(r, [0, 0, 0])
            acc[0] += s["cells"]
            acc[1] += s["right"]
            acc[2] += s["wrong"] + s["open_read"]
    print(f"{args.docs} documents, {totals['cells']} certain cells: {totals['right']} right "
          f"({100 * totals['right'] / totals['cells']:.2f} %), {totals['wrong']} wrong, {totals['open_read']} open cells read, "
          f"{totals['unresolved']} unresolved, {totals['missing']} missing")
    for r, (cells, right, wrong) in per_rule.items():
        print(f"  with {r:15s} {100 * right / cells:6.2f} % right, {wrong} wrong")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
