"""The Dagster layer, run for real in process: the ingest job over real reports, readable
partition keys, each report's verdict where a reviewer looks, state that follows the store."""

import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from assets.definitions import defs
from assets.resources import GovReportStore
from assets.sensors import drop_folder_sensor
from assets.shards import bucket_of, current_layout
from assets.verdicts import REPORT_VERDICTS, VERDICT
from pipeline.check.review_groups import REVIEW_GROUPS

FIXTURES = Path(__file__).parent / "fixtures"
SHENZHEN_JUSTICE = "004_af160c066563daaa.txt"  # 深圳市司法局 2023: tables missing, prose does not balance


@pytest.fixture
def env(tmp_path):
    drop = tmp_path / "drop"
    drop.mkdir()
    for n in ["000_9fd4f163df564d66.txt", "003_b373f949265f094e.txt", SHENZHEN_JUSTICE, "shanghai_office_2019.html"]:
        shutil.copy(FIXTURES / n, drop / n)
    store = GovReportStore(drop_dir=str(drop), db_path=str(tmp_path / "data" / "store.duckdb"), waivers_path=str(tmp_path / "waivers.csv"))
    return drop, store, dg.DagsterInstance.ephemeral()


def _run(store, instance):
    result = defs.resolve_job_def("ingest_drop_folder").execute_in_process(instance=instance, resources={"govreport": store})
    assert result.success
    return result


def _status(instance, check=VERDICT):
    """Every report's verdict status, over the per-year verdict assets."""
    infos = instance.event_log_storage.get_asset_check_partition_info([dg.AssetCheckKey(s.key, check) for s in current_layout().shards])
    return {i.partition_key: (i.latest_execution_status.value, i.is_current) for i in infos if i.partition_key is not None}


def _partitions(instance) -> set[str]:
    return {k for s in current_layout().shards for k in instance.get_dynamic_partitions(s.partitions_name)}


def _latest_page(instance, store, key):
    """The report's page: the latest materialization of its partition on its year's asset."""
    con = duckdb.connect(store.db_path, read_only=True)
    year, code = con.execute("SELECT year, division_code FROM reports WHERE partition_key = ?", [key]).fetchone()
    con.close()
    return instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=current_layout().shard_of(year, code).key, asset_partitions=[key]),
                                           limit=1).records[0].asset_materialization


def _store_wide(instance, check=VERDICT):
    """The check's latest evaluation, the one its list shows: the whole store's state."""
    key = dg.AssetCheckKey(REPORT_VERDICTS, check)
    record = instance.event_log_storage.get_latest_asset_check_execution_by_key([key])[key]
    evaluation = record.event.dagster_event.event_specific_data
    assert evaluation.partition is None
    return evaluation


def _key(store, source_path):
    con = duckdb.connect(store.db_path, read_only=True)
    try:
        return con.execute("SELECT partition_key FROM reports WHERE source_path = ?", [source_path]).fetchone()[0]
    finally:
        con.close()


def test_definitions_show_the_pipeline():
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {"raw_documents", "normalized_documents", "extracted_tables", "documents", "reports", "report_cells", "prose_metrics",
            "report_sections", "check_results", "applications_wide", "failing_checks", "review_queue", "report_verdicts"} <= keys
    graph = defs.resolve_asset_graph()
    assert dg.AssetKey("check_results") in graph.get(REPORT_VERDICTS).parent_keys
    assert REPORT_VERDICTS in graph.get(dg.AssetKey("report_verdicts_2023")).parent_keys and dg.AssetKey("report_verdicts_other") in keys_of(graph)
    assert bucket_of(2023) == "2023" and bucket_of(2017) == bucket_of(None) == "other"


def keys_of(graph):
    return set(graph.get_all_asset_keys())
    assert dg.AssetKey("raw_documents") in graph.get(dg.AssetKey("normalized_documents")).parent_keys


