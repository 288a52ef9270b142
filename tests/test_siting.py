"""Where to go next: the maximal covering location problem, with a known optimum and its gap.

The hand-checked instance: five groups of people out of reach and three candidate places,
two places to choose, a 30-minute threshold.

=======  ======  ====================================
site     people  candidates within 30 min
=======  ======  ====================================
A        6       MID (10 min), LEFT (20 min)
B        6       MID (10 min), RIGHT (20 min)
L        5       LEFT (15 min)
R        5       RIGHT (15 min)
Z        7       none (the nearest place is 45 min)
=======  ======  ====================================

Greedy picks MID first (12 people) and then LEFT or RIGHT (+5): 17. The optimum is LEFT and
RIGHT together: 6 + 5 + 6 + 5 = 22 of 29 people, and Z's 7 are beyond every candidate.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import pytest

from geoplan import siting
from geoplan.errors import ParameterError
from geoplan.siting import CHOICE_COLUMNS, SitingResult, maximal_covering
from geoplan.travel.matrix import TravelTimeMatrix

SITES = ("A", "B", "L", "R", "Z")
PLACES = ("MID", "LEFT", "RIGHT")
MINUTES = {
    "A": (10, 20, 50),
    "B": (10, 50, 20),
    "L": (40, 15, 60),
    "R": (40, 60, 15),
    "Z": (45, 90, 90),
}
PEOPLE = pd.Series({"A": 6, "B": 6, "L": 5, "R": 5, "Z": 7})


def _matrix(minutes: Mapping[str, Sequence[float]], places: tuple[str, ...]) -> TravelTimeMatrix:
    seconds = np.array([[m * 60.0 for m in minutes[s]] for s in minutes])
    return TravelTimeMatrix(
        origins=tuple(minutes),
        destinations=places,
        seconds=seconds,
        metres=seconds * 10,
        reachable=np.isfinite(seconds),
    )


def test_finds_the_known_optimum_that_greedy_misses() -> None:
    """LEFT and RIGHT reach 22 people; greedy's MID-first choice would reach only 17."""
    result = maximal_covering(PEOPLE, _matrix(MINUTES, PLACES), threshold_minutes=30, locations=2)
    assert set(result.chosen) == {"LEFT", "RIGHT"}
    assert result.covered == 22
    assert result.demand == 29
    assert result.beyond_every_candidate == 7
    assert (result.method, result.status) == ("exact (HiGHS)", "optimal")
    assert result.bound == 22
    assert result.gap == 0


def test_choices_list_what_each_place_adds() -> None:
    """Each chosen place with the people and sites it brings within reach, best first."""
    result = maximal_covering(PEOPLE, _matrix(MINUTES, PLACES), threshold_minutes=30, locations=2)
    frame = result.to_frame()
    assert list(frame.columns) == list(CHOICE_COLUMNS)
    assert frame["people_newly_covered"].tolist() == [11, 11]
    assert frame["rank"].tolist() == [1, 2]
    assert sorted(frame["site_ids"]) == ["A,L", "B,R"]


def test_one_place_takes_the_best_single_place() -> None:
    """With one place, MID (A and B, 12 people) is best."""
    result = maximal_covering(PEOPLE, _matrix(MINUTES, PLACES), threshold_minutes=30, locations=1)
    assert result.chosen == ("MID",)
    assert result.covered == 12


def test_a_wider_threshold_changes_the_answer() -> None:
    """At 45 min MID also reaches L, R and Z: one place covers all 29 people."""
    result = maximal_covering(PEOPLE, _matrix(MINUTES, PLACES), threshold_minutes=45, locations=1)
    assert result.chosen == ("MID",)
    assert result.covered == 29
    assert result.beyond_every_candidate == 0


def test_more_places_than_useful_candidates_takes_them_all() -> None:
    """Asking for five places when three exist chooses every useful one, proven optimal."""
    result = maximal_covering(PEOPLE, _matrix(MINUTES, PLACES), threshold_minutes=30, locations=5)
    assert set(result.chosen) == set(PLACES)
    assert result.covered == 22
    assert result.status == "optimal"


def test_unreachable_pairs_never_cover() -> None:
    """A pair marked unreachable does not cover, whatever its time says."""
    matrix = _matrix(MINUTES, PLACES)
    reachable = matrix.reachable.copy()
    reachable[0, 0] = reachable[1, 0] = False  # MID cannot be driven to from A or B
    cut = TravelTimeMatrix(
        matrix.origins, matrix.destinations, matrix.seconds, matrix.metres, reachable
    )
    result = maximal_covering(PEOPLE, cut, threshold_minutes=30, locations=1)
    assert result.chosen in {("LEFT",), ("RIGHT",)}
    assert result.covered == 11


