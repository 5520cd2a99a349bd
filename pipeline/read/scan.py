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
import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import lru_cache
from time import perf_counter

from pipeline.read import ocr_cache
from pipeline.read.budget import OCR_PAGE_SECONDS, grant_seconds, release_freed_memory
from pipeline.read.decode import DecodeError
from pipeline.read.grid import clean_cell, grid_parts
from pipeline.read.ocr_grid import OcrCell, Page, PageLine, PageTable

PAGE_SECONDS = OCR_PAGE_SECONDS  # wall seconds a page may take here; the watchdog grants the same CPU seconds
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
    repairs: list[dict] = field(default_factory=list)  # label cells OCR damaged and the form restored


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
        grant_seconds(OCR_PAGE_SECONDS)  # a scanned page has its own time (read/budget.py)
        t0, rss0 = perf_counter(), proc.memory_info().rss
        pages.append(read_page(rgb, number, eng))
        del rgb
        took, grew = perf_counter() - t0, proc.memory_info().rss - rss0
        if took > PAGE_SECONDS:
            raise DecodeError(f"OCR over its time budget: page {number} took {took:.0f} s (limit {PAGE_SECONDS:.0f} s a page)")
        if grew > PAGE_MEMORY:
            raise DecodeError(f"OCR over its memory budget: page {number} grew the reader by {grew / 1e6:.0f} MB (limit {PAGE_MEMORY / 1e6:.0f} MB)")
    seconds = perf_counter() - t_doc
    release_freed_memory()  # once a document, not a page: a trim costs ≈ 0.1 s of CPU after a page's arrays
    ocr_cache.save(sha, {"engine": ENGINE, "seconds": round(seconds, 2), "pages": [page_to_json(p) for p in pages]})
    return pages, seconds, False


_CJK = re.compile(r"[\u3400-\u9fff]")
_STRAY_DIGIT = re.compile(r"(?<!^)(?<!^\d)\d|^\d(?!\d?[.．、])")  # any digit but an enumerator's at the start


def _text(cell: OcrCell, repairs: list[dict]) -> OcrText:
    text = clean_cell(cell.text) or ""
    label = form_label(text) if text and not cell.digits else None
    if label and label != text:
        repairs.append({"kind": "ocr_label", "page": cell.page, "before": text, "after": label})
        text = label
    elif text and not cell.digits and _STRAY_DIGIT.search(text):
        # a label cell is words: a digit in it, other than its enumerator (1.), is OCR's misreading
        # of vertical text or a seal's remains, and would be taken for a value of the row above
        cleaned = _STRAY_DIGIT.sub("", text) if len(_CJK.findall(text)) >= 3 else ""
        repairs.append({"kind": "ocr_label", "page": cell.page, "before": text, "after": cleaned})
        text = cleaned
    t = OcrText(text)
    t.cell = cell
    return t


@lru_cache(maxsize=1)
def _labels() -> list[tuple[str, re.Pattern]]:
    from pipeline.form import FORM_2019, FORM_2021, FORM_2021_UNDIVIDED

    seen: dict[str, re.Pattern] = {}
    for spec in (FORM_2019, FORM_2021, FORM_2021_UNDIVIDED):
        for table in spec.tables.values():
            for row in table.rows:
                seen.setdefault(row.label, re.compile(row.anchor))
    return list(seen.items())


@lru_cache(maxsize=1)
def _headings() -> list[re.Pattern]:
    from pipeline.form import FORM_2019, FORM_2021, FORM_2021_UNDIVIDED, Heading

    out = []
    for spec in (FORM_2019, FORM_2021, FORM_2021_UNDIVIDED):
        for table in spec.tables.values():
            for h in getattr(table, "headings", ()) or ():
                if isinstance(h, Heading):
                    out.append(re.compile(h.anchor))
    return out


_ENUMERATOR = re.compile(r"^\d{1,2}(?:[.．、]|(?=[\u3400-\u9fff]))")


def _likeness(text: str, label: str) -> float:
    """How alike an OCR'd label and a form label are: their characters' ratio, or, when both
    start with the same item number (2重复中请, 2.重复申请), the ratio of what follows it — the
    number and its point would otherwise outweigh one misread character of a short label."""
    whole = SequenceMatcher(None, text, label).ratio()
    a, b = _ENUMERATOR.match(text), _ENUMERATOR.match(label)
    if not (a and b) or a.group().rstrip(".．、") != b.group().rstrip(".．、"):
        return whole
    return max(whole, SequenceMatcher(None, text[a.end():], label[b.end():]).ratio())


