"""Tables as PDF-to-Markdown converters really leave them (wild/shanghai_office_2025_md.txt):
value rows that keep some of their label, some of someone else's, or none.

What a converter does to a ruled table, and what survives:

* a row's label may be whole (``| 1.属于国家秘密 | 4 | … |``), cut (``行政机关不再处理其政府信息公``),
  split over two cells (``| 缴纳费用、 | 行政机关不再处理其政 | 0 | …``), prefixed by a fragment of a
  group label (``| （三）不 | 4.保护第三方合法权益 | …``), or gone (an *orphan* value row);
* page-number lines, floating label lines, header rows and empty cells stand between rows;
* a table is cut into many small ones, some rows printed as plain ``label value`` lines;
* a multi-line cell is pulled out of its row as loose lines (``22`` / ``（其中修订 16 件）``), so the
  row prints one number fewer than its columns.

So each value row is matched to a form row by three things, strongest first: the label words it
carries (a row's anchor, or a fragment that only a few rows' labels contain), the form's row
order (value rows keep it: an orphan row can only be a row between its labelled neighbours),
and the identities (every reading that survives the order is checked against the table's
arithmetic). A cell is read only when every surviving reading gives it the same value; where
they differ it is ``unresolved`` with the readings as candidates — never a guess.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from decimal import Decimal

from pipeline.extract.cells import Cell, TableResult
from pipeline.form import Row, TableSpec
from pipeline.identities import evaluate_table, identities_of

_NUMBER = re.compile(r"^[-+]?\d+(?:\.\d+)?$")
_BLANK = {"-", "/", "—", "－", "／", "–"}
_PAGE = re.compile(r"^[\s\-—–－]*(?:第\s*)?\d{1,3}\s*(?:页)?[\s\-—–－]*(?:/\s*\d{1,3}\s*)?$")
_SEPARATOR = re.compile(r"^\|?\s*:?-{2,}")
_PLAIN_VALUES = re.compile(r"^(?P<label>[^\d|]*[\u4e00-\u9fff）)][^\d|]*?)\s+(?P<nums>[-+]?\d+(?:\.\d+)?(?:\s+[-+]?\d+(?:\.\d+)?)*)\s*$")
_NOT_LABEL = re.compile(r"[\s|、，。：:；;.．（）()“”\"'\-—–]+")
_LOOSE_NOTE = re.compile(r"^[ \t]*(?P<value>\d+(?:\.\d+)?)[ \t]*\n?[ \t]*[（(](?P<note>[^）)\n]{1,40})[）)]", re.M)
# which column of a documents row a pulled-out cell's note speaks of
_NOTE_COLUMNS = ((re.compile(r"失效|废止"), ("repealed",)), (re.compile(r"修订|修改"), ("issued", "repealed")))
MAX_READINGS = 4096  # past this many orderings the table is left unresolved, never searched longer
MAX_STEPS = 200_000  # the search for orderings stops here (a region full of stray value rows)
MIN_FRAGMENT = 3  # a label fragment shorter than this says nothing (其他, 公开)


@dataclass
class Item:
    """One printed row that carries values: label text (cells before the numbers) and values."""

    offset: int
    parts: list[str]
    values: list[str]  # numbers or '' for a blank cell
    line: str
    rows: set[int] = field(default_factory=set)  # form rows its label allows
    labelled: bool = False


def _items(text: str, start: int, end: int) -> list[Item]:
    out = []
    pos = start
    for line in text[start:end].split("\n"):
        offset, pos = pos, pos + len(line) + 1
        s = line.strip()
        if not s or _PAGE.match(s) or _SEPARATOR.match(s):
            continue
        if s.startswith("|"):
            cells = [c.strip() for c in s.strip("|").split("|")]
            while cells and cells[-1] == "":
                cells.pop()
            while cells and cells[0] == "":
                cells.pop(0)
            first = next((i for i, c in enumerate(cells) if _NUMBER.match(c)), None)
            if first is None:
                continue
            tail = cells[first:]
            if not all(_NUMBER.match(c) or c in _BLANK or c == "" for c in tail):
                continue  # text among the numbers: not a value row
            values = ["" if (c in _BLANK or c == "") else c for c in tail]
            out.append(Item(offset, [c for c in cells[:first] if c], values, s))
            continue
        m = _PLAIN_VALUES.match(s)
        if m and len(m.group("label").strip()) <= 30:
            out.append(Item(offset, [m.group("label").strip()], m.group("nums").split(), s))
    return out


def _compact(s: str) -> str:
    return _NOT_LABEL.sub("", re.sub(r"^(?:\d+[.．、]|[（(][一二三四五六七八九十][）)]|[一二三四五六七八九十]、)", "", s.strip()))


def _label_rows(item: Item, table: TableSpec, label_res) -> set[int]:
    """Form rows the item's label words allow: rows whose anchor is in the joined label, else
    rows whose printed label contains every fragment that is long enough to say something."""
    joined = re.sub(r"\s+", "", "".join(item.parts))
    if not joined:
        return set()
    hits = {i for i, rx in enumerate(label_res) if rx.search(joined)}
    if hits:
        return hits
    full = [_compact(r.label) for r in table.rows]
    allowed = None
    for part in [joined, *item.parts] if len(item.parts) > 1 else [joined]:
        frag = _compact(part)
        if len(frag) < MIN_FRAGMENT:
            continue
        rows = {i for i, f in enumerate(full) if frag in f}
        if rows:
            if part is joined:
                return rows
            allowed = rows if allowed is None else allowed & rows
    return allowed or set()


@dataclass
class Placement:
    """An item's values laid on a row's columns: one per way the short row can be read."""

    values: list[str | None]  # per column; None: the cell was pulled out of the row


def _placements(item: Item, table: TableSpec, row: Row, missing_allowed: tuple[str, ...] | None) -> list[Placement]:
    cols = table.columns_of(row)
    vals = item.values
    if len(vals) > len(cols) and "" in vals:
        vals = [v for v in vals if v != ""] if len([v for v in vals if v != ""]) == len(cols) else vals
    if len(vals) == len(cols):
        return [Placement(list(vals))]
    if table.name == "active_disclosure" and len(cols) == 3 and len(vals) == 2 and missing_allowed is not None:
        out = []
        for k, col in enumerate(cols):
            if missing_allowed and col.key not in missing_allowed:
                continue
            out.append(Placement(vals[:k] + [None] + vals[k:]))
        return out
    return []


def _note_columns(text: str, start: int, end: int) -> tuple[list[str], tuple[str, ...]]:
    """Cells pulled out of their rows as loose lines (a number, then its note in brackets):
    their values, and the columns their notes can belong to ((): no loose cell)."""
    values, cols = [], set()
    for m in _LOOSE_NOTE.finditer(text, start, end):
        line_start = text.rfind("\n", 0, m.start()) + 1
        if text[line_start: m.start()].strip():
            continue
        values.append(m.group("value"))
        for rx, named in _NOTE_COLUMNS:
            if rx.search(m.group("note")):
                cols.update(named)
    return values, tuple(sorted(cols))


def _prose_issued(text: str, start: int, end: int, row: Row) -> str | None:
    """The number of documents the prose says were issued (全年主动公开市政府规章 22 件), from
    outside the table's region; None when the prose does not say it once."""
    found = set()
    for part in (text[:start], text[end:]):
        for m in re.finditer(rf"{row.anchor}\s*(\d+)\s*件", part):
            before = part[max(0, m.start() - 60): m.start()]
            sentence = before[max(before.rfind("。"), before.rfind("；"), before.rfind("\n\n")) + 1:]
            if re.search(r"主动公开|制发|印发|出台|发布", sentence) and not re.search(r"现行|有效|废止|失效|清理", sentence):
                found.add(m.group(1))
    return found.pop() if len(found) == 1 else None


