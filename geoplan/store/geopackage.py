"""The GeoPackage store: a workspace kept in one GeoPackage file that QGIS and GDAL open as it is.

Every write is a single SQLite transaction taken with ``BEGIN IMMEDIATE``, so concurrent writers
queue (never crash, never lose a write) and a process killed mid-write leaves the file as it was:
SQLite's rollback journal undoes the torn transaction the next time the file is opened.

This is the only module of geoplan and the API that speaks SQL or knows SQLite; everything else
holds a :class:`geoplan.store.Store`.
"""

from __future__ import annotations

import datetime as dt
import math
import sqlite3
import struct
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from geoplan.catalog import FieldDef, LayerDef, Value, get_layer, load_catalog
from geoplan.errors import AlreadyExistsError, ConflictError, NotFoundError, StoreError
from geoplan.layers import column_from_values
from geoplan.outputs import create_private, disk_full, is_disk_full
from geoplan.progress import Progress
from geoplan.store import (
    AuditRecord,
    AuditSeal,
    BBox,
    KeyRecord,
    LayerInfo,
    PlainValue,
    PlanRecord,
    Store,
    WriteResult,
    field_order,
    plain_columns,
    row_versions,
)

_GPKG_APPLICATION_ID = 0x47504B47  # "GPKG"
_GPKG_USER_VERSION = 10400
_BUSY_TIMEOUT_S = 600.0
_WAL_FORMAT = 2  # byte 18 of the SQLite header: 1 rollback journal, 2 write-ahead log
_CHUNK = 2000
KEY_TABLE = "geoplan_api_keys"
_KEY_SCHEMA = (
    f"CREATE TABLE IF NOT EXISTS {KEY_TABLE} ("
    "key_id TEXT NOT NULL PRIMARY KEY, hash TEXT NOT NULL, role TEXT NOT NULL, "
    "name TEXT NOT NULL DEFAULT '', created TEXT NOT NULL, revoked TEXT)"
)
_KEY_COLUMNS = "key_id, hash, role, name, created, revoked"
PLAN_TABLE = "geoplan_plans"
_PLAN_SCHEMA = (
    f"CREATE TABLE IF NOT EXISTS {PLAN_TABLE} ("
    "id TEXT NOT NULL PRIMARY KEY, week TEXT NOT NULL, status TEXT NOT NULL, "
    "created TEXT NOT NULL, created_by TEXT NOT NULL, summary TEXT NOT NULL, "
    "document TEXT NOT NULL)"
)
_PLAN_LIST_COLUMNS = "id, week, status, created, created_by, summary"
AUDIT_TABLE = "geoplan_audit_log"
# AUTOINCREMENT: SQLite keeps the highest sequence ever given in sqlite_sequence, so deleting
# the last entries still shows (read_audit reports it as the count ever appended).
_AUDIT_SCHEMA = (
    f"CREATE TABLE IF NOT EXISTS {AUDIT_TABLE} ("
    "sequence INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, who TEXT NOT NULL, "
    "action TEXT NOT NULL, what TEXT NOT NULL, rows INTEGER, previous TEXT NOT NULL, "
    "hash TEXT NOT NULL)"
)
_AUDIT_COLUMNS = "sequence, at, who, action, what, rows, previous, hash"
FileVersion = tuple[int, int, int]
"""The file's device, inode and SQLite data version."""


def open_workspace(workspace: str) -> Store:
    """The store of a GeoPackage file (see :func:`geoplan.store.open_store`)."""
    return GeoPackageStore(Path(workspace))


