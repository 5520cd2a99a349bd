"""Where the drop folder, the store and the waivers live. Read at run time, never at import time."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from pipeline.read.budget import DEFAULT_MAX_MEMORY, DEFAULT_MAX_SECONDS, Budget
from pipeline.store.waivers import default_waivers_path


class GovReportStore(dg.ConfigurableResource):
    """The drop folder, DuckDB file and waivers file. Empty fields fall back to the environment
    (GOVREPORT_DROP_DIR, GOVREPORT_DB, GOVREPORT_WAIVERS) and then to the bundled sample folder,
    data/govreport.duckdb and waivers.csv beside the drop folder, which work from a fresh clone."""

    drop_dir: str = ""
    db_path: str = ""
    waivers_path: str = ""
    batch_size: int = 500
    workers: int = 0  # 0: all cores
    lock_wait_seconds: float = 600.0  # a run queued behind another writer waits this long
    max_seconds: float = DEFAULT_MAX_SECONDS  # CPU seconds one file may take (the command line's --max-seconds)
    max_memory_mib: int = DEFAULT_MAX_MEMORY >> 20  # memory one file may need, MiB (--max-memory); the run stays under it + 384 MiB

    def budget(self) -> Budget:
        """What one file may cost (read/budget.py); a file over it is stored with the reason."""
        return Budget(max_seconds=self.max_seconds, max_memory=self.max_memory_mib << 20)

    def resolved_drop_dir(self) -> str:
        return self.drop_dir or os.environ.get("GOVREPORT_DROP_DIR", "examples/drop")

    def resolved_db_path(self) -> str:
        return self.db_path or os.environ.get("GOVREPORT_DB", "data/govreport.duckdb")

    def resolved_waivers_path(self) -> Path:
        return Path(self.waivers_path or os.environ.get("GOVREPORT_WAIVERS", "") or default_waivers_path(self.resolved_drop_dir()))
