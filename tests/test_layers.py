"""Validation rules: each invalid fixture file is named after its defect."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd
import pytest

from geoplan.catalog import get_layer, load_catalog
from geoplan.errors import MappingError
from geoplan.layers import (
    ColumnMapping,
    OperatingArea,
    ValidationContext,
    validate_table,
)
from geoplan.report import ValidationReport
from geoplan.sources import SourceOptions, read_source

TRIPOLI = OperatingArea(11.5, 32.0, 14.5, 33.2, name="western Libya")
KNOWN = {"gathering_points": frozenset({"GP-1", "GP-2"}), "teams": frozenset({"T-MED", "T-MRRM"})}
TODAY = dt.date(2026, 11, 22)


def check(
    fixtures: Path,
    name: str,
    layer: str | None = None,
    *,
    area: OperatingArea | None = None,
    mapping: ColumnMapping | None = None,
) -> tuple[gpd.GeoDataFrame, ValidationReport]:
    path = fixtures / ("invalid" if (fixtures / "invalid" / name).exists() else "valid") / name
    layer = layer or next(n for n in load_catalog() if name.startswith(n))
    context = ValidationContext(area=area, known_ids=KNOWN, today=TODAY)
    return validate_table(read_source(path), get_layer(layer), mapping=mapping, context=context)


def errors_by_row(report: ValidationReport) -> dict[int | None, set[str]]:
    found: dict[int | None, set[str]] = {}
    for p in report.errors:
        found.setdefault(p.row, set()).add(p.rule)
    return found


def test_valid_files_have_no_errors(fixtures: Path) -> None:
    """The valid fixtures pass and come out typed, in EPSG:4326."""
    frame, report = check(fixtures, "gathering_points.csv", area=TRIPOLI)
    assert report.ok, report.summary()
    assert list(frame["people"]) == [40, 25, 12]
    assert str(frame["people"].dtype) == "Int64"
    assert frame.crs.to_epsg() == 4326
    assert frame.loc[0, "services_needed"] == "health,mhpss"
    assert frame.loc[0, "access_status"] == "open"  # the default fills an empty cell


def test_missing_required_fields(fixtures: Path) -> None:
    """A missing name, id or setting is reported on its row, naming the field."""
    _, report = check(fixtures, "gathering_points_missing_required.csv")
    missing = {(p.row, p.field) for p in report.errors if p.rule == "missing-required"}
    assert missing == {(1, "name"), (2, "id"), (3, "setting")}


def test_wrong_types(fixtures: Path) -> None:
    """Text in a count, a fraction in a whole number and a day/month/year date are rejected."""
    _, report = check(fixtures, "gathering_points_wrong_types.csv")
    found = {(p.row, p.field, p.value) for p in report.errors if p.rule == "wrong-type"}
    assert found == {
        (1, "people", "many"),
        (2, "visit_frequency_days", "2.5"),
        (3, "access_date", "01/02/2026"),
    }
    date_problem = next(p for p in report.errors if p.field == "access_date")
    assert "2026-02-01" in date_problem.message  # says how to write it


def test_values_outside_the_allowed_set(fixtures: Path) -> None:
    """Unknown enum values are reported with the allowed values and a close match."""
    _, report = check(fixtures, "gathering_points_not_allowed_values.csv")
    found = {(p.row, p.field) for p in report.errors if p.rule == "not-allowed"}
    assert found == {(1, "setting"), (2, "services_needed"), (3, "access_status")}
    closed = next(p for p in report.errors if p.field == "access_status")
    assert "open, restricted, inaccessible" in closed.message


def test_duplicate_ids(fixtures: Path) -> None:
    """Every row sharing an id is reported, naming the other rows."""
    _, report = check(fixtures, "gathering_points_duplicate_ids.geojson")
    assert errors_by_row(report) == {1: {"duplicate-id"}, 3: {"duplicate-id"}}
    assert "rows 1, 3" in report.errors[0].message


def test_empty_and_wrong_geometries(fixtures: Path) -> None:
    """A null geometry and a line in a point layer are both reported."""
    _, report = check(fixtures, "gathering_points_empty_geometries.geojson")
    assert errors_by_row(report) == {1: {"missing-coordinates"}, 3: {"wrong-geometry-type"}}


def test_invalid_polygon(fixtures: Path) -> None:
    """A self-intersecting no-go zone is reported with GEOS's reason and a repair hint."""
    frame, report = check(fixtures, "no_go_zones_invalid_geometry.geojson")
    assert errors_by_row(report) == {1: {"invalid-geometry"}}
    assert "Self-intersection" in report.errors[0].message
    assert "Fix Geometries" in report.errors[0].fix
    assert list(frame["id"]) == ["Z-2"]
    assert frame.geometry.iloc[0].geom_type == "MultiPolygon"


