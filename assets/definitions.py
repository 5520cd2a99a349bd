"""The one wiring file: assets, checks, job, sensor, schedule, resources."""

import dagster as dg

from .resources import GovReportStore
from .sensors import daily_drop_folder, drop_folder_sensor, ingest_job
from .store_assets import DROP_FOLDER, WAIVERS_FILE, govreport_store
from .verdicts import verdict_assets


def build_defs() -> dg.Definitions:
    """The definitions, with the verdict assets GOVREPORT_VERDICT_REGIONS asks for (read now)."""
    return dg.Definitions(
        assets=[DROP_FOLDER, WAIVERS_FILE, govreport_store, *verdict_assets()],
        jobs=[ingest_job],
        sensors=[drop_folder_sensor],
        schedules=[daily_drop_folder],
        resources={"govreport": GovReportStore()},
    )


defs = build_defs()
