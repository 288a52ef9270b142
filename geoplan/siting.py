"""Where to go next: the maximal covering location problem (MCLP).

Given people not yet within reach and candidate places for an extra mobile-clinic stop or
team base, choose ``p`` places that bring the most people within the travel-time threshold.

Sites that see the same candidates are merged first (their people added up), which keeps the
answer exact and the problem small. A greedy choice comes first; its value is checked
against an upper bound that needs no solver (the people any candidate can reach, the ``p``
best single places added up, and greedy's own guarantee of at least 1 - 1/e of the optimum).
Unless that already proves greedy optimal, the problem is solved exactly as an integer
programme with HiGHS (through :func:`scipy.optimize.milp`): maximise ``sum(w_i * y_i)``
subject to ``y_i <= sum(x_j for j covering i)`` and ``sum(x_j) <= p``, with ``x`` binary and
``0 <= y <= 1``. Should the time limit stop the solver first, or the problem be too large for
it, the better of its answer and greedy's is returned with the tightest bound known, so the
report always says how far from optimal the answer can be.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, OptimizeResult, milp

from geoplan.errors import ParameterError
from geoplan.travel.matrix import TravelTimeMatrix

MAX_EXACT_PAIRS = 150_000
"""Above this many (site, place) pairs within reach, HiGHS may overrun its time limit while it
presolves, so greedy's answer is kept with the solver-free bound."""
CHOICE_COLUMNS = ("rank", "location_id", "people_newly_covered", "sites_newly_covered", "site_ids")


@dataclass(frozen=True)
class SitingResult:
    """The places chosen and how good the choice is.

    Parameters
    ----------
    choices
        One row per chosen place (see :data:`CHOICE_COLUMNS`), in order of what each adds.
    covered
        People brought within reach by the chosen places together.
    bound
        No choice of as many places can reach more than this (equal to ``covered`` when the
        choice is proven optimal).
    demand
        People not within reach before, at the sites considered.
    beyond_every_candidate
        Of ``demand``, people that no candidate place can reach within the threshold.
    method
        How the choice was made: ``exact (HiGHS)``, ``exact (enumeration)`` or ``greedy``.
    status
        ``optimal``, ``time limit`` (the solver stopped first) or ``not proven: too large
        for the exact search`` (more than :data:`MAX_EXACT_PAIRS` pairs within reach).
    """

    choices: pd.DataFrame
    covered: float
    bound: float
    demand: float
    beyond_every_candidate: float
    method: str
    status: str

    @property
    def gap(self) -> float:
        """Relative optimality gap, ``(bound - covered) / bound``; 0 when proven optimal."""
        return (self.bound - self.covered) / self.bound if self.bound > 0 else 0.0

    @property
    def chosen(self) -> tuple[str, ...]:
        """Ids of the chosen places."""
        return tuple(self.choices["location_id"])

    def summary(self) -> str:
        """One paragraph for people."""
        if not self.demand:
            return "everyone at the sites considered is within reach; no new location needed"
        share = self.covered / self.demand
        lines = [
            f"{len(self.choices)} new location(s) would bring {self.covered:,.0f} of "
            f"{self.demand:,.0f} people out of reach within reach ({share:.0%}); "
            f"{self.method}, {self.status}, gap {self.gap:.1%} (bound {self.bound:,.0f})"
        ]
        lines += [
            f"  {r.rank}. {r.location_id}: {r.people_newly_covered:,.0f} people at {r.sites_newly_covered} site(s)"
            for r in self.choices.itertuples()
        ]
        return "\n".join(lines)

    def to_frame(self) -> pd.DataFrame:
        """The chosen places, one row each."""
        return self.choices.copy()


