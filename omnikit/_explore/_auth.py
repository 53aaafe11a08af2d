"""Authentication: the one place a credential is put on a request.

:class:`TokenAuth` is an ``httpx.Auth``. For every request the client sends (each hop of a
redirect is a request of its own: the client follows redirects itself), it compares the
request's origin (scheme, host, port) with the API's and the token endpoint's:

- a request to the token URL gets ``Authorization: Basic base64(client_id:secret)``;
- a request to the API's origin gets ``Authorization: Bearer <token>``, the token being
  fetched first if there is none or it is about to run out, and renewed once on a 401;
- any other request (a presigned storage URL, a redirect to another host or port) goes out
  with no ``Authorization`` at all.

Once an answer has come back, the header is taken off the request again, so no request object
kept by a response, an exception or a traceback holds a credential.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable, Generator

import httpx

from .._errors import AuthenticationError, ExploreError
from ._credentials import SCOPES, Credentials, Secret
from ._retry import RETRY_STATUSES, Deadline, RetryPolicy

__all__ = ["TokenAuth", "origin"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin(url: httpx.URL | str) -> tuple[str, str, int | None]:
    """The origin of ``url``: scheme, host and port (the scheme's default port if none).

    >>> origin("https://api.talkdeskapp.com/data/reports")
    ('https', 'api.talkdeskapp.com', 443)
    """
    url = httpx.URL(url)
    return url.scheme, url.host, url.port or _DEFAULT_PORTS.get(url.scheme)


def _scrub(request: httpx.Request) -> None:
    if "authorization" in request.headers:
        del request.headers["authorization"]


class TokenAuth(httpx.Auth):
    """Put the right credential on requests to Talkdesk's origins, and none on any other.

    Parameters
    ----------
    credentials
        The client id and secret the token endpoint takes.
    api_url, token_url
        The API base URL and the token URL: their origins are the only ones a credential
        goes to.
    policy
        The :class:`RetryPolicy` for the token request (429, 5xx, connection errors).
    deadline
        Returns the running fetch's :class:`Deadline` (or None): the token request is bounded
        by it too.
    http_timeout
        Seconds to wait on the network for the token answer.

    Examples
    --------
    >>> auth = TokenAuth(creds, api_url="https://api.talkdeskapp.com",
    ...                  token_url="https://acme.talkdeskid.com/oauth/token",
    ...                  policy=RetryPolicy())  # doctest: +SKIP
    >>> httpx.Client(auth=auth, follow_redirects=False)  # doctest: +SKIP
    """

    def __init__(
        self,
        credentials: Credentials,
        *,
        api_url: str,
        token_url: str,
        policy: RetryPolicy,
        deadline: Callable[[], Deadline | None] = lambda: None,
        http_timeout: float = 60.0,
    ) -> None:
        self.credentials = credentials
        self.api_url = api_url
        self.token_url = token_url
        self.policy = policy
        self.deadline = deadline
        self.http_timeout = http_timeout
        self._api_origin = origin(api_url)
        self._token_origin = origin(token_url)
        self._token_endpoint = httpx.URL(token_url).copy_with(query=None, fragment=None)
        self._lock = threading.Lock()
        self._token: Secret | None = None
        self._renew_at = 0.0
        #: Token requests made (for tests and debugging).
        self.token_requests = 0
        #: The ``httpx.Client`` this auth serves, which sends the token requests (through it).
        self.client: httpx.Client | None = None

    def __repr__(self) -> str:
        return f"TokenAuth(api_url={self.api_url!r}, token_url={self.token_url!r})"

    # -- the flow ---------------------------------------------------------------------------

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        """Attach the credential this request's origin may have; renew the token once on 401.

        Overridden (rather than ``auth_flow``) because getting a token is I/O made under a
        lock, which httpx asks of ``sync_auth_flow``.
        """
        _scrub(request)  # whatever a caller put there: credentials are set here only
        target = origin(request.url)
        if request.url.copy_with(query=None, fragment=None) == self._token_endpoint:
            request.headers["Authorization"] = self._basic()
            try:
                yield request
            finally:
                _scrub(request)
            return
        if target != self._api_origin:
            yield request  # another origin: no credential at all
            return
        for renewed in (False, True):
            used = self._current_token()
            request.headers["Authorization"] = "Bearer " + used.reveal()
            try:
                response = yield request
            finally:
                _scrub(request)
            if response.status_code != 401 or renewed:
                return
            self._drop(used)

    # -- tokens -----------------------------------------------------------------------------

    def _basic(self) -> str:
        pair = f"{self.credentials.client_id}:{self.credentials.client_secret.reveal()}"
        return "Basic " + base64.b64encode(pair.encode()).decode()

    def _current_token(self) -> Secret:
        with self._lock:
            if self._token is None or self.policy.clock() >= self._renew_at:
                self._token = None
                self._fetch_token()
            assert self._token is not None
            return self._token

    def _drop(self, used: Secret) -> None:
        with self._lock:
            if self._token is used:
                self._token = None

    def _fetch_token(self) -> None:
        """Ask the token endpoint for a token (client credentials grant), with retries."""
        client = self.client
        if client is None:
            raise RuntimeError("TokenAuth.client is not set: give it the httpx.Client it serves")
        policy, attempt = self.policy, 0
        what = f"the Talkdesk token endpoint {self.token_url}"
        while True:
            deadline = self.deadline()
            timeout = self.http_timeout
            if deadline is not None:
                left = deadline.remaining(policy.clock)
                if left <= 0:
                    raise deadline.expired(f"asking {what} for a token")
                timeout = min(timeout, left)
            request = client.build_request(
                "POST",
                self.token_url,
                data={"grant_type": "client_credentials", "scope": SCOPES},
                headers={"Accept": "application/json"},
                timeout=timeout,
            )
            self.token_requests += 1
            failure = None
            try:
                response = client.send(request)  # through this auth: the Basic header
            except httpx.TransportError as error:
                failure = type(error).__name__
            if failure is not None:  # raised outside ``except``: no request in __context__
                attempt += 1
                if policy.gives_up(attempt):
                    raise ExploreError(f"cannot reach {what} ({failure}) after {attempt} attempts")
                policy.pause(policy.backoff_seconds(attempt), deadline=deadline, what=what)
                continue
            status = response.status_code
            if status in RETRY_STATUSES:
                attempt += 1
                if policy.gives_up(attempt):
                    raise ExploreError(f"{what} answered HTTP {status} {attempt} times; try later")
                wait = policy.wait_seconds(attempt, response.headers.get("Retry-After"))
                policy.pause(wait, deadline=deadline, what=what)
                continue
            if status in (400, 401, 403):
                reason = _error_code(response)
                raise AuthenticationError(
                    f"Talkdesk refused the credentials of client id {self.credentials.client_id!r} "
                    f"at {self.token_url} (HTTP {status}{', ' + reason if reason else ''}); "
                    "check TALKDESK_CLIENT_ID, TALKDESK_CLIENT_SECRET and TALKDESK_ACCOUNT/REGION"
                )
            if status != 200:
                raise ExploreError(f"{what} answered HTTP {status}")
            self._take(response)
            return

    def _take(self, response: httpx.Response) -> None:
        """Keep the token of a token answer."""
        problem = None
        try:
            body = response.json()
            token = Secret(str(body["access_token"]))
            expires_in = float(body.get("expires_in") or 3600)
        except (ValueError, KeyError, TypeError, AttributeError):
            problem = (
                f"the Talkdesk token endpoint {self.token_url} answered without an access_token"
            )
        if problem is not None:
            raise ExploreError(problem)
        margin = min(60.0, expires_in / 5)
        self._token = token
        self._renew_at = self.policy.clock() + expires_in - margin


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
