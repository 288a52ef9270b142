"""Coverage gaps: a hand-checkable fixture for each kind of gap, totals, areas, outputs, real data.

The fixture (all numbers checkable by hand):

======  ===========================  =========  ================  =====  =====  =====
site    people (men/women/boys/girls) needs     CL-1  CL-2(hosp)  T-1    area
======  ===========================  =========  ================  =====  =====  =====
GP-1    100 (50/20/20/10)            health     10 min  40 min    20     AA1 (P-code)
GP-2    40 (30/10/0/0)               health,nfi 45      50        35     AA1 (location)
GP-3    60 (not broken down)         mhpss      20      25        60     AA2 (unknown code)
DC-1    20 (15/5/0/0)                monitoring unreachable: inside a no-go zone   outside
======  ===========================  =========  ================  =====  =====  =====

The threshold is 30 min (60 min to a referral hospital); T-1's base offers health, nfi,
protection and monitoring; nobody offers mhpss. Today is 2026-11-30 and the period
2026-06-01..2026-11-30. Visits: GP-1 health on 11-20 (10 days ago, every 14 days: on time),
GP-2 health on 11-10 (every 7 days: 13 days overdue) and health+nfi on 05-15 (nfi 199 days ago,
192 overdue, not in the period), DC-1 monitoring on 10-01 (every 30 days: 30 overdue); GP-3
never visited.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from geoplan.catalog import get_layer
from geoplan.cli import run
from geoplan.coverage import (
    GAP_COLUMNS,
    CoverageLayers,
    CoverageParams,
    CoverageResult,
    GapReason,
    coverage_from_layers,
    coverage_from_matrix,
    coverage_reusing_matrix,
    gap_reasons_text,
    parse_minutes,
    save_coverage,
    top_gaps_text,
)
from geoplan.errors import FormulaError, ParameterError
from geoplan.imports import ImportOptions, import_file
from geoplan.indicators import Period
from geoplan.layers import ColumnMapping, ValidationContext, validate_table
from geoplan.params import load_params
from geoplan.sources import RawTable
from geoplan.store import Store, open_store
from geoplan.travel.matrix import TravelTimeMatrix, matrix_from_points
from geoplan.vocab import GapReasonKind, SexAge
from geoplan.workspace import coverage_layers

TODAY = dt.date(2026, 11, 30)
PERIOD = Period(dt.date(2026, 6, 1), TODAY)
PARAMS = CoverageParams(threshold_minutes=30, service_minutes={"referral": 60}, new_locations=0)
SITES = ("GP-1", "GP-2", "GP-3", "DC-1")
DESTINATIONS = ("CL-1", "CL-2", "T-1")
MINUTES = {
    "GP-1": (10, 40, 20),
    "GP-2": (45, 50, 35),
    "GP-3": (20, 25, 60),
    "DC-1": (None, None, None),
}
ZONE_REASON = "inside no-go zone Checkpoint belt"


# --- the fixture ---------------------------------------------------------------------------

KNOWN = {
    "gathering_points": frozenset({"GP-1", "GP-2", "GP-3"}),
    "detention_centres": frozenset({"DC-1"}),
    "teams": frozenset({"T-1"}),
}


def _layer(
    name: str, records: Sequence[Mapping[str, object]], geometry: Sequence[object] = ()
) -> pd.DataFrame:
    """A layer frame from plain records (``lon``/``lat`` for points), validated as on import."""
    frame = pd.DataFrame.from_records(records).astype(object)
    xy = "lon" in frame
    table = RawTable(
        "fixture",
        frame.where(frame.notna(), None),
        geometry=gpd.GeoSeries(list(geometry), crs="EPSG:4326") if geometry else None,
        lon_column="lon" if xy else None,
        lat_column="lat" if xy else None,
    )
    context = ValidationContext(known_ids=KNOWN, today=TODAY)
    out, report = validate_table(table, get_layer(name), context=context)
    assert report.ok, report.summary()
    return out


def _point(sid: str, lon: float, people: int, **extra: object) -> dict[str, object]:
    return {
        "id": sid,
        "name": f"Site {sid}",
        "setting": "urban_community",
        "people": people,
        "lon": lon,
        "lat": 32.85,
        **extra,
    }


def _sites() -> dict[str, pd.DataFrame]:
    gp1 = _point("GP-1", 13.02, 100, men=50, women=20, boys=20, girls=10, admin_code="AA1")
    gp2 = _point("GP-2", 13.08, 40, men=30, women=10, boys=0, girls=0)
    gp3 = _point("GP-3", 13.15, 60, admin_code="ZZ9")
    dc1 = {
        "id": "DC-1",
        "name": "Centre 1",
        "detainees": 20,
        "men": 15,
        "women": 5,
        "boys": 0,
        "girls": 0,
        "services_needed": "monitoring",
        "monitoring_frequency_days": 30,
        "lon": 13.5,
        "lat": 32.85,
    }
    return {
        "gathering_points": _layer(
            "gathering_points",
            [
                gp1 | {"services_needed": "health", "visit_frequency_days": 14},
                gp2 | {"services_needed": "health,nfi", "visit_frequency_days": 7},
                gp3 | {"services_needed": "mhpss", "visit_frequency_days": 30},
            ],
        ),
        "detention_centres": _layer("detention_centres", [dc1]),
    }


def _facilities() -> dict[str, pd.DataFrame]:
    hospital = {"kind": "secondary_hospital", "services": "health,referral"}
    team = {"kind": "mrrm", "services": "health,nfi,protection,monitoring"}
    return {
        "clinics": _layer(
            "clinics",
            [
                {"id": "CL-1", "name": "PHC 1", "kind": "primary_care", "lon": 13.03, "lat": 32.8},
                {"id": "CL-2", "name": "Hospital 2", "lon": 13.3, "lat": 32.8} | hospital,
            ],
        ),
        "teams": _layer(
            "teams", [{"id": "T-1", "name": "Team 1", "lon": 13.05, "lat": 32.82} | team]
        ),
    }


def _frames() -> dict[str, pd.DataFrame]:
    """The four sites, two clinics, one team, four visits, two areas and five indicators."""
    return {
        **_sites(),
        **_facilities(),
        "outreach_visits": _visits(),
        "admin_areas": _admin_areas(),
        "indicators": _indicators(),
    }


def _visit(vid: str, site: str, day: str, services: str, **cells: object) -> dict[str, object]:
    return {
        "id": vid,
        "site_id": site,
        "date": day,
        "team_id": "T-1",
        "services": services,
        **cells,
    }


def _visits() -> pd.DataFrame:
    """Consultations: 60 (30/20/6/4) at GP-1, 30 (20/5/5/0) at GP-2; 3 referrals at GP-1."""
    gp1 = {"consultations_men": 30, "consultations_women": 20, "consultations_boys": 6}
    gp2 = {"consultations_men": 20, "consultations_women": 5, "consultations_boys": 5}
    records = [
        _visit("V1", "GP-1", "2026-11-20", "health", consultations=60, referrals=3)
        | gp1
        | {"consultations_girls": 4, "activities": "health_consultation,referral"},
        _visit("V2", "GP-2", "2026-11-10", "health", consultations=30, people_reached=45)
        | gp2
        | {"consultations_girls": 0, "activities": "health_consultation,health_awareness"},
        _visit("V3", "GP-2", "2026-05-15", "health,nfi", nfi_kits=12),
        _visit("V4", "DC-1", "2026-10-01", "monitoring", activities="protection_monitoring"),
    ]
    return _layer("outreach_visits", records)


def _admin_areas() -> pd.DataFrame:
    """AA1 holds GP-1 and GP-2, AA2 holds GP-3; DC-1 lies outside both."""
    boxes = [shapely.box(13.0, 32.8, 13.1, 32.9), shapely.box(13.1, 32.8, 13.2, 32.9)]
    records = [{"id": "AA1", "name": "Area One"}, {"id": "AA2", "name": "Area Two"}]
    return _layer("admin_areas", records, geometry=boxes)


def _indicators() -> pd.DataFrame:
    """Three indicators over 2026-11-01..2026-12-10 (40 days, 30 gone by 11-30: 75 %), one
    over the analysis period and one not started by 11-30."""
    nov = {"period_start": "2026-11-01", "period_end": "2026-12-10"}
    awareness = "sum(people_reached) where activities contains health_awareness"
    records = [
        {"id": "IND-1", "name": "Consultations", "formula": "sum(consultations)", "target": 200}
        | nov,
        {"id": "IND-2", "name": "Referrals", "formula": "sum(referrals)", "target": 4} | nov,
        {"id": "IND-3", "name": "Sites reached", "formula": "distinct(site_id)", "target": 3},
        {"id": "IND-4", "name": "Women", "formula": "sum(consultations_women)", "target": 20} | nov,
        {"id": "IND-5", "name": "Awareness", "formula": awareness, "target": 100}
        | {"period_start": "2026-12-01", "period_end": "2026-12-31"},
    ]
    return _layer("indicators", records)


def _matrix(
    minutes: Mapping[str, Sequence[int | None]] = MINUTES,
    destinations: tuple[str, ...] = DESTINATIONS,
) -> TravelTimeMatrix:
    """Sites x (CL-1, CL-2, T-1) in round minutes; None is unreachable."""
    grid = np.array(
        [[np.nan if m is None else m * 60.0 for m in minutes[s]] for s in minutes], dtype=float
    )
    return TravelTimeMatrix(
        origins=tuple(minutes),
        destinations=destinations,
        seconds=grid,
        metres=grid * 10.0,
        reachable=np.isfinite(grid),
        reasons={"DC-1": ZONE_REASON},
        backend="fixture",
    )


@pytest.fixture(scope="module")
def layers() -> CoverageLayers:
    """The fixture's layers."""
    return CoverageLayers.from_frames(_frames())


