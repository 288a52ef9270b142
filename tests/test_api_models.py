"""The request patterns in the OpenAPI state the real contract: every real date and ISO week
of the supported years matches, and nothing else does (a pattern narrowed to "safe" days once
refused every 29th, 30th and 31st)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from api.models import DATE_PATTERN
from api.models_analysis import PERIOD_PATTERN, WEEK_PATTERN, StopOut, TeamDayOut
from api.routes.layers import DATETIME_PATTERN
from geoplan.catalog import FIRST_YEAR, LAST_YEAR
from geoplan.planning import STOP_COLUMNS


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


def test_a_stop_out_carries_every_stop_field() -> None:
    """StopOut has every field of a plan stop, but those of its team-day (TeamDayOut's)."""
    own = set(TeamDayOut.model_fields)
    assert tuple(StopOut.model_fields) == tuple(n for n in STOP_COLUMNS if n not in own)
