"""The same report from two sources: compare them cell by cell.

Two files hold the same report when their reports share ``organ_key`` and ``year`` — a page's
HTML and a text dump of it, a PDF and the text a converter made of it. The pair is compared
cell by cell (table, row, column), in both directions; what one source says about the other's
cells goes to ``cell_comparisons``, never over the source's own ``report_cells`` row:

* ``decided`` — this source left the cell ``unresolved`` and the other source's reading is one
  of the readings this source kept (its ``candidates``): two sources agree on one reading.
* ``filled`` — this source did not find the cell (``missing``); only the other source reads it.
* ``differ`` — both read the cell and the values differ, or the other source's reading is not
  among this source's surviving readings: a disagreement, which fails ``sources_agree``.
* ``open`` — the other source reads it, but this source's candidates cannot be matched to it
  (the list shown was cut at 20, or its cells do not line up with the candidates).

Equal cells are only counted (``report_pairs``). A pair whose compared cells differ in more
than half is taken for two different reports under one body and year, not two sources of one
(``report_pairs.same_report`` false): it still fails ``sources_agree``, naming the first
``DIFFERENT_SHOWN`` differing cells, but nothing is decided or filled from it and
``cell_comparisons`` gets no rows for it (a folder of unrelated reports sharing names would
otherwise write ~200 rows per pair). Each report is compared with up to
``MAX_TWINS`` references — the other reports of its body and year with the lowest report ids —
so every file is compared with the same few files and a disagreement fails the file that differs
from them, naming both (a folder can hold hundreds of copies of one report). The check
``sources_agree`` is cross-report, like the continuity checks: recomputed in the loading
transaction for the batch's reports, and for a whole body and year when its references changed.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

import duckdb
import polars as pl

from pipeline.extract.cells import is_read
from pipeline.form import FORM_2019, FORM_2021, FORM_2021_UNDIVIDED
from pipeline.store.db import CHECKS_SCHEMA, sql

CHECK_NAME = "sources_agree"
SHOWN_LIMIT = 20  # extract.py shows at most 20 candidates: a reading not shown may still survive
MAX_TWINS = 3  # references per report: a scraper's 300 copies of one report cost 3 comparisons each, not 300
MESSAGE_CELLS = 4  # differing cells named in the one-line message; details hold them all
DIFFERENT_SHOWN = 20  # differing cells listed in the details when the pair is two different reports

PAIRS_SCHEMA = {
    "report_id": pl.String, "other_report_id": pl.String, "organ_key": pl.String, "year": pl.Int32,
    "cells_compared": pl.Int32, "cells_equal": pl.Int32, "cells_decided": pl.Int32, "cells_filled": pl.Int32,
    "cells_differ": pl.Int32, "cells_open": pl.Int32, "same_report": pl.Boolean,
}
COMPARISONS_SCHEMA = {
    "report_id": pl.String, "other_report_id": pl.String, "table_name": pl.String, "row_key": pl.String,
    "column_key": pl.String, "outcome": pl.String, "value": pl.Decimal(38, 10),
    "own_value": pl.Decimal(38, 10), "own_raw": pl.String, "own_how": pl.String, "own_source_line": pl.Int32,
    "own_page": pl.Int32, "own_candidates": pl.String,
    "other_value": pl.Decimal(38, 10), "other_raw": pl.String, "other_how": pl.String, "other_source_line": pl.Int32,
    "other_page": pl.Int32, "note": pl.String,
}


def _form_order(*specs) -> dict[tuple[str, str, str], tuple[int, int]]:
    """(table, row, column) → (row index, column index) in the form, for lining cells up with
    candidates, which list a group's values row by row in form order. The 2021 form's undivided
    （六） row fits between its neighbours (a report has one variant or the other)."""
    order: dict[tuple[str, str, str], tuple[int, int]] = {}
    for spec in specs:
        for table in spec.tables.values():
            for r_i, row in enumerate(table.rows):
                for c_i, col in enumerate(table.columns_of(row)):
                    order.setdefault((table.name, row.key, col.key), (r_i, c_i))
    return order


ORDERS = {"2021": _form_order(FORM_2021, FORM_2021_UNDIVIDED), "2019": _form_order(FORM_2019)}


class SourceCell(NamedTuple):
    """One cell as a source read it (a tuple: a store of n reports builds n × 200 of them)."""

    table_name: str
    row_key: str
    column_key: str
    value: Decimal | None
    raw: str | None
    source_line: int | None
    page: int | None
    how: str
    candidates: str | None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.table_name, self.row_key, self.column_key)


@dataclass
class Comparison:
    """What the other source says about one of this source's cells."""

    own: SourceCell
    other: SourceCell
    outcome: str  # decided · filled · differ · open
    note: str


