"""The request patterns in the OpenAPI state the real contract: every real date and ISO week
of the supported years matches, and nothing else does (a pattern narrowed to "safe" days once
refused every 29th, 30th and 31st)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from pydantic import ValidationError

from api.models import DATE_PATTERN, KeyCreate, KeyInfo
from api.models_analysis import (
    PERIOD_PATTERN,
    WEEK_PATTERN,
    GapCounts,
    GapSite,
    GapsQuery,
    GeneralisedGapSite,
    LeftOutOut,
    PinIn,
    PlanTotals,
    StopOut,
    TeamDayOut,
)
from api.routes.layers import DATETIME_PATTERN
from geoplan.catalog import FIRST_YEAR, LAST_YEAR
from geoplan.coverage import gap_column
from geoplan.planning import STOP_COLUMNS
from geoplan.vocab import LEFT_OUT_TEXTS, GapFilter, GapKind, LeftOutReason, Role, SexAge, Weekday


def _every_day() -> list[dt.date]:
    first, last = dt.date(FIRST_YEAR, 1, 1), dt.date(LAST_YEAR, 12, 31)
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def test_date_pattern_matches_every_real_day() -> None:
    """Every day from 1900-01-01 to 2199-12-31 matches, the 29th to 31st included."""
    pattern = re.compile(DATE_PATTERN)
    missed = [day for day in _every_day() if not pattern.match(day.isoformat())]
    assert missed == []


@pytest.mark.parametrize(
    "text",
    [
        "2026-02-29",  # not a leap year
        "1900-02-29",  # a century not divisible by 400
        "2100-02-29",
        "2026-02-30",
        "2026-04-31",
        "2026-13-01",
        "2026-00-10",
        "2026-01-32",
        "2026-01-00",
        "1899-12-31",  # outside the supported years
        "2200-01-01",
        "2026-1-05",
    ],
)
def test_date_pattern_refuses_what_is_no_day(text: str) -> None:
    """Impossible days and years outside 1900-2199 do not match."""
    assert re.match(DATE_PATTERN, text) is None


def test_leap_days_match_in_leap_years_only() -> None:
    """29 February matches exactly in the leap years (2000 is one, 1900 and 2100 are not)."""
    pattern = re.compile(DATE_PATTERN)
    matched = {y for y in range(FIRST_YEAR, LAST_YEAR + 1) if pattern.match(f"{y}-02-29")}
    leap = {y for y in range(FIRST_YEAR, LAST_YEAR + 1) if y % 4 == 0 and y not in (1900, 2100)}
    assert matched == leap
    assert 2000 in matched


def test_week_pattern_matches_week_53_where_the_year_has_one() -> None:
    """W53 matches in exactly the years that have 53 ISO weeks (2026 does, 2027 does not)."""
    pattern = re.compile(WEEK_PATTERN)
    matched = {y for y in range(FIRST_YEAR, LAST_YEAR + 1) if pattern.match(f"{y}-W53")}
    long_years = {
        y for y in range(FIRST_YEAR, LAST_YEAR + 1) if dt.date(y, 12, 28).isocalendar().week == 53
    }
    assert matched == long_years
    assert 2026 in matched
    assert 2027 not in matched
    assert all(pattern.match(f"2027-W{week:02d}") for week in range(1, 53))
    assert pattern.match("2027-W00") is None


def test_period_and_datetime_patterns_take_month_ends() -> None:
    """A month's last day is a valid period end and a valid OGC datetime end."""
    assert re.match(PERIOD_PATTERN, "2026-03-01..2026-03-31")
    assert re.match(DATETIME_PATTERN, "2026-03-01/2026-03-31")
    assert re.match(DATETIME_PATTERN, "2024-02-29T10:00:00Z")
    assert re.match(DATETIME_PATTERN, "2026-02-29") is None


# --- vocabularies -------------------------------------------------------------------------


def _enum(model: type[KeyCreate] | type[GapsQuery] | type[LeftOutOut], name: str) -> list[str]:
    schema = model.model_json_schema()
    field = schema["properties"][name]
    if "$ref" in field:
        field = schema["$defs"][field["$ref"].rsplit("/", 1)[-1]]
    return list(field["enum"])


def test_schema_enums_are_the_vocabularies() -> None:
    """Roles, gap filters and left-out reasons in the OpenAPI come from geoplan.vocab."""
    assert _enum(KeyCreate, "role") == _enum(KeyInfo, "role") == list(Role)
    assert _enum(GapsQuery, "gap") == list(GapFilter)
    assert _enum(LeftOutOut, "reason_code") == list(LeftOutReason)
    assert _enum(LeftOutOut, "reason") == list(LEFT_OUT_TEXTS.values())


def test_pin_days_are_the_weekdays() -> None:
    """A pin's day is a date or one of the weekday codes, and nothing else."""
    site = {"site": "GP-1", "team": "T-1"}
    for day in Weekday:
        assert PinIn.model_validate({**site, "day": str(day)}).day == day
    with pytest.raises(ValidationError):
        PinIn.model_validate({**site, "day": "monday"})


def test_gap_models_have_a_field_for_every_gap_kind() -> None:
    """Gap-table rows carry a flag per gap kind, and the summary a count per kind."""
    flags = {gap_column(kind) for kind in GapKind}
    assert flags <= set(GapSite.model_fields) & set(GeneralisedGapSite.model_fields)
    assert set(GapKind) <= set(GapCounts.model_fields)


def test_people_models_have_a_field_for_every_sex_age_group() -> None:
    """Gap rows, stops and plan totals count men, women, boys and girls."""
    for model in (GapSite, GeneralisedGapSite, StopOut, PlanTotals):
        assert set(SexAge) <= set(model.model_fields), model.__name__


def test_left_out_reason_is_the_text_of_its_code() -> None:
    """A left-out row whose reason is not its code's text is refused."""
    row = {
        "task_id": "GP-1/health",
        "site_id": "GP-1",
        "site_name": "A",
        "layer": "gathering_points",
        "service": "health",
        "status": "due",
        "days_overdue": 0,
        "people": 10,
        "score": 1.0,
        "overdue": False,
        "detail": "no planned team offers health",
        "lon": 13.1,
        "lat": 32.8,
    }
    code = LeftOutReason.NO_TEAM
    assert LeftOutOut.model_validate({**row, "reason": code.text, "reason_code": code})
    with pytest.raises(ValidationError, match="not the text"):
        LeftOutOut.model_validate({**row, "reason": LeftOutReason.CLOSED.text, "reason_code": code})


def test_a_stop_out_carries_every_stop_field() -> None:
    """StopOut has every field of a plan stop, but those of its team-day (TeamDayOut's)."""
    own = set(TeamDayOut.model_fields)
    assert tuple(StopOut.model_fields) == tuple(n for n in STOP_COLUMNS if n not in own)
