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


def _store_on_postgres(tmp_path, pg_home, names: list[str]):
    """A drop folder of these fixtures, its GovReportStore resource, and the PostgreSQL instance."""
    import dagster as dg

    from assets.resources import GovReportStore
    from tests.test_dagster import FIXTURES

    drop = tmp_path / "drop"
    drop.mkdir()
    for n in names:
        shutil.copy(FIXTURES / n, drop / n)
    store = GovReportStore(drop_dir=str(drop), db_path=str(tmp_path / "store.duckdb"), waivers_path=str(tmp_path / "waivers.csv"))
    return store, dg.DagsterInstance.from_config(str(pg_home))


def test_ingest_job_on_postgres_through_pgbouncer(pg_home, tmp_path):
    from assets.definitions import defs
    from tests.test_dagster import SHENZHEN_JUSTICE, _key, _partitions, _status

    store, instance = _store_on_postgres(tmp_path, pg_home, ["000_9fd4f163df564d66.txt", "003_b373f949265f094e.txt", SHENZHEN_JUSTICE])
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


def test_verdicts_are_written_in_batches_with_the_same_result(pg_home, tmp_path):
    """Each report's page and verdict reach PostgreSQL in a few batch writes, not two writes per
    report (assets/instance_storage.py), and read back as from one-by-one writes: every year's
    asset record follows its last report, every verdict targets its report's latest page, and a
    second run that re-publishes a report keeps it current."""
    import dagster as dg

    from assets.definitions import defs
    from assets.instance_storage import PartitionSetPostgresEventLogStorage
    from assets.shards import current_layout
    from assets.verdicts import VERDICT
    from tests.test_dagster import FIXTURES, SHENZHEN_JUSTICE, _key, _latest_page, _partitions, _status

    names = ["000_9fd4f163df564d66.txt", "003_b373f949265f094e.txt", SHENZHEN_JUSTICE, "shanghai_office_2019.html",
             "pingtan_2017.txt"]
    store, instance = _store_on_postgres(tmp_path, pg_home, names)
    instance.wipe()
    storage = instance.event_log_storage
    assert isinstance(storage, PartitionSetPostgresEventLogStorage) and os.environ["DAGSTER_EVENT_BATCH_SIZE"]
    single, batches = [], []
    orig_single, orig_batch = storage.store_event, storage.store_event_batch
    def partition(e):  # a materialization's, or a check evaluation's
        data = e.get_dagster_event().event_specific_data
        return e.get_dagster_event().partition or getattr(data, "partition", None)

    storage.store_event = lambda e: single.append((e.dagster_event_type, partition(e))) or orig_single(e)
    storage.store_event_batch = lambda es: batches.append([e.dagster_event_type for e in es if partition(e)]) or orig_batch(es)
    job = defs.resolve_job_def("ingest_drop_folder")
    assert job.execute_in_process(instance=instance, resources={"govreport": store}).success
    partitioned = _partitions(instance)
    assert len(partitioned) == 5
    # a year's pages go in one write, then its verdicts in another; a year of one report is one event each
    shards = current_layout().shards
    per_year = [len(instance.get_dynamic_partitions(s.partitions_name)) for s in shards]
    batches = [b for b in batches if b]  # Dagster's own batch of planned events (the run's assets) has no partition
    assert sorted(len(b) for b in batches) == sorted([n for n in per_year if n > 1] * 2) and all(len(set(b)) == 1 for b in batches)
    assert len([t for t, key in single if key]) == 2 * per_year.count(1)
    assert max(per_year) > 1
    status = _status(instance)
    assert set(status) == set(partitioned) and all(current for _, current in status.values())
    assert status[_key(store, SHENZHEN_JUSTICE)] == ("FAILED", True)
    # each year's asset record follows its own last page (a batch spanning years is split per asset)
    years = {s.key for s in shards if instance.get_materialized_partitions(s.key)}
    assert len(years) >= 3
    for rec in instance.get_asset_records(list(years)):
        last = rec.asset_entry.last_materialization_record
        assert last is not None and last.partition_key in partitioned and last.asset_key == rec.asset_entry.asset_key
    # each verdict targets the latest page of its report
    key = _key(store, SHENZHEN_JUSTICE)
    page = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=dg.AssetKey("report_verdicts_2023"), asset_partitions=[key]), limit=1).records[0]
    check = dg.AssetCheckKey(dg.AssetKey("report_verdicts_2023"), VERDICT)
    info = [i for i in storage.get_asset_check_partition_info([check]) if i.partition_key == key][0]
    assert info.latest_target_materialization_storage_id == page.storage_id
    assert "FAILS" in _latest_page(instance, store, key).metadata["verdict"].value
    # a changed file is re-published in the next run (a new key: its content changed), current at once
    (tmp_path / "drop" / SHENZHEN_JUSTICE).write_bytes((FIXTURES / SHENZHEN_JUSTICE).read_bytes() + b"\n")
    assert job.execute_in_process(instance=instance, resources={"govreport": store}).success
    now = _partitions(instance)
    assert len(now) == 5 and _key(store, SHENZHEN_JUSTICE) in now and key not in now
    status = _status(instance)
    assert all(status[k][1] for k in now) and status[_key(store, SHENZHEN_JUSTICE)] == ("FAILED", True)
    instance.dispose()