def _token(v: Decimal | None) -> str:
    """A value as candidates print it ('_' for a blank)."""
    if v is None:
        return "_"
    return str(int(v)) if v == v.to_integral() else format(v.normalize(), "f")


def _readings(candidates: str) -> list[tuple[str, ...]]:
    """'1·2·3 | 4·5·6' or '1·2 / 3·4 | …' → one tuple of value tokens per reading."""
    return [tuple(t.strip() for t in c.replace("/", "·").split("·")) for c in candidates.split(" | ") if c.strip()]


def _place(key: tuple[str, str, str], form: str) -> tuple:
    """Sort key: table, then the form's order (the key itself breaks any tie, so the order
    never depends on hashing). Built once per form key (compare sorts ~200 cells per pair)."""
    return _PLACES.get(form, _PLACES["2021"]).get(key) or (key[0], (999, 999), key)


_PLACES = {form: {key: (key[0], at, key) for key, at in order.items()} for form, order in ORDERS.items()}


def _group(cell: SourceCell, own: dict, width: int, form: str) -> list[SourceCell] | None:
    """The cells of this source that one candidate reading covers, in form order: the cells
    sharing its run of digits, or the candidates, or the table's split run (a run over several
    rows where some cells were decided and some not). None when none of these has the
    reading's width."""
    same_table = [c for c in own.values() if c.table_name == cell.table_name]
    tries = (
        [c for c in same_table if c.how == "unresolved" and c.candidates == cell.candidates and c.raw == cell.raw and c.source_line == cell.source_line],
        [c for c in same_table if c.how == "unresolved" and c.candidates == cell.candidates],
        [c for c in same_table if c.how in ("unresolved", "split") and c.raw == cell.raw and c.source_line == cell.source_line],
    )
    for group in tries:
        if len(group) == width:
            return sorted(group, key=lambda c: _place(c.key, form))
    return None


def compare(own: dict[tuple, SourceCell], other: dict[tuple, SourceCell], form: str = "2021") -> tuple[dict[str, int], list[Comparison]]:
    """This source's cells against the other's (this source's form: "2019" or "2021"): counts,
    and a Comparison for every cell that is not simply equal in both, in form order (see the
    module docstring for the outcomes). When the two are different reports (same_report), only
    the first DIFFERENT_SHOWN cells both read differently are listed; the counts hold them all."""
    counts = dict.fromkeys(("cells_compared", "cells_equal", "cells_decided", "cells_filled", "cells_differ", "cells_open"), 0)
    out: list[Comparison] = []
    both_read: list[tuple[SourceCell, SourceCell]] = []  # read in both, values differ
    shared = own.keys() & other.keys()
    equal = 0
    for key in shared:
        theirs = other[key]
        if not is_read(theirs.how):
            continue  # the other source has nothing to say about this cell
        mine = own[key]
        if is_read(mine.how):
            if mine.value == theirs.value:  # (None == None: two blanks are equal)
                equal += 1
            else:
                both_read.append((mine, theirs))
        elif mine.how == "missing" or not mine.candidates:
            out.append(Comparison(mine, theirs, "filled", "not found in this source; read in the other only"))
        else:
            out.append(_judge_unresolved(mine, own, other, form))
    counts["cells_compared"], counts["cells_equal"] = len(shared), equal
    for c in out:
        counts[f"cells_{c.outcome}"] += 1
    counts["cells_differ"] += len(both_read)
    if not same_report(counts):  # list the first few in form order
        both_read = sorted(both_read, key=lambda pair: _place(pair[0].key, form))[:DIFFERENT_SHOWN]
    out += [Comparison(mine, theirs, "differ", "both read, values differ") for mine, theirs in both_read]
    out.sort(key=lambda c: _place(c.own.key, form))  # form order
    return counts, out


def _judge_unresolved(mine: SourceCell, own: dict, other: dict, form: str) -> Comparison:
    """An unresolved cell of this source against the other source's reading of it."""
    theirs = other[mine.key]
    readings = _readings(mine.candidates or "")
    if all(len(r) == 1 for r in readings):  # one value per cell (scrambled layouts)
        if _token(theirs.value) in {r[0] for r in readings}:
            return Comparison(mine, theirs, "decided", "the other source's reading is one of this cell's candidates")
        return _not_among(mine, theirs, len(readings))
    widths = {len(r) for r in readings}
    group = _group(mine, own, widths.pop(), form) if len(widths) == 1 else None
    if group is None:
        return Comparison(mine, theirs, "open", "this source's candidates do not line up with its cells")
    theirs_group = [other.get(c.key) for c in group]
    if any(t is None or not is_read(t.how) for t in theirs_group):
        return Comparison(mine, theirs, "open", "the other source does not read every cell of this run")
    reading = tuple(_token(t.value) for t in theirs_group)
    if reading in readings:
        return Comparison(mine, theirs, "decided", f"the other source reads the run as {'·'.join(reading)}, one of this source's {len(readings)} readings")
    return _not_among(mine, theirs, len(readings), "·".join(reading))


