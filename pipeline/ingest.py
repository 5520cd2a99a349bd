"""Drop folder → store, incrementally, on both cores.

A file is read again only when its size or modification time changed; its content hash then
decides whether it is new (process it), known under another name (a move or rename: only the
file index changes) or changed (its old report is replaced). Workers process files in
parallel; the single writer loads their results in batches, so memory is set by the batch
size, not by the size of the folder.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterator
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from itertools import islice
from dataclasses import dataclass, field
from pathlib import Path

from .process import PIPELINE_VERSION, Processed, process_bytes, report_id_for
from .store import continuity_checks, load_batch, remove_paths
from .waivers import WaiverStatus, default_waivers_path, load_waivers
from .writer import StoreWriter

DEFAULT_BATCH = 500


@dataclass
class FileEntry:
    source_path: str  # relative, with forward slashes
    size_bytes: int
    mtime_ns: int
    document_id: str = ""  # filled when the content had to be hashed


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
    continuity_report_ids: list[str] = field(default_factory=list)  # reports whose cross-report checks were redone
    waivers: WaiverStatus | None = None


def scan(drop_dir: Path) -> list[FileEntry]:
    """Every regular file below the drop folder (hidden files and folders skipped)."""
    out = []
    for root, dirs, files in os.walk(drop_dir):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith("."):
                continue
            path = Path(root) / name
            st = path.stat()
            out.append(FileEntry(path.relative_to(drop_dir).as_posix(), st.st_size, st.st_mtime_ns))
    return out


def hash_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


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
        e.document_id = hash_file(drop_dir / e.source_path)
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


def _work(args: tuple[str, list[str]]) -> list[Processed]:
    drop_dir, rels = args
    return [process_bytes((Path(drop_dir) / rel).read_bytes(), rel) for rel in rels]


def process_files(drop_dir: Path, entries: list[FileEntry], workers: int, in_flight: int = DEFAULT_BATCH) -> Iterator[Processed]:
    """Process files in parallel, in order, streaming results to the caller. At most
    `in_flight` files are queued or finished-but-unread at once, so memory is set by the batch
    size and not by the size of the folder."""
    chunks = [(str(drop_dir), [e.source_path for e in entries[i: i + CHUNK]]) for i in range(0, len(entries), CHUNK)]
    if workers <= 1 or len(entries) < 2 * CHUNK:
        for c in chunks:
            yield from _work(c)
        return
    window = max(2 * workers, 2 * in_flight // CHUNK)  # two batches: workers never wait on the writer
    with ProcessPoolExecutor(max_workers=workers) as pool:
        pending: deque = deque()
        todo = iter(chunks)
        for c in islice(todo, window):
            pending.append(pool.submit(_work, c))
        while pending:
            results = pending.popleft().result()
            nxt = next(todo, None)
            if nxt is not None:
                pending.append(pool.submit(_work, nxt))
            yield from results


def run_ingest(
    drop_dir: str | Path,
    db_path: str | Path,
    batch_size: int = DEFAULT_BATCH,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    only_documents: Callable[[str], bool] | None = None,
    wait_seconds: float = 0.0,
    waivers_path: str | Path | None = None,
) -> RunSummary:
    """Bring the store in line with the drop folder. Returns what was done and how long
    each stage took. `only_documents` (document_id → bool) restricts processing to some
    files (a Dagster run over a partition range). Readers keep querying the published store
    while this runs (see writer.py); a second writer waits `wait_seconds` for the lock, then
    raises StoreBusy with one line."""
    t0 = time.perf_counter()
    drop_dir = Path(drop_dir)
    workers = workers or os.cpu_count() or 1
    summary = RunSummary()
    with StoreWriter(db_path, wait_seconds=wait_seconds) as writer:
        con = writer.con
        entries = scan(drop_dir)
        summary.files_seen = len(entries)
        plan = plan_run(con, drop_dir, entries)
        t_plan = time.perf_counter()
        summary.stage_seconds["scan"] = t_plan - t0
        todo = plan.to_process
        if only_documents is not None:
            todo = [e for e in todo if only_documents(e.document_id)]
        summary.unchanged, summary.renamed, summary.removed = plan.unchanged, len(plan.renamed), len(plan.gone_paths)
        remove_paths(con, plan.gone_paths)
        if plan.renamed or plan.replaced:
            load_batch(con, [], plan.renamed, plan.replaced)
            writer.committed()
        batch: list[Processed] = []
        t_work = 0.0
        t_store = 0.0
        mark = time.perf_counter()
        for i, p in enumerate(process_files(drop_dir, todo, workers, batch_size), 1):
            batch.append(p)
            for stage, secs in p.timings.items():
                summary.worker_seconds[stage] = summary.worker_seconds.get(stage, 0.0) + secs
            summary.errors += p.document["error"] is not None
            summary.report_ids.append(p.report["report_id"])
            if len(batch) >= batch_size or i == len(todo):
                now = time.perf_counter()
                t_work += now - mark
                entry_rows = [_index_row(e, q) for e, q in zip(todo[i - len(batch): i], batch)]
                load_batch(con, batch, entry_rows)
                writer.committed()
                mark = time.perf_counter()
                t_store += mark - now
                batch = []
                if progress:
                    progress(i, len(todo))
        summary.processed = len(summary.report_ids)
        t_checks = time.perf_counter()
        summary.continuity_report_ids = continuity_checks(con, summary.report_ids)
        summary.waivers = load_waivers(con, waivers_path if waivers_path is not None else default_waivers_path(drop_dir))
        writer.committed()
        summary.stage_seconds.update(process=t_work, store=t_store, continuity=time.perf_counter() - t_checks)
    summary.seconds = time.perf_counter() - t0
    return summary


def _index_row(e: FileEntry, p: Processed) -> dict:
    return {"source_path": e.source_path, "size_bytes": e.size_bytes, "mtime_ns": e.mtime_ns, "document_id": p.document["document_id"]}
