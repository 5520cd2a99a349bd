"""Worker processes under a watchdog: a file may cost a bounded time and memory, whatever is in it.

A parser is not trusted to return: pdfminer inflates and interprets whatever a PDF asks for.
So the limits are held from outside. Each worker runs one task (a chunk of files) at a time
and writes, in a shared array, which file of it it is reading and when it began (a few
nanoseconds a file). A watchdog thread in the parent looks every 50 ms at each busy worker's
resident memory — its growth since the watchdog first saw the file, so pages shared with the
fork server at the fork, or kept by the allocator after an earlier file, are not blamed on this
one — and, past the file's seconds, its CPU time; a worker over its budget — or one
that makes the whole process tree (parent + workers) exceed its ceiling — is killed with
SIGKILL (the tree: the writer's resident memory plus what each worker added since it was
forked from the pool's fork server).
The pool then starts a replacement and hands it the same task again with that file
marked (``skip``): the file gets a document row with the one-line reason, the chunk's other
files are read again, and nothing else is lost. A file stopped only because the tree was full
while other workers were busy is not blamed: its task is queued again to run alone, once the
others are done, and only a file that overfills the tree by itself gets the reason. A worker that dies on its own (a crash in C
code, the kernel's OOM killer) is handled the same way, with the signal as the reason.

Results come back as tasks finish (a slow file does not hold back the others' commit). ``close()`` kills the workers at once: a stop request does
not wait for the files in flight (they were never committed; the next run reads them).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import sys
import threading
import time
from collections import deque
from contextlib import contextmanager
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import wait

import psutil

from pipeline.read.budget import Budget, over_memory, over_time, release_freed_memory, set_grant_hook, size_text

TICK = 0.05  # seconds between the watchdog's looks
TREE_MARGIN = 384 << 20  # the tree may hold the file's limit plus this (writer and the other workers' ordinary files)
WALL_FACTOR = 4  # a file waiting on nothing (no CPU) is stopped at this many times its seconds of wall clock
_IDLE = -1.0
_SLOT = 4  # per worker: file index in the task (-1: none), wall start, CPU start, seconds granted (OCR pages)


@dataclass
class _Worker:
    proc: mp.Process
    conn: object  # the parent's end of the pipe
    slot: int
    ps: psutil.Process
    base: int = 0  # resident memory when the watchdog first saw the current file: not the file's
    task: tuple | None = None  # (seq, task, skip) being worked on
    killed: tuple[int, str, bool] | None = None  # (file index, reason, crowded) when the watchdog killed it
    seen: tuple = ()  # the file `base` was measured for: (task, index)
    forked: int = 0  # resident memory right after the fork: pages it shares with the fork server


@dataclass
class _Pending:
    seq: int
    task: tuple
    skip: dict[int, str] = field(default_factory=dict)  # file index in the task → reason it is not read
    tries: int = 0
    alone: bool = False  # run with no other task in flight: a file of it was stopped only because the tree was full


def _die_with_parent() -> None:
    """Linux: the kernel kills this worker when the writer dies, even by SIGKILL, so no worker
    outlives its run reading a file nobody waits for."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _serve(conn, state, slot: int, fn: Callable, initializer: Callable | None) -> None:
    """A worker's loop: receive (seq, task, skip), run fn with a progress callback, send the result."""
    _die_with_parent()
    if initializer:
        initializer()
    base = slot * _SLOT

    def mark(index: int) -> None:
        state[base + 3] = 0.0
        state[base] = index
        state[base + 1] = time.monotonic()
        state[base + 2] = time.process_time()

    def grant(seconds: float) -> None:
        state[base + 3] += seconds

    set_grant_hook(grant)

    while True:
        try:
            msg = conn.recv()
        except EOFError:
            return
        if msg is None:
            return
        seq, task, skip = msg
        try:
            result = fn(task, skip, mark)
        except BaseException as exc:  # noqa: BLE001 - handed back to the parent, which raises it
            result = RuntimeError(f"worker failed: {type(exc).__name__}: {exc}")
        state[base] = _IDLE
        release_freed_memory()  # what the task's files freed leaves the tree's sum (budget.py)
        conn.send((seq, result))


@contextmanager
def _main_not_imported():
    """A worker needs the readers, never the program that started the run: hide `__main__`'s
    file and module name while a worker starts, or multiprocessing makes each worker import
    the caller's script first (as "spawn" does), and a script without an
    ``if __name__ == "__main__"`` guard would start a run inside every worker."""
    main = sys.modules["__main__"]
    saved = {k: main.__dict__[k] for k in ("__file__", "__spec__") if k in main.__dict__}
    main.__dict__.pop("__file__", None)
    main.__dict__["__spec__"] = None
    try:
        yield
    finally:
        main.__dict__.pop("__spec__", None)
        main.__dict__.update(saved)


