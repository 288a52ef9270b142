"""The README's quick start is what CI runs."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _quick_start_commands() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", section)


def test_quick_start_has_exactly_two_commands() -> None:
    """One command installs and runs the demo, one installs and runs the tests."""
    demo, tests = _quick_start_commands()
    assert demo.endswith("geoplan demo")
    assert "[dev]" in tests


def test_ci_runs_the_readme_test_command() -> None:
    """.ci/run calls exactly the README's test command, with strict skips."""
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert _quick_start_commands()[1] in ci.splitlines()
    assert "GEOPLAN_STRICT_SKIPS=1" in ci
