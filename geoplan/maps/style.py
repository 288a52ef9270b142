"""How geoplan's maps look and how they become one HTML file: colours, marker styles, popups,
the title block and legend, the JSON data blocks and the vendored Leaflet assets.

:mod:`geoplan.maps` decides *what* to draw; this module decides how it looks on screen and on
paper. Every text from the data goes through :func:`esc` before it reaches the page.
"""

from __future__ import annotations

import base64
import json
import math
import mimetypes
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from branca.element import Element, Figure, MacroElement
from folium.elements import JSCSSMixin
from folium.map import Layer

STATIC = Path(__file__).resolve().parent / "static"
_CDN = "https://cdn.jsdelivr.net/npm"

# --- colours and shapes -----------------------------------------------------------------------

LAYER_LOOK: Mapping[str, tuple[str, str]] = {
    "gathering_points": ("circle", "#1f78b4"),
    "detention_centres": ("square", "#6a3d9a"),
    "clinics": ("cross", "#1b9e77"),
    "cip_sites": ("diamond", "#b15928"),
}
"""Shape and colour of each site layer: the shape always says what kind of place it is."""
INACCESSIBLE_GREY = "#9e9e9e"
RESTRICTED_RING = "#ff9800"
BASE_GLYPH = "\u2302"  # a house
STAR_GLYPH = "\u2605"
LEFT_OUT_GLYPH = "\u00d7"
LEFT_OUT_GLYPHS: Mapping[str, str] = {
    "inaccessible": "\u2298",  # a slashed circle
    "in_no_go_zone": "\u00d7",
    "no_team": "?",
    "closed": "\u2297",  # a crossed circle
    "cut_off_by_no_go_zone": "\u2300",  # a diameter sign: the way is barred
    "out_of_reach": "\u21af",  # a zigzag arrow
    "no_team_time": "\u2026",  # an ellipsis: no time left
}
"""The glyph on a left-out marker, by reason: the reason reads without colour."""
OVERDUE_BINS: tuple[tuple[str, str, float], ...] = (
    ("overdue 1-7 days", "#fcbba1", 7),
    ("overdue 8-30 days", "#fb6a4a", 30),
    ("overdue over 30 days", "#cb181d", math.inf),
)
"""Red scale for sites past their visit frequency: label, colour, last day of the bin."""
NEVER_COLOUR = "#67000d"
NEVER_LABEL = "a needed service never delivered"
CHOROPLETH = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")
ZERO_FILL = "#f5f5f5"
REACH_COLOUR = "#2e7d32"
ZONE_COLOUR = "#c62828"
ADMIN_COLOUR = "#424242"
TEAM_PALETTE = (
    "#5a3fb5",
    "#eecc66",
    "#88ccee",
    "#1b4f72",
    "#7570b3",
    "#004488",
    "#56b4e9",
    "#332288",
    "#aa4499",
    "#6699cc",
)
"""Team colours: violets, blues and a sand yellow (after the Tol and Okabe-Ito palettes). The
first six stay at least 15 CIELAB units apart from each other and from every status colour
(:data:`STATUS_COLOURS`: reds, oranges, amber, greys) for normal vision and for protan and
deutan colour blindness; tests/test_style.py checks it. Teams are red, orange or grey only
when the teams table says so."""
BASE_COLOUR = "#455a64"
"""Team bases and stops where no team colour applies (legend swatches), and marker clusters."""
ACTIVE_FILL = "#fff3c4"
"""The highlighted day in the plan's team x day grid."""
AREA_BORDER = "#555"
"""Outline of choropleth areas and of area swatches in the legend."""
LEGEND_BLANK = "#fff"
"""The fill of a legend swatch that shows only a ring (restricted access)."""
PLAIN_BACKGROUND = "#eef0ec"
"""The map's background when it is drawn without tiles."""
HATCH_LIGHT = "#fdecea"
"""The light stripe of the no-go hatch (the dark one is :data:`ZONE_COLOUR`)."""
PROPOSAL_COLOUR = "#ffb300"
"""Proposed new stops (siting)."""
LEFT_OUT_CLUSTER = "#757575"
"""Clusters of left-out sites."""
LEFT_OUT_NO_TEAM = "#616161"
LEFT_OUT_CLOSED = "#424242"
LEFT_OUT_OUT_OF_REACH = "#212121"
LEFT_OUT_CAPACITY = "#757575"
"""Left-out sites by reason (with :data:`INACCESSIBLE_GREY` and :data:`ZONE_COLOUR`): greys,
never a team's colour; the glyph on the marker says the reason (:data:`LEFT_OUT_GLYPHS`)."""

