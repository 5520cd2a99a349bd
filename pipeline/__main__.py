"""Command line: ``python -m pipeline ingest DROP_DIR --db DB_PATH``.

Runs the same code path as the Dagster assets, without the UI (for scripts and cron). Exits
non-zero only when the run itself fails — a report failing a check is a finding, not a crash.
"""

from __future__ import annotations

import argparse
import sys

from .ingest import DEFAULT_BATCH, run_ingest
from .summary import store_summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    ing = sub.add_parser("ingest", help="ingest a drop folder into the DuckDB store")
    ing.add_argument("drop_dir")
    ing.add_argument("--db", required=True, help="DuckDB file (created when missing)")
    ing.add_argument("--batch-size", type=int, default=DEFAULT_BATCH)
    ing.add_argument("--workers", type=int, default=None, help="processes (default: all cores)")
    ing.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)

    def progress(done: int, total: int) -> None:
        if not args.quiet:
            print(f"\r  processed {done}/{total} files", end="", file=sys.stderr, flush=True)

    summary = run_ingest(args.drop_dir, args.db, batch_size=args.batch_size, workers=args.workers, progress=progress)
    if not args.quiet:
        print(file=sys.stderr)
    print(f"files: {summary.files_seen} seen, {summary.processed} processed, {summary.unchanged} unchanged, "
          f"{summary.renamed} renamed/duplicate, {summary.removed} gone, {summary.errors} unreadable ({summary.seconds:.2f} s)")
    print(store_summary(args.db))
    return 0


if __name__ == "__main__":
    sys.exit(main())