def stop_helper_processes() -> None:
    """End multiprocessing's fork server and resource tracker (children of the writer) now,
    the way CPython's own tests do: left to themselves they notice the writer is gone a moment
    after it exits, and a stopped run must leave nothing running (make killtest)."""
    from multiprocessing import forkserver, resource_tracker

    for helper in (getattr(forkserver, "_forkserver", None), getattr(resource_tracker, "_resource_tracker", None)):
        if helper is not None and hasattr(helper, "_stop"):
            try:
                helper._stop()
            except (OSError, ChildProcessError):  # already gone
                pass


class WatchedPool:
    """`workers` processes running fn(task, skip, mark) under `budget` (see the module doc)."""

    def __init__(self, workers: int, fn: Callable, budget: Budget, initializer: Callable | None = None,
                 preload: tuple[str, ...] = ()):
        # Workers are forked from a small server process that has imported only `preload`, never
        # from the writer: a worker forked from a writer that holds 380 MB (DuckDB, the run's
        # rows; more inside Dagster or pytest) shows those 380 MB as its own resident memory,
        # and the tree's sum (what the limit is on) counted them once per worker. Measured with
        # `make fuzz`: workers of 627 + 638 MiB beside a 379 MiB writer with fork.
        self._ctx = mp.get_context("forkserver")
        if preload:
            self._ctx.set_forkserver_preload(list(preload))
        self._fn, self._budget, self._init = fn, budget, initializer
        self._state = self._ctx.RawArray("d", _SLOT * workers)
        for i in range(workers):
            self._state[i * _SLOT] = _IDLE
        self._lock = threading.Lock()
        self._workers: list[_Worker] = [self._start(i) for i in range(workers)]
        self._queue: deque[_Pending] = deque()
        self._done: dict[int, object] = {}
        self.tree_ceiling = budget.max_memory + TREE_MARGIN
        self.replaced = 0
        self.tree_peak = 0
        self._me = psutil.Process()
        self._closed = threading.Event()
        self._watchdog = threading.Thread(target=self._watch, name="govreport-watchdog", daemon=True)
        self._watchdog.start()

    def _start(self, slot: int) -> _Worker:
        parent, child = self._ctx.Pipe()
        self._state[slot * _SLOT] = _IDLE
        proc = self._ctx.Process(target=_serve, args=(child, self._state, slot, self._fn, self._init), daemon=True)
        with _main_not_imported():
            proc.start()
        child.close()
        ps = psutil.Process(proc.pid)
        try:
            forked = ps.memory_info().rss
        except psutil.Error:
            forked = 0
        return _Worker(proc, parent, slot, ps, forked=forked)

    def submit(self, seq: int, task: tuple) -> None:
        self._queue.append(_Pending(seq, task))
        self._dispatch()

    def _dispatch(self) -> None:
        for i, w in enumerate(self._workers):
            if not self._queue:
                return
            if w.task is not None:
                continue
            if self._queue[0].alone and any(o.task is not None for o in self._workers):
                return  # waits for the others to finish, then runs by itself
            if w.killed or not w.proc.is_alive():  # killed just as it handed in its last result
                self._lost(w)
                w = self._workers[i]
            p = self._queue.popleft()
            w.task = p
            try:
                w.conn.send((p.seq, p.task, p.skip))
            except OSError:
                w.killed = None  # a stale reason would belong to its previous task
                self._lost(w)

    def busy(self) -> int:
        """Tasks submitted and not yet handed back by poll()."""
        return len(self._queue) + sum(w.task is not None for w in self._workers) + len(self._done)

    def poll(self, timeout: float = TICK) -> list[tuple[int, object]]:
        """(seq, result) of the tasks finished since the last call, in the order they finished;
        waits at most `timeout` for one."""
        busy = [w for w in self._workers if w.task is not None]
        if busy and not self._done:
            ready = wait([w.conn for w in busy] + [w.proc.sentinel for w in busy], timeout)
            for w in busy:
                if w.conn in ready:
                    try:
                        got_seq, result = w.conn.recv()
                    except Exception:  # noqa: BLE001 - killed mid-send: EOF, a cut pickle
                        self._lost(w)
                        continue
                    if isinstance(result, RuntimeError) and str(result).startswith("worker failed"):
                        raise result
                    self._done[got_seq] = result
                    w.task = None
                elif w.proc.sentinel in ready:
                    self._lost(w)
        self._dispatch()
        done, self._done = list(self._done.items()), {}
        return done

    def _lost(self, w: _Worker) -> None:
        """A worker died: the watchdog killed it or it crashed. Mark the file it held, start a
        replacement, and queue its task again first."""
        w.proc.join(1)
        with self._lock:
            killed = w.killed
            index = int(self._state[w.slot * _SLOT])
            pending = w.task
            self._workers[self._workers.index(w)] = self._start(w.slot)
        w.conn.close()
        self.replaced += 1
        if pending is None:
            return
        crowded = False
        if killed:
            index, reason, crowded = killed
        else:
            code = w.proc.exitcode
            how = f"killed by {signal.Signals(-code).name}" if code and code < 0 else f"exit code {code}"
            reason = f"the reader crashed ({how}): not read"
        if crowded and not pending.alone:
            pending.alone = True  # not this file's fault alone: read it again with the tree to itself
        elif index >= 0:
            pending.skip[index] = reason
        else:  # died between files (staging): try the task again, twice at most
            pending.tries += 1
            if pending.tries > 2:
                raise RuntimeError(f"a worker died {pending.tries} times on one task ({reason})")
        self._queue.appendleft(pending)

    def _watch(self) -> None:
        """Kill a worker whose file is over its seconds or memory, or the largest one when the
        tree is over its ceiling."""
        b = self._budget
        while not self._closed.wait(TICK):
            with self._lock:
                workers = list(self._workers)
            rss: dict[int, int] = {}
            for w in workers:
                try:
                    rss[w.slot] = w.ps.memory_info().rss
                except psutil.Error:
                    rss[w.slot] = 0
            try:
                mine = self._me.memory_info().rss
            except psutil.Error:
                mine = 0
            self.tree_peak = max(self.tree_peak, mine + sum(rss.values()))  # as `make fuzz` measures it
            # the ceiling counts what the workers added since their fork: the pages they share
            # with the writer are counted once (a writer inside Dagster or pytest is large)
            total = mine + sum(max(0, rss[w.slot] - w.forked) for w in workers)
            now = time.monotonic()
            for w in workers:
                base = w.slot * _SLOT
                index = int(self._state[base])
                if index < 0 or w.killed:
                    continue
                if w.seen != (id(w.task), index):  # a new file: what the worker holds already is not its cost
                    w.seen, w.base = (id(w.task), index), rss[w.slot]
                reason = None
                if rss[w.slot] - w.base > b.max_memory:
                    reason = over_memory(b.max_memory)
                elif now - self._state[base + 1] > (limit := b.max_seconds + self._state[base + 3]):
                    try:
                        cpu = sum(w.ps.cpu_times()[:2]) - self._state[base + 2]
                    except psutil.Error:
                        cpu = 0.0
                    if cpu > limit or now - self._state[base + 1] > WALL_FACTOR * limit:
                        reason = over_time(limit)
                if reason:
                    self._kill(w, index, reason)
            if total > self.tree_ceiling:
                busy = [w for w in workers if self._state[w.slot * _SLOT] >= 0 and not w.killed and rss[w.slot] - w.forked > TREE_MARGIN // 2]
                if busy:
                    w = max(busy, key=lambda w: rss[w.slot] - w.forked)
                    note = f" while the run held {size_text(total)} in all (ceiling {size_text(self.tree_ceiling)})"
                    crowded = sum(self._state[o.slot * _SLOT] >= 0 for o in workers) > 1
                    self._kill(w, int(self._state[w.slot * _SLOT]), over_memory(max(rss[w.slot] - w.base, 0), note), crowded)

    def _kill(self, w: _Worker, index: int, reason: str, crowded: bool = False) -> None:
        w.killed = (index, reason, crowded)
        try:
            os.kill(w.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def close(self, stop_server: bool = False) -> None:
        """Stop at once: kill every worker (work in flight is dropped, never half-recorded).
        With `stop_server` (a stop request) the fork server ends too, before the writer exits;
        otherwise it is kept for the process's next pool (starting one costs ≈ 0.5 s: a small
        run's whole time) and ends by itself a moment after the process."""
        self._closed.set()
        for w in self._workers:
            try:
                os.kill(w.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for w in self._workers:
            w.proc.join(2)
            w.conn.close()
        self._watchdog.join(1)
        if stop_server:
            stop_helper_processes()
