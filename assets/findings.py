"""A report's findings, read from the store and written as the markdown a reviewer reads.

Pure formatting over rows of the published store: no Dagster imports, so the same text is
what the UI shows and what the tests assert on.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field

from pipeline.check.review_groups import GROUP_OF, REVIEW_GROUPS
from pipeline.store.db import connect

REPORT_COLUMNS = ["report_id", "partition_key", "organ", "year", "form", "status", "source_path", "title", "division_code"]
CHECK_COLUMNS = ["report_id", "check_name", "severity", "passed", "expected", "actual", "location", "message", "details",
                 "waived", "waiver_reason", "waived_by", "waived_at"]
DETAIL_ROWS = 8  # evidence rows shown per failing check; the rest stay in check_results.details


@dataclass
class ReportFindings:
    report: dict
    checks: list[dict] = field(default_factory=list)
    ocr_cells: list[dict] = field(default_factory=list)  # OCR'd cells with their page and box (issue 16)
    drop_dir: str | None = None  # where the source file is, to cut the cells' pictures from it

    def failing(self, group: str | None = None, include_waived: bool = False) -> list[dict]:
        """Unwaived failures (errors first: they are what a reviewer reads first)."""
        rows = [c for c in self.checks if not c["passed"] and (include_waived or not c["waived"])
                and (group is None or GROUP_OF[c["check_name"]] == group)]
        return sorted(rows, key=lambda c: c["severity"] != "error")

    def verdict(self) -> str:
        errors = [c["check_name"] for c in self.failing() if c["severity"] == "error"]
        warns = [c["check_name"] for c in self.failing() if c["severity"] == "warn"]
        waived = [c["check_name"] for c in self.checks if c["waived"] and not c["passed"]]
        parts = ([f"FAILS {', '.join(errors)}"] if errors else []) + ([f"warns {', '.join(warns)}"] if warns else [])
        parts += [f"waived {', '.join(waived)}"] if waived else []
        return "; ".join(parts) or "passes every check"


def read_findings(db_path: str, report_ids: list[str], drop_dir: str | None = None) -> dict[str, ReportFindings]:
    """The reports (by id) with every check row and its waiver, from the published store;
    with `drop_dir`, OCR'd reports also get their cells' boxes, for the pictures."""
    if not report_ids:
        return {}
    con = connect(db_path, read_only=True)
    try:
        want_table(con, "report_id", report_ids)
        out = {r[0]: ReportFindings(dict(zip(REPORT_COLUMNS, r))) for r in con.execute(
            f"SELECT {', '.join(f'r.{c}' for c in REPORT_COLUMNS)} FROM reports r JOIN want USING (report_id)").fetchall()}  # noqa: S608
        rows = con.execute(
            f"""SELECT {', '.join(f'k.{c}' for c in CHECK_COLUMNS[:9])}, w.report_id IS NOT NULL, w.reason, w.waived_by, w.waived_at
                FROM check_results k JOIN want USING (report_id)
                LEFT JOIN (SELECT DISTINCT ON (report_id, check_name) * FROM waivers ORDER BY report_id, check_name, waived_at DESC) w
                USING (report_id, check_name)""").fetchall()  # noqa: S608
        for row in rows:
            rec = dict(zip(CHECK_COLUMNS, row))
            rec["waived"] = bool(rec["waived"]) and not rec["passed"]
            if rec["report_id"] in out:
                out[rec["report_id"]].checks.append(rec)
        if drop_dir:
            for f in out.values():
                f.drop_dir = drop_dir
            for row in con.execute(
                    """SELECT c.report_id, c.table_name, c.row_key, c.column_key, c.page, c.box, c.value, c.raw, c.how, c.confidence
                       FROM report_cells c JOIN want USING (report_id) WHERE c.box IS NOT NULL""").fetchall():
                cell = dict(zip(("report_id", "table_name", "row_key", "column_key", "page", "box", "value", "raw", "how", "confidence"), row))
                if cell["report_id"] in out:
                    out[cell["report_id"]].ocr_cells.append(cell)
        return out
    finally:
        con.close()


def want_table(con, column: str, values: list[str]) -> None:
    """A temporary table `want(column)` of these values, in one statement: a row-by-row
    executemany took 3.9 s for 10,000 report ids here (the machine loaded), this 0.013 s."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE want AS SELECT unnest(?::VARCHAR[]) AS {column}", [values])


def _esc(v) -> str:
    return str("" if v is None else v).replace("|", "\\|").replace("\n", " ")[:240]


def md_table(rows: list[dict], limit: int = 25) -> str:
    if not rows:
        return ""
    cols = list(rows[0])
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    out += ["| " + " | ".join(_esc(r.get(c)) for c in cols) + " |" for r in rows[:limit]]
    if len(rows) > limit:
        out.append(f"\n… {len(rows) - limit} more")
    return "\n".join(out)


