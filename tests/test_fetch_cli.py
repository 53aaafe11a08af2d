"""``omnikit fetch`` end to end against the Talkdesk stand-in: resume, overlap, kill, refetch."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import omnikit as ok
from omnikit._store import Store
from omnikit.cli import main
from omnikit.explore import parse_when
from omnikit.testing import Faults, TalkdeskStandIn

TZ = "America/New_York"
UTC = dt.UTC
FRAME = ok.synth_frame(1200, seed=11, start="2024-08-01", days=100, timezone="UTC").filter(
    # The second 01:00 hour of 2024-11-03 in New York reads back as the first (no offset in the
    # report's wall-clock times): leave those instants out so the round trip is exact.
    ~(
        pl.col("start_date_time").is_between(
            dt.datetime(2024, 11, 3, 5, tzinfo=UTC), dt.datetime(2024, 11, 3, 7, tzinfo=UTC)
        )
        | pl.col("end_date_time").is_between(
            dt.datetime(2024, 11, 3, 5, tzinfo=UTC), dt.datetime(2024, 11, 3, 7, tzinfo=UTC)
        )
    ).fill_null(False)
)
START, END = "2024-08-05", "2024-10-20"  # 76 days: three jobs


@pytest.fixture
def talkdesk(monkeypatch):
    with TalkdeskStandIn(FRAME, job_seconds=0.1) as standin:
        for key in [k for k in os.environ if k.startswith("TALKDESK_")]:
            monkeypatch.delenv(key)
        for key, value in standin.environ().items():
            monkeypatch.setenv(key, value)
        yield standin


def expected(standin: TalkdeskStandIn, start: str = START, end: str = END) -> pl.DataFrame:
    rows = standin.expected(parse_when(start, TZ), parse_when(end, TZ))
    return rows.with_columns(pl.col("start_date_time", "end_date_time").dt.convert_time_zone(TZ))


def assert_store_holds(store: Path, want: pl.DataFrame) -> None:
    got = ok.load(store, timezone=TZ)
    ids = pl.concat(
        [pl.read_parquet(p, columns=["interaction_id"]) for p in store.glob("**/*.parquet")]
    )
    assert ids.height == got.height, "an interaction is in two day files"
    assert_frame_equal(got.sort("interaction_id"), want.sort("interaction_id"))


def fetch_cli(store: Path, *args: str, start: str = START, end: str = END) -> int:
    return main(
        ["fetch", "--from", start, "--to", end, "--timezone", TZ, "--store", str(store), *args]
    )


def job_spans(standin: TalkdeskStandIn) -> list[tuple[str, str]]:
    return [
        (job.start.astimezone(UTC).isoformat(), job.end.astimezone(UTC).isoformat())
        for job in standin.real_jobs()
    ]


def test_fetch_fills_the_store_and_a_rerun_fetches_nothing(tmp_path, talkdesk, capsys):
    store = tmp_path / "store"
    assert fetch_cli(store) == 0
    out = capsys.readouterr().out
    want = expected(talkdesk)
    assert f"3 job(s), {want.height:,} interactions into" in out
    assert_store_holds(store, want)
    assert sorted(p.relative_to(store).as_posix() for p in store.glob("interactions/*/*"))[:2] == [
        "interactions/date=2024-08-05/part-0.parquet",
        "interactions/date=2024-08-06/part-0.parquet",
    ]
    # The table holds nothing but the day files: polars, DuckDB and Spark read it as it is.
    assert {p.name for p in (store / "interactions").rglob("*") if p.is_file()} == {
        "part-0.parquet"
    }
    lake = pl.scan_parquet(store / "interactions", hive_partitioning=True).collect()
    assert_frame_equal(
        lake.drop("date").sort("interaction_id"), ok.load(store, timezone=TZ).sort("interaction_id")
    )
    manifest = json.loads((store / "_manifest.json").read_text())
    assert manifest["timezone"] == TZ and len(manifest["complete"]) == 3

    assert fetch_cli(store) == 0
    assert "already complete" in capsys.readouterr().out
    assert len(talkdesk.real_jobs()) == 3


def test_an_overlapping_range_fetches_only_what_is_missing(tmp_path, talkdesk, capsys):
    store = tmp_path / "store"
    assert fetch_cli(store, start="2024-08-05", end="2024-08-20") == 0
    assert fetch_cli(store, start="2024-08-12", end="2024-09-01") == 0
    assert job_spans(talkdesk) == [
        ("2024-08-05T04:00:00+00:00", "2024-08-20T04:00:00+00:00"),
        ("2024-08-20T04:00:00+00:00", "2024-09-01T04:00:00+00:00"),
    ]
    assert_store_holds(store, expected(talkdesk, "2024-08-05", "2024-09-01"))
    assert "1 span(s) already complete" in capsys.readouterr().out


def test_refetch_takes_the_later_state_without_duplicates(tmp_path, talkdesk):
    store = tmp_path / "store"
    assert fetch_cli(store, start="2024-08-05", end="2024-08-25") == 0
    # Talkdesk's data moves on: some interactions change status, and one moves to another day.
    changed = talkdesk.frame.with_columns(
        pl.when(pl.int_range(pl.len()) % 5 == 0)
        .then(pl.lit("FINISHED_LATER"))
        .otherwise(pl.col("interaction_status"))
        .alias("interaction_status")
    )
    first = expected(talkdesk, "2024-08-06", "2024-08-07").get_column("interaction_id")[0]
    changed = changed.with_columns(
        pl.when(pl.col("interaction_id") == first)
        .then(pl.col("start_date_time") + pl.duration(days=3))
        .otherwise(pl.col("start_date_time"))
        .alias("start_date_time")
    )
    talkdesk.frame = changed
    assert fetch_cli(store, "--refetch", start="2024-08-05", end="2024-08-25") == 0
    want = expected(talkdesk, "2024-08-05", "2024-08-25")
    assert want.filter(pl.col("interaction_status") == "FINISHED_LATER").height > 10
    assert_store_holds(store, want)
    assert (
        first
        in pl.read_parquet(store / "interactions/date=2024-08-09/part-0.parquet")
        .get_column("interaction_id")
        .to_list()
    )


def test_a_fetch_killed_mid_download_is_completed_by_the_next_run(tmp_path, talkdesk):
    store = tmp_path / "store"
    talkdesk.faults = Faults(slow_downloads=1.0)  # each download takes a second
    env = {**os.environ, **talkdesk.environ()}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "omnikit",
            "fetch",
            "--from",
            START,
            "--to",
            END,
            "--timezone",
            TZ,
            "--store",
            str(store),
            "--max-jobs",
            "1",
            "--no-progress",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        # Wait until the first span is in the store and the second job's download has begun.
        while time.monotonic() < deadline:
            manifest = store / "_manifest.json"
            done = json.loads(manifest.read_text())["complete"] if manifest.exists() else []
            downloads = [s for server, _, _, s in talkdesk.log if server == "storage" and s == 200]
            if len(done) == 1 and len(downloads) == 2:
                break
            assert process.poll() is None, process.communicate()
            time.sleep(0.01)
        else:
            pytest.fail("the fetch never got to its second download")
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()  # type: ignore[union-attr]
        process.stderr.close()  # type: ignore[union-attr]
    assert process.returncode == -signal.SIGKILL
    assert list(store.glob(".omnikit-*.json")), "the second download was under way in the store"
    # ... beside the table, which holds the day files only: other engines read it as it is.
    table = store / "interactions"
    assert {p.name for p in table.rglob("*") if p.is_file()} == {"part-0.parquet"}
    assert pl.scan_parquet(table, hive_partitioning=True).select(pl.len()).collect().item() > 0

    # The store is readable and holds exactly the first span, once.
    first_from, first_to = (dt.datetime.fromisoformat(done[0][k]) for k in ("from", "to"))
    partial = ok.load(store, timezone=TZ)
    assert partial.get_column("interaction_id").is_duplicated().sum() == 0
    assert_frame_equal(
        partial.sort("interaction_id"),
        talkdesk.expected(first_from, first_to)
        .with_columns(pl.col("start_date_time", "end_date_time").dt.convert_time_zone(TZ))
        .sort("interaction_id"),
    )

    # The next run fetches the two missing spans and completes the store.
    talkdesk.faults = Faults()
    assert fetch_cli(store, "--no-progress") == 0
    assert len(talkdesk.real_jobs()) == 2 + 2  # two before the kill, two after
    assert_store_holds(store, expected(talkdesk))
    assert not [p for p in store.iterdir() if p.name.startswith(".")]


def test_ctrl_c_stops_promptly_and_leaves_a_readable_store(tmp_path, talkdesk):
    store = tmp_path / "store"
    talkdesk.faults = Faults(slow_downloads=120.0)  # a download that would take two minutes
    # Install Python's Ctrl-C handler even if this test runs where SIGINT is ignored (CI shells).
    runner = (
        "import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
        "from omnikit.cli import main; raise SystemExit(main())"
    )
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            runner,
            "fetch",
            "--from",
            START,
            "--to",
            END,
            "--timezone",
            TZ,
            "--store",
            str(store),
            "--no-progress",
        ],
        env={**os.environ, **talkdesk.environ()},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not talkdesk.download_started.is_set() and time.monotonic() < deadline:
        time.sleep(0.01)
    process.send_signal(signal.SIGINT)
    try:
        _, err = process.communicate(timeout=30)  # it stops mid-download, not after it
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 130 and "omnikit fetch: interrupted" in err
    assert json.loads((store / "_manifest.json").read_text())["complete"] == []
    assert not [
        p
        for p in store.iterdir()
        if p.name.startswith(".") or p.suffix == ".parquet" or p.name.startswith("date=")
    ]
    talkdesk.faults = Faults()
    assert fetch_cli(store, "--no-progress") == 0
    assert_store_holds(store, expected(talkdesk))


def test_an_empty_span_is_complete_too(tmp_path, talkdesk):
    assert fetch_cli(tmp_path / "store", start="2024-01-01", end="2024-01-03") == 0
    assert len(json.loads((tmp_path / "store" / "_manifest.json").read_text())["complete"]) == 1
    assert not list((tmp_path / "store").glob("**/*.parquet"))


def test_progress_bar_on_request(tmp_path, talkdesk, capsys):
    assert fetch_cli(tmp_path / "store", "--progress", start="2024-08-05", end="2024-09-20") == 0
    err = capsys.readouterr().err
    assert "omnikit fetch" in err and "2/2" in err
    assert talkdesk.client_secret not in err


def test_missing_credentials_exit_with_a_clear_message(tmp_path, talkdesk, monkeypatch, capsys):
    monkeypatch.delenv("TALKDESK_CLIENT_SECRET")
    assert fetch_cli(tmp_path / "store") == 3  # credentials (the exit-status table)
    err = capsys.readouterr().err
    assert (
        "omnikit fetch: error: Talkdesk credentials missing from the environment: "
        "set TALKDESK_CLIENT_SECRET" in err
    )


def test_credentials_from_a_named_file(tmp_path, talkdesk, monkeypatch, capsys):
    path = tmp_path / "talkdesk.env"
    path.write_text("\n".join(f"{key}={value}" for key, value in talkdesk.environ().items()) + "\n")
    for key in talkdesk.environ():
        monkeypatch.delenv(key)
    assert (
        fetch_cli(
            tmp_path / "store", "--credentials", str(path), start="2024-08-05", end="2024-08-10"
        )
        == 0
    )
    assert_store_holds(tmp_path / "store", expected(talkdesk, "2024-08-05", "2024-08-10"))


def test_no_option_takes_a_secret():
    from omnikit.cli import build_parser

    fetch_parser = build_parser()._subparsers._group_actions[0].choices["fetch"]  # type: ignore[union-attr]
    options = {opt for action in fetch_parser._actions for opt in action.option_strings}
    assert not {o for o in options if "secret" in o or "client" in o or "token" in o}


def test_a_store_in_another_timezone_is_refused(tmp_path, talkdesk, capsys):
    store = tmp_path / "store"
    assert fetch_cli(store, start="2024-08-05", end="2024-08-07") == 0
    assert main(["fetch", "--from", "2024-08-05", "--to", "2024-08-07", "--store", str(store)]) == 2
    assert "holds times in America/New_York, not UTC" in capsys.readouterr().err


def test_bad_range_exits_with_a_clear_message(tmp_path, talkdesk, capsys):
    assert fetch_cli(tmp_path / "store", start="2024-08-10", end="2024-08-05") == 2
    assert "must come after --from" in capsys.readouterr().err
    assert fetch_cli(tmp_path / "store", start="2999-01-01", end="2999-02-01") == 2
    assert "is in the future" in capsys.readouterr().err


# -- a damaged store is checked and repaired ---------------------------------------------------


def test_a_day_file_deleted_by_hand_is_fetched_again_and_the_run_says_so(
    tmp_path, talkdesk, capsys
):
    store = tmp_path / "store"
    assert fetch_cli(store) == 0
    capsys.readouterr()
    gone = store / "interactions/date=2024-08-10/part-0.parquet"
    lost = pl.read_parquet(gone).height
    gone.unlink()
    jobs = len(talkdesk.real_jobs())
    assert fetch_cli(store) == 0
    out = capsys.readouterr().out
    assert (
        "1 day file(s) missing or damaged" in out
        and "date=2024-08-10/part-0.parquet missing" in out
    )
    assert "already complete in" not in out
    assert len(talkdesk.real_jobs()) == jobs + 1  # that day only
    assert pl.read_parquet(gone).height == lost
    assert_store_holds(store, expected(talkdesk))
    assert fetch_cli(store) == 0  # and then all is well again
    assert "already complete" in capsys.readouterr().out


def test_a_garbage_day_file_is_set_aside_and_fetched_again(tmp_path, talkdesk, capsys):
    store = tmp_path / "store"
    assert fetch_cli(store) == 0
    (store / "interactions/date=2024-08-12/part-0.parquet").write_bytes(
        b"this is not parquet at all"
    )
    with pytest.raises(
        ok.StoreError, match=r"cannot read the day file .*date=2024-08-12/part-0\.parquet"
    ):
        Store(store).read()
    capsys.readouterr()
    assert fetch_cli(store) == 0
    out = capsys.readouterr().out
    assert "date=2024-08-12/part-0.parquet unreadable" in out
    assert (store / "_damaged.2024-08-12.parquet.bad").read_bytes() == b"this is not parquet at all"
    assert_store_holds(store, expected(talkdesk))
    assert ok.load(store).height == expected(talkdesk).height  # readable, nothing twice


def test_a_manifest_that_is_not_utf8_is_one_clear_line(tmp_path, talkdesk, capsys):
    store = tmp_path / "store"
    assert fetch_cli(store) == 0
    (store / "_manifest.json").write_bytes(b"\xff\xfe garbage")
    capsys.readouterr()
    assert fetch_cli(store) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "_manifest.json is not UTF-8 text" in err
    assert ok.load(store).height == expected(talkdesk).height  # the day files still read


# -- the command line: --timeout and bad arguments ----------------------------------------------


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "omnikit", "fetch", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=60,
    )


def test_timeout_bounds_the_whole_command(tmp_path, talkdesk):
    # Every status answer takes 8 s; the command was given 2 s in all.
    talkdesk.faults = Faults(slow_status=8)
    started = time.monotonic()
    run = run_cli(
        *("--from", "2024-08-05", "--to", "2024-08-07", "--timeout", "2"),
        *("--store", str(tmp_path / "store"), "--no-progress"),
        env=talkdesk.environ(),
    )
    took = time.monotonic() - started
    assert run.returncode == 4, run.stderr
    assert "within the timeout of" in run.stderr and "Traceback" not in run.stderr
    assert run.stderr.count("\n") == 1
    assert took < 6, took  # Python's start-up included


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--timeout", "nan"], "'nan' is not a positive number of seconds"),
        (["--timeout", "-5"], "'-5' is not a positive number of seconds"),
        (["--timeout", "soon"], "'soon' is not a positive number of seconds"),
        (["--max-jobs", "0"], "'0' is not a whole number from 1 to 15"),
        (["--max-jobs", "lots"], "'lots' is not a whole number from 1 to 15"),
        (["--timezone", "Mars/Olympus"], "'Mars/Olympus' is not an IANA timezone"),
        (["--from", "2024-13-45"], "'2024-13-45' is not a date"),
        (["--from", "2024-08-10", "--to", "2024-08-05"], "must come after --from"),
        (["--from", "2999-01-01", "--to", "2999-02-01"], "is in the future"),
    ],
)
def test_a_bad_argument_is_one_line_and_status_2(tmp_path, args, says):
    base = {"--from": "2024-08-05", "--to": "2024-08-07", "--store": str(tmp_path / "s")}
    for name, _value in zip(args[::2], args[1::2], strict=False):
        base.pop(name, None)
    run = run_cli(*[x for pair in base.items() for x in pair], *args)
    assert run.returncode == 2, run.stderr
    assert run.stderr.count("\n") == 1 and "Traceback" not in run.stderr, run.stderr
    assert run.stderr.startswith("omnikit fetch: error: ") and says in run.stderr
    assert not (tmp_path / "s").exists()  # nothing was started


def test_a_missing_argument_and_a_store_that_is_a_file_are_one_line_and_status_2(tmp_path):
    run = run_cli("--to", "2024-08-07")
    assert run.returncode == 2 and run.stderr.count("\n") == 1
    assert "the following arguments are required: --from" in run.stderr
    (tmp_path / "file").write_text("x")
    run = run_cli("--from", "2024-08-05", "--to", "2024-08-07", "--store", str(tmp_path / "file"))
    assert run.returncode == 2 and run.stderr.count("\n") == 1
    assert "is a file, not a directory" in run.stderr


def test_ok_fetch_warns_about_a_damaged_store_and_repairs_it(tmp_path, talkdesk):
    store = tmp_path / "store"
    ok.fetch("2024-08-05", "2024-08-09", timezone=TZ, store=store, progress=False)
    (store / "interactions/date=2024-08-06/part-0.parquet").unlink()
    with pytest.warns(
        UserWarning, match=r"1 day file\(s\) missing or damaged \(interactions/date=2024-08-06"
    ):
        got = ok.fetch("2024-08-05", "2024-08-09", timezone=TZ, store=store, progress=False)
    assert got.height == expected(talkdesk, "2024-08-05", "2024-08-09").height
