"""Speed of the coverage-gap analysis at the size of a large operation.

Anchor (issue 5): 5,000 sites, 500 clinics, 200,000 visits; the full analysis, given the
travel-time matrices, within 10 s on the project's machine class (2 shared cores).

The layers come from the demo generator (:func:`geoplan.demo.scenario.generate_scenario`: 5,000
gathering points plus the scenario's detention centres, clinics and teams, 200,000 visits),
with clinics added at random around the sites until there are 500. Ten indicators use every
part of the formula grammar. The straight-line backend builds the two matrices (sites to
clinics and bases; sites out of reach to themselves as candidate stops); that time is shown
but is not part of the anchor, which times :func:`geoplan.coverage.coverage_from_matrix`
alone: spatial, temporal, service and indicator gaps, admin and H3 totals, and the MCLP.

Usage::

    python benchmarks/bench_coverage.py [--sites 5000] [--clinics 500] [--visits 200000]
        [--threshold 20] [--repeat 1] [--seed 1]
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

import geopandas as gpd
import numpy as np
import pandas as pd

from geoplan.coverage import (
    CoverageLayers,
    CoverageParams,
    coverage_from_matrix,
    spatial_coverage,
    top_gaps_text,
)
from geoplan.demo.scenario import generate_scenario
from geoplan.indicators import Period
from geoplan.travel.matrix import matrix_from_points

TODAY = dt.date(2026, 11, 30)
PERIOD = Period(dt.date(2026, 6, 1), TODAY)
ANCHOR_S = 10.0
INDICATORS = (
    ("IND-01", "Primary health consultations", "sum(consultations)", 2400),
    ("IND-02", "Consultations, men", "sum(consultations_men)", 1200),
    ("IND-03", "Consultations, women", "sum(consultations_women)", 600),
    ("IND-04", "Consultations, boys and girls", "sum(consultations_boys + consultations_girls)", 600),
    ("IND-05", "Referrals", "sum(referrals)", 60),
    ("IND-06", "People reached by awareness", "sum(people_reached) where activities contains health_awareness", 2400),
    ("IND-07", "Protection visits", "count() where services contains protection", 300),
    ("IND-08", "Sites given NFI kits", "distinct(site_id) where nfi_kits > 0", 200),
    ("IND-09", "MHPSS or PFA sessions", "count() where activities contains mhpss_session or activities contains psychological_first_aid", 500),
    ("IND-10", "Visits without health", "count() where not services contains health", 1000),
)  # fmt: skip


def build_layers(*, sites: int, clinics: int, visits: int, seed: int) -> CoverageLayers:
    """Demo layers at benchmark size, with extra clinics and ten indicators."""
    frames = generate_scenario(seed=seed, sites=sites, visits=visits, today=TODAY, validate=False)
    frames = dict(frames)
    frames["clinics"] = _more_clinics(frames["clinics"], frames["gathering_points"], clinics, seed)
    scale = visits / 2400  # targets are for the demo's default 2,400 visits
    undated = pd.Series(pd.NaT, index=range(len(INDICATORS)), dtype="datetime64[ns]")
    frames["indicators"] = pd.DataFrame(
        [
            {"id": i, "name": n, "formula": f, "target": round(t * scale), "unit": ""}
            for i, n, f, t in INDICATORS
        ]
    ).assign(period_start=undated, period_end=undated, notes=None)
    return CoverageLayers.from_frames(frames)


def _more_clinics(
    clinics: gpd.GeoDataFrame, sites: gpd.GeoDataFrame, total: int, seed: int
) -> gpd.GeoDataFrame:
    """Clinics near sites of the western 70 % of the area, so the east keeps real gaps."""
    rng = np.random.default_rng(seed)
    extra = max(total - len(clinics), 0)
    lon, lat = sites.geometry.x.to_numpy(), sites.geometry.y.to_numpy()
    west = np.flatnonzero(lon <= np.quantile(lon, 0.7))
    near = rng.choice(west, extra)
    kinds = rng.choice(["primary_care", "secondary_hospital", "pharmacy"], extra, p=[0.8, 0.1, 0.1])
    added = gpd.GeoDataFrame(
        {
            "id": [f"CL-B{i:04d}" for i in range(extra)],
            "name": [f"Clinic {i}" for i in range(extra)],
            "kind": kinds,
            "services": np.where(kinds == "secondary_hospital", "health,referral", "health"),
            "access_status": "open",
        },
        geometry=gpd.points_from_xy(
            lon[near] + rng.normal(0, 0.01, extra), lat[near] + rng.normal(0, 0.01, extra)
        ),
        crs="EPSG:4326",
    )
    return gpd.GeoDataFrame(pd.concat([clinics, added], ignore_index=True), crs="EPSG:4326")


def main() -> None:
    """Build the instance, time the analysis and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sites", type=int, default=5000)
    parser.add_argument("--clinics", type=int, default=500)
    parser.add_argument("--visits", type=int, default=200_000)
    parser.add_argument("--threshold", type=float, default=20.0, help="minutes")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    start = time.perf_counter()
    layers = build_layers(
        sites=args.sites, clinics=args.clinics, visits=args.visits, seed=args.seed
    )
    params = CoverageParams(threshold_minutes=args.threshold)
    print(
        f"instance: {len(layers.sites):,} sites, {len(layers.clinics):,} clinics, "
        f"{len(layers.teams)} teams, {len(layers.visits):,} visits, "
        f"{0 if layers.indicators is None else len(layers.indicators)} indicators "
        f"(built in {time.perf_counter() - start:.1f} s)"
    )

    start = time.perf_counter()
    facilities = gpd.GeoDataFrame(
        pd.concat([layers.clinics[["id", "geometry"]], layers.teams[["id", "geometry"]]]),
        crs="EPSG:4326",
    )
    matrix = matrix_from_points(layers.sites, facilities)
    spatial = spatial_coverage(
        layers.sites, matrix, clinics=layers.clinics, teams=layers.teams, params=params
    )
    out = layers.sites.loc[~spatial["covered"].to_numpy()]
    candidates = matrix_from_points(out, out)
    print(
        f"matrices (straight line, not timed by the anchor): {matrix.shape[0]:,} x "
        f"{matrix.shape[1]:,} and {candidates.shape[0]:,} x {candidates.shape[1]:,} "
        f"in {time.perf_counter() - start:.1f} s"
    )

    times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        result = coverage_from_matrix(
            layers, matrix, candidates=candidates, period=PERIOD, today=TODAY, params=params
        )
        times.append(time.perf_counter() - start)
    best = min(times)
    print(f"coverage_from_matrix: {best:.2f} s (best of {len(times)}; anchor {ANCHOR_S:g} s)")
    print("PASS" if best <= ANCHOR_S else "FAIL", f"- {best / ANCHOR_S:.0%} of the budget")
    print()
    print(result.summary())
    print()
    print(top_gaps_text(result, n=5))


if __name__ == "__main__":
    main()
