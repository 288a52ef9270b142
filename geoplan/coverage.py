"""Coverage gaps: who is out of reach, what is overdue, which needs go unmet, which targets lag.

The pure core, :func:`coverage_from_matrix`, takes the layers and a travel-time matrix from the
demand sites to the clinics and team bases; :func:`coverage_from_layers` builds the matrix with
a travel-time backend and delegates. Four kinds of gap are reported per site:

- *spatial*: the nearest clinic, referral hospital and team base, and whether any clinic or
  base is within the threshold; needed services whose nearest provider lies beyond that
  service's threshold;
- *temporal*: per needed service, days since the last visit against the site's required
  frequency; sites never visited;
- *service*: needed services delivered in the period and those that were not;
- *targets*: indicators of the results matrix against their targets and expected pace
  (see :mod:`geoplan.indicators`).

People covered and not covered are summed (by men, women, boys and girls where known) in
total, per admin area and per H3 hexagon, and :mod:`geoplan.siting` proposes where an extra
stop or base would reach the most people left out.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import numbers
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd

from geoplan.areas import assign_areas, h3_cells, h3_polygons, totals_by_area
from geoplan.catalog import LayerDef, get_layer, join_list, load_catalog, split_list
from geoplan.errors import ParameterError
from geoplan.indicators import PROGRESS_COLUMNS, Period, indicator_progress
from geoplan.outputs import private_file, private_folder, write_csv
from geoplan.overdue import days_overdue
from geoplan.siting import SitingResult, maximal_covering
from geoplan.travel.matrix import TravelTimeBackend, TravelTimeMatrix, matrix_from_points
from geoplan.vocab import GapKind, GapReasonKind, Service, SexAge
from geoplan.zones import active_zones

SITE_COLUMNS = (
    "id",
    "layer",
    "name",
    "access_status",
    "access_reason",
    "admin_code",
    "people",
    *SexAge,
    "frequency_days",
    "services_needed",
)
"""Columns of the demand-site table that every analysis reads (plus ``geometry``)."""
_DURATION = re.compile(
    r"^\s*(?:(?P<h>\d+(?:\.\d+)?)\s*h(?:ours?)?)?\s*(?:(?P<m>\d+(?:\.\d+)?)\s*(?:m|min|mins|minutes?)?)?\s*$"
)
_INF = np.inf
_Frame = TypeVar("_Frame", bound=pd.DataFrame)


def visit_services() -> tuple[str, ...]:
    """Services a team can deliver on a visit, from the catalog."""
    return get_layer("outreach_visits").field("services").allowed


# --- parameters -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CoverageParams:
    """What counts as covered, and how to summarise and search.

    Parameters
    ----------
    threshold_minutes
        A site is within reach when a clinic or team base is at most this far.
    service_minutes
        Thresholds for single services that differ from ``threshold_minutes``, for example
        ``{"referral": 60, "protection": 45}``; ``referral`` is the way to the nearest
        referral hospital.
    referral_kinds
        Clinic kinds that take referrals.
    site_layers
        Layers whose sites are analysed (each needs a ``people`` role).
    h3_resolution
        Resolution of the H3 hexagons people are summed in (7: about 5 km2).
    new_locations
        How many new stops or bases to propose (0 to skip the search).
    solver_time_limit_s
        Time the exact location search may take.

    Raises
    ------
    ParameterError
        When a value is outside its range or names an unknown service, kind or layer.
    """

    threshold_minutes: float = 30.0
    service_minutes: Mapping[str, float] = field(default_factory=dict)
    referral_kinds: tuple[str, ...] = ("secondary_hospital", "tertiary_hospital")
    site_layers: tuple[str, ...] = ("gathering_points", "detention_centres")
    h3_resolution: int = 7
    new_locations: int = 3
    solver_time_limit_s: float = 5.0

    def __post_init__(self) -> None:
        problems = [
            *_check_minutes("threshold_minutes", self.threshold_minutes),
            *_check_service_minutes(self.service_minutes),
            *_check_choices(
                "referral_kinds", self.referral_kinds, get_layer("clinics").field("kind").allowed
            ),
            *_check_site_layers(self.site_layers),
            *_check_range("h3_resolution", self.h3_resolution, 0, 15),
            *_check_range("new_locations", self.new_locations, 0, 50),
            *_check_range("solver_time_limit_s", self.solver_time_limit_s, 0.1, 3600),
        ]
        if problems:
            raise ParameterError("; ".join(problems))

    def threshold_for(self, service: str) -> float:
        """Threshold, in minutes, for one service (or ``referral``)."""
        return float(self.service_minutes.get(service, self.threshold_minutes))


def _check_minutes(name: str, value: float) -> list[str]:
    if isinstance(value, int | float) and 0 < value <= 24 * 60:
        return []
    return [f"{name}: expected minutes from 1 to 1440, got {value!r}"]


def _check_service_minutes(values: Mapping[str, float]) -> list[str]:
    known = (*visit_services(), Service.REFERRAL)
    problems = _check_choices("service_minutes", tuple(values), known)
    return problems + [
        p for s, v in values.items() for p in _check_minutes(f"service_minutes.{s}", v)
    ]


def _check_choices(name: str, values: Sequence[str], allowed: Sequence[str]) -> list[str]:
    bad = [v for v in values if v not in allowed]
    return (
        [f"{name}: {', '.join(map(repr, bad))} not allowed; use {', '.join(allowed)}"]
        if bad
        else []
    )


def _check_site_layers(names: Sequence[str]) -> list[str]:
    catalog = load_catalog()
    bad = [n for n in names if n not in catalog or catalog[n].role("people") is None]
    if bad or not names:
        usable = [n for n, d in catalog.items() if d.role("people")]
        return [
            f"site_layers: {', '.join(map(repr, bad)) or 'none given'}; use layers with people: {', '.join(usable)}"
        ]
    return []


def _check_range(name: str, value: float, low: float, high: float) -> list[str]:
    return [] if low <= value <= high else [f"{name}: expected {low:g} to {high:g}, got {value!r}"]


def parse_minutes(text: str) -> float:
    """Minutes from ``"30"``, ``"30min"``, ``"1h"`` or ``"1h30"``.

    Raises
    ------
    ParameterError
        If the text is not a duration.
    """
    match = _DURATION.match(text)
    if not text.strip() or match is None or not (match["h"] or match["m"]):
        raise ParameterError(f"threshold: expected minutes such as 30min, 45 or 1h30, got {text!r}")
    return float(match["h"] or 0) * 60 + float(match["m"] or 0)


# --- inputs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CoverageLayers:
    """The layers a coverage analysis reads, with sites in one normalised table.

    Parameters
    ----------
    sites
        Demand sites with :data:`SITE_COLUMNS` and a point geometry (see :func:`demand_sites`).
    clinics, teams
        Clinics (``id``, ``kind``, ``services``, ``access_status``) and teams (``id``,
        ``services``; the point is the base).
    visits
        Outreach visits (``site_id``, ``date``, ``services`` and the count fields).
    admin_areas, indicators, no_go_zones
        Optional layers.
    """

    sites: gpd.GeoDataFrame
    clinics: gpd.GeoDataFrame
    teams: gpd.GeoDataFrame
    visits: pd.DataFrame
    admin_areas: gpd.GeoDataFrame | None = None
    indicators: pd.DataFrame | None = None
    no_go_zones: gpd.GeoDataFrame | None = None

    @classmethod
    def from_frames(
        cls,
        frames: Mapping[str, pd.DataFrame],
        *,
        site_layers: Sequence[str] = CoverageParams.site_layers,
    ) -> CoverageLayers:
        """Layers keyed by name (as :meth:`geoplan.store.Store.read` returns them); missing ones
        are empty, and empty optional layers become None."""

        def optional(name: str) -> pd.DataFrame | None:
            frame = frames.get(name)
            return frame if frame is not None and len(frame) else None

        return cls(
            sites=demand_sites(frames, layers=site_layers),
            clinics=_clinics(frames.get("clinics")),
            teams=_teams(frames.get("teams")),
            visits=_visits(frames.get("outreach_visits")),
            admin_areas=optional("admin_areas"),
            indicators=optional("indicators"),
            no_go_zones=optional("no_go_zones"),
        )


def demand_sites(frames: Mapping[str, pd.DataFrame], *, layers: Sequence[str]) -> gpd.GeoDataFrame:
    """One table of the sites of several layers, columns named by role (:data:`SITE_COLUMNS`).

    People, frequency and needed services are taken from the fields that play those roles in
    each layer's definition; empty cells get the field's default.

    Raises
    ------
    ParameterError
        If an id appears in more than one layer (or twice in one).
    """
    parts = [_normalise_sites(frames[name], get_layer(name)) for name in layers if name in frames]
    parts = [p for p in parts if len(p)]
    if not parts:
        return gpd.GeoDataFrame(
            {c: pd.Series(dtype=object) for c in SITE_COLUMNS}, geometry=[], crs="EPSG:4326"
        )
    sites = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs="EPSG:4326")
    repeated = sorted(set(sites["id"][sites["id"].duplicated()]))
    if repeated:
        msg = f"sites: ids must be unique across {', '.join(layers)}; repeated: {', '.join(repeated[:10])}"
        raise ParameterError(msg + "; give each layer its own id prefix (GP-, DC-)")
    return sites


def _normalise_sites(frame: pd.DataFrame, layer: LayerDef) -> gpd.GeoDataFrame:
    people = layer.role("people")
    parts = {f.name for f in layer.fields if people and f.part_of == people}
    data: dict[str, object] = {
        "id": frame["id"].astype(str).to_numpy(),
        "layer": layer.name,
        "name": _column(frame, layer, "name"),
        "access_status": _column(frame, layer, "access_status"),
        "access_reason": _column(frame, layer, "access_reason"),
        "admin_code": _column(frame, layer, "admin_code"),
        "people": _integers(frame, layer, people),
        **{b: _integers(frame, layer, b if b in parts else None) for b in SexAge},
        "frequency_days": _integers(frame, layer, layer.role("frequency")),
        "services_needed": _column(frame, layer, layer.role("services")),
    }
    return gpd.GeoDataFrame(pd.DataFrame(data), geometry=frame.geometry.to_numpy(), crs="EPSG:4326")


def _column(frame: pd.DataFrame, layer: LayerDef, name: str | None) -> np.ndarray:
    """A text column with the field's default in empty cells (lists comma-joined)."""
    if name is None or name not in layer.field_names:
        return np.full(len(frame), None, dtype=object)
    default = layer.field(name).default
    fill = join_list(default) if isinstance(default, tuple) else default
    values = (
        frame[name] if name in frame.columns else pd.Series(None, index=frame.index, dtype=object)
    )
    values = values.map(lambda v: join_list(v) if isinstance(v, tuple | list) else v)
    return values.astype(object).where(values.notna(), fill).to_numpy(dtype=object)