def test_a_bulk_publish_refreshes_the_planner_statistics(pg_home, tmp_path, monkeypatch):
    """Right after many verdicts are written in batches, the event tables are ANALYZEd in the same
    run (assets/event_log.py, point 3): without it PostgreSQL planned the check pages'
    query for one row until autovacuum caught up, and the pass/fail page took 9 s after a
    10,000-report ingest. A small publish leaves that to autovacuum."""
    import sqlalchemy as db

    from assets import verdicts
    from assets.definitions import defs
    from tests.test_dagster import FIXTURES, SHENZHEN_JUSTICE

    store, instance = _store_on_postgres(tmp_path, pg_home, ["000_9fd4f163df564d66.txt", "003_b373f949265f094e.txt", SHENZHEN_JUSTICE])
    storage = instance.event_log_storage

    def last_analyze() -> dict:
        with storage.index_connection() as conn:
            return dict(conn.execute(db.text("SELECT relname, last_analyze FROM pg_stat_user_tables "
                                             "WHERE relname IN ('event_logs', 'asset_check_executions')")).fetchall())

    job = defs.resolve_job_def("ingest_drop_folder")
    before = last_analyze()
    assert len(before) == 2 and verdicts.ANALYZE_AFTER > 3
    assert job.execute_in_process(instance=instance, resources={"govreport": store}).success
    assert last_analyze() == before  # three verdicts: below the threshold
    monkeypatch.setattr(verdicts, "ANALYZE_AFTER", 1)
    (tmp_path / "drop" / SHENZHEN_JUSTICE).write_bytes((FIXTURES / SHENZHEN_JUSTICE).read_bytes() + b"\n")
    result = job.execute_in_process(instance=instance, resources={"govreport": store})
    assert result.success
    after = last_analyze()
    assert all(after[t] is not None and (before[t] is None or after[t] > before[t]) for t in before), (before, after)
    logs = [e.message for e in instance.all_logs(result.run_id) if e.message and "verdicts of" in e.message]
    assert logs and "statistics" in logs[-1]
    instance.dispose()


def test_check_state_built_in_one_pass_is_dagsters(pg_home):
    """The check's state our storage builds in one pass (assets/event_log.py, point 4) is
    the one Dagster's own incremental build gives: passed, failed, a verdict made stale by a newer
    page, a report whose partition was deleted, reports never judged."""
    import dagster as dg
    from dagster._core.definitions.asset_checks.asset_check_evaluation import AssetCheckEvaluationTargetMaterializationData
    from dagster._core.definitions.partitions.context import partition_loading_context
    from dagster._core.storage.asset_check_state import AssetCheckState, bulk_update_asset_check_state

    instance = dg.DagsterInstance.from_config(str(pg_home))
    storage = instance.event_log_storage
    pdef = dg.DynamicPartitionsDefinition(name="state_test")
    asset, check = dg.AssetKey("state_test_asset"), dg.AssetCheckKey(dg.AssetKey("state_test_asset"), "verdict")
    keys = [f"2023·机关{i}·{i:08x}" for i in range(30)]
    instance.add_dynamic_partitions(pdef.name, keys)

    def page(k):
        instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=asset, partition=k))

    def verdict(k, passed):
        rec = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=asset, asset_partitions=[k]), limit=1).records[0]
        target = AssetCheckEvaluationTargetMaterializationData(storage_id=rec.storage_id, run_id=rec.run_id, timestamp=rec.timestamp)
        instance.report_runless_asset_event(dg.AssetCheckEvaluation(asset_key=asset, check_name="verdict", passed=passed, partition=k,
                                                                    target_materialization_data=target))

    for i, k in enumerate(keys[:26]):
        page(k)
        verdict(k, passed=i < 10)
    for k in keys[20:25]:
        page(k)  # a newer page: its verdict is stale
    instance.delete_dynamic_partition(pdef.name, keys[25])

    ours = storage.get_asset_check_state([(check, pdef)])[check]
    with partition_loading_context(dynamic_partitions_store=instance):  # as the webserver calls it
        dagsters = bulk_update_asset_check_state(instance, [(check, pdef)], {check: AssetCheckState.empty()})[check]

    def by_status(state):
        return {s.value: sorted(sub.value.get_partition_keys()) for s, sub in state.subsets.items() if not sub.is_empty}

    assert by_status(ours) == by_status(dagsters)
    assert by_status(ours) == {"SUCCEEDED": sorted(keys[:10]), "FAILED": sorted(keys[10:20])}
    assert ours.latest_storage_id == dagsters.latest_storage_id > 0 and ours.in_progress_runs == dagsters.in_progress_runs == {}
    instance.dispose()
