"""A letter or notice filed in a site's annual-report column is classified as not an annual
report, with why — not stored as a legacy report with missing metadata. A pre-2019 report in
prose (no tables, but a title and a statistics period) stays a report."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.process import process_bytes

NOTICE = """关于做好2024年度政府信息公开工作年度报告编制发布工作的通知
各区人民政府，市政府各委、办、局：
为做好政府信息公开工作年度报告编制发布工作，现就有关事项通知如下：
一、高度重视年度报告编制工作。各单位要按照格式要求，认真梳理全年工作。
二、按时发布。各单位须于1月31日前在本单位门户网站发布年度报告。
特此通知。
上海市人民政府办公厅
2025年1月10日
"""
LETTER = """市交通运输局：
你局报送的材料收悉。经研究，同意你局按要求做好相关信息的发布工作，请抓紧落实。
请认真做好答复工作，并将有关情况及时报送我办。
市政府办公室
2024年3月2日
"""


@pytest.mark.parametrize("text, why", [(NOTICE, "a 通知"), (LETTER, "no report title, no statistics period, no tables, addressed to 市交通运输局")])
def test_letters_are_not_reports(text, why):
    p = process_bytes(text.encode("utf-8"), "letter.txt")
    assert p.report["status"] == "not_report"
    assert p.report["form_basis"] == "not an annual report"
    meta = next(c for c in p.checks if c["check_name"] == "metadata_complete")
    assert meta["passed"] and why in meta["message"] and meta["message"].startswith("not an annual report")
    assert not p.cells


def test_a_prose_report_stays_a_report():
    data = (Path(__file__).parent / "fixtures" / "003_b373f949265f094e.txt").read_bytes()
    assert process_bytes(data, "003.txt").report["status"] == "legacy"
