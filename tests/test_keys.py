"""API keys: shown once, stored as hashes, verified in constant time, revocable."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from geoplan.cli import run
from geoplan.errors import NotFoundError, ParameterError
from geoplan.keys import (
    create_key,
    list_keys,
    revoke_key,
    role_allows,
    verify_key,
)
from geoplan.store import open_store
from geoplan.store.geopackage import KEY_TABLE, GeoPackageStore


@pytest.fixture
def store(tmp_path: Path) -> GeoPackageStore:
    return GeoPackageStore(tmp_path / "ws.gpkg")


def test_created_key_verifies_with_its_role(store: GeoPackageStore) -> None:
    """A new key opens with its role and name; a new workspace is created for it."""
    key, token = create_key(store, role="planner", name="team leader Zawiya")
    assert token.startswith(f"gpk_{key.key_id}_")
    assert verify_key(store, token) == key
    assert (key.role, key.name, key.active) == ("planner", "team leader Zawiya", True)
    assert store.ids("gathering_points") == frozenset()  # the file is a real workspace


def test_only_the_hash_is_stored(store: GeoPackageStore) -> None:
    """The workspace holds the SHA-256 of the key, never the key or its secret."""
    _, token = create_key(store, role="viewer")
    raw = store.path.read_bytes()
    assert token.encode() not in raw
    secret = token[len("gpk_") + 12 + 1 :]  # gpk_<12 hex>_<secret>; the secret may hold "_"
    assert len(secret) == 43
    assert secret.encode() not in raw
    with sqlite3.connect(store.path) as conn:
        (stored,) = conn.execute(f"SELECT hash FROM {KEY_TABLE}").fetchone()  # noqa: S608
    assert len(stored) == 64


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # wrong secret
        lambda t: t.replace("gpk_", "gpk_0", 1)[:-1],  # wrong key id
        lambda t: "",
        lambda t: "Bearer " + t,
        lambda t: t + " ",
    ],
)
def test_wrong_or_malformed_tokens_are_refused(store: GeoPackageStore, mangle: object) -> None:
    """Anything but the exact key is refused."""
    _, token = create_key(store, role="admin")
    assert callable(mangle)
    assert verify_key(store, mangle(token)) is None


def test_revoked_key_is_refused_and_listed_as_revoked(store: GeoPackageStore) -> None:
    """Revoking takes effect at once; the key stays listed with its revocation time."""
    key, token = create_key(store, role="admin", name="ops")
    other, other_token = create_key(store, role="viewer")
    revoked = revoke_key(store, key.key_id)
    assert revoked.revoked is not None
    assert verify_key(store, token) is None
    assert verify_key(store, other_token) == other
    assert [(k.key_id, k.active) for k in list_keys(store)] == [
        (key.key_id, False),
        (other.key_id, True),
    ]


def test_unknown_role_and_unknown_key_id(store: GeoPackageStore) -> None:
    """A role outside viewer/planner/admin and an unknown key id are named in the error."""
    with pytest.raises(ParameterError, match="'owner' is not one of viewer, planner, admin"):
        create_key(store, role="owner")
    with pytest.raises(NotFoundError, match="abc"):
        revoke_key(store, "abc")


def test_no_workspace_means_no_keys(store: GeoPackageStore) -> None:
    """Without a workspace file nothing verifies and nothing is listed (and nothing is made)."""
    assert list_keys(store) == []
    assert verify_key(store, "gpk_0123456789ab_" + "x" * 43) is None
    assert not store.path.exists()


def test_roles_nest() -> None:
    """admin may do what a planner may, who may do what a viewer may; not the other way."""
    assert role_allows("admin", "planner")
    assert role_allows("planner", "viewer")
    assert not role_allows("viewer", "planner")
    assert not role_allows("planner", "admin")


def test_keys_commands_create_list_and_revoke(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`geoplan keys create` prints the key once; `list` never shows it; `revoke` stops it."""
    ws = str(tmp_path / "ws.gpkg")
    assert run(["keys", "create", "--role", "planner", "--name", "tablet 3", "-w", ws]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    key = verify_key(open_store(ws), token)
    assert key is not None
    assert key.role == "planner"
    assert run(["keys", "list", "-w", ws]) == 0
    listed = capsys.readouterr().out
    assert key.key_id in listed
    assert token not in listed
    assert run(["keys", "revoke", key.key_id, "-w", ws]) == 0
    assert verify_key(open_store(ws), token) is None


def test_keys_commands_name_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown role is a usage error (2); an unknown key id a failure (1); both named."""
    ws = str(tmp_path / "ws.gpkg")
    assert run(["keys", "create", "--role", "owner", "-w", ws]) == 2
    assert "'owner' is not one of" in capsys.readouterr().err
    assert run(["keys", "create", "--role", "viewer", "-w", ws]) == 0
    assert run(["keys", "revoke", "0123456789ab", "-w", ws]) == 1
    assert "no key '0123456789ab'" in capsys.readouterr().err
