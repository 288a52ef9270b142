"""Reading source files (GeoJSON, GeoPackage, FlatGeobuf, zipped Shapefile, CSV, XLSX) into
raw tables, safely: the files may come from people we do not know (API uploads).

Nothing is validated here: cells keep the values the file holds, so that validation can report
them exactly as the user wrote them. Coordinates come either as geometries (reprojected to
EPSG:4326 from whatever CRS the file declares) or as raw coordinate columns.

Each file is read as the kind its suffix names (:data:`KINDS`), and only if its first bytes
say the same. GDAL is told which driver to use where it takes a prefix (``GeoJSON:``,
``GPKG:``), and asked which one it used everywhere else before any feature is read, so that a
VRT document saved as ``x.geojson`` is never read as one. GDAL's network is off
(:func:`lock_gdal`), a GeoJSON ``crs`` may not point at another document, and a zip archive is
unpacked by geoplan itself, counting bytes, so that GDAL never opens ``/vsizip/``. What a file
may cost is bounded by :class:`ImportLimits`, checked while reading.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import json
import re
import tempfile
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Literal

import geopandas as gpd
import openpyxl
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError

from geoplan.errors import ImportLimitError, InputFileError, ParameterError, without_paths

LON_NAMES = ("lon", "lng", "long", "longitude", "x", "lon_deg", "geo_lon", "long_deg")
LAT_NAMES = ("lat", "latitude", "y", "lat_deg", "geo_lat")
PAIR_NAMES = ("_geolocation", "geolocation", "coordinates", "coords", "latlon", "lat_lon", "gps")
"""Names of a column that holds both coordinates in one cell ("lat, lon", "[lat, lon]")."""
CoordinateOrder = Literal["latlon", "lonlat"]
WGS84 = "EPSG:4326"
MB = 1024 * 1024


# --- limits -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportLimits:
    """What reading one file may cost. Each limit is checked while the file is read, and a
    file over one is refused with a message naming the limit, the value seen and how to raise
    it (:func:`limit_hint`).

    Parameters
    ----------
    max_bytes
        Largest file in bytes, counted uncompressed (a zip archive's members added up).
    max_ratio
        Largest compression ratio of a zip archive (its members' bytes over the archive's),
        checked once the members hold more than :data:`RATIO_FREE_BYTES`.
    max_rows
        Most records (features, table rows).
    max_vertices
        Most vertices in one geometry.
    max_total_vertices
        Most vertices in all geometries together.
    max_problems
        Most problems an answer lists (the API's import answer); all are counted.
    max_report_problems
        Most problems kept for a problem report file (``--report``, the API's
        ``?report=csv``); all are counted.
    """

    max_bytes: int = 200 * MB
    max_ratio: float = 100.0
    max_rows: int = 1_000_000
    max_vertices: int = 100_000
    max_total_vertices: int = 5_000_000
    max_problems: int = 1_000
    max_report_problems: int = 100_000

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not value > 0:
                raise ParameterError(f"{f.name} must be above 0, got {value!r}")


RATIO_FREE_BYTES = 10 * MB
"""Archives holding less than this are not refused for their ratio: small honest files (a
Shapefile's padded text fields) compress far better than large ones."""


def limit_hint(name: str) -> str:
    """How to raise the import limit ``name``, from the command line and for the API."""
    return (
        f"set {name} in the [imports] table of a --params file, or "
        f"GEOPLAN_IMPORT_{name.upper()} for the API"
    )


def _over(file: str, name: str, what: str, seen: float, limit: float) -> ImportLimitError:
    return ImportLimitError(
        f"{file}: {what} {seen:,.0f} is over the import limit {name} = {limit:,.0f}; "
        f"split the file, or {limit_hint(name)}"
    )


# --- file kinds ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FileKind:
    """What a suffix promises: the GDAL driver that reads it (none for tables), the prefix that
    makes GDAL try that driver alone, and the bytes such a file starts with."""

    name: str
    driver: str | None
    prefix: str = ""
    signatures: tuple[bytes, ...] = ()


_JSON = FileKind("GeoJSON", "GeoJSON", "GeoJSON:", (b"{", b"["))
_TEXT = FileKind("text table", None)
_WORKBOOK = FileKind("XLSX workbook", None, signatures=(b"PK\x03\x04",))
_SHAPEFILE = FileKind("Shapefile", "ESRI Shapefile", signatures=(b"\x00\x00\x27\x0a",))
KINDS: dict[str, FileKind] = {
    ".geojson": _JSON,
    ".json": _JSON,
    ".gpkg": FileKind("GeoPackage", "GPKG", "GPKG:", (b"SQLite format 3\x00",)),
    ".zip": FileKind("zipped Shapefile", "ESRI Shapefile", signatures=(b"PK\x03\x04",)),
    ".shp": _SHAPEFILE,
    ".fgb": FileKind("FlatGeobuf", "FlatGeobuf", signatures=(b"fgb\x03",)),
    ".csv": _TEXT,
    ".tsv": _TEXT,
    ".txt": _TEXT,
    ".xlsx": _WORKBOOK,
    ".xlsm": _WORKBOOK,
}
"""Every suffix geoplan reads, and what a file with it must be."""
VECTOR_SUFFIXES = tuple(s for s, k in KINDS.items() if k.driver)
TABLE_SUFFIXES = tuple(s for s, k in KINDS.items() if not k.driver)
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")
"""The members of a zipped Shapefile that are unpacked; any others stay in the archive."""
_GDAL_LOCKDOWN = {
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".geoplan-opens-no-url",
    "GDAL_HTTP_PROXY": "127.0.0.1:0",
    "GDAL_HTTPS_PROXY": "127.0.0.1:0",
    "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
    "GDAL_VRT_ENABLE_PYTHON": "NO",
    "CPL_CURL_ENABLE_VSIMEM": "NO",
}
"""GDAL's settings for files from strangers: ``/vsicurl/`` (and the cloud file systems built
on it) opens no URL; any other request GDAL would make (a CRS fetched by URL) goes to a proxy
that is not there; no folder is listed to find sibling files; no Python runs in a VRT."""
_CHUNK_ROWS = 50_000


def lock_gdal() -> None:
    """Apply :data:`_GDAL_LOCKDOWN`, process-wide (geoplan never needs GDAL's network)."""
    pyogrio.set_gdal_config_options(_GDAL_LOCKDOWN)


def file_kind(path: Path, *, name: str | None = None) -> FileKind:
    """The kind of file a name promises.

    Raises
    ------
    InputFileError
        If geoplan does not read files with that suffix.
    """
    suffix = path.suffix.lower()
    if suffix not in KINDS:
        raise InputFileError(
            f"{name or path.name}: cannot read {suffix or 'files without a suffix'}; "
            f"use {', '.join(KINDS)}"
        )
    return KINDS[suffix]


def check_signature(path: Path, kind: FileKind, *, name: str | None = None) -> None:
    """Refuse a file whose first bytes are not those its kind starts with.

    Raises
    ------
    InputFileError
        If they differ (a VRT or XML document named ``.geojson``, a zip named ``.gpkg``), or
        a text is UTF-16 or binary.
    """
    name = name or path.name
    with path.open("rb") as handle:
        head = handle.read(64)
    text = kind in (_JSON, _TEXT)
    if text and head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise _not_utf8(name, "it is UTF-16")
    start = head.removeprefix(codecs.BOM_UTF8).lstrip(b" \t\r\n") if kind is _JSON else head
    if kind.signatures and not start.startswith(kind.signatures):
        raise InputFileError(
            f"{name}: the name says {kind.name} but the content is not one (it starts with "
            f"{start[:8]!r}); save the file as {kind.name}, or name it for what it is"
        )
    if text and b"\x00" in head:
        raise _not_utf8(name, "it holds NUL bytes: UTF-16 or binary")


def _not_utf8(name: str, why: str) -> InputFileError:
    return InputFileError(f"{name}: the text is not UTF-8 ({why}); save it as UTF-8")


# --- options and results ------------------------------------------------------------------


@dataclass(frozen=True)
class SourceOptions:
    """How to read a source file.

    Parameters
    ----------
    source_layer
        Layer to read from a GeoPackage (or a zip archive) holding several.
    sheet
        Sheet to read from a workbook; the first one by default.
    lon_column, lat_column
        Coordinate columns of a table, when their names are not the usual ones.
    crs
        CRS of a table's coordinate columns (default EPSG:4326), or of a vector file that
        declares none.
    coordinates
        A column holding both coordinates in one cell ("lat, lon", a KoBo/ODK geopoint
        "lat lon alt acc", "[lat, lon]").
    coordinate_order
        Which comes first in such a cell; by default told from the values and the
        operating area (latitude first when nothing tells).
    header_row
        The row (``"N"``) or rows (``"N-M"``, joined) holding a table's column names, counted
        from 1 over non-blank rows; by default found (HXL tags, merged header rows).
    """

    source_layer: str | None = None
    sheet: str | None = None
    lon_column: str | None = None
    lat_column: str | None = None
    crs: str | None = None
    coordinates: str | None = None
    coordinate_order: CoordinateOrder | None = None
    header_row: str | None = None

    def __post_init__(self) -> None:
        if self.coordinate_order not in (None, "latlon", "lonlat"):
            msg = f"coordinate order {self.coordinate_order!r} is not latlon or lonlat"
            raise ParameterError(msg)
        if self.header_row is not None:
            parse_header_row(self.header_row)


@dataclass
class RawTable:
    """A source file's records as raw cells, with their geometry or coordinate columns.

    ``rows`` are the 1-based record numbers users see (``row 17``), and ``lines`` the line of
    each record in a text file (header and HXL tag lines counted, and every physical line of a
    multi-line cell) or its row in a sheet, when the file has lines. ``tags`` are the columns'
    HXL tags (lower case, without spaces); ``pair_column`` holds both coordinates in one cell.
    """

    file: str
    frame: pd.DataFrame
    geometry: gpd.GeoSeries | None = None
    lon_column: str | None = None
    lat_column: str | None = None
    crs: str = WGS84
    lines: list[int] | None = None
    notes: list[str] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    pair_column: str | None = None
    coordinate_order: CoordinateOrder | None = None

    @property
    def rows(self) -> range:
        """1-based record numbers."""
        return range(1, len(self.frame) + 1)


# --- reading ------------------------------------------------------------------------------


def read_source(
    path: Path,
    *,
    options: SourceOptions | None = None,
    limits: ImportLimits | None = None,
    name: str | None = None,
) -> RawTable:
    """Read a source file into a :class:`RawTable`.

    ``name`` is the file's name as its sender gave it (an upload's), for messages; by default
    the path's own.

    Raises
    ------
    InputFileError
        If the file is missing, of an unsupported kind, not what its suffix says, not UTF-8
        where it must be, or cannot be parsed.
    ImportLimitError
        If it is over one of the ``limits``.
    """
    options, limits = options or SourceOptions(), limits or ImportLimits()
    name = name or path.name
    if not path.is_file():
        raise InputFileError(f"{name}: no such file; check the path and try again")
    kind = file_kind(path, name=name)
    check_signature(path, kind, name=name)
    lock_gdal()
    if kind.driver is None:
        return _read_table(path, options, limits, name=name)
    if kind is _JSON:
        _check_size(path.stat().st_size, name, limits)
        data = _load_json(path, name=name)
        if not _is_geojson(data):
            return _read_records(data, options, limits, name=name)
    with _vector_source(path, kind, limits, name=name, layer=options.source_layer) as source:
        return _read_vector(source, options, limits)


def list_source_layers(path: Path, *, limits: ImportLimits | None = None) -> list[str]:
    """Layers inside a GeoPackage, or Shapefiles inside a zip archive.

    Raises
    ------
    InputFileError
        If the file is not what its suffix says, or cannot be read.
    """
    limits = limits or ImportLimits()
    kind = file_kind(path)
    check_signature(path, kind)
    lock_gdal()
    if path.suffix.lower() == ".zip":
        return _shapefile_names(_archive_members(path, limits, name=path.name))
    with _vector_source(path, kind, limits, name=path.name, layer=None) as source:
        return source.layers()


# --- vector files -------------------------------------------------------------------------


@dataclass(frozen=True)
class _VectorSource:
    """A vector file ready for GDAL: what to open (driver-prefixed where GDAL takes one), the
    kind it must be, the name to show and the real path (cut from GDAL's messages)."""

    target: str
    kind: FileKind
    name: str
    real: Path

    def layers(self) -> list[str]:
        try:
            return [str(n) for n, _ in pyogrio.list_layers(self.target)]
        except Exception as exc:  # pyogrio raises many kinds on a corrupt file
            raise self.unreadable(exc) from None

    def unreadable(self, exc: Exception) -> InputFileError:
        reason = without_paths(str(exc).replace(str(self.real), self.name))
        return InputFileError(f"{self.name}: not a readable spatial file ({reason})")


@contextlib.contextmanager
def _vector_source(
    path: Path, kind: FileKind, limits: ImportLimits, *, name: str, layer: str | None
) -> Iterator[_VectorSource]:
    if path.suffix.lower() != ".zip":
        _check_size(path.stat().st_size, name, limits)
        if kind is _JSON:
            _check_geojson(path, limits, name=name)
        yield _VectorSource(f"{kind.prefix}{path}", kind, name, path)
        return
    with tempfile.TemporaryDirectory(prefix="geoplan-zip-") as folder:
        shp = _unpack_shapefile(path, Path(folder), limits, name=name, layer=layer)
        check_signature(shp, _SHAPEFILE, name=f"{name}: {shp.name}")
        yield _VectorSource(str(shp), _SHAPEFILE, name, shp)


def _read_vector(source: _VectorSource, options: SourceOptions, limits: ImportLimits) -> RawTable:
    layer = _pick_layer(source, options.source_layer)
    gdf = _read_features(source, layer, limits)
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf:
        return _table_from_frame(source.name, pd.DataFrame(gdf), options, lines=None)
    notes: list[str] = []
    gdf = _to_wgs84(gdf, source.name, options, notes)
    frame = pd.DataFrame(gdf.drop(columns=gdf.geometry.name)).astype(object)
    return RawTable(file=source.name, frame=frame, geometry=gdf.geometry, notes=notes)


def _pick_layer(source: _VectorSource, wanted: str | None) -> str | None:
    if source.kind.driver != "GPKG":
        return None
    names = source.layers()
    if wanted is not None:
        if wanted not in names:
            msg = f"{source.name} has no layer {wanted!r}; its layers are: {', '.join(names)}"
            raise InputFileError(msg)
        return wanted
    if len(names) > 1:
        msg = (
            f"{source.name} holds several layers ({', '.join(names)}); name one with --source-layer"
        )
        raise InputFileError(msg)
    return names[0] if names else None


def _read_features(source: _VectorSource, layer: str | None, limits: ImportLimits) -> pd.DataFrame:
    """Every feature, read in chunks so that the row and vertex limits stop a file early (a
    GeoJSON's were counted before GDAL parsed it, and it is read in one piece)."""
    _check_driver(source, layer, limits)
    size = limits.max_rows + 1 if source.kind is _JSON else _CHUNK_ROWS
    parts: list[pd.DataFrame] = []
    read = vertices = 0
    while True:
        part = _read_chunk(source, layer, skip=read, size=size)
        vertices = _count_vertices(part, source.name, limits, first=read, total=vertices)
        read += len(part)
        if read > limits.max_rows:
            raise _over(
                source.name, "max_rows", "rows: more than", limits.max_rows, limits.max_rows
            )
        parts.append(part)
        if len(part) < size:
            break
    return parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)


def _check_driver(source: _VectorSource, layer: str | None, limits: ImportLimits) -> None:
    """Refuse a file GDAL would read with another driver than its kind's, before any feature
    is read, and one whose declared number of features is over the row limit."""
    if source.kind.prefix:  # GDAL was told the driver: it tries no other
        return
    try:
        info = pyogrio.read_info(source.target, layer=layer)
    except Exception as exc:  # as in _read_chunk
        raise source.unreadable(exc) from None
    if info["driver"] != source.kind.driver:
        raise InputFileError(
            f"{source.name}: the name says {source.kind.name} but the content is not one; "
            f"save the file as {source.kind.name}"
        )
    if info["features"] > limits.max_rows:
        raise _over(source.name, "max_rows", "rows", info["features"], limits.max_rows)


def _read_chunk(source: _VectorSource, layer: str | None, *, skip: int, size: int) -> pd.DataFrame:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # GDAL notes on odd fields
            frame: pd.DataFrame = pyogrio.read_dataframe(
                source.target, layer=layer, skip_features=skip, max_features=size
            )
            return frame
    except UnicodeDecodeError as exc:
        raise InputFileError(
            f"{source.name}: text is not in the encoding the file declares ({exc.reason} at "
            f"byte {exc.start}); save it as UTF-8 (a Shapefile with a .cpg saying UTF-8)"
        ) from None
    except Exception as exc:  # pyogrio raises many kinds on a corrupt file (IndexError too)
        raise source.unreadable(exc) from None


def _count_vertices(
    part: pd.DataFrame, name: str, limits: ImportLimits, *, first: int, total: int
) -> int:
    """``total`` plus the chunk's vertices; the first geometry over a limit is refused."""
    if not isinstance(part, gpd.GeoDataFrame) or part.empty:
        return total
    counts = shapely.get_num_coordinates(part.geometry.values)
    biggest = int(counts.argmax())
    if counts[biggest] > limits.max_vertices:
        what = f"row {first + biggest + 1}: vertices in one geometry"
        raise _over(name, "max_vertices", what, counts[biggest], limits.max_vertices)
    total += int(counts.sum())
    if total > limits.max_total_vertices:
        limit = limits.max_total_vertices
        raise _over(name, "max_total_vertices", "vertices: more than", limit, limit)
    return total


def _check_size(size: int, name: str, limits: ImportLimits) -> None:
    if size > limits.max_bytes:
        raise _over(name, "max_bytes", "bytes", size, limits.max_bytes)


def _to_wgs84(
    gdf: gpd.GeoDataFrame, name: str, options: SourceOptions, notes: list[str]
) -> gpd.GeoDataFrame:
    if gdf.crs is None:
        declared = options.crs or WGS84
        notes.append(f"{name} declares no CRS; read as {declared}")
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


# --- GeoJSON, checked before GDAL parses it -------------------------------------------------


class _LinkError(ValueError):
    """A GeoJSON member GDAL would follow to another document, or an ambiguous one."""


def _check_geojson(path: Path, limits: ImportLimits, *, name: str) -> None:
    """Parse the file once in Python: it must be UTF-8 JSON, no ``crs`` may link to another
    document (GDAL would fetch it), and its rows and vertices must be within the limits."""
    features = _features(_load_json(path, name=name))
    if len(features) > limits.max_rows:
        raise _over(name, "max_rows", "rows", len(features), limits.max_rows)
    total = 0
    for row, feature in enumerate(features, start=1):
        count = _positions(feature.get("geometry") if isinstance(feature, dict) else None)
        if count > limits.max_vertices:
            what = f"row {row}: vertices in one geometry"
            raise _over(name, "max_vertices", what, count, limits.max_vertices)
        total += count
        if total > limits.max_total_vertices:
            limit = limits.max_total_vertices
            raise _over(name, "max_total_vertices", "vertices: more than", limit, limit)


def _load_json(path: Path, *, name: str) -> object:
    try:
        return json.loads(path.read_bytes(), object_pairs_hook=_json_object)
    except UnicodeDecodeError as exc:
        raise InputFileError(
            f"{name}: the text is not UTF-8 (byte 0x{exc.object[exc.start]:02x} at position "
            f"{exc.start} is {exc.reason}); JSON must be UTF-8: save it as UTF-8"
        ) from None
    except _LinkError as exc:
        raise InputFileError(
            f"{name}: {exc}; geoplan follows no links in files: remove the crs member "
            "(GeoJSON is WGS84) or give the CRS with --crs"
        ) from None
    except (json.JSONDecodeError, RecursionError) as exc:
        raise InputFileError(f"{name}: not a readable spatial file (not JSON: {exc})") from None


def _json_object(pairs: list[tuple[str, object]]) -> dict[str, object]:
    if sum(key.lower() == "type" for key, _ in pairs) > 1:
        raise _LinkError("an object has its type member twice")
    for key, value in pairs:
        if key.lower() == "crs" and value is not None and not _named_crs(value):
            raise _LinkError("its crs is not a plain name (a link or a URL to fetch)")
    return dict(pairs)


def _named_crs(value: object) -> bool:
    if not isinstance(value, dict):
        return False
    kind = [v for k, v in value.items() if k.lower() == "type"]
    props = [v for k, v in value.items() if k.lower() == "properties"]
    return (
        kind in (["name"], ["Name"], ["NAME"])
        and len(props) == 1
        and isinstance(props[0], dict)
        and all(isinstance(v, str) for v in props[0].values())
    )


def _features(data: object) -> list[object]:
    if isinstance(data, list):
        return data
    if not isinstance(data, dict):
        return []
    features = data.get("features")
    if isinstance(features, list):
        return features
    if data.get("type") == "Feature":
        return [data]
    return [{"geometry": data}] if "coordinates" in data or "geometries" in data else []


def _positions(geometry: object) -> int:
    """The vertices of a GeoJSON geometry, counted without building it."""
    stack: list[object] = [geometry]
    count = 0
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item[k] for k in ("coordinates", "geometries") if k in item)
        elif isinstance(item, list) and item:
            if isinstance(item[0], int | float):
                count += 1
            else:
                stack.extend(item)
    return count


# --- JSON records (IOM-style arrays, ODK Central OData) -----------------------------------

_GEOJSON_TYPES = frozenset(
    {
        "FeatureCollection",
        "Feature",
        "Point",
        "MultiPoint",
        "LineString",
        "MultiLineString",
        "Polygon",
        "MultiPolygon",
        "GeometryCollection",
    }
)
_RECORD_LISTS = ("value", "records", "data", "results", "items", "rows")
"""Members that hold the records of a JSON object (``value`` is OData's, ODK Central's)."""


def _is_geojson(data: object) -> bool:
    return isinstance(data, dict) and data.get("type") in _GEOJSON_TYPES


def _read_records(
    data: object, options: SourceOptions, limits: ImportLimits, *, name: str
) -> RawTable:
    """A JSON array of records, or an object holding one (OData's ``value``): nested groups
    flattened into columns named by their path (``meta/instanceID``), a GeoJSON geopoint
    member taken as the record's geometry, coordinate members found as in a table."""
    records = _record_list(data, name=name)
    if len(records) > limits.max_rows:
        raise _over(name, "max_rows", "rows", len(records), limits.max_rows)
    flat = [_flatten(r) for r in records]
    columns = list(dict.fromkeys(k for r in flat for k in r))
    frame = pd.DataFrame([[r.get(c) for c in columns] for r in flat], columns=columns, dtype=object)
    points = [c for c in columns if any(_geopoint(v) is not None for v in frame[c])]
    if len(points) != 1 or options.lon_column or options.coordinates:
        return _table_from_frame(name, frame, options, lines=None)
    geometry = gpd.GeoSeries([_geopoint(v) for v in frame[points[0]]], crs=WGS84)
    notes = [f"{name}: positions taken from the GeoJSON points in {points[0]!r}"]
    frame = frame.drop(columns=points)
    return RawTable(file=name, frame=frame, geometry=geometry, notes=notes)


def _record_list(data: object, *, name: str) -> list[dict[str, object]]:
    if isinstance(data, dict):
        lists = [k for k in _RECORD_LISTS if isinstance(data.get(k), list)]
        data = data[lists[0]] if lists else None
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise InputFileError(
            f"{name}: not a readable spatial file: JSON must be GeoJSON, an array of records "
            "(objects), or an object holding one in 'value' (OData, ODK Central) or 'records'"
        )
    return data


def _flatten(record: dict[str, object], prefix: str = "") -> dict[str, object]:
    """Nested objects as path-named columns; a GeoJSON geometry kept whole; lists of values
    joined with ", " (a KoBo ``_geolocation`` becomes "lat, lon")."""
    out: dict[str, object] = {}
    for key, value in record.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and not _is_geojson(value):
            out.update(_flatten(value, f"{path}/"))
        elif isinstance(value, list):
            simple = all(
                isinstance(v, str | int | float) and not isinstance(v, bool) for v in value
            )
            out[path] = ", ".join(map(str, value)) if simple else None
        else:
            out[path] = value
    return out


def _geopoint(value: object) -> shapely.Point | None:
    """A GeoJSON Point member (ODK Central's geopoints) as a 2D point."""
    if not isinstance(value, dict) or value.get("type") != "Point":
        return None
    coords = value.get("coordinates")
    if not isinstance(coords, list) or len(coords) < 2:
        return None
    lon, lat = coords[0], coords[1]
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (lon, lat)):
        return None
    return shapely.Point(float(lon), float(lat))


