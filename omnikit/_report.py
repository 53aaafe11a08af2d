"""Reports: parameterized notebooks executed with papermill and exported as offline HTML.

The report notebooks (``channel_mix``, ``wait_times``, ``journeys``, ``weekly_report``) live in
the top-level ``notebooks/`` folder of the source tree and ship inside the wheel as
``omnikit/notebooks/``. :func:`render_report` checks the parameters against the notebook's
``parameters`` cell *before* a kernel starts, runs the notebook, and writes
``OUT/NAME.ipynb`` (executed) and ``OUT/NAME.html`` (see :func:`omnikit.export_html`).

Inside a notebook (and in your own analysis), the notebooks' logic lives here, unit-tested:

- :func:`report_data` loads the data, resolves customers, redacts, and cuts the report period
  (and the one before it, for comparisons);
- :func:`headline_numbers` gives the week at a glance, :func:`compare_periods` puts a metric
  beside the previous period's with the change, :func:`report_table` shows a small frame as a
  table a manager can read;
- :func:`record_results` records the headline numbers in the executed notebook, and
  :func:`read_results` reads them back (tests compare them with direct calls).
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
import os
import re
import sys
import tempfile
import time
import warnings
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # nbformat imports jsonschema: slow, so only where needed
    import nbformat

import polars as pl

from ._errors import DataQualityWarning, ParameterError, ReportExecutionError

__all__ = [
    "RenderedReport",
    "ReportData",
    "ReportTable",
    "compare_periods",
    "headline_numbers",
    "list_reports",
    "median_patience",
    "read_results",
    "record_results",
    "render_report",
    "report_data",
    "report_table",
]

#: Name of the Jupyter kernel that ``make setup`` registers for the project.
KERNEL_NAME = "omnikit"

#: Seconds a single notebook cell may run before the report is stopped.
DEFAULT_TIMEOUT = 900

# Parameters that render_report sets itself from its own arguments.
_OWN_PARAMETERS = ("source", "start", "end", "timezone", "redact")

_DURATION = re.compile(r"^(\d+(ns|us|ms|s|m|h|d|w|mo|q|y))+$")
_GLOB_CHARS = set("*?[")


# --------------------------------------------------------------------------------------------
# Finding notebooks and their parameters


def _notebook_dirs() -> list[Path]:
    package = Path(__file__).resolve().parent
    # In a wheel: omnikit/notebooks/. In the source tree (editable install): ../notebooks/.
    return [package / "notebooks", package.parent / "notebooks"]


def _notebooks() -> dict[str, Path]:
    for folder in _notebook_dirs():
        found = {path.stem: path for path in sorted(folder.glob("*.ipynb"))}
        if found:
            return found
    return {}


def _notebook_path(name: str) -> Path:
    notebooks = _notebooks()
    if name not in notebooks:
        known = ", ".join(sorted(notebooks)) or "none found"
        raise ParameterError(f"no report named {name!r}; the reports are: {known}")
    return notebooks[name]


def list_reports() -> dict[str, dict[str, dict[str, Any]]]:
    """Name every report and describe its parameters.

    Returns
    -------
    ``{report name: {parameter name: {"type", "default", "help"}}}``, read from each notebook's
    ``parameters`` cell (as ``papermill --help-notebook`` shows them).

    Examples
    --------
    >>> import omnikit as ok
    >>> sorted(ok.list_reports())
    ['channel_mix', 'journeys', 'wait_times', 'weekly_report']
    >>> ok.list_reports()["wait_times"]["threshold"]["type"]
    'int'
    """
    return {name: _parameters_of(path) for name, path in _notebooks().items()}


def _parameters_of(path: Path) -> dict[str, dict[str, Any]]:
    from papermill.inspection import inspect_notebook

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = inspect_notebook(str(path))
    return {
        name: {
            "type": info.get("inferred_type_name") or "None",
            "default": info.get("default"),
            "help": info.get("help") or "",
        }
        for name, info in found.items()
    }


# --------------------------------------------------------------------------------------------
# Checking parameters before a kernel starts


def _parse_date(value: object, name: str, timezone: str) -> dt.datetime | None:
    """A DATE parameter as an aware datetime in ``timezone``: ``YYYY-MM-DD`` or ISO date-time."""
    if value is None:
        return None
    tz = zoneinfo.ZoneInfo(timezone)
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise ParameterError(
                f"{name}: {value!r} is not a date; write YYYY-MM-DD or an ISO date-time "
                f"such as 2024-09-09T08:00"
            ) from None
    else:
        raise ParameterError(f"{name}: expected a date (YYYY-MM-DD), got {value!r}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(tz)


def _check_timezone(timezone: object) -> str:
    if not isinstance(timezone, str) or not timezone:
        raise ParameterError(
            f"timezone: expected an IANA name such as 'Europe/Lisbon', got {timezone!r}"
        )
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ParameterError(
            f"timezone: {timezone!r} is not a known IANA timezone (e.g. 'UTC', 'Europe/Lisbon')"
        ) from None
    return timezone


def _coerce(name: str, value: Any, type_name: str) -> Any:
    """Turn ``value`` (possibly a command-line string) into the parameter's declared type."""
    kinds = set(re.findall(r"\b(None|bool|int|float|str|list)\b", type_name))
    nullable = "None" in kinds or "Optional" in type_name or not kinds
    if (
        isinstance(value, str)
        and nullable
        and value.strip().lower() in ("none", "null")
        and kinds != {"str"}
    ):
        return None
    if value is None:
        if nullable:
            return None
        raise ParameterError(f"parameter {name!r} may not be None (it is {type_name})")
    if "bool" in kinds:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "yes", "1", "on"):
            return True
        if isinstance(value, str) and value.strip().lower() in ("false", "no", "0", "off"):
            return False
        raise ParameterError(f"parameter {name!r}: expected true or false, got {value!r}")
    if "int" in kinds:
        if isinstance(value, bool):
            raise ParameterError(f"parameter {name!r}: expected a whole number, got {value!r}")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                pass
        raise ParameterError(f"parameter {name!r}: expected a whole number, got {value!r}")
    if "float" in kinds:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            result = float(value)
        else:
            try:
                result = float(str(value).strip())
            except ValueError:
                raise ParameterError(
                    f"parameter {name!r}: expected a number, got {value!r}"
                ) from None
        if not math.isfinite(result):
            raise ParameterError(f"parameter {name!r}: expected a finite number, got {value!r}")
        return result
    if "list" in kinds:
        if isinstance(value, (list, tuple)):
            return [str(item) for item in value]
        if isinstance(value, str) and "str" in kinds:
            return value
        raise ParameterError(f"parameter {name!r}: expected a list, got {value!r}")
    if isinstance(value, (dt.date, Path)):
        return str(value)
    if not isinstance(value, str):
        raise ParameterError(f"parameter {name!r}: expected text ({type_name}), got {value!r}")
    return value


