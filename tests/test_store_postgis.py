"""The PostGIS store beyond what every store does (tests/test_store.py runs those on it too):
its schema, constraints, GiST indexes, the revision trigger that sees edits made straight in
the tables, passwords kept out of messages, and copying workspaces to and from GeoPackage."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pandas as pd
import psycopg
import pytest

from geoplan.catalog import get_layer, load_catalog
from geoplan.cli import run
from geoplan.demo.scenario import build_demo_workspace
from geoplan.errors import ParameterError, StoreError
from geoplan.keys import create_key, revoke_key
from geoplan.layers import validate_table
from geoplan.sources import read_source
from geoplan.store import Store, copy_workspace, open_store
from tests.conftest import drop_postgis_workspace, new_postgis_workspace


@pytest.fixture
def dsn(postgis_server: str) -> Iterator[str]:
    """A new, empty PostGIS workspace (its own schema)."""
    workspace = new_postgis_workspace(postgis_server)
    yield workspace
    drop_postgis_workspace(workspace)


@pytest.fixture
def sites(fixtures: Path) -> gpd.GeoDataFrame:
    frame, report = validate_table(
        read_source(fixtures / "valid" / "gathering_points.csv"), get_layer("gathering_points")
    )
    assert report.ok
    return frame


def _sql(dsn: str, query: str) -> list[tuple[object, ...]]:
    """Run SQL as another program would (QGIS, psql), in the workspace's schema."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        cur = conn.execute(query)  # type: ignore[call-overload]
        return cur.fetchall() if cur.description else []


