"""API keys: created and revoked from the command line, kept in the workspace only as hashes.

A key looks like ``gpk_<key id>_<secret>``. The workspace keeps the key id, the key's role and
name, and the SHA-256 of the whole key; the key itself is shown once, when it is created. The
secret carries 256 random bits, so a plain hash is enough (there is nothing to brute-force), and
hashes are compared in constant time.

Roles, from least to most trusted: ``viewer`` reads layers with the positions of sensitive
sites generalised; ``planner`` reads everything, plans and writes visits; ``admin`` also writes
every layer and manages keys.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from geoplan.errors import NotFoundError, ParameterError, StoreError
from geoplan.store import GeoPackageStore
from geoplan.vocab import Role

KEY_TABLE = "geoplan_api_keys"
_TOKEN = re.compile(r"^gpk_([0-9a-f]{12})_[A-Za-z0-9_-]{43}$")
_BUSY_TIMEOUT_S = 600.0
_SCHEMA = (
    f"CREATE TABLE IF NOT EXISTS {KEY_TABLE} ("
    "key_id TEXT NOT NULL PRIMARY KEY, hash TEXT NOT NULL, role TEXT NOT NULL, "
    "name TEXT NOT NULL DEFAULT '', created TEXT NOT NULL, revoked TEXT)"
)
_COLUMNS = "key_id, role, name, created, revoked"


@dataclass(frozen=True)
class ApiKey:
    """What the workspace knows about a key: never the key itself."""

    key_id: str
    role: str
    name: str
    created: str
    revoked: str | None = None

    @property
    def active(self) -> bool:
        """Whether the key still opens the API."""
        return self.revoked is None


def role_allows(role: str, needed: str) -> bool:
    """Whether ``role`` may do what ``needed`` may (roles nest: admin > planner > viewer)."""
    return check_role(role).rank >= check_role(needed).rank


def check_role(role: str) -> Role:
    """The role, if it is one of :class:`~geoplan.vocab.Role`.

    Raises
    ------
    ParameterError
        For any other name.
    """
    if role not in tuple(Role):
        raise ParameterError(f"role {role!r} is not one of {', '.join(Role)}")
    return Role(role)


def create_key(store: GeoPackageStore, *, role: str, name: str = "") -> tuple[ApiKey, str]:
    """Create a key with a role; returns what is stored and the key, which is not kept.

    Raises
    ------
    ParameterError
        If the role is not one of :class:`~geoplan.vocab.Role`.
    """
    check_role(role)
    key_id = secrets.token_hex(6)
    token = f"gpk_{key_id}_{secrets.token_urlsafe(32)}"
    key = ApiKey(key_id, role, name.strip(), _now())
    store.initialise()  # keys live in the workspace, which must be a GeoPackage first
    with _connection(store, write=True) as conn:
        conn.execute(
            f"INSERT INTO {KEY_TABLE} (key_id, hash, role, name, created) VALUES (?, ?, ?, ?, ?)",  # noqa: S608
            (key.key_id, _hash(token), key.role, key.name, key.created),
        )
    return key, token


def revoke_key(store: GeoPackageStore, key_id: str) -> ApiKey:
    """Revoke a key by its id; the API refuses it from the next request on.

    Raises
    ------
    NotFoundError
        If no key has that id.
    """
    with _connection(store, write=True) as conn:
        conn.execute(
            f"UPDATE {KEY_TABLE} SET revoked = ? WHERE key_id = ? AND revoked IS NULL",  # noqa: S608
            (_now(), key_id),
        )
        row = conn.execute(
            f"SELECT {_COLUMNS} FROM {KEY_TABLE} WHERE key_id = ?",  # noqa: S608
            (key_id,),
        ).fetchone()
    if row is None:
        raise NotFoundError(f"there is no key {key_id!r}; `geoplan keys list` shows the keys")
    return ApiKey(*row)


def list_keys(store: GeoPackageStore) -> list[ApiKey]:
    """Every key, revoked ones included, oldest first."""
    if not store.exists():
        return []
    with _connection(store) as conn:
        rows = conn.execute(f"SELECT {_COLUMNS} FROM {KEY_TABLE} ORDER BY created").fetchall()  # noqa: S608
    return [ApiKey(*row) for row in rows]


def verify_key(store: GeoPackageStore, token: str) -> ApiKey | None:
    """The active key a presented token belongs to, or None (unknown, malformed or revoked)."""
    match = _TOKEN.match(token)
    if match is None or not store.exists():
        return None
    with _connection(store) as conn:
        row = conn.execute(
            f"SELECT {_COLUMNS}, hash FROM {KEY_TABLE} WHERE key_id = ?",  # noqa: S608
            (match[1],),
        ).fetchone()
    if row is None or not hmac.compare_digest(_hash(token), str(row[5])):
        return None
    key = ApiKey(*row[:5])
    return key if key.active else None


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@contextmanager
def _connection(store: GeoPackageStore, *, write: bool = False) -> Iterator[sqlite3.Connection]:
    """A connection with the key table present; a write is one serialised transaction."""
    try:
        conn = sqlite3.connect(store.path, timeout=_BUSY_TIMEOUT_S, isolation_level=None)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open workspace {store.path}: {exc}") from exc
    try:
        conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        if write:
            conn.execute(_SCHEMA)
        elif not _has_key_table(conn):
            conn.execute(_SCHEMA.replace("CREATE TABLE", "CREATE TEMP TABLE"))
        yield conn
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        conn.rollback()
        raise StoreError(f"workspace {store.path}: {exc}") from exc
    finally:
        conn.close()


def _has_key_table(conn: sqlite3.Connection) -> bool:
    found = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (KEY_TABLE,)
    ).fetchone()
    return found is not None