class GeoPackageStore:
    """A workspace kept in one GeoPackage file.

    Each operation opens its own connection, except one read-only connection kept for
    :meth:`data_version`: SQLite's ``PRAGMA data_version`` on it moves whenever any other
    connection commits (an edit through the API, ``geoplan import`` or ``geoplan keys revoke``
    in another process). While it stands still, :meth:`revision` answers from memory instead of
    opening the file. One lock guards that connection (a server asks from several threads).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._watch: sqlite3.Connection | None = None
        self._identity: tuple[int, int] | None = None
        self._revision: tuple[FileVersion, int | None] | None = None
        self._indexed = False
        self._lock = threading.Lock()

    # -- reading ---------------------------------------------------------------------------

    def exists(self) -> bool:
        """Whether the workspace file exists."""
        return self.path.exists()

    def list_layers(self) -> list[LayerInfo]:
        """Every catalog layer with its row count and last change."""
        catalog = load_catalog()
        if not self.exists():
            return [LayerInfo(name, 0, None) for name in catalog]
        with self._connection() as conn:
            changes = dict(
                conn.execute("SELECT table_name, last_change FROM gpkg_contents").fetchall()
            )
            return [
                LayerInfo(
                    name, self._count(conn, name) if name in changes else 0, changes.get(name)
                )
                for name in catalog
            ]

    def read(
        self,
        layer: str,
        *,
        bbox: BBox | None = None,
        where: Mapping[str, object] | None = None,
        ids: Iterable[str] | None = None,
    ) -> pd.DataFrame:
        """Rows of a layer as a typed frame (a GeoDataFrame in EPSG:4326 for spatial layers)."""
        definition = get_layer(layer)
        rows = self._select(definition, where or {}, ids, bbox)
        frame = _frame_from_rows(definition, rows)
        if bbox is not None and isinstance(frame, gpd.GeoDataFrame):  # the index is coarse
            frame = frame.loc[frame.intersects(shapely.box(*bbox))]
        return frame.reset_index(drop=True)

    def ids(self, layer: str) -> frozenset[str]:
        """All ids of a layer."""
        if not self.exists():
            return frozenset()
        with self._connection() as conn:
            if not _has_table(conn, layer):
                return frozenset()
            return frozenset(r[0] for r in conn.execute(f'SELECT id FROM "{layer}"'))  # noqa: S608

    def revision(self) -> int | None:
        """A number that changes with every committed write to the workspace, for caches.

        It is SQLite's file change counter, read while holding a read lock so that it matches
        what a read at the same moment sees; 0 before the file exists. None when the file is
        in write-ahead-log mode (set by another program), where the counter does not move:
        callers must then not cache. Read again only after :meth:`data_version` has moved.
        """
        with self._lock:
            version = self._data_version()
            if version is not None and self._revision is not None and self._revision[0] == version:
                return self._revision[1]
        revision = self._read_revision()  # read after the version: never older than it
        if version is not None:
            with self._lock:
                self._revision = (version, revision)
        return revision

    def data_version(self) -> FileVersion | None:
        """Where the file stands now: its device, inode and SQLite data version, which move
        with any commit by any connection and with another file put at the path; None when
        the file cannot be watched (missing, unreadable)."""
        with self._lock:
            return self._data_version()

    def get_setting(self, key: str) -> str | None:
        """A workspace setting, or None."""
        if not self.exists():
            return None
        with self._connection() as conn:
            if not _has_table(conn, "geoplan_settings"):
                return None
            row = conn.execute(
                "SELECT value FROM geoplan_settings WHERE key = ?", (key,)
            ).fetchone()
            return None if row is None else str(row[0])

    def settings(self) -> dict[str, str]:
        """Every workspace setting, by key."""
        if not self.exists():
            return {}
        with self._connection() as conn:
            if not _has_table(conn, "geoplan_settings"):
                return {}
            return dict(conn.execute("SELECT key, value FROM geoplan_settings ORDER BY key"))

    # -- writing ---------------------------------------------------------------------------

    def upsert(
        self,
        layer: str,
        frame: pd.DataFrame,
        *,
        progress: Progress | None = None,
        expected_versions: Mapping[str, str | None] | None = None,
    ) -> WriteResult:
        """Insert new rows and update changed ones by id, all in one transaction.

        Rows equal to the stored ones are left alone, so importing the same file twice changes
        nothing (not even the layer's last-change time). With ``expected_versions`` (id ->
        version from :func:`geoplan.store.row_versions`, or None for "must not exist yet") the write happens
        only if every listed row is still in that state, checked inside the same transaction.

        Raises
        ------
        ConflictError
            If a listed row changed, appeared or disappeared since its version was read.
        """
        definition = get_layer(layer)
        records = list(_sql_records(definition, frame))
        with self._write() as conn:
            if expected_versions is not None:
                _check_versions(conn, definition, expected_versions)
            existing = _existing(conn, definition, [r[0] for r in records])
            result = _apply_upsert(conn, definition, records, existing, progress)
            if result.changed:
                _touch(conn, definition)
        return result

    def delete(
        self,
        layer: str,
        ids: Iterable[str],
        *,
        expected_versions: Mapping[str, str | None] | None = None,
    ) -> WriteResult:
        """Delete rows by id in one transaction; unknown ids are ignored.

        Raises
        ------
        ConflictError
            If ``expected_versions`` is given and a listed row is no longer in that version.
        """
        definition = get_layer(layer)
        wanted = list(ids)
        with self._write() as conn:
            if expected_versions is not None:
                _check_versions(conn, definition, expected_versions)
            deleted = 0
            for chunk in _chunks(wanted, 500):
                marks = ",".join("?" * len(chunk))
                cur = conn.execute(f'DELETE FROM "{layer}" WHERE id IN ({marks})', chunk)  # noqa: S608
                deleted += cur.rowcount
            if deleted:
                _touch(conn, definition)
        return WriteResult(layer, deleted=deleted)

    def set_setting(self, key: str, value: str | None) -> None:
        """Set (or, with None, clear) a workspace setting."""
        with self._write() as conn:
            if value is None:
                conn.execute("DELETE FROM geoplan_settings WHERE key = ?", (key,))
            else:
                conn.execute(
                    "INSERT INTO geoplan_settings (key, value) VALUES (?, ?) "
                    "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    (key, value),
                )

    def initialise(self) -> None:
        """Create the file with every catalog layer (empty), or bring its schema up to date."""
        with self._write():
            pass

    # -- API keys --------------------------------------------------------------------------

    def add_key(self, key: KeyRecord) -> None:
        """Keep a new key's record, in the workspace's first transaction if it is new."""
        with self._write() as conn:
            conn.execute(_KEY_SCHEMA)
            conn.execute(
                f"INSERT INTO {KEY_TABLE} ({_KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",  # noqa: S608
                (key.key_id, key.hash, key.role, key.name, key.created, key.revoked),
            )

    def find_key(self, key_id: str) -> KeyRecord | None:
        """The record of a key by its id, or None."""
        rows = self._select_keys("WHERE key_id = ?", (key_id,))
        return rows[0] if rows else None

    def list_keys(self) -> list[KeyRecord]:
        """Every key's record, oldest first."""
        return self._select_keys("ORDER BY created", ())

    def revoke_key(self, key_id: str, *, when: str) -> KeyRecord | None:
        """Mark a key revoked at ``when`` unless it already is; its record, or None."""
        if not self.exists():
            return None
        with self._write() as conn:
            if not _has_table(conn, KEY_TABLE):
                return None
            conn.execute(
                f"UPDATE {KEY_TABLE} SET revoked = ? WHERE key_id = ? AND revoked IS NULL",  # noqa: S608
                (when, key_id),
            )
            row = conn.execute(
                f"SELECT {_KEY_COLUMNS} FROM {KEY_TABLE} WHERE key_id = ?",  # noqa: S608
                (key_id,),
            ).fetchone()
        return None if row is None else KeyRecord(*row)

    def _select_keys(self, clause: str, params: tuple[str, ...]) -> list[KeyRecord]:
        if not self.exists():
            return []
        with self._connection() as conn:
            if not _has_table(conn, KEY_TABLE):
                return []
            sql = f"SELECT {_KEY_COLUMNS} FROM {KEY_TABLE} {clause}"  # noqa: S608
            return [KeyRecord(*row) for row in conn.execute(sql, params)]

    # -- saved plans -----------------------------------------------------------------------

    def add_plan(self, plan: PlanRecord) -> None:
        """Keep a new plan; AlreadyExistsError if its id is taken."""
        with self._write() as conn:
            conn.execute(_PLAN_SCHEMA)
            try:
                conn.execute(
                    f"INSERT INTO {PLAN_TABLE} ({_PLAN_LIST_COLUMNS}, document) "  # noqa: S608
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        plan.id,
                        plan.week,
                        plan.status,
                        plan.created,
                        plan.created_by,
                        plan.summary,
                        plan.document,
                    ),
                )
            except sqlite3.IntegrityError:
                raise AlreadyExistsError(f"a plan {plan.id!r} exists already") from None

    def read_plan(self, plan_id: str) -> PlanRecord | None:
        """A plan with its document, or None."""
        rows = self._select_plans(f"{_PLAN_LIST_COLUMNS}, document", "WHERE id = ?", (plan_id,))
        return rows[0] if rows else None

    def list_plans(self, *, week: str | None = None) -> list[PlanRecord]:
        """Every plan (of one week), newest first, without documents."""
        where, params = ("WHERE week = ?", (week,)) if week else ("", ())
        return self._select_plans(
            _PLAN_LIST_COLUMNS, f"{where} ORDER BY created DESC, id DESC", params
        )

    def set_plan_statuses(self, statuses: Mapping[str, str]) -> None:
        """Set plans' statuses in one transaction; NotFoundError (nothing changed) if one is
        missing."""
        with self._write() as conn:
            conn.execute(_PLAN_SCHEMA)
            for plan_id, status in statuses.items():
                changed = conn.execute(
                    f"UPDATE {PLAN_TABLE} SET status = ? WHERE id = ?",  # noqa: S608
                    (status, plan_id),
                ).rowcount
                if not changed:
                    raise NotFoundError(f"no plan {plan_id!r}")

    def delete_plan(self, plan_id: str) -> bool:
        """Delete a plan; whether there was one."""
        if not self.exists():
            return False
        with self._write() as conn:
            conn.execute(_PLAN_SCHEMA)
            sql = f"DELETE FROM {PLAN_TABLE} WHERE id = ?"  # noqa: S608
            return conn.execute(sql, (plan_id,)).rowcount > 0

    def _select_plans(self, columns: str, clause: str, params: tuple[str, ...]) -> list[PlanRecord]:
        if not self.exists():
            return []
        with self._connection() as conn:
            if not _has_table(conn, PLAN_TABLE):
                return []
            sql = f"SELECT {columns} FROM {PLAN_TABLE} {clause}"  # noqa: S608
            return [PlanRecord(*row) for row in conn.execute(sql, params)]

    # -- audit log -------------------------------------------------------------------------

    def append_audit(self, seal: AuditSeal) -> AuditRecord:
        """Append the entry ``seal`` makes, in one transaction with reading the last one."""
        with self._write() as conn:
            conn.execute(_AUDIT_SCHEMA)
            last = conn.execute(
                f"SELECT sequence, hash FROM {AUDIT_TABLE} ORDER BY sequence DESC LIMIT 1"  # noqa: S608
            ).fetchone()
            appended = _appended(conn)
            record = seal(appended + 1, last[1] if last else "0" * 64)
            conn.execute(
                f"INSERT INTO {AUDIT_TABLE} ({_AUDIT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
                (
                    record.sequence,
                    record.when,
                    record.who,
                    record.action,
                    record.what,
                    record.rows,
                    record.previous,
                    record.hash,
                ),
            )
        return record

    def read_audit(self) -> tuple[list[AuditRecord], int]:
        """Every entry in sequence order and the highest sequence ever given."""
        if not self.exists():
            return [], 0
        with self._connection() as conn:
            if not _has_table(conn, AUDIT_TABLE):
                return [], 0
            sql = f"SELECT {_AUDIT_COLUMNS} FROM {AUDIT_TABLE} ORDER BY sequence"  # noqa: S608
            records = [AuditRecord(*row) for row in conn.execute(sql)]
            return records, _appended(conn)

    # -- plumbing --------------------------------------------------------------------------

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        try:
            conn = sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT_S, isolation_level=None)
            _add_geometry_functions(conn)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open workspace {self.path}: {exc}") from exc
        try:
            yield conn
        except sqlite3.DatabaseError as exc:
            if exc.sqlite_errorcode & 0xFF == sqlite3.SQLITE_FULL or is_disk_full(exc):
                raise disk_full(self.path.parent) from exc
            raise StoreError(f"workspace {self.path}: {exc}") from exc
        finally:
            conn.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One serialised transaction: committed whole at the end, or rolled back.

        A new workspace file is created mode 0600; SQLite gives its journal the same mode.
        """
        create_private(self.path)
        with self._connection() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                _ensure_schema(conn)
                yield conn
            except BaseException:
                if conn.in_transaction:  # SQLite rolls back by itself on a full disk
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _read_revision(self) -> int | None:
        if not self.exists():
            return 0
        with self._connection() as conn:
            conn.execute("BEGIN")
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # takes the read lock
            with self.path.open("rb") as fh:
                header = fh.read(28)
            conn.execute("COMMIT")
        if len(header) < 28 or header[18] == _WAL_FORMAT:
            return None
        return int.from_bytes(header[24:28], "big")

    def _data_version(self) -> FileVersion | None:
        try:
            info = self.path.stat()
        except OSError:
            self._close_watch()
            return None
        if self._identity != (info.st_dev, info.st_ino):
            self._close_watch()  # a new file at the path: watch that one
            self._identity = (info.st_dev, info.st_ino)
        try:
            if self._watch is None:
                uri = self.path.resolve().as_uri() + "?mode=ro"
                self._watch = sqlite3.connect(
                    uri, uri=True, isolation_level=None, check_same_thread=False
                )
            version = int(self._watch.execute("PRAGMA data_version").fetchone()[0])
        except sqlite3.Error:
            self._close_watch()
            return None
        return (info.st_dev, info.st_ino, version)

    def _close_watch(self) -> None:
        if self._watch is not None:
            self._watch.close()
        self._watch = None
        self._revision = None

    def _count(self, conn: sqlite3.Connection, layer: str) -> int:
        return int(conn.execute(f'SELECT count(*) FROM "{layer}"').fetchone()[0])  # noqa: S608

    def _select(
        self,
        definition: LayerDef,
        where: Mapping[str, object],
        ids: Iterable[str] | None,
        bbox: BBox | None,
    ) -> list[tuple[object, ...]]:
        if not self.exists():
            return []
        self._index_once()
        with self._connection() as conn:
            if not _has_table(conn, definition.name):
                return []
            indexed = bbox is not None and _has_table(conn, _rtree_name(definition))
            sql, params = _select_sql(definition, where, ids, bbox if indexed else None)
            return conn.execute(sql, params).fetchall()

    def _index_once(self) -> None:
        """Give a workspace made before the spatial index its R-trees, once per store.

        A workspace that cannot be written (a read-only copy) is read without them: bbox reads
        then scan the layer, as they did before.
        """
        with self._lock:
            if self._indexed:
                return
            self._indexed = True
        with self._connection() as conn:
            missing = _unindexed(conn)
        if missing:
            try:
                with self._write():
                    pass  # _ensure_schema adds the missing indexes
            except StoreError:
                return


# --- schema -------------------------------------------------------------------------------


def _ensure_schema(conn: sqlite3.Connection) -> None:
    if not _has_table(conn, "gpkg_contents"):
        _create_core(conn)
    for definition in load_catalog().values():
        _ensure_layer(conn, definition)
        if definition.has_geometry and not _has_table(conn, _rtree_name(definition)):
            _create_rtree(conn, definition)


def _create_core(conn: sqlite3.Connection) -> None:
    conn.execute(f"PRAGMA application_id = {_GPKG_APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version = {_GPKG_USER_VERSION}")
    for statement in _CORE_SQL:
        conn.execute(statement)
    conn.executemany(
        "INSERT INTO gpkg_spatial_ref_sys VALUES (?, ?, ?, ?, ?, ?)",
        [
            (
                "Undefined cartesian SRS",
                -1,
                "NONE",
                -1,
                "undefined",
                "undefined cartesian coordinate reference system",
            ),
            (
                "Undefined geographic SRS",
                0,
                "NONE",
                0,
                "undefined",
                "undefined geographic coordinate reference system",
            ),
            (
                "WGS 84 geodetic",
                4326,
                "EPSG",
                4326,
                _WGS84_WKT,
                "longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid",
            ),
        ],
    )


def _ensure_layer(conn: sqlite3.Connection, definition: LayerDef) -> None:
    name = definition.name
    if not _has_table(conn, name):
        _create_layer(conn, definition)
        return
    present = {row[1] for row in conn.execute(f'PRAGMA table_info("{name}")')}
    for f in definition.fields:
        if f.name not in present:  # a field added to the catalog after the file was made
            conn.execute(f'ALTER TABLE "{name}" ADD COLUMN "{f.name}" {f.sql_type}')


def _create_layer(conn: sqlite3.Connection, definition: LayerDef) -> None:
    name = definition.name
    columns = ["fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL"]
    if definition.has_geometry:
        columns.append(f"geom {_geometry_type(definition)}")
    columns += [_column_sql(f, definition) for f in definition.fields]
    conn.execute(f'CREATE TABLE "{name}" ({", ".join(columns)})')
    data_type = "features" if definition.has_geometry else "attributes"
    conn.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change, srs_id) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (
            name,
            data_type,
            definition.title,
            definition.description,
            _now(),
            4326 if definition.has_geometry else None,
        ),
    )
    if definition.has_geometry:
        conn.execute(
            "INSERT INTO gpkg_geometry_columns VALUES (?, 'geom', ?, 4326, 0, 0)",
            (name, _geometry_type(definition)),
        )


# --- spatial index ------------------------------------------------------------------------
# The GeoPackage RTree Spatial Indexes extension (specification 1.4, annex F.3): a virtual
# table rtree_<table>_<column> of (id, minx, maxx, miny, maxy) kept by the spec's triggers, so
# that GDAL and QGIS find the index and keep it right when they edit the file. The triggers
# call ST_IsEmpty and ST_Min/MaxX/Y, which GDAL provides; this store registers its own on
# every connection (:func:`_add_geometry_functions`).

RTREE_EXTENSION = "gpkg_rtree_index"
_RTREE_DEFINITION = "http://www.geopackage.org/spec120/#extension_rtree"
_RTREE_TRIGGERS = (
    # The spec's triggers, verbatim but for quoting: {t} table, {c} column, {i} id, {r} R-tree.
    """CREATE TRIGGER "{r}_insert" AFTER INSERT ON "{t}"
    WHEN (NEW."{c}" NOT NULL AND NOT ST_IsEmpty(NEW."{c}"))
    BEGIN
      INSERT OR REPLACE INTO "{r}" VALUES (NEW."{i}",
        ST_MinX(NEW."{c}"), ST_MaxX(NEW."{c}"), ST_MinY(NEW."{c}"), ST_MaxY(NEW."{c}"));
    END""",
    """CREATE TRIGGER "{r}_update6" AFTER UPDATE OF "{c}" ON "{t}"
    WHEN OLD."{i}" = NEW."{i}" AND
         (NEW."{c}" NOTNULL AND NOT ST_IsEmpty(NEW."{c}")) AND
         (OLD."{c}" NOTNULL AND NOT ST_IsEmpty(OLD."{c}"))
    BEGIN
      UPDATE "{r}" SET minx = ST_MinX(NEW."{c}"), maxx = ST_MaxX(NEW."{c}"),
                       miny = ST_MinY(NEW."{c}"), maxy = ST_MaxY(NEW."{c}")
      WHERE id = NEW."{i}";
    END""",
    """CREATE TRIGGER "{r}_update7" AFTER UPDATE OF "{c}" ON "{t}"
    WHEN OLD."{i}" = NEW."{i}" AND
         (NEW."{c}" NOTNULL AND NOT ST_IsEmpty(NEW."{c}")) AND
         (OLD."{c}" ISNULL OR ST_IsEmpty(OLD."{c}"))
    BEGIN
      INSERT INTO "{r}" VALUES (NEW."{i}",
        ST_MinX(NEW."{c}"), ST_MaxX(NEW."{c}"), ST_MinY(NEW."{c}"), ST_MaxY(NEW."{c}"));
    END""",
    """CREATE TRIGGER "{r}_update2" AFTER UPDATE OF "{c}" ON "{t}"
    WHEN OLD."{i}" = NEW."{i}" AND (NEW."{c}" ISNULL OR ST_IsEmpty(NEW."{c}"))
    BEGIN
      DELETE FROM "{r}" WHERE id = OLD."{i}";
    END""",
    """CREATE TRIGGER "{r}_update5" AFTER UPDATE ON "{t}"
    WHEN OLD."{i}" != NEW."{i}" AND (NEW."{c}" NOTNULL AND NOT ST_IsEmpty(NEW."{c}"))
    BEGIN
      DELETE FROM "{r}" WHERE id = OLD."{i}";
      INSERT OR REPLACE INTO "{r}" VALUES (NEW."{i}",
        ST_MinX(NEW."{c}"), ST_MaxX(NEW."{c}"), ST_MinY(NEW."{c}"), ST_MaxY(NEW."{c}"));
    END""",
    """CREATE TRIGGER "{r}_update4" AFTER UPDATE ON "{t}"
    WHEN OLD."{i}" != NEW."{i}" AND (NEW."{c}" ISNULL OR ST_IsEmpty(NEW."{c}"))
    BEGIN
      DELETE FROM "{r}" WHERE id IN (OLD."{i}", NEW."{i}");
    END""",
    """CREATE TRIGGER "{r}_delete" AFTER DELETE ON "{t}"
    WHEN OLD."{c}" NOT NULL
    BEGIN
      DELETE FROM "{r}" WHERE id = OLD."{i}";
    END""",
)


def _rtree_name(definition: LayerDef) -> str:
    return f"rtree_{definition.name}_geom"


def _unindexed(conn: sqlite3.Connection) -> list[str]:
    """Geometry layers of the file without their R-tree."""
    return [
        d.name
        for d in load_catalog().values()
        if d.has_geometry and _has_table(conn, d.name) and not _has_table(conn, _rtree_name(d))
    ]


def _create_rtree(conn: sqlite3.Connection, definition: LayerDef) -> None:
    """The layer's R-tree filled from its rows, its triggers, and its extension row."""
    names = {"t": definition.name, "c": "geom", "i": "fid", "r": _rtree_name(definition)}
    conn.execute(f'CREATE VIRTUAL TABLE "{names["r"]}" USING rtree(id, minx, maxx, miny, maxy)')
    conn.execute(
        f'INSERT OR REPLACE INTO "{names["r"]}" '  # noqa: S608
        "SELECT fid, ST_MinX(geom), ST_MaxX(geom), ST_MinY(geom), ST_MaxY(geom) "
        f'FROM "{definition.name}" WHERE geom NOT NULL AND NOT ST_IsEmpty(geom)'
    )
    for trigger in _RTREE_TRIGGERS:
        conn.execute(trigger.format(**names))
    conn.execute(
        "INSERT OR REPLACE INTO gpkg_extensions VALUES (?, 'geom', ?, ?, 'write-only')",
        (definition.name, RTREE_EXTENSION, _RTREE_DEFINITION),
    )


