"""Store what the drop-folder scan refused (links, FIFOs, hidden names…), so that files in =
``file_index`` rows + ``refused_entries`` rows. The scan itself (``read.dropfolder``) never
writes the store."""

from __future__ import annotations

import polars as pl

from pipeline.read.dropfolder import Refusal
from pipeline.store.db import sql


def record_refusals(con, refused: list[Refusal]) -> None:
    """Replace ``refused_entries`` with this scan's refusals, in one transaction."""
    rows = pl.DataFrame([{"source_path": r.source_path, "kind": r.kind, "reason": r.reason} for r in refused],
                        schema={"source_path": pl.String, "kind": pl.String, "reason": pl.String})
    con.execute("BEGIN TRANSACTION")
    try:
        con.register("stage_refused", rows.to_arrow())
        con.execute(sql("replace_refused_entries"))
        con.unregister("stage_refused")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
