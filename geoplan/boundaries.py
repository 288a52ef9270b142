"""Boundary polygons that points must fall in, and hints when a point falls outside: the
admin areas of the workspace, or a country outline (`geoplan area set --boundary FILE`).

A bounding box only catches points far away; a point placed in the neighbouring country is
inside the box and outside the polygons. :func:`placement_hint` says which usual slip (an axis
swap, a sign flip, a value copied from the other axis, a decimal shift) would put a point
back inside, for boxes and polygons alike.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import shapely
from shapely.geometry.base import BaseGeometry

Inside = Callable[[float, float], bool]


@dataclass(frozen=True)
class Boundaries:
    """Named polygons (admin areas by P-code, or one country outline) with a spatial index.

    ``refuse_outside`` makes a point outside every polygon an error (a country outline says
    where the operation is); otherwise a warning (admin areas may cover part of it only).
    """

    ids: tuple[str, ...]
    names: tuple[str, ...]
    geometries: tuple[BaseGeometry, ...]
    label: str = "boundaries"
    refuse_outside: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "_tree", shapely.STRtree(list(self.geometries)))

    @classmethod
    def from_geometries(
        cls,
        geometries: Sequence[BaseGeometry],
        *,
        ids: Sequence[str],
        names: Sequence[str],
        label: str = "boundaries",
        refuse_outside: bool = True,
    ) -> Boundaries:
        """From parallel sequences; empty geometries are left out."""
        kept = [i for i, g in enumerate(geometries) if g is not None and not g.is_empty]
        return cls(
            tuple(str(ids[i]) for i in kept),
            tuple(str(names[i]) for i in kept),
            tuple(geometries[i] for i in kept),
            label,
            refuse_outside,
        )

    def areas_at(self, lon: float, lat: float) -> list[int]:
        """Indices of the polygons a point is in (on the edge counts as in)."""
        tree: shapely.STRtree = object.__getattribute__(self, "_tree")
        found = tree.query(shapely.Point(lon, lat), predicate="intersects")
        return sorted(int(i) for i in found)

    def contains(self, lon: float, lat: float) -> bool:
        """Whether a point is in any polygon."""
        return bool(self.areas_at(lon, lat))

    def index_of(self, code: str) -> int | None:
        """The polygon whose id is ``code``, if there is one."""
        return self.ids.index(code) if code in self.ids else None

    def describe(self, index: int) -> str:
        """``"Tripoli (LY0201)"``."""
        return f"{self.names[index]} ({self.ids[index]})"


@dataclass(frozen=True)
class Hint:
    """A slip that would put a point inside, as a rule name and the fix to show."""

    rule: str
    fix: str


def placement_hint(lon: float, lat: float, inside: Inside) -> Hint | None:
    """The first usual slip that, undone, puts (lon, lat) ``inside``; None if none does."""
    if lon == lat:
        return Hint(
            "copied-coordinate",
            f"longitude and latitude are both {lon:g}: one was copied from the other; "
            "enter the missing one again",
        )
    if inside(lat, lon):
        return Hint(
            "lon-lat-swapped", "longitude and latitude look swapped: exchange the two values"
        )
    flips = (
        (-lon, lat, "longitude's sign", f"{-lon:g}"),
        (lon, -lat, "latitude's sign", f"{-lat:g}"),
        (-lon, -lat, "signs of both", f"{-lon:g}, {-lat:g}"),
    )
    for new_lon, new_lat, which, shown in flips:
        if inside(new_lon, new_lat):
            return Hint(
                "wrong-sign", f"the {which} looks wrong: {shown} would be inside; correct the sign"
            )
    return _decimal_shift(lon, lat, inside)


def _decimal_shift(lon: float, lat: float, inside: Inside) -> Hint | None:
    """A decimal point slipped by one to six places (``-77.66`` for ``-7.766``, ``633658`` for
    ``6.33658``) in one of the two values."""
    for power in range(1, 7):
        for factor in (10.0**-power, 10.0**power):
            for new_lon, new_lat, axis, old, new in (
                (lon * factor, lat, "longitude", lon, lon * factor),
                (lon, lat * factor, "latitude", lat, lat * factor),
            ):
                if inside(new_lon, new_lat):
                    return Hint(
                        "decimal-shift",
                        f"the {axis} {old:g} looks like {new:.6g} with its decimal point "
                        f"slipped {power} place(s); check where the decimal point goes",
                    )
    return None