# The offline base map (geoplan.basemap): quiet colours under the data.
SEA_COLOUR = "#bcd7e6"
"""The sea, where the base map draws land as areas."""
LAND_COLOUR = "#f4f1ea"
"""Land (the background when the base map has no land areas)."""
WATER_COLOUR = "#a9cbe0"
COAST_COLOUR = "#7fa6bf"
BOUNDARY_COLOUR = "#8a7f99"
PLACE_INK = "#333"
PLACE_HALO = "#fff"
ROAD_LOOK: tuple[tuple[str, float], ...] = (
    ("#c99b5b", 3.2),
    ("#d8b27a", 2.6),
    ("#e0c9a0", 2.1),
    ("#cfc6b8", 1.7),
    ("#d6d0c6", 1.3),
    ("#dedad3", 1.0),
    ("#e4e1dc", 0.8),
)
"""Road colour and width in pixels by rank (:data:`geoplan.basemap.ROAD_CLASSES`)."""


GAP_RING = "#e31a1c"
"""The ring around a site with a coverage gap."""
WARNING_COLOUR = "#b71c1c"
"""Warnings in popups and the sensitive-locations banner of the title block."""
STATUS_COLOURS = (
    *(c for _, c, _ in OVERDUE_BINS),
    NEVER_COLOUR,
    RESTRICTED_RING,
    INACCESSIBLE_GREY,
    ZONE_COLOUR,
    PROPOSAL_COLOUR,
    LEFT_OUT_NO_TEAM,
    LEFT_OUT_CLOSED,
    LEFT_OUT_OUT_OF_REACH,
    LEFT_OUT_CAPACITY,
    GAP_RING,
)
"""Every colour that says a status on a map; team colours keep away from all of them."""
CSS_PALETTE: Mapping[str, str] = {
    "--gp-base": BASE_COLOUR,
    "--gp-restricted": RESTRICTED_RING,
    "--gp-gap": GAP_RING,
    "--gp-warn": WARNING_COLOUR,
    "--gp-plain": PLAIN_BACKGROUND,
    "--gp-active": ACTIVE_FILL,
    "--gp-place-ink": PLACE_INK,
    "--gp-place-halo": PLACE_HALO,
}
"""The role colours that static/geoplan-maps.css reads as CSS variables (``var(--gp-base)``);
its neutral inks, whites and shadows are its own."""

# Printed schedules (geoplan.schedules): HTML pages and the XLSX workbook.
PRINT_INK = "#000"
PRINT_SMALL_INK = "#333"
PRINT_NOTICE = "#a00"
"""The sensitive-locations notice."""
PRINT_RULE = "#555"
"""Table borders."""
PRINT_HEADER_FILL = "#ddd"
PRINT_BASE_FILL = "#f2f2f2"
"""Rows that leave from or come back to the base."""

_NICE_STEPS = (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10)
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")


def palette_css() -> str:
    """:data:`CSS_PALETTE` as a CSS rule, written before the maps' own style sheet."""
    return ":root { " + " ".join(f"{k}: {v};" for k, v in CSS_PALETTE.items()) + " }\n"


def spreadsheet_colour(colour: str) -> str:
    """A CSS hex colour (``#ddd``, ``#f2f2f2``) as a spreadsheet writes it: ``DDDDDD``."""
    digits = colour.removeprefix("#")
    return (digits if len(digits) == 6 else "".join(c * 2 for c in digits)).upper()


def overdue_colour(days_overdue: float | None, *, never: bool) -> tuple[str, str] | None:
    """Colour and label of a site on the overdue scale, or None when it is up to date."""
    if never:
        return NEVER_COLOUR, NEVER_LABEL
    if days_overdue is None or not days_overdue > 0:
        return None
    for label, colour, last in OVERDUE_BINS:
        if days_overdue <= last:
            return colour, label
    return OVERDUE_BINS[-1][1], OVERDUE_BINS[-1][0]  # pragma: no cover  (last bin is infinite)


