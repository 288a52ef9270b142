"""Coverage analyses computed once per workspace revision and parameters, kept as ready rows.

A coverage analysis of a large workspace takes seconds; the tables it gives change only when
the workspace does. :class:`CoverageCache` keeps each analysis under the workspace's revision
(:meth:`geoplan.store.Store.revision`, which moves with every committed write) and its parameters,
so repeated queries are answered from memory and the first query after a write computes
afresh. Concurrent requests for the same analysis wait for one computation instead of each
starting their own. Rows are converted to JSON-ready dictionaries once.

A viewer's analysis is a computation of its own (:attr:`CoverageAsk.generalised`, part of the
cache key): it runs on the layers as viewers see them, each sensitive site at the centre of its
H3 cell (:func:`geoplan.protect.generalise_frames`), so every answer it gives, at any threshold
or date, is the same for any position in the cell, and a planner's exact answer is never
served in its place. Its rows are then cut down to what a viewer may read
(:func:`viewer_sites`).

Nothing here imports the web framework: routes call it from worker threads.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely

from geoplan.catalog import split_list
from geoplan.coverage import (
    CoverageParams,
    CoverageResult,
    GapReason,
    coverage_from_layers,
    gap_column,
    gap_reasons_text,
    parse_minutes,
)
from geoplan.indicators import Period
from geoplan.protect import cell_centre
from geoplan.store import Store
from geoplan.vocab import GapFilter, GapKind
from geoplan.workspace import coverage_layers

T = TypeVar("T")
Row = dict[str, object]

LIST_COLUMNS = (
    "services_out_of_reach",
    "services_overdue",
    "services_late",
    "services_never_delivered",
    "services_needed",
    "services_delivered",
    "services_unmet",
)
EXACT_ONLY = (
    "name",
    "reach_minutes",
    "nearest_clinic",
    "clinic_minutes",
    "nearest_referral",
    "referral_minutes",
    "nearest_base",
    "base_minutes",
    "h3_cell",
    "lon",
    "lat",
)
"""Gap-table columns a viewer does not get: a name, the position (in a viewer's analysis the
cell centre, given as ``h3_cell``), and travel times to named places."""
SITE_LAYERS = (None, "gathering_points", "detention_centres")
COVERAGE_ENTRIES = 8
"""Analyses kept at most (a viewer's apart from a planner's)."""


# --- the cache ------------------------------------------------------------------------------


@dataclass
class _Pending(Generic[T]):
    done: threading.Event = field(default_factory=threading.Event)
    value: T | None = None
    error: BaseException | None = None


class ResultCache(Generic[T]):
    """Values by key, least recently used dropped first; one computation per key at a time.

    ``entries`` = 0 turns the cache off (every call computes). A key's first element is the
    workspace revision: storing a value drops every value of an older revision, which no
    request can ask for again.
    """

    def __init__(self, entries: int) -> None:
        self.entries = entries
        self._values: OrderedDict[tuple[Hashable, ...], T] = OrderedDict()
        self._pending: dict[tuple[Hashable, ...], _Pending[T]] = {}
        self._lock = threading.Lock()
        self.computed = 0

    def get(self, key: tuple[Hashable, ...], compute: Callable[[], T]) -> T:
        """The value of ``key``, computed (once, however many ask at the same time) if needed."""
        if self.entries == 0:
            self.computed += 1
            return compute()
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
            pending = self._pending.get(key)
            owner = pending is None
            if pending is None:
                pending = self._pending[key] = _Pending()
        if not owner:
            return self._wait(pending)
        return self._compute(key, pending, compute)

    def _wait(self, pending: _Pending[T]) -> T:
        pending.done.wait()
        if pending.error is not None:
            raise pending.error
        return pending.value  # type: ignore[return-value]

    def _compute(
        self, key: tuple[Hashable, ...], pending: _Pending[T], compute: Callable[[], T]
    ) -> T:
        try:
            pending.value = compute()
            self.computed += 1
        except BaseException as exc:
            pending.error = exc
            raise
        finally:
            with self._lock:
                del self._pending[key]
                if pending.error is None:
                    self._store(key, pending.value)  # type: ignore[arg-type]
            pending.done.set()
        return pending.value

    def _store(self, key: tuple[Hashable, ...], value: T) -> None:
        for old in [k for k in self._values if k[0] != key[0]]:
            del self._values[old]
        self._values[key] = value
        while len(self._values) > self.entries:
            self._values.popitem(last=False)


# --- what an analysis is asked with ---------------------------------------------------------


@dataclass(frozen=True)
class CoverageAsk:
    """The parameters of one analysis (the options of ``geoplan coverage``); ``generalised``:
    a viewer's analysis, made from the generalised layers and given as viewers' rows."""

    period: str | None = None
    threshold: str | None = None
    today: dt.date | None = None
    resolution: int | None = None
    generalised: bool = False
    viewer_resolution: int | None = None
    """The policy's viewer resolution a generalised analysis runs at (the cache's default if
    None)."""

    def key(self, revision: int) -> tuple[Hashable, ...]:
        """The cache key at a workspace revision (defaults and today filled in, thresholds in
        minutes, so that asks for the same analysis share it)."""
        params = self.params()
        day = self.day()
        return (
            revision,
            self.generalised,
            self.viewer_resolution if self.generalised else None,
            self.period,
            params.threshold_minutes,
            params.h3_resolution,
            day,
        )

    def day(self) -> dt.date:
        """The day gaps are measured at, before the period's end is applied."""
        return self.today or dt.date.today()

    def params(self) -> CoverageParams:
        """Coverage parameters; no new places are searched for (the API does not offer it)."""
        params = CoverageParams(new_locations=0)
        if self.threshold:
            params = dataclasses.replace(params, threshold_minutes=parse_minutes(self.threshold))
        if self.resolution is not None:
            params = dataclasses.replace(params, h3_resolution=self.resolution)
        return params


