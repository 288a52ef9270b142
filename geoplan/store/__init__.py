"""The workspace store: every layer, persisted, behind one small interface.

:class:`Store` declares everything callers ask of a workspace: its layers (read, upsert,
delete, by id and version), its settings, its API keys (records only; the key logic is
:mod:`geoplan.keys`), its audit log (append and read; the chain is :mod:`geoplan.audit`) and a cheap way to learn that something changed. Callers hold a
:class:`Store` from :func:`open_store` and never ask which implementation it is.

Every store keeps the same promises: each write is one transaction (committed whole or not at
all), concurrent writers queue instead of failing or losing a write, and a process killed
mid-write leaves the workspace as it was.

Implementations, one module each, chosen by the workspace's name:

- a path: one GeoPackage file that QGIS and GDAL open as it is (:mod:`geoplan.store.geopackage`);
- a ``postgresql://`` DSN: a schema of a PostgreSQL database with PostGIS, for a server that
  several API workers and people share (:mod:`geoplan.store.postgis`).

A new kind of store is one module with ``open_workspace(workspace: str) -> Store`` and one line
in :data:`_IMPLEMENTATIONS`, under the URL scheme that names it.
"""

from __future__ import annotations

import hashlib
import importlib
import math
import re
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import pandas as pd
import shapely

from geoplan.catalog import FieldDef, LayerDef, get_layer
from geoplan.errors import ParameterError
from geoplan.progress import Progress

DEFAULT_WORKSPACE = "geoplan.gpkg"
BBox = tuple[float, float, float, float]
PlainValue = str | int | float | bytes | None
DataVersion = Hashable
"""A token that stays equal while nothing is committed to the workspace, by anyone."""

_IMPLEMENTATIONS: dict[str, str] = {
    "": "geoplan.store.geopackage",  # a path (no URL scheme)
    "postgresql": "geoplan.store.postgis",
    "postgres": "geoplan.store.postgis",
}
"""The module that opens each kind of workspace, by URL scheme ("" for a file path)."""
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):")  # two letters at least: C:\ is a path


@dataclass(frozen=True)
class LayerInfo:
    """A layer in the workspace: its name, row count and last change (UTC)."""

    name: str
    rows: int
    last_change: str | None


@dataclass(frozen=True)
class WriteResult:
    """What a write did: rows added, updated, left unchanged and deleted."""

    layer: str
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0

    @property
    def changed(self) -> bool:
        """Whether the write changed anything."""
        return bool(self.added or self.updated or self.deleted)

    def __str__(self) -> str:
        return (
            f"{self.layer}: {self.added} added, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.deleted} deleted"
        )


@dataclass(frozen=True)
class KeyRecord:
    """An API key as the workspace keeps it: the SHA-256 of the key, never the key itself."""

    key_id: str
    hash: str
    role: str
    name: str
    created: str
    revoked: str | None = None


@dataclass(frozen=True)
class PlanRecord:
    """A saved weekly plan as the workspace keeps it (:mod:`geoplan.plans` makes and reads
    them): its id, ISO week, status, when (UTC, ISO 8601) and by whom, a short JSON summary
    for lists, and the JSON document of the plan and its inputs (empty in lists)."""

    id: str
    week: str
    status: str
    created: str
    created_by: str
    summary: str
    document: str = ""


@dataclass(frozen=True)
class AuditRecord:
    """One entry of the audit log (:mod:`geoplan.audit` makes and checks them).

    ``sequence`` counts from 1; ``previous`` is the hash of the entry before (64 zeros for the
    first) and ``hash`` the SHA-256 of this entry's other fields.
    """

    sequence: int
    when: str
    who: str
    action: str
    what: str
    rows: int | None
    previous: str
    hash: str


AuditSeal = Callable[[int, str], AuditRecord]
"""Makes the next audit entry from its sequence number and the hash of the entry before."""


