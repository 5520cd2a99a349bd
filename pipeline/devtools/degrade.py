"""Make a clean page picture look scanned or photographed, as the tests and the OCR
measurement need: the truth stays that of the document rendered.

* ``scan``: a tilt up to 1°, paper noise, a little blur, a red seal (on the table now and
  then, as seals are stamped), JPEG at quality 60–80;
* ``photo``: the sheet on a darker desk seen in perspective (corners moved by up to 4 % of
  the side), light falling off across the page, blur, JPEG.

Pages come from PDFs rendered by pypdfium2 (``render_pages``) at the dpi asked.
"""

from __future__ import annotations

import io
import math
import random

import cv2
import numpy as np
from PIL import Image


def render_pages(pdf: bytes, dpi: int) -> list[np.ndarray]:
    """Every page of a PDF as RGB pixels."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    try:
        return [np.asarray(doc[i].render(scale=dpi / 72).to_pil().convert("RGB")) for i in range(len(doc))]
    finally:
        doc.close()


def seal(rgb: np.ndarray, rng: random.Random, where: tuple[int, int] | None = None) -> np.ndarray:
    """A red round seal: a ring, a star and an arc of characters, drawn over what is there
    (multiplied, as ink on paper)."""
    h, w = rgb.shape[:2]
    r = int(min(h, w) * rng.uniform(0.08, 0.11))
    cx, cy = where or (rng.randint(r, w - r), rng.randint(r, h - r))
    layer = np.full((h, w, 3), 255, np.uint8)
    red = (rng.randint(200, 235), rng.randint(20, 60), rng.randint(20, 60))
    cv2.circle(layer, (cx, cy), r, red, max(3, r // 18))
    pts = [(cx + int(r * 0.35 * math.cos(a)), cy + int(r * 0.35 * math.sin(a))) for a in [-math.pi / 2 + k * 4 * math.pi / 5 for k in range(5)]]
    cv2.fillPoly(layer, [np.array(pts, np.int32)], red)
    for k in range(14):
        a = math.pi * (1.1 + k * 0.8 / 13)
        x, y = cx + int(r * 0.72 * math.cos(a)), cy + int(r * 0.72 * math.sin(a))
        cv2.rectangle(layer, (x - r // 12, y - r // 12), (x + r // 12, y + r // 12), red, max(2, r // 30))
    return (rgb.astype(np.uint16) * layer // 255).astype(np.uint8)


def _jpeg(rgb: np.ndarray, quality: int) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def _noise(rgb: np.ndarray, rng: random.Random, sigma: float) -> np.ndarray:
    gen = np.random.default_rng(rng.randint(0, 2**31))
    return np.clip(rgb.astype(np.int16) + gen.normal(0, sigma, rgb.shape[:2])[:, :, None].astype(np.int16), 0, 255).astype(np.uint8)


def scan(rgb: np.ndarray, rng: random.Random, with_seal: bool = True) -> np.ndarray:
    h, w = rgb.shape[:2]
    if with_seal:
        rgb = seal(rgb, rng)
    angle = rng.uniform(-1.0, 1.0)
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    rgb = cv2.warpAffine(rgb, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=(255, 255, 255))
    rgb = cv2.GaussianBlur(rgb, (0, 0), rng.uniform(0.3, 0.8))
    rgb = _noise(rgb, rng, rng.uniform(4, 10))
    return _jpeg(rgb, rng.randint(60, 80))


def photo(rgb: np.ndarray, rng: random.Random) -> np.ndarray:
    h, w = rgb.shape[:2]
    mx, my = int(w * 0.08), int(h * 0.06)
    out_w, out_h = w + 2 * mx, h + 2 * my
    j = lambda s: rng.uniform(-0.04, 0.04) * s  # noqa: E731
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = np.float32([[mx + j(w), my + j(h)], [mx + w + j(w), my + j(h)], [mx + w + j(w), my + h + j(h)], [mx + j(w), my + h + j(h)]])
    desk = tuple(rng.randint(40, 90) for _ in range(3))
    pic = cv2.warpPerspective(rgb, cv2.getPerspectiveTransform(src, dst), (out_w, out_h), flags=cv2.INTER_LINEAR, borderValue=desk)
    yy, xx = np.mgrid[0:out_h, 0:out_w].astype(np.float32)
    a = rng.uniform(0, 2 * math.pi)
    ramp = (xx * math.cos(a) + yy * math.sin(a)) / max(out_w, out_h)
    light = 1.0 - rng.uniform(0.25, 0.45) * (ramp - ramp.min()) / max(float(np.ptp(ramp)), 1e-6)
    pic = np.clip(pic.astype(np.float32) * light[:, :, None], 0, 255).astype(np.uint8)
    pic = cv2.GaussianBlur(pic, (0, 0), rng.uniform(0.5, 1.0))
    pic = _noise(pic, rng, rng.uniform(3, 8))
    return _jpeg(pic, rng.randint(60, 80))


def to_pdf(pages: list[np.ndarray], dpi: int) -> bytes:
    """Pictures → an image-only PDF (what a scanner writes)."""
    ims = [Image.fromarray(p) for p in pages]
    buf = io.BytesIO()
    ims[0].save(buf, "PDF", save_all=True, append_images=ims[1:], resolution=dpi, quality=75)
    return buf.getvalue()


def to_image(rgb: np.ndarray, fmt: str = "JPEG") -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, fmt, **({"quality": 80} if fmt in ("JPEG", "WEBP") else {}))
    return buf.getvalue()