def test_coordinates_out_of_range(fixtures: Path) -> None:
    """Longitudes beyond 180 and latitudes beyond 90 are rejected."""
    _, report = check(fixtures, "gathering_points_coordinates_out_of_range.csv")
    assert errors_by_row(report) == {
        1: {"coordinates-out-of-range"},
        3: {"coordinates-out-of-range"},
    }


def test_probable_lon_lat_swap(fixtures: Path) -> None:
    """Swapped axes are spotted both inside the operating area and by range."""
    _, report = check(fixtures, "gathering_points_lon_lat_swapped.csv", area=TRIPOLI)
    assert errors_by_row(report) == {1: {"lon-lat-swapped"}, 3: {"lon-lat-swapped"}}
    assert "swapped" in report.errors[0].fix


def test_points_outside_the_operating_area(fixtures: Path) -> None:
    """Points outside the area are rejected; a lost minus sign is named as such."""
    _, report = check(fixtures, "gathering_points_outside_area.csv", area=TRIPOLI)
    assert errors_by_row(report) == {1: {"outside-area"}, 3: {"wrong-sign"}}
    assert "13.19 would be inside" in report.errors[1].fix
    _, no_area = check(fixtures, "gathering_points_outside_area.csv")
    assert no_area.ok  # without an operating area the same points are accepted


def test_bad_coordinate_cells(fixtures: Path) -> None:
    """A pasted 'lat, lon' pair, decimal commas and text are reported cell by cell."""
    _, report = check(fixtures, "gathering_points_bad_coordinate_cells.csv")
    cells = {(p.row, p.field) for p in report.errors}
    assert cells == {(1, "lon"), (1, "lat"), (2, "lon"), (2, "lat"), (3, "lon")}
    pasted = next(p for p in report.errors if p.row == 1 and p.field == "lat")
    assert "pasted" in pasted.message
    comma = next(p for p in report.errors if p.row == 2 and p.field == "lat")
    assert "32.88" in comma.fix


def test_negative_counts(fixtures: Path) -> None:
    """Negative people and negative breakdowns are rejected."""
    _, report = check(fixtures, "gathering_points_negative_counts.csv")
    found = {(p.row, p.field) for p in report.errors if p.rule == "out-of-range"}
    assert found == {(1, "people"), (2, "men")}


def test_breakdown_exceeding_the_total(fixtures: Path) -> None:
    """Men+women+boys+girls above the total is an error, even with parts unknown."""
    _, report = check(fixtures, "gathering_points_counts_exceed_total.csv")
    assert errors_by_row(report) == {1: {"parts-exceed-total"}}


def test_breakdown_contradicting_the_total(fixtures: Path) -> None:
    """A complete breakdown that differs from the total is an error; an empty total is filled."""
    frame, report = check(fixtures, "gathering_points_counts_contradict_total.csv")
    assert errors_by_row(report) == {1: {"parts-contradict-total"}}
    assert frame.set_index("id").loc["GP-2", "people"] == 10


def test_visits_pointing_at_unknown_sites_or_teams(fixtures: Path) -> None:
    """A visit to a site or by a team that the workspace does not know is rejected."""
    _, report = check(fixtures, "outreach_visits_unknown_site_and_team.csv")
    found = {(p.row, p.field, p.value) for p in report.errors}
    assert found == {(2, "site_id", "GP-404"), (3, "team_id", "T-GHOST")}


def test_dates_in_the_future(fixtures: Path) -> None:
    """A visit dated after today is rejected."""
    _, report = check(fixtures, "outreach_visits_future_date.csv")
    assert errors_by_row(report) == {2: {"future-date"}}


