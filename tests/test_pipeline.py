"""`geoplan demo` on a fresh folder: exit 0 and a workspace geopandas opens with every layer."""

from __future__ import annotations

import subprocess
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "geoplan-demo"
    proc = subprocess.run(
        ["geoplan", "demo", "--out", str(out)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    (out / "stdout.txt").write_text(proc.stdout, encoding="utf-8")
    return out


def test_demo_workspace_has_the_expected_layers_and_counts(demo_dir: Path) -> None:
    """The demo workspace opens with geopandas and holds the scenario's layers and sizes."""
    workspace = demo_dir / "geoplan.gpkg"
    layers = {name for name, _ in pyogrio.list_layers(workspace)}
    assert {
        "gathering_points",
        "detention_centres",
        "clinics",
        "cip_sites",
        "outreach_visits",
        "teams",
        "no_go_zones",
    } <= layers
    count = {name: len(gpd.read_file(workspace, layer=name)) for name in layers}
    assert count["gathering_points"] >= 150
    assert 5 <= count["detention_centres"] <= 8
    assert 15 <= count["clinics"] <= 25
    assert count["cip_sites"] == 5
    assert 4 <= count["teams"] <= 6
    assert count["no_go_zones"] == 2
    assert count["outreach_visits"] >= 2000


def test_demo_prints_a_summary_and_where_outputs_are(demo_dir: Path) -> None:
    """The summary names the workspace file."""
    text = (demo_dir / "stdout.txt").read_text(encoding="utf-8")
    assert "Outputs:" in text
    assert str(demo_dir / "geoplan.gpkg") in text.replace("\n", "")
