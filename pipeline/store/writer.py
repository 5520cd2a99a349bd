"""The store's single writer, and readers that are never locked out.

DuckDB lets one process hold a database file for writing, and while it does, no other process
may open the file even to read (STACK_NOTES). A run lasts minutes; analysts, notebooks and the
Dagster UI must query meanwhile. So the store is two files:

* ``<db>.work`` — the writer's copy. Only a run holding ``<db>.lock`` opens it. Every batch is
  one transaction in it, so a killed run leaves it consistent.
* ``<db>`` — the published copy that readers open (``duckdb <db>``, ``read_only=True``). After a
  commit the writer checkpoints its copy and atomically renames a fresh copy over ``<db>``
  (at most every ``publish_every`` seconds, and always at the end of a run). The copy grows
  with the store (2.4 GB at 50,000 generated reports), so the gap also grows: at least
  ``PUBLISH_GAP_PER_COPY_SECOND`` times the last copy's duration, which keeps publishing to
  about a tenth of the writer's time whatever the store's size. A reader that has
  the old file open keeps reading the old snapshot; the next connection sees the new one.
  Reports the run has not committed yet are simply absent, never half-present.

A second writer does not wait on DuckDB's lock and never dies with its traceback: it waits for
``<db>.lock`` up to ``wait_seconds`` and otherwise raises ``StoreBusy`` with one line naming
the holder's pid.

Everything in the store derives from the drop folder, so a schema change (any edit of
``sql/create_tables.sql``) simply starts the writer's copy afresh and the run re-extracts.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import shutil
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import duckdb

from pipeline.store.db import SQL_DIR, connect, sql

SCHEMA_VERSION = hashlib.sha256((SQL_DIR / "create_tables.sql").read_bytes()).hexdigest()[:12]


class StoreBusy(RuntimeError):
    """Another run holds the store's write lock."""


def work_path(db_path: str | Path) -> Path:
    return Path(f"{db_path}.work")


def lock_path(db_path: str | Path) -> Path:
    return Path(f"{db_path}.lock")


def staging_path(db_path: str | Path) -> Path:
    """Where workers leave their Arrow files for the writer to load (store.stage_frames).
    Only the lock holder uses it; a killed run's leftovers are cleared by the next writer."""
    return Path(f"{db_path}.work.staging")


PUBLISH_GAP_PER_COPY_SECOND = 9.0  # a copy of d seconds waits 9·d before the next: ≤ 10 % of the writer's time


class StoreWriter:
    """Context manager: the write lock, the writer's connection, and publishing."""

    def __init__(self, db_path: str | Path, wait_seconds: float = 0.0, publish_every: float = 5.0):
        self.db_path = Path(db_path)
        self.wait_seconds = wait_seconds
        self.publish_every = publish_every
        self.con: duckdb.DuckDBPyConnection | None = None
        self._lock_fd: int | None = None
        self._published_at = 0.0
        self._publish_gap = publish_every
        self._dirty = False

    # -- lock ------------------------------------------------------------------------------
    def _acquire(self) -> None:
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_path(self.db_path), os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + self.wait_seconds
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    os.close(fd)
                    raise
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "?"
                    os.close(fd)
                    raise StoreBusy(f"a run is already writing {self.db_path} (pid {holder})") from None
                time.sleep(0.2)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._lock_fd = fd

    def _release(self) -> None:
        if self._lock_fd is not None:
            os.ftruncate(self._lock_fd, 0)
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None

    # -- open / publish ----------------------------------------------------------------------
    def __enter__(self) -> "StoreWriter":
        self._acquire()
        try:
            self.staging = _fresh_dir(staging_path(self.db_path))  # a killed run's files are never loaded
            self.con = self._open_work_copy()
        except BaseException:
            self._release()
            raise
        return self

    def _open_work_copy(self) -> duckdb.DuckDBPyConnection:
        work = work_path(self.db_path)
        if not self.db_path.exists():  # no published store: start afresh
            _remove_db(work)
        elif not work.exists():  # a store published by an earlier run (or an older version)
            shutil.copyfile(self.db_path, work)
        con = connect(work)
        if _schema_version(con) != SCHEMA_VERSION:
            con.close()
            _remove_db(work)
            con = connect(work)
            self._dirty = True  # publish the new schema even if nothing else changes
        con.execute(sql("upsert_store_info"), ["schema_version", SCHEMA_VERSION])
        return con

    def committed(self) -> None:
        """Call after each committed transaction: publishes when the last publish is old."""
        self._dirty = True
        if time.monotonic() - self._published_at >= self._publish_gap:
            self.publish()

    def publish(self) -> None:
        """Checkpoint the writer's copy and atomically replace the readers' copy with it."""
        assert self.con is not None
        started = time.monotonic()
        self.con.execute("CHECKPOINT")
        tmp = self.db_path.with_name(f".{self.db_path.name}.publishing")
        shutil.copyfile(work_path(self.db_path), tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, self.db_path)
        self._published_at = time.monotonic()
        self._publish_gap = max(self.publish_every, PUBLISH_GAP_PER_COPY_SECOND * (self._published_at - started))
        self._dirty = False

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if self.con is not None:
                if self._dirty or not self.db_path.exists():
                    self.publish()
                self.con.close()
        finally:
            self.con = None
            shutil.rmtree(staging_path(self.db_path), ignore_errors=True)  # chunks staged but not loaded (a stopped run)
            self._release()


def _schema_version(con: duckdb.DuckDBPyConnection) -> str | None:
    row = con.execute("SELECT value FROM store_info WHERE key = 'schema_version'").fetchone()
    if row is None and con.execute("SELECT count(*) FROM documents").fetchone()[0] == 0:
        return SCHEMA_VERSION  # a brand-new, empty store
    return row[0] if row else None


def _fresh_dir(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def _remove_db(path: Path) -> None:
    for p in (path, Path(f"{path}.wal")):
        p.unlink(missing_ok=True)


class BackgroundCommits:
    """The writer's commits, one at a time and in order, on a thread of their own.

    The pool hands files to idle workers only when the run's loop polls it (pool.py), so a
    commit on that loop left both workers idle for its length once their chunk was done: at
    4,000 generated reports, seconds in which the writer ran alone. Here the loop goes on
    dispatching and collecting while a batch is loaded (DuckDB and Arrow release the GIL).
    `submit` first waits for the previous commit, so at most one batch is being committed
    while the next fills. A commit's exception is raised in the loop (`raise_failure`,
    `submit`) or by `close`, which waits for the last commit so the connection is never
    closed under it."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="govreport-commit")
        self._pending: Future | None = None
        self.waited = 0.0  # seconds the loop spent waiting for a commit (the writer was the bottleneck)

    def submit(self, fn: Callable[..., None], *args) -> None:
        self.wait()
        self._pending = self._executor.submit(fn, *args)

    def raise_failure(self) -> None:
        """Raise a finished commit's exception now instead of at the next batch."""
        if self._pending is not None and self._pending.done():
            self.wait()

    def wait(self) -> None:
        if self._pending is None:
            return
        started = time.perf_counter()
        try:
            self._pending.result()
        finally:
            self._pending = None
            self.waited += time.perf_counter() - started

    def close(self) -> None:
        try:
            self.wait()
        finally:
            self._executor.shutdown(wait=True)
