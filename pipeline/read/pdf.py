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

pdfminer inflates every stream it touches whole and interprets every operator, so the file's
budget (read/budget.py) is consulted first: its Flate streams are inflated in bounded pieces
and counted (``check_streams``), the page content summed over pages (``check_content``), and
the clock looked at between pages. What gets past these is held by the run's watchdog.
"""

from __future__ import annotations

import io
import re
import zlib
from contextlib import contextmanager
from dataclasses import dataclass, field

from pipeline.read.budget import DEFAULT, Budget, OverBudget, size_text
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
    # a one-row table heading its page: the last row of the previous page's table when it
    # continues that table, else the prose lines it was read as
    lone: list[_Line] | None = None


@dataclass
class _Line:
    text: str
    place: Place


def read_pdf(data: bytes, budget: Budget = DEFAULT, ocr_pages=None) -> PdfText:
    """Read a PDF's text layer and ruled tables. Raises PdfError with a reason a user can act on,
    OverBudget (before anything is inflated or interpreted) when the file would cost more than
    its budget. `ocr_pages` (page numbers → their elements, read by OCR) reads the pages of a
    mixed PDF that are pictures without a text layer; without it they are left empty."""
    import pdfplumber
    from pdfplumber.utils.exceptions import PdfminerException

    check_streams(data, budget)
    try:
        pdf = pdfplumber.open(io.BytesIO(data))
    except PdfminerException as exc:
        raise PdfError(_open_error(exc.args[0] if exc.args else exc)) from None
    except Exception as exc:  # noqa: BLE001 - pdfminer raises many kinds for a broken file
        raise PdfError(_open_error(exc)) from None
    with _closing(pdf):
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
            check_content(pdf.pages, budget)
            for number, page in enumerate(pdf.pages, 1):
                budget.check_time(f"page {number} of {n_pages}")
                page_chars = sum(1 for c in page.chars if not c["text"].isspace())
                chars += page_chars
                images += len(page.images)
                if page.images and page_chars < _SCANNED_CHARS:
                    scanned.append(number)
                cid += sum(1 for c in page.chars if c["text"].startswith("(cid:"))
                pages.append(_page_elements(page, number) if page.chars else [])
                page.flush_cache()
        except (PdfError, OverBudget):
            raise
        except RecursionError:
            raise PdfError(f"broken PDF: page {len(pages) + 1} nests its objects too deeply to read") from None
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


_STREAM = re.compile(rb"stream\r?\n")
_WINDOW = 4096  # bytes before a stream keyword searched for its dictionary
_PIECE = 1 << 20  # inflate output is looked at a MiB at a time, never kept


def check_streams(data: bytes, budget: Budget) -> None:
    """Inflate every Flate stream of the file in bounded pieces, keeping nothing, and refuse the
    file once its content would inflate past the budget: pdfminer inflates each stream it
    touches whole, in memory (a 2 MB stream can become 2 GB). Images are counted apart, against
    the whole memory budget: pdfminer never inflates them, a renderer (OCR) would. Costs ~1 ms
    a MB of inflated content on a real report; other filters are left to the watchdog (LZW and
    RunLength inflate far less per byte)."""
    content = images = 0
    for m in _STREAM.finditer(data):
        head = data[max(0, m.start() - _WINDOW): m.start()]
        obj = head.rfind(b"obj")
        head = head[obj:] if obj >= 0 else head
        if b"/FlateDecode" not in head and b"/Fl " not in head and b"/Fl]" not in head:
            continue
        image = b"/Image" in head
        limit = (budget.max_memory - images) if image else (budget.max_inflate - content)
        got = _inflated_size(data, m.end(), limit)
        if image:
            images += got
            if images > budget.max_memory:
                raise OverBudget(f"PDF images would inflate past {size_text(budget.max_memory)}: not read (--max-memory)")
        else:
            content += got
            if content > budget.max_inflate:
                raise budget.refuse_inflate("PDF content")


def _inflated_size(data: bytes, start: int, limit: int) -> int:
    """Bytes the zlib stream at `start` inflates to, counting stops just past `limit`. A broken
    stream counts what came out before the damage (pdfminer reads the same)."""
    d = zlib.decompressobj()
    out = 0
    pos = start
    while (pos < len(data) or d.unconsumed_tail) and not d.eof and out <= limit:
        piece = d.unconsumed_tail
        if not piece:
            piece = data[pos: pos + _PIECE]
            pos += len(piece)
        try:
            out += len(d.decompress(piece, _PIECE))
        except zlib.error:
            break
    return out


def check_content(pages, budget: Budget) -> None:
    """Refuse a PDF whose pages would make the interpreter run through more page content than
    the budget allows, summed over pages (a stream shared by many pages is interpreted for
    each): a 65 KB file of 400 pages sharing one stream of 40,000 glyphs is 16 M glyphs.
    The streams are already bounded by check_streams, so reading their lengths is cheap."""
    from pdfminer.pdftypes import resolve1

    total = 0
    for number, page in enumerate(pages, 1):
        for stream in page.page_obj.contents or []:
            stream = resolve1(stream)
            get = getattr(stream, "get_data", None)
            total += len(get()) if get else 0
        if total > budget.max_content:
            raise OverBudget(f"PDF pages hold more than {size_text(budget.max_content)} of drawing operators "
                             f"(by page {number} of {len(pages)}): not read (--max-memory)")


@contextmanager
def _closing(pdf):
    """Close the PDF without letting close() hide the reason: pdfplumber's close() walks the
    pages again, so on a broken page tree it raises its own exception over ours (found by
    make fuzz's structural mutations: a flipped /Count, a bad bounding box)."""
    try:
        yield pdf
    finally:
        try:
            pdf.close()
        except Exception:  # noqa: BLE001 - the file is broken; the error already raised says how
            pass


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
    tables, singles = [], []
    for t in ruled.find_tables():
        rows = t.extract()
        if not rows or max(len(r) for r in rows) < 2:
            continue  # one column: a framed paragraph, read as prose
        places = [(number, *(round(v, 1) for v in r.bbox)) for r in t.rows]
        xs = sorted({round(c[0], 0) for r in t.rows for c in r.cells if c} | {round(c[2], 0) for r in t.rows for c in r.cells if c})
        # one row: a framed paragraph, read as prose — unless it continues a table (see _join_pages)
        (singles if len(rows) < 2 else tables).append(
            _Table([[clean_cell(c) for c in r] for r in rows], places, tuple(xs), t.bbox[1], number, t.bbox))
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
    return _lone_row_first(elements, singles)


def _lone_row_first(elements: list[_Line | _Table], singles: list[_Table]) -> list[_Line | _Table]:
    """A one-row table that is the first thing on its page stands in for the prose lines
    inside it, keeping them to fall back on (``_Table.lone``)."""
    if not singles:
        return elements
    first = min(singles, key=lambda t: t.top)
    x0, top, x1, bottom = first.bbox
    inside = [e for e in elements if isinstance(e, _Line) and x0 - 1 <= e.place[1] and e.place[3] <= x1 + 1 and top - 1 <= e.place[2] and e.place[4] <= bottom + 1]
    rest = [e for e in elements if not any(e is i for i in inside)]
    if not inside or any((e.place[2] if isinstance(e, _Line) else e.top) < top for e in rest):
        return elements
    first.lone = inside
    return [first, *rest]


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
            skip += _join_cut_row(head.rows, nxt_rows[skip:])
            head.rows += nxt_rows[skip:]
            head.places += nxt.places[skip:]
            elements = elements[1:]
        elif elements and isinstance(elements[0], _Table) and elements[0].lone is not None:
            elements = [*elements[0].lone, *elements[1:]]  # not a continuation: the prose it was
        out.extend(elements)
    return out


_ENUMERATOR = re.compile(r"^\s*(?:[（(][一二三四五六七八九十]+[）)]|\d+\s*[.．、]|[一二三四五六七八九十]+\s*、)")


def _join_cut_row(rows: list[list[str | None]], cont: list[list[str | None]]) -> int:
    """A row that breaks across the page prints in two halves: its label cut in two (（四） |
    1.本机关不掌 at the foot of one page, 无法提供 | 握相关政府信息 at the head of the next) and its
    values on one half only. When the continuation's first row holds label text whose last
    (innermost) part starts no row of its own (no enumerator) and exactly one of the two halves holds the values, the
    halves are one row: joined cell by cell into the last row (a label continuing a merged cell
    goes to the cell the merge started in). Returns 1 when the continuation's first row was
    joined, else 0."""
    if not rows or not cont:
        return 0
    last, first = rows[-1], cont[0]
    value_cols = {j for r in (*rows, *cont) for j, c in enumerate(r) if c and NUMBER.match(c)}
    labels = [c for j, c in enumerate(first) if c and j not in value_cols]
    if not value_cols or not labels or _ENUMERATOR.match(labels[-1]) or len(first) != len(last):
        return 0

    def holds_values(r: list[str | None]) -> bool:
        return any((r[j] or "").strip() for j in value_cols)

    if holds_values(first) == holds_values(last):
        return 0
    for j, c in enumerate(first):
        if not c:
            continue
        if j in value_cols:
            last[j] = c
            continue
        i = len(rows) - 1
        while i > 0 and rows[i][j] is None:
            i -= 1  # the cell is covered by a merge: its label is where the merge starts
        rows[i][j] = (rows[i][j] or "") + c
    return 1


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
