"""API keys: created and revoked from the command line, kept in the workspace only as hashes.

A key looks like ``gpk_<key id>_<secret>``. The workspace keeps the key id, the key's role and
name, and the SHA-256 of the whole key; the key itself is shown once, when it is created. The
secret carries 256 random bits, so a plain hash is enough (there is nothing to brute-force), and
hashes are compared in constant time. The records are kept through the workspace's
:class:`geoplan.store.Store`, whatever it is.

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
from dataclasses import dataclass

from geoplan.audit import Action, command_line_user, record_event
from geoplan.errors import NotFoundError, ParameterError
from geoplan.store import KeyRecord, Store
from geoplan.vocab import Role

_TOKEN = re.compile(r"^gpk_([0-9a-f]{12})_[A-Za-z0-9_-]{43}$")


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


def create_key(
    store: Store, *, role: str, name: str = "", who: str | None = None
) -> tuple[ApiKey, str]:
    """Create a key with a role; returns what is stored and the key, which is not kept.

    The workspace is created if it does not exist yet. The audit log records it, made by
    ``who`` (the name of the key that asked, or the person at the command line by default).

    Raises
    ------
    ParameterError
        If the role is not one of :class:`~geoplan.vocab.Role`.
    """
    check_role(role)
    key_id = secrets.token_hex(6)
    token = f"gpk_{key_id}_{secrets.token_urlsafe(32)}"
    key = ApiKey(key_id, role, name.strip(), _now())
    store.add_key(KeyRecord(key.key_id, _hash(token), key.role, key.name, key.created))
    what = f"key {key.key_id} ({key.role}) {key.name!r}"
    record_event(store, Action.KEY_CREATED, who=who or command_line_user(), what=what)
    return key, token


def revoke_key(store: Store, key_id: str, *, who: str | None = None) -> ApiKey:
    """Revoke a key by its id; the API refuses it from the next request on. The audit log
    records it, by ``who`` (as for :func:`create_key`).

    Raises
    ------
    NotFoundError
        If no key has that id.
    """
    record = store.revoke_key(key_id, when=_now())
    if record is None:
        raise NotFoundError(f"there is no key {key_id!r}; `geoplan keys list` shows the keys")
    key = _api_key(record)
    what = f"key {key.key_id} ({key.role}) {key.name!r}"
    record_event(store, Action.KEY_REVOKED, who=who or command_line_user(), what=what)
    return key


def list_keys(store: Store) -> list[ApiKey]:
    """Every key, revoked ones included, oldest first."""
    return [_api_key(record) for record in store.list_keys()]


def verify_key(store: Store, token: str) -> ApiKey | None:
    """The active key a presented token belongs to, or None (unknown, malformed or revoked)."""
    match = _TOKEN.match(token)
    if match is None:
        return None
    record = store.find_key(match[1])
    if record is None or not hmac.compare_digest(_hash(token), record.hash):
        return None
    key = _api_key(record)
    return key if key.active else None


def api_who(key: ApiKey) -> str:
    """The "who" of audit entries made through the API: ``api:<key name> (<key id>)``."""
    return f"api:{key.name or 'unnamed'} ({key.key_id})"


def _api_key(record: KeyRecord) -> ApiKey:
    return ApiKey(record.key_id, record.role, record.name, record.created, record.revoked)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
