"""A Word .docx → text lines the extractor reads: tables from the document's own table
structure, prose from its paragraphs, in document order.

Read with lxml straight from ``word/document.xml`` rather than through python-docx: python-docx
repeats a merged cell at every grid position it covers, and the form's rule is that a spanned
value is written once, where it starts (``grid.grid_lines``). ``w:gridSpan`` is a cell written
once; a ``w:vMerge`` continuation is a covered position (None). Deleted revisions
(``w:delText``) are not text; inserted ones are.

A .docx is a ZIP: it is opened with limits on the member's size and on the compression ratio,
and read in bounded chunks, so a zip bomb is refused rather than inflated into memory; its XML
elements are counted before parsing, against the file's memory budget (read/budget.py).
"""

from __future__ import annotations

import io
import zipfile
import zlib
from dataclasses import dataclass

from lxml import etree

from pipeline.read.budget import DEFAULT, Budget, OverBudget
from pipeline.read.decode import DecodeError
from pipeline.read.grid import clean_cell, grid_lines

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
MAX_XML_BYTES = 64 * 1024 * 1024  # a long report's document.xml is a few MB
MAX_RATIO = 200  # deflate on real XML stays far below this; a bomb is thousands to one
TAG_BYTES = 512  # memory one XML element costs once parsed and walked (libxml2 node, lxml proxy, our strings)
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)


class DocxError(DecodeError):
    """The .docx cannot be read: not a package, no document part, too large, malformed."""


@dataclass
class DocxText:
    text: str
    tables: int


def read_docx(data: bytes, budget: Budget = DEFAULT) -> DocxText:
    xml = _document_xml(data, min(MAX_XML_BYTES, budget.max_inflate))
    if b"<!ENTITY" in xml[:4096]:  # Word never writes a DTD; entities here are an attack
        raise DocxError("refused DOCX: its XML declares entities")
    tags = xml.count(b"<")  # counted before parsing: the tree costs ~TAG_BYTES an element
    if tags * TAG_BYTES > budget.max_memory:
        raise OverBudget(f"DOCX has {tags:,} XML elements, more than {budget.max_memory // TAG_BYTES:,}: not read (--max-memory)")
    try:
        root = etree.fromstring(xml, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise DocxError(f"broken DOCX: word/document.xml is not well-formed XML ({exc})") from None
    body = root.find(f"{W}body")
    if body is None:
        raise DocxError("broken DOCX: word/document.xml has no body")
    lines: list[str] = []
    tables = _block(body, lines)
    return DocxText("\n".join(lines), tables)


def _document_xml(data: bytes, max_xml: int = MAX_XML_BYTES) -> bytes:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise DocxError(f"broken DOCX: not a readable ZIP package ({exc})") from None
    with zf:
        try:
            info = zf.getinfo("word/document.xml")
        except KeyError:
            raise DocxError("not a Word document: the package has no word/document.xml") from None
        if info.file_size > max_xml or info.file_size > MAX_RATIO * max(info.compress_size, 1) + 1_000_000:
            raise DocxError(f"refused DOCX: word/document.xml would inflate to {info.file_size} bytes from {info.compress_size} (zip-bomb limit)")
        try:
            with zf.open(info) as member:  # the header's sizes can lie: count what really comes out
                out = bytearray()
                while chunk := member.read(1 << 20):
                    out += chunk
                    if len(out) > max_xml:
                        raise DocxError(f"refused DOCX: word/document.xml inflates past {max_xml} bytes (zip-bomb limit)")
        except DocxError:
            raise
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, RuntimeError, NotImplementedError, ValueError) as exc:  # zlib.error: found by make fuzz (a flipped byte in the deflate data)
            raise DocxError(f"broken DOCX: word/document.xml cannot be inflated ({type(exc).__name__}: {exc})") from None
    return bytes(out)


def _block(parent, lines: list[str]) -> int:
    """Append the lines of a body-like element's paragraphs and tables; return tables seen."""
    tables = 0
    for el in parent:
        tag = el.tag
        if tag == f"{W}p":
            text = _paragraph(el)
            if text:
                lines.append(text)
        elif tag == f"{W}tbl":
            tables += 1
            lines.extend(line for line in grid_lines(_table_rows(el)) if line)
        elif tag in (f"{W}sdt", f"{W}customXml", f"{W}ins", f"{W}smartTag"):
            content = el.find(f"{W}sdtContent") if tag == f"{W}sdt" else el
            if content is not None:
                tables += _block(content, lines)
    return tables


def _paragraph(p) -> str:
    parts = []
    for el in p.iter(f"{W}t", f"{W}tab", f"{W}br", f"{W}cr"):  # w:delText (deleted revision) is not read
        parts.append(el.text or "" if el.tag == f"{W}t" else " ")
    return " ".join("".join(parts).split())


def _cell_text(tc) -> str:
    paragraphs = [_paragraph(p) for p in tc.iter(f"{W}p")]
    return clean_cell("\n".join(p for p in paragraphs if p)) or ""


def _table_rows(tbl) -> list[list[str | None]]:
    """The table as grid rows: a cell spanning columns (gridSpan) occupies its first position
    and None after it; a vertically merged continuation (vMerge without restart) is None."""
    rows: list[list[str | None]] = []
    for tr in tbl.iterchildren(f"{W}tr"):
        row: list[str | None] = []
        before = tr.find(f"{W}trPr/{W}gridBefore")
        if before is not None:
            row += [None] * _int(before.get(f"{W}val"), 0)
        for tc in tr.iterchildren(f"{W}tc"):
            props = tc.find(f"{W}tcPr")
            grid_span = props.find(f"{W}gridSpan") if props is not None else None
            span = _int(grid_span.get(f"{W}val"), 1) if grid_span is not None else 1
            merge = props.find(f"{W}vMerge") if props is not None else None
            covered = merge is not None and merge.get(f"{W}val") in (None, "continue")
            row.append(None if covered else _cell_text(tc))
            row += [None] * (span - 1)
        rows.append(row)
    return rows


def _int(value, default: int) -> int:
    try:
        return max(0, min(int(value), 64))
    except (TypeError, ValueError):
        return default
