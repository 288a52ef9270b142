"""The audit log: one entry per audited action, a hash chain that names the first entry edited
or deleted, and reading from a time on."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import psycopg
import pytest

from geoplan.audit import Action, read_log, record_event, verify_log
from geoplan.imports import export_layer, import_file
from geoplan.keys import create_key, revoke_key
from geoplan.policy import change_policy, read_policy, set_policy
from geoplan.store import Store, open_store
from geoplan.store.postgis import PostGISStore

TABLE = "geoplan_audit_log"


@pytest.fixture
def store(workspace_name: str) -> Store:
    """A workspace of each kind with five entries in its log."""
    store = open_store(workspace_name)
    for n in range(5):
        record_event(store, Action.EXPORT_EXACT, who="cli:test", what=f"export {n}", rows=n)
    return store


def _sql(store: Store, statement: str, *args: object) -> None:
    """Tamper with the table directly, as someone with the file or a database login could."""
    if isinstance(store, PostGISStore):
        with psycopg.connect(store.dsn, autocommit=True) as pg:
            pg.execute(statement.replace("?", "%s"), args)  # type: ignore[arg-type]
        return
    with sqlite3.connect(store.path) as conn:  # type: ignore[attr-defined]
        conn.execute(statement, args)


def test_untouched_log_verifies(store: Store) -> None:
    """Five entries chained from the first: intact."""
    check = verify_log(store)
    assert check.ok
    assert check.entries == 5
    assert check.summary() == "audit log intact: 5 entries"


def test_empty_log_verifies(tmp_path: Path) -> None:
    """A workspace without entries is intact."""
    assert verify_log(open_store(tmp_path / "none.gpkg")).ok


def test_edited_entry_is_named(store: Store) -> None:
    """Changing the row count of entry 3 breaks it, and verify names entry 3."""
    _sql(store, f"UPDATE {TABLE} SET rows = 999 WHERE sequence = 3")  # noqa: S608
    check = verify_log(store)
    assert check.first_bad == 3
    assert "changed" in check.problem


def test_edited_who_is_named(store: Store) -> None:
    """Changing who did entry 2 is found at entry 2."""
    _sql(store, f"UPDATE {TABLE} SET who = 'someone else' WHERE sequence = 2")  # noqa: S608
    assert verify_log(store).first_bad == 2


def test_rehashed_entry_breaks_the_next(store: Store) -> None:
    """An edit that recomputes its own hash still breaks the chain at the next entry."""
    from geoplan.audit import entry_hash

    records, _ = store.read_audit()
    forged = records[1].__class__(**{**vars(records[1]), "what": "nothing to see"})
    _sql(
        store,
        f"UPDATE {TABLE} SET what = ?, hash = ? WHERE sequence = 2",  # noqa: S608
        forged.what,
        entry_hash(forged),
    )
    assert verify_log(store).first_bad == 3


def test_deleted_entry_is_named(store: Store) -> None:
    """Deleting entry 2 is found at entry 2."""
    _sql(store, f"DELETE FROM {TABLE} WHERE sequence = 2")  # noqa: S608
    check = verify_log(store)
    assert check.first_bad == 2
    assert "missing" in check.problem


def test_deleted_last_entry_is_named(store: Store) -> None:
    """Deleting the newest entry is found too: the store remembers how many were appended."""
    _sql(store, f"DELETE FROM {TABLE} WHERE sequence = 5")  # noqa: S608
    assert verify_log(store).first_bad == 5


def test_since_keeps_later_entries(store: Store) -> None:
    """``since`` in the future gives nothing; in the past gives everything."""
    assert read_log(store, since=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)) == []
    assert len(read_log(store, since=dt.datetime(2000, 1, 1))) == 5


def _actions(store: Store) -> list[str]:
    return [r.action for r in read_log(store)]


def test_each_audited_action_leaves_one_entry(tmp_path: Path, fixtures: Path) -> None:
    """Creating and revoking a key, changing the policy and exporting a sensitive layer each
    add exactly one entry; exporting a public layer adds none."""
    store = open_store(tmp_path / "ws.gpkg")
    import_file(fixtures / "valid" / "gathering_points.csv", "gathering_points", store=store)
    import_file(fixtures / "valid" / "teams.csv", "teams", store=store)
    key, _ = create_key(store, role="viewer", name="partner")
    assert _actions(store) == ["key_created"]
    revoke_key(store, key.key_id)
    assert _actions(store) == ["key_created", "key_revoked"]
    policy = change_policy(read_policy(store), "gathering_points", "k", "7")
    set_policy(store, policy, who="cli:test", what="gathering_points k = 7")
    assert _actions(store) == ["key_created", "key_revoked", "policy_changed"]
    rows = export_layer(store, "gathering_points", tmp_path / "gp.geojson")
    log = read_log(store)
    assert [r.action for r in log][3:] == ["export_exact"]
    assert log[-1].rows == rows
    export_layer(store, "teams", tmp_path / "teams.csv")
    assert len(read_log(store)) == 4
    assert verify_log(store).ok
