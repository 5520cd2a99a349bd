"""`report_verdicts`: one partition per report, keyed `2023·深圳市司法局·eb74ed5b`.

A reviewer's unit. Each partition's page carries the report's organ, year, form, status,
source path and its findings (numbers and source lines); its four checks — the review groups of
pipeline/review_groups.py — say Passed or Failed per report on each check's Partitions tab.

The events are logged by the run that loaded the reports into the store: for each report, its
materialization first, then its check evaluations naming that materialization (Dagster keeps a
partition's check status only while its latest evaluation targets its latest materialization).
Partitions follow the store: a report's key is added when it is loaded and removed when its file
leaves the drop folder, so what the asset shows is the whole store, not the last run.
"""


import dagster as dg
from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluationTargetMaterializationData,
)

from pipeline.review_groups import GROUP_DESCRIPTIONS, REVIEW_GROUPS
from pipeline.store import connect, sql

from .findings import ReportFindings, findings_md, group_checks, md_table, numbers_line, read_findings
from .resources import GovReportStore

reports_partitions = dg.DynamicPartitionsDefinition(name="reports")
REPORT_VERDICTS = dg.AssetKey("report_verdicts")
VERDICT_DEPS = ["reports", "check_results", "waivers"]
SUMMARY_ROWS = 50  # failing reports listed on the store-wide result; the failing_checks view has them all
FETCH_CHUNK = 500  # partitions per materialization lookup (SQLite's bound-variable limit)


def report_metadata(f: ReportFindings) -> dict:
    r = f.report
    return {
        "organ": r["organ"] or "", "year": str(r["year"] or "?"), "form": r["form"] or "", "status": r["status"],
        "source_path": r["source_path"] or "", "report_id": r["report_id"], "verdict": f.verdict(),
        "numbers": "\n".join(numbers_line(c) for c in f.failing()) or "—",
        "findings": dg.MetadataValue.md(findings_md(f, f.checks)),
    }


def sync_partitions(instance: dg.DagsterInstance, db_path: str) -> tuple[list[str], list[str]]:
    """Make the partitions the store's reports: add new keys, delete keys whose report is gone."""
    con = connect(db_path, read_only=True)
    try:
        in_store = {k for (k,) in con.execute("SELECT partition_key FROM reports WHERE partition_key IS NOT NULL").fetchall()}
    finally:
        con.close()
    existing = set(instance.get_dynamic_partitions(reports_partitions.name))
    added = sorted(in_store - existing)
    gone = sorted(existing - in_store)
    if added:
        instance.add_dynamic_partitions(reports_partitions.name, added)
    for key in gone:
        instance.delete_dynamic_partition(reports_partitions.name, key)
    return added, gone


def _targets(instance: dg.DagsterInstance, keys: list[str]) -> dict[str, AssetCheckEvaluationTargetMaterializationData]:
    out = {}
    for i in range(0, len(keys), FETCH_CHUNK):
        chunk = keys[i: i + FETCH_CHUNK]
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=REPORT_VERDICTS, asset_partitions=chunk), limit=len(chunk)).records
        for rec in records:  # newest first: keep the first seen per partition
            out.setdefault(rec.partition_key, AssetCheckEvaluationTargetMaterializationData(
                storage_id=rec.storage_id, run_id=rec.run_id, timestamp=rec.timestamp))
    return out


def publish_verdicts(context, db_path: str, report_ids: list[str]) -> int:
    """Log each report's materialization, then its four check evaluations against it.
    Returns the number of reports published."""
    found = read_findings(db_path, sorted(set(report_ids)))
    by_key = {f.report["partition_key"]: f for f in found.values() if f.report["partition_key"]}
    for key, f in by_key.items():
        context.log_event(dg.AssetMaterialization(asset_key=REPORT_VERDICTS, partition=key, description=f.verdict(),
                                                  metadata=report_metadata(f)))
    targets = _targets(context.instance, list(by_key))
    for key, f in by_key.items():
        for group in REVIEW_GROUPS:
            context.log_event(group_evaluation(f, group, key, targets.get(key)))
    for group in REVIEW_GROUPS:  # last, so the check list shows the whole store, not the last report
        context.log_event(store_evaluation(db_path, group))
    return len(by_key)


