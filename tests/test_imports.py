"""Importing files into the workspace, exporting them out, with real files where it matters."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from geoplan.catalog import get_layer
from geoplan.errors import LayerValidationError
from geoplan.hxl import tag_sources
from geoplan.imports import (
    ImportOptions,
    check_file,
    check_table,
    export_layer,
    import_file,
    operating_area,
    set_boundary,
    set_operating_area,
)
from geoplan.layers import ColumnMapping, OperatingArea
from geoplan.sources import SourceOptions, read_source
from geoplan.store import Store, open_store
from geoplan.store.geopackage import GeoPackageStore

GUINEA = OperatingArea(-15.08, 7.19, -7.64, 12.68, name="Guinea")
OSM_HEALTH = (
    "libya/libya_osm_health_amenities_2019_obiwanlansi.geojson"  # ODbL, (c) OSM contributors
)
SBTF_GUINEA = (
    "messy/messy_sbtf_guinea_health_facilities_2014_hxl_legacy.csv"  # Unlicense, HXL showcase
)


@pytest.fixture
def store(workspace_name: str) -> Store:
    """A new workspace of each kind of store in turn (GeoPackage, PostGIS)."""
    return open_store(workspace_name)


def test_import_lands_whole_or_not_at_all(fixtures: Path, store: Store) -> None:
    """One bad row stops the whole file; nothing is written."""
    with pytest.raises(LayerValidationError) as caught:
        import_file(
            fixtures / "invalid" / "gathering_points_negative_counts.csv",
            "gathering_points",
            store=store,
        )
    assert caught.value.report.bad_rows == (1, 2)
    assert store.ids("gathering_points") == frozenset()


def test_dry_run_writes_nothing(fixtures: Path, store: Store) -> None:
    """A dry run reports and does not even create the workspace file."""
    result = import_file(
        fixtures / "valid" / "gathering_points.csv", "gathering_points", store=store, dry_run=True
    )
    assert result.report.ok
    assert result.write is None
    assert not store.exists()


def test_reimport_is_idempotent_and_corrections_update(
    fixtures: Path, store: Store, tmp_path: Path
) -> None:
    """Importing the same file twice changes nothing; a corrected file updates rows by id."""
    source = fixtures / "valid" / "gathering_points.csv"
    assert import_file(source, "gathering_points", store=store).write.added == 3  # type: ignore[union-attr]
    again = import_file(source, "gathering_points", store=store).write
    assert again is not None
    assert not again.changed
    assert again.unchanged == 3
    corrected = tmp_path / "corrected.csv"
    corrected.write_text(source.read_text().replace("Shelter east", "Shelter east (new roof)"))
    write = import_file(corrected, "gathering_points", store=store).write
    assert write is not None
    assert (write.added, write.updated, write.unchanged) == (0, 1, 2)


def test_visits_checked_against_workspace_ids(fixtures: Path, store: Store) -> None:
    """Visits import once their sites and teams are in the workspace, not before."""
    visits = fixtures / "valid" / "outreach_visits.csv"
    with pytest.raises(LayerValidationError):
        import_file(visits, "outreach_visits", store=store)
    import_file(fixtures / "valid" / "gathering_points.csv", "gathering_points", store=store)
    import_file(fixtures / "valid" / "teams.csv", "teams", store=store)
    write = import_file(
        visits, "outreach_visits", store=store, options=ImportOptions(today=dt.date(2026, 11, 22))
    ).write
    assert write is not None
    assert write.added == 2


def test_workspace_operating_area_is_applied(fixtures: Path, store: Store) -> None:
    """The operating area kept in the workspace flags points outside it."""
    set_operating_area(store, GUINEA)
    assert operating_area(store) == GUINEA
    _, report, _ = check_file(
        fixtures / "valid" / "gathering_points.csv", "gathering_points", store=store
    )
    assert {p.rule for p in report.errors} == {"outside-area"}
    set_operating_area(store, None)
    assert operating_area(store) is None


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "csv"])
def test_export_round_trips(fixtures: Path, store: Store, tmp_path: Path, fmt: str) -> None:
    """An exported layer imports back unchanged, in every export format."""
    import_file(fixtures / "valid" / "gathering_points.csv", "gathering_points", store=store)
    target = tmp_path / f"out.{fmt}"
    assert export_layer(store, "gathering_points", target) == 3
    other = open_store(tmp_path / "other.gpkg")
    import_file(target, "gathering_points", store=other)
    pd.testing.assert_frame_equal(other.read("gathering_points"), store.read("gathering_points"))


def test_export_visits_without_geometry(fixtures: Path, store: Store, tmp_path: Path) -> None:
    """Visits (no geometry) export as GeoJSON features with null geometry and as CSV."""
    import_file(fixtures / "valid" / "gathering_points.csv", "gathering_points", store=store)
    import_file(fixtures / "valid" / "teams.csv", "teams", store=store)
    import_file(fixtures / "valid" / "outreach_visits.csv", "outreach_visits", store=store)
    export_layer(store, "outreach_visits", tmp_path / "v.geojson")
    features = json.loads((tmp_path / "v.geojson").read_text())["features"]
    assert [f["geometry"] for f in features] == [None, None]
    export_layer(store, "outreach_visits", tmp_path / "v.csv")
    assert list(pd.read_csv(tmp_path / "v.csv")["date"]) == ["2026-10-04", "2026-10-05"]


def test_real_osm_health_amenities_round_trip(
    shared_data: Path, fixtures: Path, store: Store, tmp_path: Path
) -> None:
    """All 1,868 OSM health points import as clinics and export back with every field intact."""
    mapping = ColumnMapping.from_toml(fixtures / "mappings" / "libya_osm_health_amenities.toml")
    result = import_file(
        shared_data / OSM_HEALTH, "clinics", store=store, options=ImportOptions(mapping=mapping)
    )
    assert result.write is not None
    assert result.write.added == 1868
    source = gpd.read_file(shared_data / OSM_HEALTH)
    exported = tmp_path / "clinics.geojson"
    export_layer(store, "clinics", exported)
    back = gpd.read_file(exported).set_index("id")
    assert len(back) == 1868
    for _, row in source.iterrows():
        got = back.loc[f"osm-{row['ID']}"]
        expected_name = next(
            v for v in (row["NAME_EN"], row["NAME"], row["VALUE"]) if isinstance(v, str) and v
        )
        assert got["name"] == expected_name
        assert got.geometry.equals_exact(row.geometry, 1e-9)
    assert back["kind"].value_counts().to_dict() == {
        "pharmacy": 865,
        "primary_care": 501,
        "secondary_hospital": 386,
        "other": 60,
        "medical_office": 56,
    }
    reread = open_store(tmp_path / "again.gpkg")
    import_file(exported, "clinics", store=reread)
    pd.testing.assert_frame_equal(reread.read("clinics"), store.read("clinics"))


GUINEA_BAD_IDS = (
    # "lat, lon" pasted into one cell (a trailing comma left in the latitude cell)
    "HM1051",
    "HM1052",
    "HM1058",
    "HM1066",
    "HM1068",
    "GN-STF078",
    # decimal commas, which read as two numbers pasted into one cell
    "MOH008",
    "MOH009",
    "MOH010",
    "MOH011",
    "MOH012",
    "MOH013",
    "GN-STF059",
    "GN-STF070",
    # longitudes with the wrong sign (east of Greenwich instead of west)
    "MOH018",
    "GN-STF045",
    # outside Guinea's bounding box (latitude copied into the longitude)
    "HM0678",
    # ids used twice (MOH009 also has a decimal comma)
    "MOH020",
)


def test_real_messy_guinea_sheet_is_rejected_row_by_row(
    shared_data: Path, fixtures: Path, store: Store
) -> None:
    """The 2014 Guinea facility sheet is rejected naming exactly its bad rows, and no good one."""
    mapping = ColumnMapping.from_toml(fixtures / "mappings" / "sbtf_guinea_health_facilities.toml")
    options = ImportOptions(mapping=mapping, area=GUINEA)
    with pytest.raises(LayerValidationError) as caught:
        import_file(shared_data / SBTF_GUINEA, "clinics", store=store, options=options)
    report = caught.value.report
    assert report.bad_ids == tuple(sorted(GUINEA_BAD_IDS))
    assert len(report.bad_rows) == 20  # MOH009 and MOH020 are two rows each
    assert report.rows == 1226
    rules = {p.id: p.rule for p in report.errors if p.rule != "duplicate-id"}
    assert rules["MOH018"] == rules["GN-STF045"] == "wrong-sign"
    assert rules["HM1052"] == "bad-coordinates"
    assert "pasted" in next(p.message for p in report.errors if p.id == "HM1052")
    assert store.ids("clinics") == frozenset()


def test_check_table_validates_rows_in_memory_like_a_file(fixtures: Path, store: Store) -> None:
    """Rows already in memory get the file import's report: same rules, area and known ids."""
    set_operating_area(store, OperatingArea(11.5, 32.0, 14.5, 33.2))
    path = fixtures / "invalid" / "gathering_points_outside_area.csv"
    _, from_file, _ = check_file(path, "gathering_points", store=store)
    table = read_source(path)
    _, from_table = check_table(table, "gathering_points", store=store)
    assert from_table == from_file
    assert not from_table.ok


