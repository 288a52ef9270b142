"""Travel-time matrices: how long a team takes from A to B, and which pairs cannot be driven.

A :class:`TravelTimeMatrix` is the contract between the travel-time backends and everything
that consumes travel times (planning, coverage, maps). Unreachable pairs are marked explicitly
in ``reachable`` and hold ``NaN`` in ``seconds`` and ``metres``; never a silent huge number.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class TravelTimeMatrix:
    """Travel times and distances from every origin to every destination.

    Parameters
    ----------
    origins, destinations
        Point ids, in row and column order.
    seconds, metres
        Arrays of shape ``(len(origins), len(destinations))``; ``NaN`` where unreachable.
    reachable
        Boolean array of the same shape; ``False`` marks a pair that cannot be travelled.
    reasons
        Why a point cannot be reached at all (snapped too far from any road, inside a no-go
        zone), by point id.
    backend
        Name of the backend that made the matrix (``straight_line``, ``road_network``, ...).
    parameters
        The backend's parameters (speeds, detour factor, file hash, date of closures, ...).
    """

    origins: tuple[str, ...]
    destinations: tuple[str, ...]
    seconds: np.ndarray
    metres: np.ndarray
    reachable: np.ndarray
    reasons: Mapping[str, str] = field(default_factory=dict)
    backend: str = "unknown"
    parameters: Mapping[str, object] = field(default_factory=dict)
    _rows: dict[str, int] = field(init=False, repr=False, compare=False)
    _cols: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_rows", _index(self.origins))
        object.__setattr__(self, "_cols", _index(self.destinations))
        shape = (len(self.origins), len(self.destinations))
        for name in ("seconds", "metres", "reachable"):
            if getattr(self, name).shape != shape:
                msg = f"{name} has shape {getattr(self, name).shape}, expected {shape}"
                raise ValueError(msg)

    @property
    def shape(self) -> tuple[int, int]:
        """Number of origins and destinations."""
        return (len(self.origins), len(self.destinations))

    def row(self, origin: str) -> int:
        """Row index of an origin id."""
        return self._rows[origin]

    def col(self, destination: str) -> int:
        """Column index of a destination id."""
        return self._cols[destination]

    def time(self, origin: str, destination: str) -> float:
        """Seconds from ``origin`` to ``destination``; ``NaN`` when unreachable."""
        return float(self.seconds[self.row(origin), self.col(destination)])

    def distance(self, origin: str, destination: str) -> float:
        """Metres from ``origin`` to ``destination``; ``NaN`` when unreachable."""
        return float(self.metres[self.row(origin), self.col(destination)])

    def subset(self, origins: Sequence[str], destinations: Sequence[str]) -> TravelTimeMatrix:
        """The same matrix restricted (and reordered) to the given ids."""
        rows = [self.row(o) for o in origins]
        cols = [self.col(d) for d in destinations]
        grid = np.ix_(rows, cols)
        keep = set(origins) | set(destinations)
        return TravelTimeMatrix(
            origins=tuple(origins),
            destinations=tuple(destinations),
            seconds=self.seconds[grid],
            metres=self.metres[grid],
            reachable=self.reachable[grid],
            reasons={k: v for k, v in self.reasons.items() if k in keep},
            backend=self.backend,
            parameters=self.parameters,
        )

    def to_frame(self) -> pd.DataFrame:
        """Long-form table: ``from_id``, ``to_id``, ``seconds``, ``metres``, ``reachable``."""
        n_o, n_d = self.shape
        return pd.DataFrame(
            {
                "from_id": np.repeat(np.asarray(self.origins, dtype=object), n_d),
                "to_id": np.tile(np.asarray(self.destinations, dtype=object), n_o),
                "seconds": self.seconds.ravel(),
                "metres": self.metres.ravel(),
                "reachable": self.reachable.ravel(),
            }
        )

    def summary(self) -> str:
        """A few lines for people: size, backend, unreachable pairs and why."""
        n_o, n_d = self.shape
        lines = [
            f"{n_o} x {n_d} travel-time matrix ({self.backend})",
            f"unreachable pairs: {int((~self.reachable).sum())} of {n_o * n_d}",
        ]
        lines += [f"  {pid}: {why}" for pid, why in sorted(self.reasons.items())]
        return "\n".join(lines)


def _index(ids: tuple[str, ...]) -> dict[str, int]:
    return {pid: i for i, pid in enumerate(ids)}
