"""Every vocabulary geoplan speaks, defined once: the codes, and the text for people that goes
with a code.

Core, maps, API and docs take their values from here; nothing else spells them out. Codes are
what programs compare and store; texts are what people read, rendered from the code (never
used as keys). Where the layer catalog (``layers/*.toml``) lists the allowed values of a field
(services, weekdays, the men/women/boys/girls breakdown), ``tests/test_vocab.py`` holds the
enum and the catalog equal, so neither can change alone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from enum import StrEnum, unique
from types import MappingProxyType


@unique
class Service(StrEnum):
    """What a team delivers on a visit, and what a site needs or a clinic offers.

    ``referral`` is offered by clinics only: coverage measures the way to the nearest referral
    hospital as a service of its own for every site that needs ``health``.
    """

    HEALTH = "health"
    MHPSS = "mhpss"
    PROTECTION = "protection"
    NFI = "nfi"
    MONITORING = "monitoring"
    REFERRAL = "referral"


@unique
class Weekday(StrEnum):
    """Days of the week as the layers spell them, Sunday first (the planning week's order)."""

    SUN = "sun"
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"

    @classmethod
    def of(cls, day: dt.date) -> Weekday:
        """The weekday of a date."""
        return tuple(cls)[day.isoweekday() % 7]

    @property
    def number(self) -> int:
        """0 for Sunday, 1 for Monday, ... 6 for Saturday."""
        return tuple(type(self)).index(self)


@unique
class SexAge(StrEnum):
    """Who people are counted as, where known (adults 18 and over, children under 18)."""

    MEN = "men"
    WOMEN = "women"
    BOYS = "boys"
    GIRLS = "girls"


@unique
class Role(StrEnum):
    """API roles, from least to most trusted; each may do all that the roles before it may.

    ``viewer`` reads layers with the positions of sensitive sites generalised; ``planner``
    reads everything, plans and writes visits; ``admin`` also writes every layer and manages
    keys.
    """

    VIEWER = "viewer"
    PLANNER = "planner"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        """Position in the order of trust: 0 for ``viewer``."""
        return tuple(type(self)).index(self)


@unique
class GapKind(StrEnum):
    """The kinds of coverage gap a site can have (its ``<kind>_gap`` columns)."""

    SPATIAL = "spatial"
    TEMPORAL = "temporal"
    SERVICE = "service"


@unique
class GapFilter(StrEnum):
    """Which sites of the gap table to list: those with any gap, those with one kind of gap,
    or all sites, those without a gap included."""

    ANY = "any"
    SPATIAL = GapKind.SPATIAL.value
    TEMPORAL = GapKind.TEMPORAL.value
    SERVICE = GapKind.SERVICE.value
    ALL = "all"


@unique
class GapReasonKind(StrEnum):
    """Why a site has a gap: one code per item of a site's ``gap_reasons``."""

    INACCESSIBLE = "inaccessible"
    UNREACHABLE = "unreachable"
    BEYOND_THRESHOLD = "beyond_threshold"
    SERVICES_OUT_OF_REACH = "services_out_of_reach"
    NEVER_VISITED = "never_visited"
    OVERDUE = "overdue"
    NEVER_DELIVERED = "never_delivered"
    UNMET = "unmet"

    @property
    def text(self) -> str:
        """The words that start the item (details follow, see ``geoplan.coverage``)."""
        return GAP_REASON_TEXTS[self]


GAP_REASON_TEXTS: Mapping[GapReasonKind, str] = MappingProxyType(
    {
        GapReasonKind.INACCESSIBLE: "inaccessible",
        GapReasonKind.UNREACHABLE: "no clinic or base reachable",
        GapReasonKind.BEYOND_THRESHOLD: "no clinic or base within",
        GapReasonKind.SERVICES_OUT_OF_REACH: "out of reach for",
        GapReasonKind.NEVER_VISITED: "never visited",
        GapReasonKind.OVERDUE: "overdue",
        GapReasonKind.NEVER_DELIVERED: "never delivered",
        GapReasonKind.UNMET: "unmet in period",
    }
)
"""The words of each gap reason."""


@unique
class LeftOutReason(StrEnum):
    """Why a plan leaves a task out: each left-out task has exactly one, decided by checks in
    this order (the last is the solver's: the team time went to higher-priority tasks).

    The value is the stable code programs read (``left_out.csv``'s ``code``, the API's
    ``reason_code``); :attr:`text` is the reason in words. Each left-out task also carries a
    detail naming what a team leader can act on (the zone, the teams and minutes short).
    ``cut_off_by_no_go_zone`` is a site outside every zone that no base reaches without
    crossing one; ``in_no_go_zone`` a site inside one."""

    INACCESSIBLE = "inaccessible"
    IN_NO_GO_ZONE = "in_no_go_zone"
    NO_TEAM = "no_team"
    CLOSED = "closed"
    CUT_OFF_BY_NO_GO_ZONE = "cut_off_by_no_go_zone"
    OUT_OF_REACH = "out_of_reach"
    NO_TEAM_TIME = "no_team_time"

    @property
    def text(self) -> str:
        """The reason in words, as schedules, maps and the API show it."""
        return LEFT_OUT_TEXTS[self]


LEFT_OUT_TEXTS: Mapping[LeftOutReason, str] = MappingProxyType(
    {
        LeftOutReason.INACCESSIBLE: "inaccessible",
        LeftOutReason.IN_NO_GO_ZONE: "inside a no-go zone",
        LeftOutReason.NO_TEAM: "no team offers the service",
        LeftOutReason.CLOSED: "closed on every working day",
        LeftOutReason.CUT_OFF_BY_NO_GO_ZONE: "cut off by a no-go zone",
        LeftOutReason.OUT_OF_REACH: "cannot be reached and returned from within any shift",
        LeftOutReason.NO_TEAM_TIME: "left out for higher-priority tasks",
    }
)
"""The words of each left-out reason."""


@unique
class PlanStatus(StrEnum):
    """Where a saved plan stands: a ``draft`` until published; one ``published`` plan per week,
    and the one it replaced ``superseded``."""

    DRAFT = "draft"
    PUBLISHED = "published"
    SUPERSEDED = "superseded"


@unique
class StopChange(StrEnum):
    """How a visit differs between two plans of a week (:func:`geoplan.plans.diff_plans`)."""

    KEPT = "kept"  # same team, same day (the order within the day may differ)
    MOVED = "moved"  # another team or day
    ADDED = "added"  # only in the second plan
    DROPPED = "dropped"  # only in the first plan


__all__ = [
    "GAP_REASON_TEXTS",
    "LEFT_OUT_TEXTS",
    "GapFilter",
    "GapKind",
    "GapReasonKind",
    "LeftOutReason",
    "PlanStatus",
    "Role",
    "Service",
    "SexAge",
    "StopChange",
    "Weekday",
]
