"""The DuckDB store: schema from ``sql/``, batch loads that replace reports atomically.

One process writes at a time (DuckDB's rule); callers batch many reports per transaction.
A report's rows are deleted and re-inserted inside the same transaction, so a reader never
sees half a report and a re-run never duplicates one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.ipc as ipc

from pipeline.process import Processed
from pipeline.store.db import ARROW_SCHEMAS, CHECKS_SCHEMA, FILE_INDEX_SCHEMA, TABLE_SCHEMAS, sql
from pipeline.store.sources import rewrite_source_checks

def _rows(batch: Iterable[Processed]) -> dict[str, list[dict]]:
    rows: dict[str, list[dict]] = {name: [] for name in TABLE_SCHEMAS}
    for p in batch:
        rows["documents"].append(p.document)
        rows["reports"].append(p.report)
        rows["report_cells"] += p.cells
        rows["prose_metrics"] += p.prose
        rows["report_sections"] += p.sections
        rows["check_results"] += p.checks
    return rows


def arrow_tables(batch: Iterable[Processed]) -> dict[str, pa.Table]:
    """The batch as one Arrow table per table of the store, with the fixed schemas above."""
    return {name: pa.Table.from_pylist(rows, schema=ARROW_SCHEMAS[name]) for name, rows in _rows(batch).items()}


def frames(batch: Iterable[Processed]) -> dict[str, pl.DataFrame]:
    """The batch as one Polars frame per table, with the fixed schemas above."""
    return {name: pl.DataFrame(rows, schema=TABLE_SCHEMAS[name]) for name, rows in _rows(batch).items()}


def stage_tables(batch: Iterable[Processed], staging: Path, tag: str) -> dict[str, str]:
    """Write the batch's tables (arrow_tables: the one schema) as Arrow IPC files
    ``<staging>/<tag>-<table>.arrow``, one per non-empty table; returns table → path. Workers
    call this on their own chunk, so the writer never unpickles the texts or builds frames: it
    maps the files and inserts them (load_staged)."""
    paths = {}
    for name, table in arrow_tables(batch).items():
        if table.num_rows:
            path = staging / f"{tag}-{name}.arrow"
            with pa.OSFile(str(path), "wb") as sink, ipc.new_file(sink, table.schema) as writer:
                writer.write_table(table)
            paths[name] = str(path)
    return paths


def load_staged(con: duckdb.DuckDBPyConnection, staged: list[dict[str, str]], report_ids: list[tuple[str, str]], file_rows: list[dict]) -> list[str]:
    """load_batch for reports the workers staged (stage_tables): each table's files are
    memory-mapped and inserted with one statement. `report_ids` are the (report_id,
    document_id) pairs the files hold. The caller deletes the files after the commit."""
    tables = {}
    for name in TABLE_SCHEMAS:
        parts = [ipc.open_file(pa.memory_map(paths[name])).read_all() for paths in staged if name in paths]
        if parts:
            tables[name] = pa.concat_tables(parts)
    return _load(con, tables, report_ids, file_rows)


def load_batch(con: duckdb.DuckDBPyConnection, batch: list[Processed], file_rows: list[dict], remove_ids: Iterable[tuple[str, str]] = ()) -> list[str]:
    """Replace the batch's reports (and remove `remove_ids`: (report_id, document_id) of
    reports whose files changed or went away) in one transaction, with their cross-report
    checks, so a reader never sees a report without all its checks; update the file index.
    Returns the reports whose cross-report checks were rewritten."""
    tables = {name: t for name, t in arrow_tables(batch).items() if t.num_rows}
    ids = [(p.report["report_id"], p.document["document_id"]) for p in batch]
    return _load(con, tables, ids, file_rows, remove_ids)


def _load(con: duckdb.DuckDBPyConnection, tables: dict[str, pa.Table], ids: list[tuple[str, str]], file_rows: list[dict],
          remove_ids: Iterable[tuple[str, str]] = ()) -> list[str]:
    """The one transaction of load_batch and load_staged: delete the reports being replaced,
    insert each table's rows with one statement, update the file index, redo the batch's
    cross-report checks, commit."""
    stage = pl.DataFrame(
        [{"report_id": r, "document_id": d} for r, d in ids] + [{"report_id": r, "document_id": d} for r, d in remove_ids],
        schema={"report_id": pl.String, "document_id": pl.String},
    )
    files = pl.DataFrame(file_rows, schema=FILE_INDEX_SCHEMA)
    con.execute("BEGIN TRANSACTION")
    try:
        con.register("stage_report_ids", stage.to_arrow())
        followers: list[str] = []  # next year's reports, whose continuity read a report removed here
        if con.execute(sql("any_stored_reports")).fetchall()[0][0]:
            followers = [r[0] for r in con.execute(sql("select_next_year_reports")).fetchall()]
            con.execute(sql("delete_reports"))
        for name, table in tables.items():
            con.register("stage_rows", table)
            con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM stage_rows")  # noqa: S608 - name is a constant
            con.unregister("stage_rows")
        if files.height:
            con.register("stage_files", files.to_arrow())
            con.execute("INSERT OR REPLACE INTO file_index SELECT * FROM stage_files")
            con.unregister("stage_files")
        con.unregister("stage_report_ids")
        rewritten = _rewrite_continuity(con, [r for r, _ in ids] + followers)  # (followers are never in the batch)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return rewritten


def remove_paths(con: duckdb.DuckDBPyConnection, paths: list[str]) -> None:
    """Forget files that left the drop folder (their reports go when no path holds them)."""
    if not paths:
        return
    con.register("gone", pl.DataFrame({"source_path": paths}).to_arrow())
    con.execute("DELETE FROM file_index WHERE source_path IN (SELECT source_path FROM gone)")
    con.unregister("gone")


def continuity_checks(con: duckdb.DuckDBPyConnection, report_ids: list[str]) -> list[str]:
    """(Re)compute the cross-report checks for these reports and for the next year's reports
    of the same organs, which the new ones may complete, in one transaction. Returns the
    reports whose cross-report results were rewritten (the Dagster layer re-publishes them)."""
    if not report_ids:
        return []
    con.execute("BEGIN TRANSACTION")
    try:
        ids = _rewrite_continuity(con, report_ids)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return ids


def _rewrite_continuity(con: duckdb.DuckDBPyConnection, report_ids: list[str]) -> list[str]:
    """continuity_checks inside the caller's transaction, and beside them the check that two
    files of one report agree (sources.py: also for an empty batch, whose removals may have
    taken a report's twin)."""

    sourced = rewrite_source_checks(con, report_ids)
    if not report_ids:
        return sourced
    con.register("batch_ids", pl.DataFrame({"report_id": report_ids}).to_arrow())
    con.execute(
        """CREATE OR REPLACE TEMP TABLE stage_check_ids AS
           SELECT report_id FROM batch_ids
           UNION SELECT n.report_id FROM reports n JOIN reports b ON n.organ_key = b.organ_key AND n.year = b.year + 1
           WHERE b.report_id IN (SELECT report_id FROM batch_ids)"""
    )
    con.unregister("batch_ids")
    found = {r[0]: r for r in con.execute(sql("select_continuity")).fetchall()}
    ids = con.execute("SELECT report_id, form FROM stage_check_ids JOIN reports USING (report_id)").fetchall()
    rows = []
    for rid, form in ids:
        rows += _continuity_rows(rid, found.get(rid), form)
    con.execute("DELETE FROM check_results WHERE check_name IN ('carry_over_continuity','normative_documents_stock') AND report_id IN (SELECT report_id FROM stage_check_ids)")
    if rows:
        con.register("stage_rows", pl.DataFrame(rows, schema=CHECKS_SCHEMA).to_arrow())
        con.execute("INSERT INTO check_results BY NAME SELECT * FROM stage_rows")
        con.unregister("stage_rows")
    done = [rid for rid, _ in ids]
    return done + sorted(set(sourced) - set(done))


def _continuity_rows(rid: str, row, form: str | None) -> list[dict]:
    base = {"report_id": rid, "expected": None, "actual": None, "location": None, "details": "[]"}
    if row is None:
        msg = ("no report of the same organ for the year before in the store" if form in ("2019", "2021")
               else f"not applicable: {form or 'unreadable'} report has no standard tables")
        return [dict(base, check_name="carry_over_continuity", severity="error", passed=True, message=msg),
                dict(base, check_name="normative_documents_stock", severity="warn", passed=True, message=msg)]
    _, prev_id, prev_year, carried_in, prev_out, in_force, issued, repealed, prev_in_force = row
    out = []
    if carried_in is None or prev_out is None:
        out.append(dict(base, check_name="carry_over_continuity", severity="warn", passed=False, message=f"not evaluated: a carried-over total is missing (this year or {prev_year}, report {prev_id})"))
    else:
        ok = carried_in == prev_out
        out.append(dict(base, check_name="carry_over_continuity", severity="error", passed=ok, expected=str(prev_out), actual=str(carried_in),
                        location=f"applications.carried_over_in.total vs {prev_year} report {prev_id} carried_over_out.total",
                        message=f"carried over in {carried_in}, {prev_year} carried over out {prev_out}" + ("" if ok else " — they differ")))
    if None in (in_force, issued, repealed, prev_in_force):
        out.append(dict(base, check_name="normative_documents_stock", severity="warn", passed=True, message="not evaluated: normative-document counts missing"))
    else:
        expect = prev_in_force + issued - repealed
        ok = expect == in_force
        out.append(dict(base, check_name="normative_documents_stock", severity="warn", passed=ok, expected=str(expect), actual=str(in_force),
                        location=f"active_disclosure.normative_documents vs {prev_year}",
                        message=f"in force {in_force}; {prev_year} in force {prev_in_force} + issued {issued} − repealed {repealed} = {expect}",
                        details=json.dumps([{"prev_report": prev_id}])))
    return out