# --- zip archives, unpacked by geoplan ------------------------------------------------------


def _archive_members(path: Path, limits: ImportLimits, *, name: str) -> list[zipfile.ZipInfo]:
    """The archive's members, once their declared sizes are within the limits."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        reason = without_paths(str(exc))
        raise InputFileError(f"{name}: not a readable zip archive ({reason})") from None
    _check_packed(sum(m.file_size for m in members), path.stat().st_size, name, limits)
    return members


def _check_packed(unpacked: int, packed: int, name: str, limits: ImportLimits) -> None:
    _check_size(unpacked, f"{name} (unpacked)", limits)
    ratio = unpacked / max(packed, 1)
    if unpacked > RATIO_FREE_BYTES and ratio > limits.max_ratio:
        raise _over(name, "max_ratio", "compression ratio", ratio, limits.max_ratio)


def _shapefile_names(members: list[zipfile.ZipInfo]) -> list[str]:
    names = (Path(m.filename) for m in members)
    return sorted(p.stem for p in names if p.suffix.lower() == ".shp")


def _unpack_shapefile(
    path: Path, folder: Path, limits: ImportLimits, *, name: str, layer: str | None
) -> Path:
    """Unpack one Shapefile's parts into ``folder``, counting the bytes as they are written;
    returns its ``.shp``."""
    members = _archive_members(path, limits, name=name)
    layers = _shapefile_names(members)
    if not layers:
        raise InputFileError(
            f"{name} holds no Shapefile (.shp); zip a Shapefile's .shp, .shx, .dbf and .prj"
        )
    if layer is not None and layer not in layers:
        raise InputFileError(f"{name} has no layer {layer!r}; its layers are: {', '.join(layers)}")
    chosen = layer or layers[0]
    parts = [
        m
        for m in members
        if Path(m.filename).stem == chosen and Path(m.filename).suffix.lower() in SHAPEFILE_PARTS
    ]
    packed = path.stat().st_size
    with zipfile.ZipFile(path) as archive:
        written = 0
        for member in parts:
            written = _unpack(archive, member, folder / Path(member.filename).name, written)
            _check_packed(written, packed, name, limits)
    return next(
        folder / Path(m.filename).name for m in parts if m.filename.lower().endswith(".shp")
    )


def _unpack(archive: zipfile.ZipFile, member: zipfile.ZipInfo, target: Path, written: int) -> int:
    """Copy one member out; Python's zipfile stops at the declared size (and checks the CRC),
    so that a member cannot write more than the limits were checked against."""
    try:
        with archive.open(member) as source, target.open("xb") as out:
            while chunk := source.read(MB):
                written += len(chunk)
                out.write(chunk)
    except FileExistsError:
        raise InputFileError(f"the archive holds {target.name} twice; keep one") from None
    except (zipfile.BadZipFile, EOFError, NotImplementedError) as exc:
        raise InputFileError(f"a damaged zip archive ({without_paths(str(exc))})") from None
    return written


# --- tables -------------------------------------------------------------------------------

HEADER_SEARCH_ROWS = 5
"""An HXL tag row is looked for on this many first lines of a table."""
_HXL_TAG = re.compile(r"#[A-Za-z][A-Za-z0-9_]*(\s*\+\s*[A-Za-z][A-Za-z0-9_]*)*")
_Records = list[list[object]]


def _read_table(path: Path, options: SourceOptions, limits: ImportLimits, *, name: str) -> RawTable:
    """A CSV or workbook sheet: its header found (HXL tags, super-headers, merged header rows,
    ``--header-row``), its records below it, each with the physical line it starts on."""
    budget = limits.max_rows + HEADER_SEARCH_ROWS + 1
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        _archive_members(path, limits, name=name)  # a workbook is a zip archive of XML
        records, lines = _workbook_records(path, options.sheet, budget, name=name)
    else:
        _check_size(path.stat().st_size, name, limits)
        records, lines = _csv_records(path, budget, name=name)
    header = _find_header(records, options.header_row, name=name)
    body, body_lines = records[header.rows :], lines[header.rows :]
    if len(body) > limits.max_rows:
        raise _over(name, "max_rows", "rows: more than", limits.max_rows, limits.max_rows)
    frame = _frame_from_records(body, header.columns, name=name, lines=body_lines)
    table = _table_from_frame(name, frame, options, lines=body_lines, tags=header.tags)
    table.notes.extend(header.notes)
    return table


def _csv_records(path: Path, budget: int, *, name: str) -> tuple[_Records, list[int]]:
    """The non-blank records of a text table and the physical line each starts on, counting
    the lines inside quoted multi-line cells."""
    text = _decode(path, name)
    try:
        sep = csv.Sniffer().sniff(text[:20000], delimiters=",;\t|").delimiter
    except csv.Error:
        sep = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    records: _Records = []
    lines: list[int] = []
    start = 1
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                records.append(list(row))
                lines.append(start)
                if len(records) > budget:
                    break
            start = reader.line_num + 1
    except csv.Error as exc:
        raise InputFileError(
            f"{name}: not a readable CSV file (line {reader.line_num}: {exc})"
        ) from None
    return records, lines


def _decode(path: Path, name: str) -> str:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InputFileError(f"{name}: text is neither UTF-8 nor Windows-1252; save it as UTF-8")


def _workbook_records(
    path: Path, sheet: str | None, budget: int, *, name: str
) -> tuple[_Records, list[int]]:
    """The non-blank rows of a sheet (read streaming) and their row numbers."""
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a corrupt workbook
        reason = without_paths(str(exc))
        raise InputFileError(f"{name}: not a readable workbook ({reason})") from None
    try:
        if sheet is not None and sheet not in book.sheetnames:
            sheets = ", ".join(book.sheetnames)
            raise InputFileError(
                f"{name}: there is no sheet {sheet!r} (sheets: {sheets}); name the sheet with --sheet"
            )
        ws = book[sheet] if sheet is not None else book.worksheets[0]
        return _sheet_rows(ws, budget)
    finally:
        book.close()


def _sheet_rows(ws: object, budget: int) -> tuple[_Records, list[int]]:
    records: _Records = []
    lines: list[int] = []
    for number, row in enumerate(ws.iter_rows(values_only=True), start=1):  # type: ignore[attr-defined]
        cells = [_cell(v) for v in row]
        if any(not _blank(c) for c in cells):
            records.append(cells)
            lines.append(number)
            if len(records) > budget:
                break
    return records, lines


def _cell(value: object) -> object:
    """A workbook cell as pandas' reader gives it: whole floats as ints, empty as None."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


