"""Evaluate the form's arithmetic identities on extracted cells.

An instance of an identity (one column of the balance, one row's total) is:

* ``ok`` — every cell present and the sums agree;
* ``violated`` — every cell present and the sums differ: the source or the extraction is
  wrong, and the instance says by how much;
* ``implied`` — exactly one cell is blank and the others fix its value: a finding (FORMS.md:
  the identities may say what a blank must be), never a silent fill;
* ``incomplete`` — cells are missing or unresolved, so nothing can be said.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from pipeline.form import Identity, TableSpec, table_identities

Grid = dict[tuple[str, str], Decimal | None]

_IDENTITIES: dict[int, tuple[TableSpec, tuple[Identity, ...]]] = {}


def identities_of(table: TableSpec) -> tuple[Identity, ...]:
    """``table_identities`` remembered per table object: the form's tables are constants,
    and hashing a frozen TableSpec (every row and column) on each call costs more than the
    lookup it serves."""
    hit = _IDENTITIES.get(id(table))
    if hit is None or hit[0] is not table:
        hit = _IDENTITIES[id(table)] = (table, table_identities(table))
    return hit[1]


@dataclass(frozen=True)
class InstanceResult:
    identity: str
    location: str
    status: str  # ok · violated · implied · incomplete
    left: tuple[tuple[str, str], ...]
    right: tuple[tuple[str, str], ...]
    left_sum: Decimal | None
    right_sum: Decimal | None
    implied_cell: tuple[str, str] | None = None
    implied_value: Decimal | None = None


def evaluate_instance(identity: Identity, location: str, left, right, grid: Grid, present: set | None = None) -> InstanceResult:
    """`present` lists cells that exist in the source but are blank (implied candidates);
    a cell absent from the grid entirely is missing."""
    cells = list(left) + list(right)
    if any(c not in grid for c in cells):
        return InstanceResult(identity.name, location, "incomplete", left, right, None, None)
    blanks = [c for c in cells if grid[c] is None]
    lsum = sum((grid[c] or Decimal(0)) for c in left)
    rsum = sum((grid[c] or Decimal(0)) for c in right)
    if not blanks:
        status = "ok" if lsum == rsum else "violated"
        return InstanceResult(identity.name, location, status, left, right, lsum, rsum)
    if present is not None and not all(c in present for c in blanks):
        return InstanceResult(identity.name, location, "incomplete", left, right, lsum, rsum)
    # blanks are unknown non-negative counts: only a side that cannot grow enough contradicts
    left_blank = [c for c in blanks if c in left]
    right_blank = [c for c in blanks if c in right]
    if left_blank and right_blank:
        return InstanceResult(identity.name, location, "implied", left, right, lsum, rsum)
    gap = (rsum - lsum) if left_blank else (lsum - rsum)
    if gap < 0:
        return InstanceResult(identity.name, location, "violated", left, right, lsum, rsum)
    cell = blanks[0] if len(blanks) == 1 else None
    return InstanceResult(identity.name, location, "implied", left, right, lsum, rsum, cell, gap if cell else None)


def evaluate_table(table: TableSpec, grid: Grid, blanks: set | None = None) -> list[InstanceResult]:
    """Every instance of every identity of the table."""
    return [
        evaluate_instance(ident, loc, left, right, grid, blanks)
        for ident in identities_of(table)
        for loc, left, right in ident.instances
    ]