def _integers(frame: pd.DataFrame, layer: LayerDef, name: str | None) -> pd.Series:
    """A whole-number column (Int64) with the field's default in empty cells."""
    default = layer.field(name).default if name in layer.field_names else None
    if name is None or name not in frame.columns:
        values = pd.Series([pd.NA] * len(frame), dtype="Int64")
    else:
        values = pd.to_numeric(frame[name], errors="coerce").astype("Int64").reset_index(drop=True)
    return values.fillna(int(default)) if isinstance(default, int | float) else values


def _clinics(frame: pd.DataFrame | None) -> gpd.GeoDataFrame:
    layer = get_layer("clinics")
    if frame is None or not len(frame):
        return _empty_points(("id", "kind", "services", "access_status"))
    data = {name: _column(frame, layer, name) for name in ("kind", "services", "access_status")}
    return _points(frame, data)


def _teams(frame: pd.DataFrame | None) -> gpd.GeoDataFrame:
    layer = get_layer("teams")
    if frame is None or not len(frame):
        return _empty_points(("id", "services"))
    return _points(frame, {"services": _column(frame, layer, "services")})


def _points(frame: pd.DataFrame, data: dict[str, np.ndarray]) -> gpd.GeoDataFrame:
    table = pd.DataFrame({"id": frame["id"].astype(str).to_numpy(), **data})
    return gpd.GeoDataFrame(table, geometry=frame.geometry.to_numpy(), crs="EPSG:4326")


def _empty_points(columns: Sequence[str]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {c: pd.Series(dtype=object) for c in columns}, geometry=[], crs="EPSG:4326"
    )


def _visits(frame: pd.DataFrame | None) -> pd.DataFrame:
    if frame is None:
        columns = get_layer("outreach_visits").field_names
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns}).astype(
            {"date": "datetime64[ns]"}
        )
    return frame


