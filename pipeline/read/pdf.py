"""A born-digital PDF → the text lines the extractor already reads, and where each line was.

We read the PDF with pdfplumber (pdfminer.six underneath): it gives every character with its
box and every ruling line, and finds a table's grid from the rulings, merged cells included.
(pypdfium2 reads the text layer ~15× faster but has no table finder; the grid is what keeps a
ruled table's structure, which a plain text dump loses — see README, "PDF input".)

Tables are written exactly as ``decode.html_to_text`` writes HTML tables, so one extractor
serves both: one line per row, cells joined by `` | ``, a cell spanning rows or columns written
once where it starts, a blank value cell written ``-``. A grid cell that is empty in a column
holding only labels is a piece of a wider label (the PDF drew a rule through it), not a
blank value, and is left out — as HTML's colspan would. A table that runs on onto the next page
is joined to its first part, and a header repeated at the top of the continuation is dropped.
Prose comes from the text layer outside the tables, in reading order (top to bottom).

Every output line keeps its page and box (``PdfText.places``), so a cell read from it can say
where it was printed. A PDF with no text layer is refused ("image-only PDF: needs OCR"), never
read as a report with empty tables; an encrypted or broken file gets its own clear error.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

from pipeline.read.decode import DecodeError
from pipeline.read.grid import NUMBER, clean_cell, grid_parts

MAX_PAGES = 500  # an annual report has a few dozen pages; beyond this the file is not one
_AREA_FILL = 3.0  # a filled, unstroked rectangle wider and taller than this is a background, not a rule
_PAGE_NUMBER = re.compile(r"^\s*(?:[-－—–]\s*\d{1,3}\s*[-－—–]|第\s*\d{1,3}\s*页(?:\s*[,，/]?\s*共\s*\d{1,3}\s*页)?|\d{1,3}\s*/\s*\d{1,3}|\d{1,3})\s*$")
_SCANNED_CHARS = 20  # fewer text characters per page than this, with images: a scan (a stamp or page number is not a text layer)
_MARGIN = 0.10  # page-number lines are recognised only in the top or bottom tenth of the page


class PdfError(DecodeError):
    """The PDF cannot be read as a report: encrypted, broken, or without a text layer."""


Place = tuple[int, float, float, float, float]  # page (1-based), x0, top, x1, bottom


@dataclass
class PdfText:
    text: str
    places: list[Place]  # places[i] is where line i+1 of `text` was printed
    pages: int
    tables: int = 0
    notes: list[str] = field(default_factory=list)
    ocr_cells: list | None = None  # issue 16: per line, per ` | ` part, the OCR'd cell (scan.py); None without OCR


@dataclass
class _Table:
    rows: list[list[str | None]]  # pdfplumber's extract(): None = covered by a merged cell
    places: list[Place]
    edges: tuple[float, ...]  # x positions of the column boundaries, to recognise a continuation
    top: float
    page: int
    bbox: tuple[float, float, float, float] = (0, 0, 0, 0)


@dataclass
class _Line:
    text: str
    place: Place


def read_pdf(data: bytes, ocr_pages=None) -> PdfText:
    """Read a PDF's text layer and ruled tables. Raises PdfError with a reason a user can act on.
    `ocr_pages` (issue 16: page numbers → their elements, read by OCR) reads the pages of a
    mixed PDF that are pictures without a text layer; without it they are left empty."""
    import pdfplumber
    from pdfplumber.utils.exceptions import PdfminerException

    try:
        pdf = pdfplumber.open(io.BytesIO(data))
    except PdfminerException as exc:
        raise PdfError(_open_error(exc.args[0] if exc.args else exc)) from None
    except Exception as exc:  # noqa: BLE001 - pdfminer raises many kinds for a broken file
        raise PdfError(_open_error(exc)) from None
    with pdf:
        try:
            n_pages = len(pdf.pages)
        except Exception as exc:  # noqa: BLE001
            raise PdfError(_open_error(exc)) from None
        if n_pages == 0:
            raise PdfError("broken PDF: it has no pages")
        if n_pages > MAX_PAGES:
            raise PdfError(f"PDF has {n_pages} pages (more than {MAX_PAGES}): not an annual report")
        pages: list[list[_Line | _Table]] = []
        chars = images = cid = 0
        scanned: list[int] = []  # issue 16: pages that are a picture without a text layer
        try:
            for number, page in enumerate(pdf.pages, 1):
                page_chars = sum(1 for c in page.chars if not c["text"].isspace())
                chars += page_chars
                images += len(page.images)
                if page.images and page_chars < _SCANNED_CHARS:
                    scanned.append(number)
                cid += sum(1 for c in page.chars if c["text"].startswith("(cid:"))
                pages.append(_page_elements(page, number) if page.chars else [])
                page.flush_cache()
        except PdfError:
            raise
        except Exception as exc:  # noqa: BLE001 - a broken content stream
            raise PdfError(f"broken PDF: page {len(pages) + 1} cannot be read ({type(exc).__name__}: {exc})") from None
    if chars == 0 or (images and chars < _SCANNED_CHARS * n_pages):
        raise PdfError(f"image-only PDF: needs OCR ({n_pages} pages, {images} images, {chars} characters of text)")
    if cid > chars / 2:
        raise PdfError("PDF text layer has no Unicode mapping (fonts without ToUnicode): needs OCR")
    if scanned and ocr_pages is not None:  # issue 16: a mixed PDF's scanned pages
        for number, elements in ocr_pages(scanned).items():
            pages[number - 1] = elements
    return _render(pages, n_pages)


def _open_error(exc) -> str:
    name = type(exc).__name__
    if "Password" in name or "Encrypt" in name or "encrypt" in str(exc).lower():
        return "encrypted PDF: it needs a password; save an unprotected copy"
    return f"broken PDF: cannot be opened ({name}: {exc})"


def _ruled(page):
    """The page without large filled rectangles: cell shading and white boxes behind text are
    areas, not rules, and would make pdfplumber see a table in every shaded paragraph."""
    def keep(obj) -> bool:
        if obj.get("object_type") != "rect" or obj.get("stroke"):
            return True
        return obj["width"] <= _AREA_FILL or obj["height"] <= _AREA_FILL
    return page.filter(keep)


def _page_elements(page, number: int) -> list[_Line | _Table]:
    ruled = _ruled(page)
    tables = []
    for t in ruled.find_tables():
        rows = t.extract()
        if len(rows) < 2 or max(len(r) for r in rows) < 2:
            continue  # one row or one column: a framed paragraph, read as prose
        places = [(number, *(round(v, 1) for v in r.bbox)) for r in t.rows]
        xs = sorted({round(c[0], 0) for r in t.rows for c in r.cells if c} | {round(c[2], 0) for r in t.rows for c in r.cells if c})
        tables.append(_Table([[clean_cell(c) for c in r] for r in rows], places, tuple(xs), t.bbox[1], number, t.bbox))
    boxes = [t.bbox for t in tables]

    def outside(obj) -> bool:
        if obj.get("object_type") != "char":
            return True
        cx, cy = (obj["x0"] + obj["x1"]) / 2, (obj["top"] + obj["bottom"]) / 2
        return not any(b[0] <= cx <= b[2] and b[1] <= cy <= b[3] for b in boxes)

    prose = page.filter(outside) if boxes else page
    lines = []
    for ln in prose.extract_text_lines(return_chars=False):
        text = re.sub(r"\s+", " ", ln["text"]).strip()
        if not text:
            continue
        near_edge = ln["bottom"] > page.height * (1 - _MARGIN) or ln["top"] < page.height * _MARGIN
        if near_edge and _PAGE_NUMBER.match(text):
            continue  # page furniture: it would otherwise stand between a table's two halves
        lines.append(_Line(text, (number, round(ln["x0"], 1), round(ln["top"], 1), round(ln["x1"], 1), round(ln["bottom"], 1))))
    elements: list[_Line | _Table] = [*lines, *tables]
    elements.sort(key=lambda e: (e.place[2], e.place[1]) if isinstance(e, _Line) else (e.top, 0.0))
    return elements


def _continues(prev: _Table, nxt: _Table) -> bool:
    """The next page's first table carries on the previous page's last one: the same outer
    edges, and the column boundaries of one are among the other's (within 2 pt). A part may
    have fewer columns: rows whose labels span the label columns draw no rule between them."""
    small, large = sorted((prev.edges, nxt.edges), key=len)
    if len(small) < 3 or abs(small[0] - large[0]) > 2 or abs(small[-1] - large[-1]) > 2:
        return False
    return all(any(abs(x - y) <= 2 for y in large) for x in small)


def _on_edges(t: _Table, edges: tuple[float, ...]) -> list[list[str | None]]:
    """The table's rows re-laid on a finer set of column boundaries: each cell moves to the
    column where it starts, and the columns it now spans are covered (None)."""
    if len(t.edges) == len(edges):
        return t.rows
    start = [min(range(len(edges) - 1), key=lambda k: abs(edges[k] - x)) for x in t.edges[:-1]]
    out = []
    for row in t.rows:
        new: list[str | None] = [None] * (len(edges) - 1)
        for j, cell in enumerate(row):
            if j < len(start):
                new[start[j]] = cell
        out.append(new)
    return out


def _join_pages(pages: list[list[_Line | _Table]]) -> list[_Line | _Table]:
    out: list[_Line | _Table] = []
    for elements in pages:
        if elements and out and isinstance(elements[0], _Table) and isinstance(out[-1], _Table) and _continues(out[-1], elements[0]):
            head, nxt = out[-1], elements[0]
            edges = max(head.edges, nxt.edges, key=len)
            head.rows, nxt_rows, head.edges = _on_edges(head, edges), _on_edges(nxt, edges), edges
            skip = _repeated_header(head.rows, nxt_rows)
            head.rows += nxt_rows[skip:]
            head.places += nxt.places[skip:]
            elements = elements[1:]
        out.extend(elements)
    return out


def _repeated_header(first: list[list[str | None]], cont: list[list[str | None]]) -> int:
    """How many leading rows of the continuation repeat the table's first rows."""
    n = 0
    while n < min(len(first), len(cont)) - 1 and cont[n] == first[n] and not any(NUMBER.match(c or "") for c in cont[n]):
        n += 1
    return n


def _render_table(t: _Table) -> list[tuple[str, Place, list]]:
    """The table's lines with their places and, per ` | ` part, the OCR'd cell it came from
    (None for a text layer's cell: only scan.py's cells carry one)."""
    return [(" | ".join(text for text, _ in parts), place, [getattr(src, "cell", None) for _, src in parts])
            for parts, place in zip(grid_parts(t.rows), t.places) if parts]


def _render(pages: list[list[_Line | _Table]], n_pages: int) -> PdfText:
    lines: list[str] = []
    places: list[Place] = []
    cells: list = []
    tables = 0
    for e in _join_pages(pages):
        if isinstance(e, _Line):
            lines.append(e.text)
            places.append(e.place)
            cells.append(None)
        else:
            tables += 1
            for text, place, parts in _render_table(e):
                lines.append(text)
                places.append(place)
                cells.append(parts if any(p is not None for p in parts) else None)
    return PdfText("\n".join(lines), places, n_pages, tables, ocr_cells=cells if any(cells) else None)