@lru_cache(maxsize=4096)
def form_label(text: str) -> str | None:
    """The form's row label an OCR'd label cell stands for, when OCR damaged it (途期 for
    逾期, 1信访 for 1.信访, a character lost under a seal): the label clearly nearest in
    characters (ratio ≥ 0.6 and 0.1 ahead of the next), or, when the cell still matches some
    rows' anchors, the nearest of those if it is close (≥ 0.75). None otherwise."""
    if any(rx.search(text) for rx in _headings()):
        return None  # a heading of the form (（三）不予公开), not a row: left as read
    matching = [label for label, rx in _labels() if rx.search(text)]
    if matching:  # the row's words are there: only an enumerator OCR lost its point is mended (1信访 → 1.信访)
        if not re.match(r"^\d(?![.．、\d])", text):
            return None
        ratio, label = max((SequenceMatcher(None, text, label).ratio(), label) for label in matching)
        return label if ratio >= 0.75 and label[0] == text[0] else None
    if not _CJK.search(text):
        return None
    scored = sorted(((_likeness(text, label), label) for label, _ in _labels()
                     if 0.6 <= len(text) / len(label) <= 1.4), reverse=True)
    if not scored:
        return None
    best, second = scored[0], scored[1] if len(scored) > 1 else (0.0, "")
    return best[1] if best[0] >= 0.75 and best[0] - second[0] >= 0.1 else None


def _furniture(line: PageLine, page: Page) -> bool:
    """A page number at the top or bottom edge (``- 2 -``, or what OCR made of it under a
    seal: ``C1``): a few characters, no Chinese. It would otherwise stand between a table's
    two halves and be taken for a value, as pdf.py drops it from a text layer."""
    from pipeline.read.pdf import _MARGIN, _PAGE_NUMBER

    near_edge = line.box[3] > page.height * (1 - _MARGIN) or line.box[1] < page.height * _MARGIN
    text = line.text.strip()
    return near_edge and (bool(_PAGE_NUMBER.match(text)) or (len(text) <= 6 and not _CJK.search(text)))


def _elements(page: Page, repairs: list[dict]) -> list:
    """The page as pdf.py's elements: prose lines and tables, top to bottom. Table edges are
    scaled to a 595-unit page width (an A4 page in points) so pdf.py's 2-unit tolerance for a
    table running on means the same on pictures of any resolution."""
    from pipeline.read.pdf import _Line, _Table

    unit = 595.0 / max(page.width, 1)
    out: list = [_Line(ln.text, (page.number, *ln.box)) for ln in page.lines if ln.text.strip() and not _furniture(ln, page)]
    for t in page.tables:
        rows = [[_text(c, repairs) if c is not None else None for c in row] for row in t.cells]
        edges = tuple(round(x * unit) for x in t.col_edges)
        out.append(_Table(rows, [(page.number, *b) for b in t.row_boxes], edges, t.bbox[1], page.number, t.bbox))
    out.sort(key=lambda e: (e.place[2], e.place[1]) if isinstance(e, _Line) else (e.top, 0.0))
    return out


def _align_continuations(pages: list[list]) -> list[list]:
    """A table that runs on to the next page: a scan tilts each page its own way, so the
    column rules of the two parts differ by a few pixels, more than pdf.py allows a PDF.
    When the first table of a page has the previous page's last table's column count and
    edges within 1.5 % of the width, it takes those edges; and its leading rows without a
    number that read nearly as the first rows of the table (a repeated header OCR'd again) are
    made equal to them, so the one join rule drops them."""
    from pipeline.read.grid import NUMBER
    from pipeline.read.pdf import _Table

    for prev_page, page in zip(pages, pages[1:]):
        if not prev_page or not page or not isinstance(prev_page[-1], _Table) or not isinstance(page[0], _Table):
            continue
        prev, nxt = prev_page[-1], page[0]
        if len(prev.edges) != len(nxt.edges) or any(abs(a - b) > 9 for a, b in zip(prev.edges, nxt.edges)):
            continue
        nxt.edges = prev.edges
        for n, (first, cont) in enumerate(zip(prev.rows, nxt.rows)):
            if any(NUMBER.match(c or "") for c in cont) or len(first) != len(cont):
                break
            same = all((a is None) == (b is None) and (a is None or SequenceMatcher(None, a, b).ratio() >= 0.7) for a, b in zip(first, cont))
            if not same:
                break
            nxt.rows[n] = list(first)
    return pages


def render_pages(pages: list[Page]) -> ScanText:
    """Pages → text lines with places, tables joined across pages by pdf.py's own renderer."""
    from pipeline.read.pdf import _render

    repairs: list[dict] = []
    got = _render(_align_continuations([_elements(p, repairs) for p in pages]), len(pages))
    return ScanText(got.text, got.places, len(pages), got.tables, got.ocr_cells or [None] * len(got.places), repairs=repairs)


def page_elements(data: bytes, pictures) -> tuple[dict[int, list], list[dict]]:
    """OCR'd pages (cached) as pdf.py's elements, by page number: a mixed PDF's scanned pages."""
    pages, _, _ = ocr_pages(data, pictures)
    repairs: list[dict] = []
    return {p.number: _elements(p, repairs) for p in pages}, repairs


def read_scan(data: bytes, pictures) -> ScanText:
    """OCR a document given its page pictures (an iterator of (page number, RGB array))."""
    pages, seconds, cached = ocr_pages(data, pictures)
    if not any(p.lines or p.tables for p in pages):
        raise DecodeError(f"OCR found no text on {len(pages)} page(s)")
    out = render_pages(pages)
    out.seconds, out.cached = seconds, cached
    return out
