"""When the drop folder (or the waivers file) changes, run the ingest job.

The sensor only notices change, cheaply (names, sizes and modification times, no reading):
the run reads each new file once, names its report partition from what it found
(`2023·深圳市司法局·eb74ed5b`, pipeline/keys.py) and adds the partition before logging its
verdict. One run takes every pending file, so a burst of drops is one run, not thousands.
"""


import hashlib
from pathlib import Path

import dagster as dg

from pipeline.store.ingest import scan

from .resources import GovReportStore
from .store_assets import govreport_store

ingest_job = dg.define_asset_job(
    "ingest_drop_folder", selection=dg.AssetSelection.assets(govreport_store),
    description="Ingest new and changed files of the drop folder, load the store, publish each report's verdict.")


def folder_state(drop_dir: str, waivers: Path) -> str:
    """A digest of what the folder holds (path, size, mtime of every file) and of the waivers file."""
    h = hashlib.sha256()
    if Path(drop_dir).is_dir():
        for e in scan(Path(drop_dir)):
            h.update(f"{e.source_path}\0{e.size_bytes}\0{e.mtime_ns}\n".encode("utf-8", "surrogateescape"))
    if waivers.is_file():
        st = waivers.stat()
        h.update(f"waivers\0{st.st_size}\0{st.st_mtime_ns}".encode())
    return h.hexdigest()


@dg.sensor(job=ingest_job, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.STOPPED)
def drop_folder_sensor(context: dg.SensorEvaluationContext, govreport: GovReportStore):
    """Requests an ingest run whenever the drop folder or the waivers file changed since the
    last request. Switched off until you turn it on (Automation → drop_folder_sensor)."""
    state = folder_state(govreport.resolved_drop_dir(), govreport.resolved_waivers_path())
    if state == context.cursor:
        return dg.SkipReason("the drop folder has not changed")
    return dg.SensorResult(run_requests=[dg.RunRequest(run_key=f"drop:{state[:16]}")], cursor=state)


@dg.schedule(cron_schedule="0 6 * * *", job=ingest_job, default_status=dg.DefaultScheduleStatus.STOPPED)
def daily_drop_folder(context: dg.ScheduleEvaluationContext):
    """Daily sweep at 06:00: an ingest run whatever the sensor saw (files whose size and time
    did not change are skipped cheaply)."""
    return dg.RunRequest(run_key=f"daily:{context.scheduled_execution_time:%Y-%m-%d}")
