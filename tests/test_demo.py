"""Tests for geoplan.demo: the seeded demo scenario and the demo workspace."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geoplan.catalog import get_layer, load_catalog, split_list
from geoplan.demo.scenario import (
    WRITE_ORDER,
    build_demo_workspace,
    generate_scenario,
    load_scenario,
)
from geoplan.errors import CatalogError, ParameterError
from geoplan.imports import operating_area
from geoplan.layers import ValidationContext, validate_table
from geoplan.sources import RawTable
from geoplan.store import open_store
from geoplan.vocab import SexAge

TODAY = dt.date(2025, 3, 12)  # a Wednesday
YESTERDAY = TODAY - dt.timedelta(days=1)
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@pytest.fixture(scope="module")
def demo() -> dict[str, pd.DataFrame]:
    """The default demo scenario seen from a fixed day."""
    return generate_scenario(today=TODAY)


@pytest.fixture(scope="module")
def visits(demo: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The default scenario's outreach visits."""
    return demo["outreach_visits"]


def _days(column: pd.Series) -> pd.Series:
    return column.dt.date


def _weekday_names(column: pd.Series) -> pd.Series:
    return column.dt.day_of_week.map(lambda d: DAY_NAMES[d])


# --- sizes ----------------------------------------------------------------------------------


def test_returns_one_frame_per_layer_in_write_order(demo: dict[str, pd.DataFrame]) -> None:
    """Every catalog layer but the optional admin areas comes back, teams and sites first."""
    assert tuple(demo) == WRITE_ORDER
    assert set(WRITE_ORDER) == {n for n, layer in load_catalog().items() if not layer.optional}
    assert WRITE_ORDER[-1] == "outreach_visits"


def test_default_sizes_are_within_the_issue_ranges(demo: dict[str, pd.DataFrame]) -> None:
    """180 gathering points, 5-8 centres, about 20 clinics, 5 projects, 4-6 teams, 2 zones."""
    assert len(demo["gathering_points"]) == 180
    assert 5 <= len(demo["detention_centres"]) <= 8
    assert 18 <= len(demo["clinics"]) <= 22
    assert len(demo["cip_sites"]) == 5
    assert 4 <= len(demo["teams"]) <= 6
    assert len(demo["no_go_zones"]) == 2
    assert len(demo["outreach_visits"]) >= 2000


def test_every_frame_has_the_catalog_fields_and_unique_ids(demo: dict[str, pd.DataFrame]) -> None:
    """Columns are the catalog's fields in order (plus geometry for spatial layers)."""
    for name, frame in demo.items():
        layer = get_layer(name)
        fields = [c for c in frame.columns if c != "geometry"]
        assert fields == list(layer.field_names), name
        assert isinstance(frame, gpd.GeoDataFrame) == layer.has_geometry, name
        assert frame["id"].is_unique, name


def test_every_frame_revalidates_with_a_clean_report(demo: dict[str, pd.DataFrame]) -> None:
    """Written back as raw cells, every layer passes validation without a problem or warning."""
    known = {name: frozenset(frame["id"]) for name, frame in demo.items()}
    area = load_scenario().area
    context = ValidationContext(area=area, known_ids=known, today=TODAY)
    for name, frame in demo.items():
        geometry = frame.geometry if isinstance(frame, gpd.GeoDataFrame) else None
        cells = pd.DataFrame(frame.drop(columns="geometry", errors="ignore")).astype(object)
        raw = RawTable("demo", cells.where(cells.notna(), None), geometry=geometry)
        _, report = validate_table(raw, get_layer(name), context=context)
        assert report.problems == (), report.summary()


# --- gathering points and other sites -------------------------------------------------------


def test_gathering_points_have_sex_age_breakdowns_summing_to_people(
    demo: dict[str, pd.DataFrame],
) -> None:
    """Most sites carry men/women/boys/girls that add up to people; men are the largest group."""
    points = demo["gathering_points"]
    known = points[list(SexAge)].notna().all(axis=1)
    assert known.mean() > 0.7
    assert (points.loc[known, list(SexAge)].sum(axis=1) == points.loc[known, "people"]).all()
    totals = points.loc[known, list(SexAge)].sum()
    assert totals.idxmax() == "men"
    assert totals["men"] > 0.5 * totals.sum()


