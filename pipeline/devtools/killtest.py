"""Kill the ingest at random points, rerun, and prove the store equals a clean run's.

``python -m pipeline.devtools.killtest --kills 24`` (``make killtest``) builds a drop folder (the test
fixtures, generated reports, and a few hostile entries), ingests it once cleanly, then — in
rounds, each on a fresh store — starts the real command line and sends SIGKILL to its whole
process group (the writer and its workers) at random moments of three kinds:

* ``processing`` — a random delay into the run, while workers extract and batches load;
* ``after-commit`` — right after a batch commit is reported (between batch commits);
* ``continuity`` — right after the last batch commit, when the cross-report step runs;
* ``sigterm`` — not a kill: SIGTERM to the writer alone (as ``timeout`` sends it) a random
  delay into the run; it must exit within STOP_SECONDS, having committed what finished and
  killed its workers (none may outlive it); the time from signal to exit is printed.

After the kills a plain rerun finishes the store; it must then hold exactly the clean run's
rows — what readers open, the ``--db`` path — compared table by table with timestamps
(``ingested_at``) left out, with no duplicate cell keys and no orphan rows. The last line is
"identical to a clean run" or the differences.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures"
SKIP_COLUMNS = {"ingested_at"}  # when a row was written, not what it says
SKIP_TABLES = {"store_info"}  # the store's own bookkeeping
STOP_SECONDS = 10.0  # a stop request must end the run within this (issue 15)


def store_rows(db: str | Path) -> dict[str, list[tuple]]:
    """Every user-visible table of the store as sorted rows (timestamps left out)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' ORDER BY 1").fetchall()]
        out = {}
        for t in tables:
            if t in SKIP_TABLES:
                continue
            cols = [r[0] for r in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position", [t]).fetchall()]
            keep = ", ".join(f'"{c}"' for c in cols if c not in SKIP_COLUMNS)
            rows = con.execute(f'SELECT {keep} FROM "{t}"').fetchall()  # noqa: S608 - names from the catalog
            out[t] = sorted(rows, key=lambda r: tuple("" if v is None else str(v) for v in r))
        return out
    finally:
        con.close()


def integrity_problems(db: str | Path) -> list[str]:
    """Duplicate keys and orphan rows: what a half-applied run would leave behind."""
    queries = {
        "duplicate cell keys": "SELECT count(*) FROM (SELECT report_id, table_name, row_key, column_key FROM report_cells GROUP BY ALL HAVING count(*) > 1)",
        "duplicate check rows": "SELECT count(*) FROM (SELECT report_id, check_name FROM check_results GROUP BY ALL HAVING count(*) > 1)",
        "cells without a report": "SELECT count(*) FROM report_cells WHERE report_id NOT IN (SELECT report_id FROM reports)",
        "prose without a report": "SELECT count(*) FROM prose_metrics WHERE report_id NOT IN (SELECT report_id FROM reports)",
        "sections without a report": "SELECT count(*) FROM report_sections WHERE report_id NOT IN (SELECT report_id FROM reports)",
        "checks without a report": "SELECT count(*) FROM check_results WHERE report_id NOT IN (SELECT report_id FROM reports)",
        "reports without a document": "SELECT count(*) FROM reports WHERE document_id NOT IN (SELECT document_id FROM documents)",
        "documents without a report": "SELECT count(*) FROM documents WHERE document_id NOT IN (SELECT document_id FROM reports)",
        "file_index rows without a document": "SELECT count(*) FROM file_index WHERE document_id NOT IN (SELECT document_id FROM documents)",
        "documents no file holds": "SELECT count(*) FROM documents WHERE document_id NOT IN (SELECT document_id FROM file_index)",
    }
    con = duckdb.connect(str(db), read_only=True)
    try:
        return [f"{n} {what}" for what, q in queries.items() if (n := con.execute(q).fetchone()[0])]
    finally:
        con.close()


def differences(clean: dict[str, list[tuple]], other: dict[str, list[tuple]]) -> list[str]:
    """What differs between two stores' rows, one line per table."""
    out = []
    for t in sorted(set(clean) | set(other)):
        a, b = clean.get(t, []), other.get(t, [])
        if a != b:
            sa, sb = set(a), set(b)
            out.append(f"{t}: {len(a)} vs {len(b)} rows; {len(sa - sb)} only in the clean run, {len(sb - sa)} only in the other")
    return out


def _missing_continuity(db: Path) -> str:
    """How many reports the killed writer left without cross-report checks (its own copy)."""
    from pipeline.store.writer import work_path

    try:
        con = duckdb.connect(str(work_path(db)), read_only=True)
    except duckdb.Error as exc:
        return f"? ({type(exc).__name__})"
    try:
        return str(con.execute("SELECT count(*) FROM reports WHERE report_id NOT IN "
                               "(SELECT report_id FROM check_results WHERE check_name = 'carry_over_continuity')").fetchone()[0])
    finally:
        con.close()


def build_folder(drop: Path, generated: int, seed: int) -> int:
    """Fixtures + generated reports (two years per organ, so continuity has work) + hostile
    entries. Returns the number of entries."""
    from pipeline.devtools.generate import generate_report

    drop.mkdir(parents=True)
    for f in sorted(FIXTURES.iterdir()):
        shutil.copy(f, drop / f.name)
    rng = random.Random(seed)
    sub = drop / "generated"
    sub.mkdir()
    for i in range(generated):
        g = generate_report(rng, i)
        (sub / g.name).write_bytes(g.data)
    (drop / "empty.txt").write_bytes(b"")
    (drop / "cut.txt").write_bytes((FIXTURES / "000_9fd4f163df564d66.txt").read_bytes()[:-1])
    os.symlink("/etc/passwd", drop / "passwd.txt")
    os.symlink("nowhere", drop / "dangling.txt")
    os.mkfifo(drop / "pipe.txt")
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(drop / "sock.txt"))
    s.close()
    return sum(1 for _ in drop.rglob("*"))


