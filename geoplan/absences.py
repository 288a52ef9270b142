"""Days a team is away (leave, a vehicle in the workshop): no plan gives it work on them.

An absence comes from the optional ``team_absences`` layer (team, from, to, reason) or from
the team leader's ``--away TEAM:DAY`` for the week being planned (:func:`parse_away`). The
planner skips the team-days they cover (:func:`geoplan.planning.team_days`) and refuses a pin
on one, saying why (:meth:`Absence.says`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from geoplan.catalog import is_missing
from geoplan.errors import ParameterError
from geoplan.spreadsheets import did_you_mean
from geoplan.vocab import Weekday


@dataclass(frozen=True)
class Absence:
    """A team away from ``start`` to ``end``, both days included, and why."""

    team_id: str
    start: dt.date
    end: dt.date
    reason: str = ""

    def __post_init__(self) -> None:
        if self.end < self.start:
            msg = (
                f"absence of team {self.team_id}: it ends {self.end} before it starts {self.start}"
            )
            raise ParameterError(msg)

    def covers(self, team_id: str, day: dt.date) -> bool:
        """Whether the team is away that day."""
        return team_id == self.team_id and self.start <= day <= self.end

    def says(self, day: dt.date) -> str:
        """``team MED-1 is away on Tue 8 Dec (leave)``."""
        why = f" ({self.reason})" if self.reason else ""
        return f"team {self.team_id} is away on {day_text(day)}{why}"


def day_text(day: dt.date) -> str:
    """``Tue 8 Dec``: a day as team leaders say it."""
    return f"{day:%a} {day.day} {day:%b}"


def away_on(absences: Sequence[Absence], team_id: str, day: dt.date) -> Absence | None:
    """The first absence that keeps the team away that day, if any."""
    return next((a for a in absences if a.covers(team_id, day)), None)


def absences_from_frame(frame: pd.DataFrame | None) -> tuple[Absence, ...]:
    """The rows of a ``team_absences`` layer (typed, as the store reads it) as absences."""
    if frame is None or frame.empty:
        return ()
    return tuple(
        Absence(
            team_id=str(row["team"]),
            start=pd.Timestamp(row["from"]).date(),
            end=pd.Timestamp(row["to"]).date(),
            reason="" if is_missing(row["reason"]) else str(row["reason"]),
        )
        for _, row in frame.iterrows()
    )


def parse_away(
    texts: Sequence[str], *, team_ids: Sequence[str], days: Sequence[dt.date]
) -> tuple[Absence, ...]:
    """Absences from ``TEAM:DAY`` texts, DAY a date (YYYY-MM-DD) or sun..sat of the week.

    Raises
    ------
    ParameterError
        Naming every text that is not ``TEAM:DAY``, names an unknown team or a day outside
        the week, all at once.
    """
    found, problems = [], []
    for text in texts:
        try:
            found.append(_parse_one(text, team_ids, days))
        except ParameterError as exc:
            problems.append(str(exc))
    if problems:
        raise ParameterError("; ".join(problems))
    return tuple(found)


def _parse_one(text: str, team_ids: Sequence[str], days: Sequence[dt.date]) -> Absence:
    team, sep, day_part = (p.strip() for p in text.rpartition(":"))
    if not sep or not team or not day_part:
        msg = f"away {text!r}: expected TEAM:DAY (DAY a date or sun..sat), such as MED-1:tue"
        raise ParameterError(msg)
    if team not in team_ids:
        known = ", ".join(team_ids) or "none"
        msg = f"away {text!r}: unknown team {team!r}{did_you_mean(team, team_ids)}; teams: {known}"
        raise ParameterError(msg)
    day = _day_of_week(day_part, days)
    if day is None:
        msg = (
            f"away {text!r}: {day_part!r} is not a day of the week planned "
            f"({day_text(days[0])} to {day_text(days[-1])}); give a date in it or sun..sat"
        )
        raise ParameterError(msg)
    return Absence(team, day, day)


def _day_of_week(text: str, days: Sequence[dt.date]) -> dt.date | None:
    token = text.lower()
    return next((d for d in days if token in (d.isoformat(), Weekday.of(d))), None)
