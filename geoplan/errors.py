"""Every error geoplan raises on purpose.

Each concrete error subclasses :class:`GeoplanError` and the builtin it resembles, so that
callers can catch either. Messages name the input, what was expected, what was received and
the fix; the command line prints them as they are, without a traceback.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from geoplan.report import ValidationReport


class GeoplanError(Exception):
    """Base class of every error geoplan raises on purpose."""


class CatalogError(GeoplanError, ValueError):
    """A layer definition in ``layers/`` is malformed."""


class UnknownLayerError(GeoplanError, KeyError):
    """A layer name that the catalog does not define."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown layer"


class InputFileError(GeoplanError, OSError):
    """A file that cannot be read as a layer (missing, unsupported or corrupt)."""


class MappingError(GeoplanError, ValueError):
    """A column mapping that names unknown fields or columns."""


class LayerValidationError(GeoplanError, ValueError):
    """Rows that break the layer's rules; ``report`` lists every problem."""

    def __init__(self, report: ValidationReport) -> None:
        self.report = report
        super().__init__(report.headline())


class StoreError(GeoplanError, RuntimeError):
    """The workspace store cannot complete an operation."""


class DiskFullError(GeoplanError, OSError):
    """The disk (or the user's quota) is full: geoplan cannot write until space is freed."""


class ConflictError(GeoplanError, RuntimeError):
    """A write based on a stale version of a row (optimistic concurrency)."""


class AlreadyExistsError(ConflictError):
    """A new row whose id is already taken."""


class NotFoundError(GeoplanError, LookupError):
    """A row, plan or object that does not exist."""


class ParameterError(GeoplanError, ValueError):
    """A planning, matrix or coverage parameter outside its allowed range."""


class NetworkError(GeoplanError, RuntimeError):
    """A road network that cannot be built or queried."""


class PlanningError(GeoplanError, RuntimeError):
    """A weekly plan that cannot be built from the inputs given."""


class FormulaError(GeoplanError, ValueError):
    """An indicator formula that does not follow the grammar or names unknown visit fields."""
