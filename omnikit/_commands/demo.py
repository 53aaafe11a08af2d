"""``omnikit demo``: make sample report files and render every report from them.

omnikit demo                       # data/demo/ and reports/
omnikit demo --rows 100000 --out /tmp/reports
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .fetch import _timezone

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``demo`` subcommand."""
    parser = subparsers.add_parser(
        "demo",
        help="write sample data to data/demo/ and render every report into reports/",
        description=(
            "Generate a few weeks of synthetic Customer Omnichannel Report files "
            "(ok.synth_reports) "
            "and render every report from them, as `omnikit report NAME --source DIR` would."
        ),
    )
    parser.add_argument(
        "--data",
        default="data/demo",
        metavar="DIR",
        help="folder for the sample files (default: data/demo)",
    )
    parser.add_argument(
        "--out", default="reports", metavar="DIR", help="output folder (default: reports/)"
    )
    parser.add_argument(
        "--rows",
        type=int,
        default=50_000,
        metavar="N",
        help="interactions to generate (default: 50000)",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument(
        "--timezone",
        default="UTC",
        type=_timezone,
        metavar="TZ",
        help="IANA timezone of the sample data (default: UTC)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Write the sample data, then render each report."""
    from .._errors import ParameterError
    from .._parameters import list_reports
    from .._render import check_out, render_report
    from .._synth import synth_reports

    if args.rows <= 0:
        raise ParameterError(f"--rows: expected a positive number of interactions, got {args.rows}")
    data = Path(args.data)
    if data.exists() and not data.is_dir():
        raise ParameterError(f"--data {data}: is a file, not a folder")
    check_out(args.out)  # before any data is written: not notebooks/, not a file
    try:
        data.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ParameterError(f"--data {data}: cannot create the folder: {error.strerror}") from None
    began = time.perf_counter()
    written = synth_reports(data, args.rows, seed=args.seed, timezone=args.timezone)
    files = len(written) if written else len(list(data.iterdir()))
    print(
        f"sample data: {args.rows:,} interactions in {files} files under {data}/ "
        f"({time.perf_counter() - began:.1f} s)"
    )
    for name in list_reports():
        began = time.perf_counter()
        print(f"rendering {name} ...", end=" ", flush=True, file=sys.stdout)
        report = render_report(name, source=[data], timezone=args.timezone, out=args.out)
        print(f"{report.html} ({time.perf_counter() - began:.1f} s)")
    print(f"open {Path(args.out) / 'weekly_report.html'} in a browser; it works offline")
    return 0
