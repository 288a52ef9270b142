"""Request and response models of the coverage, plan and map routes.

As in :mod:`api.models`, requests are strict (unknown fields and query parameters refused, no
strings or booleans taken for numbers, no NaN) and responses are split by role: a viewer's gap
table (:class:`GeneralisedGapSite`) has no field that could carry a name, an exact position or
travel times to named places, and its GeoJSON geometry can only be the centre of a coarse H3
cell. Plans hold exact positions and are for planners only.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from geojson_pydantic import MultiPolygon, Point, Polygon
from pydantic import (
    AfterValidator,
    AllowInfNan,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    WithJsonSchema,
    model_validator,
)

from api.models import (
    DATE_PATTERN,
    DATE_TEXT,
    YEAR_TEXT,
    GeneralisedFeature,
    Link,
    WholeNumber,
    coarse_cell,
)
from geoplan.catalog import FIRST_YEAR, LAST_YEAR, check_year, get_layer
from geoplan.coverage import parse_minutes
from geoplan.errors import ParameterError
from geoplan.indicators import Period
from geoplan.planning import Pin, week_days
from geoplan.vocab import LEFT_OUT_TEXTS, GapFilter, LeftOutReason, Weekday

_STRICT = ConfigDict(extra="forbid", allow_inf_nan=False)
_OUT = ConfigDict(extra="forbid")

# The schema's patterns are the real contract: every real day and ISO week of the years
# FIRST_YEAR to LAST_YEAR matches, nothing else does; the validators say why a value is refused.
# What no pattern states (a period that ends before it starts) is left to the validators.
# Thresholds are exactly the pattern (0.5 or 1h30.5 minutes are refused).
_W53_YEARS = "|".join(
    str(year)
    for year in range(FIRST_YEAR, LAST_YEAR + 1)
    if dt.date(year, 12, 28).isocalendar().week == 53  # 28 December is always in the last week
)
PERIOD_PATTERN = rf"^{DATE_TEXT}\.\.{DATE_TEXT}$"
_MINUTES = r"([1-9]\d{0,2}|1[0-3]\d{2}|14[0-3]\d|1440)( ?(min|minutes))?"
THRESHOLD_PATTERN = rf"^({_MINUTES}|([1-9]|1\d|2[0-3])h([0-5]\d)?|24h)$"
WEEK_PATTERN = rf"^({YEAR_TEXT}-W(0[1-9]|[1-4]\d|5[0-2])|({_W53_YEARS})-W53|{DATE_TEXT})$"
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_WEEK = re.compile(r"\d{4}-W\d{2}|\d{4}-\d{2}-\d{2}")
ID_PATTERN = get_layer("teams").field("id").pattern or r"^\S{1,64}$"
SITE_ID_PATTERN = get_layer("gathering_points").field("id").pattern or r"^\S{1,64}$"
PIN_TEXT_PATTERN = (
    r"^[^:@\s]{1,64}:[^:@\s]{1,64}:[^:@\s]{1,10}(:[a-z_]{1,20})?(@([01][0-9]|2[0-3]):[0-5][0-9])?$"
)
PLAN_ID_PATTERN = r"^([0-9a-f]{16}|[0-9]{4}-W[0-9]{2}-[0-9]{1,6})$"
"""A request's id (16 hex digits) or a saved plan's (``2026-W50-3``)."""
LOCK_PATTERN = r"^[^:\s]{1,64}:[^:\s]{1,10}$"
AWAY_TEXT_PATTERN = r"^\S{1,64}:[^:\s]{1,10}$"
MAX_TIME_LIMIT = 600.0


# --- coverage: query parameters -------------------------------------------------------------


def _day(value: object) -> dt.date:
    """Only ``YYYY-MM-DD`` text is a day; it must exist, between 1900 and 2199."""
    if isinstance(value, dt.date):
        return check_year(value)
    if not isinstance(value, str) or not _ISO_DAY.fullmatch(value):
        raise ValueError("expected a date as YYYY-MM-DD, such as 2026-11-30")
    try:
        return check_year(dt.date.fromisoformat(value))
    except ValueError as exc:
        raise ValueError(f"{value} is not a date: {exc}") from None


Day = Annotated[
    dt.date,
    BeforeValidator(_day),
    WithJsonSchema({"type": "string", "format": "date", "pattern": DATE_PATTERN}),
]


def _check_period(text: str) -> str:
    period = Period.parse(text)  # ParameterError is a ValueError: reported as this parameter's
    check_year(period.start)
    check_year(period.end)
    return text


def _check_week(text: str) -> str:
    if not _ISO_WEEK.fullmatch(text):
        raise ValueError(
            f"expected an ISO week like 2026-W49 or a date like 2026-11-29, got {text!r}"
        )
    days = week_days(text)  # ParameterError (a ValueError) names the week
    if not any(FIRST_YEAR <= day.year <= LAST_YEAR for day in days):  # 1900-01-01 starts in 1899
        raise ValueError(f"weeks must fall in the years {FIRST_YEAR} to {LAST_YEAR}")
    return text


def _check_threshold(text: str) -> str:
    minutes = parse_minutes(text)
    if not 0 < minutes <= 24 * 60 or not re.fullmatch(THRESHOLD_PATTERN, text):
        raise ParameterError(
            "threshold: expected 1 minute to 24 hours, as whole minutes (45, 30min) or hours "
            f"and minutes (1h, 1h30), got {text!r}"
        )
    return text


# The patterns are in the schema (for generated clients); the validators give the reasons.
PeriodText = Annotated[
    str,
    Field(max_length=22, json_schema_extra={"pattern": PERIOD_PATTERN}),
    AfterValidator(_check_period),
]
ThresholdText = Annotated[
    str,
    Field(min_length=1, max_length=20, json_schema_extra={"pattern": THRESHOLD_PATTERN}),
    AfterValidator(_check_threshold),
]


class CoverageQuery(BaseModel):
    """What every coverage route is computed with (the options of `geoplan coverage`)."""

    model_config = _STRICT
    period: PeriodText | None = Field(
        None,
        description="Reporting period START..END (default: the half-year up to `date`).",
        examples=["2026-06-01..2026-11-30"],
    )
    threshold: ThresholdText | None = Field(
        None,
        description="A site is within reach when a clinic or team base is at most this far: "
        "`30min`, `45`, `1h30` (default 30 minutes).",
        examples=["30min"],
    )
    date: Day | None = Field(
        None,
        description="The day gaps are measured at, YYYY-MM-DD (default: today; the period's "
        "end if earlier).",
    )
    resolution: int | None = Field(
        None,
        ge=0,
        le=15,
        description="H3 resolution of the hexagons people are summed in (default 7, about "
        "5 km2). Viewers may not ask for cells finer than their own resolution.",
    )


class _Paged(BaseModel):
    limit: int | None = Field(None, ge=1, description="Rows per page; larger asks are capped.")
    offset: int = Field(0, ge=0, description="Rows to skip (use the `next` link).")
    f: Literal["json", "geojson"] | None = Field(
        None,
        description="Response format; without it, `Accept: application/geo+json` asks for "
        "GeoJSON and anything else gets JSON.",
    )


class GapsQuery(CoverageQuery, _Paged):
    """The ranked gap table's parameters."""

    gap: GapFilter = Field(
        GapFilter.ANY,
        description="Which sites: `any` gap (default), one kind (`spatial`, `temporal`, "
        "`service`), or `all` sites, those without a gap included.",
    )
    layer: Literal["gathering_points", "detention_centres"] | None = Field(
        None, description="Only the sites of this layer."
    )


