"""The PostGIS store: a workspace kept in a PostgreSQL schema with PostGIS, for a server.

The workspace is the first schema of the connection's ``search_path`` (``public`` unless the
DSN says otherwise, for example ``?options=-csearch_path%3Dtripoli,public``). Each catalog layer
is a table named after it, with the catalog's fields as typed columns, the catalog's rules as
constraints (required fields ``NOT NULL``, allowed values and ranges as ``CHECK``), a unique
``id``, a ``geometry(Point|MultiPolygon, 4326)`` column ``geom`` with a GiST index, and a
``fid`` serial key for QGIS. Beside them: ``geoplan_workspace`` (one row: the revision),
``geoplan_layers`` (last change per layer), ``geoplan_settings`` and ``geoplan_api_keys``.

Promises, as every store keeps them:

- each write is one transaction, committed whole or rolled back;
- writers queue on the ``geoplan_workspace`` row (``SELECT ... FOR UPDATE`` first thing in each
  write), so a check of expected versions and the write it guards see the same rows, and
  nobody's write is lost; a deadlock or serialisation failure (possible with a program that
  locks rows in another order, such as QGIS editing the tables) is retried;
- every statement that changes a layer, a setting or a key moves the revision, through a
  statement trigger, so edits made by QGIS straight in the tables move it too and every API
  worker's caches see them at their next request.

This is the only module of geoplan and the API that speaks PostgreSQL; everything else holds a
:class:`geoplan.store.Store`. A new table (saved plans, an audit trail) is one entry in
:data:`_TABLES` (created, watched by the revision trigger) and its methods.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TypeVar, cast

import geopandas as gpd
import pandas as pd
import psycopg
import shapely
from psycopg import errors as pg_errors
from psycopg import sql
from psycopg_pool import ConnectionPool

from geoplan.catalog import FieldDef, LayerDef, Value, get_layer, load_catalog
from geoplan.errors import AlreadyExistsError, ConflictError, NotFoundError, StoreError
from geoplan.layers import column_from_values
from geoplan.progress import Progress
from geoplan.store import (
    AuditRecord,
    AuditSeal,
    BBox,
    KeyRecord,
    LayerInfo,
    PlanRecord,
    Store,
    WriteResult,
    field_order,
    plain_columns,
    row_versions,
    workspace_label,
)

_CHUNK = 2000
_RETRIES = 5
_POOL_SIZE = 8
_CONNECT_TIMEOUT_S = 10.0
_KEY_COLUMNS = ("key_id", "hash", "role", "name", "created", "revoked")
_PG_TYPES = {
    "string": "text",
    "integer": "bigint",
    "number": "double precision",
    "boolean": "boolean",
    "date": "date",
    "time": "text",
    "enum": "text",
    "enum_list": "text",
}
_NOW_TEXT = "to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
_TABLES = (
    "CREATE TABLE IF NOT EXISTS geoplan_workspace ("
    "one boolean PRIMARY KEY DEFAULT true CHECK (one), revision bigint NOT NULL DEFAULT 0)",
    "INSERT INTO geoplan_workspace (one) VALUES (true) ON CONFLICT DO NOTHING",
    "CREATE TABLE IF NOT EXISTS geoplan_layers ("
    "name text PRIMARY KEY, title text NOT NULL, last_change text NOT NULL)",
    "CREATE TABLE IF NOT EXISTS geoplan_settings (key text PRIMARY KEY, value text NOT NULL)",
    "CREATE TABLE IF NOT EXISTS geoplan_api_keys ("
    "key_id text PRIMARY KEY, hash text NOT NULL, role text NOT NULL, "
    "name text NOT NULL DEFAULT '', created text NOT NULL, revoked text)",
    # the highest audit sequence ever given, so that deleting the last entries still shows
    "ALTER TABLE geoplan_workspace ADD COLUMN IF NOT EXISTS audit_appended bigint NOT NULL "
    "DEFAULT 0",
    "CREATE TABLE IF NOT EXISTS geoplan_plans ("
    "id text PRIMARY KEY, week text NOT NULL, status text NOT NULL, created text NOT NULL, "
    "created_by text NOT NULL, summary text NOT NULL, document text NOT NULL)",
    "CREATE INDEX IF NOT EXISTS geoplan_plans_week ON geoplan_plans (week)",
    "CREATE TABLE IF NOT EXISTS geoplan_audit_log ("
    "sequence bigint PRIMARY KEY, at text NOT NULL, who text NOT NULL, action text NOT NULL, "
    "what text NOT NULL, rows bigint, previous text NOT NULL, hash text NOT NULL)",
)
_AUDIT_COLUMNS = "sequence, at, who, action, what, rows, previous, hash"
_PLAN_COLUMNS = "id, week, status, created, created_by, summary"
_WATCHED = ("geoplan_settings", "geoplan_api_keys")
"""Tables beside the layers whose every change moves the revision."""
_TOUCH_FUNCTION = """
CREATE OR REPLACE FUNCTION geoplan_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- qualified by the table's schema: QGIS and psql may run with another search_path
  EXECUTE format('UPDATE %I.geoplan_workspace SET revision = revision + 1', TG_TABLE_SCHEMA);
  EXECUTE format('UPDATE %I.geoplan_layers SET last_change = {now} WHERE name = $1',
                 TG_TABLE_SCHEMA) USING TG_TABLE_NAME;
  RETURN NULL;