def _check_sources(
    sources: Sequence[str | os.PathLike[str]] | str | os.PathLike[str] | None,
) -> list[str] | None:
    if sources is None:
        return None
    if isinstance(sources, (str, os.PathLike)):
        sources = [sources]
    checked = []
    for source in sources:
        text = os.fspath(source)
        if not text:
            raise ParameterError("source: an empty path was given")
        path = Path(text).expanduser()
        if not (_GLOB_CHARS & set(text)) and not path.exists():
            raise ParameterError(
                f"source: {text!r} does not exist (give a report file, a directory or a glob)"
            )
        checked.append(str(path.resolve()) if path.exists() else str(path.absolute()))
    return checked or None


def _validate(
    name: str, values: Mapping[str, Any], declared: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    unknown = sorted(set(values) - set(declared))
    if unknown:
        raise ParameterError(
            f"report {name!r} has no parameter {', '.join(map(repr, unknown))}; "
            f"its parameters are: {', '.join(declared)}"
        )
    checked = {key: _coerce(key, value, declared[key]["type"]) for key, value in values.items()}
    timezone = _check_timezone(checked.get("timezone") or "UTC")
    for key in ("start", "end"):
        if checked.get(key) is not None:
            checked[key] = _parse_date(checked[key], key, timezone).isoformat()
    if checked.get("start") and checked.get("end"):
        if dt.datetime.fromisoformat(checked["start"]) >= dt.datetime.fromisoformat(checked["end"]):
            raise ParameterError(
                f"start ({checked['start']}) must be before end ({checked['end']}); end is excluded"
            )
    for key, value in checked.items():
        if (
            key in ("gap", "window", "every")
            and value is not None
            and not _DURATION.match(str(value))
        ):
            raise ParameterError(
                f"parameter {key!r}: {value!r} is not a duration such as '24h', '7d', '1w' or '30m'"
            )
        if key in ("threshold", "short_abandon", "top_n") and value is not None and value < 0:
            raise ParameterError(f"parameter {key!r} must not be negative, got {value!r}")
        if key == "target" and value is not None and not 0 <= value <= 1:
            raise ParameterError(f"parameter 'target' is a share between 0 and 1, got {value!r}")
    return checked


# --------------------------------------------------------------------------------------------
# Running a report


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


def _kernel_options(kernel_name: str | None) -> dict[str, Any]:
    """Papermill options for the kernel: the project's, else this interpreter's own."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    wanted = kernel_name or KERNEL_NAME
    try:
        KernelSpecManager().get_kernel_spec(wanted)
        return {"kernel_name": wanted}
    except NoSuchKernel:
        if kernel_name is not None:
            raise ParameterError(
                f"no Jupyter kernel named {kernel_name!r}; `jupyter kernelspec list` shows the installed ones"
            ) from None
    return {"kernel_name": "python3", "kernel_manager_class": _this_interpreter_kernel_manager()}


def _this_interpreter_kernel_manager() -> type:
    """A kernel manager that starts ``sys.executable -m ipykernel_launcher`` whatever the name."""
    from jupyter_client.kernelspec import KernelSpec
    from jupyter_client.manager import AsyncKernelManager

    class ThisInterpreterKernelManager(AsyncKernelManager):
        @property
        def kernel_spec(self) -> KernelSpec:  # type: ignore[override]
            return KernelSpec(
                argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                display_name=f"Python ({sys.executable})",
                language="python",
                resource_dir=tempfile.gettempdir(),
            )

    return ThisInterpreterKernelManager


def _engine_name() -> str:
    """Register (once) papermill's nbclient engine that also keeps the notebook when stopped."""
    from papermill.engines import NBClientEngine, papermill_engines
    from papermill.iorw import write_ipynb

    class KeepOnErrorEngine(NBClientEngine):
        """As nbclient, and on a timeout or a dead kernel write the partly executed notebook."""

        @classmethod
        def execute_notebook(cls, nb, kernel_name, keep_on_error=None, **kwargs):  # type: ignore[no-untyped-def]
            try:
                return super().execute_notebook(nb, kernel_name, **kwargs)
            except BaseException:
                if keep_on_error:
                    write_ipynb(nb, keep_on_error)
                raise

    if "omnikit" not in papermill_engines._engines:
        papermill_engines.register("omnikit", KeepOnErrorEngine)
    return "omnikit"


def _failed_cell(output: Path) -> tuple[int | None, str]:
    """Index (in the kept output notebook) and first line of the cell that failed or hung."""
    import nbformat

    try:
        nb = nbformat.read(output, as_version=4)
    except (OSError, ValueError):
        return None, "?"
    for index, cell in enumerate(nb.cells):
        status = cell.get("metadata", {}).get("papermill", {}).get("status")
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if status in ("failed", "running") or errors:
            lines = cell.source.strip().splitlines()
            return index, (lines[0][:80] if lines else "")
    return None, "?"


def render_report(
    name: str,
    *,
    sources: Sequence[str | os.PathLike[str]] | str | os.PathLike[str] | None = None,
    start: str | dt.date | None = None,
    end: str | dt.date | None = None,
    timezone: str = "UTC",
    out: str | os.PathLike[str] = "reports",
    parameters: Mapping[str, Any] | None = None,
    redact: bool = True,
    html: bool = True,
    kernel_name: str | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
    progress: bool | None = None,
) -> RenderedReport:
    """Execute the report notebook ``name`` with papermill and write ``OUT/NAME.ipynb`` and ``.html``.

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
    sources
        Report files, directories, globs or Parquet stores (anything :func:`omnikit.load`
        reads). ``None``: the notebook's built-in sample data.
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

    Returns
    -------
    :class:`RenderedReport` with the paths written, the parameters used and the seconds taken.

    Examples
    --------
    >>> import omnikit as ok
    >>> report = ok.render_report("weekly_report", sources=["data/"], end="2024-09-30",
    ...                           timezone="Europe/Lisbon", parameters={"threshold": 30})  # doctest: +SKIP
    >>> report.html  # doctest: +SKIP
    PosixPath('reports/weekly_report.html')
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

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
        source=_check_sources(sources), timezone=_check_timezone(timezone), redact=bool(redact)
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
            f"report {name!r} ({path.name}) failed in cell {cell} (In [{error.exec_count}]: {line}): "
            f"{error.ename}: {error.evalue}; the partly executed notebook is {output}",
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
            f"report {name!r} ({path.name}) stopped in cell {cell} ({line}): {type(error).__name__}: {reason}; "
            f"the partly executed notebook is {output}",
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


# --------------------------------------------------------------------------------------------
# Inside a notebook: data for the period, and the recorded results


@dataclass(repr=False)
class ReportData:
    """The data of a report period, made by :func:`report_data`.

    ``frame`` holds the interactions that start in ``[start, end)``; ``previous`` those of the
    period of the same length just before (or ``None`` when not asked for). Both have a
    ``customer_id`` column and are redacted unless ``redact=False`` was given.
    """

    frame: pl.DataFrame
    start: dt.datetime
    end: dt.datetime
    timezone: str
    previous: pl.DataFrame | None = None
    previous_start: dt.datetime | None = None
    redacted: bool = True
    loaded: int = 0
    source_label: str = ""
    began: float = field(default_factory=time.perf_counter)

    def elapsed(self) -> float:
        """Seconds since :func:`report_data` was called: the notebook's own computing time."""
        return time.perf_counter() - self.began

    def __repr__(self) -> str:
        previous = (
            f", previous={self.previous_period!r} ({self.previous.height} rows)"
            if self.previous is not None
            else ""
        )
        return f"ReportData(period={self.period!r} ({self.frame.height} rows){previous}, redacted={self.redacted})"

    def _repr_markdown_(self) -> str:
        lines = [
            f"**Period:** {self.period} ({self.timezone}): **{self.frame.height:,}** interactions",
        ]
        if self.previous is not None:
            lines.append(
                f"**Compared with:** {self.previous_period}: **{self.previous.height:,}** interactions"
            )
        lines.append(f"**Data:** {self.source_label}, {self.loaded:,} interactions loaded")
        lines.append(
            "**Privacy:** customers appear only as pseudonymous customer ids; names, contacts, "
            "transcriptions and notes are removed."
            if self.redacted
            else "**Not redacted:** this report may show customer names and contacts. Do not share it."
        )
        return "  \n".join(lines)

    @property
    def period(self) -> str:
        """The period as a reader would write it, e.g. ``"2024-09-23 to 2024-09-29"``."""
        return _describe(self.start, self.end)

    @property
    def previous_period(self) -> str | None:
        """The comparison period, described like :attr:`period`."""
        if self.previous_start is None:
            return None
        return _describe(self.previous_start, self.start)


def _describe(start: dt.datetime, end: dt.datetime) -> str:
    last = end - dt.timedelta(microseconds=1)
    if start.time() == dt.time(0) and end.time() == dt.time(0):
        if last.date() == start.date():
            return start.date().isoformat()
        return f"{start.date().isoformat()} to {last.date().isoformat()}"
    return f"{start.isoformat(timespec='minutes')} to {end.isoformat(timespec='minutes')} (end excluded)"


def _load_sample(rows: int, seed: int, timezone: str) -> pl.DataFrame:
    """Write sample report files (``ok.synth_reports``) to a temporary folder and load them."""
    from ._io import load
    from ._synth import synth_reports

    with tempfile.TemporaryDirectory(prefix="omnikit-sample-") as folder:
        written = synth_reports(folder, rows, seed=seed, timezone=timezone)
        return load(written, timezone=timezone, cache=False)


def report_data(
    source: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None,
    *,
    start: str | dt.date | None = None,
    end: str | dt.date | None = None,
    timezone: str = "UTC",
    compare: bool = False,
    days: int = 7,
    redact: bool = True,
    default_region: str = "US",
    link_by_name: bool = False,
    sample_rows: int = 20_000,
    seed: int = 0,
) -> ReportData:
    """Load a report's data, resolve customers, redact, and cut out the report period.

    This is the first step of every report notebook. ``source=None`` writes sample report
    files with ``ok.synth_reports`` (``sample_rows`` interactions, seeded) to a temporary
    folder and loads those, so a notebook runs without any data of your own.

    The period is ``[start, end)`` in ``timezone``. A missing ``end`` is midnight after the last
    interaction; a missing ``start`` is ``days`` days before ``end`` when ``compare`` is set,
    else the first day of data (with ``start`` given and ``end`` missing, and ``compare`` set,
    the period is ``days`` days from ``start``). With ``compare=True`` the period of the same
    length just before is returned as ``previous``. Customers are resolved over the
    interactions of the report (both periods together, so a customer keeps one ``customer_id``
    across them; data outside the report is not used), then the frames are redacted.
    Interactions without a ``start_date_time`` belong to no period: a
    :class:`~omnikit.DataQualityWarning` says how many.

    Examples
    --------
    >>> import omnikit as ok
    >>> data = ok.report_data(None, end="2024-09-30", compare=True)  # doctest: +SKIP
    >>> data.period, data.previous_period  # doctest: +SKIP
    ('2024-09-23 to 2024-09-29', '2024-09-16 to 2024-09-22')
    """
    from ._customers import resolve_customers
    from ._io import load
    from ._redact import redact as redact_frame

    began = time.perf_counter()
    timezone = _check_timezone(timezone)
    start_at = _parse_date(start, "start", timezone)
    end_at = _parse_date(end, "end", timezone)
    if days <= 0:
        raise ParameterError(f"days: expected a positive number of days, got {days!r}")
    if source is None or (isinstance(source, (list, tuple)) and not source):
        frame = _load_sample(sample_rows, seed, timezone)
        label = f"sample data ({sample_rows:,} synthetic interactions, seed {seed})"
    else:
        paths = (
            [os.fspath(s) for s in source]
            if isinstance(source, (list, tuple))
            else [os.fspath(source)]
        )
        label = ", ".join(Path(p).name or p for p in paths)
        frame = load(paths if len(paths) > 1 else paths[0], timezone=timezone)
    loaded = frame.height
    undated = frame.select(pl.col("start_date_time").is_null().sum()).item()
    if undated:
        warnings.warn(
            f"{undated:,} of {loaded:,} interactions have no start_date_time and belong to no report period",
            DataQualityWarning,
            stacklevel=2,
        )
    first, last = frame.select(
        pl.col("start_date_time").min().alias("first"),
        pl.col("start_date_time").max().alias("last"),
    ).row(0)
    if first is None and (start_at is None or end_at is None):
        raise ParameterError(
            f"{label}: no interaction has a start_date_time, so there is no period to report"
        )
    length = dt.timedelta(days=days)
    tz = zoneinfo.ZoneInfo(timezone)
    if end_at is None:
        if start_at is not None and compare:
            end_at = start_at + length
        else:
            last_day = last.astimezone(tz).date() + dt.timedelta(days=1)
            end_at = dt.datetime(last_day.year, last_day.month, last_day.day, tzinfo=tz)
    if start_at is None:
        if compare:
            start_at = end_at - length
        else:
            first_day = first.astimezone(tz).date()
            start_at = dt.datetime(first_day.year, first_day.month, first_day.day, tzinfo=tz)
    if start_at >= end_at:
        raise ParameterError(
            f"start ({start_at.isoformat()}) must be before end ({end_at.isoformat()})"
        )
    previous_start = start_at - (end_at - start_at) if compare else None

    # Customers are resolved over the interactions of the report (both periods), then redacted.
    lo = previous_start or start_at
    frame = frame.filter((pl.col("start_date_time") >= lo) & (pl.col("start_date_time") < end_at))
    frame = resolve_customers(frame, default_region=default_region, link_by_name=link_by_name)
    if redact:
        frame = redact_frame(frame)
    current = frame.filter(pl.col("start_date_time") >= start_at) if compare else frame
    previous = frame.filter(pl.col("start_date_time") < start_at) if compare else None
    return ReportData(
        frame=current,
        start=start_at,
        end=end_at,
        timezone=timezone,
        previous=previous,
        previous_start=previous_start,
        redacted=redact,
        loaded=loaded,
        source_label=label,
        began=began,
    )


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
    (JSON: frames become lists of rows, dates ISO text). It is invisible in JupyterLab and left
    out of the HTML export. :func:`read_results` reads them back.

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


# --------------------------------------------------------------------------------------------
# Comparing periods, and tables a manager can read


def compare_periods(
    current: pl.DataFrame | Mapping[str, Any],
    previous: pl.DataFrame | Mapping[str, Any] | None,
    *,
    on: str | Sequence[str] | None = None,
    values: Sequence[str] | None = None,
    relative: bool = True,
) -> pl.DataFrame:
    """Put a metric of this period beside the previous period's, with the change.

    Parameters
    ----------
    current, previous
        The same metric computed on two periods: frames with the key columns ``on`` (e.g. the
        output of :func:`omnikit.service_level` with ``by="interaction_type"``), or dicts of
        headline numbers (:func:`headline_numbers`), which become one row per number with the key
        ``metric``. ``previous`` may be ``None`` (no earlier data): its columns are then null.
    on
        Key columns; keys found in either period are kept (a channel new this week has a null
        previous value).
    values
        Value columns to compare; by default every numeric column that is not a key.
    relative
        Also give the relative change ``v_change_rel``.

    Returns
    -------
    polars.DataFrame
        *on, then per value ``v``: ``v``, ``v_previous``, ``v_change`` (``v − v_previous``) and
        ``v_change_rel`` (``v_change / v_previous``; null when ``v_previous`` is 0 or null).
        Values are Float64.

    Examples
    --------
    >>> import omnikit as ok
    >>> ok.compare_periods({"interactions": 120}, {"interactions": 100}).row(0)
    ('interactions', 120.0, 100.0, 20.0, 0.2)
    """
    if isinstance(current, Mapping):
        if previous is not None and not isinstance(previous, Mapping):
            raise ParameterError("compare_periods: give two dicts or two frames, not one of each")
        return compare_periods(
            _numbers_frame(current),
            _numbers_frame(previous) if previous is not None else None,
            on="metric",
            relative=relative,
        )
    keys = [on] if isinstance(on, str) else list(on or [])
    missing = [key for key in keys if key not in current.columns]
    if missing:
        raise ParameterError(f"compare_periods: key column(s) {missing} not in the current frame")
    if values is None:
        values = [c for c, t in current.schema.items() if c not in keys and t.is_numeric()]
    if previous is None:
        previous = current.clear()
    previous = previous.select([*keys, *values])
    current = current.select([*keys, *values])
    if keys:
        joined = current.join(
            previous, on=keys, how="full", coalesce=True, suffix="_previous", nulls_equal=True
        )
    else:
        joined = (
            pl.concat(
                [current.head(1), previous.head(1).rename({v: f"{v}_previous" for v in values})],
                how="horizontal",
            )
            if previous.height
            else current.with_columns(pl.lit(None).alias(f"{v}_previous") for v in values)
        )
    columns: list[pl.Expr] = [pl.col(key) for key in keys]
    for value in values:
        now, before = pl.col(value).cast(pl.Float64), pl.col(f"{value}_previous").cast(pl.Float64)
        change = now - before
        columns += [
            now.alias(value),
            before.alias(f"{value}_previous"),
            change.alias(f"{value}_change"),
        ]
        if relative:
            columns.append(pl.when(before != 0).then(change / before).alias(f"{value}_change_rel"))
    return joined.select(columns)


def _numbers_frame(numbers: Mapping[str, Any]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "metric": list(numbers),
            "value": [None if v is None else float(v) for v in numbers.values()],
        },
        schema={"metric": pl.String, "value": pl.Float64},
    )


