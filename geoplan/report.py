"""The problem report of a file checked against a layer: every problem at once, each with
file, row, id, field, value, what is wrong and the fix.

Kept apart from the validation (``layers``), the readers (``sources``) and the errors that
carry a report (``errors``), so that none of them imports another in a circle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

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
    """Every problem found in one file for one layer."""

    layer: str
    file: str
    rows: int
    problems: tuple[Problem, ...] = ()

    @property
    def errors(self) -> tuple[Problem, ...]:
        """Problems that stop the import."""
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        """Problems worth reading that do not stop the import."""
        return tuple(p for p in self.problems if p.severity == "warning")

    @property
    def ok(self) -> bool:
        """Whether the file can be imported."""
        return not self.errors

    @property
    def bad_rows(self) -> tuple[int, ...]:
        """Record numbers of the rows with at least one error."""
        return tuple(sorted({p.row for p in self.errors if p.row is not None}))

    @property
    def bad_ids(self) -> tuple[str, ...]:
        """Ids of the rows with at least one error, sorted."""
        return tuple(sorted({p.id for p in self.errors if p.id}))

    def headline(self) -> str:
        """One line: what was checked and what was found."""
        n_err, n_warn = len(self.errors), len(self.warnings)
        if n_err:
            rows = len(self.bad_rows)
            return (
                f"{self.file}: {n_err} problem(s) in {rows} of {self.rows} row(s) for layer "
                f"{self.layer}; nothing was imported"
            )
        return f"{self.file}: {self.rows} row(s) valid for layer {self.layer}, {n_warn} warning(s)"

    def summary(self) -> str:
        """The headline, then one line per problem."""
        return "\n".join([self.headline(), *(f"  {p}" for p in self.problems)])

    def to_frame(self) -> pd.DataFrame:
        """One row per problem: severity, rule, file, row, line, id, field, value, message, fix."""
        columns = ["severity", "rule", "file", "row", "line", "id", "field", "value"]
        records = [{c: getattr(p, c) for c in [*columns, "message", "fix"]} for p in self.problems]
        return pd.DataFrame.from_records(records, columns=[*columns, "message", "fix"])
