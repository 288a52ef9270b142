"""Tests for geoplan.vocab: each vocabulary agrees with the layer catalog where the catalog
lists the values, codes are unique, and every code that goes with a text has one."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from enum import StrEnum

import pytest

from geoplan.catalog import FieldDef, load_catalog
from geoplan.vocab import (
    GAP_REASON_TEXTS,
    LEFT_OUT_TEXTS,
    GapFilter,
    GapKind,
    GapReasonKind,
    LeftOutReason,
    Role,
    Service,
    SexAge,
    Weekday,
)

VOCABULARIES: tuple[type[StrEnum], ...] = (
    Service,
    Weekday,
    SexAge,
    Role,
    GapKind,
    GapFilter,
    GapReasonKind,
    LeftOutReason,
)


def _fields(*names: str) -> list[tuple[str, FieldDef]]:
    """Every (layer, field) of the catalog whose field has one of these names."""
    return [
        (layer.name, f)
        for layer in load_catalog().values()
        for f in layer.fields
        if f.name in names
    ]


def test_service_is_every_service_the_catalog_allows() -> None:
    """The services of sites, clinics, teams and visits together are exactly :class:`Service`."""
    fields = _fields("services", "services_needed")
    assert {layer for layer, _ in fields} >= {"clinics", "teams", "outreach_visits"}
    allowed = {value for _, f in fields for value in f.allowed}
    assert allowed == set(Service)


def test_teams_and_visits_offer_every_service_but_referral() -> None:
    """Teams and visits deliver every service; only clinics take referrals."""
    for layer, f in _fields("services"):
        if layer in ("teams", "outreach_visits"):
            assert f.allowed == tuple(s for s in Service if s != Service.REFERRAL), layer


@pytest.mark.parametrize("name", ["working_days", "opening_days", "access_days"])
def test_weekday_fields_allow_the_weekdays_in_order(name: str) -> None:
    """Every weekday field of the catalog allows exactly the weekdays, Sunday first."""
    fields = _fields(name)
    assert fields
    for layer, f in fields:
        assert f.allowed == tuple(Weekday), layer


def test_weekday_of_a_date_and_its_number() -> None:
    """29 November 2026 is a Sunday (0); 5 December a Saturday (6)."""
    assert Weekday.of(dt.date(2026, 11, 29)) is Weekday.SUN
    assert Weekday.of(dt.date(2026, 12, 5)) is Weekday.SAT
    assert [d.number for d in Weekday] == list(range(7))


def test_every_breakdown_of_the_catalog_is_men_women_boys_girls() -> None:
    """Each breakdown of a total ends in the sex/age groups, in :class:`SexAge`'s order."""
    breakdowns = 0
    for layer in load_catalog().values():
        totals = {f.part_of for f in layer.fields if f.part_of}
        for total in totals:
            parts = tuple(f.name for f in layer.fields if f.part_of == total)
            groups = tuple(p.removeprefix(f"{total}_") for p in parts)
            assert groups == tuple(SexAge), (layer.name, total)
            breakdowns += 1
    assert breakdowns >= 3  # gathering points, detention centres, visits (two)


def test_roles_nest_from_viewer_to_admin() -> None:
    """Roles are ranked by trust: viewer, planner, admin."""
    assert [r.rank for r in (Role.VIEWER, Role.PLANNER, Role.ADMIN)] == [0, 1, 2]


def test_gap_filter_is_any_every_kind_and_all() -> None:
    """The gap table's filter is ``any``, each gap kind, and ``all``."""
    assert tuple(GapFilter) == ("any", *GapKind, "all")


@pytest.mark.parametrize("vocabulary", VOCABULARIES, ids=lambda v: v.__name__)
def test_codes_are_unique_lower_case_words(vocabulary: type[StrEnum]) -> None:
    """No two members share a code (an alias would hide one), and codes are snake_case."""
    assert len(vocabulary.__members__) == len(set(vocabulary)) == len(list(vocabulary))
    for member in vocabulary:
        assert member.value == member.name.lower()


@pytest.mark.parametrize(
    ("vocabulary", "texts"),
    [(LeftOutReason, LEFT_OUT_TEXTS), (GapReasonKind, GAP_REASON_TEXTS)],
    ids=["left_out", "gap_reason"],
)
def test_every_code_has_one_text_of_its_own(
    vocabulary: type[LeftOutReason] | type[GapReasonKind], texts: Mapping[StrEnum, str]
) -> None:
    """Each code has a text, no text is shared, and ``.text`` reads it."""
    assert set(texts) == set(vocabulary)
    assert all(texts.values())
    assert len(set(texts.values())) == len(texts)
    assert all(member.text == texts[member] for member in vocabulary)


def test_left_out_texts_are_what_users_see_today() -> None:
    """The reasons read as schedules, maps and the API have always shown them."""
    assert [r.text for r in LeftOutReason] == [
        "inaccessible",
        "inside a no-go zone",
        "no team offers the service",
        "closed on every working day",
        "cut off by a no-go zone",
        "cannot be reached and returned from within any shift",
        "left out for higher-priority tasks",
    ]
