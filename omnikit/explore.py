"""A client for Talkdesk's Explore API: the Customer Omnichannel Report as a polars frame.

The Explore API builds a report in a *job*: create it, poll it until it is done, then follow
two redirects to a short-lived presigned file. :class:`ExploreClient` does all of that for any
range: it splits the range into jobs of at most 31 days, runs several at once (never more than
``max_concurrent_jobs``), renews its token, retries what can be retried and parses each
downloaded file with :func:`omnikit.load`, so a fetched report and a downloaded file give the
same frame.

Credentials come from the environment (or a file the user names), never from arguments::

    TALKDESK_ACCOUNT        the account name (``https://{account}.talkdeskid.com``)
    TALKDESK_CLIENT_ID      an OAuth client with the scopes data-reports:read data-reports:write
    TALKDESK_CLIENT_SECRET  its secret
    TALKDESK_REGION         us (default), eu or ca: picks the default endpoints
    TALKDESK_API_URL        overrides the API base URL (e.g. a stand-in for tests)
    TALKDESK_TOKEN_URL      overrides the token URL

The secret is held in a :class:`Secret`, whose ``repr`` and ``str`` hide it, so it cannot leak
into logs, exception messages or progress output by accident.

>>> from omnikit.explore import ExploreClient
>>> with ExploreClient() as client:  # doctest: +SKIP
...     df = client.fetch("2024-09-02", "2024-09-09", timezone="Europe/Lisbon")
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import email.utils
import logging
import os
import queue
import random
import tempfile
import threading
import time
import zoneinfo
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import polars as pl

from ._errors import (
    AuthenticationError,
    ExploreError,
    ExploreTimeoutError,
    JobFailedError,
    ParameterError,
    ReportFormatError,
)

__all__ = [
    "Credentials",
    "ExploreClient",
    "FetchedSpan",
    "Secret",
    "clamp_range",
    "parse_when",
    "split_range",
]

logger = logging.getLogger("omnikit.explore")

#: The report this client fetches.
REPORT = "erc_omnichannel_report"

#: OAuth scopes the client asks for.
SCOPES = "data-reports:read data-reports:write"

#: The API refuses a job spanning more than this.
MAX_JOB_SPAN = dt.timedelta(days=31)

#: Data lags real time by about this much; ``to`` is clamped to ``now - DATA_LAG``.
DATA_LAG = dt.timedelta(seconds=60)

#: (token URL template, API base URL) per region.
REGIONS: dict[str, tuple[str, str]] = {
    "us": ("https://{account}.talkdeskid.com/oauth/token", "https://api.talkdeskapp.com"),
    "eu": ("https://{account}.talkdeskid.eu/oauth/token", "https://api.talkdeskapp.eu"),
    "ca": ("https://{account}.talkdeskidca.com/oauth/token", "https://api.talkdeskappca.com"),
}

_RUNNING = frozenset({"created", "processing", "uploading"})
_FINAL_FAILED = frozenset({"failed", "canceled", "cancelled", "deleted"})
_REDIRECTS = frozenset({300, 301, 302, 303, 307, 308})
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class Secret:
    """A string that does not show itself: ``repr``, ``str`` and f-strings print ``********``.

    >>> s = Secret("hunter2")
    >>> print(s, repr(s))
    ******** Secret('********')
    >>> s.reveal()
    'hunter2'
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """Return the secret itself (only to put it on the wire)."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    def __str__(self) -> str:
        return "********"

    def __format__(self, spec: str) -> str:
        return "********"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> Any:
        raise TypeError("a Secret cannot be pickled")

    def __bool__(self) -> bool:
        return bool(self._value)


@dataclasses.dataclass(frozen=True)
class Credentials:
    """Who to authenticate as and where: read them with :meth:`from_env` or :meth:`from_file`.

    Parameters
    ----------
    account
        The Talkdesk account name (the ``{account}`` of ``{account}.talkdeskid.com``).
    client_id
        The OAuth client id.
    client_secret
        The client secret, wrapped in a :class:`Secret` so it never prints.
    region
        ``"us"`` (default), ``"eu"`` or ``"ca"``; picks the default endpoints.
    api_url, token_url
        Override the endpoints (``TALKDESK_API_URL``, ``TALKDESK_TOKEN_URL``).

    Examples
    --------
    >>> creds = Credentials.from_env({"TALKDESK_ACCOUNT": "acme", "TALKDESK_CLIENT_ID": "id",
    ...                               "TALKDESK_CLIENT_SECRET": "s3cret"})
    >>> creds.token_endpoint, creds.api_endpoint
    ('https://acme.talkdeskid.com/oauth/token', 'https://api.talkdeskapp.com')
    >>> "s3cret" in repr(creds)
    False
    """

    account: str
    client_id: str
    client_secret: Secret = dataclasses.field(repr=False)
    region: str = "us"
    api_url: str | None = None
    token_url: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.client_secret, Secret):
            object.__setattr__(self, "client_secret", Secret(str(self.client_secret)))
        region = (self.region or "us").strip().lower()
        if region not in REGIONS:
            raise ParameterError(
                f"TALKDESK_REGION is {self.region!r}; use one of {', '.join(sorted(REGIONS))}"
            )
        object.__setattr__(self, "region", region)

    @property
    def token_endpoint(self) -> str:
        """The token URL: the override, or the region's default for the account."""
        if self.token_url:
            return self.token_url
        return REGIONS[self.region][0].format(account=self.account)

    @property
    def api_endpoint(self) -> str:
        """The API base URL: the override, or the region's default."""
        return (self.api_url or REGIONS[self.region][1]).rstrip("/")

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, source: str = "the environment"
    ) -> Credentials:
        """Read the ``TALKDESK_*`` variables (see the module docstring).

        Raises :class:`~omnikit.AuthenticationError` naming the variables that are missing.

        >>> Credentials.from_env({})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        omnikit._errors.AuthenticationError: Talkdesk credentials missing from the environment: ...
        """
        env = os.environ if environ is None else environ
        required = ("TALKDESK_ACCOUNT", "TALKDESK_CLIENT_ID", "TALKDESK_CLIENT_SECRET")
        missing = [name for name in required if not env.get(name)]
        if "TALKDESK_ACCOUNT" in missing and env.get("TALKDESK_TOKEN_URL"):
            missing.remove("TALKDESK_ACCOUNT")  # the account only builds the token URL
        if missing:
            raise AuthenticationError(
                f"Talkdesk credentials missing from {source}: set {', '.join(missing)} "
                "(and TALKDESK_REGION=eu or ca outside the US)"
            )
        return cls(
            account=env.get("TALKDESK_ACCOUNT", ""),
            client_id=env["TALKDESK_CLIENT_ID"],
            client_secret=Secret(env["TALKDESK_CLIENT_SECRET"]),
            region=env.get("TALKDESK_REGION") or "us",
            api_url=env.get("TALKDESK_API_URL") or None,
            token_url=env.get("TALKDESK_TOKEN_URL") or None,
        )

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> Credentials:
        """Read the same ``TALKDESK_*`` names from a file of ``NAME=value`` lines.

        Blank lines, ``#`` comments, a leading ``export`` and quotes around values are allowed
        (a ``.env`` file). Variables set in the environment fill what the file leaves out.

        >>> Credentials.from_file("talkdesk.env")  # doctest: +SKIP
        """
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise AuthenticationError(
                f"cannot read the credentials file {path}: {error.strerror}"
            ) from None
        values: dict[str, str] = {}
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("export "):
                line = line[len("export ") :].lstrip()
            name, sep, value = line.partition("=")
            if not sep or not name.strip():
                # Never echo the line: it may hold the secret.
                raise AuthenticationError(f"{path}, line {number}: expected NAME=value")
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            values[name.strip()] = value
        merged = {k: v for k, v in os.environ.items() if k.startswith("TALKDESK_")}
        merged.update(values)
        return cls.from_env(merged, source=str(path))


