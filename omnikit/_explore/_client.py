"""The client: credentials, authentication, retries, jobs and the span runner put together."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import httpx
import polars as pl

from .._errors import ParameterError
from ._auth import TokenAuth
from ._credentials import Credentials
from ._jobs import FetchedSpan, Jobs
from ._ranges import MAX_JOB_SPAN, check_zone, clamp_range, span_text, split_range, utc
from ._retry import Deadline, RetryPolicy
from ._spans import RunContext, run_spans

__all__ = ["ExploreClient"]

Span = tuple[dt.datetime, dt.datetime]


class ExploreClient:
    """Fetch the Customer Omnichannel Report from Talkdesk's Explore API.

    Parameters
    ----------
    credentials
        :class:`Credentials`; default :meth:`Credentials.from_env`. Never pass secrets as
        literals: read them from the environment or a file.
    api_url, token_url
        Override the endpoints the credentials name. The token goes to these two origins
        only (scheme, host and port), never to a presigned URL or a redirect elsewhere.
    max_concurrent_jobs
        Jobs running at once (the API allows 15 per account, shared with other users).
    format
        ``"json"`` (default) or ``"csv"``: the file format asked of the API. Both are read by
        :func:`omnikit.load` into the same frame; JSON is the default because a body cut short
        no longer parses (its envelope is incomplete), while a cut CSV can still look whole.
    poll_interval, max_poll_interval
        First and largest wait between job status checks, in seconds (the wait grows 1.25x).
    timeout
        Seconds a whole :meth:`fetch` (or :meth:`iter_spans`) may take, every request
        included, before :class:`~omnikit.ExploreTimeoutError`.
    retries
        Attempts after the first for a request that failed with 5xx, 429 or a connection error,
        and for a download that broke off or arrived incomplete.
    backoff, max_backoff
        First and largest retry wait in seconds (doubling, with jitter); ``Retry-After`` wins.
    job_retries
        New jobs to create when a job ends ``failed`` before giving up.
    http_timeout
        Seconds to wait on the network for any one read.
    transport
        An ``httpx`` transport, for tests (e.g. ``httpx.MockTransport``).
    clock, sleep
        A monotonic clock and a sleep, for tests (default: :func:`time.monotonic` and a wait
        that Ctrl-C interrupts). Every wait of the client goes through them.

    Examples
    --------
    >>> with ExploreClient(max_concurrent_jobs=3) as client:  # doctest: +SKIP
    ...     df = client.fetch("2024-09-01", "2024-12-01", timezone="Europe/Lisbon")
    """

    def __init__(
        self,
        credentials: Credentials | None = None,
        *,
        api_url: str | None = None,
        token_url: str | None = None,
        max_concurrent_jobs: int = 4,
        format: str = "json",
        poll_interval: float = 1.0,
        max_poll_interval: float = 15.0,
        timeout: float = 3600.0,
        retries: int = 5,
        backoff: float = 0.5,
        max_backoff: float = 60.0,
        job_retries: int = 1,
        http_timeout: float = 60.0,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], object] | None = None,
    ) -> None:
        if credentials is None:
            credentials = Credentials.from_env()
        if max_concurrent_jobs < 1:
            raise ParameterError(
                f"max_concurrent_jobs must be at least 1, not {max_concurrent_jobs}"
            )
        if format not in ("json", "csv"):
            raise ParameterError(f"format must be 'json' or 'csv', not {format!r}")
        if not timeout > 0:  # also refuses nan
            raise ParameterError(f"timeout must be a positive number of seconds, not {timeout!r}")
        self.credentials = credentials
        self.api_url = (api_url or credentials.api_endpoint).rstrip("/")
        self.token_url = token_url or credentials.token_endpoint
        self.max_concurrent_jobs = max_concurrent_jobs
        self.timeout = timeout
        self._context = RunContext()
        options: dict[str, Any] = {"sleep": sleep or self._context.sleep}
        if clock is not None:
            options["clock"] = clock
        #: The one retry policy of every retry site (token, requests, downloads, jobs).
        self.policy = RetryPolicy(retries, backoff, max_backoff, **options)
        self.auth = TokenAuth(
            credentials,
            api_url=self.api_url,
            token_url=self.token_url,
            policy=self.policy,
            deadline=lambda: self._context.deadline,
            http_timeout=http_timeout,
        )
        # follow_redirects=False: redirects are followed one hop at a time, each through the
        # auth, so a credential never leaves its origin whatever the number of hops.
        self._http = httpx.Client(
            auth=self.auth,
            timeout=http_timeout,
            follow_redirects=False,
            transport=transport,
            headers={"User-Agent": "omnikit"},
        )
        self.auth.client = self._http
        self.jobs = Jobs(
            self._http,
            api_url=self.api_url,
            policy=self.policy,
            context=self._context,
            format=format,
            poll_interval=poll_interval,
            max_poll_interval=max_poll_interval,
            job_retries=job_retries,
            http_timeout=http_timeout,
            client_id=credentials.client_id,
        )

    # Options kept readable as attributes, as before the split.
    @property
    def format(self) -> str:
        """The file format asked of the API."""
        return self.jobs.format

    @property
    def retries(self) -> int:
        """Attempts after the first (see :class:`RetryPolicy`)."""
        return self.policy.retries

    def __repr__(self) -> str:
        return (
            f"ExploreClient(api_url={self.api_url!r}, client_id={self.credentials.client_id!r}, "
            f"max_concurrent_jobs={self.max_concurrent_jobs})"
        )

    # -- lifecycle ----------------------------------------------------------------------------

    def close(self) -> None:
        """Close the HTTP connections."""
        self._http.close()

    def __enter__(self) -> ExploreClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- one job ------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _bounded(self, deadline: Deadline | None) -> Iterator[Deadline]:
        """Bind a deadline (``timeout`` from now unless given) to this thread for one call."""
        if deadline is None:
            deadline = Deadline(self.policy.clock() + self.timeout, self.timeout)
        previous = self._context.deadline
        self._context.bind(self._context.cancel, deadline)
        try:
            yield deadline
        finally:
            self._context.bind(self._context.cancel, previous)

    def create_job(
        self,
        start: dt.datetime,
        end: dt.datetime,
        timezone: str,
        *,
        deadline: Deadline | None = None,
    ) -> str:
        """Create a report job for ``[start, end)`` in ``timezone``; return its id."""
        with self._bounded(deadline) as bound:
            return self.jobs.create(start, end, timezone, deadline=bound)

    def wait_for_job(self, job_id: str, *, deadline: Deadline | None = None, what: str = "") -> str:
        """Poll a job until it is done; return the URL of its file (where its status points)."""
        with self._bounded(deadline) as bound:
            return self.jobs.wait(job_id, deadline=bound, what=what)

    def download(
        self,
        files_url: str,
        dest: str | os.PathLike[str],
        *,
        deadline: Deadline | None = None,
        what: str = "",
    ) -> int:
        """Download a job's file to ``dest``; return its size in bytes."""
        with self._bounded(deadline) as bound:
            return self.jobs.download(files_url, Path(dest), deadline=bound, what=what)

    def run_job(
        self,
        start: dt.datetime,
        end: dt.datetime,
        timezone: str = "UTC",
        *,
        deadline: Deadline | None = None,
        download_dir: str | os.PathLike[str] | None = None,
    ) -> FetchedSpan:
        """Create, wait for, download and parse one job of at most 31 days."""
        with self._bounded(deadline) as bound:
            return self.jobs.run(start, end, timezone, deadline=bound, download_dir=download_dir)

    # -- ranges -------------------------------------------------------------------------------

    def plan(
        self,
        start: str | dt.date | dt.datetime,
        end: str | dt.date | dt.datetime,
        timezone: str = "UTC",
        *,
        now: dt.datetime | None = None,
    ) -> list[Span]:
        """The job spans for ``[start, end)``: clamped to now - 60 s, at most 31 days each."""
        begin, finish = clamp_range(start, end, timezone, now=now)
        return split_range(begin, finish, timezone)

    def iter_spans(
        self,
        spans: Iterable[Span],
        timezone: str = "UTC",
        *,
        on_event: Callable[[str, Span], None] | None = None,
        download_dir: str | os.PathLike[str] | None = None,
    ) -> Iterator[FetchedSpan]:
        """Run one job per span, at most ``max_concurrent_jobs`` at once; yield them as they finish.

        A span whose job fails does not stop the others: they are yielded first, then the first
        error is raised. Stopping the iteration (Ctrl-C) stops every worker. The whole run is
        bounded by ``timeout``. Downloads go to ``download_dir`` (see :meth:`run_job`).
        """
        check_zone(timezone)
        spans = list(spans)
        for start, end in spans:
            if utc(end) - utc(start) > MAX_JOB_SPAN:
                raise ParameterError(
                    f"the span {span_text(start, end)} is longer than 31 days; use plan()"
                )
        deadline = Deadline(self.policy.clock() + self.timeout, self.timeout)
        try:
            yield from run_spans(
                spans,
                lambda span: self.jobs.run(
                    span[0], span[1], timezone, deadline=deadline, download_dir=download_dir
                ),
                workers=self.max_concurrent_jobs,
                context=self._context,
                deadline=deadline,
                on_event=on_event,
                clock=self.policy.clock,
            )
        finally:
            for path in list(self.jobs.temp_files):  # left by workers still stuck in a download
                path.unlink(missing_ok=True)

    def fetch(
        self,
        start: str | dt.date | dt.datetime,
        end: str | dt.date | dt.datetime,
        *,
        timezone: str = "UTC",
    ) -> pl.DataFrame:
        """Fetch ``[start, end)`` and return one canonical frame (deduplicated, last state wins).

        >>> with ExploreClient() as client:  # doctest: +SKIP
        ...     df = client.fetch("2024-09-02", "2024-09-09", timezone="Europe/Lisbon")
        """
        from .._io import deduplicate
        from .._schema import canonical_schema

        spans = self.plan(start, end, timezone)
        parts = sorted(self.iter_spans(spans, timezone), key=lambda part: part.start)
        if not parts:
            return pl.DataFrame(schema=canonical_schema(timezone))
        frame = pl.concat([part.frame for part in parts], how="diagonal_relaxed")
        return deduplicate(frame)
