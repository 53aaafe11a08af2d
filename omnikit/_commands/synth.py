"""``omnikit synth``: write seeded sample report files in the vendor's format.

omnikit synth week.json --n 100000 --seed 7 --indent 4
omnikit synth data/ --n 1000000 --windows 4 --overlap 1d --format ndjson

Every option is checked while the command line is parsed (a bad one is one line on stderr and
exit status 2, see ``omnikit.cli``), and the output path before anything is written: a PATH
under a file, in a folder that does not exist or cannot be written is a bad argument too.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .._errors import OmnikitError, ParameterError
from .._synth import synth_report, synth_reports
from .._time import check_timezone, duration_seconds, parse_day

__all__ = ["register"]


def _whole(minimum: int | None) -> Callable[[str], int]:
    """An option's type: a whole number, at least ``minimum`` (when given)."""
    wanted = "a whole number" if minimum is None else f"a whole number >= {minimum}"

    def whole(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {wanted}") from None
        if minimum is not None and value < minimum:
            raise argparse.ArgumentTypeError(f"{text!r} is not {wanted}")
        return value

    return whole


def _checked(name: str, check: Callable[[str, str], object]) -> Callable[[str], str]:
    """An option's type: the text, if ``check`` (one of :mod:`omnikit._time`'s) accepts it;
    its message without the leading ``name:``, which argparse's ``argument --NAME:`` says."""

    def checked(text: str) -> str:
        try:
            check(text, name)
        except ParameterError as error:
            message = str(error).removeprefix(f"{name}: ")
            raise argparse.ArgumentTypeError(message) from None
        return text

    return checked


_overlap = _checked("overlap", lambda text, name: duration_seconds(text, name=name, numbers=False))
_start = _checked("start", lambda text, name: parse_day(text, name=name))
_timezone = _checked("timezone", lambda text, name: check_timezone(text, name=name))


def _folder_problem(folder: Path) -> str | None:
    """Why files cannot be written in ``folder`` (or its nearest existing ancestor), or None."""
    probe = folder
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        return f"{str(probe)!r} is a file, not a folder"
    if not os.access(probe, os.W_OK | os.X_OK):
        return f"the folder {str(probe)!r} cannot be written"
    return None


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
        "--n", type=_whole(0), default=10_000, help="number of interactions (default 10000)"
    )
    parser.add_argument(
        "--seed", type=_whole(None), default=0, help="seed; the same seed gives the same files"
    )
    parser.add_argument(
        "--format",
        choices=("json", "ndjson", "csv"),
        default=None,
        help="file format (default: from PATH's suffix; json for a directory)",
    )
    parser.add_argument(
        "--indent",
        type=_whole(0),
        default=None,
        help="pretty JSON with this many spaces (vendor: 4)",
    )
    parser.add_argument(
        "--windows",
        type=_whole(1),
        default=None,
        help="write this many overlapping report files into the directory PATH (default 4)",
    )
    parser.add_argument(
        "--overlap",
        type=_overlap,
        default="1d",
        help="how far each window reaches into the previous (default 1d)",
    )
    parser.add_argument("--start", type=_start, default="2024-09-02", help="first day, YYYY-MM-DD")
    parser.add_argument("--days", type=_whole(1), default=28, help="days covered (default 28)")
    parser.add_argument(
        "--customers",
        type=_whole(1),
        default=None,
        help="distinct customers (default: 0.15 per interaction)",
    )
    parser.add_argument(
        "--timezone",
        type=_timezone,
        default=None,
        help="avoid wall-clock times that do not exist in this timezone (DST gaps)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Write the file(s) and print what was written."""
    path = Path(args.path)
    common: dict[str, Any] = {
        "seed": args.seed,
        "indent": args.indent,
        "start": args.start,
        "days": args.days,
        "customers": args.customers,
        "timezone": args.timezone,
    }
    several = args.windows is not None or path.is_dir() or (not path.suffix and not path.exists())
    if several and path.exists() and not path.is_dir():
        raise ParameterError(f"{str(path)!r} is a file; --windows needs a directory")
    problem = _folder_problem(path if several else path.parent)
    if problem is not None:
        raise ParameterError(f"{args.path}: {problem}")
    if not several and not path.parent.is_dir():
        raise ParameterError(f"{args.path}: the folder {str(path.parent)!r} does not exist")
    try:
        paths = _write(path, args, several, common)
    except OSError as error:  # a full disk, a folder changed meanwhile: one line, no traceback
        where = error.filename or args.path
        raise OmnikitError(f"cannot write {where}: {error.strerror or error}") from None
    for written in paths:
        print(f"{written}  ({written.stat().st_size / 1e6:,.1f} MB)")
    print(f"{args.n:,} interactions, seed {args.seed}, in {len(paths)} file(s)")
    return 0


def _write(
    path: Path, args: argparse.Namespace, several: bool, common: dict[str, Any]
) -> list[Path]:
    if several:
        return synth_reports(
            path,
            args.n,
            windows=4 if args.windows is None else args.windows,
            overlap=args.overlap,
            format=args.format or "json",
            **common,
        )
    return [synth_report(path, args.n, format=args.format, **common)]
