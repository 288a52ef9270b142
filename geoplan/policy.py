"""The workspace's protection policy: one setting that governs every output for outsiders.

Per sensitive layer: which roles see exact positions, the H3 resolution everyone else sees
them at, and the threshold (``k`` sites, ``m`` people) under which a count is suppressed;
for the workspace: how long outreach visits are kept (``geoplan purge``). The API's viewer
answers and maps and ``geoplan share`` all read it from here, so one change applies to all.
Every change is written to the audit log (:mod:`geoplan.audit`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from geoplan.audit import Action, record_event
from geoplan.catalog import get_layer, load_catalog
from geoplan.errors import ParameterError
from geoplan.protect import MAX_RESOLUTION, is_protected
from geoplan.store import Store
from geoplan.suppression import FLOOR, Threshold
from geoplan.vocab import Role

SETTING = "protection_policy"
"""The workspace setting that holds the policy (JSON)."""
VISITS = "outreach_visits"


@dataclass(frozen=True)
class LayerPolicy:
    """How one sensitive layer is protected.

    Parameters
    ----------
    exact_roles
        API roles that see exact positions; every other role sees them generalised.
    resolution
        H3 resolution the others see positions at (7: cells of about 5 km2).
    k, m
        Counts of fewer than ``k`` sites or ``m`` people are suppressed (both at least 3).

    Raises
    ------
    ParameterError
        If a role is unknown, the resolution is not a generalisation or k, m are below 3.
    """

    exact_roles: tuple[str, ...] = (Role.PLANNER.value, Role.ADMIN.value)
    resolution: int = 7
    k: int = 5
    m: int = 10

    def __post_init__(self) -> None:
        unknown = [r for r in self.exact_roles if r not in tuple(Role)]
        if unknown:
            msg = f"exact_roles: {', '.join(unknown)} is not a role; use {', '.join(Role)}"
            raise ParameterError(msg)
        if not 0 <= self.resolution <= MAX_RESOLUTION:
            msg = f"resolution = {self.resolution}: use 0..{MAX_RESOLUTION} (7 is about 5 km2)"
            raise ParameterError(msg)
        Threshold(self.k, self.m)

    @property
    def threshold(self) -> Threshold:
        """The layer's suppression rule."""
        return Threshold(self.k, self.m)


@dataclass(frozen=True)
class Policy:
    """The protection policy of a workspace (defaults for every layer not set)."""

    layers: Mapping[str, LayerPolicy] = field(default_factory=dict)
    visit_retention_days: int | None = None

    def __post_init__(self) -> None:
        if self.visit_retention_days is not None and self.visit_retention_days < 1:
            msg = (
                f"visit_retention_days = {self.visit_retention_days}: give 1 or more days, or none"
            )
            raise ParameterError(msg)

    def layer(self, name: str) -> LayerPolicy:
        """The policy of a layer (the defaults unless set)."""
        return self.layers.get(name, LayerPolicy())

    def sees_exact(self, layer: str, role: str) -> bool:
        """Whether a key of ``role`` reads exact positions of ``layer``."""
        return not is_protected(get_layer(layer)) or role in self.layer(layer).exact_roles

    def generalises(self, role: str) -> bool:
        """Whether ``role`` sees some protected layer generalised: its analyses then run on the
        generalised layers."""
        return any(not self.sees_exact(name, role) for name in protected_layers())

    @property
    def viewer_resolution(self) -> int:
        """The coarsest resolution any protected layer is shown at: what viewers' analyses
        and maps run on."""
        return min(self.layer(name).resolution for name in protected_layers())

    @property
    def threshold(self) -> Threshold:
        """The strictest rule of the protected layers: what shared products apply."""
        rules = [self.layer(name) for name in protected_layers()]
        return Threshold(max(r.k for r in rules), max(r.m for r in rules))

    def to_json(self) -> str:
        """The policy as the workspace keeps it."""
        layers = {n: dataclasses.asdict(p) for n, p in sorted(self.layers.items())}
        return json.dumps({"layers": layers, "visit_retention_days": self.visit_retention_days})

    @classmethod
    def from_json(cls, text: str) -> Policy:
        """A policy kept by :meth:`to_json`."""
        data = json.loads(text)
        layers = {
            name: LayerPolicy(**{**p, "exact_roles": tuple(p["exact_roles"])})
            for name, p in data.get("layers", {}).items()
        }
        return cls(layers, data.get("visit_retention_days"))

    def rows(self) -> list[tuple[str, str, str]]:
        """(layer, setting, value) for people, every protected layer and the retention."""
        out = []
        for name in protected_layers():
            p = self.layer(name)
            out += [
                (name, "exact_roles", ",".join(p.exact_roles)),
                (name, "resolution", str(p.resolution)),
                (name, "k", str(p.k)),
                (name, "m", str(p.m)),
            ]
        days = self.visit_retention_days
        out.append((VISITS, "retention_days", "keep for ever" if days is None else str(days)))
        return out


