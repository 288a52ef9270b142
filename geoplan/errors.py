"""Every error geoplan raises on purpose.

Each concrete error subclasses :class:`GeoplanError` and the builtin it resembles, so that
callers can catch either. Messages name the input, what was expected, what was received and
the fix; the command line prints them as they are, without a traceback.
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path
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


class ImportLimitError(InputFileError):
    """A file over one of the import limits (size, compression ratio, rows, vertices); the
    message names the limit, the value seen and how to raise it."""


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


class PolicyError(ParameterError):
    """A request the protection policy does not allow (finer than viewers may see, ...).

    A well-formed request refused for who asks: 403 in the API, not 422."""


class NetworkError(GeoplanError, RuntimeError):
    """A road network that cannot be built or queried."""


class PlanningError(GeoplanError, RuntimeError):
    """A weekly plan that cannot be built from the inputs given."""


class FormulaError(GeoplanError, ValueError):
    """An indicator formula that does not follow the grammar or names unknown visit fields."""


# --- paths in messages --------------------------------------------------------------------

_VSI_PREFIX = re.compile(r"/vsi[a-z0-9_]+/+", re.IGNORECASE)
"""GDAL's virtual file system prefixes (``/vsizip/``, ``/vsicurl/`` ...)."""
_ABSOLUTE_PATH = re.compile(r"(?<![\w.~-])(?:/[^\s/'\"(),;:<>|*?`]+){2,}/?")
"""Two or more ``/part``s not glued to a word: ``/tmp/x/sites.zip``, ``CSV:/etc/passwd``."""


def without_paths(text: str) -> str:
    """A message with no server path in it: every absolute path (after any GDAL ``/vsi...``
    prefix) is cut to its last part, so ``/vsizip//tmp/geoplan-upload-x/sites.zip/sites.shp``
    reads ``sites.shp``. Folders whose names may hold spaces (the temporary folder, the home
    and Python folders, the current one) are cut first, whole."""
    for folder in _known_folders():
        text = text.replace(folder + "/", "/")
    text = _VSI_PREFIX.sub("/", text)
    return _ABSOLUTE_PATH.sub(lambda m: m.group(0).rstrip("/").rsplit("/", 1)[-1], text)


def _known_folders() -> list[str]:
    folders = {tempfile.gettempdir(), sys.prefix, sys.base_prefix, str(Path.cwd())}
    folders.add(str(Path.home()))
    return sorted((f for f in folders if f.count("/") >= 2), key=len, reverse=True)
