"""Indicators against targets: the results matrix, computed from outreach visits.

Each row of the ``indicators`` layer names a formula over the ``outreach_visits`` fields, a
target and a reporting period. A formula is read by a small parser (never ``eval``) into a
tree that is checked against the layer catalog and then evaluated on the visits table::

    formula    := aggregate [ "where" condition ]
    aggregate  := "count()" | "sum(" FIELD { "+" FIELD } ")" | "distinct(" FIELD ")"
    condition  := term { "or" term }
    term       := factor { "and" factor }
    factor     := "not" factor | "(" condition ")" | comparison
    comparison := FIELD "contains" VALUE          (list fields: services, activities)
                | FIELD ("=" | "!=") VALUE
                | FIELD ("<" | "<=" | ">" | ">=") NUMBER   (number fields)
    VALUE      := word | 'quoted text' | "quoted text" | NUMBER

Keywords are case-insensitive; ``count()`` counts visits, ``distinct(site_id)`` counts sites
reached. Examples: ``sum(consultations_women)``, ``count() where services contains
protection``, ``sum(people_reached) where activities contains health_awareness and not
services contains nfi``.
"""

from __future__ import annotations

import datetime as dt
import operator
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import NoReturn

import numpy as np
import pandas as pd

from geoplan.catalog import FieldDef, LayerDef, get_layer
from geoplan.errors import FormulaError, ParameterError

