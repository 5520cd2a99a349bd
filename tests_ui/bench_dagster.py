"""The Dagster row of the benchmark: `make bench-dagster` (REPORTS=10000 by default).

Generates N distinct reports into a drop folder and, on each persistent Dagster instance asked
for (SQLite, what `make ui` uses; PostgreSQL through PgBouncer, the production instance;
PostgreSQL direct), measures:

a. the command line into its own store (the same work without Dagster, for the ratio);
b. the Dagster path end to end: a sensor tick, then the ingest job in process, including every
   per-report materialization and check evaluation the UI shows;
c. one new file through the sensor and the job, into the big store;
d. page loads in a real browser (`dagster dev` on that instance, Debian's chromium): every page
   on the reviewer's path, on the year with the most reports.

Writes the table to OUT/dagster.md.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests_ui import dagster_dev

ROOT = Path(__file__).resolve().parent.parent


def dagster_path(drop: Path, db: Path, home: Path) -> tuple[float, float, int]:
    """(seconds for the whole drop, seconds for one new file, reports in the store) on the
    instance configured in home/dagster.yaml."""
    import dagster as dg

    from assets.definitions import defs
    from assets.resources import GovReportStore
    from assets.sensors import drop_folder_sensor
    from pipeline.devtools.generate import generate_report

    store = GovReportStore(drop_dir=str(drop), db_path=str(db), waivers_path=str(home / "waivers.csv"))
    instance = dg.DagsterInstance.from_config(str(home))
    job = defs.resolve_job_def("ingest_drop_folder")

    def tick_and_run(cursor):
        tick = drop_folder_sensor(dg.build_sensor_context(instance=instance, resources={"govreport": store}, definitions=defs, cursor=cursor))
        for req in tick.run_requests:
            assert job.execute_in_process(instance=instance, resources={"govreport": store}, tags=req.tags).success
        return tick.cursor

    t0 = time.perf_counter()
    cursor = tick_and_run(None)
    whole = time.perf_counter() - t0
    new = generate_report(random.Random(99), 999_999)
    (drop / new.name).write_bytes(new.data)
    t1 = time.perf_counter()
    tick_and_run(cursor)
    one_new = time.perf_counter() - t1
    (drop / new.name).unlink()  # the next instance's run sees the same folder
    from assets.shards import current_layout
    partitions = sum(len(instance.get_dynamic_partitions(s.partitions_name)) for s in current_layout().shards)
    instance.dispose()
    return whole, one_new, partitions


def largest_shard(db: Path):
    """(the verdict asset with the most reports, an organ with a failing report in it, its reports): the worst case a reviewer opens."""
    import duckdb

    from assets.shards import current_layout
    layout = current_layout()
    con = duckdb.connect(str(db), read_only=True)
    try:
        counts: dict = {}
        for year, code, n in con.execute("SELECT year, division_code, count(*) FROM reports GROUP BY ALL").fetchall():
            shard = layout.shard_of(year, code)
            counts[shard] = counts.get(shard, 0) + n
        shard = max(counts, key=counts.get)
        organs = con.execute("SELECT r.organ, r.year, r.division_code FROM review_queue q JOIN reports r USING (partition_key) "
                             "WHERE r.organ IS NOT NULL ORDER BY r.partition_key").fetchall()
        organ = next((o for o, y, c in organs if layout.shard_of(y, c) == shard), "")
    finally:
        con.close()
    return shard, organ, counts[shard]


class _PgWatch:
    """With `--trace`: what PostgreSQL is doing while the pages are timed (pg_stat_activity every
    0.2 s: every backend not idle, autovacuum workers included)."""

    def __init__(self):
        import threading
        self.rows: list[tuple] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        import psycopg2

        from tests_ui import postgres_local
        con = psycopg2.connect(host="127.0.0.1", port=postgres_local.PG_PORT, user="dagster", password="dagster", dbname="dagster")
        con.autocommit = True
        cur = con.cursor()
        while not self._stop.is_set():
            cur.execute("SELECT backend_type, state, wait_event_type, wait_event, left(query, 160), now() - query_start FROM pg_stat_activity "
                        "WHERE pid <> pg_backend_pid() AND (state IS NULL OR state <> 'idle') AND backend_type NOT IN "
                        "('checkpointer', 'background writer', 'walwriter', 'logical replication launcher', 'autovacuum launcher')")
            for r in cur.fetchall():
                self.rows.append((time.time(), *[str(x) for x in r]))
            time.sleep(0.2)
        cur.execute("SELECT relname, n_live_tup, n_mod_since_analyze, last_autovacuum, last_autoanalyze, last_analyze FROM pg_stat_user_tables "
                    "WHERE n_live_tup > 0 ORDER BY relname")
        self.tables = [[str(x) for x in r] for r in cur.fetchall()]
        con.close()

    def stop(self) -> dict:
        self._stop.set()
        self._thread.join()
        return {"activity": self.rows, "tables": self.tables}


# The proposed upstream fix of the check's Partitions list (docs/dagster-check-partitions-list.md):
# a scroll container of bounded height, so that its virtualizer draws the rows in view, not every
# partition. Injected only with --upstream-list-fix, to measure what the fix would give.
UPSTREAM_LIST_FIX_CSS = "[class*=AssetEventList_assetListContainer] { max-height: calc(100vh - 330px); }"


def page_loads(drop: Path, db: Path, home: Path, shots: str, trace: Path | None = None, css: str | None = None) -> dict[str, str]:
    """Each page on the reviewer's path, from navigation until its content shows (README, "Reviewing").
    With `trace`, also writes there (JSON) each page's GraphQL requests as the browser timed them,
    the browser's own time (layout, script: Chrome's Performance metrics), the load average, and
    what PostgreSQL was doing; and times the pass/fail page twice more. With `css`, every page
    gets that style sheet (a proposed change of Dagster's UI, measured)."""
    import json

    from playwright.sync_api import sync_playwright

    from assets.verdicts import failing_reports_link

    shard, organ, n_reports = largest_shard(db)
    year_asset, bucket, name = shard.ui_path, shard.year, shard.title
    env = {**os.environ, "DAGSTER_HOME": str(home), "GOVREPORT_DROP_DIR": str(drop), "GOVREPORT_DB": str(db)}
    proc, base = dagster_dev.start(env, subprocess.DEVNULL)
    out: dict[str, str] = {}
    try:
        import urllib.request
        for _ in range(180):
            try:
                urllib.request.urlopen(base + "/server_info", timeout=2)
                break
            except OSError:
                time.sleep(1)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            page = browser.new_page(viewport={"width": 1500, "height": 1000})
            if css:
                page.add_init_script("document.addEventListener('DOMContentLoaded', () => {"
                                     f"const s = document.createElement('style'); s.textContent = {css!r}; document.head.appendChild(s); }});")
            page.set_default_timeout(120_000)
            requests: list[dict] = []
            traced: list[dict] = []
            watch = _PgWatch() if trace else None
            cdp = None
            if trace:
                def finished(req):
                    if "/graphql" not in req.url:
                        return
                    t = req.timing
                    try:
                        op = json.loads(req.post_data or "{}").get("operationName")
                    except ValueError:
                        op = None
                    requests.append({"op": op or req.url.rsplit("/", 1)[-1], "start": t["startTime"] / 1000,
                                     "ms": round(t["responseEnd"], 1), "wait_ms": round(t["responseStart"] - t["requestStart"], 1)})
                page.on("requestfinished", finished)
                cdp = page.context.new_cdp_session(page)
                cdp.send("Performance.enable")

            def metrics() -> dict[str, float]:
                return {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]
                        if m["name"] in ("TaskDuration", "ScriptDuration", "LayoutDuration", "RecalcStyleDuration", "Nodes", "LayoutCount")}
            page.goto(base + year_asset)  # warm-up: code server, first-visit dialog
            page.get_by_text(shard.key.path[-1]).first.wait_for()
            try:
                page.get_by_role("button", name="Skip").click(timeout=5000)
            except Exception:  # noqa: BLE001
                pass

            def timed(name, path, ready, then=None):
                n_req, t_wall = len(requests), time.time()
                m0 = metrics() if cdp else None
                load = open("/proc/loadavg").read().split()[:3]
                t = time.perf_counter()
                try:
                    page.goto(base + path)
                    page.get_by_text(ready).first.wait_for()
                    if then:
                        then()
                    out[name] = f"{time.perf_counter() - t:.2f} s"
                except Exception as exc:  # noqa: BLE001 - a page that never shows is a figure too
                    out[name] = f"not shown after {time.perf_counter() - t:.0f} s ({type(exc).__name__})"
                if trace:
                    page.wait_for_timeout(300)  # requests finishing just after the content shows
                    traced.append({"page": name, "secs": out[name], "wall_start": t_wall, "wall_end": t_wall + time.perf_counter() - t,
                                   "loadavg": load, "metrics_before": m0, "metrics_after": metrics(),
                                   "graphql": [dict(r, start=round(r["start"] - t_wall, 3)) for r in requests[n_req:]]})
                page.screenshot(path=str(Path(shots) / f"bench_{len(out):02d}.png"))

            timed("the queue (`review_queue` → `no_unreviewed_errors`)", "/assets/review_queue?view=checks&checkDetail=no_unreviewed_errors", "reports_to_review")
            timed("the store-wide verdict (`report_verdicts` → `verdict`)", "/assets/report_verdicts?view=checks&checkDetail=verdict", "whole store")
            timed("a review group (`check_results` → `prose_vs_tables`)", "/assets/check_results?view=checks&checkDetail=prose_vs_tables", "reports_failing")

            def find_by_organ():
                page.get_by_placeholder("Filter by name").fill(organ)
                # the list truncates long keys in the middle; a hidden copy measures them
                page.get_by_text(f"{bucket}·{organ[:4]}", exact=False).filter(visible=True).first.click()
                page.get_by_text("source_path", exact=True).first.wait_for()
            timed(f"a report found by organ (`{name}` → Partitions → filter → the report)", f"{year_asset}?view=partitions",
                  "Partitions Selected", find_by_organ)
            timed(f"the asset's Checks tab (`{name}`)", f"{year_asset}?view=checks", "verdict")

            def open_partitions():
                page.get_by_text("Partitions", exact=True).last.click()
                page.get_by_text("Failed (").first.wait_for()
            timed(f"pass/fail per report (`verdict` → Partitions, {name}: {n_reports} reports)", f"{year_asset}?view=checks&checkDetail=verdict", "Execution history",
                  open_partitions)
            timed(f"failing reports per year (`verdict` → Partitions, only Failed and Missing ticked: the link on "
                  f"`report_verdicts`, {name})", failing_reports_link(shard),
                  "Execution history", open_partitions)
            if trace:
                for again in ("second", "third"):
                    timed(f"pass/fail per report, {again} visit", f"{year_asset}?view=checks&checkDetail=verdict", "Execution history",
                          open_partitions)
                trace.write_text(json.dumps({"pages": traced, "postgres": watch.stop()}, indent=1, ensure_ascii=False))
            browser.close()
    finally:
        dagster_dev.stop(proc, timeout=60)
    return out