def median_patience(survival: pl.DataFrame) -> float | None:
    """The wait after which half of the customers would have given up (Kaplan–Meier median).

    The first ``time`` at which ``survival`` (from :func:`omnikit.wait_time_survival` with
    ``by=None``) is at most 0.5; ``None`` when more than half were still waiting at the
    longest wait seen (patience is then longer than the data can tell).

    Examples
    --------
    >>> import polars as pl, omnikit as ok
    >>> ok.median_patience(pl.DataFrame({"time": [10, 30, 60], "survival": [0.9, 0.5, 0.2]}))
    30.0
    """
    reached = survival.filter(pl.col("survival") <= 0.5)
    return None if reached.is_empty() else float(reached["time"].min())


def headline_numbers(
    df: pl.DataFrame,
    *,
    threshold: float = 20,
    short_abandon: float = 5,
    formula: str = "talkdesk",
    gap: str = "24h",
    window: str = "7d",
    trips: pl.DataFrame | None = None,
) -> dict[str, float | None]:
    """The week at a glance: one number each for volume, service, patience and journeys.

    Computed with omnikit's own functions over the whole frame (``by=None``): ``interactions``;
    ``offered``, ``service_level``, ``abandon_rate``, ``asa`` (:func:`omnikit.service_level`);
    ``median_wait`` and ``p90_wait`` (:func:`omnikit.wait_time_stats`); ``median_patience``
    (:func:`median_patience`); ``customers`` (distinct ``customer_id``), ``journeys``,
    ``switched_share`` and ``bot_to_human_share`` (:func:`omnikit.journeys`, with ``gap``);
    ``repeat_rate`` (:func:`omnikit.repeat_contacts`, with ``window``).

    ``df`` must have a ``customer_id`` column (:func:`omnikit.resolve_customers`, or
    :func:`report_data`). ``trips`` may pass ``ok.journeys(df, gap=gap)`` when it is already
    computed.

    Examples
    --------
    >>> import omnikit as ok
    >>> data = ok.report_data(None, compare=True)  # doctest: +SKIP
    >>> ok.compare_periods(ok.headline_numbers(data.frame), ok.headline_numbers(data.previous))  # doctest: +SKIP
    """
    from ._journeys import journeys, repeat_contacts
    from ._metrics import service_level, wait_time_stats, wait_time_survival

    if "customer_id" not in df.columns:
        raise ParameterError(
            "headline_numbers: resolve customers first (ok.resolve_customers or ok.report_data)"
        )
    service = service_level(
        df, threshold=threshold, short_abandon=short_abandon, formula=formula, by=None
    )
    waits = wait_time_stats(df, by=None, percentiles=(0.5, 0.9))
    survival = wait_time_survival(df, by=None)
    if trips is None:
        trips = journeys(df, gap=gap)
    repeats = repeat_contacts(df, window=window)

    def first(frame: pl.DataFrame, column: str) -> float | None:
        value = frame[column][0] if frame.height else None
        return None if value is None else float(value)

    n_journeys = trips.height
    return {
        "interactions": float(df.height),
        "offered": first(service, "offered") or 0.0,
        "service_level": first(service, "service_level"),
        "abandon_rate": first(service, "abandon_rate"),
        "asa": first(service, "asa"),
        "median_wait": first(waits, "p50"),
        "p90_wait": first(waits, "p90"),
        "median_patience": median_patience(survival),
        "customers": float(df["customer_id"].n_unique()),
        "journeys": float(n_journeys),
        "switched_share": float(trips["switched"].mean()) if n_journeys else None,
        "bot_to_human_share": float(trips["bot_to_human"].mean()) if n_journeys else None,
        "repeat_rate": first(repeats, "repeat_rate"),
    }


