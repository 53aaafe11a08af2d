"""The errors and warnings omnikit raises, all in one place.

Every omnikit error is an :class:`OmnikitError`, which is a :class:`ValueError`, so
``except ValueError`` keeps working for callers that do not know omnikit::

    ValueError
    └── OmnikitError                   any failure omnikit reports
        ├── ReportFormatError          a file is not a report (not JSON, no ``entries``,
        │                              a CSV without ``interaction_id``): names file, line, column
        ├── ReportValidationError      bad cells with ``strict=True`` (field, count, example ids)
        ├── ParameterError             a bad argument or report parameter (name, value, why)
        ├── ReportExecutionError       a notebook failed (notebook, cell, exception, kept output)
        ├── StoreError                 the local store cannot be read or written (full disk,
        │                              a damaged manifest or day file): names the path
        └── ExploreError               the Talkdesk Explore API failed for good
            ├── AuthenticationError    credentials missing or refused (401/403)
            ├── JobFailedError         a report job ended failed, canceled or deleted
            └── ExploreTimeoutError    a job did not finish within the allowed time

    UserWarning
    └── DataQualityWarning             bad cells nulled, statuses not understood, ...

Messages say what was wrong, where (file, line, field, interaction id) and what to do.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

__all__ = [
    "AuthenticationError",
    "DataQualityWarning",
    "ExploreError",
    "ExploreTimeoutError",
    "JobFailedError",
    "OmnikitError",
    "ParameterError",
    "ReportExecutionError",
    "ReportFormatError",
    "ReportValidationError",
    "StoreError",
]


class OmnikitError(ValueError):
    """Base class of every error omnikit raises."""


class ReportFormatError(OmnikitError):
    """A source is not a Customer Omnichannel Report.

    Carries ``path`` and, for JSON, ``line`` and ``column`` (1-based) of the problem.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        where = path or "<data>"
        if line is not None:
            where += f", line {line}"
            if column is not None:
                where += f", column {column}"
        super().__init__(f"{where}: {message}")
        self.path = path
        self.line = line
        self.column = column


class ReportValidationError(OmnikitError):
    """Bad cells were found and ``strict=True`` was asked for.

    ``problems`` maps a field name to ``(count, example_interaction_ids)``.
    """

    def __init__(
        self, message: str, problems: dict[str, tuple[int, list[str]]] | None = None
    ) -> None:
        super().__init__(message)
        self.problems = problems or {}


class ParameterError(OmnikitError):
    """An argument or a report parameter is not acceptable."""


class ReportExecutionError(OmnikitError):
    """A report notebook failed while executing.

    Carries ``notebook`` (name), ``cell`` (index of the failing cell), ``ename`` and
    ``evalue`` (the exception), and ``output_path`` (the partly executed notebook).
    """

    def __init__(
        self,
        message: str,
        *,
        notebook: str | None = None,
        cell: int | None = None,
        ename: str | None = None,
        evalue: str | None = None,
        output_path: str | None = None,
    ) -> None:
        super().__init__(message)
        self.notebook = notebook
        self.cell = cell
        self.ename = ename
        self.evalue = evalue
        self.output_path = output_path


class StoreError(OmnikitError):
    """The local store could not be read or written; carries ``path``, the file at fault.

    The store is left readable: what was written before the failure is still there, and the
    next fetch completes or repairs the rest.
    """

    def __init__(self, message: str, *, path: str | os.PathLike[str] | None = None) -> None:
        super().__init__(message)
        self.path = None if path is None else str(path)


class ExploreError(OmnikitError):
    """The Talkdesk Explore API failed and retrying will not help."""


class AuthenticationError(ExploreError):
    """Credentials are missing, or Talkdesk refused them (401/403)."""


class JobFailedError(ExploreError):
    """A report job ended as ``failed``, ``canceled`` or ``deleted``."""


class ExploreTimeoutError(ExploreError):
    """A report job did not finish within the allowed time."""


class DataQualityWarning(UserWarning):
    """Some cells or rows were not understood; what was done with them is in the message."""


_PACKAGE = str(Path(__file__).resolve().parent)


def warn_data_quality(message: str) -> None:
    """Emit a :class:`DataQualityWarning` attributed to the caller's code, outside omnikit."""
    level, frame = 2, sys._getframe(1)  # stacklevel 2 is the frame that called us
    while frame is not None and str(Path(frame.f_code.co_filename).resolve()).startswith(_PACKAGE):
        level, frame = level + 1, frame.f_back  # type: ignore[assignment]
    warnings.warn(message, DataQualityWarning, stacklevel=level)
