"""Ready-to-fill layer templates: written from the catalog, read back by the import."""

from __future__ import annotations

from pathlib import Path

import pyogrio
import pytest
from openpyxl import load_workbook

from geoplan.catalog import get_layer, load_catalog
from geoplan.cli import run
from geoplan.errors import ParameterError
from geoplan.imports import import_file
from geoplan.store import open_store
from geoplan.templates import LISTS_SHEET, template_columns, write_template

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "templates"


def _validations(path: Path) -> dict[str, list[str]]:
    """Allowed values of each column that has a drop-down list, by header."""
    book = load_workbook(path)
    sheet, lists = book.worksheets[0], book[LISTS_SHEET]
    headers = [c.value for c in sheet[1]]
    out: dict[str, list[str]] = {}
    for check in sheet.data_validations.dataValidation:
        if check.type != "list":
            continue
        column = str(check.sqref).split(":")[0].rstrip("0123456789")
        ref = check.formula1.split("!")[1].replace("$", "")
        values = [str(c[0].value) for c in lists[ref]]
        out[str(headers[sheet[f"{column}1"].column - 1])] = values
    return out


@pytest.mark.parametrize("layer", list(load_catalog()))
def test_examples_hold_a_current_template_of_every_layer(layer: str) -> None:
    """examples/templates/ has each layer's template, with the columns the catalog has now
    (regenerate with `python -m geoplan.templates`)."""
    definition = get_layer(layer)
    if definition.geometry == "Polygon":
        info = pyogrio.read_info(EXAMPLES / f"{layer}.gpkg", layer=layer)
        assert list(info["fields"]) == list(definition.field_names)
        return
    columns = template_columns(definition)
    header = (EXAMPLES / f"{layer}.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.split(",") == columns
    sheet = load_workbook(EXAMPLES / f"{layer}.xlsx").worksheets[0]
    assert [c.value for c in sheet[1]] == columns
    lists = _validations(EXAMPLES / f"{layer}.xlsx")
    for f in definition.fields:
        if f.type in ("enum", "enum_list"):
            assert lists[f.name] == list(f.allowed)


def test_xlsx_template_offers_the_allowed_values(tmp_path: Path) -> None:
    """The gathering points template lists settings and access statuses, and yes/no."""
    path = write_template("gathering_points", tmp_path / "sites.xlsx")
    lists = _validations(path)
    assert lists["access_status"] == ["open", "restricted", "inaccessible"]
    assert lists["setting"] == list(get_layer("gathering_points").field("setting").allowed)


def test_filled_template_imports(tmp_path: Path) -> None:
    """A teams template filled as people do (days as Sun-Thu, a ; list) imports as it is."""
    path = write_template("teams", tmp_path / "teams.xlsx")
    book = load_workbook(path)
    sheet = book.worksheets[0]
    values = {
        "id": "T-1",
        "name": "Medical team 1",
        "kind": "medical",
        "services": "health;mhpss",
        "working_days": "Sun-Thu",
        "shift_start": "08:00",
        "shift_end": "16:00",
        "lon": 13.19,
        "lat": 32.87,
    }
    sheet.append([values.get(str(c.value)) for c in sheet[1]])
    book.save(path)
    store = open_store(tmp_path / "ws.gpkg")
    result = import_file(path, "teams", store=store)
    assert result.report.ok, result.report.summary()
    row = store.read("teams").iloc[0]
    assert (row["services"], row["working_days"]) == ("health,mhpss", "sun,mon,tue,wed,thu")


def test_area_layers_get_a_geopackage_template(tmp_path: Path) -> None:
    """No-go zones need polygons: a table template is refused with the way out, a .gpkg
    template has the typed fields and a polygon geometry."""
    with pytest.raises(ParameterError, match=r"\.gpkg"):
        write_template("no_go_zones", tmp_path / "zones.xlsx")
    path = write_template("no_go_zones", tmp_path / "zones.gpkg")
    info = pyogrio.read_info(path, layer="no_go_zones")
    assert info["geometry_type"] == "MultiPolygon"


def test_cli_template(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`geoplan template LAYER -o FILE` writes it; an unknown suffix is a usage error."""
    assert run(["template", "outreach_visits", "-o", str(tmp_path / "visits.csv")]) == 0
    header = (tmp_path / "visits.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("id,site_id,date,team_id,services")
    assert run(["template", "teams", "-o", str(tmp_path / "teams.txt")]) == 2
    assert ".xlsx" in capsys.readouterr().err
