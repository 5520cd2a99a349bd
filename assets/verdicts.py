"""Each report's verdict, one asset per report year: `report_verdicts_2023`, partition
`2023·深圳市司法局·eb74ed5b`.

A reviewer's unit is a report; a province's store holds tens of thousands. Dagster 1.13 rebuilds
a partitioned check's state with one storage call per partition (docs/dagster-batched-partition-
check.md), so one asset with every report as a partition makes its check pages take a minute at
10,000 reports. One asset per year keeps each asset's partitions in the low thousands (a year of
a province), and a reviewer works a year at a time anyway. Reports of years outside
2019–2030, or with no year read, go to `report_verdicts_other`. A province's store can be cut
further, by year and city (`report_verdicts_2023 / 440300`, 深圳市; GOVREPORT_VERDICT_REGIONS,
assets/shards.py), so that each check list stays in the hundreds.

Per report, two events: its materialization (organ, year, form, status, source path, the
verdict and the numbers and source lines of each failing check: the report's page), then its
`verdict` evaluation against that materialization — Passed or Failed, red in the check's
Partitions tab, which is what makes a failing report look failing (Dagster keeps a partition's
check status only while its latest evaluation targets its latest materialization). On our
SQLite and PostgreSQL event logs (assets/event_log.py) both are written in batches: a year's pages
in one write, then its verdicts in another (`_log_events`).
The store-wide verdict and counts live on the unpartitioned `report_verdicts` asset
(assets/store_assets.py). Partitions follow the store: a report's key is added when it is loaded
and removed when its file leaves the drop folder.
"""


import time
from collections import defaultdict

import dagster as dg
from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluationTargetMaterializationData,
)
from dagster._core.events import DagsterEvent, DagsterEventBatchMetadata, DagsterEventType, generate_event_batch_id

from pipeline.store.db import connect, sql

from .findings import ReportFindings, findings_md, md_table, numbers_line, read_findings, want_table
from .resources import GovReportStore
from .shards import Shard, VerdictLayout, current_layout

REPORT_VERDICTS = dg.AssetKey("report_verdicts")  # store-wide, unpartitioned
VERDICT = "verdict"
VERDICT_DEPS = ["report_verdicts"]
ANALYZE_AFTER = 200  # verdicts published in one run from which the event tables' statistics are refreshed at once (PostgreSQL)
FETCH_CHUNK = 500  # partitions per materialization lookup (SQLite's bound-variable limit)


# The check's Partitions tab keeps its status filter in the URL (`status`, sorted, as the UI writes
# it). With only these ticked it lists a year's failing reports (and any without a verdict) while
# its checkboxes still count the passed ones: 2.5 s for a year of 1,989 reports where the whole
# list takes 4.8 s, the UI drawing every label of it (README, issue 18).
FAILING_STATUSES = "EXECUTION_FAILED,FAILED,MISSING"


def failing_reports_link(shard: Shard) -> str:
    """The UI's path to an asset's failing reports: the `verdict` check's Partitions tab, filtered."""
    return f"{shard.ui_path}?view=checks&checkDetail={VERDICT}&status={FAILING_STATUSES}"


def report_metadata(f: ReportFindings) -> dict:
    r = f.report
    failing = f.failing()
    return {
        "organ": r["organ"] or "", "year": str(r["year"] or "?"), "form": r["form"] or "", "status": r["status"],
        "source_path": r["source_path"] or "", "report_id": r["report_id"], "verdict": f.verdict(),
        "passed": not failing,
        "numbers": " · ".join(numbers_line(c) for c in failing) or "—",
        "findings": dg.MetadataValue.md(findings_md(f, f.checks)),
    }


def store_keys(db_path: str, layout: VerdictLayout) -> dict[Shard, set[str]]:
    """The store's partition keys, by verdict asset."""
    con = connect(db_path, read_only=True)
    try:
        rows = con.execute("SELECT partition_key, year, division_code FROM reports WHERE partition_key IS NOT NULL").fetchall()
    finally:
        con.close()
    out: dict[Shard, set[str]] = {s: set() for s in layout.shards}
    for key, year, code in rows:
        out[layout.shard_of(year, code)].add(key)
    return out


