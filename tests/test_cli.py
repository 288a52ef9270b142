"""The geoplan command: help that teaches, exit codes, reports without tracebacks."""

from __future__ import annotations

import subprocess
from pathlib import Path

import geopandas as gpd
import pytest

from geoplan.cli import run


def test_help_teaches_with_examples(capsys: pytest.CaptureFixture[str]) -> None:
    """--help lists the commands, examples and the exit codes."""
    assert run(["--help"]) == 0
    text = capsys.readouterr().out
    for word in ("import", "validate", "export", "layers", "demo", "Examples", "Exit codes"):
        assert word in text


def test_import_help_has_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    """Each data command's help shows how to call it."""
    assert run(["import", "--help"]) == 0
    assert "geoplan import gathering_points sites.csv --dry-run" in capsys.readouterr().out


def test_usage_errors_exit_2(fixtures: Path, tmp_path: Path) -> None:
    """A missing argument, an unknown layer or a missing file exit with 2."""
    ws = str(tmp_path / "ws.gpkg")
    assert run(["import"]) == 2
    assert run(["import", "nolayer", str(fixtures / "valid" / "teams.csv"), "-w", ws]) == 2
    assert run(["import", "teams", str(tmp_path / "nope.csv"), "-w", ws]) == 2
    assert run(["export", "teams", "--format", "xml", "-w", ws]) == 2
    assert (
        run(["import", "teams", str(fixtures / "valid" / "teams.csv"), "--map", "oops", "-w", ws])
        == 2
    )


def test_validation_errors_exit_1_and_name_rows(
    fixtures: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Invalid data exits with 1, printing each problem and writing the CSV report."""
    report = tmp_path / "problems.csv"
    bad = fixtures / "invalid" / "gathering_points_duplicate_ids.geojson"
    code = run(
        [
            "validate",
            str(bad),
            "--layer",
            "gathering_points",
            "-w",
            str(tmp_path / "ws.gpkg"),
            "--report",
            str(report),
        ]
    )
    assert code == 1
    out = capsys.readouterr().out
    assert "row 3" in out
    assert "GP-1" in out
    assert "Traceback" not in out
    assert report.read_text().count("duplicate-id") == 2


def test_import_layers_export(
    fixtures: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """import -> layers -> export works end to end and re-import changes nothing."""
    ws = str(tmp_path / "ws.gpkg")
    source = str(fixtures / "valid" / "gathering_points.csv")
    assert run(["import", "gathering_points", source, "-w", ws, "--dry-run"]) == 0
    assert "nothing written" in capsys.readouterr().out
    assert run(["import", "gathering_points", source, "-w", ws]) == 0
    assert run(["import", "gathering_points", source, "-w", ws]) == 0
    assert "0 added, 0 updated, 3 unchanged" in capsys.readouterr().out
    assert run(["layers", "-w", ws]) == 0
    assert "gathering_points" in capsys.readouterr().out
    target = tmp_path / "gp.gpkg"
    assert run(["export", "gathering_points", "--format", "gpkg", "-o", str(target), "-w", ws]) == 0
    assert len(gpd.read_file(target)) == 3
    assert "share it only within the programme" in capsys.readouterr().err


def test_area_commands(fixtures: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The operating area is set, shown, applied on import and cleared."""
    ws = str(tmp_path / "ws.gpkg")
    assert run(["area", "set", "--name", "Guinea", "-w", ws, "--", "-15.08,7.19,-7.64,12.68"]) == 0
    assert run(["area", "show", "-w", ws]) == 0
    assert "Guinea" in capsys.readouterr().out
    assert (
        run(
            [
                "import",
                "gathering_points",
                str(fixtures / "valid" / "gathering_points.csv"),
                "-w",
                ws,
            ]
        )
        == 1
    )
    assert run(["area", "set", "1,2", "-w", ws]) == 2
    assert run(["area", "clear", "-w", ws]) == 0


def test_export_of_a_missing_workspace_says_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Exporting from a workspace that does not exist explains how to make one."""
    assert run(["export", "teams", "-w", str(tmp_path / "none.gpkg")]) == 2
    assert "geoplan demo" in capsys.readouterr().err


def test_console_script_runs_without_traceback(fixtures: Path, tmp_path: Path) -> None:
    """The installed `geoplan` command prints errors in plain words, never a traceback."""
    proc = subprocess.run(
        [
            "geoplan",
            "import",
            "teams",
            str(tmp_path / "missing.csv"),
            "-w",
            str(tmp_path / "ws.gpkg"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "no such file" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