def read(text: str, start: int, end: int, table: TableSpec, label_res) -> TableResult | None:
    """The table read by matching value rows to form rows (None: no value rows here)."""
    items = _items(text, start, end)
    if not items:
        return None
    n = len(table.rows)
    loose_values, note_cols = _note_columns(text, start, end)
    missing_allowed = note_cols if loose_values else None
    for it in items:
        it.rows = _label_rows(it, table, label_res)
        it.labelled = bool(it.rows)
        fits = {i for i in range(n) if _placements(it, table, table.rows[i], missing_allowed)}
        it.rows = (it.rows & fits) if it.labelled else fits
    items = [it for it in items if it.rows]
    if not items:
        return None
    fixed = {}
    for it in items:
        if it.labelled and len(it.rows) == 1:
            fixed.setdefault(next(iter(it.rows)), []).append(it)
    # fixed items that keep the form's order anchor the unlabelled ones between them
    order = [(idx, next(iter(it.rows))) for idx, it in enumerate(items) if it.labelled and len(it.rows) == 1]
    anchors = dict(_increasing(order))
    loose = [(idx, it) for idx, it in enumerate(items) if not (it.labelled and len(it.rows) == 1)]
    gaps: dict[tuple[int, int], list[int]] = {}
    for idx, it in loose:
        lo = max((anchors[j] for j in anchors if j < idx), default=-1)
        hi = min((anchors[j] for j in anchors if j > idx), default=n)
        gaps.setdefault((lo, hi), []).append(idx)
    used = set(fixed)
    gap_options = []
    for (lo, hi), idxs in gaps.items():
        free = [r for r in range(lo + 1, hi) if r not in used]
        options = _orderings([items[i].rows for i in idxs], free)
        if not options or len(options) > MAX_READINGS:
            options = [tuple(None for _ in idxs)]  # cannot place them: left out, rows unresolved
        gap_options.append((idxs, options))
    total = 1
    for _, opts in gap_options:
        total *= len(opts)
    if total > MAX_READINGS:
        gap_options = [(idxs, [tuple(None for _ in idxs)]) for idxs, _ in gap_options]
    readings = []
    for combo in itertools.product(*[opts for _, opts in gap_options]):
        mapping: dict[int, list[Item]] = {r: list(v) for r, v in fixed.items()}
        for (idxs, _), choice in zip(gap_options, combo):
            for i, r in zip(idxs, choice):
                if r is not None:
                    mapping.setdefault(r, []).append(items[i])
        readings += _grids(table, mapping, missing_allowed)
    return _decide(text, start, end, table, readings, items, loose_values)