def test_every_geometry_layer_is_typed_in_4326_with_a_gist_index(dsn: str) -> None:
    """Each catalog layer is a table; geometry layers have geom in EPSG:4326 of the catalog's
    type, indexed with GiST, and are listed for QGIS in geometry_columns."""
    open_store(dsn).initialise()
    columns = {
        name: (kind, srid)
        for name, kind, srid in _sql(
            dsn,
            "SELECT f_table_name, type, srid FROM geometry_columns "
            "WHERE f_table_schema = current_schema()",
        )
    }
    spatial = [d for d in load_catalog().values() if d.has_geometry]
    assert columns == {
        d.name: ("POINT" if d.geometry == "Point" else "MULTIPOLYGON", 4326) for d in spatial
    }
    indexes = _sql(
        dsn,
        "SELECT tablename, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
        "AND indexdef LIKE '%USING gist (geom)%'",
    )
    assert sorted(t for t, _ in indexes) == sorted(d.name for d in spatial)
    tables = {
        r[0]
        for r in _sql(dsn, "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
    }
    assert set(load_catalog()) <= tables


def test_catalog_rules_are_constraints(dsn: str, sites: gpd.GeoDataFrame) -> None:
    """A row written straight into a table must still keep the catalog's rules: a unique id,
    required fields, allowed values and ranges."""
    open_store(dsn).upsert("gathering_points", sites)
    bad = {
        "duplicate id": "INSERT INTO gathering_points (id, name, setting) VALUES ('GP-1', 'x', 'camp')",
        "required name": "INSERT INTO gathering_points (id, setting) VALUES ('GP-9', 'camp')",
        "unknown setting": "INSERT INTO gathering_points (id, name, setting) VALUES ('GP-9', 'x', 'castle')",
        "negative count": "INSERT INTO gathering_points (id, name, setting, people) VALUES ('GP-9', 'x', 'camp', -1)",
        "unknown service": "INSERT INTO clinics (id, name, kind, services) VALUES ('C-9', 'x', 'own_clinic', 'health,magic')",
    }
    for what, statement in bad.items():
        with pytest.raises(psycopg.errors.IntegrityError):
            _sql(dsn, statement)
        assert what
    _sql(
        dsn,
        "INSERT INTO clinics (id, name, kind, services) VALUES ('C-9', 'x', 'own_clinic', 'health,mhpss')",
    )


def test_an_edit_made_straight_in_a_table_moves_the_revision(
    dsn: str, sites: gpd.GeoDataFrame
) -> None:
    """QGIS editing the table (any SQL client, any search_path) moves the revision and the
    layer's last change, so every API worker's caches see the edit at their next request."""
    store = open_store(dsn)
    store.upsert("gathering_points", sites)
    before = store.revision()
    stamp = {i.name: i.last_change for i in store.list_layers()}["gathering_points"]
    schema = dsn.rpartition("search_path%3D")[2].partition("%2C")[0]
    plain = dsn.partition("?")[0]  # no search_path: the schema named in the statement
    edit = f"UPDATE {schema}.gathering_points SET name = 'renamed in QGIS' WHERE id = 'GP-1'"  # noqa: S608  (a test's own schema name)
    _sql(plain, edit)
    after = store.revision()
    assert before is not None
    assert after is not None
    assert after > before
    assert store.read("gathering_points", ids=["GP-1"]).loc[0, "name"] == "renamed in QGIS"
    assert {i.name: i.last_change for i in store.list_layers()}["gathering_points"] > stamp


def test_nothing_changed_moves_nothing(dsn: str, sites: gpd.GeoDataFrame) -> None:
    """The same rows again, and deleting unknown ids, leave the revision where it was."""
    store = open_store(dsn)
    store.upsert("gathering_points", sites)
    before = store.revision()
    store.upsert("gathering_points", sites)
    store.delete("gathering_points", ["nope"])
    assert store.revision() == before


def test_a_big_write_moves_the_revision_once_per_chunk(dsn: str, sites: gpd.GeoDataFrame) -> None:
    """5,000 rows are copied in three chunks, each upserted by one statement (which fires its
    INSERT and UPDATE triggers): the revision moves 6 times, not 5,000."""
    store = open_store(dsn)
    store.initialise()
    before = store.revision()
    many = pd.concat([sites.iloc[[1]]] * 5000, ignore_index=True)
    many["id"] = [f"M-{i}" for i in range(5000)]
    assert store.upsert("gathering_points", gpd.GeoDataFrame(many, crs=4326)).added == 5000
    assert store.revision() == (before or 0) + 2 * 3


def test_key_revocation_moves_the_revision(dsn: str) -> None:
    """Revoking a key is a committed write like any other: caches of keys drop it."""
    store = open_store(dsn)
    key, _ = create_key(store, role="viewer", name="dashboard")
    before = store.data_version()
    revoke_key(store, key.key_id)
    assert store.data_version() != before
    found = store.find_key(key.key_id)
    assert found is not None
    assert found.revoked


def test_a_server_that_cannot_be_reached_is_a_store_error_without_the_password() -> None:
    """A wrong port: StoreError naming the workspace without its password, and what to check."""
    store = open_store("postgresql://geoplan:s3cret-pw@127.0.0.1:9/geoplan")
    with pytest.raises(
        StoreError, match=r"cannot open workspace postgresql://geoplan@127\.0\.0\.1:9/geoplan"
    ) as caught:
        store.exists()
    assert "s3cret-pw" not in str(caught.value)
    assert "running" in str(caught.value)


def test_a_wrong_password_is_a_store_error_without_the_password(postgis_server: str) -> None:
    """A refused password is named as such, never printed."""
    user, _, rest = postgis_server.partition("://")[2].partition("@")
    wrong = f"postgresql://{user.partition(':')[0]}:not-the-password@{rest}"
    with pytest.raises(StoreError, match="password") as caught:
        open_store(wrong).exists()
    assert "not-the-password" not in str(caught.value)


@pytest.fixture(scope="module")
def demo_gpkg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo workspace with every layer filled, an operating area and two keys."""
    path = tmp_path_factory.mktemp("copy") / "demo.gpkg"
    build_demo_workspace(path, sites=60, visits=120)
    store = open_store(path)
    create_key(store, role="admin", name="office")
    key, _ = create_key(store, role="viewer", name="old dashboard")
    revoke_key(store, key.key_id)
    return path


def _assert_same_workspace(a: Store, b: Store) -> None:
    for info in a.list_layers():
        pd.testing.assert_frame_equal(a.read(info.name), b.read(info.name), obj=info.name)
    assert a.list_keys() == b.list_keys()
    assert a.settings() == b.settings()


def test_copy_geopackage_to_postgis_and_back_loses_nothing(
    demo_gpkg: Path, dsn: str, tmp_path: Path
) -> None:
    """GeoPackage -> PostGIS -> GeoPackage: every layer's frame equal, the keys (revoked one
    too) and the operating area kept."""
    source = open_store(demo_gpkg)
    assert all(i.rows for i in source.list_layers() if not get_layer(i.name).optional)
    result = copy_workspace(source, open_store(dsn))
    assert result.keys == 2
    assert result.settings == 1
    _assert_same_workspace(source, open_store(dsn))
    back = open_store(tmp_path / "back.gpkg")
    copy_workspace(open_store(dsn), back)
    _assert_same_workspace(source, back)


def test_copy_refuses_a_target_that_is_not_empty(demo_gpkg: Path, dsn: str) -> None:
    """Copying into a workspace that holds rows would mix two workspaces: refused."""
    copy_workspace(open_store(demo_gpkg), open_store(dsn))
    with pytest.raises(ParameterError, match="already holds rows in"):
        copy_workspace(open_store(demo_gpkg), open_store(dsn))


def test_workspace_copy_command_prints_no_password(
    demo_gpkg: Path, dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`geoplan workspace copy FROM TO` says what it copied, naming the DSN without its
    password; a second copy into the same place is refused as wrong usage."""
    password = dsn.partition("://")[2].partition("@")[0].partition(":")[2]
    assert run(["workspace", "copy", str(demo_gpkg), dsn]) == 0
    printed = capsys.readouterr()
    assert "API key(s)" in printed.out
    assert password
    assert password not in printed.out + printed.err
    assert run(["workspace", "copy", str(demo_gpkg), dsn]) == 2
    printed = capsys.readouterr()
    assert "already holds" in printed.err
    assert password not in printed.out + printed.err
