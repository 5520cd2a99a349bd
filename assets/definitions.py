"""The one wiring file: assets, checks, job, sensor, schedule, resources."""

import dagster as dg

from .resources import GovReportStore
from .sensors import daily_drop_folder, drop_folder_sensor, ingest_job
from .store_assets import DROP_FOLDER, WAIVERS_FILE, govreport_store
from .verdicts import YEAR_VERDICTS

defs = dg.Definitions(
    assets=[DROP_FOLDER, WAIVERS_FILE, govreport_store, *YEAR_VERDICTS],
    jobs=[ingest_job],
    sensors=[drop_folder_sensor],
    schedules=[daily_drop_folder],
    resources={"govreport": GovReportStore()},
)