# --- the tables -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CoverageTables:
    """An analysis with its tables as JSON-ready rows.

    ``sites`` are in rank order, exact rows or (``generalised``) viewers' rows; ``selections``
    holds the row numbers of each (gap kind, layer) filter.
    """

    result: CoverageResult
    info: Row
    sites: list[Row]
    generalised: bool
    selections: Mapping[tuple[GapFilter, str | None], list[int]]
    areas: Mapping[str, list[Row]]
    area_shapes: Mapping[str, list[dict[str, object] | None]]
    indicators: list[Row]
    summary: Row


def compute_coverage(store: Store, ask: CoverageAsk, *, viewer_resolution: int) -> CoverageTables:
    """Analyse the workspace and convert the tables.

    Raises
    ------
    ParameterError
        If the workspace has no site to analyse, or a parameter is out of range.
    FormulaError
        If an indicator's formula cannot be read.
    """
    params = ask.params()
    generalised_to = (ask.viewer_resolution or viewer_resolution) if ask.generalised else None
    layers = coverage_layers(store, site_layers=params.site_layers, generalised_to=generalised_to)
    period = Period.parse(ask.period) if ask.period else None
    result = coverage_from_layers(layers, period=period, today=ask.day(), params=params)
    return tables_of(result, viewer_resolution=generalised_to)


def tables_of(result: CoverageResult, *, viewer_resolution: int | None) -> CoverageTables:
    """The rows of an analysis: exact, or with ``viewer_resolution`` as viewers see them (the
    analysis must then be one of generalised layers, see :func:`compute_coverage`)."""
    exact = records(result.to_frame())
    viewer = viewer_resolution is not None
    rows = exact
    if viewer_resolution is not None:
        rows = viewer_sites(exact, result.reasons, resolution=viewer_resolution)
    admin = result.admin
    areas = {"h3": result.hexagons, **({"admin": admin} if admin is not None else {})}
    return CoverageTables(
        result=result,
        info=coverage_info(result),
        sites=rows,
        generalised=viewer,
        selections=selections(exact),
        areas={by: area_rows(frame) for by, frame in areas.items()},
        area_shapes={by: shapes(frame) for by, frame in areas.items()},
        indicators=records(result.indicators),
        summary=summary_of(result, viewer=viewer),
    )


def coverage_info(result: CoverageResult) -> Row:
    """What the analysis measured, and how (:class:`api.models_analysis.CoverageInfo`)."""
    return {
        "period_start": result.period.start,
        "period_end": result.period.end,
        "as_of": result.as_of,
        "threshold_minutes": float(result.params.threshold_minutes),
        "h3_resolution": result.params.h3_resolution,
        "backend": result.backend,
    }


def records(frame: pd.DataFrame) -> list[Row]:
    """Rows as dictionaries of plain values: None for missing, dates as dates, lists split."""
    columns = {name: _plain(name, frame[name]) for name in frame.columns if name != "geometry"}
    names = list(columns)
    return [dict(zip(names, row, strict=True)) for row in zip(*columns.values(), strict=True)]


