"""Workers stage their rows as Arrow files; the writer loads them (issue 10, phase 2).

The staged path must store exactly what the in-process path stores, leave nothing behind, and
never load a killed run's leftovers.
"""

from __future__ import annotations

import duckdb

from pipeline.devtools.bench import identical, write_real_corpus
from pipeline.store.ingest import run_ingest
from pipeline.process import process_bytes
from pipeline.store.load import stage_tables
from pipeline.store.writer import staging_path, work_path


def _counts(db) -> dict[str, int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("documents", "reports", "report_cells", "check_results")}  # noqa: S608
    finally:
        con.close()


def test_parallel_staged_batches_store_the_same_rows_as_one_process(tmp_path):
    drop = tmp_path / "drop"
    write_real_corpus(drop, 48)
    one = run_ingest(drop, tmp_path / "one.duckdb", workers=1)
    two = run_ingest(drop, tmp_path / "two.duckdb", workers=2, batch_size=20)  # several batches, chunks from both workers
    assert one.processed == two.processed == 48
    assert identical(tmp_path / "one.duckdb", tmp_path / "two.duckdb") == dict.fromkeys(
        ("documents", "reports", "report_cells", "prose_metrics", "report_sections", "check_results"), 0)
    assert two.worker_seconds["stage"] > 0
    assert not staging_path(tmp_path / "two.duckdb").exists()  # every staged file was loaded and removed


def test_a_killed_runs_staged_files_are_never_loaded(tmp_path):
    drop = tmp_path / "drop"
    write_real_corpus(drop, 3)
    db = tmp_path / "store.duckdb"
    run_ingest(drop, db, workers=1)
    before = _counts(db)
    # a run killed after its workers staged a chunk: real Arrow files there, the commit never came
    staging = staging_path(db)
    staging.mkdir()
    stranger = process_bytes("某某县人民政府2021年政府信息公开工作年度报告\n".encode(), "stranger.txt")
    staged = stage_tables([stranger], staging, "0000001")
    assert "documents" in staged
    summary = run_ingest(drop, db, workers=1)
    assert summary.processed == 0 and summary.unchanged == 3
    assert _counts(db) == before
    assert not staging.exists()
    assert work_path(db).exists()


def test_workers_keep_working_while_a_batch_is_committed(tmp_path):
    """The pool hands out files only when the run's loop polls it; commits run on their own
    thread (writer.BackgroundCommits), so while a batch is committed the loop keeps feeding
    the workers. Here the first commit is held open (its progress call waits) until more
    chunks are staged than the two workers' tasks in hand could make; with the commit on the
    loop's thread the count stops at two and this waits out its minute."""
    import time

    from pipeline.devtools.generate import write_corpus

    drop, db = tmp_path / "drop", tmp_path / "store.duckdb"
    write_corpus(drop, 160, seed=3, broken_share=0.0)
    staged_while_held: list[int] = []

    def hold_first_commit(done: int, total: int) -> None:
        if staged_while_held:
            return
        deadline, staged = time.monotonic() + 60, 0
        while time.monotonic() < deadline and staged < 3:
            time.sleep(0.05)
            staged = len(list(staging_path(db).glob("*-documents.arrow")))
        staged_while_held.append(staged)

    summary = run_ingest(drop, db, batch_size=32, workers=2, progress=hold_first_commit)
    assert staged_while_held[0] >= 3, f"{staged_while_held[0]} chunk(s) staged while the first batch was committed"
    assert summary.processed == 160 and _counts(db)["reports"] == 160


def test_background_commits_run_in_order_one_at_a_time_and_raise_their_errors():
    import threading
    import time

    import pytest

    from pipeline.store.writer import BackgroundCommits

    log, running = [], threading.Semaphore(1)

    def commit(n: int) -> None:
        assert running.acquire(blocking=False), "two commits at once"
        time.sleep(0.01)
        log.append((n, threading.current_thread().name))
        running.release()
        if n == 3:
            raise OSError("disk full")

    commits = BackgroundCommits()
    for n in range(3):
        commits.submit(commit, n)
    commits.submit(commit, 3)
    with pytest.raises(OSError, match="disk full"):
        commits.close()
    assert [n for n, _ in log] == [0, 1, 2, 3]
    assert all(name.startswith("govreport-commit") for _, name in log)
