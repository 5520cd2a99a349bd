"""The SQLite event log of `make ui` (assets/event_log.py, examples/dagster-sqlite.yaml) against
Dagster's own: the same ingest job, run twice, reads back the same — partitions, each report's
verdict and its target, each year's asset record, the check's state per status, the run's own
event log — while the verdicts go in as batches, not one event at a time."""

import shutil

import dagster as dg
from dagster._core.definitions.partitions.context import partition_loading_context
from dagster._core.events import DagsterEventType

from assets.definitions import defs
from assets.event_log import ProvinceScaleSqliteEventLogStorage, sqlite_instance_yaml
from assets.resources import GovReportStore
from assets.shards import current_layout
from assets.verdicts import VERDICT
from tests.test_dagster import FIXTURES, SHENZHEN_JUSTICE, _key, _latest_page, _partitions, _status

NAMES = ["000_9fd4f163df564d66.txt", "003_b373f949265f094e.txt", SHENZHEN_JUSTICE, "shanghai_office_2019.html", "pingtan_2017.txt"]


def _instance(root, ours: bool):
    home = root / "home"
    home.mkdir(parents=True)
    (home / "dagster.yaml").write_text(sqlite_instance_yaml(home) if ours else "telemetry:\n  enabled: false\n")
    return dg.DagsterInstance.from_config(str(home))


def _what_a_reviewer_reads(instance, store) -> dict:
    partitions = _partitions(instance)
    pages = {k: (p.description, p.metadata["verdict"].value) for k in partitions for p in [_latest_page(instance, store, k)]}
    shards = current_layout().shards
    infos = instance.event_log_storage.get_asset_check_partition_info([dg.AssetCheckKey(s.key, VERDICT) for s in shards])
    targets_latest = {}
    for i in infos:
        page = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=i.check_key.asset_key, asset_partitions=[i.partition_key]),
                                               limit=1).records[0]
        targets_latest[i.partition_key] = i.latest_target_materialization_storage_id == page.storage_id
    years = {}  # each year's asset record follows its newest page (which report is last varies from run to run)
    for s in shards:
        rec = instance.get_asset_records([s.key])
        last = rec[0].asset_entry.last_materialization_record if rec else None
        newest = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=s.key), limit=1).records
        years[s.name] = last.storage_id == newest[0].storage_id if last else not newest
    states = {}
    for s in shards:
        check = dg.AssetCheckKey(s.key, VERDICT)
        with partition_loading_context(dynamic_partitions_store=instance):  # as the webserver calls it
            state = instance.event_log_storage.get_asset_check_state([(check, current_layout().partitions[s])])[check]
        states[s.name] = {status.value: sorted(subset.value.get_partition_keys()) for status, subset in state.subsets.items() if not subset.is_empty}
    return {"partitions": partitions, "status": _status(instance), "pages": pages, "targets_latest": targets_latest,
            "year_records": years, "check_states": states}


def _run_twice(root, ours: bool):
    drop = root / "drop"
    drop.mkdir(parents=True)
    for n in NAMES:
        shutil.copy(FIXTURES / n, drop / n)
    store = GovReportStore(drop_dir=str(drop), db_path=str(root / "store.duckdb"), waivers_path=str(root / "waivers.csv"))
    instance = _instance(root, ours)
    batches = []
    storage = instance.event_log_storage
    if ours:
        assert isinstance(storage, ProvinceScaleSqliteEventLogStorage)
        orig = storage.store_event_batch
        storage.store_event_batch = lambda es: batches.append([e.dagster_event_type for e in es]) or orig(es)
    job = defs.resolve_job_def("ingest_drop_folder")
    views, logs = [], []
    for changed in (False, True):
        if changed:  # a changed file: a new key, re-published in the next run
            (drop / SHENZHEN_JUSTICE).write_bytes((FIXTURES / SHENZHEN_JUSTICE).read_bytes() + b"\n")
        result = job.execute_in_process(instance=instance, resources={"govreport": store})
        assert result.success
        views.append(_what_a_reviewer_reads(instance, store))
        if ours:  # the partition sync's one query reads what Dagster's one-definition reads do
            names = [s.partitions_name for s in current_layout().shards]
            assert storage.dynamic_partitions_of(names) == {n: list(instance.get_dynamic_partitions(n)) for n in names}
        run_log = [e.dagster_event for e in instance.all_logs(result.run_id) if e.is_dagster_event]
        logs.append(sorted((e.event_type_value, str(e.asset_key), e.partition or getattr(e.event_specific_data, "partition", None) or "")
                           for e in run_log if e.event_type in (DagsterEventType.ASSET_MATERIALIZATION, DagsterEventType.ASSET_CHECK_EVALUATION)))
    key = _key(store, SHENZHEN_JUSTICE)
    instance.dispose()
    return views, logs, batches, key


def test_sqlite_verdicts_in_batches_read_back_as_dagsters_own(tmp_path):
    theirs, their_logs, _, their_key = _run_twice(tmp_path / "dagster", ours=False)
    ours, our_logs, batches, our_key = _run_twice(tmp_path / "ours", ours=True)
    assert our_key == their_key and their_key in theirs[1]["partitions"]
    assert ours == theirs  # every partition, verdict, target, year record and check state
    assert our_logs == their_logs  # the run's own event log (the run page) holds the same events
    assert theirs[1]["status"][their_key] == ("FAILED", True) and all(theirs[1]["targets_latest"].values())
    # the verdicts went in as batches: a year's pages in one, then its verdicts in another
    partitioned = [b for b in batches if set(b) <= {DagsterEventType.ASSET_MATERIALIZATION, DagsterEventType.ASSET_CHECK_EVALUATION} and len(b) > 1]
    assert partitioned and sum(len(b) for b in partitioned) >= 2 * (max(sum(k.startswith("2023") for k in theirs[0]["partitions"]), 2))

