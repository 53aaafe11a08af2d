"""Unit tests of the client's retry policy and authentication, with httpx.MockTransport.

No network and no real sleep: the client gets a fake clock whose sleep only moves it forward,
so every wait the client makes is recorded and checked. End-to-end behaviour over real HTTP is
in test_explore.py (against omnikit.testing.TalkdeskStandIn).
"""

from __future__ import annotations

import base64
import json
import threading
import time

import httpx
import pytest

import omnikit as ok
from omnikit.explore import (
    Credentials,
    Deadline,
    ExploreClient,
    RetryPolicy,
    Secret,
    parse_when,
)

API = "https://api.talkdesk.test"
TOKEN = "https://acme.talkdeskid.test/oauth/token"
JOBS = f"{API}/data/reports/erc_omnichannel_report/jobs"
FILES = f"{API}/data/reports/erc_omnichannel_report/files"
SECRET = "unit-secret-4b1d"
BASIC = "Basic " + base64.b64encode(f"cid:{SECRET}".encode()).decode()
START, END = parse_when("2024-09-02"), parse_when("2024-09-03")


class FakeClock:
    """A monotonic clock that only moves when the client sleeps (or a test says so)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class FakeTalkdesk:
    """A scripted Talkdesk: answers from per-URL queues, records every request it sees."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.seen: list[httpx.Request] = []
        self.headers: list[tuple[str, str | None]] = []  # (url, Authorization)
        self.tokens = 0
        self.expires_in = 3600
        self.script: dict[str, list] = {}

    def answer(self, key: str, *answers) -> None:
        self.script.setdefault(key, []).extend(answers)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        self.headers.append((str(request.url), request.headers.get("Authorization")))
        key = f"{request.method} {request.url.copy_with(query=None)}"
        if self.script.get(key):
            answer = self.script[key].pop(0)
            if isinstance(answer, Exception):
                raise answer
            if callable(answer):
                return answer(request)
            return answer
        if key == f"POST {TOKEN}":
            if request.headers.get("Authorization") != BASIC:
                return httpx.Response(401, json={"error": "invalid_client"})
            self.tokens += 1
            return httpx.Response(
                200, json={"access_token": f"tok-{self.tokens}", "expires_in": self.expires_in}
            )
        if request.headers.get("Authorization") != f"Bearer tok-{self.tokens}":
            return httpx.Response(401, json={"message": "Unauthorized"})
        if key == f"POST {JOBS}":
            return httpx.Response(202, json={"job": {"id": "j1", "status": "created"}})
        return httpx.Response(404, json={"message": "not scripted: " + key})


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def talkdesk(clock) -> FakeTalkdesk:
    return FakeTalkdesk(clock)


def make_client(talkdesk: FakeTalkdesk, clock: FakeClock, **options) -> ExploreClient:
    creds = Credentials("acme", "cid", Secret(SECRET), api_url=API, token_url=TOKEN)
    options = {"backoff": 1.0, "max_backoff": 8.0, "retries": 3, "timeout": 600, **options}
    return ExploreClient(
        creds, transport=httpx.MockTransport(talkdesk), clock=clock, sleep=clock.sleep, **options
    )


def creates(talkdesk: FakeTalkdesk) -> int:
    return sum(1 for r in talkdesk.seen if r.method == "POST" and str(r.url) == JOBS)


# -- the retry policy -------------------------------------------------------------------------


def test_backoff_doubles_up_to_its_cap_and_retry_after_wins():
    policy = RetryPolicy(retries=4, backoff=1.0, max_backoff=5.0, jitter=lambda: 1.0)
    assert [policy.backoff_seconds(n) for n in range(1, 6)] == [1.0, 2.0, 4.0, 5.0, 5.0]
    assert policy.wait_seconds(3, "2") == 2.0
    assert policy.wait_seconds(3, "2", at_least_backoff=True) == 4.0
    assert policy.wait_seconds(1, "not a number or date") == 1.0
    assert not policy.gives_up(4) and policy.gives_up(5)
    assert policy.gives_up(2, limit=1) and not policy.gives_up(1, limit=1)


def test_503s_are_retried_with_retry_after_and_no_real_sleep(talkdesk, clock):
    busy = httpx.Response(503, headers={"Retry-After": "7"}, json={"message": "busy"})
    talkdesk.answer(f"POST {JOBS}", busy, busy)
    started = time.monotonic()
    with make_client(talkdesk, clock) as client:
        assert client.create_job(START, END, "UTC") == "j1"
    assert time.monotonic() - started < 1  # the 14 s of waits were the fake clock's
    assert clock.sleeps == [7.0, 7.0]
    assert creates(talkdesk) == 3


