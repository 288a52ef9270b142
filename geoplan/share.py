"""Products that leave the programme: counts per area, suppressed, with no position in them.

``geoplan share coverage|activities|layers --by admin1|admin2|h3:RES`` counts sites and people
per area (never a site's position: sensitive layers appear only as counts), suppresses every
cell under the workspace policy's threshold and enough others that none can be recomputed
(:mod:`geoplan.suppression`), and writes CSV, XLSX, GeoJSON or a self-contained HTML map. Every
product states its level, its rule, its date and its sources on its face.

Area shapes are published too (admin polygons where the workspace has them, H3 hexagons), but
no vertex that lies in the viewer-resolution H3 cell of a sensitive site is kept
(:func:`scrub_geometry`): a shape never points into the cell of a gathering point or a
detention centre.

- ``layers``: sites and people of each sensitive layer per area;
- ``coverage``: sites and people within reach of a clinic or base and out of reach;
- ``activities``: people reached in the period by men, women, boys and girls, and the number of
  sites visited (counts by sex and age are suppressed on the same rule).
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely

from geoplan.errors import ParameterError, PolicyError
from geoplan.indicators import Period
from geoplan.outputs import append_row, private_file, safe_frame, write_text
from geoplan.suppression import CountTable, SuppressedTable, Threshold, suppress
from geoplan.vocab import SexAge

SHARE_KINDS = ("coverage", "activities", "layers")
FORMATS = (".csv", ".xlsx", ".geojson", ".html")
UNKNOWN_AREA = "(area unknown)"
H3_FINEST = 15
TOTAL = "TOTAL"
_PCODE_LEVEL_LENGTH = {"admin1": 4, "admin2": 6}  # LY + 2 digits per level (OCHA P-codes)
COVERAGE_COLUMNS = ("within reach", "out of reach")


@dataclass(frozen=True)
class Level:
    """What a product counts per: ``admin1``, ``admin2`` or ``h3:RES``.

    Raises
    ------
    ParameterError
        If the text is none of those or the resolution is finer than viewers may see.
    """

    kind: str
    resolution: int | None = None

    @classmethod
    def parse(cls, text: str, *, viewer_resolution: int) -> Level:
        """``admin1``, ``admin2`` or ``h3:RES`` with RES no finer than ``viewer_resolution``."""
        text = text.strip().lower()
        if text in _PCODE_LEVEL_LENGTH:
            return cls(text)
        name, _, res = text.partition(":")
        if name != "h3" or not res.isdigit():
            raise ParameterError(f"--by {text!r}: use admin1, admin2 or h3:RES (e.g. h3:6)")
        if int(res) > H3_FINEST:
            raise ParameterError(
                f"--by {text}: H3 has resolutions 0 to {H3_FINEST}; use h3:{viewer_resolution}"
            )
        if int(res) > viewer_resolution:
            msg = (
                f"--by {text}: resolution {res} is finer than the policy lets viewers see "
                f"({viewer_resolution}); use h3:{viewer_resolution} or coarser"
            )
            raise PolicyError(msg)
        return cls("h3", int(res))

    def text(self) -> str:
        """The level in words, as products state it."""
        if self.kind == "h3":
            return f"H3 hexagons at resolution {self.resolution}"
        return f"{self.kind} areas (by P-code)"


@dataclass(frozen=True)
class ShareRequest:
    """What to share and how (the policy gives ``threshold`` and ``viewer_resolution``)."""

    kind: str
    level: Level
    period: Period
    threshold: Threshold = field(default_factory=Threshold)
    viewer_resolution: int = 7

    def __post_init__(self) -> None:
        if self.kind not in SHARE_KINDS:
            raise ParameterError(
                f"share: expected one of {', '.join(SHARE_KINDS)}, got {self.kind!r}"
            )


@dataclass(frozen=True)
class ShareInputs:
    """What a product is made from: demand sites (``id``, ``layer``, ``admin_code``, ``people``,
    point geometry), outreach visits, admin areas, and for ``coverage`` the ``covered`` flag of
    each site (by id); ``sources`` names them."""

    sites: gpd.GeoDataFrame
    visits: pd.DataFrame
    admin_areas: gpd.GeoDataFrame | None
    sources: tuple[str, ...]
    covered: Mapping[str, bool] | None = None


@dataclass(frozen=True)
class ShareProduct:
    """A suppressed table per area with what it states on its face.

    ``areas`` holds ``id``, ``name`` and a scrubbed geometry (or None) in the table's row
    order; ``protected_cells`` are the viewer-resolution H3 cells of the sensitive sites.
    """

    title: str
    request: ShareRequest
    made: dt.date
    sources: tuple[str, ...]
    table: SuppressedTable
    areas: gpd.GeoDataFrame
    protected_cells: frozenset[str]

    def notes(self) -> list[str]:
        """Level, rule, date and sources, one line each."""
        rule = self.table.threshold.text()
        return [
            f"Level: {self.request.level.text()}",
            f"Suppression rule: {rule} (marked 'suppressed'; {self.table.secondary} cell(s) "
            "suppressed to protect others)",
            f"Date: made {self.made.isoformat()}, period {self.request.period}",
            f"Sources: {', '.join(self.sources)}",
            "No position of a sensitive site is in this product.",
        ]

    def to_frame(self) -> pd.DataFrame:
        """One row per area and a TOTAL row; counts as numbers, suppressed cells empty."""
        t = self.table.table
        people, sites = self.table.published_people(), self.table.published_sites()
        data: dict[str, object] = {
            "area_id": [*self.areas["id"], TOTAL],
            "area_name": [*self.areas["name"], "All areas"],
        }
        for j, column in enumerate(t.columns):
            if t.additive_sites:
                data[f"{column} sites"] = _counts(sites[:, j])
            data[f"{column} people"] = _counts(people[:, j])
        data["sites"] = _counts(sites[:, -1])
        data["people"] = _counts(people[:, -1])
        return pd.DataFrame(data)


def _counts(values: np.ndarray) -> pd.Series:
    return pd.Series(values).astype("Int64")


# --- making the table -------------------------------------------------------------------------


def share_product(inputs: ShareInputs, request: ShareRequest, *, made: dt.date) -> ShareProduct:
    """Count, suppress and describe one product (the pure core of ``geoplan share``)."""
    sites = inputs.sites.loc[inputs.sites.geometry.notna() & ~inputs.sites.geometry.is_empty]
    area_of = area_keys(sites, request.level)
    table = _count_table(inputs, sites, area_of, request)
    protected = protected_cells(sites, resolution=request.viewer_resolution)
    areas = _area_shapes(table.rows, request.level, inputs.admin_areas, protected)
    title = f"{request.kind.capitalize()} per area: shared product"
    return ShareProduct(
        title,
        request,
        made,
        inputs.sources,
        suppress(table, request.threshold),
        areas,
        protected,
    )


def protected_cells(sites: gpd.GeoDataFrame, *, resolution: int) -> frozenset[str]:
    """The H3 cells at ``resolution`` that hold a site."""
    return frozenset(
        h3.latlng_to_cell(p.y, p.x, resolution)
        for p in sites.geometry
        if p is not None and not p.is_empty
    )


def area_keys(sites: gpd.GeoDataFrame, level: Level) -> pd.Series:
    """The area id of every site at ``level`` (P-code prefix or H3 cell)."""
    if level.kind == "h3":
        assert level.resolution is not None
        cells = [h3.latlng_to_cell(p.y, p.x, level.resolution) for p in sites.geometry]
        return pd.Series(cells, index=sites.index, dtype=object)
    width = _PCODE_LEVEL_LENGTH[level.kind]
    codes = sites["admin_code"] if "admin_code" in sites else pd.Series(None, index=sites.index)
    codes = codes.astype("string").str.strip().str[:width]
    return codes.where(codes.str.len() == width, UNKNOWN_AREA).fillna(UNKNOWN_AREA).astype(object)


def _count_table(
    inputs: ShareInputs, sites: gpd.GeoDataFrame, area_of: pd.Series, request: ShareRequest
) -> CountTable:
    if request.kind == "activities":
        return _activity_table(inputs.visits, sites, area_of, request.period)
    if request.kind == "coverage":
        covered = inputs.covered or {}
        category = (
            sites["id"].astype(str).map(lambda i: COVERAGE_COLUMNS[0 if covered.get(i) else 1])
        )
        return _site_table(sites, area_of, category, COVERAGE_COLUMNS)
    layers = tuple(sorted(sites["layer"].astype(str).unique()))
    return _site_table(sites, area_of, sites["layer"].astype(str), layers)


def _site_table(
    sites: gpd.GeoDataFrame, area_of: pd.Series, category: pd.Series, columns: Sequence[str]
) -> CountTable:
    people = pd.to_numeric(sites["people"], errors="coerce").fillna(0).astype(np.int64)
    frame = pd.DataFrame({"area": area_of, "cat": category, "people": people, "one": 1})
    rows = tuple(sorted(frame["area"].unique()))
    sums = frame.groupby(["area", "cat"])[["one", "people"]].sum()
    grid = {
        v: sums[v].unstack("cat").reindex(index=list(rows), columns=list(columns)).fillna(0)
        for v in ("one", "people")
    }
    return CountTable(
        rows, tuple(columns), grid["one"].to_numpy(np.int64), grid["people"].to_numpy(np.int64)
    )


def _activity_table(
    visits: pd.DataFrame, sites: gpd.GeoDataFrame, area_of: pd.Series, period: Period
) -> CountTable:
    dates = pd.to_datetime(visits["date"], errors="coerce")
    chosen = visits.loc[(dates >= pd.Timestamp(period.start)) & (dates <= pd.Timestamp(period.end))]
    area_by_site = dict(zip(sites["id"].astype(str), area_of, strict=True))
    area = chosen["site_id"].astype(str).map(area_by_site)
    chosen = chosen.loc[area.notna()].assign(area=area.dropna())
    groups = [g.value for g in SexAge]
    counts = chosen[groups].apply(pd.to_numeric, errors="coerce").fillna(0).astype(np.int64)
    frame = pd.concat([chosen[["area", "site_id"]], counts], axis=1)
    rows = tuple(sorted(frame["area"].unique()))
    people = frame.groupby("area")[groups].sum().reindex(list(rows)).fillna(0)
    row_sites = frame.groupby("area")["site_id"].nunique().reindex(list(rows)).fillna(0)
    n = people.to_numpy(np.int64)
    return CountTable(rows, tuple(groups), np.zeros_like(n), n, row_sites.to_numpy(np.int64))


# --- shapes -----------------------------------------------------------------------------------


def _area_shapes(
    rows: Sequence[str],
    level: Level,
    admin_areas: gpd.GeoDataFrame | None,
    protected: frozenset[str],
) -> gpd.GeoDataFrame:
    names: dict[str, str] = {}
    shapes: dict[str, shapely.Geometry] = {}
    if level.kind == "h3":
        shapes = {r: shapely.Polygon([(x, y) for y, x in h3.cell_to_boundary(r)]) for r in rows}
    elif admin_areas is not None and len(admin_areas):
        for row, geom in zip(admin_areas.to_dict("records"), admin_areas.geometry, strict=True):
            names[str(row["id"])] = str(row.get("name") or row["id"])
            shapes[str(row["id"])] = geom
    resolution = _resolution_of(protected)
    scrubbed = [scrub_geometry(shapes.get(r), protected, resolution) for r in rows]
    return gpd.GeoDataFrame(
        {"id": list(rows), "name": [names.get(r, r) for r in rows]},
        geometry=gpd.GeoSeries(scrubbed, crs=4326),
    )


def _resolution_of(cells: Iterable[str]) -> int:
    return next((h3.get_resolution(c) for c in cells), 0)


def scrub_geometry(
    geom: shapely.Geometry | None, protected: frozenset[str], resolution: int
) -> shapely.Geometry | None:
    """``geom`` (polygons) rounded to 5 decimals without any vertex inside a ``protected`` H3
    cell; None when nothing of it is left."""
    if geom is None or geom.is_empty:
        return None
    polygons = [_scrub_polygon(p, protected, resolution) for p in getattr(geom, "geoms", [geom])]
    kept = [p for p in polygons if p is not None]
    if not kept:
        return None
    return kept[0] if len(kept) == 1 else shapely.MultiPolygon(kept)


def _scrub_polygon(
    polygon: shapely.Geometry, protected: frozenset[str], resolution: int
) -> shapely.Polygon | None:
    if not isinstance(polygon, shapely.Polygon):
        return None
    shell = _scrub_ring(polygon.exterior.coords, protected, resolution)
    if shell is None:
        return None
    holes = [h for r in polygon.interiors if (h := _scrub_ring(r.coords, protected, resolution))]
    return shapely.Polygon(shell, holes)


def _scrub_ring(
    coords: Iterable[Sequence[float]], protected: frozenset[str], resolution: int
) -> list[tuple[float, float]] | None:
    kept = []
    for x, y, *_ in coords:
        point = (round(x, 5), round(y, 5))
        if h3.latlng_to_cell(point[1], point[0], resolution) not in protected:
            kept.append(point)
    distinct = list(dict.fromkeys(kept))
    return distinct if len(distinct) >= 3 else None


# --- writing ----------------------------------------------------------------------------------


def save_share(product: ShareProduct, path: Path) -> Path:
    """Write the product as CSV, XLSX, GeoJSON or HTML, by ``path``'s suffix.

    Raises
    ------
    ParameterError
        If the suffix is not one of :data:`FORMATS`.
    """
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return write_text(path, share_csv(product))
    if suffix == ".xlsx":
        return _write_xlsx(product, path)
    if suffix == ".geojson":
        return write_text(path, json.dumps(share_geojson(product), ensure_ascii=False))
    if suffix == ".html":
        from geoplan.maps.share import render_share_map  # noqa: PLC0415  (folium only here)

        return write_text(path, render_share_map(product))
    msg = f"-o {path.name}: the file must end in {', '.join(FORMATS)}"
    raise ParameterError(msg)


def share_csv(product: ShareProduct) -> str:
    """The table as CSV, headed by ``# `` lines stating level, rule, date and sources."""
    body = io.StringIO()
    safe_frame(product.to_frame()).to_csv(body, index=False)
    head = "".join(f"# {note}\n" for note in [product.title, *product.notes()])
    return head + body.getvalue()