@pytest.fixture(scope="module")
def result(layers: CoverageLayers) -> CoverageResult:
    """The fixture's coverage."""
    return coverage_from_matrix(layers, _matrix(), period=PERIOD, today=TODAY, params=PARAMS)


def _site(result: CoverageResult, sid: str) -> dict[str, Any]:
    """One row of the gap table, by site id."""
    rows = result.to_frame().to_dict("records")
    return {str(k): v for k, v in next(row for row in rows if row["id"] == sid).items()}


def _service(result: CoverageResult, sid: str, service: str) -> dict[str, Any]:
    """One row of the per-service table."""
    rows = result.services.to_dict("records")
    row = next(r for r in rows if (r["site_id"], r["service"]) == (sid, service))
    return {str(k): v for k, v in row.items()}


# --- spatial --------------------------------------------------------------------------------


def test_spatial_nearest_clinic_hospital_and_base(result: CoverageResult) -> None:
    """GP-1 is 10 min from CL-1, 40 from the hospital, 20 from the base: covered."""
    gp1 = _site(result, "GP-1")
    assert (gp1["nearest_clinic"], gp1["clinic_minutes"]) == ("CL-1", 10.0)
    assert (gp1["nearest_referral"], gp1["referral_minutes"]) == ("CL-2", 40.0)
    assert (gp1["nearest_base"], gp1["base_minutes"]) == ("T-1", 20.0)
    assert gp1["reach_minutes"] == 10.0
    assert gp1["covered"]
    assert not gp1["spatial_gap"]


def test_spatial_gap_beyond_the_threshold(result: CoverageResult) -> None:
    """GP-2's nearest clinic or base is 35 min away: not covered, and the reason says so."""
    gp2 = _site(result, "GP-2")
    assert gp2["reach_minutes"] == 35.0
    assert not gp2["covered"]
    assert gp2["services_out_of_reach"] == "health,nfi"
    assert "no clinic or base within 30 min (nearest 35 min)" in str(gp2["gap_reasons"])


