"""A local PostgreSQL cluster and PgBouncer for Dagster's instance storage: `make postgres`.

For a user who has no PostgreSQL server: initialises a cluster in DIR (default `.postgres/`) with
Debian's `postgresql` binaries (`/usr/lib/postgresql/*/bin`), starts it on 127.0.0.1:PG_PORT,
creates the `dagster` role and database, starts Debian's PgBouncer on 127.0.0.1:BOUNCER_PORT in
front of it (session pooling: a Dagster run opens a connection per event, PgBouncer hands it a
server connection it already has), and writes DIR/dagster.yaml pointing at PgBouncer — copy it
into your DAGSTER_HOME. `stop` stops both. Everything stays on the loopback interface with
`trust` authentication: a development/single-machine setup; for an existing server use
`examples/dagster-postgres.yaml`.

PostgreSQL and PgBouncer refuse to run as root; under root (CI, containers) they run as the
`postgres` system user that Debian's package creates, and DIR is handed to that user.
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

PG_PORT = 55432
BOUNCER_PORT = 56432


def pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if found:
        return found[-1]
    path = shutil.which(name)
    if not path:
        sys.exit(f"{name} not found: apt-get install -y postgresql pgbouncer")
    return path


def _as_owner(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    """Run `cmd` as the cluster's owner: ourselves, or `postgres` when we are root."""
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd="/", **kw)
    if done.returncode:
        sys.exit(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}"
                 + ("\n(under root the cluster runs as `postgres`: every folder above it must be reachable by that user)"
                    if os.geteuid() == 0 else ""))
    return done


def dagster_yaml(port: int, hostname: str = "127.0.0.1") -> str:
    """Instance storage on PostgreSQL (examples/dagster-postgres.yaml): the event log through our
    subclass that answers partition membership from one query (assets/instance_storage.py);
    `postgresql+psycopg2` because SQLAlchemy 2.1 otherwise looks for psycopg 3."""
    db = f"""    postgres_db:
      username: dagster
      password: dagster
      hostname: {hostname}
      db_name: dagster
      port: {port}
      scheme: postgresql+psycopg2
"""
    return f"""# Dagster instance storage on the local cluster (tests_ui/postgres_local.py), port {port}
run_storage:
  module: dagster_postgres.run_storage
  class: PostgresRunStorage
  config:
{db}event_log_storage:
  module: assets.instance_storage
  class: PartitionSetPostgresEventLogStorage
  config:
{db}schedule_storage:
  module: dagster_postgres.schedule_storage
  class: PostgresScheduleStorage
  config:
{db}telemetry:
  enabled: false
"""


def _bouncer_ini(d: Path, pg_port: int, bouncer_port: int) -> str:
    return f"""[databases]
dagster = host=127.0.0.1 port={pg_port} dbname=dagster user=dagster

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {bouncer_port}
unix_socket_dir =
auth_type = any
pool_mode = session
default_pool_size = 20
max_client_conn = 400
ignore_startup_parameters = extra_float_digits,options,statement_timeout
logfile = {d}/pgbouncer.log
pidfile = {d}/pgbouncer.pid
"""


