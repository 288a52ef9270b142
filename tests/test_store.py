"""The store: its interface and opener, and the GeoPackage store (typed round trips, idempotent
upserts, transactions and concurrency)."""

from __future__ import annotations

import inspect
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyogrio.raw
import pytest
import shapely

from geoplan.catalog import get_layer
from geoplan.errors import ConflictError, DiskFullError, ParameterError, StoreError
from geoplan.layers import validate_table
from geoplan.sources import read_source
from geoplan.store import Store, open_store, row_versions
from geoplan.store.geopackage import GeoPackageStore, decode_geometries, encode_geometry


@pytest.fixture
def sites(fixtures: Path) -> gpd.GeoDataFrame:
    frame, report = validate_table(
        read_source(fixtures / "valid" / "gathering_points.csv"), get_layer("gathering_points")
    )
    assert report.ok
    return frame


@pytest.fixture
def store(tmp_path: Path) -> GeoPackageStore:
    return GeoPackageStore(tmp_path / "ws.gpkg")


@pytest.fixture
def any_store(workspace_name: str) -> Store:
    """A new workspace of each kind of store in turn."""
    return open_store(workspace_name)


def _protocol_methods() -> list[str]:
    return sorted(n for n, v in vars(Store).items() if callable(v) and not n.startswith("_"))


@pytest.mark.parametrize("implementation", ["geopackage", "postgis"])
def test_every_store_has_every_method_of_the_protocol(implementation: str) -> None:
    """Each store class has each Store method with the same parameters (mypy checks the types,
    through the ``-> Store`` of each module's ``open_workspace``)."""
    from geoplan.store.postgis import PostGISStore

    store_class = {"geopackage": GeoPackageStore, "postgis": PostGISStore}[implementation]
    assert {"exists", "ids", "revision", "data_version", "add_key", "find_key"} <= set(
        _protocol_methods()
    )
    for name in _protocol_methods():
        wanted = inspect.signature(getattr(Store, name)).parameters
        found = inspect.signature(getattr(store_class, name)).parameters
        assert [(p.name, p.kind, p.default) for p in found.values()] == [
            (p.name, p.kind, p.default) for p in wanted.values()
        ], name


def test_a_path_opens_a_geopackage_store_without_creating_it(tmp_path: Path) -> None:
    """A path (a Windows drive letter too) is a GeoPackage workspace; nothing is written."""
    store = open_store(tmp_path / "ws.gpkg")
    assert isinstance(store, GeoPackageStore)
    assert not store.exists()
    assert isinstance(open_store("C:\\ops\\ws.gpkg"), GeoPackageStore)
    assert not (tmp_path / "ws.gpkg").exists()


def test_a_url_of_an_unsupported_store_is_refused() -> None:
    """A URL names its scheme and says it is not supported, pointing to what is, and
    leaves out the password."""
    with pytest.raises(
        ParameterError, match=r"mysql workspaces are not supported.*\.gpkg.*postgresql://"
    ) as caught:
        open_store("mysql://planner:s3cret@db.example/ops")
    assert "s3cret" not in str(caught.value)


def test_a_postgresql_dsn_opens_a_postgis_store_without_connecting() -> None:
    """postgresql:// and postgres:// name the PostGIS store; nothing connects until asked."""
    from geoplan.store.postgis import PostGISStore

    assert isinstance(open_store("postgresql://planner:s3cret@db.invalid/ops"), PostGISStore)
    assert isinstance(open_store("postgres://db.invalid/ops"), PostGISStore)


def test_round_trip_keeps_every_field(any_store: Store, sites: gpd.GeoDataFrame) -> None:
    """What is written reads back equal, types included."""
    any_store.upsert("gathering_points", sites)
    back = any_store.read("gathering_points")
    pd.testing.assert_frame_equal(
        pd.DataFrame(back.drop(columns="geometry")), pd.DataFrame(sites.drop(columns="geometry"))
    )
    assert back.geometry.equals(sites.geometry)


