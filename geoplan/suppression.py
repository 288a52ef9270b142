"""Threshold suppression of count tables, with secondary suppression checked by linear algebra.

A count table has areas as rows and categories as columns (layers, within/out of reach, or
men, women, boys and girls), row totals, column totals and a grand total. Each cell carries two
counts: sites and people. A cell (totals included) with fewer than ``k`` sites or fewer than
``m`` people is *primary* suppressed (the OECD threshold rule). Publishing the totals would let
anyone subtract the published cells of a row from its total, so more cells are suppressed
(*secondary* suppression) until no suppressed value can be recomputed from the published ones.

"Can be recomputed" is decided exactly, not by a rule of thumb: the published totals are linear
equations in the suppressed values; a suppressed value is determined when its unit vector lies
in the row space of those equations, that is when every vector of their null space is zero at
it (:func:`determined_cells`). Cells are added until no suppressed value is determined.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.linalg

from geoplan.errors import ParameterError

FLOOR = 3
"""The least ``k`` or ``m`` a policy may set: below it a count points at a family."""
_TOLERANCE = 1e-9


@dataclass(frozen=True)
class Threshold:
    """The threshold rule: a published cell has at least ``k`` sites and ``m`` people.

    Raises
    ------
    ParameterError
        If ``k`` or ``m`` is below :data:`FLOOR`.
    """

    k: int = 5
    m: int = 10

    def __post_init__(self) -> None:
        for name, value in (("k", self.k), ("m", self.m)):
            if value < FLOOR:
                msg = (
                    f"{name} = {value}: the least allowed is {FLOOR}; set {name} to {FLOOR} or more"
                )
                raise ParameterError(msg)

    def text(self) -> str:
        """The rule in words, as products state it."""
        return (
            f"cells with fewer than {self.k} sites or fewer than {self.m} people are suppressed, "
            "and further cells are suppressed so that no suppressed value can be recomputed "
            "from the published row, column or grand totals"
        )


@dataclass(frozen=True)
class CountTable:
    """Counts per area (rows) and category (columns) before suppression.

    Parameters
    ----------
    rows, columns
        Area ids and category names.
    sites, people
        ``len(rows) x len(columns)`` integer counts.
    row_sites
        Sites per row when sites do not add up across the columns (men, women, boys and
        girls are counted at the same sites); None when they do.
    """

    rows: tuple[str, ...]
    columns: tuple[str, ...]
    sites: np.ndarray
    people: np.ndarray
    row_sites: np.ndarray | None = None

    @property
    def additive_sites(self) -> bool:
        """Whether each site is counted in exactly one column of its row."""
        return self.row_sites is None

    def site_grid(self) -> np.ndarray:
        """Sites with totals: ``(rows + 1) x (columns + 1)``, totals last."""
        if self.row_sites is None:
            return with_totals(self.sites)
        per_row = np.append(self.row_sites, self.row_sites.sum())
        return np.repeat(per_row[:, None], len(self.columns) + 1, axis=1)

    def people_grid(self) -> np.ndarray:
        """People with totals: ``(rows + 1) x (columns + 1)``, totals last."""
        return with_totals(self.people)


@dataclass(frozen=True)
class SuppressedTable:
    """A count table and which of its cells (totals included) are not published.

    ``hidden`` and ``primary`` are ``(rows + 1) x (columns + 1)`` masks, totals last.
    """

    table: CountTable
    threshold: Threshold
    hidden: np.ndarray
    primary: np.ndarray

    def published_people(self) -> np.ndarray:
        """People with totals as floats, NaN where suppressed."""
        return np.where(self.hidden, np.nan, self.table.people_grid().astype(float))

    def published_sites(self) -> np.ndarray:
        """Sites with totals as floats, NaN where suppressed."""
        return np.where(self.hidden, np.nan, self.table.site_grid().astype(float))

    @property
    def secondary(self) -> int:
        """How many cells were suppressed only to protect others."""
        return int((self.hidden & ~self.primary).sum())


def with_totals(cells: np.ndarray) -> np.ndarray:
    """``cells`` with a column of row totals and a row of column totals (grand total last)."""
    cells = np.asarray(cells, dtype=np.int64)
    grid = np.zeros((cells.shape[0] + 1, cells.shape[1] + 1), dtype=np.int64)
    grid[:-1, :-1] = cells
    grid[:-1, -1] = cells.sum(axis=1)
    grid[-1, :] = grid[:-1, :].sum(axis=0)
    return grid


def suppress(table: CountTable, threshold: Threshold) -> SuppressedTable:
    """Suppress every cell under the threshold, then enough others that none can be recomputed.

    Secondary cells are chosen smallest first (least information lost): first so that no row
    or column holds exactly one suppressed cell, then, while linear algebra still determines a
    suppressed value, next to it (:func:`determined_cells`).
    """
    people, sites = table.people_grid(), table.site_grid()
    primary = (sites < threshold.k) | (people < threshold.m)
    hidden = _no_single_hidden(primary.copy(), people)
    while (determined := _determined(hidden, table)).any():
        hidden = _hide_next_to(hidden, determined, people)
    return SuppressedTable(table, threshold, hidden, primary)


def equations(shape: tuple[int, int], *, across: bool = True) -> np.ndarray:
    """The totals of a ``(rows + 1) x (columns + 1)`` grid as equations ``A @ grid.ravel() = 0``:
    each total minus the cells it adds up; ``across=False`` keeps only the column sums."""
    n_rows, n_cols = shape
    index = np.arange(n_rows * n_cols).reshape(shape)
    lines: list[np.ndarray] = []
    if across:
        for r in range(n_rows):
            lines.append(_sum_line(index[r, :-1], index[r, -1], n_rows * n_cols))
    for c in range(n_cols):
        lines.append(_sum_line(index[:-1, c], index[-1, c], n_rows * n_cols))
    return np.vstack(lines) if lines else np.zeros((0, n_rows * n_cols))


def _sum_line(parts: np.ndarray, total: int, size: int) -> np.ndarray:
    line = np.zeros(size)
    line[parts] = 1.0
    line[total] = -1.0
    return line


def determined_cells(hidden: np.ndarray, system: np.ndarray) -> np.ndarray:
    """Which hidden cells the published cells determine through ``system`` (``A @ x = 0``).

    The published values move to the right-hand side; the hidden ones are fixed exactly where
    every null-space vector of the remaining columns is zero.
    """
    flat = hidden.ravel()
    unknown = np.flatnonzero(flat)
    out = np.zeros(flat.shape, dtype=bool)
    if not len(unknown):
        return out.reshape(hidden.shape)
    columns = system[:, unknown]
    if not columns.any():
        return out.reshape(hidden.shape)
    free = scipy.linalg.null_space(columns[np.abs(columns).sum(axis=1) > 0])
    fixed = (
        np.abs(free).max(axis=1, initial=0.0) < 1e-7 if free.size else np.ones(len(unknown), bool)
    )
    out[unknown[fixed]] = True
    return out.reshape(hidden.shape)


def _determined(hidden: np.ndarray, table: CountTable) -> np.ndarray:
    found = determined_cells(hidden, equations(hidden.shape))
    if not table.additive_sites:  # sites are published per row only: their column sum
        found |= determined_cells(hidden, equations(hidden.shape, across=False))
    return found


def _no_single_hidden(hidden: np.ndarray, people: np.ndarray) -> np.ndarray:
    """Hide more cells until no row or column of the grid has exactly one hidden cell."""
    changed = True
    while changed:
        changed = False
        for line in _lines(hidden.shape):
            if hidden[line].sum() == 1 and len(line[0]) > 1:
                _hide_smallest(hidden, [line], people)
                changed = True
    return hidden


def _lines(shape: tuple[int, int]) -> list[tuple[np.ndarray, np.ndarray]]:
    n_rows, n_cols = shape
    rows = [(np.full(n_cols, r), np.arange(n_cols)) for r in range(n_rows)]
    columns = [(np.arange(n_rows), np.full(n_rows, c)) for c in range(n_cols)]
    return [*rows, *columns]


def _hide_next_to(hidden: np.ndarray, determined: np.ndarray, people: np.ndarray) -> np.ndarray:
    r, c = np.argwhere(determined)[0]
    n_rows, n_cols = hidden.shape
    lines = [(np.arange(n_rows), np.full(n_rows, c)), (np.full(n_cols, r), np.arange(n_cols))]
    if not _hide_smallest(hidden, lines, people):
        hidden[:] = True  # nothing left to hide beside it: publish nothing rather than leak
    return hidden


def _hide_smallest(
    hidden: np.ndarray, lines: Sequence[tuple[np.ndarray, np.ndarray]], people: np.ndarray
) -> bool:
    """Hide the published cell with the fewest people on ``lines`` (cells before totals)."""
    best: tuple[bool, int, int, int] | None = None
    last_row, last_col = hidden.shape[0] - 1, hidden.shape[1] - 1
    for rows, cols in lines:
        for r, c in zip(rows, cols, strict=True):
            if not hidden[r, c]:
                key = (bool(r == last_row or c == last_col), int(people[r, c]), int(r), int(c))
                best = key if best is None or key < best else best
    if best is None:
        return False
    hidden[best[2], best[3]] = True
    return True
