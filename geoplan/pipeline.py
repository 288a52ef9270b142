"""The demo pipeline: a fresh demo workspace, then every stage geoplan has, in order.

Each stage is a small function that takes the run so far and adds what it made (summary lines
and output files), so a new stage is one function and one entry in :data:`STAGES`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from geoplan.store import GeoPackageStore, open_store

Step = Callable[[str], None]


@dataclass(frozen=True)
class DemoOptions:
    """What the demo builds: the seed and size of the synthetic scenario, and optional roads."""

    seed: int = 7
    sites: int | None = None
    visits: int | None = None
    roads: Path | None = None
    today: dt.date | None = None
    time_limit: float = 10.0


@dataclass
class DemoRun:
    """What the demo made so far: summary lines and output files by name."""

    out_dir: Path
    options: DemoOptions
    lines: list[str] = field(default_factory=list)
    outputs: dict[str, Path] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)
    """What a stage made for later stages: ``"matrix"``, ``"plan"``, ``"coverage"``."""

    @property
    def workspace(self) -> Path:
        """The demo workspace file."""
        return self.out_dir / "geoplan.gpkg"

    @property
    def store(self) -> GeoPackageStore:
        """The demo workspace's store."""
        return open_store(self.workspace)

    @property
    def today(self) -> dt.date:
        """The date the demo treats as today."""
        return self.options.today or dt.date.today()

    def summary(self) -> str:
        """Everything the stages reported, then where the outputs are."""
        lines = [*self.lines, "", "Outputs:"]
        lines += [f"  {name:<22} {path}" for name, path in self.outputs.items()]
        return "\n".join(lines)


def run_demo(
    out_dir: Path, *, options: DemoOptions | None = None, step: Step | None = None
) -> DemoRun:
    """Build the demo workspace in ``out_dir`` and run every stage on it.

    ``step`` is told the name of each stage as it starts (for a progress display).
    """
    run = DemoRun(out_dir=out_dir, options=options or DemoOptions())
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, stage in STAGES:
        if step is not None:
            step(name)
        stage(run)
    return run


def _build_workspace(run: DemoRun) -> None:
    from geoplan.demo import build_demo_workspace  # noqa: PLC0415  (heavy; only for the demo)

    options = run.options
    results = build_demo_workspace(
        run.workspace,
        seed=options.seed,
        sites=options.sites,
        visits=options.visits,
        today=run.today,
    )
    run.lines.append(f"Demo workspace for western Libya (seed {options.seed}, synthetic data):")
    run.lines += [f"  {name:<18} {result.added:>7} rows" for name, result in results.items()]
    run.outputs["workspace"] = run.workspace


STAGES: list[tuple[str, Callable[[DemoRun], None]]] = [
    ("Building the demo workspace", _build_workspace),
]
