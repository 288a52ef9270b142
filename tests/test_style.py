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
