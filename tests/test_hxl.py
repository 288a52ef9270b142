"""HXL tags matched to layer fields."""

from __future__ import annotations

from geoplan.catalog import get_layer
from geoplan.hxl import tag_matches, tag_sources


def test_tag_matches_by_hashtag_and_attributes() -> None:
    """A spec matches tags with its hashtag and at least its attributes, in any case."""
    assert tag_matches("#affected+m", "#Affected +M +adults")
    assert not tag_matches("#affected+m+children", "#affected+m")
    assert not tag_matches("#adm1+code", "#adm2+code")


def test_tag_sources_for_a_3w_table() -> None:
    """Names, P-codes and disaggregated counts find their fields; repeated tags do not."""
    tags = {
        "Site": "#loc+name",
        "Code": "#loc+code",
        "District": "#adm2+code",
        "Region": "#adm1+code",
        "Men": "#affected+m+adults",
        "Girls": "#affected+f+children",
        "Total A": "#affected+total",
        "Total B": "#affected+total",
    }
    found = tag_sources(tags, get_layer("gathering_points"))
    assert found["name"] == ("Site",)
    assert found["id"] == ("Code",)
    assert found["admin_code"] == ("District",)
    assert found["men"] == ("Men",)
    assert found["girls"] == ("Girls",)
    assert "people" not in found