def test_gathering_points_spread_over_settings_services_and_frequencies(
    demo: dict[str, pd.DataFrame],
) -> None:
    """All six settings occur, every site needs a service, frequencies are 7-30 days."""
    points = demo["gathering_points"]
    assert set(points["setting"]) == set(get_layer("gathering_points").field("setting").allowed)
    assert points["services_needed"].notna().all()
    assert points["visit_frequency_days"].between(7, 30).all()
    flagged = points["vulnerability_flags"].notna().mean()
    assert 0.15 < flagged < 0.6


def test_detention_centres_have_access_days_hours_and_detainees(
    demo: dict[str, pd.DataFrame],
) -> None:
    """Each centre has authorised days within the working week, hours and a detainee count."""
    centres = demo["detention_centres"]
    assert centres["access_days"].notna().all()
    assert (centres["access_start"] < centres["access_end"]).all()
    assert (centres["detainees"] > 0).all()
    assert (centres[list(SexAge)].sum(axis=1) == centres["detainees"]).all()
    assert centres["authority"].notna().all()


def test_clinics_cover_at_least_four_kinds(demo: dict[str, pd.DataFrame]) -> None:
    """Own clinics, medical offices, primary care and hospitals are all present."""
    assert demo["clinics"]["kind"].nunique() >= 4


def test_teams_cover_the_four_kinds_with_bases_and_shifts(demo: dict[str, pd.DataFrame]) -> None:
    """Medical, MRRM, MHPSS and protection teams work Sunday-Thursday shifts; MRRM carries NFI."""
    teams = demo["teams"]
    assert set(teams["kind"]) == {"medical", "mrrm", "mhpss", "protection"}
    assert (teams["working_days"] == "sun,mon,tue,wed,thu").all()
    assert (teams["shift_start"] < teams["shift_end"]).all()
    assert (teams.loc[teams["kind"] == "mrrm", "nfi_kits"] > 0).all()
    assert teams["colour"].is_unique


def test_one_no_go_zone_is_closed_in_the_coming_weeks(demo: dict[str, pd.DataFrame]) -> None:
    """At least one zone is closed between today and three weeks from now."""
    zones = demo["no_go_zones"]
    soon = pd.Timestamp(TODAY + dt.timedelta(days=21))
    closed = (zones["valid_from"] <= soon) & (
        zones["valid_to"].isna() | (zones["valid_to"] >= pd.Timestamp(TODAY))
    )
    assert closed.any()


def test_sites_inside_a_zone_closed_today_are_inaccessible(demo: dict[str, pd.DataFrame]) -> None:
    """Gathering points in a zone closed today carry access status inaccessible with its name."""
    points, zones = demo["gathering_points"], demo["no_go_zones"]
    today = pd.Timestamp(TODAY)
    closed = zones[
        (zones["valid_from"] <= today) & (zones["valid_to"].isna() | (zones["valid_to"] >= today))
    ]
    inside = points.within(closed.union_all())
    assert inside.any()
    assert (points.loc[inside, "access_status"] == "inaccessible").all()
    assert points.loc[inside, "access_reason"].str.contains("no-go zone").all()


def test_every_position_is_on_land_inside_the_operating_area(demo: dict[str, pd.DataFrame]) -> None:
    """No jittered point falls in the sea or outside the operating area."""
    scenario = load_scenario()
    land = shapely.Polygon(scenario.land)
    for name in ("gathering_points", "detention_centres", "clinics", "cip_sites", "teams"):
        assert demo[name].within(land).all(), name
        assert demo[name].within(shapely.box(*scenario.operating_area)).all(), name


# --- visits ---------------------------------------------------------------------------------


def test_visits_cover_six_months_ending_yesterday(visits: pd.DataFrame) -> None:
    """Visits run from about six months ago to no later than yesterday, never in the future."""
    first, last = _days(visits["date"]).min(), _days(visits["date"]).max()
    assert last <= YESTERDAY
    assert (YESTERDAY - last).days <= 3  # the last working day
    assert 175 <= (last - first).days <= 182