def test_spatial_gap_unreachable_keeps_the_matrix_reason(result: CoverageResult) -> None:
    """DC-1 lies in a no-go zone: no clinic or base is reachable, and the zone is named."""
    dc1 = _site(result, "DC-1")
    assert not dc1["covered"]
    assert pd.isna(dc1["reach_minutes"])
    assert pd.isna(dc1["nearest_clinic"])
    assert f"no clinic or base reachable ({ZONE_REASON})" in str(dc1["gap_reasons"])


def test_spatial_gap_for_a_service_nobody_offers_nearby(result: CoverageResult) -> None:
    """GP-3 is 20 min from a clinic, but no clinic or team offers the mhpss it needs."""
    gp3 = _site(result, "GP-3")
    assert gp3["covered"]
    assert gp3["services_out_of_reach"] == "mhpss"
    assert gp3["spatial_gap"]
    assert not _service(result, "GP-3", "mhpss")["within_reach"]


def test_referral_has_its_own_threshold(result: CoverageResult) -> None:
    """Referral rows use 60 min: GP-1 (40 min) and GP-2 (50 min) reach the hospital."""
    for sid, minutes in (("GP-1", 40.0), ("GP-2", 50.0)):
        row = _service(result, sid, "referral")
        assert (row["reach_minutes"], row["threshold_minutes"], row["within_reach"]) == (
            minutes,
            60.0,
            True,
        )


def test_service_reach_counts_team_bases(result: CoverageResult) -> None:
    """GP-2's nfi comes only from T-1's base, 35 min away: out of reach at 30 min."""
    row = _service(result, "GP-2", "nfi")
    assert (row["reach_minutes"], row["within_reach"]) == (35.0, False)


def test_a_wider_threshold_covers_more(layers: CoverageLayers) -> None:
    """At 40 min GP-2 (35 min to the base) is covered too; DC-1 never is."""
    wide = coverage_from_matrix(
        layers,
        _matrix(),
        period=PERIOD,
        today=TODAY,
        params=CoverageParams(threshold_minutes=40, new_locations=0),
    )
    covered = wide.to_frame().set_index("id")["covered"].to_dict()
    assert covered == {"GP-1": True, "GP-2": True, "GP-3": True, "DC-1": False}


def test_an_inaccessible_clinic_does_not_count(layers: CoverageLayers) -> None:
    """With CL-1 closed, GP-1's nearest clinic is the hospital (40 min) and GP-1 relies on
    the base (20 min)."""
    clinics = layers.clinics.assign(access_status=["inaccessible", "open"])
    closed = CoverageLayers(**{**vars(layers), "clinics": clinics})
    gp1 = _site(
        coverage_from_matrix(closed, _matrix(), period=PERIOD, today=TODAY, params=PARAMS), "GP-1"
    )
    assert (gp1["nearest_clinic"], gp1["reach_minutes"], gp1["covered"]) == ("CL-2", 20.0, True)


# --- people covered and not covered ---------------------------------------------------------


def test_people_totals_by_men_women_boys_girls(result: CoverageResult) -> None:
    """Covered: GP-1 + GP-3 = 160 (50/20/20/10 known); not covered: GP-2 + DC-1 = 60."""
    totals = result.totals.set_index("status")
    assert totals.loc["covered"].to_dict() == {
        "sites": 2,
        "people": 160,
        "men": 50,
        "women": 20,
        "boys": 20,
        "girls": 10,
    }
    assert totals.loc["not covered"].to_dict() == {
        "sites": 2,
        "people": 60,
        "men": 45,
        "women": 15,
        "boys": 0,
        "girls": 0,
    }
    assert totals.loc["total"].to_dict() == {
        "sites": 4,
        "people": 220,
        "men": 95,
        "women": 35,
        "boys": 20,
        "girls": 10,
    }


def test_summary_says_who_is_out_of_reach(result: CoverageResult) -> None:
    """The summary gives people out of reach with their breakdown, overdue and unmet counts."""
    text = result.summary()
    assert "60 people (27%) at 2 site(s) beyond 30 min" in text
    assert "men 45, women 15, boys 0, girls 0; 0 not broken down" in text
    assert "Temporal: 3 site(s) overdue, 1 never visited" in text
    assert "Service: 2 site(s) with needs unmet in the period: mhpss 1, nfi 1" in text
    assert "Indicators: 1 of 5 behind pace: IND-1 (90 of 150 expected)" in text


def test_summary_in_viewer_words_has_no_minutes(result: CoverageResult) -> None:
    """Viewers read the same counts with the threshold named, never in minutes."""
    text = result.summary(viewer=True)
    assert "60 people (27%) at 2 site(s) beyond the threshold of any clinic" in text
    assert "Temporal: 3 site(s) overdue, 1 never visited" in text
    assert " min" not in text


# --- per admin area and per hexagon -----------------------------------------------------------


def test_sites_land_in_areas_by_code_location_or_outside(result: CoverageResult) -> None:
    """GP-1 by its P-code, GP-2 by location, GP-3 by location (its code is unknown), DC-1
    outside every area."""
    table = result.to_frame().set_index("id")
    assert table["area_id"].dropna().to_dict() == {"GP-3": "AA2", "GP-2": "AA1", "GP-1": "AA1"}
    assert table["area_id"].isna()["DC-1"]
    assert table["area_source"].to_dict() == {
        "GP-1": "p-code",
        "GP-2": "location",
        "GP-3": "location, p-code unknown",
        "DC-1": "outside",
    }