END $$"""
_T = TypeVar("_T")


def open_workspace(workspace: str) -> Store:
    """The store of a PostgreSQL DSN (see :func:`geoplan.store.open_store`)."""
    return PostGISStore(workspace)


class PostGISStore:
    """A workspace kept in one schema of a PostgreSQL database with PostGIS.

    Connections come from a small pool opened on first use and shared by the threads of a
    server; each operation borrows one for one transaction.
    """

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.label = workspace_label(dsn)
        self._pool: ConnectionPool | None = None
        self._ready = False
        self._lock = threading.Lock()

    # -- reading ---------------------------------------------------------------------------

    def exists(self) -> bool:
        """Whether the workspace's tables exist in the schema."""
        with self._connection() as conn:
            return _exists(conn)

    def list_layers(self) -> list[LayerInfo]:
        """Every catalog layer with its row count and last change."""
        catalog = load_catalog()
        with self._connection() as conn:
            if not _exists(conn):
                return [LayerInfo(name, 0, None) for name in catalog]
            changes = dict(conn.execute("SELECT name, last_change FROM geoplan_layers").fetchall())
            return [
                LayerInfo(name, _count(conn, name) if name in changes else 0, changes.get(name))
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
        query, params = _select_sql(definition, where or {}, ids, bbox)
        with self._connection() as conn:
            rows = conn.execute(query, params).fetchall() if _has_table(conn, layer) else []
        return _frame_from_rows(definition, rows)

    def ids(self, layer: str) -> frozenset[str]:
        """All ids of a layer."""
        get_layer(layer)
        with self._connection() as conn:
            if not _has_table(conn, layer):
                return frozenset()
            query = sql.SQL("SELECT id FROM {}").format(sql.Identifier(layer))
            return frozenset(r[0] for r in conn.execute(query))

    def revision(self) -> int | None:
        """The workspace's revision counter: moved by every committed change, by anyone (this
        server, another worker, ``geoplan import``, QGIS editing the tables); 0 before the
        workspace exists. One indexed read of one row."""
        with self._connection() as conn:
            try:
                row = conn.execute("SELECT revision FROM geoplan_workspace").fetchone()
            except pg_errors.UndefinedTable:
                return 0
        return 0 if row is None else int(row[0])

    def data_version(self) -> int | None:
        """The revision counter: it changes whenever anyone commits to the workspace."""
        return self.revision()

    def get_setting(self, key: str) -> str | None:
        """A workspace setting, or None."""
        with self._connection() as conn:
            if not _exists(conn):
                return None
            row = conn.execute(
                "SELECT value FROM geoplan_settings WHERE key = %s", (key,)
            ).fetchone()
        return None if row is None else str(row[0])

    def settings(self) -> dict[str, str]:
        """Every workspace setting, by key."""
        with self._connection() as conn:
            if not _exists(conn):
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
        nothing (not even the revision). With ``expected_versions`` (id -> version from
        :func:`geoplan.store.row_versions`, or None for "must not exist yet") the write happens
        only if every listed row is still in that state, checked inside the same transaction.

        Raises
        ------
        ConflictError
            If a listed row changed, appeared or disappeared since its version was read.
        """
        definition = get_layer(layer)
        incoming = row_versions(layer, frame)
        records = list(_records(definition, frame))

        def write(conn: psycopg.Connection) -> WriteResult:
            if expected_versions is not None:
                _check_versions(conn, definition, expected_versions)
            stored = _stored_versions(conn, definition, list(incoming))
            changed = [r for r in records if stored.get(str(r[0])) != incoming[str(r[0])]]
            _apply_upsert(conn, definition, changed, progress)
            added = sum(1 for r in changed if str(r[0]) not in stored)
            return WriteResult(
                layer,
                added=added,
                updated=len(changed) - added,
                unchanged=len(records) - len(changed),
            )

        return self._write(write)

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
        wanted = [str(i) for i in ids]

        def write(conn: psycopg.Connection) -> WriteResult:
            if expected_versions is not None:
                _check_versions(conn, definition, expected_versions)
            present = _stored_versions(conn, definition, wanted)
            if present:
                query = sql.SQL("DELETE FROM {} WHERE id = ANY(%s)").format(sql.Identifier(layer))
                conn.execute(query, (list(present),))
            return WriteResult(layer, deleted=len(present))

        return self._write(write)

    def set_setting(self, key: str, value: str | None) -> None:
        """Set (or, with None, clear) a workspace setting."""

        def write(conn: psycopg.Connection) -> None:
            if value is None:
                conn.execute("DELETE FROM geoplan_settings WHERE key = %s", (key,))
            else:
                conn.execute(
                    "INSERT INTO geoplan_settings (key, value) VALUES (%s, %s) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (key, value),
                )

        self._write(write)

    def initialise(self) -> None:
        """Create every catalog layer (empty), or bring the schema up to the catalog."""
        self._ready = False
        self._write(lambda conn: None)

    # -- API keys --------------------------------------------------------------------------

    def add_key(self, key: KeyRecord) -> None:
        """Keep a new key's record, in the workspace's first transaction if it is new."""
        values = (key.key_id, key.hash, key.role, key.name, key.created, key.revoked)
        self._write(
            lambda conn: conn.execute(
                "INSERT INTO geoplan_api_keys (key_id, hash, role, name, created, revoked) "
                "VALUES (%s, %s, %s, %s, %s, %s)",
                values,
            )
        )

    def find_key(self, key_id: str) -> KeyRecord | None:
        """The record of a key by its id, or None."""
        rows = self._select_keys("WHERE key_id = %s", (key_id,))
        return rows[0] if rows else None

    def list_keys(self) -> list[KeyRecord]:
        """Every key's record, oldest first."""
        return self._select_keys("ORDER BY created, key_id", ())

    def revoke_key(self, key_id: str, *, when: str) -> KeyRecord | None:
        """Mark a key revoked at ``when`` unless it already is; its record, or None."""
        if not self.exists():
            return None

        def write(conn: psycopg.Connection) -> KeyRecord | None:
            conn.execute(
                "UPDATE geoplan_api_keys SET revoked = %s WHERE key_id = %s AND revoked IS NULL",
                (when, key_id),
            )
            row = conn.execute(
                "SELECT key_id, hash, role, name, created, revoked FROM geoplan_api_keys "
                "WHERE key_id = %s",
                (key_id,),
            ).fetchone()
            return None if row is None else KeyRecord(*row)

        return self._write(write)

    def _select_keys(self, clause: str, params: tuple[str, ...]) -> list[KeyRecord]:
        with self._connection() as conn:
            if not _exists(conn):
                return []
            query = "SELECT key_id, hash, role, name, created, revoked FROM geoplan_api_keys "
            return [KeyRecord(*row) for row in conn.execute(query + clause, params)]

    # -- saved plans -----------------------------------------------------------------------

    def add_plan(self, plan: PlanRecord) -> None:
        """Keep a new plan; AlreadyExistsError if its id is taken."""
        values = (
            plan.id,
            plan.week,
            plan.status,
            plan.created,
            plan.created_by,
            plan.summary,
            plan.document,
        )

        def write(conn: psycopg.Connection) -> None:
            inserted = conn.execute(
                f"INSERT INTO geoplan_plans ({_PLAN_COLUMNS}, document) "  # noqa: S608
                "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO NOTHING",
                values,
            ).rowcount
            if not inserted:
                raise AlreadyExistsError(f"a plan {plan.id!r} exists already")

        self._write(write)

    def read_plan(self, plan_id: str) -> PlanRecord | None:
        """A plan with its document, or None."""
        rows = self._select_plans(f"{_PLAN_COLUMNS}, document", "WHERE id = %s", (plan_id,))
        return rows[0] if rows else None

    def list_plans(self, *, week: str | None = None) -> list[PlanRecord]:
        """Every plan (of one week), newest first, without documents."""
        where, params = ("WHERE week = %s", (week,)) if week else ("", ())
        return self._select_plans(_PLAN_COLUMNS, f"{where} ORDER BY created DESC, id DESC", params)

    def set_plan_statuses(self, statuses: Mapping[str, str]) -> None:
        """Set plans' statuses in one transaction; NotFoundError (nothing changed) if one is
        missing."""

        def write(conn: psycopg.Connection) -> None:
            for plan_id, status in statuses.items():
                changed = conn.execute(
                    "UPDATE geoplan_plans SET status = %s WHERE id = %s", (status, plan_id)
                ).rowcount
                if not changed:
                    raise NotFoundError(f"no plan {plan_id!r}")

        self._write(write)

    def delete_plan(self, plan_id: str) -> bool:
        """Delete a plan; whether there was one."""
        if not self.exists():
            return False
        return self._write(
            lambda conn: (
                conn.execute("DELETE FROM geoplan_plans WHERE id = %s", (plan_id,)).rowcount > 0
            )
        )

    def _select_plans(self, columns: str, clause: str, params: tuple[str, ...]) -> list[PlanRecord]:
        with self._connection() as conn:
            if not _exists(conn):
                return []
            query = f"SELECT {columns} FROM geoplan_plans {clause}"  # noqa: S608
            return [PlanRecord(*row) for row in conn.execute(query, params)]

    # -- audit log -------------------------------------------------------------------------

    def append_audit(self, seal: AuditSeal) -> AuditRecord:
        """Append the entry ``seal`` makes, in the write that holds the workspace row (so
        entries from several workers chain one after the other)."""

        def write(conn: psycopg.Connection) -> AuditRecord:
            last = conn.execute(
                "SELECT hash FROM geoplan_audit_log ORDER BY sequence DESC LIMIT 1"
            ).fetchone()
            row = conn.execute("SELECT audit_appended FROM geoplan_workspace").fetchone()
            record = seal(int(row[0]) + 1 if row else 1, last[0] if last else "0" * 64)
            conn.execute(
                f"INSERT INTO geoplan_audit_log ({_AUDIT_COLUMNS}) "  # noqa: S608
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
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
            conn.execute("UPDATE geoplan_workspace SET audit_appended = %s", (record.sequence,))
            return record

        return self._write(write)

    def read_audit(self) -> tuple[list[AuditRecord], int]:
        """Every entry in sequence order and the highest sequence ever given."""
        with self._connection() as conn:
            if not _has_table(conn, "geoplan_audit_log"):
                return [], 0
            rows = conn.execute(
                f"SELECT {_AUDIT_COLUMNS} FROM geoplan_audit_log ORDER BY sequence"  # noqa: S608
            ).fetchall()
            appended = conn.execute("SELECT audit_appended FROM geoplan_workspace").fetchone()
            records = [AuditRecord(*row) for row in rows]
            top = max([int(appended[0]) if appended else 0, *(r.sequence for r in records)])
            return records, top

    # -- plumbing --------------------------------------------------------------------------

    def _open_pool(self) -> ConnectionPool:
        with self._lock:
            if self._pool is None:
                options: dict[str, object] = {
                    "connect_timeout": int(_CONNECT_TIMEOUT_S),
                    "autocommit": True,
                }
                try:  # once by hand, for the server's own words on what is wrong
                    psycopg.connect(
                        self.dsn, autocommit=True, connect_timeout=int(_CONNECT_TIMEOUT_S)
                    ).close()
                except psycopg.Error as exc:
                    raise StoreError(self._cannot_connect(exc)) from None
                self._pool = ConnectionPool(
                    self.dsn,
                    min_size=1,
                    max_size=_POOL_SIZE,
                    kwargs=options,
                    timeout=_CONNECT_TIMEOUT_S * 6,
                    name="geoplan",
                    open=True,
                )
                # the pool's connections close when the store is dropped, not at exit
                weakref.finalize(self, self._pool.close, timeout=1.0)
            return self._pool

    def _cannot_connect(self, exc: BaseException) -> str:
        reason = str(exc).replace(self.dsn, self.label).strip() or type(exc).__name__
        return (
            f"cannot open workspace {self.label}: {reason}; is the PostgreSQL server running "
            "and does the DSN name its host, port, database, user and password?"
        )

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection]:
        pool = self._open_pool()
        try:
            with pool.connection() as conn:
                yield conn
        except (pg_errors.SerializationFailure, pg_errors.DeadlockDetected):
            raise
        except (ConflictError, StoreError):
            raise
        except psycopg.errors.IntegrityError as exc:
            raise StoreError(f"workspace {self.label}: {_first_line(exc)}") from None
        except psycopg.Error as exc:
            raise StoreError(f"workspace {self.label}: {_first_line(exc)}") from None

    def _write(self, step: Callable[[psycopg.Connection], _T]) -> _T:
        """Run ``step`` in one transaction that first waits its turn on the workspace row;
        retried whole on a deadlock or serialisation failure."""
        for attempt in range(_RETRIES):
            try:
                with self._connection() as conn, conn.transaction():
                    self._ensure_schema(conn)
                    conn.execute("SELECT revision FROM geoplan_workspace FOR UPDATE")
                    return step(conn)
            except (pg_errors.SerializationFailure, pg_errors.DeadlockDetected):
                if attempt == _RETRIES - 1:
                    msg = f"workspace {self.label}: too busy, the write was retried {_RETRIES} times; try again"
                    raise StoreError(msg) from None
                time.sleep(0.05 * 2**attempt)
        raise AssertionError("unreachable")

    def _ensure_schema(self, conn: psycopg.Connection) -> None:
        """Create or complete the schema once per store, one creator at a time (an advisory
        lock of the transaction, keyed by the schema)."""
        if self._ready:
            return
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('geoplan:' || current_schema()))")
        _create_schema(conn)
        self._ready = True


