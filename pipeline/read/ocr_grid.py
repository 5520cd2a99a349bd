"""A page picture → its ruled tables as grids and its prose as lines, the shapes ``pdf.py``
builds from a text layer, so one renderer and one extractor serve both.

The picture is first made as a scanner would wish it: a red seal is whitened (its ink sits
in the red channel), uneven light is divided out, a photographed page is straightened to its
four corners, and a tilted scan is turned back by the angle of its long ruled lines.

The grid comes from the rules, not from the reading order: horizontal and vertical strokes are
kept by morphological opening (a stroke longer than any character), their positions give the
grid's rows and columns, and a missing rule between two positions merges them into one cell —
what pdfplumber finds in a PDF's drawing. Each cell is then read on its own: its ink is cut
into text lines by its horizontal profile and each line is recognised (``ocr.recognize``),
so an isolated ``0`` that a page-wide text detector overlooks is still read. A cell with ink
that reads as nothing is kept as *unread*, never as blank. Outside the tables, the text
detector finds the prose lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from pipeline.read.ocr import Engine, Reading

_MIN_TABLE = 0.15  # a table is at least this share of the page's width
_INK_PIXELS = 12  # dark pixels (specks removed) a cell must hold to hold something: a small "1" has ~40 at 150 dpi


@dataclass
class OcrCell:
    """One grid cell of an OCR'd table: what it read and how sure the engine was."""
    text: str
    page: int
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 in the page picture (pixels)
    confidence: float = 1.0
    digits: list = field(default_factory=list)  # ocr.Digit per digit when the cell reads as a number
    unread: bool = False  # ink, but nothing recognised
    letters: str = ""  # the digits were decoded from what read as no number (ocr.Reading.letters)

    def to_json(self) -> dict:
        return {"text": self.text, "page": self.page, "box": list(self.box), "confidence": round(self.confidence, 4),
                "digits": [[d.char, round(d.prob, 4), d.alt, round(d.alt_prob, 4)] for d in self.digits], "unread": self.unread,
                "letters": self.letters}

    @classmethod
    def from_json(cls, d: dict) -> "OcrCell":
        from pipeline.read.ocr import Digit

        return cls(d["text"], d["page"], tuple(d["box"]), d["confidence"], [Digit(*x) for x in d["digits"]], d["unread"], d.get("letters", ""))


@dataclass
class PageTable:
    cells: list[list[OcrCell | None]]  # rows × grid columns; None where a merged cell covers the position
    row_boxes: list[tuple[int, int, int, int]]
    col_edges: list[int]
    bbox: tuple[int, int, int, int]


@dataclass
class PageLine:
    text: str
    box: tuple[int, int, int, int]


@dataclass
class Page:
    number: int
    width: int
    height: int
    tables: list[PageTable]
    lines: list[PageLine]
    angle: float = 0.0
    warped: bool = False


# ----------------------------------------------------------------------------- the picture

SEAL_LEVEL = 25  # percentile of the seal's red taken as its full strength (lower: the seal whiter, faint ink under it lighter)


