"""Structural mutations of PDF and DOCX files, for the fuzzer and the readers' hypothesis tests.

Byte flips rarely get past a PDF's or a ZIP's first checks; these change what the readers
interpret: a PDF's objects (deleted, duplicated, renumbered), streams (cut, garbage, wrong
/Length, other or unknown filters, re-compressed as bombs), page trees (cycles, huge /Count,
missing /Kids), nesting (arrays and dictionaries thousands deep), the cross-reference table;
a DOCX's parts (missing, not XML, entities, stored uncompressed or lying about their size),
its tables (gridSpan/vMerge out of range, tables nested in cells, rows repeated thousands
of times) — and plain byte damage on top.
"""

from __future__ import annotations

import io
import random
import re
import zipfile
import zlib

from pipeline.devtools import crafted

_OBJ = re.compile(rb"\d+ 0 obj\b.*?endobj", re.S)
_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.S)


def _flip(rng: random.Random, data: bytes, n: int = 10) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, n)):
        if b:
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
    return bytes(b)


def _pick(rng: random.Random, pattern: re.Pattern, data: bytes):
    found = list(pattern.finditer(data))
    return rng.choice(found) if found else None


def mutate_pdf(rng: random.Random, data: bytes) -> tuple[str, bytes]:
    """(what was done, the mutated PDF)."""
    kind = rng.choice(("stream_garbage", "stream_cut", "stream_length", "filter", "bomb_stream", "delete_object",
                       "duplicate_object", "page_cycle", "page_count", "no_kids", "deep_array", "deep_dict",
                       "xref", "cut", "flip", "glyph_stream", "forms"))
    if kind in ("stream_garbage", "stream_cut", "bomb_stream", "glyph_stream"):
        m = _pick(rng, _STREAM, data)
        if m:
            body = m.group(1)
            new = {"stream_garbage": lambda: rng.randbytes(max(1, len(body))),
                   "stream_cut": lambda: body[: rng.randrange(max(1, len(body)))],
                   "bomb_stream": lambda: crafted.deflate_repeated(b"0 0 m 1 1 l S ", rng.choice((8, 64, 300)) << 20),
                   "glyph_stream": lambda: zlib.compress(b"BT /F1 1 Tf " + b"(A) Tj " * rng.choice((1000, 40_000)) + b"ET")}[kind]()
            data = data[: m.start(1)] + new + data[m.end(1):]
    elif kind == "stream_length":
        data = re.sub(rb"/Length \d+", lambda _: b"/Length %d" % rng.choice((0, 1, 10**9, -5)), data, count=rng.randint(1, 5))
    elif kind == "filter":
        new = rng.choice((b"/LZWDecode", b"/ASCII85Decode", b"/RunLengthDecode", b"/DCTDecode", b"/JBIG2Decode",
                          b"/NoSuchDecode", b"[/FlateDecode /FlateDecode]", b"[/ASCIIHexDecode /FlateDecode]"))
        data = data.replace(b"/FlateDecode", new, rng.randint(1, 3))
    elif kind in ("delete_object", "duplicate_object"):
        m = _pick(rng, _OBJ, data)
        if m:
            data = data[: m.start()] + (b"" if kind == "delete_object" else m.group(0) + b"\n" + _flip(rng, m.group(0))) + data[m.end():]
    elif kind == "page_cycle":
        data = re.sub(rb"/Parent (\d+) 0 R", lambda m: b"/Kids [" + m.group(1) + b" 0 R] /Parent " + m.group(1) + b" 0 R", data, count=1)
    elif kind == "page_count":
        data = re.sub(rb"/Count \d+", b"/Count %d" % rng.choice((0, 10**6, -1, 2**40)), data)
    elif kind == "no_kids":
        data = re.sub(rb"/Kids \[[^\]]*\]", rng.choice((b"/Kids []", b"/Kids 7", b"/Kids [1 0 R 1 0 R 1 0 R]")), data, count=1)
    elif kind in ("deep_array", "deep_dict"):
        depth = rng.choice((100, 10_000, 100_000))
        deep = b"[" * depth + b"]" * depth if kind == "deep_array" else b"<< /A " * depth + b">>" * depth
        data = data.replace(b"/Type /Page ", b"/Type /Page /Deep " + deep + b" ", 1) if b"/Type /Page " in data else data + deep
    elif kind == "xref":
        i = data.rfind(b"xref")
        data = data[:i] + _flip(rng, data[i:], 30) if i > 0 and rng.random() < 0.5 else data.replace(b"startxref", b"startxref\n99999999\n", 1)
    elif kind == "cut":
        data = data[: rng.randrange(16, max(17, len(data)))]
    elif kind == "flip":
        data = _flip(rng, data, 40)
    elif kind == "forms":
        data = crafted.pdf_nested_forms(rng.randint(2, 5), rng.choice((2, 10, 30)))
    if rng.random() < 0.2:
        data = _flip(rng, data, 5)
    return kind, data


