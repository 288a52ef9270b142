"""The layer catalog: declarative layer definitions read from ``layers/*.toml``.

Validation, the store's schema and the layer reference in ``layers/README.md`` all come from
these definitions, so adding a field to a layer is an edit in ``layers/`` and nothing else.
Each field type is parsed in exactly one place, :func:`parse_value`.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import os
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

from geoplan.errors import CatalogError, UnknownLayerError
from geoplan.spreadsheets import read_clock, read_days
from geoplan.vocab import Weekday

FIELD_TYPES = ("string", "integer", "number", "boolean", "date", "time", "enum", "enum_list")
GEOMETRY_TYPES = ("Point", "Polygon", "None")
SENSITIVITY_LEVELS = ("public", "low", "medium", "high")
SITE_LAYERS = ("gathering_points", "detention_centres", "clinics", "cip_sites")
LIST_SEPARATORS = re.compile(r"[,;|]")
MAX_WHOLE = 2**53 - 1
"""The largest whole number a count may hold: beyond it, JSON clients, spreadsheets and
floating point lose digits (and the GeoPackage's 64-bit integers overflow soon after)."""
FIRST_YEAR, LAST_YEAR = 1900, 2199
"""Dates outside these years are refused: a typo (2263 for 2026), and beyond what the
tables' clocks (pandas' nanosecond timestamps, 1677-2262) can hold."""
_WEEKDAYS = frozenset(Weekday)
_TRUE = {"true", "yes", "y", "1", "t"}
_FALSE = {"false", "no", "n", "0", "f"}

Value = str | int | float | bool | dt.date | tuple[str, ...] | None
_N = TypeVar("_N", int, float)


@dataclass(frozen=True)
class FieldDef:
    """One field of a layer: its type, whether it is required, and what values it allows."""

    name: str
    type: str
    description: str = ""
    required: bool = False
    allowed: tuple[str, ...] = ()
    default: Value = None
    unit: str = ""
    pattern: str = ""
    min: float | None = None
    max: float | None = None
    part_of: str = ""
    after: str = ""
    references: tuple[str, ...] = ()
    not_future: bool = False
    hxl: tuple[str, ...] = ()
    """HXL tag specs that fill the field, most specific first (:mod:`geoplan.hxl`)."""

    def __post_init__(self) -> None:
        if self.type not in FIELD_TYPES:
            msg = f"field {self.name!r}: type {self.type!r} is not one of {', '.join(FIELD_TYPES)}"
            raise CatalogError(msg)
        if self.type in ("enum", "enum_list") and not self.allowed:
            raise CatalogError(f"field {self.name!r}: an {self.type} needs `allowed` values")

    @property
    def sql_type(self) -> str:
        """Column type in the GeoPackage."""
        return _SQL_TYPES[self.type]


@dataclass(frozen=True)
class LayerDef:
    """One layer of the catalog."""

    name: str
    title: str
    description: str
    geometry: str
    id_field: str
    sensitivity: str
    fields: tuple[FieldDef, ...]
    sensitivity_note: str = ""
    optional: bool = False
    roles: Mapping[str, str] | None = None

    def __post_init__(self) -> None:
        if self.geometry not in GEOMETRY_TYPES:
            raise CatalogError(f"layer {self.name!r}: geometry {self.geometry!r} is not supported")
        if self.sensitivity not in SENSITIVITY_LEVELS:
            raise CatalogError(f"layer {self.name!r}: unknown sensitivity {self.sensitivity!r}")
        names = [f.name for f in self.fields]
        if self.id_field not in names:
            raise CatalogError(f"layer {self.name!r}: id field {self.id_field!r} is not a field")
        if len(set(names)) != len(names):
            raise CatalogError(f"layer {self.name!r}: a field is defined twice")

    @property
    def has_geometry(self) -> bool:
        """Whether rows carry a geometry (visits do not)."""
        return self.geometry != "None"

    @property
    def field_names(self) -> tuple[str, ...]:
        """Field names in definition order."""
        return tuple(f.name for f in self.fields)

    def field(self, name: str) -> FieldDef:
        """The definition of one field."""
        for f in self.fields:
            if f.name == name:
                return f
        raise CatalogError(f"layer {self.name!r} has no field {name!r}")

    def role(self, role: str) -> str | None:
        """The field that plays a role (``people``, ``frequency``, ...), if any."""
        return (self.roles or {}).get(role)


def layers_dir() -> Path:
    """Folder of the layer definitions: ``GEOPLAN_LAYERS_DIR``, the installed copy, or ``layers/``."""
    if env := os.environ.get("GEOPLAN_LAYERS_DIR"):
        return Path(env)
    installed = Path(__file__).resolve().parent / "_layers"
    return installed if installed.is_dir() else Path(__file__).resolve().parent.parent / "layers"


@cache
def load_catalog(folder: Path | None = None) -> dict[str, LayerDef]:
    """All layer definitions, by name, in file-name order.

    Raises
    ------
    CatalogError
        If a definition is malformed.
    """
    folder = folder or layers_dir()
    layers = {}
    for path in sorted(folder.glob("*.toml")):
        if path.stem.startswith("_"):
            continue
        layer = _layer_from_toml(path, folder)
        layers[layer.name] = layer
    return layers


def get_layer(name: str) -> LayerDef:
    """The definition of one layer.

    Raises
    ------
    UnknownLayerError
        If no layer has that name; the message lists the layers that exist.
    """
    catalog = load_catalog()
    if name in catalog:
        return catalog[name]
    hint = _did_you_mean(name, tuple(catalog))
    msg = f"there is no layer {name!r}{hint}; layers are: {', '.join(catalog)}"
    raise UnknownLayerError(msg)


def _layer_from_toml(path: Path, folder: Path) -> LayerDef:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{path.name}: not valid TOML ({exc})") from exc
    raw_fields = list(data.pop("fields", []))
    if base := data.pop("extends", None):
        base_data = tomllib.loads((folder / f"{base}.toml").read_text(encoding="utf-8"))
        raw_fields = list(base_data.get("fields", [])) + raw_fields
    try:
        fields = tuple(_field_from_dict(f) for f in raw_fields)
        return LayerDef(fields=fields, **data)
    except TypeError as exc:
        raise CatalogError(f"{path.name}: {exc}") from exc


def _field_from_dict(raw: dict[str, Any]) -> FieldDef:
    data: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()}
    return FieldDef(**data)