def _cli(drop: Path, db: Path, batch: int) -> list[str]:
    return [sys.executable, "-m", "pipeline", "ingest", str(drop), "--db", str(db), "--batch-size", str(batch), "--workers", "2"]


def run_clean(drop: Path, db: Path, batch: int) -> float:
    t = time.perf_counter()
    subprocess.run(_cli(drop, db, batch), check=True, capture_output=True, text=True)
    return time.perf_counter() - t


def killed_run(drop: Path, db: Path, batch: int, how: str, rng: random.Random, clean_seconds: float) -> str:
    """Start the CLI and SIGKILL its process group at a point of kind `how`. Returns where it
    died ("finished first" when the run beat the kill)."""
    proc = subprocess.Popen(_cli(drop, db, batch), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True, bufsize=0)
    started = time.monotonic()
    os.set_blocking(proc.stderr.fileno(), False)
    buf = b""
    deadline = time.monotonic() + (rng.uniform(0.3, 1.0) * clean_seconds if how == "processing" else 10 * clean_seconds + 30)
    if how == "sigterm":
        return _stopped_run(proc, rng.uniform(0.3, 1.0) * clean_seconds)
    target_commits = rng.randint(1, 3)
    commits = 0
    where = ""
    while proc.poll() is None:
        try:
            chunk = proc.stderr.read() or b""
        except BlockingIOError:
            chunk = b""
        buf += chunk
        lines = buf.replace(b"\n", b"\r").split(b"\r")
        buf = b"" if lines[-1].endswith(b"files") else lines.pop()
        for line in lines:
            if b"processed" not in line or not line.endswith(b"files"):
                continue
            commits += 1
            done, total = line.split(b"processed")[1].split(b"files")[0].strip().split(b"/")
            if how == "after-commit" and commits >= target_commits and done != total:
                where = f"after commit {done.decode()}/{total.decode()}"
            elif how == "continuity" and done == total:
                time.sleep(rng.uniform(0, 0.01))
                where = "after the last commit (continuity step)"
        if where or time.monotonic() >= deadline:
            where = where or f"processing, {time.monotonic() - started:.2f} s in"
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()
            return where
        time.sleep(0.005)
    proc.wait()
    return "finished first"


def _roles(writer_pid: int, children: list) -> dict[int, str]:
    """What each child of the run is, seen while the writer lives: its fork server and resource
    tracker (the writer's children), or a worker (forked by the fork server)."""
    out = {}
    for p in children:
        try:
            cmd, parent = " ".join(p.cmdline()), p.ppid()
        except Exception:  # noqa: BLE001 - gone meanwhile
            continue
        out[p.pid] = ("resource tracker" if "resource_tracker" in cmd else "fork server" if "forkserver" in cmd else cmd[:40]) \
            if parent == writer_pid else "worker"
    return out