INSTANCES = {
    "sqlite": "SQLite (the default of `make ui`)",
    "postgres-direct": "PostgreSQL, runs connect directly",
    "postgres": "PostgreSQL through PgBouncer (production)",
}


def instance_home(work: Path, name: str, pg_dir: Path) -> Path:
    """A DAGSTER_HOME for `name`; the PostgreSQL ones start the local cluster and empty its database."""
    home = work / f"home_{name}"
    home.mkdir()
    if name == "sqlite":
        from assets.event_log import sqlite_instance_yaml
        (home / "dagster.yaml").write_text(sqlite_instance_yaml(home))  # what `make ui` writes
        return home
    from tests_ui import postgres_local
    postgres_local.start(pg_dir)
    postgres_local.reset_database()
    port = postgres_local.BOUNCER_PORT if name == "postgres" else postgres_local.PG_PORT
    (home / "dagster.yaml").write_text(postgres_local.dagster_yaml(port))
    return home


def _write_table(out: str, files: int, size: int, rows: list[tuple[str, str, str]]) -> str:
    md = "\n".join([f"# Dagster benchmark: {files} generated reports ({size / 2**20:.0f} MiB), {os.cpu_count()} cores", "",
                    "| measure | time | rate |", "|---|---|---|"] + [f"| {a} | {b} | {c} |" for a, b, c in rows]) + "\n"
    (Path(out) / "dagster.md").write_text(md)
    return md


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reports", type=int, default=10000)
    ap.add_argument("--corpus", choices=("province", "generated"), default="province",
                    help="province: one report per body and year, years rolling on (generate.generate_province); "
                         "generated: bodies and years drawn independently (sessions 4-6 measured this one)")
    ap.add_argument("--regions", default=None, help="GOVREPORT_VERDICT_REGIONS for the run (assets/shards.py); default: the province "
                    "corpus's 12 cities (one verdict asset per year and city), none for --corpus generated; '' for one asset per year")
    ap.add_argument("--out", default="bench_out")
    ap.add_argument("--instances", default="postgres,sqlite", help=f"comma-separated, run in this order: {', '.join(INSTANCES)}")
    ap.add_argument("--pages", default="postgres,sqlite", help="comma-separated: the instances whose pages are timed in the browser ('' for none)")
    ap.add_argument("--pg-dir", default=str(ROOT / ".postgres"))
    ap.add_argument("--trace", action="store_true", help="with the PostgreSQL pages: write OUT/trace_pages.json (each page's GraphQL requests, "
                    "the browser's layout and script time, pg_stat_activity) and time the pass/fail page twice more")
    ap.add_argument("--upstream-list-fix", action="store_true", help="with --pages-of: time the pages with the proposed fix of Dagster's "
                    "check Partitions list injected as CSS (docs/dagster-check-partitions-list.md)")
    ap.add_argument("--skip-cli", action="store_true", help="do not run the command line first (at 50,000 reports: the Dagster path and the pages only)")
    ap.add_argument("--pages-of", metavar="WORK", help="only time the pages again, on the PostgreSQL instance a previous run left in WORK")
    args = ap.parse_args(argv)
    from assets.shards import REGIONS_ENV
    from pipeline.devtools.generate import PLACES
    regions = args.regions if args.regions is not None else (",".join(PLACES) if args.corpus == "province" else "")
    os.environ[REGIONS_ENV] = regions  # before the definitions load; `dagster dev` inherits it
    if args.pages_of:
        from tests_ui import postgres_local
        work = Path(args.pages_of)
        (work / "home_postgres" / "dagster.yaml").write_text(postgres_local.dagster_yaml(postgres_local.BOUNCER_PORT))
        Path(args.out).mkdir(exist_ok=True)
        lines = [f"| d. page on postgres: {page} | {secs} |" for page, secs in
                 page_loads(work / "drop", work / "dagster_postgres.duckdb", work / "home_postgres", args.out,
                                         Path(args.out) / "trace_pages.json" if args.trace else None,
                                         UPSTREAM_LIST_FIX_CSS if args.upstream_list_fix else None).items()]
        (Path(args.out) / "dagster_pages.md").write_text("| page | time |\n|---|---|\n" + "\n".join(lines) + "\n")
        print("\n".join(lines))
        return 0
    sys.path.insert(0, str(ROOT))
    from pipeline.devtools.generate import write_corpus
    from pipeline.store.ingest import run_ingest

    work = Path(tempfile.mkdtemp(prefix="bench_dagster_"))
    drop = work / "drop"
    Path(args.out).mkdir(exist_ok=True)
    files, size = write_corpus(drop, args.reports, seed=2024, province=args.corpus == "province")
    cli, rows = None, []
    if not args.skip_cli:
        t = time.perf_counter()
        run_ingest(drop, work / "cli.duckdb")
        cli = time.perf_counter() - t
        rows = [("a. command line (same files, no Dagster)", f"{cli:.1f} s", f"{files / cli:.0f} reports/s")]
    for name in [n for n in args.instances.split(",") if n]:
        home = instance_home(work, name, Path(args.pg_dir))
        db = work / f"dagster_{name}.duckdb"
        whole, one_new, partitions = dagster_path(drop, db, home)
        rows += [
            (f"b. Dagster on {INSTANCES[name]}: sensor tick + ingest job + per-report verdicts", f"{whole:.1f} s", f"**{files / whole:.0f} reports/s**"),
            *([("   of which Dagster (b − a)", f"{whole - cli:.1f} s", f"{1000 * (whole - cli) / files:.1f} ms per report")] if cli else []),
            ("   one new file via sensor + job into the big store", f"{one_new:.2f} s", f"{partitions} partitions"),
        ]
        _write_table(args.out, files, size, rows)  # kept if the pages fail
        if name in args.pages.split(","):
            trace = Path(args.out) / "trace_pages.json" if args.trace and name.startswith("postgres") else None
            for page, secs in page_loads(drop, db, home, args.out, trace).items():
                rows.append((f"d. page on {name}: {page}", secs, f"{partitions} reports"))
    print(_write_table(args.out, files, size, rows))
    print(f"(work folder: {work})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
