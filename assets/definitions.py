"""The one wiring file: assets, checks, job, sensor, schedule, resources."""

import dagster as dg

from .resources import GovReportStore
from .sensors import daily_drop_folder, drop_folder_sensor, ingest_job
from .shards import VerdictLayout, current_layout
from .store_assets import DROP_FOLDER, WAIVERS_FILE, govreport_store
from .verdicts import verdict_assets


def build_defs(layout: VerdictLayout | None = None) -> dg.Definitions:
    """The definitions, with the verdict assets of `layout` (default: GOVREPORT_VERDICT_REGIONS)."""
    return dg.Definitions(
        assets=[DROP_FOLDER, WAIVERS_FILE, govreport_store, *verdict_assets(layout or current_layout())],
        jobs=[ingest_job],
        sensors=[drop_folder_sensor],
        schedules=[daily_drop_folder],
        resources={"govreport": GovReportStore()},
    )


defs = build_defs()
