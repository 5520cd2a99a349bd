"""Drop folder → store, incrementally, on both cores.

A file is read again only when its size or modification time changed; its content hash then
decides whether it is new (process it), known under another name (a move or rename: only the
file index changes) or changed (its old report is replaced). Workers process files in
parallel, each file under its budget of time and memory (pool.py: a watchdog kills and
replaces a worker over it, and the file is stored with the reason); the single writer loads
their results in batches, so memory is set by the batch size, not by the size of the folder.
A stop request commits what finished and drops the files in flight at once.
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from pipeline.read.budget import DEFAULT as DEFAULT_BUDGET, Budget
from pipeline.read.dropfolder import DEFAULT_MAX_BYTES, Refusal, TooBig, Unreadable, content_id, read_regular, scan_folder, unreadable_id
from pipeline.read.images import PICTURE_SUFFIXES  # issue 16
from pipeline.read.webpage import images_beside  # issue 16
from pipeline.process import PIPELINE_VERSION, process_bytes, report_id_for, unreadable_file
from pipeline.store.pool import TICK, WatchedPool, stop_helper_processes
from pipeline.store.db import sql
from pipeline.store.refusals import record_refusals
from pipeline.store.load import continuity_checks, load_batch, load_staged, remove_paths, stage_tables
from pipeline.store.waivers import WaiverStatus, default_waivers_path, load_waivers
from pipeline.store.writer import BackgroundCommits, StoreWriter

DEFAULT_BATCH = 500


@dataclass
class FileEntry:
    source_path: str  # relative, with forward slashes
    size_bytes: int
    mtime_ns: int
    document_id: str = ""  # filled when the content had to be hashed
    fs_path: str = ""  # the path as the file system spells it (non-UTF-8 names differ); "" = source_path
    max_bytes: int = DEFAULT_MAX_BYTES  # files over this are not read (dropfolder.py)

    @property
    def os_path(self) -> str:
        return self.fs_path or self.source_path


@dataclass
class Plan:
    """What a run must do: files to process, files merely renamed, files gone."""

    to_process: list[FileEntry] = field(default_factory=list)
    renamed: list[dict] = field(default_factory=list)  # file_index rows for known content
    gone_paths: list[str] = field(default_factory=list)
    unchanged: int = 0
    replaced: list[tuple[str, str]] = field(default_factory=list)  # (report_id, document_id) whose file changed


@dataclass
class RunSummary:
    files_seen: int = 0
    processed: int = 0
    unchanged: int = 0
    renamed: int = 0
    removed: int = 0
    errors: int = 0
    seconds: float = 0.0
    stage_seconds: dict[str, float] = field(default_factory=dict)  # wall seconds of this process
    worker_seconds: dict[str, float] = field(default_factory=dict)  # CPU-side seconds summed over workers
    report_ids: list[str] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)  # entries not read, each with its reason
    interrupted: str = ""  # "SIGINT"/"SIGTERM" when a signal stopped the run (what had finished was committed)
    left: int = 0  # files in flight or not started when a stop came: left for the next run
    workers_replaced: int = 0
    tree_peak_bytes: int = 0  # the largest resident memory of parent + workers the watchdog saw
    continuity_report_ids: list[str] = field(default_factory=list)  # reports whose cross-report checks were redone
    waivers: WaiverStatus | None = None


def scan(drop_dir: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> list[FileEntry]:
    """Every regular file below the drop folder, links never followed (see scan_entries)."""
    return scan_entries(drop_dir, max_bytes)[0]


def scan_entries(drop_dir: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[list[FileEntry], list[Refusal]]:
    """The regular files below the drop folder, and every other entry (links, FIFOs, sockets,
    devices, hidden names) refused with a one-line reason (dropfolder.py)."""
    found, refused = scan_folder(drop_dir)
    entries = [FileEntry(f.source_path, f.size_bytes, f.mtime_ns, fs_path=f.fs_path if f.fs_path != f.source_path else "", max_bytes=max_bytes)
               for f in found]
    return entries, refused


def hash_file(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """The document id of a file: sha256 of its bytes, read as the workers read it (no links,
    regular files only; over-size files by fingerprint; unreadable ones by a name-derived id)."""
    path = Path(path)
    return content_id(path.parent, path.name, path.name, max_bytes)


def hash_entry(drop_dir: Path, e: FileEntry) -> str:
    return content_id(drop_dir, e.os_path, e.source_path, e.max_bytes)


def plan_run(con, drop_dir: Path, entries: list[FileEntry]) -> Plan:
    """Compare the folder with the file index: cheap stat first, content hash to confirm."""
    index = {p: (s, m, d) for p, s, m, d in con.execute("SELECT source_path, size_bytes, mtime_ns, document_id FROM file_index").fetchall()}
    stored = {d: v for d, v in con.execute("SELECT document_id, pipeline_version FROM documents").fetchall()}
    plan = Plan()
    held: set[str] = set()  # documents some file in the folder holds now
    for e in entries:
        known = index.get(e.source_path)
        if known and known[:2] == (e.size_bytes, e.mtime_ns) and stored.get(known[2]) == PIPELINE_VERSION:
            plan.unchanged += 1
            held.add(known[2])
            continue
        e.document_id = hash_entry(drop_dir, e)
        if stored.get(e.document_id) == PIPELINE_VERSION or e.document_id in held:
            plan.renamed.append({"source_path": e.source_path, "size_bytes": e.size_bytes, "mtime_ns": e.mtime_ns, "document_id": e.document_id})
        else:
            plan.to_process.append(e)
        held.add(e.document_id)
    seen = {e.source_path for e in entries}
    plan.gone_paths = [p for p in index if p not in seen]
    # stored reports that no file holds any more: a changed file's old content, a deleted file
    plan.replaced = sorted((report_id_for(d), d) for d in stored if d not in held)
    return plan


CHUNK = 16  # files per task: amortizes inter-process overhead
CHUNK_BYTES = 4_000_000  # ... but a task holds at most this much input (plus one file)
IN_FLIGHT_BYTES = 48_000_000  # input bytes queued or finished-but-unread at once
BATCH_BYTES = 32_000_000  # a batch is committed early once its files hold this much input


@dataclass
class FileDone:
    """What the writer needs of one processed file; its rows wait in the chunk's Arrow files."""

    report_id: str
    document_id: str
    failed: bool  # the document row carries an error
    timings: dict[str, float]


