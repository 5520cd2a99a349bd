"""Which reader a dropped file needs: PDF and Word files are read here; text and HTML go on to
``decode.decode_bytes``; formats we cannot read get an error that says what to do instead.
Pictures (PNG, JPEG, TIFF, BMP, WebP, GIF) and PDFs without a usable text layer are OCR'd
(``scan.py``).

Recognised by content first (magic bytes), then by suffix: a report saved as ``.txt`` that is
really a PDF is still read as a PDF, and a ``.docx`` that is not a ZIP is refused as broken.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pipeline.read.budget import DEFAULT, Budget
from pipeline.read.decode import DecodeError, Decoded

SAVE_AS = "save it as PDF or DOCX"
_REFUSED_SUFFIXES = {
    ".doc": f"a legacy Word document (.doc): {SAVE_AS}",
    ".wps": f"a WPS document (.wps): {SAVE_AS}",
    ".ofd": f"an OFD document (.ofd): {SAVE_AS}",
    ".xls": "a spreadsheet (.xls): save the report as PDF or DOCX",
    ".xlsx": "a spreadsheet (.xlsx): save the report as PDF or DOCX",
    ".ppt": "a presentation (.ppt): save the report as PDF or DOCX",
    ".pptx": "a presentation (.pptx): save the report as PDF or DOCX",
}
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the container of .doc, .wps, .xls


@dataclass(frozen=True)
class Read:
    """A file read by one of the binary readers: its text for the pipeline and, per line of
    that text, where it was printed (PDF: page and box; DOCX: None)."""
    decoded: Decoded
    places: list | None
    ocr_cells: list | None = None  # OCR'd input: per line, per ` | ` part, the cell it was read from (scan.py)


def read_binary(data: bytes, suffix: str, budget: Budget = DEFAULT) -> Read | None:
    """Read a PDF or DOCX within the file's budget; raise DecodeError for a document format we
    do not read (OverBudget for one over its budget); return None for anything else (text and
    HTML: ``decode_bytes`` takes over, bounded by the size limit and libxml2's limits)."""
    suffix = suffix.lower()
    if data.startswith(b"%PDF") or (suffix == ".pdf" and b"%PDF-" in data[:1024]):
        from pipeline.read.pdf import PdfError, read_pdf

        repairs: list[dict] = []
        try:
            got = read_pdf(data, budget, ocr_pages=lambda numbers: _ocr_some(data, numbers, repairs))
        except PdfError as exc:
            if not needs_ocr(str(exc)):
                raise
            return _scanned_pdf(data, str(exc))
        how = f"; {len({p[0] for p, c in zip(got.places, got.ocr_cells or []) if c})} scanned page(s) with tables OCR'd" if got.ocr_cells else ""
        return Read(Decoded(got.text, f"pdf text layer ({got.pages} pages, {got.tables} tables{how})", False, tuple(repairs)), got.places, got.ocr_cells)
    if suffix == ".pdf":
        raise DecodeError("broken PDF: no %PDF header")
    if data.startswith(b"PK\x03\x04") and (suffix == ".docx" or _is_docx(data)):
        from pipeline.read.word import read_docx

        got = read_docx(data, budget)
        return Read(Decoded(got.text, f"docx ({got.tables} tables)", False), None)
    if suffix == ".docx":
        raise DecodeError("broken DOCX: not a ZIP package")
    from pipeline.read.images import image_kind

    kind = image_kind(data)
    if kind:
        return _picture(data, kind)
    if suffix in _REFUSED_SUFFIXES:
        raise DecodeError(f"not read: the file is {_REFUSED_SUFFIXES[suffix]}")
    if data.startswith(_OLE):
        raise DecodeError(f"not read: the file is a legacy Office or WPS document (.doc/.wps/.xls): {SAVE_AS}")
    if data.startswith(b"PK\x03\x04") and b"OFD.xml" in data[:4096]:
        raise DecodeError(f"not read: the file is an OFD document: {SAVE_AS}")
    return None


def needs_ocr(pdf_error: str) -> bool:
    """pdf.py refuses a PDF whose pages are pictures, or whose text has no Unicode mapping:
    both are read by OCR instead."""
    return pdf_error.startswith("image-only PDF") or "no Unicode mapping" in pdf_error


def _scanned_pdf(data: bytes, why: str) -> Read:
    from pipeline.read.images import pdf_pages

    got = _ocr(data, pdf_pages(data))
    return Read(Decoded(got.text, f"ocr of a PDF without a usable text layer ({got.pages} pages, {got.tables} tables)", False, tuple(got.repairs)), got.places, got.cells)


def _picture(data: bytes, kind: str) -> Read:
    from pipeline.read.images import image_pages

    got = _ocr(data, enumerate(image_pages(data), 1))
    return Read(Decoded(got.text, f"ocr of a {kind} image ({got.pages} pages, {got.tables} tables)", False, tuple(got.repairs)), got.places, got.cells)


def _ocr_some(data: bytes, numbers: list[int], repairs: list[dict]) -> dict[int, list]:
    """A mixed PDF: the pages that are pictures, OCR'd (a failure leaves them empty, noted)."""
    from pipeline.read.images import pdf_pages
    from pipeline.read.scan import page_elements

    try:
        got, fixed = page_elements(data, pdf_pages(data, numbers))
    except Exception as exc:  # noqa: BLE001 - the text pages are still read
        repairs.append({"kind": "ocr", "note": f"scanned pages {numbers} not read: {type(exc).__name__}: {exc}"})
        return {}
    repairs.extend(fixed)
    repairs.append({"kind": "ocr", "note": f"pages {numbers} are pictures: OCR'd"})
    return got


def _ocr(data: bytes, pictures):
    """OCR, with any failure of the engine or of OpenCV on a strange picture turned into the
    file's error: one picture must not stop a run."""
    from pipeline.read.scan import read_scan

    try:
        return read_scan(data, pictures)
    except DecodeError:
        raise
    except MemoryError:
        raise DecodeError("OCR over its memory budget: the picture does not fit") from None
    except Exception as exc:  # noqa: BLE001
        raise DecodeError(f"OCR failed: {type(exc).__name__}: {exc}") from None


def _is_docx(data: bytes) -> bool:
    return b"word/document.xml" in data[:200_000] or b"[Content_Types].xml" in data[:200] and b"word/" in data[:200_000]


def raw_lines_kept(raw_text: str, repairs: list[dict], normalized_lines: int) -> list[int] | None:
    """For each line of the normalized text, the 1-based line of the raw text it came from.

    Normalization keeps lines in order and only drops them (blank lines, and those it records
    as page numbers, chrome, spam or archive header without an ``after``). When the count does
    not add up the map is not trusted and None is returned: no page beats a wrong page."""
    dropped = {r["line"] for r in repairs if "line" in r and "after" not in r and r.get("kind") != "mojibake"}
    kept = [n for n, line in enumerate(raw_text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), 1) if line.strip() and n not in dropped]
    return kept if len(kept) == normalized_lines else None