class AreasQuery(CoverageQuery, _Paged):
    """The per-area summary's parameters."""

    by: Literal["admin", "h3"] = Field(
        "admin",
        description="Sum per admin area (`admin`, hexagons when the workspace has no admin "
        "areas) or per H3 hexagon (`h3`).",
    )


class IndicatorsQuery(CoverageQuery):
    """The indicator table's parameters."""

    status: Literal["met", "on track", "behind", "not started"] | None = Field(
        None, description="Only indicators with this status."
    )


# --- coverage: responses ----------------------------------------------------------------------


class CoverageInfo(BaseModel):
    """What the analysis measured, and how."""

    model_config = _OUT
    period_start: dt.date
    period_end: dt.date
    as_of: dt.date = Field(description="The day gaps are measured at.")
    threshold_minutes: float
    h3_resolution: int = Field(description="Resolution of the hexagons and `h3_cell`.")
    backend: str = Field(description="How travel times were made (straight_line).")


_BREAKDOWN_DOC = "where known (null: not counted)"


class _GapCommon(BaseModel):
    """Fields every role sees of a site in the gap table."""

    model_config = _OUT
    rank: int = Field(description="1 is the worst gap: most kinds, then most people.")
    id: str
    layer: str
    people: int | None = None
    men: int | None = Field(None, description=_BREAKDOWN_DOC)
    women: int | None = Field(None, description=_BREAKDOWN_DOC)
    boys: int | None = Field(None, description=_BREAKDOWN_DOC)
    girls: int | None = Field(None, description=_BREAKDOWN_DOC)
    gaps: int = Field(ge=0, le=3, description="How many kinds of gap (spatial, temporal, service).")
    gap_reasons: str = Field(description="The gaps in words.")
    covered: bool = Field(description="A clinic or team base is within the threshold.")
    services_out_of_reach: list[str]
    frequency_days: int | None = None
    last_visit: dt.date | None = None
    days_since_last_visit: int | None = None
    days_overdue: int | None = None
    never_visited: bool
    services_overdue: list[str]
    services_late: list[str]
    services_never_delivered: list[str]
    visits_in_period: int
    services_needed: list[str]
    services_delivered: list[str]
    services_unmet: list[str]
    spatial_gap: bool
    temporal_gap: bool
    service_gap: bool
    access_status: str | None = None
    area_id: str | None = None
    area_name: str | None = None
    area_source: str | None = Field(
        None,
        description="How the area was found: by the site's P-code, by its position, or outside.",
    )


