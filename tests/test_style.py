"""The palette: every colour of the maps and printed schedules is named in geoplan/maps/style.py."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from geoplan.maps.style import (
    CSS_PALETTE,
    PRINT_BASE_FILL,
    PRINT_HEADER_FILL,
    STATUS_COLOURS,
    TEAM_PALETTE,
    MarkerStyle,
    palette_css,
    spreadsheet_colour,
)

ROOT = Path(__file__).resolve().parents[1]
PALETTE = ROOT / "geoplan" / "maps" / "style.py"
HEX = re.compile(r"(?<![\w&])#(?:[0-9a-fA-F]{8}|[0-9a-fA-F]{6}|[0-9a-fA-F]{3,4})\b")
FUNCTION = re.compile(r"\b(?:rgba?|hsla?)\(")
SPREADSHEET = re.compile(r"(?=.*[A-Fa-f])[0-9A-Fa-f]{6}|[0-9A-Fa-f]{8}")
NAMES = frozenset(
    [
        "black",
        "white",
        "red",
        "green",
        "blue",
        "yellow",
        "orange",
        "purple",
        "pink",
        "brown",
        "grey",
        "gray",
        "silver",
        "navy",
        "teal",
        "maroon",
        "olive",
        "lime",
        "aqua",
        "fuchsia",
        "crimson",
        "darkred",
        "darkgreen",
        "darkblue",
        "lightgrey",
        "lightgray",
        "lightblue",
        "lightgreen",
        "cadetblue",
        "beige",
        "darkpurple",
    ]
)
TERMINAL = ROOT / "geoplan" / "cli"
"""The command line's rich styles colour a terminal, not a map or a page: named there."""


def _sources() -> list[Path]:
    files = [*(ROOT / "geoplan").rglob("*.py"), *(ROOT / "api").rglob("*.py")]
    return sorted(p for p in files if p != PALETTE)


def _colour_literals(source: str, *, names: bool = True) -> list[tuple[int, str]]:
    """(line, text) of each string constant that is or holds a colour."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Constant) or not isinstance(node.value, str):
            continue
        text = node.value
        named = names and text.strip().lower() in NAMES
        if HEX.search(text) or FUNCTION.search(text) or SPREADSHEET.fullmatch(text) or named:
            found.append((node.lineno, text))
    return found


def test_no_colour_is_written_outside_the_palette() -> None:
    """No module of geoplan or api but maps/style.py writes a colour literal."""
    found = [
        f"{path.relative_to(ROOT)}:{line}: {text[:60]!r}"
        for path in _sources()
        for line, text in _colour_literals(
            path.read_text(encoding="utf-8"), names=TERMINAL not in path.parents
        )
    ]
    assert found == [], "name these colours in geoplan/maps/style.py:\n" + "\n".join(found)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("a { color: #a00; }", True),
        ("rgba(0, 0, 0, 0.5)", True),
        ("DDDDDD", True),
        ("grey", True),
        ("&#123;", False),
        ("LY0211", False),
        ("overdue in red", False),
    ],
)
def test_the_scan_sees_colours_and_not_entities(value: str, *, expected: bool) -> None:
    """The scan finds hex, functional, spreadsheet and named colours, not character
    references, codes or prose."""
    assert bool(_colour_literals(f"VALUE = {value!r}\n")) is expected


def test_print_colours_become_spreadsheet_colours() -> None:
    """The XLSX fills are the print palette's, written as spreadsheets want them."""
    assert spreadsheet_colour(PRINT_HEADER_FILL) == "DDDDDD"
    assert spreadsheet_colour(PRINT_BASE_FILL) == "F2F2F2"
    assert spreadsheet_colour("#1f78b4") == "1F78B4"


def test_the_maps_style_sheet_reads_its_role_colours_from_the_palette() -> None:
    """Every --gp-* variable geoplan-maps.css reads is set by palette_css(), in the page's CSS."""
    sheet = (PALETTE.parent / "static" / "geoplan-maps.css").read_text(encoding="utf-8")
    read = set(re.findall(r"var\((--gp-[\w-]+)\)", sheet))
    assert read
    assert read <= set(CSS_PALETTE)
    assert all(f"{k}: {v};" in palette_css() for k, v in CSS_PALETTE.items())


# Machado, Oliveira and Fernandes (2009), severity 1.0, on linear RGB.
_VISION = {
    "normal": ((1, 0, 0), (0, 1, 0), (0, 0, 1)),
    "deutan": (
        (0.367322, 0.860646, -0.227968),
        (0.280085, 0.672501, 0.047413),
        (-0.011820, 0.042940, 0.968881),
    ),
    "protan": (
        (0.152286, 1.052583, -0.204868),
        (0.114503, 0.786281, 0.099216),
        (-0.003882, -0.048116, 1.051998),
    ),
}


def _lab(colour: str, vision: str) -> tuple[float, float, float]:
    """CIELAB (D65) of a ``#RRGGBB`` colour as a reader with that vision sees it."""
    srgb = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in srgb]
    seen = [
        min(max(sum(m * c for m, c in zip(row, lin, strict=True)), 0), 1) for row in _VISION[vision]
    ]
    r, g, b = seen
    xyz = (
        (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047,
        0.2126 * r + 0.7152 * g + 0.0722 * b,
        (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883,
    )
    fx, fy, fz = (t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116 for t in xyz)
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def _distance(a: str, b: str, vision: str) -> float:
    return float(
        sum((x - y) ** 2 for x, y in zip(_lab(a, vision), _lab(b, vision), strict=True)) ** 0.5
    )


@pytest.mark.parametrize("vision", list(_VISION))
def test_team_colours_stay_apart_from_each_other_and_from_status(vision: str) -> None:
    """The first six team colours differ by at least 15 CIELAB units from each other and from
    every status colour, for normal vision and for protan and deutan colour blindness (the
    issue: a team and "left out" both orange, a team and "cannot be reached" both purple)."""
    teams = TEAM_PALETTE[:6]
    worst_status = min(_distance(t, s, vision) for t in teams for s in STATUS_COLOURS)
    worst_team = min(_distance(a, b, vision) for i, a in enumerate(teams) for b in teams[i + 1 :])
    assert worst_status >= 15
    assert worst_team >= 15


def test_stop_numbers_are_readable_on_every_team_colour() -> None:
    """Light team colours get a dark stop number, dark ones a white number."""
    for colour in TEAM_PALETTE:
        html = MarkerStyle("stop", colour, 22).html()
        ink = re.search(r"color:(#\w+)", html)
        assert ink is not None
        assert _distance(colour, ink[1] if len(ink[1]) == 7 else "#" + ink[1][1] * 6, "normal") > 40
