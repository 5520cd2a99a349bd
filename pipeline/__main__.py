"""Command line: ``python -m pipeline ingest DROP_DIR --db DB_PATH``, ``waive``, ``queue``.

Runs the same code path as the Dagster assets, without the UI (for scripts and cron). Exits
non-zero only when the run itself fails — a report failing a check is a finding, not a crash.
"""

from __future__ import annotations

import argparse
import signal
import sys

from pipeline.read.budget import DEFAULT_MAX_MEMORY, DEFAULT_MAX_SECONDS, Budget, parse_size, size_text
from pipeline.read.dropfolder import DEFAULT_MAX_BYTES, one_line
from pipeline.store.ingest import DEFAULT_BATCH, run_ingest
from pipeline.store.pool import stop_helper_processes
from pipeline.store.summary import store_summary
from pipeline.store.review import add_review_commands
from pipeline.store.writer import StoreBusy


def _ocr(args) -> int:
    from pipeline.read.ocr_fill import fill

    k, n = (int(x) for x in args.part.split("/"))
    got = fill(args.drop_dir, args.cache, k - 1, n, args.workers)
    print(f"ocr: {got.ocr} OCR'd now, {got.cached} already cached, {got.failed} failed, {got.other} not this part's or not scans")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    ing = sub.add_parser("ingest", help="ingest a drop folder into the DuckDB store")
    ing.add_argument("drop_dir")
    ing.add_argument("--db", required=True, help="DuckDB file (created when missing)")
    ing.add_argument("--batch-size", type=int, default=DEFAULT_BATCH)
    ing.add_argument("--workers", type=int, default=None, help="processes (default: all cores)")
    ing.add_argument("--quiet", action="store_true")
    ing.add_argument("--max-bytes", type=int, default=DEFAULT_MAX_BYTES,
                     help=f"files larger than this are not read: stored with an error row (default: {DEFAULT_MAX_BYTES:,})")
    ing.add_argument("--max-seconds", type=float, default=DEFAULT_MAX_SECONDS,
                     help=f"a file whose reading takes more CPU seconds than this is stopped and stored with an error row (default: {DEFAULT_MAX_SECONDS:g})")
    ing.add_argument("--max-memory", type=parse_size, default=DEFAULT_MAX_MEMORY, metavar="SIZE",
                     help=f"a file needing more memory than this (e.g. 1GiB, 512MiB) is stopped and stored with an error row; "
                          f"the run as a whole stays under it plus 384 MiB (default: {size_text(DEFAULT_MAX_MEMORY)})")
    ing.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                     help="when another run is writing the store, wait this long for it (default: exit at once)")
    ing.add_argument("--waivers", default=None, help="waivers file (default: waivers.csv beside the drop folder)")
    ocr = sub.add_parser("ocr", help="OCR a drop folder's scans into the OCR cache only (one share of them with --part k/n)")
    ocr.add_argument("drop_dir")
    ocr.add_argument("--cache", required=True, help="OCR cache folder (the ingest uses <db>.ocr, or $GOVREPORT_OCR_CACHE)")
    ocr.add_argument("--part", default="1/1", help="k/n: this machine's share of the files, by content hash")
    ocr.add_argument("--workers", type=int, default=1)
    ocr.set_defaults(run=_ocr)
    add_review_commands(sub)
    args = parser.parse_args(argv)
    if args.command != "ingest":
        return args.run(args)

    def progress(done: int, total: int) -> None:
        if not args.quiet:
            print(f"\r  processed {done}/{total} files", end="", file=sys.stderr, flush=True)

    try:
        summary = run_ingest(args.drop_dir, args.db, batch_size=args.batch_size, workers=args.workers, progress=progress,
                             wait_seconds=args.wait, waivers_path=args.waivers, max_bytes=args.max_bytes,
                             budget=Budget(max_seconds=args.max_seconds, max_memory=args.max_memory))
    except StoreBusy as exc:
        print(exc, file=sys.stderr)
        return 3
    finally:
        stop_helper_processes()  # this process runs no other pool: a signal from here on leaves nothing behind
    if not args.quiet:
        print(file=sys.stderr)
    print(f"files: {summary.files_seen} seen, {summary.processed} processed, {summary.unchanged} unchanged, "
          f"{summary.renamed} renamed/duplicate, {summary.removed} gone, {summary.errors} unreadable ({summary.seconds:.2f} s)")
    if summary.refused:
        kinds: dict[str, int] = {}
        for r in summary.refused:
            kinds[r.kind] = kinds.get(r.kind, 0) + 1
        print(f"refused: {len(summary.refused)} entries not read ({', '.join(f'{k}: {n}' for k, n in sorted(kinds.items()))}); "
              "every one with its reason in the table refused_entries")
        for r in summary.refused[:5]:
            print(f"  {one_line(r.source_path)}: {r.reason}")
    if summary.workers_replaced:
        print(f"budgets: {summary.workers_replaced} file(s) stopped over --max-seconds/--max-memory (or crashed their reader), "
              "each stored with its reason; their workers were replaced")
    if summary.interrupted:
        print(f"stopped by {summary.interrupted}: {summary.processed} files processed and committed; "
              f"{summary.left} left for the next run (files in flight were dropped, not marked as errors); "
              "run again to continue", file=sys.stderr)
    print(store_summary(args.db))
    if summary.interrupted:
        return 128 + signal.Signals[summary.interrupted].value
    if summary.waivers and (summary.waivers.stale or summary.waivers.problems):
        print(f"waivers ({summary.waivers.path}): {summary.waivers.loaded} loaded, {len(summary.waivers.stale)} stale")
        for w in summary.waivers.stale:
            print(f"  stale: {w['report_id']} {w['check_name']}: {w['why']}")
        for problem in summary.waivers.problems:
            print(f"  unusable: {problem}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
