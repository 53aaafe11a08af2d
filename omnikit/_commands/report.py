"""``omnikit report NAME``: execute a report notebook and export it as offline HTML.

omnikit report weekly_report --source data/ --end 2024-09-30 --timezone Europe/Lisbon
omnikit report wait_times --source week.json -p threshold 30 -p target 0.85
omnikit report --list
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``report`` subcommand."""
    parser = subparsers.add_parser(
        "report",
        help="render a report notebook to reports/NAME.ipynb and reports/NAME.html",
        description=(
            "Execute notebooks/NAME.ipynb with papermill and write DIR/NAME.ipynb and "
            "DIR/NAME.html (code hidden, readable on a phone, works offline). Customer names, "
            "contacts, contact ids, "
            "transcriptions and notes are redacted unless --no-redact is given."
        ),
    )
    parser.add_argument("name", nargs="?", metavar="NAME", help="the report (see --list)")
    parser.add_argument("--list", action="store_true", help="name the reports and their parameters")
    parser.add_argument(
        "--source",
        action="append",
        metavar="PATH",
        help="report file, directory, glob or Parquet store (repeatable); default: sample data",
    )
    parser.add_argument(
        "--start",
        metavar="DATE",
        help="first day of the period (YYYY-MM-DD or ISO date-time), included",
    )
    parser.add_argument(
        "--end", metavar="DATE", help="end of the period (YYYY-MM-DD or ISO date-time), excluded"
    )
    parser.add_argument(
        "--timezone", default="UTC", metavar="TZ", help="IANA timezone of the data (default: UTC)"
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
        type=float,
        default=None,
        metavar="SECONDS",
        help="limit for one cell (default: 900)",
    )
    parser.add_argument(
        "--kernel",
        default=None,
        metavar="NAME",
        help="Jupyter kernel (default: omnikit, else this Python)",
    )
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


def run(args: argparse.Namespace) -> int:
    """Render one report, or list them."""
    from .._errors import ParameterError
    from .._parameters import list_reports
    from .._render import DEFAULT_TIMEOUT, render_report

    if args.list:
        sys.stdout.write(_format_listing(list_reports()))
        return 0
    if not args.name:
        args._parser.error("give a report NAME, or --list to see them")
    parameters: dict[str, str] = {}
    for key, value in args.parameter:
        if key in parameters:
            raise ParameterError(f"parameter {key!r} is given twice (-p {key} ...)")
        parameters[key] = value
    report = render_report(
        args.name,
        source=args.source,
        start=args.start,
        end=args.end,
        timezone=args.timezone,
        out=args.out,
        parameters=parameters,
        redact=args.redact,
        kernel_name=args.kernel,
        timeout=args.timeout if args.timeout is not None else DEFAULT_TIMEOUT,
    )
    print(f"{report.notebook}\n{report.html}")
    if not args.redact:
        print(
            "note: not redacted: this report shows customer names and contacts; do not share it",
            file=sys.stderr,
        )
    return 0
