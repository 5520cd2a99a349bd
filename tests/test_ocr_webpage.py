"""Saved web pages whose tables are pictures beside the page (read/webpage.py): the pictures
are read inside the drop folder only, OCR'd in place, and the page's tables extracted from
them. One real ingest; the engine reads four table pictures at 150 dpi (≈ 6 s)."""

from __future__ import annotations

import random

import duckdb
import pytest

from pipeline.devtools import degrade
from pipeline.devtools.render import generate_document
from pipeline.read.ocr_grid import binarize, find_tables, remove_seal
from pipeline.read.webpage import image_refs, local_path
from pipeline.store.ingest import run_ingest


def test_only_plain_relative_references_inside_the_folder_are_followed():
    assert local_path("a/page.html", "page_files/t1.png") == "a/page_files/t1.png"
    assert local_path("page.html", "./page_files/%E8%A1%A8.png") == "page_files/表.png"
    for src in ("http://example.com/t.png", "https://x/t.png", "//x/t.png", "data:image/png;base64,AAAA",
                "file:///etc/passwd", "/etc/passwd", "../outside.png", "page_files/../../outside.png", "C:/x.png"):
        assert local_path("page.html", src) is None, src
    html = b'<img src="a.png"><IMG alt=x SRC=\'b.png\'><img src=http://x/c.png><img src="a.png">'
    assert image_refs(html) == ["a.png", "b.png"]


@pytest.fixture(scope="module")
def saved_page(tmp_path_factory):
    """A generated report saved as a page whose four tables are pictures in report_files/."""
    rng = random.Random(1)
    g = generate_document(rng, 0, "pdf", "2021")
    pages = degrade.render_pages(g.data, 150)
    crops = [p[y0:y1, x0:x1] for p in pages for (x0, y0, x1, y1), *_ in find_tables(binarize(remove_seal(p)))]
    assert len(crops) == 4  # active disclosure; applications in two parts; review
    root = tmp_path_factory.mktemp("saved")
    drop = root / "drop"
    (drop / "report_files").mkdir(parents=True)
    for i, c in enumerate(crops):
        (drop / "report_files" / f"t{i}.png").write_bytes(degrade.to_image(c, "PNG"))
    (root / "outside.png").write_bytes(degrade.to_image(crops[0], "PNG"))
    img = lambda i: f'<p><img src="report_files/t{i}.png" alt="表格"></p>'  # noqa: E731
    html = f"""<html><head><meta charset="utf-8"><title>{g.organ}</title></head><body>
<h1>{g.organ}{g.year}年政府信息公开工作年度报告</h1>
<p>一、总体情况</p><p>本机关坚持以公开为常态、不公开为例外。</p>
<p>二、主动公开政府信息情况</p>{img(0)}<img src="../outside.png"><img src="http://example.com/t.png">
<p>三、收到和处理政府信息公开申请情况</p>{img(1)}{img(2)}
<p>四、政府信息公开行政复议、行政诉讼情况</p>{img(3)}
<p>五、存在的主要问题及改进情况</p><p>无。</p><p>六、其他需要报告的事项</p><p>无。</p></body></html>"""
    (drop / "report.html").write_text(html, encoding="utf-8")
    db = root / "store.duckdb"
    run_ingest(drop, db, workers=1)
    return g, db


def test_a_saved_page_with_pictured_tables_is_read_from_its_pictures(saved_page):
    g, db = saved_page
    con = duckdb.connect(str(db), read_only=True)
    report = con.execute("SELECT organ, year, form, status FROM reports").fetchall()
    assert report == [(g.organ, g.year, g.form, "extracted")]
    cells = {(t, r, c): (v, how) for t, r, c, v, how in con.execute("SELECT table_name, row_key, column_key, value, how FROM report_cells").fetchall()}
    wrong = [(k, v, cells[k]) for k, v in g.truth.items() if cells[k][0] != v]
    assert not wrong, wrong
    assert all(how.startswith("ocr") for (t, _, _), (_, how) in cells.items() if t == "applications")
    refused = con.execute("SELECT source_path, kind FROM refused_entries").fetchall()
    assert refused == [("report_files", "page_assets")]  # the pictures are not reports of their own
    encoding = con.execute("SELECT encoding FROM documents").fetchone()[0]
    assert "4 picture(s) OCR'd" in encoding


def test_a_failing_check_on_a_scan_shows_the_cells_cut_from_the_page(tmp_path):
    """A scanned report whose printed total is off by one (the source is wrong, OCR is sure):
    the identity fails, and the findings markdown carries the picture of each cell it names."""
    import base64
    import re

    from assets.findings import findings_md, read_findings
    from pipeline.devtools.render import document, render_pdf
    from pipeline.form import FORM_2021

    rng = random.Random(5)
    g = generate_document(rng, 0, "pdf", "2021")
    truth = dict(g.truth)
    truth[("applications", "new_received", "total")] += 1  # printed wrong
    doc = document(FORM_2021, truth, g.organ, g.year, set(), filler=0)
    pages = degrade.render_pages(render_pdf(doc), 150)[:1]  # the applications table starts on page 1
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "scan.png").write_bytes(degrade.to_image(pages[0], "PNG"))
    db = tmp_path / "s.duckdb"
    run_ingest(drop, db, workers=1)
    rid = duckdb.connect(str(db), read_only=True).execute("SELECT report_id FROM reports").fetchone()[0]
    f = read_findings(str(db), [rid], str(drop))[rid]
    md = findings_md(f, f.checks)
    failing = [c["check_name"] for c in f.failing()]
    assert any(n.startswith("applications_") for n in failing), failing
    pictures = re.findall(r"!\[([\w.]+)\]\(data:image/png;base64,([A-Za-z0-9+/=]+)\)", md)
    assert ("new_received.total" in {name for name, _ in pictures})
    assert all(base64.b64decode(b64).startswith(b"\x89PNG") for _, b64 in pictures)
    assert "without" not in md
    names = [name for name, _ in pictures]
    assert len(names) == len(set(names)), names  # a cell two checks name is pictured once