class Store(Protocol):
    """Where layers, settings and API keys live. Reads return typed frames (see
    :mod:`geoplan.layers`); every write is one transaction."""

    def exists(self) -> bool:
        """Whether the workspace exists yet (it is created by the first write)."""
        ...

    def initialise(self) -> None:
        """Create the workspace with every catalog layer (empty), or bring it up to date."""
        ...

    def list_layers(self) -> list[LayerInfo]:
        """Every catalog layer with its row count and last change."""
        ...

    def read(
        self,
        layer: str,
        *,
        bbox: BBox | None = None,
        where: Mapping[str, object] | None = None,
        ids: Iterable[str] | None = None,
    ) -> pd.DataFrame:
        """Rows of a layer, optionally within a bounding box, matching attribute values or ids."""
        ...

    def ids(self, layer: str) -> frozenset[str]:
        """All ids of a layer."""
        ...

    def revision(self) -> int | None:
        """A number that changes with every committed write, for caches; 0 before the
        workspace exists, None when it cannot be known (callers must then not cache)."""
        ...

    def data_version(self) -> DataVersion | None:
        """A token that changes whenever anyone commits to the workspace (this process or
        another), cheap enough to ask on every request; None when it cannot be watched."""
        ...

    def upsert(
        self,
        layer: str,
        frame: pd.DataFrame,
        *,
        progress: Progress | None = None,
        expected_versions: Mapping[str, str | None] | None = None,
    ) -> WriteResult:
        """Insert new rows and update changed ones by id, in one transaction.

        With ``expected_versions`` (id -> version from :func:`row_versions`, or None for
        "must not exist yet") the write happens only if every listed row is still in that
        state, checked inside the same transaction.

        Raises
        ------
        ConflictError
            If a listed row changed, appeared or disappeared since its version was read.
        """
        ...

    def delete(
        self,
        layer: str,
        ids: Iterable[str],
        *,
        expected_versions: Mapping[str, str | None] | None = None,
    ) -> WriteResult:
        """Delete rows by id, in one transaction; unknown ids are ignored.

        Raises
        ------
        ConflictError
            If ``expected_versions`` is given and a listed row is no longer in that version.
        """
        ...

    def get_setting(self, key: str) -> str | None:
        """A workspace setting (for example the operating area), or None."""
        ...

    def set_setting(self, key: str, value: str | None) -> None:
        """Set or (with None) clear a workspace setting."""
        ...

    def settings(self) -> dict[str, str]:
        """Every workspace setting, by key (empty before the workspace exists)."""
        ...

    def add_key(self, key: KeyRecord) -> None:
        """Keep a new key's record, creating the workspace if it does not exist yet."""
        ...

    def find_key(self, key_id: str) -> KeyRecord | None:
        """The record of a key by its id, revoked or not; None if there is none."""
        ...

    def list_keys(self) -> list[KeyRecord]:
        """Every key's record, revoked ones included, oldest first."""
        ...

    def revoke_key(self, key_id: str, *, when: str) -> KeyRecord | None:
        """Mark a key revoked at ``when`` (kept if it already was); its record after that,
        or None if there is no such key."""
        ...

    def add_plan(self, plan: PlanRecord) -> None:
        """Keep a new plan, creating the workspace if needed.

        Raises
        ------
        AlreadyExistsError
            If a plan with its id exists (the caller picks the next id and tries again).
        """
        ...

    def read_plan(self, plan_id: str) -> PlanRecord | None:
        """A plan with its document, or None."""
        ...

    def list_plans(self, *, week: str | None = None) -> list[PlanRecord]:
        """Every plan (of one ISO week), newest first, without documents."""
        ...

    def set_plan_statuses(self, statuses: Mapping[str, str]) -> None:
        """Set the status of several plans in one transaction.

        Raises
        ------
        NotFoundError
            If any of the plans does not exist (then none changes).
        """
        ...

    def delete_plan(self, plan_id: str) -> bool:
        """Delete a plan; whether there was one."""
        ...

    def append_audit(self, seal: AuditSeal) -> AuditRecord:
        """Append one audit entry, creating the workspace if needed: inside one write
        transaction, call ``seal(next sequence, hash of the last entry or 64 zeros)``, keep
        what it returns and count it among the entries ever appended. Entries are never
        updated or deleted through the store."""
        ...

    def read_audit(self) -> tuple[list[AuditRecord], int]:
        """Every audit entry in sequence order, and how many entries were ever appended (kept
        apart from the entries, so that deleting the last ones shows)."""
        ...


def open_store(workspace: Path | str = DEFAULT_WORKSPACE) -> Store:
    """The store of a workspace: a path names a GeoPackage file (created on first write), a
    ``postgresql://`` DSN a PostGIS schema (its tables created on first write).

    Raises
    ------
    ParameterError
        If the workspace is a URL of a kind of store that geoplan does not support.
    """
    name = str(workspace)
    scheme = _scheme(name)
    if scheme not in _IMPLEMENTATIONS:
        msg = (
            f"workspace {workspace_label(name)!r}: {scheme} workspaces are not supported; "
            "give the path of a GeoPackage file (for example geoplan.gpkg) or a PostgreSQL "
            "DSN (postgresql://user:password@host:5432/database)"
        )
        raise ParameterError(msg)
    # Imported when asked for, so that a store's driver is loaded only by its own workspaces.
    opener: Callable[[str], Store] = importlib.import_module(
        _IMPLEMENTATIONS[scheme]
    ).open_workspace
    return opener(name)


def is_url(workspace: Path | str) -> bool:
    """Whether a workspace is named by a URL (a server's DSN) rather than a file path."""
    return isinstance(workspace, str) and _scheme(workspace) != ""


