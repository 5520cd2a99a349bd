"""Tables a PDF-to-Markdown converter scrambled: the label column lost into plain lines that
stand a line or two away from their numbers, one table cut into many, header rows named
数据1 … 数据n, page numbers between rows, labels wrapped over two lines.

What survives is the order: the value-only rows (``| 12 | 0 | 3 |``) still come in the form's
row order. So, for a table whose region holds value-only rows:

* when they are exactly as many as the form's rows, each as wide as its row, they are assigned
  in form order — and the assignment is accepted only when the identities confirm it (every
  instance holds), or, for a table without identities (主动公开), when every row label of the
  form is printed in the region (wrapped labels joined);
* otherwise the table's cells become ``unresolved``, each with the value rows of its width
  that could be its own as candidates — never a guess.

Plain lines holding one number are page numbers, not value rows (a value row keeps its pipes).
"""

from __future__ import annotations

import re
from decimal import Decimal

from pipeline.extract.cells import Cell, TableResult
from pipeline.form import TableSpec
from pipeline.identities import evaluate_table

_ROW = re.compile(r"^[ \t]*\|(.*)\|[ \t]*$", re.M)
_NUMBER = re.compile(r"^[-+]?\d+(?:\.\d+)?$")
_BLANK = {"-", "/", "—", "－", "／", "–"}
MIN_SHARE = 0.6  # value-only rows for at least this share of the form's rows: the layout is scrambled
_NEAR = 2  # a label stands at most this many rows from its numbers


def value_rows(text: str, start: int, end: int) -> list[tuple[int, list[str]]]:
    """(offset, cells) of every pipe row in the region whose cells are all numbers or blanks."""
    out = []
    for m in _ROW.finditer(text, start, end):
        cells = [c.strip() for c in m.group(1).split("|")]
        while cells and cells[-1] == "":
            cells.pop()
        if cells and all(_NUMBER.match(c) or c in _BLANK for c in cells) and any(_NUMBER.match(c) for c in cells):
            out.append((m.start(1), cells))
    return out


# The heading that really ends a table's section. A wrapped row label can look like a section
# heading (四、结转 | 下年度继续办理), which cuts the region short; its value rows lie beyond.
_NEXT_SECTION = {
    "active_disclosure": re.compile(r"^[#\s]*三、\s*收到和处理", re.M),
    "applications": re.compile(r"^[#\s]*四、[^\n]{0,12}(?:复议|诉讼)", re.M),
}


def true_end(text: str, start: int, end: int, table: TableSpec) -> int:
    pattern = _NEXT_SECTION.get(table.name)
    if pattern is None or pattern.match(text, end):
        return end
    m = pattern.search(text, start)
    return m.start() if m and m.start() > end else end


def looks_scrambled(text: str, start: int, end: int, table: TableSpec) -> bool:
    return len(value_rows(text, start, true_end(text, start, end, table))) >= MIN_SHARE * len(table.rows)


def assign(text: str, start: int, end: int, table: TableSpec) -> TableResult:
    """The table read from its value rows in form order, or its cells unresolved with
    candidates when the rows do not fit or the identities do not confirm them."""
    rows = value_rows(text, start, end)
    widths = [len(table.columns_of(r)) for r in table.rows]
    if [len(c) for _, c in rows] == widths:
        cells = _cells(table, rows)
        confirmed, why = _confirmed(text, start, end, table, cells)
        if confirmed:
            return TableResult(table.name, True, cells, [f"scrambled layout: {len(rows)} value rows assigned in form order ({why})"])
        note = f"scrambled layout: {len(rows)} value rows fit the form's rows but {why}"
    else:
        note = f"scrambled layout: {len(rows)} value rows for the form's {len(widths)} rows"
    return TableResult(table.name, True, _unresolved(table, rows, note), [note])


def _cells(table: TableSpec, rows: list[tuple[int, list[str]]]) -> list[Cell]:
    out = []
    for row, (offset, values) in zip(table.rows, rows):
        for col, raw in zip(table.columns_of(row), values):
            value = Decimal(raw) if _NUMBER.match(raw) else None
            out.append(Cell(table.name, row.key, col.key, value, raw, offset, "read", [], "assigned in form order (scrambled layout)"))
    return out


def _confirmed(text: str, start: int, end: int, table: TableSpec, cells: list[Cell]) -> tuple[bool, str]:
    grid = {(c.row_key, c.column_key): c.value for c in cells}
    results = evaluate_table(table, grid, blanks=set())
    if results:
        bad = [r for r in results if r.status != "ok"]
        return (not bad, f"{len(results)} identity instances hold" if not bad else f"{len(bad)} of {len(results)} identity instances do not hold")
    region = re.sub(r"\s+", "", text[start:end])
    missing = [r.label for r in table.rows if not re.search(r.anchor, region)]
    return (not missing, "every row label is printed" if not missing else f"row labels not found: {', '.join(missing[:3])}")


def _unresolved(table: TableSpec, rows: list[tuple[int, list[str]]], note: str) -> list[Cell]:
    out = []
    for i, row in enumerate(table.rows):
        cols = table.columns_of(row)
        near = [v for j, (_, v) in enumerate(rows) if abs(j - i) <= _NEAR and len(v) == len(cols)]
        offset = rows[min(i, len(rows) - 1)][0] if rows else None
        for k, col in enumerate(cols):
            cands = list(dict.fromkeys(v[k] for v in near))
            out.append(Cell(table.name, row.key, col.key, None, None, offset, "unresolved", cands, note))
    return out


def prefer(normal: TableResult, text: str, start: int, end: int, table: TableSpec) -> TableResult:
    """For a region that looks scrambled: the form-order assignment when it is confirmed; the
    ordinary reading when every cell was read and the identities confirm it; else unresolved."""
    attempt = assign(text, start, true_end(text, start, end, table), table)
    if all(c.how == "read" for c in attempt.cells):
        return attempt
    if all(c.how in ("read", "split") for c in normal.cells):
        results = evaluate_table(table, {(c.row_key, c.column_key): c.value for c in normal.cells}, blanks=set())
        if results and all(r.status == "ok" for r in results):
            return normal
    return attempt
