"""Rendering a report: run its notebook with papermill, then export offline HTML.

:func:`render_report` checks the parameters against the notebook's ``parameters`` cell
(:mod:`omnikit._parameters`) *before* a kernel starts, runs the notebook with omnikit's
papermill engine (:mod:`omnikit._engine`), and writes ``OUT/NAME.ipynb`` (executed) and
``OUT/NAME.html`` (see :func:`omnikit.export_html`).
"""

from __future__ import annotations

import sys
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._errors import ParameterError, ReportExecutionError
from ._parameters import (
    _OWN_PARAMETERS,
    _check_sources,
    _notebook_path,
    _parameters_of,
    _validate,
)
from ._results import read_results
from ._time import check_timezone
from .types import DateLike, PathLike

__all__ = ["RenderedReport", "render_report"]

#: Seconds a single notebook cell may run before the report is stopped.
DEFAULT_TIMEOUT = 900


@dataclass(frozen=True)
class RenderedReport:
    """What :func:`render_report` wrote."""

    name: str
    notebook: Path
    html: Path | None
    parameters: dict[str, Any]
    seconds: float

    def results(self) -> dict[str, Any]:
        """The headline numbers the notebook recorded (see :func:`read_results`)."""
        return read_results(self.notebook)


def render_report(
    name: str,
    *,
    source: Sequence[PathLike] | PathLike | None = None,
    start: DateLike | None = None,
    end: DateLike | None = None,
    timezone: str = "UTC",
    out: PathLike = "reports",
    parameters: Mapping[str, Any] | None = None,
    redact: bool = True,
    html: bool = True,
    kernel_name: str | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
    progress: bool | None = None,
    sources: Sequence[PathLike] | PathLike | None = None,
) -> RenderedReport:
    """Run the report notebook ``name`` with papermill; write ``OUT/NAME.ipynb`` and ``.html``.

    Parameters are checked against the notebook's ``parameters`` cell before a kernel starts:
    an unknown name, a value of the wrong type, a bad date, timezone or duration raises
    :class:`~omnikit.ParameterError`. A cell that fails (or runs longer than ``timeout``)
    raises :class:`~omnikit.ReportExecutionError` naming the notebook, the cell and the
    exception; the partly executed notebook is kept at ``OUT/NAME.ipynb`` and no HTML is written.

    Parameters
    ----------
    name
        ``"channel_mix"``, ``"wait_times"``, ``"journeys"`` or ``"weekly_report"``
        (:func:`list_reports`).
    source
        Report files, directories, globs or Parquet stores (anything :func:`omnikit.load`
        reads; one path or a list, as ``ok.load(source)``). ``None``: the notebook's built-in
        sample data.
    start, end
        The report period, ``start`` included, ``end`` excluded: ``YYYY-MM-DD`` or an ISO
        date-time, in ``timezone``. ``None`` lets the notebook choose from the data (for the
        weekly report: the last 7 days of data).
    timezone
        IANA timezone of the report's wall-clock times and of the period.
    out
        Folder for the outputs (created if needed).
    parameters
        Further notebook parameters, e.g. ``{"threshold": 30, "gap": "12h"}``; strings are
        converted to the declared type (as from ``omnikit report -p KEY VALUE``).
    redact
        Blank customer names, contacts, contact ids, transcriptions and notes (customers stay
        as ``customer_id`` pseudonyms). On by default; turn off only for internal use.
    html
        Also export ``OUT/NAME.html`` (code hidden, complete offline).
    kernel_name
        Jupyter kernel; by default ``"omnikit"`` when that kernel is installed, else this
        Python interpreter.
    timeout
        Seconds one cell may run; ``None`` for no limit.
    progress
        Show a progress bar; by default only when stderr is a terminal.
    sources
        The old name of ``source``; it keeps working for this release with a
        :class:`DeprecationWarning`.

    Returns
    -------
    :class:`RenderedReport` with the paths written, the parameters used and the seconds taken.

    Examples
    --------
    >>> import omnikit as ok
    >>> report = ok.render_report(
    ...     "weekly_report", source="data/", end="2024-09-30", timezone="Europe/Lisbon",
    ...     parameters={"threshold": 30},
    ... )  # doctest: +SKIP
    >>> report.html  # doctest: +SKIP
    PosixPath('reports/weekly_report.html')
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from ._engine import _engine_name, _failed_cell, _kernel_options

    if sources is not None:
        if source is not None:
            raise ParameterError("render_report: give source= only (sources= is its old name)")
        warnings.warn(
            "render_report: sources= is now called source= (as in ok.load(source)); sources= "
            "will be removed in the next release",
            DeprecationWarning,
            stacklevel=2,
        )
        source = sources
    path = _notebook_path(name)
    declared = _parameters_of(path)
    values: dict[str, Any] = dict(parameters or {})
    clash = sorted(set(values) & set(_OWN_PARAMETERS))
    if clash:
        raise ParameterError(
            f"pass {', '.join(clash)} as render_report arguments (or --source/--start/--end/"
            f"--timezone/--no-redact), not as notebook parameters"
        )
    values.update(
        source=_check_sources(source), timezone=check_timezone(timezone), redact=bool(redact)
    )
    if start is not None:
        values["start"] = start
    if end is not None:
        values["end"] = end
    checked = _validate(name, values, declared)
    if timeout is not None and timeout <= 0:
        raise ParameterError(
            f"timeout: expected a positive number of seconds or None, got {timeout!r}"
        )

    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    output = out_dir / f"{name}.ipynb"
    page = out_dir / f"{name}.html"
    if page.exists():
        page.unlink()  # never leave an older page beside a newer notebook
    began = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(path),
            str(output),
            parameters=checked,
            progress_bar=sys.stderr.isatty() if progress is None else progress,
            log_output=False,
            execution_timeout=timeout,
            # write the output notebook when done (or failed), not after every cell: saving
            # costs more than most cells
            request_save_on_cell_execute=False,
            engine_name=_engine_name(),
            keep_on_error=str(output),
            # the kernel's warning that it talks over TCP on localhost is noise on every run
            extra_arguments=["--IPKernelApp.log_level=ERROR"],
            **_kernel_options(kernel_name),
        )
    except PapermillExecutionError as error:
        cell, line = _failed_cell(output)
        raise ReportExecutionError(
            f"report {name!r} ({path.name}) failed in cell {cell} "
            f"(In [{error.exec_count}]: {line}): {error.ename}: {error.evalue}; "
            f"the partly executed notebook is {output}",
            notebook=name,
            cell=cell,
            ename=error.ename,
            evalue=error.evalue,
            output_path=str(output),
        ) from None
    except (TimeoutError, RuntimeError) as error:  # cell timeout, dead kernel
        cell, line = _failed_cell(output)
        reason = (
            f"a cell ran longer than {timeout} s"
            if isinstance(error, TimeoutError)
            else str(error) or "the kernel died"
        )
        raise ReportExecutionError(
            f"report {name!r} ({path.name}) stopped in cell {cell} ({line}): "
            f"{type(error).__name__}: {reason}; the partly executed notebook is {output}",
            notebook=name,
            cell=cell,
            ename=type(error).__name__,
            evalue=reason,
            output_path=str(output),
        ) from None
    written = None
    if html:
        from ._export import export_html

        export_html(output, page, title=_title_of(output, name))
        written = page
    return RenderedReport(name, output, written, checked, time.perf_counter() - began)


def _title_of(output: Path, name: str) -> str:
    import nbformat

    nb = nbformat.read(output, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return name.replace("_", " ").capitalize()
