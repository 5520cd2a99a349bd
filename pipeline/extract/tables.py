"""Extract the three standard tables from normalized text, whatever the layout.

One mechanism serves every layout we have met (one cell per line, pipes, HTML rows, the whole
table on one line, PDF text emitted column by column): the region of a table is searched for
its row labels *in form order*, and the numbers between one label and the next belong to the
first. Then:

* as many numbers as cells → read directly;
* fewer, longer digit strings → run-together; cut by ``splitting`` with the identities;
* labels with no numbers, followed by a block of k×columns numbers → the block was emitted
  column by column (PDF text): assign it so, and where the row totals say the column order
  was off, find the order the identities accept that moves the fewest columns.

Every cell keeps its raw text, its line in the normalized text and how it was obtained.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from pipeline.form import FormSpec, Row, TableSpec, form_spec
from pipeline.identities import identities_of
from pipeline.extract.meta import Section
from pipeline.extract.cells import Cell, TableResult, Token
from pipeline.extract import converter  # real converter Markdown: value rows matched to form rows
from pipeline.extract import scrambled  # converter Markdown: value rows apart from their labels
from pipeline.extract.splitting import solve_linear, split_grouped, split_plain, split_with_total

_TOKEN = re.compile(
    r"(?P<num>(?<![\d.])-?\d+(?:\.\d+)?)(?:元|万元|件|条)?"
    r"|(?P<blank>(?<![^\s|])(?:-|/|—|－|／|–|&nbsp;)(?![^\s|]))"
)


_TRAILING_EMPTY_CELL = re.compile(r"[ \t]*\|?[ \t]*\n[ \t]*\|[ \t]*(?:\n|$)")


def tokens_in(text: str, start: int, end: int) -> list[Token]:
    out = []
    for m in _TOKEN.finditer(text, start, end):
        if m.group("num") is not None:
            out.append(Token(m.group("num"), m.group(0), m.start()))
        else:
            out.append(Token("", m.group(0), m.start(), blank=True))
    return out


_LABEL_REGEXES: dict[int, tuple[object, re.Pattern]] = {}
_DIGITS = re.compile(r"\d+")


def _label_regex(row: Row | object) -> re.Pattern:
    """The row's (or heading's) label pattern, compiled once per form object."""
    hit = _LABEL_REGEXES.get(id(row))
    if hit is None or hit[0] is not row:
        hit = _LABEL_REGEXES[id(row)] = (row, _compile_label(row))
    return hit[1]


def _compile_label(row: Row | object) -> re.Pattern:
    enum = getattr(row, "enum", "")
    # the enumerator may stand a few characters before the anchor (5.属于三类内部事务信息)
    prefix = rf"(?:{re.escape(enum)}[^\d\n|]{{0,8}}?)?" if enum else ""
    return re.compile(prefix + row.anchor)


def find_row_labels(text: str, start: int, end: int, table: TableSpec) -> list[tuple[Row, int, int]]:
    """Row labels in form order: each is searched after the previous one found, so a
    generic word (其他, 总计) can only match where its row stands."""
    found = []
    pos = start
    for row in table.rows:
        m = _label_regex(row).search(text, pos, end)
        if m:
            found.append((row, m.start(), m.end()))
            pos = m.end()
    return found


def _boundaries(text: str, start: int, end: int, table: TableSpec, labels) -> list[int]:
    heads = [m.start() for h in table.headings for m in _label_regex(h).finditer(text, start, end)]
    return sorted({s for _, s, _ in labels} | set(heads) | {end})


def _read(table: str, row: Row, col, tok: Token, note: str = "") -> Cell:
    """A cell read directly from its token (a blank marker reads as NULL)."""
    value = None if tok.blank else Decimal(tok.text)
    return Cell(table, row.key, col.key, value, tok.raw, tok.offset, "read", [], note)


def _missing(table: TableSpec, row: Row, note: str) -> list[Cell]:
    return [Cell(table.name, row.key, c.key, None, None, None, "missing", [], note) for c in table.columns_of(row)]


def _absent(table: TableSpec, why: str) -> TableResult:
    """A table that is not there: every cell recorded as missing, never as zero."""
    return TableResult(table.name, False, [c for r in table.rows for c in _missing(table, r, why)], [why])


def _has_total(table: TableSpec, row: Row) -> bool:
    cols = table.columns_of(row)
    return bool(cols) and cols[-1].key == "total"


def _own_cells(text: str, toks: list[Token]) -> bool:
    """True when a table rule stands between the numbers: each is a printed cell of its own,
    so their digits did not run together (a converter row missing a cell, not a cut to make)."""
    return any("|" in text[a.offset + len(a.raw): b.offset] for a, b in zip(toks, toks[1:]))


def _drop_lone_numbers(text: str, toks: list[Token]) -> list[Token]:
    """A row printed as a pipe row takes no number standing alone on a line after it: that is
    a page number or a cell pulled out of another row (converter Markdown), not its value."""
    if not toks:
        return toks
    span = text[toks[0].offset: toks[-1].offset]
    if "|" not in span or "\n" not in span:
        return toks  # no pipe row among lines, or every number on one line: nothing to drop
    start = text.rfind("\n", 0, toks[0].offset) + 1
    lines = text[start: text.find("\n", toks[-1].offset) % (len(text) + 1)].split("\n")
    if not any(line.lstrip().startswith("|") for line in lines):
        return toks
    starts = [start]
    for line in lines[:-1]:
        starts.append(starts[-1] + len(line) + 1)
    keep = []
    for t in toks:
        line = lines[bisect_right(starts, t.offset) - 1]
        if line.lstrip().startswith("|") or not _ALONE.match(line):
            keep.append(t)
    return keep


def _row_cells(table: TableSpec, row: Row, toks: list[Token], text: str = "") -> tuple[list[Cell], list[tuple[int, ...]] | None]:
    """Cells of one row from its tokens. Returns (cells, split candidates or None)."""
    cols = table.columns_of(row)
    if len(toks) == len(cols):
        return [_read(table.name, row, c, t) for c, t in zip(cols, toks)], None
    digits = [t for t in toks if not t.blank and _DIGITS.fullmatch(t.text)]
    if (toks and len(digits) == len(toks) and len(toks) < len(cols) and sum(len(t.text) for t in toks) >= len(cols)
            and not _own_cells(text, toks)):
        strings = [t.text for t in toks]
        cands = split_with_total(strings, len(cols)) if _has_total(table, row) else split_plain(strings, len(cols))
        return [], cands
    if not toks:
        return _missing(table, row, "row label found, no values"), None
    return _missing(table, row, f"{len(toks)} values for {len(cols)} cells: " + " ".join(t.raw for t in toks)), None


@dataclass
class Unit:
    """Rows whose values are not yet decided: a run-together row (alternatives = its cuts)
    or a column-major block whose printed column order breaks the row totals
    (alternatives = the column orders the totals accept). The table's identities decide."""

    kind: str  # split · reorder
    rows: list[Row]
    toks: list[Token]
    alternatives: list[dict[str, tuple]]  # row_key → values, one dict per alternative
    moved: list[int] = field(default_factory=list)  # reorder: columns moved per alternative
    note: str = ""


