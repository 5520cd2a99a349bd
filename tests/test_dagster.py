"""A real in-process Dagster materialization into a DuckDB file, and the sensor."""

import shutil
from pathlib import Path

import dagster as dg
import duckdb

from assets.definitions import defs
from assets.reports import REPORT_TABLES, report_tables
from assets.resources import GovReportStore
from assets.sensors import drop_folder_sensor

FIXTURES = Path(__file__).parent / "fixtures"


def _drop(tmp_path, names):
    drop = tmp_path / "drop"
    drop.mkdir()
    for n in names:
        shutil.copy(FIXTURES / n, drop / n)
    return drop


def test_definitions_load():
    assert defs.resolve_asset_graph().get_all_asset_keys() == {REPORT_TABLES}
    assert defs.resolve_sensor_def("drop_folder_sensor") and defs.resolve_schedule_def("daily_drop_folder")


def test_sensor_then_materialize_records_checks_per_report(tmp_path):
    drop = _drop(tmp_path, ["000_9fd4f163df564d66.txt", "004_af160c066563daaa.txt", "shanghai_office_2019.html", "hongze_2024.pdf"])
    store = GovReportStore(drop_dir=str(drop), db_path=str(tmp_path / "store.duckdb"))
    instance = dg.DagsterInstance.ephemeral()
    ctx = dg.build_sensor_context(instance=instance, resources={"govreport": store}, definitions=defs)
    result = drop_folder_sensor(ctx)
    keys = list(result.dynamic_partitions_requests[0].partition_keys)
    assert len(keys) == 4 and len(result.run_requests) == 1
    instance.add_dynamic_partitions("reports", keys)

    run = dg.materialize([report_tables], instance=instance, resources={"govreport": store}, tags=result.run_requests[0].tags)
    assert run.success
    evals = [e for e in run.get_asset_check_evaluations() if e.partition]
    by = {(e.partition, e.check_name): e for e in evals}
    con = duckdb.connect(str(tmp_path / "store.duckdb"), read_only=True)
    ids = dict(con.execute("SELECT source_path, report_id FROM reports").fetchall())
    seed004 = ids["004_af160c066563daaa.txt"]
    assert by[(seed004, "tables_complete")].passed is False
    assert by[(seed004, "prose_consistency")].passed is False
    assert "445" in by[(seed004, "prose_consistency")].metadata["details"].value
    assert by[(ids["000_9fd4f163df564d66.txt"], "applications_balance")].passed is True
    assert by[(ids["hongze_2024.pdf"], "document_readable")].passed is False
    # every report has every check in the UI
    from pipeline.checks import CHECK_NAMES
    assert {(k, n) for k in keys for n in CHECK_NAMES} <= set(by)
    assert con.execute("SELECT count(*) FROM check_results WHERE NOT passed").fetchone()[0] == sum(not e.passed for e in evals)

    # the sensor has nothing new on its next tick; a new file is one new partition
    ctx2 = dg.build_sensor_context(instance=instance, resources={"govreport": store}, definitions=defs, cursor=result.cursor)
    assert drop_folder_sensor(ctx2).run_requests == []
    shutil.copy(FIXTURES / "001_a940ca4a84d42417.txt", drop / "new.txt")
    ctx3 = dg.build_sensor_context(instance=instance, resources={"govreport": store}, definitions=defs, cursor=result.cursor)
    third = drop_folder_sensor(ctx3)
    assert len(third.run_requests) == 1 and len(third.dynamic_partitions_requests[0].partition_keys) == 1