def sync_partitions(instance: dg.DagsterInstance, db_path: str) -> tuple[list[str], list[str]]:
    """Make each verdict asset's partitions its reports in the store: add new keys, delete keys
    whose report is gone (or went to another asset: a year or region read differently)."""
    added_all, gone_all = [], []
    wanted = store_keys(db_path, current_layout())
    names = [s.partitions_name for s in wanted]
    storage = instance.event_log_storage
    if hasattr(storage, "dynamic_partitions_of"):  # assets/event_log.py: one query for every asset
        existing_of = storage.dynamic_partitions_of(names)
    else:
        existing_of = {n: instance.get_dynamic_partitions(n) for n in names}
    for shard, in_store in wanted.items():
        name = shard.partitions_name
        existing = set(existing_of[name])
        added, gone = sorted(in_store - existing), sorted(existing - in_store)
        if added:
            instance.add_dynamic_partitions(name, added)
        for key in gone:
            instance.delete_dynamic_partition(name, key)
        added_all += added
        gone_all += gone
    return added_all, gone_all


def report_ids_of(db_path: str, partition_keys: list[str]) -> list[str]:
    """The reports behind partition keys (keys no longer in the store give none)."""
    if not partition_keys:
        return []
    con = connect(db_path, read_only=True)
    try:
        want_table(con, "k", partition_keys)
        return [r for (r,) in con.execute("SELECT report_id FROM reports WHERE partition_key IN (SELECT k FROM want)").fetchall()]
    finally:
        con.close()


def _targets(instance: dg.DagsterInstance, asset_key: dg.AssetKey, keys: list[str]) -> dict[str, AssetCheckEvaluationTargetMaterializationData]:
    """Each partition's latest materialization, which its verdict evaluation targets."""
    storage = instance.event_log_storage
    if hasattr(storage, "latest_materialization_targets"):  # assets/event_log.py: from columns, nothing deserialized
        return {k: AssetCheckEvaluationTargetMaterializationData(storage_id=i, run_id=r, timestamp=ts)
                for k, (i, r, ts) in storage.latest_materialization_targets(asset_key, keys).items()}
    out = {}
    for i in range(0, len(keys), FETCH_CHUNK):
        chunk = keys[i: i + FETCH_CHUNK]
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=asset_key, asset_partitions=chunk), limit=len(chunk)).records
        for rec in records:  # newest first: keep the first seen per partition
            out.setdefault(rec.partition_key, AssetCheckEvaluationTargetMaterializationData(
                storage_id=rec.storage_id, run_id=rec.run_id, timestamp=rec.timestamp))
    return out


def _log_events(context, events: list, batched: bool) -> None:
    """Log events in order: one by one (`context.log_event`), or, when the instance's storage
    writes batches (assets/event_log.py), as one batch (written at the batch size and at
    the end) through the same log manager — the path Dagster itself takes for the
    materializations of a partition range."""
    if not batched:
        for e in events:
            context.log_event(e)
        return
    step = context.get_step_execution_context()
    batch_id = generate_event_batch_id()
    last = len(events) - 1
    for i, e in enumerate(events):
        meta = DagsterEventBatchMetadata(batch_id, i == last)
        if isinstance(e, dg.AssetMaterialization):
            DagsterEvent.asset_materialization(step, e, meta)
        else:
            message = (f"Asset check '{e.check_name}' on '{e.asset_key.to_user_string()}' " + ("passed." if e.passed else "did not pass.")
                       + ("" if e.description is None else f" Description: '{e.description}'"))
            DagsterEvent.from_step(DagsterEventType.ASSET_CHECK_EVALUATION, step, e, message, meta)


