"""PostgreSQL event log storage that answers "is this key a partition?" from one query.

Dagster 1.13 rebuilds a partitioned check's state (the check's Partitions tab: each report's
Passed / Failed) by asking `has_dynamic_partition` once per partition, two statements each on
PostgreSQL (a table-existence check and the lookup): 13.5 s for a year of 1,686 reports here.
The fix belongs in Dagster (docs/dagster-batched-check-partition-lookup.md); until it is
released, this subclass of dagster-postgres' storage, named in dagster.yaml (a custom storage
class is a documented extension point; Dagster itself is not modified), reads a partitions
definition's keys once and answers membership from that set for `CACHE_SECONDS`.

A key added or deleted by this process is seen at once (its own cache is dropped); one added
by another process (a run, seen from the webserver) within `CACHE_SECONDS`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

from dagster_postgres.event_log import PostgresEventLogStorage
from dagster_postgres.utils import pg_url_from_config

CACHE_SECONDS = 2.0


class PartitionSetPostgresEventLogStorage(PostgresEventLogStorage):
    """`PostgresEventLogStorage` with a short-lived set of each dynamic partitions definition's keys."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._partition_sets: dict[str, tuple[float, frozenset[str]]] = {}
        self._partition_lock = threading.Lock()

    @classmethod
    def from_config_value(cls, inst_data, config_value: Mapping[str, Any]) -> PartitionSetPostgresEventLogStorage:
        from dagster_postgres.utils import get_token_provider_from_config
        return cls(inst_data=inst_data, postgres_url=pg_url_from_config(config_value),
                   should_autocreate_tables=config_value.get("should_autocreate_tables", True),
                   token_provider=get_token_provider_from_config(config_value))

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
