"""The ``omnikit`` command line.

Each subcommand lives in its own module under ``omnikit/_commands/`` and exposes
``register(subparsers)``, which adds its parser and sets ``handler`` to a function taking the
parsed ``argparse.Namespace`` and returning an exit code. The list below is the registry.
Every subcommand shares one table of exit statuses (:mod:`omnikit._exit_status`): 0 done,
1 other error, 2 bad argument, 3 credentials, 4 Talkdesk API, 5 notebook, 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from ._errors import OmnikitError
from ._exit_status import INTERRUPTED, exit_status
from ._version import __version__

__all__ = ["main"]

#: Modules under ``omnikit._commands`` that each register one subcommand, in --help order.
COMMANDS: tuple[str, ...] = ("synth", "report", "demo", "fetch")


def build_parser() -> argparse.ArgumentParser:
    """Return the ``omnikit`` argument parser with every registered subcommand."""
    parser = argparse.ArgumentParser(
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
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        return int(handler(args) or 0)
    except OmnikitError as error:
        print(f"omnikit {args.command}: error: {_one_line(error)}", file=sys.stderr)
        return exit_status(error)
    except KeyboardInterrupt:
        print(f"omnikit {args.command}: interrupted", file=sys.stderr)
        return INTERRUPTED


def _one_line(error: OmnikitError) -> str:
    """The error's message on one line (a scheduler's log keeps one line per failure)."""
    return " ".join(str(error).split())
