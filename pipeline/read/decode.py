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
    b"%PDF": "a PDF file (PDFs are read by pipeline.read.pdf through formats.read_binary, not as text)",
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
    repairs: tuple[dict, ...] = ()  # what decoding had to mend (cut last character, NUL bytes, …)


# Stray NUL bytes (a writer's padding at line ends) are removed when what remains decodes as a
# report; more than this share of the bytes means binary or UTF-16 without a BOM (not guessed).
NUL_SHARE_MAX = 0.2
# Invalid UTF-8 sequences tolerated in an otherwise UTF-8 file (a flipped byte, a damaged
# character): replaced by U+FFFD and recorded. More than this means another encoding.
BAD_UTF8_MAX = 8
# An internal DTD subset declaring entities: a billion-laughs bomb or an external entity
# (SYSTEM "file:///etc/passwd", "http://…"). Real report pages never declare entities.
_ENTITY_DECL = re.compile(rb"<!ENTITY", re.I)


_NOT_CJK_RUN = re.compile(r"[^\u4e00-\u9fff]+")
_NOT_LEVEL1_LEAD = bytes(b for b in range(256) if not 0xB0 <= b <= 0xD7)


def _common_ratio(text: str) -> float:
    """Share of CJK characters inside the frequent GB2312 level-1 block (a plausibility score).

    Counted in C, not per character: the CJK characters are encoded to GB2312 together
    (those it lacks dropped); every GB2312 hanzi is two bytes, so the lead bytes are the
    even ones, and the level-1 block is lead bytes B0–D7."""
    cjk = _NOT_CJK_RUN.sub("", text[:20000])
    if not cjk:
        return 0.0
    leads = cjk.encode("gb2312", errors="ignore")[0::2]
    return len(leads.translate(None, _NOT_LEVEL1_LEAD)) / len(cjk)


def _declared_charset(data: bytes) -> str | None:
    m = re.search(rb"<meta[^>]+charset\s*=\s*[\"']?([A-Za-z0-9_\-]+)", data[:4096], re.I)
    return m.group(1).decode("ascii").lower() if m else None


def detect_and_decode(data: bytes) -> tuple[str, str]:
    """Decode bytes, returning (text, encoding name). Raises DecodeError when nothing fits."""
    text, encoding, _ = _detect(data)
    return text, encoding


def _detect(data: bytes) -> tuple[str, str, list[dict]]:
    """(text, encoding, repairs). Mends what can be mended without guessing: a UTF-8 file
    whose last character was cut, a handful of stray NUL bytes or damaged UTF-8 sequences;
    each mend is returned as a repair so the document records it."""
    repairs: list[dict] = []
    if not data.strip(b" \t\r\n\x00\x0b\x0c"):
        raise DecodeError(f"empty file: {len(data)} bytes, no text" if data else "empty file: 0 bytes")
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig", repairs
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        enc = "utf-16-le" if data.startswith(b"\xff\xfe") else "utf-16-be"
        return data[2:].decode(enc, errors="replace"), "utf-16", repairs
    for sig, what in _BINARY_SIGNATURES.items():
        if data.startswith(sig):
            raise DecodeError(f"not a text report: the file is {what}")
    nuls = data.count(b"\x00")
    if nuls:
        if nuls > NUL_SHARE_MAX * len(data):
            raise DecodeError(f"not a text report: binary content ({nuls} NUL bytes in {len(data)}) in no supported encoding")
        data = data.replace(b"\x00", b"")
        repairs.append({"kind": "nul_bytes", "count": nuls, "how": f"removed {nuls} NUL bytes"})
    try:
        return data.decode("utf-8"), "utf-8", repairs
    except UnicodeDecodeError as exc:
        cut = exc.reason == "unexpected end of data" and exc.end == len(data)
        if cut and exc.start >= len(data) - 3:
            try:
                text = data[: exc.start].decode("utf-8")
            except UnicodeDecodeError:
                text = None
            if text is not None:
                repairs.append({"kind": "truncated_utf8", "count": len(data) - exc.start,
                                "how": f"dropped the cut last character ({len(data) - exc.start} bytes of a UTF-8 sequence)"})
                return text, "utf-8", repairs
    mended = _mostly_utf8(data)
    if mended is not None:
        text, bad = mended
        repairs.append({"kind": "bad_utf8", "count": bad, "how": f"replaced {bad} invalid UTF-8 sequences with U+FFFD"})
        return text, "utf-8", repairs
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
    score, enc, text = max(candidates) if candidates else (0.0, "", "")
    if nuls and (not candidates or score < 0.3):
        raise DecodeError(f"not a text report: binary content ({nuls} NUL bytes, and no supported encoding fits the rest)")
    if not candidates:
        raise DecodeError("undecodable bytes: not UTF-8/UTF-16, GB18030 or Big5")
    if score < 0.3:
        raise DecodeError(f"undecodable bytes: best guess {enc} yields mostly rare characters ({score:.0%} common)")
    return text, enc, repairs


