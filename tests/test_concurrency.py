"""SQL stays open while a run writes, and a second writer gets one line, never a traceback."""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from pipeline.check.report_checks import CHECK_NAMES
from pipeline.devtools.generate import write_corpus
from pipeline.store.ingest import run_ingest
from pipeline.store.writer import lock_path

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).parent.parent


def _ingest(drop, db, *extra):
    return subprocess.Popen([sys.executable, "-m", "pipeline", "ingest", str(drop), "--db", str(db), "--quiet", "--batch-size", "25", *extra],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _holder(db) -> str:
    try:
        return lock_path(db).read_text().strip()
    except FileNotFoundError:
        return ""


def test_readers_query_while_an_ingest_runs_and_a_second_writer_gets_one_line(tmp_path):
    drop, db = tmp_path / "drop", tmp_path / "data" / "store.duckdb"
    drop.mkdir()
    for name in ("000_9fd4f163df564d66.txt", "004_af160c066563daaa.txt"):
        shutil.copy(FIXTURES / name, drop / name)
    run_ingest(drop, db, workers=1)  # a store readers can already open
    write_corpus(drop / "generated", 600, seed=7, broken_share=0)

    writer = _ingest(drop, db, "--workers", "1")
    try:
        deadline = time.monotonic() + 60
        while not _holder(db) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _holder(db) == str(writer.pid)

        second = _ingest(drop, db)
        out, err = second.communicate(timeout=60)
        assert second.returncode == 3
        assert err.strip() == f"a run is already writing {db} (pid {writer.pid})"
        assert "Traceback" not in err and out == ""

        reads, counts = 0, []
        while writer.poll() is None:
            con = duckdb.connect(str(db), read_only=True)  # never "Conflicting lock is held"
            try:
                counts.append(con.execute("SELECT count(*) FROM reports").fetchone()[0])
                # never half-present: every report a reader sees has all its checks and its document
                assert con.execute("""SELECT count(*) FROM reports r WHERE
                        (SELECT count(DISTINCT check_name) FROM check_results k WHERE k.report_id = r.report_id) < ?
                        OR NOT EXISTS (SELECT 1 FROM documents d WHERE d.document_id = r.document_id)""",
                                   [len(CHECK_NAMES)]).fetchone()[0] == 0
            finally:
                con.close()
            reads += 1
            time.sleep(0.1)
        assert writer.returncode == 0, writer.stderr.read()
    finally:
        if writer.poll() is None:
            writer.kill()
    assert reads >= 5, f"the run was too short to read during it ({reads} reads)"
    assert counts == sorted(counts) and counts[0] >= 2  # snapshots only grow, starting from the earlier run
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM reports").fetchone()[0] == 602
    con.close()
    assert not _holder(db)  # the lock is released with its pid cleared


def test_a_writer_can_wait_for_the_lock(tmp_path):
    drop, db = tmp_path / "drop", tmp_path / "store.duckdb"
    drop.mkdir()
    shutil.copy(FIXTURES / "001_a940ca4a84d42417.txt", drop / "a.txt")
    import fcntl
    fd = os.open(lock_path(db), os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.write(fd, b"12345\n")
    try:
        waiting = _ingest(drop, db, "--wait", "30")
        time.sleep(1.5)
        assert waiting.poll() is None  # still waiting, not failed
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    out, err = waiting.communicate(timeout=60)
    assert waiting.returncode == 0, err
    assert "1 processed" in out


def test_publishing_waits_longer_as_the_store_grows(tmp_path, monkeypatch):
    """A publish copies the whole store for readers; at 50,000 reports that is 2.4 GB, and a copy
    every 5 s would take most of the writer's time. The gap after a publish is at least
    PUBLISH_GAP_PER_COPY_SECOND times the copy's duration (pipeline/store/writer.py)."""
    from pipeline.store import writer as w

    clock = [1000.0]
    monkeypatch.setattr(w.time, "monotonic", lambda: clock[0])
    real_copy = w.shutil.copyfile
    copies = []

    def slow_copy(src, dst):  # a copy that takes 2 s of the clock
        copies.append(clock[0])
        clock[0] += 2.0
        return real_copy(src, dst)

    monkeypatch.setattr(w.shutil, "copyfile", slow_copy)
    with w.StoreWriter(tmp_path / "store.duckdb", publish_every=5.0) as sw:
        sw.committed()  # first commit: publishes
        assert len(copies) == 1
        clock[0] += 5.0
        sw.committed()  # 5 s later: within 9 × 2 s of the last copy, no publish
        assert len(copies) == 1
        clock[0] += 13.0
        sw.committed()  # 18 s after the copy ended
        assert len(copies) == 2
    assert len(copies) == 2  # the end of the run publishes only what is still unpublished