def maximal_covering(
    weights: pd.Series,
    matrix: TravelTimeMatrix,
    *,
    threshold_minutes: float,
    locations: int,
    time_limit_s: float = 5.0,
) -> SitingResult:
    """Choose up to ``locations`` candidate places that cover the most weight.

    Parameters
    ----------
    weights
        People per demand site, indexed by site id; every id must be an origin of ``matrix``.
    matrix
        Travel times from demand sites (origins) to candidate places (destinations).
    threshold_minutes
        A site is covered by a place within this many minutes of it.
    locations
        How many places to choose (``p``).
    time_limit_s
        Time the exact solver may take before the best answer so far is returned.

    Raises
    ------
    ParameterError
        If ``locations`` is negative, the threshold not positive, or a weight's id is not in
        the matrix.
    """
    _check_inputs(weights, matrix, threshold_minutes, locations)
    demand = weights.fillna(0).astype(float)
    cover = _cover_mask(matrix, list(demand.index), threshold_minutes)
    w = demand.to_numpy()
    useful_d = (w > 0) & cover.any(axis=1)
    useful_c = np.flatnonzero(cover[useful_d].any(axis=0))
    a, wu = cover[np.ix_(useful_d, useful_c)], w[useful_d]
    x, bound, method, status = _solve(a, wu, locations, time_limit_s)
    chosen = useful_c[x]
    choices = _choices(chosen, cover, demand, matrix)
    covered = float(choices["people_newly_covered"].sum())
    return SitingResult(
        choices=choices,
        covered=covered,
        bound=max(bound, covered),
        demand=float(w.sum()),
        beyond_every_candidate=float(w[~cover.any(axis=1)].sum()),
        method=method,
        status=status,
    )


def _check_inputs(
    weights: pd.Series, matrix: TravelTimeMatrix, threshold_minutes: float, locations: int
) -> None:
    if locations < 0:
        raise ParameterError(f"locations: expected 0 or more places to choose, got {locations}")
    if not threshold_minutes > 0:
        raise ParameterError(f"threshold_minutes: expected more than 0, got {threshold_minutes}")
    origins = set(matrix.origins)
    missing = [str(i) for i in weights.index if i not in origins]
    if missing:
        msg = f"weights: site ids not among the matrix origins: {', '.join(missing[:10])}"
        raise ParameterError(msg + "; build the matrix from these sites to the candidates")


def _cover_mask(matrix: TravelTimeMatrix, ids: list[str], threshold_minutes: float) -> np.ndarray:
    rows = [matrix.row(i) for i in ids]
    seconds = matrix.seconds[rows]
    with np.errstate(invalid="ignore"):
        return np.asarray(
            matrix.reachable[rows] & (seconds <= threshold_minutes * 60.0), dtype=bool
        )


def _solve(
    a: np.ndarray, w: np.ndarray, p: int, time_limit_s: float
) -> tuple[np.ndarray, float, str, str]:
    """Chosen column indices, an upper bound, the method and the status."""
    n_c = a.shape[1]
    if p == 0 or w.size == 0:
        return np.arange(0), 0.0, "exact (enumeration)", "optimal"
    if n_c <= p:
        return np.arange(n_c), float(w.sum()), "exact (enumeration)", "optimal"
    a, w = _merge_rows(a, w)
    greedy = _greedy(a, w, p)
    best = _value(a, w, greedy)
    bound = _cheap_bound(a, w, p, best)
    if _reaches(best, bound):
        return greedy, best, "greedy", "optimal"
    if int(a.sum()) > MAX_EXACT_PAIRS:
        return greedy, bound, "greedy", "not proven: too large for the exact search"
    return _exact(a, w, p, time_limit_s, greedy=greedy, bound=bound)


