"""The protection policy: defaults, changes with their checks, kept in the workspace, and the
purge of visits past their retention period."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from geoplan.audit import read_log
from geoplan.errors import ParameterError
from geoplan.imports import import_file
from geoplan.policy import (
    LayerPolicy,
    Policy,
    change_policy,
    protected_layers,
    purge_visits,
    read_policy,
    set_policy,
)
from geoplan.store import Store, open_store

DAY = dt.date(2026, 10, 6)


@pytest.fixture
def store(tmp_path: Path, fixtures: Path) -> Store:
    """The hand-made fixtures: 3 gathering points, 2 teams and 2 visits (4 and 5 October)."""
    store = open_store(tmp_path / "ws.gpkg")
    for layer in ("gathering_points", "teams", "outreach_visits"):
        import_file(fixtures / "valid" / f"{layer}.csv", layer, store=store)
    return store


def test_defaults() -> None:
    """Planners and admins see exact positions; others resolution 7; k 5, m 10; visits kept."""
    policy = Policy()
    assert protected_layers() == ("detention_centres", "gathering_points")
    assert policy.layer("gathering_points") == LayerPolicy(("planner", "admin"), 7, 5, 10)
    assert policy.sees_exact("gathering_points", "planner")
    assert not policy.sees_exact("gathering_points", "viewer")
    assert policy.sees_exact("clinics", "viewer")  # a public layer
    assert policy.visit_retention_days is None


def test_floor_cannot_be_lowered() -> None:
    """k or m below 3 is refused, whatever the layer."""
    with pytest.raises(ParameterError, match="the least allowed is 3"):
        change_policy(Policy(), "gathering_points", "k", "2")
    with pytest.raises(ParameterError, match="m = 0"):
        change_policy(Policy(), "detention_centres", "m", "0")


def test_bad_settings_are_refused_with_the_fix() -> None:
    """Unknown layers, settings, roles and resolutions are refused, naming the choices."""
    with pytest.raises(ParameterError, match="policies are set for"):
        change_policy(Policy(), "clinics", "k", "5")
    with pytest.raises(ParameterError, match="not one of exact_roles"):
        change_policy(Policy(), "gathering_points", "colour", "red")
    with pytest.raises(ParameterError, match="is not a role"):
        change_policy(Policy(), "gathering_points", "exact_roles", "donor")
    with pytest.raises(ParameterError, match=r"use 0\.\.8"):
        change_policy(Policy(), "gathering_points", "resolution", "9")
    with pytest.raises(ParameterError, match="expected a whole number"):
        change_policy(Policy(), "outreach_visits", "retention_days", "a year")


def test_policy_is_kept_and_governs_the_strictest_rule(store: Store) -> None:
    """A change is kept in the workspace; shared products take the strictest k, m and the
    coarsest viewer resolution of the protected layers."""
    policy = change_policy(read_policy(store), "detention_centres", "k", "8")
    policy = change_policy(policy, "gathering_points", "resolution", "6")
    policy = change_policy(policy, "detention_centres", "exact_roles", "admin")
    set_policy(store, policy, who="cli:test", what="three changes")
    kept = read_policy(store)
    assert kept == policy
    assert (kept.threshold.k, kept.threshold.m) == (8, 10)
    assert kept.viewer_resolution == 6
    assert not kept.sees_exact("detention_centres", "planner")
    assert kept.generalises("planner")
    assert [r.action for r in read_log(store)] == ["policy_changed"]


def test_purge_removes_only_old_visits(store: Store) -> None:
    """With a retention of 1 day on 6 October, the visit of 4 October goes and that of
    5 October stays exactly as it was; the purge says how many and is logged."""
    before = store.read("outreach_visits")
    policy = change_policy(read_policy(store), "outreach_visits", "retention_days", "1")
    set_policy(store, policy, who="cli:test", what="retention 1 day")
    assert purge_visits(store, today=DAY, who="cli:test") == 1
    after = store.read("outreach_visits")
    assert after["id"].tolist() == ["V-2"]
    kept = before.loc[before["id"] == "V-2"].reset_index(drop=True)
    pd.testing.assert_frame_equal(after.reset_index(drop=True), kept)
    assert read_log(store)[-1].rows == 1


def test_purge_without_retention_deletes_nothing(store: Store) -> None:
    """A policy that keeps visits for ever purges nothing."""
    assert purge_visits(store, today=DAY, who="cli:test") == 0
    assert len(store.read("outreach_visits")) == 2