def test_each_report_verdict_is_current_and_readable(env):
    drop, store, instance = env
    result = _run(store, instance)
    key = _key(store, SHENZHEN_JUSTICE)
    assert key.startswith("2023·深圳市司法局·")
    partitions = _partitions(instance)
    assert len(partitions) == 4 and key in partitions
    assert key in instance.get_dynamic_partitions("reports_2023")  # its year's asset
    # every report has a current Passed/Failed verdict: 0 missing
    status = _status(instance)
    assert set(status) == partitions
    assert all(current for _, current in status.values())
    assert status[key][0] == "FAILED"
    assert status[_key(store, "000_9fd4f163df564d66.txt")][0] == "FAILED"  # a warning: prose 1,756 vs table 1,754
    con = duckdb.connect(store.db_path, read_only=True)
    clean = con.execute("SELECT partition_key FROM reports WHERE report_id NOT IN (SELECT report_id FROM failing_checks)").fetchall()
    con.close()
    assert clean and all(status[k][0] == "SUCCEEDED" for (k,) in clean)
    # the review groups, store-wide, name the failing reports
    groups = {e.check_name: e for e in result.get_asset_check_evaluations() if e.check_name in REVIEW_GROUPS}
    assert set(groups) == set(REVIEW_GROUPS)
    assert not groups["prose_vs_tables"].passed and key in groups["prose_vs_tables"].metadata["failing_reports"].value
    assert groups["year_to_year"].passed
    # the report's own page: its organ, year, status and findings with the numbers and lines
    meta = _latest_page(instance, store, key).metadata
    assert meta["organ"].value == "深圳市司法局" and meta["year"].value == "2023" and meta["status"].value == "partial"
    assert meta["passed"].value is False
    findings = meta["findings"].value
    assert "prose_consistency" in findings and "445" in findings and "443" in findings and "line" in findings
    # table assets carry row counts and column schemas
    cells = [m for m in result.get_asset_materialization_events() if m.asset_key == dg.AssetKey("report_cells")][0]
    assert cells.materialization.metadata["dagster/row_count"].value > 500
    assert "value" in {c.name for c in cells.materialization.metadata["dagster/column_schema"].value.columns}
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations() if e.partition is None}
    assert checks["no_duplicate_cell_keys"] and checks["every_document_has_report"] and not checks["no_unreviewed_errors"]
    # the store-wide verdict carries numbers, so the UI plots them run by run
    store = [m for m in result.get_asset_materialization_events() if m.asset_key == REPORT_VERDICTS][0].materialization.metadata
    assert store["reports_in_store"].value == 4 and store["reports_to_review"].value >= 1
    assert isinstance(store["reports_warn_only"].value, int) and store["reports_waived"].value == 0
    assert "report_verdicts_2023" in store["by_year"].value


def test_a_later_run_never_hides_a_report_that_still_fails(env):
    drop, store, instance = env
    _run(store, instance)
    key = _key(store, SHENZHEN_JUSTICE)
    shutil.copy(FIXTURES / "002_2e123555749eef60.txt", drop / "new.txt")
    _run(store, instance)
    assert len(_partitions(instance)) == 5
    assert _status(instance)[key] == ("FAILED", True)
    # the check list reads the latest, store-wide result: still failing, naming the report
    _run(store, instance)
    summary = _store_wide(instance)
    assert not summary.passed and key in summary.metadata["review_queue"].value
    # a file leaving the folder takes its partition with it
    (drop / "new.txt").unlink()
    _run(store, instance)
    assert len(_partitions(instance)) == 4


def test_a_waiver_shows_as_waived_and_a_stale_one_is_reported(env):
    drop, store, instance = env
    _run(store, instance)
    key = _key(store, SHENZHEN_JUSTICE)
    from pipeline.store.waivers import add_waiver
    con = duckdb.connect(store.db_path, read_only=True)
    add_waiver(con, store.waivers_path, key, "prose_consistency", "printed so in the source: 2 + 443 ≠ 442 + 1", "reviewer")
    con.close()
    with open(store.waivers_path, "a", encoding="utf-8") as fh:
        fh.write("0000000000000000,tables_complete,an old report,reviewer,2025-01-01,,\n")
    result = _run(store, instance)
    assert _status(instance)[key] == ("FAILED", True)  # tables_complete is not waived
    assert "waived prose_consistency" in _latest_page(instance, store, key).metadata["verdict"].value
    con = duckdb.connect(store.db_path, read_only=True)
    assert con.execute("SELECT waived, waived_by FROM failing_checks WHERE partition_key = ? AND check_name = 'prose_consistency'",
                       [key]).fetchall() == [(True, "reviewer")]
    assert con.execute("SELECT count(*) FROM stale_waivers").fetchone()[0] == 1
    con.close()
    checks = {e.check_name: e for e in result.get_asset_check_evaluations() if e.partition is None}
    assert not checks["no_stale_waivers"].passed
    assert key not in checks["prose_vs_tables"].metadata["failing_reports"].value  # its prose failure is waived


