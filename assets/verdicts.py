"""`report_verdicts`: one partition per report, keyed `2023·深圳市司法局·eb74ed5b`.

A reviewer's unit. Each partition's page carries the report's organ, year, form, status,
source path and its findings (numbers and source lines); its `verdict` check says Passed or
Failed per report on the check's Partitions tab. The five review groups (the form's identities,
completeness, prose against tables, year to year, two files of one report) are store-wide checks
on `check_results`.

Two events per report, because each event costs milliseconds in Dagster's default SQLite
storage (README, "Reviewing": measured): the materialization first, then the verdict evaluation
naming it (Dagster keeps a partition's check status only while its latest evaluation targets its
latest materialization).
Partitions follow the store: a report's key is added when it is loaded and removed when its file
leaves the drop folder, so what the asset shows is the whole store, not the last run.
"""


import time

import dagster as dg
from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluationTargetMaterializationData,
)

from pipeline.store.db import connect, sql

from .findings import ReportFindings, findings_md, md_table, numbers_line, read_findings
from .resources import GovReportStore

reports_partitions = dg.DynamicPartitionsDefinition(name="reports")
REPORT_VERDICTS = dg.AssetKey("report_verdicts")
VERDICT = "verdict"
VERDICT_DEPS = ["reports", "check_results", "waivers"]
SUMMARY_ROWS = 50  # failing reports listed on the store-wide result; the failing_checks view has them all
FETCH_CHUNK = 500  # partitions per materialization lookup (SQLite's bound-variable limit)


def report_metadata(f: ReportFindings) -> dict:
    r = f.report
    return {
        "organ": r["organ"] or "", "year": str(r["year"] or "?"), "form": r["form"] or "", "status": r["status"],
        "source_path": r["source_path"] or "", "report_id": r["report_id"], "verdict": f.verdict(),
        "numbers": " · ".join(numbers_line(c) for c in f.failing()) or "—",
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


def publish_verdicts(context, db_path: str, report_ids: list[str], drop_dir: str | None = None) -> int:
    """Log each report's materialization, then its verdict evaluation against it, then the
    store-wide verdict. Returns the number of reports published. With `drop_dir`, failing
    checks of OCR'd reports show the pictures of their cells."""
    t0 = time.perf_counter()
    found = read_findings(db_path, sorted(set(report_ids)), drop_dir)
    by_key = {f.report["partition_key"]: f for f in found.values() if f.report["partition_key"]}
    for key, f in by_key.items():
        context.log_event(dg.AssetMaterialization(asset_key=REPORT_VERDICTS, partition=key, description=f.verdict(),
                                                  metadata=report_metadata(f)))
    t1 = time.perf_counter()
    targets = _targets(context.instance, list(by_key))
    for key, f in by_key.items():
        context.log_event(verdict_evaluation(f, key, targets.get(key)))
    context.log_event(store_verdict(db_path))  # last, so the check list shows the whole store, not the last report
    t2 = time.perf_counter()
    context.log.info(f"verdicts of {len(by_key)} reports: materializations {t1 - t0:.1f} s, check evaluations {t2 - t1:.1f} s")
    return len(by_key)


def verdict_evaluation(f: ReportFindings, key: str, target) -> dg.AssetCheckEvaluation:
    """One report: failed while any of its thirteen checks fails unwaived (error or warn)."""
    failing = f.failing()
    errors = [c for c in failing if c["severity"] == "error"]
    return dg.AssetCheckEvaluation(
        asset_key=REPORT_VERDICTS, check_name=VERDICT, partition=key, passed=not failing,
        severity=dg.AssetCheckSeverity.ERROR if errors or not failing else dg.AssetCheckSeverity.WARN,
        description=f.verdict()[:1000], target_materialization_data=target,
        # small on purpose: the check's pages load every evaluation's metadata; the evidence
        # (findings) is on the report's materialization, one click away
        metadata={"organ": f.report["organ"] or "", "year": str(f.report["year"] or "?"),
                  "numbers": " · ".join(numbers_line(c) for c in failing) or "—"},
    )


def store_verdict(db_path: str) -> dg.AssetCheckEvaluation:
    """The verdict over the whole store (no partition): failed while any report still fails
    a check at error level, unwaived — whatever the last run touched."""
    con = connect(db_path, read_only=True)
    try:
        total = con.execute("SELECT count(*) FROM reports").fetchone()[0]
        queue = con.execute("SELECT count(*) FROM review_queue").fetchone()[0]
        warn_only = con.execute(sql("count_warn_only_reports")).fetchone()[0]
        top = review_queue_md(con, SUMMARY_ROWS)
    finally:
        con.close()
    return dg.AssetCheckEvaluation(
        asset_key=REPORT_VERDICTS, check_name=VERDICT, passed=queue == 0,
        severity=dg.AssetCheckSeverity.ERROR if queue else dg.AssetCheckSeverity.WARN,
        description=f"whole store: {queue} of {total} reports fail at error level, {warn_only} more only warn; "
                    "per-report verdicts on the Partitions tab",
        metadata={"reports": f"{total} in the store, {queue} to review, {warn_only} warn only",
                  "review_queue": dg.MetadataValue.md(top)},
    )


def review_queue_md(con, limit: int) -> str:
    cols = ["partition_key", "organ", "year", "error_checks", "numbers"]
    rows = [dict(zip(cols, r)) for r in con.execute(f"SELECT {', '.join(cols)} FROM review_queue LIMIT ?", [limit]).fetchall()]  # noqa: S608
    return md_table(rows, limit) or "The queue is empty: no unwaived error-level findings."


@dg.multi_asset(
    specs=[dg.AssetSpec(REPORT_VERDICTS, partitions_def=reports_partitions, skippable=True, deps=VERDICT_DEPS,
                        group_name="govreport", kinds={"duckdb"},
                        description="One partition per report (year·organ·hash): its verdict, and findings with numbers and source lines.")],
    check_specs=[dg.AssetCheckSpec(VERDICT, asset=REPORT_VERDICTS, partitions_def=reports_partitions,
                                   description="Per report: passed when none of its thirteen checks fails unwaived; the findings "
                                               "list each failing check with its numbers and source lines.")],
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
    n = publish_verdicts(context, db, ids, govreport.resolved_drop_dir())
    context.log.info(f"published {n} of {len(keys)} selected reports" + ("" if n == len(keys) else "; the others are no longer in the store"))
    yield from ()
