"""Reading every supported format into raw tables, reprojecting where the file says so."""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geoplan.errors import InputFileError, ParameterError
from geoplan.sources import SourceOptions, read_source


@pytest.fixture
def points() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id": ["GP-1", "GP-2"], "name": ["Alpha", "Beta"], "setting": ["camp", "shelter"]},
        geometry=[shapely.Point(13.18, 32.88), shapely.Point(13.25, 32.85)],
        crs=4326,
    )


def test_geojson(tmp_path: Path, points: gpd.GeoDataFrame) -> None:
    """GeoJSON gives raw cells and geometries."""
    path = tmp_path / "sites.geojson"
    points.to_file(path)
    table = read_source(path)
    assert list(table.frame["id"]) == ["GP-1", "GP-2"]
    assert table.geometry is not None
    assert table.geometry.iloc[0].equals(points.geometry.iloc[0])


def test_geopackage_needs_a_layer_name_when_it_has_several(
    tmp_path: Path, points: gpd.GeoDataFrame
) -> None:
    """A GeoPackage with one layer reads as is; with several, --source-layer picks one."""
    path = tmp_path / "many.gpkg"
    points.to_file(path, layer="sites")
    assert len(read_source(path).frame) == 2
    points.iloc[:1].to_file(path, layer="other")
    with pytest.raises(InputFileError, match="several layers"):
        read_source(path)
    assert len(read_source(path, options=SourceOptions(source_layer="other")).frame) == 1
    with pytest.raises(InputFileError, match="no layer 'nope'"):
        read_source(path, options=SourceOptions(source_layer="nope"))


def test_zipped_shapefile_reprojected(tmp_path: Path, points: gpd.GeoDataFrame) -> None:
    """A zipped Shapefile in UTM 33N comes back in EPSG:4326."""
    shp_dir = tmp_path / "shp"
    shp_dir.mkdir()
    points.to_crs(32633).to_file(shp_dir / "sites.shp")
    archive = tmp_path / "sites.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for part in shp_dir.iterdir():
            zf.write(part, part.name)
    table = read_source(archive)
    assert table.geometry is not None
    assert table.geometry.crs.to_epsg() == 4326
    assert table.geometry.iloc[0].distance(points.geometry.iloc[0]) < 1e-6
    assert any("reprojected" in note for note in table.notes)


def test_csv_with_usual_coordinate_names(tmp_path: Path) -> None:
    """lon/lng/longitude/x and lat/latitude/y are recognised, in any case."""
    for lon, lat in (("lon", "lat"), ("Longitude", "Latitude"), ("LNG", "LAT"), ("x", "y")):
        path = tmp_path / f"{lon}.csv"
        path.write_text(f"id,{lon},{lat}\nA,13.1,32.8\n", encoding="utf-8")
        table = read_source(path)
        assert (table.lon_column, table.lat_column) == (lon, lat)


def test_csv_with_named_coordinate_columns_semicolons_and_hxl(tmp_path: Path) -> None:
    """Semicolons, an HXL tag row and user-named coordinate columns are handled."""
    path = tmp_path / "kobo.csv"
    path.write_text("id;Easting;Northing\n#loc+code;#geo+x;#geo+y\nA;13,1;32,8\n", encoding="utf-8")
    table = read_source(path, options=SourceOptions(lon_column="Easting", lat_column="Northing"))
    assert list(table.frame["id"]) == ["A"]
    assert table.lines == [3]  # header, tag row, then the first record
    with pytest.raises(InputFileError, match="no column 'E'"):
        read_source(path, options=SourceOptions(lon_column="E", lat_column="Northing"))


def test_csv_hxl_tags_find_coordinates(tmp_path: Path) -> None:
    """Pre-1.0 HXL tags (#lat_deg, #lon_deg) identify the coordinate columns."""
    path = tmp_path / "hxl.csv"
    path.write_text(
        "Code,Lat (deg),Lon (deg)\n#loc_id,#lat_deg,#lon_deg\nA,32.8,13.1\n", encoding="utf-8"
    )
    table = read_source(path)
    assert (table.lon_column, table.lat_column) == ("Lon (deg)", "Lat (deg)")


def test_projected_csv_coordinates_are_reprojected(tmp_path: Path) -> None:
    """Coordinates in a declared CRS are kept raw here and reprojected during validation."""
    path = tmp_path / "utm.csv"
    path.write_text("id,x,y\nA,331000,3640000\n", encoding="utf-8")
    table = read_source(path, options=SourceOptions(crs="EPSG:32633"))
    assert table.crs == "EPSG:32633"


def test_xlsx(tmp_path: Path) -> None:
    """A workbook's first sheet, or a named one, is read with its coordinate columns."""
    path = tmp_path / "sites.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"id": ["A"], "latitude": [32.8], "longitude": [13.1]}).to_excel(
            writer, sheet_name="first", index=False
        )
        pd.DataFrame({"id": ["B", "C"], "lat": [32.8, 32.9], "lon": [13.1, 13.2]}).to_excel(
            writer, sheet_name="second", index=False
        )
    assert list(read_source(path).frame["id"]) == ["A"]
    second = read_source(path, options=SourceOptions(sheet="second"))
    assert list(second.frame["id"]) == ["B", "C"]
    assert second.lon_column == "lon"
    with pytest.raises(InputFileError, match="--sheet"):
        read_source(path, options=SourceOptions(sheet="third"))