def numbers_line(c: dict) -> str:
    """One failing check in a line: its numbers and where they are."""
    if c["expected"] is None and c["actual"] is None:
        return f"{c['check_name']} ({c['severity']}): {_esc(c['message'])[:160]}"
    return f"{c['check_name']} ({c['severity']}): expected {c['expected']}, actual {c['actual']}" + (f" — {c['location']}" if c["location"] else "")


def _status(c: dict) -> str:
    return "passed" if c["passed"] else f"waived ({c['waiver_reason']} — {c['waived_by']}, {c['waived_at']})" if c["waived"] else f"FAILED ({c['severity']})"


def findings_md(f: ReportFindings, checks: list[dict]) -> str:
    """The failing checks (with their numbers and the evidence rows: source lines, raw text,
    how each cell was read) followed by one line per passing check."""
    r = f.report
    head = f"**{r['organ'] or '?'} {r['year'] or '?'}** · form {r['form']} · status {r['status']} · `{r['source_path']}`\n\n"
    bad = [c for c in checks if not c["passed"]]
    if not bad:
        return head + "All passed:\n\n" + "\n".join(f"- `{c['check_name']}`: {_esc(c['message'])}" for c in checks)
    parts = [head, md_table([{"check": c["check_name"], "status": _status(c), "expected": c["expected"], "actual": c["actual"],
                               "where": c["location"], "message": c["message"]} for c in bad])]
    pictured: set[tuple[str, str, str]] = set()  # a cell two checks name is pictured once
    for c in bad:
        details = json.loads(c["details"] or "[]")
        if details:
            parts.append(f"\n\n**{c['check_name']}** — evidence:\n\n" + md_table(details, DETAIL_ROWS))
        parts.append(cell_pictures(f, c, pictured))
    good = [c for c in checks if c["passed"]]
    if good:
        parts.append("\n\nPassed: " + ", ".join(f"`{c['check_name']}`" for c in good))
    return "".join(parts)


def involved_cells(f: ReportFindings, check: dict) -> list[dict]:
    """The OCR'd cells a failing check names (``row.column`` in its details or message), or,
    for the completeness checks, the cells OCR left unresolved."""
    if not f.ocr_cells:
        return []
    text = (check["details"] or "") + " " + (check["message"] or "")
    named = [c for c in f.ocr_cells if re.search(rf"(?<![\w.]){re.escape(c['row_key'])}\.{re.escape(c['column_key'])}(?!\w)", text)]
    if not named and check["check_name"] in ("tables_complete", "split_resolution"):
        named = [c for c in f.ocr_cells if c["how"] == "unresolved"]
    return named


def cell_pictures(f: ReportFindings, check: dict, pictured: set | None = None) -> str:
    """The involved cells cut from the report's page, as images in the markdown (the Dagster
    UI shows data: URIs), each with what was read. Cells in `pictured` (shown for an earlier
    check of the same report) are named, not pictured again; the ones shown here are added."""
    pictured = set() if pictured is None else pictured
    involved = involved_cells(f, check)
    cells = [c for c in involved if (c["table_name"], c["row_key"], c["column_key"]) not in pictured]
    above = len(involved) - len(cells)
    note = f"\n\n**{check['check_name']}** — {above} of its cells pictured above." if above else ""
    if not cells or not f.drop_dir:
        return note
    from pipeline.read.crops import MAX_CROPS, cell_crops
    from pipeline.read.dropfolder import MAX_SCAN_BYTES, read_regular

    try:
        data = read_regular(f.drop_dir, f.report["source_path"], MAX_SCAN_BYTES)
    except Exception:  # noqa: BLE001 - the file left the folder: findings without pictures
        return note
    cells = cells[:MAX_CROPS]
    pngs = cell_crops(data, [(c["page"], tuple(int(v) for v in c["box"].split(","))) for c in cells])
    shown = []
    for c, png in zip(cells, pngs):
        if png is None:
            continue
        value = "unresolved" if c["how"] == "unresolved" else ("blank" if c["value"] is None else f"{c['value']:f}".rstrip("0").rstrip("."))
        conf = f", confidence {c['confidence']:.2f}" if c["confidence"] is not None else ""
        pictured.add((c["table_name"], c["row_key"], c["column_key"]))
        shown.append(f"`{c['row_key']}.{c['column_key']}` page {c['page']}: **{value}** [{c['how']}{conf}]\n\n"
                     f"![{c['row_key']}.{c['column_key']}](data:image/png;base64,{base64.b64encode(png).decode()})")
    return ((f"\n\n**{check['check_name']}** — the cells on the page:\n\n" + "\n\n".join(shown)) if shown else "") + note


def group_checks(f: ReportFindings, group: str) -> list[dict]:
    order = REVIEW_GROUPS[group]
    return sorted((c for c in f.checks if GROUP_OF[c["check_name"]] == group), key=lambda c: order.index(c["check_name"]))