def test_zero_locations_and_zero_people() -> None:
    """No place asked for, or nobody out of reach: nothing chosen, no gap."""
    none = maximal_covering(PEOPLE, _matrix(MINUTES, PLACES), threshold_minutes=30, locations=0)
    assert (none.chosen, none.covered, none.gap) == ((), 0, 0)
    empty = maximal_covering(
        PEOPLE * 0, _matrix(MINUTES, PLACES), threshold_minutes=30, locations=2
    )
    assert (empty.chosen, empty.demand) == ((), 0)
    assert "no new location needed" in empty.summary()


def test_summary_reports_the_gap_to_the_bound() -> None:
    """The summary names the method, the status and the gap to the proven bound."""
    text = maximal_covering(
        PEOPLE, _matrix(MINUTES, PLACES), threshold_minutes=30, locations=2
    ).summary()
    assert "2 new location(s) would bring 22 of 29 people out of reach within reach (76%)" in text
    assert "exact (HiGHS), optimal, gap 0.0% (bound 22)" in text


def test_gap_is_relative_to_the_bound() -> None:
    """A result stopped by the time limit at 90 with a bound of 100 is 10 % from optimal."""
    stopped = SitingResult(
        choices=pd.DataFrame(columns=list(CHOICE_COLUMNS)),
        covered=90,
        bound=100,
        demand=120,
        beyond_every_candidate=0,
        method="exact (HiGHS)",
        status="time limit",
    )
    assert stopped.gap == pytest.approx(0.1)
    assert "time limit, gap 10.0% (bound 100)" in stopped.summary()


def test_too_large_for_the_exact_search_keeps_greedy_with_its_gap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Above the size limit greedy's 17 is kept, 22.7 % below the solver-free bound of 22."""
    monkeypatch.setattr(siting, "MAX_EXACT_PAIRS", 0)
    result = maximal_covering(PEOPLE, _matrix(MINUTES, PLACES), threshold_minutes=30, locations=2)
    assert result.chosen[0] == "MID"
    assert (result.covered, result.bound) == (17, 22)
    assert result.gap == pytest.approx(5 / 22)
    assert (result.method, result.status) == (
        "greedy",
        "not proven: too large for the exact search",
    )


def test_greedy_proven_optimal_by_the_bound_skips_the_solver() -> None:
    """One place: the best single place is optimal, proven without a solver."""
    result = maximal_covering(PEOPLE, _matrix(MINUTES, PLACES), threshold_minutes=30, locations=1)
    assert (result.method, result.status, result.gap) == ("greedy", "optimal", 0)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_matches_brute_force_on_random_instances(seed: int) -> None:
    """On 30 sites x 10 places, p = 3, the answer equals the best of all 120 triples."""
    rng = np.random.default_rng(seed)
    sites = [f"S{i}" for i in range(30)]
    places = tuple(f"P{j}" for j in range(10))
    minutes = {s: tuple(rng.uniform(0, 90, len(places))) for s in sites}
    people = pd.Series(rng.integers(1, 50, len(sites)), index=sites)
    matrix = _matrix(minutes, places)
    cover = matrix.seconds <= 30 * 60
    best = max(
        people.to_numpy()[cover[:, list(c)].any(axis=1)].sum()
        for c in itertools.combinations(range(len(places)), 3)
    )
    result = maximal_covering(people, matrix, threshold_minutes=30, locations=3)
    assert result.covered == best
    assert result.gap == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"locations": -1}, "locations: expected 0 or more"),
        ({"threshold_minutes": 0}, "threshold_minutes: expected more than 0"),
    ],
)
def test_bad_parameters_are_refused(kwargs: dict[str, float], message: str) -> None:
    """A negative number of places or a threshold of 0 says what is expected."""
    options = {"threshold_minutes": 30.0, "locations": 2, **kwargs}
    with pytest.raises(ParameterError, match=message):
        maximal_covering(
            PEOPLE,
            _matrix(MINUTES, PLACES),
            threshold_minutes=options["threshold_minutes"],
            locations=int(options["locations"]),
        )


def test_weights_of_sites_not_in_the_matrix_are_named() -> None:
    """People at a site the matrix does not hold cannot be placed; the id is named."""
    with pytest.raises(ParameterError, match="site ids not among the matrix origins: Q"):
        maximal_covering(
            pd.concat([PEOPLE, pd.Series({"Q": 3})]),
            _matrix(MINUTES, PLACES),
            threshold_minutes=30,
            locations=1,
        )