def _unit_cells(table: TableSpec, unit: Unit, chosen: dict[str, tuple] | None, note: str, shown=()) -> list[Cell]:
    out = []
    for r_i, row in enumerate(unit.rows):
        cols = table.columns_of(row)
        for c_i, col in enumerate(cols):
            if unit.kind == "reorder":
                tok = unit.toks[c_i * len(unit.rows) + r_i]  # printed position, for raw/line
                if chosen is None:
                    out.append(Cell(table.name, row.key, col.key, None, tok.raw, tok.offset, "unresolved", list(shown), note))
                else:
                    v = chosen[row.key][c_i]
                    out.append(Cell(table.name, row.key, col.key, None if v is None else Decimal(v), tok.raw, tok.offset, "read", [], note))
                continue
            raw = " ".join(t.raw for t in unit.toks)
            off = unit.toks[0].offset if unit.toks else None
            if chosen is None:
                out.append(Cell(table.name, row.key, col.key, None, raw, off, "unresolved", list(shown), note))
            else:
                out.append(Cell(table.name, row.key, col.key, Decimal(chosen[row.key][c_i]), raw, off, "split", [], note))
    return out


def _split_unit(row: Row, toks: list[Token], cands: list[tuple[int, ...]]) -> Unit:
    return Unit("split", [row], toks, [{row.key: c} for c in cands])


