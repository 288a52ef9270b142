"""Partial update files: an id column plus the columns to change, merged onto stored rows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from geoplan.cli import run
from geoplan.errors import LayerValidationError, ParameterError
from geoplan.imports import ImportOptions, export_layer, import_file
from geoplan.layers import ColumnMapping
from geoplan.store import Store, open_store
from geoplan.updates import FieldChange, update_file
from geoplan.vocab import LeftOutReason
from geoplan.workspace import plan_week_from_store

TODAY = dt.date(2026, 12, 3)


@pytest.fixture
def store(fixtures: Path, tmp_path: Path) -> Store:
    """3 gathering points (all open), 2 teams and 2 visits of ``tests/data/valid``."""
    store = open_store(tmp_path / "ws.gpkg")
    for layer in ("gathering_points", "teams", "outreach_visits"):
        import_file(fixtures / "valid" / f"{layer}.csv", layer, store=store)
    return store


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_three_column_file_marks_a_site_inaccessible_and_the_plan_leaves_it_out(
    store: Store, tmp_path: Path
) -> None:
    """id,access_status,access_reason is enough; the next plan leaves the site out as
    inaccessible."""
    before = plan_week_from_store(store, today=TODAY, seed=1, time_limit=1)
    assert "GP-1" in {s.task.site_id for s in before.stops}
    path = _write(
        tmp_path, "access.csv", "id,access_status,access_reason\nGP-1,inaccessible,raid\n"
    )
    update_file(path, "gathering_points", store=store)
    after = plan_week_from_store(store, today=TODAY, seed=1, time_limit=1)
    assert "GP-1" not in {s.task.site_id for s in after.stops}
    reasons = {lo.reason for lo in after.left_out if lo.task.site_id == "GP-1"}
    assert reasons == {LeftOutReason.INACCESSIBLE}


def test_update_says_what_changed_old_to_new(store: Store, tmp_path: Path) -> None:
    """Each changed field is listed per row with its old and new value; the rest is kept."""
    path = _write(tmp_path, "people.csv", "id,people,men,notes\nGP-2,30,30,\nGP-3,12,,gate\n")
    result = update_file(path, "gathering_points", store=store)
    assert set(result.changes) == {
        FieldChange("GP-2", "people", 25, 30),
        FieldChange("GP-2", "men", 25, 30),
        FieldChange("GP-3", "notes", None, "gate"),
    }
    assert "GP-2: people 25 -> 30" in result.summary()
    stored = store.read("gathering_points", ids=["GP-2"]).iloc[0]
    assert stored["name"] == "Farm compound"
    assert stored["women"] == 0
    assert (stored.geometry.x, stored.geometry.y) == (13.25, 32.85)


def test_update_validates_the_merged_rows(store: Store, tmp_path: Path) -> None:
    """A change that breaks a rule with the stored fields (men above people) is refused,
    named by the file's row, and nothing lands, not even the good rows."""
    path = _write(tmp_path, "men.csv", "id,men\nGP-3,5\nGP-2,90\n")
    with pytest.raises(LayerValidationError) as caught:
        update_file(path, "gathering_points", store=store)
    report = caught.value.report
    assert report.bad_rows == (2,)
    assert {p.rule for p in report.errors} == {"parts-exceed-total"}
    assert store.read("gathering_points", ids=["GP-3"])["men"].isna().all()


def test_unknown_id_gets_the_closest_known_ids(store: Store, tmp_path: Path) -> None:
    """An id the layer does not have is refused with a did-you-mean; nothing lands."""
    path = _write(tmp_path, "typo.csv", "id,access_status\nGP-l,restricted\nGP-2,restricted\n")
    with pytest.raises(LayerValidationError) as caught:
        update_file(path, "gathering_points", store=store)
    (problem,) = caught.value.report.errors
    assert (problem.row, problem.rule) == (1, "unknown-id")
    assert "did you mean GP-1" in problem.message
    assert store.read("gathering_points", ids=["GP-2"]).iloc[0]["access_status"] == "open"


def test_same_update_twice_changes_nothing(store: Store, tmp_path: Path) -> None:
    """The second run of a file finds every value in place."""
    path = _write(tmp_path, "again.csv", "id,access_status\nGP-1,restricted\n")
    assert update_file(path, "gathering_points", store=store).write.updated == 1  # type: ignore[union-attr]
    again = update_file(path, "gathering_points", store=store)
    assert again.changes == ()
    assert again.write is not None
    assert not again.write.changed