# --- spatial --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Times:
    """Minutes from every site to every destination of the matrix, ``inf`` where unreachable."""

    minutes: np.ndarray
    columns: Mapping[str, int]
    destinations: tuple[str, ...]

    @classmethod
    def of(cls, matrix: TravelTimeMatrix, site_ids: Sequence[str]) -> _Times:
        rows = [matrix.row(i) for i in site_ids]
        minutes = np.where(matrix.reachable[rows], matrix.seconds[rows] / 60.0, _INF)
        return cls(minutes, {d: i for i, d in enumerate(matrix.destinations)}, matrix.destinations)

    def nearest(self, ids: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Id of and minutes to the nearest of ``ids`` from every site (None / inf if none)."""
        n = self.minutes.shape[0]
        if not len(ids):
            return np.full(n, None, dtype=object), np.full(n, _INF)
        cols = np.array([self.columns[i] for i in ids])
        sub = self.minutes[:, cols]
        best = sub.argmin(axis=1)
        minutes = sub[np.arange(n), best]
        nearest = np.asarray(ids, dtype=object)[best]
        return np.asarray(np.where(np.isfinite(minutes), nearest, None)), minutes


def spatial_coverage(
    sites: gpd.GeoDataFrame,
    matrix: TravelTimeMatrix,
    *,
    clinics: gpd.GeoDataFrame,
    teams: gpd.GeoDataFrame,
    params: CoverageParams,
) -> pd.DataFrame:
    """Per site: the nearest clinic, referral hospital and team base, minutes to each, and
    whether any clinic or base is within the threshold (``covered``).

    Inaccessible clinics are left out. Unreachable pairs count as infinitely far; a site the
    matrix cannot reach at all keeps the matrix's reason.
    """
    times = _Times.of(matrix, list(sites["id"]))
    open_clinics = clinics.loc[clinics["access_status"].fillna("open") != "inaccessible"]
    referral = open_clinics.loc[open_clinics["kind"].isin(params.referral_kinds)]
    nearest_clinic, clinic_min = times.nearest(list(open_clinics["id"]))
    nearest_referral, referral_min = times.nearest(list(referral["id"]))
    nearest_base, base_min = times.nearest(list(teams["id"]))
    reach = np.minimum(clinic_min, base_min)
    return pd.DataFrame(
        {
            "nearest_clinic": nearest_clinic,
            "clinic_minutes": _finite(clinic_min),
            "nearest_referral": nearest_referral,
            "referral_minutes": _finite(referral_min),
            "nearest_base": nearest_base,
            "base_minutes": _finite(base_min),
            "reach_minutes": _finite(reach),
            "covered": reach <= params.threshold_minutes,
            "unreachable_reason": [matrix.reasons.get(i) for i in sites["id"]],
        },
        index=sites.index,
    )


def service_reach(
    sites: gpd.GeoDataFrame,
    matrix: TravelTimeMatrix,
    *,
    clinics: gpd.GeoDataFrame,
    teams: gpd.GeoDataFrame,
    params: CoverageParams,
) -> pd.DataFrame:
    """Per site and needed service: minutes to the nearest clinic or team base offering it,
    and whether that is within the service's threshold.

    Sites needing ``health`` also get a ``referral`` row when ``referral_kinds`` name clinic
    kinds that exist (the way to the nearest referral hospital).
    """
    needed = _needed(sites)
    times = _Times.of(matrix, list(sites["id"]))
    position = pd.Series(np.arange(len(sites)), index=sites["id"].to_numpy())
    minutes = np.full(len(needed), _INF)
    for service, rows in needed.groupby("service").groups.items():
        providers = _providers(str(service), clinics, teams, params)
        _, best = times.nearest(providers)
        minutes[needed.index.get_indexer(rows)] = best[
            position[needed.loc[rows, "site_id"]].to_numpy()
        ]
    thresholds = needed["service"].map(params.threshold_for).to_numpy(dtype=float)
    return needed.assign(
        reach_minutes=_finite(minutes),
        threshold_minutes=thresholds,
        within_reach=minutes <= thresholds,
    )


def _needed(sites: gpd.GeoDataFrame) -> pd.DataFrame:
    """Long table of (site_id, service) for every needed service, plus referral with health."""
    services = sites["services_needed"].map(split_list)
    rows = pd.DataFrame({"site_id": sites["id"].to_numpy(), "service": services.to_numpy()})
    rows = rows.explode("service").dropna(subset=["service"])
    referral = rows.loc[rows["service"] == Service.HEALTH].assign(service=Service.REFERRAL)
    return pd.concat([rows, referral], ignore_index=True)


def _providers(
    service: str, clinics: gpd.GeoDataFrame, teams: gpd.GeoDataFrame, params: CoverageParams
) -> list[str]:
    usable = clinics.loc[clinics["access_status"].fillna("open") != "inaccessible"]
    if service == Service.REFERRAL:
        return list(usable.loc[usable["kind"].isin(params.referral_kinds), "id"])
    offers = usable["services"].map(lambda s: service in split_list(s)).astype(bool)
    team_offers = teams["services"].map(lambda s: service in split_list(s)).astype(bool)
    return [*usable.loc[offers, "id"], *teams.loc[team_offers, "id"]]


def _finite(values: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(values), values, np.nan)


# --- temporal and service -------------------------------------------------------------------


def visit_history(
    sites: gpd.GeoDataFrame, visits: pd.DataFrame, *, period: Period, as_of: dt.date
) -> pd.DataFrame:
    """Per site and needed service: the last visit that delivered it, days since, the required
    frequency, days overdue, whether it was never delivered, and whether it was delivered in
    the period.

    Visits after ``as_of`` are ignored. A service never delivered is overdue with
    ``days_overdue`` missing.
    """
    delivered = _delivered(visits, as_of)
    needed = _needed(sites)
    needed = needed.loc[needed["service"] != Service.REFERRAL]
    last = delivered.groupby(["site_id", "service"])["date"].max().rename("last_visit")
    in_period = delivered.loc[delivered["date"] >= pd.Timestamp(period.start)]
    count = in_period.groupby(["site_id", "service"]).size().rename("visits_in_period")
    table = needed.join(last, on=["site_id", "service"]).join(count, on=["site_id", "service"])
    frequency = pd.Series(sites["frequency_days"].to_numpy(), index=sites["id"].to_numpy())
    table["frequency_days"] = table["site_id"].map(frequency).astype("Int64")
    days = (pd.Timestamp(as_of) - table["last_visit"]).dt.days.astype("Int64")
    table["days_since_last_visit"] = days
    table["days_overdue"] = _days_overdue(table["last_visit"], table["frequency_days"], as_of)
    table["never_delivered"] = table["last_visit"].isna()
    table["overdue"] = (table["never_delivered"] | (table["days_overdue"] > 0)).astype(bool)
    table["visits_in_period"] = table["visits_in_period"].fillna(0).astype(int)
    table["delivered_in_period"] = table["visits_in_period"] > 0
    return table.reset_index(drop=True)


def _days_overdue(last: pd.Series, frequency: pd.Series, as_of: dt.date) -> pd.Series:
    """:func:`geoplan.overdue.days_overdue` for every row (the rule planning uses too)."""
    values = [
        days_overdue(
            None if pd.isna(v) else pd.Timestamp(v).date(),
            None if pd.isna(f) else int(f),
            as_of=as_of,
        )
        for v, f in zip(last, frequency, strict=True)
    ]
    return pd.Series(values, index=last.index, dtype="Int64")


def _delivered(visits: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Long table of (site_id, service, date) for every visit up to ``as_of``."""
    dates = pd.to_datetime(visits["date"])
    keep = (dates <= pd.Timestamp(as_of)).to_numpy(dtype=bool)
    frame = pd.DataFrame(
        {
            "site_id": visits["site_id"].astype(str).to_numpy()[keep],
            "date": dates.to_numpy()[keep],
            "service": visits["services"].astype("string").str.split(",").to_numpy()[keep],
        }
    )
    return frame.explode("service").dropna(subset=["service"])


def _site_history(
    sites: gpd.GeoDataFrame,
    visits: pd.DataFrame,
    history: pd.DataFrame,
    *,
    period: Period,
    as_of: dt.date,
) -> pd.DataFrame:
    """Per-site roll-up of :func:`visit_history` plus visits of any kind."""
    ids = sites["id"].astype(str).to_numpy()
    last, count = _visits_per_site(visits, period=period, as_of=as_of)
    last_visit = pd.Series(last.reindex(ids).to_numpy(), index=sites.index, dtype="datetime64[ns]")
    late = history.assign(late=history["overdue"] & ~history["never_delivered"])
    texts = {
        "services_overdue": _joined(history, "overdue"),
        "services_late": _joined(late, "late"),
        "services_never_delivered": _joined(history, "never_delivered"),
        "services_delivered": _joined(history, "delivered_in_period"),
        "services_unmet": _joined(history, "delivered_in_period", negate=True),
    }
    overdue = history.groupby("site_id")["days_overdue"].max().astype("Int64")
    table = {
        "visits_in_period": count.reindex(ids, fill_value=0).to_numpy(dtype=int),
        "last_visit": last_visit,
        "days_since_last_visit": (pd.Timestamp(as_of) - last_visit).dt.days.astype("Int64"),
        "never_visited": last_visit.isna().to_numpy(),
        "days_overdue": overdue.reindex(ids).to_numpy(),
        **{name: text.reindex(ids, fill_value="").to_numpy() for name, text in texts.items()},
    }
    frame = pd.DataFrame(table, index=sites.index)
    return frame.astype({"days_overdue": "Int64"})


def _visits_per_site(
    visits: pd.DataFrame, *, period: Period, as_of: dt.date
) -> tuple[pd.Series, pd.Series]:
    """Last visit of any kind up to ``as_of`` and the number of visits in the period, by site."""
    dates = pd.to_datetime(visits["date"])
    upto = (dates <= pd.Timestamp(as_of)).to_numpy(dtype=bool)
    site_ids = visits["site_id"].astype(str).to_numpy()[upto]
    days = dates.to_numpy()[upto]
    last = pd.Series(days, dtype="datetime64[ns]").groupby(site_ids).max()
    count = pd.Series(days >= np.datetime64(period.start)).groupby(site_ids).sum()
    return last, count.astype(int)


def _joined(table: pd.DataFrame, flag: str, *, negate: bool = False) -> pd.Series:
    """Comma-joined services per site where ``flag`` holds (or, negated, does not)."""
    mask = table[flag].astype(bool)
    rows = table.loc[~mask if negate else mask]
    return rows.groupby("site_id")["service"].agg(",".join).astype(object)


# --- result ---------------------------------------------------------------------------------


def gap_column(kind: GapKind) -> str:
    """The gap table's column that says whether a site has a gap of this kind."""
    return f"{kind}_gap"


@dataclass(frozen=True)
class GapReason:
    """One reason a site has a gap: its kind and the details its words take.

    Parameters
    ----------
    kind
        What the gap is (:class:`~geoplan.vocab.GapReasonKind`).
    services
        The services it concerns, where it concerns some.
    days
        Days overdue (``overdue``).
    minutes
        Travel minutes to the nearest clinic or base (``beyond_threshold``).
    limit_minutes
        The threshold it is beyond (``beyond_threshold``).
    note
        Free text: the site's access reason (``inaccessible``) or why nothing can be reached,
        which may name a place (``unreachable``).
    """

    kind: GapReasonKind
    services: tuple[str, ...] = ()
    days: int | None = None
    minutes: float | None = None
    limit_minutes: float | None = None
    note: str = ""


GAP_COLUMNS = (
    "rank",
    "id",
    "layer",
    "name",
    "people",
    *SexAge,
    "gaps",
    "gap_reasons",
    "covered",
    "reach_minutes",
    "nearest_clinic",
    "clinic_minutes",
    "nearest_referral",
    "referral_minutes",
    "nearest_base",
    "base_minutes",
    "services_out_of_reach",
    "frequency_days",
    "last_visit",
    "days_since_last_visit",
    "days_overdue",
    "never_visited",
    "services_overdue",
    "services_late",
    "services_never_delivered",
    "visits_in_period",
    "services_needed",
    "services_delivered",
    "services_unmet",
    *(gap_column(kind) for kind in GapKind),
    "access_status",
    "area_id",
    "area_name",
    "area_source",
    "h3_cell",
)
"""Columns of the per-site gap table, :meth:`CoverageResult.to_frame`."""

AREA_COLUMNS = (
    "sites",
    "people",
    "people_covered",
    "people_not_covered",
    *(f"{b}_not_covered" for b in SexAge),
    "sites_not_covered",
    "sites_overdue",
    "sites_never_visited",
    "sites_unmet_needs",
)
"""Totals summed per admin area and per hexagon."""

AREA_GROUPINGS = ("admin", "h3")
"""What people can be summed per: admin areas or H3 hexagons."""


@dataclass(frozen=True)
class CoverageResult:
    """Every kind of coverage gap, per site, per area and in total.

    Parameters
    ----------
    sites
        The per-site gap table (:data:`GAP_COLUMNS`), worst first, with point geometries.
    services
        Per site and needed service: reach, threshold, last delivery, overdue, delivered.
    totals
        People within reach and out of reach, by men, women, boys and girls where known.
    admin
        Totals per admin area (:data:`AREA_COLUMNS`) with polygons, most people out of
        reach first, plus a row for sites outside every area; None without admin areas.
    hexagons
        The same totals per H3 hexagon.
    indicators
        Indicators against targets (see :func:`geoplan.indicators.indicator_progress`).
    siting
        Where new stops or bases would reach the most people left out; None when not asked.
    period, as_of, params
        What was analysed and how.
    reasons
        Each site's gaps as structured reasons, by site id (``gap_reasons`` is their text,
        :func:`gap_reasons_text`).
    backend
        Travel-time backend that made the matrix.
    places
        Candidate places for new stops (``id`` and point), where they are not sites
        themselves; used to draw the proposed places.
    """

    sites: gpd.GeoDataFrame
    services: pd.DataFrame
    totals: pd.DataFrame
    admin: gpd.GeoDataFrame | None
    hexagons: gpd.GeoDataFrame
    indicators: pd.DataFrame
    siting: SitingResult | None
    period: Period
    as_of: dt.date
    params: CoverageParams
    reasons: Mapping[str, tuple[GapReason, ...]] = field(default_factory=dict)
    backend: str = "unknown"
    places: gpd.GeoDataFrame | None = None

    def to_frame(self) -> pd.DataFrame:
        """The ranked per-site gap table, with ``lon`` and ``lat`` instead of geometry."""
        table = pd.DataFrame(self.sites.drop(columns="geometry"))
        table["lon"], table["lat"] = self.sites.geometry.x, self.sites.geometry.y
        return table

    def top_gaps(self, n: int = 10) -> pd.DataFrame:
        """The ``n`` sites with the worst gaps (sites without a gap are left out)."""
        table = self.to_frame()
        return table.loc[table["gaps"] > 0].head(n)

    def areas(self, by: str = "admin") -> gpd.GeoDataFrame:
        """Totals per ``admin`` area (falling back to hexagons without admin areas) or ``h3``."""
        check_by(by)
        return self.admin if by == "admin" and self.admin is not None else self.hexagons

    def summary(self, *, viewer: bool = False) -> str:
        """A few lines for people: who is out of reach, what is overdue, unmet, behind.

        ``viewer`` words the lines for people who may not see travel times: no minutes (the
        threshold is "the threshold"), as :func:`gap_reasons_text` does.
        """
        counts = self.totals.set_index("status").to_dict("index")
        out = {str(k): int(v) for k, v in counts["not covered"].items()}
        people = int(counts["total"]["people"])
        share = out["people"] / people if people else 0.0
        sites = self.sites
        limit = "the threshold" if viewer else f"{self.params.threshold_minutes:g} min"
        terms = "" if viewer else f", threshold {limit}"
        lines = [
            f"Coverage {self.period}, as of {self.as_of} ({self.backend} travel times{terms})",
            f"Sites: {len(sites):,}; people: {people:,}",
            f"Spatial: {out['people']:,} people ({share:.0%}) at {out['sites']:,} site(s) beyond "
            f"{limit} of any clinic or team base ({_breakdown_text(out)})",
            f"Temporal: {int(sites['temporal_gap'].sum()):,} site(s) overdue, "
            f"{int(sites['never_visited'].sum()):,} never visited",
            f"Service: {int(sites['service_gap'].sum()):,} site(s) with needs unmet in the period"
            f"{_unmet_text(self.services)}",
            _indicator_text(self.indicators),
        ]
        if self.siting is not None:
            lines.append("Where to go next: " + self.siting.summary())
        if self.admin is not None:
            lines.append(_outside_text(self.sites))
        return "\n".join(line for line in lines if line)


def check_by(by: str) -> str:
    """``by`` itself when it names a grouping of :data:`AREA_GROUPINGS`.

    Raises
    ------
    ParameterError
        Naming the groupings there are.
    """
    if by not in AREA_GROUPINGS:
        raise ParameterError(f"by: expected admin or h3, got {by!r}")
    return by


def _breakdown_text(row: Mapping[str, int]) -> str:
    known = sum(int(row[b]) for b in SexAge)
    if not known:
        return "no breakdown by sex and age known"
    parts = ", ".join(f"{b} {int(row[b]):,}" for b in SexAge)
    return f"{parts}; {int(row['people']) - known:,} not broken down"


def _unmet_text(services: pd.DataFrame) -> str:
    unmet = services.loc[~services["delivered_in_period"].astype(bool)]
    counts = unmet.groupby("service").size().sort_values(ascending=False)
    return (": " + ", ".join(f"{s} {n}" for s, n in counts.items())) if len(counts) else ""


def _indicator_text(indicators: pd.DataFrame) -> str:
    if not len(indicators):
        return "Indicators: none in the workspace"
    behind = indicators.loc[indicators["status"] == "behind"]
    names = ", ".join(
        f"{r.id} ({r.value:,.0f} of {r.expected:,.0f} expected)" for r in behind.itertuples()
    )
    return f"Indicators: {len(behind)} of {len(indicators)} behind pace" + (
        f": {names}" if names else ""
    )


def _outside_text(sites: gpd.GeoDataFrame) -> str:
    outside = sites.loc[sites["area_source"] == "outside", "id"]
    if not len(outside):
        return "Areas: every site lies in an admin area"
    return f"Areas: {len(outside)} site(s) outside every admin area: {', '.join(outside[:10])}"


# --- the analysis ---------------------------------------------------------------------------


def coverage_from_matrix(
    layers: CoverageLayers,
    matrix: TravelTimeMatrix,
    *,
    candidates: TravelTimeMatrix | None = None,
    period: Period | None = None,
    today: dt.date | None = None,
    params: CoverageParams | None = None,
) -> CoverageResult:
    """Coverage gaps of every site, given travel times.

    Parameters
    ----------
    layers
        Sites, clinics, teams, visits and the optional layers.
    matrix
        Travel times from every site (origins) to every clinic and team base (destinations).
    candidates
        Travel times from sites out of reach (origins) to candidate places for a new stop or
        base (destinations); without it no places are proposed.
    period
        Reporting period; the half-year up to ``today`` by default.
    today
        The day gaps are measured at (the period's end, if earlier); today by default.
    params
        Thresholds and options.

    Raises
    ------
    ParameterError
        If the matrix lacks a site, clinic or base, or ids clash between clinics and teams.
    FormulaError
        If an indicator's formula cannot be read.
    """
    params = params or CoverageParams()
    today = today or dt.date.today()
    period = period or Period.ending(today)
    as_of = min(today, period.end)
    _check_matrix(layers, matrix)
    sites = layers.sites
    spatial = spatial_coverage(
        sites, matrix, clinics=layers.clinics, teams=layers.teams, params=params
    )
    reach = service_reach(sites, matrix, clinics=layers.clinics, teams=layers.teams, params=params)
    history = visit_history(sites, layers.visits, period=period, as_of=as_of)
    rollup = _site_history(sites, layers.visits, history, period=period, as_of=as_of)
    table, reasons = _gap_table(
        sites, spatial=spatial, reach=reach, rollup=rollup, layers=layers, params=params
    )
    return CoverageResult(
        sites=table,
        reasons=reasons,
        services=_services_table(reach, history),
        totals=people_totals(table),
        admin=_admin_summary(table, layers.admin_areas),
        hexagons=_hexagon_summary(table),
        indicators=_indicators(layers, period, as_of),
        siting=_siting(table, candidates, params),
        period=period,
        as_of=as_of,
        params=params,
        backend=matrix.backend,
    )


def _check_matrix(layers: CoverageLayers, matrix: TravelTimeMatrix) -> None:
    clash = sorted(set(layers.clinics["id"]) & set(layers.teams["id"]))
    if clash:
        msg = f"clinics and teams share ids {', '.join(clash[:10])}; the matrix cannot tell them apart"
        raise ParameterError(msg + "; give teams their own ids")
    rows, cols = set(matrix.origins), set(matrix.destinations)
    missing_rows = [i for i in layers.sites["id"] if i not in rows]
    missing_cols = [i for i in (*layers.clinics["id"], *layers.teams["id"]) if i not in cols]
    if missing_rows or missing_cols:
        msg = (
            f"matrix: missing sites (origins) {', '.join(missing_rows[:10]) or '-'} and clinics or "
            f"bases (destinations) {', '.join(missing_cols[:10]) or '-'}; build it with "
            "matrix_from_points(sites, clinics and teams) or use coverage_from_layers"
        )
        raise ParameterError(msg)


def _gap_table(
    sites: gpd.GeoDataFrame,
    *,
    spatial: pd.DataFrame,
    reach: pd.DataFrame,
    rollup: pd.DataFrame,
    layers: CoverageLayers,
    params: CoverageParams,
) -> tuple[gpd.GeoDataFrame, Mapping[str, tuple[GapReason, ...]]]:
    out_of_reach = reach.loc[~reach["within_reach"]].groupby("site_id")["service"].agg(",".join)
    table = pd.concat([sites.drop(columns="geometry"), spatial, rollup], axis=1)
    table["services_out_of_reach"] = table["id"].map(out_of_reach).fillna("")
    table[gap_column(GapKind.SPATIAL)] = ~table["covered"] | (table["services_out_of_reach"] != "")
    table[gap_column(GapKind.TEMPORAL)] = table["services_overdue"] != ""
    table[gap_column(GapKind.SERVICE)] = table["services_unmet"] != ""
    table["gaps"] = table[[gap_column(k) for k in GapKind]].sum(axis=1).astype(int)
    reasons = {str(r["id"]): site_gap_reasons(r, params) for r in table.to_dict("records")}
    table["gap_reasons"] = [gap_reasons_text(reasons[str(i)]) for i in table["id"]]
    table = pd.concat([table, _area_columns(sites, layers.admin_areas, params)], axis=1)
    table = gpd.GeoDataFrame(table, geometry=sites.geometry, crs="EPSG:4326")
    return _ranked(table), MappingProxyType(reasons)


def _area_columns(
    sites: gpd.GeoDataFrame, areas: gpd.GeoDataFrame | None, params: CoverageParams
) -> pd.DataFrame:
    if areas is None:
        blank = pd.Series(pd.NA, index=sites.index, dtype="string")
        placed = pd.DataFrame({"area_id": blank, "area_name": blank, "area_source": blank})
    else:
        placed = assign_areas(sites, areas)
    return placed.assign(h3_cell=h3_cells(sites, resolution=params.h3_resolution))


def site_gap_reasons(row: Mapping[str, object], params: CoverageParams) -> tuple[GapReason, ...]:
    """The gaps of one row of the gap table (before ranking) as structured reasons."""
    reasons = []
    if row["access_status"] == "inaccessible":
        reasons.append(GapReason(GapReasonKind.INACCESSIBLE, note=_note(row["access_reason"])))
    if not row["covered"]:
        reasons.append(_reach_reason(row["reach_minutes"], row["unreachable_reason"], params))
    if row["services_out_of_reach"]:
        reasons.append(_listing(GapReasonKind.SERVICES_OUT_OF_REACH, row["services_out_of_reach"]))
    if row["never_visited"]:
        reasons.append(GapReason(GapReasonKind.NEVER_VISITED))
    else:
        if row["services_late"]:
            late = _listing(GapReasonKind.OVERDUE, row["services_late"])
            reasons.append(dataclasses.replace(late, days=_whole(row["days_overdue"])))
        if row["services_never_delivered"]:
            reasons.append(_listing(GapReasonKind.NEVER_DELIVERED, row["services_never_delivered"]))
    never = set(split_list(row["services_never_delivered"]))
    unmet = tuple(s for s in split_list(row["services_unmet"]) if s not in never)
    if unmet:
        reasons.append(GapReason(GapReasonKind.UNMET, services=unmet))
    return tuple(reasons)


def _reach_reason(minutes: object, why: object, params: CoverageParams) -> GapReason:
    if not _present(minutes):
        return GapReason(GapReasonKind.UNREACHABLE, note=_note(why))
    return GapReason(
        GapReasonKind.BEYOND_THRESHOLD,
        limit_minutes=params.threshold_minutes,
        minutes=float(minutes),  # type: ignore[arg-type]
    )


def _listing(kind: GapReasonKind, services: object) -> GapReason:
    return GapReason(kind, services=split_list(services))


def _whole(value: object) -> int | None:
    return int(value) if isinstance(value, numbers.Integral) else None


def _note(value: object) -> str:
    return str(value) if _present(value) else ""


def gap_reasons_text(reasons: Sequence[GapReason], *, viewer: bool = False) -> str:
    """A site's gaps in words, ``; ``-separated: the one place their text is made.

    ``viewer`` leaves out what a viewer must not see: the free-text notes (an access reason,
    a named no-go zone) and minutes (to the nearest place, and the threshold's: viewers read
    it as ``threshold_minutes`` of the analysis), so that no text of theirs carries a time.
    """
    return "; ".join(_reason_text(r, viewer=viewer) for r in reasons)


def _reason_text(reason: GapReason, *, viewer: bool) -> str:
    words, services = reason.kind.text, ",".join(reason.services)
    match reason.kind:
        case GapReasonKind.INACCESSIBLE | GapReasonKind.UNREACHABLE:
            return words + (f" ({reason.note})" if reason.note and not viewer else "")
        case GapReasonKind.BEYOND_THRESHOLD:
            times = f"{reason.limit_minutes:g} min (nearest {reason.minutes:.0f} min)"
            return f"{words} {'the threshold' if viewer else times}"
        case GapReasonKind.SERVICES_OUT_OF_REACH:
            return f"{words} {services}"
        case GapReasonKind.OVERDUE:
            return f"{words} {reason.days} d: {services}"
        case GapReasonKind.NEVER_DELIVERED | GapReasonKind.UNMET:
            return f"{words}: {services}"
    return words


def _present(value: object) -> bool:
    return (
        value is not None
        and not (isinstance(value, float) and np.isnan(value))
        and value is not pd.NA
    )


def _ranked(table: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Most kinds of gap first, then most people, never visited, most days overdue."""
    keys = pd.DataFrame(
        {
            "gaps": table["gaps"],
            "people": table["people"].fillna(0).astype(int),
            "never": table["never_visited"].astype(int),
            "overdue": table["days_overdue"].fillna(0).astype(int),
        }
    )
    order = keys.sort_values(
        ["gaps", "people", "never", "overdue"], ascending=False, kind="stable"
    ).index
    ranked = table.loc[order].reset_index(drop=True)
    ranked.insert(0, "rank", np.arange(1, len(ranked) + 1))
    return ranked[[*GAP_COLUMNS, "geometry"]]


def _services_table(reach: pd.DataFrame, history: pd.DataFrame) -> pd.DataFrame:
    keys = ["site_id", "service"]
    reach = reach.drop_duplicates(keys)
    return reach.merge(history.drop_duplicates(keys), on=keys, how="left")


# --- totals and areas -----------------------------------------------------------------------


def _per_site_counts(table: pd.DataFrame) -> pd.DataFrame:
    """Numbers per site that add up over any grouping (:data:`AREA_COLUMNS`)."""
    people = table["people"].fillna(0).astype(int)
    out = ~table["covered"].astype(bool)
    counts = {
        "sites": np.ones(len(table), dtype=int),
        "people": people,
        "people_covered": people.where(~out, 0),
        "people_not_covered": people.where(out, 0),
        **{f"{b}_not_covered": table[b].fillna(0).astype(int).where(out, 0) for b in SexAge},
        "sites_not_covered": out.astype(int),
        "sites_overdue": table["temporal_gap"].astype(int),
        "sites_never_visited": table["never_visited"].astype(int),
        "sites_unmet_needs": table["service_gap"].astype(int),
    }
    return pd.DataFrame(counts, index=table.index)


def people_totals(table: pd.DataFrame) -> pd.DataFrame:
    """Sites and people within reach, out of reach and in total, by men, women, boys and girls
    (where known; unknown counts are left out of the breakdown, never guessed)."""
    columns = ["people", *SexAge]
    numbers = table[columns].fillna(0).astype(int).assign(sites=1)
    covered = table["covered"].astype(bool)
    rows = {
        "covered": numbers.loc[covered].sum(),
        "not covered": numbers.loc[~covered].sum(),
        "total": numbers.sum(),
    }
    totals = pd.DataFrame(rows).T[["sites", *columns]].astype(int)
    return totals.rename_axis("status").reset_index()


def _admin_summary(
    table: gpd.GeoDataFrame, areas: gpd.GeoDataFrame | None
) -> gpd.GeoDataFrame | None:
    if areas is None:
        return None
    summary = totals_by_area(
        _per_site_counts(table), table["area_id"], areas=areas, columns=AREA_COLUMNS
    )
    shapes = pd.Series(areas.geometry.to_numpy(), index=areas["id"].astype(str).to_numpy())
    return _area_frame(summary, summary["area_id"].map(shapes).to_numpy())


def _hexagon_summary(table: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    cells = table["h3_cell"].dropna().unique()
    index = pd.DataFrame({"id": cells, "name": cells})
    summary = totals_by_area(
        _per_site_counts(table), table["h3_cell"], areas=index, columns=AREA_COLUMNS
    )
    inside = summary["area_id"].isin(cells)
    shapes = np.full(len(summary), None, dtype=object)
    shapes[inside.to_numpy()] = h3_polygons(summary.loc[inside, "area_id"]).to_numpy()
    return _area_frame(summary, shapes)


def _area_frame(summary: pd.DataFrame, shapes: np.ndarray) -> gpd.GeoDataFrame:
    people = summary["people"].replace(0, np.nan)
    summary = summary.assign(share_not_covered=(summary["people_not_covered"] / people).fillna(0.0))
    frame = gpd.GeoDataFrame(
        summary, geometry=gpd.GeoSeries(shapes, crs="EPSG:4326"), crs="EPSG:4326"
    )
    order = frame.sort_values(
        ["people_not_covered", "sites_overdue"], ascending=False, kind="stable"
    ).index
    ranked = frame.loc[order].reset_index(drop=True)
    ranked.insert(0, "rank", np.arange(1, len(ranked) + 1))
    return ranked


def _indicators(layers: CoverageLayers, period: Period, as_of: dt.date) -> pd.DataFrame:
    if layers.indicators is None:
        return pd.DataFrame(columns=list(PROGRESS_COLUMNS))
    return indicator_progress(layers.indicators, layers.visits, period=period, as_of=as_of)


def _siting(
    table: gpd.GeoDataFrame, candidates: TravelTimeMatrix | None, params: CoverageParams
) -> SitingResult | None:
    if candidates is None or params.new_locations == 0:
        return None
    out = table.loc[~table["covered"].astype(bool) & table["id"].isin(candidates.origins)]
    weights = pd.Series(
        out["people"].fillna(0).astype(float).to_numpy(), index=out["id"].to_numpy()
    )
    return maximal_covering(
        weights,
        candidates,
        threshold_minutes=params.threshold_minutes,
        locations=params.new_locations,
        time_limit_s=params.solver_time_limit_s,
    )


# --- convenience wrapper --------------------------------------------------------------------


def coverage_from_layers(
    layers: CoverageLayers,
    *,
    backend: TravelTimeBackend | None = None,
    candidates: gpd.GeoDataFrame | None = None,
    period: Period | None = None,
    today: dt.date | None = None,
    params: CoverageParams | None = None,
) -> CoverageResult:
    """Coverage gaps of every site, with travel times computed by ``backend``.

    No-go zones active on the day of the analysis make points inside them unreachable.
    Candidate places for new stops are ``candidates`` if given, else the accessible sites out
    of reach themselves (a mobile-clinic stop at a gathering point).

    Parameters
    ----------
    layers
        Sites, clinics, teams, visits and the optional layers.
    backend
        Travel-time backend; straight-line by default.
    candidates
        Points (``id``, geometry) where a new stop or base could go.
    period, today, params
        As for :func:`coverage_from_matrix`.

    Raises
    ------
    ParameterError
        If there is no site to analyse, or as :func:`coverage_from_matrix` says.
    """
    params = params or CoverageParams()
    today = today or dt.date.today()
    period = period or Period.ending(today)
    _check_sites(layers, params)
    closures = active_zones(layers.no_go_zones, on=min(today, period.end))
    matrix = matrix_from_points(
        layers.sites, _facilities(layers), backend=backend, closures=closures
    )
    candidate_matrix = None
    out = _out_of_reach(layers, matrix, params)
    places = candidates if candidates is not None else _accessible(out)
    if params.new_locations and len(out) and len(places):
        candidate_matrix = matrix_from_points(out, places, backend=backend, closures=closures)
    result = coverage_from_matrix(
        layers, matrix, candidates=candidate_matrix, period=period, today=today, params=params
    )
    return dataclasses.replace(result, places=candidates)


def coverage_layer_names(site_layers: Sequence[str]) -> list[str]:
    """Every layer the analysis reads, for sites of ``site_layers``."""
    others = ("clinics", "teams", "outreach_visits", "admin_areas", "indicators", "no_go_zones")
    return sorted({*site_layers, *others})


def coverage_reusing_matrix(
    layers: CoverageLayers,
    *,
    matrix: TravelTimeMatrix | None = None,
    base_ids: Mapping[str, str] | None = None,
    backend: TravelTimeBackend | None = None,
    period: Period | None = None,
    today: dt.date | None = None,
    params: CoverageParams | None = None,
) -> CoverageResult:
    """Coverage gaps of the sites, reusing travel times made beforehand where they fit.

    ``matrix`` is used when it holds every site as an origin and every clinic and team base as
    a destination (a larger matrix, such as the one a plan is made with, is cut down to
    them); the times from the sites out of reach to the candidate places for new stops (the
    accessible ones among them) are cut from it too when it holds them, else made with
    ``backend`` for those sites alone. Without a usable matrix, travel times come from
    ``backend`` as in :func:`coverage_from_layers`.

    Parameters
    ----------
    layers
        Sites, clinics, teams, visits and the optional layers.
    matrix
        Travel times made beforehand, if any.
    base_ids
        The matrix's id of each team's base, by team id, where they differ (the planner
        names a base ``base:<team id>``).
    backend, period, today, params
        As for :func:`coverage_from_layers`.

    Raises
    ------
    ParameterError
        If the workspace has no site to analyse, or as :func:`coverage_from_matrix` says.
    """
    params = params or CoverageParams()
    _check_sites(layers, params)
    times = _coverage_times(matrix, layers, base_ids or {})
    if matrix is None or times is None:
        return coverage_from_layers(
            layers, backend=backend, period=period, today=today, params=params
        )
    out = _out_of_reach(layers, times, params)
    places = _accessible(out)
    candidates = None
    if params.new_locations and len(places):
        day = today or dt.date.today()
        day = min(day, (period or Period.ending(day)).end)  # closed as coverage_from_layers
        candidates = _candidate_times(matrix, out, places, backend=backend, layers=layers, day=day)
    return coverage_from_matrix(
        layers, times, candidates=candidates, period=period, today=today, params=params
    )


def _candidate_times(
    matrix: TravelTimeMatrix,
    out: gpd.GeoDataFrame,
    places: gpd.GeoDataFrame,
    *,
    backend: TravelTimeBackend | None,
    layers: CoverageLayers,
    day: dt.date,
) -> TravelTimeMatrix:
    """Sites out of reach x candidate places: cut from ``matrix`` when it holds them, else
    made by ``backend`` for these few (a matrix over every site is never needed)."""
    if _holds(matrix, out["id"], places["id"]):
        return matrix.subset(list(out["id"]), list(places["id"]))
    closures = active_zones(layers.no_go_zones, on=day)
    return matrix_from_points(out, places, backend=backend, closures=closures)


def _coverage_times(
    matrix: TravelTimeMatrix | None, layers: CoverageLayers, base_ids: Mapping[str, str]
) -> TravelTimeMatrix | None:
    """``matrix`` cut down to sites x (clinics, team bases), bases named by team id; None when
    it lacks any of them."""
    if matrix is None:
        return None
    teams = [str(t) for t in layers.teams["id"]]
    wanted = [*layers.clinics["id"], *(base_ids.get(t, t) for t in teams)]
    if not _holds(matrix, layers.sites["id"], wanted):
        return None
    times = matrix.subset(list(layers.sites["id"]), wanted)
    named = (*times.destinations[: len(wanted) - len(teams)], *teams)
    return dataclasses.replace(times, destinations=named)


def _check_sites(layers: CoverageLayers, params: CoverageParams) -> None:
    if not len(layers.sites):
        msg = (
            f"no sites to analyse: {' and '.join(params.site_layers)} are empty; import them "
            "with `geoplan import`, or run `geoplan demo` for an example workspace"
        )
        raise ParameterError(msg)


def _facilities(layers: CoverageLayers) -> gpd.GeoDataFrame:
    """Clinics and team bases, the destinations of the coverage matrix."""
    both = pd.concat([layers.clinics[["id", "geometry"]], layers.teams[["id", "geometry"]]])
    return gpd.GeoDataFrame(both, crs="EPSG:4326").reset_index(drop=True)


def _holds(matrix: TravelTimeMatrix, origins: Iterable[str], destinations: Iterable[str]) -> bool:
    return set(origins) <= set(matrix.origins) and set(destinations) <= set(matrix.destinations)


def _out_of_reach(
    layers: CoverageLayers, matrix: TravelTimeMatrix, params: CoverageParams
) -> gpd.GeoDataFrame:
    spatial = spatial_coverage(
        layers.sites, matrix, clinics=layers.clinics, teams=layers.teams, params=params
    )
    return layers.sites.loc[~spatial["covered"].to_numpy()]


def _accessible(sites: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return sites.loc[sites["access_status"] != "inaccessible"]


# --- outputs --------------------------------------------------------------------------------


def top_gaps_text(result: CoverageResult, n: int = 10) -> str:
    """The ``n`` worst sites as plain text, for a terminal or a log (``geoplan demo``)."""
    top = result.top_gaps(n)
    if not len(top):
        return f"No coverage gaps in {result.period}."
    lines = [
        f"Top {len(top)} coverage gaps ({result.period}, threshold {result.params.threshold_minutes:g} min):"
    ]
    for row in top.to_dict("records"):
        people = f"{row['people']:,}" if _present(row["people"]) else "?"
        lines.append(
            f"{row['rank']:>3}. {row['id']} ({row['layer']}, {people} people): {row['gap_reasons']}"
        )
    return "\n".join(lines)


def save_coverage(result: CoverageResult, folder: Path, *, by: str = "admin") -> tuple[Path, ...]:
    """Write the gap tables as CSV and one GeoPackage for QGIS; return the files written.

    The GeoPackage ``coverage.gpkg`` holds ``coverage_sites`` (points, the ranked gap table),
    ``coverage_areas`` (admin areas or hexagons, as ``by`` says) and ``coverage_next`` (the
    proposed places, when any).
    """
    private_folder(folder)
    areas = result.areas(by)
    tables = {
        "coverage_sites.csv": result.to_frame(),
        "coverage_services.csv": result.services,
        "coverage_areas.csv": pd.DataFrame(areas.drop(columns="geometry")),
        "coverage_totals.csv": result.totals,
        "coverage_indicators.csv": result.indicators,
    }
    if result.siting is not None:
        tables["coverage_next.csv"] = result.siting.to_frame()
    written = [write_csv(_exportable(table), folder / name) for name, table in tables.items()]
    written.append(_write_geopackage(result, areas, folder / "coverage.gpkg"))
    return tuple(written)


def _write_geopackage(result: CoverageResult, areas: gpd.GeoDataFrame, path: Path) -> Path:
    drawn = areas.loc[areas.geometry.notna()]
    layers = {"coverage_sites": _exportable(result.sites), "coverage_areas": _exportable(drawn)}
    if result.siting is not None and len(result.siting.choices):
        layers["coverage_next"] = _next_places(result)
    with private_file(path) as partial:
        for layer, frame in layers.items():
            frame.to_file(partial, layer=layer, driver="GPKG", engine="pyogrio")
    return path


def _next_places(result: CoverageResult) -> gpd.GeoDataFrame:
    assert result.siting is not None
    choices = result.siting.to_frame()
    known = [result.sites[["id", "geometry"]]]
    if result.places is not None:
        known.insert(0, result.places[["id", "geometry"]])
    table = pd.concat(known).drop_duplicates("id")
    points = pd.Series(table.geometry.to_numpy(), index=table["id"].astype(str).to_numpy())
    geometry = choices["location_id"].map(points)
    return gpd.GeoDataFrame(choices, geometry=geometry.to_numpy(), crs="EPSG:4326")


def _exportable(frame: _Frame) -> _Frame:
    """Dates as ISO text, so that CSV, GeoPackage and QGIS read them alike."""
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[column]):
            out[column] = [None if pd.isna(v) else v.date().isoformat() for v in out[column]]
        elif out[column].dtype == object:
            out[column] = [v.isoformat() if isinstance(v, dt.date) else v for v in out[column]]
    return out