def _column_major(table: TableSpec, rows: list[Row], toks: list[Token]) -> tuple[list[Cell], Unit | None, str]:
    """Assign a block emitted column by column. If the rows carry a total and the printed
    column order breaks it, every column order the totals accept becomes an alternative for
    the table's identities to decide (洪泽: the 总计 column printed before 其他)."""
    cols = table.columns_of(rows[0])
    groups = [toks[i * len(rows): (i + 1) * len(rows)] for i in range(len(cols))]
    note = "block printed column by column"
    if _has_total(table, rows[0]) and not _groups_balance(groups, range(len(cols))):
        accepted = _accepted_orders(groups)
        if accepted:
            unit = Unit("reorder", rows, toks, [], note=note + "; column order decided by the identities")
            for moved, perm in accepted:
                unit.alternatives.append({row.key: tuple(_int(groups[p][r_i]) for p in perm) for r_i, row in enumerate(rows)})
                unit.moved.append(moved)
            return [], unit, unit.note
        note += "; no column order satisfies the row totals"
    cells = [_read(table.name, row, col, groups[c_i][r_i], note) for r_i, row in enumerate(rows) for c_i, col in enumerate(cols)]
    return cells, None, note


def _int(t: Token) -> int | None:
    return None if t.blank else int(Decimal(t.text))


def _value(t: Token) -> Decimal:
    return Decimal(0) if t.blank else Decimal(t.text)


def _groups_balance(groups, order) -> bool:
    order = list(order)
    n = len(groups[0])
    return all(sum(_value(groups[o][r]) for o in order[:-1]) == _value(groups[order[-1]][r]) for r in range(n))


def _balancing_lasts(groups) -> set[int]:
    """Columns that can stand last: in every row the other columns add up to them. Whether a
    column order balances depends only on which column is last (the sum of the others does
    not depend on their order), so each candidate is tested once, not once per order."""
    values = [[_value(t) for t in g] for g in groups]
    k, n = len(groups), len(groups[0])
    return {last for last in range(k)
            if all(sum(values[o][r] for o in range(k) if o != last) == values[last][r] for r in range(n))}


def _arrangements(counts: list[int], n: int) -> Iterator[tuple[int, ...]]:
    """Every distinct sequence of n column classes using class c at most counts[c] times."""
    if n == 0:
        yield ()
        return
    for c, left in enumerate(counts):
        if left:
            counts[c] -= 1
            for rest in _arrangements(counts, n - 1):
                yield (c, *rest)
            counts[c] += 1


def _closest_order(arrangement: tuple[int, ...], cls: list[int], members: list[list[int]]) -> tuple[int, list[int]]:
    """The column order that prints the classes in `arrangement` moving the fewest columns
    (first in lexicographic order among those): a column already in a place of its class
    stays; the others fill the remaining places of their class in increasing order."""
    order = [i if cls[i] == c else -1 for i, c in enumerate(arrangement)]
    for c, cols in enumerate(members):
        free = iter(j for j in cols if order[j] != j)
        for i, want in enumerate(arrangement):
            if want == c and order[i] < 0:
                order[i] = next(free)
    return sum(1 for i, p in enumerate(order) if i != p), order


