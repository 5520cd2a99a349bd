"""The pipeline's stages and the DuckDB tables analysts query, materialized by one step.

One run reads every new or changed file of the drop folder and loads it (pipeline.store.ingest, on
all cores): the stage assets (`raw_documents` → `normalized_documents` → `extracted_tables`)
and the table assets (`documents`, `reports`, `report_cells`, … and the views) are that one
step's outputs, so there is no per-stage IO — each asset's page shows its row count, column
schema and what the stage did. The step then publishes each loaded report's verdict on its
year's `report_verdicts_<year>` (assets/verdicts.py) and the store-wide verdict and counts on
`report_verdicts`: numbers, so the UI plots them run by run.
"""


import time

import dagster as dg

from pipeline.check.report_checks import CHECK_NAMES
from pipeline.store.ingest import run_ingest
from pipeline.store.db import connect, sql
from pipeline.store.writer import StoreBusy

from pipeline.check.review_groups import GROUP_DESCRIPTIONS, REVIEW_GROUPS

from .findings import md_table
from .resources import GovReportStore
from .verdicts import VERDICT, publish_verdicts, report_ids_of, review_queue_md, store_verdict, sync_partitions

DROP_FOLDER = dg.AssetSpec("drop_folder", group_name="govreport", kinds={"folder"},
                           description="The files users drop: text, HTML, PDF, Word, in any common encoding (GOVREPORT_DROP_DIR).")
WAIVERS_FILE = dg.AssetSpec("waivers_file", group_name="govreport", kinds={"csv"},
                            description="Reviewers' waivers (waivers.csv beside the drop folder, or GOVREPORT_WAIVERS).")


def _spec(key: str, deps: list[str], description: str, kinds: set[str], group: str = "govreport") -> dg.AssetSpec:
    return dg.AssetSpec(key, deps=deps, description=description, kinds=kinds, group_name=group, skippable=True)


STAGES = [
    _spec("raw_documents", ["drop_folder"], "Every file read and decoded (encoding detected, HTML/PDF/Word turned into text rows); unreadable files kept with their error.", {"python"}),
    _spec("normalized_documents", ["raw_documents"], "Traditional → simplified (OpenCC), mojibake repaired, pinyin, site chrome and spam stripped, widths unified — each repair recorded.", {"python"}),
    _spec("extracted_tables", ["normalized_documents"], "Organ, year, form and sections found; the three standard tables extracted cell by cell into Polars frames.", {"polars"}),
]
TABLES = [
    _spec("documents", ["raw_documents", "normalized_documents"], "One row per distinct file content: raw and normalized text, repairs, error.", {"duckdb", "table"}),
    _spec("reports", ["extracted_tables"], "One row per report: organ, year, form, status, partition key.", {"duckdb", "table"}),
    _spec("report_cells", ["extracted_tables"], "One row per cell of the form: exact value, raw text, source line, how it was read.", {"duckdb", "table"}),
    _spec("prose_metrics", ["normalized_documents"], "Statistics stated in sentences, with their line.", {"duckdb", "table"}),
    _spec("report_sections", ["normalized_documents"], "The six sections of each report and their line spans.", {"duckdb", "table"}),
    _spec("check_results", ["report_cells", "prose_metrics", "reports"], f"One row per report and check ({len(CHECK_NAMES)} checks), with expected, actual, location and evidence.", {"duckdb", "table"}),
    _spec("report_pairs", ["reports", "report_cells"], "Two files of one report (same body and year): one row each way, cells compared, equal, decided, differing.", {"duckdb", "table"}),
    _spec("cell_comparisons", ["reports", "report_cells"], "What a report's twin file says about its cells that are not simply equal: decided by agreement, filled, differ, open.", {"duckdb", "table"}),
    _spec("waivers", ["waivers_file"], "The waivers file as loaded by the last run.", {"duckdb", "table"}),
    _spec("cells_decided", ["report_cells", "cell_comparisons"], "View: every cell's value to use — its own reading, else what its twin file decided, with that file.", {"duckdb", "view"}),
    _spec("report_choice", ["reports", "report_cells", "check_results"], "View: one report per body and year when several files hold it, by a documented rule, with why.", {"duckdb", "view"}),
    _spec("applications_wide", ["report_choice", "cells_decided"], "View: table 三 of the chosen report per body and year, one row per form row, columns as on the form.", {"duckdb", "view"}),
    _spec("failing_checks", ["check_results", "reports", "waivers"], "View: every failed check, waived ones marked (not failing, still visible).", {"duckdb", "view"}),
    _spec("review_queue", ["failing_checks"], "View: reports with unwaived error-level findings, most severe first — where a reviewer starts.", {"duckdb", "view"}),
    _spec("stale_waivers", ["waivers", "check_results"], "View: waivers that match no failing check any more, and why.", {"duckdb", "view"}),
    _spec("report_verdicts", ["reports", "check_results", "waivers", "review_queue"],
          "The whole store's verdict: reports in the store, to review, warn only, waived (numbers: the UI plots them run by run), "
          "per year, and the queue. Each report's own verdict is on its year's asset (report_verdicts_2023 …).", {"duckdb"}),
]
TABLE_CHECKS = [
    dg.AssetCheckSpec("no_duplicate_cell_keys", asset="report_cells", description="Each (report, table, row, column) appears once."),
    dg.AssetCheckSpec("every_document_has_report", asset="documents", description="No document without its report row."),
    dg.AssetCheckSpec("every_report_has_document", asset="reports", description="No report without its document (no orphans)."),
    dg.AssetCheckSpec("every_report_has_every_check", asset="check_results", description=f"Each report has all {len(CHECK_NAMES)} check rows."),
    dg.AssetCheckSpec("no_stale_waivers", asset="stale_waivers", description="Every waiver still matches a failing check."),
    dg.AssetCheckSpec("no_unreviewed_errors", asset="review_queue", description="No report has an unwaived error-level finding (the queue is empty)."),
    dg.AssetCheckSpec(VERDICT, asset="report_verdicts", description="Whole store: passed when no report fails a check at error "
                      "level unwaived, whatever the last run touched; per-report verdicts on the verdict assets (report_verdicts_2023 …, see by_year)."),
    *[dg.AssetCheckSpec(group, asset="check_results", description=f"Whole store: {GROUP_DESCRIPTIONS[group]} Lists the reports that fail.")
      for group in REVIEW_GROUPS],
]
QUEUE_ROWS = 100  # rows of the review queue shown as markdown; the view has them all