# --- field data (issue 18) ------------------------------------------------------------------

LIBYA_ADM2 = "libya/lby_adm2_cod_pcodes_geoboundaries_simplified.geojson"  # CC BY 3.0 IGO, OCHA
LIBYA_ADM1 = "libya/lby_adm1_regions_derived_from_adm2.geojson"  # same


def _mapping_lines(path: Path) -> int:
    """Lines of a mapping file that say something (not comments, blanks or table headers)."""
    lines = [x.strip() for x in path.read_text().splitlines()]
    return sum(1 for x in lines if x and not x.startswith(("#", "[")))


FIELD_FORMS = [  # file, its mapping, the mapping's lines, the rows refused
    ("fieldforms/odk_central_export_gc_scripts_hub.csv", "odk_csv", 3, ()),
    ("fieldforms/odk_central_odata_gc_scripts_hub.json", "odk_odata", 3, (1, 2)),
    ("fieldforms/kobo_export_semicolon_geopoint_geolocation.csv", "kobo", 3, (3,)),
    ("fieldforms/kobo_export_labels_xlsx.xlsx", "kobo", 3, (3,)),
]


@pytest.mark.parametrize("case", FIELD_FORMS, ids=[c[1] + Path(c[0]).suffix for c in FIELD_FORMS])
def test_real_field_forms_import_into_gathering_points(
    shared_data: Path,
    fixtures: Path,
    store: GeoPackageStore,
    case: tuple[str, str, int, tuple[int, ...]],
) -> None:
    """KoBo and ODK exports import with a 3-line mapping; only their really bad rows are
    refused (ODK's missing location and latitude 152, KoBo's longitude -199)."""
    file, mapping, lines, bad_rows = case
    path = fixtures / "mappings" / f"{mapping}_biodiversity_gathering_points.toml"
    assert _mapping_lines(path) == lines
    options = ImportOptions(mapping=ColumnMapping.from_toml(path))
    _, report, _ = check_file(shared_data / file, "gathering_points", store=store, options=options)
    assert report.bad_rows == bad_rows
    if not bad_rows:
        result = import_file(shared_data / file, "gathering_points", store=store, options=options)
        assert result.write is not None
        assert result.write.added == 2


