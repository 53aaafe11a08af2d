"""omnikit.explore against the Talkdesk stand-in over real HTTP on 127.0.0.1.

Every fault the stand-in can inject ends with the store holding exactly the stand-in's rows
for the range: nothing lost, nothing twice.
"""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import logging
import threading
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import polars as pl
import pytest
from polars.testing import assert_frame_equal

import omnikit as ok
from omnikit.explore import (
    Credentials,
    ExploreClient,
    Secret,
    clamp_range,
    parse_when,
    split_range,
)
from omnikit.testing import Faults, TalkdeskStandIn

TZ = "Europe/Lisbon"
UTC = dt.UTC


def make_frame(
    n: int = 1500, *, start: str = "2024-09-01", days: int = 80, seed: int = 3
) -> pl.DataFrame:
    """``ok.synth_frame`` rows (UTC) with every 97th start time missing (the report has such rows).

    Instants in the second 01:00 hour of 2024-10-27 in Lisbon are left out: the report writes
    wall-clock times without an offset, so they read back as the first 01:00 hour (by definition).
    """
    frame = ok.synth_frame(n, seed=seed, start=start, days=days, timezone="UTC")
    repeated = pl.col("start_date_time").is_between(
        t_utc("2024-10-27 01:00"), t_utc("2024-10-27 02:00"), closed="left"
    ) | pl.col("end_date_time").is_between(
        t_utc("2024-10-27 01:00"), t_utc("2024-10-27 02:00"), closed="left"
    )
    return frame.filter(~repeated.fill_null(False)).with_columns(
        pl.when(pl.int_range(pl.len()) % 97 == 5)
        .then(None)
        .otherwise(pl.col("start_date_time"))
        .alias("start_date_time")
    )


def t_utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def in_tz(frame: pl.DataFrame, timezone: str = TZ) -> pl.DataFrame:
    return frame.with_columns(
        pl.col("start_date_time", "end_date_time").dt.convert_time_zone(timezone)
    )


def same_rows(got: pl.DataFrame, want: pl.DataFrame) -> None:
    """``got`` holds exactly ``want``'s interactions, once each, with the same values."""
    assert got.get_column("interaction_id").is_duplicated().sum() == 0
    assert_frame_equal(
        got.select(want.columns).sort("interaction_id"),
        in_tz(want).sort("interaction_id"),
    )


FRAME = make_frame()
START, END = "2024-09-02", "2024-11-10"  # 69 days: three jobs, across the end of DST


@pytest.fixture
def talkdesk():
    with TalkdeskStandIn(FRAME, job_seconds=0.15) as standin:
        yield standin


def client_for(standin: TalkdeskStandIn, **options) -> ExploreClient:
    options = {
        "poll_interval": 0.02,
        "max_poll_interval": 0.1,
        "backoff": 0.01,
        "timeout": 30,
        **options,
    }
    return ExploreClient(Credentials.from_env(standin.environ()), **options)


def expected(standin: TalkdeskStandIn, start: str = START, end: str = END) -> pl.DataFrame:
    return standin.expected(parse_when(start, TZ), parse_when(end, TZ))


def fetch_into(tmp_path: Path, standin: TalkdeskStandIn, **options) -> pl.DataFrame:
    with client_for(standin, **options) as client:
        return ok.fetch(START, END, timezone=TZ, store=tmp_path / "store", client=client)


def statuses(standin: TalkdeskStandIn, server: str, path_part: str) -> list[int]:
    return [status for srv, _, path, status in standin.log if srv == server and path_part in path]


# -- credentials ------------------------------------------------------------------------------


def test_credentials_from_env_pick_region_endpoints():
    env = {"TALKDESK_ACCOUNT": "acme", "TALKDESK_CLIENT_ID": "cid", "TALKDESK_CLIENT_SECRET": "x"}
    assert Credentials.from_env(env).api_endpoint == "https://api.talkdeskapp.com"
    eu = Credentials.from_env({**env, "TALKDESK_REGION": "EU"})
    assert (eu.token_endpoint, eu.api_endpoint) == (
        "https://acme.talkdeskid.eu/oauth/token",
        "https://api.talkdeskapp.eu",
    )
    ca = Credentials.from_env({**env, "TALKDESK_REGION": "ca"})
    assert (ca.token_endpoint, ca.api_endpoint) == (
        "https://acme.talkdeskidca.com/oauth/token",
        "https://api.talkdeskappca.com",
    )
    custom = Credentials.from_env(
        {**env, "TALKDESK_API_URL": "http://h:1/", "TALKDESK_TOKEN_URL": "http://h:2/t"}
    )
    assert (custom.api_endpoint, custom.token_endpoint) == ("http://h:1", "http://h:2/t")
    with pytest.raises(ok.ParameterError, match="TALKDESK_REGION"):
        Credentials.from_env({**env, "TALKDESK_REGION": "mars"})