def _add_geometry_functions(conn: sqlite3.Connection) -> None:
    """The SQL functions the R-tree triggers call, on GeoPackage geometry blobs."""
    conn.create_function("ST_IsEmpty", 1, _blob_is_empty, deterministic=True)
    for name, index in (("ST_MinX", 0), ("ST_MaxX", 1), ("ST_MinY", 2), ("ST_MaxY", 3)):
        conn.create_function(name, 1, _bound_function(index), deterministic=True)


def _blob_is_empty(blob: bytes | None) -> int | None:
    if blob is None:
        return None
    return int(_blob_envelope(blob) is None)


def _bound_function(index: int) -> Callable[[bytes | None], float | None]:
    def bound(blob: bytes | None) -> float | None:
        envelope = None if blob is None else _blob_envelope(blob)
        return None if envelope is None else envelope[index]

    return bound


def _blob_envelope(blob: bytes) -> tuple[float, float, float, float] | None:
    """(minx, maxx, miny, maxy) of a geometry blob, None for an empty geometry: the header's
    envelope when it has one, a point's coordinates, or else the decoded geometry's bounds."""
    flags = blob[3]
    if flags & 0b00010000:
        return None
    if (flags >> 1) & 0b111:
        order = "<" if flags & 1 else ">"
        return cast(tuple[float, float, float, float], struct.unpack_from(f"{order}4d", blob, 8))
    wkb = _strip_header(blob)
    order = "<" if wkb[0] == 1 else ">"
    if struct.unpack_from(f"{order}I", wkb, 1)[0] == 1:  # a 2D point
        x, y = struct.unpack_from(f"{order}2d", wkb, 5)
        return None if math.isnan(x) or math.isnan(y) else (x, x, y, y)  # NaN: empty
    geom = shapely.from_wkb(wkb)
    if geom.is_empty:
        return None
    minx, miny, maxx, maxy = geom.bounds
    return (minx, maxx, miny, maxy)