# --- values -------------------------------------------------------------------------------


def is_missing(raw: object) -> bool:
    """Whether a raw cell is empty (None, NaN, NaT or blank text)."""
    if raw is None:
        return True
    if isinstance(raw, float) and math.isnan(raw):
        return True
    if isinstance(raw, str):
        return raw.strip() == ""
    return raw is pd.NaT or raw is pd.NA


def parse_value(field: FieldDef, raw: object) -> Value:
    """Parse one non-missing raw cell into the field's type.

    Raises
    ------
    ValueError
        With a message that says what was expected and how to fix it.
    """
    return _PARSERS[field.type](field, raw)


def normalise_token(text: str) -> str:
    """Lower-case, trimmed, with spaces and hyphens as underscores: ``"Urban community"`` ->
    ``"urban_community"``."""
    return re.sub(r"[\s\-/]+", "_", text.strip().lower())


def split_list(value: object) -> tuple[str, ...]:
    """The items of a list field as stored (``"health,mhpss"``); empty for a missing value."""
    if is_missing(value):
        return ()
    if isinstance(value, tuple | list):
        return tuple(str(v) for v in value)
    return tuple(t.strip() for t in LIST_SEPARATORS.split(str(value)) if t.strip())


def join_list(items: tuple[str, ...] | list[str]) -> str:
    """How a list field is stored and exported: comma-separated, readable in QGIS and CSV."""
    return ",".join(items)


def _parse_string(field: FieldDef, raw: object) -> str:
    if isinstance(raw, bool):
        raise ValueError("expected text, got a true/false value")
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)  # ids read as numbers by a spreadsheet: 17.0 -> "17"
    text = str(raw).strip()
    if field.pattern and not re.fullmatch(field.pattern, text):
        raise ValueError(f"does not match the expected form {_pattern_hint(field)}")
    return text


def _parse_integer(field: FieldDef, raw: object) -> int:
    if isinstance(raw, bool):
        raise ValueError("expected a whole number, got a true/false value")
    try:
        number = float(str(raw).strip().replace(",", "")) if isinstance(raw, str) else float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError("expected a whole number") from None
    if not math.isfinite(number) or not number.is_integer():
        raise ValueError("expected a whole number")
    if abs(number) > MAX_WHOLE:
        raise ValueError(f"too large a number (whole numbers go up to {MAX_WHOLE:,})")
    return _check_range(field, int(number))