def test_missing_credentials_name_the_variables():
    with pytest.raises(ok.AuthenticationError, match="TALKDESK_CLIENT_ID, TALKDESK_CLIENT_SECRET"):
        Credentials.from_env({"TALKDESK_ACCOUNT": "acme"})


def test_credentials_file(tmp_path, monkeypatch):
    for name in (
        "TALKDESK_ACCOUNT",
        "TALKDESK_CLIENT_ID",
        "TALKDESK_CLIENT_SECRET",
        "TALKDESK_REGION",
    ):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "talkdesk.env"
    path.write_text(
        "# Talkdesk\nexport TALKDESK_ACCOUNT=acme\nTALKDESK_CLIENT_ID = 'cid'\n"
        'TALKDESK_CLIENT_SECRET="p=w"\n'
    )
    creds = Credentials.from_file(path)
    assert (creds.account, creds.client_id, creds.client_secret.reveal()) == ("acme", "cid", "p=w")
    path.write_text("TALKDESK_CLIENT_SECRET hunter2\n")
    with pytest.raises(ok.AuthenticationError) as error:
        Credentials.from_file(path)
    assert "line 1" in str(error.value) and "hunter2" not in str(error.value)


def test_secret_never_prints():
    secret = Secret("hunter2")
    creds = Credentials("acme", "cid", secret)
    for text in (str(secret), repr(secret), f"{secret}", repr(creds), str(creds)):
        assert "hunter2" not in text
    with pytest.raises(TypeError):
        __import__("pickle").dumps(secret)


# -- ranges -----------------------------------------------------------------------------------


def test_split_range_makes_whole_day_jobs_of_at_most_31_days_across_dst():
    start, end = parse_when("2024-09-02", TZ), parse_when("2024-12-20", TZ)
    spans = split_range(start, end, TZ)
    assert spans[0][0] == start and spans[-1][1] == end
    assert all(a[1] == b[0] for a, b in itertools.pairwise(spans))  # contiguous, no overlap
    assert all(e - s <= dt.timedelta(days=31) for s, e in spans)
    # Cuts on local midnights; the span holding the end of DST (Oct 27) is 30 days, not 31 + 1 h.
    local = [(s.astimezone(ZoneInfo(TZ)), e.astimezone(ZoneInfo(TZ))) for s, e in spans]
    assert all(s.hour == 0 and e.hour == 0 for s, e in local)
    assert [(s.date().isoformat(), e.date().isoformat()) for s, e in local] == [
        ("2024-09-02", "2024-10-03"),
        ("2024-10-03", "2024-11-02"),  # 30 days and 1 hour
        ("2024-11-02", "2024-12-03"),
        ("2024-12-03", "2024-12-20"),
    ]


def test_clamp_range_stops_60_seconds_before_now():
    now = dt.datetime(2024, 9, 10, 12, 0, 0, tzinfo=UTC)
    _start, end = clamp_range("2024-09-09", "2024-09-12", "UTC", now=now)
    assert end == dt.datetime(2024, 9, 10, 11, 59, 0, tzinfo=UTC)
    with pytest.raises(ok.ParameterError, match="future"):
        clamp_range("2024-09-11", "2024-09-12", "UTC", now=now)
    with pytest.raises(ok.ParameterError, match="after --from"):
        clamp_range("2024-09-09", "2024-09-09", "UTC", now=now)
    with pytest.raises(ok.ParameterError, match="IANA"):
        clamp_range("2024-09-09", "2024-09-10", "Mars/Olympus")
    with pytest.raises(ok.ParameterError, match="YYYY-MM-DD"):
        clamp_range("09/09/2024", "2024-09-10", "UTC")