def test_admin_totals_add_up_to_the_national_total(result: CoverageResult) -> None:
    """AA1 140 people (40 out of reach), AA2 60 (0), outside 20 (20): 220 and 60 in all."""
    admin = result.areas("admin").set_index("area_id")
    assert admin.loc[
        "AA1", ["sites", "people", "people_not_covered", "men_not_covered"]
    ].tolist() == [
        2,
        140,
        40,
        30,
    ]
    assert admin.loc["AA2", ["sites", "people", "people_not_covered"]].tolist() == [1, 60, 0]
    outside = admin.loc[""]
    assert (outside["area_name"], outside["people"], outside["people_not_covered"]) == (
        "(outside every area)",
        20,
        20,
    )
    national = result.totals.set_index("status")
    assert admin["people"].sum() == national.loc["total", "people"] == 220
    assert admin["people_not_covered"].sum() == national.loc["not covered", "people"] == 60
    for b in SexAge:
        assert admin[f"{b}_not_covered"].sum() == national.loc["not covered", b]
    assert admin["sites_overdue"].sum() == 3


def test_admin_areas_rank_most_people_out_of_reach_first(result: CoverageResult) -> None:
    """AA1 (40 out of reach) ranks above the outside group (20) and AA2 (0)."""
    admin = result.areas("admin")
    assert list(admin["area_id"]) == ["AA1", "", "AA2"]
    assert list(admin["rank"]) == [1, 2, 3]
    assert admin.loc[0, "share_not_covered"] == pytest.approx(40 / 140)


def test_hexagon_totals_add_up_and_match_h3(result: CoverageResult) -> None:
    """Each site sits in its H3 cell at resolution 7; hexagon totals add up to the total."""
    table = result.to_frame().set_index("id")
    for sid in SITES:
        expected = h3.latlng_to_cell(table.loc[sid, "lat"], table.loc[sid, "lon"], 7)
        assert table.loc[sid, "h3_cell"] == expected
    hexagons = result.areas("h3")
    assert hexagons["people"].sum() == 220
    assert hexagons["people_not_covered"].sum() == 60
    assert hexagons["sites"].sum() == 4
    shapes = hexagons.set_index("area_id").geometry
    for sid in SITES:
        point = shapely.Point(table.loc[sid, "lon"], table.loc[sid, "lat"])
        assert shapes[table.loc[sid, "h3_cell"]].contains(point)


def test_without_admin_areas_by_admin_falls_back_to_hexagons(layers: CoverageLayers) -> None:
    """No admin_areas layer: area columns are empty and areas('admin') gives the hexagons."""
    bare = CoverageLayers(**{**vars(layers), "admin_areas": None})
    result = coverage_from_matrix(bare, _matrix(), period=PERIOD, today=TODAY, params=PARAMS)
    assert result.admin is None
    assert result.to_frame()["area_id"].isna().all()
    assert result.areas("admin") is result.hexagons
    with pytest.raises(ParameterError, match="by: expected admin or h3"):
        result.areas("district")


# --- temporal -------------------------------------------------------------------------------


def test_temporal_on_time(result: CoverageResult) -> None:
    """GP-1: health 10 days ago, every 14 days: not overdue."""
    row = _service(result, "GP-1", "health")
    assert (row["days_since_last_visit"], row["days_overdue"], row["overdue"]) == (10, 0, False)
    assert not _site(result, "GP-1")["temporal_gap"]


def test_temporal_overdue_per_service(result: CoverageResult) -> None:
    """GP-2: health 20 days ago (13 overdue), nfi 199 days ago (192 overdue)."""
    health, nfi = _service(result, "GP-2", "health"), _service(result, "GP-2", "nfi")
    assert (health["days_since_last_visit"], health["days_overdue"]) == (20, 13)
    assert (nfi["days_since_last_visit"], nfi["days_overdue"]) == (199, 192)
    gp2 = _site(result, "GP-2")
    assert (gp2["days_since_last_visit"], gp2["days_overdue"]) == (20, 192)
    assert gp2["services_late"] == "health,nfi"
    assert "overdue 192 d: health,nfi" in str(gp2["gap_reasons"])


def test_temporal_never_visited(result: CoverageResult) -> None:
    """GP-3 was never visited: overdue with unknown days, and said so."""
    gp3 = _site(result, "GP-3")
    assert gp3["never_visited"]
    assert gp3["temporal_gap"]
    assert pd.isna(gp3["days_overdue"])
    assert gp3["visits_in_period"] == 0
    assert "never visited" in str(gp3["gap_reasons"])


def test_temporal_detention_centre_monitoring(result: CoverageResult) -> None:
    """DC-1: monitored 60 days ago, every 30 days: 30 days overdue; one visit in the period."""
    dc1 = _site(result, "DC-1")
    assert (dc1["days_since_last_visit"], dc1["days_overdue"], dc1["visits_in_period"]) == (
        60,
        30,
        1,
    )


def test_visits_after_the_period_end_are_ignored(layers: CoverageLayers) -> None:
    """Measured at 2026-11-15 (the period's end), GP-1's only visit, on 11-20, does not count."""
    early = Period(dt.date(2026, 6, 1), dt.date(2026, 11, 15))
    result = coverage_from_matrix(layers, _matrix(), period=early, today=TODAY, params=PARAMS)
    assert result.as_of == dt.date(2026, 11, 15)
    gp1, gp2 = _site(result, "GP-1"), _site(result, "GP-2")
    assert gp1["never_visited"]
    assert (gp2["days_since_last_visit"], gp2["visits_in_period"]) == (5, 1)


# --- service --------------------------------------------------------------------------------


def test_service_delivered_and_unmet_in_the_period(result: CoverageResult) -> None:
    """GP-2 got health in the period but not nfi (last given in May, before the period)."""
    gp2 = _site(result, "GP-2")
    assert (gp2["services_delivered"], gp2["services_unmet"]) == ("health", "nfi")
    assert gp2["service_gap"]
    assert "unmet in period: nfi" in str(gp2["gap_reasons"])
    assert _service(result, "GP-2", "nfi")["visits_in_period"] == 0
    assert not _site(result, "GP-1")["service_gap"]


