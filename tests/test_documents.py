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
    ("scan.pdf", _scanned_pdf(), "image-only PDF: needs OCR"),
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