def _plain(name: str, series: pd.Series) -> list[object]:
    missing = series.isna().to_numpy()
    if name in LIST_COLUMNS:
        return [list(split_list(v)) for v in series]
    if pd.api.types.is_datetime64_any_dtype(series):
        return [None if m else v.date() for v, m in zip(series, missing, strict=True)]
    if pd.api.types.is_bool_dtype(series):
        return [bool(v) for v in series]
    if pd.api.types.is_integer_dtype(series):
        return [None if m else int(v) for v, m in zip(series, missing, strict=True)]
    if pd.api.types.is_float_dtype(series):
        return [None if m else float(v) for v, m in zip(series, missing, strict=True)]
    return [None if m else _value(v) for v, m in zip(series, missing, strict=True)]


def _value(value: object) -> object:
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, np.generic):
        return value.item()
    return value if isinstance(value, dt.date | str | int | float) else str(value)


def viewer_sites(
    exact: Sequence[Row], reasons: Mapping[str, Sequence[GapReason]], *, resolution: int
) -> list[Row]:
    """Rows a viewer may see: no name, position or times to named places; the H3 cell at the
    viewers' ``resolution``; and the gaps in the viewers' words (``reasons`` by site id),
    without free-text notes or minutes."""
    rows = []
    for row in exact:
        out = {k: v for k, v in row.items() if k not in EXACT_ONLY}
        out["h3_cell"] = h3.latlng_to_cell(float(row["lat"]), float(row["lon"]), resolution)  # type: ignore[arg-type]
        out["gap_reasons"] = gap_reasons_text(reasons.get(str(row["id"]), ()), viewer=True)
        rows.append(out)
    return rows


def viewer_geometry(row: Row) -> dict[str, object]:
    """A viewer's site at the centre of its H3 cell."""
    return {"type": "Point", "coordinates": cell_centre(str(row["h3_cell"]))}


def selections(rows: Sequence[Row]) -> dict[tuple[GapFilter, str | None], list[int]]:
    """Row numbers of every gap filter and layer filter."""
    out: dict[tuple[GapFilter, str | None], list[int]] = {}
    for kind in GapFilter:
        for layer in SITE_LAYERS:
            out[(kind, layer)] = [
                i
                for i, row in enumerate(rows)
                if _has_gap(row, kind) and (layer is None or row["layer"] == layer)
            ]
    return out


def _has_gap(row: Row, kind: GapFilter) -> bool:
    if kind == GapFilter.ALL:
        return True
    if kind == GapFilter.ANY:
        return bool(row["gaps"])
    return bool(row[gap_column(GapKind(kind))])


def area_rows(frame: gpd.GeoDataFrame) -> list[Row]:
    """Per-area rows; the row of sites outside every area gets a null ``area_id``."""
    rows = records(pd.DataFrame(frame.drop(columns="geometry")))
    for row in rows:
        row["area_id"] = row["area_id"] or None
    return rows


def shapes(frame: gpd.GeoDataFrame) -> list[dict[str, object] | None]:
    """Area geometries as GeoJSON dictionaries (None where an area has none)."""
    texts = shapely.to_geojson(frame.geometry.to_numpy())
    return [None if t is None else json.loads(t) for t in texts]


def summary_of(result: CoverageResult, *, viewer: bool = False) -> Row:
    """Totals, gap counts and the indicators behind pace; ``viewer``: the text in viewers'
    words (no minutes)."""
    sites = result.sites
    indicators = result.indicators
    behind = list(indicators.loc[indicators["status"] == "behind", "id"]) if len(indicators) else []
    return {
        "text": result.summary(viewer=viewer),
        "totals": records(result.totals),
        "gaps": {
            "sites": len(sites),
            "with_gaps": int((sites["gaps"] > 0).sum()),
            **{str(kind): int(sites[gap_column(kind)].sum()) for kind in GapKind},
            "never_visited": int(sites["never_visited"].sum()),
        },
        "indicators_behind": [str(i) for i in behind],
    }


class CoverageCache:
    """Coverage analyses of one workspace, by revision and parameters."""

    def __init__(self, store: Store, *, entries: int, viewer_resolution: int) -> None:
        self.store = store
        self.viewer_resolution = viewer_resolution
        self.cache: ResultCache[CoverageTables] = ResultCache(min(entries, COVERAGE_ENTRIES))

    def tables(self, ask: CoverageAsk) -> CoverageTables:
        """The analysis asked for, from memory when the workspace has not changed since."""
        revision = self.store.revision()

        def compute() -> CoverageTables:
            return compute_coverage(self.store, ask, viewer_resolution=self.viewer_resolution)

        if revision is None:  # the revision cannot be known: never reuse
            return compute()
        return self.cache.get(ask.key(revision), compute)
