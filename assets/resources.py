"""Where the drop folder and the store live. Read at run time, never at import time."""

from __future__ import annotations

import os

import dagster as dg


class GovReportStore(dg.ConfigurableResource):
    """The drop folder and DuckDB file. Empty fields fall back to the environment
    (GOVREPORT_DROP_DIR, GOVREPORT_DB) and then to the bundled sample folder and
    data/govreport.duckdb, which work from a fresh clone."""

    drop_dir: str = ""
    db_path: str = ""
    batch_size: int = 500
    workers: int = 0  # 0: all cores

    def resolved_drop_dir(self) -> str:
        return self.drop_dir or os.environ.get("GOVREPORT_DROP_DIR", "examples/drop")

    def resolved_db_path(self) -> str:
        return self.db_path or os.environ.get("GOVREPORT_DB", "data/govreport.duckdb")