def test_real_kobo_geopoint_cell_reads_with_coordinates(
    shared_data: Path, store: GeoPackageStore
) -> None:
    """The KoBo geopoint cell 'lat lon alt acc' gives the same verdict as the split columns."""
    mapping = ColumnMapping.build(
        columns={"id": "_uuid", "name": "What community are you from?"},
        defaults={"setting": "camp"},
    )
    for column in ("Please record the location of your local ecosystem.", "_geolocation"):
        options = ImportOptions(mapping=mapping, source=SourceOptions(coordinates=column))
        path = shared_data / "fieldforms" / "kobo_export_semicolon_geopoint_geolocation.csv"
        _, report, _ = check_file(path, "gathering_points", store=store, options=options)
        assert report.bad_rows == (3,)


def test_real_hxl_3w_imports_with_tags_and_content_ids(
    shared_data: Path, fixtures: Path, store: GeoPackageStore
) -> None:
    """The 2014 UNHCR 3W (pre-1.0 tags, no ids, exact copies) imports with 4 mapping lines."""
    path = fixtures / "mappings" / "unhcr_3w_legacy_cip_sites.toml"
    assert _mapping_lines(path) == 4
    options = ImportOptions(mapping=ColumnMapping.from_toml(path), on_duplicate="identical")
    source = shared_data / "hxl" / "hxl_legacy_unhcr_3w_latlon.csv"
    result = import_file(source, "cip_sites", store=store, options=options)
    assert result.write is not None
    dropped = sum(p.rule == "duplicate-dropped" for p in result.report.warnings)
    assert result.write.added + dropped == 2250
    again = import_file(source, "cip_sites", store=store, options=options).write
    assert again is not None
    assert not again.changed