@dataclass(frozen=True)
class _Header:
    """Where a table's records start, their column names and HXL tags."""

    rows: int
    columns: list[str]
    tags: dict[str, str]
    notes: tuple[str, ...] = ()


def parse_header_row(text: str) -> tuple[int, int]:
    """``"N"`` or ``"N-M"`` (1-based, counting non-blank rows) as a 0-based inclusive range.

    Raises
    ------
    ParameterError
        If the text is neither.
    """
    first, _, last = text.partition("-")
    try:
        start, end = int(first), int(last or first)
    except ValueError:
        start = end = 0
    if not 1 <= start <= end:
        raise ParameterError(
            f"header row {text!r} is not N or N-M (row numbers from 1, N at most M), "
            "for example --header-row 3 or --header-row 2-3"
        )
    return start - 1, end - 1


def _find_header(records: _Records, header_row: str | None, *, name: str) -> _Header:
    if not records:
        raise InputFileError(f"{name}: the table is empty; it needs a header row of column names")
    tag_at = next((i for i, r in enumerate(records[:HEADER_SEARCH_ROWS]) if _is_hxl_row(r)), None)
    if header_row is not None:
        start, end = parse_header_row(header_row)
        if end >= len(records):
            raise InputFileError(f"{name}: header row {end + 1} is past the table's last row")
    elif tag_at is not None:
        start, end = 0, tag_at - 1
    else:
        start = _leading_titles(records)
        end = start + _merged_header_end(records[start:])
    block = records[start : end + 1]
    width = max((len(r) for r in block), default=0)
    names = _joined_names([r for r in block[:-1] if not _is_title(r, width)] + block[-1:])
    body = end + 1
    tags: list[str] = []
    if tag_at is not None and tag_at >= body:
        tags, body = [_tag_text(c) for c in records[tag_at]], tag_at + 1
    columns = _unique([_column_name(names, tags, i) for i in range(max(len(names), len(tags)))])
    hxl = {c: tags[i] for i, c in enumerate(columns) if i < len(tags) and tags[i]}
    joined = f"{name}: column names joined from header rows {start + 1}-{end + 1}"
    return _Header(body, columns, hxl, (joined,) if end > start else ())


