"""The report store as one asset partitioned by report, so each report's checks show on its
own partition; many reports are processed in one run (single-run backfills), never one run
per file."""


import dagster as dg

from pipeline.checks import CHECK_NAMES
from pipeline.ingest import run_ingest

from .checks_view import CHECK_DESCRIPTIONS, evaluation, read_results, run_summary
from .resources import GovReportStore

reports_partitions = dg.DynamicPartitionsDefinition(name="reports")
REPORT_TABLES = dg.AssetKey("report_tables")


@dg.asset(
    key=REPORT_TABLES,
    partitions_def=reports_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool="duckdb",
    group_name="govreport",
    kinds={"duckdb", "polars"},
    check_specs=[
        dg.AssetCheckSpec(name, asset=REPORT_TABLES, partitions_def=reports_partitions, description=CHECK_DESCRIPTIONS[name])
        for name in CHECK_NAMES
    ],
)
def report_tables(context: dg.AssetExecutionContext, govreport: GovReportStore):
    """Decode, normalize, extract and check the reports of this run's partitions, and load
    them into DuckDB (documents, reports, report_cells, prose_metrics, check_results).

    Each partition is one report (its key is the first 16 hex digits of the file's sha256).
    Every check is recorded per partition; the run-level result of a check summarises the
    run's reports."""
    keys = list(context.partition_keys)
    summary = run_ingest(govreport.resolved_drop_dir(), govreport.resolved_db_path(), batch_size=govreport.batch_size,
                         workers=govreport.workers or None, only_report_ids=set(keys))
    reports, checks = read_results(govreport.resolved_db_path(), keys)
    per_check: dict[str, list[dict]] = {name: [] for name in CHECK_NAMES}
    for rid in keys:
        report = reports.get(rid)
        if report is None:
            context.log.warning(f"report {rid} is not in the store (its file left the drop folder)")
            continue
        for row in checks.get(rid, []):
            context.log_event(evaluation(REPORT_TABLES, report, row))
            per_check[row["check_name"]].append(row)
    for name in CHECK_NAMES:
        yield run_summary(name, per_check[name], reports)
    yield dg.MaterializeResult(metadata={
        "reports_in_run": len(keys),
        "processed": summary.processed,
        "unchanged": summary.unchanged,
        "unreadable": summary.errors,
        "seconds": round(summary.seconds, 2),
        "db_path": dg.MetadataValue.path(govreport.resolved_db_path()),
    })