def team_colour(value: object, index: int) -> str:
    """The team's own ``#RRGGBB`` colour when it has a valid one, else one from the palette."""
    if isinstance(value, str) and _HEX.match(value.strip()):
        return value.strip().lower()
    return TEAM_PALETTE[index % len(TEAM_PALETTE)]


def class_breaks(maximum: float, classes: int = len(CHOROPLETH)) -> list[int]:
    """Upper bounds of equal, round-numbered classes from 1 to ``maximum``."""
    if maximum <= 0:
        return []
    raw = maximum / classes
    magnitude = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next(s * magnitude for s in _NICE_STEPS if s * magnitude >= raw)
    return [math.ceil(step * (i + 1)) for i in range(classes)]


def choropleth_colour(value: float, breaks: Sequence[int]) -> str:
    """Fill for a value: light grey for zero, else the class it falls in."""
    if not value > 0 or not breaks:
        return ZERO_FILL
    for colour, upper in zip(CHOROPLETH, breaks, strict=False):
        if value <= upper:
            return colour
    return CHOROPLETH[-1]


STOP_INK_LIGHT = "#fff"
STOP_INK_DARK = "#222"
"""The stop number: white on dark team colours, dark on light ones (sand, light blue)."""


def _luminance(colour: str) -> float:
    """Relative luminance (0 black to 1 white) of a ``#RRGGBB`` colour; 0 when not one."""
    if not _HEX.match(colour):
        return 0.0
    rgb = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


# --- markers ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MarkerStyle:
    """One kind of marker: a CSS shape filled with a colour, or a glyph on a coloured disc.

    ``dom_class`` goes on the marker element itself, so that a page (or a test) can count
    markers by kind; ``{label}`` in the HTML is replaced per marker (stop numbers); markers
    with a higher ``z`` are drawn above the others.
    """

    shape: str
    colour: str
    size: int = 14
    classes: str = ""
    glyph: str = ""
    dom_class: str = "gp-site"
    z: int = 0

    def html(self) -> str:
        """The marker's inner HTML."""
        if self.shape == "stop":
            ink = STOP_INK_DARK if _luminance(self.colour) > 0.45 else STOP_INK_LIGHT
            style = f"--c:{self.colour};color:{ink}"
            return f'<div class="gp-stop-n" style="{style}">{{label}}</div>'
        glyph = "gp-glyph" if self.glyph else ""
        classes = " ".join(c for c in ("gp-mk", glyph, f"gp-{self.shape}", self.classes) if c)
        return f'<div class="{classes}" style="--c:{self.colour}">{esc(self.glyph)}</div>'

    def as_json(self) -> dict[str, object]:
        """What the page's script needs to make the Leaflet icon."""
        size = [self.size, self.size]
        return {"className": self.dom_class, "html": self.html(), "size": size, "z": self.z}

    def swatch(self) -> str:
        """The same marker, small, for the legend."""
        return f'<div class="gp-sw">{self.html().replace("{label}", "1")}</div>'


def cluster_icon(colour: str) -> str:
    """JavaScript drawing a cluster as its count in a ring of the layer's colour (not the
    default green-yellow-orange, which would read as a status)."""
    if not _HEX.match(colour):
        raise ValueError(f"cluster colour: expected #RRGGBB, got {colour!r}")
    return (
        "function (cluster) { return L.divIcon({className: 'marker-cluster gp-cluster', "
        f"html: '<div style=\"border-color:{colour}\"><span>' + cluster.getChildCount() + "
        "'</span></div>', iconSize: L.point(34, 34)}); }"
    )


def line_swatch(colour: str) -> str:
    """A legend swatch for a route line."""
    return f'<div class="gp-sw"><div class="gp-line" style="background:{colour}"></div></div>'


def area_swatch(fill: str, *, border: str = AREA_BORDER, opacity: float = 1.0) -> str:
    """A legend swatch for an area fill (``fill`` may be any CSS background)."""
    return (
        f'<div class="gp-sw"><div class="gp-area" style="background:{fill};'
        f'border-color:{border};opacity:{opacity}"></div></div>'
    )


