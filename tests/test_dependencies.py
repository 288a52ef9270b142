"""scripts/check-deps: an import that pyproject.toml does not declare fails the check."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import skip_or_fail

REPO = Path(__file__).resolve().parent.parent
TREES = ("geoplan", "api", "tests", "benchmarks")


def _copy_project(target: Path) -> Path:
    """The repository's code and pyproject.toml in a folder of the test's own."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "data")
    for tree in TREES:
        shutil.copytree(REPO / tree, target / tree, ignore=ignore)
    shutil.copy2(REPO / "pyproject.toml", target / "pyproject.toml")
    return target


def _check_deps(project: Path) -> subprocess.CompletedProcess[str]:
    if shutil.which("deptry") is None:
        skip_or_fail("deptry is not on PATH (install the dev extra)")
    return subprocess.run(
        [str(REPO / "scripts" / "check-deps"), str(project)],
        capture_output=True,
        text=True,
        check=False,
    )


def _plain(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)  # deptry colours its report


def test_the_repository_passes(tmp_path: Path) -> None:
    """The code as committed declares every import it makes."""
    result = _check_deps(_copy_project(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("module", "line", "rule"),
    [
        ("geoplan/_scratch.py", "import leaflet_tiles_nowhere\n", "DEP001"),  # not installed
        ("geoplan/_scratch.py", "import yaml\n", "DEP003"),  # only pulled in by schemathesis
        ("tests/test_scratch.py", "import requests\n", "DEP003"),  # likewise, in the tests
        ("geoplan/_scratch.py", "import hypothesis\n", "DEP004"),  # a test tool in the core
        ("api/_scratch.py", "import schemathesis\n", "DEP004"),
    ],
)
def test_an_undeclared_import_fails(tmp_path: Path, module: str, line: str, rule: str) -> None:
    """A module importing a package the core may not rely on makes the check fail, naming it."""
    project = _copy_project(tmp_path)
    (project / module).write_text(line, encoding="utf-8")
    result = _check_deps(project)
    assert result.returncode != 0
    package = line.split()[1]
    assert f"{rule} '{package}'" in _plain(result.stdout + result.stderr)