def test_visits_fall_on_the_team_working_days(
    demo: dict[str, pd.DataFrame], visits: pd.DataFrame
) -> None:
    """Every visit is on a working day of its team (Sunday-Thursday)."""
    working = demo["teams"].set_index("id")["working_days"].map(split_list)
    weekday = _weekday_names(visits["date"])
    ok = [day in working[team] for day, team in zip(weekday, visits["team_id"], strict=True)]
    assert all(ok)


def test_visits_give_only_services_the_team_offers(
    demo: dict[str, pd.DataFrame], visits: pd.DataFrame
) -> None:
    """A visit's services are a non-empty subset of its team's services."""
    offered = demo["teams"].set_index("id")["services"].map(lambda s: set(split_list(s)))
    for services, team in zip(visits["services"], visits["team_id"], strict=True):
        given = set(split_list(services))
        assert given
        assert given <= offered[team]


def test_visit_breakdowns_add_up(visits: pd.DataFrame) -> None:
    """Consultations and people reached equal the sums of their sex/age breakdowns."""
    parts = [f"consultations_{p}" for p in SexAge]
    assert (visits[parts].sum(axis=1) == visits["consultations"]).all()
    assert (visits[list(SexAge)].sum(axis=1) == visits["people_reached"]).all()
    assert (visits["people_reached"] >= visits["consultations"]).all()


def test_visit_counts_are_realistic(demo: dict[str, pd.DataFrame], visits: pd.DataFrame) -> None:
    """Referrals are about 1.5 % of consultations, mostly men consult, only MRRM hands out NFI."""
    consultations = visits["consultations"].sum()
    assert 0.01 <= visits["referrals"].sum() / consultations <= 0.025
    by_group = visits[[f"consultations_{p}" for p in SexAge]].sum() / consultations
    assert 0.5 <= by_group["consultations_men"] <= 0.7
    kinds = visits["team_id"].map(demo["teams"].set_index("id")["kind"])
    assert (visits.loc[kinds != "mrrm", "nfi_kits"] == 0).all()
    assert visits.loc[kinds == "mrrm", "nfi_kits"].sum() > 0


def test_detention_visits_are_rare_and_on_access_days(
    demo: dict[str, pd.DataFrame], visits: pd.DataFrame
) -> None:
    """Centres get a few monitoring visits each (the report: 16 to 5 in six months), on their
    authorised days and by a team that monitors."""
    centres = demo["detention_centres"].set_index("id")
    at_centres = visits[visits["site_id"].isin(centres.index)]
    assert 2 * len(centres) <= len(at_centres) <= 6 * len(centres)
    access = at_centres["site_id"].map(centres["access_days"].map(split_list))
    weekday = _weekday_names(at_centres["date"])
    assert all(day in days for day, days in zip(weekday, access, strict=True))
    assert at_centres["services"].str.contains("monitoring").all()


def test_no_visit_falls_in_a_closed_zone_or_site(
    demo: dict[str, pd.DataFrame], visits: pd.DataFrame
) -> None:
    """No visit goes to a site inside a zone on a day the zone is closed, or to a closed site."""
    points, zones = demo["gathering_points"].set_index("id"), demo["no_go_zones"]
    at_points = visits[visits["site_id"].isin(points.index)]
    for _, zone in zones.iterrows():
        inside = points.index[points.within(zone.geometry)]
        until = zone["valid_to"] if pd.notna(zone["valid_to"]) else pd.Timestamp.max
        closed = at_points["date"].between(zone["valid_from"], until)
        assert not (closed & at_points["site_id"].isin(inside)).any(), zone["name"]
    shut = points[points["access_status"] == "inaccessible"]
    since = at_points["site_id"].map(shut["access_date"])
    assert not (at_points["date"] >= since).any()


def test_a_team_never_visits_a_site_twice_a_day(visits: pd.DataFrame) -> None:
    """Repeated draws of the same site, team and day are redrawn."""
    assert not visits.duplicated(["team_id", "site_id", "date"]).any()


# --- seeds, sizes and the fast path -----------------------------------------------------------


def test_same_seed_gives_identical_frames(demo: dict[str, pd.DataFrame]) -> None:
    """Two runs with the same seed and day are equal, frame by frame."""
    again = generate_scenario(today=TODAY)
    for name, frame in demo.items():
        pd.testing.assert_frame_equal(frame, again[name])


