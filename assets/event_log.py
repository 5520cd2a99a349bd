"""Dagster's event log at a province's scale: four changes to its storage, for SQLite and PostgreSQL.

1. **Partition membership from one query.** Dagster 1.13 rebuilds a partitioned check's state
   (the check's Partitions tab: each report's Passed / Failed) by asking `has_dynamic_partition`
   once per partition: two statements each on PostgreSQL (a table-existence check and the
   lookup), 13.5 s for a year of 1,686 reports here; on SQLite a new engine and connection per
   call (with Dagster's SQLite storage the pass/fail page of a year of 1,989 reports took 57 s,
   with this one 4.5 s, points 1 and 4 together). The fix belongs in Dagster
   (docs/dagster-batched-check-partition-lookup.md); until it is released, this storage reads a
   partitions definition's keys once and answers membership from that set for `CACHE_SECONDS`.
   A key added or deleted by this process is seen at once (its own cache is dropped); one added
   by another process (a run, seen from the webserver) within `CACHE_SECONDS`.
2. **Verdicts written in batches.** Dagster 1.13 writes event batches
   (`store_event_batch`, switched on by `DAGSTER_EVENT_BATCH_SIZE`) for materializations only, on
   PostgreSQL only (dagster-postgres refuses other events; SQLite writes one event at a time,
   each through new connections and its own commits: about 20 ms an event here). This storage
   writes a batch of one asset's materializations, or of partitioned `AssetCheckEvaluation`s, in
   a few statements (the events, then their tags and the asset's record, or one upsert of their
   execution rows), and a materialization batch spanning several assets as one batch per asset
   (dagster-postgres updates only the last event's asset record). `assets/verdicts.py` sends each
   report's materialization and verdict evaluation with batch metadata when the storage says it
   can (`writes_verdict_batches`); importing this module sets `DAGSTER_EVENT_BATCH_SIZE`
   (`BATCH_SIZE`, unless already set) in every process that loads this storage. What a verdict
   evaluation targets (each partition's latest materialization) is read from the event log's
   columns (`latest_materialization_targets`), without deserializing every report's page.
3. **Planner statistics right after a bulk publish** (`analyze_event_tables`). A batched publish
   fills `event_logs` and `asset_check_executions` with thousands of rows in seconds; until
   autovacuum's next ANALYZE (up to a minute later, or more on a busy server) PostgreSQL plans
   the check-state query (`get_asset_check_partition_info`, behind the check's Partitions tab)
   for one row per asset and runs it as a nested loop over every partition: 1.5 s instead of
   0.02 s for a year of 1,686 reports, run several times per page (the pass/fail page took
   9 s right after a 10,000-report ingest). One-by-one writes took long enough for autovacuum to
   keep up. `assets/verdicts.py` calls this after publishing many verdicts; ANALYZE samples a
   bounded number of rows (0.2 s here at 20,000 events).
4. **A check's state built in one pass** (`get_asset_check_state`). Dagster 1.13 builds a
   partitioned check's state (Passed / Failed per partition, behind the check's pages) by adding
   each partition to a new copy of its status set, one partition at a time: quadratic, about 0.1 s
   per build for a year of 1,686 reports, and the pass/fail page builds it three times. This
   storage groups the partitions by status first and builds each set once, with Dagster's own
   rules (a partition counts while it is in the definition, `is_current`, and
   `_process_run_statuses` for runs that ended); a check of another kind goes through Dagster's code.

`ProvinceScaleEventLog` holds the four; `ProvinceScaleSqliteEventLogStorage` (here) and
`PartitionSetPostgresEventLogStorage` (assets/instance_storage.py, which needs dagster-postgres)
put it on Dagster's own storages. Custom storage classes are a documented extension point (named
in dagster.yaml: examples/dagster-sqlite.yaml, examples/dagster-postgres.yaml); Dagster itself is
not modified, and what is written is what Dagster's own storage writes.
"""

from __future__ import annotations

import os
import threading
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import timezone
from pathlib import Path
from typing import Any

import sqlalchemy as db
from dagster import StringSource
from dagster._core.asset_graph_view.serializable_entity_subset import SerializableEntitySubset
from dagster._core.definitions.partitions.definition import DynamicPartitionsDefinition
from dagster._core.events import DagsterEventType
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus, AssetCheckExecutionResolvedStatus
from dagster._core.storage.asset_check_state import AssetCheckState, _process_run_statuses
from dagster._core.storage.dagster_run import FINISHED_STATUSES, RunsFilter
from dagster._core.storage.event_log import SqliteEventLogStorage
from dagster._core.storage.event_log.schema import AssetCheckExecutionsTable, DynamicPartitionsTable, SqlEventLogStorageTable
from sqlalchemy.dialects import sqlite

