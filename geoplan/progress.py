"""One progress shape for every stage: what it is doing now, and how far it has got.

A stage that takes a while (writing a layer, building a road network, searching for a plan,
running the demo) takes an optional :class:`Progress` and tells it each step. Displays adapt
it: the command line draws a bar, the API keeps the latest step of a plan job.
"""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """Told the step a stage is at, and how far it has got when the step can be measured.

    ``done`` and ``total`` are in the step's own units (rows written, seconds searched, or a
    fraction of a build with ``total`` 1); ``total`` is ``None`` when the step has no measure.
    """

    def __call__(self, step: str, done: float, total: float | None, /) -> None:
        """Hear about a step: ``done`` of ``total`` (``None`` when not measured)."""
        ...


def tell(progress: Progress | None, step: str, done: float = 0, total: float | None = None) -> None:
    """Tell ``progress``, when there is one, that the stage is at ``step``."""
    if progress is not None:
        progress(step, done, total)


__all__ = ["Progress", "tell"]
