"""Humanitarian Exchange Language (HXL) tags matched to layer fields.

A layer's fields name the tags that fill them (``hxl = ["#loc+name", "#site+name"]`` in the
catalog). A tag spec matches a column whose tag has the same hashtag and at least the spec's
attributes (``#affected+m`` matches ``#affected+m+adults``). The first spec that matches exactly
one column fills the field; a spec that matches several (repeated tags) is ambiguous and left
to the mapping file.
"""

from __future__ import annotations

from collections.abc import Mapping

from geoplan.catalog import LayerDef


def parse_tag(tag: str) -> tuple[str, frozenset[str]]:
    """``"#Affected +M"`` as ``("#affected", {"m"})``."""
    hashtag, *attributes = tag.replace(" ", "").lower().split("+")
    return hashtag, frozenset(a for a in attributes if a)


def tag_matches(spec: str, tag: str) -> bool:
    """Whether a column tagged ``tag`` holds what ``spec`` asks for."""
    want, want_attrs = parse_tag(spec)
    have, have_attrs = parse_tag(tag)
    return want == have and want_attrs <= have_attrs


def tag_sources(tags: Mapping[str, str], layer: LayerDef) -> dict[str, tuple[str, ...]]:
    """The column each field of ``layer`` takes from a file's HXL tags, where one is clear."""
    out: dict[str, tuple[str, ...]] = {}
    taken: set[str] = set()
    for f in layer.fields:
        for spec in f.hxl:
            columns = [c for c, t in tags.items() if c not in taken and tag_matches(spec, t)]
            if len(columns) == 1:
                out[f.name] = (columns[0],)
                taken.add(columns[0])
                break
            if len(columns) > 1:
                break
    return out
