"""The store's shape and access: table schemas, the ``sql/`` statement loader, connections.

Every store module (and only store modules) imports these; they depend on nothing of the
pipeline's, so the loader, the two-source comparison and the waivers can share them without
an import cycle.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"

DOCUMENTS_SCHEMA = {
    "document_id": pl.String, "source_path": pl.String, "size_bytes": pl.Int64, "encoding": pl.String,
    "raw_text": pl.String, "normalized_text": pl.String, "repairs": pl.String, "ingested_at": pl.Datetime("us"),
    "error": pl.String, "pipeline_version": pl.String,
}
REPORTS_SCHEMA = {
    "report_id": pl.String, "document_id": pl.String, "organ": pl.String, "year": pl.Int32, "form": pl.String,
    "form_basis": pl.String, "source_script": pl.String, "status": pl.String, "title": pl.String, "source_path": pl.String,
    "partition_key": pl.String, "organ_key": pl.String, "division_code": pl.String, "cells_digest": pl.String,
}
CELLS_SCHEMA = {
    "report_id": pl.String, "table_name": pl.String, "row_key": pl.String, "column_key": pl.String,
    "value": pl.Decimal(38, 10), "raw": pl.String, "source_line": pl.Int32, "page": pl.Int32, "how": pl.String,
    "candidates": pl.String, "note": pl.String, "row_label": pl.String, "column_label": pl.String,
    "confidence": pl.Float64, "box": pl.String,
}
PROSE_SCHEMA = {
    "report_id": pl.String, "metric": pl.String, "value": pl.Int64, "unit": pl.String, "source_line": pl.Int32,
    "sentence": pl.String, "origin": pl.String, "note": pl.String,
}
SECTIONS_SCHEMA = {"report_id": pl.String, "section_no": pl.Int32, "title": pl.String, "start_line": pl.Int32, "end_line": pl.Int32}
CHECKS_SCHEMA = {
    "report_id": pl.String, "check_name": pl.String, "severity": pl.String, "passed": pl.Boolean, "expected": pl.String,
    "actual": pl.String, "location": pl.String, "message": pl.String, "details": pl.String,
}
FILE_INDEX_SCHEMA = {"source_path": pl.String, "size_bytes": pl.Int64, "mtime_ns": pl.Int64, "document_id": pl.String}

TABLE_SCHEMAS = {
    "documents": DOCUMENTS_SCHEMA, "reports": REPORTS_SCHEMA, "report_cells": CELLS_SCHEMA,
    "prose_metrics": PROSE_SCHEMA, "report_sections": SECTIONS_SCHEMA, "check_results": CHECKS_SCHEMA,
}


def sql(name: str) -> str:
    """A whole statement file from sql/ (executed whole, never split on ';')."""
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def connect(db_path: str | Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the store, creating its tables and views when they are not there yet."""
    Path(db_path).parent.mkdir(parents=True, exist_ok=True)
    # the writer shares the machine with the extraction workers: keep it small and bounded
    con = duckdb.connect(str(db_path), read_only=read_only, config={"memory_limit": "512MB", "threads": 1})
    if not read_only:
        con.execute(sql("create_tables"))
        con.execute(sql("create_views"))
    return con


def _arrow_schema(schema: dict) -> pa.Schema:
    return pl.DataFrame(schema=schema).to_arrow().schema


# the same schemas as Arrow, for the workers: Polars' thread pool must not be used in a forked
# worker once the parent has started it (it hangs), so workers build Arrow tables directly
ARROW_SCHEMAS = {name: _arrow_schema(schema) for name, schema in TABLE_SCHEMAS.items()}
