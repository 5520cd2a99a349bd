"""Tesseract (Debian's ``tesseract-ocr`` with ``tesseract-ocr-chi-sim``) in place of RapidOCR,
for the engine comparison of ``bench_ocr --engine tesseract`` only: the product never uses it.

Same pages, same grid, same cell crops: only the recognition differs. The crops of a page are
stacked on one canvas, 30 px apart, and read by one ``tesseract … --psm 6 tsv`` call (a call
per crop would measure process start-up, not OCR); each word goes back to the crop whose band
holds its centre. Tesseract gives a confidence per word and no second choice per digit.
"""

from __future__ import annotations

import csv
import io
import re
import subprocess
import tempfile

import cv2
import numpy as np

from pipeline.read import ocr
from pipeline.read.ocr import Digit, Reading

_GAP = 30


class TesseractEngine:
    def __init__(self, lang: str = "chi_sim"):
        self.lang = lang

    def detect(self, img):  # not used: the grid and the prose cut find the text
        return []

    def recognize(self, crops: list[np.ndarray]) -> list[Reading]:
        if not crops:
            return []
        grays = [c if c.ndim == 2 else cv2.cvtColor(c, cv2.COLOR_BGR2GRAY) for c in crops]
        width = max(g.shape[1] for g in grays) + 2 * _GAP
        height = sum(g.shape[0] + _GAP for g in grays) + _GAP
        canvas = np.full((height, width), 255, np.uint8)
        bands, y = [], _GAP
        for g in grays:
            canvas[y:y + g.shape[0], _GAP:_GAP + g.shape[1]] = g
            bands.append((y - _GAP // 2, y + g.shape[0] + _GAP // 2))
            y += g.shape[0] + _GAP
        with tempfile.NamedTemporaryFile(suffix=".png") as f:
            cv2.imwrite(f.name, canvas)
            tsv = subprocess.run(["tesseract", f.name, "-", "-l", self.lang, "--psm", "6", "tsv"],
                                 capture_output=True, text=True, check=True, timeout=300).stdout
        words: list[list[tuple[int, str, float]]] = [[] for _ in crops]
        for row in csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE):
            text = (row.get("text") or "").strip()
            if row.get("level") != "5" or not text:
                continue
            cy = int(row["top"]) + int(row["height"]) // 2
            for i, (a, b) in enumerate(bands):
                if a <= cy < b:
                    words[i].append((int(row["left"]), text, float(row["conf"]) / 100))
                    break
        out = []
        for ws in words:
            ws.sort()
            text = " ".join(t for _, t, _ in ws)
            conf = min((c for _, _, c in ws), default=0.0)
            r = Reading(text, conf)
            if text and ocr._NUMERIC.match(text):
                r.digits = [Digit(ch, conf) for ch in re.sub(r"[^0-9]", "", text.replace("O", "0").replace("o", "0").replace("l", "1").replace("I", "1").replace("S", "5").replace("B", "8"))]
            out.append(r)
        return out


def install() -> None:
    """Make ``ocr.engine()`` return Tesseract in this process."""
    ocr._ENGINE = TesseractEngine()  # type: ignore[assignment]
