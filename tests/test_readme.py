"""The README's quick start is what CI runs, from the lock, in an environment built from nothing."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

from tests.conftest import skip_or_fail

REPO = Path(__file__).resolve().parent.parent


def _quick_start_commands() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", section)


def _ci_lines() -> list[str]:
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    return [line.strip() for line in ci.splitlines() if line.strip() and not line.startswith("#")]


def test_quick_start_has_exactly_two_commands() -> None:
    """One command installs and runs the demo, one installs and runs the tests."""
    demo, tests = _quick_start_commands()
    assert demo.endswith("geoplan demo")
    assert tests.endswith("scripts/check")
    assert "--extra dev" in tests


def test_quick_start_installs_from_the_lock() -> None:
    """Both commands install the pinned versions of uv.lock and refuse a stale lock."""
    for command in _quick_start_commands():
        words = shlex.split(command.split("&&", 1)[1])
        assert words[:3] == ["uv", "run", "--locked"], command
    assert (REPO / "uv.lock").is_file()


def test_ci_runs_the_readme_test_command() -> None:
    """.ci/run's last step is exactly the README's test command, with strict skips."""
    lines = _ci_lines()
    assert lines[-1] == _quick_start_commands()[1]
    assert "export GEOPLAN_STRICT_SKIPS=1" in lines


def test_ci_builds_its_environment_from_nothing() -> None:
    """.ci/run makes a new virtual environment and a new project environment in a temporary
    folder before the test command, so nothing installed on the machine is visible."""
    lines = _ci_lines()
    before = lines[: lines.index(_quick_start_commands()[1])]
    assert any(line.startswith("scratch=$(mktemp -d") for line in before)
    assert 'python3 -m venv "$scratch/bootstrap"' in before
    assert 'export PATH="$scratch/bootstrap/bin:$PATH"' in before
    assert 'export UV_PROJECT_ENVIRONMENT="$scratch/env"' in before
    assert not any("--system-site-packages" in line for line in before)


def test_lock_matches_pyproject() -> None:
    """uv.lock is up to date with pyproject.toml (``uv lock --check``)."""
    uv = os.environ.get("UV") or shutil.which("uv")
    if uv is None:
        skip_or_fail("uv is not on PATH")
    result = subprocess.run(
        [str(uv), "lock", "--check", "--offline"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