def test_missing_and_unsupported_files(tmp_path: Path) -> None:
    """A missing file and an unknown suffix are input errors that say what to do."""
    with pytest.raises(InputFileError, match="no such file"):
        read_source(tmp_path / "nope.csv")
    odd = tmp_path / "sites.docx"
    odd.write_text("x")
    with pytest.raises(InputFileError, match=r"cannot read \.docx"):
        read_source(odd)
    broken = tmp_path / "broken.geojson"
    broken.write_text("{not json")
    with pytest.raises(InputFileError, match="not a readable spatial file"):
        read_source(broken)


def test_real_kobo_export(shared_data: Path) -> None:
    """The real KoboToolbox export (semicolons, split geopoint columns) reads with coordinates."""
    table = read_source(
        shared_data / "fieldforms" / "kobo_export_semicolon_geopoint_geolocation.csv"
    )
    assert table.lon_column is not None
    assert table.lat_column is not None
    assert "longitude" in table.lon_column.lower()


# --- field data readers (issue 18) ----------------------------------------------------------


def test_json_records_with_a_coordinate_pair_member(fixtures: Path) -> None:
    """A plain JSON array of records reads as a table; a 'coordinates' member is the pair."""
    table = read_source(fixtures / "fieldforms" / "gathering_points_records.json")
    assert list(table.frame["site"]) == ["GP-1", "GP-2"]
    assert table.pair_column == "location_coordinates"


def test_odk_odata_json_flattens_groups_and_reads_geopoints(fixtures: Path) -> None:
    """ODK Central OData: records in 'value', groups flattened by path, GeoJSON geopoints."""
    table = read_source(fixtures / "fieldforms" / "gathering_points_odata_nested.json")
    assert list(table.frame["site/name"]) == ["Souq", "Port"]
    assert table.geometry is not None
    assert (table.geometry.iloc[0].x, table.geometry.iloc[0].y) == (13.19, 32.88)


def test_hxl_tag_row_on_line_four_with_super_headers_and_repeated_tags(fixtures: Path) -> None:
    """A title, super-headers and names above HXL tags: names joined, tags kept per column."""
    table = read_source(fixtures / "hxl" / "gathering_points_hxl_tags_on_line_4_repeated.csv")
    assert list(table.frame.columns) == [
        "SITE / Code",
        "SITE / Name",
        "POSITION / Lat",
        "POSITION / Lon",
        "PEOPLE / Total",
        "PEOPLE / Total.1",
    ]
    assert table.tags["PEOPLE / Total.1"] == "#affected+total"
    assert (table.lat_column, table.lon_column) == ("POSITION / Lat", "POSITION / Lon")
    assert table.lines == [5, 6]


def test_line_numbers_count_the_lines_of_multi_line_cells(fixtures: Path) -> None:
    """A cell spanning three lines pushes the next record to line 5, not line 3."""
    table = read_source(fixtures / "invalid" / "gathering_points_multiline_cells.csv")
    assert table.lines == [2, 5]


def test_merged_header_rows_are_joined(fixtures: Path) -> None:
    """Cells merged over two header rows give 'People / Men', never 'Unnamed: 1'."""
    table = read_source(fixtures / "fieldforms" / "sites_merged_header_rows.xlsx")
    assert list(table.frame.columns) == [
        "Site",
        "Position / Lat",
        "Position / Lon",
        "People / Men",
        "People / Women",
    ]
    assert table.lines == [3]
    assert table.lon_column == "Position / Lon"


def test_header_row_option_and_title_rows(fixtures: Path) -> None:
    """A title above the header is skipped; --header-row names the header row outright."""
    path = fixtures / "fieldforms" / "sites_header_on_row_3.xlsx"
    assert list(read_source(path).frame.columns) == ["id", "name", "lat", "lon"]
    table = read_source(path, options=SourceOptions(header_row="2"))
    assert list(table.frame["id"]) == ["GP-1"]
    with pytest.raises(ParameterError, match="header row"):
        SourceOptions(header_row="0")


def test_real_field_forms_read(shared_data: Path) -> None:
    """KoBo CSV and XLSX, ODK Central CSV and OData JSON, IOM JSON records all read."""
    forms = shared_data / "fieldforms"
    kobo = read_source(forms / "kobo_export_semicolon_geopoint_geolocation.csv")
    assert len(kobo.frame) == 3
    assert read_source(forms / "kobo_export_labels_xlsx.xlsx").lon_column is not None
    odata = read_source(forms / "odk_central_odata_gc_scripts_hub.json")
    assert odata.geometry is not None
    assert "__system/submissionDate" in odata.frame.columns
    iom = read_source(shared_data / "libya" / "iom_missing_migrants_libya_2014_2024_raw.json")
    assert (len(iom.frame), iom.pair_column) == (2110, "location_coodinates")