def _write_xlsx(product: ShareProduct, path: Path) -> Path:
    from openpyxl import Workbook  # noqa: PLC0415  (keeps imports light)

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "shared"
    for note in [product.title, *product.notes()]:
        append_row(sheet, [note])
    append_row(sheet, [])
    frame = product.to_frame()
    append_row(sheet, list(frame.columns))
    for row in frame.itertuples(index=False):
        append_row(
            sheet,
            [
                None if pd.isna(v) else (int(v) if isinstance(v, np.integer | int) else v)
                for v in row
            ],
        )
    with private_file(path) as partial:
        book.save(partial)
    return path


def share_geojson(product: ShareProduct) -> dict[str, object]:
    """One feature per area (``sites`` and ``people``, None where suppressed), plus the notes."""
    frame = product.to_frame().iloc[:-1]
    features = []
    for row, geom in zip(frame.to_dict("records"), product.areas.geometry, strict=True):
        props = {
            k: (None if pd.isna(v) else (int(v) if k not in ("area_id", "area_name") else v))
            for k, v in row.items()
        }
        features.append(
            {
                "type": "Feature",
                "id": str(row["area_id"]),
                "geometry": None if geom is None else shapely.geometry.mapping(geom),
                "properties": props,
            }
        )
    totals = {k: (None if pd.isna(v) else v) for k, v in product.to_frame().iloc[-1].items()}
    return {
        "type": "FeatureCollection",
        "name": product.title,
        "description": " | ".join(product.notes()),
        "totals": {
            k: (int(v) if isinstance(v, np.integer | int) else v) for k, v in totals.items()
        },
        "features": features,
    }
