"""Organ names as real reports print them (issue 17): a title wrapped over two lines with
spaces, the organ only as an abbreviation or without its place, an OCR look-alike of a county.
``organ`` stays as printed; ``organ_key`` is the canonical name where the gazetteer and the
text agree, and the metadata check says how it was reached."""

from __future__ import annotations

import pytest

from pipeline.process import process_bytes

PERIOD = "本年度报告中所列数据统计期限为{y}年1月1日至12月31日。"

CASES = [
    # (text, organ as printed, organ_key, division_code, how contains)
    ("2024 年上海市科委政府信息公开工作\n年度报告\n本报告根据《上海市政府信息公开规定》编制，上海市科学技术委员会。" + PERIOD.format(y=2024),
     "上海市科委", "上海市科学技术委员会", "310000", "科委 → 科学技术委员会"),
    ("市政府办公厅2023年政府信息公开工作年度报告\n根据《上海市政府信息公开规定》，上海市人民政府办公厅编制本报告，在上海市人民政府门户网站公布。" + PERIOD.format(y=2023),
     "市政府办公厅", "上海市人民政府办公室", "310000", "place 上海市 from the text"),
    ("沐阳县人民政府2023年政府信息公开工作年度报告\n" + PERIOD.format(y=2023),
     "沐阳县人民政府", "江苏省宿迁市沭阳县人民政府", "321322", "沐阳县→沭阳县"),
    ("2025 年上海市人民政府办公厅政府信息公开\n工作年度报告\n" + PERIOD.format(y=2025),
     "上海市人民政府办公厅", "上海市人民政府办公室", "310000", None),
]


@pytest.mark.parametrize("text, organ, key, code, how", CASES)
def test_organ_cases(text, organ, key, code, how):
    p = process_bytes(text.encode("utf-8"), "r.txt")
    r = p.report
    assert (r["organ"], r["organ_key"], r["division_code"]) == (organ, key, code)
    message = next(c["message"] for c in p.checks if c["check_name"] == "metadata_complete")
    if how:
        assert how in message
    else:
        assert "organ_key" not in message


def test_no_place_in_the_text_leaves_the_key_as_printed():
    p = process_bytes(("市政府办公厅2023年政府信息公开工作年度报告\n" + PERIOD.format(y=2023)).encode("utf-8"), "r.txt")
    assert (p.report["organ_key"], p.report["division_code"]) == ("市政府办公厅", None)


def test_abbreviation_not_expanded_without_the_full_name_in_the_text():
    p = process_bytes(("上海市科委2024年政府信息公开工作年度报告\n" + PERIOD.format(y=2024)).encode("utf-8"), "r.txt")
    assert p.report["organ_key"] == "上海市科委"