def test_real_hxl_super_header_table_maps_without_a_mapping(shared_data: Path) -> None:
    """The Somalia 3W: tags on line 3 under super-headers; P-codes and names need no mapping."""
    table = read_source(shared_data / "hxl" / "hxl_somalia_drought_by_cluster_adm1_adm2_pcodes.csv")
    assert table.lines is not None
    assert table.lines[0] == 4
    assert "FOOD SECURITY AND LIVELIHOODS / Affected" in table.frame.columns
    found = tag_sources(table.tags, get_layer("gathering_points"))
    assert found["admin_code"] == ("LOCATION / admin2Pcode",)
    assert found["people"] == ("OVERALL Affected / Total Affected",)


def test_retire_missing_and_move_tolerance(
    fixtures: Path, store: GeoPackageStore, tmp_path: Path
) -> None:
    """A snapshot without a row marks it inaccessible (never deleted); a 5 cm move is no change."""
    source = fixtures / "valid" / "gathering_points.csv"
    import_file(source, "gathering_points", store=store)
    text = source.read_text().splitlines()
    snapshot = tmp_path / "snapshot.csv"
    snapshot.write_text("\n".join(text[:-1]) + "\n")
    options = ImportOptions(retire_missing=True, today=dt.date(2026, 12, 4))
    write = import_file(snapshot, "gathering_points", store=store, options=options).write
    assert write is not None
    assert (write.updated, write.deleted) == (1, 0)
    gone = store.read("gathering_points").set_index("id").loc[text[-1].split(",")[0]]
    assert gone["access_status"] == "inaccessible"
    assert "retired" in gone["access_reason"]
    frame = store.read("gathering_points")
    moved = frame.copy()
    moved["geometry"] = moved.geometry.translate(xoff=0.0000005)  # about 5 cm
    jitter = tmp_path / "jitter.geojson"
    moved.to_file(jitter, driver="GeoJSON")
    again = import_file(jitter, "gathering_points", store=store).write
    assert again is not None
    assert not again.changed


def test_admin_areas_catch_points_in_the_wrong_country(
    shared_data: Path, store: GeoPackageStore, tmp_path: Path
) -> None:
    """With Libya's mantikas imported, a point in Tunisia inside Libya's box is flagged, and a
    point in another mantika than its admin code says too; with Libya's outline set, the
    Tunisian point is refused."""
    mapping = ColumnMapping.build(
        columns={"id": "ADM2_PCODE", "name": "ADM2_EN", "parent_code": "ADM1_PCODE"},
        values={"level": {"ADM2": "2"}},
    )
    adm2 = shared_data / LIBYA_ADM2
    import_file(adm2, "admin_areas", store=store, options=ImportOptions(mapping=mapping))
    sites = tmp_path / "gathering_points_wrong_country.csv"
    sites.write_text(
        "id,name,setting,admin_code,lat,lon\n"
        "TN-1,Ben Gardane,camp,,33.14,11.22\n"  # Tunisia, inside Libya's bounding box
        "LY-1,Tripoli,camp,LY0211,32.88,13.19\n"
        "LY-2,Benghazi,camp,LY0211,32.12,20.07\n"  # Benghazi is not in Tripoli mantika
    )
    frame, report, _ = check_file(sites, "gathering_points", store=store)
    assert report.ok
    warned = {p.id: p.rule for p in report.warnings if p.id}
    assert warned == {"TN-1": "outside-area", "LY-2": "admin-mismatch"}
    assert "Benghazi (LY0103)" in next(p.message for p in report.warnings if p.id == "LY-2")
    assert len(frame) == 3
    area = set_boundary(store, shared_data / LIBYA_ADM1, name="Libya")
    assert area.contains(11.22, 33.14)  # the box alone would let it in
    _, refused, _ = check_file(sites, "gathering_points", store=store)
    assert refused.bad_ids == ("TN-1",)


def test_boundary_hints_on_a_country_outline(
    shared_data: Path, store: GeoPackageStore, tmp_path: Path
) -> None:
    """Against Libya's outline: a lost minus sign is told apart from a slipped decimal point."""
    set_boundary(store, shared_data / LIBYA_ADM1, name="Libya")
    sites = tmp_path / "gathering_points_slips_against_outline.csv"
    sites.write_text(
        "id,name,setting,lat,lon\n"
        "A,a,camp,-32.88,13.19\n"  # latitude's sign lost
        "B,b,camp,32.88,131.9\n"  # decimal point slipped
        "C,c,camp,13.19,32.88\n"  # axes exchanged
    )
    _, report, _ = check_file(sites, "gathering_points", store=store)
    rules = {p.id: p.rule for p in report.errors}
    assert rules == {"A": "wrong-sign", "B": "decimal-shift", "C": "lon-lat-swapped"}