def protected_layers() -> tuple[str, ...]:
    """The layers whose positions the policy protects (``high`` sensitivity points)."""
    return tuple(name for name, d in load_catalog().items() if is_protected(d))


def read_policy(store: Store) -> Policy:
    """The workspace's policy; the defaults when none was set."""
    text = store.get_setting(SETTING) if store.exists() else None
    return Policy() if text is None else Policy.from_json(text)


def change_policy(policy: Policy, layer: str, setting: str, value: str) -> Policy:
    """``policy`` with one setting changed, as ``geoplan policy set`` writes it.

    ``layer`` is a protected layer with ``exact_roles``, ``resolution``, ``k`` or ``m``, or
    ``outreach_visits`` with ``retention_days`` (``none`` keeps visits for ever).

    Raises
    ------
    ParameterError
        If the layer or setting is unknown or the value is out of range.
    """
    if layer == VISITS:
        if setting != "retention_days":
            raise ParameterError(f"{VISITS}: the only setting is retention_days, not {setting!r}")
        days = None if value.strip().lower() in ("none", "") else _whole(setting, value)
        return dataclasses.replace(policy, visit_retention_days=days)
    if layer not in protected_layers():
        msg = f"layer {layer!r}: policies are set for {', '.join(protected_layers())} and {VISITS}"
        raise ParameterError(msg)
    current = policy.layer(layer)
    if setting == "exact_roles":
        roles = tuple(r.strip() for r in value.split(",") if r.strip())
        changed = dataclasses.replace(current, exact_roles=roles)
    elif setting == "resolution":
        changed = dataclasses.replace(current, resolution=_whole(setting, value))
    elif setting == "k":
        changed = dataclasses.replace(current, k=_whole(setting, value))
    elif setting == "m":
        changed = dataclasses.replace(current, m=_whole(setting, value))
    else:
        msg = f"{layer}: setting {setting!r} is not one of exact_roles, resolution, k, m"
        raise ParameterError(msg)
    return dataclasses.replace(policy, layers={**policy.layers, layer: changed})


def _whole(setting: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ParameterError(f"{setting} = {value!r}: expected a whole number") from None


def set_policy(store: Store, policy: Policy, *, who: str, what: str) -> Policy:
    """Keep ``policy`` in the workspace and record the change in the audit log."""
    store.set_setting(SETTING, policy.to_json())
    record_event(store, Action.POLICY_CHANGED, who=who, what=what)
    return policy


def purge_visits(store: Store, *, today: dt.date, who: str) -> int:
    """Delete the outreach visits older than the policy's retention period; how many.

    Nothing is deleted (and 0 returned) when the policy keeps visits for ever.
    """
    days = read_policy(store).visit_retention_days
    if days is None:
        return 0
    cutoff = today - dt.timedelta(days=days)
    visits = store.read(VISITS)
    dates = pd.to_datetime(visits["date"], errors="coerce")  # a visit without a date stays
    old = visits.loc[dates < pd.Timestamp(cutoff), "id"].astype(str).tolist()
    if old:
        store.delete(VISITS, old)
    what = f"{VISITS} dated before {cutoff} (retention {days} days)"
    record_event(store, Action.PURGED, who=who, what=what, rows=len(old))
    return len(old)


__all__ = [
    "FLOOR",
    "LayerPolicy",
    "Policy",
    "change_policy",
    "protected_layers",
    "purge_visits",
    "read_policy",
    "set_policy",
]
