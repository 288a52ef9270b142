"""Offline base maps: the roads, water, coast, place names and boundaries that a map draws
under its data, so that it reads without internet and without asking a tile server.

A base map is a list of GeoJSON features, each with a ``kind`` (``land``, ``water``,
``coast``, ``road``, ``boundary``, ``place``), a ``cls`` (the road class, the kind of place)
and a ``name``; plus its attribution. It comes from:

- an OpenStreetMap extract (``.osm.pbf``, ``.osm``, ``.osm.bz2``; the file given for roads, or
  one given for the background alone): :func:`basemap_from_osm`, cached on disk by the file's
  content like the road network;
- a GeoJSON file of such features (the demo ships one): :func:`read_basemap`.

:func:`fit_basemap` clips it to the data (with a margin) and simplifies it until it fits a
byte budget, dropping the smallest roads first, so that a map stays well under 5 MB.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import osmium
import shapely
from shapely.geometry import mapping, shape

from geoplan.errors import InputFileError
from geoplan.outputs import write_text
from geoplan.travel.roads import OSM_SUFFIXES, default_cache_dir, file_digest

OSM_ATTRIBUTION = "\u00a9 OpenStreetMap contributors (ODbL)"
ROAD_CLASSES: Mapping[str, int] = {
    "motorway": 0,
    "trunk": 0,
    "primary": 1,
    "secondary": 2,
    "tertiary": 3,
    "motorway_link": 3,
    "trunk_link": 3,
    "primary_link": 3,
    "secondary_link": 4,
    "tertiary_link": 4,
    "unclassified": 4,
    "residential": 5,
    "living_street": 5,
    "service": 6,
    "track": 6,
}
"""Road classes drawn, by rank: 0 (motorways, trunk roads) to 6 (service roads, tracks).
The lowest ranks are dropped first when a base map is too big."""
PLACE_RANKS: Mapping[str, int] = {
    "city": 0,
    "town": 1,
    "suburb": 2,
    "village": 2,
    "quarter": 3,
    "hamlet": 3,
    "neighbourhood": 4,
}
"""Place names drawn, by rank (the map shows the smaller ones as you zoom in)."""
_WATER_TAGS = {("natural", "water"), ("waterway", "riverbank"), ("landuse", "reservoir")}
_CACHE_VERSION = "basemap-1"
BASEMAP_BUDGET = 1_500_000
"""Bytes of GeoJSON a base map may add to a map by default."""


@dataclass(frozen=True)
class BaseMap:
    """Background features for a map (GeoJSON, longitude/latitude) and whose data they are."""

    features: tuple[dict[str, object], ...]
    attribution: str
    source: str = ""

    @property
    def has_land(self) -> bool:
        """Whether land is drawn as areas (then the background is the sea)."""
        return any(_kind(f) == "land" for f in self.features)

    def count(self, kind: str) -> int:
        """How many features of a kind (``road``, ``place``, ...)."""
        return sum(1 for f in self.features if _kind(f) == kind)

    def to_geojson(self) -> dict[str, object]:
        """A FeatureCollection with the attribution, as :func:`read_basemap` reads it."""
        return {
            "type": "FeatureCollection",
            "attribution": self.attribution,
            "features": list(self.features),
        }

    def size(self) -> int:
        """Bytes the features take as compact JSON."""
        return len(json.dumps(list(self.features), separators=(",", ":"), ensure_ascii=False))


def feature_kind(f: Mapping[str, object]) -> str:
    """The ``kind`` of a base-map feature (``road``, ``land``, ...)."""
    return _kind(f)


def _kind(f: Mapping[str, object]) -> str:
    props = f.get("properties")
    return str(props.get("kind")) if isinstance(props, Mapping) else ""


def basemap_feature(
    geometry: shapely.Geometry, kind: str, *, cls: str = "", name: str = "", rank: int = 0
) -> dict[str, object]:
    """One base-map feature."""
    props: dict[str, object] = {"kind": kind, "cls": cls, "name": name, "rank": rank}
    return {"type": "Feature", "geometry": _rounded(mapping(geometry)), "properties": props}


# --- reading ----------------------------------------------------------------------------------


def read_basemap(path: Path, *, cache_dir: Path | None = None) -> BaseMap:
    """A base map from a GeoJSON file of base-map features or from an OpenStreetMap extract.

    Raises
    ------
    InputFileError
        If the file is missing, of another kind, or not readable as one.
    """
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"basemap: file {path.name} does not exist; check the path.")
    name = path.name.lower()
    if name.endswith(OSM_SUFFIXES):
        return basemap_from_osm(path, cache_dir=cache_dir)
    if name.endswith((".geojson", ".json")):
        return _read_geojson(path)
    raise InputFileError(
        f"basemap: expected an OpenStreetMap extract ({', '.join(OSM_SUFFIXES)}) or a GeoJSON "
        f"base map, got {path.name}."
    )


def _read_geojson(path: Path) -> BaseMap:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputFileError(f"basemap: {path.name} is not valid GeoJSON ({exc}).") from exc
    features = data.get("features") if isinstance(data, dict) else None
    if not isinstance(features, list):
        raise InputFileError(f"basemap: {path.name} has no 'features' list; is it GeoJSON?")
    for i, f in enumerate(features):
        if (
            not isinstance(f, dict)
            or _kind(f) not in KINDS
            or not isinstance(f.get("geometry"), dict)
        ):
            raise InputFileError(
                f"basemap: {path.name}, feature {i + 1}: expected a geometry and a 'kind' of "
                f"{', '.join(KINDS)}, got {str(f)[:80]!r}."
            )
    attribution = str(data.get("attribution") or "")
    return BaseMap(tuple(features), attribution, source=path.name)


KINDS = ("land", "water", "coast", "road", "boundary", "place")


def basemap_from_osm(path: Path, *, cache_dir: Path | None = None) -> BaseMap:
    """Roads by class, water, coastline and place names from an OpenStreetMap extract;
    cached on disk by the file's content (the second map from the same file reads the cache).
    """
    folder = cache_dir or default_cache_dir()
    key = hashlib.sha256(f"{_CACHE_VERSION}:{file_digest(path)}".encode()).hexdigest()[:20]
    cache = folder / f"basemap-{key}.geojson"
    if cache.is_file():
        try:
            return replace(_read_geojson(cache), source=path.name)
        except InputFileError:
            pass  # a damaged cache is rebuilt
    built = BaseMap(tuple(_osm_features(path)), OSM_ATTRIBUTION, source=path.name)
    write_text(cache, json.dumps(built.to_geojson(), separators=(",", ":"), ensure_ascii=False))
    return built


def _osm_features(path: Path) -> Iterable[dict[str, object]]:
    processor = osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY).with_locations()
    try:
        for obj in processor:
            made = _osm_feature(obj)
            if made is not None:
                yield made
    except RuntimeError as exc:
        msg = f"basemap: cannot read {path.name} as OpenStreetMap data ({exc}); is it complete?"
        raise InputFileError(msg) from exc


def _osm_feature(obj: object) -> dict[str, object] | None:
    if isinstance(obj, osmium.osm.Node):
        return _place(obj)
    if isinstance(obj, osmium.osm.Way):
        return _way(obj)
    return None


def _place(node: osmium.osm.Node) -> dict[str, object] | None:
    """A named place (city, town, village, ...)."""
    tags = node.tags
    place, name = tags.get("place") or "", tags.get("name:en") or tags.get("name")
    if place not in PLACE_RANKS or not name or not node.location.valid():
        return None
    point = shapely.Point(round(node.lon, 5), round(node.lat, 5))
    return basemap_feature(point, "place", cls=place, name=name, rank=PLACE_RANKS[place])


def _way(way: osmium.osm.Way) -> dict[str, object] | None:
    """A road by class, a stretch of coastline, a lake or a river."""
    tags = {t.k: t.v for t in way.tags}
    coords = [(n.lon, n.lat) for n in way.nodes if n.location.valid()]
    if len(coords) < 2:
        return None
    line, name = shapely.LineString(coords), tags.get("name", "")
    highway = tags.get("highway", "")
    made = None
    if highway in ROAD_CLASSES and tags.get("area") != "yes":
        made = basemap_feature(line, "road", cls=highway, name=name, rank=ROAD_CLASSES[highway])
    elif tags.get("natural") == "coastline":
        made = basemap_feature(line, "coast")
    elif any(tags.get(k) == v for k, v in _WATER_TAGS) and len(coords) >= 4 and way.is_closed():
        made = basemap_feature(shapely.Polygon(coords), "water", name=name)
    elif tags.get("waterway") in ("river", "canal"):
        made = basemap_feature(line, "water", cls=tags["waterway"], name=name)
    return made


# --- fitting to a map -------------------------------------------------------------------------


def fit_basemap(
    basemap: BaseMap,
    bounds: Sequence[float] | None,
    *,
    budget: int = BASEMAP_BUDGET,
    margin: float = 0.25,
) -> BaseMap:
    """The base map clipped to ``bounds`` (west, south, east, north) grown by ``margin`` of
    its size each way, simplified to about a pixel at the zoom that shows it all, and with the
    smallest road classes dropped until it fits ``budget`` bytes."""
    features = list(basemap.features)
    tolerance = 0.0
    if bounds is not None:
        west, south, east, north = bounds
        dx, dy = max(east - west, 0.01) * margin, max(north - south, 0.01) * margin
        box = shapely.box(west - dx, south - dy, east + dx, north + dy)
        features = [f for f in (_clip(f, box) for f in features) if f is not None]
        tolerance = max(east - west + 2 * dx, north - south + 2 * dy) / 4000
    rank = max(ROAD_CLASSES.values())
    while True:
        kept = [_simplify(f, tolerance) for f in features if _keep(f, rank)]
        fitted = replace(basemap, features=tuple(kept))
        if fitted.size() <= budget or rank < 0:
            return fitted
        rank -= 1
        tolerance *= 1.6 if tolerance else 1


def _keep(f: Mapping[str, object], road_rank: int) -> bool:
    props = f["properties"]
    assert isinstance(props, Mapping)
    return props.get("kind") != "road" or int(str(props.get("rank", 0))) <= road_rank


def _clip(f: dict[str, object], box: shapely.Polygon) -> dict[str, object] | None:
    geom = shape(f["geometry"])
    if not geom.intersects(box):
        return None
    if box.contains(geom):
        return f
    cut = geom.intersection(box)
    if cut.is_empty:
        return None
    return {**f, "geometry": mapping(cut)}


def _simplify(f: dict[str, object], tolerance: float) -> dict[str, object]:
    geom = shape(f["geometry"])
    if tolerance <= 0 or geom.geom_type == "Point":
        return {**f, "geometry": _rounded(mapping(geom))}
    return {**f, "geometry": _rounded(mapping(geom.simplify(tolerance, preserve_topology=True)))}


def _rounded(geometry: Mapping[str, object]) -> dict[str, object]:
    """Coordinates to 5 decimals (about a metre), which halves the JSON."""

    def walk(value: object) -> object:
        if isinstance(value, float):
            return round(value, 5)
        if isinstance(value, list | tuple):
            return [walk(v) for v in value]
        return value

    return {k: walk(v) for k, v in geometry.items()}


def bounds_of(coords: Iterable[tuple[float, float]]) -> tuple[float, float, float, float] | None:
    """West, south, east, north of (lon, lat) pairs; None when there are none."""
    xs, ys = [], []
    for x, y in coords:
        if math.isfinite(x) and math.isfinite(y):
            xs.append(x)
            ys.append(y)
    if not xs:
        return None
    return min(xs), min(ys), max(xs), max(ys)