def _column_sql(f: FieldDef, definition: LayerDef) -> str:
    constraint = " NOT NULL UNIQUE" if f.name == definition.id_field else ""
    return f'"{f.name}" {f.sql_type}{constraint}'


def _geometry_type(definition: LayerDef) -> str:
    return "POINT" if definition.geometry == "Point" else "MULTIPOLYGON"


def _appended(conn: sqlite3.Connection) -> int:
    """The highest audit sequence SQLite ever gave (0 before the first entry)."""
    if not _has_table(conn, "sqlite_sequence"):
        return 0
    row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = ?", (AUDIT_TABLE,)).fetchone()
    return int(row[0]) if row else 0


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
    ).fetchone()
    return row is not None


def _touch(conn: sqlite3.Connection, definition: LayerDef) -> None:
    extent: Sequence[float | None] = (None, None, None, None)
    if definition.has_geometry:
        blobs = [r[0] for r in conn.execute(f'SELECT geom FROM "{definition.name}"')]  # noqa: S608
        geoms = decode_geometries(blobs)
        if len(geoms) and not shapely.is_empty(geoms).all():
            extent = tuple(float(v) for v in shapely.total_bounds(geoms))
    conn.execute(
        "UPDATE gpkg_contents SET last_change = ?, min_x = ?, min_y = ?, max_x = ?, max_y = ? "
        "WHERE table_name = ?",
        (_now(), *extent, definition.name),
    )


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"