CACHE_SECONDS = 2.0
IN_CHUNK = 500  # values per IN (...) list: SQLite's bound-variable limit
BATCH_SIZE = "1000"
os.environ.setdefault("DAGSTER_EVENT_BATCH_SIZE", BATCH_SIZE)

_MAT = DagsterEventType.ASSET_MATERIALIZATION
_CHECK = DagsterEventType.ASSET_CHECK_EVALUATION
EXECUTION_COLUMNS = ("asset_key", "check_name", "run_id", "partition", "execution_status", "evaluation_event",
                     "evaluation_event_timestamp", "evaluation_event_storage_id", "materialization_event_storage_id")
EXECUTION_KEY = ("asset_key", "check_name", "run_id", "partition")  # idx_asset_check_executions_unique


class ProvinceScaleEventLog:
    """Mixed in before a `SqlEventLogStorage`: a short-lived set of each dynamic partitions
    definition's keys, batched verdict events, a check's state in one pass."""

    writes_verdict_batches = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._partition_sets: dict[str, tuple[float, frozenset[str]]] = {}
        self._partition_lock = threading.Lock()

    # -- 1. partition membership -------------------------------------------------------------
    def _keys(self, partitions_def_name: str) -> frozenset[str]:
        now = time.monotonic()
        with self._partition_lock:
            hit = self._partition_sets.get(partitions_def_name)
            if hit and now - hit[0] < CACHE_SECONDS:
                return hit[1]
        keys = frozenset(self.get_dynamic_partitions(partitions_def_name))
        with self._partition_lock:
            self._partition_sets[partitions_def_name] = (now, keys)
        return keys

    def _forget(self, partitions_def_name: str) -> None:
        with self._partition_lock:
            self._partition_sets.pop(partitions_def_name, None)

    def dynamic_partitions_of(self, names: Sequence[str]) -> dict[str, list[str]]:
        """The keys of many dynamic partitions definitions in one query (each in insertion order,
        as `get_dynamic_partitions` gives them): the run's partition sync asks for every verdict
        asset's, 169–300 of them in a store cut by region, one query and connection each otherwise."""
        out: dict[str, list[str]] = {n: [] for n in names}
        if not names:
            return out
        self._check_partitions_table()
        query = (db.select(DynamicPartitionsTable.c.partitions_def_name, DynamicPartitionsTable.c.partition)
                 .where(DynamicPartitionsTable.c.partitions_def_name.in_(list(names)))
                 .order_by(DynamicPartitionsTable.c.id))
        with self.index_connection() as conn:
            for name, key in conn.execute(query).fetchall():
                out[name].append(key)
        return out

    def has_dynamic_partition(self, partitions_def_name: str, partition_key: str) -> bool:
        return partition_key in self._keys(partitions_def_name)

    def add_dynamic_partitions(self, partitions_def_name: str, partition_keys: Sequence[str]) -> None:
        self._forget(partitions_def_name)
        super().add_dynamic_partitions(partitions_def_name, partition_keys)
        self._forget(partitions_def_name)

    def delete_dynamic_partition(self, partitions_def_name: str, partition_key: str) -> None:
        self._forget(partitions_def_name)
        super().delete_dynamic_partition(partitions_def_name, partition_key)
        self._forget(partitions_def_name)

    # -- 4. a check's state in one pass ------------------------------------------------------
    def get_asset_check_state(self, keys):
        def ours(p) -> bool:  # a named dynamic definition: membership is our key set
            return isinstance(p, DynamicPartitionsDefinition) and bool(p.name)

        fast = [(k, p) for k, p in keys if ours(p)]
        rest = [(k, p) for k, p in keys if not ours(p)]
        out = dict(super().get_asset_check_state(rest)) if rest else {}
        if fast:
            infos = self.get_asset_check_partition_info([k for k, _ in fast])
            by_key = defaultdict(list)
            for info in infos:
                by_key[info.check_key].append(info)
            planned = {i.latest_planned_run_id for i in infos if i.latest_execution_status == AssetCheckExecutionRecordStatus.PLANNED}
            ended = {r.run_id: r.status for r in self._instance.get_runs(filters=RunsFilter(run_ids=list(planned), statuses=FINISHED_STATUSES))} if planned else {}
            for key, partitions_def in fast:
                out[key] = check_state(key, partitions_def, self._keys(partitions_def.name), by_key[key], ended)
        return out

    # -- 2. batched writes -------------------------------------------------------------------
    def store_event_batch(self, events: Sequence) -> None:
        types = {e.get_dagster_event().event_type for e in events}
        if types == {_MAT}:
            start = 0
            for i in range(1, len(events) + 1):  # one batch per asset: each asset's record follows its last event
                if i == len(events) or events[i].get_dagster_event().asset_key != events[start].get_dagster_event().asset_key:
                    self._store_materialization_batch(events[start:i])
                    start = i
            return
        if types == {_CHECK} and self._check_batch_ok(events):
            self._store_check_evaluation_batch(events)
            return
        for e in events:  # anything else, one by one, as Dagster writes it
            self.store_event(e)

    @staticmethod
    def _check_batch_ok(events: Sequence) -> bool:
        """Only run-scoped, partitioned evaluations, at most one per (check, partition): what one
        upsert can take."""
        seen = set()
        for e in events:
            ev = e.get_dagster_event().event_specific_data
            k = (ev.asset_key, ev.check_name, ev.partition)
            if not e.run_id or ev.partition is None or k in seen:
                return False
            seen.add(k)
        return True

    def _insert_events(self, event_rows: list[dict]) -> list[int]:
        """Insert event-log rows into the index; their storage ids in the rows' order. An
        executemany with RETURNING: SQLAlchemy sends the rows in a few multi-row statements, each
        compiled once (dagster-postgres builds one statement with a bound parameter per value)."""
        insert = SqlEventLogStorageTable.insert().returning(SqlEventLogStorageTable.c.id, sort_by_parameter_order=True)
        with self.index_connection() as conn:
            return [int(r[0]) for r in conn.execute(insert, event_rows).fetchall()]

    def _store_materialization_batch(self, events: Sequence) -> None:
        """Dagster's `store_event` for one asset's materializations, at once: the events, their
        tags, and the asset's record from the last of them."""
        ids = self._insert_events([self._event_to_row(e) for e in events])
        with self.index_transaction() as conn:
            self._store_asset_event_tags(conn, events, ids)
            self._store_asset_event(conn, events[-1], ids[-1])

    def _store_check_evaluation_batch(self, events: Sequence) -> None:
        """Dagster's `store_event` for partitioned check evaluations, at once: the events, then
        each one's execution row (the planned row of its run and partition updated, or a new one)."""
        event_rows = [self._event_to_row(e) for e in events]
        ids = self._insert_events(event_rows)
        rows = []
        for event, event_row, event_id in zip(events, event_rows, ids, strict=True):
            ev = event.get_dagster_event().event_specific_data
            rows.append(dict(
                asset_key=ev.asset_key.to_string(), check_name=ev.check_name, run_id=event.run_id, partition=ev.partition,
                execution_status=(AssetCheckExecutionRecordStatus.SUCCEEDED if ev.passed else AssetCheckExecutionRecordStatus.FAILED).value,
                evaluation_event=event_row["event"], evaluation_event_timestamp=self._event_insert_timestamp(event),
                evaluation_event_storage_id=event_id,
                materialization_event_storage_id=ev.target_materialization_data.storage_id if ev.target_materialization_data else None))
        self._upsert_executions(rows)

    def _upsert_executions(self, rows: list[dict]) -> None:
        raise NotImplementedError  # the storage's own dialect

    # -- 3. statistics -----------------------------------------------------------------------
    def analyze_event_tables(self) -> None:
        """Refresh the planner's statistics of the tables a bulk publish fills (point 3 above). On
        PostgreSQL a role that may not analyze them (owner of neither them nor the database) gets a
        warning, which skips them, not an error (documented; not exercised in the tests)."""
        with self.index_connection() as conn:
            for table in (SqlEventLogStorageTable.name, AssetCheckExecutionsTable.name):
                conn.execute(db.text(f"ANALYZE {table}"))

    def latest_materialization_targets(self, asset_key, partitions: Sequence[str]) -> dict[str, tuple[int, str, float]]:
        """(storage id, run id, timestamp) of each partition's latest materialization, read from
        the event log's columns (no event is deserialized): what a check evaluation targets."""
        t = SqlEventLogStorageTable
        out: dict[str, tuple[int, str, float]] = {}
        for i in range(0, len(partitions), IN_CHUNK):
            latest = (db.select(t.c.partition, db.func.max(t.c.id).label("id"))
                      .where(t.c.asset_key == asset_key.to_string(), t.c.dagster_event_type == _MAT.value,
                             t.c.partition.in_(partitions[i: i + IN_CHUNK]))
                      .group_by(t.c.partition).subquery())
            query = db.select(t.c.partition, t.c.id, t.c.run_id, t.c.timestamp).join(latest, t.c.id == latest.c.id)
            with self.index_connection() as conn:
                for partition, event_id, run_id, ts in conn.execute(query).fetchall():
                    out[partition] = (int(event_id), run_id, ts.replace(tzinfo=timezone.utc).timestamp())
        return out


