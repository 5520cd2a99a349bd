"""Saved web pages whose tables are pictures: a browser's "save complete page" writes
``报告.html`` and a folder ``报告_files/`` with the images the page shows. Each ``<img>`` whose
picture is beside the page is OCR'd (``scan.py``), and the ruled tables found in it take the
image's place in the page's text, so the tables are extracted — and their digits confirmed or
flagged — as for any scan.

Only relative references are followed, and only inside the drop folder: a ``src`` with a
scheme (``http:``, ``data:``, ``file:``), an absolute path, or one that climbs above the
folder is never read, and nothing is ever fetched. Files are opened by ``dropfolder``'s own
safe reader (no symbolic link followed). At most ``MAX_IMAGES`` pictures per page.
"""

from __future__ import annotations

import posixpath
import re
from urllib.parse import unquote

MAX_IMAGES = 40
_IMG = re.compile(rb"<img\b[^>]*?\bsrc\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+))", re.I)
_MARK = "〔govreport-image-{}〕"


def image_refs(html: bytes) -> list[str]:
    """The pictures a page shows from beside it, as written in their ``src``, in page order."""
    out: list[str] = []
    for m in _IMG.finditer(html):
        raw = (m.group(1) or m.group(2) or m.group(3) or b"").decode("utf-8", "replace").strip()
        if raw and raw not in out and local_path(".", raw) is not None:
            out.append(raw)
    return out[:MAX_IMAGES]


def local_path(page_path: str, src: str) -> str | None:
    """The drop-folder path of a ``src`` relative to the page, or None for anything that is
    not a plain relative reference staying inside the folder."""
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", src) or src.startswith(("/", "\\", "//")):
        return None
    rel = unquote(src.split("#")[0].split("?")[0]).replace("\\", "/")
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(page_path), rel))
    if joined.startswith("../") or joined == ".." or joined.startswith("/") or not rel:
        return None
    return joined


def images_beside(drop_dir, fs_path: str, html: bytes) -> dict[str, bytes]:
    """src → bytes of each picture the page shows from inside the drop folder. A picture that
    is missing, a link, or too large is left out (the page is read without it)."""
    from pipeline.read.dropfolder import MAX_SCAN_BYTES, TooBig, Unreadable, read_regular

    got: dict[str, bytes] = {}
    for src in image_refs(html):
        path = local_path(fs_path, src)
        if path is None:
            continue
        try:
            got[src] = read_regular(drop_dir, path, MAX_SCAN_BYTES)
        except (TooBig, Unreadable, OSError):
            continue
    return got


def with_image_tables(markup: str, images: dict[str, bytes]) -> tuple[str, list | None, list[dict]]:
    """The page's text with each pictured table OCR'd in its place: (text, per line the OCR'd
    cells of its parts or None, repairs). Pictures that hold no ruled table add nothing."""
    from pipeline.read.decode import DecodeError, html_to_text
    from pipeline.read.images import image_kind, image_pages
    from pipeline.read.scan import read_scan

    marks: dict[str, tuple[list[str], list]] = {}
    repairs: list[dict] = []

    def swap(m: re.Match) -> str:
        src = (m.group(1) or m.group(2) or m.group(3) or "").strip()
        data = images.get(src)
        if data is None or not image_kind(data):
            return m.group(0)
        try:
            got = read_scan(data, enumerate(image_pages(data), 1))
        except DecodeError as exc:
            repairs.append({"kind": "image_table", "src": src, "note": str(exc)})
            return m.group(0)
        lines = got.text.split("\n")
        kept = [(ln, cells) for ln, cells in zip(lines, got.cells) if cells is not None]
        repairs.extend(got.repairs)
        repairs.append({"kind": "image_table", "src": src, "note": f"{got.tables} table(s), {len(kept)} rows OCR'd"})
        if not kept:
            return m.group(0)
        key = _MARK.format(len(marks))
        marks[key] = ([ln for ln, _ in kept], [c for _, c in kept])
        return f"<p>{key}</p>"

    marked = re.sub(r"<img\b[^>]*?\bsrc\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+))[^>]*>", swap, markup, flags=re.I)
    text = html_to_text(marked)
    if not marks:
        return text, None, repairs
    out_lines: list[str] = []
    out_cells: list = []
    for line in text.split("\n"):
        if line.strip() in marks:
            lines, cells = marks[line.strip()]
            out_lines += lines
            out_cells += cells
        else:
            out_lines.append(line)
            out_cells.append(None)
    return "\n".join(out_lines), out_cells, repairs