def page_index(places: list | None, raw_text: str, repairs: list[dict], normalized_text: str) -> Callable[[int | None], int | None]:
    """Normalized line number → the page it was printed on (None for text inputs, or when the
    line map cannot be trusted)."""
    kept = raw_lines_kept(raw_text, repairs, normalized_text.count("\n") + 1) if places else None
    if not kept:
        return lambda line: None

    def page_of(line: int | None) -> int | None:
        if line is None or not 1 <= line <= len(kept) or kept[line - 1] > len(places):
            return None
        return places[kept[line - 1] - 1][0]
    return page_of


def ocr_cell_index(ocr_cells: list | None, raw_text: str, repairs: list[dict], normalized_text: str) -> Callable[[int | None], object | None]:
    """Offset in the normalized text → the OCR'd cell its token was read from (None for
    text inputs, prose, or when the line map cannot be trusted). The part of a table line is
    found by counting the ` | ` separators before the offset: normalization keeps them."""
    kept = raw_lines_kept(raw_text, repairs, normalized_text.count("\n") + 1) if ocr_cells else None
    if not kept:
        return lambda offset: None
    starts = [0] + [i + 1 for i, ch in enumerate(normalized_text) if ch == "\n"]

    def cell_of(offset: int | None):
        if offset is None:
            return None
        from bisect import bisect_right

        line = bisect_right(starts, offset)
        if not 1 <= line <= len(kept) or kept[line - 1] > len(ocr_cells):
            return None
        parts = ocr_cells[kept[line - 1] - 1]
        if not parts:
            return None
        k = normalized_text.count("|", starts[line - 1], offset)
        return parts[k] if k < len(parts) else None
    return cell_of