def _leading_titles(records: _Records) -> int:
    """Rows above the header holding one cell (a title) while the row below holds more."""
    count = 0
    while count < HEADER_SEARCH_ROWS - 1 and count + 1 < len(records):
        here, below = (sum(not _blank(c) for c in records[count + i]) for i in (0, 1))
        if here != 1 or below < 2:
            break
        count += 1
    return count


def _is_hxl_row(row: list[object]) -> bool:
    cells = [str(c).strip() for c in row if not _blank(c)]
    return bool(cells) and all(_HXL_TAG.fullmatch(c) for c in cells)


def _tag_text(cell: object) -> str:
    return "" if _blank(cell) else re.sub(r"\s+", "", str(cell)).lower()


def _is_title(row: list[object], width: int) -> bool:
    """A row above the column names with one cell in a wide table: a title."""
    return sum(not _blank(c) for c in row) == 1 and width > 2 and not _blank(row[0])


def _merged_header_end(records: _Records) -> int:
    """The last header row: the first, or the second when the first has gaps (cells merged
    across the columns below) that the second fills with names, as in "People" over "Men",
    "Women"."""
    if len(records) < 3:
        return 0
    top, below = records[0], records[1]
    filled = [i for i, c in enumerate(top) if not _blank(c)]
    gaps = [i for i in range(filled[0] + 1, len(below)) if i >= len(top) or _blank(top[i])]
    named = all(i < len(below) and _is_label(below[i]) for i in gaps)
    labels = all(_is_label(c) or _blank(c) for c in below)
    return 1 if gaps and named and labels else 0