# --- rows ---------------------------------------------------------------------------------

SqlValue = PlainValue
_T = TypeVar("_T")


def _sql_records(definition: LayerDef, frame: pd.DataFrame) -> Iterator[tuple[SqlValue, ...]]:
    """Rows as SQL values in column order: id first, then the other fields, then geometry."""
    columns = plain_columns(definition, frame)
    if definition.has_geometry:
        columns.append([encode_geometry(g) for g in frame.geometry])
    yield from zip(*columns, strict=True)


def _check_versions(
    conn: sqlite3.Connection, definition: LayerDef, expected: Mapping[str, str | None]
) -> None:
    stored = _existing(conn, definition, list(expected))
    current = row_versions(definition.name, _frame_from_rows(definition, list(stored.values())))
    stale = sorted(pid for pid, version in expected.items() if current.get(pid) != version)
    if stale:
        msg = (
            f"{definition.name} {', '.join(stale)}: changed, added or deleted by someone else "
            "since it was read; read it again and reapply your change"
        )
        raise ConflictError(msg)


def _column_names(definition: LayerDef) -> list[str]:
    names = [f.name for f in field_order(definition)]
    return [*names, "geom"] if definition.has_geometry else names


def _existing(
    conn: sqlite3.Connection, definition: LayerDef, ids: list[SqlValue]
) -> dict[SqlValue, tuple[object, ...]]:
    columns = ", ".join(f'"{c}"' for c in _column_names(definition))
    found: dict[SqlValue, tuple[object, ...]] = {}
    for chunk in _chunks(ids, 500):
        marks = ",".join("?" * len(chunk))
        sql = f'SELECT {columns} FROM "{definition.name}" WHERE id IN ({marks})'  # noqa: S608
        found.update((row[0], tuple(row)) for row in conn.execute(sql, chunk))
    return found