HATCH = f"repeating-linear-gradient(45deg,{ZONE_COLOUR} 0 2px,{HATCH_LIGHT} 2px 6px)"
"""The no-go hatch as CSS, for the legend (the map uses the SVG pattern ``gp-hatch``)."""


# --- text -------------------------------------------------------------------------------------


_SPECIAL = re.compile("[&<>\"'{}]")
_ESCAPES = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "'": "&#x27;",
        "{": "&#123;",
        "}": "&#125;",
    }
)


def esc(value: object) -> str:
    """Text from the data, safe to put in HTML (a popup, a label, a layer's name).

    Braces become character references too: a layer's name passes through folium's templates,
    and ``{{ ... }}`` there would run as template code.
    """
    text = "" if value is None else str(value)
    return text.translate(_ESCAPES) if _SPECIAL.search(text) else text


def popup_html(
    title: str, rows: Iterable[tuple[str, str]], *, subtitle: str = "", warning: str = ""
) -> str:
    """A popup: a title, an optional subtitle and warning, and a table of the non-empty rows.

    Every value is escaped here; pass plain text.
    """
    parts = [f'<div class="gp-pop"><h3>{esc(title)}</h3>']
    if subtitle:
        parts.append(f'<div class="gp-sub">{esc(subtitle)}</div>')
    if warning:
        parts.append(f'<div class="gp-warn">{esc(warning)}</div>')
    cells = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows if v)
    parts.append(f"<table>{cells}</table></div>")
    return "".join(parts)


def page_json(data: object) -> str:
    """JSON that cannot end the ``<script>`` element it is written in.

    Only ``</`` and ``<!--`` can do that; they become ``<\\/`` and ``\\u003c!--``, which JSON
    reads back as the same text. Everything else stays as it is, to keep big maps small.
    """
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("</", "<\\/").replace("<!--", "\\u003c!--")


# --- data blocks ------------------------------------------------------------------------------


class RawText(Element):
    """Text put in the page exactly as it is.

    branca compiles what an element's macros return as a new Jinja template, so data holding
    ``{{ ... }}`` (a site's name) would be run as code; geoplan's elements never go that way.
    """

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def render(self, **kwargs: object) -> str:
        """The text, untouched."""
        return self.text


class PageElement(MacroElement):
    """An element that adds raw text to the page's head, body and script (no templates)."""

    def header_text(self) -> str:
        """What goes in ``<head>``."""
        return ""

    def html_text(self) -> str:
        """What goes in ``<body>``."""
        return ""

    def script_text(self) -> str:
        """What runs once the page is drawn, in order with the other elements."""
        return ""

    def render(self, **kwargs: object) -> str:
        """Add the three parts to the page; the element itself renders as nothing."""
        figure = self.get_root()
        if not isinstance(figure, Figure):
            raise TypeError("add the element to a folium map before rendering it")
        parts = (
            (figure.header, self.header_text()),
            (figure.html, self.html_text()),
            (figure.script, self.script_text()),
        )
        for section, text in parts:
            if text:
                section.add_child(RawText(text), name=self.get_name())
        return ""

    def parent_name(self) -> str:
        """The JavaScript variable of the layer or map this element draws into."""
        if self._parent is None:
            raise ValueError("add the element to a map or layer before rendering it")
        return str(self._parent.get_name())


class DataBlock(PageElement):
    """A JSON data block in the page and the call that draws it into its parent layer.

    Parameters
    ----------
    name
        The layer's name, as shown in the layer control.
    kind
        ``points`` (markers) or ``shapes`` (GeoJSON areas).
    payload
        The data; HTML in it is escaped already.
    """

    def __init__(self, name: str, kind: str, payload: Mapping[str, object]) -> None:
        super().__init__()
        self._name = "gp_data"
        self.kind = kind
        self.function = {"points": "addPoints", "shapes": "addShapes"}[kind]
        self.layer_attr = esc(name)
        self.text = page_json({"name": name, **payload})

    def html_text(self) -> str:
        """The JSON data block."""
        return (
            f'<script type="application/json" class="gp-data" id="{self.get_name()}" '
            f'data-kind="{self.kind}" data-layer="{self.layer_attr}">{self.text}</script>'
        )

    def script_text(self) -> str:
        """The call that draws it."""
        return f'geoplan.{self.function}({self.parent_name()}, "{self.get_name()}");'


