"""Several Talkdesk accounts into one store: in parallel, each with its own credentials and job
quota, into ``account=NAME/`` partitions of one table; two stand-ins over real HTTP."""

from __future__ import annotations

import json
import os
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import omnikit as ok
from omnikit.cli import main
from omnikit.explore import Credentials, parse_when
from omnikit.testing import Faults, TalkdeskStandIn

TZ = "Europe/Lisbon"
START, END = "2024-08-05", "2024-09-20"  # 46 days: two jobs per account
A = ok.synth_frame(800, seed=21, start="2024-08-01", days=60, timezone="UTC")
# The second account reuses the first one's interaction ids (ids are per account) with other data.
B = A.with_columns(pl.lit("OTHER_ACCOUNT").alias("interaction_status"))


@pytest.fixture
def accounts(monkeypatch):
    with (
        TalkdeskStandIn(A, account="acme", client_id="acme-id", client_secret="acme-s3cret",
                        job_seconds=0.3) as acme,
        TalkdeskStandIn(B, account="acme-eu", client_id="eu-id", client_secret="eu-s3cret",
                        job_seconds=0.3) as eu,
    ):  # fmt: skip
        for key in [k for k in os.environ if k.startswith("TALKDESK_")]:
            monkeypatch.delenv(key)
        for standin in (acme, eu):
            for key, value in standin.environ(prefixed=True).items():
                monkeypatch.setenv(key, value)
        yield acme, eu


def expected(standin: TalkdeskStandIn) -> pl.DataFrame:
    rows = standin.expected(parse_when(START, TZ), parse_when(END, TZ))
    return rows.with_columns(pl.col(ok.DATETIME_COLUMNS).dt.convert_time_zone(TZ))


