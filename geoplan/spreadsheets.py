"""Values as people write them in spreadsheets: clock times and time ranges in one cell, day
ranges, and the closest known ids for a mistyped one.

Pure text functions; validation (:mod:`geoplan.layers`) and value parsing
(:mod:`geoplan.catalog`) call them, so that ``8:00-16:00``, ``08h00 - 16h00``, ``Sun-Thu``,
``sun..thu`` and OSM's ``Su-Th`` are read the same way by every import and every edit.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

from geoplan.vocab import Weekday

_CLOCK = re.compile(
    r"^(?P<h>\d{1,2})(?:\s*[:hH]\s*(?P<m>\d{2})?)?(?::(?P<s>\d{2}))?\s*(?P<ap>[aApP]\.?[mM]\.?)?$"
)
_RANGE = re.compile(
    r"^\s*(?P<a>.+?)\s*(?:-|\u2013|\u2014|\.\.|\bto\b|\buntil\b)\s*(?P<b>.+?)\s*$", re.I
)
_DAY_NAMES: dict[str, Weekday] = {}
for _day, _names in zip(
    Weekday,
    (
        ("su", "sun", "sunday"),
        ("mo", "mon", "monday"),
        ("tu", "tue", "tues", "tuesday"),
        ("we", "wed", "wednesday"),
        ("th", "thu", "thur", "thurs", "thursday"),
        ("fr", "fri", "friday"),
        ("sa", "sat", "saturday"),
    ),
    strict=True,
):
    _DAY_NAMES.update(dict.fromkeys(_names, _day))
_DAY_RANGE = re.compile(r"\s*(?:\.\.|\u2013|\u2014|-|\bto\b)\s*", re.I)
_DAY_SPLIT = re.compile(r"[,;|/+&]|\s+|\band\b", re.I)
_DAYS_FIRST = re.compile(r"^(?P<days>[^\d]+?)\s+(?P<times>\d.*)$")
_LOOKALIKE = str.maketrans({"o": "0", "i": "1", "l": "1"})
MAX_SUGGESTIONS = 3
MAX_FUZZY = 2000
"""Above this many known ids, spelling similarity (slow: difflib) is not searched."""


def read_clock(text: str) -> str:
    """A time of day as ``HH:MM``: ``8:00``, ``08h00``, ``8h``, ``16:00:00``, ``4pm``.

    Raises
    ------
    ValueError
        Saying the form expected, with an example.
    """
    match = _CLOCK.match(text.strip())
    hour = int(match["h"]) if match else 99
    minute = int(match["m"] or 0) if match else 99
    if match and match["ap"]:
        pm = match["ap"].lower().startswith("p")
        hour = hour % 12 + (12 if pm else 0) if 1 <= hour <= 12 else 99
    if hour > 23 or minute > 59:
        raise ValueError("expected a time of day as HH:MM (24-hour clock), for example 09:30")
    return f"{hour:02d}:{minute:02d}"


def split_days(text: str) -> tuple[tuple[str, ...], str]:
    """Days written before the times, as OSM's ``opening_hours`` does (``Su-Th 08:00-16:00``):
    the days and the rest; no days and the text as it is when it does not start with days."""
    match = _DAYS_FIRST.match(text.strip())
    if not match:
        return (), text
    days = read_days(match["days"])
    if not days or not set(days) <= set(Weekday):
        return (), text
    return days, match["times"]


def is_time_range(text: str) -> bool:
    """Whether a cell holds two times joined by ``-``, ``..`` or ``to`` (``8:00-16:00``)."""
    match = _RANGE.match(text)
    return bool(match and _CLOCK.match(match["a"]) and _CLOCK.match(match["b"]))


def read_time_range(text: str) -> tuple[str, str]:
    """A start and an end ``HH:MM`` from one cell: ``8:00-16:00``, ``08h00 - 16h00``,
    ``8am to 4pm``.

    Raises
    ------
    ValueError
        When the cell is not two times, or the end is not after the start; the message says
        what to write instead.
    """
    match = _RANGE.match(text)
    if not match:
        raise ValueError("expected a start and an end time in one cell, for example 08:00-16:00")
    start, end = read_clock(match["a"]), read_clock(match["b"])
    if end <= start:
        later = f"{int(end[:2]) + 12:02d}{end[2:]}" if int(end[:2]) < 12 else ""
        hint = f"; on the 24-hour clock that may be {start}-{later}" if later > start else ""
        raise ValueError(f"the end {end} is not after the start {start}{hint}")
    return start, end


def read_days(text: str) -> tuple[str, ...]:
    """The days of a day list, ranges expanded: ``Sun-Thu``, ``sun..thu``, OSM ``Su-Th``,
    ``Sunday to Thursday``, ``Sun-Tue, Thu``; a range may wrap the week (``Thu-Sun``).

    Words that are not day names are kept as written, so that validation names them.
    """
    joined = _DAY_RANGE.sub("-", text.strip())
    days: list[str] = []
    for piece in _DAY_SPLIT.split(joined):
        if piece.strip():
            days += _day_piece(piece.strip())
    return tuple(dict.fromkeys(days))


def _day_piece(piece: str) -> list[str]:
    ends = piece.split("-")
    if len(ends) != 2:
        return [_day_name(piece)]
    first, last = (_DAY_NAMES.get(e.strip().lower().rstrip(".")) for e in ends)
    if first is None or last is None:
        return [piece]
    week = list(Weekday)
    span = (last.number - first.number) % 7
    return [week[(first.number + k) % 7].value for k in range(span + 1)]


def _day_name(word: str) -> str:
    day = _DAY_NAMES.get(word.lower().rstrip("."))
    return day.value if day is not None else word


def closest_ids(value: str, known: Iterable[str], *, n: int = MAX_SUGGESTIONS) -> list[str]:
    """The known ids closest to a mistyped one, best first: the same id up to case and
    look-alike characters (``O`` for ``0``, ``l`` for ``1``), then ids one keystroke away
    (a character wrong, missing, extra or two swapped), then, among up to
    :data:`MAX_FUZZY` ids, by spelling."""
    choices = known if isinstance(known, set | frozenset) else set(known)
    key = value.lower().translate(_LOOKALIKE)
    same = sorted(c for c in choices if c.lower().translate(_LOOKALIKE) == key and c != value)
    alphabet = "".join(sorted({ch for c in choices for ch in c}))
    near = sorted(_one_edit(value, alphabet) & choices)
    fuzzy: list[str] = []
    if len(choices) <= MAX_FUZZY:
        fuzzy = difflib.get_close_matches(value, sorted(choices), n=n, cutoff=0.75)
    return list(dict.fromkeys([*same, *near, *fuzzy]))[:n]


def _one_edit(value: str, alphabet: str) -> set[str]:
    splits = [(value[:i], value[i:]) for i in range(len(value) + 1)]
    deletes = [a + b[1:] for a, b in splits if b]
    swaps = [a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1]
    replaces = [a + c + b[1:] for a, b in splits if b for c in alphabet]
    inserts = [a + c + b for a, b in splits for c in alphabet]
    return {*deletes, *swaps, *replaces, *inserts} - {value}


def did_you_mean(value: str, known: Iterable[str]) -> str:
    """`` (did you mean GP-0132?)`` or ``""`` when no known id is close."""
    close = closest_ids(value, known)
    if not close:
        return ""
    return f" (did you mean {' or '.join(close)}?)"
