"""The geoplan map command: each kind of map from a workspace, help, errors and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from geoplan.cli import run
from geoplan.store import open_store
from tests.maps_fixtures import TODAY, frames


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny map workspace as a GeoPackage."""
    path = tmp_path_factory.mktemp("ws") / "ws.gpkg"
    store = open_store(path)
    for name, frame in frames().items():
        if len(frame):
            store.upsert(name, frame)
    return path


def test_help_explains_each_map_with_examples(capsys: pytest.CaptureFixture[str]) -> None:
    """--help says what each map shows and how to call it."""
    assert run(["map", "--help"]) == 0
    text = capsys.readouterr().out
    for words in (
        "layers",
        "coverage",
        "plan",
        "A4 landscape",
        "geoplan map plan --week",
        "--online-tiles",
    ):
        assert words in text


@pytest.mark.parametrize("kind", ["layers", "coverage", "plan"])
def test_each_map_is_written(
    kind: str, workspace: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each kind writes one HTML page, says where, and warns that positions are exact."""
    target = tmp_path / f"{kind}.html"
    args = ["map", kind, "-o", str(target), "-w", str(workspace), "--date", TODAY.isoformat()]
    assert run([*args, "--time-limit", "1", "--week", "2026-W12", "--paper", "a3"]) == 0
    captured = capsys.readouterr()
    drew = " of a fresh plan (not saved: the week has no saved plan)" if kind == "plan" else ""
    assert f"Wrote the {kind} map{drew} to {target}" in captured.out
    assert "share it only within the programme" in captured.err
    page = target.read_text(encoding="utf-8")
    assert page.rstrip().endswith("</html>")
    assert "tile.openstreetmap" not in page


def test_online_assets_make_a_small_file(workspace: Path, tmp_path: Path) -> None:
    """--online-assets links Leaflet instead of embedding it."""
    small, full = tmp_path / "small.html", tmp_path / "full.html"
    assert run(["map", "layers", "-o", str(small), "-w", str(workspace), "--online-assets"]) == 0
    assert run(["map", "layers", "-o", str(full), "-w", str(workspace)]) == 0
    assert small.stat().st_size < full.stat().st_size - 250_000
    assert "cdn.jsdelivr.net/npm/leaflet@1.9.4" in small.read_text(encoding="utf-8")


def test_wrong_kind_or_missing_workspace_exit_2(
    workspace: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unknown kind of map or a workspace that does not exist is a usage error."""
    assert run(["map", "heatmap", "-w", str(workspace)]) == 2
    assert "'heatmap' is not one of layers, coverage, plan" in capsys.readouterr().err
    assert run(["map", "layers", "-w", str(tmp_path / "none.gpkg")]) == 2
    assert run(["map", "layers", "-w", str(workspace), "--date", "12/03/2026"]) == 2


def test_basemap_is_embedded_and_clipped_to_the_data(workspace: Path, tmp_path: Path) -> None:
    """--basemap FILE draws its roads and names offline, clipped to the data: a road far away
    is left out; no tile server is named."""
    near = {"kind": "road", "cls": "primary", "name": "Coast Road", "rank": 1}
    far = {**near, "name": "Far Road"}
    place = {"kind": "place", "cls": "town", "name": "Testtown", "rank": 1}
    collection = {
        "type": "FeatureCollection",
        "attribution": "test roads",
        "features": [
            {
                "type": "Feature",
                "properties": near,
                "geometry": {"type": "LineString", "coordinates": [[12.9, 32.8], [13.8, 33.0]]},
            },
            {
                "type": "Feature",
                "properties": far,
                "geometry": {"type": "LineString", "coordinates": [[36.0, 34.0], [36.1, 34.1]]},
            },
            {
                "type": "Feature",
                "properties": place,
                "geometry": {"type": "Point", "coordinates": [13.1, 32.9]},
            },
        ],
    }
    source = tmp_path / "basemap.geojson"
    source.write_text(json.dumps(collection), encoding="utf-8")
    target = tmp_path / "layers.html"
    args = ["map", "layers", "-o", str(target), "-w", str(workspace), "--basemap", str(source)]
    assert run(args) == 0
    page = target.read_text(encoding="utf-8")
    assert "Coast Road" in page
    assert "Testtown" in page
    assert "Far Road" not in page
    assert "test roads" in page
    assert "tile.openstreetmap" not in page


def test_a_broken_basemap_is_a_clear_error(
    workspace: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A base map that is not GeoJSON nor an extract names the file and what was expected."""
    source = tmp_path / "basemap.geojson"
    source.write_text('{"features": [{"properties": {"kind": "castle"}}]}', encoding="utf-8")
    assert run(["map", "layers", "-w", str(workspace), "--basemap", str(source)]) != 0
    err = capsys.readouterr().err
    assert "basemap.geojson, feature 1" in err
    assert "Traceback" not in err


def test_online_tiles_only_when_asked(workspace: Path, tmp_path: Path) -> None:
    """--online-tiles adds the OpenStreetMap tile layer, and warns for sensitive maps."""
    target = tmp_path / "layers.html"
    assert run(["map", "layers", "-o", str(target), "-w", str(workspace), "--online-tiles"]) == 0
    assert "tile.openstreetmap.org" in target.read_text(encoding="utf-8")


def test_unknown_paper_is_a_usage_error(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--paper must be A4 or A3."""
    assert run(["map", "layers", "-w", str(workspace), "--paper", "letter"]) == 2
    assert "expected one of A4, A3" in capsys.readouterr().err
