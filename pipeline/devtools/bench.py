"""The scale benchmark: ``python -m pipeline.devtools.bench --corpus both --reports 10000 --real-files 3000``.

Two corpora, each in a temporary drop folder:

* ``generated``: N distinct synthetic reports (both forms, every layout, a third traditional,
  some GB18030 / Big5 / UTF-16, whole web pages, ~1% broken files);
* ``real``: M distinct files derived from the real fixtures (``tests/fixtures``: the seeds and
  the wild files). Copy k of fixture f is f's text with a unique trailing line; every 7th copy
  is re-encoded as GB18030 and every 11th as UTF-16, the others keep the fixture's encoding.
  PDF and DOCX fixtures are left out unless ``--with-binary``: parsing one takes ~0.25 s, so
  a tenth of them would set the rate alone (``pipeline.devtools.bench_pdf`` measures them).
  Real reports are longer and messier than generated ones (mojibake, column-major PDF text,
  traditional script, whole web pages), so this is the rate a new user sees.

For each corpus it measures on this machine:

0. the floor: reading every file and decoding it (encoding detection included), one process;
a. the command-line ingest end to end into a fresh database, its ratio to the floor, and the
   CPU seconds of the parent (the writer) and of the workers;
c. a second command-line run over the unchanged folder;
e. peak memory (this process and its workers).

It also checks that two batch sizes produce the same rows. The tables are printed and written
to OUT/bench.md. The Dagster path (sensor, ingest job, per-report verdicts, page loads) is
measured by ``tests_ui/bench_dagster.py`` (``make bench-dagster``): ``pipeline/`` never imports
Dagster.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import tempfile
import threading
import time
from pathlib import Path

import duckdb
import psutil

from pipeline.read.decode import DecodeError, decode_bytes, detect_and_decode
from pipeline.devtools.generate import write_corpus
from pipeline.store.ingest import run_ingest, scan

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures"

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


# --- the real-derived corpus ---------------------------------------------------------------------


def _copy_bytes(data: bytes, name: str, k: int) -> bytes:
    """Copy k of a real file: its text plus a unique trailing line, in the fixture's own
    encoding, GB18030 every 7th copy, UTF-16 every 11th. Files that are not text (PDF)
    get a unique trailing comment instead: same bytes otherwise."""
    try:
        text, enc = detect_and_decode(data)
    except DecodeError:
        return data + f"\n% copy {k:06d}\n".encode("ascii")
    is_html = name.lower().endswith((".html", ".htm")) or "<html" in text[:2000].lower()
    # (a paragraph, not a comment after </html>, so figures stay comparable with earlier runs)
    text = text + (f"\n<p>copy {k:06d}</p>\n" if is_html else f"\n（副本 copy-{k:06d}）\n")
    if k % 11 == 0:
        return b"\xff\xfe" + text.encode("utf-16-le")
    if k % 7 == 0:
        return text.encode("gb18030")
    if enc == "utf-16":
        return b"\xff\xfe" + text.encode("utf-16-le")
    try:
        return text.encode(enc)
    except UnicodeEncodeError:  # a Big5 file whose characters Big5 cannot hold
        return text.encode("gb18030")


BINARY_SUFFIXES = (".pdf", ".docx")  # measured by bench_pdf: ~0.25 s a file, they would swamp the rest


def write_real_corpus(folder: Path, n: int, fixtures: Path = FIXTURES, with_binary: bool = False) -> tuple[int, int]:
    """n distinct files derived from the real fixtures, round robin, 1,000 per sub-folder.
    PDF and DOCX fixtures only `with_binary`. Returns (files, bytes)."""
    sources = sorted(p for p in fixtures.iterdir() if p.is_file() and (with_binary or p.suffix.lower() not in BINARY_SUFFIXES))
    if not sources:
        raise SystemExit(f"no fixtures in {fixtures}")
    originals = [(p, p.read_bytes()) for p in sources]
    folder.mkdir(parents=True, exist_ok=True)
    size = 0
    for k in range(1, n + 1):
        path, data = originals[(k - 1) % len(originals)]
        sub = folder / f"batch{(k - 1) // 1000:03d}"
        sub.mkdir(exist_ok=True)
        copy = _copy_bytes(data, path.name, k)
        (sub / f"{path.stem}_copy{k:06d}{path.suffix}").write_bytes(copy)
        size += len(copy)
    return n, size


def read_decode_floor(drop: Path) -> float:
    """Seconds to read and decode every file once, in this one process: the floor a run is
    compared with (the ratio travels across machines better than the rate)."""
    entries = scan(drop)
    t = time.perf_counter()
    for e in entries:
        data = (drop / e.source_path).read_bytes()
        try:
            decode_bytes(data, Path(e.source_path).suffix)
        except DecodeError:
            pass
    return time.perf_counter() - t


# --- the measures ---------------------------------------------------------------------------------


def _children_cpu() -> float:
    """CPU of every process this one started, ended or not: the workers are children of the
    pool's fork server, which outlives a run (it serves the next one), so their time is in
    the server's own children's times until it ends."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = ru.ru_utime + ru.ru_stime
    for child in psutil.Process().children():
        try:
            t = child.cpu_times()
            total += t.user + t.system + t.children_user + t.children_system
        except psutil.Error:
            pass
    return total


