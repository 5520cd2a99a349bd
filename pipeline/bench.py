"""The scale benchmark: ``python -m pipeline.bench --reports 10000 --out bench_out``.

Generates N distinct reports (both forms, every layout, a third traditional, some GB18030 /
Big5 / UTF-16, whole web pages, ~1% broken files) into a temporary drop folder and measures on
this machine:

a. the command-line ingest end to end into a fresh database;
b. the Dagster path end to end: sensor tick, then in-process materializations of the same
   asset over the new partitions (chunked as the sensor chunks them), including every
   per-report check evaluation the UI shows;
c. a second command-line run over the unchanged folder;
d. one new file added to the big folder, through the sensor path;
e. peak memory (this process and its workers).

It also checks that the two paths, and two batch sizes, produce the same rows. The table is
printed and written to OUT/bench.md.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import tempfile
import threading
import time
from pathlib import Path

import duckdb
import psutil

from .generate import generate_report, write_corpus
from .ingest import run_ingest

COMPARE = {
    "documents": "document_id, source_path, size_bytes, encoding, raw_text, normalized_text, repairs, error",
    "reports": "*",
    "report_cells": "*",
    "prose_metrics": "*",
    "report_sections": "*",
    "check_results": "*",
}


class PeakMemory:
    """Samples the RSS of this process plus its children every 50 ms."""

    def __init__(self):
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        me = psutil.Process()
        while not self._stop.is_set():
            try:
                rss = me.memory_info().rss + sum(c.memory_info().rss for c in me.children(recursive=True))
                self.peak = max(self.peak, rss)
            except psutil.Error:
                pass
            time.sleep(0.05)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def identical(db_a: Path, db_b: Path) -> dict[str, int]:
    """Rows in one store and not the other, per table (0 everywhere means identical)."""
    con = duckdb.connect()
    con.execute(f"ATTACH '{db_a}' AS a (READ_ONLY)")
    con.execute(f"ATTACH '{db_b}' AS b (READ_ONLY)")
    out = {}
    for table, cols in COMPARE.items():
        q = f"SELECT count(*) FROM ((SELECT {cols} FROM a.{table} EXCEPT ALL SELECT {cols} FROM b.{table}) UNION ALL (SELECT {cols} FROM b.{table} EXCEPT ALL SELECT {cols} FROM a.{table}))"
        out[table] = con.execute(q).fetchone()[0]
    con.close()
    return out


def dagster_path(drop: Path, db: Path) -> tuple[float, int, int, float]:
    """Sensor tick + in-process materializations of every requested range, then one new
    file through the same path. Returns (seconds, runs, per-report check evaluations,
    seconds for the one new file). The store as it was before the new file is copied to
    `dagster_before_new_file.duckdb` beside `db` for the comparison."""
    import dagster as dg

    from assets.definitions import defs
    from assets.reports import report_tables
    from assets.resources import GovReportStore
    from assets.sensors import drop_folder_sensor

    store = GovReportStore(drop_dir=str(drop), db_path=str(db))
    instance = dg.DagsterInstance.ephemeral()
    t0 = time.perf_counter()
    ctx = dg.build_sensor_context(instance=instance, resources={"govreport": store}, definitions=defs)
    tick = drop_folder_sensor(ctx)
    for req in tick.dynamic_partitions_requests:
        instance.add_dynamic_partitions("reports", list(req.partition_keys))
    evaluations = 0
    for req in tick.run_requests:
        res = dg.materialize([report_tables], instance=instance, resources={"govreport": store}, tags=req.tags, raise_on_error=True)
        evaluations += sum(1 for e in res.get_asset_check_evaluations() if e.partition)
    seconds = time.perf_counter() - t0
    compare_to = db.with_name("dagster_before_new_file.duckdb")
    shutil.copy(db, compare_to)
    # (d) one new file into the big store, through the same sensor path
    new = generate_report(random.Random(99), 999_999)
    (drop / new.name).write_bytes(new.data)
    t1 = time.perf_counter()
    ctx2 = dg.build_sensor_context(instance=instance, resources={"govreport": store}, definitions=defs, cursor=tick.cursor)
    tick2 = drop_folder_sensor(ctx2)
    for req in tick2.dynamic_partitions_requests:
        instance.add_dynamic_partitions("reports", list(req.partition_keys))
    for req in tick2.run_requests:
        dg.materialize([report_tables], instance=instance, resources={"govreport": store}, tags=req.tags)
    one_new = time.perf_counter() - t1
    (drop / new.name).unlink()
    return seconds, len(tick.run_requests), evaluations, one_new


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reports", type=int, default=10000)
    ap.add_argument("--out", default="bench_out")
    ap.add_argument("--batch-size", type=int, default=500)
    ap.add_argument("--skip-dagster", action="store_true")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="govreport-bench-"))
    drop = work / "drop"
    rows: list[tuple[str, str, str]] = []
    try:
        t = time.perf_counter()
        n_files, size = write_corpus(drop, args.reports, seed=1)
        gen_s = time.perf_counter() - t
        print(f"generated {n_files} files ({size / 1e6:.0f} MB) in {gen_s:.1f} s", flush=True)

        with PeakMemory() as mem:
            cli = run_ingest(drop, work / "cli.duckdb", batch_size=args.batch_size)
        rate = cli.processed / cli.seconds
        rows.append(("a. command line, fresh store", f"{cli.seconds:.1f} s", f"{rate:.0f} reports/s"))
        print(rows[-1], flush=True)
        rerun = run_ingest(drop, work / "cli.duckdb", batch_size=args.batch_size)
        rows.append(("c. unchanged re-run", f"{rerun.seconds:.2f} s", f"{rerun.unchanged} unchanged, {rerun.processed} processed"))
        print(rows[-1], flush=True)
        peak_cli = mem.peak

        small = run_ingest(drop, work / "cli_small_batch.duckdb", batch_size=max(1, args.batch_size // 5))
        diff_batch = identical(work / "cli.duckdb", work / "cli_small_batch.duckdb")

        diff_dagster = {}
        peak_dg = 0
        if not args.skip_dagster:
            with PeakMemory() as mem2:
                dg_s, runs, evals, one_new = dagster_path(drop, work / "dagster.duckdb")
            peak_dg = mem2.peak
            rows.append(("b. Dagster path (sensor + runs + per-report checks)", f"{dg_s:.1f} s",
                         f"{args.reports / dg_s:.0f} reports/s; {runs} runs; {evals} check evaluations"))
            rows.append(("d. one new file via sensor into the big store", f"{one_new:.2f} s", ""))
            diff_dagster = identical(work / "cli.duckdb", work / "dagster_before_new_file.duckdb")
        rows.append(("e. peak memory (process + workers)", f"{max(peak_cli, peak_dg) / 2**20:.0f} MiB",
                     f"command line {peak_cli / 2**20:.0f} MiB, Dagster {peak_dg / 2**20:.0f} MiB, batch {args.batch_size}"))
        worker_total = sum(cli.worker_seconds.values()) or 1.0
        shares = {k: v / worker_total for k, v in cli.worker_seconds.items()}
        wall = cli.seconds
        stage_lines = [f"| {k} | {v:.1f} | {shares[k]:.0%} |" for k, v in cli.worker_seconds.items()]
        stage_lines.append(f"| store (writer, wall) | {cli.stage_seconds.get('store', 0):.1f} | {cli.stage_seconds.get('store', 0) / wall:.0%} of wall |")
        stage_lines.append(f"| scan + plan (wall) | {cli.stage_seconds.get('scan', 0):.1f} | {cli.stage_seconds.get('scan', 0) / wall:.0%} of wall |")
        stage_lines.append(f"| continuity checks (wall) | {cli.stage_seconds.get('continuity', 0):.1f} | {cli.stage_seconds.get('continuity', 0) / wall:.0%} of wall |")

        report = [
            f"# Benchmark: {args.reports} generated reports, {os.cpu_count()} cores", "",
            f"corpus: {n_files} files, {size / 1e6:.0f} MB, generated in {gen_s:.1f} s; "
            f"{cli.errors} unreadable (broken on purpose)", "",
            "| measure | time | detail |", "|---|---|---|",
            *[f"| {a} | {b} | {c} |" for a, b, c in rows], "",
            "Stages of the command-line run (worker seconds summed over processes; share of worker time):", "",
            "| stage | seconds | share |", "|---|---|---|", *stage_lines, "",
            f"Same rows whichever path or batch size: batch {args.batch_size} vs {max(1, args.batch_size // 5)}: {diff_batch}; "
            f"command line vs Dagster: {diff_dagster or 'not run'}",
        ]
        text = "\n".join(report)
        (out / "bench.md").write_text(text + "\n", encoding="utf-8")
        print(text)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
