"""The problem report of a file checked against a layer: every problem at once, each with
file, row, id, field, value, what is wrong and the fix.

Kept apart from the validation (``layers``), the readers (``sources``) and the errors that
carry a report (``errors``), so that none of them imports another in a circle.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, Self

import pandas as pd

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one cell, row or file."""

    rule: str
    message: str
    fix: str
    file: str = ""
    row: int | None = None
    id: str | None = None
    field: str | None = None
    value: str | None = None
    line: int | None = None
    severity: Severity = "error"

    def where(self) -> str:
        """``file row 17 (id GP-017), field people``."""
        parts = [self.file] if self.file else []
        if self.row is not None:
            parts.append(f"row {self.row}" + (f" (line {self.line})" if self.line else ""))
        if self.id:
            parts.append(f"(id {self.id})")
        text = " ".join(parts)
        return f"{text}, field {self.field}" if self.field else text

    def __str__(self) -> str:
        value = f" = {self.value!r}" if self.value is not None else ""
        return f"{self.where()}{value}: {self.message}. Fix: {self.fix}"


@dataclass(frozen=True)
class ValidationReport:
    """Every problem found in one file for one layer.

    ``problems`` may hold only the first of them (by row) when a file had very many; the
    counts (``error_count``, ``warning_count``, ``error_rows``) are then of all of them, and
    :attr:`complete` says whether every problem is listed.
    """

    layer: str
    file: str
    rows: int
    problems: tuple[Problem, ...] = ()
    error_count: int | None = None
    warning_count: int | None = None
    error_rows: tuple[int, ...] | None = None

    @property
    def errors(self) -> tuple[Problem, ...]:
        """Listed problems that stop the import."""
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        """Listed problems worth reading that do not stop the import."""
        return tuple(p for p in self.problems if p.severity == "warning")

    @property
    def n_errors(self) -> int:
        """How many errors were found, listed or not."""
        return len(self.errors) if self.error_count is None else self.error_count

    @property
    def n_warnings(self) -> int:
        """How many warnings were found, listed or not."""
        return len(self.warnings) if self.warning_count is None else self.warning_count

    @property
    def total(self) -> int:
        """How many problems were found, listed or not."""
        return self.n_errors + self.n_warnings

    @property
    def complete(self) -> bool:
        """Whether every problem found is listed."""
        return self.total == len(self.problems)

    @property
    def ok(self) -> bool:
        """Whether the file can be imported."""
        return self.n_errors == 0

    @property
    def bad_rows(self) -> tuple[int, ...]:
        """Record numbers of the rows with at least one error."""
        if self.error_rows is not None:
            return self.error_rows
        return tuple(sorted({p.row for p in self.errors if p.row is not None}))

    @property
    def bad_ids(self) -> tuple[str, ...]:
        """Ids of the rows with at least one listed error, sorted."""
        return tuple(sorted({p.id for p in self.errors if p.id}))

    def headline(self) -> str:
        """One line: what was checked and what was found."""
        if self.n_errors:
            rows = len(self.bad_rows)
            return (
                f"{self.file}: {self.n_errors} problem(s) in {rows} of {self.rows} row(s) for "
                f"layer {self.layer}; nothing was imported"
            )
        return (
            f"{self.file}: {self.rows} row(s) valid for layer {self.layer}, "
            f"{self.n_warnings} warning(s)"
        )

    def summary(self) -> str:
        """The headline, then one line per listed problem."""
        return "\n".join([self.headline(), *(f"  {p}" for p in self.problems)])

    def to_frame(self) -> pd.DataFrame:
        """One row per listed problem: severity, rule, file, row, line, id, field, value,
        message, fix."""
        columns = ["severity", "rule", "file", "row", "line", "id", "field", "value"]
        records = [{c: getattr(p, c) for c in [*columns, "message", "fix"]} for p in self.problems]
        frame = pd.DataFrame.from_records(records, columns=[*columns, "message", "fix"])
        return frame.astype({"row": "Int64", "line": "Int64"})  # 17, never 17.0


class ProblemLog:
    """Problems as validation finds them: every one counted, the first ``keep`` (by row,
    errors before warnings, then as found) kept, so that a file with millions of bad cells
    costs the memory of ``keep`` problems, not of millions."""

    def __init__(self, keep: int | None = None) -> None:
        self._keep = keep
        self._heap: list[tuple[tuple[int, int, int], Problem]] = []
        self._order = itertools.count()
        self._errors = self._warnings = 0
        self._error_rows: set[int] = set()

    def append(self, problem: Problem) -> None:
        """Count a problem, and keep it while it is among the first ``keep``."""
        if problem.severity == "error":
            self._errors += 1
            if problem.row is not None:
                self._error_rows.add(problem.row)
        else:
            self._warnings += 1
        late = (problem.row or 0, problem.severity != "error", next(self._order))
        item = ((-late[0], -late[1], -late[2]), problem)  # a max-heap of the kept ones
        if self._keep is None or len(self._heap) < self._keep:
            heapq.heappush(self._heap, item)
        elif item > self._heap[0]:
            heapq.heapreplace(self._heap, item)

    def __iadd__(self, problems: Iterable[Problem]) -> Self:
        for problem in problems:
            self.append(problem)
        return self

    def report(self, layer: str, file: str, rows: int) -> ValidationReport:
        """The report of what was found: kept problems in order, counts of all."""
        kept = tuple(p for _, p in sorted(self._heap, reverse=True))
        return ValidationReport(
            layer,
            file,
            rows,
            kept,
            error_count=self._errors,
            warning_count=self._warnings,
            error_rows=tuple(sorted(self._error_rows)),
        )
