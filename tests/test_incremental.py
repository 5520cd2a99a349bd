"""Re-runs change nothing; a changed file replaces its report; a rename is not a new report;
the command line exits 0 even when reports fail checks."""

import shutil
import subprocess
import sys
from pathlib import Path

import duckdb

from pipeline.store.ingest import run_ingest

FIXTURES = Path(__file__).parent / "fixtures"
TABLES = ["documents", "reports", "report_cells", "prose_metrics", "check_results", "report_sections", "file_index"]


def snapshot(db):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}, \
            sorted(con.execute("SELECT report_id, source_path FROM reports").fetchall())
    finally:
        con.close()


def test_rerun_change_rename(tmp_path):
    drop = tmp_path / "drop"
    drop.mkdir()
    for n in ["000_9fd4f163df564d66.txt", "001_a940ca4a84d42417.txt"]:
        shutil.copy(FIXTURES / n, drop / n)
    db = tmp_path / "s.duckdb"
    first = run_ingest(drop, db, workers=1)
    assert first.processed == 2
    before = snapshot(db)
    again = run_ingest(drop, db, workers=1)
    assert again.processed == 0 and again.unchanged == 2 and snapshot(db) == before

    (drop / "001_a940ca4a84d42417.txt").rename(drop / "moved.txt")
    moved = run_ingest(drop, db, workers=1)
    assert moved.processed == 0 and moved.renamed == 1
    counts, reports = snapshot(db)
    assert counts == before[0] and len(reports) == 2

    shutil.copy(FIXTURES / "002_2e123555749eef60.txt", drop / "000_9fd4f163df564d66.txt")  # content changed
    changed = run_ingest(drop, db, workers=1)
    assert changed.processed == 1
    counts, reports = snapshot(db)
    con = duckdb.connect(str(db), read_only=True)
    organs = sorted(r[0] for r in con.execute("SELECT organ FROM reports").fetchall())
    assert organs == ["深圳市龙岗区", "红谷滩区政府办"]
    assert con.execute("SELECT count(*) FROM report_cells GROUP BY report_id HAVING count(*) <> 200").fetchall() == []


def test_cli_summary_and_exit_code(tmp_path):
    drop = tmp_path / "drop"
    shutil.copytree(FIXTURES, drop)
    db = tmp_path / "cli.duckdb"
    out = subprocess.run([sys.executable, "-m", "pipeline", "ingest", str(drop), "--db", str(db), "--quiet"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "reports: 10" in out.stdout and "failing checks" in out.stdout and "tables_complete" in out.stdout