# --- schema -------------------------------------------------------------------------------


def _create_schema(conn: psycopg.Connection) -> None:
    if conn.execute("SELECT current_schema()").fetchone() == (None,):
        raise StoreError("the DSN's search_path names no schema that exists; create it first")
    conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    for statement in _TABLES:
        conn.execute(statement)
    now = sql.SQL(_NOW_TEXT.replace("'", "''"))  # inside the function's quoted format string
    conn.execute(sql.SQL(_TOUCH_FUNCTION).format(now=now))
    for table in _WATCHED:
        _watch(conn, table)
    for definition in load_catalog().values():
        _ensure_layer(conn, definition)


def _ensure_layer(conn: psycopg.Connection, definition: LayerDef) -> None:
    name = definition.name
    if not _has_table(conn, name):
        _create_layer(conn, definition)
    present = {
        r[0]
        for r in conn.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = %s",
            (name,),
        )
    }
    for f in definition.fields:
        if f.name not in present:  # a field added to the catalog after the table was made
            conn.execute(
                sql.SQL("ALTER TABLE {} ADD COLUMN {}").format(
                    sql.Identifier(name), _column_sql(f, definition, new_column=True)
                )
            )
    conn.execute(
        sql.SQL(
            "INSERT INTO geoplan_layers (name, title, last_change) "
            "VALUES (%s, %s, {}) ON CONFLICT (name) DO NOTHING"
        ).format(sql.SQL(_NOW_TEXT)),
        (name, definition.title),
    )


