"""The one wiring file: assets, checks, sensor, schedule, resources."""

import dagster as dg

from .reports import report_tables
from .resources import GovReportStore
from .sensors import daily_drop_folder, drop_folder_sensor

defs = dg.Definitions(
    assets=[report_tables],
    sensors=[drop_folder_sensor],
    schedules=[daily_drop_folder],
    resources={"govreport": GovReportStore()},
)