def measure(corpus: str, drop: Path, work: Path, args, described: str) -> list[str]:
    """Every measure over one corpus; returns its section of bench.md."""
    rows: list[tuple[str, str, str]] = []
    floor = read_decode_floor(drop)
    rows.append(("0. floor: read + decode every file, one process", f"{floor:.2f} s", ""))
    print(rows[-1], flush=True)
    me = psutil.Process()
    cpu0, kids0 = me.cpu_times(), _children_cpu()
    with PeakMemory() as mem:
        cli = run_ingest(drop, work / "cli.duckdb", batch_size=args.batch_size)
    cpu1, kids1 = me.cpu_times(), _children_cpu()
    parent_cpu = (cpu1.user + cpu1.system) - (cpu0.user + cpu0.system)
    rate = cli.processed / cli.seconds
    rows.append(("a. command line, fresh store", f"{cli.seconds:.1f} s",
                 f"**{rate:.0f} reports/s**; {cli.seconds / floor:.0f}× the floor; CPU: parent {parent_cpu:.1f} s "
                 f"({parent_cpu / max(1, cli.processed) * 1000:.2f} ms a report, {parent_cpu / max(1e-9, parent_cpu + kids1 - kids0):.0%} of the run's CPU), "
                 f"workers {kids1 - kids0:.1f} s"))
    print(rows[-1], flush=True)
    rerun = run_ingest(drop, work / "cli.duckdb", batch_size=args.batch_size)
    rows.append(("c. unchanged re-run", f"{rerun.seconds:.2f} s", f"{rerun.unchanged} unchanged, {rerun.processed} processed"))
    print(rows[-1], flush=True)
    peak_cli = mem.peak

    small_batch = max(1, args.batch_size // 5)
    diff_batch: dict | str = "not run"
    if not args.skip_compare:
        run_ingest(drop, work / "cli_small_batch.duckdb", batch_size=small_batch)
        diff_batch = identical(work / "cli.duckdb", work / "cli_small_batch.duckdb")

    rows.append(("e. peak memory (process + workers)", f"{peak_cli / 2**20:.0f} MiB", f"batch {args.batch_size}"))
    worker_total = sum(cli.worker_seconds.values()) or 1.0
    wall = cli.seconds
    stage_lines = [f"| {k} | {v:.1f} | {v / worker_total:.0%} |" for k, v in cli.worker_seconds.items()]
    for key, label in (("store", "store (writer's commit thread, beside the workers)"), ("commit_wait", "loop waiting on a commit (wall)"),
                       ("scan", "scan + plan (wall)"), ("continuity", "continuity checks (wall)")):
        secs = cli.stage_seconds.get(key, 0)
        stage_lines.append(f"| {label} | {secs:.1f} | {secs / wall:.0%} of wall |")
    return [
        f"## {corpus}: {described}", "",
        f"{cli.errors} unreadable", "",
        "| measure | time | detail |", "|---|---|---|",
        *[f"| {a} | {b} | {c} |" for a, b, c in rows], "",
        "Stages of the command-line run (worker seconds summed over processes; share of worker time):", "",
        "| stage | seconds | share |", "|---|---|---|", *stage_lines, "",
        f"Same rows whichever batch size: batch {args.batch_size} vs {small_batch}: {diff_batch}", "",
    ]


def profile(drop: Path, out: Path, corpus: str, top: int = 30) -> str:
    """cProfile of `process_bytes` over every file of the corpus in this one process (no
    workers, no store): where the CPU time per report goes. Written to OUT/profile_<corpus>.txt."""
    import cProfile
    import pstats

    from pipeline.process import process_bytes

    entries = scan(drop)
    datas = [((drop / e.source_path).read_bytes(), e.source_path) for e in entries]
    prof = cProfile.Profile()
    t = time.perf_counter()
    prof.enable()
    for data, rel in datas:
        process_bytes(data, rel)
    prof.disable()
    wall = time.perf_counter() - t
    stats = pstats.Stats(prof)
    rows = []
    for (file, line, func), (_, ncalls, tt, ct, _) in stats.stats.items():
        rows.append((tt, ct, ncalls, f"{Path(file).name}:{line}({func})"))
    total = max((ct for _, ct, _, name in rows if name.endswith("(process_bytes)")), default=stats.total_tt) or 1.0
    lines = [f"# profile: process_bytes over {len(datas)} {corpus} files, one process",
             f"wall {wall:.2f} s under the profiler ({wall / len(datas) * 1000:.1f} ms per file); percentages of process_bytes' {total:.2f} s", "",
             f"## top {top} by own time", "", "| own % | own s | cum % | calls | function |", "|---|---|---|---|---|"]
    for tt, ct, n, name in sorted(rows, reverse=True)[:top]:
        lines.append(f"| {tt / total:.1%} | {tt:.2f} | {ct / total:.1%} | {n} | {name} |")
    lines += ["", f"## top {top} by cumulative time", "", "| cum % | cum s | own % | calls | function |", "|---|---|---|---|---|"]
    for tt, ct, n, name in sorted(rows, key=lambda r: r[1], reverse=True)[:top]:
        lines.append(f"| {ct / total:.1%} | {ct:.2f} | {tt / total:.1%} | {n} | {name} |")
    text = "\n".join(lines) + "\n"
    (out / f"profile_{corpus}.txt").write_text(text, encoding="utf-8")
    return text


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", choices=("real", "generated", "province", "both"), default="both",
                    help="generated: bodies and years drawn independently; province: one report per body and year "
                         "(generate.generate_province); both: real and generated")
    ap.add_argument("--reports", type=int, default=10000, help="generated reports")
    ap.add_argument("--real-files", type=int, default=3000, help="files derived from the real fixtures")
    ap.add_argument("--fixtures", type=Path, default=FIXTURES, help="real files to derive the real corpus from")
    ap.add_argument("--with-binary", action="store_true", help="derive from the PDF/DOCX fixtures too (text and HTML only by default)")
    ap.add_argument("--out", default="bench_out")
    ap.add_argument("--batch-size", type=int, default=500)
    ap.add_argument("--skip-dagster", action="store_true", help=argparse.SUPPRESS)  # no-op: Dagster is measured by make bench-dagster
    ap.add_argument("--skip-compare", action="store_true", help="skip the second, small-batch run and its comparison")
    ap.add_argument("--profile", action="store_true", help="only profile process_bytes over each corpus, one process")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    report = [f"# Benchmark on {os.cpu_count()} cores", ""]
    corpora = ("real", "generated") if args.corpus == "both" else (args.corpus,)
    for corpus in corpora:
        work = Path(tempfile.mkdtemp(prefix=f"govreport-bench-{corpus}-"))
        drop = work / "drop"
        try:
            t = time.perf_counter()
            if corpus == "real":
                n_files, size = write_real_corpus(drop, args.real_files, args.fixtures, args.with_binary)
                what = f"{n_files} files derived from {args.fixtures.name}/" + ("" if args.with_binary else " (text and HTML; PDF/DOCX: bench_pdf)")
            else:
                n_files, size = write_corpus(drop, args.reports, seed=1, province=corpus == "province")
                what = f"{n_files} generated reports"
            gen_s = time.perf_counter() - t
            described = f"{what}, {size / 1e6:.0f} MB, written in {gen_s:.1f} s"
            print(described, flush=True)
            if args.profile:
                report += [profile(drop, out, corpus), ""]
            else:
                report += measure(corpus, drop, work, args, described)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    text = "\n".join(report)
    (out / "bench.md").write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
