"""``omnikit fetch``: pull the report from Talkdesk's Explore API into a local Parquet store.

    omnikit fetch --from 2024-09-02 --to 2024-09-09 --timezone Europe/Lisbon

Credentials come from the environment (``TALKDESK_ACCOUNT``, ``TALKDESK_CLIENT_ID``,
``TALKDESK_CLIENT_SECRET``, optional ``TALKDESK_REGION``; ``TALKDESK_API_URL`` and
``TALKDESK_TOKEN_URL`` override the endpoints) or from a file named with ``--credentials``;
there is deliberately no option that takes a secret.
"""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
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
        metavar="DATE",
        help="first day (YYYY-MM-DD) or ISO date-time, included",
    )
    parser.add_argument(
        "--to",
        dest="end",
        required=True,
        metavar="DATE",
        help="last day or date-time, excluded (clamped to now - 60 s)",
    )
    parser.add_argument(
        "--timezone",
        default="UTC",
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
        "--credentials",
        metavar="FILE",
        help="read the TALKDESK_* variables from this NAME=value file instead",
    )
    parser.add_argument(
        "--max-jobs",
        type=int,
        default=4,
        metavar="N",
        help="report jobs to run at once (default: 4; Talkdesk allows 15 per account)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=3600.0,
        metavar="SECONDS",
        help="give up after this long (default: 3600)",
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
    """Run ``omnikit fetch``; print a one-line summary."""
    from .._fetch import FetchSummary, fetch
    from ..explore import Credentials, ExploreClient

    credentials = (
        Credentials.from_file(args.credentials) if args.credentials else Credentials.from_env()
    )
    summary = FetchSummary(Path(args.store), args.timezone, None, None)  # type: ignore[arg-type]  # fetch fills them
    with ExploreClient(
        credentials, max_concurrent_jobs=args.max_jobs, timeout=args.timeout
    ) as client:
        fetch(
            args.start,
            args.end,
            timezone=args.timezone,
            store=args.store,
            client=client,
            refetch=args.refetch,
            progress=args.progress,
            summary=summary,
            read=False,  # the store is the result; nothing to read back
        )
    print(f"omnikit fetch: {summary}")
    return 0
