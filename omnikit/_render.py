"""Rendering a report: run its notebook with papermill, then export offline HTML.

:func:`render_report` checks the parameters against the notebook's ``parameters`` cell
(:mod:`omnikit._parameters`) *before* a kernel starts, runs the notebook with omnikit's
papermill engine (:mod:`omnikit._engine`), and writes ``OUT/NAME.ipynb`` (executed) and
``OUT/NAME.html`` (see :func:`omnikit.export_html`).
"""

from __future__ import annotations

import json
import math
import os
import secrets
import sys
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._errors import OmnikitError, ParameterError, ReportExecutionError
from ._files import AtomicFile, staged_write
from ._parameters import (
    _OWN_PARAMETERS,
    _check_sources,
    _notebook_dirs,
    _notebook_path,
    _notebooks,
    _parameters_of,
    _validate,
)
from ._results import read_results
from ._schedule import SETTLE_DAYS, fill_store
from ._store import DEFAULT_STORE
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
    fetch: bool = False,
    store: PathLike | None = None,
    week_start: str | int = "monday",
    settle_days: int = SETTLE_DAYS,
) -> RenderedReport:
    """Run the report notebook ``name`` with papermill; write ``OUT/NAME.ipynb`` and ``.html``.

    Parameters are checked against the notebook's ``parameters`` cell before a kernel starts:
    an unknown name, a value of the wrong type, a bad date, timezone or duration raises
    :class:`~omnikit.ParameterError`. A cell that fails (or runs longer than ``timeout``)
    raises :class:`~omnikit.ReportExecutionError` naming the notebook, the cell and the
    exception; the partly executed notebook is kept at ``OUT/NAME.failed.ipynb``, and the
    ``OUT/NAME.ipynb`` and ``OUT/NAME.html`` of an earlier run are left as they were.

    Outputs are written atomically: the notebook runs under a hidden temporary name, and the
    notebook and its page are put in place only when both are complete, so a failed run never
    leaves a half-written page where the last good one was. ``out`` may not be the folder
    of the report notebooks (nor one holding copies of them), a file, or a folder that cannot
    be written: a :class:`~omnikit.ParameterError` says so before a kernel starts.

    With ``fetch=True`` the report first fills ``store`` from Talkdesk (credentials from the
    environment, as :func:`omnikit.fetch`) with every day it needs: its period (by default
    the last complete week in ``timezone``, weeks starting on ``week_start``) and, for the
    weekly report, the week before; only missing days and those fetched less than
    ``settle_days`` days before they settled are fetched. The store is then the source.

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
    fetch
        Fill ``store`` from the Talkdesk Explore API first, and read the report from it
        (``source`` must then be None).
    store
        The store directory for ``fetch`` (default: ``data/omnikit-store``).
    week_start
        With ``fetch`` and no ``start``/``end``: the day weeks start on (``"monday"``).
    settle_days
        With ``fetch``: days Talkdesk may still update, fetched again (default 3).

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
    out_dir = check_out(out)
    values: dict[str, Any] = dict(parameters or {})
    clash = sorted(set(values) & set(_OWN_PARAMETERS))
    if clash:
        raise ParameterError(
            f"pass {', '.join(clash)} as render_report arguments (or --source/--start/--end/"
            f"--timezone/--no-redact), not as notebook parameters"
        )
    if fetch:
        if source is not None:
            raise ParameterError("render_report: give source= or fetch=True, not both")
        _validate(name, {**values, "timezone": timezone}, declared)  # before any fetch
        store = DEFAULT_STORE if store is None else store
        filled = fill_store(
            [name],
            start=start,
            end=end,
            timezone=check_timezone(timezone),
            store=store,
            week_start=week_start,
            settle_days=settle_days,
            progress=progress,
        )
        source, start, end = [store], filled.start.isoformat(), filled.end.isoformat()
    values.update(
        source=_check_sources(source), timezone=check_timezone(timezone), redact=bool(redact)
    )
    if start is not None:
        values["start"] = start
    if end is not None:
        values["end"] = end
    checked = _validate(name, values, declared)
    if timeout is not None and not (
        isinstance(timeout, (int, float)) and math.isfinite(timeout) and timeout > 0
    ):
        raise ParameterError(
            f"timeout: expected a positive number of seconds or None, got {timeout!r}"
        )

    output = out_dir / f"{name}.ipynb"
    page = out_dir / f"{name}.html"
    failed = out_dir / f"{name}.failed.ipynb"
    # The notebook runs under a hidden name; it and its page replace the last good ones only
    # when both are complete (ok.load and Jupyter skip names starting with ".").
    running = out_dir / f".{name}.{os.getpid()}.{secrets.token_hex(4)}.running.ipynb"
    began = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(path),
            str(running),
            parameters=checked,
            progress_bar=sys.stderr.isatty() if progress is None else progress,
            log_output=False,
            # whole seconds: nbclient's timeout is an int (a float is a traitlets error)
            execution_timeout=None if timeout is None else max(1, math.ceil(timeout)),
            # write the output notebook when done (or failed), not after every cell: saving
            # costs more than most cells
            request_save_on_cell_execute=False,
            engine_name=_engine_name(),
            keep_on_error=str(running),
            # the kernel's warning that it talks over TCP on localhost is noise on every run
            extra_arguments=["--IPKernelApp.log_level=ERROR"],
            **_kernel_options(kernel_name),
        )
    except PapermillExecutionError as error:
        _keep_failed(running, failed)
        cell, line = _failed_cell(failed)
        raise ReportExecutionError(
            f"report {name!r} ({path.name}) failed in cell {cell} "
            f"(In [{error.exec_count}]: {line}): {error.ename}: {error.evalue}; "
            f"the partly executed notebook is {failed}",
            notebook=name,
            cell=cell,
            ename=error.ename,
            evalue=error.evalue,
            output_path=str(failed),
        ) from None
    except (TimeoutError, RuntimeError) as error:  # cell timeout, dead kernel
        _keep_failed(running, failed)
        cell, line = _failed_cell(failed)
        reason = (
            f"a cell ran longer than {timeout} s"
            if isinstance(error, TimeoutError)
            else str(error) or "the kernel died"
        )
        raise ReportExecutionError(
            f"report {name!r} ({path.name}) stopped in cell {cell} ({line}): "
            f"{type(error).__name__}: {reason}; the partly executed notebook is {failed}",
            notebook=name,
            cell=cell,
            ename=type(error).__name__,
            evalue=reason,
            output_path=str(failed),
        ) from None
    except BaseException:
        running.unlink(missing_ok=True)  # interrupted: the last good outputs stay
        raise
    written = None
    staged: list[AtomicFile] = []
    try:
        if html:
            from ._export import export_html

            title = _title_of(running, name)
            staged.append(staged_write(page, lambda temp: export_html(running, temp, title=title)))
            written = page
        notebook = staged_write(output, lambda temp: os.replace(running, temp))
    except OSError as error:
        for temp in staged:
            temp.discard()
        why = error.strerror or str(error)
        raise OmnikitError(f"cannot write the report {name!r} into {out_dir}: {why}") from None
    finally:
        running.unlink(missing_ok=True)
    notebook.commit()  # the notebook first: a page is never newer than its notebook
    for temp in staged:
        temp.commit()
    failed.unlink(missing_ok=True)  # an older failure is fixed now
    return RenderedReport(name, output, written, checked, time.perf_counter() - began)


def _keep_failed(running: Path, failed: Path) -> None:
    """Keep the partly executed notebook as ``OUT/NAME.failed.ipynb`` (the last good stay)."""
    if running.exists():
        os.replace(running, failed)


def check_out(out: PathLike) -> Path:
    """Check (and create) a report's output folder before a kernel starts; return it.

    Refuses the folder of the report notebooks and any folder holding a copy of one (an
    executed report would overwrite the template), a file, a folder under a file, and a
    folder that cannot be written (a read-only file system), each with a
    :class:`~omnikit.ParameterError` of one line.

    >>> check_out("notebooks")  # doctest: +SKIP
    Traceback (most recent call last):
    omnikit._errors.ParameterError: --out notebooks: this folder holds the report notebooks ...
    """
    folder = Path(out).expanduser()
    where = f"--out {os.fspath(out)}"
    if folder.exists() and not folder.is_dir():
        raise ParameterError(f"{where}: is a file, not a folder; give a folder for the reports")
    shipped = _notebooks()
    if folder.is_dir():
        resolved = folder.resolve()
        homes = {p.parent.resolve() for p in shipped.values()} | {
            d.resolve() for d in _notebook_dirs() if d.is_dir()
        }
        templates = [n for n in shipped if _is_template(folder / f"{n}.ipynb")]
        if resolved in homes or templates:
            held = f" ({templates[0]}.ipynb)" if templates else ""
            raise ParameterError(
                f"{where}: this folder holds the report notebooks{held}, which a report "
                "would overwrite; write reports to another folder (default: reports/)"
            )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ParameterError(
            f"{where}: cannot create the folder: {error.strerror or error}"
        ) from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ParameterError(
            f"{where}: the folder cannot be written (read-only file system or no permission)"
        )
    return folder


def _is_template(path: Path) -> bool:
    """A report notebook that was not written by a report run (no papermill record)."""
    if not path.is_file():
        return False
    try:
        return "papermill" not in json.loads(path.read_bytes()).get("metadata", {})
    except (OSError, ValueError, AttributeError):
        return False


def _title_of(output: Path, name: str) -> str:
    import nbformat

    nb = nbformat.read(output, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return name.replace("_", " ").capitalize()