class PlanBlock(PageElement):
    """The week's routes and stops: one day at a time (the day switcher in the title block,
    or the whole week), each team's while its toggle in the layer control is ticked."""

    def __init__(
        self,
        name: str,
        payload: Mapping[str, object],
        *,
        teams: Mapping[str, Layer],
        first_day: str,
    ) -> None:
        super().__init__()
        self._name = "gp_plan"
        self.layer_attr = esc(name)
        self.text = page_json({"name": name, "firstDay": first_day, **payload})
        self.teams = teams

    def html_text(self) -> str:
        """The JSON data block."""
        return (
            f'<script type="application/json" class="gp-data" id="{self.get_name()}" '
            f'data-kind="routes" data-layer="{self.layer_attr}">{self.text}</script>'
        )

    def script_text(self) -> str:
        """The call that draws the routes and ties them to the team toggles and day switcher."""
        teams = _js_object(self.teams)
        return f'geoplan.addPlan({self.parent_name()}, "{self.get_name()}", {teams});'


class BaseMapBlock(PageElement):
    """The offline base map (land, water, roads by class, boundaries, place names) as a JSON
    block, drawn on a canvas under every layer and never clickable.

    ``features`` are GeoJSON (see :mod:`geoplan.basemap`); ``labels`` are extra names
    ``[lat, lon, text, rank]`` (admin areas); ``sea`` says the land is drawn as areas.
    """

    def __init__(self) -> None:
        super().__init__()
        self._name = "gp_basemap"
        self.features: list[dict[str, object]] = []
        self.labels: list[tuple[float, float, str, int]] = []
        self.attribution = ""
        self.sea = False
        self.source: object = None  # the whole base map, clipped to the data when rendered
        self.areas: list[object] = []  # admin areas (shapely), for the overview inset

    @property
    def text(self) -> str:
        """The JSON payload."""
        payload = {
            "features": self.features,
            "labels": self.labels,
            "attribution": esc(self.attribution),
            "look": basemap_look(sea=self.sea),
        }
        return page_json(payload)

    def html_text(self) -> str:
        """The JSON data block."""
        return (
            f'<script type="application/json" class="gp-data" id="{self.get_name()}" '
            f'data-kind="basemap" data-layer="Base map">{self.text}</script>'
        )

    def script_text(self) -> str:
        """The call that draws it."""
        return f'geoplan.addBasemap({self.parent_name()}, "{self.get_name()}");'


def basemap_look(*, sea: bool) -> dict[str, object]:
    """How the page draws each kind of base-map feature (Leaflet path styles)."""
    return {
        "background": SEA_COLOUR if sea else LAND_COLOUR,
        "land": {
            "stroke": True,
            "color": COAST_COLOUR,
            "weight": 1,
            "fillColor": LAND_COLOUR,
            "fillOpacity": 1,
        },
        "water": {
            "stroke": True,
            "color": WATER_COLOUR,
            "weight": 1.5,
            "fillColor": WATER_COLOUR,
            "fillOpacity": 1,
        },
        "coast": {"color": COAST_COLOUR, "weight": 1.2},
        "boundary": {"color": BOUNDARY_COLOUR, "weight": 1.2, "dashArray": "5 4", "fill": False},
        "roads": [{"color": c, "weight": w} for c, w in ROAD_LOOK],
    }


def _js_object(groups: Mapping[str, Layer]) -> str:
    pairs = ", ".join(f"{page_json(key)}: {g.get_name()}" for key, g in groups.items())
    return "{" + pairs + "}"


# --- title block and legend -------------------------------------------------------------------


@dataclass
class LegendSection:
    """One block of the legend: a heading and rows of (swatch HTML, plain-text label)."""

    title: str
    rows: list[tuple[str, str]] = field(default_factory=list)
    note: str = ""


