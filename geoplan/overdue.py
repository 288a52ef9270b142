"""Days overdue: the one rule that coverage and planning share.

A service is due ``frequency_days`` after its last visit. On a given day (``as_of``) it is
overdue by the days that have passed since it fell due, and by 0 when it is not yet due. A
service never delivered has no due date to count from: it is "never visited", and
:func:`days_overdue` gives ``None`` (coverage shows it as missing, planning as 0 with
``never_visited``).

Which day is ``as_of``:

- coverage (:func:`geoplan.coverage.visit_history`): the day asked for (today, or the end of a
  past period), counting the visits made up to and on that day;
- planning (:func:`geoplan.planning.tasks_for_week`): the first day of the planned week (its
  Sunday), counting the visits made before it. A plan for next week therefore reads a few
  days more overdue than today's coverage: the days until the week starts.

The same last visit, frequency and ``as_of`` give the same figure in both.
"""

from __future__ import annotations

import datetime as dt


def due_date(last_visit: dt.date, frequency_days: int) -> dt.date:
    """The day a service falls due again after a visit."""
    return last_visit + dt.timedelta(days=frequency_days)


def days_overdue(
    last_visit: dt.date | None, frequency_days: int | None, *, as_of: dt.date
) -> int | None:
    """Days the service is overdue on ``as_of`` (0 when not yet due).

    Parameters
    ----------
    last_visit
        The last visit that delivered the service; ``None`` when it never was.
    frequency_days
        Days between visits the site needs; ``None`` when unknown.
    as_of
        The day counted to (see the module's note on which day each stage uses).

    Returns
    -------
    int or None
        ``None`` when the service was never delivered or its frequency is unknown.
    """
    if last_visit is None or frequency_days is None:
        return None
    return max((as_of - due_date(last_visit, frequency_days)).days, 0)


__all__ = ["days_overdue", "due_date"]