def _create_layer(conn: psycopg.Connection, definition: LayerDef) -> None:
    table = sql.Identifier(definition.name)
    columns: list[sql.Composable] = [
        sql.SQL("fid bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY")
    ]
    columns += [_column_sql(f, definition) for f in field_order(definition)]
    if definition.has_geometry:
        columns.append(
            sql.SQL("geom geometry({}, 4326)").format(sql.SQL(_geometry_type(definition)))
        )
    conn.execute(sql.SQL("CREATE TABLE {} ({})").format(table, sql.SQL(", ").join(columns)))
    conn.execute(
        sql.SQL("COMMENT ON TABLE {} IS {}").format(table, sql.Literal(definition.description))
    )
    if definition.has_geometry:
        conn.execute(
            sql.SQL("CREATE INDEX {} ON {} USING gist (geom)").format(
                sql.Identifier(f"{definition.name}_geom_idx"), table
            )
        )
    _watch(conn, definition.name)


def _watch(conn: psycopg.Connection, table: str) -> None:
    """The statement trigger that moves the revision on every change to ``table``."""
    conn.execute(
        sql.SQL(
            "CREATE OR REPLACE TRIGGER geoplan_touch AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            "ON {} FOR EACH STATEMENT EXECUTE FUNCTION geoplan_touch()"
        ).format(sql.Identifier(table))
    )