def _not_among(mine: SourceCell, theirs: SourceCell, shown: int, reading: str = "") -> Comparison:
    what = f"the other source's reading {reading or _token(theirs.value)}"
    if shown >= SHOWN_LIMIT:
        return Comparison(mine, theirs, "open", f"{what} is not among the {shown} readings shown; more may survive")
    return Comparison(mine, theirs, "differ", f"{what} is not among this source's {shown} surviving readings")


# -- the store ---------------------------------------------------------------------------------

def rewrite_source_checks(con: duckdb.DuckDBPyConnection, report_ids: list[str]) -> list[str]:
    """Recompute the pairs, cell comparisons and ``sources_agree`` rows for these reports, the
    other reports of their body and year, and reports whose twin left the store — inside the
    caller's transaction. Returns the reports whose check row was rewritten."""
    con.register("source_batch_ids", pl.DataFrame({"report_id": report_ids}, schema={"report_id": pl.String}).to_arrow())
    con.execute(sql("stage_source_check_ids"), [MAX_TWINS])
    con.unregister("source_batch_ids")
    con.execute(sql("delete_source_rows"))
    reports = {r[0]: r for r in con.execute(sql("select_source_reports"), [MAX_TWINS]).fetchall()}  # report_id, organ_key, year, source_path, form, twins
    if not reports:
        return []
    wanted = {rid for rid, r in reports.items() if r[5]} | {t for r in reports.values() for t in (r[5] or [])}
    con.register("stage_source_cell_ids", pl.DataFrame({"report_id": sorted(wanted)}, schema={"report_id": pl.String}).to_arrow())
    paths = dict(con.execute("SELECT report_id, source_path FROM reports WHERE report_id IN (SELECT report_id FROM stage_source_cell_ids)").fetchall())
    # copies with the same cells (every field) share a fingerprint: read and compare one of them
    fingerprint = dict(con.execute(sql("select_source_fingerprints")).fetchall())
    representative: dict[str, str] = {}
    for rid in sorted(fingerprint):
        representative.setdefault(fingerprint[rid], rid)
    con.unregister("stage_source_cell_ids")
    con.register("stage_source_cell_ids", pl.DataFrame({"report_id": sorted(representative.values())}, schema={"report_id": pl.String}).to_arrow())
    rows = con.execute(sql("select_source_cells")).fetchall()
    con.unregister("stage_source_cell_ids")
    cells: dict[str, dict[tuple, SourceCell]] = defaultdict(dict)
    for rid, *fields in rows:
        cells[rid][(fields[0], fields[1], fields[2])] = SourceCell(*fields)
    paths |= {rid: r[3] for rid, r in reports.items()}
    pairs, comparisons, checks = [], [], []
    compared: dict[tuple, tuple[dict, list]] = {}

    def cells_of(rid: str) -> dict[tuple, SourceCell]:
        return cells.get(representative.get(fingerprint.get(rid, ""), rid), {})

    differ_by_report: dict[str, list[tuple[str, Comparison, bool]]] = defaultdict(list)  # rid → (twin, comparison, mine?)
    summary: dict[str, list[tuple[str, dict]]] = defaultdict(list)
    unlisted: dict[str, int] = defaultdict(int)  # differing cells of different reports, counted but not listed
    for rid, (_, organ_key, year, _path, form, twins) in reports.items():
        for twin in twins or []:
            pair = (fingerprint.get(rid, ""), fingerprint.get(twin, ""), form or "2021")  # copies compare alike: once
            if pair not in compared:
                compared[pair] = compare(cells_of(rid), cells_of(twin), form or "2021")
            counts, found = compared[pair]
            same = same_report(counts)
            unlisted[rid] += counts["cells_differ"] - sum(c.outcome == "differ" for c in found)
            pairs.append({"report_id": rid, "other_report_id": twin, "organ_key": organ_key, "year": year, **counts, "same_report": same})
            summary[rid].append((twin, counts))
            for c in found:
                if same:
                    comparisons.append(_comparison_row(rid, twin, c))
                if c.outcome == "differ":
                    differ_by_report[rid].append((twin, c, True))
                    if not is_read(c.own.how):  # both-read differences the twin finds itself
                        differ_by_report[twin].append((rid, c, False))
    for rid, (_, organ_key, year, _path, _form, twins) in reports.items():
        checks.append(_check_row(rid, organ_key, year, twins or [], summary[rid], differ_by_report[rid], paths, unlisted[rid]))
    for table, rows, schema in (("report_pairs", pairs, PAIRS_SCHEMA), ("cell_comparisons", comparisons, COMPARISONS_SCHEMA),
                                ("check_results", checks, CHECKS_SCHEMA)):
        if rows:
            con.register("stage_source_rows", pl.DataFrame(rows, schema=schema).to_arrow())
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM stage_source_rows")  # noqa: S608 - table is a constant
            con.unregister("stage_source_rows")
    return sorted(reports)