def test_server_refuses_a_span_over_31_days(talkdesk):
    with client_for(talkdesk) as client:
        with pytest.raises(ok.ExploreError, match="cannot exceed 31 days"):
            client.create_job(parse_when("2024-09-01"), parse_when("2024-10-03"), "UTC")
        with pytest.raises(ok.ParameterError, match="longer than 31 days"):
            list(client.iter_spans([(parse_when("2024-09-01"), parse_when("2024-10-03"))]))


# -- the happy path ---------------------------------------------------------------------------


def test_fetch_returns_the_rows_of_the_range(tmp_path, talkdesk):
    with client_for(talkdesk) as client:
        frame = client.fetch(START, END, timezone=TZ)
    assert frame.schema["start_date_time"] == pl.Datetime("us", TZ)
    same_rows(frame, expected(talkdesk))
    jobs = talkdesk.real_jobs()
    assert len(jobs) == 3 and all(job.end - job.start <= dt.timedelta(days=31) for job in jobs)
    assert talkdesk.seen_authorization_on_storage == 0
    # The presigned download went to the storage host, never carrying the token.
    assert statuses(talkdesk, "storage", "/reports/") == [200, 200, 200]


def test_csv_format_gives_the_same_frame(talkdesk):
    with client_for(talkdesk, format="csv") as client:
        frame = client.fetch("2024-09-02", "2024-09-20", timezone=TZ)
    same_rows(frame, expected(talkdesk, "2024-09-02", "2024-09-20"))


def test_never_more_jobs_at_once_than_the_limit(tmp_path, talkdesk):
    peak = 0
    stop = threading.Event()

    def watch():
        nonlocal peak
        while not stop.is_set():
            peak = max(
                peak,
                sum(
                    1 for job in talkdesk.real_jobs() if job.status(time.monotonic()) != "completed"
                ),
            )
            time.sleep(0.005)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        with client_for(talkdesk, max_concurrent_jobs=2) as client:
            spans = [
                (parse_when(f"2024-09-{d:02d}", TZ), parse_when(f"2024-09-{d + 1:02d}", TZ))
                for d in range(2, 8)
            ]
            parts = list(client.iter_spans(spans, TZ))
    finally:
        stop.set()
        watcher.join()
    assert (
        len(parts) == 6
        and sum(p.frame.height for p in parts)
        == expected(talkdesk, "2024-09-02", "2024-09-08").height
    )
    assert 1 <= peak <= 2


# -- faults -----------------------------------------------------------------------------------


def test_429_on_the_16th_job_waits_for_room(tmp_path, talkdesk):
    # Other users hold 13 of the account's 15 slots for a moment: our 3rd and 4th jobs get 429.
    talkdesk.faults = Faults(busy_jobs=13, busy_seconds=0.4, retry_after=0)
    store = fetch_into(tmp_path, talkdesk, max_concurrent_jobs=4)
    same_rows(store, expected(talkdesk))
    assert 429 in statuses(talkdesk, "api", "/jobs")


def test_503_bursts_are_retried(tmp_path, talkdesk):
    talkdesk.faults = Faults(burst_503=4, retry_after=0)
    store = fetch_into(tmp_path, talkdesk)
    same_rows(store, expected(talkdesk))
    assert statuses(talkdesk, "api", "/data/").count(503) == 4


def test_503_without_end_gives_a_clear_error(talkdesk):
    talkdesk.faults = Faults(burst_503=10_000, retry_after=None)
    with (
        client_for(talkdesk, retries=2) as client,
        pytest.raises(ok.ExploreError, match="HTTP 503 3 times"),
    ):
        client.fetch("2024-09-02", "2024-09-05", timezone=TZ)


def test_dropped_connection_mid_download_is_downloaded_again(tmp_path, talkdesk):
    talkdesk.faults = Faults(drop_downloads=2)
    store = fetch_into(tmp_path, talkdesk)
    same_rows(store, expected(talkdesk))
    assert len(statuses(talkdesk, "storage", "/reports/")) == 5


def test_truncated_body_is_downloaded_again(tmp_path, talkdesk):
    talkdesk.faults = Faults(truncate_downloads=2)
    store = fetch_into(tmp_path, talkdesk)
    same_rows(store, expected(talkdesk))
    assert len(statuses(talkdesk, "storage", "/reports/")) == 5


def test_tokens_are_renewed_before_they_expire(tmp_path):
    with TalkdeskStandIn(FRAME, job_seconds=0.3, token_ttl=0.5) as talkdesk:
        store = fetch_into(tmp_path, talkdesk, max_concurrent_jobs=1)
        same_rows(store, expected(talkdesk))
        assert talkdesk.token_requests >= 2
        assert 401 not in statuses(talkdesk, "api", "/data/")