def test_reimport_changes_nothing_and_updates_by_id(
    any_store: Store, sites: gpd.GeoDataFrame
) -> None:
    """The same rows again change nothing (not even last change); edited rows update by id."""
    first = any_store.upsert("gathering_points", sites)
    stamp = {i.name: i.last_change for i in any_store.list_layers()}["gathering_points"]
    again = any_store.upsert("gathering_points", sites)
    assert (first.added, again.added, again.updated, again.unchanged) == (3, 0, 0, 3)
    assert {i.name: i.last_change for i in any_store.list_layers()}["gathering_points"] == stamp
    edited = sites.copy()
    edited.loc[1, "name"] = "Farm compound (north)"
    result = any_store.upsert("gathering_points", edited)
    assert (result.added, result.updated, result.unchanged) == (0, 1, 2)
    assert (
        any_store.read("gathering_points", ids=["GP-2"]).loc[0, "name"] == "Farm compound (north)"
    )


def test_read_filters_by_bbox_attributes_and_ids(any_store: Store, sites: gpd.GeoDataFrame) -> None:
    """Reads can be limited to a bounding box, attribute values and ids."""
    any_store.upsert("gathering_points", sites)
    assert list(any_store.read("gathering_points", bbox=(13.2, 32.8, 13.4, 32.9))["id"]) == [
        "GP-2",
        "GP-3",
    ]
    assert list(
        any_store.read("gathering_points", where={"setting": ["shelter", "workplace"]})["id"]
    ) == [
        "GP-2",
        "GP-3",
    ]
    assert list(any_store.read("gathering_points", ids=["GP-3"])["id"]) == ["GP-3"]


def test_delete(any_store: Store, sites: gpd.GeoDataFrame) -> None:
    """Rows are deleted by id; unknown ids are ignored."""
    any_store.upsert("gathering_points", sites)
    assert any_store.delete("gathering_points", ["GP-1", "nope"]).deleted == 1
    assert sorted(any_store.ids("gathering_points")) == ["GP-2", "GP-3"]


def test_gdal_and_geopandas_open_the_workspace(
    store: GeoPackageStore, sites: gpd.GeoDataFrame
) -> None:
    """The file is a GeoPackage GDAL (and so QGIS) reads: every layer, right types and CRS."""
    store.upsert("gathering_points", sites)
    layers = dict(pyogrio.list_layers(store.path))
    assert layers["gathering_points"] == "Point"
    assert layers["no_go_zones"] == "MultiPolygon"
    assert "outreach_visits" in layers
    read = gpd.read_file(store.path, layer="gathering_points")
    assert read.crs.to_epsg() == 4326
    assert list(read["id"]) == ["GP-1", "GP-2", "GP-3"]
    info = pyogrio.read_info(store.path, layer="gathering_points")
    assert info["features"] == 3
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47


def test_geometry_blobs_round_trip() -> None:
    """GeoPackage blobs decode to the geometries encoded, with or without an envelope."""
    geoms = [shapely.Point(13.1, 32.8), shapely.box(13, 32, 14, 33), None]
    decoded = decode_geometries([encode_geometry(g) for g in geoms])
    assert decoded[0].equals(geoms[0])
    assert decoded[1].equals(geoms[1])
    assert decoded[2] is None


def test_failed_write_leaves_nothing(any_store: Store, sites: gpd.GeoDataFrame) -> None:
    """A write that fails after its first chunk is rolled back whole."""
    any_store.upsert("gathering_points", sites.iloc[:1])
    many = pd.concat([sites.iloc[[1]]] * 5000, ignore_index=True)
    many["id"] = [f"M-{i}" for i in range(5000)]

    def fail(layer: str, done: float, total: float | None) -> None:
        raise RuntimeError(f"disk full after {done} of {total}")

    with pytest.raises(RuntimeError, match="disk full after 2000"):
        any_store.upsert("gathering_points", gpd.GeoDataFrame(many, crs=4326), progress=fail)
    assert sorted(any_store.ids("gathering_points")) == ["GP-1"]


def test_a_full_disk_says_so_and_leaves_the_workspace_as_it_was(
    tmp_path: Path, store: GeoPackageStore, sites: gpd.GeoDataFrame, request: pytest.FixtureRequest
) -> None:
    """SQLITE_FULL mid-write: DiskFullError naming the folder, no rollback error on top, and
    the rows already there still read back."""
    store.upsert("gathering_points", sites.iloc[:1])
    request.getfixturevalue("full_disk")
    many = pd.concat([sites.iloc[[1]]] * 5000, ignore_index=True)
    many["id"] = [f"M-{i}" for i in range(5000)]
    with pytest.raises(DiskFullError, match="the disk is full: free space on") as caught:
        store.upsert("gathering_points", gpd.GeoDataFrame(many, crs=4326))
    assert str(tmp_path) in str(caught.value)
    assert sorted(store.ids("gathering_points")) == ["GP-1"]


