"""Importing files into the workspace, exporting them out, with real files where it matters."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from geoplan.errors import LayerValidationError
from geoplan.imports import (
    ImportOptions,
    check_file,
    check_table,
    export_layer,
    import_file,
    operating_area,
    set_operating_area,
)
from geoplan.layers import ColumnMapping, OperatingArea
from geoplan.sources import read_source
from geoplan.store import Store, open_store

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
