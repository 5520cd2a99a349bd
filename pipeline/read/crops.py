"""Pictures of OCR'd cells, cut from their page, so a reviewer judges a failing check against
the source without opening the file (assets/findings.py puts them in the findings markdown).

A cell's box (``report_cells.box``) is in the page picture as ``ocr_grid.prepare`` left it
(seal removed, sheet straightened, tilt undone). Preparing is deterministic, so the page is
rendered and prepared again here and the box cut from it, with a margin showing the
neighbouring rules. The file is read inside the drop folder by dropfolder's safe reader.
"""

from __future__ import annotations

import cv2
import numpy as np

MAX_CROPS = 12
_WIDTH = 260  # pixels: wide enough for a number and its neighbours' rules


def cell_crops(data: bytes, cells: list[tuple[int, tuple[int, int, int, int]]]) -> list[bytes | None]:
    """PNG bytes of each (page, box), None where the page cannot be rendered again."""
    from pipeline.read.images import image_kind, image_pages, pdf_pages
    from pipeline.read.ocr_grid import prepare

    wanted = sorted({p for p, _ in cells[:MAX_CROPS]})
    pages: dict[int, np.ndarray] = {}
    try:
        if data.startswith(b"%PDF"):
            pages = {n: prepare(rgb)[0] for n, rgb in pdf_pages(data, wanted)}
        elif image_kind(data):
            for n, rgb in enumerate(image_pages(data), 1):
                if n in wanted:
                    pages[n] = prepare(rgb)[0]
                if n >= max(wanted, default=0):
                    break
    except Exception:  # noqa: BLE001 - no picture is better than no findings
        return [None] * len(cells)
    out: list[bytes | None] = []
    for i, (page, box) in enumerate(cells):
        gray = pages.get(page)
        if gray is None or i >= MAX_CROPS:
            out.append(None)
            continue
        x0, y0, x1, y1 = box
        mx, my = max(6, (x1 - x0) // 6), max(6, (y1 - y0) // 3)
        crop = gray[max(0, y0 - my):y1 + my, max(0, x0 - mx):x1 + mx]
        if crop.size == 0:
            out.append(None)
            continue
        if crop.shape[1] > _WIDTH:
            crop = cv2.resize(crop, (_WIDTH, max(1, crop.shape[0] * _WIDTH // crop.shape[1])), interpolation=cv2.INTER_AREA)
        ok, png = cv2.imencode(".png", crop)
        out.append(png.tobytes() if ok else None)
    return out
