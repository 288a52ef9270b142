"""One-cell coordinate pairs and the order of their numbers."""

from __future__ import annotations

import pytest

from geoplan.coordinates import lon_lat, pair_order, split_pair


@pytest.mark.parametrize(
    ("text", "pair"),
    [
        ("32.88, 13.19", (32.88, 13.19)),
        ("[2.164341, -55.963451]", (2.164341, -55.963451)),
        ("2.164341 -55.963451 0 0", (2.164341, -55.963451)),
        ("38.7790289 -77.1899636 43.6", (38.7790289, -77.1899636)),
        ("(32.9; 13.2)", (32.9, 13.2)),
    ],
)
def test_split_pair(text: str, pair: tuple[float, float]) -> None:
    """Comma, bracket, geopoint and semicolon pairs are read in the order written."""
    assert split_pair(text) == pair


@pytest.mark.parametrize("text", ["", "32.88", "near the port", "1 2 3 4 5", None, 32.8])
def test_not_a_pair(text: object) -> None:
    """Single numbers, words and long lists are not pairs."""
    assert split_pair(text) is None


def test_pair_order() -> None:
    """Beyond 90 only longitudes go; otherwise the area decides; otherwise latitude first."""
    assert pair_order([(120.0, 30.0)])[0] == "lonlat"
    libya = lambda lon, lat: 9 < lon < 25 and 19 < lat < 34  # noqa: E731
    assert pair_order([(13.19, 32.88)], inside=libya)[0] == "lonlat"
    assert pair_order([(32.88, 13.19)], inside=libya)[0] == "latlon"
    assert pair_order([(10.0, 10.0)])[0] == "latlon"
    assert lon_lat((32.88, 13.19), "latlon") == (13.19, 32.88)