class MapFrame(PageElement):
    """The map's furniture: title block with the date, legend, hatch pattern, styles, and the
    script that fits the view to the data (also before printing).

    Builders add legend sections, sensitive layers and bounds as they draw; all of it is
    rendered at the end, so the legend always matches the layers.
    """

    def __init__(
        self, title: str, date_text: str, *, plain: bool, paper: Paper | None = None
    ) -> None:
        super().__init__()
        self._name = "gp_frame"
        self.title = title
        self.date_text = date_text
        self.page_title = esc(f"{title} \u2014 {date_text}")
        self.plain = plain
        self.paper = paper or Paper()
        self.notes: list[str] = []
        self.days: list[tuple[str, str]] = []  # (ISO date or "week", button text)
        self.panels: list[tuple[str, str]] = []  # (title, HTML made by geoplan)
        self.inset = ""
        self.sensitive: dict[str, None] = {}
        self.legend: dict[str, LegendSection] = {}
        self.bounds: list[float] | None = None  # south, west, north, east
        self.css = palette_css() + own_asset("geoplan-maps.css")
        self.js = own_asset("geoplan-maps.js")

    def section(self, title: str, *, note: str = "") -> LegendSection:
        """The legend section with this title, made on first use."""
        if title not in self.legend:
            self.legend[title] = LegendSection(title, note=note)
        return self.legend[title]

    def extend(self, lat: Sequence[float], lon: Sequence[float]) -> None:
        """Make the initial view include these points."""
        if not len(lat):
            return
        box = [min(lat), min(lon), max(lat), max(lon)]
        if self.bounds is not None:
            box = [
                min(box[0], self.bounds[0]),
                min(box[1], self.bounds[1]),
                max(box[2], self.bounds[2]),
                max(box[3], self.bounds[3]),
            ]
        self.bounds = box

    def bounds_json(self) -> str:
        """``[[south, west], [north, east]]`` or ``null``."""
        if self.bounds is None:
            return "null"
        s, w, n, e = self.bounds
        return page_json([[s, w], [n, e]])

    def header_text(self) -> str:
        """The page title, geoplan's styles and script."""
        return (
            f"<title>{self.page_title}</title>\n<style>{self.css}{self.paper.css()}</style>\n"
            f"<script>{self.js}</script>\n"
        )

    def html_text(self) -> str:
        """The hatch pattern, the title block and the legend."""
        plain = (
            f"<style>#{self.parent_name()}{{background:{PLAIN_BACKGROUND}}}</style>"
            if self.plain
            else ""
        )
        furniture = self._title_html() + self._legend_html() + self._panels_html()
        return plain + _HATCH_SVG + furniture + _NORTH_ARROW + self._inset_html()

    def script_text(self) -> str:
        """Fit the view to the data, now and before printing."""
        return f"geoplan.finish({self.parent_name()}, {self.bounds_json()});"

    def _title_html(self) -> str:
        parts = [f'<div class="gp-title"><h1>{esc(self.title)}</h1>']
        parts.append(f'<div class="gp-date">{esc(self.date_text)}</div>')
        parts += [f'<div class="gp-note">{esc(note)}</div>' for note in self.notes]
        if self.days:
            buttons = "".join(
                f'<button type="button" class="gp-day" data-day="{esc(d)}">{esc(t)}</button>'
                for d, t in self.days
            )
            parts.append(
                f'<div class="gp-days" role="group" aria-label="Day shown">{buttons}</div>'
            )
        if self.sensitive:
            layers = ", ".join(sorted(self.sensitive))
            parts.append(
                f'<div class="gp-sensitive">Sensitive \u2014 do not share: exact positions of '
                f"{esc(layers)}</div>"
            )
        return "".join(parts) + "</div>"

    def _legend_html(self) -> str:
        if not self.legend:
            return ""
        parts = ['<details class="gp-legend" open><summary>Legend</summary>']
        for section in self.legend.values():
            parts.append(f"<h2>{esc(section.title)}</h2>")
            parts += [
                f'<div class="gp-row">{swatch}<span>{esc(label)}</span></div>'
                for swatch, label in section.rows
            ]
            if section.note:
                parts.append(f'<div class="gp-note">{esc(section.note)}</div>')
        return "".join(parts) + "</details>"

    def _panels_html(self) -> str:
        return "".join(
            f'<details class="gp-panel" open><summary>{esc(title)}</summary>{body}</details>'
            for title, body in self.panels
        )

    def _inset_html(self) -> str:
        return f'<div class="gp-inset" aria-hidden="true">{self.inset}</div>' if self.inset else ""