def _stopped_run(proc: subprocess.Popen, delay: float) -> str:
    """SIGTERM to the writer after `delay` s; "stopped in X s" or "NOT stopped …"."""
    import psutil

    time.sleep(delay)
    if proc.poll() is not None:
        proc.wait()
        return "finished first"
    workers = psutil.Process(proc.pid).children(recursive=True)
    roles = _roles(proc.pid, workers)
    t = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(STOP_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        return f"NOT stopped within {STOP_SECONDS:g} s of SIGTERM"
    seconds = time.monotonic() - t
    left = [w for w in workers if w.is_running() and w.status() != psutil.STATUS_ZOMBIE]
    if left:
        what = [f"{w.pid} ({roles.get(w.pid, '?')})" for w in left]
        os.killpg(proc.pid, signal.SIGKILL)
        return f"NOT stopped: {', '.join(what)} outlived the writer (exit {proc.returncode} {seconds:.2f} s after SIGTERM, {delay:.2f} s in)"
    return f"stopped {seconds:.2f} s after SIGTERM (exit {proc.returncode}), {delay:.2f} s in"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=24)
    parser.add_argument("--generated", type=int, default=240, help="generated reports in the folder")
    parser.add_argument("--batch-size", type=int, default=25)
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    tmp = Path(tempfile.mkdtemp(prefix="govreport-kill-"))
    try:
        drop = tmp / "drop"
        entries = build_folder(drop, args.generated, args.seed)
        clean_db = tmp / "clean.duckdb"
        clean_seconds = run_clean(drop, clean_db, args.batch_size)
        clean = store_rows(clean_db)
        print(f"folder: {entries} entries; clean run {clean_seconds:.1f} s, "
              f"{len(clean['documents'])} documents, {len(clean['report_cells'])} cells, {len(clean['refused_entries'])} refused")
        kinds = ("sigterm", "processing", "after-commit", "continuity")  # a stop first: on a fresh store it has work to stop
        kills = attempts = rounds = 0
        landed = {k: 0 for k in kinds}
        failures = []
        stops: list[float] = []
        while kills < args.kills and attempts < 4 * args.kills:
            rounds += 1
            db = tmp / f"round{rounds}.duckdb"
            for _ in range(len(kinds)):  # one kill (or stop) of each kind per store, then a rerun
                how = kinds[attempts % len(kinds)]
                attempts += 1
                where = killed_run(drop, db, args.batch_size, how, rng, clean_seconds)
                if where.startswith("NOT stopped"):
                    failures.append(where)
                if where != "finished first":
                    kills += 1
                    landed[how] += 1
                    if how == "sigterm" and not where.startswith("NOT"):
                        stops.append(float(where.split()[1]))
                if how == "continuity" and where != "finished first":
                    where += f": {_missing_continuity(db)} reports left without continuity rows"
                print(f"  round {rounds}: {'SIGTERM' if how == 'sigterm' else 'SIGKILL'} {kills:>2} ({how}): {where}", flush=True)
                if kills >= args.kills:
                    break
            done = subprocess.run(_cli(drop, db, args.batch_size), capture_output=True, text=True)
            if done.returncode != 0:
                failures.append(f"rerun exited {done.returncode}: {done.stderr.strip()[-2000:]}")
                print(f"round {rounds}: rerun FAILED: {failures[-1]}")
                continue
            diff = differences(clean, store_rows(db)) + integrity_problems(db)
            print(f"round {rounds}: rerun " + ("identical to the clean run" if not diff else "DIFFERS: " + "; ".join(diff)), flush=True)
            failures += diff
        print(f"kills by kind: " + ", ".join(f"{k}: {n}" for k, n in landed.items()))
        if stops:
            print(f"SIGTERM to exit: {len(stops)} stops, longest {max(stops):.2f} s, mean {sum(stops) / len(stops):.2f} s (limit {STOP_SECONDS:g} s)")
        if failures:
            print(f"{kills} kills in {rounds} rounds: NOT identical to a clean run")
            return 1
        print(f"{kills} kills in {rounds} rounds: every rerun's store is identical to a clean run")
        print("identical to a clean run")
        return 0
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
