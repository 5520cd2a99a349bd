"""Bytes → text: encoding detection, and HTML → text that keeps table rows and cells.

Detection is ordered by how certain each signal is: a BOM is proof; strict UTF-8 that decodes is
nearly proof; then the legacy Chinese encodings are told apart by which one decodes the bytes
strictly *and* yields the more common characters (Big5 bytes often decode as GBK into rare
characters, and the reverse). A file that decodes in none of them is not guessed: it is an
error, kept with its row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import lxml.html
from lxml import etree

HTML_SUFFIXES = (".html", ".htm", ".shtml", ".xhtml")
BLANK_CELL = "-"  # how an empty HTML table cell is written in the text view (FORMS.md: blank)

# Signatures of files that are not reports in text form.
_BINARY_SIGNATURES = {
    b"%PDF": "a PDF file (PDFs are read by pipeline.pdf through formats.read_binary, not as text)",
    b"PK\x03\x04": "a ZIP archive or Office document",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"\xd0\xcf\x11\xe0": "a legacy Office document (.doc/.xls)",
    b"Rar!": "a RAR archive",
    b"\x1f\x8b": "a gzip archive",
    b"7z\xbc\xaf": "a 7z archive",
}


class DecodeError(ValueError):
    """The bytes are not a text or HTML report in any encoding we accept."""


@dataclass(frozen=True)
class Decoded:
    text: str  # decoded text (HTML: the markup itself)
    encoding: str
    is_html: bool


def _common_ratio(text: str) -> float:
    """Share of CJK characters inside the frequent GB2312 level-1 block (a plausibility score)."""
    cjk = 0
    common = 0
    for ch in text[:20000]:
        if "\u4e00" <= ch <= "\u9fff":
            cjk += 1
            try:
                b = ch.encode("gb2312")
                if 0xB0 <= b[0] <= 0xD7:
                    common += 1
            except UnicodeEncodeError:
                pass
    return common / cjk if cjk else 0.0


def _declared_charset(data: bytes) -> str | None:
    m = re.search(rb"<meta[^>]+charset\s*=\s*[\"']?([A-Za-z0-9_\-]+)", data[:4096], re.I)
    return m.group(1).decode("ascii").lower() if m else None


def detect_and_decode(data: bytes) -> tuple[str, str]:
    """Decode bytes, returning (text, encoding name). Raises DecodeError when nothing fits."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        enc = "utf-16-le" if data.startswith(b"\xff\xfe") else "utf-16-be"
        return data[2:].decode(enc, errors="replace"), "utf-16"
    for sig, what in _BINARY_SIGNATURES.items():
        if data.startswith(sig):
            raise DecodeError(f"not a text report: the file is {what}")
    if b"\x00" in data[:4096]:
        raise DecodeError("not a text report: binary content (NUL bytes) in no supported encoding")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    candidates = []
    for enc in ("gb18030", "big5"):
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        # GB2312-common share is meaningless for Big5-decoded text; score Big5 by its own
        # round-trip to simplified: a real Big5 report re-encodes cleanly into Big5.
        score = _common_ratio(text) if enc == "gb18030" else _big5_score(text)
        candidates.append((score, enc, text))
    if not candidates:
        raise DecodeError("undecodable bytes: not UTF-8/UTF-16, GB18030 or Big5")
    score, enc, text = max(candidates)
    if score < 0.3:
        raise DecodeError(f"undecodable bytes: best guess {enc} yields mostly rare characters ({score:.0%} common)")
    return text, enc


def _big5_score(text: str) -> float:
    """Plausibility of a Big5 reading: share of CJK characters that are frequent in traditional
    text, measured as those whose simplified form is in the GB2312 level-1 block."""
    from .t2s import to_simplified

    return _common_ratio(to_simplified(text[:20000]))


def decode_bytes(data: bytes, suffix: str) -> Decoded:
    """Decode a dropped file. HTML is recognised by suffix or by its opening markup."""
    text, encoding = detect_and_decode(data)
    head = text[:2000].lower()
    is_html = suffix.lower() in HTML_SUFFIXES or "<html" in head or "<!doctype html" in head or "<table" in head
    if is_html:
        declared = _declared_charset(data)
        if declared and _codec_name(declared) != _codec_name(encoding):
            encoding = f"{encoding} (declared {declared})"
    return Decoded(text, encoding, is_html)


def _codec_name(name: str) -> str:
    import codecs

    try:
        name = codecs.lookup(name.replace("-sig", "")).name
    except LookupError:
        return name
    return {"gbk": "gb18030", "gb2312": "gb18030"}.get(name, name)


# --- HTML → text -------------------------------------------------------------------------------

_BLOCK_TAGS = {
    "p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "section", "article",
    "header", "footer", "ul", "ol", "dl", "dt", "dd", "blockquote", "pre", "title", "hr",
}
_DROP_TAGS = ("script", "style", "noscript", "iframe", "svg", "head", "template", "select", "button")


def _cell_text(cell) -> str:
    text = " ".join(t.strip() for t in cell.itertext())
    text = re.sub(r"\s+", " ", text.replace("\xa0", " ")).strip()
    # headers broken with <br/> (本年新<br/>制作数量) read as one label
    text = re.sub(r"(?<=[\u4e00-\u9fff]) (?=[\u4e00-\u9fff])", "", text)
    return text or BLANK_CELL


def _table_lines(table) -> list[str]:
    """One line per table row, cells joined by ' | '. A cell spanning rows or columns is
    written once, where it starts (a spanned value must not be counted twice); an empty
    cell is written as '-' so that a blank stays a blank."""
    lines = []
    for tr in table.iter("tr"):
        if tr.getparent() is not None and _nearest_table(tr) is not table:
            continue
        cells = [c for c in tr if isinstance(c.tag, str) and c.tag.lower() in ("td", "th")]
        if cells:
            lines.append(" | ".join(_cell_text(c) for c in cells))
    return lines


def _nearest_table(el):
    el = el.getparent()
    while el is not None and (not isinstance(el.tag, str) or el.tag.lower() != "table"):
        el = el.getparent()
    return el


def html_to_text(markup: str) -> str:
    """Render HTML as plain text lines; tables become one line per row (see _table_lines).
    Word-exported residue (<!--[if ...]-->, <o:p>) is dropped with the comments."""
    markup = re.sub(r"<!--\[if[^\]]*\](?:-->|>).*?<!\[endif\](?:-->)?", "", markup, flags=re.S)
    markup = re.sub(r"^<\?xml[^>]*>", "", markup.lstrip())
    try:
        root = lxml.html.fromstring(markup or "<p></p>")
    except (etree.ParserError, ValueError):
        return markup
    for bad in root.xpath("//" + " | //".join(_DROP_TAGS)):
        bad.drop_tree()
    for comment in root.xpath("//comment()"):
        comment.drop_tree()
    out: list[str] = []
    buf: list[str] = []

    def flush():
        line = re.sub(r"[ \t\r\f\v\xa0]+", " ", "".join(buf)).strip()
        if line:
            out.append(line)
        buf.clear()

    def walk(el):
        tag = el.tag.lower() if isinstance(el.tag, str) else ""
        if tag == "table":
            flush()
            out.extend(_table_lines(el))
            if el.tail:
                buf.append(el.tail)
            return
        if tag in _BLOCK_TAGS:
            flush()
        if el.text:
            buf.append(el.text)
        for child in el:
            walk(child)
        if tag in _BLOCK_TAGS:
            flush()
        if el.tail:
            buf.append(el.tail)

    walk(root)
    flush()
    return "\n".join(out)
