"""Headline numbers recorded in an executed notebook, and read back.

:func:`record_results` (inside a report notebook) adds an output with omnikit's results mime
type, shown in JupyterLab and nbconvert as one line of plain text ("omnikit results: ...") and
left out of the HTML export; :func:`read_results` reads them
back, so tests and other programs compare a report's numbers with direct calls.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import polars as pl

if TYPE_CHECKING:  # nbformat imports jsonschema: slow, so only where needed
    import nbformat

__all__ = ["read_results", "record_results"]


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, pl.DataFrame):
        return _jsonable(value.to_dicts())
    if isinstance(value, (dt.date, dt.datetime, dt.timedelta)):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if hasattr(value, "item"):  # numpy scalars
        return _jsonable(value.item())
    return str(value)


def record_results(**values: Any) -> None:
    """Record headline numbers in the executed notebook, for tests and for other programs.

    Each call adds one output with the mime type ``application/vnd.omnikit.results+json``
    (JSON: frames become lists of rows, dates ISO text) and a one-line ``text/plain`` naming
    the values, so JupyterLab and nbconvert show a line rather than warn; the HTML export
    leaves it out. :func:`read_results` reads them back.

    Examples
    --------
    >>> import omnikit as ok
    >>> ok.record_results(interactions=1234, service_level=0.81)  # doctest: +SKIP
    """
    from IPython.display import display

    from ._export import results_output

    display(results_output(_jsonable(values)), raw=True)


def read_results(notebook: str | os.PathLike[str] | nbformat.NotebookNode) -> dict[str, Any]:
    """Read the numbers a report recorded with :func:`record_results` (later values win).

    Examples
    --------
    >>> import omnikit as ok
    >>> ok.read_results("reports/weekly_report.ipynb")["interactions"]  # doctest: +SKIP
    20000
    """
    import nbformat

    from ._export import RESULTS_MIMETYPE

    nb = (
        notebook
        if isinstance(notebook, nbformat.NotebookNode)
        else nbformat.read(notebook, as_version=4)
    )
    results: dict[str, Any] = {}
    for cell in nb.cells:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            data = output.get("data", {})
            if RESULTS_MIMETYPE in data:
                recorded = data[RESULTS_MIMETYPE]
                results.update(json.loads(recorded) if isinstance(recorded, str) else recorded)
    return results