def test_a_request_failing_for_good_gives_up_after_the_policys_retries(talkdesk, clock):
    talkdesk.answer(f"POST {JOBS}", *[httpx.Response(502, json={})] * 10)
    with (
        make_client(talkdesk, clock, retries=3) as client,
        pytest.raises(ok.ExploreError, match="answered HTTP 502 4 times"),
    ):
        client.create_job(START, END, "UTC")
    assert creates(talkdesk) == 4
    assert len(clock.sleeps) == 3
    assert all(0.5 * 2**i <= s <= 2**i for i, s in enumerate(clock.sleeps))  # doubling, jitter


def test_connection_errors_are_retried_then_named(talkdesk, clock):
    talkdesk.answer(f"POST {JOBS}", httpx.ConnectError("refused"), httpx.ReadTimeout("slow"))
    with make_client(talkdesk, clock) as client:
        assert client.create_job(START, END, "UTC") == "j1"
        talkdesk.answer(f"POST {JOBS}", *[httpx.ConnectError("refused")] * 5)
        with pytest.raises(ok.ExploreError, match=r"cannot reach .* \(ConnectError\) after 4"):
            client.create_job(START, END, "UTC")


def test_a_full_job_queue_is_waited_out_never_back_to_back(talkdesk, clock):
    full = httpx.Response(429, headers={"Retry-After": "0"}, json={"message": "queue full"})
    talkdesk.answer(f"POST {JOBS}", *[full] * 8)  # more than `retries`: 429 waits, not counts
    with make_client(talkdesk, clock) as client:
        assert client.create_job(START, END, "UTC") == "j1"
    assert len(clock.sleeps) == 8 and min(clock.sleeps) >= 0.5  # the backoff is a floor


def test_the_deadline_bounds_every_wait(talkdesk, clock):
    busy = httpx.Response(503, headers={"Retry-After": "30"}, json={})
    talkdesk.answer(f"POST {JOBS}", *[busy] * 5)
    with (
        make_client(talkdesk, clock, timeout=45, retries=10) as client,
        pytest.raises(ok.ExploreTimeoutError, match="within the timeout of 45 s"),
    ):
        client.create_job(START, END, "UTC")
    assert clock.sleeps == [30.0]  # the second wait would pass the deadline: not slept


def test_job_status_polls_use_the_clock(talkdesk, clock):
    running = httpx.Response(200, json={"job": {"id": "j1", "status": "processing"}})
    done = httpx.Response(303, headers={"Location": f"{FILES}/j1"})
    talkdesk.answer(f"GET {JOBS}/j1", running, running, running, done)
    with make_client(talkdesk, clock, poll_interval=2.0, max_poll_interval=3.0) as client:
        assert client.wait_for_job("j1") == f"{FILES}/j1"
    assert clock.sleeps == [2.0, 2.5, 3.0]


# -- authentication ---------------------------------------------------------------------------


def test_the_secret_goes_to_the_token_url_only_and_the_token_to_the_api_only(talkdesk, clock):
    with make_client(talkdesk, clock) as client:
        client.create_job(START, END, "UTC")
    assert talkdesk.headers == [(TOKEN, BASIC), (JOBS, "Bearer tok-1")]
    # Once answered, no request object keeps its credential.
    assert all("authorization" not in r.headers for r in talkdesk.seen)


def test_a_token_is_renewed_before_it_runs_out(talkdesk, clock):
    talkdesk.expires_in = 100  # renewed at 80 s (a fifth before)
    with make_client(talkdesk, clock) as client:
        client.create_job(START, END, "UTC")
        clock.now += 79
        client.create_job(START, END, "UTC")
        assert talkdesk.tokens == 1
        clock.now += 2
        client.create_job(START, END, "UTC")
    assert talkdesk.tokens == 2
    assert talkdesk.headers[-1] == (JOBS, "Bearer tok-2")


def test_a_401_renews_the_token_once_then_is_an_authentication_error(talkdesk, clock):
    with make_client(talkdesk, clock) as client:
        client.create_job(START, END, "UTC")
        talkdesk.tokens += 1  # the service revoked tok-1: it now wants tok-2, not issued yet
        client.create_job(START, END, "UTC")  # 401, new token (tok-3 issued), retried: fine
        assert [h for _, h in talkdesk.headers[-3:]] == ["Bearer tok-1", BASIC, "Bearer tok-3"]
        unauthorized = httpx.Response(401, json={"message": "no"})
        talkdesk.answer(f"POST {JOBS}", unauthorized, unauthorized)
        with pytest.raises(ok.AuthenticationError, match="with a fresh token"):
            client.create_job(START, END, "UTC")