def store_evaluation(db_path: str, group: str) -> dg.AssetCheckEvaluation:
    """The group over the whole store (no partition): failed while any report still fails it
    unwaived — whatever the last run touched. Lists the failing reports, errors first."""
    con = connect(db_path, read_only=True)
    try:
        rows = con.execute(sql("select_failing_by_group"), [list(REVIEW_GROUPS[group])]).fetchall()
        total = con.execute("SELECT count(*) FROM reports").fetchone()[0]
    finally:
        con.close()
    cols = ["partition_key", "severity", "checks", "first_message"]
    table = [dict(zip(cols, r)) for r in rows]
    errors = sum(r["severity"] == "error" for r in table)
    return dg.AssetCheckEvaluation(
        asset_key=REPORT_VERDICTS, check_name=group, passed=not table,
        severity=dg.AssetCheckSeverity.ERROR if errors else dg.AssetCheckSeverity.WARN,
        description=f"whole store: {len(table)} of {total} reports fail ({errors} at error level); per-report results on the Partitions tab",
        metadata={"reports_failing": len(table), "reports_in_store": total,
                  "failing_reports": dg.MetadataValue.md(md_table(table, SUMMARY_ROWS) or "none")},
    )


def group_evaluation(f: ReportFindings, group: str, key: str, target) -> dg.AssetCheckEvaluation:
    failing = f.failing(group)
    errors = [c for c in failing if c["severity"] == "error"]
    checks = group_checks(f, group)
    if failing:
        description = "; ".join(f"{c['check_name']}: {c['message']}" for c in failing)
    else:
        waived = [c["check_name"] for c in checks if c["waived"]]
        description = "passed" + (f" (waived: {', '.join(waived)})" if waived else "")
    return dg.AssetCheckEvaluation(
        asset_key=REPORT_VERDICTS, check_name=group, partition=key, passed=not failing,
        severity=dg.AssetCheckSeverity.ERROR if errors or not failing else dg.AssetCheckSeverity.WARN,
        description=description[:1000], target_materialization_data=target,
        metadata={"organ": f.report["organ"] or "", "year": str(f.report["year"] or "?"),
                  "findings": dg.MetadataValue.md(findings_md(f, checks))},
    )


@dg.multi_asset(
    specs=[dg.AssetSpec(REPORT_VERDICTS, partitions_def=reports_partitions, skippable=True, deps=VERDICT_DEPS,
                        group_name="govreport", kinds={"duckdb"},
                        description="One partition per report (year·organ·hash): its verdict, findings with numbers and source lines, "
                                    "and four checks — form_identities, completeness, prose_vs_tables, year_to_year.")],
    check_specs=[dg.AssetCheckSpec(g, asset=REPORT_VERDICTS, partitions_def=reports_partitions, description=GROUP_DESCRIPTIONS[g])
                 for g in REVIEW_GROUPS],
    can_subset=True,
    pool="duckdb",
)
def report_verdicts(context: dg.AssetExecutionContext, govreport: GovReportStore):
    """Re-publish the selected reports' verdicts from the store (the ingest run does this for
    every report it loads; use this after editing the waivers file, or to refresh a page)."""
    db = govreport.resolved_db_path()
    keys = list(context.partition_keys)
    con = connect(db, read_only=True)
    try:
        con.execute("CREATE TEMP TABLE want (k VARCHAR)")
        con.executemany("INSERT INTO want VALUES (?)", [[k] for k in keys])
        ids = [r for (r,) in con.execute("SELECT report_id FROM reports WHERE partition_key IN (SELECT k FROM want)").fetchall()]
    finally:
        con.close()
    n = publish_verdicts(context, db, ids)
    context.log.info(f"published {n} of {len(keys)} selected reports" + ("" if n == len(keys) else "; the others are no longer in the store"))
    yield from ()
