"""Turn the store's check rows into Dagster check evaluations a reviewer can read."""

from __future__ import annotations

import json

import dagster as dg

from pipeline.checks import CHECK_NAMES
from pipeline.store import connect

CHECK_DESCRIPTIONS = {
    "document_readable": "The file decodes as text or HTML in a known encoding.",
    "applications_balance": "new_received + carried_over_in = results_total + carried_over_out, per column (printed in the form).",
    "applications_row_totals": "总计 = the six applicant columns summed, every row.",
    "applications_results_total": "（七）总计 = all result rows summed, per column.",
    "review_litigation_totals": "总计 = 维持 + 纠正 + 其他 + 尚未审结, each of the three groups.",
    "tables_complete": "Every cell of the form is located (read or split); missing tables are not zeros.",
    "split_resolution": "Run-together numbers were cut in exactly one way that satisfies the identities.",
    "blank_cells": "Cells printed blank (kept as missing values; the identities say what they must be).",
    "prose_consistency": "Counts stated in the text (新收/办结/结转) agree with the table and with each other.",
    "prose_sums": "Totals stated in prose equal the sum of their stated parts (其中 …).",
    "metadata_complete": "Issuing organ and report year were found.",
    "carry_over_continuity": "This year's carried_over_in = the same organ's carried_over_out the year before.",
    "normative_documents_stock": "in_force(Y) = in_force(Y−1) + issued(Y) − repealed(Y) (a warning).",
}
assert set(CHECK_DESCRIPTIONS) == set(CHECK_NAMES), "every check needs a description for the UI"


def read_results(db_path: str, report_ids: list[str]) -> tuple[dict[str, dict], dict[str, list[dict]]]:
    """(report row by id, check rows by id) for these reports, read-only."""
    con = connect(db_path, read_only=True)
    try:
        con.execute("CREATE TEMP TABLE want (report_id VARCHAR)")
        con.executemany("INSERT INTO want VALUES (?)", [[r] for r in report_ids])
        rep_cols = ["report_id", "organ", "year", "form", "status", "source_path"]
        reports = {r[0]: dict(zip(rep_cols, r)) for r in con.execute(
            f"SELECT {', '.join(rep_cols)} FROM reports WHERE report_id IN (SELECT report_id FROM want)").fetchall()}  # noqa: S608
        chk_cols = ["report_id", "check_name", "severity", "passed", "expected", "actual", "location", "message", "details"]
        checks: dict[str, list[dict]] = {}
        for row in con.execute(f"SELECT {', '.join(chk_cols)} FROM check_results WHERE report_id IN (SELECT report_id FROM want)").fetchall():  # noqa: S608
            checks.setdefault(row[0], []).append(dict(zip(chk_cols, row)))
        return reports, checks
    finally:
        con.close()


def _md_table(rows: list[dict], limit: int = 25) -> str:
    if not rows:
        return ""
    cols = list(rows[0])
    esc = lambda v: str("" if v is None else v).replace("|", "\\|").replace("\n", " ")[:300]  # noqa: E731
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    out += ["| " + " | ".join(esc(r.get(c)) for c in cols) + " |" for r in rows[:limit]]
    if len(rows) > limit:
        out.append(f"\n… {len(rows) - limit} more rows in check_results.details")
    return "\n".join(out)


def evaluation(asset_key: dg.AssetKey, report: dict, row: dict) -> dg.AssetCheckEvaluation:
    """One report's result for one check, as a per-partition evaluation."""
    details = json.loads(row["details"] or "[]")
    md = (f"**{report.get('organ') or '?'} {report.get('year') or '?'}** · form {report.get('form')} · `{report.get('source_path')}`\n\n"
          f"{row['message']}\n\n")
    if row["expected"] is not None or row["actual"] is not None:
        md += f"- expected: `{row['expected']}`\n- actual: `{row['actual']}`\n- where: {row['location'] or ''}\n\n"
    md += _md_table(details)
    return dg.AssetCheckEvaluation(
        asset_key=asset_key,
        check_name=row["check_name"],
        passed=bool(row["passed"]),
        partition=row["report_id"],
        severity=dg.AssetCheckSeverity.ERROR if row["severity"] == "error" else dg.AssetCheckSeverity.WARN,
        description=row["message"][:1000],
        metadata={
            "details": dg.MetadataValue.md(md),
            "organ": report.get("organ") or "",
            "year": report.get("year") or 0,
            "source_path": report.get("source_path") or "",
        },
    )


def run_summary(check_name: str, rows: list[dict], reports: dict[str, dict]) -> dg.AssetCheckResult:
    """The run-level result for one check: passed when no report in the run failed it."""
    failed = [r for r in rows if not r["passed"]]
    table = [{"report": r["report_id"], "organ": reports.get(r["report_id"], {}).get("organ"),
              "year": reports.get(r["report_id"], {}).get("year"), "severity": r["severity"], "message": r["message"]} for r in failed]
    errors = [r for r in failed if r["severity"] == "error"]
    return dg.AssetCheckResult(
        check_name=check_name,
        passed=not failed,
        severity=dg.AssetCheckSeverity.ERROR if errors else dg.AssetCheckSeverity.WARN,
        description=f"{len(failed)} of {len(rows)} reports in this run fail; per-report results are on each partition",
        metadata={"reports_in_run": len(rows), "reports_failing": len(failed),
                  "failing": dg.MetadataValue.md(_md_table(table) or "none")},
    )
