"""Scans and photos → the same text lines and places as a PDF's text layer, plus, for each part
of a table line, the OCR'd cell it was written from (its confidence, digits, page and box).

Each page picture is read by ``ocr_grid`` into ruled tables and prose lines; the tables go
through the very code that joins a PDF's tables across pages and writes their rows
(``pdf._join_pages``, ``grid.grid_parts``), so the extractor cannot tell a scan's table
from a born-digital one — except that every value keeps what the engine saw, for
``extract/ocr_digits`` to confirm by the form's identities or flag.

Results are cached per document (``ocr_cache``): the same bytes are never OCR'd twice.
Budgets: a page that takes longer than PAGE_SECONDS, or a reader whose memory grows past
PAGE_MEMORY while reading one page, stops the file with a clear error.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from time import perf_counter

from pipeline.read import ocr_cache
from pipeline.read.decode import DecodeError
from pipeline.read.grid import clean_cell, grid_parts
from pipeline.read.ocr_grid import OcrCell, Page, PageLine, PageTable

PAGE_SECONDS = 120.0  # one page on one core takes ~5–10 s; 12× that is a picture we should not be reading
PAGE_MEMORY = 2_000_000_000  # bytes the worker may grow by while reading one page


class OcrText(str):
    """A cell's cleaned text that remembers the OCR'd cell it came from."""
    cell: OcrCell | None = None


@dataclass
class ScanText:
    text: str
    places: list  # per line: (page, x0, top, x1, bottom) in the page picture's pixels
    pages: int
    tables: int
    cells: list[list[OcrCell | None] | None]  # per line: per ` | ` part, its OCR'd cell (None for prose)
    seconds: float = 0.0  # OCR time (0 when read from the cache)
    cached: bool = False
    notes: list[str] = field(default_factory=list)


def page_to_json(p: Page) -> dict:
    return {
        "number": p.number, "width": p.width, "height": p.height, "angle": round(p.angle, 3), "warped": p.warped,
        "lines": [[ln.text, list(ln.box)] for ln in p.lines],
        "tables": [{"bbox": list(map(int, t.bbox)), "col_edges": list(map(int, t.col_edges)), "row_boxes": [list(map(int, b)) for b in t.row_boxes],
                    "cells": [[c.to_json() if c else None for c in row] for row in t.cells]} for t in p.tables],
    }


def page_from_json(d: dict) -> Page:
    tables = [PageTable([[OcrCell.from_json(c) if c else None for c in row] for row in t["cells"]],
                        [tuple(b) for b in t["row_boxes"]], t["col_edges"], tuple(t["bbox"])) for t in d["tables"]]
    return Page(d["number"], d["width"], d["height"], tables, [PageLine(text, tuple(box)) for text, box in d["lines"]], d["angle"], d["warped"])


def ocr_pages(data: bytes, pictures) -> tuple[list[Page], float, bool]:
    """The pages of a document, from the cache or OCR'd now (and then cached)."""
    sha = hashlib.sha256(data).hexdigest()
    hit = ocr_cache.load(sha)
    if hit is not None:
        return [page_from_json(p) for p in hit["pages"]], 0.0, True
    import psutil

    from pipeline.read.ocr import ENGINE, engine
    from pipeline.read.ocr_grid import read_page

    eng = engine()
    proc = psutil.Process()
    pages: list[Page] = []
    t_doc = perf_counter()
    for number, rgb in pictures:
        t0, rss0 = perf_counter(), proc.memory_info().rss
        pages.append(read_page(rgb, number, eng))
        del rgb
        took, grew = perf_counter() - t0, proc.memory_info().rss - rss0
        if took > PAGE_SECONDS:
            raise DecodeError(f"OCR over its time budget: page {number} took {took:.0f} s (limit {PAGE_SECONDS:.0f} s a page)")
        if grew > PAGE_MEMORY:
            raise DecodeError(f"OCR over its memory budget: page {number} grew the reader by {grew / 1e6:.0f} MB (limit {PAGE_MEMORY / 1e6:.0f} MB)")
    seconds = perf_counter() - t_doc
    ocr_cache.save(sha, {"engine": ENGINE, "seconds": round(seconds, 2), "pages": [page_to_json(p) for p in pages]})
    return pages, seconds, False


def _text(cell: OcrCell) -> OcrText:
    t = OcrText(clean_cell(cell.text) or "")
    t.cell = cell
    return t


def _elements(page: Page) -> list:
    """The page as pdf.py's elements: prose lines and tables, top to bottom. Table edges are
    scaled to a 595-unit page width (an A4 page in points) so pdf.py's 2-unit tolerance for a
    table running on means the same on pictures of any resolution."""
    from pipeline.read.pdf import _Line, _Table

    unit = 595.0 / max(page.width, 1)
    out: list = [_Line(ln.text, (page.number, *ln.box)) for ln in page.lines if ln.text.strip()]
    for t in page.tables:
        rows = [[_text(c) if c is not None else None for c in row] for row in t.cells]
        edges = tuple(round(x * unit) for x in t.col_edges)
        out.append(_Table(rows, [(page.number, *b) for b in t.row_boxes], edges, t.bbox[1], page.number, t.bbox))
    out.sort(key=lambda e: (e.place[2], e.place[1]) if isinstance(e, _Line) else (e.top, 0.0))
    return out


def render_pages(pages: list[Page]) -> ScanText:
    """Pages → text lines with places, tables joined across pages as for PDFs."""
    from pipeline.read.pdf import _join_pages, _Line

    lines: list[str] = []
    places: list = []
    cells: list[list[OcrCell | None] | None] = []
    tables = 0
    for e in _join_pages([_elements(p) for p in pages]):
        if isinstance(e, _Line):
            lines.append(e.text)
            places.append(e.place)
            cells.append(None)
            continue
        tables += 1
        for parts, place in zip(grid_parts(e.rows), e.places):
            if parts:
                lines.append(" | ".join(text for text, _ in parts))
                places.append(place)
                cells.append([getattr(src, "cell", None) for _, src in parts])
    return ScanText("\n".join(lines), places, len(pages), tables, cells)


def read_scan(data: bytes, pictures) -> ScanText:
    """OCR a document given its page pictures (an iterator of (page number, RGB array))."""
    pages, seconds, cached = ocr_pages(data, pictures)
    if not any(p.lines or p.tables for p in pages):
        raise DecodeError(f"OCR found no text on {len(pages)} page(s)")
    out = render_pages(pages)
    out.seconds, out.cached = seconds, cached
    return out
