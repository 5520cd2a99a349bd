"""Decoding every common encoding, HTML tables, and each normalization repair."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.read.decode import DecodeError, decode_bytes, detect_and_decode, html_to_text
from pipeline.text.normalize import normalize, repair_mojibake_line, strip_pinyin, unify_width

SAMPLE = "深圳市龍崗區2022年政府信息公開工作年度報告，本年新收政府信息公開申請數量552件。"
SIMPLE = "深圳市龙岗区2022年政府信息公开工作年度报告，本年新收政府信息公开申请数量552件。"


@pytest.mark.parametrize("data,encoding", [
    (SIMPLE.encode("utf-8"), "utf-8"),
    (b"\xef\xbb\xbf" + SIMPLE.encode("utf-8"), "utf-8-sig"),
    (b"\xff\xfe" + SIMPLE.encode("utf-16-le"), "utf-16"),
    (b"\xfe\xff" + SIMPLE.encode("utf-16-be"), "utf-16"),
    (SIMPLE.encode("gb18030"), "gb18030"),
    (SAMPLE.encode("big5"), "big5"),
])
def test_encodings(data, encoding):
    text, enc = detect_and_decode(data)
    assert enc == encoding
    assert "2022" in text and ("年度报告" in text or "年度報告" in text)


@pytest.mark.parametrize("data,what", [(b"%PDF-1.7 ...", "PDF"), (b"PK\x03\x04xx", "ZIP"), (b"\x89PNG\r\n", "PNG"), (bytes(range(256)) * 4, "binary")])
def test_binary_is_an_error_not_a_guess(data, what):
    with pytest.raises(DecodeError, match=what):
        detect_and_decode(data)


def test_html_declared_charset_differs():
    html = '<html><head><meta charset="utf-8"></head><body><p>本年新收</p></body></html>'.encode("gb18030")
    d = decode_bytes(html, ".html")
    assert d.is_html and d.encoding == "gb18030 (declared utf-8)"


def test_html_table_rows_spans_and_blanks():
    html = """<table><tr><td rowspan="2">三、本年度办理结果</td><td colspan="2">（一）予以公开</td><td>5</td><td>&nbsp;</td></tr>
              <tr><td>本年新<br/>制作数量</td><td>7</td></tr></table><!--[if !supportLists]--><p>x</p><![endif]--><p>尾</p>"""
    lines = html_to_text(html).split("\n")
    assert lines[0] == "三、本年度办理结果 | （一）予以公开 | 5 | -"
    assert lines[1] == "本年新制作数量 | 7"
    assert lines[-1] == "尾" and "x" not in lines


def test_pinyin_stripped_real_parentheses_kept():
    text, n = strip_pinyin("深圳市龍崗區(qū)政府(以下简称(一))现(xiàn)将")
    assert text == "深圳市龍崗區政府(以下简称(一))现将" and n == 2


@given(st.text(alphabet="政府信息公开(一)（二）abc123 ", max_size=40))
def test_pinyin_never_touches_text_without_tone_marks(s):
    assert strip_pinyin(s)[0] == s


def test_mojibake_heading_repaired():
    fixed, how = repair_mojibake_line(" ?。ㄒ唬┲鲃庸_情況")
    assert fixed == "（一）主动公开情况" and "snapped" in how


def test_width_unified():
    assert unify_width("２０２３年(一)共１２件,见http://a.cn") == "2023年（一）共12件，见http://a.cn"


def test_normalize_seed_002_spam_chrome_mojibake(tmp_path):
    from pathlib import Path
    raw = (Path(__file__).parent / "fixtures" / "002_2e123555749eef60.txt").read_text(encoding="utf-8")
    n = normalize(raw)
    kinds = {r["kind"] for r in n.repairs}
    assert {"spam", "chrome", "mojibake", "pinyin", "t2s"} <= kinds
    assert n.text.startswith("深圳市龙岗区2022年政府信息公开工作年度报告")
    assert "（一）主动公开情况" in n.text and "无码" not in n.text
    assert n.source_script == "traditional"


def test_taiwan_phrase_label_survives():
    from pipeline.extract.meta import read_meta
    from pipeline.extract.tables import extract_tables
    text = "二、主动公开政府信息情况\n第二十条第（一）项\n信息內容\n本年制發件數\n本年廢止件數\n現行有效件數\n規章\n0\n0\n0\n行政規範性檔案\n7\n0\n37\n三、收到和处理政府信息公开申请情况\n"
    n = normalize(text)
    meta = read_meta(n.text)
    _, tables = extract_tables(n.text, meta.sections, "2021")
    cells = {(c.row_key, c.column_key): c.value for c in tables["active_disclosure"].cells}
    assert cells[("normative_documents", "in_force")] == 37


@given(st.text(alphabet="申请\n17件 ", max_size=40))
def test_prose_join_maps_back_to_every_original_character(s):
    from pipeline.extract.prose import join_lines

    joined, original = join_lines(s)
    kept = [i for i, ch in enumerate(s) if ch != "\n"]
    assert [original(j) for j in range(len(joined))] == kept


def test_html_comment_after_closing_html_tag_is_not_a_crash():
    """Regression: a comment after </html> is the root's sibling; lxml's drop_tree asserted
    and the file became 'extraction failed'. Comments anywhere are dropped, the text stays."""
    page = "<html><body><p>甲</p><table><tr><td>a</td><td>1</td></tr></table></body></html>\n<!-- copy 000001 -->\n"
    assert html_to_text(page) == "甲\na | 1"
    assert html_to_text("<!-- before --><html><body><p>乙<!-- in --></p></body></html><!-- after -->") == "乙"


def test_real_page_with_trailing_comment_is_extracted():
    from pathlib import Path

    from pipeline.process import process_bytes

    fixtures = Path(__file__).parent / "fixtures"
    page = next(p for p in sorted(fixtures.iterdir()) if p.suffix == ".html")
    data = page.read_bytes()
    plain = process_bytes(data, page.name)
    commented = process_bytes(data.rstrip() + b"\n<!-- mirrored 2024-05-01 -->\n", page.name)
    assert commented.document["error"] is None
    assert commented.report["status"] == plain.report["status"] != "error"
    assert [c["value"] for c in commented.cells] == [c["value"] for c in plain.cells]