_NORTH_ARROW = (
    '<div class="gp-north" aria-label="North"><svg width="26" height="40" viewBox="0 0 26 40">'
    f'<path d="M13 2 L23 30 L13 24 L3 30 Z" fill="{PLACE_INK}"/>'
    f'<text x="13" y="39" text-anchor="middle" font-size="11" fill="{PLACE_INK}">N</text>'
    "</svg></div>"
)
"""The north arrow of the printed map."""


PAPER_MM: Mapping[str, tuple[int, int]] = {"A4": (297, 210), "A3": (420, 297)}
"""Paper sizes (landscape width, height in mm) a map prints on."""
PRINT_MARGIN_MM = 8


@dataclass(frozen=True)
class Paper:
    """The sheet a map prints on: ``A4`` or ``A3``, ``landscape`` or ``portrait``."""

    size: str = "A4"
    orientation: str = "landscape"

    def __post_init__(self) -> None:
        if self.size not in PAPER_MM:
            raise ValueError(f"paper: expected one of {', '.join(PAPER_MM)}, got {self.size!r}")
        if self.orientation not in ("landscape", "portrait"):
            raise ValueError(
                f"orientation: expected landscape or portrait, got {self.orientation!r}"
            )

    @property
    def printable_mm(self) -> tuple[int, int]:
        """Width and height inside the margins."""
        w, h = PAPER_MM[self.size]
        if self.orientation == "portrait":
            w, h = h, w
        return w - 2 * PRINT_MARGIN_MM, h - 2 * PRINT_MARGIN_MM

    def css(self) -> str:
        """The page size and the map's printed size."""
        w, h = self.printable_mm
        box = f"width: {w}mm !important; height: {h}mm !important;"
        return (
            f"\n@page {{ size: {self.size} {self.orientation}; margin: {PRINT_MARGIN_MM}mm; }}\n"
            f"@media print {{ html, body {{ {box} margin: 0; overflow: hidden; }} "
            f".folium-map {{ position: absolute !important; top: 0 !important; "
            f"left: 0 !important; {box} }} }}\n"
        )


def inset_svg(
    outlines: Sequence[Sequence[tuple[float, float]]],
    extent: Sequence[float],
    box: Sequence[float],
    *,
    width: int = 150,
) -> str:
    """A small overview map: ``outlines`` (rings of lon/lat) within ``extent`` (west, south,
    east, north), with the printed area ``box`` outlined."""
    west, south, east, north = extent
    kx = math.cos(math.radians((south + north) / 2))
    span_x, span_y = max((east - west) * kx, 1e-6), max(north - south, 1e-6)
    height = max(40, min(200, round(width * span_y / span_x)))

    def xy(lon: float, lat: float) -> str:
        return f"{(lon - west) * kx / span_x * width:.1f},{(north - lat) / span_y * height:.1f}"

    rings = "".join(
        f'<polygon points="{" ".join(xy(x, y) for x, y in ring)}"/>' for ring in outlines
    )
    bw, bs, be, bn = box
    frame = " ".join(xy(x, y) for x, y in ((bw, bn), (be, bn), (be, bs), (bw, bs)))
    return (
        f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
        f'<rect width="{width}" height="{height}" fill="{SEA_COLOUR}"/>'
        f'<g fill="{LAND_COLOUR}" stroke="{COAST_COLOUR}" stroke-width="0.6">{rings}</g>'
        f'<polygon points="{frame}" fill="none" stroke="{WARNING_COLOUR}" stroke-width="2"/>'
        "</svg>"
    )


_HATCH_SVG = (
    '<svg class="gp-defs" width="0" height="0" style="position:absolute" aria-hidden="true">'
    '<defs><pattern id="gp-hatch" width="8" height="8" patternUnits="userSpaceOnUse" '
    f'patternTransform="rotate(45)"><rect width="8" height="8" fill="{HATCH_LIGHT}" '
    'fill-opacity="0.5"/>'
    f'<line x1="0" y1="0" x2="0" y2="8" stroke="{ZONE_COLOUR}" stroke-width="3"/>'
    "</pattern></defs></svg>"
)
HATCH_FILL = "url(#gp-hatch)"
"""The no-go hatch as an SVG fill, for Leaflet's ``fillColor``."""