def _parse_number(field: FieldDef, raw: object) -> float:
    if isinstance(raw, bool):
        raise ValueError("expected a number, got a true/false value")
    try:
        number = float(str(raw).strip()) if isinstance(raw, str) else float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError("expected a number") from None
    if not math.isfinite(number):
        raise ValueError("expected a finite number")
    return _check_range(field, number)


def _check_range(field: FieldDef, number: _N) -> _N:
    if field.min is not None and number < field.min:
        lowest = "negative" if field.min == 0 else f"below {field.min:g}"
        raise ValueError(f"{lowest} values are not allowed (minimum {field.min:g})")
    if field.max is not None and number > field.max:
        raise ValueError(f"above the maximum {field.max:g}")
    return number


def _parse_boolean(field: FieldDef, raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    token = str(raw).strip().lower()
    if token in _TRUE:
        return True
    if token in _FALSE:
        return False
    raise ValueError("expected true or false (yes/no, 1/0)")


def _parse_date(field: FieldDef, raw: object) -> dt.date:
    if isinstance(raw, dt.datetime):
        return check_year(raw.date())
    if isinstance(raw, dt.date):
        return check_year(raw)
    text = str(raw).strip()
    try:
        day = dt.date.fromisoformat(text[:10])
    except ValueError:
        raise ValueError(f"expected a date as YYYY-MM-DD{_date_hint(text)}") from None
    return check_year(day)


def check_year(day: dt.date) -> dt.date:
    """``day`` when its year is between :data:`FIRST_YEAR` and :data:`LAST_YEAR`.

    Raises
    ------
    ValueError
        Naming the range and the likely fix (a mistyped year).
    """
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValueError(
            f"dates must fall in the years {FIRST_YEAR} to {LAST_YEAR}; check the year"
        )
    return day


def _parse_time(field: FieldDef, raw: object) -> str:
    if isinstance(raw, dt.time):
        return raw.strftime("%H:%M")
    return read_clock(str(raw))


def _parse_enum(field: FieldDef, raw: object) -> str:
    token = normalise_token(str(raw))
    if token not in field.allowed:
        raise ValueError(_not_allowed(field, str(raw)))
    return token


def _parse_enum_list(field: FieldDef, raw: object) -> tuple[str, ...]:
    if isinstance(raw, tuple | list):
        items: Sequence[object] = raw
    elif set(field.allowed) <= _WEEKDAYS:  # day lists as people write them: Sun-Thu, Su-Th
        items = read_days(str(raw))
    else:
        items = LIST_SEPARATORS.split(str(raw))
    tokens = [normalise_token(str(t)) for t in items if str(t).strip()]
    bad = [t for t in tokens if t not in field.allowed]
    if bad:
        raise ValueError(_not_allowed(field, bad[0]))
    return tuple(dict.fromkeys(tokens))


def _not_allowed(field: FieldDef, value: str) -> str:
    hint = _did_you_mean(normalise_token(value), field.allowed)
    return f"{value!r} is not an allowed value{hint}; allowed: {', '.join(field.allowed)}"


def _did_you_mean(value: str, choices: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(value, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _pattern_hint(field: FieldDef) -> str:
    if field.name == "id" or field.name.endswith("_id"):
        return "(letters, digits, '_', '-', '.', ':'; at most 64 characters)"
    if field.name in ("admin_code", "parent_code") or field.pattern.startswith("^[A-Z]{2,3}"):
        return "(a P-code: country letters then digits, for example LY0101)"
    if field.name == "colour":
        return "(#RRGGBB)"
    return f"({field.pattern})"


def _date_hint(text: str) -> str:
    parts = re.split(r"[/.\-]", text)
    if len(parts) == 3 and all(p.isdigit() for p in parts) and len(parts[2]) == 4:
        day, month, year = parts
        return f"; if this is day/month/year write {year}-{int(month):02d}-{int(day):02d}"
    return ""


_PARSERS: dict[str, Callable[[FieldDef, object], Value]] = {
    "string": _parse_string,
    "integer": _parse_integer,
    "number": _parse_number,
    "boolean": _parse_boolean,
    "date": _parse_date,
    "time": _parse_time,
    "enum": _parse_enum,
    "enum_list": _parse_enum_list,
}

_SQL_TYPES = {
    "string": "TEXT",
    "integer": "INTEGER",
    "number": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "time": "TEXT",
    "enum": "TEXT",
    "enum_list": "TEXT",
}
