"""Threshold suppression: the floor, primary cells, secondary cells, and an independent check by
matrix rank that no suppressed cell of any table can be recomputed from what is published."""

from __future__ import annotations

import numpy as np
import pytest

from geoplan.errors import ParameterError
from geoplan.suppression import (
    CountTable,
    Threshold,
    determined_cells,
    equations,
    suppress,
    with_totals,
)


def recomputable(published: np.ndarray) -> list[tuple[int, int]]:
    """Suppressed (NaN) cells of a grid with totals last that its published cells and totals
    fix, found by rank: a cell is fixed when its unit vector adds nothing to the row space of
    the totals' equations restricted to the suppressed cells."""
    n_rows, n_cols = published.shape
    index = np.arange(published.size).reshape(published.shape)
    lines = []
    for r in range(n_rows):
        line = np.zeros(published.size)
        line[index[r, :-1]], line[index[r, -1]] = 1, -1
        lines.append(line)
    for c in range(n_cols):
        line = np.zeros(published.size)
        line[index[:-1, c]], line[index[-1, c]] = 1, -1
        lines.append(line)
    system = np.array(lines)
    hidden = np.flatnonzero(np.isnan(published.ravel()))
    a = system[:, hidden]
    rank = np.linalg.matrix_rank(a) if a.size else 0
    fixed = []
    for j, cell in enumerate(hidden):
        unit = np.zeros(len(hidden))
        unit[j] = 1
        if np.linalg.matrix_rank(np.vstack([a, unit])) == rank:
            fixed.append(divmod(int(cell), n_cols))
    return fixed


def table(people: list[list[int]], sites: list[list[int]] | None = None) -> CountTable:
    """A table of hand-written counts (sites default to 5 per cell)."""
    p = np.array(people)
    s = np.array(sites) if sites is not None else np.full_like(p, 5)
    rows = tuple(f"A{i}" for i in range(p.shape[0]))
    return CountTable(rows, tuple(f"c{j}" for j in range(p.shape[1])), s, p)


def test_threshold_floor_cannot_be_lowered() -> None:
    """k and m below 3 are refused, naming the setting and the floor."""
    with pytest.raises(ParameterError, match="k = 2: the least allowed is 3"):
        Threshold(k=2)
    with pytest.raises(ParameterError, match="m = 1"):
        Threshold(m=1)
    assert Threshold(3, 3).k == 3


def test_with_totals_adds_margins() -> None:
    """Row totals last, column totals below, the grand total in the corner."""
    assert with_totals(np.array([[1, 2], [3, 4]])).tolist() == [[1, 2, 3], [3, 4, 7], [4, 6, 10]]


def test_small_cell_and_its_complements_are_suppressed() -> None:
    """One cell of 4 people: it, a second cell of its row and column, and the fourth corner go."""
    result = suppress(table([[4, 20, 30], [25, 40, 50], [60, 70, 80]]), Threshold())
    assert result.primary[0, 0]
    assert result.hidden[0, 0]
    assert result.hidden[0].sum() >= 2
    assert result.hidden[:, 0].sum() >= 2
    assert recomputable(result.published_people()) == []


def test_single_suppressed_cell_is_determined() -> None:
    """A lone suppressed cell is the row total minus the others: linear algebra finds it."""
    hidden = np.zeros((3, 3), dtype=bool)
    hidden[0, 0] = True
    assert determined_cells(hidden, equations((3, 3)))[0, 0]


def test_rectangle_of_four_is_not_determined() -> None:
    """Four suppressed cells at the corners of a rectangle can move together: none is fixed."""
    hidden = np.zeros((3, 3), dtype=bool)
    hidden[0, 0] = hidden[0, 1] = hidden[1, 0] = hidden[1, 1] = True
    assert not determined_cells(hidden, equations((3, 3))).any()


def test_small_total_is_suppressed() -> None:
    """A row whose total is under the threshold loses its total and cells."""
    result = suppress(table([[3, 4], [50, 60], [70, 80]], [[1, 1], [5, 5], [5, 5]]), Threshold())
    assert result.hidden[0].all()
    assert recomputable(result.published_people()) == []


def test_sites_below_k_suppress_the_cell() -> None:
    """Many people at fewer than k sites is still suppressed."""
    result = suppress(table([[100, 100], [100, 100]], [[4, 5], [5, 5]]), Threshold())
    assert result.primary[0, 0]
    assert not np.isfinite(result.published_sites()[0, 0])


def test_one_category_hides_the_row_total_with_the_cell() -> None:
    """With one column the row total equals the cell: both are hidden together."""
    result = suppress(table([[4], [50], [60]]), Threshold())
    assert result.hidden[0].all()
    assert recomputable(result.published_people()) == []


def test_sex_age_rows_publish_sites_per_row_only() -> None:
    """Counts by sex and age share the row's sites: a row under k sites hides every group."""
    people = np.array([[30, 20, 15, 12], [40, 30, 20, 11], [50, 35, 25, 18]])
    counts = CountTable(
        ("A", "B", "C"), ("men", "women", "boys", "girls"), people * 0, people, np.array([2, 6, 7])
    )
    result = suppress(counts, Threshold())
    assert result.hidden[0].all()
    sites = result.published_sites()[:, -1]
    assert np.isnan(sites).sum() != 1  # the sites column alone does not give the hidden row away


@pytest.mark.parametrize("seed", range(25))
def test_no_random_table_leaks_a_suppressed_cell(seed: int) -> None:
    """Random tables of small and large counts: every published cell meets the rule, and no
    suppressed cell is determined (checked by matrix rank, independently of the module)."""
    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(2, 9)), int(rng.integers(1, 5)))
    people = rng.choice([0, 2, 5, 9, 12, 30, 80, 200], size=shape)
    sites = rng.choice([1, 2, 4, 5, 8, 20], size=shape)
    result = suppress(table(people.tolist(), sites.tolist()), Threshold())
    published = ~result.hidden
    assert (result.table.people_grid()[published] >= 10).all()
    assert (result.table.site_grid()[published] >= 5).all()
    assert recomputable(result.published_people()) == []