def same_report(counts: dict[str, int]) -> bool:
    """Two sources of one report, or two different reports that share a body and year: the
    latter when more than half of the cells both have differ."""
    return counts["cells_differ"] * 2 <= counts["cells_compared"]


def _comparison_row(rid: str, twin: str, c: Comparison) -> dict:
    decided = c.outcome in ("decided", "filled")
    return {
        "report_id": rid, "other_report_id": twin, "table_name": c.own.table_name, "row_key": c.own.row_key,
        "column_key": c.own.column_key, "outcome": c.outcome, "value": c.other.value if decided else None,
        "own_value": c.own.value, "own_raw": c.own.raw, "own_how": c.own.how, "own_source_line": c.own.source_line,
        "own_page": c.own.page, "own_candidates": c.own.candidates,
        "other_value": c.other.value, "other_raw": c.other.raw, "other_how": c.other.how,
        "other_source_line": c.other.source_line, "other_page": c.other.page, "note": c.note,
    }


def _reading(cell: SourceCell) -> str:
    """'12 ← '12' [read] (line 40, page 2)', as the identity checks print cells."""
    value = "unresolved" if cell.how == "unresolved" else _token(cell.value).replace("_", "blank")
    where = ", ".join(x for x in (f"line {cell.source_line}" if cell.source_line is not None else "",
                                  f"page {cell.page}" if cell.page is not None else "") if x)
    return f"{value} ← '{cell.raw or ''}' [{cell.how}]" + (f" ({where})" if where else "")


def _check_row(rid: str, organ_key, year, twins: list[str], summary: list[tuple[str, dict]],
               differ: list[tuple[str, Comparison, bool]], paths: dict[str, str], unlisted: int = 0) -> dict:
    base = {"report_id": rid, "check_name": CHECK_NAME, "severity": "error", "expected": None, "actual": None,
            "location": None, "details": "[]"}
    me = paths.get(rid, rid)
    if not twins:
        why = "organ or year unknown" if organ_key is None or year is None else "no other source for this organ and year"
        return dict(base, passed=True, message=why)
    if differ:
        details = []
        for twin, c, mine in differ:
            this, that = (c.own, c.other) if mine else (c.other, c.own)
            details.append({"cell": ".".join(c.own.key), "this_file": me, "this_reading": _reading(this),
                            "other_file": paths.get(twin, twin), "other_reading": _reading(that), "why": c.note})
        first_twin, first, mine = differ[0]
        this, that = (first.own, first.other) if mine else (first.other, first.own)
        others = sorted({paths.get(t, t) for t, _, _ in differ})
        named = "; ".join(f"{d['cell']}: {d['this_reading']} vs {d['other_reading']}" for d in details[:MESSAGE_CELLS])
        total = len(differ) + unlisted
        more = f"; … {total - MESSAGE_CELLS} more" if total > MESSAGE_CELLS else ""
        if unlisted:
            more += f" (details list the first {DIFFERENT_SHOWN} of each different report)"
        compared = sum(n["cells_compared"] for t, n in summary if t in {t for t, _, _ in differ})
        if compared and total * 2 > compared:
            named = f"more than half of {compared} cells, so rather two different reports than two copies of one; {named}"
        return dict(base, passed=False, expected=_token(that.value).replace("_", "blank"),
                    actual="unresolved" if this.how == "unresolved" else _token(this.value).replace("_", "blank"),
                    location=f"{'.'.join(first.own.key)}: {me} vs {paths.get(first_twin, first_twin)}",
                    message=f"{me} and {', '.join(others)} (same organ and year) differ in {total} cells: {named}{more}",
                    details=json.dumps(details, ensure_ascii=False))
    parts = []
    for twin, n in summary:
        s = f"{paths.get(twin, twin)}: {n['cells_equal']} of {n['cells_compared']} cells equal"
        if n["cells_decided"]:
            s += f", {n['cells_decided']} unresolved here decided by agreement"
        if n["cells_filled"]:
            s += f", {n['cells_filled']} missing here read there"
        if n["cells_open"]:
            s += f", {n['cells_open']} left open"
        if not n["cells_compared"]:
            s += " (no standard tables in common: nothing to compare)"
        parts.append(s)
    return dict(base, passed=True, message="agrees with " + "; ".join(parts))
