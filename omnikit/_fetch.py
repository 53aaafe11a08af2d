"""``ok.fetch``: fill the local store from Talkdesk's Explore API and read the range back.

It joins the two halves: :class:`omnikit.explore.ExploreClient` runs the jobs, and the store
(:mod:`omnikit._store`) keeps their rows, one Parquet file per day, with a manifest of the
spans fetched completely. Several accounts are fetched at once, each by its own client (the
job quota is per account) into its own ``account=NAME/`` partition of the store's table.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import sys
import threading
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from ._errors import ParameterError
from ._store import (
    ACCOUNT_KEY,
    DEFAULT_STORE,
    Span,
    Store,
    store_accounts,
    subtract_spans,
)

__all__ = ["fetch"]

logger = logging.getLogger("omnikit.store")


@dataclass
class FetchSummary:
    """What :func:`fetch` did: spans fetched and skipped, rows and day files written."""

    store: Path
    timezone: str
    start: dt.datetime
    end: dt.datetime
    fetched: list[Span] = field(default_factory=list)
    skipped: list[Span] = field(default_factory=list)
    rows: int = 0
    files: set[str] = field(default_factory=set)
    #: Day files found missing or damaged at the start (their days were fetched again).
    damaged: list[str] = field(default_factory=list)
    #: With several accounts: one summary per account, by name.
    accounts: dict[str, FetchSummary] = field(default_factory=dict)

    def __str__(self) -> str:
        if self.accounts:
            return "\n".join(f"account {name}: {part}" for name, part in self.accounts.items())
        range_text = f"{self.start.isoformat()} .. {self.end.isoformat()} ({self.timezone})"
        repaired = (
            f"{len(self.damaged)} day file(s) missing or damaged, their days fetched again: "
            + ", ".join(self.damaged)
            + "; "
            if self.damaged
            else ""
        )
        if not self.fetched:
            return (
                f"{range_text}: {repaired}already complete in {self.store}; nothing fetched "
                "(use --refetch to fetch again)"
            )
        return (
            f"{range_text}: {repaired}{len(self.fetched)} job(s), {self.rows:,} interactions "
            f"into {len(self.files)} day file(s) in {self.store}"
            + (f"; {len(self.skipped)} span(s) already complete" if self.skipped else "")
        )


def fetch(
    start: str | dt.date | dt.datetime,
    end: str | dt.date | dt.datetime,
    *,
    timezone: str = "UTC",
    store: str | os.PathLike[str] = DEFAULT_STORE,
    client: Any = None,
    refetch: bool = False,
    progress: bool | None = None,
    summary: FetchSummary | None = None,
    read: bool = True,
    accounts: Sequence[str] | None = None,
) -> pl.DataFrame | None:
    """Fetch ``[start, end)`` from Talkdesk into ``store`` and return its rows.

    Only what the store's manifest does not already hold is fetched (``refetch=True`` fetches
    everything again; the newer rows win). Each job's rows are merged into the day files and
    its span marked complete as soon as it finishes, so an interrupted fetch keeps what was
    done and the next call completes it. First, the day files are checked against the
    manifest: a missing or damaged one is set aside and its days fetched again (with a
    ``UserWarning``, or in ``summary.damaged``). A file-system failure is a
    :class:`~omnikit.StoreError` naming the path.

    Parameters
    ----------
    start, end
        ``start`` included, ``end`` excluded: dates (``YYYY-MM-DD``, midnight in ``timezone``)
        or ISO date-times. ``end`` is clamped to now - 60 s (Talkdesk's data lag).
    timezone
        The report timezone (IANA); the store keeps one.
    store
        The store directory.
    client
        An :class:`omnikit.explore.ExploreClient`; by default one with credentials from the
        environment (``TALKDESK_*``). With ``accounts``, a mapping of account name to client
        (by default one per account, from ``TALKDESK_<ACCOUNT>_*``).
    refetch
        Fetch spans the manifest already has, too.
    progress
        Show a progress bar on stderr; default: when stderr is a terminal.
    summary
        A :class:`FetchSummary` to fill in (the command line prints it).
    read
        Read the range back from the store and return it (``False``: only fill the store and
        return None, as ``omnikit fetch`` does).
    accounts
        Talkdesk account names: fetch each, at the same time, with its own client and job
        quota, into ``account=NAME/`` partitions of the store's table (each with its own
        manifest, in ``accounts/NAME/``).
        Credentials come from ``TALKDESK_<ACCOUNT>_CLIENT_ID``, ``..._CLIENT_SECRET`` and the
        optional ``..._REGION``, ``..._API_URL``, ``..._TOKEN_URL`` (the name upper-cased, other
        characters than letters and digits as ``_``). An account that fails does not stop the
        others; its error is raised when they are done, naming the account.

    Returns
    -------
    polars.DataFrame or None
        The canonical rows of ``[start, end)`` in the store, after the fetch; with
        ``accounts``, every account's rows with an ``account`` column.

    Examples
    --------
    >>> import omnikit as ok
    >>> df = ok.fetch("2024-09-02", "2024-09-09", timezone="Europe/Lisbon")  # doctest: +SKIP
    """
    from .explore import ExploreClient, clamp_range

    begin, finish = clamp_range(start, end, timezone)
    says = summary is None  # the command line prints the summary; Python callers get a warning
    if summary is None:
        summary = FetchSummary(Path(store), timezone, begin, finish)
    else:
        summary.store, summary.timezone, summary.start, summary.end = (
            Path(store),
            timezone,
            begin,
            finish,
        )
    if accounts is not None:
        return _fetch_accounts(
            list(accounts), begin, finish, timezone, Path(store), client, refetch, progress,
            summary, says, read,
        )  # fmt: skip
    target = Store(store, timezone=timezone)
    owns_client = client is None
    if client is None:
        client = ExploreClient()
    try:
        with target:
            spans = _prepare(target, begin, finish, refetch, summary, says)
            with _progress_bar(len(spans), progress) as bar:
                _run(target, client, spans, timezone, summary, bar)
            return target.read(begin, finish) if read else None
    finally:
        if owns_client:
            client.close()


def _prepare(
    target: Store,
    begin: dt.datetime,
    finish: dt.datetime,
    refetch: bool,
    summary: FetchSummary,
    says: bool,
) -> list[Span]:
    """Check the store against its manifest, and plan the job spans still to fetch."""
    from .explore import split_range

    # First, the day files against the manifest: a missing or damaged one is set aside and
    # its days are fetched again.
    summary.damaged = target.check()
    for line in summary.damaged:
        logger.info("store %s: day file %s; its days are fetched again", target.path, line)
    if summary.damaged and says:
        warnings.warn(
            f"the store {target.path} had {len(summary.damaged)} day file(s) missing or "
            f"damaged ({'; '.join(summary.damaged)}); they were set aside and their days "
            "are fetched again",
            UserWarning,
            stacklevel=3,
        )
    gaps = [(begin, finish)] if refetch else target.missing(begin, finish)
    summary.skipped = subtract_spans(begin, finish, gaps)
    return [span for gap in gaps for span in split_range(gap[0], gap[1], target.timezone)]


def _run(
    target: Store,
    client: Any,
    spans: list[Span],
    timezone: str,
    summary: FetchSummary,
    bar: Any,
    stop: threading.Event | None = None,
) -> None:
    """Run the jobs of ``spans``; merge each one's rows into the store as soon as it is done."""
    # Downloads go beside the store's manifest (never into its table), so a killed fetch's
    # partial file is cleaned up by the next one.
    for part in client.iter_spans(spans, timezone, download_dir=target.meta):
        if stop is not None and stop.is_set():
            return
        written = target.write(part.frame, span_start=part.start, span_end=part.end)
        target.mark_complete(part.start, part.end, fetched_at=part.fetched_at, job_id=part.job_id)
        summary.fetched.append((part.start, part.end))
        summary.rows += part.frame.height
        summary.files.update(target._rel(p) for p in written)
        bar.update(1)


