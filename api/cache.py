"""Layers read once per workspace revision and shared between requests.

A frame is kept under the workspace's revision number (:meth:`geoplan.store.Store.revision`),
which changes with every committed write, so a cached frame is never older than the last write
the request could have seen. Callers must treat the frames as read-only.

A bounding-box read goes through a spatial index either way: the cached frame's own R-tree
(a shapely ``STRtree``, built at its first bbox read and dropped with it), or without a cache
the store's (``Store.read(bbox=...)``: the GeoPackage R-tree), so a small box never scans a
whole layer.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplan.catalog import get_layer
from geoplan.protect import generalise_points
from geoplan.store import BBox, Store

_Key = tuple[str, int, int | None]


class LayerReader:
    """Typed frames of a workspace's layers, cached by revision (``entries`` = 0: no cache)."""

    def __init__(self, store: Store, *, entries: int) -> None:
        self.store = store
        self.entries = entries
        self._frames: OrderedDict[_Key, pd.DataFrame] = OrderedDict()
        self._trees: dict[_Key, shapely.STRtree] = {}
        self._lock = threading.Lock()

    def within(self, layer: str, bbox: BBox, *, generalised_to: int | None = None) -> pd.DataFrame:
        """The rows of :meth:`frame` whose geometry intersects ``bbox`` (WEST <= EAST), in
        their order, found through a spatial index (see the module's description)."""
        revision = self.store.revision() if self.entries else None
        if revision is None and generalised_to is None:
            return self.store.read(layer, bbox=bbox)
        frame = self.frame(layer, generalised_to=generalised_to)
        if revision is None:
            return frame.loc[shapely.intersects(frame.geometry.to_numpy(), shapely.box(*bbox))]
        key = (layer, revision, generalised_to)
        with self._lock:
            tree = self._trees.get(key)
        if tree is None:
            tree = shapely.STRtree(frame.geometry.to_numpy())
            with self._lock:
                if key in self._frames:  # kept only while its frame is
                    self._trees[key] = tree
        hits = np.sort(tree.query(shapely.box(*bbox), predicate="intersects"))
        return frame.iloc[hits]

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
                old, _ = self._frames.popitem(last=False)
                self._trees.pop(old, None)
        return frame

    def _read(self, layer: str, generalised_to: int | None) -> pd.DataFrame:
        if generalised_to is None:
            return self.store.read(layer)
        frame = self.frame(layer)
        assert isinstance(frame, gpd.GeoDataFrame)
        return generalise_points(frame, get_layer(layer), resolution=generalised_to)
