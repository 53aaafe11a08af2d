"""``omnikit report NAME [NAME ...]``: execute report notebooks and export them as offline HTML.

omnikit report weekly_report --source data/ --end 2024-09-30 --timezone Europe/Lisbon
omnikit report wait_times --source week.json -p threshold 30 -p target 0.85
omnikit report weekly_report wait_times --fetch --timezone Europe/Lisbon   # every Monday
omnikit report --list

With ``--fetch`` the days the reports need are first fetched from Talkdesk into the store
(credentials from the environment only, as ``omnikit fetch``), which is then their source;
without ``--start``/``--end`` they cover the last complete week in ``--timezone``. Every bad
argument is one line on stderr and exit status 2, checked before anything starts; the exit
statuses are those of ``omnikit fetch`` (see ``omnikit.cli``).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import time
from collections.abc import Iterator
from types import FrameType
from typing import Any

from .._exit_status import OK, exit_status
from .fetch import _jobs, _seconds, _timezone, _when

__all__ = ["register"]


def _days(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 31:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of days from 0 to 31")
    return value


def _weekday(text: str) -> str:
    from .._errors import ParameterError
    from .._schedule import week_start_day

    try:
        week_start_day(text)
    except ParameterError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a day of the week such as monday or sunday"
        ) from None
    return text


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``report`` subcommand."""
    parser = subparsers.add_parser(
        "report",
        help="render report notebooks to reports/NAME.ipynb and reports/NAME.html",
        description=(
            "Execute notebooks/NAME.ipynb with papermill and write DIR/NAME.ipynb and "
            "DIR/NAME.html (code hidden, readable on a phone, works offline), atomically: a "
            "failed run leaves the last good ones in place (and DIR/NAME.failed.ipynb). "
            "Customer names, contacts, contact ids, transcriptions and notes are redacted "
            "unless --no-redact is given. With --fetch, the days the reports need are first "
            "fetched from Talkdesk into --store (credentials from TALKDESK_* in the "
            "environment). Exit status: 0 written, 1 other error, 2 bad argument, "
            "3 credentials, 4 Talkdesk API, 5 notebook failed."
        ),
    )
    parser.add_argument(
        "name", nargs="*", metavar="NAME", help="the reports to render (see --list)"
    )
    parser.add_argument("--list", action="store_true", help="name the reports and their parameters")
    parser.add_argument(
        "--source",
        action="append",
        metavar="PATH",
        help="report file, directory, glob or Parquet store (repeatable); default: sample data",
    )
    parser.add_argument(
        "--start",
        type=_when,
        metavar="DATE",
        help="first day of the period (YYYY-MM-DD or ISO date-time), included",
    )
    parser.add_argument(
        "--end",
        type=_when,
        metavar="DATE",
        help="end of the period (YYYY-MM-DD or ISO date-time), excluded",
    )
    parser.add_argument(
        "--timezone",
        default="UTC",
        type=_timezone,
        metavar="TZ",
        help="IANA timezone of the data and the period (default: UTC)",
    )
    parser.add_argument(
        "--out", default="reports", metavar="DIR", help="output folder (default: reports/)"
    )
    parser.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        default=[],
        metavar=("KEY", "VALUE"),
        help="set a notebook parameter, e.g. -p threshold 30 (repeatable)",
    )
    parser.add_argument(
        "--no-redact",
        dest="redact",
        action="store_false",
        help="keep customer names and contacts (internal use only; do not share the output)",
    )
    parser.add_argument(
        "--timeout",
        type=_seconds,
        default=None,
        metavar="SECONDS",
        help="give up when the whole command (fetch and reports) has taken this long "
        "(default: no limit; one cell may run 900 s)",
    )
    parser.add_argument(
        "--kernel",
        default=None,
        metavar="NAME",
        help="Jupyter kernel (default: omnikit, else this Python)",
    )
    fetching = parser.add_argument_group("fetching the data first (for schedulers)")
    fetching.add_argument(
        "--fetch",
        action="store_true",
        help="fill --store from Talkdesk with the days the reports need, then read it; "
        "without --start/--end: the last complete week in --timezone",
    )
    fetching.add_argument(
        "--store",
        default=None,
        metavar="DIR",
        help="the store to fill and read, with --fetch (default: data/omnikit-store)",
    )
    fetching.add_argument(
        "--week-start",
        type=_weekday,
        default=None,
        metavar="DAY",
        help="with --fetch: the day weeks start on (default: monday)",
    )
    fetching.add_argument(
        "--settle",
        type=_days,
        default=None,
        metavar="DAYS",
        help="with --fetch: days before a fetch that Talkdesk may still update, fetched "
        "again by the next run (default: 3)",
    )
    fetching.add_argument(
        "--max-jobs",
        type=_jobs,
        default=4,
        metavar="N",
        help="with --fetch: report jobs to run at once (default: 4)",
    )
    bar = fetching.add_mutually_exclusive_group()
    bar.add_argument(
        "--progress",
        dest="progress",
        action="store_true",
        default=None,
        help="always show progress bars (default: when stderr is a terminal)",
    )
    bar.add_argument("--no-progress", dest="progress", action="store_false")
    parser.set_defaults(handler=run, _parser=parser)