def _parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def _zip(parts: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, body in parts.items():
            zf.writestr(name, body)
    return buf.getvalue()


def mutate_docx(rng: random.Random, data: bytes) -> tuple[str, bytes]:
    """(what was done, the mutated .docx)."""
    kind = rng.choice(("drop_part", "not_xml", "cut_xml", "entities", "grid_span", "vmerge", "nested_tables",
                       "repeat_rows", "stored", "size_lie", "cut_zip", "flip_zip", "flip_xml", "deep_xml"))
    try:
        parts = _parts(data)
    except Exception:  # noqa: BLE001 - already broken: damage it further
        return "flip_zip", _flip(rng, data)
    doc = parts.get("word/document.xml", b"")
    if kind == "drop_part":
        parts.pop(rng.choice(sorted(parts)), None)
    elif kind == "not_xml":
        parts["word/document.xml"] = rng.randbytes(rng.randint(0, 5000))
    elif kind == "cut_xml":
        parts["word/document.xml"] = doc[: rng.randrange(max(1, len(doc)))]
    elif kind == "entities":
        parts["word/document.xml"] = b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>' + doc.split(b"?>", 1)[-1].replace(b"<w:t>", b"<w:t>&b;", 50)
    elif kind == "grid_span":
        parts["word/document.xml"] = re.sub(rb"<w:tcPr>", lambda _: b'<w:tcPr><w:gridSpan w:val="%d"/>' % rng.choice((0, -3, 64, 10**9)), doc, count=rng.randint(1, 50))
    elif kind == "vmerge":
        parts["word/document.xml"] = doc.replace(b"<w:tcPr>", b'<w:tcPr><w:vMerge/>')
    elif kind == "nested_tables":
        tbl = re.search(rb"<w:tbl>.*?</w:tbl>", doc, re.S)
        if tbl:
            inner = tbl.group(0)
            for _ in range(rng.randint(1, 30)):
                inner = re.sub(rb"(<w:tc>.*?)(</w:tc>)", lambda m: m.group(1) + inner + m.group(2), inner, count=1, flags=re.S)
                if len(inner) > 5_000_000:
                    break
            parts["word/document.xml"] = doc.replace(tbl.group(0), inner, 1)
    elif kind == "repeat_rows":
        row = re.search(rb"<w:tr[ >].*?</w:tr>", doc, re.S)
        if row:
            parts["word/document.xml"] = doc.replace(row.group(0), row.group(0) * rng.choice((100, 5000, 50_000)), 1)
    elif kind == "deep_xml":
        depth = rng.choice((1000, 100_000))
        parts["word/document.xml"] = doc.replace(b"<w:body>", b"<w:body>" + b"<w:sdt><w:sdtContent>" * depth + b"</w:sdtContent></w:sdt>" * depth, 1)
    elif kind == "flip_xml":
        parts["word/document.xml"] = _flip(rng, doc, 30)
    out = _zip(parts, zipfile.ZIP_STORED if kind == "stored" else zipfile.ZIP_DEFLATED)
    if kind == "size_lie":  # the local and central headers claim a small uncompressed size
        out = re.sub(rb"(PK\x03\x04.{18})(.{4})", lambda m: m.group(1) + (12).to_bytes(4, "little"), out, count=3, flags=re.S)
    elif kind == "cut_zip":
        out = out[: rng.randrange(4, max(5, len(out)))]
    elif kind == "flip_zip":
        out = _flip(rng, out, 20)
    return kind, out


def picture_bases(rng: random.Random) -> list[tuple[str, bytes]]:
    """Small real pictures of a generated report page in every format the OCR reader takes
    (100 dpi, so the ones that survive mutation are OCR'd in a second or two)."""
    from PIL import Image

    from pipeline.devtools import degrade
    from pipeline.devtools.render import generate_document

    page = Image.fromarray(degrade.render_pages(generate_document(rng, 0, "pdf").data, 100)[0])
    out = []
    for fmt, suffix in (("PNG", "png"), ("JPEG", "jpg"), ("TIFF", "tif"), ("BMP", "bmp"), ("WEBP", "webp")):
        buf = io.BytesIO()
        page.save(buf, fmt, **({"save_all": True, "append_images": [page]} if fmt == "TIFF" else {}))
        out.append((suffix, buf.getvalue()))
    return out


def _png_size(data: bytes, width: int, height: int) -> bytes:
    """The PNG with its header claiming another size (CRC mended, so decoders believe it)."""
    if data[12:16] != b"IHDR":
        return data
    ihdr = b"IHDR" + width.to_bytes(4, "big") + height.to_bytes(4, "big") + data[24:29]
    return data[:12] + ihdr + zlib.crc32(ihdr).to_bytes(4, "big") + data[33:]


def _jpeg_size(data: bytes, width: int, height: int) -> bytes:
    at = data.find(b"\xff\xc0")
    if at < 0:
        return data
    return data[:at + 5] + height.to_bytes(2, "big") + width.to_bytes(2, "big") + data[at + 9:]


def _white_png(width: int, height: int) -> bytes:
    """A real, valid picture of width×height white pixels: kilobytes on disk, gigabytes decoded."""
    raw = zlib.compressobj(9)
    row = b"\x00" + b"\xff" * width
    body = b"".join(raw.compress(row) for _ in range(height)) + raw.flush()
    chunk = lambda kind, payload: len(payload).to_bytes(4, "big") + kind + payload + zlib.crc32(kind + payload).to_bytes(4, "big")  # noqa: E731
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", width.to_bytes(4, "big") + height.to_bytes(4, "big") + b"\x08\x00\x00\x00\x00") + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def mutate_picture(rng: random.Random, bases: list[tuple[str, bytes]]) -> tuple[str, str, bytes]:
    """(what was done, suffix, the mutated picture): headers lying about the size (pixel bombs),
    real decompression bombs, cut files, damaged bytes, another format's suffix."""
    suffix, data = rng.choice(bases)
    kind = rng.randrange(7)
    if kind == 0 and suffix == "png":
        return "png_claims_60000px", suffix, _png_size(data, 60_000, 60_000)
    if kind == 1 and suffix == "jpg":
        return "jpeg_claims_65000px", suffix, _jpeg_size(data, 65_000, 65_000)
    if kind == 2:
        return "white_png_bomb", "png", _white_png(*rng.choice([(20_000, 20_000), (9_000, 9_000), (1, 200_000)]))
    if kind == 3:
        return "cut", suffix, data[: rng.randrange(16, max(17, len(data)))]
    if kind == 4:
        return "flipped", suffix, _flip(rng, data, 50)
    if kind == 5:
        return "wrong_suffix", rng.choice(["png", "jpg", "tif", "txt", "pdf"]), data
    return "intact", suffix, data
