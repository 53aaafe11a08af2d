"""``ok.fetch``: fill the local store from Talkdesk's Explore API and read the range back.

It joins the two halves: :class:`omnikit.explore.ExploreClient` runs the jobs, and the store
(:mod:`omnikit._store`) keeps their rows, one Parquet file per day, with a manifest of the
spans fetched completely.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from ._store import DEFAULT_STORE, Span, Store, subtract_spans

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

    def __str__(self) -> str:
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
        environment (``TALKDESK_*``).
    refetch
        Fetch spans the manifest already has, too.
    progress
        Show a progress bar on stderr; default: when stderr is a terminal.
    summary
        A :class:`FetchSummary` to fill in (the command line prints it).
    read
        Read the range back from the store and return it (``False``: only fill the store and
        return None, as ``omnikit fetch`` does).

    Returns
    -------
    polars.DataFrame or None
        The canonical rows of ``[start, end)`` in the store, after the fetch.

    Examples
    --------
    >>> import omnikit as ok
    >>> df = ok.fetch("2024-09-02", "2024-09-09", timezone="Europe/Lisbon")  # doctest: +SKIP
    """
    from .explore import ExploreClient, clamp_range, split_range

    begin, finish = clamp_range(start, end, timezone)
    target = Store(store, timezone=timezone)
    says = summary is None  # the command line prints the summary; Python callers get a warning
    if summary is None:
        summary = FetchSummary(target.path, timezone, begin, finish)
    else:
        summary.store, summary.timezone, summary.start, summary.end = (
            target.path,
            timezone,
            begin,
            finish,
        )
    owns_client = client is None
    if client is None:
        client = ExploreClient()
    try:
        with target:
            # First, the day files against the manifest: a missing or damaged one is set
            # aside and its days are fetched again below.
            summary.damaged = target.check()
            for line in summary.damaged:
                logger.info("store %s: day file %s; its days are fetched again", target.path, line)
            if summary.damaged and says:
                warnings.warn(
                    f"the store {target.path} had {len(summary.damaged)} day file(s) missing or "
                    f"damaged ({'; '.join(summary.damaged)}); they were set aside and their days "
                    "are fetched again",
                    UserWarning,
                    stacklevel=2,
                )
            gaps = [(begin, finish)] if refetch else target.missing(begin, finish)
            summary.skipped = subtract_spans(begin, finish, gaps)
            spans = [span for gap in gaps for span in split_range(gap[0], gap[1], timezone)]
            with _progress_bar(len(spans), progress) as bar:
                # Downloads go into the store, so a killed fetch's partial file is cleaned up by
                # the next one (``ok.load`` skips names starting with ".").
                for part in client.iter_spans(spans, timezone, download_dir=target.path):
                    written = target.write(part.frame, span_start=part.start, span_end=part.end)
                    target.mark_complete(
                        part.start, part.end, fetched_at=part.fetched_at, job_id=part.job_id
                    )
                    summary.fetched.append((part.start, part.end))
                    summary.rows += part.frame.height
                    summary.files.update(p.name for p in written)
                    bar.update(1)
            return target.read(begin, finish) if read else None
    finally:
        if owns_client:
            client.close()


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
