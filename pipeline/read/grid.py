"""A table's grid (rows of cells, None where a merged cell covers the position) → text lines
written the way ``decode.html_to_text`` writes an HTML table, so one extractor reads them all.

- one line per row, cells joined by `` | ``; a merged cell is written once, where it starts;
- an empty cell in a column that holds numbers is a blank value and is written ``-``;
- an empty cell in a column that never holds a number is a piece of a wider label cell (a rule
  drawn through a label, a split grid cell) and is left out, as HTML's colspan would be;
- in a header row (no number, starting in a value column) empty cells are left out too;
- an OCR'd cell with ink that read as nothing (``unread``) is always written ``-``: it stands
  for a value, even in a column where nothing else was read (a seal on a one-row table).
"""

from __future__ import annotations

import re

from pipeline.read.decode import BLANK_CELL

NUMBER = re.compile(r"^[-+]?\d[\d,，]*(?:\.\d+)?\s*(?:%|万元|元)?$")
_CJK_SPACE = re.compile(r"(?<=[\u3400-\u9fff]) (?=[\u3400-\u9fff])")


def clean_cell(cell: str | None) -> str | None:
    """A cell's text on one line: a line break next to Chinese text joins without a space
    (本年新\\n制作数量 → 本年新制作数量), spaces between Chinese characters go (总 计 → 总计)."""
    if cell is None:
        return None
    text = re.sub(r"\s*\n\s*", "\n", cell.replace("\xa0", " ").strip())
    text = re.sub(r"(?<=[^\x00-\x7f])\n|\n(?=[^\x00-\x7f])", "", text).replace("\n", " ")
    text = re.sub(r"\s+", " ", text)
    return _CJK_SPACE.sub("", text).replace("|", "｜")


def grid_lines(rows: list[list[str | None]]) -> list[str | None]:
    """One text line per row (None for a row with nothing to write), see the module docstring."""
    return [" | ".join(text for text, _ in parts) if parts else None for parts in grid_parts(rows)]


def grid_parts(rows: list[list[str | None]]) -> list[list[tuple[str, str]] | None]:
    """Per row, the parts its line is written from: (text written, the grid cell it came
    from). An OCR'd cell is a ``str`` that carries what the engine saw, so each part of a line
    can be traced back to its cell (``scan.py``)."""
    value_cols = {j for r in rows for j, c in enumerate(r) if c and NUMBER.match(c)}
    out: list[list[tuple[str, str]] | None] = []
    for row in rows:
        cells = [(j, c) for j, c in enumerate(row) if c is not None]
        if not any(c for _, c in cells):
            blanks = [(BLANK_CELL, c) for j, c in cells if j in value_cols]
            out.append(blanks if len(blanks) > 1 else None)
            continue
        numeric = any(NUMBER.match(c) for _, c in cells if c)
        header = not numeric and cells[0][0] in value_cols
        out.append([(c if c else BLANK_CELL, c) for j, c in cells if c or (j in value_cols and not header) or _unread(c)])
    return out


def _unread(cell: str) -> bool:
    ocr = getattr(cell, "cell", None)  # an OCR'd cell (scan.OcrText) carries what the engine saw
    return bool(ocr is not None and ocr.unread)