def test_a_new_workspace_and_its_journal_are_private(
    store: GeoPackageStore, sites: gpd.GeoDataFrame
) -> None:
    """The workspace file is created 0600; SQLite gives its rollback journal the same mode."""
    store.upsert("gathering_points", sites)
    assert store.path.stat().st_mode & 0o777 == 0o600
    journal = store.path.with_name(store.path.name + "-journal")
    conn = sqlite3.connect(store.path, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("DELETE FROM gathering_points")  # the journal exists while this is open
        assert journal.stat().st_mode & 0o777 == 0o600
        conn.execute("ROLLBACK")
    finally:
        conn.close()


def test_added_catalog_field_is_added_to_an_existing_file(
    tmp_path: Path, store: GeoPackageStore, sites: gpd.GeoDataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A field added to a definition becomes a column of an existing workspace."""
    store.upsert("gathering_points", sites)
    layers = tmp_path / "layers"
    layers.mkdir()
    repo_layers = Path(__file__).resolve().parent.parent / "layers"
    for toml in repo_layers.glob("*.toml"):
        (layers / toml.name).write_text(toml.read_text(encoding="utf-8"), encoding="utf-8")
    with (layers / "gathering_points.toml").open("a", encoding="utf-8") as f:
        f.write(
            '\n[[fields]]\nname = "water_point"\ntype = "boolean"\ndescription = "Has water."\n'
        )
    monkeypatch.setenv("GEOPLAN_LAYERS_DIR", str(layers))
    from geoplan.catalog import load_catalog

    load_catalog.cache_clear()
    try:
        store.initialise()
        back = store.read("gathering_points")
        assert "water_point" in back.columns
        assert back["water_point"].isna().all()
    finally:
        monkeypatch.delenv("GEOPLAN_LAYERS_DIR")
        load_catalog.cache_clear()


def test_unreadable_workspace_is_a_store_error(tmp_path: Path) -> None:
    """A file that is not a GeoPackage gives a StoreError, not a crash."""
    bad = tmp_path / "bad.gpkg"
    bad.write_text("this is not sqlite")
    with pytest.raises(StoreError, match=r"bad\.gpkg"):
        open_store(bad).list_layers()


def test_row_versions_follow_the_stored_row(any_store: Store, sites: gpd.GeoDataFrame) -> None:
    """A row's version is the same read back as written, and changes when the row does."""
    any_store.upsert("gathering_points", sites)
    written = row_versions("gathering_points", sites)
    read = row_versions("gathering_points", any_store.read("gathering_points"))
    assert read == written
    assert len(set(read.values())) == 3
    any_store.upsert("gathering_points", sites.iloc[[0]].assign(people=41, men=31))
    after = row_versions("gathering_points", any_store.read("gathering_points"))
    assert after["GP-1"] != read["GP-1"]
    assert (after["GP-2"], after["GP-3"]) == (read["GP-2"], read["GP-3"])


def test_expected_versions_make_writes_compare_and_swap(
    any_store: Store, sites: gpd.GeoDataFrame
) -> None:
    """With expected versions, the second of two writes based on the same read is refused."""
    any_store.upsert("gathering_points", sites.iloc[:2])
    version = row_versions("gathering_points", any_store.read("gathering_points", ids=["GP-1"]))
    first = sites.iloc[[0]].assign(name="first editor")
    second = sites.iloc[[0]].assign(name="second editor")
    assert any_store.upsert("gathering_points", first, expected_versions=version).updated == 1
    with pytest.raises(ConflictError, match="GP-1"):
        any_store.upsert("gathering_points", second, expected_versions=version)
    assert any_store.read("gathering_points", ids=["GP-1"]).loc[0, "name"] == "first editor"
    with pytest.raises(ConflictError, match="GP-2"):  # None: must not exist yet
        any_store.upsert("gathering_points", sites.iloc[[1]], expected_versions={"GP-2": None})
    assert any_store.upsert(
        "gathering_points", sites.iloc[[2]], expected_versions={"GP-3": None}
    ).added
    with pytest.raises(ConflictError):
        any_store.delete("gathering_points", ["GP-1"], expected_versions=version)
    fresh = row_versions("gathering_points", any_store.read("gathering_points", ids=["GP-1"]))
    assert any_store.delete("gathering_points", ["GP-1"], expected_versions=fresh).deleted == 1


def test_revision_moves_with_every_committed_write(
    store: GeoPackageStore, sites: gpd.GeoDataFrame
) -> None:
    """The revision is 0 before the file exists and changes with each write, not with reads."""
    assert store.revision() == 0
    store.upsert("gathering_points", sites)
    first = store.revision()
    store.read("gathering_points")
    assert store.revision() == first
    store.set_setting("k", "v")
    second = store.revision()
    assert second is not None
    assert first is not None
    assert second != first
    conn = sqlite3.connect(store.path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.close()
    assert store.revision() is None  # another program switched to WAL: do not cache


def test_settings(any_store: Store) -> None:
    """Settings are kept, replaced and cleared."""
    assert any_store.get_setting("k") is None
    any_store.set_setting("k", "1")
    any_store.set_setting("k", "2")
    assert any_store.get_setting("k") == "2"
    any_store.set_setting("k", None)
    assert any_store.get_setting("k") is None


_WRITER = textwrap.dedent(
    """
    import sys
    import geopandas as gpd, shapely
    from geoplan.catalog import get_layer
    from geoplan.layers import column_from_values
    from geoplan.store import open_store

    path, worker = sys.argv[1], int(sys.argv[2])
    store = open_store(path)
    layer = get_layer("gathering_points")
    for batch in range(20):
        ids = [f"W{worker}-{batch}-{i}" for i in range(5)]
        data = {f.name: column_from_values(f, [None] * 5) for f in layer.fields}
        data["id"] = column_from_values(layer.field("id"), ids)
        data["name"] = column_from_values(layer.field("name"), ids)
        data["setting"] = column_from_values(layer.field("setting"), ["camp"] * 5)
        points = [shapely.Point(13 + worker / 100, 32 + batch / 100)] * 5
        store.upsert("gathering_points", gpd.GeoDataFrame(data, geometry=points, crs=4326))
    """
)


def test_eight_processes_writing_at_once_lose_nothing(workspace_name: str) -> None:
    """8 processes x 20 transactions x 5 rows, started together on a new workspace (a file, a
    PostGIS schema): 800 rows."""
    path = workspace_name
    procs = [
        subprocess.Popen([sys.executable, "-c", _WRITER, str(path), str(w)], stderr=subprocess.PIPE)
        for w in range(8)
    ]
    for proc in procs:
        _, stderr = proc.communicate(timeout=300)
        assert proc.returncode == 0, stderr.decode()
    ids = open_store(path).ids("gathering_points")
    assert len(ids) == 800
    assert {f"W{w}-{b}-{i}" for w in range(8) for b in range(20) for i in range(5)} == ids


_SLOW_IMPORT = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from geoplan.imports import import_file
    from geoplan.store import open_store

    def progress(layer, done, total):
        print(f"wrote {done}/{total}", flush=True)
        time.sleep(0.2)  # widen the window in which the test kills us mid-transaction

    import_file(Path(sys.argv[2]), "gathering_points", store=open_store(sys.argv[1]), progress=progress)
    print("committed", flush=True)
    """
)


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")
def test_import_killed_midway_leaves_the_workspace_as_it_was(
    tmp_path: Path, store: GeoPackageStore, sites: gpd.GeoDataFrame
) -> None:
    """SIGKILL during an import's transaction: the next reader sees the workspace unchanged."""
    store.upsert("gathering_points", sites)
    before = store.read("gathering_points")
    big = tmp_path / "big.csv"
    rows = [f"BIG-{i},Site {i},camp,{13 + i / 1e6:.6f},32.5" for i in range(20000)]
    big.write_text("id,name,setting,lon,lat\n" + "\n".join(rows) + "\n", encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-c", _SLOW_IMPORT, str(store.path), str(big)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    assert first.startswith("wrote 2000/"), first  # inside the transaction, more to come
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    after = store.read("gathering_points")
    pd.testing.assert_frame_equal(pd.DataFrame(after), pd.DataFrame(before))
    assert gpd.read_file(store.path, layer="gathering_points").shape[0] == 3
    assert store.upsert("gathering_points", sites.iloc[:1].assign(name="renamed")).updated == 1


# --- the spatial index --------------------------------------------------------------------


def _spatial_layers() -> list[str]:
    from geoplan.catalog import load_catalog

    return sorted(name for name, d in load_catalog().items() if d.has_geometry)


def _random_sites(sites: gpd.GeoDataFrame, count: int, seed: int) -> gpd.GeoDataFrame:
    """``count`` copies of the first site at random places around Tripoli, some without a place."""
    rng = np.random.default_rng(seed)
    frame = pd.concat([sites.iloc[[0]]] * count, ignore_index=True)
    frame["id"] = [f"R-{i}" for i in range(count)]
    xs, ys = rng.uniform(12.0, 14.0, count), rng.uniform(32.0, 33.5, count)
    geoms = [
        None if i % 17 == 0 else shapely.Point(x, y)
        for i, (x, y) in enumerate(zip(xs, ys, strict=True))
    ]
    return gpd.GeoDataFrame(frame.drop(columns="geometry"), geometry=geoms, crs=4326)


def _brute_force(frame: gpd.GeoDataFrame, bbox: tuple[float, float, float, float]) -> list[str]:
    return sorted(frame.loc[frame.intersects(shapely.box(*bbox)), "id"])


def _random_boxes(seed: int, count: int) -> list[tuple[float, float, float, float]]:
    rng = np.random.default_rng(seed)
    boxes = []
    for _ in range(count):
        x, y = rng.uniform(11.9, 14.0), rng.uniform(31.9, 33.5)
        w, h = rng.uniform(0.0, 0.6, 2)
        boxes.append((float(x), float(y), float(x + w), float(y + h)))
    return boxes


def test_every_geometry_layer_has_an_rtree_and_an_extension_row(store: GeoPackageStore) -> None:
    """sqlite3 shows rtree_<layer>_geom (an R-tree) and a gpkg_rtree_index row per layer."""
    store.initialise()
    with sqlite3.connect(store.path) as conn:
        virtual = dict(
            conn.execute("SELECT name, sql FROM sqlite_master WHERE name LIKE 'rtree_%_geom'")
        )
        rows = conn.execute(
            "SELECT table_name, column_name, extension_name, definition, scope "
            "FROM gpkg_extensions ORDER BY table_name"
        ).fetchall()
        triggers = {
            r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        }
    layers = _spatial_layers()
    assert sorted(virtual) == [f"rtree_{name}_geom" for name in layers]
    assert all("USING rtree(id, minx, maxx, miny, maxy)" in sql for sql in virtual.values())
    spec = "http://www.geopackage.org/spec120/#extension_rtree"
    assert rows == [(name, "geom", "gpkg_rtree_index", spec, "write-only") for name in layers]
    suffixes = ("insert", "update2", "update4", "update5", "update6", "update7", "delete")
    assert triggers == {f"rtree_{n}_geom_{s}" for n in layers for s in suffixes}


def test_bbox_reads_stay_right_through_upserts_updates_and_deletes(
    store: GeoPackageStore, sites: gpd.GeoDataFrame
) -> None:
    """After inserts, moves, geometries cleared and set, and deletes, every bbox read equals
    a brute-force filter of the rows, and the R-tree holds exactly the rows with a place."""
    frame = _random_sites(sites, 600, seed=3)
    store.upsert("gathering_points", frame)
    moved = _random_sites(sites, 600, seed=4).iloc[::3]  # new places, cleared and set ones
    store.upsert("gathering_points", moved)
    store.delete("gathering_points", [f"R-{i}" for i in range(0, 600, 5)])
    expected = store.read("gathering_points")
    for bbox in _random_boxes(seed=5, count=40):
        got = sorted(store.read("gathering_points", bbox=bbox)["id"])
        assert got == _brute_force(expected, bbox), bbox
    with sqlite3.connect(store.path) as conn:
        indexed = conn.execute("SELECT count(*) FROM rtree_gathering_points_geom").fetchone()[0]
    assert indexed == int(expected.geometry.notna().sum())


def test_bbox_reads_use_the_rtree(store: GeoPackageStore, sites: gpd.GeoDataFrame) -> None:
    """The bbox query asks the R-tree for row ids (SQLite's plan), not a scan of the layer."""
    from geoplan.store.geopackage import _select_sql

    store.upsert("gathering_points", sites)
    sql, params = _select_sql(get_layer("gathering_points"), {}, None, (13.2, 32.8, 13.4, 32.9))
    with sqlite3.connect(store.path) as conn:
        plan = " ".join(r[-1] for r in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params))
    assert "rtree_gathering_points_geom VIRTUAL TABLE INDEX" in plan
    assert "SEARCH gathering_points USING INTEGER PRIMARY KEY" in plan


def _drop_spatial_index(path: Path) -> None:
    """Make the file as geoplan wrote it before the spatial index existed."""
    with sqlite3.connect(path) as conn:
        names = conn.execute(
            "SELECT type, name FROM sqlite_master WHERE type = 'trigger' OR "
            "(type = 'table' AND name LIKE 'rtree_%' AND sql LIKE 'CREATE VIRTUAL%')"
        ).fetchall()
        for kind, name in names:
            conn.execute(f'DROP {kind.upper()} "{name}"')
        conn.execute("DELETE FROM gpkg_extensions")


def test_an_old_workspace_gets_the_index_on_first_open_once(
    store: GeoPackageStore, sites: gpd.GeoDataFrame
) -> None:
    """A workspace without R-trees gets them, filled, at its first read; later opens write
    nothing."""
    store.upsert("gathering_points", sites)
    _drop_spatial_index(store.path)
    reopened = GeoPackageStore(store.path)
    bbox = (13.2, 32.8, 13.4, 32.9)
    assert list(reopened.read("gathering_points", bbox=bbox)["id"]) == ["GP-2", "GP-3"]
    with sqlite3.connect(store.path) as conn:
        extensions = conn.execute("SELECT count(*) FROM gpkg_extensions").fetchone()[0]
        indexed = conn.execute("SELECT count(*) FROM rtree_gathering_points_geom").fetchone()[0]
    assert (extensions, indexed) == (len(_spatial_layers()), 3)
    revision = reopened.revision()
    assert list(GeoPackageStore(store.path).read("gathering_points", bbox=bbox)["id"]) == [
        "GP-2",
        "GP-3",
    ]
    assert GeoPackageStore(store.path).revision() == revision


def test_an_old_workspace_that_cannot_be_written_is_read_by_scanning(
    store: GeoPackageStore, sites: gpd.GeoDataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A workspace without R-trees whose migration fails (a read-only copy) still answers
    bbox reads, by scanning."""
    store.upsert("gathering_points", sites)
    _drop_spatial_index(store.path)

    @contextmanager
    def read_only(self: GeoPackageStore) -> Iterator[sqlite3.Connection]:
        raise StoreError("attempt to write a readonly database")
        yield  # pragma: no cover

    monkeypatch.setattr(GeoPackageStore, "_write", read_only)
    reopened = GeoPackageStore(store.path)
    assert list(reopened.read("gathering_points", bbox=(13.2, 32.8, 13.4, 32.9))["id"]) == [
        "GP-2",
        "GP-3",
    ]


def test_gdal_reports_the_spatial_index_and_reads_with_it(
    store: GeoPackageStore, sites: gpd.GeoDataFrame
) -> None:
    """GDAL sees an R-tree on every geometry layer (HasSpatialIndex, fast spatial filter) and
    its bbox read agrees with the store's."""
    frame = _random_sites(sites, 300, seed=7)
    store.upsert("gathering_points", frame)
    for layer in _spatial_layers():
        sql = f"SELECT HasSpatialIndex('{layer}', 'geom') AS indexed"
        _, _, _, values = pyogrio.raw.read(store.path, sql=sql)
        assert values[0][0] == 1, layer
        assert pyogrio.read_info(store.path, layer=layer)["capabilities"]["fast_spatial_filter"]
    bbox = (12.5, 32.2, 13.1, 32.9)
    gdal = gpd.read_file(store.path, layer="gathering_points", bbox=bbox)
    assert sorted(gdal["id"]) == sorted(store.read("gathering_points", bbox=bbox)["id"])