def by_id(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort("interaction_id")


def status_of(kind: type[ok.OmnikitError]) -> int:
    """The command line's exit status for an error of ``kind`` (its table, where there is one)."""
    try:
        from omnikit import _exit_status  # type: ignore[attr-defined]
    except ImportError:
        return 1
    if Path(ok.__file__).parent not in Path(_exit_status.__file__).parents:
        return 1  # another checkout's (an editable install's finder), not this omnikit's
    return int(_exit_status.exit_status(kind("")))


def fetch_cli(store, *args: str) -> int:
    return main(
        ["fetch", "--from", START, "--to", END, "--timezone", TZ, "--store", str(store),
         "--no-progress", *args]
    )  # fmt: skip


def test_two_accounts_go_to_their_own_partitions_and_load_with_an_account_column(
    tmp_path, accounts, capsys
):
    acme, eu = accounts
    store = tmp_path / "store"
    assert fetch_cli(store, "--account", "acme", "--account", "acme-eu") == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2
    assert out[0].startswith("omnikit fetch: account acme: ") and "2 job(s)" in out[0]
    assert out[1].startswith("omnikit fetch: account acme-eu: ")
    assert sorted(p.name for p in store.iterdir()) == ["accounts", "interactions"]
    assert sorted(p.name for p in (store / "interactions").iterdir()) == [
        "account=acme",
        "account=acme-eu",
    ]
    for name in ("acme", "acme-eu"):
        manifest = json.loads((store / "accounts" / name / "_manifest.json").read_text())
        assert manifest["timezone"] == TZ and len(manifest["complete"]) == 2
        assert all(f.startswith(f"interactions/account={name}/date=") for f in manifest["files"])
    # The table holds the day files only (downloads, manifests and locks are in accounts/).
    assert {p.name for p in (store / "interactions").rglob("*") if p.is_file()} == {
        "part-0.parquet"
    }
    loaded = ok.load(store, timezone=TZ)
    assert loaded.columns == [*A.columns, "account"]
    # The same interaction_id in both accounts is two interactions: nothing de-duplicated.
    for standin in (acme, eu):
        mine = loaded.filter(pl.col("account") == standin.account).drop("account")
        assert_frame_equal(by_id(mine), by_id(expected(standin)))
    assert loaded.height == 2 * expected(acme).height
    assert_frame_equal(
        ok.scan(store, timezone=TZ).collect().sort("account", "interaction_id"),
        loaded.sort("account", "interaction_id"),
    )
    # Each client authenticated with its own account's credentials, at its own stand-in.
    assert acme.token_requests >= 1 and eu.token_requests >= 1
    assert len(acme.real_jobs()) == 2 and len(eu.real_jobs()) == 2
    # A rerun fetches nothing from either.
    assert fetch_cli(store, "--account", "acme", "--account", "acme-eu") == 0
    assert capsys.readouterr().out.count("already complete") == 2
    assert len(acme.real_jobs()) == 2 and len(eu.real_jobs()) == 2


def test_duckdb_and_polars_read_a_store_of_several_accounts_as_it_is(tmp_path, accounts):
    duckdb = pytest.importorskip("duckdb")
    store = tmp_path / "store"
    assert fetch_cli(store, "--account", "acme", "--account", "acme-eu") == 0
    want = [("acme", expected(accounts[0]).height), ("acme-eu", expected(accounts[1]).height)]
    counts = duckdb.sql(
        f"select account, count(*) as n from read_parquet('{store}/interactions/**/*.parquet', "
        "hive_partitioning=true) group by account order by account"
    ).fetchall()
    assert counts == want
    lake = pl.scan_parquet(store / "interactions", hive_partitioning=True)
    assert lake.group_by("account").len().sort("account").collect().rows() == want
    # A filter on the account reads that partition only.
    days = len(list((store / "interactions" / "account=acme").iterdir()))
    plan = lake.filter(pl.col("account") == "acme").explain()
    assert "account=acme/date=" in plan and f"... {days - 1} other sources]" in plan, plan


def test_accounts_run_in_parallel_each_within_its_own_job_quota(tmp_path, accounts):
    acme, eu = accounts
    for standin in (acme, eu):
        standin.faults = Faults(max_jobs=2)
        standin.job_seconds = 1.0
    store = tmp_path / "store"
    assert fetch_cli(store, "--account", "acme", "--account", "acme-eu", "--max-jobs", "2") == 0
    refused = [entry for s in (acme, eu) for entry in s.log if entry[3] == 429]
    assert refused == []  # neither account went over its quota of 2
    # The two accounts' jobs ran at the same time (each takes a second).
    a_jobs, b_jobs = acme.real_jobs(), eu.real_jobs()
    first_done = min(max(j.ready_at for j in a_jobs), max(j.ready_at for j in b_jobs))
    assert max(min(j.created for j in a_jobs), min(j.created for j in b_jobs)) < first_done
    # And each account ran its two jobs at once (its own quota, not a shared one).
    for jobs in (a_jobs, b_jobs):
        assert abs(jobs[0].created - jobs[1].created) < 0.9


def test_a_missing_variable_is_named_and_nothing_starts(tmp_path, accounts, monkeypatch, capsys):
    acme, _eu = accounts
    monkeypatch.delenv("TALKDESK_ACME_EU_CLIENT_SECRET")
    assert fetch_cli(tmp_path / "store", "--account", "acme", "--account", "acme-eu") == status_of(
        ok.AuthenticationError
    )
    err = capsys.readouterr().err
    assert "TALKDESK_ACME_EU_CLIENT_SECRET" in err and "account 'acme-eu'" in err
    assert "acme-s3cret" not in err and "eu-s3cret" not in err
    assert acme.real_jobs() == [] and not (tmp_path / "store").exists()


def test_an_account_refused_does_not_stop_the_other(tmp_path, accounts, monkeypatch, capsys):
    acme, _eu = accounts
    monkeypatch.setenv("TALKDESK_ACME_EU_CLIENT_SECRET", "wrong")
    store = tmp_path / "store"
    assert fetch_cli(store, "--account", "acme", "--account", "acme-eu") == status_of(
        ok.AuthenticationError
    )
    err = capsys.readouterr().err
    assert err.startswith("omnikit fetch: error: account acme-eu: ") and "wrong" not in err
    # acme was fetched completely all the same.
    got = ok.load(store, timezone=TZ)
    assert_frame_equal(by_id(got.drop("account")), by_id(expected(acme)))
    assert set(got.get_column("account")) == {"acme"}


def test_ok_fetch_of_several_accounts_returns_every_accounts_rows(tmp_path, accounts):
    acme, eu = accounts
    clients = {
        s.account: ok.explore.ExploreClient(Credentials.for_account(s.account)) for s in accounts
    }
    got = ok.fetch(
        START, END, timezone=TZ, store=tmp_path / "s", accounts=["acme", "acme-eu"],
        client=clients, progress=False,
    )  # fmt: skip
    assert got.columns[-1] == "account" and got.height == 2 * expected(acme).height
    # Without clients, each account gets its own from the environment.
    again = ok.fetch(
        START, END, timezone=TZ, store=tmp_path / "t", accounts=["acme-eu"], progress=False
    )
    assert_frame_equal(by_id(again.drop("account")), by_id(expected(eu)))


def test_one_account_stores_and_several_account_stores_do_not_mix(tmp_path, accounts, capsys):
    acme, _ = accounts
    for key, value in acme.environ().items():
        os.environ[key] = value
    try:
        single = tmp_path / "single"
        assert fetch_cli(single) == 0
        assert fetch_cli(single, "--account", "acme") == status_of(ok.ParameterError)
        assert "holds one account without account=NAME/ partitions" in capsys.readouterr().err
        several = tmp_path / "several"
        assert fetch_cli(several, "--account", "acme") == 0
        assert fetch_cli(several) == status_of(ok.ParameterError)
        assert "holds several Talkdesk accounts" in capsys.readouterr().err
    finally:
        for key in acme.environ():
            os.environ.pop(key, None)


def test_account_names_and_their_variables():
    env = {"TALKDESK_ACME_EU_CLIENT_ID": "i", "TALKDESK_ACME_EU_CLIENT_SECRET": "s"}
    creds = Credentials.for_account("acme-eu", env)
    assert creds.account == "acme-eu" and creds.token_endpoint.startswith("https://acme-eu.")
    with pytest.raises(ok.ParameterError, match="TALKDESK_ACME_EU_REGION is 'mars'"):
        Credentials.for_account("acme-eu", {**env, "TALKDESK_ACME_EU_REGION": "mars"})
    with pytest.raises(ok.ParameterError, match="read the same TALKDESK_<ACCOUNT>_"):
        ok.fetch(START, END, store="x", accounts=["acme-eu", "acme.eu"], client={})


def test_ctrl_c_stops_every_account_promptly_and_leaves_readable_stores(tmp_path, accounts):
    import signal
    import subprocess
    import sys
    import time

    acme, eu = accounts
    for standin in accounts:
        standin.faults = Faults(slow_downloads=120.0)  # downloads that would take two minutes
    env = {**os.environ, **acme.environ(prefixed=True), **eu.environ(prefixed=True)}
    runner = (
        "import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
        "from omnikit.cli import main; raise SystemExit(main())"
    )
    store = tmp_path / "store"
    process = subprocess.Popen(
        [sys.executable, "-c", runner, "fetch", "--from", START, "--to", END, "--timezone", TZ,
         "--store", str(store), "--no-progress", "--account", "acme", "--account", "acme-eu"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not (acme.download_started.is_set() and eu.download_started.is_set()):
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.01)
    process.send_signal(signal.SIGINT)
    try:
        _, err = process.communicate(timeout=30)  # mid-download, not after two minutes
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 130 and "omnikit fetch: interrupted" in err
    for name in ("acme", "acme-eu"):
        manifest = store / "accounts" / name / "_manifest.json"
        assert json.loads(manifest.read_text())["complete"] == []
    assert not (store / "interactions").exists()  # the downloads were never in the table
    assert ok.load(store, timezone=TZ).height == 0
    for standin in accounts:
        standin.faults = Faults()
    assert fetch_cli(store, "--account", "acme", "--account", "acme-eu") == 0
    assert ok.load(store, timezone=TZ).height == 2 * expected(acme).height


def test_accounts_credentials_from_a_named_file(tmp_path, accounts, monkeypatch, capsys):
    acme, _eu = accounts
    path = tmp_path / "talkdesk.env"
    lines = [f"{k}={v}" for s in accounts for k, v in s.environ(prefixed=True).items()]
    path.write_text("\n".join(lines) + "\n")
    for standin in accounts:
        for key in standin.environ(prefixed=True):
            monkeypatch.delenv(key)
    store = tmp_path / "store"
    args = ("--account", "acme", "--account", "acme-eu", "--credentials", str(path))
    assert fetch_cli(store, *args) == 0
    assert ok.load(store, timezone=TZ).height == 2 * expected(acme).height
    path.write_text("\n".join(line for line in lines if "ACME_EU_CLIENT_ID" not in line))
    assert fetch_cli(tmp_path / "other", *args) == status_of(ok.AuthenticationError)
    err = capsys.readouterr().err
    assert f"missing from {path}: set TALKDESK_ACME_EU_CLIENT_ID" in err
    assert "eu-s3cret" not in err and "acme-s3cret" not in err