# --- exports that re-import, with the types GIS tools expect -------------------------------

ORDER = (  # sites and teams before the visits that name them
    "teams", "gathering_points", "detention_centres", "clinics", "cip_sites", "no_go_zones",
    "admin_areas", "indicators", "outreach_visits",
)  # fmt: skip


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo workspace (every layer but admin areas has rows; one area added)."""
    import shapely

    from geoplan.demo.scenario import build_demo_workspace
    from geoplan.edits import Edit, create_feature

    path = tmp_path_factory.mktemp("demo") / "demo.gpkg"
    build_demo_workspace(path, seed=2, sites=30, visits=60, today=dt.date(2026, 11, 30))
    area = {"id": "LY0101", "name": "Central district", "level": 2}
    create_feature(open_store(path), "admin_areas", Edit(area, shapely.box(12.9, 32.6, 13.6, 33.0)))
    return path


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "csv"])
def test_every_layer_re_imports_from_every_format(demo: Path, tmp_path: Path, fmt: str) -> None:
    """Each layer exported in each format imports into a new workspace as the same rows
    (polygons from WKT in CSV included)."""
    source, target = open_store(demo), open_store(tmp_path / "back.gpkg")
    for layer in ORDER:
        exported = tmp_path / f"{layer}.{fmt}"
        assert export_layer(source, layer, exported) > 0
        import_file(exported, layer, store=target)
        pd.testing.assert_frame_equal(target.read(layer), source.read(layer), obj=layer)


def test_geopackage_exports_keep_dates_as_date(demo: Path, tmp_path: Path) -> None:
    """Date fields are DATE columns in an exported GeoPackage (GDAL reads them as Date)."""
    import pyogrio

    exported = tmp_path / "cip.gpkg"
    export_layer(open_store(demo), "cip_sites", exported)
    info = pyogrio.read_info(exported, layer="cip_sites")
    types = dict(zip(info["fields"], info["ogr_types"], strict=True))
    assert {types[f] for f in ("access_date", "start_date", "end_date")} == {"OFTDate"}


def test_attribute_layers_export_without_geometry(demo: Path, tmp_path: Path) -> None:
    """Visits export to a GeoPackage attribute table: no geometry column, dates as DATE."""
    import pyogrio

    exported = tmp_path / "visits.gpkg"
    export_layer(open_store(demo), "outreach_visits", exported)
    info = pyogrio.read_info(exported, layer="outreach_visits")
    types = dict(zip(info["fields"], info["ogr_types"], strict=True))
    assert (info["geometry_type"], info["geometry_name"], types["date"]) == (None, "", "OFTDate")


def test_a_zone_csv_export_re_imports_by_the_command(demo: Path, tmp_path: Path) -> None:
    """``geoplan export no_go_zones --format csv`` then ``geoplan import no_go_zones`` of that
    file: the polygons come back from the wkt column."""
    from typer.testing import CliRunner

    from geoplan.cli import app

    zones = tmp_path / "zones.csv"
    runner = CliRunner()
    done = runner.invoke(
        app, ["export", "no_go_zones", "-f", "csv", "-o", str(zones), "-w", str(demo)]
    )
    assert done.exit_code == 0, done.output
    other = tmp_path / "other.gpkg"
    done = runner.invoke(app, ["import", "no_go_zones", str(zones), "-w", str(other)])
    assert done.exit_code == 0, done.output
    back, original = open_store(other).read("no_go_zones"), open_store(demo).read("no_go_zones")
    assert back.geometry.geom_equals_exact(original.geometry, tolerance=1e-9).all()


def test_unreadable_wkt_is_a_problem_naming_the_row(tmp_path: Path) -> None:
    """A zone whose wkt cell is not WKT is refused with its row, id, column and value."""
    bad = tmp_path / "zones.csv"
    bad.write_text("id,name,reason,valid_from,wkt\nNGZ-1,Road,clashes,2026-11-01,POLYGON ((13 32\n")
    with pytest.raises(LayerValidationError) as caught:
        import_file(bad, "no_go_zones", store=open_store(tmp_path / "ws.gpkg"))
    problem = next(p for p in caught.value.report.errors if p.rule == "bad-wkt")
    assert (problem.row, problem.id, problem.field, problem.value) == (
        1,
        "NGZ-1",
        "wkt",
        "POLYGON ((13 32",
    )
