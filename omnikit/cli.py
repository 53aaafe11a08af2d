"""The ``omnikit`` command line.

Each subcommand lives in its own module under ``omnikit/_commands/`` and exposes
``register(subparsers)``, which adds its parser and sets ``handler`` to a function taking the
parsed ``argparse.Namespace`` and returning an exit code. The list below is the registry.
Every subcommand shares one table of exit statuses (:mod:`omnikit._exit_status`): 0 done,
1 other error, 2 bad argument, 3 credentials, 4 Talkdesk API, 5 notebook, 130 interrupted.

Every parser is a :class:`CommandParser` (``add_subparsers`` hands the class on to each
subcommand's parser), whose :meth:`~CommandParser.error` raises a :class:`UsageError` instead of
printing a usage dump: :func:`main` prints it as one line on stderr and returns status 2, so an
unknown option, a missing or malformed argument and an unknown command all read alike::

    omnikit fetch: error: unrecognized arguments: --bogus (see omnikit fetch --help)

``--help`` and ``--version`` still print to stdout and exit with status 0.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import NoReturn

from ._errors import OmnikitError, ParameterError
from ._exit_status import INTERRUPTED, exit_status
from ._version import __version__

__all__ = ["main"]

#: Modules under ``omnikit._commands`` that each register one subcommand, in --help order.
COMMANDS: tuple[str, ...] = ("synth", "report", "demo", "fetch")


class UsageError(ParameterError):
    """A bad command-line argument found by the parser (exit status 2, as every ``ParameterError``).

    Parameters
    ----------
    message
        What is wrong, ending with where to read the usage.
    prog
        The command it belongs to (``"omnikit fetch"``), which starts the line printed.
    """

    def __init__(self, message: str, *, prog: str) -> None:
        super().__init__(message)
        self.prog = prog


class CommandParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are :class:`UsageError` exceptions, not a usage dump.

    Examples
    --------
    >>> parser = CommandParser(prog="omnikit demo")
    >>> _ = parser.add_argument("--rows", type=int)
    >>> parser.parse_args(["--rows", "many"])
    Traceback (most recent call last):
    omnikit.cli.UsageError: argument --rows: invalid int value: 'many' (see omnikit demo --help)
    """

    def error(self, message: str) -> NoReturn:
        """Raise the argument error as a :class:`UsageError` naming this command's ``--help``."""
        raise UsageError(f"{message} (see {self.prog} --help)", prog=self.prog)


def build_parser() -> CommandParser:
    """Return the ``omnikit`` argument parser with every registered subcommand."""
    parser = CommandParser(
        prog="omnikit",
        description="Talkdesk Customer Omnichannel Report analytics.",
    )
    parser.add_argument("--version", action="version", version=f"omnikit {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"omnikit._commands.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit code."""
    parser = build_parser()
    try:
        args = _parse(parser, argv)
    except UsageError as error:
        print(f"{error.prog}: error: {_one_line(error)}", file=sys.stderr)
        return exit_status(error)
    try:
        return int(args.handler(args) or 0)
    except OmnikitError as error:
        print(f"omnikit {args.command}: error: {_one_line(error)}", file=sys.stderr)
        return exit_status(error)
    except KeyboardInterrupt:
        print(f"omnikit {args.command}: interrupted", file=sys.stderr)
        return INTERRUPTED


def _parse(parser: CommandParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """The parsed arguments, or a :class:`UsageError` (raised by the parsers, or here for
    arguments no parser took and for a missing command)."""
    args, extras = parser.parse_known_args(argv)
    command = getattr(args, "command", None)
    prog = f"{parser.prog} {command}" if command else parser.prog
    if extras:
        raise UsageError(
            f"unrecognized arguments: {' '.join(extras)} (see {prog} --help)", prog=prog
        )
    if getattr(args, "handler", None) is None:
        raise UsageError(
            f"give a COMMAND: {', '.join(COMMANDS)} (see {parser.prog} --help)", prog=parser.prog
        )
    return args


def _one_line(error: OmnikitError) -> str:
    """The error's message on one line (a scheduler's log keeps one line per failure)."""
    return " ".join(str(error).split())