#: What each of :func:`headline_numbers` is called in a report table.
HEADLINE_LABELS: dict[str, str] = {
    "interactions": "Interactions (all channels and directions)",
    "offered": "Inbound interactions offered",
    "service_level": "Service level",
    "abandon_rate": "Abandon rate",
    "asa": "Average speed of answer",
    "median_wait": "Median wait",
    "p90_wait": "90th percentile wait",
    "median_patience": "Median patience (Kaplan–Meier)",
    "customers": "Customers",
    "journeys": "Journeys",
    "switched_share": "Journeys that switched channel",
    "bot_to_human_share": "Journeys escalated from bot to agent",
    "repeat_rate": "Repeat contact rate",
}

#: How each of :func:`headline_numbers` is written in a report table.
HEADLINE_FORMATS: dict[str, str] = {
    "interactions": "count",
    "offered": "count",
    "service_level": "percent",
    "abandon_rate": "percent",
    "asa": "seconds",
    "median_wait": "seconds",
    "p90_wait": "seconds",
    "median_patience": "seconds",
    "customers": "count",
    "journeys": "count",
    "switched_share": "percent",
    "bot_to_human_share": "percent",
    "repeat_rate": "percent",
}

#: How :func:`report_table` writes a value, by format name.
_FORMATS = ("count", "percent", "seconds", "number", "datetime", "text")