def workspace_label(workspace: Path | str) -> str:
    """A workspace's name fit to print or log: a DSN's password is left out
    (``postgresql://planner@db.example/ops``), in the URL and in ``password=`` options."""
    name = str(workspace)
    if not is_url(name):
        return name
    parts = urlsplit(name)
    if parts.password is not None:
        host = parts.netloc.rpartition("@")[2]
        user = unquote(parts.username or "")
        parts = parts._replace(netloc=f"{quote(user)}@{host}" if user else host)
    query = "&".join(
        p for p in parts.query.split("&") if p and not p.lower().startswith("password=")
    )
    return urlunsplit(parts._replace(query=query))


def _scheme(workspace: str) -> str:
    match = _SCHEME.match(workspace)
    return "" if match is None else match[1].lower()


# --- rows as plain values, shared by every store -------------------------------------------


def field_order(definition: LayerDef) -> list[FieldDef]:
    """A layer's fields as stores keep them: the id first, then the others in catalog order."""
    id_field = definition.field(definition.id_field)
    return [id_field, *(f for f in definition.fields if f.name != definition.id_field)]


def plain_columns(definition: LayerDef, frame: pd.DataFrame) -> list[list[PlainValue]]:
    """The columns of a typed frame as plain values, in :func:`field_order` (geometry left
    out): dates as ISO text, booleans as 0/1, missing values and non-finite numbers as None."""
    return [
        _plain_column(f, frame[f.name]) if f.name in frame else [None] * len(frame)
        for f in field_order(definition)
    ]


def _plain_column(f: FieldDef, series: pd.Series) -> list[PlainValue]:
    if f.type == "date":
        stamps = pd.to_datetime(series, errors="coerce")
        return [None if pd.isna(v) else v.date().isoformat() for v in stamps]
    if f.type == "integer":
        return [None if pd.isna(v) else int(v) for v in series]
    if f.type == "boolean":
        return [None if pd.isna(v) else int(bool(v)) for v in series]
    if f.type == "number":
        return [None if pd.isna(v) or not math.isfinite(float(v)) else float(v) for v in series]
    return [None if pd.isna(v) else str(v) for v in series]


def row_versions(layer: str, frame: pd.DataFrame) -> dict[str, str]:
    """The version of each row of a typed frame, by id: a hash of its plain values and
    geometry (WKB).

    Used as the row's ETag; :meth:`Store.upsert` and :meth:`Store.delete` compare it with the
    stored row inside their write transaction when given ``expected_versions``.
    """
    definition = get_layer(layer)
    columns = plain_columns(definition, frame)
    if definition.has_geometry:
        columns.append(
            [None if g is None else shapely.to_wkb(g, byte_order=1) for g in frame.geometry]
        )
    return {str(row[0]): _version(row) for row in zip(*columns, strict=True)}


def _version(row: tuple[PlainValue, ...]) -> str:
    return hashlib.sha256(repr(row).encode()).hexdigest()[:32]


# --- moving a workspace between stores ------------------------------------------------------


@dataclass(frozen=True)
class CopyResult:
    """What :func:`copy_workspace` copied: rows per layer, keys and settings."""

    rows: Mapping[str, int]
    keys: int
    settings: int

    def summary(self) -> str:
        """One line for people."""
        rows = sum(self.rows.values())
        return (
            f"{rows} row(s) in {len(self.rows)} layer(s), {self.keys} API key(s) and "
            f"{self.settings} setting(s) copied"
        )


def copy_workspace(source: Store, target: Store, *, progress: Progress | None = None) -> CopyResult:
    """Copy everything a workspace holds into an empty one: every layer (row ids, fields and
    geometries as they are), the API keys (hashes, roles, revocations) and the settings (the
    operating area among them).

    Each layer is one write; a copy that stops midway leaves a target that is not empty, so
    that it is not taken for a finished copy: empty it (or make a new one) and copy again.

    Raises
    ------
    ParameterError
        If the source does not exist or the target already holds rows, keys or settings.
    """
    if not source.exists():
        raise ParameterError("the workspace to copy from does not exist")
    _check_empty(target)
    target.initialise()
    rows: dict[str, int] = {}
    for info in source.list_layers():
        frame = source.read(info.name)
        if len(frame):
            target.upsert(info.name, frame, progress=progress)
        rows[info.name] = len(frame)
    keys = source.list_keys()
    for key in keys:
        target.add_key(key)
    settings = source.settings()
    for name, value in settings.items():
        target.set_setting(name, value)
    return CopyResult(rows, len(keys), len(settings))


def _check_empty(target: Store) -> None:
    if not target.exists():
        return
    full = [i.name for i in target.list_layers() if i.rows]
    if full or target.list_keys() or target.settings():
        held = f"rows in {', '.join(full)}" if full else "API keys or settings"
        msg = (
            f"the workspace to copy into already holds {held}; copy into a new GeoPackage "
            "file or an empty PostgreSQL schema, so that nothing is mixed or overwritten"
        )
        raise ParameterError(msg)