class GapProperties(_GapCommon):
    """A site's gaps with its name and the travel times to the nearest places."""

    name: str | None = None
    reach_minutes: float | None = Field(None, description="To the nearest clinic or base.")
    nearest_clinic: str | None = None
    clinic_minutes: float | None = None
    nearest_referral: str | None = None
    referral_minutes: float | None = None
    nearest_base: str | None = Field(None, description="Team id of the nearest base.")
    base_minutes: float | None = None
    h3_cell: str | None = Field(None, description="H3 cell at the asked resolution.")


class GapSite(GapProperties):
    """One row of the ranked gap table, with the exact position."""

    lon: float
    lat: float


class GeneralisedGapSite(_GapCommon):
    """A site's gaps as a viewer sees them: its coarse H3 cell, no name, no free text and no
    travel times to named places (which together could locate it)."""

    h3_cell: Annotated[str, AfterValidator(coarse_cell)] = Field(
        description="The coarse H3 cell the site lies in (the viewers' resolution)."
    )


class _Page(BaseModel):
    model_config = _OUT
    numberMatched: int  # noqa: N815  (OGC's names)
    numberReturned: int  # noqa: N815
    links: list[Link]
    coverage: CoverageInfo


class GapTable(_Page):
    """A page of the ranked gap table, worst first."""

    sites: list[GapSite]


class GeneralisedGapTable(_Page):
    """A page of the ranked gap table as a viewer sees it."""

    sites: list[GeneralisedGapSite]


class GapFeature(BaseModel):
    """A site of the gap table as GeoJSON, at its exact position."""

    model_config = _OUT
    type: Literal["Feature"] = "Feature"
    id: str
    geometry: Point
    properties: GapProperties


class GeneralisedGapFeature(GeneralisedFeature):
    """A site of the gap table as a viewer sees it: at the centre of its coarse H3 cell."""

    properties: GeneralisedGapSite


class _FeaturePage(_Page):
    type: Literal["FeatureCollection"] = "FeatureCollection"


class GapFeatureCollection(_FeaturePage):
    """A page of the gap table as GeoJSON."""

    features: list[GapFeature]


class GeneralisedGapFeatureCollection(_FeaturePage):
    """A page of the gap table as GeoJSON, as a viewer sees it."""

    features: list[GeneralisedGapFeature]


class AreaSummary(BaseModel):
    """Sites and people per admin area or hexagon; `area_id` is null for the row of sites
    outside every admin area."""

    model_config = _OUT
    rank: int = Field(description="1 has the most people out of reach.")
    area_id: str | None
    area_name: str
    sites: int
    people: int
    people_covered: int
    people_not_covered: int
    men_not_covered: int
    women_not_covered: int
    boys_not_covered: int
    girls_not_covered: int
    sites_not_covered: int
    sites_overdue: int
    sites_never_visited: int
    sites_unmet_needs: int
    share_not_covered: float = Field(ge=0, le=1)


class AreaTable(_Page):
    """A page of per-area summaries, most people out of reach first."""

    by: Literal["admin", "h3"] = Field(description="What the rows are (admin falls back to h3).")
    areas: list[AreaSummary]


