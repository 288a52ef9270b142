"""One parameter file, read once: each of its tables becomes the frozen dataclass of its stage.

:func:`load_params` reads a TOML file such as ``examples/planning.toml`` and returns
:class:`Params`. Each table belongs to the code that uses it, which keeps its parameters and
their checks (``__post_init__``):

=================== ================================================== ==========================
table               parameters                                         used by
=================== ================================================== ==========================
``[straight_line]`` :class:`~geoplan.travel.matrix.StraightLineParams` the straight-line backend
``[road_network]``  :class:`~geoplan.travel.roads.NetworkParams`       the road-network backend
``[coverage]``      :class:`~geoplan.coverage.CoverageParams`          coverage gaps
``[planning]``      :class:`~geoplan.planning.PlanningParams`          the week's plan
``[solver]``        :class:`~geoplan.solver.SolverParams`              the search, as planning runs it
``[imports]``       :class:`~geoplan.sources.ImportLimits`             what reading a file may cost
=================== ================================================== ==========================

A missing table or key keeps its default. An unknown table or key, or a value of the wrong
kind, is an error naming the file, the table and the key (with the nearest known name); a
value out of range is the dataclass's own error, prefixed with the file and the table.
"""

from __future__ import annotations

import dataclasses
import difflib
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from geoplan.coverage import CoverageParams
from geoplan.errors import InputFileError, ParameterError
from geoplan.planning import PlanningParams
from geoplan.solver import SolverParams
from geoplan.sources import ImportLimits
from geoplan.travel.matrix import StraightLineParams
from geoplan.travel.roads import NetworkParams

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

P = TypeVar("P", bound="DataclassInstance")


@dataclass(frozen=True)
class Params:
    """Every parameter a run can take from a file, by table; defaults for what it leaves out.

    The ``[solver]`` table travels inside :attr:`planning` (as
    :attr:`PlanningParams.solver <geoplan.planning.PlanningParams.solver>`), since the search
    runs as part of planning; :attr:`solver` reads it from there.
    """

    straight_line: StraightLineParams = field(default_factory=StraightLineParams)
    road_network: NetworkParams = field(default_factory=NetworkParams)
    coverage: CoverageParams = field(default_factory=CoverageParams)
    planning: PlanningParams = field(default_factory=PlanningParams)
    imports: ImportLimits = field(default_factory=ImportLimits)

    @property
    def solver(self) -> SolverParams:
        """The ``[solver]`` table: how the planner's search runs."""
        return self.planning.solver


TABLES: Mapping[str, type] = {
    "straight_line": StraightLineParams,
    "road_network": NetworkParams,
    "coverage": CoverageParams,
    "planning": PlanningParams,
    "solver": SolverParams,
    "imports": ImportLimits,
}
"""The tables a parameter file may hold, and the dataclass each becomes."""


def load_params(path: Path) -> Params:
    """Read every table of a TOML parameter file; missing tables and keys keep their defaults.

    Raises
    ------
    InputFileError
        When the file is missing or is not valid TOML, saying where.
    ParameterError
        When a table or key is unknown (naming the nearest known one), or a value is of the
        wrong kind or out of range; the message names the file and the table.
    """
    tables = _tables(path, _read(path))

    def table(cls: type[P], name: str, *, exclude: Iterable[str] = ()) -> P:
        return from_table(cls, tables.get(name, {}), path=path, name=name, exclude=exclude)

    planning = table(PlanningParams, "planning", exclude=("solver",))
    return Params(
        straight_line=table(StraightLineParams, "straight_line"),
        road_network=table(NetworkParams, "road_network"),
        coverage=table(CoverageParams, "coverage"),
        planning=replace(planning, solver=table(SolverParams, "solver")),
        imports=table(ImportLimits, "imports"),
    )


