"""Waivers: findings a reviewer has marked as known errors of the source, with a reason.

They live in a plain CSV file beside the drop folder (default ``<drop folder>/../waivers.csv``)
so they can be kept under version control and edited by hand; ``python -m pipeline waive``
appends to it. Every run loads the file into the store's ``waivers`` table. A waived finding
is still listed in ``failing_checks`` (``waived = true``) but no longer counts as failing; a
waiver that matches no failing check any more (the file changed, the check passes now) is
listed in ``stale_waivers`` and reported by the run.
"""

from __future__ import annotations

import csv
import getpass
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import polars as pl

from pipeline.store.db import sql

FIELDS = ["report_id", "check_name", "reason", "waived_by", "waived_at", "organ", "year"]
WAIVERS_SCHEMA = {"report_id": pl.String, "check_name": pl.String, "reason": pl.String, "waived_by": pl.String,
                  "waived_at": pl.String, "organ": pl.String, "year": pl.Int32}


@dataclass
class WaiverStatus:
    path: str
    loaded: int = 0
    stale: list[dict] = field(default_factory=list)  # waivers matching no failing check, with why
    changed_report_ids: set[str] = field(default_factory=set)  # reports whose waivers were added, changed or removed
    problems: list[str] = field(default_factory=list)  # unreadable lines of the file


def default_waivers_path(drop_dir: str | Path) -> Path:
    return Path(drop_dir).resolve().parent / "waivers.csv"


def read_waivers(path: str | Path) -> tuple[list[dict], list[str]]:
    """Rows of the waivers file, and a one-line problem per row that cannot be used."""
    path = Path(path)
    if not path.is_file():
        return [], []
    rows, problems = [], []
    with path.open(encoding="utf-8", newline="") as fh:
        for n, row in enumerate(csv.DictReader(fh), start=2):
            if not (row.get("report_id") or "").strip() or not (row.get("check_name") or "").strip() or not (row.get("reason") or "").strip():
                problems.append(f"{path.name} line {n}: report_id, check_name and reason are required")
                continue
            year = (row.get("year") or "").strip()
            rows.append({k: (row.get(k) or "").strip() or None for k in FIELDS} | {"year": int(year) if year.isdigit() else None})
    return rows, problems


def load_waivers(con: duckdb.DuckDBPyConnection, path: str | Path) -> WaiverStatus:
    """Replace the store's waivers with the file's, and report the stale ones."""
    rows, problems = read_waivers(path)
    key = ("report_id", "check_name", "reason", "waived_by", "waived_at")
    before = set(con.execute(f"SELECT {', '.join(key)} FROM waivers").fetchall())  # noqa: S608
    after = {tuple(r[k] for k in key) for r in rows}
    con.execute("BEGIN TRANSACTION")
    con.register("stage_waivers", pl.DataFrame(rows, schema=WAIVERS_SCHEMA).to_arrow())
    con.execute(sql("replace_waivers"))
    con.unregister("stage_waivers")
    con.execute("COMMIT")
    cols = ["report_id", "check_name", "reason", "why"]
    stale = [dict(zip(cols, r)) for r in con.execute(f"SELECT {', '.join(cols)} FROM stale_waivers ORDER BY 1, 2").fetchall()]  # noqa: S608
    return WaiverStatus(str(path), len(rows), stale=stale, problems=problems, changed_report_ids={w[0] for w in before ^ after})


def find_report(con: duckdb.DuckDBPyConnection, ref: str) -> tuple[str, str | None, int | None]:
    """(report_id, organ, year) for a report id, partition key, or document-hash prefix."""
    prefix = ref if len(ref) >= 8 and all(c in "0123456789abcdef" for c in ref) else None
    hits = con.execute(
        "SELECT report_id, organ, year FROM reports WHERE report_id = ? OR partition_key = ? OR starts_with(document_id, ?)",
        [ref, ref, prefix or "-"],
    ).fetchall()
    if len(hits) != 1:
        raise ValueError(f"{ref!r} names {len(hits)} reports in the store; give its report_id or partition key")
    return hits[0]


def add_waiver(con: duckdb.DuckDBPyConnection, path: str | Path, ref: str, check_name: str, reason: str, who: str | None = None) -> dict:
    """Append a waiver for a failing check of a report to the waivers file (the store is
    read, not written: the next run, or `waive`'s own reload, loads it)."""
    report_id, organ, year = find_report(con, ref)
    failing = con.execute("SELECT count(*) FROM check_results WHERE report_id = ? AND check_name = ? AND NOT passed",
                          [report_id, check_name]).fetchone()[0]
    if not failing:
        raise ValueError(f"report {report_id} ({organ} {year}) does not fail {check_name!r}: nothing to waive")
    row = {"report_id": report_id, "check_name": check_name, "reason": reason, "waived_by": who or getpass.getuser(),
           "waived_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), "organ": organ or "", "year": year or ""}
    path = Path(path)
    new = not path.exists() or path.stat().st_size == 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=FIELDS)
        if new:
            w.writeheader()
        w.writerow(row)
    return row
