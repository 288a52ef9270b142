"""Single-feature edits: validated like imports, refused when based on a stale version."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import shapely

from geoplan.audit import read_log
from geoplan.edits import (
    Edit,
    create_feature,
    delete_feature,
    read_feature,
    read_site,
    replace_feature,
    set_site_fields,
    update_feature,
)
from geoplan.errors import (
    AlreadyExistsError,
    ConflictError,
    LayerValidationError,
    NotFoundError,
    ParameterError,
)
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


# --- sites by id --------------------------------------------------------------------------


def test_read_site_finds_its_layer_and_every_field(store: Store) -> None:
    """A site id alone finds the layer; every field is there as a plain value, empty ones too."""
    site = read_site(store, "GP-1")
    assert site.layer == "gathering_points"
    assert site.fields["services_needed"] == "health,mhpss"
    assert site.fields["access_reason"] is None
    assert "Gathering points" in site.summary()
    assert site.to_dict()["fields"]["people"] == 40


def test_an_unknown_site_id_suggests_the_closest(store: Store) -> None:
    """A mistyped id is refused naming the closest ids and the layers searched."""
    with pytest.raises(NotFoundError, match=r"GP-12.*did you mean GP-1.*detention_centres"):
        read_site(store, "GP-12")


def test_set_site_fields_parses_by_type_and_keeps_the_old_values(store: Store) -> None:
    """Text values are read as the fields' types; each change holds its old and new value."""
    edit = set_site_fields(
        store,
        "GP-2",
        {
            "access_status": "Inaccessible",
            "access_reason": "checkpoint closed",
            "access_date": "2026-11-30",
            "visit_frequency_days": "7",
            "services_needed": "health; mhpss",
        },
        who="cli:tester",
    )
    changed = edit.to_dict()["changed"]
    assert changed == {
        "access_status": {"old": "open", "new": "inaccessible"},
        "access_date": {"old": None, "new": "2026-11-30"},
        "access_reason": {"old": None, "new": "checkpoint closed"},
        "services_needed": {"old": "health", "new": "health,mhpss"},
        "visit_frequency_days": {"old": 21, "new": 7},
    }
    stored = read_feature(store, "gathering_points", "GP-2").frame.iloc[0]
    assert (stored["access_status"], stored["visit_frequency_days"]) == ("inaccessible", 7)
    assert "access_status: open -> inaccessible" in edit.summary()
    entry = read_log(store)[-1]
    assert (entry.action, entry.who) == ("site_edited", "cli:tester")
    assert entry.what.startswith("gathering_points GP-2: access_status")


def test_set_site_fields_with_nothing_new_writes_no_audit_entry(store: Store) -> None:
    """Values the site already holds change nothing and add nothing to the audit log."""
    edit = set_site_fields(store, "GP-1", {"visit_frequency_days": "14"})
    assert edit.changes == ()
    assert "already holds" in edit.summary()
    assert read_log(store) == []


def test_set_site_fields_empty_value_clears(store: Store) -> None:
    """FIELD= clears an optional field."""
    edit = set_site_fields(store, "GP-1", {"girls": "", "people": "39"})
    assert edit.to_dict()["changed"]["girls"] == {"old": 1, "new": None}


@pytest.mark.parametrize(
    ("values", "match"),
    [
        (
            {"acces_status": "open"},
            r"no field 'acces_status' \(did you mean access_status\?\).*setting",
        ),
        ({"id": "GP-99"}, "names the site"),
        ({}, "at least one"),
    ],
)
def test_set_site_fields_refuses_unknown_fields(
    store: Store, values: dict[str, str], match: str
) -> None:
    """An unknown field (listing the layer's fields), the id or no field at all is refused."""
    before = read_feature(store, "gathering_points", "GP-1").version
    with pytest.raises(ParameterError, match=match):
        set_site_fields(store, "GP-1", values)
    assert read_feature(store, "gathering_points", "GP-1").version == before


def test_set_site_fields_bad_values_write_nothing(store: Store) -> None:
    """Every bad value is reported with its field, value and fix; nothing is written."""
    before = read_feature(store, "gathering_points", "GP-1").version
    values = {"access_status": "closed", "men": "500", "visit_frequency_days": "often"}
    with pytest.raises(LayerValidationError) as caught:
        set_site_fields(store, "GP-1", values)
    problems = {p.field: p for p in caught.value.report.errors}
    assert set(problems) >= {"access_status", "visit_frequency_days"}
    assert problems["access_status"].value == "closed"
    assert "allowed" in problems["access_status"].message
    assert all(p.fix for p in problems.values())
    assert caught.value.report.file == "site GP-1"
    assert read_feature(store, "gathering_points", "GP-1").version == before
    assert read_log(store) == []