def _table_metadata(con, name: str) -> dict:
    cols = con.execute(f"DESCRIBE {name}").fetchall()  # noqa: S608 - name is one of ours
    schema = dg.TableSchema(columns=[dg.TableColumn(c[0], c[1]) for c in cols])
    return {"dagster/row_count": con.execute(f"SELECT count(*) FROM {name}").fetchone()[0],  # noqa: S608
            "dagster/column_schema": schema, "dagster/table_name": name}


def _queue_md(con) -> str:
    return review_queue_md(con, QUEUE_ROWS)


def _group_result(con, group: str) -> tuple[bool, dict]:
    """A review group over the whole store: the reports failing any of its checks, errors first."""
    cols = ["partition_key", "severity", "checks", "first_message"]
    rows = [dict(zip(cols, r)) for r in con.execute(sql("select_failing_by_group"), [list(REVIEW_GROUPS[group])]).fetchall()]
    errors = sum(r["severity"] == "error" for r in rows)
    return not rows, {"reports_failing": len(rows), "reports_failing_at_error": errors,
                      "failing_reports": dg.MetadataValue.md(md_table(rows, QUEUE_ROWS) or "none")}


def _one_row(con, name: str, params=()) -> dict:
    cur = con.execute(sql(name), list(params))
    return dict(zip([d[0] for d in cur.description], cur.fetchone()))


def _stage_metadata(summary, counts: dict) -> dict[str, dict]:
    """What each stage did: this run's files and the store's totals."""
    return {
        "raw_documents": {"files_seen": summary.files_seen, "processed_this_run": summary.processed, "unreadable_this_run": summary.errors,
                          "documents": counts["documents"], "unreadable": counts["unreadable"], "non_utf8": counts["non_utf8"],
                          "seconds_this_run": round(summary.seconds, 2)},
        "normalized_documents": {"repaired": counts["repaired"], "traditional": counts["traditional"], "mixed_script": counts["mixed_script"]},
        "extracted_tables": {"extracted": counts["extracted"], "partial": counts["partial"], "without_tables": counts["without_tables"],
                             "split_cells": counts["split_cells"], "unresolved_cells": counts["unresolved_cells"]},
    }


def _table_checks(con, counts: dict, waivers) -> dict[str, tuple[bool, dict]]:
    """(passed, metadata) of every table-level check, over the whole store."""
    integrity = _one_row(con, "select_table_checks", [len(CHECK_NAMES)])
    passed, meta, description = store_verdict(con, _queue_md(con))
    checks = {
        VERDICT: (passed, {**meta, "description": description}),
        "no_duplicate_cell_keys": (integrity["duplicate_cell_keys"] == 0, {"duplicate_keys": integrity["duplicate_cell_keys"]}),
        "every_document_has_report": (integrity["documents_without_report"] == 0, {"orphans": integrity["documents_without_report"]}),
        "every_report_has_document": (integrity["reports_without_document"] == 0, {"orphans": integrity["reports_without_document"]}),
        "every_report_has_every_check": (integrity["reports_missing_checks"] == 0, {"reports": integrity["reports_missing_checks"]}),
        "no_stale_waivers": (counts["stale_waivers"] == 0, {"stale": counts["stale_waivers"], "waivers": dg.MetadataValue.md(
            md_table(waivers.stale) if waivers and waivers.stale else "none")}),
        "no_unreviewed_errors": (counts["reports_to_review"] == 0, {"reports_to_review": counts["reports_to_review"],
                                                                    "queue": dg.MetadataValue.md(_queue_md(con))}),
    }
    return checks | {group: _group_result(con, group) for group in REVIEW_GROUPS}


