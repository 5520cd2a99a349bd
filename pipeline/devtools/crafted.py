"""Small files that cost their reader a great deal: the classes of issue 15, generated in
milliseconds and a few MB at most, for the regression tests and the fuzzer.

* ``pdf_inflating(n)``: one page whose content stream inflates to `n` bytes (2 GB from ~2 MB);
* ``pdf_shared_glyphs(pages, glyphs)``: many pages sharing one compressed stream of glyph
  operators (400 × 40,000 = 16 M glyphs from 65 KB);
* ``pdf_nested(depth)``: an object nested `depth` arrays deep;
* ``pdf_nested_forms(depth, fanout)``: form XObjects drawing each other `fanout` times per
  level, `fanout ** depth` drawings for the interpreter (the PDF "billion laughs");
* ``docx_cells(n)``: a Word table of `n` cells.
"""

from __future__ import annotations

import io
import zipfile
import zlib


def pdf_bytes(objects: list[bytes], root: int = 1) -> bytes:
    """A PDF with these objects (numbered from 1) and a correct cross-reference table."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, root, xref)
    return bytes(out)


def stream(data: bytes, extra: bytes = b"", compressed: bool = True) -> bytes:
    body = zlib.compress(data, 9) if compressed else data
    flt = b" /Filter /FlateDecode" if compressed else b""
    return b"<< /Length %d%s %s >>\nstream\n" % (len(body), flt, extra) + body + b"\nendstream"


def _pages(contents: list[bytes], resources: bytes = b"<< /Font << /F1 3 0 R >> >>") -> list[bytes]:
    """Objects 1 (catalog), 2 (pages), 3 (font), then one page per content reference."""
    n = len(contents)
    kids = b" ".join(b"%d 0 R" % (4 + i) for i in range(n))
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, n),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    objs += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources %s /Contents %s >>" % (resources, c) for c in contents]
    return objs


def deflate_repeated(unit: bytes, total: int) -> bytes:
    """zlib data inflating to `unit` repeated up to `total` bytes, made without compressing it
    all: after a full flush a chunk's compressed bytes repeat, so one is copied; the checksum
    is computed as it would be (adler32 of the whole output)."""
    chunk = (unit * ((1 << 20) // len(unit) + 1))[: 1 << 20]
    c = zlib.compressobj(9)
    head = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    body = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    n = max(1, total // len(chunk))
    adler = 1
    for _ in range(n):
        adler = zlib.adler32(chunk, adler)
    tail = c.flush(zlib.Z_FINISH)  # the last (empty) block and the compressor's own checksum
    return head + body * (n - 1) + tail[:-4] + adler.to_bytes(4, "big")


def pdf_inflating(total: int) -> bytes:
    """One page whose content stream (spaces: nothing to draw) inflates to `total` bytes."""
    data = deflate_repeated(b" ", total)
    content = b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream"
    return pdf_bytes(_pages([b"5 0 R"]) + [content])


def pdf_shared_glyphs(pages: int = 400, glyphs: int = 40_000) -> bytes:
    """`pages` pages that all draw one compressed content stream of `glyphs` glyph operators."""
    ops = b"BT /F1 1 Tf 10 10 Td " + b"(A) Tj " * glyphs + b"ET"
    shared = 4 + pages
    return pdf_bytes(_pages([b"%d 0 R" % shared] * pages) + [stream(ops)])


def pdf_nested(depth: int = 200_000) -> bytes:
    """A one-page PDF whose page carries an array nested `depth` deep (and prints one word)."""
    content = stream(b"BT /F1 12 Tf 72 720 Td (report) Tj ET")
    objs = _pages([b"5 0 R"]) + [content]
    objs[3] = objs[3].replace(b" >>", b" /Deep " + b"[" * depth + b"1" + b"]" * depth + b" >>", 1)
    return pdf_bytes(objs)


def pdf_nested_forms(depth: int = 8, fanout: int = 20) -> bytes:
    """Form XObjects, each drawing the next `fanout` times: fanout ** depth glyphs to interpret."""
    first = 6  # objects 1-3 as _pages, 4 the page, 5 its content, 6.. the forms
    objs = _pages([b"5 0 R"], resources=b"<< /Font << /F1 3 0 R >> /XObject << /X %d 0 R >> >>" % first)
    objs.append(stream(b"/X Do"))
    for level in range(depth):
        last = level == depth - 1
        body = b"BT /F1 1 Tf (A) Tj ET" if last else b"/X Do " * fanout
        res = b"/Resources << /Font << /F1 3 0 R >> >>" if last else b"/Resources << /XObject << /X %d 0 R >> >>" % (first + level + 1)
        objs.append(stream(body, b"/Type /XObject /Subtype /Form /BBox [0 0 10 10] " + res))
    return pdf_bytes(objs)


def docx_cells(n: int = 1_000_000, columns: int = 10) -> bytes:
    """A .docx holding one table of `n` cells (numbered, so it does not compress like a bomb)."""
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
        with zf.open("word/document.xml", "w", force_zip64=True) as fh:
            fh.write(f'<?xml version="1.0"?><w:document xmlns:w="{w}"><w:body><w:tbl>'.encode())
            for r in range(0, n, columns):
                fh.write(b"<w:tr>" + b"".join(b"<w:tc><w:p><w:r><w:t>%d</w:t></w:r></w:p></w:tc>" % (r + c) for c in range(min(columns, n - r))) + b"</w:tr>")
            fh.write(b"</w:tbl></w:body></w:document>")
    return buf.getvalue()