def test_service_never_delivered_is_said_once(result: CoverageResult) -> None:
    """A service never given is reported as such, not again as unmet in the period."""
    layers = CoverageLayers.from_frames(_frames())
    sites = layers.sites.assign(
        services_needed=["health", "health,nfi", "mhpss", "monitoring,protection"]
    )
    both = CoverageLayers(**{**vars(layers), "sites": sites})
    dc1 = _site(
        coverage_from_matrix(both, _matrix(), period=PERIOD, today=TODAY, params=PARAMS), "DC-1"
    )
    assert dc1["services_unmet"] == "protection"
    assert dc1["services_never_delivered"] == "protection"
    assert "never delivered: protection" in str(dc1["gap_reasons"])
    assert "unmet in period" not in str(dc1["gap_reasons"])


REASONS = (
    GapReason(GapReasonKind.INACCESSIBLE, note="raid near the shelter"),
    GapReason(GapReasonKind.UNREACHABLE, note=ZONE_REASON),
    GapReason(GapReasonKind.BEYOND_THRESHOLD, minutes=35.4, limit_minutes=30),
    GapReason(GapReasonKind.SERVICES_OUT_OF_REACH, services=("health", "nfi")),
    GapReason(GapReasonKind.NEVER_VISITED),
    GapReason(GapReasonKind.OVERDUE, services=("health", "nfi"), days=12),
    GapReason(GapReasonKind.NEVER_DELIVERED, services=("mhpss",)),
    GapReason(GapReasonKind.UNMET, services=("nfi", "protection")),
)
"""One reason of every kind."""


def test_gap_reasons_in_planner_words() -> None:
    """Every kind of reason reads as the gap table writes it, notes and minutes included."""
    assert gap_reasons_text(REASONS).split("; ") == [
        "inaccessible (raid near the shelter)",
        f"no clinic or base reachable ({ZONE_REASON})",
        "no clinic or base within 30 min (nearest 35 min)",
        "out of reach for health,nfi",
        "never visited",
        "overdue 12 d: health,nfi",
        "never delivered: mhpss",
        "unmet in period: nfi,protection",
    ]


def test_gap_reasons_in_viewer_words() -> None:
    """Viewers read the same reasons without free text, named places or minutes."""
    assert gap_reasons_text(REASONS, viewer=True).split("; ") == [
        "inaccessible",
        "no clinic or base reachable",
        "no clinic or base within the threshold",
        "out of reach for health,nfi",
        "never visited",
        "overdue 12 d: health,nfi",
        "never delivered: mhpss",
        "unmet in period: nfi,protection",
    ]


def test_gap_reasons_text_is_made_from_the_structured_reasons(result: CoverageResult) -> None:
    """Each site's ``gap_reasons`` is its structured reasons in planner words."""
    table = result.to_frame()
    assert set(result.reasons) == set(table["id"])
    for site_id, text in zip(table["id"], table["gap_reasons"], strict=True):
        assert gap_reasons_text(result.reasons[site_id]) == text
    dc1 = {r.kind: r for r in result.reasons["DC-1"]}
    assert dc1[GapReasonKind.UNREACHABLE].note == ZONE_REASON
    gp2 = {r.kind: r for r in result.reasons["GP-2"]}
    assert gp2[GapReasonKind.BEYOND_THRESHOLD].minutes == 35.0
    assert gp2[GapReasonKind.OVERDUE].days == 192


def test_gap_table_ranks_most_gaps_then_most_people(result: CoverageResult) -> None:
    """Three kinds of gap at GP-3 (60) and GP-2 (40), two at DC-1 (its monitoring was
    delivered in the period), none at GP-1."""
    table = result.to_frame()
    assert list(table["id"]) == ["GP-3", "GP-2", "DC-1", "GP-1"]
    assert list(table["gaps"]) == [3, 3, 2, 0]
    assert list(table.columns[: len(GAP_COLUMNS)]) == list(GAP_COLUMNS)
    assert list(result.top_gaps(10)["id"]) == ["GP-3", "GP-2", "DC-1"]


def test_top_gaps_text_lists_the_worst_sites(result: CoverageResult) -> None:
    """The plain-text list numbers the worst sites with their people and reasons."""
    text = top_gaps_text(result, n=2)
    assert text.splitlines()[0].startswith("Top 2 coverage gaps (2026-06-01..2026-11-30")
    assert "  1. GP-3 (gathering_points, 60 people): out of reach for mhpss; never visited" in text
    assert "DC-1" not in text


# --- indicators -----------------------------------------------------------------------------


def test_indicator_behind_target_and_behind_pace(result: CoverageResult) -> None:
    """90 consultations of 200 (45 %); 75 % of the period gone, so 150 expected: pace 0.6."""
    row = result.indicators.set_index("id").loc["IND-1"]
    assert row["value"] == 90
    assert row["progress"] == pytest.approx(0.45)
    assert row["expected"] == pytest.approx(150)
    assert row["pace"] == pytest.approx(0.6)
    assert row["shortfall"] == pytest.approx(60)
    assert row["status"] == "behind"


def test_indicator_on_pace_met_and_not_started(result: CoverageResult) -> None:
    """Referrals 3 of 4 with 3 expected: on track; 3 sites of 3: met; December: not started;
    women's consultations 25 of 20: met."""
    table = result.indicators.set_index("id")
    assert (table.loc["IND-2", "value"], table.loc["IND-2", "expected"]) == (3, 3)
    assert table.loc["IND-2", "status"] == "on track"
    assert (table.loc["IND-3", "value"], table.loc["IND-3", "status"]) == (3, "met")
    assert table.loc["IND-3", "period_start"] == PERIOD.start
    assert (table.loc["IND-4", "value"], table.loc["IND-4", "status"]) == (25, "met")
    assert (table.loc["IND-5", "expected"], table.loc["IND-5", "status"]) == (0, "not started")


