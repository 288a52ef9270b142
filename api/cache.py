"""Layers read once per workspace revision and shared between requests.

A frame is kept under the workspace's revision number (:meth:`GeoPackageStore.revision`), which
changes with every committed write, so a cached frame is never older than the last write the
request could have seen. Callers must treat the frames as read-only.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geoplan.catalog import get_layer
from geoplan.protect import generalise_points
from geoplan.store import GeoPackageStore

_Key = tuple[str, int, int | None]
State = tuple[int, int, int]
"""A workspace file's device, inode and SQLite data version."""


class WatchedStore(GeoPackageStore):
    """The workspace store of a server: it knows cheaply whether the file has changed.

    One read-only connection asks SQLite's ``PRAGMA data_version``, which moves whenever any
    other connection commits (an edit through the API, ``geoplan import`` or
    ``geoplan keys revoke`` in another process). While it stands still, :meth:`revision`
    answers from memory, where the store would open the file for every request; and
    :meth:`state` lets other caches (checked keys) drop their answers when it moves. One
    lock guards the connection (an app may be served from more than one thread).
    """

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self._watch: sqlite3.Connection | None = None
        self._identity: tuple[int, int] | None = None
        self._revision: tuple[State, int | None] | None = None
        self._lock = threading.Lock()

    def state(self) -> State | None:
        """Where the file stands now; None when it cannot be watched (missing, unreadable)."""
        with self._lock:
            return self._state()

    def revision(self) -> int | None:
        """:meth:`GeoPackageStore.revision`, read again only after the file has changed."""
        with self._lock:
            state = self._state()
            if state is not None and self._revision is not None and self._revision[0] == state:
                return self._revision[1]
        revision = super().revision()  # read after the state: never older than it
        if state is not None:
            with self._lock:
                self._revision = (state, revision)
        return revision

    def _state(self) -> State | None:
        try:
            info = self.path.stat()
        except OSError:
            self._close()
            return None
        if self._identity != (info.st_dev, info.st_ino):
            self._close()  # a new file at the path: watch that one
            self._identity = (info.st_dev, info.st_ino)
        try:
            if self._watch is None:
                uri = Path(self.path).resolve().as_uri() + "?mode=ro"
                self._watch = sqlite3.connect(
                    uri, uri=True, isolation_level=None, check_same_thread=False
                )
            version = int(self._watch.execute("PRAGMA data_version").fetchone()[0])
        except sqlite3.Error:
            self._close()
            return None
        return (info.st_dev, info.st_ino, version)

    def _close(self) -> None:
        if self._watch is not None:
            self._watch.close()
        self._watch = None
        self._revision = None


class LayerReader:
    """Typed frames of a workspace's layers, cached by revision (``entries`` = 0: no cache)."""

    def __init__(self, store: GeoPackageStore, *, entries: int) -> None:
        self.store = store
        self.entries = entries
        self._frames: OrderedDict[_Key, pd.DataFrame] = OrderedDict()
        self._lock = threading.Lock()

    def frame(self, layer: str, *, generalised_to: int | None = None) -> pd.DataFrame:
        """A layer's rows; with ``generalised_to``, sensitive sites moved to H3 cell centres
        at that resolution and free text left out (see :mod:`geoplan.protect`)."""
        revision = self.store.revision() if self.entries else None
        if revision is None:
            return self._read(layer, generalised_to)
        key = (layer, revision, generalised_to)
        with self._lock:
            if key in self._frames:
                self._frames.move_to_end(key)
                return self._frames[key]
        frame = self._read(layer, generalised_to)
        with self._lock:
            self._frames[key] = frame
            while len(self._frames) > self.entries:
                self._frames.popitem(last=False)
        return frame

    def _read(self, layer: str, generalised_to: int | None) -> pd.DataFrame:
        if generalised_to is None:
            return self.store.read(layer)
        frame = self.frame(layer)
        assert isinstance(frame, gpd.GeoDataFrame)
        return generalise_points(frame, get_layer(layer), resolution=generalised_to)