def _accepted_orders(groups) -> list[tuple[int, list[int]]]:
    """(columns moved, order) for each value-distinct column order the row totals accept,
    the order moving the fewest columns standing for its values. Columns that print the
    same values are one class, so only distinct arrangements of classes are enumerated."""
    lasts = _balancing_lasts(groups)
    if not lasts:
        return []
    classes: dict[tuple, int] = {}
    cls = [classes.setdefault(tuple(t.raw for t in g), len(classes)) for g in groups]
    members = [[j for j, c in enumerate(cls) if c == k] for k in range(len(classes))]
    counts = [len(m) for m in members]
    out = []
    for last in sorted({cls[j] for j in lasts}):
        counts[last] -= 1
        for head in _arrangements(counts, len(groups) - 1):
            out.append(_closest_order((*head, last), cls, members))
        counts[last] += 1
    return sorted(out)


def extract_labelled(text: str, start: int, end: int, table: TableSpec) -> TableResult:
    """A table whose rows carry labels (active_disclosure, applications)."""
    labels = find_row_labels(text, start, end, table)
    if not labels:
        return _absent(table, "table not found")
    bounds = _boundaries(text, start, end, table, labels)
    cells: list[Cell] = []
    pending: list[Row] = []
    units: list[Unit] = []
    notes: list[str] = []
    for row, s, e in labels:
        nxt = next(b for b in bounds if b > s)
        toks = _drop_lone_numbers(text, tokens_in(text, e, nxt))
        ncols = len(table.columns_of(row))
        if not toks:
            pending.append(row)
            continue
        block = pending + [row]
        same_shape = all(len(table.columns_of(r)) == ncols for r in block)
        if pending and same_shape and len(toks) == len(block) * ncols:
            block_cells, unit, note = _column_major(table, block, toks)
            cells += block_cells
            units += [unit] if unit else []
            notes.append(f"rows {block[0].key}…{row.key}: {note}")
        else:
            for r in pending:
                cells += _missing(table, r, "row label found, no values")
            row_cells, cands = _row_cells(table, row, toks, text)
            if cands is None:
                cells += row_cells
            elif not cands:  # no cut of the run-together digits fits the row: recorded as such, never guessed
                why = "no cut of the run-together digits fits the row" + (" total" if _has_total(table, row) else "")
                notes.append(f"{row.key}: {why}")
                cells += _unit_cells(table, _split_unit(row, toks, cands), None, why)
            elif len(cands) == 1:
                cells += _unit_cells(table, _split_unit(row, toks, cands), {row.key: cands[0]}, "")
            else:
                units.append(_split_unit(row, toks, cands))
        pending = []
    for r in pending:
        cells += _missing(table, r, "row label found, no values")
    found_keys = {r.key for r, _, _ in labels}
    for r in table.rows:
        if r.key not in found_keys:
            cells += _missing(table, r, "row label not found")
    if units:
        cells += _resolve_units(table, cells, units, notes)
    order = {(r.key, c.key): i for i, (r, c) in enumerate((r, c) for r in table.rows for c in table.columns_of(r))}
    cells.sort(key=lambda c: order.get((c.row_key, c.column_key), 1 << 30))
    return TableResult(table.name, True, cells, notes)