@dataclass
class StagedChunk:
    """A worker's result for one chunk: its files in order and its staged tables."""

    files: list[FileDone]
    paths: dict[str, str]  # table → Arrow IPC file (store.stage_tables)
    stage_seconds: float = 0.0


_IMG_TAG = re.compile(rb"<img", re.IGNORECASE)  # searched in place: no lowered copy of every file

def _work(args: tuple, skip: dict[int, str] | None = None, mark: Callable[[int], None] | None = None) -> StagedChunk:
    """Read and process a chunk of files: (path on disk, path as stored, size limit) each,
    then write its rows as Arrow files in the staging folder, so only paths, ids and timings
    travel back to the writer (never the texts). The bytes processed are the bytes read
    through one descriptor; a file that cannot be read any more (vanished, became a link or
    FIFO) or is over the limit becomes a document row carrying the reason, so the run never
    stops and no file goes unrecorded. `skip` holds the files the watchdog stopped on an
    earlier try (index → reason: they get that row without being read again); `mark(i)`
    tells the watchdog which file is being read."""
    drop_dir, files, staging, tag, budget = args
    out = []
    for i, (fs_path, shown, max_bytes) in enumerate(files):
        if mark:
            mark(i)
        try:
            data = read_regular(drop_dir, fs_path, max_bytes)
        except TooBig as exc:
            out.append(unreadable_file(exc.fingerprint, shown, exc.size, str(exc)))
            continue
        except Unreadable as exc:
            out.append(unreadable_file(unreadable_id(shown, str(exc)), shown, 0, str(exc)))
            continue
        if skip and i in skip:
            out.append(unreadable_file(hashlib.sha256(data).hexdigest(), shown, len(data), skip[i], expected="a file within its time and memory budget"))
            continue
        images = images_beside(drop_dir, fs_path, data) if _IMG_TAG.search(data, 0, 5_000_000) else None  # a saved page's pictured tables
        out.append(process_bytes(data, shown, budget, images=images))
    if mark:
        mark(-1)
    t = time.perf_counter()
    paths = stage_tables(out, Path(staging), tag)
    done = [FileDone(p.report["report_id"], p.document["document_id"], p.document["error"] is not None, p.timings) for p in out]
    return StagedChunk(done, paths, time.perf_counter() - t)