class AreaFeature(BaseModel):
    """An area's summary as GeoJSON (no geometry for the sites outside every area)."""

    model_config = _OUT
    type: Literal["Feature"] = "Feature"
    id: str
    geometry: Polygon | MultiPolygon | None
    properties: AreaSummary


class AreaFeatureCollection(_FeaturePage):
    """A page of per-area summaries as GeoJSON."""

    by: Literal["admin", "h3"]
    features: list[AreaFeature]


class IndicatorProgress(BaseModel):
    """One indicator against its target and its expected pace."""

    model_config = _OUT
    id: str
    name: str
    formula: str
    unit: str | None = None
    period_start: dt.date
    period_end: dt.date
    target: float
    value: float
    progress: float | None = Field(description="value / target (null without a target).")
    expected: float = Field(description="target x share of the period gone by.")
    pace: float | None = Field(description="value / expected (null before the period).")
    shortfall: float = Field(description="How far behind the expected value (0 if not).")
    status: Literal["met", "on track", "behind", "not started"]


class IndicatorTable(BaseModel):
    """Every indicator of the results matrix."""

    model_config = _OUT
    coverage: CoverageInfo
    indicators: list[IndicatorProgress]
    links: list[Link]


class PeopleTotals(BaseModel):
    """Sites and people within reach, out of reach or in total."""

    model_config = _OUT
    status: Literal["covered", "not covered", "total"]
    sites: int
    people: int
    men: int
    women: int
    boys: int
    girls: int


class GapCounts(BaseModel):
    """How many sites have each kind of gap."""

    model_config = _OUT
    sites: int
    with_gaps: int
    spatial: int
    temporal: int
    service: int
    never_visited: int


class CoverageSummary(BaseModel):
    """The analysis in a few numbers and lines."""

    model_config = _OUT
    coverage: CoverageInfo
    text: str = Field(description="The summary `geoplan coverage` prints.")
    totals: list[PeopleTotals]
    gaps: GapCounts
    indicators_behind: list[str] = Field(description="Ids of indicators behind their pace.")
    links: list[Link]


# --- plans: requests --------------------------------------------------------------------------

PlanDay = Annotated[
    str,
    Strict(),
    Field(
        pattern=rf"^(\d{{4}}-\d{{2}}-\d{{2}}|{'|'.join(Weekday)})$",
        description="A date in the week (YYYY-MM-DD) or a weekday: sun, mon, ... sat.",
    ),
]


class PinIn(BaseModel):
    """A visit fixed to a team and day by the team leader."""

    model_config = _STRICT
    site: Annotated[str, Strict(), Field(pattern=SITE_ID_PATTERN, description="Site id.")]
    team: Annotated[str, Strict(), Field(pattern=ID_PATTERN, description="Team id.")]
    day: PlanDay
    service: (
        Annotated[
            str,
            Strict(),
            Field(pattern=r"^[a-z_]{1,20}$", description="Which of the site's services."),
        ]
        | None
    ) = None
    at: (
        Annotated[
            str,
            Strict(),
            Field(
                pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
                description="HH:MM: when the visit starts (an appointment).",
            ),
        ]
        | None
    ) = None


def _pin_from_text(value: object) -> object:
    """``SITE:TEAM:DAY[:SERVICE]`` as the object form (:meth:`Pin.parse`); objects pass through."""
    if not isinstance(value, str):
        return value
    pin = Pin.parse(value)  # a ParameterError is a ValueError: pydantic names the pin
    fields = {
        "site": pin.site_id,
        "team": pin.team_id,
        "day": pin.day,
        "service": pin.service,
        "at": pin.at,
    }
    return {k: v for k, v in fields.items() if v is not None}


_PIN_TEXT_SCHEMA = {
    "type": "string",
    "pattern": PIN_TEXT_PATTERN,
    "description": "SITE:TEAM:DAY[:SERVICE][@HH:MM], as `geoplan plan --pin` takes it.",
    "examples": ["DC-03:PROT-1:mon", "DC-03:PROT-1:tue:monitoring@10:00"],
}
PinEntry = Annotated[
    PinIn,
    BeforeValidator(_pin_from_text),
    WithJsonSchema({"anyOf": [_PIN_TEXT_SCHEMA, PinIn.model_json_schema()]}),
]
"""A pin as an object or as text; errors name the pin (text) or its field (object)."""