def _is_label(value: object) -> bool:
    if not isinstance(value, str) or not value.strip():
        return False
    try:
        float(value.replace(",", "."))
    except ValueError:
        return True
    return False


def _joined_names(rows: _Records) -> list[str]:
    """One name per column: the header rows' cells joined with " / ", a super-header's cell
    carried over the empty cells to its right (a merged cell)."""
    width = max((len(r) for r in rows), default=0)
    parts: list[list[str]] = [[] for _ in range(width)]
    for depth, row in enumerate(rows):
        carried = ""
        for i in range(width):
            cell = "" if i >= len(row) or _blank(row[i]) else str(row[i]).strip()
            if depth < len(rows) - 1:
                carried = cell or carried
                cell = carried
            if cell and (not parts[i] or parts[i][-1] != cell):
                parts[i].append(cell)
    return [" / ".join(p) for p in parts]


def _column_name(names: list[str], tags: list[str], i: int) -> str:
    name = names[i] if i < len(names) else ""
    tag = tags[i] if i < len(tags) else ""
    return name or tag or f"column {i + 1}"


def _unique(names: list[str]) -> list[str]:
    """Repeated names made unique as pandas does (``Affected``, ``Affected.1``)."""
    seen: dict[str, int] = {}
    out = []
    for n in names:
        count = seen.get(n, 0)
        seen[n] = count + 1
        out.append(n if count == 0 else f"{n}.{count}")
    return out


