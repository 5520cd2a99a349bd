"""A province's store cut by year and city (GOVREPORT_VERDICT_REGIONS=广东省, assets/shards.py),
in a real browser: the store-wide verdict's by_year table names each city's asset and links it
to that city's failing reports, and the list holds that city's reports only. Part of `make ui-test`."""

from __future__ import annotations

import pytest

from tests_ui.test_browser import SHOTS, _dismiss_dialogs, _open, follow_failing_reports_link, page, running_ui  # noqa: F401 - `page` is a fixture


@pytest.fixture(scope="module")
def dagster_ui(tmp_path_factory):
    with running_ui(tmp_path_factory.mktemp("ui_regions"), {"GOVREPORT_VERDICT_REGIONS": "广东省"}) as ui:
        yield ui


def test_a_province_cut_by_city_links_each_city_year_to_its_failing_reports(dagster_ui, page):
    _open(page, dagster_ui["base"], "/assets/report_verdicts?view=checks", "verdict", "regions_store_verdict")
    _dismiss_dialogs(page, 8000)  # a new browser profile: the first-visit dialog
    page.get_by_text("verdict", exact=True).first.click()
    page.get_by_text("whole store", exact=False).first.wait_for()
    page.get_by_text("[Show Markdown]").first.click()  # by_year
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("report_verdicts_2023/440300 (深圳市)").first.wait_for()
    page.wait_for_timeout(800)  # the dialog fades in
    page.screenshot(path=SHOTS / "08_regions_by_year.png")
    body = follow_failing_reports_link(page, "report_verdicts_2023/440300 (深圳市)", "**/report_verdicts_2023/440300?*status=*")
    assert "440300" in body and "Failed (2)" in body and "Missing (0)" in body, body[:2000]
    assert page.get_by_text("2023·深圳市司", exact=False).filter(visible=True).count() >= 1
    assert "红谷滩" not in body  # 2023's failing report of another province: on report_verdicts_2023/other
    page.screenshot(path=SHOTS / "08b_regions_failing_reports_of_a_city.png")