def test_a_revoked_token_is_renewed_once_on_401(tmp_path, talkdesk):
    talkdesk.job_seconds = 0.4
    timer = threading.Timer(0.2, talkdesk.revoke_tokens)
    timer.start()
    store = fetch_into(tmp_path, talkdesk)
    timer.join()
    same_rows(store, expected(talkdesk))
    assert 401 in statuses(talkdesk, "api", "/data/")
    assert talkdesk.token_requests >= 2


def test_refused_credentials_raise_authentication_error(talkdesk):
    creds = Credentials(
        "standin",
        talkdesk.client_id,
        Secret("wrong-secret"),
        token_url=talkdesk.token_url,
        api_url=talkdesk.api_url,
    )
    with (
        ExploreClient(creds, backoff=0.01) as client,
        pytest.raises(
            ok.AuthenticationError, match="refused the credentials of client id 'omnikit-standin'"
        ) as error,
    ):
        client.fetch("2024-09-02", "2024-09-05", timezone=TZ)
    assert "wrong-secret" not in str(error.value)


def test_a_failed_job_is_created_again(tmp_path, talkdesk):
    talkdesk.faults = Faults(fail_jobs=1)
    store = fetch_into(tmp_path, talkdesk)
    same_rows(store, expected(talkdesk))
    assert len(talkdesk.real_jobs()) == 4


def test_a_job_failing_for_good_raises_and_keeps_the_other_spans(tmp_path, talkdesk):
    talkdesk.faults = Faults(fail_jobs=2)  # the first job and its second try
    with (
        client_for(talkdesk, max_concurrent_jobs=1) as client,
        pytest.raises(ok.JobFailedError, match=r"ended failed: internal error") as error,
    ):
        ok.fetch(START, END, timezone=TZ, store=tmp_path / "store", client=client)
    assert "2024-09-01T23:00:00Z" in str(error.value)  # names the span
    # The other two spans are in the store; running again fetches only the failed one.
    with client_for(talkdesk) as client:
        jobs_before = len(talkdesk.real_jobs())
        store = ok.fetch(START, END, timezone=TZ, store=tmp_path / "store", client=client)
    same_rows(store, expected(talkdesk))
    assert len(talkdesk.real_jobs()) == jobs_before + 1


def test_presigned_url_refuses_an_authorization_header(talkdesk):
    with client_for(talkdesk) as client:
        part = client.iter_spans([(parse_when("2024-09-02", TZ), parse_when("2024-09-03", TZ))], TZ)
        assert next(part).frame.height > 0
        list(part)
    job = talkdesk.real_jobs()[0]
    url = talkdesk._presign(job.id)
    assert url.startswith(talkdesk.storage_url) and not url.startswith(talkdesk.api_url)
    assert httpx.get(url, headers={"Authorization": "Bearer x"}).status_code == 400
    assert httpx.get(url).status_code == 200
    assert talkdesk.seen_authorization_on_storage == 1  # only ours, just now


@pytest.mark.parametrize("hops", [1, 2, 3])
def test_a_status_redirect_to_another_origin_gets_no_token(tmp_path, talkdesk, hops):
    # Every "done" status answer redirects through `hops` hops on a listener on another port
    # before the files endpoint: the fetch completes, and that listener sees no Authorization.
    talkdesk.faults = Faults(redirect_status=100, redirect_hops=hops)
    store = fetch_into(tmp_path, talkdesk)
    same_rows(store, expected(talkdesk))
    foreign = statuses(talkdesk, "foreign", "/hop/")
    assert len(foreign) >= 3 * hops  # three jobs, each through every hop
    assert talkdesk.foreign_authorizations == []
    assert talkdesk.seen_authorization_on_storage == 0


def test_a_status_redirect_straight_to_storage_gets_no_token(tmp_path, talkdesk):
    talkdesk.faults = Faults(redirect_status=100, redirect_to_storage=True)
    store = fetch_into(tmp_path, talkdesk)
    same_rows(store, expected(talkdesk))
    assert statuses(talkdesk, "api", "/files/") == []  # the storage URL came from the status
    assert talkdesk.seen_authorization_on_storage == 0