def _format_listing(reports: dict[str, dict[str, dict[str, object]]]) -> str:
    lines = []
    for name, parameters in reports.items():
        lines.append(name)
        width = max((len(key) for key in parameters), default=0)
        for key, info in parameters.items():
            help_text = f"  {info['help']}" if info["help"] else ""
            lines.append(f"  {key:<{width}}  {info['type']} = {info['default']}{help_text}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


class _OutOfTime(BaseException):
    """Raised by the alarm when ``--timeout`` has run out (a BaseException: nothing swallows it)."""


@contextlib.contextmanager
def _deadline(seconds: float | None) -> Iterator[None]:
    """Interrupt what runs inside after ``seconds`` (wall clock; the main thread only)."""
    if seconds is None or not hasattr(signal, "setitimer"):
        yield
        return

    def ring(signum: int, frame: FrameType | None) -> None:
        raise _OutOfTime

    previous = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.001))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def _kernel_quiet(progress: bool) -> Iterator[None]:
    """Send the process's stderr to /dev/null while a report runs (not omnikit's own lines).

    The Jupyter kernel (a child process that inherits stderr) and its client print tracebacks
    and log lines of their own when a run is stopped or fails; what went wrong is in the kept
    notebook and in omnikit's one line, printed after. With a progress bar (``progress``),
    Python's own ``sys.stderr`` keeps writing to the real stderr.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real stderr (embedded, captured): nothing to protect
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    own = sys.stderr
    try:
        if progress:
            sys.stderr = open(saved, "w", closefd=False)  # noqa: SIM115 - closed below
        os.dup2(devnull, 2)
        yield
    finally:
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.flush()
            own.flush()
        os.dup2(saved, 2)
        if sys.stderr is not own:
            sys.stderr.close()
            sys.stderr = own
        os.close(saved)
        os.close(devnull)


def _check(args: argparse.Namespace) -> tuple[list[str], dict[str, dict[str, str]]]:
    """Check every argument and parameter before anything starts; return them per report."""
    from .._errors import ParameterError
    from .._parameters import _notebook_path, _parameters_of, _validate
    from .._render import check_out

    if not args.name:
        raise ParameterError("give a report NAME (or several), or --list to see them")
    names = list(dict.fromkeys(args.name))
    if args.fetch and args.source:
        raise ParameterError("--fetch reads the store it fills; give --source or --fetch")
    if not args.fetch:
        for option, value in (
            ("--store", args.store),
            ("--week-start", args.week_start),
            ("--settle", args.settle),
        ):
            if value is not None:
                raise ParameterError(f"{option} is used only with --fetch")
    given: dict[str, str] = {}
    for key, value in args.parameter:
        if key in given:
            raise ParameterError(f"parameter {key!r} is given twice (-p {key} ...)")
        given[key] = value
    declared = {name: _parameters_of(_notebook_path(name)) for name in names}
    unknown = sorted(set(given) - {key for params in declared.values() for key in params})
    if unknown:
        raise ParameterError(
            f"no report of {', '.join(names)} has a parameter {', '.join(map(repr, unknown))}"
            " (see omnikit report --list)"
        )
    per_report = {}
    for name in names:
        mine = {key: value for key, value in given.items() if key in declared[name]}
        period = {"start": args.start, "end": args.end} if not args.fetch else {}
        period = {key: value for key, value in period.items() if value is not None}
        _validate(name, {**mine, **period, "timezone": args.timezone}, declared[name])
        per_report[name] = mine
    if args.fetch:
        from .._schedule import report_period

        report_period(args.start, args.end, timezone=args.timezone)  # before any credentials
    check_out(args.out)
    return names, per_report


#: Seconds the alarm waits after the deadline for a cell's own time limit to end the run cleanly.
_GRACE = 5.0
_NO_TIME = 0.001


def _out_of_time(name: str, args: argparse.Namespace, cause: BaseException | None) -> Any:
    from .._errors import ReportExecutionError

    return ReportExecutionError(
        f"report {name!r} stopped: the command ran longer than --timeout {args.timeout:g} s; "
        f"the last good outputs in {args.out} are unchanged",
        notebook=name,
        output_path=getattr(cause, "output_path", None),
    )


def run(args: argparse.Namespace) -> int:
    """Render the reports (after filling the store with ``--fetch``), or list them."""
    from .._errors import OmnikitError, ReportExecutionError
    from .._parameters import list_reports
    from .._render import DEFAULT_TIMEOUT, render_report

    started = time.monotonic()
    if args.list:
        sys.stdout.write(_format_listing(list_reports()))
        return OK
    names, parameters = _check(args)

    def left() -> float | None:
        if args.timeout is None:
            return None
        return max(_NO_TIME, args.timeout - (time.monotonic() - started))

    source, start, end = args.source, args.start, args.end
    if args.fetch:
        filled = _fill(args, names, left())
        source = [filled["store"]]
        start, end = filled["start"], filled["end"]
    shows_bar = sys.stderr.isatty() if args.progress is None else args.progress
    status = OK
    for name in names:
        remaining = left()
        cell_limit = DEFAULT_TIMEOUT if remaining is None else min(DEFAULT_TIMEOUT, remaining)
        try:
            # The cell limit ends a long cell cleanly at the deadline; the alarm, a little
            # later, is the backstop for many short cells.
            with (
                _kernel_quiet(shows_bar),
                _deadline(None if remaining is None else remaining + _GRACE),
            ):
                report = render_report(
                    name,
                    source=source,
                    start=start,
                    end=end,
                    timezone=args.timezone,
                    out=args.out,
                    parameters=parameters[name],
                    redact=args.redact,
                    kernel_name=args.kernel,
                    timeout=cell_limit,
                    progress=args.progress,
                )
        except _OutOfTime:
            error: OmnikitError = _out_of_time(name, args, None)
        except OmnikitError as caught:
            out_of_time = isinstance(caught, ReportExecutionError) and left() == _NO_TIME
            error = _out_of_time(name, args, caught) if out_of_time else caught
        else:
            print(f"{report.notebook}\n{report.html}")
            continue
        if len(names) == 1:
            raise error
        # Several reports: the others are still rendered; the status is the first failure's.
        print(f"omnikit report: error: {' '.join(str(error).split())}", file=sys.stderr)
        status = status or exit_status(error)
    if not args.redact:
        print(
            "note: not redacted: this report shows customer names and contacts; do not share it",
            file=sys.stderr,
        )
    return status


def _fill(args: argparse.Namespace, names: list[str], timeout: float | None) -> dict[str, Any]:
    """Fill the store once for all ``names``; print what was fetched."""
    from .._schedule import SETTLE_DAYS, fill_store
    from .._store import DEFAULT_STORE
    from ..explore import Credentials, ExploreClient

    store = args.store or DEFAULT_STORE
    credentials = Credentials.from_env()  # the environment only: no option takes a secret
    options: dict[str, Any] = {"max_concurrent_jobs": args.max_jobs}
    if timeout is not None:
        options["timeout"] = timeout
    with ExploreClient(credentials, **options) as client:
        filled = fill_store(
            names,
            start=args.start,
            end=args.end,
            timezone=args.timezone,
            store=store,
            week_start=args.week_start or "monday",
            settle_days=SETTLE_DAYS if args.settle is None else args.settle,
            client=client,
            progress=args.progress,
        )
    for line in filled.lines():
        print(f"omnikit report: fetched {line}")
    return {"store": store, "start": filled.start.isoformat(), "end": filled.end.isoformat()}