def test_sensor_requests_a_run_only_when_the_folder_changes(env):
    drop, store, instance = env
    ctx = dg.build_sensor_context(instance=instance, resources={"govreport": store}, definitions=defs)
    first = drop_folder_sensor(ctx)
    assert len(first.run_requests) == 1
    again = drop_folder_sensor(dg.build_sensor_context(instance=instance, resources={"govreport": store}, definitions=defs, cursor=first.cursor))
    assert isinstance(again, dg.SkipReason)
    shutil.copy(FIXTURES / "002_2e123555749eef60.txt", drop / "more.txt")
    third = drop_folder_sensor(dg.build_sensor_context(instance=instance, resources={"govreport": store}, definitions=defs, cursor=first.cursor))
    assert len(third.run_requests) == 1


def test_a_year_asset_republishes_a_report_from_the_store(env):
    drop, store, instance = env
    _run(store, instance)
    key = _key(store, SHENZHEN_JUSTICE)
    before = _latest_page(instance, store, key)
    year_asset = next(a for a in defs.assets if isinstance(a, dg.AssetsDefinition) and dg.AssetKey("report_verdicts_2023") in a.keys)
    result = dg.materialize([year_asset], partition_key=key, instance=instance, resources={"govreport": store})
    assert result.success
    assert _latest_page(instance, store, key).metadata["verdict"].value == before.metadata["verdict"].value
    assert _status(instance)[key] == ("FAILED", True)  # the new evaluation targets the new page


def test_a_province_store_is_cut_by_year_and_city(env, monkeypatch):
    """GOVREPORT_VERDICT_REGIONS=广东省: one verdict asset per year and city (assets/shards.py), so
    a check list holds a city's year, not a province's. Switching from per-year assets moves each
    report's verdict to its city's asset, current at once (Missing 0), and the store-wide table
    links each year and city to its failing reports."""
    from assets.definitions import build_defs
    from assets.shards import REGIONS_ENV, parse_regions

    drop, store, instance = env
    _run(store, instance)  # one asset per year first
    key = _key(store, SHENZHEN_JUSTICE)
    assert key in instance.get_dynamic_partitions("reports_2023")
    monkeypatch.setenv(REGIONS_ENV, "广东省")
    layout = current_layout()
    assert ("440300", "深圳市") in layout.regions and ("440000", "广东省") in layout.regions
    province_defs = build_defs()
    shenzhen_2023 = dg.AssetKey(["report_verdicts_2023", "440300"])
    assets = {k for a in province_defs.assets if isinstance(a, dg.AssetsDefinition) for k in a.keys}
    assert shenzhen_2023 in assets and dg.AssetKey("report_verdicts_2023") not in assets
    spec = province_defs.resolve_asset_graph().get(shenzhen_2023)
    assert spec.description.startswith("深圳市") and spec.metadata["region"] == "深圳市 (440300)"
    result = province_defs.resolve_job_def("ingest_drop_folder").execute_in_process(instance=instance, resources={"govreport": store})
    assert result.success
    assert key in instance.get_dynamic_partitions("reports_2023_440300")
    # every report on exactly one asset of the new layout, each with a current verdict
    per_shard = {s: set(instance.get_dynamic_partitions(s.partitions_name)) for s in layout.shards}
    keys = [k for ks in per_shard.values() for k in ks]
    assert len(keys) == len(set(keys)) == 4
    assert {s.region for s, ks in per_shard.items() if ks} >= {"440300", "other"}  # the Shanghai office: outside Guangdong
    status = _status(instance)
    assert set(status) == set(keys) and all(current for _, current in status.values())
    assert status[key] == ("FAILED", True)
    page = _latest_page(instance, store, key)
    assert page.metadata["organ"].value == "深圳市司法局"
    # the store-wide table: per year and city, linked to the failing list (the key's parts URL-encoded)
    by_year = [m for m in result.get_asset_materialization_events() if m.asset_key == REPORT_VERDICTS][0].materialization.metadata["by_year"].value
    assert "report_verdicts_2023/440300 (深圳市)" in by_year
    assert "/assets/report_verdicts_2023/440300?view=checks&checkDetail=verdict&status=EXECUTION_FAILED,FAILED,MISSING" in by_year
    # a name that could be several places is refused with the candidates, not guessed
    with pytest.raises(ValueError, match="320106 江苏省南京市鼓楼区"):
        parse_regions("鼓楼区")
