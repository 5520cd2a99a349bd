"""The reviewer's commands: ``waive`` a finding, print the ``queue``.

``python -m pipeline waive REPORT CHECK --reason "…" --db DB [--waivers FILE] [--by NAME]``
appends a waiver to the waivers file (the file is the truth: the next ingest run loads it, and
the Dagster sensor starts one when the file changes); ``python -m pipeline queue --db DB``
prints the review queue.
"""

from __future__ import annotations

import argparse
import sys

from pipeline.store.db import connect
from pipeline.store.waivers import add_waiver

QUEUE_COLUMNS = ["organ", "year", "partition_key", "error_checks", "numbers"]


def add_review_commands(sub: argparse._SubParsersAction) -> None:
    w = sub.add_parser("waive", help="mark a failing check of a report as a known source error")
    w.add_argument("report", help="report_id, partition key (2023·深圳市司法局·af160c06) or document-hash prefix")
    w.add_argument("check", help="check name, e.g. prose_consistency")
    w.add_argument("--reason", required=True)
    w.add_argument("--by", default=None, help="who waives it (default: the login name)")
    w.add_argument("--db", required=True)
    w.add_argument("--waivers", required=True, help="the waivers file (e.g. waivers.csv beside the drop folder)")
    w.set_defaults(run=_waive)
    q = sub.add_parser("queue", help="print the review queue: reports with unwaived error-level findings")
    q.add_argument("--db", required=True)
    q.add_argument("--limit", type=int, default=50)
    q.set_defaults(run=_queue)


def _waive(args) -> int:
    con = connect(args.db, read_only=True)
    try:
        row = add_waiver(con, args.waivers, args.report, args.check, args.reason, args.by)
    except ValueError as exc:
        print(f"not waived: {exc}", file=sys.stderr)
        return 2
    finally:
        con.close()
    print(f"waived {row['check_name']} for {row['organ']} {row['year']} ({row['report_id']}) by {row['waived_by']}: {row['reason']}")
    print(f"written to {args.waivers}; the next run applies it (the Dagster sensor watches the file)")
    return 0


def _queue(args) -> int:
    con = connect(args.db, read_only=True)
    try:
        rows = con.execute(f"SELECT {', '.join(QUEUE_COLUMNS)} FROM review_queue LIMIT ?", [args.limit]).fetchall()  # noqa: S608
        total = con.execute("SELECT count(*) FROM review_queue").fetchone()[0]
    finally:
        con.close()
    print(f"{total} reports need review" + (f" (first {len(rows)})" if total > len(rows) else ""))
    for organ, year, key, n, numbers in rows:
        print(f"  {key}  {n} error check(s): {numbers}")
    return 0