def test_a_bad_formula_fails_the_analysis_with_the_indicator_named(
    layers: CoverageLayers,
) -> None:
    """An unreadable formula names the indicator and what is wrong."""
    indicators = _indicators().assign(formula=["sum(consultation)", *_indicators()["formula"][1:]])
    bad = CoverageLayers(**{**vars(layers), "indicators": indicators})
    with pytest.raises(FormulaError, match=r"indicator IND-1: .*did you mean 'consultations'"):
        coverage_from_matrix(bad, _matrix(), period=PERIOD, today=TODAY, params=PARAMS)


# --- where to go next -----------------------------------------------------------------------


def test_siting_proposes_the_place_that_covers_most_people(layers: CoverageLayers) -> None:
    """Of GP-2 (40) and DC-1 (20) out of reach, a stop at GP-2 covers GP-2 only: 40 of 60."""
    grid = np.array([[0.0, np.nan], [np.nan, np.nan]])
    candidates = TravelTimeMatrix(
        origins=("GP-2", "DC-1"),
        destinations=("GP-2", "P-9"),
        seconds=grid,
        metres=grid,
        reachable=np.isfinite(grid),
    )
    result = coverage_from_matrix(
        layers,
        _matrix(),
        candidates=candidates,
        period=PERIOD,
        today=TODAY,
        params=CoverageParams(new_locations=1),
    )
    assert result.siting is not None
    assert result.siting.chosen == ("GP-2",)
    assert (result.siting.covered, result.siting.demand, result.siting.gap) == (40, 60, 0)
    assert result.siting.beyond_every_candidate == 20
    assert "Where to go next: 1 new location(s) would bring 40 of 60" in result.summary()


# --- inputs and parameters ------------------------------------------------------------------


def test_matrix_missing_a_site_is_named(layers: CoverageLayers) -> None:
    """A matrix without GP-3 fails and says how to build the right one."""
    short = {k: v for k, v in MINUTES.items() if k != "GP-3"}
    with pytest.raises(ParameterError, match=r"missing sites \(origins\) GP-3"):
        coverage_from_matrix(layers, _matrix(short), period=PERIOD, today=TODAY, params=PARAMS)


def test_ids_shared_by_clinics_and_teams_are_refused(layers: CoverageLayers) -> None:
    """The matrix cannot tell a clinic from a team with the same id."""
    teams = layers.teams.assign(id=["CL-1"])
    clash = CoverageLayers(**{**vars(layers), "teams": teams})
    with pytest.raises(ParameterError, match="clinics and teams share ids CL-1"):
        coverage_from_matrix(clash, _matrix(), period=PERIOD, today=TODAY, params=PARAMS)


def test_site_ids_must_be_unique_across_layers() -> None:
    """A detention centre with a gathering point's id is refused with a fix."""
    frames = _frames()
    frames["detention_centres"] = frames["detention_centres"].assign(id=["GP-1"])
    with pytest.raises(ParameterError, match="repeated: GP-1; give each layer its own id prefix"):
        CoverageLayers.from_frames(frames)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"threshold_minutes": 0}, "threshold_minutes: expected minutes from 1 to 1440, got 0"),
        ({"service_minutes": {"dentistry": 20}}, "service_minutes: 'dentistry' not allowed"),
        ({"referral_kinds": ("hospital",)}, "referral_kinds: 'hospital' not allowed"),
        ({"site_layers": ("clinics",)}, "site_layers: 'clinics'; use layers with people"),
        ({"h3_resolution": 16}, "h3_resolution: expected 0 to 15, got 16"),
    ],
)
def test_params_out_of_range_are_refused(params: dict[str, object], message: str) -> None:
    """Every parameter is checked, with the allowed values in the message."""
    with pytest.raises(ParameterError, match=message.replace("(", r"\(").replace(")", r"\)")):
        CoverageParams(**params)  # type: ignore[arg-type]


def test_params_from_toml(tmp_path: Path) -> None:
    """A [coverage] table sets what it names; unknown keys are refused."""
    path = tmp_path / "coverage.toml"
    path.write_text(
        '[coverage]\nthreshold_minutes = 45\nservice_minutes = {referral = 90}\nsite_layers = ["gathering_points"]\n'
    )
    params = load_params(path).coverage
    assert (params.threshold_minutes, params.threshold_for("referral")) == (45, 90)
    assert params.threshold_for("health") == 45
    assert params.site_layers == ("gathering_points",)
    path.write_text("[coverage]\nthreshold = 45\n")
    with pytest.raises(ParameterError, match=r"unknown keys threshold\b"):
        load_params(path)


@pytest.mark.parametrize(
    ("text", "minutes"), [("30", 30), ("30min", 30), ("45 minutes", 45), ("1h", 60), ("1h30", 90)]
)
def test_parse_minutes(text: str, minutes: float) -> None:
    """Thresholds read as minutes, hours or both."""
    assert parse_minutes(text) == minutes


@pytest.mark.parametrize("text", ["", "soon", "30s", "-5"])
def test_parse_minutes_refuses_what_is_not_a_duration(text: str) -> None:
    """Anything else names the expected form."""
    with pytest.raises(ParameterError, match="expected minutes such as 30min"):
        parse_minutes(text)


# --- outputs --------------------------------------------------------------------------------