def _resolve_units(table: TableSpec, cells: list[Cell], units: list[Unit], notes: list[str]) -> list[Cell]:
    """Decide undecided rows by the table's identities, jointly (a row can have two cuts that
    satisfy its own total — 平潭 （一）予以公开270020130 — and only the columns decide)."""
    col_keys = {r.key: [c.key for c in table.columns_of(r)] for r in table.rows}
    fixed_grid = {(c.row_key, c.column_key): c.value for c in cells}
    unit_cells = {(rk, ck) for u in units for rk in u.alternatives[0] for ck in col_keys[rk]}
    instances = []
    for ident in identities_of(table):
        for _, left, right in ident.instances:
            terms = [(cell, 1) for cell in left] + [(cell, -1) for cell in right]
            if all(cell in unit_cells or (cell in fixed_grid and fixed_grid[cell] is not None) for cell, _ in terms):
                instances.append(terms)
    # instances that no unit touches cannot decide anything
    instances = [t for t in instances if any(cell in unit_cells for cell, _ in t)]
    const = [int(sum(sign * fixed_grid[cell] for cell, sign in t if cell not in unit_cells)) for t in instances]
    contributions = []
    for unit in units:
        alts = []
        for alt in unit.alternatives:
            values = {(rk, ck): v for rk, vals in alt.items() for ck, v in zip(col_keys[rk], vals)}
            alts.append([sum(sign * (values[cell] or 0) for cell, sign in t if cell in values) for t in instances])
        contributions.append(alts)
    searchable = _has_identities(table) and bool(instances)
    if searchable:
        found, searched = solve_linear(const, contributions)
        solutions = [dict(enumerate(f)) for f in found]
    else:
        solutions, searched = [], False
    out = []
    for i, unit in enumerate(units):
        alive = sorted({s[i] for s in solutions})
        if unit.kind == "reorder":
            pool = alive or list(range(len(unit.alternatives)))
            least = min(unit.moved[a] for a in pool)
            best = [a for a in pool if unit.moved[a] == least]
            if len(best) == 1:
                out += _unit_cells(table, unit, unit.alternatives[best[0]], unit.note + ("" if alive else "; identities fail in every order, fewest columns moved"))
                continue
            alive = best
        elif len(alive) == 1:
            n = len(unit.alternatives)
            out += _unit_cells(table, unit, unit.alternatives[alive[0]], f"{n} cuts fit the row; the column identities leave one" if n > 1 else "")
            continue
        why = (
            "several readings satisfy every identity" if len(alive) > 1
            else "no reading satisfies the column identities (the source may be wrong)" if searched
            else "several cuts and no identity decides between them"
        )
        notes.append(f"{'/'.join(r.key for r in unit.rows)}: {why}")
        keep = alive or list(range(len(unit.alternatives)))
        shown = [" / ".join("·".join("_" if v is None else str(v) for v in unit.alternatives[a][r.key]) for r in unit.rows) for a in keep[:20]]
        out += _unit_cells(table, unit, None, why, shown)
    return out


def _has_identities(table: TableSpec) -> bool:
    return bool(identities_of(table))


_ALONE = re.compile(r"^[\s\-—–－]*(?:第\s*)?\d{1,3}\s*(?:页)?[\s\-—–－]*$")


def _line_of(text: str, offset: int) -> str:
    start = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", offset)
    return text[start: end if end >= 0 else len(text)]


