"""Page pictures from image files and from PDF pages without a text layer, one page at a time,
within limits on pages and pixels (a scan may be 100 MB; it is never held whole as pixels).

Images are recognised by their magic bytes: PNG, JPEG, TIFF (every page of a multi-page
TIFF), BMP, WebP, GIF. The size is read from the header before any pixel is decoded, so a
decompression bomb is refused, not decoded. A page larger than the OCR needs is scaled down
to ``MAX_SIDE`` on its long side (≈ 200 dpi for an A4 page): more pixels cost time, not
accuracy.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import numpy as np

from pipeline.read.decode import DecodeError

PICTURE_SUFFIXES = frozenset((".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp", ".gif"))  # OCR'd, so read after the text files
MAX_PAGES = 500  # as for PDFs: an annual report has a few dozen pages
MAX_PIXELS = 120_000_000  # per page as stored (a 600-dpi A3 scan is 70 Mpx); beyond, refused unread
MAX_SIDE = 2400  # OCR works on at most this many pixels on the long side
PDF_DPI = 200  # image-only PDF pages are rendered at this resolution

_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"BM", "BMP"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
)


class ImageError(DecodeError):
    """The picture cannot be read: broken, too large, or too many pages."""


def image_kind(data: bytes) -> str | None:
    """'PNG', 'JPEG', 'TIFF', 'BMP', 'WEBP', 'GIF' from the magic bytes, else None."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    return None


def fit(rgb: np.ndarray) -> np.ndarray:
    """Scale a page down to MAX_SIDE on its long side (area averaging keeps thin rules)."""
    import cv2

    h, w = rgb.shape[:2]
    if max(h, w) <= MAX_SIDE:
        return rgb
    s = MAX_SIDE / max(h, w)
    return cv2.resize(rgb, (max(1, int(w * s)), max(1, int(h * s))), interpolation=cv2.INTER_AREA)


def image_pages(data: bytes) -> Iterator[np.ndarray]:
    """Each page of an image file as RGB pixels (uint8, h × w × 3)."""
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = None  # our own limit, checked from the header before decoding
    try:
        im = Image.open(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - PIL raises many kinds for a broken file
        raise ImageError(f"broken image: cannot be opened ({type(exc).__name__}: {exc})") from None
    try:
        n = getattr(im, "n_frames", 1)  # a TIFF seeks through its pages here: a damaged one raises anything
    except Exception as exc:  # noqa: BLE001
        raise ImageError(f"broken image: its pages cannot be counted ({type(exc).__name__}: {exc})") from None
    if n > MAX_PAGES:
        raise ImageError(f"image has {n} pages (more than {MAX_PAGES}): not an annual report")
    for number, frame in enumerate(_frames(im), 1):
        w, h = frame.size
        if w * h > MAX_PIXELS:
            raise ImageError(f"image page {number} is {w}×{h} pixels (over {MAX_PIXELS:,}): scan it at a lower resolution")
        if w < 32 or h < 32:
            raise ImageError(f"image page {number} is {w}×{h} pixels: too small to hold a report")
        try:
            rgb = np.asarray(_small_rgb(frame, w, h))
        except Exception as exc:  # noqa: BLE001
            raise ImageError(f"broken image: page {number} cannot be decoded ({type(exc).__name__}: {exc})") from None
        yield fit(rgb)


def _frames(im):
    """The pages of a picture; a page that cannot be reached is a broken image, not a crash."""
    from PIL import ImageSequence

    frames = ImageSequence.Iterator(im)
    number = 0
    while True:
        number += 1
        try:
            frame = next(frames)
        except StopIteration:
            return
        except Exception as exc:  # noqa: BLE001 - PIL raises many kinds for a damaged page
            raise ImageError(f"broken image: page {number} cannot be reached ({type(exc).__name__}: {exc})") from None
        yield frame


def _small_rgb(frame, w: int, h: int):
    """The frame in RGB, shrunk by a whole factor in its own mode first when it is much larger
    than the OCR needs. Decoding then costs the picture once in its stored mode (1 byte a pixel
    for a grey scan), not three more copies at full size (RGB, then NumPy's): a white
    9,000 × 9,000 grey PNG peaked the process at 886 MiB the old way, 199 MiB this way."""
    factor = max(w, h) // MAX_SIDE
    if factor >= 2 and frame.format == "JPEG":
        frame.draft("RGB", (w // factor, h // factor))  # JPEG decodes at a fraction of its size
        w, h = frame.size
        factor = max(w, h) // MAX_SIDE
    if factor >= 2:
        if frame.mode not in ("L", "RGB", "RGBA", "LA", "I", "F", "I;16"):
            frame = frame.convert("L" if frame.mode in ("1", "P") and _grey_palette(frame) else "RGB")
        frame = frame.reduce(factor)
    return frame.convert("RGB")


def _grey_palette(frame) -> bool:
    if frame.mode == "1":
        return True
    pal = frame.getpalette() or []
    return all(pal[i] == pal[i + 1] == pal[i + 2] for i in range(0, len(pal) - 2, 3))


def pdf_pages(data: bytes, numbers: list[int] | None = None) -> Iterator[tuple[int, np.ndarray]]:
    """(page number, RGB pixels) of a PDF's pages (all, or the 1-based `numbers`), rendered one
    at a time at PDF_DPI, never more than MAX_SIDE on the long side."""
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except Exception as exc:  # noqa: BLE001
        raise ImageError(f"broken PDF: cannot be rendered ({type(exc).__name__}: {exc})") from None
    try:
        n = len(pdf)
        if n > MAX_PAGES:
            raise ImageError(f"PDF has {n} pages (more than {MAX_PAGES}): not an annual report")
        for number in numbers or range(1, n + 1):
            page = pdf[number - 1]
            w, h = page.get_size()
            scale = min(PDF_DPI / 72, MAX_SIDE / max(w, h, 1))
            bitmap = page.render(scale=scale)
            rgb = np.asarray(bitmap.to_pil().convert("RGB"))
            bitmap.close()
            page.close()
            yield number, rgb
    finally:
        pdf.close()
