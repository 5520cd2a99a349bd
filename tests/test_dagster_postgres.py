"""The production instance: the ingest job on PostgreSQL instance storage through PgBouncer
(tests_ui/postgres_local.py, what `make postgres` starts), with the same verdicts as on SQLite.

Needs Debian's `postgresql` and `pgbouncer` and the `postgres` extra; skipped without them,
except in CI (`GOVREPORT_REQUIRE_POSTGRES=1`, set by .ci/run, which installs them).
"""

import os
import shutil
import socket
import tempfile
from pathlib import Path

import pytest

from tests_ui import postgres_local

REQUIRED = os.environ.get("GOVREPORT_REQUIRE_POSTGRES") == "1"


def _missing() -> str:
    try:
        import dagster_postgres  # noqa: F401
    except ImportError:
        return "dagster-postgres is not installed (pip install -e '.[postgres]')"
    for tool in ("initdb", "pg_ctl", "pgbouncer"):
        if not (shutil.which(tool) or list(Path("/usr/lib/postgresql").glob(f"*/bin/{tool}"))):
            return f"{tool} not found (apt-get install postgresql pgbouncer)"
    return ""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def pg_home():
    why = _missing()
    if why:
        if REQUIRED:
            pytest.fail(why)
        pytest.skip(why)
    work = Path(tempfile.mkdtemp(prefix="govreport_pg_"))  # not under pytest's tmp: the postgres user must reach it
    work.chmod(0o755)
    pg_port, bouncer_port = _free_port(), _free_port()
    try:
        postgres_local.start(work / "pg", pg_port, bouncer_port)
        home = work / "home"
        home.mkdir()
        (home / "dagster.yaml").write_text(postgres_local.dagster_yaml(bouncer_port))
        yield home
    finally:
        postgres_local.stop(work / "pg")
        shutil.rmtree(work, ignore_errors=True)


def test_ingest_job_on_postgres_through_pgbouncer(pg_home, tmp_path):
    import dagster as dg

    from assets.definitions import defs
    from assets.resources import GovReportStore
    from tests.test_dagster import FIXTURES, SHENZHEN_JUSTICE, _key, _partitions, _status

    drop = tmp_path / "drop"
    drop.mkdir()
    for n in ["000_9fd4f163df564d66.txt", "003_b373f949265f094e.txt", SHENZHEN_JUSTICE]:
        shutil.copy(FIXTURES / n, drop / n)
    store = GovReportStore(drop_dir=str(drop), db_path=str(tmp_path / "store.duckdb"), waivers_path=str(tmp_path / "waivers.csv"))
    instance = dg.DagsterInstance.from_config(str(pg_home))
    assert type(instance.event_log_storage).__name__ == "PartitionSetPostgresEventLogStorage"
    assert defs.resolve_job_def("ingest_drop_folder").execute_in_process(instance=instance, resources={"govreport": store}).success
    key = _key(store, SHENZHEN_JUSTICE)
    assert len(_partitions(instance)) == 3
    status = _status(instance)
    assert status[key] == ("FAILED", True) and all(current for _, current in status.values())
    instance.dispose()


def test_partition_membership_costs_one_query_and_follows_changes(pg_home):
    """The check pages ask membership once per partition; our storage answers from one query,
    and sees this process's adds and deletes at once (assets/instance_storage.py)."""
    import dagster as dg

    instance = dg.DagsterInstance.from_config(str(pg_home))
    storage = instance.event_log_storage
    keys = [f"2023·机关{i}·{i:08x}" for i in range(500)]
    instance.add_dynamic_partitions("membership_test", keys)
    queries = []
    original = storage.get_dynamic_partitions
    storage.get_dynamic_partitions = lambda name: queries.append(name) or original(name)
    assert all(instance.has_dynamic_partition("membership_test", k) for k in keys)
    assert not instance.has_dynamic_partition("membership_test", "2023·机关·deadbeef")
    assert len(queries) == 1
    instance.delete_dynamic_partition("membership_test", keys[0])
    assert not instance.has_dynamic_partition("membership_test", keys[0])
    instance.add_dynamic_partitions("membership_test", ["2024·新·00000000"])
    assert instance.has_dynamic_partition("membership_test", "2024·新·00000000")
    instance.dispose()
