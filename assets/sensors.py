"""New and changed files in the drop folder become new report partitions and one run each
sensor tick (chunked so that a huge drop plans quickly)."""


import json
from pathlib import Path

import dagster as dg

from pipeline.ingest import hash_file, scan
from pipeline.process import report_id_for

from .reports import report_tables, reports_partitions
from .resources import GovReportStore

MAX_KEYS_PER_RUN = 1000  # wide partition ranges are slow to plan


def new_report_keys(drop_dir: str, cursor: dict[str, list[int]], existing: set[str]) -> tuple[list[str], dict[str, list[int]]]:
    """Report keys for files new or changed since the cursor (path → [size, mtime_ns]),
    hashing only those; keys that are partitions already are not new."""
    entries = scan(Path(drop_dir)) if Path(drop_dir).is_dir() else []
    new_cursor = {}
    keys: list[str] = []
    seen = set(existing)
    for e in entries:
        stamp = [e.size_bytes, e.mtime_ns]
        new_cursor[e.source_path] = stamp
        if cursor.get(e.source_path) == stamp:
            continue
        key = report_id_for(hash_file(Path(drop_dir) / e.source_path))
        if key not in seen:
            keys.append(key)
            seen.add(key)
    return keys, new_cursor


def requests_for(keys: list[str], reason: str) -> list[dg.RunRequest]:
    """One run per contiguous chunk of new keys (dynamic ranges follow insertion order)."""
    out = []
    for i in range(0, len(keys), MAX_KEYS_PER_RUN):
        chunk = keys[i: i + MAX_KEYS_PER_RUN]
        out.append(dg.RunRequest(
            run_key=f"{reason}:{chunk[0]}:{chunk[-1]}:{len(chunk)}",
            tags={"dagster/asset_partition_range_start": chunk[0], "dagster/asset_partition_range_end": chunk[-1]},
        ))
    return out


@dg.sensor(target=[report_tables], minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.STOPPED)
def drop_folder_sensor(context: dg.SensorEvaluationContext, govreport: GovReportStore):
    """Watches the drop folder; new and changed files are added as report partitions and
    materialized together."""
    cursor = json.loads(context.cursor) if context.cursor else {}
    existing = set(context.instance.get_dynamic_partitions(reports_partitions.name))
    keys, new_cursor = new_report_keys(govreport.resolved_drop_dir(), cursor, existing)
    return dg.SensorResult(
        run_requests=requests_for(keys, "sensor"),
        dynamic_partitions_requests=[reports_partitions.build_add_request(keys)] if keys else [],
        cursor=json.dumps(new_cursor),
    )


@dg.schedule(cron_schedule="0 6 * * *", target=[report_tables], default_status=dg.DefaultScheduleStatus.STOPPED)
def daily_drop_folder(context: dg.ScheduleEvaluationContext, govreport: GovReportStore):
    """Daily sweep of the whole drop folder: whatever the sensor has not yet picked up."""
    existing = set(context.instance.get_dynamic_partitions(reports_partitions.name))
    keys, _ = new_report_keys(govreport.resolved_drop_dir(), {}, existing)
    if keys:
        context.instance.add_dynamic_partitions(reports_partitions.name, keys)
    return requests_for(keys, f"daily:{context.scheduled_execution_time:%Y-%m-%d}") or dg.SkipReason("no new reports in the drop folder")