class ProvinceScaleSqliteEventLogStorage(ProvinceScaleEventLog, SqliteEventLogStorage):
    """Dagster's SQLite event log (the embedded default of `make ui`) with the changes above.
    SQLite keeps a run's events in the run's own file and mirrors asset and check events in the
    index file; a batch goes to each in one transaction."""

    @classmethod
    def config_type(cls) -> Any:
        return {"base_dir": StringSource}  # $DAGSTER_HOME/history/runs, where Dagster's own SQLite event log lives

    @classmethod
    def from_config_value(cls, inst_data, config_value: Mapping[str, Any]) -> ProvinceScaleSqliteEventLogStorage:
        return cls(base_dir=config_value["base_dir"], inst_data=inst_data)

    def _insert_events(self, event_rows: list[dict]) -> list[int]:
        run_ids = {r["run_id"] for r in event_rows}
        for run_id in run_ids:  # the run's own file: every event of the run, as `store_event` writes it
            with self.run_connection(run_id) as conn:
                conn.execute(SqlEventLogStorageTable.insert(), [r for r in event_rows if r["run_id"] == run_id])
        return super()._insert_events(event_rows)

    def _upsert_executions(self, rows: list[dict]) -> None:
        insert = sqlite.insert(AssetCheckExecutionsTable)
        upsert = insert.on_conflict_do_update(index_elements=[AssetCheckExecutionsTable.c[c] for c in EXECUTION_KEY],
                                              set_={c: insert.excluded[c] for c in EXECUTION_COLUMNS if c not in EXECUTION_KEY})
        with self.index_connection() as conn:
            conn.execute(upsert, rows)  # one statement, executed per row inside one transaction


