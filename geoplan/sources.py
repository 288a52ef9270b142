"""Reading source files (GeoJSON, GeoPackage, zipped Shapefile, CSV, XLSX) into raw tables.

Nothing is validated here: cells keep the values the file holds, so that validation can report
them exactly as the user wrote them. Coordinates come either as geometries (reprojected to
EPSG:4326 from whatever CRS the file declares) or as raw coordinate columns.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
from pyproj import CRS
from pyproj.exceptions import CRSError

from geoplan.errors import InputFileError

VECTOR_SUFFIXES = (".geojson", ".json", ".gpkg", ".zip", ".shp", ".fgb")
TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm")
LON_NAMES = ("lon", "lng", "long", "longitude", "x", "lon_deg", "geo_lon", "long_deg")
LAT_NAMES = ("lat", "latitude", "y", "lat_deg", "geo_lat")
WGS84 = "EPSG:4326"


@dataclass(frozen=True)
class SourceOptions:
    """How to read a source file.

    Parameters
    ----------
    source_layer
        Layer to read from a GeoPackage (or other multi-layer file) holding several.
    sheet
        Sheet to read from a workbook; the first one by default.
    lon_column, lat_column
        Coordinate columns of a table, when their names are not the usual ones.
    crs
        CRS of a table's coordinate columns (default EPSG:4326), or of a vector file that
        declares none.
    """

    source_layer: str | None = None
    sheet: str | None = None
    lon_column: str | None = None
    lat_column: str | None = None
    crs: str | None = None


@dataclass
class RawTable:
    """A source file's records as raw cells, with their geometry or coordinate columns.

    ``rows`` are the 1-based record numbers users see (``row 17``), and ``lines`` the line of
    each record in a text file (header and HXL tag lines counted), when the file has lines.
    """

    file: str
    frame: pd.DataFrame
    geometry: gpd.GeoSeries | None = None
    lon_column: str | None = None
    lat_column: str | None = None
    crs: str = WGS84
    lines: list[int] | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def rows(self) -> range:
        """1-based record numbers."""
        return range(1, len(self.frame) + 1)


def read_source(path: Path, *, options: SourceOptions | None = None) -> RawTable:
    """Read a source file into a :class:`RawTable`.

    Raises
    ------
    InputFileError
        If the file is missing, of an unsupported kind, or cannot be parsed.
    """
    options = options or SourceOptions()
    if not path.exists():
        raise InputFileError(f"{path}: no such file; check the path and try again")
    suffix = path.suffix.lower()
    if suffix in VECTOR_SUFFIXES:
        return _read_vector(path, options)
    if suffix in TABLE_SUFFIXES:
        return _read_table(path, options)
    kinds = ", ".join(VECTOR_SUFFIXES + TABLE_SUFFIXES)
    raise InputFileError(
        f"{path.name}: cannot read {suffix or 'files without a suffix'}; use {kinds}"
    )


def list_source_layers(path: Path) -> list[str]:
    """Layers inside a GeoPackage or other multi-layer file."""
    try:
        return [str(name) for name, _ in pyogrio.list_layers(path)]
    except pyogrio.errors.DataSourceError as exc:
        raise InputFileError(f"{path.name}: not a readable spatial file ({exc})") from exc


# --- vector files -------------------------------------------------------------------------


def _read_vector(path: Path, options: SourceOptions) -> RawTable:
    layer = _pick_layer(path, options.source_layer)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # GDAL notes on odd fields
            gdf = pyogrio.read_dataframe(path, layer=layer)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise InputFileError(f"{path.name}: not a readable spatial file ({exc})") from exc
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf:
        return _table_from_frame(path, pd.DataFrame(gdf), options, lines=None)
    notes: list[str] = []
    gdf = _to_wgs84(gdf, path, options, notes)
    frame = pd.DataFrame(gdf.drop(columns=gdf.geometry.name)).astype(object)
    return RawTable(file=path.name, frame=frame, geometry=gdf.geometry, notes=notes)


def _pick_layer(path: Path, wanted: str | None) -> str | None:
    if path.suffix.lower() not in (".gpkg", ".zip"):
        return wanted
    names = list_source_layers(path)
    if wanted is not None:
        if wanted not in names:
            msg = f"{path.name} has no layer {wanted!r}; its layers are: {', '.join(names)}"
            raise InputFileError(msg)
        return wanted
    if len(names) > 1 and path.suffix.lower() == ".gpkg":
        msg = f"{path.name} holds several layers ({', '.join(names)}); name one with --source-layer"
        raise InputFileError(msg)
    return names[0] if names else None


def _to_wgs84(
    gdf: gpd.GeoDataFrame, path: Path, options: SourceOptions, notes: list[str]
) -> gpd.GeoDataFrame:
    if gdf.crs is None:
        declared = options.crs or WGS84
        notes.append(f"{path.name} declares no CRS; read as {declared}")
        gdf = gdf.set_crs(_crs(declared))
    if CRS.from_user_input(gdf.crs).equals(CRS.from_user_input(WGS84), ignore_axis_order=True):
        return gdf
    notes.append(f"reprojected from {gdf.crs.to_string()} to {WGS84}")
    return gdf.to_crs(WGS84)


def _crs(text: str) -> CRS:
    try:
        return CRS.from_user_input(text)
    except CRSError as exc:
        raise InputFileError(f"CRS {text!r} is not known; use a code like EPSG:4326") from exc


# --- tables -------------------------------------------------------------------------------


def _read_table(path: Path, options: SourceOptions) -> RawTable:
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        frame, first_line = _read_workbook(path, options.sheet), 2
    else:
        frame, first_line = _read_csv(path)
    frame, skipped = _drop_hxl_row(frame)
    lines = list(range(first_line + skipped, first_line + skipped + len(frame)))
    return _table_from_frame(path, frame, options, lines=lines)


def _read_csv(path: Path) -> tuple[pd.DataFrame, int]:
    text = _decode(path)
    try:
        dialect = csv.Sniffer().sniff(text[:20000], delimiters=",;\t|")
        sep = dialect.delimiter
    except csv.Error:
        sep = ","
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, ValueError) as exc:
        raise InputFileError(f"{path.name}: not a readable CSV file ({exc})") from exc
    return frame.astype(object), 2


def _decode(path: Path) -> str:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InputFileError(f"{path.name}: text is neither UTF-8 nor Windows-1252; save it as UTF-8")


def _read_workbook(path: Path, sheet: str | None) -> pd.DataFrame:
    try:
        frame = pd.read_excel(path, sheet_name=sheet or 0, dtype=object)
    except ValueError as exc:
        raise InputFileError(f"{path.name}: {exc}; name the sheet with --sheet") from exc
    except Exception as exc:  # openpyxl raises many kinds on a corrupt workbook
        raise InputFileError(f"{path.name}: not a readable workbook ({exc})") from exc
    return frame.astype(object)


def _drop_hxl_row(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Drop a Humanitarian Exchange Language tag row (``#adm1+code``...) below the header."""
    if frame.empty:
        return frame, 0
    first = [str(v).strip() for v in frame.iloc[0] if str(v).strip() and str(v) != "nan"]
    if first and all(v.startswith("#") for v in first):
        tags = {col: str(v).strip() for col, v in zip(frame.columns, frame.iloc[0], strict=True)}
        frame = frame.iloc[1:].reset_index(drop=True)
        frame.attrs["hxl"] = tags
        return frame, 1
    return frame, 0


def _table_from_frame(
    path: Path, frame: pd.DataFrame, options: SourceOptions, *, lines: list[int] | None
) -> RawTable:
    lon = options.lon_column or _find_column(frame, LON_NAMES, "longitude")
    lat = options.lat_column or _find_column(frame, LAT_NAMES, "latitude")
    for name in (lon, lat):
        if name is not None and name not in frame.columns:
            cols = ", ".join(map(str, frame.columns))
            raise InputFileError(f"{path.name} has no column {name!r}; its columns are: {cols}")
    crs = _crs(options.crs).to_string() if options.crs else WGS84
    return RawTable(path.name, frame, lon_column=lon, lat_column=lat, crs=crs, lines=lines)


def _find_column(frame: pd.DataFrame, names: tuple[str, ...], suffix: str) -> str | None:
    tags = frame.attrs.get("hxl", {})
    for column in frame.columns:
        for label in (str(column), tags.get(column, "")):
            key = re.sub(r"[#+\s-]+", "_", label.strip().lower()).strip("_")
            if key in names or key.endswith(f"_{suffix}"):
                return str(column)
    return None
