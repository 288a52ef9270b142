"""The share, map share, policy, purge and audit commands, run as a user runs them."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

import pytest

from geoplan.cli import run
from geoplan.demo.scenario import build_demo_workspace

TODAY = dt.date(2026, 12, 1)


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo workspace, built once."""
    path = tmp_path_factory.mktemp("cli-share") / "demo.gpkg"
    build_demo_workspace(path, today=TODAY)
    return path


@pytest.fixture
def ws(demo_file: Path, tmp_path: Path) -> str:
    """A fresh copy of the demo workspace."""
    copy = tmp_path / "ws.gpkg"
    copy.write_bytes(demo_file.read_bytes())
    return str(copy)


def test_share_writes_each_format(
    ws: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``geoplan share`` writes CSV, XLSX, GeoJSON and HTML and says what it suppressed."""
    period = "2026-06-01..2026-11-30"
    for kind, name in (
        ("layers", "a.csv"),
        ("activities", "b.xlsx"),
        ("layers", "c.geojson"),
        ("coverage", "d.html"),
    ):
        target = tmp_path / name
        code = run(
            [
                "share",
                kind,
                "--by",
                "h3:6",
                "--period",
                period,
                "--date",
                "2026-12-01",
                "-o",
                str(target),
                "-w",
                ws,
            ]
        )
        assert code == 0, capsys.readouterr().err
        assert target.stat().st_size > 0
        assert oct(target.stat().st_mode)[-3:] == "600"
    assert "suppressed" in capsys.readouterr().out
    data = json.loads((tmp_path / "c.geojson").read_text(encoding="utf-8"))
    assert all("sites" in f["properties"] for f in data["features"])


def test_share_refuses_what_it_cannot_do(
    ws: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Unknown kinds, levels finer than viewers' and unknown formats are usage errors."""
    assert run(["share", "people", "-o", str(tmp_path / "x.csv"), "-w", ws]) == 2
    assert run(["share", "layers", "--by", "h3:9", "-o", str(tmp_path / "x.csv"), "-w", ws]) == 2
    assert "coarser" in capsys.readouterr().err
    assert run(["share", "layers", "-o", str(tmp_path / "x.pdf"), "-w", ws]) == 2


def test_map_share(ws: str, tmp_path: Path) -> None:
    """``geoplan map share`` writes the shared coverage map."""
    target = tmp_path / "shared.html"
    assert (
        run(["map", "share", "--by", "admin2", "--date", "2026-12-01", "-o", str(target), "-w", ws])
        == 0
    )
    assert "Suppression rule" in target.read_text(encoding="utf-8")


def test_policy_set_show_and_audit(ws: str, capsys: pytest.CaptureFixture[str]) -> None:
    """A policy change shows in ``policy show`` and leaves one entry in ``audit show``; a
    value under the floor is refused."""
    assert run(["policy", "set", "gathering_points", "k", "8", "-w", ws]) == 0
    assert run(["policy", "set", "gathering_points", "m", "2", "-w", ws]) == 2
    capsys.readouterr()
    assert run(["policy", "show", "-w", ws]) == 0
    shown = capsys.readouterr().out
    assert "gathering_points" in shown
    assert " 8 " in shown
    assert run(["audit", "show", "-w", ws]) == 0
    assert capsys.readouterr().out.count("policy_changed") == 1
    assert run(["audit", "show", "--since", "2999-01-01", "-w", ws]) == 0
    assert "policy_changed" not in capsys.readouterr().out


def test_purge_says_how_many(ws: str, capsys: pytest.CaptureFixture[str]) -> None:
    """``geoplan purge`` deletes visits past the retention period and says how many."""
    assert run(["purge", "-w", ws]) == 0
    assert "keeps visits for ever" in capsys.readouterr().out
    assert run(["policy", "set", "outreach_visits", "retention_days", "30", "-w", ws]) == 0
    assert run(["purge", "--date", "2026-12-01", "-w", ws]) == 0
    out = capsys.readouterr().out
    assert "Deleted" in out
    assert int(out.split("Deleted ")[1].split()[0]) > 0


def test_audit_verify_names_the_edited_entry(ws: str, capsys: pytest.CaptureFixture[str]) -> None:
    """``audit verify`` passes, then exits 1 naming entry 2 after it is edited."""
    for k in ("6", "7", "8"):
        assert run(["policy", "set", "detention_centres", "k", k, "-w", ws]) == 0
    assert run(["audit", "verify", "-w", ws]) == 0
    assert "intact: 3 entries" in capsys.readouterr().out
    with sqlite3.connect(ws) as conn:
        conn.execute("UPDATE geoplan_audit_log SET what = 'k = 3' WHERE sequence = 2")
    assert run(["audit", "verify", "-w", ws]) == 1
    assert "broken at entry 2" in capsys.readouterr().err


def test_export_and_keys_are_audited(
    ws: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Exporting gathering points, drawing the layers map and making a key each leave one entry."""
    assert run(["export", "gathering_points", "-o", str(tmp_path / "gp.geojson"), "-w", ws]) == 0
    assert run(["map", "layers", "--no-tiles", "-o", str(tmp_path / "m.html"), "-w", ws]) == 0
    assert run(["keys", "create", "--role", "viewer", "--name", "partner", "-w", ws]) == 0
    capsys.readouterr()
    assert run(["audit", "show", "-w", ws]) == 0
    shown = capsys.readouterr().out
    assert shown.count("export_exact") == 2
    assert shown.count("key_created") == 1
