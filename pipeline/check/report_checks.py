"""Per-report data-quality checks: pure validators that return findings.

Each check returns one ``CheckResult`` per report, with the numbers a reviewer needs to tell a
source error from an extraction error without opening the file: the identity with its values,
the cells' raw text and lines, and how each cell was obtained (a sum that fails on cells read
directly points at the source; one that fails on split or reordered cells may be ours).
The Dagster layer only turns these into check evaluations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from pipeline.extract.cells import Cell, TableResult, is_read
from pipeline.form import IDENTITY_NAMES, FormSpec
from pipeline.identities import InstanceResult, evaluate_table, identities_of
from pipeline.extract.prose import TOTALS, Metric

PROSE_TABLE_PAIRS = {  # prose metric → (row_key) of applications.total it should equal
    "applications_received": "new_received",
    "applications_answered": "results_total",
    "carried_over_in": "carried_over_in",
    "carried_over_out": "carried_over_out",
}

CHECK_NAMES = (
    "document_readable",
    *IDENTITY_NAMES,
    "tables_complete",
    "split_resolution",
    "blank_cells",
    "prose_consistency",
    "prose_sums",
    "metadata_complete",
    "carry_over_continuity",
    "normative_documents_stock",
    "sources_agree",
)


@dataclass
class CheckResult:
    check_name: str
    passed: bool
    severity: str  # error · warn
    expected: str | None = None
    actual: str | None = None
    location: str | None = None
    message: str = ""
    details: list[dict] = field(default_factory=list)  # rows for the UI's markdown table


def _fmt(v: Decimal | None) -> str:
    return "blank" if v is None else format(v.normalize(), "f") if v != v.to_integral() else str(int(v))


def _cell_text(cell: Cell | None, line_of) -> str:
    if cell is None:
        return "missing"
    where = f" (line {line_of(cell.offset)})" if cell.offset is not None else ""
    how = cell.how + (f", {cell.note}" if cell.note else "")
    return f"{_fmt(cell.value)} ← '{cell.raw}' [{how}]{where}"


def _verdict(cells: list[Cell]) -> str:
    if all(c.how == "read" and not c.note for c in cells):
        return "every cell read directly: likely a source error"
    if all(c.how == "ocr" for c in cells):
        return "every cell OCR'd with confidence: a source error, or a misread the identities cannot place (see the crops)"
    return "some cells split or reordered by us: check the extraction"


def identity_checks(spec: FormSpec, tables: dict[str, TableResult], line_of) -> list[CheckResult]:
    out = []
    for table_name in ("applications", "review_litigation"):
        table = spec.tables[table_name]
        result = tables[table_name]
        by_key = {(c.row_key, c.column_key): c for c in result.cells}
        grid = {k: c.value for k, c in by_key.items() if is_read(c.how)}
        blanks = {k for k, c in by_key.items() if c.how in ("read", "ocr") and c.value is None}
        instances = evaluate_table(table, grid, blanks)
        for name in (ident.name for ident in identities_of(table)):
            mine = [i for i in instances if i.identity == name]
            out.append(_identity_result(name, mine, by_key, line_of))
    return out


def _identity_result(name: str, instances: list[InstanceResult], by_key, line_of) -> CheckResult:
    violated = [i for i in instances if i.status == "violated"]
    incomplete = [i for i in instances if i.status == "incomplete"]
    implied = [i for i in instances if i.status == "implied"]
    details = []
    for inst in violated + implied:
        cells = [by_key.get(k) for k in (*inst.left, *inst.right)]
        details.append({
            "where": inst.location,
            "status": inst.status,
            "left": " + ".join(f"{k[0]}.{k[1]}={_fmt(by_key[k].value) if k in by_key else '?'}" for k in inst.left) + f" = {_fmt(inst.left_sum)}",
            "right": " + ".join(f"{k[0]}.{k[1]}={_fmt(by_key[k].value) if k in by_key else '?'}" for k in inst.right) + f" = {_fmt(inst.right_sum)}",
            "implied": (f"{inst.implied_cell[0]}.{inst.implied_cell[1]} = {_fmt(inst.implied_value)}" if inst.implied_cell
                        else "blank cells sum to the difference" if inst.status == "implied" else ""),
            "cells": "; ".join(_cell_text(c, line_of) for c in cells if c is not None and c.value is not None)[:600],
            "verdict": _verdict([c for c in cells if c is not None]) if inst.status == "violated" else "",
        })
    if violated:
        first = violated[0]
        return CheckResult(
            name, False, "error", _fmt(first.right_sum), _fmt(first.left_sum), first.location,
            f"{len(violated)} of {len(instances)} instances fail; first: {first.location}: {details[0]['left']} ≠ {details[0]['right']} ({details[0]['verdict']})",
            details,
        )
    if incomplete and len(incomplete) == len(instances):
        return CheckResult(name, False, "warn", None, None, None, "not evaluated: the table's cells are missing or unresolved", details)
    msg = f"{len(instances) - len(incomplete)} instances hold"
    if implied:
        msg += f"; {len(implied)} hold only with blank cells read as the identity implies (see details)"
    if incomplete:
        msg += f"; {len(incomplete)} not evaluated (cells missing or unresolved)"
    return CheckResult(name, True, "warn" if implied else "error", None, None, None, msg, details)


def completeness_checks(tables: dict[str, TableResult], line_of) -> list[CheckResult]:
    cells = [c for t in tables.values() for c in t.cells]
    missing = [c for c in cells if c.how == "missing"]
    unresolved = [c for c in cells if c.how == "unresolved"]
    blank = [c for c in cells if c.how in ("read", "ocr") and c.value is None]
    split = [c for c in cells if c.how == "split"]
    absent_tables = [t.name for t in tables.values() if not t.found]
    out = []
    if missing or unresolved:
        rows: dict[tuple, dict] = {}
        for c in missing + unresolved:
            rows.setdefault((c.table, c.row_key, c.how), {"table": c.table, "row": c.row_key, "how": c.how, "why": c.note})
        msg = f"{len(missing)} cells missing, {len(unresolved)} unresolved of {len(cells)}"
        if absent_tables:
            msg += f"; tables not found: {', '.join(absent_tables)}"
        out.append(CheckResult("tables_complete", False, "error", str(len(cells)), str(len(cells) - len(missing) - len(unresolved)), ", ".join(absent_tables) or None, msg, list(rows.values())))
    else:
        out.append(CheckResult("tables_complete", True, "error", str(len(cells)), str(len(cells)), None, f"all {len(cells)} cells of the form located ({len(blank)} printed blank)"))
    if unresolved:
        rows = {}
        for c in unresolved:
            rows.setdefault((c.table, c.row_key), {"table": c.table, "row": c.row_key, "raw": c.raw, "line": line_of(c.offset) if c.offset is not None else None, "why": c.note, "candidates": " | ".join(c.candidates[:6])})
        out.append(CheckResult("split_resolution", False, "error", "one reading", f"{len(rows)} rows undecided", None,
                               "run-together numbers that the identities do not decide: " + "; ".join(f"{r['table']}.{r['row']}: {r['why']}" for r in rows.values()), list(rows.values())))
    else:
        out.append(CheckResult("split_resolution", True, "error", None, None, None, f"{len(split)} cells split from run-together numbers, each decided by the identities" if split else "no run-together numbers"))
    if blank:
        out.append(CheckResult("blank_cells", False, "warn", "0 blank", f"{len(blank)} blank", None,
                               f"{len(blank)} cells printed blank (recorded as missing values, not zeros); the identity checks say what they must be",
                               [{"table": c.table, "row": c.row_key, "column": c.column_key, "line": line_of(c.offset) if c.offset is not None else None} for c in blank[:60]]))
    else:
        out.append(CheckResult("blank_cells", True, "warn", None, None, None, "no blank cells"))
    return out


def prose_consistency(metrics: list[Metric], tables: dict[str, TableResult] | None, line_of) -> CheckResult:
    """Numbers stated in the text against the table, and against each other."""
    stated = {}
    for m in metrics:
        if m.origin == "prose" and m.value is not None and m.metric in PROSE_TABLE_PAIRS:
            stated.setdefault(m.metric, m)
    if not stated:
        return CheckResult("prose_consistency", True, "warn", None, None, None, "no application counts stated in the text")
    findings = []
    keys = ("carried_over_in", "applications_received", "applications_answered", "carried_over_out")
    if all(k in stated for k in keys):
        left = stated["carried_over_in"].value + stated["applications_received"].value
        right = stated["applications_answered"].value + stated["carried_over_out"].value
        if left != right:
            findings.append({"severity": "error", "what": "prose does not balance",
                             "expected": f"结转 {stated['carried_over_in'].value} + 新收 {stated['applications_received'].value} = {left}",
                             "actual": f"办结 {stated['applications_answered'].value} + 结转下年 {stated['carried_over_out'].value} = {right}",
                             "line": line_of(stated["applications_received"].offset), "sentence": stated["applications_received"].sentence[:200]})
    if tables is not None:
        apps = {(c.row_key, c.column_key): c for c in tables["applications"].cells}
        for metric, row_key in PROSE_TABLE_PAIRS.items():
            cell = apps.get((row_key, "total"))
            if metric in stated and cell is not None and cell.value is not None and Decimal(stated[metric].value) != cell.value:
                findings.append({"severity": "warn", "what": f"text says {metric} = {stated[metric].value}, table {row_key}.total = {_fmt(cell.value)}",
                                 "expected": _fmt(cell.value), "actual": str(stated[metric].value),
                                 "line": line_of(stated[metric].offset), "sentence": stated[metric].sentence[:200]})
    if not findings:
        return CheckResult("prose_consistency", True, "error", None, None, None,
                           "stated counts agree: " + ", ".join(f"{k}={v.value}" for k, v in stated.items()))
    sev = "error" if any(f["severity"] == "error" for f in findings) else "warn"
    first = findings[0]
    return CheckResult("prose_consistency", False, sev, first["expected"], first["actual"], f"line {first['line']}",
                       "; ".join(f["what"] + (f" ({f['expected']} vs {f['actual']})" if f["what"] == "prose does not balance" else "") for f in findings), findings)


def prose_sums(metrics: list[Metric], line_of) -> CheckResult:
    """A total stated with its parts (其中 …) must equal their sum; unresolved 统计表 cuts fail."""
    findings, checked = [], 0
    for key in TOTALS:
        for origin in ("prose", "stat_table"):
            total = next((m for m in metrics if m.metric == key and m.origin == origin and m.value is not None), None)
            parts = [m for m in metrics if m.origin == origin and m.metric.startswith(key + ".") and m.metric.count(".") == 1
                     and not m.metric.endswith(".cumulative") and m.value is not None]
            if total is None or not parts:
                continue
            known = all(p.metric.split(".")[1].isascii() for p in parts)
            s = sum(p.value for p in parts)
            if s == total.value or known:
                checked += 1
                if s != total.value:
                    findings.append({"total": key, "origin": origin, "expected": total.value, "actual": s, "line": line_of(total.offset),
                                     "parts": " + ".join(f"{p.metric.split('.')[1]} {p.value}" for p in parts)})
    unresolved = [m for m in metrics if m.value is None]
    for m in unresolved:
        findings.append({"total": m.metric, "origin": m.origin, "expected": "one cut", "actual": m.note, "line": line_of(m.offset), "parts": ""})
    if findings:
        f = findings[0]
        return CheckResult("prose_sums", False, "error", str(f["expected"]), str(f["actual"]), f"line {f['line']}",
                           "; ".join(f"{x['total']}: {x['parts'] or ''} = {x['actual']}, stated {x['expected']}" for x in findings), findings)
    return CheckResult("prose_sums", True, "error", None, None, None, f"{checked} stated totals equal the sum of their stated parts" if checked else "no totals stated with parts")
