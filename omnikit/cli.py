"""The ``omnikit`` command line.

Each subcommand lives in its own module under ``omnikit/_commands/`` and exposes
``register(subparsers)``, which adds its parser and sets ``handler`` to a function taking the
parsed ``argparse.Namespace`` and returning an exit code. The list below is the registry.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from ._errors import OmnikitError
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
        print(f"omnikit {args.command}: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"omnikit {args.command}: interrupted", file=sys.stderr)
        return 130