def _mostly_utf8(data: bytes) -> tuple[str, int] | None:
    """UTF-8 with at most BAD_UTF8_MAX damaged sequences (and plenty of valid multi-byte
    ones, so a GB18030 file is never read as damaged UTF-8): (text, count), else None."""
    bad = 0

    def count(exc: UnicodeDecodeError):
        nonlocal bad
        bad += 1
        if bad > BAD_UTF8_MAX:
            raise exc
        return "\ufffd", exc.end

    import codecs

    codecs.register_error("govreport_count", count)
    try:
        text = data.decode("utf-8", errors="govreport_count")
    except UnicodeDecodeError:
        return None
    multibyte = sum(1 for ch in text[:20000] if ord(ch) > 0x7F and ch != "\ufffd")
    return (text, bad) if multibyte >= 20 * bad else None


def _big5_score(text: str) -> float:
    """Plausibility of a Big5 reading: share of CJK characters that are frequent in traditional
    text, measured as those whose simplified form is in the GB2312 level-1 block."""
    from pipeline.t2s import to_simplified

    return _common_ratio(to_simplified(text[:20000]))


def decode_bytes(data: bytes, suffix: str) -> Decoded:
    """Decode a dropped file. HTML is recognised by suffix or by its opening markup."""
    text, encoding, repairs = _detect(data)
    head = text[:2000].lower()
    is_html = suffix.lower() in HTML_SUFFIXES or "<html" in head or "<!doctype html" in head or "<table" in head
    if is_html:
        _refuse_entity_declarations(data)
        declared = _declared_charset(data)
        if declared and _codec_name(declared) != _codec_name(encoding):
            encoding = f"{encoding} (declared {declared})"
    return Decoded(text, encoding, is_html, tuple(repairs))


def _refuse_entity_declarations(data: bytes) -> None:
    """Markup that declares entities is refused with a message that says why. Nothing is
    ever expanded or fetched (the HTML parser neither loads DTDs nor touches the network),
    but a page built around entity declarations is an attack, not a report."""
    found = _ENTITY_DECL.findall(data)
    if found:
        external = re.search(rb"<!ENTITY[^>]*\b(SYSTEM|PUBLIC)\b", data, re.I)
        what = "external entities (SYSTEM/PUBLIC: files or URLs)" if external else "entities (an entity-expansion bomb such as billion laughs)"
        raise DecodeError(f"refused: the markup's DOCTYPE declares {len(found)} {what}; entities are never expanded or fetched")


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


_SPACES = re.compile(r"\s+")
_SPACE_IN_WORD = re.compile(r"(?<=[\u4e00-\u9fff]) (?=[\u4e00-\u9fff])")


def _cell_text(cell) -> str:
    text = " ".join(t.strip() for t in cell.itertext())
    text = _SPACES.sub(" ", text.replace("\xa0", " ")).strip()
    # headers broken with <br/> (本年新<br/>制作数量) read as one label
    if " " in text:
        text = _SPACE_IN_WORD.sub("", text)
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


# No network, no DTD loading, no entity resolution, and libxml2's default limits (huge_tree
# off: nesting is capped at 256 levels and text nodes at 10 MB), so no page can make a worker
# run away. Stated explicitly so a later default change cannot loosen it.
_SAFE_PARSER = lxml.html.HTMLParser(no_network=True, huge_tree=False)


def html_to_text(markup: str) -> str:
    """Render HTML as plain text lines; tables become one line per row (see _table_lines).
    Word-exported residue (<!--[if ...]-->, <o:p>) is dropped with the comments."""
    markup = re.sub(r"<!--\[if[^\]]*\](?:-->|>).*?<!\[endif\](?:-->)?", "", markup, flags=re.S)
    markup = re.sub(r"^<\?xml[^>]*>", "", markup.lstrip())
    try:
        root = lxml.html.fromstring(markup or "<p></p>", parser=_SAFE_PARSER)
    except (etree.ParserError, ValueError, AssertionError):
        return markup
    for node in root.xpath("//" + " | //".join(_DROP_TAGS)) + root.xpath("//comment()"):
        if node.getparent() is not None:  # a comment after </html> is the root's sibling: never walked anyway
            node.drop_tree()
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