@dataclasses.dataclass(frozen=True)
class FetchedSpan:
    """One finished job: its span (``start`` included, ``end`` excluded), job id and frame."""

    start: dt.datetime
    end: dt.datetime
    job_id: str
    frame: pl.DataFrame
    fetched_at: dt.datetime


def _zone(timezone: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        raise ParameterError(
            f"timezone {timezone!r} is not an IANA timezone such as 'Europe/Lisbon'"
        ) from None


def parse_when(value: str | dt.date | dt.datetime, timezone: str = "UTC") -> dt.datetime:
    """Return the instant a ``--from``/``--to`` value names, as an aware datetime.

    A date (``YYYY-MM-DD``) is midnight in ``timezone``; a date-time without an offset is a
    wall-clock time in ``timezone`` (the earlier one in a repeated hour); one with an offset
    is that instant.

    >>> parse_when("2024-09-02", "Europe/Lisbon").isoformat()
    '2024-09-02T00:00:00+01:00'
    >>> parse_when("2024-09-02T10:30:00Z").isoformat()
    '2024-09-02T10:30:00+00:00'
    """
    zone = _zone(timezone)
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime(value.year, value.month, value.day)
    else:
        text = str(value).strip()
        try:
            if len(text) == 10:
                day = dt.date.fromisoformat(text)
                moment = dt.datetime(day.year, day.month, day.day)
            else:
                moment = dt.datetime.fromisoformat(text)
        except ValueError:
            raise ParameterError(
                f"{value!r} is not a date (YYYY-MM-DD) or an ISO 8601 date-time"
            ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone, fold=0)
    return moment


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC)


