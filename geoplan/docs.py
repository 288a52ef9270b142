"""The layer reference, ``layers/README.md``, written from the catalog.

Regenerate it after editing a definition with ``python -m geoplan.docs``; a test fails while
the file and the definitions disagree.
"""

from __future__ import annotations

from pathlib import Path

from geoplan.catalog import FIRST_YEAR, LAST_YEAR, FieldDef, LayerDef, layers_dir, load_catalog
from geoplan.vocab import SexAge

_INTRO = f"""\
# Layer reference

Written from the definitions in this folder by `python -m geoplan.docs`; edit the `.toml`
files, not this page. Every layer is a table in the workspace GeoPackage (QGIS opens it as it
is). Geometries are in EPSG:4326. List fields are stored comma-separated (`health,mhpss`);
dates as `YYYY-MM-DD`, in the years {FIRST_YEAR} to {LAST_YEAR} (any other year is taken for a typo);
times as `HH:MM`.

On import, `,` and `;` both separate the items of a list (`health;mhpss` is `health,mhpss`),
day lists take ranges (`Sun-Thu`, `sun..thu`, OSM `Su-Th`), times take `08h00` and `4pm`, and
a start/end pair of times may come in one cell (a `shift` column holding `8:00-16:00`).
Ready-to-fill templates of every layer: [`examples/templates/`](../examples/templates/).

Sensitivity: `high` layers (gathering points, detention centres) can expose people to harm:
the API shows their positions generalised to viewers, and demo positions are made up.
Beneficiaries are counted ({", ".join(SexAge)}), never named.

Where a breakdown ({"/".join(SexAge)}) is complete and the total is empty, the total is
filled in as its sum; a breakdown that exceeds or contradicts its total is an error.
"""


def catalog_markdown() -> str:
    """The whole reference as Markdown."""
    catalog = load_catalog()
    parts = [_INTRO, _index(list(catalog.values()))]
    parts += [_layer_section(layer) for layer in catalog.values()]
    return "\n".join(parts).rstrip() + "\n"


def _index(layers: list[LayerDef]) -> str:
    rows = ["| layer | geometry | sensitivity | what it is |", "|---|---|---|---|"]
    for layer in layers:
        geometry = "none (table)" if not layer.has_geometry else layer.geometry
        optional = " (optional)" if layer.optional else ""
        rows.append(
            f"| [`{layer.name}`](#{layer.name}){optional} | {geometry} | {layer.sensitivity} | {layer.title} |"
        )
    return "\n".join(rows) + "\n"


def _layer_section(layer: LayerDef) -> str:
    head = [
        f"## {layer.name}",
        "",
        f"**{layer.title}.** {layer.description}",
        "",
        f"Geometry: {layer.geometry if layer.has_geometry else 'none'}. Id field: `{layer.id_field}`. "
        f"Sensitivity: {layer.sensitivity}{' (' + layer.sensitivity_note + ')' if layer.sensitivity_note else ''}.",
        "",
        "| field | type | required | allowed values / range | default | unit | description |",
        "|---|---|---|---|---|---|---|",
    ]
    return "\n".join(head + [_field_row(f) for f in layer.fields]) + "\n"


def _field_row(f: FieldDef) -> str:
    cells = [
        f"`{f.name}`",
        f.type.replace("_", " "),
        "yes" if f.required else "",
        _allowed(f),
        _default(f),
        f.unit,
        _description(f),
    ]
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def _allowed(f: FieldDef) -> str:
    if f.allowed:
        return ", ".join(f"`{v}`" for v in f.allowed)
    bounds = [
        f"≥ {f.min:g}" if f.min is not None else "",
        f"≤ {f.max:g}" if f.max is not None else "",
    ]
    return " ".join(b for b in bounds if b)


def _default(f: FieldDef) -> str:
    if f.default is None:
        return ""
    if isinstance(f.default, tuple):
        return "`" + ",".join(f.default) + "`"
    return f"`{f.default}`"


def _description(f: FieldDef) -> str:
    notes = [f.description]
    if f.part_of:
        notes.append(f"Part of `{f.part_of}`.")
    if f.after:
        notes.append(f"Must be after `{f.after}`.")
    if f.references:
        notes.append("Refers to " + ", ".join(f"`{r}`" for r in f.references) + ".")
    if f.not_future:
        notes.append("Not in the future.")
    return " ".join(n for n in notes if n)


def write_reference(path: Path | None = None) -> Path:
    """Write the reference next to the definitions."""
    target = path or layers_dir() / "README.md"
    target.write_text(catalog_markdown(), encoding="utf-8")
    return target


if __name__ == "__main__":
    print(f"wrote {write_reference()}")