def test_an_expired_presigned_url_is_asked_for_again(tmp_path, talkdesk):
    talkdesk.faults = Faults(expired_urls=2)
    store = fetch_into(tmp_path, talkdesk)
    same_rows(store, expected(talkdesk))
    assert statuses(talkdesk, "storage", "/reports/").count(403) == 2
    assert len(statuses(talkdesk, "api", "/files/")) == 5


def test_a_job_that_never_finishes_times_out(talkdesk):
    talkdesk.job_seconds = 30
    with client_for(talkdesk, timeout=0.5) as client:
        started = time.monotonic()
        with pytest.raises(ok.ExploreTimeoutError, match=r"within the timeout of 0\.5 s"):
            client.fetch("2024-09-02", "2024-09-05", timezone=TZ)
    assert time.monotonic() - started < 10


def test_polls_keep_their_cadence_when_answers_are_slow(talkdesk):
    # Each status answer takes 0.2 s: the client waits out only the rest of its 0.3 s interval,
    # so a busy API does not push every later poll (and the download) back.
    talkdesk.job_seconds = 1.0
    talkdesk.faults = Faults(slow_status=0.2)
    waits: list[float] = []

    def record(seconds):
        waits.append(seconds)
        time.sleep(seconds)

    with client_for(talkdesk, poll_interval=0.3, max_poll_interval=0.3, sleep=record) as client:
        start, end = parse_when("2024-09-02", TZ), parse_when("2024-09-03", TZ)
        job_id = client.create_job(start, end, TZ)
        assert client.wait_for_job(job_id).endswith(f"/files/{job_id}")
    assert len(waits) >= 2
    assert all(0.03 - 1e-9 <= seconds <= 0.1 + 1e-6 for seconds in waits), waits


def test_connection_refused_is_a_clear_error():
    creds = Credentials(
        "a",
        "cid",
        Secret("s"),
        api_url="http://127.0.0.1:9",
        token_url="http://127.0.0.1:9/oauth/token",
    )
    with (
        ExploreClient(creds, retries=1, backoff=0.01) as client,
        pytest.raises(ok.ExploreError, match="cannot reach the Talkdesk token endpoint"),
    ):
        client.fetch("2024-09-02", "2024-09-03")


# -- the secret never leaks -------------------------------------------------------------------


def test_a_sentinel_secret_never_appears_in_logs_messages_or_files(
    tmp_path, caplog, capfd, monkeypatch
):
    sentinel = "SENTINEL-SECRET-7f3a9c1e"
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    caplog.set_level(logging.DEBUG)  # every logger, httpx's and httpcore's included
    messages = []
    with TalkdeskStandIn(
        FRAME,
        client_secret=sentinel,
        job_seconds=0.1,
        token_ttl=0.3,
        faults=Faults(burst_503=2, drop_downloads=1, expired_urls=1),
    ) as talkdesk:
        for key, value in talkdesk.environ().items():
            monkeypatch.setenv(key, value)
        client = ExploreClient(poll_interval=0.02, backoff=0.01)
        messages += [repr(client), str(client.credentials), repr(client.credentials)]
        ok.fetch(START, END, timezone=TZ, store=tmp_path / "store", client=client, progress=True)
        talkdesk.faults.fail_jobs = 5
        with pytest.raises(ok.JobFailedError) as failed:
            ok.fetch(
                "2024-11-10", "2024-11-12", timezone=TZ, store=tmp_path / "store", client=client
            )
        messages.append(str(failed.value))
        client.close()
        # Wrong secret that contains the sentinel: the refusal must not echo it.
        monkeypatch.setenv("TALKDESK_CLIENT_SECRET", sentinel + "-wrong")
        with pytest.raises(ok.AuthenticationError) as refused:
            ok.fetch(START, END, timezone=TZ, store=tmp_path / "other")
        messages.append(str(refused.value))
    # The secret travels only in the token request's Basic header: look for that form too.
    basic = base64.b64encode(f"{talkdesk.client_id}:{sentinel}".encode()).decode()
    out, err = capfd.readouterr()
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert any(r.name.startswith("httpcore") for r in caplog.records)  # the debug logs were on
    for text in (out, err, logged, *messages):
        assert sentinel not in text and basic not in text
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.suffix == ".parquet" for p in written)
    for path in written:
        data = path.read_bytes()
        assert sentinel.encode() not in data and basic.encode() not in data, path
