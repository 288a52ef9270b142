"""Reading every supported format into raw tables, reprojecting where the file says so."""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geoplan.errors import InputFileError
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
