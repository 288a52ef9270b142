"""Files made by an attacker: they read no server file, fetch no URL, cost bounded memory and
time, and no answer names a server path (``geoplan.sources``, the upload route, the CLI)."""

from __future__ import annotations

import json
import shutil
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import httpx
import pyogrio
import pytest
import shapely

from api.errors import scrub
from api.models import ImportReport, Problem
from geoplan.cli import run
from geoplan.errors import ImportLimitError, InputFileError
from geoplan.imports import ImportOptions, check_file
from geoplan.report import Problem as ReportProblem
from geoplan.report import ProblemLog
from geoplan.sources import ImportLimits, lock_gdal, read_source
from geoplan.store import open_store
from tests.api_fixtures import (
    TestClient,
    Workspace,
    client_for,
    free_port,
)

GP = "/collections/gathering_points"
VISITS = "/collections/outreach_visits"
MARKER = "MARKER-3f9c1d-SECRET"
MB = 1024 * 1024


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    """A file of the test's own that no answer may show."""
    path = tmp_path / "secret.csv"
    path.write_text(f"id,name,lon,lat\nGP-9,{MARKER},13.2,32.8\n")
    return path


class _Listener(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    hits: list[bytes]


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        assert isinstance(self.server, _Listener)
        self.server.hits.append(self.request.recv(4096))
        self.request.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n{}")


@pytest.fixture
def listener() -> Iterator[_Listener]:
    """A listener on 127.0.0.1 that records every connection made to it."""
    server = _Listener(("127.0.0.1", 0), _Handler)
    server.hits = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _vrt(source: str, layer: str = "secret") -> str:
    return (
        f"<OGRVRTDataSource><OGRVRTLayer name='{layer}'><SrcDataSource>{source}</SrcDataSource>"
        f"<SrcLayer>{layer}</SrcLayer><GeometryType>wkbPoint</GeometryType>"
        "<GeometryField encoding='PointFromColumns' x='lon' y='lat'/></OGRVRTLayer>"
        "</OGRVRTDataSource>"
    )


def _upload(
    client: TestClient, ws: Workspace, name: str, data: bytes, *, role: str = "admin", url: str = GP
) -> httpx.Response:
    files = {"file": (name, data, "application/octet-stream")}
    return client.post(f"{url}/import", files=files, headers=ws.headers(role))


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = run(list(argv))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


# --- hole 1: files that read the server ------------------------------------------------------


def test_gdal_reads_the_vrt_when_nobody_stops_it(secret: Path, tmp_path: Path) -> None:
    """The attack is real: GDAL left to pick the driver reads the test's own file."""
    path = tmp_path / "x.geojson"
    path.write_text(_vrt(f"CSV:{secret}"))
    assert MARKER in pyogrio.read_dataframe(path)["name"].tolist()


@pytest.mark.parametrize(
    "source",
    ["CSV:{secret}", "{secret}", "CSV:/proc/self/cmdline", "CSV:secret.csv", "secret.csv"],
)
def test_a_vrt_saved_as_geojson_is_refused_plainly(
    source: str, secret: Path, ws: Workspace, client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    """A VRT named .geojson (absolute, /proc, relative sources) is refused by the reader, the
    API and the CLI, and the marker is in no answer, output or problem file."""
    path = secret.parent / "x.geojson"
    path.write_text(_vrt(source.format(secret=secret)))
    with pytest.raises(InputFileError, match="the name says GeoJSON but the content is not one"):
        read_source(path)
    for role, url in (("admin", GP), ("planner", VISITS)):
        answer = _upload(client, ws, "x.geojson", path.read_bytes(), role=role, url=url)
        assert answer.status_code == 422
        assert "not one" in Problem.model_validate(answer.json()).detail
        assert MARKER not in answer.text
    report = secret.parent / "problems.csv"
    code, output = _cli(
        capsys, "import", "gathering_points", str(path), "-w", str(ws.path), "--report", str(report)
    )
    assert code == 2
    assert "not one" in output
    assert MARKER not in output
    assert not report.exists() or MARKER not in report.read_text()


@pytest.mark.parametrize("suffix", [".gpkg", ".fgb", ".shp", ".json"])
def test_a_vrt_under_any_vector_suffix_is_refused(
    suffix: str, secret: Path, tmp_path: Path
) -> None:
    """Every vector kind checks its signature: a VRT is none of them."""
    path = tmp_path / f"x{suffix}"
    path.write_text(_vrt(f"CSV:{secret}"))
    with pytest.raises(InputFileError, match="content is not one"):
        read_source(path)


def test_a_zip_opens_only_a_shapefile(secret: Path, tmp_path: Path) -> None:
    """A zip holding a VRT (as itself, or named .shp) is refused; GDAL never picks a driver."""
    for member in ("x.vrt", "x.shp"):
        path = tmp_path / f"{member}.zip"
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr(member, _vrt(f"CSV:{secret}"))
        with pytest.raises(InputFileError) as caught:
            read_source(path)
        assert MARKER not in str(caught.value)
        assert "no Shapefile" in str(caught.value) or "not one" in str(caught.value)


def test_a_sqlite_signature_under_a_geojson_name_is_refused(tmp_path: Path) -> None:
    """The suffix and the first bytes must agree both ways: a GeoPackage named .geojson."""
    gdf = gpd.GeoDataFrame({"id": ["A"]}, geometry=[shapely.Point(13, 32)], crs=4326)
    gdf.to_file(tmp_path / "real.gpkg")
    shutil.copyfile(tmp_path / "real.gpkg", tmp_path / "fake.geojson")
    with pytest.raises(InputFileError, match="SQLite"):
        read_source(tmp_path / "fake.geojson")


# --- hole 1: files that make the server fetch URLs --------------------------------------------


def test_vsicurl_in_a_file_reaches_no_listener(
    listener: _Listener, ws: Workspace, client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    """/vsicurl/ inside an upload (API and `geoplan import`) makes no request to 127.0.0.1."""
    url = f"/vsicurl/http://127.0.0.1:{listener.server_address[1]}/sites.csv"
    folder = ws.path.parent
    (folder / "curl.geojson").write_text(_vrt(url, "sites"))
    answer = _upload(client, ws, "curl.geojson", (folder / "curl.geojson").read_bytes())
    assert answer.status_code == 422
    code, _ = _cli(
        capsys, "import", "gathering_points", str(folder / "curl.geojson"), "-w", str(ws.path)
    )
    assert code == 2
    assert listener.hits == []


def test_a_geojson_crs_link_is_refused_before_gdal_fetches_it(
    listener: _Listener, ws: Workspace, client: TestClient, tmp_path: Path
) -> None:
    """A genuine GeoJSON whose crs links to a URL (GDAL would fetch it) is refused, unfetched."""
    href = f"http://127.0.0.1:{listener.server_address[1]}/crs.wkt"
    doc = {
        "type": "FeatureCollection",
        "crs": {"type": "link", "properties": {"href": href, "type": "ogcwkt"}},
        "features": [
            {
                "type": "Feature",
                "properties": {"id": "GP-7", "name": "A", "setting": "camp"},
                "geometry": {"type": "Point", "coordinates": [13.2, 32.8], "crs": None},
            }
        ],
    }
    path = tmp_path / "linked.geojson"
    path.write_text(json.dumps(doc))
    with pytest.raises(InputFileError, match="crs is not a plain name"):
        read_source(path)
    answer = _upload(client, ws, "linked.geojson", path.read_bytes())
    assert answer.status_code == 422
    assert listener.hits == []


def test_gdal_itself_opens_no_url_once_locked(listener: _Listener) -> None:
    """Behind the checks, GDAL's own settings stop /vsicurl/ and GDAL's HTTP requests."""
    lock_gdal()
    port = listener.server_address[1]
    for target in (
        f"/vsicurl/http://127.0.0.1:{port}/x.geojson",
        f"GeoJSON:http://127.0.0.1:{port}/x",
    ):
        with pytest.raises(pyogrio.errors.DataSourceError):
            pyogrio.read_info(target)
    assert listener.hits == []


# --- hole 3: bombs ---------------------------------------------------------------------------


def _shapefile_parts(folder: Path) -> dict[str, bytes]:
    gdf = gpd.GeoDataFrame(
        {"id": ["GP-8"], "name": ["Bomb"], "setting": ["camp"]},
        geometry=[shapely.Point(13.2, 32.8)],
        crs=4326,
    )
    gdf.to_file(folder / "sites.shp")
    return {p.name: p.read_bytes() for p in folder.glob("sites.*")}


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A zipped Shapefile of about 300 kB whose .dbf expands to 300 MB."""
    folder = tmp_path_factory.mktemp("bomb")
    path = folder / "bomb.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, data in _shapefile_parts(folder).items():
            if not name.endswith(".dbf"):
                archive.writestr(name, data)
        with archive.open("sites.dbf", "w", force_zip64=True) as dbf:
            block = b" " * MB
            for _ in range(300):
                dbf.write(block)
    assert path.stat().st_size < 2 * MB
    return path


def test_a_zip_bomb_is_refused_in_the_reader_at_once(bomb: Path) -> None:
    """The declared sizes refuse the bomb before anything is unpacked, naming the limit."""
    started = time.perf_counter()
    with pytest.raises(ImportLimitError, match="max_bytes") as caught:
        read_source(bomb)
    assert time.perf_counter() - started < 2
    assert "GEOPLAN_IMPORT_MAX_BYTES" in str(caught.value)
    ratio = ImportLimits(max_bytes=400 * MB, max_ratio=100)
    with pytest.raises(ImportLimitError, match=r"compression ratio .* max_ratio"):
        read_source(bomb, limits=ratio)


def _peak_rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    line = next(row for row in status.splitlines() if row.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def _serve(ws: Workspace, port: int) -> subprocess.Popen[bytes]:
    script = shutil.which("geoplan")
    command = [script] if script else [sys.executable, "-m", "geoplan"]
    args = ["serve", "--workspace", str(ws.path), "--host", "127.0.0.1", "--port", str(port)]
    return subprocess.Popen([*command, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_a_zip_bomb_is_refused_by_the_server_fast_and_small(bomb: Path, ws: Workspace) -> None:
    """`geoplan serve` refuses the bomb (413) in under 2 s, its peak memory under 500 MB."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = _serve(ws, port)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, "geoplan serve exited"
            try:
                httpx.get(f"{url}/health", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "geoplan serve did not start"
                time.sleep(0.2)
        files = {"file": ("bomb.zip", bomb.read_bytes(), "application/zip")}
        started = time.perf_counter()
        answer = httpx.post(
            f"{url}{GP}/import", files=files, headers=ws.headers("admin"), timeout=60
        )
        took = time.perf_counter() - started
        peak = _peak_rss_mb(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=30)
    print(f"zip bomb refused by geoplan serve in {took:.3f} s, server peak RSS {peak:.0f} MB")
    assert answer.status_code == 413
    assert "max_bytes" in answer.json()["detail"]
    assert took < 2
    assert peak < 500


_MEASURED_CLI = """
import sys
from pathlib import Path
from geoplan.cli import run
code = run(sys.argv[1:])
status = Path("/proc/self/status").read_text()
peak = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
print("peak", peak.split()[1], file=sys.stderr)
sys.exit(code)
"""
"""`geoplan import` in a process of its own that reports its peak RSS as it ends (VmHWM is
this process's own; getrusage would count the test's memory, shared until exec)."""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_geoplan_import_refuses_the_bomb_with_little_memory(bomb: Path, tmp_path: Path) -> None:
    """`geoplan import` in its own process refuses the bomb, exit 2, peak RSS under 500 MB."""
    ws = str(tmp_path / "ws.gpkg")
    done = subprocess.run(
        [sys.executable, "-c", _MEASURED_CLI, "import", "gathering_points", str(bomb), "-w", ws],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    peak = int(done.stderr.rsplit("peak", 1)[1]) / 1024
    print(f"geoplan import refused the bomb; its peak RSS {peak:.0f} MB")
    assert done.returncode == 2
    assert "max_bytes" in done.stderr
    assert peak < 500


# --- limits on rows, vertices and problems ---------------------------------------------------


def _points(n: int) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id": [f"GP-{i}" for i in range(n)], "name": ["x"] * n, "setting": ["camp"] * n},
        geometry=[shapely.Point(13.2, 32.8)] * n,
        crs=4326,
    )


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg", ".fgb", ".csv"])
def test_rows_over_the_limit_are_refused_naming_it(suffix: str, tmp_path: Path) -> None:
    """Five rows with max_rows 4: refused, naming max_rows and how to raise it."""
    path = tmp_path / f"five{suffix}"
    if suffix == ".csv":
        path.write_text("id,lon,lat\n" + "".join(f"GP-{i},13.2,32.8\n" for i in range(5)))
    else:
        _points(5).to_file(path)
    with pytest.raises(
        ImportLimitError, match=r"max_rows = 4; .*\[imports\].*GEOPLAN_IMPORT_MAX_ROWS"
    ):
        read_source(path, limits=ImportLimits(max_rows=4))
    assert len(read_source(path, limits=ImportLimits(max_rows=5)).frame) == 5


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg"])
def test_vertices_over_the_limits_are_refused_naming_them(suffix: str, tmp_path: Path) -> None:
    """A 41-vertex line over max_vertices 40; three of them over max_total_vertices 100."""
    line = shapely.LineString([(13 + i / 100, 32.8) for i in range(41)])
    gdf = gpd.GeoDataFrame({"id": ["A", "B", "C"]}, geometry=[line] * 3, crs=4326)
    path = tmp_path / f"lines{suffix}"
    gdf.to_file(path)
    with pytest.raises(
        ImportLimitError, match=r"row 1: vertices in one geometry 41 .* max_vertices = 40"
    ):
        read_source(path, limits=ImportLimits(max_vertices=40))
    with pytest.raises(ImportLimitError, match=r"max_total_vertices = 100"):
        read_source(path, limits=ImportLimits(max_total_vertices=100))


def test_a_zipped_shapefile_over_the_row_limit_is_refused(tmp_path: Path) -> None:
    """The Shapefile's declared feature count is checked before its rows are read."""
    _points(3).to_file(tmp_path / "pts.shp")
    path = tmp_path / "pts.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for part in tmp_path.glob("pts.*"):
            if part.suffix != ".zip":
                archive.write(part, part.name)
    with pytest.raises(ImportLimitError, match="rows 3 is over the import limit max_rows = 2"):
        read_source(path, limits=ImportLimits(max_rows=2))
    assert len(read_source(path).frame) == 3


def test_the_problem_log_keeps_the_first_and_counts_all() -> None:
    """Kept: the first N by row (errors first); counted: every one, with the rows in error."""
    log = ProblemLog(3)
    for row in (5, 1, 4, 2, 3):
        log.append(ReportProblem("r", "m", "f", row=row))
    log.append(ReportProblem("w", "m", "f", row=1, severity="warning"))
    report = log.report("gathering_points", "x.csv", 5)
    assert [p.row for p in report.problems] == [1, 1, 2]
    assert report.problems[1].severity == "warning"
    assert (report.n_errors, report.n_warnings, report.total) == (5, 1, 6)
    assert report.bad_rows == (1, 2, 3, 4, 5)
    assert not report.complete


def test_an_upload_lists_the_first_problems_and_their_total(ws: Workspace, tmp_path: Path) -> None:
    """With import_max_problems 3, the answer lists 3 problems and the total; ?report=csv
    gives them all as a file."""
    client = client_for(ws, import_max_problems=3)
    rows = "".join(f"GP-{i},Bad,palace,13.2,132.8\n" for i in range(10))
    data = f"id,name,setting,lon,lat\n{rows}".encode()
    answer = _upload(client, ws, "bad.csv", data)
    problem = Problem.model_validate(answer.json())
    assert answer.status_code == 422
    assert problem.problems is not None
    assert len(problem.problems) == 3
    assert problem.problems_total is not None
    assert problem.problems_total >= 20
    files = {"file": ("bad.csv", data, "text/csv")}
    as_file = client.post(f"{GP}/import?report=csv", files=files, headers=ws.headers("admin"))
    assert as_file.status_code == 422
    assert as_file.headers["content-type"].startswith("text/csv")
    assert len(as_file.text.strip().splitlines()) == problem.problems_total + 1
    formula = b"id,name,setting,lon,lat\nGP-1,x,=HYPERLINK(1),13.2,32.8\n"
    files = {"file": ("f.csv", formula, "text/csv")}
    as_file = client.post(f"{GP}/import?report=csv", files=files, headers=ws.headers("admin"))
    assert "'=HYPERLINK(1)" in as_file.text
    ok = _upload(client, ws, "ok.csv", b"id,name,setting,lon,lat\nGP-7,Ok,camp,13.2,32.8\n")
    assert ImportReport.model_validate(ok.json()).problems_total == len(ok.json()["problems"])


def test_validation_keeps_only_max_report_problems(ws: Workspace, tmp_path: Path) -> None:
    """A file with many bad cells keeps max_report_problems of them and counts the rest."""
    path = tmp_path / "bad.csv"
    path.write_text("id,name,setting,lon,lat\n" + "GP-1,,palace,13.2,132.8\n" * 50)
    options = ImportOptions(limits=ImportLimits(max_report_problems=10))
    _, report, _ = check_file(path, "gathering_points", store=open_store(ws.path), options=options)
    assert len(report.problems) == 10
    assert report.total > 100
    assert len(report.bad_rows) == 50
    assert "50 of 50 row(s)" in report.headline()


def test_limits_are_settable_from_a_params_file(
    tmp_path: Path, ws: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    """`geoplan import --params` with [imports] max_rows = 1 refuses a two-row file."""
    params = tmp_path / "limits.toml"
    params.write_text("[imports]\nmax_rows = 1\n")
    path = tmp_path / "two.csv"
    path.write_text("id,name,setting,lon,lat\nGP-7,A,camp,13.2,32.8\nGP-8,B,camp,13.2,32.8\n")
    code, output = _cli(
        capsys, "import", "gathering_points", str(path), "-w", str(ws.path), "--params", str(params)
    )
    assert code == 2
    assert "max_rows = 1" in output


def test_the_api_limits_are_settings(ws: Workspace) -> None:
    """GEOPLAN_IMPORT_MAX_ROWS and _MAX_BYTES (here as settings) refuse uploads with 413."""
    client = client_for(ws, import_max_rows=1)
    data = b"id,name,setting,lon,lat\nGP-7,A,camp,13.2,32.8\nGP-8,B,camp,13.2,32.8\n"
    answer = _upload(client, ws, "two.csv", data)
    assert answer.status_code == 413
    assert "GEOPLAN_IMPORT_MAX_ROWS" in Problem.model_validate(answer.json()).detail
    small = client_for(ws, import_max_bytes=50)
    answer = _upload(small, ws, "two.csv", data)
    assert answer.status_code == 413
    assert "max_bytes" in answer.json()["detail"]


# --- encodings and paths ---------------------------------------------------------------------


def test_non_utf8_geojson_is_a_422_naming_the_encoding(
    ws: Workspace, client: TestClient, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Latin-1 bytes in a GeoJSON: 422 (not 500) saying it is not UTF-8; the CLI exits 2."""
    doc = (
        '{"type":"FeatureCollection","features":[{"type":"Feature","properties":'
        '{"id":"GP-7","name":"Caf\xe9","setting":"camp"},'
        '"geometry":{"type":"Point","coordinates":[13.2,32.8]}}]}'
    )
    data = doc.encode("latin-1")
    answer = _upload(client, ws, "latin1.geojson", data)
    assert answer.status_code == 422
    detail = Problem.model_validate(answer.json()).detail
    assert "not UTF-8" in detail
    assert "0xe9" in detail
    path = tmp_path / "latin1.geojson"
    path.write_bytes(data)
    code, output = _cli(capsys, "import", "gathering_points", str(path), "-w", str(ws.path))
    assert (code, "not UTF-8" in output) == (2, True)
    utf16 = _upload(client, ws, "utf16.geojson", doc.encode("utf-16"))
    assert utf16.status_code == 422
    assert "not UTF-8" in utf16.json()["detail"]


def test_the_scrubber_cuts_vsizip_and_absolute_paths() -> None:
    """/vsizip/ paths into the temporary folder, /proc and Python paths keep only their name."""
    temp = tempfile.gettempdir()
    text = (
        f"sites.zip: not readable (/vsizip/{temp}/geoplan-upload-k2j/sites.zip/sites.shp: failed); "
        "CSV:/proc/self/cmdline; /usr/lib/python3.11/site-packages/pyogrio/raw.py line 3; "
        "lon/lat 2024-03-01/2024-03-31"
    )
    clean = scrub(text)
    for leak in (temp, "vsizip", "geoplan-upload", "/proc", "site-packages", "/usr"):
        assert leak not in clean
    assert "sites.shp: failed" in clean
    assert "lon/lat 2024-03-01/2024-03-31" in clean


def test_no_answer_names_the_upload_folder(ws: Workspace, client: TestClient) -> None:
    """A broken GeoPackage and a broken zip: GDAL's and zipfile's messages reach no path."""
    for name, data in (
        ("broken.gpkg", b"SQLite format 3\x00" + b"\x01" * 200),
        ("broken.zip", b"PK\x03\x04" + b"\x00" * 100),
        ("broken.fgb", b"fgb\x03fgb\x00" + b"\x00" * 100),
    ):
        answer = _upload(client, ws, name, data)
        assert answer.status_code == 422, answer.text
        for leak in ("geoplan-upload", "vsizip", "/vsi", tempfile.gettempdir()):
            assert leak not in answer.text
        assert name in answer.json()["detail"]


def test_an_honest_zipped_shapefile_still_imports(
    ws: Workspace, client: TestClient, tmp_path: Path
) -> None:
    """A zipped Shapefile in a folder inside the archive, with extra members, imports."""
    gdf = _points(2)
    gdf["id"] = ["GP-7", "GP-8"]
    gdf.to_file(tmp_path / "sites.shp")
    path = tmp_path / "sites.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for part in tmp_path.glob("sites.*"):
            if part.suffix != ".zip":
                archive.write(part, f"export/{part.name}")
        archive.writestr("export/readme.txt", "made in QGIS")
    answer = _upload(client, ws, "sites.zip", path.read_bytes())
    assert answer.status_code == 200, answer.text
    assert ImportReport.model_validate(answer.json()).rows == 2