def _chunks(drop_dir: Path, entries: list[FileEntry], staging: Path, chunk: int = CHUNK, budget: Budget = DEFAULT_BUDGET) -> Iterator[tuple[int, tuple]]:
    """(input bytes, task) for consecutive runs of at most `chunk` files / CHUNK_BYTES."""
    files: list[tuple[str, str, int]] = []
    size = 0
    n = 0
    for e in entries:
        files.append((e.os_path, e.source_path, e.max_bytes))
        size += min(e.size_bytes, e.max_bytes)
        if len(files) >= chunk or size >= CHUNK_BYTES:
            n += 1
            yield size, (str(drop_dir), files, str(staging), f"{n:07d}", budget)
            files, size = [], 0
    if files:
        yield size, (str(drop_dir), files, str(staging), f"{n + 1:07d}", budget)


def _quiet_worker() -> None:
    """Workers leave SIGINT/SIGTERM to the parent, which stops them."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


WORKER_PRELOAD = ("pipeline.store.warm",)  # imported once by the pool's fork server: workers start warm


@dataclass
class PoolStats:
    replaced: int = 0
    tree_peak: int = 0


def process_files(drop_dir: Path, entries: list[FileEntry], workers: int, staging: Path, in_flight: int = DEFAULT_BATCH,
                  budget: Budget = DEFAULT_BUDGET, stopping: Callable[[], bool] = lambda: False,
                  stats: PoolStats | None = None) -> Iterator[tuple[list[FileEntry], StagedChunk]]:
    """Process files in worker processes under the watchdog (pool.py), streaming (entries,
    staged chunk) pairs to the caller as chunks finish (a chunk holds at most `in_flight`
    files, so a batch is not much bigger than asked). At most `in_flight` files (and
    IN_FLIGHT_BYTES of input) are queued or finished-but-unread at once, so memory and staging
    space are set by the batch size and not by the size of the folder or of its files. Every
    file goes through a worker, even with one worker: the budget holds only where a process
    can be killed. When `stopping()` turns true (looked at every 50 ms) the chunks already
    finished are handed over and the rest is dropped at once; closing the iterator early
    does the same."""
    chunk = max(1, min(CHUNK, in_flight, -(-len(entries) // (2 * workers))))  # a small run still uses every worker
    tasks = []
    lo = 0
    for size, task in _chunks(drop_dir, entries, staging, chunk, budget):
        tasks.append((size, task, entries[lo: lo + len(task[1])]))
        lo += len(task[1])
    if not tasks:
        return
    window = max(2 * workers, 2 * in_flight // chunk)  # two batches: workers never wait on the writer
    pool = WatchedPool(max(1, min(workers, len(tasks))), _work, budget, initializer=_quiet_worker, preload=WORKER_PRELOAD)
    stop = False
    try:
        queued = 0
        sent = 0
        handed = 0
        while handed < len(tasks):
            while sent < len(tasks) and (pool.busy() == 0 or (pool.busy() < window and queued + tasks[sent][0] <= IN_FLIGHT_BYTES)):
                pool.submit(sent, tasks[sent][1])
                queued += tasks[sent][0]
                sent += 1
            stop = stopping()
            done = pool.poll(0 if stop else TICK)
            for seq, result in done:
                queued -= tasks[seq][0]
                handed += 1
                yield tasks[seq][2], result
            if stats:
                stats.replaced, stats.tree_peak = pool.replaced, pool.tree_peak
            if stop:  # what finished was handed over above; the rest is dropped
                return
    finally:
        if stats:
            stats.replaced, stats.tree_peak = pool.replaced, pool.tree_peak
        pool.close(stop_server=stop)  # a stopped run leaves no process of its own behind


class _OnSignal:
    """Context manager: `_handle` takes SIGINT and SIGTERM while inside (main thread only;
    elsewhere signals keep their handlers); the previous handlers come back on exit."""

    def __init__(self):
        self._old: dict = {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._old[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, frame):
        raise NotImplementedError

    def __exit__(self, *exc):
        for sig, old in self._old.items():
            signal.signal(sig, old)
        self._old = {}
        return False


class _EndHelpersOnSignal(_OnSignal):
    """Outside the processing loop (waiting for the store's lock, the wind-down after it, the
    final publish) SIGINT/SIGTERM keep their usual effect — SIGTERM ends the process, SIGINT
    raises KeyboardInterrupt — but first end the pool's fork server and resource tracker, which
    would otherwise outlive the writer by a moment (killtest caught them)."""

    def _handle(self, signum, frame):
        stop_helper_processes()
        old = self._old.get(signum)
        if old is None:  # a handler not set from Python: the default
            old = signal.SIG_DFL
        if callable(old):
            return old(signum, frame)
        signal.signal(signum, old)
        if old == signal.SIG_DFL:
            os.kill(os.getpid(), signum)
        return None


class _StopOnSignal(_OnSignal):
    """SIGINT/SIGTERM ask the run to stop: the processing loop sees it within 50 ms, commits
    what finished and kills the workers (main thread only; elsewhere signals keep their usual
    handlers). Dagster's Terminate sends SIGINT to the run's process, which lands here too."""

    def __init__(self):
        super().__init__()
        self.requested = ""

    def _handle(self, signum, frame):
        if self.requested:  # asked twice: stop now (the last committed batch stays)
            self.__exit__()
            raise KeyboardInterrupt
        self.requested = signal.Signals(signum).name


def missing_continuity(con) -> list[str]:
    """Reports a killed run loaded without their cross-report checks (redone this run)."""
    return [r[0] for r in con.execute(sql("select_missing_continuity")).fetchall()]


def run_ingest(
    drop_dir: str | Path,
    db_path: str | Path,
    batch_size: int = DEFAULT_BATCH,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    only_documents: Callable[[str], bool] | None = None,
    wait_seconds: float = 0.0,
    waivers_path: str | Path | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    budget: Budget = DEFAULT_BUDGET,
) -> RunSummary:
    """Bring the store in line with the drop folder. Returns what was done and how long
    each stage took. `only_documents` (document_id → bool) restricts processing to some
    files (a Dagster run over a partition range). Readers keep querying the published store
    while this runs (see writer.py); a second writer waits `wait_seconds` for the lock, then
    raises StoreBusy with one line. Each file runs under `budget` (seconds and memory, held
    by the watchdog of pool.py). SIGINT/SIGTERM stop it within a second or so: the files
    already processed are committed, the workers are killed, the files in flight are left for
    the next run (`summary.interrupted`, `summary.left`); a rerun continues where it stopped."""
    t0 = time.perf_counter()
    drop_dir = Path(drop_dir)
    os.environ.setdefault("GOVREPORT_OCR_CACHE", f"{db_path}.ocr")  # issue 16: OCR results kept beside the store (read/ocr_cache.py)
    workers = workers or os.cpu_count() or 1
    summary = RunSummary()
    with _EndHelpersOnSignal(), StoreWriter(db_path, wait_seconds=wait_seconds) as writer, _StopOnSignal() as stop:
        con = writer.con
        entries, summary.refused = scan_entries(drop_dir, max_bytes)
        record_refusals(con, summary.refused)
        summary.files_seen = len(entries)
        plan = plan_run(con, drop_dir, entries)
        t_plan = time.perf_counter()
        summary.stage_seconds["scan"] = t_plan - t0
        todo = plan.to_process
        if only_documents is not None:
            todo = [e for e in todo if only_documents(e.document_id)]
        todo = sorted(todo, key=lambda e: PurePosixPath(e.source_path).suffix.lower() in PICTURE_SUFFIXES)  # issue 16: text is not held up behind OCR
        summary.unchanged, summary.renamed, summary.removed = plan.unchanged, len(plan.renamed), len(plan.gone_paths)
        remove_paths(con, plan.gone_paths)
        if plan.renamed or plan.replaced:
            load_batch(con, [], plan.renamed, plan.replaced)
            writer.committed()
        batch: list[StagedChunk] = []
        batch_files: list[FileDone] = []
        batch_entries: list[FileEntry] = []
        i = 0
        batch_bytes = 0
        stats = PoolStats()
        commits = BackgroundCommits()
        t_store = 0.0

        def commit(chunks: list[StagedChunk], files: list[FileDone], entries_: list[FileEntry], done: int) -> None:
            nonlocal t_store
            started = time.perf_counter()
            entry_rows = [_index_row(e, f.document_id) for e, f in zip(entries_, files)]
            summary.continuity_report_ids += load_staged(con, [c.paths for c in chunks], [(f.report_id, f.document_id) for f in files], entry_rows)
            writer.committed()
            _unstage(chunks)
            t_store += time.perf_counter() - started
            if progress:
                progress(done, len(todo))

        def hand_over() -> None:
            """The batch goes to the commit thread; the next one starts empty."""
            nonlocal batch, batch_files, batch_entries, batch_bytes
            commits.submit(commit, batch, batch_files, batch_entries, i)
            batch, batch_files, batch_entries, batch_bytes = [], [], [], 0

        t_loop = time.perf_counter()
        results = process_files(drop_dir, todo, workers, writer.staging, batch_size, budget, lambda: bool(stop.requested), stats)
        try:
            for chunk_entries, chunk in results:
                commits.raise_failure()
                batch.append(chunk)
                batch_files += chunk.files
                batch_entries += chunk_entries
                summary.worker_seconds["stage"] = summary.worker_seconds.get("stage", 0.0) + chunk.stage_seconds
                for e, f in zip(chunk_entries, chunk.files):
                    i += 1
                    batch_bytes += min(e.size_bytes, max_bytes)
                    for stage, secs in f.timings.items():
                        summary.worker_seconds[stage] = summary.worker_seconds.get(stage, 0.0) + secs
                    summary.errors += f.failed
                    summary.report_ids.append(f.report_id)
                if len(batch_files) >= batch_size or i == len(todo) or batch_bytes >= BATCH_BYTES:
                    hand_over()
        finally:
            results.close()  # kills the workers at once: files in flight are dropped, never half-stored
            commits.close()  # the batch being committed is finished (or its error raised) before anything else
        if batch:  # a stop: what finished is committed, the files in flight are left for the next run
            commit(batch, batch_files, batch_entries, i)
        t_work = time.perf_counter() - t_loop - commits.waited
        stop.__exit__()  # the wind-down below is short; a signal now ends the run (_EndHelpersOnSignal)
        summary.interrupted = stop.requested
        if summary.interrupted:  # asked while a batch was committed, after the pool had closed: end the fork server too
            stop_helper_processes()
        summary.left = len(todo) - i
        summary.workers_replaced, summary.tree_peak_bytes = stats.replaced, stats.tree_peak
        summary.processed = len(summary.report_ids)
        t_checks = time.perf_counter()
        # batches carried their own cross-report checks; a run killed earlier may have left some out
        summary.continuity_report_ids += continuity_checks(con, missing_continuity(con))
        summary.waivers = load_waivers(con, waivers_path if waivers_path is not None else default_waivers_path(drop_dir))
        writer.committed()
        summary.stage_seconds.update(process=t_work, store=t_store, commit_wait=commits.waited, continuity=time.perf_counter() - t_checks)
    summary.seconds = time.perf_counter() - t0
    return summary


def _index_row(e: FileEntry, document_id: str) -> dict:
    return {"source_path": e.source_path, "size_bytes": e.size_bytes, "mtime_ns": e.mtime_ns, "document_id": document_id}


def _unstage(chunks: list[StagedChunk]) -> None:
    """Delete a committed batch's Arrow files (a killed run's are cleared by the next writer)."""
    for c in chunks:
        for path in c.paths.values():
            Path(path).unlink(missing_ok=True)