def test_end_before_start(fixtures: Path) -> None:
    """A shift that ends before it starts, and malformed times, are rejected."""
    _, report = check(fixtures, "teams_shift_end_before_start.csv")
    assert errors_by_row(report) == {2: {"order"}, 3: {"wrong-type"}}
    assert {p.field for p in report.errors if p.row == 3} == {"shift_start", "shift_end"}


def test_every_problem_names_file_row_id_field_and_fix(fixtures: Path) -> None:
    """Problems carry the file, row, id, field, value and a fix, all at once."""
    _, report = check(fixtures, "gathering_points_not_allowed_values.csv")
    for p in report.errors:
        assert p.file == "gathering_points_not_allowed_values.csv"
        assert p.row
        assert p.id
        assert p.field
        assert p.value
        assert p.fix
        assert str(p).startswith(f"{p.file} row {p.row}")
    assert len(report.bad_rows) == 3
    assert list(report.to_frame().columns)[:4] == ["severity", "rule", "file", "row"]


def test_unused_columns_are_a_warning(fixtures: Path) -> None:
    """Columns that are not fields are listed in one warning and do not stop the import."""
    _, report = check(fixtures, "teams.csv")
    assert report.ok
    assert [p.rule for p in report.warnings] == ["unused-columns"]
    assert "radio_callsign" in report.warnings[0].message
    _, visits = check(fixtures, "outreach_visits.csv")
    assert visits.ok, visits.summary()


def test_mapping_renames_translates_and_fills(fixtures: Path) -> None:
    """A mapping takes fields from other columns, translates values and fills defaults."""
    mapping = ColumnMapping.build(
        columns={"name": ["name", "id"]},
        defaults={"setting": "camp"},
        id_prefix="X-",
    )
    frame, report = check(fixtures, "gathering_points_missing_required.csv", mapping=mapping)
    assert {p.rule for p in report.errors} == {"missing-required"}  # only the row without id
    assert frame.set_index("id").loc["X-GP-3", "setting"] == "camp"
    assert frame.set_index("id").loc["X-GP-1", "name"] == "GP-1"


def test_mapping_with_unknown_column_or_field_is_refused(fixtures: Path) -> None:
    """A mapping naming a column the file lacks, or a field the layer lacks, is an error."""
    with pytest.raises(MappingError, match="no column 'Nom'"):
        check(
            fixtures, "gathering_points.csv", mapping=ColumnMapping.build(columns={"name": "Nom"})
        )
    with pytest.raises(MappingError, match="does not have"):
        check(
            fixtures, "gathering_points.csv", mapping=ColumnMapping.build(defaults={"colour": "x"})
        )


def test_operating_area_parsing() -> None:
    """An operating area is four numbers, west < east and south < north."""
    assert OperatingArea.parse("11.5,32,14.5,33.2").contains(13.2, 32.9)
    with pytest.raises(ValueError, match="four numbers"):
        OperatingArea.parse("11.5,32")
    with pytest.raises(ValueError, match="west < east"):
        OperatingArea.parse("14.5,32,11.5,33.2")


# --- field data (issue 18) ------------------------------------------------------------------


def _validate(path: Path, *, context: ValidationContext | None = None, **kw: object):  # type: ignore[no-untyped-def]
    table = read_source(path, options=SourceOptions(**kw))  # type: ignore[arg-type]
    return validate_table(table, get_layer("gathering_points"), context=context)


def test_coordinates_in_one_cell_comma_brackets_and_geopoint(fixtures: Path) -> None:
    """'lat, lon', '[lat, lon]' and a geopoint 'lat lon alt acc' all give the same points."""
    frame, report = _validate(
        fixtures / "fieldforms" / "gathering_points_coordinates_in_one_cell.csv",
        coordinates="where",
    )
    assert report.ok
    assert [(round(g.x, 2), round(g.y, 2)) for g in frame.geometry] == [
        (13.19, 32.88),
        (13.2, 32.9),
        (13.18, 32.87),
    ]
    assert any(p.rule == "coordinate-order" for p in report.warnings)