def grid_page(title: str, when: str, grid: str) -> str:
    """A printable page (A4 landscape) holding the plan's team x day grid."""
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)} \u2014 {esc(when)}</title><style>{palette_css()}"
        f"{own_asset('geoplan-maps.css')}</style></head>"
        f'<body class="gp-grid-page"><h1>{esc(title)}: team x day</h1><p>{esc(when)}</p>'
        f"{grid}</body></html>\n"
    )


# --- assets -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Asset:
    """A vendored JavaScript or CSS file and where the same version lives on the CDN."""

    key: str
    path: str
    url: str

    @property
    def is_css(self) -> bool:
        """Whether it is a style sheet."""
        return self.path.endswith(".css")


def _npm(key: str, package: str, folder: str, file: str, dist: str = "dist/") -> Asset:
    return Asset(key, f"{folder}/{file}", f"{_CDN}/{package}/{dist}{file}")


LEAFLET_JS = _npm("leaflet", "leaflet@1.9.4", "leaflet-1.9.4", "leaflet.js")
LEAFLET_CSS = _npm("leaflet_css", "leaflet@1.9.4", "leaflet-1.9.4", "leaflet.css")
_CLUSTER = ("leaflet.markercluster@1.5.3", "leaflet.markercluster-1.5.3")
CLUSTER_JS = _npm("markercluster", *_CLUSTER, "leaflet.markercluster.js")
CLUSTER_CSS = _npm("markercluster_css", *_CLUSTER, "MarkerCluster.css")
CLUSTER_DEFAULT_CSS = _npm("markercluster_default_css", *_CLUSTER, "MarkerCluster.Default.css")
_FULLSCREEN = ("leaflet.fullscreen@3.0.0", "leaflet.fullscreen-3.0.0")
FULLSCREEN_JS = _npm("fullscreen", *_FULLSCREEN, "Control.FullScreen.js", dist="")
FULLSCREEN_CSS = _npm("fullscreen_css", *_FULLSCREEN, "Control.FullScreen.css", dist="")
_MEASURE = ("leaflet-measure@2.1.7", "leaflet-measure-2.1.7")
MEASURE_JS = _npm("measure", *_MEASURE, "leaflet-measure.min.js")
MEASURE_CSS = _npm("measure_css", *_MEASURE, "leaflet-measure.css")
ASSETS = (
    LEAFLET_JS,
    LEAFLET_CSS,
    CLUSTER_JS,
    CLUSTER_CSS,
    CLUSTER_DEFAULT_CSS,
    FULLSCREEN_JS,
    FULLSCREEN_CSS,
    MEASURE_JS,
    MEASURE_CSS,
)
"""Every third-party file a geoplan map uses, vendored under ``geoplan/static``."""


def use_assets(element: JSCSSMixin, *assets: Asset) -> None:
    """Make a folium element link these assets instead of its own CDN defaults."""
    element.default_js = [(a.key, a.url) for a in assets if not a.is_css]
    element.default_css = [(a.key, a.url) for a in assets if a.is_css]


@cache
def own_asset(name: str) -> str:
    """geoplan's own map script or style sheet (always embedded)."""
    return (STATIC / name).read_text(encoding="utf-8")


@cache
def _embedded(asset: Asset) -> str:
    path = STATIC / asset.path
    text = path.read_text(encoding="utf-8")
    if asset.is_css:
        text = re.sub(r"url\((['\"]?)([^)'\"#]+)\1\)", lambda m: _data_uri(path.parent, m), text)
        return f"<style>/* {asset.key}: {asset.path} */\n{text}\n</style>"
    return f"<script>/* {asset.key}: {asset.path} */\n{text}\n</script>"


def _data_uri(folder: Path, match: re.Match[str]) -> str:
    target = folder / match.group(2)
    if not target.is_file():
        return match.group(0)
    kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    data = base64.b64encode(target.read_bytes()).decode("ascii")
    return f'url("data:{kind};base64,{data}")'


def inline_assets(page: str) -> str:
    """Replace every link to a vendored asset with the file itself, so the page needs no
    network; images in style sheets become ``data:`` URIs."""
    for asset in ASSETS:
        tag = (
            f'<link rel="stylesheet" href="{asset.url}"/>'
            if asset.is_css
            else f'<script src="{asset.url}"></script>'
        )
        page = page.replace(tag, _embedded(asset))
    return page