def from_table(
    cls: type[P],
    table: Mapping[str, object],
    *,
    path: Path,
    name: str,
    exclude: Iterable[str] = (),
) -> P:
    """A parameter dataclass from one TOML table; keys the table leaves out keep their defaults.

    The defaults say what a key may hold: a number where the default is one, a list for a
    tuple, a sub-table for nested parameters (``[planning.priority]``) or for a mapping, whose
    entries are added to the default ones (``[road_network.speeds_kmh]``).

    Parameters
    ----------
    cls
        A frozen parameter dataclass whose every field has a default.
    table
        The table's keys and values, as :mod:`tomllib` read them.
    path, name
        The file and the table's dotted name, for messages.
    exclude
        Fields the table may not set (another table sets them).

    Raises
    ------
    ParameterError
        When a key is unknown, or a value is of the wrong kind or out of range.
    """
    where = f"{path} [{name}]"
    skip = set(exclude)
    known = [f.name for f in dataclasses.fields(cls) if f.name not in skip]
    _check_names(table, known, where=f"{where}: unknown keys", known_as="{}")
    defaults = cls()
    values = {
        key: _value(getattr(defaults, key), table, key, path=path, name=name) for key in table
    }
    try:
        return cls(**values)
    except ParameterError as exc:
        raise ParameterError(f"{where}: {exc}") from None


def _value(default: object, table: Mapping[str, Any], key: str, *, path: Path, name: str) -> object:
    """A table's value for ``key``, shaped like its default; an error if it cannot be."""
    value = table[key]
    expected = _expected(default, value)
    if expected:
        raise ParameterError(f"{path} [{name}]: {key}: expected {expected}, got {value!r}.")
    if dataclasses.is_dataclass(default) and not isinstance(default, type):
        return from_table(type(default), value, path=path, name=f"{name}.{key}")
    if isinstance(default, Mapping):
        return {**default, **value}
    if isinstance(default, tuple):
        return tuple(value)
    return value


def _expected(default: object, value: object) -> str | None:
    """What ``value`` should have been, judged by the default; ``None`` when it fits."""
    if isinstance(default, bool):
        return None if isinstance(value, bool) else "true or false"
    if isinstance(default, int | float):
        number = isinstance(value, int | float) and not isinstance(value, bool)
        return None if number else "a number"
    if isinstance(default, Mapping) or dataclasses.is_dataclass(default):
        return None if isinstance(value, dict) else "a table (key = value, ...)"
    if isinstance(default, tuple):
        return None if isinstance(value, list) else "a list [..., ...]"
    return None


def _read(path: Path) -> dict[str, Any]:
    """A parameter file's content.

    Raises
    ------
    InputFileError
        When the file is missing or is not valid TOML, saying where.
    """
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        msg = f"{path}: cannot read parameters as TOML ({exc}); fix the file or remove it."
        raise InputFileError(msg) from exc


def _tables(path: Path, data: Mapping[str, object]) -> dict[str, dict[str, object]]:
    """The file's tables, once every top-level name is known to be one of :data:`TABLES`."""
    loose = [key for key, value in data.items() if not isinstance(value, dict)]
    if loose:
        msg = (
            f"{path}: {', '.join(loose)} outside any table; put each key under the table it "
            f"belongs to: {', '.join(f'[{t}]' for t in TABLES)}."
        )
        raise ParameterError(msg)
    _check_names(data, list(TABLES), where=f"{path}: unknown tables", known_as="[{}]")
    return {key: value for key, value in data.items() if isinstance(value, dict)}


def _check_names(given: Iterable[str], known: list[str], *, where: str, known_as: str) -> None:
    """Raise :class:`ParameterError` listing every unknown name, each with the nearest known."""
    unknown = [n for n in given if n not in known]
    if not unknown:
        return
    listing = ", ".join(_with_guess(n, known, known_as) for n in unknown)
    expected = ", ".join(known_as.format(k) for k in known)
    raise ParameterError(f"{where} {listing}; expected some of {expected}.")


def _with_guess(name: str, known: list[str], known_as: str) -> str:
    guess = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    shown = known_as.format(name)
    return f"{shown} (did you mean {known_as.format(guess[0])}?)" if guess else shown


__all__ = ["TABLES", "Params", "from_table", "load_params"]