VISITS = "outreach_visits"
_NUMERIC = ("integer", "number")
_KEYWORDS = ("where", "and", "or", "not", "contains")
_TOKEN = re.compile(
    r"\s*(?:(?P<number>-?\d+(?:\.\d+)?(?![\w.:-]))|(?P<word>[A-Za-z_][A-Za-z0-9_.:-]*)"
    r"|(?P<text>'[^']*'|\"[^\"]*\")|(?P<op><=|>=|!=|=|<|>|\(|\)|\+))"
)
_COMPARE: dict[str, Callable[[pd.Series, float], pd.Series]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


# --- reporting period -----------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A reporting period, first and last day included.

    Raises
    ------
    ParameterError
        If ``end`` is before ``start``.
    """

    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        if self.end < self.start:
            msg = f"period: end {self.end} is before start {self.start}; swap the two dates."
            raise ParameterError(msg)

    @classmethod
    def parse(cls, text: str) -> Period:
        """A period written ``2026-06-01..2026-11-30``.

        Raises
        ------
        ParameterError
            If the text is not two ISO dates joined by ``..``.
        """
        start, sep, end = text.strip().partition("..")
        try:
            if not sep:
                raise ValueError
            first, last = dt.date.fromisoformat(start.strip()), dt.date.fromisoformat(end.strip())
        except ValueError:
            msg = f"period: expected START..END as YYYY-MM-DD..YYYY-MM-DD, got {text!r}"
            raise ParameterError(msg) from None
        return cls(first, last)

    @classmethod
    def ending(cls, day: dt.date, *, days: int = 183) -> Period:
        """The ``days`` days that end on ``day`` (about half a year by default)."""
        return cls(day - dt.timedelta(days=days - 1), day)

    @property
    def days(self) -> int:
        """Length in days, both ends included."""
        return (self.end - self.start).days + 1

    def elapsed_share(self, as_of: dt.date) -> float:
        """Share of the period gone by at the end of ``as_of`` (0 before it, 1 after it)."""
        gone = (min(as_of, self.end) - self.start).days + 1
        return max(gone, 0) / self.days

    def __str__(self) -> str:
        return f"{self.start}..{self.end}"


# --- formula tree ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Compare:
    """``field op value``: one comparison on a visit field."""

    field: str
    op: str
    value: str | float


@dataclass(frozen=True)
class Not:
    """The negation of a condition."""

    inner: Condition


@dataclass(frozen=True)
class AllOf:
    """Conditions joined with ``and``."""

    items: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyOf:
    """Conditions joined with ``or``."""

    items: tuple[Condition, ...]


Condition = Compare | Not | AllOf | AnyOf


@dataclass(frozen=True)
class Formula:
    """A parsed formula: what to aggregate and over which visits.

    Parameters
    ----------
    text
        The formula as written.
    aggregate
        ``count``, ``sum`` or ``distinct``.
    fields
        Fields summed (``sum``) or counted (``distinct``); empty for ``count``.
    where
        The condition visits must meet; None for every visit.
    """

    text: str
    aggregate: str
    fields: tuple[str, ...]
    where: Condition | None = None

    def evaluate(self, visits: pd.DataFrame) -> float:
        """The formula's value over a visits table (typically the visits of one period)."""
        rows = visits if self.where is None else visits.loc[_mask(self.where, visits).to_numpy()]
        if self.aggregate == "count":
            return float(len(rows))
        if self.aggregate == "distinct":
            return float(rows[self.fields[0]].dropna().nunique())
        return float(
            sum(pd.to_numeric(rows[f], errors="coerce").fillna(0).sum() for f in self.fields)
        )


def parse_formula(text: str, *, layer: LayerDef | None = None) -> Formula:
    """Read and check a formula against the fields of the visits layer.

    Raises
    ------
    FormulaError
        Saying where the formula breaks the grammar or which field or value is unknown.
    """
    parser = _Parser(text, layer or get_layer(VISITS))
    return parser.formula()


class _Parser:
    """Recursive descent over the tokens of one formula; checks fields as it reads them."""

    def __init__(self, text: str, layer: LayerDef) -> None:
        self.text = text
        self.layer = layer
        self.tokens = list(_tokens(text))
        self.at = 0

    def formula(self) -> Formula:
        aggregate, fields = self._aggregate()
        where = None
        if self._accept("where"):
            where = self._condition()
        if self.at < len(self.tokens):
            self._fail(f"unexpected {self.tokens[self.at][1]!r} after the end of the formula")
        return Formula(self.text, aggregate, fields, where)

    def _aggregate(self) -> tuple[str, tuple[str, ...]]:
        name = self._take("an aggregate: count(), sum(FIELD) or distinct(FIELD)").lower()
        if name not in ("count", "sum", "distinct"):
            self._fail(f"{name!r} is not an aggregate; use count(), sum(FIELD) or distinct(FIELD)")
        self._expect("(")
        fields: list[str] = []
        if name != "count":
            fields.append(self._field(numeric=name == "sum").name)
            while name == "sum" and self._accept("+"):
                fields.append(self._field(numeric=True).name)
        self._expect(")")
        return name, tuple(fields)

    def _condition(self) -> Condition:
        items = [self._term()]
        while self._accept("or"):
            items.append(self._term())
        return items[0] if len(items) == 1 else AnyOf(tuple(items))

    def _term(self) -> Condition:
        items = [self._factor()]
        while self._accept("and"):
            items.append(self._factor())
        return items[0] if len(items) == 1 else AllOf(tuple(items))

    def _factor(self) -> Condition:
        if self._accept("not"):
            return Not(self._factor())
        if self._accept("("):
            inner = self._condition()
            self._expect(")")
            return inner
        return self._comparison()

    def _comparison(self) -> Compare:
        f = self._field(numeric=False)
        op = self._take("contains, =, !=, <, <=, > or >=").lower()
        if op == "contains":
            return Compare(f.name, op, self._list_value(f))
        if op in ("=", "!="):
            return Compare(f.name, op, self._value(f))
        if op in _COMPARE:
            return Compare(f.name, op, self._number(f))
        return self._fail(f"expected contains, =, !=, <, <=, > or >= after {f.name}, got {op!r}")

    def _field(self, *, numeric: bool) -> FieldDef:
        name = self._take("a visit field")
        if name not in self.layer.field_names:
            hint = _close(name, self.layer.field_names)
            self._fail(f"{name!r} is not a field of {self.layer.name}{hint}")
        f = self.layer.field(name)
        if numeric and f.type not in _NUMERIC:
            self._fail(f"sum() needs number fields; {name} is {f.type.replace('_', ' ')}")
        return f

    def _list_value(self, f: FieldDef) -> str:
        if f.type != "enum_list":
            self._fail(f"`contains` works on list fields; {f.name} is {f.type}: use = instead")
        return self._allowed(f, self._take("a value"))

    def _value(self, f: FieldDef) -> str | float:
        if f.type in _NUMERIC:
            return self._number(f)
        if f.type == "enum_list":
            self._fail(f"{f.name} is a list field: write `{f.name} contains VALUE`")
        return self._allowed(f, self._take("a value"))

    def _number(self, f: FieldDef) -> float:
        if f.type not in _NUMERIC:
            self._fail(f"{f.name} is {f.type}, not a number: compare it with = or !=")
        token = self._take("a number")
        try:
            return float(token)
        except ValueError:
            return self._fail(f"expected a number to compare {f.name} with, got {token!r}")

    def _allowed(self, f: FieldDef, value: str) -> str:
        if f.allowed and value not in f.allowed:
            hint = _close(value, f.allowed)
            self._fail(
                f"{value!r} is not a value of {f.name}{hint}; allowed: {', '.join(f.allowed)}"
            )
        return value

    # -- tokens ---------------------------------------------------------------------------

    def _peek(self) -> str | None:
        return self.tokens[self.at][1] if self.at < len(self.tokens) else None

    def _accept(self, token: str) -> bool:
        peek = self._peek()
        if peek is not None and peek.lower() == token and self.tokens[self.at][0] != "text":
            self.at += 1
            return True
        return False

    def _expect(self, token: str) -> None:
        if not self._accept(token):
            self._fail(f"expected {token!r}, got {self._peek() or 'the end'!r}")

    def _take(self, what: str) -> str:
        peek = self._peek()
        if peek is None:
            self._fail(f"expected {what}, got the end of the formula")
        self.at += 1
        return str(peek)

    def _fail(self, message: str) -> NoReturn:
        raise FormulaError(f"formula {self.text!r}: {message}")


def _tokens(text: str) -> Iterator[tuple[str, str]]:
    at, end = 0, len(text.rstrip())
    while at < end:
        match = _TOKEN.match(text, at)
        if match is None or match.lastgroup is None:
            msg = f"formula {text!r}: cannot read {text[at:].strip()[:20]!r} (character {at + 1})"
            raise FormulaError(msg)
        kind, token = match.lastgroup, match[match.lastgroup]
        yield kind, token[1:-1] if kind == "text" else token
        at = match.end()


def _close(value: str, choices: tuple[str, ...]) -> str:
    import difflib  # noqa: PLC0415  (only on the error path)

    found = difflib.get_close_matches(value, choices, n=1, cutoff=0.6)
    return f" (did you mean {found[0]!r}?)" if found else ""


# --- evaluation -----------------------------------------------------------------------------


def _mask(condition: Condition, visits: pd.DataFrame) -> pd.Series:
    if isinstance(condition, Not):
        return ~_mask(condition.inner, visits)
    if isinstance(condition, AllOf):
        return _reduce(condition.items, visits, operator.and_)
    if isinstance(condition, AnyOf):
        return _reduce(condition.items, visits, operator.or_)
    return _compare(condition, visits)


def _reduce(
    items: tuple[Condition, ...],
    visits: pd.DataFrame,
    join: Callable[[pd.Series, pd.Series], pd.Series],
) -> pd.Series:
    result = _mask(items[0], visits)
    for item in items[1:]:
        result = join(result, _mask(item, visits))
    return result


def _compare(c: Compare, visits: pd.DataFrame) -> pd.Series:
    column = visits[c.field]
    if c.op == "contains":
        wrapped = "," + column.astype("string").fillna("") + ","
        found = wrapped.str.contains(f",{c.value},", regex=False)
    elif isinstance(c.value, float):
        numbers = pd.to_numeric(column, errors="coerce")
        test = _COMPARE.get(c.op, operator.eq)
        found = test(numbers, c.value)
    else:
        found = column.astype("string") == c.value
    found = found.fillna(False).astype(bool)
    return ~found if c.op == "!=" else found


# --- progress against targets ---------------------------------------------------------------

PROGRESS_COLUMNS = (
    "id",
    "name",
    "formula",
    "unit",
    "period_start",
    "period_end",
    "target",
    "value",
    "progress",
    "expected",
    "pace",
    "shortfall",
    "status",
)


def indicator_progress(
    indicators: pd.DataFrame, visits: pd.DataFrame, *, period: Period, as_of: dt.date
) -> pd.DataFrame:
    """Each indicator's value, its progress against the target and against the expected pace.

    The value counts the visits from the indicator's first day up to ``as_of`` (or the period's
    last day, if earlier). The expected value is the target times the share of the period gone
    by; ``pace`` is value over expected, and the status is ``met``, ``on track``, ``behind`` or
    ``not started``.

    Parameters
    ----------
    indicators
        Rows of the ``indicators`` layer.
    visits
        Rows of the ``outreach_visits`` layer (``date`` as datetime64).
    period
        Reporting period of indicators whose own period is empty.
    as_of
        The day the progress is measured at (usually today).

    Raises
    ------
    FormulaError
        Listing every indicator whose formula cannot be read, at once.
    """
    formulas = _parse_all(indicators)
    dates = pd.to_datetime(visits["date"]).dt.date if len(visits) else pd.Series([], dtype=object)
    rows = [
        _progress_row(
            row,
            formula=formulas[str(row["id"])],
            visits=visits,
            dates=dates,
            default=period,
            as_of=as_of,
        )
        for _, row in indicators.iterrows()
    ]
    return pd.DataFrame(rows, columns=list(PROGRESS_COLUMNS))


def _parse_all(indicators: pd.DataFrame) -> dict[str, Formula]:
    parsed, problems = {}, []
    layer = get_layer(VISITS)
    for _, row in indicators.iterrows():
        try:
            parsed[str(row["id"])] = parse_formula(str(row["formula"]), layer=layer)
        except FormulaError as exc:
            problems.append(f"indicator {row['id']}: {exc}")
    if problems:
        raise FormulaError("; ".join(problems) + "; see the grammar in layers/README.md#indicators")
    return parsed


def _progress_row(
    row: pd.Series,
    *,
    formula: Formula,
    visits: pd.DataFrame,
    dates: pd.Series,
    default: Period,
    as_of: dt.date,
) -> dict[str, object]:
    own = _own_period(row, default)
    last = min(own.end, as_of)
    in_period = visits.loc[((dates >= own.start) & (dates <= last)).to_numpy(dtype=bool)]
    value = formula.evaluate(in_period)
    target = float(row["target"])
    expected = target * own.elapsed_share(as_of)
    return {
        "id": row["id"],
        "name": row["name"],
        "formula": formula.text,
        "unit": row.get("unit"),
        "period_start": own.start,
        "period_end": own.end,
        "target": target,
        "value": value,
        "progress": value / target if target > 0 else np.nan,
        "expected": expected,
        "pace": value / expected if expected > 0 else np.nan,
        "shortfall": max(expected - value, 0.0),
        "status": _status(value, target, expected),
    }


def _own_period(row: pd.Series, default: Period) -> Period:
    start, end = row.get("period_start"), row.get("period_end")
    return Period(
        default.start if pd.isna(start) else pd.Timestamp(start).date(),
        default.end if pd.isna(end) else pd.Timestamp(end).date(),
    )


def _status(value: float, target: float, expected: float) -> str:
    if value >= target:
        return "met"
    if expected <= 0:
        return "not started"
    return "on track" if value >= expected else "behind"