def test_different_seed_gives_different_frames(demo: dict[str, pd.DataFrame]) -> None:
    """Another seed moves the sites and changes the visits."""
    other = generate_scenario(seed=8, today=TODAY)
    assert (
        not demo["gathering_points"].geometry.geom_equals(other["gathering_points"].geometry).all()
    )
    assert not demo["outreach_visits"]["site_id"].equals(other["outreach_visits"]["site_id"])


def test_a_larger_instance_works() -> None:
    """sites=1000 and visits=20000 give that many gathering points and about that many visits."""
    frames = generate_scenario(seed=3, sites=1000, visits=20_000, today=TODAY)
    assert len(frames["gathering_points"]) == 1000
    assert 19_500 <= len(frames["outreach_visits"]) <= 20_000
    assert frames["gathering_points"]["id"].iloc[-1] == "GP-1000"


def test_fast_path_builds_the_same_frames_as_validation() -> None:
    """validate=False gives frames equal to those that went through validate_table."""
    checked = generate_scenario(seed=11, sites=40, visits=400, today=TODAY)
    fast = generate_scenario(seed=11, sites=40, visits=400, today=TODAY, validate=False)
    for name, frame in checked.items():
        pd.testing.assert_frame_equal(frame, fast[name])


def test_zero_visits_and_few_sites_still_work() -> None:
    """A tiny instance keeps its fixed layers and the scheduled centre and project visits."""
    frames = generate_scenario(sites=3, visits=0, today=TODAY)
    assert len(frames["gathering_points"]) == 3
    assert not frames["outreach_visits"]["site_id"].str.startswith("GP-").any()


def test_negative_sizes_are_rejected() -> None:
    """A negative number of sites or visits is a parameter error naming the argument."""
    with pytest.raises(ParameterError, match="sites"):
        generate_scenario(sites=-1, today=TODAY)
    with pytest.raises(ParameterError, match="visits"):
        generate_scenario(visits=-5, today=TODAY)


def test_scenario_file_with_an_unknown_key_is_rejected(tmp_path: Path) -> None:
    """A typo in the scenario file is reported with the key and the known keys."""
    path = tmp_path / "scenario.toml"
    text = load_scenario_text().replace("history_days = 182", "history_dayz = 182")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogError, match="history_dayz"):
        load_scenario(path)


def load_scenario_text() -> str:
    """The shipped scenario file's text."""
    from geoplan.demo.scenario import default_scenario_path

    return default_scenario_path().read_text(encoding="utf-8")


# --- the workspace ---------------------------------------------------------------------------


def test_build_demo_workspace_writes_every_layer(tmp_path: Path) -> None:
    """The workspace opens with geopandas, holds every layer with its count and the area."""
    path = tmp_path / "demo.gpkg"
    path.write_bytes(b"an old file that must be replaced")
    seen: dict[str, int] = {}
    results = build_demo_workspace(
        path, today=TODAY, progress=lambda layer, done, total: seen.__setitem__(layer, total)
    )
    frames = generate_scenario(today=TODAY)
    assert list(results) == list(WRITE_ORDER)
    for name, frame in frames.items():
        assert results[name].added == len(frame)
        assert len(gpd.read_file(path, layer=name)) == len(frame), name
        assert seen[name] == len(frame)
    area = operating_area(open_store(path))
    assert area is not None
    assert (area.west, area.south, area.east, area.north) == load_scenario().operating_area


def test_workspace_round_trips_the_generated_frames(tmp_path: Path) -> None:
    """Reading the layers back from the store gives the generated frames."""
    path = tmp_path / "demo.gpkg"
    build_demo_workspace(path, sites=30, visits=300, today=TODAY)
    frames = generate_scenario(sites=30, visits=300, today=TODAY)
    store = open_store(path)
    for name, frame in frames.items():
        stored = store.read(name)
        pd.testing.assert_frame_equal(
            pd.DataFrame(stored.drop(columns="geometry", errors="ignore")),
            pd.DataFrame(frame.drop(columns="geometry", errors="ignore")),
            check_dtype=False,
        )
        if "geometry" in frame:
            assert np.allclose(
                shapely.get_coordinates(stored.geometry), shapely.get_coordinates(frame.geometry)
            )
