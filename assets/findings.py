"""A report's findings, read from the store and written as the markdown a reviewer reads.

Pure formatting over rows of the published store: no Dagster imports, so the same text is
what the UI shows and what the tests assert on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from pipeline.check.review_groups import GROUP_OF, REVIEW_GROUPS
from pipeline.store.db import connect

REPORT_COLUMNS = ["report_id", "partition_key", "organ", "year", "form", "status", "source_path", "title"]
CHECK_COLUMNS = ["report_id", "check_name", "severity", "passed", "expected", "actual", "location", "message", "details",
                 "waived", "waiver_reason", "waived_by", "waived_at"]
DETAIL_ROWS = 8  # evidence rows shown per failing check; the rest stay in check_results.details


@dataclass
class ReportFindings:
    report: dict
    checks: list[dict] = field(default_factory=list)

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


def read_findings(db_path: str, report_ids: list[str]) -> dict[str, ReportFindings]:
    """The reports (by id) with every check row and its waiver, from the published store."""
    if not report_ids:
        return {}
    con = connect(db_path, read_only=True)
    try:
        con.execute("CREATE TEMP TABLE want (report_id VARCHAR)")
        con.executemany("INSERT INTO want VALUES (?)", [[r] for r in report_ids])
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
        return out
    finally:
        con.close()


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
    for c in bad:
        details = json.loads(c["details"] or "[]")
        if details:
            parts.append(f"\n\n**{c['check_name']}** — evidence:\n\n" + md_table(details, DETAIL_ROWS))
    good = [c for c in checks if c["passed"]]
    if good:
        parts.append("\n\nPassed: " + ", ".join(f"`{c['check_name']}`" for c in good))
    return "".join(parts)


def group_checks(f: ReportFindings, group: str) -> list[dict]:
    order = REVIEW_GROUPS[group]
    return sorted((c for c in f.checks if GROUP_OF[c["check_name"]] == group), key=lambda c: order.index(c["check_name"]))
