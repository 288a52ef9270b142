"""The demo scenario: a seeded, synthetic but plausible outreach operation in western Libya.

The scenario itself is data, ``layers/demo/scenario.toml``: towns, settings, detention centres,
clinics, projects, teams, no-go zones and the rates behind the visit counts. This module draws
every layer from it with one seeded random generator, so the same seed gives the same frames,
and the same code makes small demo workspaces and large benchmark instances
(``sites=5000, visits=200000``). Sizes and rates follow the programme report in DOMAIN.md.

Every position is a random jitter around a town centre, kept on land by a simple land polygon:
never the position of a real site. Names are made-up code names.

:func:`generate_scenario` is the pure core (frames in memory); :func:`build_demo_workspace`
writes them to a fresh workspace.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplan.basemap import BaseMap, read_basemap
from geoplan.catalog import FieldDef, LayerDef, layers_dir, load_catalog
from geoplan.errors import CatalogError, LayerValidationError, ParameterError
from geoplan.imports import set_operating_area
from geoplan.layers import OperatingArea, ValidationContext, column_from_values, validate_table
from geoplan.progress import Progress, tell
from geoplan.sources import WGS84, RawTable
from geoplan.store import WriteResult, open_store
from geoplan.vocab import Service, SexAge, Weekday

WRITE_ORDER = (
    "teams",
    "gathering_points",
    "detention_centres",
    "clinics",
    "cip_sites",
    "no_go_zones",
    "indicators",
    "outreach_visits",
)
"""Layers in the order they are written: what visits point at comes first."""

GP_SERVICES = (Service.HEALTH, Service.MHPSS, Service.PROTECTION, Service.NFI)
VISIT_SERVICES = (*GP_SERVICES, Service.MONITORING)
WORKING_WEEK = (Weekday.SUN, Weekday.MON, Weekday.TUE, Weekday.WED, Weekday.THU)
_KM_PER_DEGREE_LAT = 110.574
_KM_PER_DEGREE_LON_EQUATOR = 111.320
_T = TypeVar("_T")

# Bits of the service and activity masks used while generating visits.
_HEALTH, _MHPSS, _PROTECTION, _NFI, _MONITORING = (1 << i for i in range(5))
_ACTIVITIES = (
    "health_consultation",
    "health_awareness",
    "referral",
    "mhpss_session",
    "psychological_first_aid",
    "group_activity",
    "protection_monitoring",
    "vulnerability_assessment",
    "case_management",
    "nfi_distribution",
    "project_monitoring",
)
_ACT = {name: 1 << i for i, name in enumerate(_ACTIVITIES)}


# --- the scenario file ---------------------------------------------------------------------


@dataclass(frozen=True)
class Town:
    """A town sites are scattered around: centre (lon, lat), spread in km (east-west,
    north-south), share of the gathering points and made-up neighbourhood code names."""

    name: str
    admin_code: str
    centre: tuple[float, float]
    spread_km: tuple[float, float]
    share: float
    neighbourhoods: tuple[str, ...]

    def __post_init__(self) -> None:
        if self.share < 0 or min(self.spread_km) <= 0 or not self.neighbourhoods:
            msg = f"town {self.name}: share must be >= 0, spread_km > 0, neighbourhoods not empty"
            raise CatalogError(msg)


@dataclass(frozen=True)
class Setting:
    """A kind of gathering point: its share of the sites, median people, men/women/boys/girls
    composition and the visit frequencies it is given."""

    name: str
    weight: float
    people_median: float
    composition: tuple[float, float, float, float]
    frequency_days: tuple[int, ...]

    def __post_init__(self) -> None:
        if len(self.composition) != 4 or abs(sum(self.composition) - 1) > 0.01:
            msg = f"setting {self.name}: composition must be four shares (men, women, boys, girls) summing to 1"
            raise CatalogError(msg)


@dataclass(frozen=True)
class GatheringPointRules:
    """How gathering points are drawn beyond their setting."""

    breakdown_known: float = 0.85
    service_probability: Mapping[str, float] = dataclasses.field(
        default_factory=lambda: {
            Service.HEALTH: 0.85,
            Service.MHPSS: 0.35,
            Service.PROTECTION: 0.45,
            Service.NFI: 0.5,
        }
    )
    vulnerable_share: float = 0.35
    restricted_share: float = 0.06
    inaccessible_share: float = 0.02
    restricted_reasons: tuple[str, ...] = ("Checkpoint on the access road",)
    inaccessible_reasons: tuple[str, ...] = ("Security raid",)
    unvisited_share: float = 0.05


@dataclass(frozen=True)
class DetentionCentreSpec:
    """One detention centre as the scenario describes it."""

    name: str
    town: str
    authority: str
    detainees: int
    composition: tuple[float, float, float, float]
    access_days: tuple[str, ...]
    access_start: str
    access_end: str
    monitoring_frequency_days: int = 30
    services_needed: tuple[str, ...] = (Service.MONITORING, Service.PROTECTION)


@dataclass(frozen=True)
class ClinicGroup:
    """Clinics of one kind, one per listed town; ``{town}`` and ``{n}`` fill the name."""

    kind: str
    name: str
    towns: tuple[str, ...]
    services: tuple[str, ...]
    opening_start: str
    opening_end: str
    opening_days: tuple[str, ...] = WORKING_WEEK
    spread: float = 1.0


@dataclass(frozen=True)
class CipSpec:
    """One community improvement project; dates are days from today."""

    name: str
    town: str
    project_type: str
    status: str
    beneficiaries: int
    start_offset_days: int
    end_offset_days: int
    visit_frequency_days: int = 30


@dataclass(frozen=True)
class TeamSpec:
    """One team: the catalog's fields plus the town of its base, the towns it covers and its
    share of the gathering-point visits."""

    id: str
    name: str
    kind: str
    services: tuple[str, ...]
    town: str
    base_name: str
    covers: tuple[str, ...]
    shift_start: str
    shift_end: str
    colour: str
    share: float
    working_days: tuple[str, ...] = WORKING_WEEK
    nfi_kits: int = 0
    max_stops: int | None = None


@dataclass(frozen=True)
class ZoneSpec:
    """A no-go zone: a circle offset from a town centre, closed between two days from today."""

    name: str
    town: str
    offset_km: tuple[float, float]
    radius_km: float
    reason: str
    valid_from_offset_days: int
    valid_to_offset_days: int | None = None


@dataclass(frozen=True)
class VisitRules:
    """Rates behind the counts of each visit (see the ``[visit_rules]`` table)."""

    consultation_rate: float = 0.10
    consultation_range: tuple[float, float] = (1.0, 10.0)
    consultation_weights: tuple[float, float, float, float] = (1.0, 1.0, 1.6, 0.7)
    referral_rate: float = 0.015
    awareness_probability: float = 0.4
    awareness_rate: float = 0.25
    awareness_range: tuple[float, float] = (3.0, 25.0)
    nfi_rate: float = 0.3
    nfi_range: tuple[float, float] = (3.0, 20.0)
    group_size: tuple[int, int] = (3, 5)
    detention_interval: tuple[float, float] = (1.2, 2.4)
    detainees_assisted: float = 6.0
    cip_interval_days: tuple[int, int] = (25, 40)


@dataclass(frozen=True)
class IndicatorSpec:
    """One row of the results matrix: the catalog's fields, the reporting period in days from
    today, and a target for the scenario's default size that scales with the visits asked for
    (``scale = "visits"``), with the gathering points (``"sites"``) or not at all (``"none"``).
    """

    id: str
    name: str
    formula: str
    target: float
    unit: str
    notes: str | None = None
    scale: str = "visits"
    period_start_offset_days: int = -150
    period_end_offset_days: int = 33

    def __post_init__(self) -> None:
        if self.scale not in ("visits", "sites", "none"):
            msg = f"indicator {self.id}: scale {self.scale!r} is not visits, sites or none"
            raise CatalogError(msg)


@dataclass(frozen=True)
class Scenario:
    """The demo scenario as read from ``layers/demo/scenario.toml``."""

    name: str
    operating_area: tuple[float, float, float, float]
    land: tuple[tuple[float, float], ...]
    gathering_points: int
    visits: int
    history_days: int
    towns: tuple[Town, ...]
    settings: tuple[Setting, ...]
    gathering_point_rules: GatheringPointRules
    detention_centres: tuple[DetentionCentreSpec, ...]
    clinics: tuple[ClinicGroup, ...]
    cip_sites: tuple[CipSpec, ...]
    teams: tuple[TeamSpec, ...]
    no_go_zones: tuple[ZoneSpec, ...]
    visit_rules: VisitRules
    indicators: tuple[IndicatorSpec, ...] = ()

    def __post_init__(self) -> None:
        names = [t.name for t in self.towns]
        used = [d.town for d in self.detention_centres] + [c.town for c in self.cip_sites]
        used += [t for g in self.clinics for t in g.towns] + [z.town for z in self.no_go_zones]
        used += [t for team in self.teams for t in (team.town, *team.covers)]
        unknown = sorted(set(used) - set(names))
        if unknown:
            raise CatalogError(
                f"scenario names unknown town(s) {', '.join(unknown)}; towns are {', '.join(names)}"
            )
        if not shapely.box(*self.operating_area).contains(shapely.Polygon(self.land)):
            raise CatalogError("scenario: the land polygon must lie inside the operating area")

    def town(self, name: str) -> Town:
        """A town by name."""
        return next(t for t in self.towns if t.name == name)

    @property
    def area(self) -> OperatingArea:
        """The operating area as validation and the workspace take it."""
        return OperatingArea(*self.operating_area, name=self.name)


def default_scenario_path() -> Path:
    """``layers/demo/scenario.toml`` (or the installed copy of it)."""
    return layers_dir() / "demo" / "scenario.toml"


def demo_basemap() -> BaseMap:
    """The demo's offline base map (``layers/demo/basemap.geojson``: coast, mantika
    boundaries and place names from public data; see ``layers/demo/BASEMAP.md``)."""
    return read_basemap(layers_dir() / "demo" / "basemap.geojson")


def load_scenario(path: Path | None = None) -> Scenario:
    """Read a scenario file (the shipped demo by default).

    Raises
    ------
    CatalogError
        If the file is not valid TOML, lacks a key or has an unknown one.
    """
    path = path or default_scenario_path()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CatalogError(f"scenario file {path}: {exc}") from exc
    many = {
        "towns": Town,
        "settings": Setting,
        "detention_centres": DetentionCentreSpec,
        "clinics": ClinicGroup,
        "cip_sites": CipSpec,
        "teams": TeamSpec,
        "no_go_zones": ZoneSpec,
        "indicators": IndicatorSpec,
    }
    for key, cls in many.items():
        data[key] = tuple(_spec(cls, item, f"{path.name} [[{key}]]") for item in data.get(key, []))
    data["gathering_point_rules"] = _spec(
        GatheringPointRules, data.get("gathering_point_rules", {}), path.name
    )
    data["visit_rules"] = _spec(VisitRules, data.get("visit_rules", {}), path.name)
    return _spec(Scenario, data, path.name)


def _spec(cls: type[_T], data: Mapping[str, object], where: str) -> _T:
    known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - known)
    if unknown:
        raise CatalogError(
            f"{where}: unknown key(s) {', '.join(unknown)}; known keys: {', '.join(sorted(known))}"
        )
    try:
        return cls(**{k: _tuples(v) for k, v in data.items()})
    except TypeError as exc:
        raise CatalogError(f"{where}: {exc}") from exc


def _tuples(value: object) -> object:
    """TOML arrays as tuples, so that specs stay hashable and frozen."""
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    return value


# --- the generator -------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class _Context:
    scenario: Scenario
    rng: np.random.Generator
    today: dt.date
    land: shapely.Polygon

    def day(self, offset: int) -> np.datetime64:
        return np.datetime64(self.today + dt.timedelta(days=offset), "D")


@dataclass
class _Table:
    """Generated columns of one layer: numpy arrays (NaN / NaT / None for missing) and, for
    spatial layers, an array of shapely geometries."""

    columns: dict[str, np.ndarray]
    geometry: np.ndarray | None = None

    def __len__(self) -> int:
        return len(next(iter(self.columns.values())))


def generate_scenario(
    *,
    seed: int = 7,
    sites: int | None = None,
    visits: int | None = None,
    today: dt.date | None = None,
    scenario: Path | None = None,
    validate: bool = True,
) -> dict[str, pd.DataFrame]:
    """Draw every layer of the demo scenario.

    Parameters
    ----------
    seed
        Seed of the random generator; the same seed (and ``today``) gives identical frames.
    sites
        Number of gathering points (the scenario's default, 180, when omitted). Detention
        centres, clinics, projects, teams and zones come from the scenario file as they are.
    visits
        Number of outreach visits to aim at (the scenario's default, 2,400). Slightly fewer
        may come out when too few sites are open to absorb them without repeats.
    today
        The day the scenario is seen from: visits end yesterday, zones and projects are dated
        relative to it. The real today when omitted.
    scenario
        A scenario file; ``layers/demo/scenario.toml`` when omitted.
    validate
        Pass every layer through :func:`geoplan.layers.validate_table` (the import's own
        checks). ``False`` builds the same typed frames directly, which is much faster for
        benchmark-sized instances.

    Returns
    -------
    One frame per layer of :data:`WRITE_ORDER`, with the catalog's field names and types
    (GeoDataFrames in EPSG:4326 for spatial layers).

    Raises
    ------
    ParameterError
        If ``sites`` or ``visits`` is negative.
    LayerValidationError
        If a generated layer fails validation (a bug in the scenario file or the generator).
    """
    spec = load_scenario(scenario)
    _check_sizes(sites, visits)
    ctx = _Context(
        spec, np.random.default_rng(seed), today or dt.date.today(), shapely.Polygon(spec.land)
    )
    n_sites = spec.gathering_points if sites is None else sites
    n_visits = spec.visits if visits is None else visits
    tables = _site_tables(ctx, n_sites)
    tables["outreach_visits"] = _visits(ctx, tables, n_visits)
    scale = {
        "visits": n_visits / max(spec.visits, 1),
        "sites": n_sites / max(spec.gathering_points, 1),
        "none": 1.0,
    }
    tables["indicators"] = _indicators(ctx, scale)
    known = {name: frozenset(t.columns["id"]) for name, t in tables.items()}
    context = ValidationContext(area=spec.area, known_ids=known, today=ctx.today)
    catalog = load_catalog()
    return {
        name: _frame(tables[name], catalog[name], context, validate=validate)
        for name in WRITE_ORDER
    }


def build_demo_workspace(
    path: Path,
    *,
    seed: int = 7,
    sites: int | None = None,
    visits: int | None = None,
    today: dt.date | None = None,
    scenario: Path | None = None,
    validate: bool = True,
    progress: Progress | None = None,
) -> dict[str, WriteResult]:
    """Generate the demo scenario and write it to a fresh workspace file.

    Any existing file at ``path`` is deleted first. The workspace's operating area is set
    to the scenario's, then every layer is upserted, sites and teams before visits.

    Parameters
    ----------
    path
        The workspace GeoPackage to create.
    seed, sites, visits, today, scenario, validate
        As for :func:`generate_scenario`.
    progress
        Told ``(layer, rows written, rows)`` while each layer is written.

    Returns
    -------
    What each write did, by layer.
    """
    frames = generate_scenario(
        seed=seed, sites=sites, visits=visits, today=today, scenario=scenario, validate=validate
    )
    for stale in (path, *(path.with_name(path.name + s) for s in ("-journal", "-wal", "-shm"))):
        stale.unlink(missing_ok=True)
    store = open_store(path)
    set_operating_area(store, load_scenario(scenario).area)
    results = {}
    for layer, frame in frames.items():
        tell(progress, layer, 0, len(frame))
        results[layer] = store.upsert(layer, frame, progress=progress)
    return results


def _check_sizes(sites: int | None, visits: int | None) -> None:
    for name, value in (("sites", sites), ("visits", visits)):
        if value is not None and value < 0:
            raise ParameterError(f"{name} must be zero or more, got {value}")


# --- typed frames ---------------------------------------------------------------------------


def _frame(
    table: _Table, layer: LayerDef, context: ValidationContext, *, validate: bool
) -> pd.DataFrame:
    if validate:
        return _validated_frame(table, layer, context)
    data = {f.name: _typed_column(f, table.columns.get(f.name), len(table)) for f in layer.fields}
    frame = pd.DataFrame(data)
    if table.geometry is None:
        return frame
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(table.geometry, crs=WGS84), crs=WGS84)


def _typed_column(f: FieldDef, values: np.ndarray | None, n: int) -> pd.Series:
    """The column :func:`validate_table` would make, built straight from the arrays."""
    if values is None:
        return column_from_values(f, [f.default] * n)
    if f.type == "integer":
        return pd.Series(values, dtype="Int64")
    if f.type == "date":
        return pd.Series(values.astype("datetime64[ns]"))
    if f.type == "number":
        return pd.Series(values, dtype="float64")
    return pd.Series(values, dtype=object)


def _validated_frame(table: _Table, layer: LayerDef, context: ValidationContext) -> pd.DataFrame:
    raw = pd.DataFrame({name: _raw_cells(values) for name, values in table.columns.items()})
    geometry = None if table.geometry is None else gpd.GeoSeries(table.geometry, crs=WGS84)
    frame, report = validate_table(
        RawTable(file="demo", frame=raw, geometry=geometry), layer, context=context
    )
    if not report.ok:
        raise LayerValidationError(report)
    return frame.reset_index(drop=True)


def _raw_cells(values: np.ndarray) -> list[object]:
    """Cells as a file would hold them: ``None`` for missing, dates as dates."""
    if values.dtype.kind == "M":
        return list(values.astype("datetime64[D]").astype(object))
    if values.dtype.kind == "f":
        return [None if np.isnan(v) else int(v) for v in values]
    return list(values)


# --- places ---------------------------------------------------------------------------------


def _scatter(
    ctx: _Context, centre: np.ndarray, spread_km: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Points jittered around centres (n x 2, lon/lat) by a normal spread in km (n x 2), redrawn
    until every point is on land."""
    lon, lat = centre[:, 0].copy(), centre[:, 1].copy()
    todo = np.ones(len(centre), dtype=bool)
    for _ in range(200):
        if not todo.any():
            break
        k = int(todo.sum())
        step = ctx.rng.normal(size=(k, 2)) * spread_km[todo]
        lon[todo] = centre[todo, 0] + step[:, 0] / _km_per_degree_lon(centre[todo, 1])
        lat[todo] = centre[todo, 1] + step[:, 1] / _KM_PER_DEGREE_LAT
        todo = ~shapely.contains_xy(ctx.land, lon, lat)
    lon[todo], lat[todo] = centre[todo, 0], centre[todo, 1]  # centres are on land
    return lon, lat


def _km_per_degree_lon(lat: np.ndarray | float) -> np.ndarray:
    return _KM_PER_DEGREE_LON_EQUATOR * np.cos(np.radians(lat))


def _town_places(
    ctx: _Context, towns: Sequence[str], spread: float | np.ndarray = 1.0
) -> np.ndarray:
    """Points (shapely array) scattered around each named town."""
    spec = ctx.scenario
    centre = np.array([spec.town(t).centre for t in towns], dtype=float).reshape(-1, 2)
    spread_km = np.array([spec.town(t).spread_km for t in towns], dtype=float).reshape(-1, 2)
    lon, lat = _scatter(ctx, centre, spread_km * np.reshape(spread, (-1, 1)))
    return shapely.points(lon, lat)


def _ids(prefix: str, n: int, width: int = 2) -> np.ndarray:
    width = max(width, len(str(n)))
    return np.array([f"{prefix}-{i:0{width}d}" for i in range(1, n + 1)], dtype=object)


def _texts(values: Sequence[object]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out


def _joined(items: Sequence[tuple[str, ...]]) -> np.ndarray:
    return _texts([",".join(i) if i else None for i in items])


def _admin_codes(ctx: _Context, towns: Sequence[str]) -> np.ndarray:
    return _texts([ctx.scenario.town(t).admin_code for t in towns])


# --- the results matrix ---------------------------------------------------------------------


def _indicators(ctx: _Context, scale: Mapping[str, float]) -> _Table:
    """The scenario's indicators, targets scaled to the size asked for."""
    specs = ctx.scenario.indicators

    def days(offsets: list[int]) -> np.ndarray:
        return np.array([ctx.day(d) for d in offsets], dtype="datetime64[D]")

    columns = {
        "id": _texts([i.id for i in specs]),
        "name": _texts([i.name for i in specs]),
        "formula": _texts([i.formula for i in specs]),
        "target": np.array([round(i.target * scale[i.scale]) for i in specs], dtype=float),
        "unit": _texts([i.unit for i in specs]),
        "period_start": days([i.period_start_offset_days for i in specs]),
        "period_end": days([i.period_end_offset_days for i in specs]),
        "notes": _texts([i.notes for i in specs]),
    }
    return _Table(columns)


# --- site layers ----------------------------------------------------------------------------


def _site_tables(ctx: _Context, n_points: int) -> dict[str, _Table]:
    tables = {
        "teams": _teams(ctx),
        "no_go_zones": _no_go_zones(ctx),
        "gathering_points": _gathering_points(ctx, n_points),
        "detention_centres": _detention_centres(ctx),
        "clinics": _clinics(ctx),
        "cip_sites": _cip_sites(ctx),
    }
    _close_sites_in_zones(ctx, tables["gathering_points"], tables["no_go_zones"])
    return tables


def _teams(ctx: _Context) -> _Table:
    teams = ctx.scenario.teams
    bases = _town_places(ctx, [t.town for t in teams], spread=0.25)
    columns = {
        "id": _texts([t.id for t in teams]),
        "name": _texts([t.name for t in teams]),
        "kind": _texts([t.kind for t in teams]),
        "services": _joined([t.services for t in teams]),
        "base_name": _texts([t.base_name for t in teams]),
        "working_days": _joined([t.working_days for t in teams]),
        "shift_start": _texts([t.shift_start for t in teams]),
        "shift_end": _texts([t.shift_end for t in teams]),
        "nfi_kits": np.array([t.nfi_kits for t in teams], dtype=np.int64),
        "max_stops": np.array([np.nan if t.max_stops is None else t.max_stops for t in teams]),
        "colour": _texts([t.colour for t in teams]),
    }
    return _Table(columns, bases)


def _no_go_zones(ctx: _Context) -> _Table:
    zones = ctx.scenario.no_go_zones
    polygons = [_circle(ctx, z) for z in zones]
    columns = {
        "id": _ids("NGZ", len(zones)),
        "name": _texts([z.name for z in zones]),
        "reason": _texts([z.reason for z in zones]),
        "valid_from": np.array(
            [ctx.day(z.valid_from_offset_days) for z in zones], dtype="datetime64[D]"
        ),
        "valid_to": np.array(
            [
                np.datetime64("NaT")
                if z.valid_to_offset_days is None
                else ctx.day(z.valid_to_offset_days)
                for z in zones
            ],
            dtype="datetime64[D]",
        ),
    }
    return _Table(columns, np.array([shapely.MultiPolygon([p]) for p in polygons], dtype=object))


def _circle(ctx: _Context, zone: ZoneSpec) -> shapely.Polygon:
    lon0, lat0 = ctx.scenario.town(zone.town).centre
    kx, ky = float(_km_per_degree_lon(lat0)), _KM_PER_DEGREE_LAT
    angles = np.linspace(0, 2 * np.pi, 25)[:-1]
    east = zone.offset_km[0] + zone.radius_km * np.cos(angles)
    north = zone.offset_km[1] + zone.radius_km * np.sin(angles)
    return shapely.Polygon(np.column_stack([lon0 + east / kx, lat0 + north / ky]).round(5))


def _gathering_points(ctx: _Context, n: int) -> _Table:
    spec, rng = ctx.scenario, ctx.rng
    towns = _pick([t.name for t in spec.towns], [t.share for t in spec.towns], n, rng)
    settings = _pick(list(spec.settings), [s.weight for s in spec.settings], n, rng)
    people, breakdown = _people(ctx, settings)
    columns = {
        "id": _ids("GP", n, width=4),
        "name": _site_names(ctx, towns),
        "admin_code": _admin_codes(ctx, towns),
        "setting": _texts([s.name for s in settings]),
        "people": people,
        **dict(zip(SexAge, breakdown.T, strict=True)),
        "services_needed": _mask_strings(_gp_service_masks(ctx, n), GP_SERVICES),
        "visit_frequency_days": np.array(
            [rng.choice(s.frequency_days) for s in settings], dtype=np.int64
        ),
        "vulnerability_flags": _vulnerabilities(ctx, n),
        **_access(ctx, n),
    }
    return _Table(columns, _town_places(ctx, towns))


def _pick(
    options: Sequence[_T], weights: Sequence[float], n: int, rng: np.random.Generator
) -> list[_T]:
    p = np.asarray(weights, dtype=float)
    chosen = rng.choice(len(options), size=n, p=p / p.sum())
    return [options[i] for i in chosen]


def _site_names(ctx: _Context, towns: Sequence[str]) -> np.ndarray:
    """Code names: a made-up neighbourhood of the town and a running number."""
    counters: dict[str, int] = {}
    names = []
    for town in towns:
        hood = str(ctx.rng.choice(ctx.scenario.town(town).neighbourhoods))
        counters[hood] = counters.get(hood, 0) + 1
        names.append(f"{hood} {counters[hood]:02d}")
    return _texts(names)


def _people(ctx: _Context, settings: Sequence[Setting]) -> tuple[np.ndarray, np.ndarray]:
    """People per site (log-normal around the setting's median) and their men / women / boys /
    girls breakdown (NaN where the breakdown is unknown)."""
    rng = ctx.rng
    median = np.array([s.people_median for s in settings], dtype=float)
    people = np.maximum(3, np.round(median * rng.lognormal(0.0, 0.6, len(settings)))).astype(
        np.int64
    )
    composition = _site_compositions(ctx, settings)
    breakdown = rng.multinomial(people, composition).astype(float)
    unknown = rng.random(len(settings)) > ctx.scenario.gathering_point_rules.breakdown_known
    breakdown[unknown] = np.nan
    return people, breakdown


def _site_compositions(ctx: _Context, settings: Sequence[Setting]) -> np.ndarray:
    base = np.array([s.composition for s in settings], dtype=float).reshape(-1, 4)
    return np.array([ctx.rng.dirichlet(40 * row + 0.05) for row in base]).reshape(-1, 4)


def _gp_service_masks(ctx: _Context, n: int) -> np.ndarray:
    probability = ctx.scenario.gathering_point_rules.service_probability
    masks = np.zeros(n, dtype=np.int64)
    for bit, service in enumerate(GP_SERVICES):
        masks |= (ctx.rng.random(n) < probability.get(service, 0.0)).astype(np.int64) << bit
    masks[masks == 0] = _HEALTH  # every site needs something
    return masks


def _mask_strings(masks: np.ndarray, vocabulary: Sequence[str]) -> np.ndarray:
    """Bit masks as comma-joined lists (``None`` for an empty mask), one join per distinct mask."""
    unique, inverse = np.unique(masks, return_inverse=True)
    joined = [
        ",".join(v for bit, v in enumerate(vocabulary) if m >> bit & 1) or None for m in unique
    ]
    return _texts(joined)[inverse.reshape(-1)] if len(masks) else _texts([])


def _vulnerabilities(ctx: _Context, n: int) -> np.ndarray:
    rng = ctx.rng
    flags = load_catalog()["gathering_points"].field("vulnerability_flags").allowed
    masks = np.zeros(n, dtype=np.int64)
    vulnerable = rng.random(n) < ctx.scenario.gathering_point_rules.vulnerable_share
    for extra in (vulnerable, vulnerable & (rng.random(n) < 0.4)):
        masks |= np.where(extra, 1 << rng.integers(0, len(flags), n), 0)
    return _mask_strings(masks, flags)


def _access(ctx: _Context, n: int) -> dict[str, np.ndarray]:
    """Access status, date and reason: mostly open, some restricted, a few inaccessible."""
    rules, rng = ctx.scenario.gathering_point_rules, ctx.rng
    draw = rng.random(n)
    inaccessible = draw < rules.inaccessible_share
    restricted = ~inaccessible & (draw < rules.inaccessible_share + rules.restricted_share)
    status = np.where(
        inaccessible, "inaccessible", np.where(restricted, "restricted", "open")
    ).astype(object)
    reason = np.full(n, None, dtype=object)
    reason[restricted] = rng.choice(
        np.array(rules.restricted_reasons, dtype=object), int(restricted.sum())
    )
    reason[inaccessible] = rng.choice(
        np.array(rules.inaccessible_reasons, dtype=object), int(inaccessible.sum())
    )
    days_ago = rng.integers(1, 90, n)
    notes = np.full(n, None, dtype=object)
    notes[rng.random(n) < rules.unvisited_share] = "Mapped recently; not visited yet"
    return {
        "access_status": status,
        "access_date": ctx.day(0) - days_ago.astype("timedelta64[D]"),
        "access_reason": reason,
        "notes": notes,
    }


def _close_sites_in_zones(ctx: _Context, points: _Table, zones: _Table) -> None:
    """Gathering points inside a zone closed today become inaccessible from its first day."""
    assert points.geometry is not None
    assert zones.geometry is not None
    today = ctx.day(0)
    for i, zone in enumerate(zones.geometry):
        start, end = zones.columns["valid_from"][i], zones.columns["valid_to"][i]
        if not (start <= today and (np.isnat(end) or today <= end)):
            continue
        inside = shapely.contains(zone, points.geometry)
        points.columns["access_status"][inside] = "inaccessible"
        points.columns["access_date"][inside] = start
        points.columns["access_reason"][inside] = f"Inside no-go zone {zones.columns['name'][i]}"


def _detention_centres(ctx: _Context) -> _Table:
    centres = ctx.scenario.detention_centres
    detainees = np.array([c.detainees for c in centres], dtype=np.int64)
    composition = np.array([c.composition for c in centres], dtype=float).reshape(-1, 4)
    breakdown = ctx.rng.multinomial(detainees, composition / composition.sum(axis=1, keepdims=True))
    towns = [c.town for c in centres]
    columns = {
        "id": _ids("DC", len(centres)),
        "name": _texts([c.name for c in centres]),
        "admin_code": _admin_codes(ctx, towns),
        "detainees": detainees,
        **dict(zip(SexAge, breakdown.T.astype(np.int64), strict=True)),
        "authority": _texts([c.authority for c in centres]),
        "access_status": _texts(["open"] * len(centres)),
        "access_days": _joined([c.access_days for c in centres]),
        "access_start": _texts([c.access_start for c in centres]),
        "access_end": _texts([c.access_end for c in centres]),
        "services_needed": _joined([c.services_needed for c in centres]),
        "monitoring_frequency_days": np.array(
            [c.monitoring_frequency_days for c in centres], dtype=np.int64
        ),
    }
    return _Table(columns, _town_places(ctx, towns, spread=0.8))


def _clinics(ctx: _Context) -> _Table:
    rows = [(g, town, n) for g in ctx.scenario.clinics for n, town in enumerate(g.towns, start=1)]
    towns = [town for _, town, _ in rows]
    columns = {
        "id": _ids("CL", len(rows)),
        "name": _texts([g.name.format(town=town, n=n) for g, town, n in rows]),
        "admin_code": _admin_codes(ctx, towns),
        "access_status": _texts(["open"] * len(rows)),
        "kind": _texts([g.kind for g, _, _ in rows]),
        "services": _joined([g.services for g, _, _ in rows]),
        "opening_days": _joined([g.opening_days for g, _, _ in rows]),
        "opening_start": _texts([g.opening_start for g, _, _ in rows]),
        "opening_end": _texts([g.opening_end for g, _, _ in rows]),
    }
    spread = np.array([g.spread for g, _, _ in rows], dtype=float)
    return _Table(columns, _town_places(ctx, towns, spread=spread))


def _cip_sites(ctx: _Context) -> _Table:
    projects = ctx.scenario.cip_sites
    towns = [p.town for p in projects]
    columns = {
        "id": _ids("CIP", len(projects)),
        "name": _texts([p.name for p in projects]),
        "admin_code": _admin_codes(ctx, towns),
        "access_status": _texts(["open"] * len(projects)),
        "project_type": _texts([p.project_type for p in projects]),
        "status": _texts([p.status for p in projects]),
        "beneficiaries": np.array([p.beneficiaries for p in projects], dtype=np.int64),
        "start_date": np.array(
            [ctx.day(p.start_offset_days) for p in projects], dtype="datetime64[D]"
        ),
        "end_date": np.array([ctx.day(p.end_offset_days) for p in projects], dtype="datetime64[D]"),
        "services_needed": _texts([Service.MONITORING.value] * len(projects)),
        "visit_frequency_days": np.array(
            [p.visit_frequency_days for p in projects], dtype=np.int64
        ),
    }
    return _Table(columns, _town_places(ctx, towns, spread=0.7))


# --- visits ---------------------------------------------------------------------------------


@dataclass
class _Visits:
    """Visits being generated: one entry per visit in each array."""

    team: np.ndarray  # index into the teams
    site: np.ndarray  # site id
    date: np.ndarray  # datetime64[D]
    services: np.ndarray  # mask over VISIT_SERVICES
    activities: np.ndarray  # mask over _ACTIVITIES
    consultations: np.ndarray  # n x 4, men/women/boys/girls
    reached: np.ndarray  # n x 4
    referrals: np.ndarray
    nfi_kits: np.ndarray

    @classmethod
    def concat(cls, parts: Sequence[_Visits]) -> _Visits:
        fields = [f.name for f in dataclasses.fields(cls)]
        return cls(**{f: np.concatenate([getattr(p, f) for p in parts]) for f in fields})

    def take(self, order: np.ndarray) -> _Visits:
        return _Visits(**{f.name: getattr(self, f.name)[order] for f in dataclasses.fields(self)})


@dataclass(frozen=True)
class _Teams:
    """What visit generation needs to know about the teams, as arrays."""

    specs: tuple[TeamSpec, ...]
    masks: np.ndarray
    days: tuple[np.ndarray, ...]  # working days of each team in the history window

    @classmethod
    def build(cls, ctx: _Context) -> _Teams:
        specs = ctx.scenario.teams
        masks = np.array([_mask(t.services, VISIT_SERVICES) for t in specs], dtype=np.int64)
        history = ctx.day(-ctx.scenario.history_days) + np.arange(ctx.scenario.history_days)
        days = tuple(history[np.isin(_weekday_names(history), t.working_days)] for t in specs)
        return cls(specs, masks, days)


def _mask(items: Sequence[str], vocabulary: Sequence[str]) -> int:
    return sum(1 << vocabulary.index(i) for i in items if i in vocabulary)


def _weekday_names(days: np.ndarray) -> np.ndarray:
    weekday = (days.astype(np.int64) + 4) % 7  # 1970-01-01 was a Thursday (Sunday + 4)
    return np.array([d.value for d in Weekday], dtype=object)[weekday]


def _visits(ctx: _Context, tables: dict[str, _Table], n: int) -> _Table:
    teams = _Teams.build(ctx)
    parts = [
        _detention_visits(ctx, teams, tables["detention_centres"]),
        _cip_visits(ctx, teams, tables["cip_sites"]),
    ]
    fixed = sum(len(p.team) for p in parts)
    parts.append(_gathering_point_visits(ctx, teams, tables, max(0, n - fixed)))
    visits = _Visits.concat(parts)
    visits = visits.take(np.lexsort((visits.site.astype(str), visits.team, visits.date)))
    return _visit_table(visits, teams)


def _visit_table(visits: _Visits, teams: _Teams) -> _Table:
    columns: dict[str, np.ndarray] = {
        "id": _ids("OV", len(visits.team), width=6),
        "site_id": visits.site.astype(object),
        "date": visits.date,
        "team_id": np.array([t.id for t in teams.specs], dtype=object)[visits.team],
        "services": _mask_strings(visits.services, VISIT_SERVICES),
        "activities": _mask_strings(visits.activities, _ACTIVITIES),
        "consultations": visits.consultations.sum(axis=1),
        **{f"consultations_{p}": visits.consultations[:, i] for i, p in enumerate(SexAge)},
        "referrals": visits.referrals,
        "people_reached": visits.reached.sum(axis=1),
        **{p: visits.reached[:, i] for i, p in enumerate(SexAge)},
        "nfi_kits": visits.nfi_kits,
    }
    return _Table(
        {k: v.astype(np.int64) if v.dtype.kind in "iu" else v for k, v in columns.items()}
    )


# -- detention centres and projects: a few visits on a schedule --------------------------


def _detention_visits(ctx: _Context, teams: _Teams, centres: _Table) -> _Visits:
    """Monitoring visits, rarer than the centres' frequency asks for, on access days only."""
    rules, rng = ctx.scenario.visit_rules, ctx.rng
    rows: list[tuple[int, str, np.datetime64, int]] = []
    for i, spec in enumerate(ctx.scenario.detention_centres):
        team = _team_for(teams, spec.town, _PROTECTION | _MONITORING)
        if team is None:
            continue
        allowed = teams.days[team][np.isin(_weekday_names(teams.days[team]), spec.access_days)]
        gaps = spec.monitoring_frequency_days * np.asarray(rules.detention_interval)
        for day in _schedule(ctx, allowed, gaps):
            rows.append((team, str(centres.columns["id"][i]), day, i))
    idx = np.array([r[3] for r in rows], dtype=np.int64)
    composition = np.array(
        [c.composition for c in ctx.scenario.detention_centres], dtype=float
    ).reshape(-1, 4)
    assisted = np.minimum(
        rng.poisson(rules.detainees_assisted, len(rows)) + 1, centres.columns["detainees"][idx]
    )
    needs = np.array(
        [_mask(c.services_needed, VISIT_SERVICES) for c in ctx.scenario.detention_centres]
    )
    activities = _ACT["protection_monitoring"] | np.where(
        rng.random(len(rows)) < 0.7, _ACT["vulnerability_assessment"], 0
    )
    activities |= np.where(rng.random(len(rows)) < 0.4, _ACT["case_management"], 0)
    return _fixed_visits(
        rows,
        teams,
        needs[idx],
        activities,
        rng.multinomial(assisted, composition[idx]),
    )


def _cip_visits(ctx: _Context, teams: _Teams, projects: _Table) -> _Visits:
    """Project monitoring visits, about monthly while a project runs and a month after."""
    rows: list[tuple[int, str, np.datetime64, int]] = []
    low, high = ctx.scenario.visit_rules.cip_interval_days
    for i, spec in enumerate(ctx.scenario.cip_sites):
        team = _team_for(teams, spec.town, _MONITORING)
        if team is None:
            continue
        start, end = ctx.day(spec.start_offset_days), ctx.day(spec.end_offset_days + 30)
        days = teams.days[team]
        for day in _schedule(
            ctx, days[(days >= start) & (days <= end)], np.array([low, high], dtype=float)
        ):
            rows.append((team, str(projects.columns["id"][i]), day, i))
    n = len(rows)
    return _fixed_visits(
        rows,
        teams,
        np.full(n, _MONITORING),
        np.full(n, _ACT["project_monitoring"]),
        np.zeros((n, 4), dtype=np.int64),
    )


def _team_for(teams: _Teams, town: str, services: int) -> int | None:
    """The first team covering the town that offers all the services."""
    for i, spec in enumerate(teams.specs):
        if town in spec.covers and teams.masks[i] & services == services:
            return i
    return None


def _schedule(ctx: _Context, allowed: np.ndarray, gaps: np.ndarray) -> list[np.datetime64]:
    """Visit days drawn from the allowed days, each a random gap (days, between the two
    bounds of ``gaps``) after the last."""
    if not len(allowed):
        return []
    days: list[np.datetime64] = []
    low, high = float(gaps[0]), float(gaps[1])
    cursor = allowed[0] + np.timedelta64(int(ctx.rng.uniform(0, low)), "D")
    while True:
        later = allowed[allowed >= cursor]
        if not len(later):
            return days
        days.append(later[0])
        cursor = later[0] + np.timedelta64(int(ctx.rng.uniform(low, high)), "D")


def _fixed_visits(
    rows: Sequence[tuple[int, str, np.datetime64, int]],
    teams: _Teams,
    needs: np.ndarray,
    activities: np.ndarray,
    reached: np.ndarray,
) -> _Visits:
    n = len(rows)
    team = np.array([r[0] for r in rows], dtype=np.int64)
    return _Visits(
        team=team,
        site=np.array([r[1] for r in rows], dtype=object),
        date=np.array([r[2] for r in rows], dtype="datetime64[D]"),
        services=(teams.masks[team] & needs).astype(np.int64),
        activities=np.asarray(activities, dtype=np.int64),
        consultations=np.zeros((n, 4), dtype=np.int64),
        reached=np.asarray(reached, dtype=np.int64).reshape(n, 4),
        referrals=np.zeros(n, dtype=np.int64),
        nfi_kits=np.zeros(n, dtype=np.int64),
    )


# -- gathering points: the bulk, vectorised ------------------------------------------------


@dataclass(frozen=True)
class _Points:
    """Gathering-point arrays that visit generation reads."""

    ids: np.ndarray
    town: np.ndarray
    needs: np.ndarray
    people: np.ndarray
    composition: np.ndarray
    weight: np.ndarray
    closed_from: np.ndarray  # datetime64[D]; NaT when the site stays open
    zones: np.ndarray  # n_sites x n_zones, inside or not

    @classmethod
    def build(cls, ctx: _Context, points: _Table, zones: _Table) -> _Points:
        cols = points.columns
        assert points.geometry is not None
        assert zones.geometry is not None
        composition = _known_composition(ctx, cols)
        status = cols["access_status"]
        weight = np.sqrt(cols["people"] + 10.0) * 30.0 / cols["visit_frequency_days"]
        weight = np.where(status == "restricted", 0.4 * weight, weight)
        weight = np.where(pd.isna(cols["notes"]), weight, 0.0)  # mapped recently
        closed_from = np.where(status == "inaccessible", cols["access_date"], np.datetime64("NaT"))
        inside = np.column_stack([shapely.contains(z, points.geometry) for z in zones.geometry])
        town = np.array([_town_of(ctx, c) for c in cols["admin_code"]], dtype=object)
        needs = np.array(
            [_mask(str(s).split(","), VISIT_SERVICES) for s in cols["services_needed"]]
        )
        return cls(
            cols["id"],
            town,
            needs,
            cols["people"],
            composition,
            weight,
            closed_from.astype("datetime64[D]"),
            inside.reshape(len(points), -1),
        )


def _town_of(ctx: _Context, admin_code: str) -> str:
    return next(t.name for t in ctx.scenario.towns if t.admin_code == admin_code)


def _known_composition(ctx: _Context, cols: dict[str, np.ndarray]) -> np.ndarray:
    """Each site's men/women/boys/girls shares: its breakdown where known, else its setting's."""
    breakdown = np.column_stack([cols[p] for p in SexAge]).astype(float)
    by_setting = {s.name: s.composition for s in ctx.scenario.settings}
    fallback = np.array([by_setting[s] for s in cols["setting"]], dtype=float).reshape(-1, 4)
    total = breakdown.sum(axis=1, keepdims=True)
    known = np.isfinite(total) & (total > 0)
    return np.where(known, breakdown / np.where(known, total, 1.0), fallback)


def _gathering_point_visits(
    ctx: _Context, teams: _Teams, tables: dict[str, _Table], n: int
) -> _Visits:
    points = _Points.build(ctx, tables["gathering_points"], tables["no_go_zones"])
    zones = tables["no_go_zones"].columns
    team, date = _team_days(ctx, teams, points, n)
    site = np.zeros(len(team), dtype=np.int64)
    keep = np.ones(len(team), dtype=bool)
    for t in range(len(teams.specs)):
        rows = np.flatnonzero(team == t)
        if len(rows):
            site[rows], keep[rows] = _sites_for_team(
                ctx, _candidates(teams, t, points), points, zones, date[rows]
            )
    team, date, site = team[keep], date[keep], site[keep]
    return _point_counts(ctx, teams, points, team=team, date=date, site=site)


def _candidates(teams: _Teams, t: int, points: _Points) -> np.ndarray:
    covers = np.isin(points.town, teams.specs[t].covers)
    return np.flatnonzero(covers & (points.needs & teams.masks[t] != 0) & (points.weight > 0))


def _team_days(
    ctx: _Context, teams: _Teams, points: _Points, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Team and date of each visit: the teams' shares of ``n``, spread evenly over their
    working days (each day gets the same number of stops, give or take one)."""
    shares = np.array(
        [t.share if len(_candidates(teams, i, points)) else 0.0 for i, t in enumerate(teams.specs)]
    )
    counts = (
        _largest_remainder(n, shares) if shares.sum() > 0 else np.zeros(len(shares), dtype=np.int64)
    )
    team_parts, date_parts = [], []
    for t, count in enumerate(counts):
        days = teams.days[t]
        if not len(days) or not count:
            continue
        per_day = _largest_remainder(int(count), ctx.rng.random(len(days)) * 0.2 + 1.0)
        date_parts.append(np.repeat(days, per_day))
        team_parts.append(np.full(int(count), t, dtype=np.int64))
    if not team_parts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype="datetime64[D]")
    return np.concatenate(team_parts), np.concatenate(date_parts)


def _largest_remainder(n: int, weights: np.ndarray) -> np.ndarray:
    """``n`` split in proportion to ``weights`` into whole numbers that add up to ``n``."""
    exact = n * weights / weights.sum()
    counts = np.floor(exact).astype(np.int64)
    short = n - int(counts.sum())
    counts[np.argsort(counts - exact, kind="stable")[:short]] += 1
    return counts


def _sites_for_team(
    ctx: _Context,
    candidates: np.ndarray,
    points: _Points,
    zones: dict[str, np.ndarray],
    dates: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """A site for each of a team's visits, drawn by weight; draws that repeat a site on the
    same day or fall in a closed site or zone are redrawn, and dropped if they keep failing."""
    p = points.weight[candidates] / points.weight[candidates].sum()
    site = candidates[ctx.rng.choice(len(candidates), size=len(dates), p=p)]
    bad = _bad_draws(site, dates, points, zones)
    for _ in range(30):
        if not bad.any():
            break
        site[bad] = candidates[ctx.rng.choice(len(candidates), size=int(bad.sum()), p=p)]
        bad = _bad_draws(site, dates, points, zones)
    return site, ~bad


def _bad_draws(
    site: np.ndarray, dates: np.ndarray, points: _Points, zones: dict[str, np.ndarray]
) -> np.ndarray:
    key = pd.MultiIndex.from_arrays([dates, site])
    repeated = np.asarray(key.duplicated(keep="first"))
    closed_from = points.closed_from[site]
    closed = ~np.isnat(closed_from) & (dates >= closed_from)
    until = np.where(np.isnat(zones["valid_to"]), np.datetime64("9999-12-31"), zones["valid_to"])
    active = (dates[:, None] >= zones["valid_from"][None, :]) & (dates[:, None] <= until[None, :])
    in_zone = (points.zones[site] & active).any(axis=1)
    return repeated | closed | in_zone


def _point_counts(
    ctx: _Context,
    teams: _Teams,
    points: _Points,
    *,
    team: np.ndarray,
    date: np.ndarray,
    site: np.ndarray,
) -> _Visits:
    """Counts of each gathering-point visit, by the services the team gave there."""
    services = teams.masks[team] & points.needs[site]
    people, composition = points.people[site], points.composition[site]
    consultations, referrals, awareness, health_acts = _health_counts(
        ctx, services, people, composition
    )
    others, other_acts = _other_counts(ctx, services)
    kits = _nfi_counts(ctx, services, people)
    consulted = consultations.sum(axis=1)
    reached_n = np.maximum(
        np.minimum(consulted + awareness + others, np.maximum(people, consulted)), kits
    )
    return _Visits(
        team=team,
        site=points.ids[site],
        date=date,
        services=services,
        activities=health_acts | other_acts | np.where(kits > 0, _ACT["nfi_distribution"], 0),
        consultations=consultations,
        reached=consultations + ctx.rng.multinomial(reached_n - consulted, composition),
        referrals=referrals,
        nfi_kits=kits,
    )


def _health_counts(
    ctx: _Context, services: np.ndarray, people: np.ndarray, composition: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Consultations by sex and age, referrals, awareness-session attendance and activities."""
    rules, rng = ctx.scenario.visit_rules, ctx.rng
    health = (services & _HEALTH) != 0
    lam = np.clip(rules.consultation_rate * people, *rules.consultation_range)
    count = np.where(health, rng.poisson(lam), 0)
    seek = composition * np.asarray(rules.consultation_weights)
    consultations = rng.multinomial(count, seek / seek.sum(axis=1, keepdims=True))
    referrals = rng.binomial(count, rules.referral_rate)
    talk = health & (rng.random(len(services)) < rules.awareness_probability)
    attendance = np.clip(rules.awareness_rate * people, *rules.awareness_range)
    awareness = np.where(talk, rng.poisson(attendance) + 1, 0)
    acts = np.where(count > 0, _ACT["health_consultation"], 0) | np.where(
        talk, _ACT["health_awareness"], 0
    )
    acts |= np.where(referrals > 0, _ACT["referral"], 0)
    return consultations, referrals, awareness, acts


def _other_counts(ctx: _Context, services: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """People reached by MHPSS and protection activities, and those activities."""
    rules, rng = ctx.scenario.visit_rules, ctx.rng
    n = len(services)
    mhpss = (services & _MHPSS) != 0
    kind = rng.choice(3, size=n, p=[0.45, 0.2, 0.35])  # session, first aid, group activity
    group = rng.integers(rules.group_size[0], rules.group_size[1] + 1, n)
    mhpss_people = np.where(
        mhpss, np.choose(kind, [rng.integers(1, 4, n), rng.integers(1, 5, n), group]), 0
    )
    acts = np.where(
        mhpss,
        np.array([_ACT["mhpss_session"], _ACT["psychological_first_aid"], _ACT["group_activity"]])[
            kind
        ],
        0,
    )
    protection = (services & _PROTECTION) != 0
    protection_people = np.where(protection, rng.integers(1, 6, n), 0)
    acts |= np.where(protection, _ACT["vulnerability_assessment"], 0)
    acts |= np.where(protection & (rng.random(n) < 0.35), _ACT["case_management"], 0)
    return mhpss_people + protection_people, acts


def _nfi_counts(ctx: _Context, services: np.ndarray, people: np.ndarray) -> np.ndarray:
    rules = ctx.scenario.visit_rules
    lam = np.clip(rules.nfi_rate * people, *rules.nfi_range)
    kits = np.minimum(ctx.rng.poisson(lam) + 1, people)
    return np.where((services & _NFI) != 0, kits, 0).astype(np.int64)