def _column_sql(f: FieldDef, definition: LayerDef, *, new_column: bool = False) -> sql.Composable:
    """A catalog field as a column with its rules as constraints: the id unique and present,
    required fields present (unless added to a table that has rows), allowed values, ranges."""
    parts = [sql.Identifier(f.name), sql.SQL(_PG_TYPES[f.type])]
    if f.name == definition.id_field:
        parts.append(sql.SQL("NOT NULL UNIQUE"))
    elif f.required and not new_column:
        parts.append(sql.SQL("NOT NULL"))
    checks = _checks(f)
    if checks:
        parts.append(sql.SQL("CHECK ({})").format(sql.SQL(" AND ").join(checks)))
    return sql.SQL(" ").join(parts)


def _checks(f: FieldDef) -> list[sql.Composable]:
    column = sql.Identifier(f.name)
    checks: list[sql.Composable] = []
    if f.type == "enum":
        allowed = sql.SQL(", ").join(sql.Literal(v) for v in f.allowed)
        checks.append(sql.SQL("{} IN ({})").format(column, allowed))
    if f.type == "enum_list":
        pattern = (
            "^("
            + "|".join(_regex_escape(v) for v in f.allowed)
            + ")(,("
            + "|".join(_regex_escape(v) for v in f.allowed)
            + "))*$"
        )
        checks.append(sql.SQL("{} ~ {}").format(column, sql.Literal(pattern)))
    if f.type in ("integer", "number") and f.min is not None:
        checks.append(sql.SQL("{} >= {}").format(column, sql.Literal(f.min)))
    if f.type in ("integer", "number") and f.max is not None:
        checks.append(sql.SQL("{} <= {}").format(column, sql.Literal(f.max)))
    return checks