def _iso(moment: dt.datetime) -> str:
    return _utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def split_range(
    start: dt.datetime,
    end: dt.datetime,
    timezone: str = "UTC",
    *,
    max_span: dt.timedelta = MAX_JOB_SPAN,
) -> list[tuple[dt.datetime, dt.datetime]]:
    """Split ``[start, end)`` into consecutive spans of at most ``max_span``.

    Cuts fall on midnights in ``timezone`` where possible, so a 31-day job is 31 whole days
    (or 30 around a DST change that would make 31 days an hour too long).

    >>> spans = split_range(parse_when("2024-09-01"), parse_when("2024-12-01"))
    >>> [(a.date().isoformat(), b.date().isoformat()) for a, b in spans]
    [('2024-09-01', '2024-10-02'), ('2024-10-02', '2024-11-02'), ('2024-11-02', '2024-12-01')]
    """
    zone = _zone(timezone)
    # Aware datetimes with the same tzinfo subtract as wall-clock times: compare in UTC.
    start, end = _utc(start), _utc(end)
    if end <= start:
        return []
    spans: list[tuple[dt.datetime, dt.datetime]] = []
    cursor = start
    while cursor < end:
        if end - cursor <= max_span:
            spans.append((cursor, end))
            break
        local = cursor.astimezone(zone)
        day = local.date()
        cut = None
        for days in range(max_span.days, 0, -1):
            nxt = day + dt.timedelta(days=days)
            candidate = _utc(dt.datetime(nxt.year, nxt.month, nxt.day, tzinfo=zone))
            if candidate - cursor <= max_span and candidate > cursor:
                cut = candidate
                break
        if cut is None:  # spans shorter than a day: cut at max_span exactly
            cut = cursor + max_span
        spans.append((cursor, cut))
        cursor = cut
    return spans


class _Cancelled(Exception):
    """Internal: the fetch was interrupted; workers stop at their next step."""