def test_update_moves_a_point_when_the_file_has_lon_lat(store: Store, tmp_path: Path) -> None:
    """Coordinates in an update file move the site; the change is listed as geometry."""
    path = _write(tmp_path, "moved.csv", "id,lon,lat\nGP-1,13.181,32.881\n")
    result = update_file(path, "gathering_points", store=store)
    assert [c.field for c in result.changes] == ["geometry"]
    point = store.read("gathering_points", ids=["GP-1"]).geometry.iloc[0]
    assert (point.x, point.y) == (13.181, 32.881)


def test_dry_run_update_lists_changes_and_writes_nothing(store: Store, tmp_path: Path) -> None:
    """--dry-run shows the changes without landing them."""
    path = _write(tmp_path, "dry.csv", "id,name\nGP-1,Souq block B\n")
    result = update_file(path, "gathering_points", store=store, dry_run=True)
    assert result.write is None
    assert result.changes == (FieldChange("GP-1", "name", "Souq block A", "Souq block B"),)
    assert store.read("gathering_points", ids=["GP-1"]).iloc[0]["name"] == "Souq block A"


def test_export_columns_makes_an_update_file(store: Store, tmp_path: Path) -> None:
    """export --columns writes the id and those fields only; edited, it imports with
    --update."""
    path = tmp_path / "access.csv"
    export_layer(store, "gathering_points", path, columns=["access_status", "access_reason"])
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "id,access_status,access_reason"
    path.write_text(
        "\n".join([lines[0], "GP-3,inaccessible,clashes", *lines[1:3]]) + "\n", encoding="utf-8"
    )
    result = update_file(path, "gathering_points", store=store)
    assert {(c.id, c.field) for c in result.changes} == {
        ("GP-3", "access_status"),
        ("GP-3", "access_reason"),
    }


def test_export_columns_refuses_unknown_fields(store: Store, tmp_path: Path) -> None:
    """A column that is no field is named with the closest field."""
    with pytest.raises(ParameterError, match="access_status"):
        export_layer(store, "gathering_points", tmp_path / "x.csv", columns=["acces_status"])


def test_cli_update_prints_each_change(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`geoplan import LAYER FILE --update` prints old -> new per row and field."""
    path = _write(tmp_path, "access.csv", "id,access_status\nGP-3,restricted\n")
    workspace = str(tmp_path / "ws.gpkg")
    code = run(["import", "gathering_points", str(path), "--update", "--workspace", workspace])
    assert code == 0
    assert "GP-3: access_status 'open' -> 'restricted'" in capsys.readouterr().out


def test_update_reads_a_shift_in_one_cell(store: Store, tmp_path: Path) -> None:
    """A teams update file with a `shift` column sets both shift_start and shift_end."""
    path = _write(tmp_path, "shift.csv", "id,shift\nT-MED,8:00-16:00\n")
    result = update_file(path, "teams", store=store)
    assert set(result.changes) == {FieldChange("T-MED", "shift_end", "15:00", "16:00")}


def test_a_column_that_is_no_field_is_an_error_in_an_update(store: Store, tmp_path: Path) -> None:
    """`status` for access_status would change nothing: it is refused with the field meant."""
    path = _write(tmp_path, "status.csv", "id,acces_status\nGP-1,inaccessible\n")
    with pytest.raises(LayerValidationError) as caught:
        update_file(path, "gathering_points", store=store)
    (problem,) = caught.value.report.errors
    assert "did you mean access_status" in problem.message


def test_visits_update_without_geometry(fixtures: Path, store: Store, tmp_path: Path) -> None:
    """A table layer (outreach visits) takes update files too."""
    path = _write(tmp_path, "referrals.csv", "id,referrals\nV-2,2\n")
    result = update_file(path, "outreach_visits", store=store)
    assert result.changes == (FieldChange("V-2", "referrals", 0, 2),)


def test_update_with_a_mapping_and_an_id_prefix(store: Store, tmp_path: Path) -> None:
    """--map and --id-prefix apply once, to the file's columns."""
    path = _write(tmp_path, "mapped.csv", "code,Status\n1,restricted\n")
    mapping = ColumnMapping.build(
        columns={"id": "code", "access_status": "Status"}, id_prefix="GP-"
    )
    result = update_file(
        path, "gathering_points", store=store, options=ImportOptions(mapping=mapping)
    )
    assert result.changes == (FieldChange("GP-1", "access_status", "open", "restricted"),)
    assert list(result.to_frame().columns) == ["id", "field", "old", "new"]


def test_summary_shows_the_first_changes(store: Store, tmp_path: Path) -> None:
    """A long list of changes is cut with a count of the rest."""
    path = _write(tmp_path, "all.csv", "id,notes\nGP-1,a\nGP-2,b\nGP-3,c\n")
    text = update_file(path, "gathering_points", store=store, dry_run=True).summary(limit=1)
    assert text.splitlines()[-1] == "  ... and 2 more"
