"""The server's view of the workspace: revisions and file states read again only on change."""

from __future__ import annotations

import shutil
from pathlib import Path

import shapely

from geoplan.edits import Edit, create_feature
from geoplan.imports import import_file
from geoplan.keys import create_key
from geoplan.store import open_store
from tests.api_fixtures import FIXTURES


def _clinic(store_path: Path, clinic_id: str) -> None:
    """A write by another connection, as another process or request would make it."""
    edit = Edit({"id": clinic_id, "name": "Clinic", "kind": "own_clinic"}, shapely.Point(13, 32))
    create_feature(open_store(store_path), "clinics", edit)


def test_revision_follows_every_write_by_others(tmp_path: Path) -> None:
    """The remembered revision is the store's own after each write by another connection."""
    path = tmp_path / "ws.gpkg"
    import_file(FIXTURES / "valid" / "teams.csv", "teams", store=open_store(path))
    watched = open_store(path)
    seen = [watched.revision()]
    assert seen[0] == open_store(path).revision()
    assert watched.revision() == seen[0]  # nothing changed: the same answer
    for n in range(3):
        _clinic(path, f"CL-{n}")
        seen.append(watched.revision())
        assert seen[-1] == open_store(path).revision()
    assert len(set(seen)) == len(seen)


def test_state_moves_with_any_commit_and_a_replaced_file(tmp_path: Path) -> None:
    """Keys made elsewhere move the state; so does another file put at the path."""
    path = tmp_path / "ws.gpkg"
    import_file(FIXTURES / "valid" / "teams.csv", "teams", store=open_store(path))
    watched = open_store(path)
    before = watched.data_version()
    assert before is not None
    assert watched.data_version() == before
    create_key(open_store(path), role="viewer", name="elsewhere")
    after = watched.data_version()
    assert after is not None
    assert after != before
    copy = tmp_path / "copy.gpkg"
    shutil.copyfile(path, copy)
    copy.replace(path)
    assert watched.data_version() not in (None, after)
    assert watched.revision() == open_store(path).revision()


def test_a_missing_workspace_is_not_watched(tmp_path: Path) -> None:
    """No file: no state and revision 0, as the store says; nothing is created."""
    watched = open_store(tmp_path / "none.gpkg")
    assert watched.data_version() is None
    assert watched.revision() == 0
    assert not (tmp_path / "none.gpkg").exists()


def test_within_matches_a_scan_cached_or_not(tmp_path: Path) -> None:
    """A bbox read finds the same rows, in the same order, through the cached frame's STRtree
    and (no cache) through the store's R-tree, as scanning the layer does."""
    from api.cache import LayerReader
    from tests.api_fixtures import build_workspace

    store = build_workspace(tmp_path).store
    box = (13.2, 32.8, 13.35, 32.87)
    for entries in (0, 4):
        reader = LayerReader(store, entries=entries)
        found = reader.within("gathering_points", box)
        assert list(found["id"]) == ["GP-2", "GP-3"], entries