def test_coordinate_order_told_by_the_operating_area_or_given(fixtures: Path) -> None:
    """Longitude first is told from the area; --coordinate-order overrides the guess."""
    path = fixtures / "fieldforms" / "gathering_points_coordinates_lon_first.csv"
    frame, report = _validate(path, context=ValidationContext(area=TRIPOLI), coordinates="where")
    assert report.ok
    assert round(frame.geometry.iloc[0].x, 2) == 13.19
    _, wrong = _validate(
        path,
        context=ValidationContext(area=TRIPOLI),
        coordinates="where",
        coordinate_order="latlon",
    )
    assert {p.rule for p in wrong.errors} == {"lon-lat-swapped"}


@pytest.mark.parametrize(
    ("policy", "kept", "errors"),
    [
        (
            "error",
            0,
            {1: {"duplicate-id"}, 2: {"duplicate-id"}, 3: {"duplicate-id"}, 4: {"duplicate-id"}},
        ),
        ("identical", 3, {3: {"duplicate-id"}, 4: {"duplicate-id"}}),
        ("first", 2, {}),
        ("last", 2, {}),
    ],
)
def test_on_duplicate_policies(
    fixtures: Path, policy: str, kept: int, errors: dict[int, set[str]]
) -> None:
    """error refuses, identical drops exact copies and refuses conflicts, first/last keep one."""
    path = fixtures / "invalid" / "gathering_points_duplicate_identical_and_conflicting.csv"
    frame, report = _validate(path, context=ValidationContext(on_duplicate=policy))
    assert errors_by_row(report) == errors
    if report.ok:
        assert len(frame) == kept
        names = dict(zip(frame["id"], frame["name"], strict=True))
        assert names["GP-2"] == ("Port" if policy == "first" else "Port (new)")


def test_ids_made_from_row_or_content_are_stable(fixtures: Path) -> None:
    """A file without ids gets row-N or content-hash ids, the same on every read."""
    path = fixtures / "invalid" / "gathering_points_without_ids.csv"
    layer = get_layer("gathering_points")
    by_row = ColumnMapping.build(id_from="row")
    frame, report = validate_table(read_source(path), layer, mapping=by_row)
    assert report.ok
    assert list(frame["id"]) == ["row-1", "row-2"]
    by_content = ColumnMapping.build(id_from="content")
    first, _ = validate_table(read_source(path), layer, mapping=by_content)
    again, _ = validate_table(read_source(path), layer, mapping=by_content)
    assert list(first["id"]) == list(again["id"])
    assert all(i.startswith("c-") for i in first["id"])
    by_column = ColumnMapping.build(id_from="name")
    named, _ = validate_table(read_source(path), layer, mapping=by_column)
    assert list(named["id"]) == ["Souq", "Port"]


def test_hxl_tags_fill_fields_without_a_mapping(fixtures: Path) -> None:
    """#loc+code and #loc+name fill id and name; a repeated #affected+total is left alone."""
    path = fixtures / "hxl" / "gathering_points_hxl_tags_on_line_4_repeated.csv"
    frame, report = validate_table(
        read_source(path),
        get_layer("gathering_points"),
        mapping=ColumnMapping.build(defaults={"setting": "camp"}),
    )
    assert report.ok
    assert list(frame["id"]) == ["GP-1", "GP-2"]
    assert list(frame["name"]) == ["Souq", "Port"]
    assert frame["people"].isna().all()


def test_multi_line_cells_are_reported_on_their_physical_line(fixtures: Path) -> None:
    """The row after a three-line cell is reported on line 5, and report files hold integers."""
    _, report = _validate(
        fixtures / "invalid" / "gathering_points_multiline_cells.csv",
        context=ValidationContext(area=TRIPOLI),
    )
    assert [(p.row, p.line) for p in report.errors] == [(2, 5)]
    table = report.to_frame()
    assert str(table["row"].dtype) == "Int64"
    assert table.loc[0, "line"] == 5


def test_pcodes_of_any_country_are_accepted(tmp_path: Path) -> None:
    """Kyrgyz and Iraqi OCHA P-codes pass the admin_code pattern; lower case does not."""
    path = tmp_path / "pcodes.csv"
    path.write_text(
        "id,name,setting,admin_code,lat,lon\n"
        "A,a,camp,KG02210000000,32.8,13.1\nB,b,camp,IQG06Q10,32.8,13.1\nC,c,camp,ly0101,32.8,13.1\n"
    )
    _, report = _validate(path)
    assert errors_by_row(report) == {3: {"bad-format"}}