def _apply_upsert(
    conn: sqlite3.Connection,
    definition: LayerDef,
    records: list[tuple[SqlValue, ...]],
    existing: dict[SqlValue, tuple[object, ...]],
    progress: Progress | None,
) -> WriteResult:
    names = _column_names(definition)
    quoted = ", ".join(f'"{c}"' for c in names)
    updates = ", ".join(f'"{c}" = excluded."{c}"' for c in names[1:])
    sql = (
        f'INSERT INTO "{definition.name}" ({quoted}) VALUES ({",".join("?" * len(names))}) '  # noqa: S608
        f"ON CONFLICT(id) DO UPDATE SET {updates}"
    )
    changed = [r for r in records if existing.get(r[0]) != r]
    for done, chunk in enumerate(_chunks(changed, _CHUNK), start=1):
        conn.executemany(sql, chunk)
        if progress:
            progress(definition.name, min(done * _CHUNK, len(changed)), len(changed))
    added = sum(1 for r in changed if r[0] not in existing)
    return WriteResult(
        definition.name,
        added=added,
        updated=len(changed) - added,
        unchanged=len(records) - len(changed),
    )


def _select_sql(
    definition: LayerDef,
    where: Mapping[str, object],
    ids: Iterable[str] | None,
    bbox: BBox | None = None,
) -> tuple[str, list[object]]:
    clauses, params = [], []
    for name, value in where.items():
        definition.field(name)  # raises for an unknown field
        values = list(value) if isinstance(value, list | tuple | set | frozenset) else [value]
        clauses.append(f'"{name}" IN ({",".join("?" * len(values))})')
        params += [v.isoformat() if isinstance(v, dt.date) else v for v in values]
    if ids is not None:
        id_list = list(ids)
        clauses.append(f"id IN ({','.join('?' * len(id_list))})")
        params += id_list
    if bbox is not None:
        west, south, east, north = bbox
        clauses.append(
            f'fid IN (SELECT id FROM "{_rtree_name(definition)}" '  # noqa: S608
            "WHERE minx <= ? AND maxx >= ? AND miny <= ? AND maxy >= ?)"
        )
        params += [max(west, east), min(west, east), north, south]
    columns = ", ".join(f'"{c}"' for c in _column_names(definition))
    where_sql = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    return f'SELECT {columns} FROM "{definition.name}"{where_sql} ORDER BY fid', params  # noqa: S608