def _fetch_accounts(
    names: list[str],
    begin: dt.datetime,
    finish: dt.datetime,
    timezone: str,
    root: Path,
    client: Any,
    refetch: bool,
    progress: bool | None,
    summary: FetchSummary,
    says: bool,
    read: bool,
) -> pl.DataFrame | None:
    """:func:`fetch` of several accounts: one thread, client and store partition each."""
    from ._explore._credentials import account_prefix as prefix
    from .explore import Credentials, ExploreClient

    if not names:
        raise ParameterError("accounts is empty: name at least one Talkdesk account")
    if len(set(names)) != len(names):
        raise ParameterError(f"an account is named twice in {names}")
    clash = {prefix(a) for a in names}
    if len(clash) != len(names):
        raise ParameterError(
            f"the accounts {names} read the same TALKDESK_<ACCOUNT>_* variables; "
            "fetch them into separate stores"
        )
    targets = {name: Store(root, timezone=timezone, account=name) for name in names}
    if client is not None and not isinstance(client, Mapping):
        raise ParameterError("with accounts, client is a mapping of account name to client")
    clients: dict[str, Any] = dict(client or {})
    owned: list[Any] = []
    try:
        for name in names:  # every account's credentials before anything starts
            if name not in clients:
                clients[name] = ExploreClient(Credentials.for_account(name))
                owned.append(clients[name])
        summary.accounts = {
            name: FetchSummary(targets[name].path, timezone, begin, finish) for name in names
        }
        with contextlib.ExitStack() as stack:
            plans = {}
            for name in names:
                stack.enter_context(targets[name])
                plans[name] = _prepare(
                    targets[name], begin, finish, refetch, summary.accounts[name], says
                )
            errors: dict[str, BaseException] = {}
            stop = threading.Event()
            total = sum(len(spans) for spans in plans.values())
            with _progress_bar(total, progress) as bar:

                def work(name: str) -> None:
                    try:
                        _run(
                            targets[name],
                            clients[name],
                            plans[name],
                            timezone,
                            summary.accounts[name],
                            bar,
                            stop,
                        )
                    except BaseException as error:  # raised below, in the caller's thread
                        errors[name] = error

                # Daemon threads: Ctrl-C ends the command even when a download hangs (the
                # store's writes are crash-safe; the next fetch finishes them).
                threads = [
                    threading.Thread(
                        target=work, args=(n,), name=f"omnikit-account-{n}", daemon=True
                    )
                    for n in names
                ]
                for thread in threads:
                    thread.start()
                try:
                    for thread in threads:
                        while thread.is_alive():
                            thread.join(timeout=0.2)  # the main thread sees Ctrl-C at once
                except BaseException:
                    # Ctrl-C: no account writes after this; one in the middle of a write gets
                    # a moment to finish it before the stores' locks are let go.
                    stop.set()
                    until = time.monotonic() + 1.0
                    for thread in threads:
                        thread.join(timeout=max(0.0, until - time.monotonic()))
                    raise
            for name in names:
                if name in errors:
                    raise _named(errors[name], name)
            if not read:
                return None
            frames = [
                targets[n].read(begin, finish).with_columns(pl.lit(n).alias(ACCOUNT_KEY))
                for n in store_accounts(root)
                if n in targets
            ]
            return pl.concat(frames, how="diagonal_relaxed")
    finally:
        for each in owned:
            each.close()


def _named(error: BaseException, account: str) -> BaseException:
    """``error`` with its message saying which account it is about."""
    if error.args and isinstance(error.args[0], str):
        error.args = (f"account {account}: {error.args[0]}", *error.args[1:])
    return error


class _NoBar:
    def update(self, n: int = 1) -> None:
        pass


@contextlib.contextmanager
def _progress_bar(total: int, show: bool | None) -> Iterator[Any]:
    if show is None:
        show = sys.stderr.isatty()
    if not show or total == 0:
        yield _NoBar()
        return
    from tqdm import tqdm

    with tqdm(
        total=total, desc="omnikit fetch", unit="job", file=sys.stderr, leave=False, mininterval=0
    ) as bar:
        yield bar