def test_save_coverage_writes_csv_and_a_geopackage(result: CoverageResult, tmp_path: Path) -> None:
    """CSV tables and one GeoPackage with sites (points) and areas (polygons) for QGIS."""
    written = save_coverage(result, tmp_path / "out", by="admin")
    names = {p.name for p in written}
    assert {
        "coverage_sites.csv",
        "coverage_services.csv",
        "coverage_areas.csv",
        "coverage_totals.csv",
        "coverage_indicators.csv",
        "coverage.gpkg",
    } <= names
    sites = pd.read_csv(tmp_path / "out" / "coverage_sites.csv")
    assert list(sites["id"]) == ["GP-3", "GP-2", "DC-1", "GP-1"]
    assert sites.loc[sites["id"] == "GP-2", "last_visit"].item() == "2026-11-10"
    gpkg = tmp_path / "out" / "coverage.gpkg"
    assert {n for n, _ in pyogrio.list_layers(gpkg)} == {"coverage_sites", "coverage_areas"}
    points = gpd.read_file(gpkg, layer="coverage_sites")
    assert len(points) == 4
    assert set(points.geom_type) == {"Point"}
    areas = gpd.read_file(gpkg, layer="coverage_areas")
    assert sorted(areas["area_id"]) == ["AA1", "AA2"]  # the outside group has no shape
    indicators = pd.read_csv(tmp_path / "out" / "coverage_indicators.csv")
    assert indicators.loc[0, "period_start"] == "2026-11-01"


# --- the convenience wrapper and the workspace ------------------------------------------------


def test_coverage_from_layers_builds_the_matrix_and_candidates(layers: CoverageLayers) -> None:
    """Straight-line times from the positions; the out-of-reach sites are candidate stops."""
    result = coverage_from_layers(
        layers, period=PERIOD, today=TODAY, params=CoverageParams(new_locations=1)
    )
    assert result.backend == "straight_line"
    assert len(result.sites) == 4
    assert result.siting is not None
    direct = matrix_from_points(layers.sites, layers.clinics)
    minutes = direct.seconds[direct.row("GP-1"), direct.col("CL-1")] / 60
    assert _site(result, "GP-1")["clinic_minutes"] == pytest.approx(minutes)


def _workspace(path: Path) -> Store:
    store = open_store(path)
    for name, frame in _frames().items():
        store.upsert(name, frame)
    return store


def test_coverage_reusing_a_matrix_uses_a_given_matrix(tmp_path: Path) -> None:
    """A larger matrix that names the base as the planner does is cut down and used."""
    store = _workspace(tmp_path / "ws.gpkg")
    extra = {**MINUTES, "X-9": (1, 1, 1)}
    result = coverage_reusing_matrix(
        coverage_layers(store, site_layers=PARAMS.site_layers),
        matrix=_matrix(extra, ("CL-1", "CL-2", "base:T-1")),
        base_ids={"T-1": "base:T-1"},
        period=PERIOD,
        today=TODAY,
        params=PARAMS,
    )
    assert result.backend == "fixture"
    assert result.totals.set_index("status").loc["not covered", "people"] == 60
    assert _site(result, "GP-1")["nearest_base"] == "T-1"


def test_coverage_reusing_a_matrix_without_a_usable_one_builds_one(tmp_path: Path) -> None:
    """A matrix lacking a site is set aside; straight-line times are computed instead."""
    store = _workspace(tmp_path / "ws.gpkg")
    short = {k: v for k, v in MINUTES.items() if k != "GP-3"}
    layers = coverage_layers(store, site_layers=PARAMS.site_layers)
    result = coverage_reusing_matrix(
        layers, matrix=_matrix(short), period=PERIOD, today=TODAY, params=PARAMS
    )
    assert result.backend == "straight_line"


# --- the command ----------------------------------------------------------------------------


def test_command_prints_a_ranked_table_and_writes_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`geoplan coverage` ranks the gaps, totals people and writes CSV and a GeoPackage."""
    _workspace(tmp_path / "ws.gpkg")
    out = tmp_path / "cov"
    code = run(
        [
            "coverage",
            "-w",
            str(tmp_path / "ws.gpkg"),
            "--period",
            "2026-06-01..2026-11-30",
            "--threshold",
            "1h",
            "--by",
            "admin",
            "-o",
            str(out),
        ]
    )
    text = capsys.readouterr().out
    assert code == 0, text
    assert "Coverage gaps" in text
    assert "threshold 60 min" in text
    assert text.index("GP-3") < text.index("GP-2")
    assert "Area One" in text
    assert (out / "coverage.gpkg").exists()
    assert (out / "coverage_sites.csv").exists()
    assert "Indicators" in text


def test_command_by_h3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--by h3 sums per hexagon."""
    _workspace(tmp_path / "ws.gpkg")
    code = run(
        ["coverage", "-w", str(tmp_path / "ws.gpkg"), "--by", "h3", "-o", str(tmp_path / "c")]
    )
    assert code == 0
    areas = pd.read_csv(tmp_path / "c" / "coverage_areas.csv")
    assert areas["area_id"].str.startswith("87").all()
    assert "hexagon" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--threshold", "soon"], "threshold: expected minutes"),
        (["--period", "2026-06-01"], "period: expected START..END"),
        (["--by", "district"], "by: expected admin or h3"),
    ],
)
def test_command_usage_errors_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    """A bad threshold, period or grouping exits 2 with the expected form named."""
    _workspace(tmp_path / "ws.gpkg")
    assert run(["coverage", "-w", str(tmp_path / "ws.gpkg"), *args]) == 2
    captured = capsys.readouterr()
    assert message in captured.err
    assert "Traceback" not in captured.err