def _frame_from_rows(definition: LayerDef, rows: list[tuple[object, ...]]) -> pd.DataFrame:
    fields = field_order(definition)
    by_name = {f.name: i for i, f in enumerate(fields)}
    data = {
        f.name: column_from_values(f, (_from_sql(f, r[by_name[f.name]]) for r in rows))
        for f in definition.fields
    }
    frame = pd.DataFrame(data, columns=list(definition.field_names))
    if not definition.has_geometry:
        return frame
    geoms = decode_geometries([r[len(fields)] for r in rows])
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs="EPSG:4326"), crs="EPSG:4326")


def _from_sql(f: FieldDef, value: object) -> Value:
    if value is None:
        return None
    if f.type == "date":
        return dt.date.fromisoformat(str(value)[:10])
    if f.type == "boolean":
        return bool(value)
    if f.type == "enum_list":
        return tuple(str(value).split(",")) if value else None
    return cast(Value, value)  # TEXT, INTEGER and REAL come back as str, int and float


def _chunks(items: Sequence[_T], size: int) -> Iterator[list[_T]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


# --- GeoPackage geometry blobs ------------------------------------------------------------
# A GeoPackage geometry is a small header ("GP", version, flags, SRS id, optional envelope)
# followed by standard WKB; see the GeoPackage 1.4 specification, section 2.1.3.

_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}


