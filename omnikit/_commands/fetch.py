"""``omnikit fetch``: pull the report from Talkdesk's Explore API into a local Parquet store.

    omnikit fetch --from 2024-09-02 --to 2024-09-09 --timezone Europe/Lisbon
    omnikit fetch --from 2024-09-02 --to 2024-09-09 --account acme --account acme-eu

Credentials come from the environment (``TALKDESK_ACCOUNT``, ``TALKDESK_CLIENT_ID``,
``TALKDESK_CLIENT_SECRET``, optional ``TALKDESK_REGION``; ``TALKDESK_API_URL`` and
``TALKDESK_TOKEN_URL`` override the endpoints; with ``--account NAME``, the same names with the
account in them: ``TALKDESK_<NAME>_CLIENT_ID``, ...) or from a file named with
``--credentials``; there is deliberately no option that takes a secret.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import math
import sys
import time
import zoneinfo
from pathlib import Path

__all__ = ["register"]

from .._exit_status import USAGE


def _when(text: str) -> str:
    """``--from``/``--to``: a date or an ISO date-time (read in the timezone later)."""
    try:
        if len(text.strip()) == 10:
            dt.date.fromisoformat(text.strip())
        else:
            dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date (YYYY-MM-DD) or an ISO 8601 date-time"
        ) from None
    return text


def _timezone(text: str) -> str:
    try:
        zoneinfo.ZoneInfo(text)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an IANA timezone such as Europe/Lisbon"
        ) from None
    return text


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return value


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 15:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a whole number from 1 to 15 (Talkdesk runs 15 jobs per account)"
        )
    return value


def _account(text: str) -> str:
    from .._errors import ParameterError
    from .._store import account_dir

    try:
        account_dir(".", text)
    except ParameterError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``fetch`` subcommand."""
    parser = subparsers.add_parser(
        "fetch",
        help="pull the report from the Talkdesk Explore API into a local Parquet store",
        description=(
            "Pull the Customer Omnichannel Report from the Talkdesk Explore API into a store of "
            "one Parquet file per day. Only spans the store does not have are fetched; an "
            "interrupted fetch is completed by running it again. Credentials come from "
            "TALKDESK_ACCOUNT, TALKDESK_CLIENT_ID, TALKDESK_CLIENT_SECRET (and TALKDESK_REGION: "
            "us, eu or ca) in the environment, or from --credentials FILE."
        ),
    )
    parser.add_argument(
        "--from",
        dest="start",
        required=True,
        type=_when,
        metavar="DATE",
        help="first day (YYYY-MM-DD) or ISO date-time, included",
    )
    parser.add_argument(
        "--to",
        dest="end",
        required=True,
        type=_when,
        metavar="DATE",
        help="last day or date-time, excluded (clamped to now - 60 s)",
    )
    parser.add_argument(
        "--timezone",
        default="UTC",
        type=_timezone,
        metavar="TZ",
        help="IANA timezone of the dates and of the report (default: UTC)",
    )
    parser.add_argument(
        "--store",
        default="data/omnikit-store",
        metavar="DIR",
        help="store directory (default: data/omnikit-store)",
    )
    parser.add_argument(
        "--account",
        dest="accounts",
        action="append",
        type=_account,
        metavar="NAME",
        help=(
            "a Talkdesk account to fetch (repeatable): each is fetched at the same time, with "
            "its own job quota, into the partition interactions/account=NAME/ of the store, "
            "with credentials from TALKDESK_<NAME>_CLIENT_ID, TALKDESK_<NAME>_CLIENT_SECRET "
            "(optional _REGION, _API_URL, _TOKEN_URL; NAME upper-cased, other characters than "
            "letters and digits as _)"
        ),
    )
    parser.add_argument(
        "--credentials",
        metavar="FILE",
        help="read the TALKDESK_* variables from this NAME=value file instead",
    )
    parser.add_argument(
        "--max-jobs",
        type=_jobs,
        default=4,
        metavar="N",
        help="report jobs to run at once per account (default: 4; Talkdesk allows 15 per account)",
    )
    parser.add_argument(
        "--timeout",
        type=_seconds,
        default=3600.0,
        metavar="SECONDS",
        help="give up when the whole command has taken this long (default: 3600)",
    )
    parser.add_argument(
        "--refetch",
        action="store_true",
        help="fetch spans the store already has, too (newer rows replace older)",
    )
    bar = parser.add_mutually_exclusive_group()
    bar.add_argument(
        "--progress",
        dest="progress",
        action="store_true",
        default=None,
        help="always show a progress bar (default: when stderr is a terminal)",
    )
    bar.add_argument("--no-progress", dest="progress", action="store_false")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run ``omnikit fetch``; print a one-line summary.

    ``--timeout`` bounds the whole command: the client's deadline starts here, and every
    request, wait and download is cut short by it.
    """
    from .._errors import ParameterError
    from .._fetch import FetchSummary, fetch
    from ..explore import Credentials, ExploreClient, clamp_range

    started = time.monotonic()
    store = Path(args.store)
    problem = None
    if store.exists() and not store.is_dir():
        problem = f"--store {store} is a file, not a directory"
    else:
        try:
            clamp_range(args.start, args.end, args.timezone)
        except ParameterError as error:
            problem = str(error)
    if problem is not None:
        print(f"omnikit fetch: error: {problem}", file=sys.stderr)
        return USAGE
    names: list[str | None] = list(args.accounts) if args.accounts else [None]
    credentials = {}
    for name in names:  # every account's credentials before anything starts
        if args.credentials:
            credentials[name] = Credentials.from_file(args.credentials, account=name)
        elif name is not None:
            credentials[name] = Credentials.for_account(name)
        else:
            credentials[name] = Credentials.from_env()
    summary = FetchSummary(store, args.timezone, None, None)  # type: ignore[arg-type]  # fetch fills them
    timeout = max(0.001, args.timeout - (time.monotonic() - started))
    with contextlib.ExitStack() as stack:
        clients = {
            name: stack.enter_context(
                ExploreClient(creds, max_concurrent_jobs=args.max_jobs, timeout=timeout)
            )
            for name, creds in credentials.items()
        }
        fetch(
            args.start,
            args.end,
            timezone=args.timezone,
            store=args.store,
            client=clients if args.accounts else clients[None],
            refetch=args.refetch,
            progress=args.progress,
            summary=summary,
            read=False,  # the store is the result; nothing to read back
            accounts=args.accounts,
        )
    for line in str(summary).splitlines():
        print(f"omnikit fetch: {line}")
    return 0