class PlanRequest(BaseModel):
    """A week to plan (every field optional: `{}` plans the coming week for every team)."""

    model_config = _STRICT
    week: (
        Annotated[
            str,
            Strict(),
            Field(max_length=10, json_schema_extra={"pattern": WEEK_PATTERN}),
            AfterValidator(_check_week),
        ]
        | None
    ) = Field(
        None,
        description="ISO week (2026-W49: Sunday 29 Nov to Saturday 5 Dec) or any date in the "
        "week; default: the coming week.",
        examples=["2026-W49"],
    )
    teams: (
        Annotated[
            list[Annotated[str, Strict(), Field(pattern=ID_PATTERN)]],
            Field(min_length=1, max_length=200),
        ]
        | None
    ) = Field(None, description="Team ids to plan for (default: every team).")
    pins: Annotated[list[PinEntry], Field(max_length=500)] = Field(
        default_factory=list, description="Visits fixed to a team and day."
    )
    away: Annotated[
        list[Annotated[str, Strict(), Field(pattern=AWAY_TEXT_PATTERN)]], Field(max_length=500)
    ] = Field(
        default_factory=list,
        description="TEAM:DAY (a date or sun..sat of the week): the team is away that day, on "
        "top of the team_absences layer, as `geoplan plan --away` takes it.",
        examples=[["MED-TRP:tue"]],
    )
    time_limit: Annotated[float, Strict(), AllowInfNan(False)] = Field(
        20.0,
        ge=1,
        le=MAX_TIME_LIMIT,
        description="Seconds the solver searches (at most GEOPLAN_PLAN_TIME_LIMIT_MAX).",
    )
    seed: WholeNumber = Field(
        0, ge=0, le=2**31 - 1, description="Seed: the same seed and data give the same plan."
    )
    replan_of: Annotated[str, Strict(), Field(pattern=PLAN_ID_PATTERN)] | None = Field(
        None,
        description="A saved plan to change as little as possible: its week, teams and pins "
        "unless given; every stop still allowed keeps its team and day unless moving it saves "
        "more than the parameters' replan_move_minutes of driving.",
        examples=["2026-W49-1"],
    )
    kept_before: Day | None = Field(
        None,
        description="With replan_of: days before this date stay exactly as planned (default: "
        "today, when the week is under way).",
    )
    locks: Annotated[
        list[Annotated[str, Strict(), Field(pattern=LOCK_PATTERN)]], Field(max_length=200)
    ] = Field(
        default_factory=list,
        description="With replan_of: TEAM:DAY team-days kept exactly as planned.",
        examples=[["PROT-1:tue"]],
    )


# --- plans: responses -------------------------------------------------------------------------

PlanStatus = Literal["queued", "running", "done", "failed"]


class PlanInput(BaseModel):
    """What the plan was asked for, with the week resolved to its days."""

    model_config = _OUT
    week_start: dt.date = Field(description="The Sunday the week starts on.")
    week_end: dt.date
    teams: list[str] | None
    pins: list[str] = Field(description="SITE:TEAM:DAY[:SERVICE][@HH:MM]")
    away: list[str] = Field(default_factory=list, description="TEAM:DAY")
    time_limit: float
    seed: int


class _Order(BaseModel):
    model_config = _OUT
    order: int


class _VisitTask(BaseModel):
    """What a stop and a visit left out both say of the visit task (the plan's stop fields)."""

    model_config = _OUT
    task_id: str
    site_id: str
    site_name: str
    layer: str
    service: str
    status: Literal["overdue", "due", "early"]


class StopOut(_VisitTask, _Order):  # fields of the last base first: order, then the task's
    """One visit of a team-day, in visiting order."""

    arrival: str = Field(description="HH:MM")
    start: str
    departure: str
    travel_min: float
    travel_km: float
    people: int
    men: int | None
    women: int | None
    boys: int | None
    girls: int | None
    nfi_kits: int
    lon: float
    lat: float


class TeamDayOut(BaseModel):
    """One team's working day: from its base, the stops, and back."""

    model_config = _OUT
    team_id: str
    team_name: str
    date: dt.date
    depart: str = Field(description="HH:MM")
    back: str
    km: float
    driving_hours: float
    on_site_hours: float
    stops: list[StopOut]