def _frame_from_records(
    records: _Records, columns: list[str], *, name: str, lines: list[int]
) -> pd.DataFrame:
    width = len(columns)
    for record, line in zip(records, lines, strict=True):
        if len(record) > width and any(not _blank(c) for c in record[width:]):
            raise InputFileError(
                f"{name}: line {line} has {len(record)} cells but the header names {width} "
                "columns; remove the extra cells or add a column name"
            )
    rows = [(r + [""] * width)[:width] for r in records]
    return pd.DataFrame(rows, columns=columns, dtype=object)


def _table_from_frame(
    name: str,
    frame: pd.DataFrame,
    options: SourceOptions,
    *,
    lines: list[int] | None,
    tags: dict[str, str] | None = None,
) -> RawTable:
    tags = tags or {}
    pair = options.coordinates or (
        None if options.lon_column or options.lat_column else _find_pair(frame, tags)
    )
    lon = options.lon_column or (
        None if pair else _find_column(frame, tags, LON_NAMES, "longitude")
    )
    lat = options.lat_column or (None if pair else _find_column(frame, tags, LAT_NAMES, "latitude"))
    for column in (lon, lat, pair):
        if column is not None and column not in frame.columns:
            cols = ", ".join(map(str, frame.columns))
            raise InputFileError(f"{name} has no column {column!r}; its columns are: {cols}")
    crs = _crs(options.crs).to_string() if options.crs else WGS84
    return RawTable(
        name,
        frame,
        lon_column=lon,
        lat_column=lat,
        crs=crs,
        lines=lines,
        tags=tags,
        pair_column=pair,
        coordinate_order=options.coordinate_order,
    )


def _find_column(
    frame: pd.DataFrame, tags: dict[str, str], names: tuple[str, ...], suffix: str
) -> str | None:
    for column in frame.columns:
        last = str(column).rsplit(" / ", 1)[-1]  # a joined header's own name
        for label in (str(column), last, tags.get(str(column), "")):
            key = re.sub(r"[#+\s-]+", "_", label.strip().lower()).strip("_")
            if key in names or key.endswith(f"_{suffix}"):
                return str(column)
    return None


def _find_pair(frame: pd.DataFrame, tags: dict[str, str]) -> str | None:
    """A column holding both coordinates, used when no split columns exist: KoBo's
    ``_geolocation`` ("[lat, lon]") or an HXL ``#geo+coord``."""
    if _find_column(frame, tags, LON_NAMES, "longitude") and _find_column(
        frame, tags, LAT_NAMES, "latitude"
    ):
        return None
    for column in frame.columns:
        key = str(column).strip().lower()
        named = key in PAIR_NAMES or re.search(r"co+r?di?nates", key)  # IOM's "coodinates"
        if named or tags.get(str(column), "").startswith("#geo+coord"):
            return str(column)
    return None