class ReportTable:
    """A small table for a report page: formatted numbers, changes with ▲/▼, no dtypes."""

    def __init__(
        self,
        frame: pl.DataFrame,
        formats: Mapping[str, str],
        labels: Mapping[str, str],
        caption: str | None,
    ):
        self.frame = frame
        self.formats = dict(formats)
        self.labels = dict(labels)
        self.caption = caption

    def _cell(self, column: str, value: Any, row: Mapping[str, Any]) -> str:
        kind = self.formats.get(column) or HEADLINE_FORMATS.get(str(row.get("metric"))) or "text"
        if column == "metric":
            return html.escape(HEADLINE_LABELS.get(str(value), str(value)))
        if value is None:
            return "–"
        if isinstance(value, float) and not math.isfinite(value):
            return "–"
        change = column.endswith("_change") or column.endswith("_change_rel")
        if column.endswith("_change_rel"):
            text = f"{value * 100:+.1f}%"
        elif kind == "percent":
            text = f"{value * 100:+.1f} pp" if change else f"{value * 100:.1f}%"
        elif kind == "seconds":
            text = f"{value:+.1f} s" if change else f"{value:.1f} s"
        elif kind == "count":
            text = f"{value:+,.0f}" if change else f"{value:,.0f}"
        elif kind == "number":
            text = f"{value:+,.2f}" if change else f"{value:,.2f}"
        elif kind == "datetime" and isinstance(value, dt.datetime):
            text = value.strftime("%a %d %b %Y %H:%M")
        else:
            text = str(value)
        if change and isinstance(value, (int, float)) and value != 0:
            text = ("▲ " if value > 0 else "▼ ") + text
        return html.escape(text)

    def _repr_html_(self) -> str:
        rows = self.frame.to_dicts()
        columns = [c for c in self.frame.columns if not c.startswith("__")]
        head = "".join(f"<th>{html.escape(self.labels.get(c, _header(c)))}</th>" for c in columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{self._cell(c, row[c], row)}</td>" for c in columns) + "</tr>"
            for row in rows
        )
        caption = f"<caption>{html.escape(self.caption)}</caption>" if self.caption else ""
        return f'<table class="omnikit-table">{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'

    def __repr__(self) -> str:
        return repr(self.frame)