def extract_review(text: str, start: int, end: int, table: TableSpec) -> TableResult:
    """The review/litigation table: fifteen numbers after its header, in printed order
    (the rows are column groups of one printed line, so there are no row labels)."""
    header_end = start
    for m in re.finditer(r"总\s*计|审\s*结|复议后起诉", text[start:end]):
        header_end = start + m.end()
    toks = tokens_in(text, header_end, end) or tokens_in(text, start, end)
    cols = table.columns
    n = len(table.rows) * len(cols)
    if len(toks) > n:
        # a page number standing on its own line among the values (converter Markdown)
        inline = [t for t in toks if not _ALONE.match(_line_of(text, t.offset))]
        if len(inline) == n:
            toks = inline
    if len(toks) == n - 1 and _TRAILING_EMPTY_CELL.match(text, toks[-1].offset + len(toks[-1].raw), end):
        # pipe layout: the last cell is empty and written as a bare "|" (seed 001)
        toks.append(Token("", "|", toks[-1].offset + len(toks[-1].raw), blank=True))
    if not toks:
        return _absent(table, "table not found")
    if len(toks) >= n:
        toks = toks[:n]
        cells = [_read(table.name, r, c, toks[i * len(cols) + j]) for i, r in enumerate(table.rows) for j, c in enumerate(cols)]
        return TableResult(table.name, True, cells)
    if all(_DIGITS.fullmatch(t.text) for t in toks):
        cands = split_grouped([t.text for t in toks], len(table.rows), len(cols))
        raw = " ".join(t.raw for t in toks)
        if len(cands) == 1:
            vals = cands[0]
            return TableResult(table.name, True, [
                Cell(table.name, r.key, c.key, Decimal(vals[i * len(cols) + j]), raw, toks[0].offset, "split")
                for i, r in enumerate(table.rows) for j, c in enumerate(cols)
            ])
        why = "several cuts satisfy every row total" if cands else "no cut satisfies the row totals"
        shown = ["·".join(map(str, c)) for c in cands[:20]]
        cells = []
        for i, r in enumerate(table.rows):
            for j, c in enumerate(cols):
                distinct = {cand[i * len(cols) + j] for cand in cands}
                if len(distinct) == 1:
                    cells.append(Cell(table.name, r.key, c.key, Decimal(distinct.pop()), raw, toks[0].offset, "split"))
                else:
                    cells.append(Cell(table.name, r.key, c.key, None, raw, toks[0].offset, "unresolved", shown, why))
        return TableResult(table.name, True, cells, [why])
    cells = [c for r in table.rows for c in _missing(table, r, f"{len(toks)} values for {n} cells")]
    return TableResult(table.name, True, cells, [f"{len(toks)} values for {n} cells"])


def _region(text: str, sections: list[Section], number: int, start_markers: tuple[str, ...] = ()) -> tuple[int, int] | None:
    sec = next((s for s in sections if s.number == number), None)
    if sec is None:
        return None
    start = sec.start
    for marker in start_markers:
        i = text.find(marker, sec.start, sec.end)
        if i >= 0:
            start = i
            break
    return start, sec.end


def other_handling_undivided(text: str, region: tuple[int, int] | None) -> bool:
    """True when （六）其他处理 is printed as one row (2019 form, some 2021 reports)."""
    if region is None:
        return False
    part = text[region[0]: region[1]]
    return "其他处理" in part and "逾期不补正" not in part and "逾期未按收费" not in part


def _certain(result: TableResult) -> int:
    return sum(1 for c in result.cells if c.how in ("read", "split"))


def _confirmed(table: TableSpec, result: TableResult) -> bool:
    """Every cell read and, where the table has identities, every instance holding."""
    if not all(c.how in ("read", "split") for c in result.cells):
        return False
    grid = {(c.row_key, c.column_key): c.value for c in result.cells}
    for left, right in _instances(table):
        lsum = rsum = 0
        for k in left:
            v = grid.get(k)
            if v is None:
                return False  # a blank or absent cell: not confirmed by this instance
            lsum += v
        for k in right:
            v = grid.get(k)
            if v is None:
                return False
            rsum += v
        if lsum != rsum:
            return False
    return True


_INSTANCES: dict[int, tuple[TableSpec, list]] = {}


def _instances(table: TableSpec) -> list[tuple[tuple, tuple]]:
    """(left cells, right cells) of every identity instance of the table, listed once."""
    hit = _INSTANCES.get(id(table))
    if hit is None or hit[0] is not table:
        hit = _INSTANCES[id(table)] = (table, [(left, right) for ident in identities_of(table) for _, left, right in ident.instances])
    return hit[1]


def _prefer_converter(normal: TableResult, text: str, start: int, end: int, table: TableSpec) -> TableResult:
    """The converter reading (value rows matched to form rows by label, order and identities)
    when it reads more cells than the labelled reading; a cell the two read differently is
    left unresolved with both values, so neither reader's mistake passes silently."""
    if _confirmed(table, normal):
        return normal
    conv = converter.read(text, start, scrambled.true_end(text, start, end, table), table, [_label_regex(r) for r in table.rows])
    if conv is None or _certain(conv) < _certain(normal):
        return normal
    theirs = {(c.row_key, c.column_key): c for c in normal.cells}
    cells = []
    for c in conv.cells:
        o = theirs.get((c.row_key, c.column_key))
        if c.how == "read" and o is not None and o.how in ("read", "split") and o.value != c.value:
            c = Cell(c.table, c.row_key, c.column_key, None, c.raw, c.offset, "unresolved", [str(c.value), str(o.value)],
                     "the converter reading and the labelled reading differ")
        cells.append(c)
    return TableResult(conv.name, True, cells, conv.notes)