def _increasing(order: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The longest subsequence of (item, row) pairs whose rows increase (ties: the earliest)."""
    best: list[list[tuple[int, int]]] = []
    for pair in order:
        prev = max((b for b in best if b[-1][1] < pair[1]), key=len, default=[])
        best.append(prev + [pair])
    return max(best, key=len, default=[])


def _orderings(allowed: list[set[int]], free: list[int]) -> list[tuple[int | None, ...]]:
    """Every increasing placement of the items on free rows, each on a row it allows; when not
    all can be placed, those placing the most (the others left out as None)."""
    out: list[tuple[int | None, ...]] = []
    steps = [0]

    def walk(i: int, after: int, acc: list[int | None], skips: int) -> None:
        steps[0] += 1
        if len(out) > MAX_READINGS or steps[0] > MAX_STEPS:
            return
        if i == len(allowed):
            out.append(tuple(acc))
            return
        left = sum(1 for r in free if r > after)
        if len(allowed) - i - skips > left:
            return  # not enough rows left for the items that must be placed
        for r in free:
            if r > after and r in allowed[i]:
                walk(i + 1, r, acc + [r], skips)
        if skips:
            walk(i + 1, after, acc + [None], skips - 1)

    for skips in range(max(0, len(allowed) - len(free)), len(allowed) + 1):
        walk(0, -1, [], skips)
        if steps[0] > MAX_STEPS:
            return []  # too many ways to try: the caller leaves these rows unresolved
        if out:
            return [o for o in out if o.count(None) == skips]
    return out


def _grids(table: TableSpec, mapping: dict[int, list[Item]], missing_allowed) -> list[dict]:
    """Each reading as {(row, col): (value or None, item)}; a short row gives one per placement;
    a row two items claim with different values has no reading of its own (left unresolved)."""
    per_row = []
    for r, its in mapping.items():
        row = table.rows[r]
        cols = table.columns_of(row)
        options = []
        for it in its:
            for p in _placements(it, table, row, missing_allowed):
                options.append({(row.key, c.key): (v, it) for c, v in zip(cols, p.values)})
        distinct = {tuple(v for v, _ in o.values()) for o in options}
        if len(its) > 1 and len(distinct) > 1:
            options = [{(row.key, c.key): ("?", its[0]) for c in cols}]
        per_row.append(options)
    out = []
    for combo in itertools.product(*per_row):
        grid: dict = {}
        for part in combo:
            grid.update(part)
        out.append(grid)
        if len(out) > MAX_READINGS:
            break
    return out


def _decide(text: str, start: int, end: int, table: TableSpec, readings: list[dict], items: list[Item], loose_values: list[str]) -> TableResult:
    notes = []
    checked = readings
    if identities_of(table):
        ok = [g for g in readings if _holds(table, g)]
        if ok:
            checked = ok
        notes.append(f"converter layout: {len(items)} value rows, {len(readings)} readings, {len(ok)} satisfy every identity")
    else:
        notes.append(f"converter layout: {len(items)} value rows, {len(readings)} readings")
    for row in table.rows:
        said = _prose_issued(text, start, end, row) if table.name == "active_disclosure" else None
        key = (row.key, "issued")
        if said is not None and any(key in g for g in checked):
            agree = [g for g in checked if key in g and g[key][0] == said]
            if agree:
                checked = agree
    region = re.sub(r"\s+", "", text[start:end])
    cells = []
    for row in table.rows:
        for col in table.columns_of(row):
            k = (row.key, col.key)
            seen = [g[k] for g in checked if k in g]
            if not seen:
                cells.append(Cell(table.name, row.key, col.key, None, None, None, "missing", [], "converter layout: no value row for this row"))
                continue
            values = list(dict.fromkeys(v for v, _ in seen))
            it = seen[0][1]
            if len(seen) == len(checked) and len(values) == 1 and values[0] not in (None, "?"):
                v = values[0]
                by_order = not any(g[k][1].labelled for g in checked)
                if by_order and not identities_of(table) and not re.search(row.anchor, region):
                    cells.append(Cell(table.name, row.key, col.key, None, v or None, it.offset, "unresolved", [v],
                                      "converter layout: placed by order only, the row label is not printed"))
                    continue
                how = "by its label" if not by_order else "by the form's row order"
                cells.append(Cell(table.name, row.key, col.key, Decimal(v) if v else None, v, it.offset, "read", [],
                                  f"converter layout: value row matched {how}"))
                continue
            cands = [v for v in values if v not in (None, "?")]
            if None in values:
                cands += [v for v in loose_values if v not in cands]
            cells.append(Cell(table.name, row.key, col.key, None, None, it.offset, "unresolved", cands,
                              "converter layout: the value rows allow several readings of this cell"))
    return TableResult(table.name, True, cells, notes)


def _holds(table: TableSpec, grid: dict) -> bool:
    values = {}
    for k, (v, _) in grid.items():
        if v == "?" or v is None:
            continue
        values[k] = Decimal(v) if v else None
    results = evaluate_table(table, values, blanks=set())
    return all(r.status in ("ok", "incomplete", "implied") for r in results)