def _wait_ready(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if subprocess.run([pg_bin("pg_isready"), "-h", "127.0.0.1", "-p", str(port)], capture_output=True).returncode == 0:
            return
        time.sleep(0.3)
    sys.exit(f"PostgreSQL on port {port} did not become ready in {timeout:.0f} s")


def start(d: Path, pg_port: int = PG_PORT, bouncer_port: int = BOUNCER_PORT) -> Path:
    """Initialise (once) and start the cluster and PgBouncer; returns the dagster.yaml written."""
    d = d.resolve()
    data = d / "data"
    d.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(d, "postgres", "postgres")
    if not (data / "PG_VERSION").exists():
        _as_owner([pg_bin("initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"])
        with open(data / "postgresql.conf", "a") as fh:
            # a local, rebuildable instance: durability traded for speed of event writes
            fh.write(f"\nlisten_addresses = '127.0.0.1'\nport = {pg_port}\nunix_socket_directories = '{d}'\n"
                     "max_connections = 200\nsynchronous_commit = off\nshared_buffers = 256MB\n")
    if not _running(data):
        _as_owner([pg_bin("pg_ctl"), "-D", str(data), "-l", str(d / "postgres.log"), "-w", "start"])
    _wait_ready(pg_port)
    psql = [pg_bin("psql"), "-h", "127.0.0.1", "-p", str(pg_port), "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-qAt"]
    if subprocess.run([*psql, "-c", "SELECT 1 FROM pg_roles WHERE rolname = 'dagster'"], capture_output=True, text=True, check=True).stdout.strip() != "1":
        subprocess.run([*psql, "-c", "CREATE ROLE dagster LOGIN PASSWORD 'dagster'"], check=True, capture_output=True)
        subprocess.run([*psql, "-c", "CREATE DATABASE dagster OWNER dagster"], check=True, capture_output=True)
    ini = d / "pgbouncer.ini"
    ini.write_text(_bouncer_ini(d, pg_port, bouncer_port))
    if os.geteuid() == 0:
        shutil.chown(ini, "postgres", "postgres")
    if not _pid_alive(d / "pgbouncer.pid"):
        _as_owner([pg_bin("pgbouncer"), "-d", str(ini)])
    _wait_ready(bouncer_port)
    (d / "dagster.yaml").write_text(dagster_yaml(bouncer_port))
    (d / "dagster-direct.yaml").write_text(dagster_yaml(pg_port))
    return d / "dagster.yaml"


def _running(data: Path) -> bool:
    return _pid_alive(data / "postmaster.pid")


def _pid_alive(pidfile: Path) -> bool:
    try:
        pid = int(pidfile.read_text().split()[0])
        os.kill(pid, 0)
        return True
    except (OSError, ValueError, IndexError):
        return False


def stop(d: Path) -> None:
    d = d.resolve()
    pidfile = d / "pgbouncer.pid"
    if _pid_alive(pidfile):
        os.kill(int(pidfile.read_text().split()[0]), 15)
    if _running(d / "data"):
        _as_owner([pg_bin("pg_ctl"), "-D", str(d / "data"), "-m", "fast", "-w", "stop"])


def reset_database(pg_port: int = PG_PORT) -> None:
    """Drop and recreate the `dagster` database (benchmarks start from an empty instance)."""
    psql = [pg_bin("psql"), "-h", "127.0.0.1", "-p", str(pg_port), "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-qAt"]
    subprocess.run([*psql, "-c", "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'dagster' AND pid <> pg_backend_pid()"],
                   check=True, capture_output=True)
    subprocess.run([*psql, "-c", "DROP DATABASE IF EXISTS dagster"], check=True, capture_output=True)
    subprocess.run([*psql, "-c", "CREATE DATABASE dagster OWNER dagster"], check=True, capture_output=True)


def latency(pg_port: int = PG_PORT, bouncer_port: int = BOUNCER_PORT, n: int = 200) -> dict[str, tuple[float, float]]:
    """Milliseconds to open a connection and to run `SELECT 1`, straight to PostgreSQL and through PgBouncer."""
    import psycopg2
    out = {}
    for name, port in (("PostgreSQL", pg_port), ("PgBouncer", bouncer_port)):
        def connect():
            return psycopg2.connect(host="127.0.0.1", port=port, user="dagster", password="dagster", dbname="dagster")
        t = time.perf_counter()
        for _ in range(n):
            connect().close()
        opened = (time.perf_counter() - t) / n * 1000
        con = connect()
        cur = con.cursor()
        t = time.perf_counter()
        for _ in range(n):
            cur.execute("SELECT 1")
            cur.fetchall()
        out[name] = (opened, (time.perf_counter() - t) / n * 1000)
        con.close()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("action", choices=["start", "stop", "latency"])
    ap.add_argument("--dir", default=".postgres")
    args = ap.parse_args(argv)
    if args.action == "start":
        yaml = start(Path(args.dir))
        print(f"PostgreSQL on 127.0.0.1:{PG_PORT}, PgBouncer on 127.0.0.1:{BOUNCER_PORT}; instance config: {yaml}\n"
              f"use it: mkdir -p .dagster_home && cp {yaml} .dagster_home/dagster.yaml")
    elif args.action == "latency":
        for name, (opened, query) in latency().items():
            print(f"{name}: connect {opened:.2f} ms, SELECT 1 {query:.2f} ms")
    else:
        stop(Path(args.dir))
        print("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