class ExploreClient:
    """Fetch the Customer Omnichannel Report from Talkdesk's Explore API.

    Parameters
    ----------
    credentials
        :class:`Credentials`; default :meth:`Credentials.from_env`. Never pass secrets as
        literals: read them from the environment or a file.
    api_url, token_url
        Override the endpoints the credentials name.
    max_concurrent_jobs
        Jobs running at once (the API allows 15 per account, shared with other users).
    format
        ``"json"`` (default) or ``"csv"``: the file format asked of the API. Both are read by
        :func:`omnikit.load` into the same frame; JSON is the default because a body cut short
        no longer parses (its envelope is incomplete), while a cut CSV can still look whole.
    poll_interval, max_poll_interval
        First and largest wait between job status checks, in seconds (the wait grows 1.25x).
    timeout
        Seconds a whole :meth:`fetch` may take before :class:`~omnikit.ExploreTimeoutError`.
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
        An ``httpx`` transport, for tests.

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
    ) -> None:
        if credentials is None:
            credentials = Credentials.from_env()
        if max_concurrent_jobs < 1:
            raise ParameterError(
                f"max_concurrent_jobs must be at least 1, not {max_concurrent_jobs}"
            )
        if format not in ("json", "csv"):
            raise ParameterError(f"format must be 'json' or 'csv', not {format!r}")
        self.credentials = credentials
        self.api_url = (api_url or credentials.api_endpoint).rstrip("/")
        self.token_url = token_url or credentials.token_endpoint
        self.max_concurrent_jobs = max_concurrent_jobs
        self.format = format
        self.poll_interval = poll_interval
        self.max_poll_interval = max_poll_interval
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.job_retries = job_retries
        # follow_redirects=False: we follow them ourselves so the token never leaves the API host.
        self._http = httpx.Client(
            timeout=http_timeout,
            follow_redirects=False,
            transport=transport,
            headers={"User-Agent": "omnikit"},
        )
        self._token_lock = threading.Lock()
        self._token: Secret | None = None
        self._token_renew_at = 0.0
        # Each iter_spans() call gives its worker threads their own stop event.
        self._local = threading.local()
        self._temp_files: set[Path] = set()
        self._parse_lock = threading.Lock()

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

    # -- tokens -------------------------------------------------------------------------------

    def _bearer(self) -> str:
        """Return a valid access token, getting a new one before the old one runs out."""
        with self._token_lock:
            if self._token is None or time.monotonic() >= self._token_renew_at:
                self._token = None
                self._fetch_token()
            assert self._token is not None
            return self._token.reveal()

    def _drop_token(self, used: str) -> None:
        with self._token_lock:
            if self._token is not None and self._token.reveal() == used:
                self._token = None

    def _fetch_token(self) -> None:
        attempt = 0
        while True:
            self._check_cancel()
            try:
                response = self._http.post(
                    self.token_url,
                    auth=(self.credentials.client_id, self.credentials.client_secret.reveal()),
                    data={"grant_type": "client_credentials", "scope": SCOPES},
                    headers={"Accept": "application/json"},
                )
            except httpx.TransportError as error:
                attempt += 1
                if attempt > self.retries:
                    raise ExploreError(
                        f"cannot reach the Talkdesk token endpoint {self.token_url} "
                        f"({type(error).__name__}) after {attempt} attempts"
                    ) from None
                self._sleep(self._backoff_seconds(attempt))
                continue
            if response.status_code in _RETRY_STATUSES:
                attempt += 1
                if attempt > self.retries:
                    raise ExploreError(
                        f"the Talkdesk token endpoint {self.token_url} answered HTTP "
                        f"{response.status_code} {attempt} times; try again later"
                    )
                self._sleep(self._retry_wait(response, attempt))
                continue
            if response.status_code in (400, 401, 403):
                reason = _error_code(response)
                raise AuthenticationError(
                    f"Talkdesk refused the credentials of client id {self.credentials.client_id!r} "
                    f"at {self.token_url} (HTTP {response.status_code}{', ' + reason if reason else ''}); "
                    "check TALKDESK_CLIENT_ID, TALKDESK_CLIENT_SECRET and TALKDESK_ACCOUNT/REGION"
                )
            if response.status_code != 200:
                raise ExploreError(
                    f"the Talkdesk token endpoint {self.token_url} answered HTTP {response.status_code}"
                )
            try:
                body = response.json()
                token = str(body["access_token"])
                expires_in = float(body.get("expires_in") or 3600)
            except (ValueError, KeyError, TypeError):
                raise ExploreError(
                    f"the Talkdesk token endpoint {self.token_url} answered without an access_token"
                ) from None
            margin = min(60.0, expires_in / 5)
            self._token = Secret(token)
            self._token_renew_at = time.monotonic() + expires_in - margin
            logger.debug("got an access token valid for %.0f s", expires_in)
            return

    # -- requests with retries ------------------------------------------------------------------

    @property
    def _cancel(self) -> threading.Event:
        event = getattr(self._local, "cancel", None)
        if event is None:
            event = self._local.cancel = threading.Event()
        return event

    def _check_cancel(self) -> None:
        if self._cancel.is_set():
            raise _Cancelled()

    def _sleep(self, seconds: float, deadline: float | None = None, what: str = "") -> None:
        if deadline is not None and time.monotonic() + seconds > deadline:
            raise ExploreTimeoutError(
                f"{what or 'the fetch'} did not finish within the timeout of {self.timeout:g} s; "
                "raise timeout= (--timeout) or fetch a shorter range"
            )
        if self._cancel.wait(max(0.0, seconds)):
            raise _Cancelled()

    def _backoff_seconds(self, attempt: int) -> float:
        base = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
        return base * random.uniform(0.5, 1.0)

    def _retry_wait(self, response: httpx.Response, attempt: int) -> float:
        header = response.headers.get("Retry-After")
        if header:
            try:
                return max(0.0, float(header))
            except ValueError:
                try:
                    when = email.utils.parsedate_to_datetime(header)
                    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())
                except (TypeError, ValueError):
                    pass
        return self._backoff_seconds(attempt)

    def _api(
        self,
        method: str,
        url: str,
        *,
        what: str,
        deadline: float,
        json: Any = None,
        wait_on_429: bool = False,
    ) -> httpx.Response:
        """Send one API request with the token; retry 429/5xx/connection errors; renew on 401."""
        attempt = 0
        waited = 0
        renewed = False
        while True:
            self._check_cancel()
            token = self._bearer()
            try:
                response = self._http.request(
                    method,
                    url,
                    json=json,
                    headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
                )
            except httpx.TransportError as error:
                attempt += 1
                if attempt > self.retries:
                    raise ExploreError(
                        f"{what}: cannot reach {self.api_url} ({type(error).__name__}) "
                        f"after {attempt} attempts"
                    ) from None
                self._sleep(self._backoff_seconds(attempt), deadline, what)
                continue
            status = response.status_code
            if status == 401 and not renewed:
                renewed = True
                self._drop_token(token)
                continue
            if status in (401, 403):
                raise AuthenticationError(
                    f"{what}: Talkdesk answered HTTP {status} with a fresh token for client id "
                    f"{self.credentials.client_id!r}; the client needs the scopes {SCOPES!r}"
                )
            if status in _RETRY_STATUSES:
                if status == 429 and wait_on_429:
                    # The account's job queue is full: wait for room until the deadline.
                    # Retry-After is a floor: never hammer the API with Retry-After: 0.
                    waited += 1
                    pause = max(
                        self._retry_wait(response, waited), self._backoff_seconds(min(waited, 6))
                    )
                    self._sleep(pause, deadline, what)
                    continue
                attempt += 1
                if attempt > self.retries:
                    raise ExploreError(
                        f"{what}: Talkdesk answered HTTP {status} {attempt} times; try again later"
                    )
                self._sleep(self._retry_wait(response, attempt), deadline, what)
                continue
            return response

    # -- one job ------------------------------------------------------------------------------

    def _url(self, *parts: str) -> str:
        return "/".join([self.api_url, "data", "reports", REPORT, *parts])

    def create_job(
        self, start: dt.datetime, end: dt.datetime, timezone: str, *, deadline: float | None = None
    ) -> str:
        """Create a report job for ``[start, end)`` in ``timezone``; return its id."""
        deadline = deadline if deadline is not None else time.monotonic() + self.timeout
        what = f"creating the job for {_span_text(start, end)}"
        body = {
            "name": f"omnikit {_iso(start)}..{_iso(end)}",
            "timezone": timezone,
            "format": self.format,
            "timespan": {"from": _iso(start), "to": _iso(end)},
        }
        response = self._api(
            "POST", self._url("jobs"), what=what, deadline=deadline, json=body, wait_on_429=True
        )
        if response.status_code == 400:
            raise ExploreError(f"{what}: Talkdesk rejected it: {_error_message(response)}")
        if response.status_code not in (200, 201, 202):
            raise ExploreError(
                f"{what}: Talkdesk answered HTTP {response.status_code}: {_error_message(response)}"
            )
        try:
            job_id = str(response.json()["job"]["id"])
        except (ValueError, KeyError, TypeError):
            raise ExploreError(f"{what}: the answer has no job id") from None
        logger.debug("created job %s for %s", job_id, _span_text(start, end))
        return job_id

    def wait_for_job(self, job_id: str, *, deadline: float | None = None, what: str = "") -> str:
        """Poll a job until it is done; return the URL of its file (the files endpoint)."""
        deadline = deadline if deadline is not None else time.monotonic() + self.timeout
        what = what or f"job {job_id}"
        interval = self.poll_interval
        while True:
            # Polls keep their cadence from when each was sent, however slow the answer.
            asked = time.monotonic()
            response = self._api(
                "GET", self._url("jobs", job_id), what=f"polling {what}", deadline=deadline
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
            try:
                job = response.json()["job"]
                state = str(job.get("status", "")).lower()
            except (ValueError, KeyError, TypeError, AttributeError):
                raise ExploreError(f"polling {what}: the answer has no job status") from None
            if state in _FINAL_FAILED:
                detail = job.get("error") or job.get("message") or job.get("reason")
                raise JobFailedError(f"{what} ended {state}" + (f": {detail}" if detail else ""))
            if state not in _RUNNING and state not in ("done", "ready", "completed", "finished"):
                logger.debug("job %s has unknown status %r; still polling", job_id, state)
            # (never back to back, though: a tenth of the interval at least)
            self._sleep(max(0.1 * interval, asked + interval - time.monotonic()), deadline, what)
            interval = min(self.max_poll_interval, interval * 1.25)

    def download(
        self, files_url: str, dest: Path, *, deadline: float | None = None, what: str = ""
    ) -> int:
        """Download a job's file to ``dest``; return its size in bytes.

        The files endpoint (asked with the token) redirects to a presigned URL, which is asked
        without it. If that URL has expired or the body breaks off, the files endpoint is asked
        again, up to ``retries`` times.
        """
        deadline = deadline if deadline is not None else time.monotonic() + self.timeout
        what = what or files_url
        attempt = 0
        while True:
            problem = self._download_once(files_url, dest, deadline=deadline, what=what)
            if problem is None:
                return dest.stat().st_size
            attempt += 1
            logger.debug("download of %s failed (%s); attempt %d", what, problem, attempt)
            if attempt > self.retries:
                raise ExploreError(
                    f"downloading {what}: {problem}, {attempt} times; try again later"
                )
            self._sleep(self._backoff_seconds(attempt), deadline, what)

    def _download_once(
        self, files_url: str, dest: Path, *, deadline: float, what: str
    ) -> str | None:
        response = self._api(
            "GET", files_url, what=f"asking for the file of {what}", deadline=deadline
        )
        if response.status_code in _REDIRECTS and "location" in response.headers:
            target = str(response.url.join(response.headers["location"]))
            # The presigned URL carries its own signature: never send the token there.
            request = self._http.build_request("GET", target, headers={"Accept": "*/*"})
        elif response.status_code == 200:
            # The API served the file itself; ask again as a stream.
            request = self._http.build_request(
                "GET", files_url, headers={"Authorization": f"Bearer {self._bearer()}"}
            )
        elif response.status_code == 404:
            return "the files endpoint answered 404 (the file is not ready or has expired)"
        else:
            return f"the files endpoint answered HTTP {response.status_code}"
        try:
            stream = self._http.send(request, stream=True)
        except httpx.TransportError as error:
            return f"the connection to the storage URL failed ({type(error).__name__})"
        try:
            with contextlib.closing(stream):
                if stream.status_code != 200:
                    return (
                        f"the storage URL answered HTTP {stream.status_code} (expired or refused)"
                    )
                expected = stream.headers.get("content-length")
                with open(dest, "wb") as out:
                    for chunk in stream.iter_bytes():  # as it arrives: Ctrl-C stops it promptly
                        self._check_cancel()
                        out.write(chunk)
                # Content-Length counts the bytes on the wire (before any Content-Encoding).
                received = stream.num_bytes_downloaded
                if expected is not None and received != int(expected):
                    return f"the body broke off after {received} of {expected} bytes"
        except httpx.TransportError as error:
            return f"the connection failed during the download ({type(error).__name__})"
        return None

    def run_job(
        self,
        start: dt.datetime,
        end: dt.datetime,
        timezone: str = "UTC",
        *,
        deadline: float | None = None,
        download_dir: str | os.PathLike[str] | None = None,
    ) -> FetchedSpan:
        """Create, wait for, download and parse one job of at most 31 days.

        The file is downloaded to a ``.omnikit-*`` temporary file in ``download_dir`` (default:
        the system's temporary directory) and removed once parsed.
        """
        from ._io import load

        deadline = deadline if deadline is not None else time.monotonic() + self.timeout
        what_span = _span_text(start, end)
        failures = 0
        while True:
            job_id = self.create_job(start, end, timezone, deadline=deadline)
            what = f"job {job_id} ({what_span}, {timezone})"
            try:
                files_url = self.wait_for_job(job_id, deadline=deadline, what=what)
            except JobFailedError:
                failures += 1
                if failures > self.job_retries:
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
        self._temp_files.add(path)
        try:
            parse_failures = 0
            while True:
                self.download(files_url, path, deadline=deadline, what=what)
                try:
                    # One parse at a time: ok.load already uses the cores, and holding one
                    # file's entries at once keeps the peak memory of a fetch down.
                    with self._parse_lock:
                        frame = load(path, timezone=timezone, cache=False)
                except ReportFormatError as error:
                    # A body that arrived whole by HTTP's account but is not a report: a broken
                    # upload or a truncating proxy. Download again before giving up.
                    parse_failures += 1
                    if parse_failures > self.retries:
                        raise ExploreError(
                            f"the file of {what} is not a valid report after {parse_failures} "
                            f"downloads: {error}"
                        ) from None
                    self._sleep(self._backoff_seconds(parse_failures), deadline, what)
                    continue
                break
        finally:
            path.unlink(missing_ok=True)
            self._temp_files.discard(path)
        return FetchedSpan(start, end, job_id, frame, dt.datetime.now(dt.UTC))

    # -- ranges -------------------------------------------------------------------------------

    def plan(
        self,
        start: str | dt.date | dt.datetime,
        end: str | dt.date | dt.datetime,
        timezone: str = "UTC",
        *,
        now: dt.datetime | None = None,
    ) -> list[tuple[dt.datetime, dt.datetime]]:
        """Return the job spans for ``[start, end)``: clamped to now - 60 s, at most 31 days each."""
        begin, finish = clamp_range(start, end, timezone, now=now)
        return split_range(begin, finish, timezone)

    def iter_spans(
        self,
        spans: Iterable[tuple[dt.datetime, dt.datetime]],
        timezone: str = "UTC",
        *,
        on_event: Callable[[str, tuple[dt.datetime, dt.datetime]], None] | None = None,
        download_dir: str | os.PathLike[str] | None = None,
    ) -> Iterator[FetchedSpan]:
        """Run one job per span, at most ``max_concurrent_jobs`` at once; yield them as they finish.

        A span whose job fails for good does not stop the others: they are yielded first, then
        the first error is raised. Stopping the iteration (Ctrl-C) stops every worker.
        Downloads go to ``download_dir`` (see :meth:`run_job`).
        """
        _zone(timezone)
        spans = list(spans)
        for start, end in spans:
            if _utc(end) - _utc(start) > MAX_JOB_SPAN:
                raise ParameterError(
                    f"the span {_span_text(start, end)} is longer than 31 days; use plan()"
                )
        deadline = time.monotonic() + self.timeout
        cancel = threading.Event()
        todo: queue.SimpleQueue[tuple[dt.datetime, dt.datetime]] = queue.SimpleQueue()
        for span in spans:
            todo.put(span)
        results: queue.SimpleQueue[
            tuple[tuple[dt.datetime, dt.datetime], FetchedSpan | None, BaseException | None]
        ]
        results = queue.SimpleQueue()

        def work() -> None:
            self._local.cancel = cancel
            while not cancel.is_set():
                try:
                    span = todo.get_nowait()
                except queue.Empty:
                    return
                try:
                    part = self.run_job(
                        span[0], span[1], timezone, deadline=deadline, download_dir=download_dir
                    )
                    results.put((span, part, None))
                except BaseException as error:
                    results.put((span, None, error))

        # Daemon threads: a worker blocked on a slow download must not keep a Ctrl-C'd
        # process alive; each stops at its next step once ``cancel`` is set.
        workers = [
            threading.Thread(target=work, name=f"omnikit-job-{i}", daemon=True)
            for i in range(min(self.max_concurrent_jobs, len(spans)))
        ]
        for worker in workers:
            worker.start()
        errors: list[BaseException] = []
        try:
            for _ in spans:
                while True:
                    try:
                        # A timeout, so the main thread sees Ctrl-C at once.
                        span, part, error = results.get(timeout=0.2)
                        break
                    except queue.Empty:
                        continue
                if error is not None:
                    if not isinstance(error, _Cancelled):
                        errors.append(error)
                        if on_event:
                            on_event("failed", span)
                    continue
                assert part is not None
                if on_event:
                    on_event("done", span)
                yield part
        finally:
            cancel.set()
            until = time.monotonic() + 1.0
            for worker in workers:
                worker.join(timeout=max(0.0, until - time.monotonic()))
            for path in list(self._temp_files):  # left by workers still stuck in a download
                path.unlink(missing_ok=True)
        if errors:
            first = errors[0]
            if len(errors) > 1 and isinstance(first, ExploreError):
                raise type(first)(f"{first} (and {len(errors) - 1} more span(s) failed)") from None
            raise first

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
        from ._schema import canonical_schema

        spans = self.plan(start, end, timezone)
        parts = sorted(self.iter_spans(spans, timezone), key=lambda part: part.start)
        if not parts:
            return pl.DataFrame(schema=canonical_schema(timezone))
        frame = pl.concat([part.frame for part in parts], how="diagonal_relaxed")
        return _dedupe(frame)


def clamp_range(
    start: str | dt.date | dt.datetime,
    end: str | dt.date | dt.datetime,
    timezone: str = "UTC",
    *,
    now: dt.datetime | None = None,
) -> tuple[dt.datetime, dt.datetime]:
    """Parse ``[start, end)`` in ``timezone`` and clamp ``end`` to ``now - 60 s``.

    Raises :class:`~omnikit.ParameterError` when the range is empty or wholly in the future.
    """
    begin = parse_when(start, timezone)
    finish = parse_when(end, timezone)
    if finish <= begin:
        raise ParameterError(f"--to ({end}) must come after --from ({start}): the range is empty")
    latest = (now or dt.datetime.now(dt.UTC)) - DATA_LAG
    if begin >= latest:
        raise ParameterError(
            f"--from ({start}) is in the future (or within the last minute, which Talkdesk has not "
            "reported yet)"
        )
    return begin, min(finish, latest.replace(microsecond=0))


def _dedupe(frame: pl.DataFrame) -> pl.DataFrame:
    """Keep the last row per interaction id; rows without an id are kept once each."""
    if frame.is_empty():
        return frame
    has_id = pl.col("interaction_id").is_not_null()
    with_id = frame.filter(has_id).unique(subset="interaction_id", keep="last", maintain_order=True)
    without = frame.filter(~has_id)
    if without.is_empty():
        return with_id
    return pl.concat([with_id, without.unique(keep="last", maintain_order=True)], how="vertical")


def _span_text(start: dt.datetime, end: dt.datetime) -> str:
    return f"{_iso(start)}..{_iso(end)}"


def _error_code(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    if isinstance(body, dict):
        code = body.get("error") or body.get("code")
        if isinstance(code, str) and len(code) < 60:
            return code
    return ""


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
