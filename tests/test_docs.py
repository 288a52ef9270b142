"""layers/README.md is written from the definitions and must agree with them."""

from __future__ import annotations

from geoplan.catalog import layers_dir, load_catalog
from geoplan.docs import catalog_markdown


def test_layer_reference_matches_the_definitions() -> None:
    """The committed reference is exactly what the definitions produce (python -m geoplan.docs)."""
    committed = (layers_dir() / "README.md").read_text(encoding="utf-8")
    assert committed == catalog_markdown(), (
        "layers/README.md is stale: run `python -m geoplan.docs`"
    )


def test_every_field_is_documented() -> None:
    """Every layer and every field appears in the reference."""
    text = catalog_markdown()
    for layer in load_catalog().values():
        assert f"## {layer.name}" in text
        for field in layer.fields:
            assert f"| `{field.name}` |" in text