def _regex_escape(text: str) -> str:
    return "".join(f"\\{c}" if not c.isalnum() and c != "_" else c for c in text)


def _geometry_type(definition: LayerDef) -> str:
    return "Point" if definition.geometry == "Point" else "MultiPolygon"


def _exists(conn: psycopg.Connection) -> bool:
    return _has_table(conn, "geoplan_workspace")


def _has_table(conn: psycopg.Connection, name: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM pg_tables WHERE schemaname = current_schema() AND tablename = %s", (name,)
    ).fetchone()
    return row is not None


def _count(conn: psycopg.Connection, layer: str) -> int:
    query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(layer))
    row = conn.execute(query).fetchone()
    return 0 if row is None else int(row[0])


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


# --- rows ---------------------------------------------------------------------------------


def _column_names(definition: LayerDef) -> list[str]:
    return [f.name for f in field_order(definition)]


def _select_columns(definition: LayerDef) -> sql.Composable:
    columns: list[sql.Composable] = [sql.Identifier(c) for c in _column_names(definition)]
    if definition.has_geometry:
        columns.append(sql.SQL("ST_AsBinary(geom, 'NDR')"))
    return sql.SQL(", ").join(columns)


def _select_sql(
    definition: LayerDef,
    where: Mapping[str, object],
    ids: Iterable[str] | None,
    bbox: BBox | None,
) -> tuple[sql.Composed, list[object]]:
    clauses: list[sql.Composable] = []
    params: list[object] = []
    for name, value in where.items():
        f = definition.field(name)  # raises for an unknown field
        values = list(value) if isinstance(value, list | tuple | set | frozenset) else [value]
        clauses.append(sql.SQL("{}::text = ANY(%s)").format(sql.Identifier(name)))
        params.append([_where_text(f, v) for v in values])
    if ids is not None:
        clauses.append(sql.SQL("id = ANY(%s)"))
        params.append([str(i) for i in ids])
    if bbox is not None and definition.has_geometry:
        west, south, east, north = bbox
        clauses.append(sql.SQL("ST_Intersects(geom, ST_MakeEnvelope(%s, %s, %s, %s, 4326))"))
        params += [min(west, east), min(south, north), max(west, east), max(south, north)]
    query = sql.SQL("SELECT {} FROM {}").format(
        _select_columns(definition), sql.Identifier(definition.name)
    )
    if clauses:
        query = sql.SQL("{} WHERE {}").format(query, sql.SQL(" AND ").join(clauses))
    return sql.SQL("{} ORDER BY fid").format(query), params