_APPS_FIRST = re.compile(r"年[\s|]*新[\s|]*收")  # (本)年新收: labels are cut and split over cells
_APPS_LAST = re.compile(r"转[\s|]*下[\s|]*年")  # (结)转下年(度)
_REVIEW_HEAD = re.compile(r"^[^\n]{0,12}(?:行政复议|复议后起诉|未经复议)", re.M)
_ACTIVE_MARK = re.compile(r"第二十条|信息内容|表二")
_ACTIVE_FIRST_ROW = re.compile(r"^[|\s]*规\s*章(?:\s*\||[ \t]+\d)", re.M)  # the table's first row, as a cell
_AFTER_REVIEW = re.compile(r"^[#\s*]*(?:五|六)\s*、", re.M)

Region = tuple[int, int] | None


def _marked_regions(text: str, active: Region, apps: Region, review: Region) -> tuple[Region, Region, Region]:
    """The three regions, framed by the tables' own markers when the section headings do not
    frame the applications table (a converter dropped or mangled them — ``三、本法提供`` cut out of
    a label is not section 三): applications from its header (申请人情况) or first row (本年新收)
    to the review table's header after its last row (结转下年度); 主动公开 before it from its
    first 第二十条/信息内容/表二 or its first row (| 规章 |); the review table after it up to section 五 or 六."""
    if apps is not None and _APPS_FIRST.search(text, *apps):
        return active, apps, review  # the heading frames the table's start (its end: scrambled.true_end)
    first = _APPS_FIRST.search(text)
    last = _APPS_LAST.search(text, first.end()) if first else None
    if last is None:
        return active, apps, review
    start = text.rfind("\n", 0, first.start()) + 1
    header = text.rfind("申请人情况", max(0, start - 1500), start)
    start = header if header >= 0 else start
    head = _REVIEW_HEAD.search(text, last.end())
    end = head.start() if head else len(text)
    tail = _AFTER_REVIEW.search(text, end)
    review_end = tail.start() if tail else min(len(text), end + 3000)
    marks = [m.start() for m in (_ACTIVE_MARK.search(text, 0, start), _ACTIVE_FIRST_ROW.search(text, 0, start)) if m]
    active_new = (min(marks), start) if marks else active
    return active_new, (start, end), (end, review_end)


def extract_tables(text: str, sections: list[Section], form_id: str) -> tuple[FormSpec, dict[str, TableResult]]:
    """All three tables of a 2019- or 2021-form report."""
    region, apps_region, review_region = _marked_regions(
        text, _region(text, sections, 2, ("第二十条", "信息内容")), _region(text, sections, 3), _region(text, sections, 4))
    spec = form_spec(form_id, other_handling_undivided(text, apps_region))
    results: dict[str, TableResult] = {}
    for name, reg, fn in (
        ("active_disclosure", region, extract_labelled),
        ("applications", apps_region, extract_labelled),
        ("review_litigation", review_region, extract_review),
    ):
        table = spec.tables[name]
        if reg is None:
            results[name] = _absent(table, "section not found")
        else:
            results[name] = fn(text, reg[0], reg[1], table)
            if fn is extract_labelled:
                if scrambled.looks_scrambled(text, reg[0], reg[1], table):
                    results[name] = scrambled.prefer(results[name], text, reg[0], reg[1], table)
                results[name] = _prefer_converter(results[name], text, reg[0], reg[1], table)
    return spec, results


__all__ = ["Cell", "TableResult", "extract_tables", "tokens_in"]