_RESOLVED = {AssetCheckExecutionRecordStatus.SUCCEEDED: AssetCheckExecutionResolvedStatus.SUCCEEDED,
             AssetCheckExecutionRecordStatus.FAILED: AssetCheckExecutionResolvedStatus.FAILED}


def check_state(key, partitions_def, members: frozenset[str], infos: Sequence, ended_runs: Mapping) -> AssetCheckState:
    """A check's state over a dynamic partitions definition whose keys are `members`, from its
    partitions' latest executions (one each), as Dagster's `AssetCheckState.empty().with_updates(...)`
    builds it (`_valid_partition_key` is membership), each status set built once."""
    keys_by_status: dict = defaultdict(list)
    planned: dict[str, list[str]] = defaultdict(list)
    for info in infos:
        pk = info.partition_key
        if pk not in members:
            continue
        if info.latest_execution_status == AssetCheckExecutionRecordStatus.PLANNED:
            keys_by_status[AssetCheckExecutionResolvedStatus.IN_PROGRESS].append(pk)
            planned[info.latest_planned_run_id].append(pk)
        elif info.latest_execution_status in _RESOLVED and info.is_current:
            keys_by_status[_RESOLVED[info.latest_execution_status]].append(pk)
    subsets = {status: SerializableEntitySubset(key=key, value=partitions_def.subset_with_partition_keys(keys_by_status.get(status, ())))
               for status in AssetCheckExecutionResolvedStatus}
    in_progress = {run: SerializableEntitySubset(key=key, value=partitions_def.subset_with_partition_keys(pks)) for run, pks in planned.items()}
    subsets, in_progress = _process_run_statuses(key, partitions_def, subsets, in_progress, ended_runs)
    latest = max((max(i.latest_check_event_storage_id, i.latest_materialization_storage_id or 0) for i in infos), default=0)
    return AssetCheckState(latest_storage_id=latest, subsets=subsets, in_progress_runs=in_progress)


SQLITE_YAML = Path(__file__).resolve().parent.parent / "examples" / "dagster-sqlite.yaml"


def sqlite_instance_yaml(home: Path) -> str:
    """examples/dagster-sqlite.yaml for the instance in `home`: its event log where Dagster's own
    SQLite storage keeps it (an absolute path: the storage must not depend on where it is run from)."""
    return SQLITE_YAML.read_text(encoding="utf-8").replace("/path/to/dagster_home", str(Path(home).resolve()))


if __name__ == "__main__":  # `make ui`: python -m assets.event_log DAGSTER_HOME writes its dagster.yaml when it has none
    import sys

    target = Path(sys.argv[1]) / "dagster.yaml"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(sqlite_instance_yaml(target.parent), encoding="utf-8")