def _header(column: str) -> str:
    special = {
        "metric": "",
        "value": "This period",
        "value_previous": "Previous period",
        "value_change": "Change",
        "value_change_rel": "Change (%)",
    }
    if column in special:
        return special[column]
    for suffix, words in (
        ("_change_rel", " change (%)"),
        ("_change", " change"),
        ("_previous", " (previous)"),
    ):
        if column.endswith(suffix):
            return _header(column.removesuffix(suffix)) + words
    return column.replace("_", " ").capitalize() if column.islower() else column


def report_table(
    frame: pl.DataFrame | Mapping[str, Any],
    *,
    formats: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    caption: str | None = None,
) -> ReportTable:
    """Show a small result frame as a plain HTML table for a manager.

    ``formats`` maps a column to ``"count"`` (1,234), ``"percent"`` (81.2%), ``"seconds"``
    (23.0 s), ``"number"``, ``"datetime"`` (Mon 09 Sep 2024 09:11) or ``"text"``; change columns from :func:`compare_periods`
    (``*_change``, ``*_change_rel``) are written with a sign and ▲/▼ (percentages change in
    percentage points, "pp"). The rows of a ``metric`` column (from :func:`compare_periods` of
    :func:`headline_numbers`) are named and formatted as :data:`HEADLINE_LABELS` and
    :data:`HEADLINE_FORMATS` say; a dict of such numbers is shown the same way, one row each.
    ``labels`` renames column headers.

    Examples
    --------
    >>> import polars as pl, omnikit as ok
    >>> table = ok.report_table(pl.DataFrame({"channel": ["VOICE"], "share": [0.8123]}), formats={"share": "percent"})
    >>> "81.2%" in table._repr_html_()
    True
    """
    if isinstance(frame, Mapping):
        frame = _numbers_frame(frame)
    formats = dict(formats or {})
    for column, kind in formats.items():
        if kind not in _FORMATS:
            raise ParameterError(
                f"report_table: format {kind!r} of {column!r} is not one of {', '.join(_FORMATS)}"
            )
    for column in frame.columns:
        base = column.removesuffix("_change_rel").removesuffix("_change").removesuffix("_previous")
        if base in formats and column not in formats:
            formats[column] = formats[base]
    return ReportTable(frame, formats, labels or {}, caption)