def encode_geometry(geom: BaseGeometry | None, srs_id: int = 4326) -> bytes | None:
    """A shapely geometry as a GeoPackage geometry blob (little endian, with an envelope for
    anything but points)."""
    if geom is None:
        return None
    if geom.is_empty:
        return b"GP" + bytes([0, 0b00010001]) + struct.pack("<i", srs_id) + shapely.to_wkb(geom)
    if geom.geom_type == "Point":
        header = b"GP" + bytes([0, 0b00000001]) + struct.pack("<i", srs_id)
    else:
        minx, miny, maxx, maxy = geom.bounds
        envelope = struct.pack("<4d", minx, maxx, miny, maxy)
        header = b"GP" + bytes([0, 0b00000011]) + struct.pack("<i", srs_id) + envelope
    return header + shapely.to_wkb(geom, byte_order=1)


def decode_geometries(blobs: Sequence[object]) -> np.ndarray:
    """GeoPackage geometry blobs as an array of shapely geometries (None for NULL)."""
    wkbs = [None if b is None else _strip_header(bytes(cast(bytes, b))) for b in blobs]
    return shapely.from_wkb(np.array(wkbs, dtype=object))


def _strip_header(blob: bytes) -> bytes:
    flags = blob[3]
    return blob[8 + _ENVELOPE_BYTES[(flags >> 1) & 0b111] :]


_WGS84_WKT = (
    'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,'
    'AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,'
    'AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],'
    'AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]'
)

_CORE_SQL = (
    """CREATE TABLE gpkg_spatial_ref_sys (
        srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL PRIMARY KEY,
        organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL,
        definition TEXT NOT NULL, description TEXT)""",
    """CREATE TABLE gpkg_contents (
        table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL,
        identifier TEXT UNIQUE, description TEXT DEFAULT '',
        last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
        min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
        CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id))""",
    """CREATE TABLE gpkg_geometry_columns (
        table_name TEXT NOT NULL, column_name TEXT NOT NULL,
        geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL,
        z TINYINT NOT NULL, m TINYINT NOT NULL,
        CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
        CONSTRAINT uk_gc_table_name UNIQUE (table_name),
        CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
        CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id))""",
    """CREATE TABLE gpkg_extensions (
        table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL,
        definition TEXT NOT NULL, scope TEXT NOT NULL,
        CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name))""",
    "CREATE TABLE geoplan_settings (key TEXT NOT NULL PRIMARY KEY, value TEXT NOT NULL)",
)
