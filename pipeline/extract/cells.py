"""What extraction produces, shared by every table reader (labelled text, converter layouts,
grids): a token of the text, a cell with how it was read, a table's result."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass
class Token:
    text: str  # the digits (or blank marker)
    raw: str
    offset: int  # in the normalized text
    blank: bool = False


@dataclass
class Cell:
    table: str
    row_key: str
    column_key: str
    value: Decimal | None
    raw: str | None
    offset: int | None
    how: str  # read · split · ocr · "ocr, decided by …" · unresolved · missing
    candidates: list[str] = field(default_factory=list)
    note: str = ""
    ocr: object | None = None  # OCR'd cell: what the engine saw (read/ocr_grid.OcrCell: confidence, page, box)


def is_read(how: str) -> bool:
    """A value taken from the source: read as printed, cut from run-together digits, or OCR'd
    (confirmed or decided by the identities)."""
    return how in ("read", "split", "ocr") or how.startswith("ocr, ")


@dataclass
class TableResult:
    name: str
    found: bool
    cells: list[Cell]
    notes: list[str] = field(default_factory=list)