def test_command_with_roads_uses_the_road_network(
    tmp_path: Path,
    fixtures: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """--roads gives road travel times; sites far from the extract's roads say why."""
    monkeypatch.setenv("GEOPLAN_CACHE_DIR", str(tmp_path / "cache"))
    _workspace(tmp_path / "ws.gpkg")
    roads = fixtures / "roads_bridge_shortcut.osm"  # near 0 N 0 E, far from every site
    args = ["coverage", "-w", str(tmp_path / "ws.gpkg"), "--roads", str(roads)]
    code = run([*args, "--locations", "0", "-o", str(tmp_path / "c")])
    text = capsys.readouterr().out
    assert code == 0, text
    assert "road_network travel times" in text
    assert "too far from any road" in text
    assert "220 people (100%) at 4 site(s) beyond 30 min" in text


def test_command_with_a_missing_roads_file_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A roads file that does not exist is named."""
    _workspace(tmp_path / "ws.gpkg")
    args = ["coverage", "-w", str(tmp_path / "ws.gpkg"), "--roads", str(tmp_path / "no.osm")]
    assert run(args) == 2
    assert "no.osm" in capsys.readouterr().err


def test_command_on_a_missing_workspace_says_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No workspace: exit 2 and a hint to import or run the demo."""
    assert run(["coverage", "-w", str(tmp_path / "none.gpkg")]) == 2
    assert "geoplan demo" in capsys.readouterr().err


def test_command_help_has_examples(capsys: pytest.CaptureFixture[str]) -> None:
    """`geoplan coverage --help` shows how to call it."""
    assert run(["coverage", "--help"]) == 0
    assert "geoplan coverage --period 2026-06-01..2026-11-30" in capsys.readouterr().out


# --- real data ------------------------------------------------------------------------------

LIBYA = "libya"
HEALTH = f"{LIBYA}/libya_osm_health_amenities_2019_obiwanlansi.geojson"  # ODbL, (c) OSM
PLACES = f"{LIBYA}/libya_osm_place_nodes_2019_obiwanlansi.geojson"  # ODbL, (c) OSM
MANTIKAS = f"{LIBYA}/lby_adm2_cod_pcodes_geoboundaries_simplified.geojson"  # COD, CC BY


@pytest.fixture(scope="module")
def libya(
    shared_data: Path, fixtures: Path, tmp_path_factory: pytest.TempPathFactory
) -> CoverageLayers:
    """Real OSM hospitals, clinics and doctors, places as gathering points, and mantikas,
    imported through the ordinary import path."""
    store = open_store(tmp_path_factory.mktemp("libya") / "ws.gpkg")
    health = ColumnMapping.from_toml(fixtures / "mappings" / "libya_osm_health_amenities.toml")
    import_file(shared_data / HEALTH, "clinics", store=store, options=ImportOptions(mapping=health))
    places = ColumnMapping.build(
        columns={"id": ["ID"], "name": ["NAME_EN", "NAME", "VALUE"], "people": ["POPULATION"]},
        defaults={"setting": "urban_community"},
        id_prefix="place-",
    )
    import_file(
        shared_data / PLACES, "gathering_points", store=store, options=ImportOptions(mapping=places)
    )
    mantikas = ColumnMapping.build(
        columns={"id": "ADM2_PCODE", "name": "ADM2_EN", "parent_code": "ADM1_PCODE"},
        values={"level": {"ADM2": "2"}},
    )
    import_file(
        shared_data / MANTIKAS, "admin_areas", store=store, options=ImportOptions(mapping=mantikas)
    )
    layers = coverage_layers(store)
    kinds = ("secondary_hospital", "primary_care", "medical_office")  # hospital, clinic, doctors
    return CoverageLayers(
        **{**vars(layers), "clinics": layers.clinics.loc[layers.clinics["kind"].isin(kinds)]}
    )


def test_real_libya_places_per_mantika_add_up(libya: CoverageLayers, shared_data: Path) -> None:
    """943 clinics, 1,080 places: each place in exactly one of 22 mantikas or reported as
    outside, and the per-mantika totals add up to the national total."""
    assert len(libya.clinics) == 943
    assert len(libya.sites) == 1080
    result = coverage_from_layers(
        libya, period=PERIOD, today=TODAY, params=CoverageParams(new_locations=0)
    )
    table = result.to_frame()
    mantikas = gpd.read_file(shared_data / MANTIKAS)
    hits = shapely.STRtree(mantikas.geometry.to_numpy()).query(
        shapely.points(table["lon"], table["lat"]), predicate="intersects"
    )
    inside = np.bincount(hits[0], minlength=len(table))
    assert np.bincount(inside).tolist() == [23, 1057]  # no place lies on a border
    assert (table["area_source"] == "outside").sum() == 23
    assert list(table.loc[inside == 0, "area_source"].unique()) == ["outside"]
    placed = table.loc[inside == 1]
    codes = mantikas["ADM2_PCODE"].to_numpy()[
        hits[1][np.isin(hits[0], np.flatnonzero(inside == 1))]
    ]
    assert list(placed["area_id"]) == list(codes)
    admin = result.areas("admin").set_index("area_id")
    assert len(admin) == 22 + 1
    assert admin.loc["", ["area_name", "sites"]].tolist() == ["(outside every area)", 23]
    total = result.totals.set_index("status").loc["total"]
    assert admin["sites"].sum() == 1080
    assert total["people"] == 11_452_390  # the 87 places with a population
    assert admin["people"].sum() == total["people"]
    assert (
        admin["people_not_covered"].sum()
        == result.totals.set_index("status").loc["not covered", "people"]
    )
    assert (
        total["people"]
        == pd.to_numeric(gpd.read_file(shared_data / PLACES)["POPULATION"], errors="coerce")
        .fillna(0)
        .sum()
    )


def test_real_libya_exact_coverage_by_brute_force(libya: CoverageLayers) -> None:
    """`covered` agrees with a direct minimum over the straight-line matrix."""
    params = CoverageParams(new_locations=0)
    result = coverage_from_layers(libya, period=PERIOD, today=TODAY, params=params)
    facilities = gpd.GeoDataFrame(
        pd.concat([libya.clinics[["id", "geometry"]], libya.teams[["id", "geometry"]]]),
        crs="EPSG:4326",
    )
    matrix = matrix_from_points(libya.sites, facilities)
    nearest = np.nanmin(np.where(matrix.reachable, matrix.seconds, np.inf), axis=1) / 60
    expected = dict(zip(matrix.origins, nearest <= params.threshold_minutes, strict=True))
    got = result.to_frame().set_index("id")["covered"].to_dict()
    assert got == expected
    assert sum(expected.values()) == result.totals.set_index("status").loc["covered", "sites"]
