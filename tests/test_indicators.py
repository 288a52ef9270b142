"""Indicators against targets: the formula grammar, its errors, and progress against pace.

Five visits, counted by hand:

====  =====  ==========  ====================  =====================================  ======
id    site   date        services              activities                             counts
====  =====  ==========  ====================  =====================================  ======
V1    GP-1   2026-06-10  health                health_consultation, referral          10 consultations (6/2/1/1), 2 referrals, 10 reached
V2    GP-2   2026-07-01  health, nfi           health_consultation, nfi_distribution  4 consultations (2/1/1/0), 5 kits, 8 reached
V3    GP-1   2026-08-15  mhpss                 mhpss_session, group_activity          5 reached
V4    DC-1   2026-09-20  protection, monitor.  protection_monitoring                  12 reached
V5    GP-3   2026-10-05  health                health_awareness                       0 consultations, 30 reached
====  =====  ==========  ====================  =====================================  ======
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from geoplan.errors import FormulaError, ParameterError
from geoplan.indicators import (
    PROGRESS_COLUMNS,
    AllOf,
    AnyOf,
    Compare,
    Not,
    Period,
    indicator_progress,
    parse_formula,
)

COUNTS = (
    "consultations",
    "consultations_men",
    "consultations_women",
    "consultations_boys",
    "consultations_girls",
    "referrals",
    "nfi_kits",
    "people_reached",
)


def _visits() -> pd.DataFrame:
    rows = [
        ("V1", "GP-1", "2026-06-10", "health", "health_consultation,referral", 10, 6, 2, 1, 1, 2, None, 10),
        ("V2", "GP-2", "2026-07-01", "health,nfi", "health_consultation,nfi_distribution", 4, 2, 1, 1, 0, None, 5, 8),
        ("V3", "GP-1", "2026-08-15", "mhpss", "mhpss_session,group_activity", None, None, None, None, None, None, None, 5),
        ("V4", "DC-1", "2026-09-20", "protection,monitoring", "protection_monitoring", None, None, None, None, None, None, None, 12),
        ("V5", "GP-3", "2026-10-05", "health", "health_awareness", 0, None, None, None, None, None, None, 30),
    ]  # fmt: skip
    frame = pd.DataFrame(rows, columns=["id", "site_id", "date", "services", "activities", *COUNTS])
    return frame.astype(dict.fromkeys(COUNTS, "Int64")).assign(
        date=pd.to_datetime(frame["date"]), team_id="T-1"
    )


VISITS = _visits()


# --- the reporting period ---------------------------------------------------------------------


def test_period_parses_start_dot_dot_end() -> None:
    """2026-06-01..2026-11-30 is 183 days, both ends included."""
    period = Period.parse(" 2026-06-01..2026-11-30 ")
    assert (period.start, period.end, period.days) == (
        dt.date(2026, 6, 1),
        dt.date(2026, 11, 30),
        183,
    )
    assert str(period) == "2026-06-01..2026-11-30"


@pytest.mark.parametrize(
    "text", ["2026-06-01", "2026-06-01..", "June..July", "2026-13-01..2026-12-01"]
)
def test_period_refuses_what_is_not_two_dates(text: str) -> None:
    """Anything but two ISO dates joined by .. names the expected form."""
    with pytest.raises(ParameterError, match=r"period: expected START\.\.END as YYYY-MM-DD"):
        Period.parse(text)


def test_period_end_before_start_says_to_swap() -> None:
    """Dates the wrong way round are named as such."""
    with pytest.raises(ParameterError, match="end 2026-06-01 is before start 2026-11-30; swap"):
        Period.parse("2026-11-30..2026-06-01")


def test_elapsed_share_counts_whole_days() -> None:
    """Of a 40-day period, 0 before it, 30/40 on its 30th day, all of it after it."""
    period = Period(dt.date(2026, 11, 1), dt.date(2026, 12, 10))
    assert period.elapsed_share(dt.date(2026, 10, 31)) == 0
    assert period.elapsed_share(dt.date(2026, 11, 30)) == 0.75
    assert period.elapsed_share(dt.date(2027, 1, 1)) == 1


def test_period_ending_a_day() -> None:
    """The default analysis period is the 183 days that end on the given day."""
    period = Period.ending(dt.date(2026, 11, 30))
    assert (period.start, period.days) == (dt.date(2026, 6, 1), 183)


# --- formulas -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("formula", "value"),
    [
        ("count()", 5),
        ("sum(consultations)", 14),
        ("sum(consultations_boys + consultations_girls)", 3),
        ("distinct(site_id)", 4),
        ("count() where services contains health", 3),
        ("COUNT() WHERE services CONTAINS health", 3),
        ("sum(people_reached) where activities contains health_awareness", 30),
        ("sum(people_reached) where services contains health and not services contains nfi", 40),
        ("count() where services contains mhpss or services contains protection", 2),
        (
            "count() where (services contains health or services contains mhpss) "
            "and people_reached >= 10",
            2,
        ),
        ("distinct(site_id) where nfi_kits > 0", 1),
        ("count() where site_id = GP-1", 2),
        ("count() where site_id != 'GP-1'", 3),
        ('count() where team_id = "T-1"', 5),
        ("sum(people_reached) where consultations < 5", 38),
        ("sum(people_reached) where consultations <= 4 and consultations >= 4", 8),
        ("count() where referrals = 2", 1),
    ],
)
def test_formula_values_on_five_visits(formula: str, value: float) -> None:
    """Every aggregate and every kind of condition, counted by hand on the five visits."""
    assert parse_formula(formula).evaluate(VISITS) == value


def test_and_binds_tighter_than_or() -> None:
    """``a or b and c`` reads as ``a or (b and c)``; ``not`` applies to the next factor."""
    parsed = parse_formula(
        "count() where services contains mhpss or services contains health and not nfi_kits > 0"
    )
    assert parsed.aggregate == "count"
    assert parsed.where == AnyOf(
        (
            Compare("services", "contains", "mhpss"),
            AllOf(
                (
                    Compare("services", "contains", "health"),
                    Not(Compare("nfi_kits", ">", 0.0)),
                )
            ),
        )
    )
    assert parsed.evaluate(VISITS) == 3  # V3, and V1 and V5 (V2 has kits)


def test_formula_on_no_visits_is_zero() -> None:
    """No visits in the period: every aggregate is 0."""
    for formula in ("count()", "sum(consultations)", "distinct(site_id) where nfi_kits > 0"):
        assert parse_formula(formula).evaluate(VISITS.iloc[:0]) == 0


@pytest.mark.parametrize(
    ("formula", "message"),
    [
        ("total(consultations)", "'total' is not an aggregate; use count(), sum(FIELD)"),
        ("sum(consultation)", "'consultation' is not a field of outreach_visits (did you mean"),
        ("sum(services)", "sum() needs number fields; services is enum list"),
        ("count() where team_id contains MED", "`contains` works on list fields; team_id is"),
        ("count() where services = health", "services is a list field: write `services contains"),
        ("count() where services contains helth", "'helth' is not a value of services (did you"),
        ("sum(consultations", "expected ')', got 'the end'"),
        ("count() extra", "unexpected 'extra' after the end of the formula"),
        ("count() where consultations > many", "expected a number to compare consultations"),
        ("count() where site_id > 3", "site_id is string, not a number: compare it with = or !="),
        ("count() where consultations ~ 3", "cannot read '~ 3'"),
        ("count() where", "expected a visit field, got the end of the formula"),
        ("", "expected an aggregate"),
    ],
)
def test_formula_errors_say_what_and_how(formula: str, message: str) -> None:
    """Each way a formula can be wrong is named, quoting the formula."""
    with pytest.raises(FormulaError, match="formula .*" + _escaped(message)):
        parse_formula(formula)


def _escaped(text: str) -> str:
    return "".join("\\" + c if c in "()[]{}.*+?^$|\\" else c for c in text)


# --- progress against targets ---------------------------------------------------------------


def _indicators(*rows: tuple[str, str, float, str | None, str | None]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["id", "formula", "target", "period_start", "period_end"])
    return frame.assign(
        name=frame["id"],
        unit="",
        period_start=pd.to_datetime(frame["period_start"]),
        period_end=pd.to_datetime(frame["period_end"]),
    )


ANALYSIS = Period(dt.date(2026, 6, 1), dt.date(2026, 11, 30))


def _progress(indicators: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    return indicator_progress(indicators, VISITS, period=ANALYSIS, as_of=as_of).set_index("id")


def test_progress_behind_pace() -> None:
    """By 08-31 (92 of 183 days gone) 14 consultations of 40 are 70 % of the 20.1 expected."""
    table = _progress(
        _indicators(("C", "sum(consultations)", 40, None, None)), dt.date(2026, 8, 31)
    )
    row = table.loc["C"]
    assert row["value"] == 14
    assert row["progress"] == pytest.approx(14 / 40)
    assert row["expected"] == pytest.approx(40 * 92 / 183)
    assert row["pace"] == pytest.approx(14 / (40 * 92 / 183))
    assert row["shortfall"] == pytest.approx(40 * 92 / 183 - 14)
    assert row["status"] == "behind"


def test_progress_on_track_met_and_not_started() -> None:
    """Ahead of pace is on track; 2 sites of 2 is met; a period not begun is not started."""
    table = _progress(
        _indicators(
            ("ON", "sum(consultations)", 20, None, None),
            ("MET", "distinct(site_id)", 2, None, None),
            ("LATER", "count()", 10, "2026-12-01", "2026-12-31"),
        ),
        dt.date(2026, 8, 31),
    )
    assert table["status"].to_dict() == {"ON": "on track", "MET": "met", "LATER": "not started"}
    assert table.loc["ON", "shortfall"] == 0
    assert table.loc["LATER", "value"] == 0
    assert table["pace"].isna()["LATER"]


def test_progress_uses_each_indicator_own_period() -> None:
    """An indicator over July-August counts V2 and V3 only; the analysis period fills gaps."""
    table = _progress(
        _indicators(
            ("SUMMER", "count()", 4, "2026-07-01", "2026-08-31"),
            ("OPEN", "count()", 10, None, "2026-08-31"),
        ),
        dt.date(2026, 11, 30),
    )
    assert table.loc["SUMMER", "value"] == 2
    assert table.loc["SUMMER", "expected"] == 4  # the period is over
    assert table.loc["OPEN", "period_start"] == ANALYSIS.start
    assert table.loc["OPEN", "value"] == 3


def test_progress_ignores_visits_after_the_day_measured() -> None:
    """Measured on 07-01, only V1 and V2 (that day included) count."""
    table = _progress(_indicators(("N", "count()", 10, None, None)), dt.date(2026, 7, 1))
    assert table.loc["N", "value"] == 2


def test_a_zero_target_has_no_progress_share() -> None:
    """A target of 0 is met at once; its progress share is undefined, not infinite."""
    table = _progress(_indicators(("Z", "count()", 0, None, None)), dt.date(2026, 8, 31))
    assert table.loc["Z", "status"] == "met"
    assert table["progress"].isna()["Z"]


def test_progress_columns() -> None:
    """The progress table has the documented columns, in order."""
    frame = indicator_progress(
        _indicators(("C", "count()", 1, None, None)),
        VISITS,
        period=ANALYSIS,
        as_of=dt.date(2026, 8, 31),
    )
    assert tuple(frame.columns) == PROGRESS_COLUMNS


def test_every_bad_formula_is_reported_at_once() -> None:
    """Two unreadable formulas: both indicators are named in one error."""
    indicators = _indicators(
        ("A", "sum(consultation)", 1, None, None),
        ("B", "count()", 1, None, None),
        ("C", "count() where services = health", 1, None, None),
    )
    with pytest.raises(FormulaError) as caught:
        _progress(indicators, dt.date(2026, 8, 31))
    assert "indicator A:" in str(caught.value)
    assert "indicator C:" in str(caught.value)
    assert "indicator B" not in str(caught.value)
