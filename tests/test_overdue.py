"""Days overdue (``geoplan/overdue.py``): one rule, the same figure in coverage and planning."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from geoplan.coverage import demand_sites, visit_history
from geoplan.indicators import Period
from geoplan.overdue import days_overdue, due_date
from geoplan.planning import tasks_for_week
from tests.planning_fixtures import WEEK, layer

SUNDAY = WEEK[0]  # 2026-11-29


def centre(sid: str = "DC-05", *, frequency: int = 14) -> dict[str, object]:
    """A detention centre monitored every ``frequency`` days, open every day."""
    return {
        "id": sid,
        "name": f"Centre {sid}",
        "detainees": 40,
        "services_needed": "monitoring",
        "monitoring_frequency_days": frequency,
        "lon": 13.1,
        "lat": 32.9,
    }


def visits(*rows: tuple[str, str, str]) -> pd.DataFrame:
    """Outreach visits from (site id, date, services)."""
    return pd.DataFrame(
        [
            {"id": f"V{k}", "site_id": s, "date": pd.Timestamp(d), "team_id": "T1", "services": v}
            for k, (s, d, v) in enumerate(rows)
        ]
    )


def test_days_overdue_counts_from_the_due_date() -> None:
    """Last visit 1 Nov, every 14 days: due 15 Nov, 14 days overdue on 29 Nov, 0 before."""
    last = dt.date(2026, 11, 1)
    assert due_date(last, 14) == dt.date(2026, 11, 15)
    assert days_overdue(last, 14, as_of=SUNDAY) == 14
    assert days_overdue(last, 14, as_of=dt.date(2026, 11, 10)) == 0
    assert days_overdue(None, 14, as_of=SUNDAY) is None
    assert days_overdue(last, None, as_of=SUNDAY) is None


def test_coverage_and_planning_give_the_same_days_overdue() -> None:
    """DC-05 last monitored on 16 Oct every 14 days: 30 days overdue on the planned week's
    Sunday, both in coverage (as of that Sunday) and in the plan of that week."""
    history = visits(("DC-05", "2026-10-02", "monitoring"), ("DC-05", "2026-10-16", "monitoring"))
    frames = {"detention_centres": layer("detention_centres", [centre()])}
    sites = demand_sites(frames, layers=["detention_centres"])
    period = Period(dt.date(2026, 10, 1), SUNDAY)
    table = visit_history(sites, history, period=period, as_of=SUNDAY)
    in_coverage = int(table.loc[table["service"] == "monitoring", "days_overdue"].iloc[0])
    (task,) = tasks_for_week(frames, history, WEEK)
    assert in_coverage == task.days_overdue == 30
    assert task.status == "overdue"


def test_a_plan_for_next_week_counts_to_its_sunday() -> None:
    """Coverage today (Thursday 26 Nov) reads 3 days less overdue than the plan of the week
    that starts on Sunday 29 Nov: the as-of day differs, the rule does not."""
    history = visits(("DC-05", "2026-10-16", "monitoring"))
    frames = {"detention_centres": layer("detention_centres", [centre()])}
    sites = demand_sites(frames, layers=["detention_centres"])
    thursday = dt.date(2026, 11, 26)
    table = visit_history(
        sites, history, period=Period(dt.date(2026, 10, 1), thursday), as_of=thursday
    )
    (task,) = tasks_for_week(frames, history, WEEK)
    assert int(table["days_overdue"].iloc[0]) + 3 == task.days_overdue
