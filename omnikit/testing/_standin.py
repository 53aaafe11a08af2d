"""A Talkdesk Explore API stand-in: a real HTTP server on 127.0.0.1 for tests and demos.

It implements what :class:`omnikit.explore.ExploreClient` talks to -- the token endpoint, job
creation and status, the files redirect and a presigned storage download on a second port --
with job timing and the faults the real service shows, injected on demand through
:class:`Faults`. It serves the rows of a canonical frame whose start time (or end time, when
the start is missing) falls in a job's span, in the vendor's JSON or CSV format.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import hmac
import http.server
import json
import secrets
import socket
import threading
import time
import urllib.parse
import zoneinfo
from typing import Any

import polars as pl

from .._vendor import vendor_bytes

__all__ = ["Faults", "TalkdeskStandIn"]

_JOBS = "/data/reports/erc_omnichannel_report/jobs"
_FILES = "/data/reports/erc_omnichannel_report/files"


@dataclasses.dataclass
class Faults:
    """Faults the stand-in injects; counters count down as each fault is used.

    Attributes
    ----------
    max_jobs
        Jobs an account may have created or processing at once; one more gets 429.
    busy_jobs, busy_seconds
        Jobs of "other users" occupying the account's queue, finishing after ``busy_seconds``.
    burst_503
        The next N API requests (jobs, status, files) answer 503.
    retry_after
        The ``Retry-After`` value (seconds) sent with 429 and 503.
    drop_downloads
        The next N downloads close the connection half-way through the body.
    truncate_downloads
        The next N downloads send half the body as a complete HTTP message.
    fail_jobs
        The next N jobs created end ``failed``.
    expired_urls
        The next N presigned URLs handed out have already expired.
    slow_downloads
        Seconds to spend sending each download (spread over the body), for kill tests.
    slow_status
        Seconds each job-status answer takes (a busy API).
    redirect_status
        The next N job-status answers saying "done" redirect to another origin instead of the
        files endpoint: through ``redirect_hops`` hops on the stand-in's second listener
        (:attr:`TalkdeskStandIn.foreign_url`, another port), which then sends the client on
        to the files endpoint, or, with ``redirect_to_storage``, straight to the presigned
        storage URL. A client that follows them with its token shows up in
        :attr:`TalkdeskStandIn.foreign_authorizations` (or
        :attr:`~TalkdeskStandIn.seen_authorization_on_storage`).
    redirect_hops
        Hops through the other origin (1 or more).
    redirect_to_storage
        Redirect job-status answers straight to the storage URL.
    """

    max_jobs: int = 15
    busy_jobs: int = 0
    busy_seconds: float = 1.0
    burst_503: int = 0
    retry_after: float | None = 0
    drop_downloads: int = 0
    truncate_downloads: int = 0
    fail_jobs: int = 0
    expired_urls: int = 0
    slow_downloads: float = 0.0
    slow_status: float = 0.0
    redirect_status: int = 0
    redirect_hops: int = 1
    redirect_to_storage: bool = False


@dataclasses.dataclass
class _Job:
    id: str
    start: dt.datetime
    end: dt.datetime
    timezone: str
    format: str
    created: float
    ready_at: float
    fail: bool = False
    body: bytes | None = None
    rows: int = 0
    phantom: bool = False
    generated: threading.Event = dataclasses.field(default_factory=threading.Event)

    def status(self, now: float) -> str:
        if self.phantom:
            return "processing" if now < self.ready_at else "completed"
        if now < self.ready_at or not self.generated.is_set():
            elapsed = now - self.created
            total = max(self.ready_at - self.created, 1e-9)
            if elapsed < 0.1 * total:
                return "created"
            return "uploading" if elapsed > 0.8 * total else "processing"
        return "failed" if self.fail else "completed"


class TalkdeskStandIn:
    """A Talkdesk Explore API on 127.0.0.1 serving ``frame``; use it as a context manager.

    Parameters
    ----------
    frame
        The report's rows as a canonical frame (any timezone); a job serves the rows whose
        ``start_date_time`` (or ``end_date_time`` when the start is null) is in its span.
        Assign ``standin.frame`` to change the data between fetches (later states).
    client_id, client_secret, account
        The credentials the token endpoint accepts.
    job_seconds
        How long a job takes from creation to done (it is never done before its file is made).
    token_ttl
        ``expires_in`` of the tokens it hands out; older tokens get 401.
    url_ttl
        Seconds a presigned URL stays valid.
    faults
        A :class:`Faults`; change its fields at any time.

    Examples
    --------
    >>> with TalkdeskStandIn(frame) as talkdesk:  # doctest: +SKIP
    ...     os.environ.update(talkdesk.environ())
    ...     ok.fetch("2024-09-02", "2024-09-09")
    """

    def __init__(
        self,
        frame: pl.DataFrame,
        *,
        client_id: str = "omnikit-standin",
        client_secret: str = "standin-secret",
        account: str = "standin",
        job_seconds: float = 0.2,
        token_ttl: float = 3600.0,
        url_ttl: float = 60.0,
        faults: Faults | None = None,
    ) -> None:
        self.frame = frame
        self.client_id = client_id
        self.client_secret = client_secret
        self.account = account
        self.job_seconds = job_seconds
        self.token_ttl = token_ttl
        self.url_ttl = url_ttl
        self.faults = faults or Faults()
        self.lock = threading.Lock()
        self.jobs: dict[str, _Job] = {}
        self.tokens: dict[str, float] = {}
        #: Every token handed out, revoked ones included (to look for leaks).
        self.issued_tokens: list[str] = []
        self.log: list[tuple[str, str, str, int]] = []  # (server, method, path, status)
        self.seen_authorization_on_storage = 0
        #: Authorization headers the other-origin listener received (there should be none).
        self.foreign_authorizations: list[str] = []
        self.token_requests = 0
        self.download_started = threading.Event()
        self._signing_key = secrets.token_bytes(16)
        self._api = _Server(("127.0.0.1", 0), _ApiHandler, self)
        self._storage = _Server(("127.0.0.1", 0), _StorageHandler, self)
        self._foreign = _Server(("127.0.0.1", 0), _ForeignHandler, self)
        self._threads: list[threading.Thread] = []

    # -- lifecycle ----------------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        """The API base URL (``TALKDESK_API_URL``)."""
        return f"http://127.0.0.1:{self._api.server_address[1]}"

    @property
    def token_url(self) -> str:
        """The token URL (``TALKDESK_TOKEN_URL``)."""
        return f"{self.api_url}/oauth/token"

    @property
    def storage_url(self) -> str:
        """The storage host presigned URLs point to."""
        return f"http://127.0.0.1:{self._storage.server_address[1]}"

    @property
    def foreign_url(self) -> str:
        """Another origin (a second listener on another port) the redirect fault goes through."""
        return f"http://127.0.0.1:{self._foreign.server_address[1]}"

    def environ(self, *, prefixed: bool = False) -> dict[str, str]:
        """The ``TALKDESK_*`` variables that point a client at this stand-in.

        ``prefixed=True``: the variables of this stand-in's account as one of several
        (``TALKDESK_<ACCOUNT>_CLIENT_ID``, ..., for ``omnikit fetch --account ACCOUNT``).

        >>> TalkdeskStandIn(frame, account="acme-eu").environ(prefixed=True)  # doctest: +SKIP
        {'TALKDESK_ACME_EU_CLIENT_ID': ..., 'TALKDESK_ACME_EU_CLIENT_SECRET': ..., ...}
        """
        if prefixed:
            from .._explore._credentials import account_prefix

            prefix = account_prefix(self.account)
            return {
                f"{prefix}CLIENT_ID": self.client_id,
                f"{prefix}CLIENT_SECRET": self.client_secret,
                f"{prefix}API_URL": self.api_url,
                f"{prefix}TOKEN_URL": self.token_url,
            }
        return {
            "TALKDESK_ACCOUNT": self.account,
            "TALKDESK_CLIENT_ID": self.client_id,
            "TALKDESK_CLIENT_SECRET": self.client_secret,
            "TALKDESK_API_URL": self.api_url,
            "TALKDESK_TOKEN_URL": self.token_url,
        }

    def start(self) -> TalkdeskStandIn:
        """Start serving in background threads."""
        for server in (self._api, self._storage, self._foreign):
            thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
            )
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        """Stop serving and close the sockets."""
        for server in (self._api, self._storage, self._foreign):
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> TalkdeskStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- controls for tests -------------------------------------------------------------------

    def revoke_tokens(self) -> None:
        """Make every token handed out so far invalid (the next API call gets 401)."""
        with self.lock:
            self.tokens.clear()

    def active_jobs(self) -> int:
        """Jobs created or processing right now, the other users' included."""
        now = time.monotonic()
        with self.lock:
            return sum(
                1
                for job in self.jobs.values()
                if job.status(now) in ("created", "processing", "uploading")
            )

    def real_jobs(self) -> list[_Job]:
        """The jobs clients created (not the other users' ones), in creation order."""
        with self.lock:
            return [job for job in self.jobs.values() if not job.phantom]

    def expected(self, start: dt.datetime, end: dt.datetime) -> pl.DataFrame:
        """The rows a fetch of ``[start, end)`` should end with (as served)."""
        start, end = start.astimezone(dt.UTC), end.astimezone(dt.UTC)
        key = _time_key(self.frame)
        mask = (key >= start) & (key < end)
        return self.frame.filter(mask)

    # -- the service --------------------------------------------------------------------------

    def _issue_token(self) -> dict[str, Any]:
        token = secrets.token_urlsafe(24)
        with self.lock:
            self.tokens[token] = time.monotonic() + self.token_ttl
            self.issued_tokens.append(token)
            self.token_requests += 1
        return {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": self.token_ttl,
            "scope": "data-reports:read data-reports:write",
        }

    def _token_ok(self, header: str | None) -> bool:
        if not header or not header.startswith("Bearer "):
            return False
        with self.lock:
            expiry = self.tokens.get(header[len("Bearer ") :])
        return expiry is not None and time.monotonic() < expiry

    def _add_busy_jobs(self) -> None:
        faults = self.faults
        with self.lock:
            while faults.busy_jobs > 0:
                faults.busy_jobs -= 1
                job_id = "busy-" + secrets.token_hex(6)
                now = time.monotonic()
                self.jobs[job_id] = _Job(
                    job_id,
                    dt.datetime.now(dt.UTC),
                    dt.datetime.now(dt.UTC),
                    "UTC",
                    "json",
                    now,
                    now + faults.busy_seconds,
                    phantom=True,
                )

    def _create_job(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        try:
            name = body["name"]
            timezone = body.get("timezone") or "UTC"
            fmt = body.get("format") or "json"
            start = dt.datetime.fromisoformat(body["timespan"]["from"])
            end = dt.datetime.fromisoformat(body["timespan"]["to"])
        except (KeyError, TypeError, ValueError):
            return 400, {
                "code": "0000400",
                "message": "Invalid request body: name and timespan.from/to are required",
            }
        del name
        try:
            zoneinfo.ZoneInfo(timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return 400, {"code": "0000400", "message": f"Invalid timezone: {timezone}"}
        if start.tzinfo is None:
            start = start.replace(tzinfo=zoneinfo.ZoneInfo(timezone))
        if end.tzinfo is None:
            end = end.replace(tzinfo=zoneinfo.ZoneInfo(timezone))
        if fmt not in ("json", "csv", "json_bulk"):
            return 400, {"code": "0000400", "message": f"Invalid format: {fmt}"}
        if end <= start:
            return 400, {"code": "0000400", "message": "timespan.to must be after timespan.from"}
        if end - start > dt.timedelta(days=31):
            return 400, {"code": "0000400", "message": "timespan cannot exceed 31 days"}
        if end > dt.datetime.now(dt.UTC):
            return 400, {"code": "0000400", "message": "timespan.to cannot be in the future"}
        self._add_busy_jobs()
        now = time.monotonic()
        with self.lock:
            active = sum(
                1
                for job in self.jobs.values()
                if job.status(now) in ("created", "processing", "uploading")
            )
            if active >= self.faults.max_jobs:
                return 429, {
                    "code": "0000429",
                    "message": "Too many jobs running or queued for this account",
                }
            fail = self.faults.fail_jobs > 0
            if fail:
                self.faults.fail_jobs -= 1
            job = _Job(
                secrets.token_hex(16),
                start,
                end,
                timezone,
                fmt,
                now,
                now + self.job_seconds,
                fail=fail,
            )
            self.jobs[job.id] = job
        threading.Thread(target=self._generate, args=(job,), daemon=True).start()
        return 202, {"job": self._job_json(job)}

    def _generate(self, job: _Job) -> None:
        try:
            rows = self.expected(job.start, job.end)
            job.rows = rows.height
            job.body = vendor_bytes(rows, job.timezone, job.format)
        finally:
            job.generated.set()

    def _job_json(self, job: _Job) -> dict[str, Any]:
        status = job.status(time.monotonic())
        return {
            "id": job.id,
            "name": f"job {job.id}",
            "status": status,
            "timezone": job.timezone,
            "format": job.format,
            "timespan": {"from": job.start.isoformat(), "to": job.end.isoformat()},
            **(
                {"error": "internal error while generating the report"}
                if status == "failed"
                else {}
            ),
            "_links": {"self": {"href": f"{self.api_url}{_JOBS}/{job.id}"}},
        }

    def _presign(self, job_id: str) -> str:
        with self.lock:
            expired = self.faults.expired_urls > 0
            if expired:
                self.faults.expired_urls -= 1
        expires = int(time.time() + (-5 if expired else self.url_ttl))
        signature = hmac.new(
            self._signing_key, f"{job_id}:{expires}".encode(), hashlib.sha256
        ).hexdigest()
        query = urllib.parse.urlencode({"X-Amz-Expires": expires, "X-Amz-Signature": signature})
        return f"{self.storage_url}/reports/{job_id}.bin?{query}"

    def _done_location(self, job_id: str) -> str:
        """Where a "done" job-status answer sends the client (the redirect fault, or its file)."""
        faults = self.faults
        with self.lock:
            redirect = faults.redirect_status > 0
            if redirect:
                faults.redirect_status -= 1
        if not redirect:
            return f"{_FILES}/{job_id}"
        if faults.redirect_to_storage:
            return self._presign(job_id)
        return f"{self.foreign_url}/hop/{max(1, faults.redirect_hops)}/{job_id}"

    def _check_presigned(self, path: str) -> tuple[int, str, _Job | None]:
        parsed = urllib.parse.urlsplit(path)
        query = dict(urllib.parse.parse_qsl(parsed.query))
        job_id = parsed.path.rsplit("/", 1)[-1].removesuffix(".bin")
        try:
            expires = int(query["X-Amz-Expires"])
        except (KeyError, ValueError):
            return (
                403,
                "AccessDenied: Query-string authentication requires the Signature and Expires",
                None,
            )
        wanted = hmac.new(
            self._signing_key, f"{job_id}:{expires}".encode(), hashlib.sha256
        ).hexdigest()
        if not hmac.compare_digest(wanted, query.get("X-Amz-Signature", "")):
            return 403, "SignatureDoesNotMatch", None
        if time.time() > expires:
            return 403, "AccessDenied: Request has expired", None
        with self.lock:
            job = self.jobs.get(job_id)
        if job is None or job.body is None:
            return 404, "NoSuchKey", None
        return 200, "", job


def _time_key(frame: pl.DataFrame) -> pl.Series:
    start = frame.get_column("start_date_time").dt.convert_time_zone("UTC")
    end = frame.get_column("end_date_time").dt.convert_time_zone("UTC")
    return pl.select(pl.coalesce(start, end)).to_series()


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, address: tuple[str, int], handler: type, standin: TalkdeskStandIn) -> None:
        super().__init__(address, handler)
        self.standin = standin


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    name = "api"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    @property
    def standin(self) -> TalkdeskStandIn:
        return self.server.standin

    def _send_json(
        self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)
        self._record(status)

    def _redirect(self, status: int, location: str) -> None:
        self.send_response(status)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()
        self._record(status)

    def _record(self, status: int) -> None:
        with self.standin.lock:
            self.standin.log.append((self.name, self.command, self.path.split("?")[0], status))

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""


class _ApiHandler(_Handler):
    name = "api"

    def do_POST(self) -> None:
        body = self._body()
        if self.path == "/oauth/token":
            self._token(body)
        elif self.path == _JOBS:
            if not self._authorized() or self._burst():
                return
            try:
                payload = json.loads(body or b"{}")
            except ValueError:
                self._send_json(400, {"code": "0000400", "message": "Malformed JSON"})
                return
            status, answer = self.standin._create_job(payload)
            retry = self.standin.faults.retry_after
            headers = {"Retry-After": f"{retry:g}"} if status == 429 and retry is not None else None
            self._send_json(status, answer, headers)
        else:
            self._send_json(404, {"code": "0000404", "message": "Not found"})

    def do_GET(self) -> None:
        standin = self.standin
        if self.path.startswith(_JOBS + "/"):
            if not self._authorized() or self._burst():
                return
            job_id = self.path[len(_JOBS) + 1 :]
            if standin.faults.slow_status > 0:
                time.sleep(standin.faults.slow_status)
            with standin.lock:
                job = standin.jobs.get(job_id)
            if job is None:
                self._send_json(404, {"code": "0000404", "message": "Job not found"})
            elif job.status(time.monotonic()) == "completed":
                self._redirect(303, standin._done_location(job_id))
            else:
                self._send_json(200, {"job": standin._job_json(job)})
        elif self.path.startswith(_FILES + "/"):
            if not self._authorized() or self._burst():
                return
            job_id = self.path[len(_FILES) + 1 :]
            with standin.lock:
                job = standin.jobs.get(job_id)
            if job is None or job.status(time.monotonic()) != "completed":
                self._send_json(404, {"code": "0000404", "message": "File not found"})
            else:
                self._redirect(303, standin._presign(job_id))
        else:
            self._send_json(404, {"code": "0000404", "message": "Not found"})

    def _token(self, body: bytes) -> None:
        standin = self.standin
        form = dict(urllib.parse.parse_qsl(body.decode()))
        header = self.headers.get("Authorization", "")
        expected = base64.b64encode(
            f"{standin.client_id}:{standin.client_secret}".encode()
        ).decode()
        if not header.startswith("Basic ") or not hmac.compare_digest(header[6:], expected):
            self._send_json(
                401,
                {"error": "invalid_client", "error_description": "Client authentication failed"},
            )
        elif form.get("grant_type") != "client_credentials":
            self._send_json(400, {"error": "unsupported_grant_type"})
        else:
            self._send_json(200, standin._issue_token())

    def _authorized(self) -> bool:
        if self.standin._token_ok(self.headers.get("Authorization")):
            return True
        self._send_json(
            401, {"code": "0000401", "message": "Unauthorized: the token is missing or expired"}
        )
        return False

    def _burst(self) -> bool:
        faults = self.standin.faults
        with self.standin.lock:
            if faults.burst_503 <= 0:
                return False
            faults.burst_503 -= 1
        headers = (
            {"Retry-After": f"{faults.retry_after:g}"} if faults.retry_after is not None else None
        )
        self._send_json(503, {"code": "0000503", "message": "Service unavailable"}, headers)
        return True


class _ForeignHandler(_Handler):
    """Another origin: records any Authorization it gets and redirects on, hop by hop."""

    name = "foreign"

    def do_GET(self) -> None:
        standin = self.standin
        header = self.headers.get("Authorization")
        if header:
            with standin.lock:
                standin.foreign_authorizations.append(header)
        parts = self.path.split("?")[0].strip("/").split("/")
        if len(parts) != 3 or parts[0] != "hop" or not parts[1].isdigit():
            self._send_json(404, {"message": "Not found"})
            return
        hops, job_id = int(parts[1]), parts[2]
        if hops > 1:
            self._redirect(302, f"/hop/{hops - 1}/{job_id}")
        else:
            self._redirect(302, f"{standin.api_url}{_FILES}/{job_id}")


class _StorageHandler(_Handler):
    name = "storage"

    def do_GET(self) -> None:
        standin = self.standin
        if self.headers.get("Authorization"):
            # S3 refuses a presigned request that also carries an Authorization header.
            with standin.lock:
                standin.seen_authorization_on_storage += 1
            self._send_xml(400, "InvalidArgument: Only one auth mechanism allowed")
            return
        status, message, job = standin._check_presigned(self.path)
        if job is None:
            self._send_xml(status, message)
            return
        assert job.body is not None
        body = job.body
        faults = standin.faults
        with standin.lock:
            drop = faults.drop_downloads > 0
            truncate = not drop and faults.truncate_downloads > 0
            if drop:
                faults.drop_downloads -= 1
            if truncate:
                faults.truncate_downloads -= 1
        standin.download_started.set()
        if truncate:
            body = body[: len(body) // 2]
        self.send_response(200)
        self.send_header("Content-Type", "application/json" if job.format != "csv" else "text/csv")
        self.send_header("Content-Length", str(len(job.body) if drop else len(body)))
        self.end_headers()
        self._record(200)
        if drop:
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        pieces = 20 if faults.slow_downloads > 0 else 1
        step = max(1, -(-len(body) // pieces))
        try:
            for offset in range(0, len(body), step):
                self.wfile.write(body[offset : offset + step])
                if faults.slow_downloads > 0:
                    self.wfile.flush()
                    time.sleep(faults.slow_downloads / pieces)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _send_xml(self, status: int, message: str) -> None:
        data = f"<?xml version='1.0'?><Error><Message>{message}</Message></Error>".encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        self._record(status)