def publish_verdicts(context, db_path: str, report_ids: list[str], drop_dir: str | None = None) -> int:
    """Log each report's materialization on its verdict asset, then its verdict evaluation
    against it. Returns the number of reports published. With `drop_dir`, failing checks of
    OCR'd reports show the pictures of their cells."""
    layout = current_layout()
    t0 = time.perf_counter()
    batched = bool(getattr(context.instance.event_log_storage, "writes_verdict_batches", False))
    found = read_findings(db_path, sorted(set(report_ids)), drop_dir)
    t_read = time.perf_counter()
    by_shard: dict[Shard, dict[str, ReportFindings]] = defaultdict(dict)
    for f in found.values():
        if f.report["partition_key"]:
            by_shard[layout.shard_of(f.report["year"], f.report["division_code"])][f.report["partition_key"]] = f
    for shard, reports in by_shard.items():
        _log_events(context, [dg.AssetMaterialization(asset_key=shard.key, partition=key, description=f.verdict(),
                                                      metadata=report_metadata(f)) for key, f in reports.items()], batched)
    t1 = time.perf_counter()
    for shard, reports in by_shard.items():
        targets = _targets(context.instance, shard.key, list(reports))
        _log_events(context, [verdict_evaluation(f, shard.key, key, targets.get(key)) for key, f in reports.items()], batched)
    t2 = time.perf_counter()
    n = sum(len(r) for r in by_shard.values())
    analyzed = ""
    if batched and n >= ANALYZE_AFTER:
        # thousands of rows written in seconds: without fresh statistics PostgreSQL plans the check
        # pages' query for one row until autovacuum catches up (assets/event_log.py, point 3)
        context.instance.event_log_storage.analyze_event_tables()
        analyzed = f", statistics {time.perf_counter() - t2:.1f} s"
    context.log.info(f"verdicts of {n} reports: findings read {t_read - t0:.1f} s, materializations {t1 - t_read:.1f} s, check evaluations {t2 - t1:.1f} s"
                     + analyzed + (" (batched writes)" if batched else ""))
    return n


def verdict_evaluation(f: ReportFindings, asset_key: dg.AssetKey, key: str, target) -> dg.AssetCheckEvaluation:
    """One report: failed while any of its checks fails unwaived (error or warn)."""
    failing = f.failing()
    errors = [c for c in failing if c["severity"] == "error"]
    return dg.AssetCheckEvaluation(
        asset_key=asset_key, check_name=VERDICT, partition=key, passed=not failing,
        severity=dg.AssetCheckSeverity.ERROR if errors or not failing else dg.AssetCheckSeverity.WARN,
        description=f.verdict()[:1000], target_materialization_data=target,
        # small on purpose: the check's pages load every evaluation's metadata; the evidence
        # (findings) is on the report's materialization, one click away
        metadata={"organ": f.report["organ"] or "", "year": str(f.report["year"] or "?"),
                  "numbers": " · ".join(numbers_line(c) for c in failing) or "—"},
    )


def store_counts(con) -> dict[str, int]:
    """The store-wide numbers a reviewer follows run by run (plotted by the UI: numeric metadata)."""
    return {
        "reports_in_store": con.execute("SELECT count(*) FROM reports").fetchone()[0],
        "reports_to_review": con.execute("SELECT count(*) FROM review_queue").fetchone()[0],
        "reports_warn_only": con.execute(sql("count_warn_only_reports")).fetchone()[0],
        "reports_waived": con.execute("SELECT count(DISTINCT report_id) FROM failing_checks WHERE waived").fetchone()[0],
        "findings_waived": con.execute("SELECT count(*) FROM failing_checks WHERE waived").fetchone()[0],
    }


