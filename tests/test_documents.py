"""Documents users hold: the corpus PDF read cell for cell like its text twin, with pages;
files we cannot read refused with an error that says what to do."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from pipeline.process import process_bytes

FIXTURES = Path(__file__).parent / "fixtures"


def cells(p) -> dict[tuple, object]:
    return {(c["table_name"], c["row_key"], c["column_key"]): (c["value"], c["how"]) for c in p.cells}


@pytest.fixture(scope="module")
def hongze_pdf():
    return process_bytes((FIXTURES / "hongze_2024.pdf").read_bytes(), "hongze_2024.pdf")


def test_corpus_pdf_equals_its_text_twin(hongze_pdf):
    twin = process_bytes((FIXTURES / "hongze_2024_pdftext.txt").read_bytes(), "hongze_2024_pdftext.txt")
    got, want = cells(hongze_pdf), cells(twin)
    assert len(got) == 186 and got == want
    assert all(how == "read" for _, how in got.values())
    assert (hongze_pdf.report["organ"], hongze_pdf.report["year"], hongze_pdf.report["status"]) == ("淮安市洪泽区人民政府", 2024, "extracted")


def test_corpus_pdf_cells_keep_their_page(hongze_pdf):
    page = {(c["table_name"], c["row_key"]): c["page"] for c in hongze_pdf.cells}
    # the applications table starts on page 3 and runs on to page 4; the review table is on page 4
    assert page[("active_disclosure", "regulations")] == 2
    assert page[("active_disclosure", "penalties")] == 3
    assert page[("applications", "new_received")] == 3
    assert page[("applications", "unavailable_not_held")] == 3
    assert page[("applications", "unavailable_needs_creation")] == 4
    assert page[("review_litigation", "litigation_direct")] == 4
    assert all(c["source_line"] for c in hongze_pdf.cells)


def test_text_inputs_have_no_page():
    p = process_bytes((FIXTURES / "hongze_2024_pdftext.txt").read_bytes(), "t.txt")
    assert {c["page"] for c in p.cells} == {None}


def _scanned_pdf() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("L", (600, 800), 255).save(buf, "PDF")
    return buf.getvalue()


def _encrypted_pdf() -> bytes:
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, encrypt="secret")
    c.drawString(100, 700, "2024 report")
    c.save()
    return buf.getvalue()


@pytest.mark.parametrize("name,data,message", [
    ("scan.pdf", _scanned_pdf(), "OCR found no text on 1 page(s)"),  # an image-only PDF is OCR'd (issue 16); this one is a blank page
    ("locked.pdf", _encrypted_pdf(), "encrypted PDF"),
    ("garbage.pdf", b"%PDF-1.4\nnot really", "broken PDF"),
    ("cut.pdf", (FIXTURES / "hongze_2024.pdf").read_bytes()[:100_000], "broken PDF"),
    ("renamed.pdf", b"plain text", "broken PDF: no %PDF header"),
    ("old.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "save it as PDF or DOCX"),
    ("report.wps", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "save it as PDF or DOCX"),
    ("report.ofd", b"PK\x03\x04" + bytes(60) + b"OFD.xml", "save it as PDF or DOCX"),
    ("legacy.bin", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "save it as PDF or DOCX"),
])
def test_unreadable_documents_get_a_clear_error(name, data, message):
    p = process_bytes(data, name)
    assert message in (p.document["error"] or "")
    assert p.report["status"] == "error" and p.cells == []
    readable = next(c for c in p.checks if c["check_name"] == "document_readable")
    assert readable["passed"] is False and message in readable["message"]


# --- generated reports as PDF and DOCX: read back exactly -------------------------------------

def _check_round_trip(g):
    p = process_bytes(g.data, g.name)
    got = {(c["table_name"], c["row_key"], c["column_key"]): c for c in p.cells}
    wrong = [(k, v, got.get(k, {}).get("value")) for k, v in g.truth.items()
             if k not in got or got[k]["how"] != "read" or got[k]["value"] != v]
    assert p.document["error"] is None and p.report["status"] == "extracted", p.document["error"]
    assert (p.report["year"], p.report["form"]) == (g.year, g.form)
    assert not wrong, wrong[:5]
    assert len(got) == len(g.truth)
    return p


@pytest.mark.parametrize("form", ["2019", "2021"])
@pytest.mark.parametrize("seed", [1, 2])
def test_generated_pdf_reads_back_exactly(form, seed):
    import random

    from pipeline.devtools.render import generate_document

    g = generate_document(random.Random(seed), seed, "pdf", form)
    p = _check_round_trip(g)
    # the applications table is printed across a page break, its header repeated: one table read
    pages = {c["page"] for c in p.cells if c["table_name"] == "applications"}
    assert len(pages) == 2, pages
    assert p.document["normalized_text"].count("申请人情况") == 1


@pytest.mark.parametrize("form", ["2019", "2021"])
def test_generated_docx_reads_back_exactly(form):
    import random

    from pipeline.devtools.render import generate_document

    g = generate_document(random.Random(3), 3, "docx", form)
    p = _check_round_trip(g)
    assert {c["page"] for c in p.cells} == {None}


# --- DOCX that must be refused ------------------------------------------------------------------

def _zip(members: dict[str, bytes]) -> bytes:
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


_W = b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'


@pytest.mark.parametrize("name,data,message", [
    ("bomb.docx", _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": _W + b" " * 80_000_000 + b"</w:document>"}), "zip-bomb limit"),
    ("nodoc.docx", _zip({"[Content_Types].xml": b"<Types/>", "word/styles.xml": b"<x/>"}), "no word/document.xml"),
    ("bad.docx", _zip({"word/document.xml": _W + b"<w:body><w:p>"}), "not well-formed"),
    ("entity.docx", _zip({"word/document.xml": b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa">]>' + _W + b"<w:body/></w:document>"}), "declares entities"),
    ("cut.docx", b"PK\x03\x04" + bytes(100), "broken DOCX"),
    ("plain.docx", b"just text", "broken DOCX: not a ZIP"),
])
def test_bad_docx_is_refused(name, data, message):
    p = process_bytes(data, name)
    assert message in (p.document["error"] or ""), p.document["error"]
    assert p.report["status"] == "error"
