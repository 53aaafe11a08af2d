"""``omnikit synth``: write seeded sample report files in the vendor's format.

omnikit synth week.json --n 100000 --seed 7 --indent 4
omnikit synth data/ --n 1000000 --windows 4 --overlap 1d --format ndjson
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .._errors import ParameterError
from .._synth import synth_report, synth_reports


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``synth`` subcommand."""
    parser = subparsers.add_parser(
        "synth",
        help="write seeded sample report files (JSON envelope, NDJSON or CSV)",
        description=(
            "Write a synthetic Customer Omnichannel Report in the vendor's format. PATH is a "
            "file (format from its suffix: .json, .jsonl/.ndjson, .csv), or a directory (an "
            "existing one, or a new path without a suffix): then several report files whose "
            "windows overlap are written into it (as with --windows)."
        ),
    )
    parser.add_argument("path", metavar="PATH", help="file or directory to write")
    parser.add_argument(
        "--n", type=int, default=10_000, help="number of interactions (default 10000)"
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed; the same seed gives the same files"
    )
    parser.add_argument(
        "--format",
        choices=("json", "ndjson", "csv"),
        default=None,
        help="file format (default: from PATH's suffix; json for a directory)",
    )
    parser.add_argument(
        "--indent", type=int, default=None, help="pretty JSON with this many spaces (vendor: 4)"
    )
    parser.add_argument(
        "--windows",
        type=int,
        default=None,
        help="write this many overlapping report files into the directory PATH (default 4)",
    )
    parser.add_argument(
        "--overlap", default="1d", help="how far each window reaches into the previous (default 1d)"
    )
    parser.add_argument("--start", default="2024-09-02", help="first day, YYYY-MM-DD")
    parser.add_argument("--days", type=int, default=28, help="days covered (default 28)")
    parser.add_argument(
        "--customers",
        type=int,
        default=None,
        help="distinct customers (default: 0.15 per interaction)",
    )
    parser.add_argument(
        "--timezone",
        default=None,
        help="avoid wall-clock times that do not exist in this timezone (DST gaps)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Write the file(s) and print what was written."""
    path = Path(args.path)
    common = {
        "seed": args.seed,
        "indent": args.indent,
        "start": args.start,
        "days": args.days,
        "customers": args.customers,
        "timezone": args.timezone,
    }
    if args.windows is not None or path.is_dir() or (not path.suffix and not path.exists()):
        if path.exists() and not path.is_dir():
            raise ParameterError(f"{str(path)!r} is a file; --windows needs a directory")
        paths = synth_reports(
            path,
            args.n,
            windows=4 if args.windows is None else args.windows,
            overlap=args.overlap,
            format=args.format or "json",
            **common,
        )
    else:
        if not path.parent.is_dir():
            raise ParameterError(f"directory {str(path.parent)!r} does not exist")
        paths = [synth_report(path, args.n, format=args.format, **common)]
    for written in paths:
        print(f"{written}  ({written.stat().st_size / 1e6:,.1f} MB)")
    print(f"{args.n:,} interactions, seed {args.seed}, in {len(paths)} file(s)")
    return 0