def _severity(name: str, meta: dict) -> dg.AssetCheckSeverity:
    """Integrity breaks are errors; the queue, stale waivers and warning-only groups are warnings."""
    warn = name in ("no_stale_waivers", "no_unreviewed_errors") or (name == VERDICT and meta["reports_to_review"] == 0) or (name in REVIEW_GROUPS and not meta["reports_failing_at_error"])
    return dg.AssetCheckSeverity.WARN if warn else dg.AssetCheckSeverity.ERROR


@dg.multi_asset(specs=[*STAGES, *TABLES], check_specs=TABLE_CHECKS, can_subset=True, pool="duckdb")
def govreport_store(context: dg.AssetExecutionContext, govreport: GovReportStore):
    """Ingest the drop folder into DuckDB (new and changed files only), then publish each
    loaded report's verdict on `report_verdicts`."""
    db = govreport.resolved_db_path()
    t0 = time.perf_counter()
    try:
        summary = run_ingest(govreport.resolved_drop_dir(), db, batch_size=govreport.batch_size, workers=govreport.workers or None,
                             wait_seconds=govreport.lock_wait_seconds, waivers_path=govreport.resolved_waivers_path(),
                             budget=govreport.budget())
    except StoreBusy as exc:
        raise dg.Failure(description=str(exc)) from None
    if summary.interrupted:  # Terminate (SIGINT) or SIGTERM: what finished is committed, nothing else is done
        raise dg.Failure(description=f"stopped by {summary.interrupted}: {summary.processed} files processed and committed, "
                                     f"{summary.left} left for the next run", allow_retries=False)
    t_ingest = time.perf_counter()
    con = connect(db, read_only=True)
    try:
        counts = _one_row(con, "select_stage_counts")
        stages = _stage_metadata(summary, counts)
        for spec in STAGES:
            if spec.key in context.selected_asset_keys:
                yield dg.MaterializeResult(asset_key=spec.key, metadata=stages[spec.key.path[-1]])
        for spec in TABLES:
            if spec.key in context.selected_asset_keys:
                name = spec.key.path[-1]
                if name == "report_verdicts":
                    _, meta, description = store_verdict(con, _queue_md(con))
                    yield dg.MaterializeResult(asset_key=spec.key, metadata={**meta, "summary": description})
                    continue
                meta = _table_metadata(con, name)
                if name == "review_queue":
                    meta["queue"] = dg.MetadataValue.md(_queue_md(con))
                    meta["reports_to_review"] = counts["reports_to_review"]
                yield dg.MaterializeResult(asset_key=spec.key, metadata=meta)
        # the tables first, then the verdicts computed from them (a verdict older than its
        # inputs would show as unsynced)
        t_tables = time.perf_counter()
        added, gone = sync_partitions(context.instance, db)
        t_partitions = time.perf_counter()
        waivers = summary.waivers
        changed = waivers.changed_report_ids if waivers else set()
        # a partition new to its asset gets its verdict even when its report did not change: the
        # report moved to another verdict asset (GOVREPORT_VERDICT_REGIONS changed)
        moved = set(report_ids_of(db, added))
        published = publish_verdicts(context, db, sorted(set(summary.report_ids) | set(summary.continuity_report_ids) | changed | moved),
                                     govreport.resolved_drop_dir())
        context.log.info(f"processed {summary.processed}, published {published} verdicts; partitions +{len(added)} −{len(gone)}; "
                         f"ingest {t_ingest - t0:.1f} s, table pages {t_tables - t_ingest:.1f} s, partitions {t_partitions - t_tables:.1f} s, "
                         f"verdicts {time.perf_counter() - t_partitions:.1f} s")
        checks = _table_checks(con, counts, waivers)
        for spec in TABLE_CHECKS:
            if spec.key in context.selected_asset_check_keys:
                passed, meta = checks[spec.name]
                description = meta.pop("description", None)
                yield dg.AssetCheckResult(asset_key=spec.asset_key, check_name=spec.name, passed=passed, metadata=meta,
                                          severity=_severity(spec.name, meta), description=description)
    finally:
        con.close()
