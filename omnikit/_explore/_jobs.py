"""One report job: create it, poll it until it is done, download its file and parse it.

Every request goes through :meth:`Jobs.request`, the one place where 429, 5xx and connection
errors are retried (with the client's :class:`~omnikit.explore.RetryPolicy`) and where the
fetch's deadline bounds each request. Redirects are followed here, hop by hop, each hop a new
request through :class:`~omnikit._explore._auth.TokenAuth`, which decides its credential.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

import httpx
import polars as pl

from .._errors import (
    AuthenticationError,
    ExploreError,
    JobFailedError,
    ReportFormatError,
)
from ._auth import origin
from ._credentials import SCOPES
from ._ranges import iso, span_text
from ._retry import RETRY_STATUSES, Deadline, RetryPolicy
from ._spans import RunContext

__all__ = ["REPORT", "FetchedSpan", "Jobs"]

logger = logging.getLogger("omnikit.explore")

#: The report this client fetches.
REPORT = "erc_omnichannel_report"

#: Redirects followed for one request before giving up.
MAX_REDIRECTS = 10

_RUNNING = frozenset({"created", "processing", "uploading"})
_DONE = frozenset({"done", "ready", "completed", "finished"})
_FINAL_FAILED = frozenset({"failed", "canceled", "cancelled", "deleted"})
_REDIRECTS = frozenset({300, 301, 302, 303, 307, 308})


@dataclasses.dataclass(frozen=True)
class FetchedSpan:
    """One finished job: its span (``start`` included, ``end`` excluded), job id and frame."""

    start: dt.datetime
    end: dt.datetime
    job_id: str
    frame: pl.DataFrame
    fetched_at: dt.datetime


@dataclasses.dataclass
class Jobs:
    """Create, poll, download and parse report jobs over ``http`` (see the module docstring).

    Examples
    --------
    >>> jobs = Jobs(http, api_url="https://api.talkdeskapp.com", ...)  # doctest: +SKIP
    >>> jobs.run(start, end, "Europe/Lisbon", deadline=deadline)  # doctest: +SKIP
    """

    http: httpx.Client
    api_url: str
    policy: RetryPolicy
    context: RunContext
    format: str = "json"
    poll_interval: float = 1.0
    max_poll_interval: float = 15.0
    job_retries: int = 1
    http_timeout: float = 60.0
    client_id: str = ""
    temp_files: set[Path] = dataclasses.field(default_factory=set)
    parse_lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._api_origin = origin(self.api_url)

    def url(self, *parts: str) -> str:
        """The URL of a path under the report's endpoint."""
        return "/".join([self.api_url, "data", "reports", REPORT, *parts])

    # -- requests ---------------------------------------------------------------------------

    def _timeout(self, deadline: Deadline, what: str) -> float:
        left = deadline.remaining(self.policy.clock)
        if left <= 0:
            raise deadline.expired(what)
        return min(self.http_timeout, left)

    def request(
        self,
        method: str,
        url: str,
        *,
        what: str,
        deadline: Deadline,
        json: Any = None,
        wait_on_429: bool = False,
        stream: bool = False,
    ) -> httpx.Response:
        """Send one request; retry 429/5xx/connection errors; each bounded by ``deadline``.

        A 401 or 403 from the API (after the auth renewed its token once) is an
        :class:`~omnikit.AuthenticationError`. With ``wait_on_429``, a 429 (the account's job
        queue is full) is waited out until the deadline instead of counting as a retry.
        """
        policy = self.policy
        attempt = waited = 0
        while True:
            self.context.check()
            request = self.http.build_request(
                method,
                url,
                json=json,
                headers={"Accept": "application/json"},
                timeout=self._timeout(deadline, what),
            )
            failure = None
            try:
                response = self.http.send(request, stream=stream)
            except httpx.TransportError as error:
                failure = type(error).__name__
            if failure is not None:  # raised outside ``except``: no request in __context__
                attempt += 1
                if policy.gives_up(attempt):
                    raise ExploreError(
                        f"{what}: cannot reach {request.url.host}:{request.url.port or ''} "
                        f"({failure}) after {attempt} attempts"
                    )
                policy.pause(policy.backoff_seconds(attempt), deadline=deadline, what=what)
                continue
            status = response.status_code
            from_api = origin(response.url) == self._api_origin
            if from_api and status in (401, 403):
                response.close()
                raise AuthenticationError(
                    f"{what}: Talkdesk answered HTTP {status} with a fresh token for client id "
                    f"{self.client_id!r}; the client needs the scopes {SCOPES!r}"
                )
            if status in RETRY_STATUSES:
                response.close()
                retry_after = response.headers.get("Retry-After")
                if status == 429 and wait_on_429:
                    # Retry-After is a floor: never hammer the API with Retry-After: 0.
                    waited += 1
                    wait = policy.wait_seconds(min(waited, 6), retry_after, at_least_backoff=True)
                    policy.pause(wait, deadline=deadline, what=what)
                    continue
                attempt += 1
                if policy.gives_up(attempt):
                    raise ExploreError(
                        f"{what}: Talkdesk answered HTTP {status} {attempt} times; try again later"
                    )
                policy.pause(
                    policy.wait_seconds(attempt, retry_after), deadline=deadline, what=what
                )
                continue
            return response

    def get_following(
        self, url: str, *, what: str, deadline: Deadline, stream: bool = False
    ) -> httpx.Response:
        """GET ``url``, following redirects hop by hop (each hop authenticated on its own)."""
        for _ in range(MAX_REDIRECTS + 1):
            response = self.request("GET", url, what=what, deadline=deadline, stream=stream)
            location = response.headers.get("location")
            if response.status_code not in _REDIRECTS or location is None:
                return response
            response.close()
            url = str(response.url.join(location))
        raise ExploreError(f"{what}: more than {MAX_REDIRECTS} redirects; giving up")

    # -- one job ----------------------------------------------------------------------------

    def create(
        self, start: dt.datetime, end: dt.datetime, timezone: str, *, deadline: Deadline
    ) -> str:
        """Create a report job for ``[start, end)`` in ``timezone``; return its id."""
        what = f"creating the job for {span_text(start, end)}"
        body = {
            "name": f"omnikit {iso(start)}..{iso(end)}",
            "timezone": timezone,
            "format": self.format,
            "timespan": {"from": iso(start), "to": iso(end)},
        }
        response = self.request(
            "POST", self.url("jobs"), what=what, deadline=deadline, json=body, wait_on_429=True
        )
        if response.status_code == 400:
            raise ExploreError(f"{what}: Talkdesk rejected it: {_error_message(response)}")
        if response.status_code not in (200, 201, 202):
            raise ExploreError(
                f"{what}: Talkdesk answered HTTP {response.status_code}: {_error_message(response)}"
            )
        job_id = None
        with contextlib.suppress(ValueError, KeyError, TypeError):
            job_id = str(response.json()["job"]["id"])
        if job_id is None:
            raise ExploreError(f"{what}: the answer has no job id")
        logger.debug("created job %s for %s", job_id, span_text(start, end))
        return job_id

    def wait(self, job_id: str, *, deadline: Deadline, what: str = "") -> str:
        """Poll a job until it is done; return the URL its status redirects to (its file)."""
        what = what or f"job {job_id}"
        interval = self.poll_interval
        clock = self.policy.clock
        while True:
            # Polls keep their cadence from when each was sent, however slow the answer.
            asked = clock()
            response = self.request(
                "GET", self.url("jobs", job_id), what=f"polling {what}", deadline=deadline
            )
            status = response.status_code
            if status in _REDIRECTS and "location" in response.headers:
                return str(response.url.join(response.headers["location"]))
            if status == 404:
                raise JobFailedError(f"{what}: Talkdesk no longer knows the job (HTTP 404)")
            if status != 200:
                raise ExploreError(
                    f"polling {what}: Talkdesk answered HTTP {status}: {_error_message(response)}"
                )
            job = None
            with contextlib.suppress(ValueError, KeyError, TypeError, AttributeError):
                job = response.json()["job"]
                state = str(job.get("status", "")).lower()
            if job is None:
                raise ExploreError(f"polling {what}: the answer has no job status")
            if state in _FINAL_FAILED:
                detail = job.get("error") or job.get("message") or job.get("reason")
                raise JobFailedError(f"{what} ended {state}" + (f": {detail}" if detail else ""))
            if state not in _RUNNING and state not in _DONE:
                logger.debug("job %s has unknown status %r; still polling", job_id, state)
            # (never back to back, though: a tenth of the interval at least)
            wait = max(0.1 * interval, asked + interval - clock())
            self.policy.pause(wait, deadline=deadline, what=what)
            interval = min(self.max_poll_interval, interval * 1.25)

    def download(self, files_url: str, dest: Path, *, deadline: Deadline, what: str = "") -> int:
        """Download a job's file to ``dest``; return its size in bytes.

        The files endpoint redirects to a presigned URL (which gets no token: another
        origin). If that URL has expired or the body breaks off, the files endpoint is asked
        again, as the retry policy allows.
        """
        what = what or files_url
        attempt = 0
        while True:
            problem = self._download_once(files_url, dest, deadline=deadline, what=what)
            if problem is None:
                return dest.stat().st_size
            attempt += 1
            logger.debug("download of %s failed (%s); attempt %d", what, problem, attempt)
            if self.policy.gives_up(attempt):
                raise ExploreError(
                    f"downloading {what}: {problem}, {attempt} times; try again later"
                )
            self.policy.pause(self.policy.backoff_seconds(attempt), deadline=deadline, what=what)

    def _download_once(
        self, files_url: str, dest: Path, *, deadline: Deadline, what: str
    ) -> str | None:
        failure = None
        response = self.get_following(
            files_url, what=f"asking for the file of {what}", deadline=deadline, stream=True
        )
        where = (
            "the files endpoint" if origin(response.url) == self._api_origin else "the storage URL"
        )
        try:
            with contextlib.closing(response):
                if response.status_code == 404:
                    return f"{where} answered 404 (the file is not ready or has expired)"
                if response.status_code != 200:
                    return f"{where} answered HTTP {response.status_code} (expired or refused)"
                expected = response.headers.get("content-length")
                with open(dest, "wb") as out:
                    for chunk in response.iter_bytes():  # as it arrives: Ctrl-C stops it promptly
                        self.context.check()
                        if deadline.remaining(self.policy.clock) <= 0:  # a slow trickle too
                            raise deadline.expired(f"downloading the file of {what}")
                        out.write(chunk)
                # Content-Length counts the bytes on the wire (before any Content-Encoding).
                received = response.num_bytes_downloaded
                if expected is not None and received != int(expected):
                    return f"the body broke off after {received} of {expected} bytes"
        except httpx.TransportError as error:
            failure = f"the connection failed during the download ({type(error).__name__})"
        return failure

    def run(
        self,
        start: dt.datetime,
        end: dt.datetime,
        timezone: str,
        *,
        deadline: Deadline,
        download_dir: str | os.PathLike[str] | None = None,
    ) -> FetchedSpan:
        """Create, wait for, download and parse one job of at most 31 days.

        The file is downloaded to a ``.omnikit-*`` temporary file in ``download_dir`` (default:
        the system's temporary directory) and removed once parsed. A job that ends ``failed``
        is created again up to ``job_retries`` times.
        """
        from .._io import load

        what_span = span_text(start, end)
        failures = 0
        while True:
            job_id = self.create(start, end, timezone, deadline=deadline)
            what = f"job {job_id} ({what_span}, {timezone})"
            try:
                files_url = self.wait(job_id, deadline=deadline, what=what)
            except JobFailedError:
                failures += 1
                if self.policy.gives_up(failures, limit=self.job_retries):
                    raise
                logger.debug("%s failed; creating it again", what)
                continue
            break
        suffix = ".csv" if self.format == "csv" else ".json"
        handle, name = tempfile.mkstemp(
            prefix=f".omnikit-{job_id}-", suffix=suffix, dir=download_dir
        )
        os.close(handle)
        path = Path(name)
        self.temp_files.add(path)
        try:
            parse_failures = 0
            while True:
                self.download(files_url, path, deadline=deadline, what=what)
                problem = None
                try:
                    # One parse at a time: ok.load already uses the cores, and holding one
                    # file's entries at once keeps the peak memory of a fetch down.
                    with self.parse_lock:
                        frame = load(path, timezone=timezone, cache=False)
                except ReportFormatError as error:
                    problem = str(error)
                if problem is None:
                    break
                # A body that arrived whole by HTTP's account but is not a report: a broken
                # upload or a truncating proxy. Download again before giving up.
                parse_failures += 1
                if self.policy.gives_up(parse_failures):
                    raise ExploreError(
                        f"the file of {what} is not a valid report after {parse_failures} "
                        f"downloads: {problem}"
                    )
                self.policy.pause(
                    self.policy.backoff_seconds(parse_failures), deadline=deadline, what=what
                )
        finally:
            path.unlink(missing_ok=True)
            self.temp_files.discard(path)
        return FetchedSpan(start, end, job_id, frame, dt.datetime.now(dt.UTC))


def _error_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    if isinstance(body, dict):
        for key in ("message", "error_description", "description", "error"):
            if isinstance(body.get(key), str):
                return str(body[key])[:300]
    return str(body)[:300]
