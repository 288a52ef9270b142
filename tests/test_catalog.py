"""The layer catalog: definitions load, agree with the issue's layers, parse values once."""

from __future__ import annotations

import datetime as dt

import pytest

from geoplan.catalog import SITE_LAYERS, get_layer, load_catalog, parse_value, split_list
from geoplan.errors import UnknownLayerError

EXPECTED = {
    "gathering_points",
    "detention_centres",
    "clinics",
    "cip_sites",
    "outreach_visits",
    "teams",
    "no_go_zones",
    "admin_areas",
}


def test_every_layer_is_defined() -> None:
    """The catalog defines the eight layers, with admin areas optional."""
    catalog = load_catalog()
    assert set(catalog) >= EXPECTED
    assert catalog["admin_areas"].optional


def test_sites_share_the_common_fields() -> None:
    """Every site layer has id, name, access status with date and reason, and P-code."""
    for name in SITE_LAYERS:
        layer = get_layer(name)
        assert {"id", "name", "access_status", "access_date", "access_reason", "admin_code"} <= set(
            layer.field_names
        )
        assert layer.geometry == "Point"
        assert layer.field("access_status").allowed == ("open", "restricted", "inaccessible")


def test_the_most_sensitive_layers() -> None:
    """Gathering points and detention centres are the most sensitive layers."""
    high = {name for name, layer in load_catalog().items() if layer.sensitivity == "high"}
    assert high == {"gathering_points", "detention_centres"}


def test_visits_hold_counts_not_people() -> None:
    """Visits count men, women, boys and girls and have no field for names."""
    fields = set(get_layer("outreach_visits").field_names)
    assert {"men", "women", "boys", "girls", "consultations", "referrals"} <= fields
    assert not {f for f in fields if "name" in f}


def test_teams_default_to_the_libyan_week() -> None:
    """Teams work Sunday to Thursday unless told otherwise."""
    assert get_layer("teams").field("working_days").default == ("sun", "mon", "tue", "wed", "thu")


def test_unknown_layer_suggests_a_name() -> None:
    """A misspelt layer name gets a suggestion and the list of layers."""
    with pytest.raises(UnknownLayerError, match="did you mean 'clinics'"):
        get_layer("clinic")


@pytest.mark.parametrize(
    ("layer", "field", "raw", "expected"),
    [
        ("gathering_points", "people", "1,200", 1200),
        ("gathering_points", "people", 12.0, 12),
        ("gathering_points", "setting", "Collective housing", "collective_housing"),
        ("gathering_points", "services_needed", "Health; MHPSS|nfi", ("health", "mhpss", "nfi")),
        ("gathering_points", "access_date", "2026-03-04", dt.date(2026, 3, 4)),
        ("gathering_points", "id", 17.0, "17"),
        ("teams", "shift_start", "8:00", "08:00"),
        ("teams", "shift_end", dt.time(15, 30), "15:30"),
    ],
)
def test_values_parse_into_their_types(
    layer: str, field: str, raw: object, expected: object
) -> None:
    """Raw cells become typed values, in one place."""
    assert parse_value(get_layer(layer).field(field), raw) == expected


@pytest.mark.parametrize(
    ("field", "raw", "message"),
    [
        ("people", True, "true/false"),
        ("people", "nan", "whole number"),
        ("people", "-1", "negative"),
        ("visit_frequency_days", "400", "maximum"),
        ("admin_code", "ly-01", "P-code"),
        ("people", "18446744073709550592", "too large"),  # past 2**53 - 1
        ("access_date", "2263-01-01", "years 1900 to 2199"),  # pandas' clock ends in 2262
        ("access_date", "0001-01-01", "years 1900 to 2199"),
        ("access_date", dt.date(1899, 12, 31), "check the year"),
    ],
)
def test_bad_values_say_why(field: str, raw: object, message: str) -> None:
    """Bad cells raise ValueError saying what was expected."""
    with pytest.raises(ValueError, match=message):
        parse_value(get_layer("gathering_points").field(field), raw)


def test_list_fields_split() -> None:
    """Stored list fields split back into their items."""
    assert split_list("health,mhpss") == ("health", "mhpss")
    assert split_list(None) == ()
