"""Single-feature edits: validated like imports, refused when based on a stale version."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import shapely

from geoplan.edits import (
    Edit,
    create_feature,
    delete_feature,
    read_feature,
    replace_feature,
    update_feature,
)
from geoplan.errors import AlreadyExistsError, ConflictError, LayerValidationError, NotFoundError
from geoplan.imports import import_file, set_operating_area
from geoplan.layers import OperatingArea
from geoplan.store import Store, open_store

NEW = {"id": "GP-9", "name": "Camp west", "setting": "camp", "services_needed": ["health", "nfi"]}


@pytest.fixture
def store(tmp_path: Path, fixtures: Path) -> Store:
    store = open_store(tmp_path / "ws.gpkg")
    import_file(fixtures / "valid" / "gathering_points.csv", "gathering_points", store=store)
    return store


def test_create_then_read_back(store: Store) -> None:
    """A created feature reads back with defaults filled in and a version."""
    made = create_feature(store, "gathering_points", Edit(NEW, shapely.Point(13.1, 32.9)))
    row = made.frame.iloc[0]
    assert (row["services_needed"], row["visit_frequency_days"]) == ("health,nfi", 14)
    assert read_feature(store, "gathering_points", "GP-9").version == made.version


def test_create_with_a_taken_id(store: Store) -> None:
    """An id already in the layer is refused, naming it."""
    with pytest.raises(AlreadyExistsError, match="GP-1"):
        create_feature(
            store, "gathering_points", Edit({**NEW, "id": "GP-1"}, shapely.Point(13, 32))
        )


def test_edits_are_validated_like_imports(store: Store) -> None:
    """The import's rules apply, the workspace's operating area included; nothing is written."""
    set_operating_area(store, OperatingArea(11.5, 32.0, 14.5, 33.2))
    bad = Edit({**NEW, "people": 3, "men": 5}, shapely.Point(32.9, 13.1))
    with pytest.raises(LayerValidationError) as caught:
        create_feature(store, "gathering_points", bad)
    assert {p.rule for p in caught.value.report.errors} == {"parts-exceed-total", "lon-lat-swapped"}
    assert "GP-9" not in store.ids("gathering_points")


def test_two_edits_from_the_same_read_one_wins(store: Store) -> None:
    """The second update based on the same version is refused; the first one stays."""
    seen = read_feature(store, "gathering_points", "GP-2")
    first = {"visit_frequency_days": 30}
    second = {"visit_frequency_days": 40}
    update_feature(store, "gathering_points", "GP-2", first, version=seen.version)
    with pytest.raises(ConflictError, match="GP-2"):
        update_feature(store, "gathering_points", "GP-2", second, version=seen.version)
    stored = read_feature(store, "gathering_points", "GP-2").frame
    assert stored.loc[0, "visit_frequency_days"] == 30


def test_update_clears_and_keeps_fields(store: Store) -> None:
    """None clears a field; fields not named and the geometry stay as they were."""
    seen = read_feature(store, "gathering_points", "GP-1")
    after = update_feature(
        store, "gathering_points", "GP-1", {"men": None}, version=seen.version
    ).frame.iloc[0]
    assert pd.isna(after["men"])
    assert after["people"] == 40
    assert after["name"] == "Souq block A"
    assert after.geometry.equals(seen.frame.geometry.iloc[0])


def test_replace_and_delete_need_the_current_version(store: Store) -> None:
    """Replace and delete refuse a stale version and an unknown id."""
    seen = read_feature(store, "gathering_points", "GP-3")
    replaced = replace_feature(
        store,
        "gathering_points",
        "GP-3",
        Edit(NEW, shapely.Point(13.3, 32.86)),
        version=seen.version,
    )
    assert replaced.frame.loc[0, "id"] == "GP-3"  # the path's id wins over the body's
    assert replaced.frame.loc[0, "name"] == "Camp west"
    with pytest.raises(ConflictError):
        delete_feature(store, "gathering_points", "GP-3", version=seen.version)
    delete_feature(store, "gathering_points", "GP-3", version=replaced.version)
    with pytest.raises(NotFoundError, match="GP-3"):
        read_feature(store, "gathering_points", "GP-3")