def by_year_md(con) -> str:
    """Per verdict asset: reports, to review, warn only, and a link to its failing reports — where to go next."""
    layout = current_layout()
    rows = con.execute("""
        WITH r AS (SELECT report_id, year, division_code, report_id IN (SELECT report_id FROM review_queue) AS queued,
                          report_id IN (SELECT report_id FROM failing_checks WHERE NOT waived) AS failing FROM reports)
        SELECT year, division_code, count(*), count(*) FILTER (WHERE queued), count(*) FILTER (WHERE failing AND NOT queued)
        FROM r GROUP BY ALL""").fetchall()
    agg: dict[Shard, list[int]] = {}
    for year, code, n, queued, warn in rows:
        b = agg.setdefault(layout.shard_of(year, code), [0, 0, 0])
        b[0] += n
        b[1] += queued
        b[2] += warn
    order = {s: i for i, s in enumerate(layout.shards)}
    return md_table([{"asset": s.title, "reports": v[0], "to_review": v[1], "warn_only": v[2],
                      "failing reports": f"[open]({failing_reports_link(s)}) (then *Partitions*)" if v[1] + v[2] else "none"}
                     for s, v in sorted(agg.items(), key=lambda kv: order[kv[0]])], len(layout.shards))


def store_verdict(con, queue_md: str) -> tuple[bool, dict, str]:
    """(passed, metadata, description) of the whole store: failed while any report still fails
    a check at error level, unwaived — whatever the last run touched."""
    counts = store_counts(con)
    description = (f"whole store: {counts['reports_to_review']} of {counts['reports_in_store']} reports fail at error level, "
                   f"{counts['reports_warn_only']} more only warn; per-report verdicts on the assets in by_year (report_verdicts_2023 …)")
    return counts["reports_to_review"] == 0, {**counts, "by_year": dg.MetadataValue.md(by_year_md(con) or "no reports"),
                                               "review_queue": dg.MetadataValue.md(queue_md)}, description


def review_queue_md(con, limit: int) -> str:
    cols = ["partition_key", "organ", "year", "error_checks", "numbers"]
    rows = [dict(zip(cols, r)) for r in con.execute(f"SELECT {', '.join(cols)} FROM review_queue LIMIT ?", [limit]).fetchall()]  # noqa: S608
    return md_table(rows, limit) or "The queue is empty: no unwaived error-level findings."


def _shard_verdicts(shard: Shard, partitions: dg.DynamicPartitionsDefinition) -> dg.AssetsDefinition:
    key = shard.key

    @dg.multi_asset(
        name=shard.name,
        specs=[dg.AssetSpec(key, partitions_def=partitions, skippable=True, deps=VERDICT_DEPS, kinds={"duckdb"},
                            group_name="verdicts" if shard.region is None else f"verdicts_{shard.year}",
                            metadata={} if shard.region is None else {"region": f"{shard.label} ({shard.region})"},
                            description=("" if shard.region is None else f"{shard.label}: ")
                            + f"one partition per report {shard.what} (year·organ·hash): its verdict, and findings with numbers and source lines.")],
        check_specs=[dg.AssetCheckSpec(VERDICT, asset=key, partitions_def=partitions,
                                       description="Per report: passed when none of its checks fails unwaived; the findings "
                                                   "list each failing check with its numbers and source lines.")],
        can_subset=True,
        pool="duckdb",
    )
    def _asset(context: dg.AssetExecutionContext, govreport: GovReportStore):
        """Re-publish the selected reports' verdicts from the store (the ingest run does this for
        every report it loads; use this after editing the waivers file, or to refresh a page)."""
        db = govreport.resolved_db_path()
        keys = list(context.partition_keys)
        n = publish_verdicts(context, db, report_ids_of(db, keys), govreport.resolved_drop_dir())
        context.log.info(f"published {n} of {len(keys)} selected reports" + ("" if n == len(keys) else "; the others are no longer in the store"))
        yield from ()

    return _asset


def verdict_assets() -> list[dg.AssetsDefinition]:
    """One asset per shard of the current layout (GOVREPORT_VERDICT_REGIONS, assets/shards.py):
    the layout the runs publish to, so definitions and verdicts cannot disagree."""
    layout = current_layout()
    return [_shard_verdicts(s, layout.partitions[s]) for s in layout.shards]