def _exact(
    a: np.ndarray, w: np.ndarray, p: int, time_limit_s: float, *, greedy: np.ndarray, bound: float
) -> tuple[np.ndarray, float, str, str]:
    """HiGHS's answer (or greedy's, if better) and the tighter of the two bounds."""
    result = _milp(a, w, p, time_limit_s)
    chosen, method = greedy, "greedy"
    if result.x is not None:
        found = np.flatnonzero(result.x[: a.shape[1]] > 0.5)
        if _value(a, w, found) >= _value(a, w, greedy):
            chosen, method = found, "exact (HiGHS)"
    if result.status == 0 and result.x is not None:
        return chosen, _value(a, w, chosen), "exact (HiGHS)", "optimal"
    dual = getattr(result, "mip_dual_bound", None)
    if dual is not None and np.isfinite(dual):
        bound = min(bound, -float(dual))
    proven = _reaches(_value(a, w, chosen), bound)
    return chosen, max(bound, _value(a, w, chosen)), method, "optimal" if proven else "time limit"


def _reaches(value: float, bound: float) -> bool:
    """Whether ``value`` meets ``bound`` (up to rounding in the sums)."""
    return value >= bound - 1e-9 * max(bound, 1.0)


def _merge_rows(a: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sites covered by the same candidates as one row, their people summed."""
    packed = np.packbits(a, axis=1)
    _, first, inverse = np.unique(packed, axis=0, return_index=True, return_inverse=True)
    return a[first], np.bincount(inverse.ravel(), weights=w, minlength=len(first))


def _cheap_bound(a: np.ndarray, w: np.ndarray, p: int, greedy_value: float) -> float:
    """An upper bound on what ``p`` places can cover, without a solver."""
    single = np.sort(w @ a)[::-1]
    return float(min(w[a.any(axis=1)].sum(), single[:p].sum(), greedy_value / (1 - 1 / np.e)))


def _milp(
    a: np.ndarray, w: np.ndarray, p: int, time_limit_s: float, *, relax: bool = False
) -> OptimizeResult:
    n_d, n_c = a.shape
    link = sparse.hstack([-sparse.csr_array(a.astype(float)), sparse.eye_array(n_d)], format="csr")
    card = sparse.csr_array(np.concatenate([np.ones(n_c), np.zeros(n_d)])[None, :])
    integrality = np.concatenate([np.ones(n_c) * (0 if relax else 1), np.zeros(n_d)])
    return milp(
        np.concatenate([np.zeros(n_c), -w]),
        integrality=integrality,
        bounds=Bounds(0, 1),
        constraints=[LinearConstraint(link, -np.inf, 0), LinearConstraint(card, 0, p)],
        options={"time_limit": time_limit_s, "disp": False, "mip_rel_gap": 0.0},
    )


def _greedy(a: np.ndarray, w: np.ndarray, p: int) -> np.ndarray:
    left, chosen = w.copy(), []
    for _ in range(p):
        gains = left @ a
        best = int(np.argmax(gains))
        if gains[best] <= 0:
            break
        chosen.append(best)
        left[a[:, best]] = 0.0
    return np.array(sorted(chosen), dtype=int)


def _value(a: np.ndarray, w: np.ndarray, chosen: np.ndarray) -> float:
    return float(w[a[:, chosen].any(axis=1)].sum()) if chosen.size else 0.0


def _choices(
    chosen: np.ndarray, cover: np.ndarray, demand: pd.Series, matrix: TravelTimeMatrix
) -> pd.DataFrame:
    """The chosen places in order of what each adds to the ones before it."""
    left = demand.to_numpy().copy()
    rows: list[tuple[int, str, float, int, str]] = []
    todo = list(chosen)
    while todo:
        gains = [float(left[cover[:, j]].sum()) for j in todo]
        j = todo.pop(int(np.argmax(gains)))
        newly = cover[:, j] & (left > 0)
        ids = [str(i) for i in demand.index[newly]]
        rows.append(
            (
                len(rows) + 1,
                matrix.destinations[j],
                float(left[newly].sum()),
                len(ids),
                ",".join(ids),
            )
        )
        left[newly] = 0.0
    return pd.DataFrame(rows, columns=list(CHOICE_COLUMNS))
