"""Ready-to-fill layer templates: the columns a layer's import reads, and in XLSX the catalog's
allowed values as drop-down lists.

A template is written from the layer definition only (never from the workspace), so it holds
no data and can be shared freely. Every column of a template is read back by
``geoplan import`` as it is: the fields in catalog order, then ``lon`` and ``lat`` for point
layers. Area layers (admin areas, no-go zones) need polygons, which a table cannot carry:
their template is a GeoPackage with the layer's typed fields, to draw in QGIS.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import geopandas as gpd
import pandas as pd
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from geoplan.catalog import FieldDef, LayerDef, get_layer, load_catalog
from geoplan.errors import ParameterError
from geoplan.layers import column_from_values
from geoplan.maps.style import WARNING_COLOUR, spreadsheet_colour
from geoplan.outputs import append_row, private_file, write_csv
from geoplan.sources import WGS84

TemplateFormat = Literal["xlsx", "csv", "gpkg"]
TEMPLATE_SUFFIXES: dict[str, TemplateFormat] = {".xlsx": "xlsx", ".csv": "csv", ".gpkg": "gpkg"}
TEMPLATE_ROWS = 2000
"""Rows of the data sheet that carry the drop-down lists and value checks."""
LISTS_SHEET = "Lists"
FIELDS_SHEET = "Fields"
_LIST_NOTE = "several allowed: separate them with , or ;"


def template_columns(layer: LayerDef) -> list[str]:
    """The columns of a layer's table template: its fields, then lon, lat for points.

    Raises
    ------
    ParameterError
        For an area layer, whose polygons a table cannot hold.
    """
    if layer.has_geometry and layer.geometry != "Point":
        msg = (
            f"layer {layer.name} holds areas, which a table cannot carry; write a .gpkg "
            "template and draw the areas in QGIS"
        )
        raise ParameterError(msg)
    geometry = ["lon", "lat"] if layer.geometry == "Point" else []
    return [*layer.field_names, *geometry]


def write_template(layer: str, path: Path, *, fmt: TemplateFormat | None = None) -> Path:
    """Write an empty, ready-to-fill template of a layer as XLSX, CSV or GeoPackage.

    Raises
    ------
    UnknownLayerError
        If there is no such layer.
    ParameterError
        If the format cannot be told from the name, or a table is asked of an area layer.
    """
    definition = get_layer(layer)
    fmt = fmt or template_format(path)
    if fmt == "gpkg":
        return _write_gpkg(definition, path)
    columns = template_columns(definition)
    if fmt == "csv":
        return write_csv(pd.DataFrame(columns=columns), path)
    return _write_xlsx(definition, columns, path)


def template_format(path: Path) -> TemplateFormat:
    """The template format a file name asks for.

    Raises
    ------
    ParameterError
        If the name does not end with .xlsx, .csv or .gpkg.
    """
    fmt = TEMPLATE_SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        kinds = ", ".join(TEMPLATE_SUFFIXES)
        raise ParameterError(f"{path.name}: end the file name with {kinds}")
    return fmt


def write_all_templates(folder: Path) -> list[Path]:
    """Templates of every layer into a folder: XLSX and CSV for tables and points, GeoPackage
    for areas (``examples/templates/`` is made this way: ``python -m geoplan.templates``)."""
    paths = []
    for layer in load_catalog().values():
        kinds = ("xlsx", "csv") if layer.geometry in ("Point", "None") else ("gpkg",)
        paths += [write_template(layer.name, folder / f"{layer.name}.{k}") for k in kinds]
    return paths


# --- XLSX ---------------------------------------------------------------------------------


def _write_xlsx(layer: LayerDef, columns: Sequence[str], path: Path) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = layer.name[:31]
    append_row(sheet, list(columns))
    _style_header(sheet, layer, columns)
    lists = book.create_sheet(LISTS_SHEET)
    for index, name in enumerate(columns, start=1):
        if name in layer.field_names:
            _add_check(sheet, lists, layer.field(name), index)
    lists.sheet_state = "hidden"
    _fields_sheet(book.create_sheet(FIELDS_SHEET), layer)
    with private_file(path) as partial:
        book.save(partial)
    return path


def _style_header(sheet: Worksheet, layer: LayerDef, columns: Sequence[str]) -> None:
    for index, name in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=index)
        required = name in layer.field_names and layer.field(name).required
        cell.font = Font(bold=True, color=spreadsheet_colour(WARNING_COLOUR) if required else None)
        cell.comment = Comment(_describe(layer, name), "geoplan")
        sheet.column_dimensions[get_column_letter(index)].width = max(12, len(name) + 4)
    sheet.freeze_panes = "A2"


def _describe(layer: LayerDef, name: str) -> str:
    if name == "lon":
        return "Longitude in decimal degrees (EPSG:4326), for example 13.18."
    if name == "lat":
        return "Latitude in decimal degrees (EPSG:4326), for example 32.88."
    f = layer.field(name)
    required = "Required. " if f.required else ""
    return f"{required}{f.description}"


def _add_check(sheet: Worksheet, lists: Worksheet, f: FieldDef, index: int) -> None:
    """A drop-down of the allowed values, or a check of the number, date or time typed."""
    check = _check_for(f, lists, index)
    if check is None:
        return
    letter = get_column_letter(index)
    check.add(f"{letter}2:{letter}{TEMPLATE_ROWS + 1}")
    sheet.add_data_validation(check)


def _check_for(f: FieldDef, lists: Worksheet, index: int) -> DataValidation | None:
    if f.type in ("enum", "enum_list", "boolean"):
        values = ("yes", "no") if f.type == "boolean" else f.allowed
        return _list_check(f, lists, index, values)
    if f.type == "integer":
        return _whole_check(f)
    return None


def _list_check(f: FieldDef, lists: Worksheet, index: int, values: Sequence[str]) -> DataValidation:
    letter = get_column_letter(index)
    lists.cell(row=1, column=index, value=f.name)
    for row, value in enumerate(values, start=2):
        lists.cell(row=row, column=index, value=value)
    source = f"{quote_sheetname(LISTS_SHEET)}!${letter}$2:${letter}${len(values) + 1}"
    several = f.type == "enum_list"
    # a list field may hold several values in one cell, which a drop-down cannot pick: the
    # list is offered, and other text is allowed with a warning only
    check = DataValidation(type="list", formula1=source, allow_blank=True)
    check.errorStyle = "warning" if several else "stop"
    check.error = f"{f.name}: use one of {', '.join(values)}" + (
        f" ({_LIST_NOTE})" if several else ""
    )
    check.prompt = ", ".join(values) + (f" - {_LIST_NOTE}" if several else "")
    check.showInputMessage = check.showErrorMessage = True
    return check


def _whole_check(f: FieldDef) -> DataValidation:
    low = int(f.min) if f.min is not None else -(2**31)
    high = int(f.max) if f.max is not None else 2**31 - 1
    check = DataValidation(
        type="whole", operator="between", formula1=str(low), formula2=str(high), allow_blank=True
    )
    check.error = f"{f.name}: write a whole number from {low} to {high}"
    check.showErrorMessage = True
    return check


def _fields_sheet(sheet: Worksheet, layer: LayerDef) -> None:
    append_row(sheet, ["field", "required", "type", "allowed values", "default", "description"])
    for f in layer.fields:
        allowed = ", ".join(f.allowed) if f.allowed else ""
        default = ",".join(f.default) if isinstance(f.default, tuple | list) else f.default
        kind = f.type.replace("_", " ") + (" (HH:MM)" if f.type == "time" else "")
        row = [f.name, "yes" if f.required else "", kind, allowed, default, f.description]
        append_row(sheet, ["" if v is None else v for v in row])
    for cell in sheet[1]:
        cell.font = Font(bold=True)


# --- GeoPackage ---------------------------------------------------------------------------


def _write_gpkg(layer: LayerDef, path: Path) -> Path:
    """An empty layer with the catalog's typed fields, for drawing in QGIS."""
    if not layer.has_geometry:
        raise ParameterError(f"layer {layer.name} has no geometry; write a .xlsx or .csv template")
    data = {f.name: column_from_values(f, []) for f in layer.fields}
    for f in layer.fields:
        if f.type == "date":
            data[f.name] = pd.Series([], dtype=object)  # GeoPackage DATE from ISO text
    frame = gpd.GeoDataFrame(data, geometry=gpd.GeoSeries([], crs=WGS84), crs=WGS84)
    kind = "MultiPolygon" if layer.geometry == "Polygon" else "Point"
    with private_file(path) as partial:
        frame.to_file(
            partial, driver="GPKG", layer=layer.name, engine="pyogrio", geometry_type=kind
        )
    return path


if __name__ == "__main__":
    for written in write_all_templates(Path("examples/templates")):
        print(written)