class LeftOutOut(_VisitTask):
    """A visit the plan does not make, with its one reason."""

    days_overdue: int = Field(description="Days overdue on the week's first day.")
    people: int
    score: float = Field(description="Priority score (higher first).")
    overdue: bool = Field(
        description="Whether the visit was already overdue when the week began (the detail "
        "then starts with `overdue by N days`)."
    )
    reason: str = Field(
        description="The reason in words: the text of `reason_code`.",
        json_schema_extra={"enum": list(LEFT_OUT_TEXTS.values())},
    )
    reason_code: LeftOutReason = Field(description="The reason as a code, for programs.")
    detail: str = Field(
        description="What a team leader can act on: the zone that cuts the site off, the teams "
        "that could have gone and how many minutes each day was short, the lower-priority "
        "stop kept instead."
    )
    lon: float
    lat: float

    @model_validator(mode="after")
    def _reason_is_the_text_of_its_code(self) -> LeftOutOut:
        if self.reason != self.reason_code.text:
            raise ValueError(f"reason {self.reason!r} is not the text of {self.reason_code!r}")
        return self


class PlanTotals(BaseModel):
    """The week in numbers."""

    model_config = _OUT
    tasks_done: int
    tasks_left_out: int
    sites_visited: int
    team_days_used: int
    km: float
    driving_hours: float
    on_site_hours: float
    people: int
    men: int
    women: int
    boys: int
    girls: int


class PlanResult(BaseModel):
    """A planned week: routes per team-day, what was left out and why, and how it was made."""

    model_config = _OUT
    days: list[dt.date]
    summary: str = Field(description="The summary `geoplan plan` prints.")
    totals: PlanTotals
    routes: list[TeamDayOut]
    left_out: list[LeftOutOut]
    objective: int
    seed: int
    runtime: float = Field(description="Seconds the solver ran.")
    backend: str = Field(description="How travel times were made.")


Publication = Literal["draft", "published", "superseded"]


class PlanInfo(BaseModel):
    """A plan: its status, what it was asked for, and links to its outputs; once done, its
    saved id, publication status and who asked for it."""

    model_config = _OUT
    id: str = Field(description="The id it was asked by: a request's, or a saved plan's.")
    status: PlanStatus
    plan_id: str | None = Field(
        None, description="The saved plan's id (2026-W50-3) once done; kept across restarts."
    )
    publication: Publication | None = Field(
        None, description="draft, published (one per week) or superseded, once saved."
    )
    created_by: str | None = Field(None, description="The name of the key that asked for it.")
    replan_of: str | None = Field(None, description="The saved plan it re-plans.")
    created: dt.datetime
    started: dt.datetime | None = None
    finished: dt.datetime | None = None
    input: PlanInput
    step: str | None = Field(None, description="What the planner is doing now.")
    error: str | None = Field(None, description="Why the plan failed, and the fix.")
    links: list[Link]


class PlanJob(PlanInfo):
    """A plan job, with its result once done."""

    result: PlanResult | None = None


class PlanList(BaseModel):
    """Plans not saved yet (queued, running, failed), then the saved plans, newest first
    (results left out: follow each `self` link)."""

    model_config = _OUT
    plans: list[PlanInfo]


# --- maps -------------------------------------------------------------------------------------


class TilesQuery(BaseModel):
    """The background of a map."""

    model_config = _STRICT
    tiles: bool = Field(
        True, description="OpenStreetMap tiles (need internet) or a plain background."
    )


class LayersMapQuery(TilesQuery):
    """The options of `geoplan map layers`."""

    date: Day | None = Field(None, description="The day the map shows (default: today).")


class CoverageMapQuery(CoverageQuery, TilesQuery):
    """The options of `geoplan map coverage`, and those of the coverage routes."""


class ShareMapQuery(BaseModel):
    """The options of `geoplan map share`: counts per area for people outside the programme."""

    model_config = _STRICT
    by: str = Field(
        "admin2",
        pattern=r"^(admin1|admin2|h3:(1[0-5]|[0-9]))$",  # H3 has resolutions 0 to 15
        description="admin1 or admin2 areas (by P-code), or H3 hexagons h3:RES no finer than "
        "the policy's viewer resolution.",
        examples=["h3:6"],
    )
    period: PeriodText | None = Field(
        None,
        description="Period START..END (default: the half-year up to `date`).",
        examples=["2026-06-01..2026-11-30"],
    )
    date: Day | None = Field(None, description="The product's date (default: today).")