def remove_seal(rgb: np.ndarray) -> np.ndarray:
    """The page in grey without its red seal, and with what the seal was stamped on.

    A red seal multiplies what lies under it by its colour, and its red share is close to
    white: in the red channel the seal nearly vanishes while black ink under it stays dark.
    So on and around the seal's red pixels the grey value is the red channel, scaled so that
    the seal's own red (the SEAL_LEVEL-th percentile of its saturated pixels) is white. The
    pixels just round each red stroke are taken the same way (a 3-pixel widening): JPEG keeps
    colour at half the resolution of brightness, so a stroke's edge is pink too pale to count
    as red, and a plain grey makes it a ring of specks round every stroke of the seal —
    specks that cut labels and digits into pieces the recogniser misreads. Measured on 16
    sealed table pages against the same pages unsealed (``devtools/degrade``): ink the seal
    leaves where there was none, 101 % of the true ink in the seal's disc with red pixels
    alone (and 202 % for a plain grey) → 14 %; true ink lost 5 % → 7.5 %."""
    r = rgb[:, :, 0].astype(np.int16)
    g, b = rgb[:, :, 1].astype(np.int16), rgb[:, :, 2].astype(np.int16)
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    red = (r - g > 25) & (r - b > 20)  # low enough for a seal's pink, JPEG-blurred edges
    if not red.any():
        return gray
    core = (r - g > 100) & (r - b > 100)
    del g, b
    level = float(np.percentile(r[core], SEAL_LEVEL)) if core.sum() > 50 else float(np.percentile(r[red], 90))
    zone = cv2.dilate(red.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    gray[zone] = np.clip(r[zone].astype(np.float32) * 255.0 / max(level, 1.0), 0, 255).astype(np.uint8)
    return gray


def flatten_light(gray: np.ndarray) -> np.ndarray:
    """Divide by the page's background (a wide closing), so a shadow or uneven light does not
    turn into ink or swallow it."""
    k = max(15, (min(gray.shape) // 40) | 1)
    bg = cv2.morphologyEx(gray, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    bg = cv2.GaussianBlur(bg, (0, 0), k / 3)
    return cv2.divide(gray, np.maximum(bg, 1), scale=255)


def straighten_photo(gray: np.ndarray) -> tuple[np.ndarray, bool]:
    """A photographed sheet on a darker ground → the sheet alone, warped to a rectangle. A scan
    (the sheet is the whole picture) is returned as it is."""
    h, w = gray.shape
    small = cv2.resize(gray, (w // 4, h // 4)) if min(h, w) > 800 else gray
    scale = gray.shape[1] / small.shape[1]
    _, sheet = cv2.threshold(cv2.GaussianBlur(small, (5, 5), 0), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    contours, _ = cv2.findContours(sheet, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return gray, False
    c = max(contours, key=cv2.contourArea)
    area = cv2.contourArea(c)
    if area < 0.3 * small.size or area > 0.97 * small.size:
        return gray, False
    quad = cv2.approxPolyDP(c, 0.02 * cv2.arcLength(c, True), True)
    if len(quad) != 4:
        return gray, False
    pts = quad.reshape(4, 2).astype(np.float32) * scale
    s, d = pts.sum(axis=1), np.diff(pts, axis=1).ravel()
    tl, br, tr, bl = pts[np.argmin(s)], pts[np.argmax(s)], pts[np.argmin(d)], pts[np.argmax(d)]
    width = int(max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl)))
    height = int(max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr)))
    m = cv2.getPerspectiveTransform(np.array([tl, tr, br, bl]), np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32))
    return cv2.warpPerspective(gray, m, (width, height), flags=cv2.INTER_CUBIC, borderValue=255), True


def binarize(gray: np.ndarray) -> np.ndarray:
    """Ink = 255. Adaptive, so a grey scan and a dark photo both keep thin rules."""
    return cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 31, 15)


def _strokes(ink: np.ndarray, horizontal: bool, length: int) -> np.ndarray:
    size = (length, 1) if horizontal else (1, length)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, size)
    return cv2.morphologyEx(ink, cv2.MORPH_OPEN, kernel)


def skew_angle(ink: np.ndarray) -> float:
    """The tilt in degrees, from the long horizontal rules (median of their angles); 0 when the
    page has none."""
    small = cv2.resize(ink, (ink.shape[1] // 2, ink.shape[0] // 2), interpolation=cv2.INTER_AREA)
    h, w = small.shape
    lines = cv2.HoughLinesP(_strokes(small, True, max(20, w // 20)), 1, np.pi / 1800, threshold=w // 8, minLineLength=w // 6, maxLineGap=4)
    if lines is None:
        return 0.0
    angles = [np.degrees(np.arctan2(y2 - y1, x2 - x1)) for x1, y1, x2, y2 in lines.reshape(-1, 4).astype(float)]
    angles = [a for a in angles if abs(a) < 5]
    return float(np.median(angles)) if angles else 0.0


def rotate(gray: np.ndarray, angle: float) -> np.ndarray:
    h, w = gray.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    return cv2.warpAffine(gray, m, (w, h), flags=cv2.INTER_CUBIC, borderValue=255)


def prepare(rgb: np.ndarray) -> tuple[np.ndarray, float, bool]:
    """The cleaned grey page, the tilt it had and whether it was a photographed sheet."""
    gray = remove_seal(rgb)
    gray, warped = straighten_photo(gray)
    gray = flatten_light(gray)
    angle = skew_angle(binarize(gray))
    if abs(angle) > 0.05:
        gray = rotate(gray, angle)
    return gray, angle, warped


# ----------------------------------------------------------------------------- the grid

def _positions(profile: np.ndarray, min_run: int) -> list[int]:
    """Centres of the runs of rows (or columns) where the profile reaches min_run."""
    on = profile >= min_run
    out, start = [], None
    for i, v in enumerate(np.append(on, False)):
        if v and start is None:
            start = i
        elif not v and start is not None:
            out.append(int(start + i - 1) // 2)
            start = None
    return out


def _covered(mask: np.ndarray, y0: int, y1: int, x0: int, x1: int) -> float:
    band = mask[max(y0, 0):max(y1, y0 + 1), max(x0, 0):max(x1, x0 + 1)]
    if band.size == 0:
        return 0.0
    along = band.max(axis=0) if band.shape[0] <= band.shape[1] else band.max(axis=1)
    return float(np.count_nonzero(along)) / along.size


def find_tables(ink: np.ndarray) -> list[tuple[tuple[int, int, int, int], list[int], list[int], np.ndarray, np.ndarray]]:
    """Each ruled table: bbox, row rule positions, column rule positions, and the stroke masks."""
    h, w = ink.shape
    # a rule a seal was stamped on comes back bent by a pixel or two and with small breaks: the
    # ink is widened across the rule's direction before looking for long strokes, and rule
    # pieces (each already longer than any character) a few pixels apart are one rule
    hor = _strokes(cv2.dilate(ink, np.ones((3, 1), np.uint8)), True, max(30, w // 40))
    ver = _strokes(cv2.dilate(ink, np.ones((1, 3), np.uint8)), False, max(20, h // 80))
    gap = max(9, h // 150)
    hor = cv2.morphologyEx(hor, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (gap, 1)))
    ver = cv2.morphologyEx(ver, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (1, gap)))
    ver = _between_rules(ver, hor)  # (both already as wide as the ink widened by a pixel each side)
    hor = _ruled_or_long(hor, ver, w // 6)
    frame = cv2.dilate(hor | ver, np.ones((5, 5), np.uint8))
    n, _, stats, _ = cv2.connectedComponentsWithStats(frame)
    out = []
    for i in range(1, n):
        x, y, bw, bh = (int(v) for v in stats[i][:4])
        if bw < _MIN_TABLE * w or bh < 20:
            continue
        hh, vv = hor[y:y + bh, x:x + bw], ver[y:y + bh, x:x + bw]
        ys = [y + int(p) for p in _positions(np.count_nonzero(hh, axis=1), max(20, bw // 20))]
        xs = [x + int(p) for p in _positions(np.count_nonzero(vv, axis=0), max(10, min(bh // 3, 40)))]
        ys, xs = _dedupe(ys, 6), _dedupe(xs, 6)
        if len(ys) >= 2 and len(xs) >= 2:
            out.append(((x, y, x + bw, y + bh), ys, xs, hor, ver))
    return sorted(out, key=lambda t: t[0][1])


def _between_rules(ver: np.ndarray, hor: np.ndarray) -> np.ndarray:
    """Vertical strokes that run from one horizontal rule to another: a rule, kept from the
    first horizontal rule it meets to the last (a character a bridged gap joined below the
    table is cut off). A tall digit 1 or a stroke of a character stands inside a cell and
    meets at most one."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ver)
    near = cv2.dilate(hor, np.ones((9, 9), np.uint8)) > 0
    out = np.zeros_like(ver)
    for i in range(1, n):
        x, y, w, h = (int(v) for v in stats[i][:4])
        mine = labels[y:y + h, x:x + w] == i
        touch = np.nonzero((mine & near[y:y + h, x:x + w]).any(axis=1))[0]
        if touch.size > 1 and (np.diff(touch) > 1).any():  # meets two rules, not one rule's band
            top, bottom = int(touch[0]), int(touch[-1]) + 1
            out[y + top:y + bottom, x:x + w][mine[top:bottom]] = 255
    return out


def _ruled_or_long(hor: np.ndarray, ver: np.ndarray, long: int) -> np.ndarray:
    """Horizontal strokes that are long, or end on a vertical rule: a rule. The stroke of 一
    or of a dash stands inside a cell and does neither."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(hor)
    near = cv2.dilate(ver, np.ones((9, 9), np.uint8)) > 0
    keep = np.zeros(n, bool)
    for i in range(1, n):
        x, y, w, h = (int(v) for v in stats[i][:4])
        keep[i] = w >= long or near[y:y + h, x:x + 4].any() or near[y:y + h, x + w - 4:x + w].any()
    return np.where(keep[labels], 255, 0).astype(np.uint8)


def _dedupe(ps: list[int], gap: int) -> list[int]:
    out: list[int] = []
    for p in ps:
        if out and p - out[-1] <= gap:
            out[-1] = (out[-1] + p) // 2
        else:
            out.append(p)
    return out


def grid_regions(ys: list[int], xs: list[int], hor: np.ndarray, ver: np.ndarray) -> list[list[tuple[int, int, int, int]]]:
    """Merge grid positions not separated by a rule; return, per region, the grid positions
    (row0, col0, row1, col1) it covers — listed at its top-left position."""
    nr, nc = len(ys) - 1, len(xs) - 1
    parent = list(range(nr * nc))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for i in range(nr):
        for j in range(nc):
            if j + 1 < nc and _covered(ver, ys[i] + 3, ys[i + 1] - 3, xs[j + 1] - 2, xs[j + 1] + 3) < 0.6:
                parent[find(i * nc + j + 1)] = find(i * nc + j)
            if i + 1 < nr and _covered(hor, ys[i + 1] - 2, ys[i + 1] + 3, xs[j] + 3, xs[j + 1] - 3) < 0.6:
                parent[find((i + 1) * nc + j)] = find(i * nc + j)
    spans: dict[int, list[int]] = {}
    for i in range(nr):
        for j in range(nc):
            r = find(i * nc + j)
            s = spans.setdefault(r, [i, j, i, j])
            s[0], s[1], s[2], s[3] = min(s[0], i), min(s[1], j), max(s[2], i), max(s[3], j)
    return [tuple(s) for s in spans.values()]  # type: ignore[misc]


# ----------------------------------------------------------------------------- reading

def text_lines(ink: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Boxes (x0, y0, x1, y1) of the text lines in a cell's ink, by its horizontal profile."""
    rows = np.count_nonzero(ink, axis=1)
    out = []
    for y0, y1 in _runs(rows > 0, 2):
        band = ink[y0:y1]
        cols = np.nonzero(np.count_nonzero(band, axis=0))[0]
        if y1 - y0 >= 4 and cols.size:
            out.append((int(cols[0]), y0, int(cols[-1]) + 1, y1))
    return out


def _runs(on: np.ndarray, gap: int) -> list[tuple[int, int]]:
    """Runs of True, bridging gaps up to `gap`."""
    out: list[list[int]] = []
    for i in np.nonzero(on)[0]:
        if out and i - out[-1][1] <= gap:
            out[-1][1] = i + 1
        else:
            out.append([i, i + 1])
    return [(a, b) for a, b in out]


def read_page(rgb: np.ndarray, number: int, eng: Engine) -> Page:
    """OCR one page picture into tables and prose lines."""
    gray, angle, warped = prepare(rgb)
    ink = binarize(gray)
    h, w = gray.shape
    tables = []
    crops: list[np.ndarray] = []
    jobs: list[tuple[OcrCell, int]] = []  # cell, crop index (several per multi-line cell)
    masked = gray.copy()
    for bbox, ys, xs, hor, ver in find_tables(ink):
        regions = grid_regions(ys, xs, hor, ver)
        grid: list[list[OcrCell | None]] = [[None] * (len(xs) - 1) for _ in range(len(ys) - 1)]
        rules = cv2.dilate(hor | ver, np.ones((5, 5), np.uint8))
        lines_only = cv2.subtract(ink, rules)  # the ink without the rules
        clean = np.where(rules > 0, 255, gray).astype(np.uint8)  # crops never show a rule (it reads as 1)
        for r0, c0, r1, c1 in regions:
            x0, y0, x1, y1 = xs[c0], ys[r0], xs[c1 + 1], ys[r1 + 1]
            pad = 4
            inner = lines_only[y0 + pad:y1 - pad, x0 + pad:x1 - pad]
            cell = OcrCell("", number, (x0, y0, x1, y1))
            grid[r0][c0] = cell
            inner = _despeckle(inner) if inner.size else inner
            if np.count_nonzero(inner) < _INK_PIXELS:
                continue  # no ink: a blank cell
            for lx0, ly0, lx1, ly1 in text_lines(inner):
                gx0, gy0 = x0 + pad + lx0, y0 + pad + ly0
                crop = clean[max(gy0 - 4, 0):gy0 + (ly1 - ly0) + 4, max(gx0 - 6, 0):gx0 + (lx1 - lx0) + 6]
                jobs.append((cell, len(crops)))
                crops.append(cv2.cvtColor(crop, cv2.COLOR_GRAY2BGR))
            if not any(c is cell for c, _ in jobs):
                cell.unread, cell.confidence = True, 0.0
        tables.append(PageTable(grid, [(bbox[0], ys[i], bbox[2], ys[i + 1]) for i in range(len(ys) - 1)], xs, bbox))
        mx, my = 12, 3  # the rules of a photographed table bow a little past its box; a heading may sit close above it
        masked[max(0, bbox[1] - my):bbox[3] + my, max(0, bbox[0] - mx):bbox[2] + mx] = 255
    readings = _second_look(eng, crops, eng.recognize(crops), jobs)
    parts: dict[int, list[Reading]] = {}
    for cell, k in jobs:
        parts.setdefault(id(cell), []).append(readings[k])
    for t in tables:
        for row in t.cells:
            for cell in row:
                if cell is not None and id(cell) in parts:
                    _fill(cell, parts[id(cell)])
    prose = _prose(masked, eng)
    return Page(number, w, h, tables, prose, angle, warped)


RECHECK = 0.90  # a one-line cell read less sure than this is read again (as extract/ocr_digits.SURE)


def _second_look(eng: Engine, crops: list[np.ndarray], readings: list[Reading], jobs: list) -> list[Reading]:
    """A one-line cell the engine read unsure of is read once more from the same crop with a
    wider margin (the recogniser sees a digit pressed against its crop's edge less well) and
    once with its contrast stretched (a faint 150-dpi digit, a pale minus). A second reading
    replaces the first only when it reads the same number, sure this time; a cell whose first
    reading was no number (letters, nothing) takes a number only when both looks read it and
    one of them is sure. Anything else stays as first read — unsure, for the identities."""
    lines: dict[int, list[int]] = {}
    for cell, k in jobs:
        lines.setdefault(id(cell), []).append(k)
    todo = [ks[0] for ks in lines.values() if len(ks) == 1 and _unsure_number(readings[ks[0]])]
    if not todo:
        return readings
    looks: list[np.ndarray] = []
    for k in todo:
        c = crops[k]
        looks.append(cv2.copyMakeBorder(c, 8, 8, 16, 16, cv2.BORDER_REPLICATE))
        lo, hi = float(c.min()), float(np.percentile(c, 90))
        looks.append(np.clip((c.astype(np.float32) - lo) * 255 / max(hi - lo, 1.0), 0, 255).astype(np.uint8))
    again = eng.recognize(looks)
    out = list(readings)
    for n, k in enumerate(todo):
        first, wide, stretched = readings[k], again[2 * n], again[2 * n + 1]
        if first.numeric:
            same = [r for r in (wide, stretched) if r.numeric and r.number == first.number and r.confidence >= RECHECK]
        elif wide.numeric and stretched.numeric and wide.number == stretched.number:
            same = [r for r in (wide, stretched) if r.confidence >= RECHECK]
        else:
            same = []
        if same:
            out[k] = max(same, key=lambda r: r.confidence)
    return out


def _unsure_number(r: Reading) -> bool:
    """A reading worth a second look: a number read unsure, or a few characters that are no
    word (what OCR makes of a digit under a seal's remains), or nothing."""
    if r.numeric:
        return r.confidence < RECHECK
    return len(r.text) <= 3 and not any("\u3400" <= ch <= "\u9fff" for ch in r.text)


def _despeckle(inner: np.ndarray) -> np.ndarray:
    """Drop specks (scanner noise) smaller than a stroke's dot, and thin remnants of a rule
    along the cell's edge (a tilted or thick rule the rule mask did not cover)."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(inner, connectivity=8)
    h, w = inner.shape
    x, y, cw, ch, area = (stats[:, i] for i in range(5))
    edge = (x == 0) | (y == 0) | (x + cw >= w) | (y + ch >= h)
    keep = (area >= 6) & ~(edge & ((cw <= 5) | (ch <= 5)))
    keep[0] = False
    return np.where(keep[labels], 255, 0).astype(np.uint8)


def _fill(cell: OcrCell, readings: list[Reading]) -> None:
    texts = [r.text for r in readings if r.text]
    if not texts:
        cell.unread, cell.confidence = True, 0.0
        return
    if len(readings) == 1 and readings[0].numeric:
        r = readings[0]
        cell.text, cell.digits, cell.confidence, cell.letters = r.number, r.digits, r.confidence, r.letters
        return
    cell.text = "\n".join(texts)
    cell.confidence = min(r.score for r in readings if r.text)


def _split_tall(bands: list[tuple[int, int]], profile: np.ndarray, usual: float) -> list[tuple[int, int]]:
    """Two text lines run together (a seal's remains or a descender bridging the gap) make a
    band about twice the usual height: cut it at its thinnest row, again while still tall."""
    if not bands:
        return bands
    out = []
    todo = list(bands)
    while todo:
        y0, y1 = todo.pop(0)
        if y1 - y0 > 1.6 * usual and usual >= 6:
            lo, hi = y0 + int(usual * 0.6), y1 - int(usual * 0.6)
            cut = lo + int(np.argmin(profile[lo:hi])) if hi > lo else None
            if cut is not None and profile[cut] <= 0.25 * float(np.median(profile[y0:y1])):  # a gap, not a stroke
                todo[:0] = [(y0, cut), (cut + 1, y1)]
                continue
        out.append((y0, y1))
    return out


def _prose(gray: np.ndarray, eng: Engine) -> list[PageLine]:
    """Text lines outside the tables (the tables are whitened): cut by the page's horizontal
    ink profile, each line's extent by its vertical profile, then recognised — the same cut
    as inside a cell. Far cheaper than the engine's page-wide text detector (≈ 4 s a page on
    one core), and prose pages are one column."""
    ink = _despeckle(binarize(gray))
    h, w = ink.shape
    boxes = []
    profile = np.count_nonzero(ink, axis=1)
    lit = profile > max(2, w // 400)  # a row of text has dozens of ink pixels; specks and a seal's remains a few
    bands = [(y0, y1) for y0, y1 in _runs(lit, max(1, h // 600)) if max(6, h // 200) <= y1 - y0 <= h // 8]  # a text line is taller than 1.3 mm (h // 200 on an A4 page)
    texty = [b for b in bands if np.count_nonzero(ink[b[0]:b[1]].any(axis=0)) >= 1.5 * (b[1] - b[0])]  # text is wider than tall; an edge sliver is not
    single = [b - a for a, b in texty if b - a <= h // 25] or [b - a for a, b in texty]  # lines run together are not the usual height
    usual = float(np.median(single)) if single else 0.0
    bands = [b for b in texty if b[1] - b[0] >= 0.5 * usual]
    for y0, y1 in _split_tall(bands, profile, usual):
        if y1 - y0 < max(0.5 * usual, h // 200):
            continue  # a sliver cut off a tall band (a seal's remains under a line): no text line
        cols = np.nonzero(np.count_nonzero(ink[y0:y1], axis=0))[0]
        for x0, x1 in _runs(np.isin(np.arange(w), cols), max(40, 3 * (y1 - y0))):
            boxes.append((int(x0), int(y0), int(x1), int(y1)))
    if not boxes:
        return []
    crops = [cv2.cvtColor(gray[max(b[1] - 3, 0):b[3] + 3, max(b[0] - 4, 0):b[2] + 4], cv2.COLOR_GRAY2BGR) for b in boxes]
    readings = eng.recognize(crops)
    lines: list[list[tuple[tuple[int, int, int, int], str]]] = []
    for b, r in zip(boxes, readings):
        if not r.text:
            continue
        if lines and lines[-1][0][0][1] == b[1]:
            lines[-1].append((b, r.text))
        else:
            lines.append([(b, r.text)])
    out = []
    for ln in lines:
        box = (min(b[0] for b, _ in ln), min(b[1] for b, _ in ln), max(b[2] for b, _ in ln), max(b[3] for b, _ in ln))
        out.append(PageLine(" ".join(t for _, t in ln), box))
    return out