def _where_text(f: FieldDef, value: object) -> str:
    """A value to compare as PostgreSQL prints the column as text."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if f.type == "boolean" and isinstance(value, bool | int):
        return "true" if value else "false"
    return str(value)


def _records(definition: LayerDef, frame: pd.DataFrame) -> Iterator[tuple[object, ...]]:
    """Rows as SQL parameters in column order: id first, the other fields, then WKB."""
    columns: list[list[object]] = [list(c) for c in plain_columns(definition, frame)]
    for f, column in zip(field_order(definition), columns, strict=True):
        if f.type == "boolean":
            column[:] = [None if v is None else bool(v) for v in column]
    if definition.has_geometry:
        columns.append(
            [None if g is None else shapely.to_wkb(g, byte_order=1) for g in frame.geometry]
        )
    yield from zip(*columns, strict=True)


def _stored_versions(
    conn: psycopg.Connection, definition: LayerDef, ids: Sequence[str]
) -> dict[str, str]:
    """The versions of the stored rows among ``ids``, locked for this transaction."""
    if not ids:
        return {}
    query = sql.SQL("SELECT {} FROM {} WHERE id = ANY(%s) ORDER BY fid FOR UPDATE").format(
        _select_columns(definition), sql.Identifier(definition.name)
    )
    rows = conn.execute(query, (list(ids),)).fetchall()
    return row_versions(definition.name, _frame_from_rows(definition, rows))


def _check_versions(
    conn: psycopg.Connection, definition: LayerDef, expected: Mapping[str, str | None]
) -> None:
    current = _stored_versions(conn, definition, list(expected))
    stale = sorted(pid for pid, version in expected.items() if current.get(pid) != version)
    if stale:
        msg = (
            f"{definition.name} {', '.join(stale)}: changed, added or deleted by someone else "
            "since it was read; read it again and reapply your change"
        )
        raise ConflictError(msg)


def _apply_upsert(
    conn: psycopg.Connection,
    definition: LayerDef,
    records: list[tuple[object, ...]],
    progress: Progress | None,
) -> None:
    """Copy the rows into a staging table, then upsert from it with one statement per chunk
    (so the revision trigger runs once per chunk, not once per row)."""
    if not records:
        return
    stage, upsert = _staging(conn, definition)
    for done, chunk in enumerate(_chunks(records, _CHUNK), start=1):
        with conn.cursor() as cur:
            with cur.copy(sql.SQL("COPY {} FROM STDIN").format(stage)) as copy:
                for record in chunk:
                    copy.write_row(record)
            cur.execute(upsert)
            cur.execute(sql.SQL("TRUNCATE {}").format(stage))
        if progress:
            progress(definition.name, min(done * _CHUNK, len(records)), len(records))


def _staging(conn: psycopg.Connection, definition: LayerDef) -> tuple[sql.Identifier, sql.Composed]:
    """A temporary table shaped like the layer (geometry as WKB), dropped at commit, and the
    statement that upserts its rows into the layer."""
    stage = sql.Identifier(f"geoplan_stage_{definition.name}")
    fields = field_order(definition)
    columns: list[sql.Composable] = [
        sql.SQL("{} {}").format(sql.Identifier(f.name), sql.SQL(_PG_TYPES[f.type])) for f in fields
    ]
    names = [sql.Identifier(f.name) for f in fields]
    sources: list[sql.Composable] = list(names)
    if definition.has_geometry:
        columns.append(sql.SQL("wkb bytea"))
        names.append(sql.Identifier("geom"))
        wkb = "ST_GeomFromWKB(wkb, 4326)"
        sources.append(sql.SQL(wkb if definition.geometry == "Point" else f"ST_Multi({wkb})"))
    conn.execute(
        sql.SQL("CREATE TEMPORARY TABLE IF NOT EXISTS {} ({}) ON COMMIT DROP").format(
            stage, sql.SQL(", ").join(columns)
        )
    )
    upsert = sql.SQL(
        "INSERT INTO {} ({}) SELECT {} FROM {} ON CONFLICT (id) DO UPDATE SET {}"
    ).format(
        sql.Identifier(definition.name),
        sql.SQL(", ").join(names),
        sql.SQL(", ").join(sources),
        stage,
        sql.SQL(", ").join(sql.SQL("{0} = excluded.{0}").format(n) for n in names[1:]),
    )
    return stage, upsert


def _frame_from_rows(definition: LayerDef, rows: Sequence[Sequence[object]]) -> pd.DataFrame:
    fields = field_order(definition)
    by_name = {f.name: i for i, f in enumerate(fields)}
    data = {
        f.name: column_from_values(f, (_from_pg(f, r[by_name[f.name]]) for r in rows))
        for f in definition.fields
    }
    frame = pd.DataFrame(data, columns=list(definition.field_names))
    if not definition.has_geometry:
        return frame
    wkbs = [None if r[len(fields)] is None else bytes(cast(bytes, r[len(fields)])) for r in rows]
    geoms = shapely.from_wkb(pd.Series(wkbs, dtype=object).to_numpy())
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs="EPSG:4326"), crs="EPSG:4326")


def _from_pg(f: FieldDef, value: object) -> Value:
    if value is None:
        return None
    if f.type == "enum_list":
        return tuple(str(value).split(",")) if value else None
    return cast(Value, value)  # text, bigint, double, boolean and date come back typed


def _chunks(items: Sequence[_T], size: int) -> Iterator[list[_T]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])