def test_token_endpoint_errors_are_retried_then_refusals_named(talkdesk, clock):
    talkdesk.answer(f"POST {TOKEN}", httpx.Response(503, json={}), httpx.ConnectError("x"))
    with make_client(talkdesk, clock) as client:
        client.create_job(START, END, "UTC")
    assert len(clock.sleeps) == 2 and talkdesk.tokens == 1
    refused = httpx.Response(401, json={"error": "invalid_client"})
    talkdesk2 = FakeTalkdesk(clock)
    talkdesk2.answer(f"POST {TOKEN}", refused)
    with (
        make_client(talkdesk2, clock) as client,
        pytest.raises(ok.AuthenticationError, match="refused the credentials of client id 'cid'"),
    ):
        client.create_job(START, END, "UTC")


@pytest.mark.parametrize(
    "url",
    [
        "https://api.talkdesk.test:8443/data/x",  # same host, another port
        "http://api.talkdesk.test/data/x",  # same host, another scheme
        "https://evil.test/data/x",  # another host
        "https://acme.talkdeskid.test/data/x",  # the token host: the secret, not the token
        "https://storage.test/reports/j1.bin?X-Amz-Signature=s",  # a presigned URL
    ],
)
def test_no_credential_goes_to_another_origin(talkdesk, clock, url):
    talkdesk.answer(f"GET {url.split('?')[0]}", httpx.Response(200, content=b"{}"))
    with make_client(talkdesk, clock) as client:
        client.create_job(START, END, "UTC")
        response = client._http.get(url, headers={"Authorization": "Bearer planted"})
    assert response.status_code == 200
    assert talkdesk.headers[-1] == (url, None)


@pytest.mark.parametrize("hops", [1, 2, 3])
def test_each_redirect_hop_is_checked_again(talkdesk, clock, tmp_path, hops):
    # Job status -> `hops` redirects through another origin -> the files endpoint -> storage.
    foreign = "http://127.0.0.1:9999/hop"
    talkdesk.answer(
        f"GET {JOBS}/j1", httpx.Response(303, headers={"Location": f"{foreign}/{hops}"})
    )
    for n in range(hops, 0, -1):
        target = f"{foreign}/{n - 1}" if n > 1 else f"{FILES}/j1"
        talkdesk.answer(f"GET {foreign}/{n}", httpx.Response(302, headers={"Location": target}))
    storage = "https://storage.test/reports/j1.bin"
    talkdesk.answer(f"GET {FILES}/j1", httpx.Response(303, headers={"Location": storage + "?s=1"}))
    body = json.dumps({"entries": [], "total": 0}).encode()
    stream = httpx.ByteStream(body)  # a body on the wire, as a real server sends it
    headers = {"Content-Length": str(len(body))}
    talkdesk.answer(f"GET {storage}", httpx.Response(200, headers=headers, stream=stream))
    with make_client(talkdesk, clock) as client:
        url = client.wait_for_job("j1")
        assert client.download(url, tmp_path / "f.json") == len(body)
    sent = {url.split("?")[0]: auth for url, auth in talkdesk.headers}
    assert [sent[f"{foreign}/{n}"] for n in range(hops, 0, -1)] == [None] * hops
    assert sent[storage] is None
    assert sent[f"{FILES}/j1"] == sent[f"{JOBS}/j1"] == "Bearer tok-1"


def test_too_many_redirects_is_a_clear_error(talkdesk, clock, tmp_path):
    loop = httpx.Response(302, headers={"Location": f"{FILES}/j1"})
    talkdesk.answer(f"GET {FILES}/j1", *[loop] * 20)
    with (
        make_client(talkdesk, clock) as client,
        pytest.raises(ok.ExploreError, match="more than 10 redirects"),
    ):
        client.download(f"{FILES}/j1", tmp_path / "f.json")


def test_a_worker_stuck_past_the_deadline_does_not_hold_the_run():
    # A read that never returns (and so never sees the deadline) cannot keep the run alive:
    # the main thread gives up on it a little after the deadline.
    from omnikit._explore._spans import RunContext, run_spans

    release = threading.Event()
    ticks = iter(range(1000))
    started = time.monotonic()
    with pytest.raises(ok.ExploreTimeoutError, match="within the timeout of 3 s"):
        list(
            run_spans(
                ["span"],
                lambda span: release.wait(30),
                workers=1,
                context=RunContext(),
                deadline=Deadline(at=3.0, timeout=3.0),
                clock=lambda: float(next(ticks)),
            )
        )
    release.set()
    assert time.monotonic() - started < 5
