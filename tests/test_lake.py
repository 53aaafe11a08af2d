"""The store as a lake table: ``interactions/`` holds nothing but hive-partitioned Parquet, which
polars, DuckDB and Spark read as it is; stores from before (flat day files, partitions at the
root, ``account=NAME/`` directories) are migrated into it, killed at any step."""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import shutil
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import omnikit as ok
from omnikit._store import Store, day_file_name, file_day, list_day_files
from omnikit.explore import Credentials, ExploreClient, parse_when
from omnikit.testing import TalkdeskStandIn

TZ = "Europe/Lisbon"
FRAME = ok.synth_frame(3_000, seed=5, start="2024-09-02", days=6, timezone=TZ)


def fill(root) -> pl.DataFrame:
    """A store of FRAME; returns the rows it holds (as ok.load gives them)."""
    with Store(root, timezone=TZ) as store:
        store.write(FRAME, span_start=dt.datetime(2024, 9, 2, tzinfo=dt.UTC))
    return ok.load(root, timezone=TZ)


def by_id(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort("interaction_id", nulls_last=True, maintain_order=True)


def table_files(root: Path) -> list[str]:
    """Every file under the store's table, relative to it (directories left out)."""
    table = root / "interactions"
    return sorted(p.relative_to(table).as_posix() for p in table.rglob("*") if p.is_file())


def only_parquet(root: Path) -> bool:
    files = table_files(root)
    return all(n.endswith("/part-0.parquet") and "/." not in f"/{n}" for n in files)


def test_the_table_holds_only_parquet_and_the_manifest_is_beside_it(tmp_path):
    held = fill(tmp_path)
    assert held.height == FRAME.height
    names = table_files(tmp_path)
    assert len(names) == 6 and only_parquet(tmp_path)
    assert all(n.startswith("date=") for n in names)
    outside = sorted(p.name for p in tmp_path.iterdir())
    assert outside == ["_lock", "_manifest.json", "interactions"]
    manifest = json.loads((tmp_path / "_manifest.json").read_text())
    assert manifest["version"] == 3 and manifest["extra_columns"] == []
    assert sorted(manifest["files"]) == [f"interactions/{n}" for n in names]
    assert sorted(manifest["files"]) == sorted(
        day_file_name(file_day(name)) for name in manifest["files"]
    )
    # Each partition holds the rows whose start is on that day, in the store's timezone.
    for path in list_day_files(tmp_path):
        days = pl.read_parquet(path).select(
            pl.col("start_date_time").dt.date().unique().drop_nulls()
        )
        assert days.to_series().to_list() in ([file_day(path)], [])


def test_ok_load_and_scan_give_exactly_the_canonical_columns(tmp_path):
    held = fill(tmp_path)
    assert held.columns == FRAME.columns  # no `date` partition column
    assert_frame_equal(by_id(held), by_id(FRAME))
    assert_frame_equal(by_id(ok.scan(tmp_path, timezone=TZ).collect()), by_id(held))
    # Another timezone: the same instants, converted.
    utc = ok.load(tmp_path, timezone="UTC")
    assert utc.schema["start_date_time"] == pl.Datetime("us", "UTC")
    assert_frame_equal(
        by_id(utc),
        by_id(held.with_columns(pl.col(ok.DATETIME_COLUMNS).dt.convert_time_zone("UTC"))),
    )


def test_ok_scan_is_one_hive_scan_of_the_table_planned_without_reading_a_day_file(
    tmp_path, monkeypatch
):
    held = fill(tmp_path)

    def no_footers(*args, **kwargs):
        raise AssertionError("planning read a day file's schema")

    monkeypatch.setattr(pl, "read_parquet_schema", no_footers)
    lazy = ok.scan(tmp_path, timezone=TZ)
    plan = lazy.explain()
    assert plan.count("SCAN") == 1 and "interactions" in plan, plan
    monkeypatch.undo()
    assert_frame_equal(by_id(lazy.collect()), by_id(held))


def test_text_columns_beyond_the_canonical_ones_are_kept_through_the_table_scan(tmp_path):
    extra = FRAME.head(40).with_columns(pl.lit("vip").alias("queue_tier"))
    with Store(tmp_path, timezone=TZ) as store:
        store.write(FRAME, span_start=dt.datetime(2024, 9, 2, tzinfo=dt.UTC))
        store.write(extra, span_start=dt.datetime(2024, 9, 2, tzinfo=dt.UTC))
    manifest = json.loads((tmp_path / "_manifest.json").read_text())
    assert manifest["extra_columns"] == ["queue_tier"]
    got = ok.scan(tmp_path, timezone=TZ).collect()
    assert got.columns == [*FRAME.columns, "queue_tier"]
    assert got.get_column("queue_tier").value_counts().sort("queue_tier").rows() == [
        (None, FRAME.height - 40),
        ("vip", 40),
    ]
    # Without the manifest's word, the day files' own schemas say the same.
    (tmp_path / "_manifest.json").unlink()
    assert_frame_equal(by_id(ok.load(tmp_path, timezone=TZ)), by_id(got))


@pytest.mark.parametrize("kill_at", [1, 2])
def test_a_reader_never_meets_a_column_the_manifest_does_not_list(tmp_path, monkeypatch, kill_at):
    fill(tmp_path)
    extra = FRAME.head(40).with_columns(pl.lit("vip").alias("queue_tier"))
    kill_after(monkeypatch, kill_at)  # a write of the new column, killed after some files
    with Store(tmp_path, timezone=TZ) as store, contextlib.suppress(Killed):
        store.write(extra, span_start=dt.datetime(2024, 9, 2, tzinfo=dt.UTC))
    monkeypatch.undo()
    got = ok.scan(tmp_path, timezone=TZ).collect()  # the manifest was put in place first
    assert got.height == FRAME.height and "queue_tier" in got.columns


def test_ok_load_of_the_table_or_an_accounts_partition_reads_it_and_writes_nothing(tmp_path):
    for account in ("acme", "acme-eu"):
        with Store(tmp_path, timezone=TZ, account=account) as store:
            store.write(FRAME, span_start=dt.datetime(2024, 9, 2, tzinfo=dt.UTC))
    before = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*"))
    whole = ok.load(tmp_path, timezone=TZ)
    table = ok.load(tmp_path / "interactions", timezone=TZ)
    assert_frame_equal(
        table.sort("account", "interaction_id"), whole.sort("account", "interaction_id")
    )
    one = ok.load(tmp_path / "interactions" / "account=acme", timezone=TZ)
    assert_frame_equal(by_id(one), by_id(FRAME))
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == before


def test_accounts_kept_in_different_timezones_read_as_one_table(tmp_path):
    utc = FRAME.with_columns(pl.col(ok.DATETIME_COLUMNS).dt.convert_time_zone("UTC"))
    for account, zone, rows in (("acme", "UTC", utc), ("acme-eu", TZ, FRAME)):
        with Store(tmp_path, timezone=zone, account=account) as store:
            store.write(rows, span_start=dt.datetime(2024, 9, 2, tzinfo=dt.UTC))
    got = ok.load(tmp_path, timezone="America/New_York")
    want = pl.concat([FRAME.with_columns(account=pl.lit(a)) for a in ("acme", "acme-eu")])
    want = want.with_columns(pl.col(ok.DATETIME_COLUMNS).dt.convert_time_zone("America/New_York"))
    assert_frame_equal(
        got.sort("account", "interaction_id"), want.sort("account", "interaction_id")
    )


# -- other engines, on stores a real fetch wrote ---------------------------------------------

START, END = "2024-09-02", "2024-09-08"
SERVED = ok.synth_frame(1_500, seed=8, start="2024-09-01", days=8, timezone="UTC")


def fetched(root: Path, *accounts: str) -> pl.DataFrame:
    """Fetch [START, END) from stand-ins over real HTTP into ``root``; return ok.load's rows."""
    with contextlib.ExitStack() as stack:
        standins = {
            name: stack.enter_context(
                TalkdeskStandIn(
                    SERVED.with_columns(pl.lit(f"{name}-status").alias("interaction_status"))
                    if name != "acme"
                    else SERVED,
                    account=name,
                    job_seconds=0.05,
                )
            )
            for name in accounts or ("acme",)
        }
        clients = {
            name: stack.enter_context(ExploreClient(Credentials.from_env(s.environ())))
            for name, s in standins.items()
        }
        if accounts:
            ok.fetch(START, END, timezone=TZ, store=root, client=clients, accounts=accounts,
                     progress=False, read=False)  # fmt: skip
        else:
            ok.fetch(START, END, timezone=TZ, store=root, client=clients["acme"],
                     progress=False, read=False)  # fmt: skip
        want = standins[accounts[0] if accounts else "acme"].expected(
            parse_when(START, TZ), parse_when(END, TZ)
        )
    held = ok.load(root, timezone=TZ)
    assert held.height == want.height * max(1, len(accounts)) > 0
    assert only_parquet(root)
    return held


def keyed(frame: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """``frame`` in ``TZ``, sorted by ``keys``, with the canonical columns (+ account)."""
    frame = frame.with_columns(pl.col(ok.DATETIME_COLUMNS).dt.convert_time_zone(TZ))
    return frame.select(*ok.CANONICAL_COLUMNS, *keys[:-1]).sort(keys)


@pytest.mark.parametrize("accounts", [(), ("acme", "acme-eu")], ids=["one", "several"])
def test_polars_and_duckdb_read_the_table_as_it_is(tmp_path, accounts):
    duckdb = pytest.importorskip("duckdb")
    held = fetched(tmp_path, *accounts)
    keys = ["account", "interaction_id"] if accounts else ["interaction_id"]
    partitions = ["account", "date"] if accounts else ["date"]
    lake = pl.scan_parquet(tmp_path / "interactions", hive_partitioning=True).collect()
    assert lake.columns == [*ok.CANONICAL_COLUMNS, *partitions]
    assert lake.schema["date"] == pl.Date
    assert_frame_equal(keyed(lake, keys), keyed(held, keys))
    start_day = pl.coalesce(
        pl.col("start_date_time").dt.date(), pl.col("end_date_time").dt.date(), pl.col("date")
    )
    assert lake.filter(start_day != pl.col("date")).height == 0
    con = duckdb.connect()
    con.execute(f"SET TimeZone = '{TZ}'")
    table = con.sql(
        f"select * from read_parquet('{tmp_path}/interactions/**/*.parquet', "
        "hive_partitioning=true)"
    ).pl()
    assert table.columns == lake.columns and table.schema["date"] == pl.Date
    assert_frame_equal(keyed(table, keys), keyed(held, keys))


@pytest.fixture(scope="module")
def spark():
    pytest.importorskip("pyspark")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("no Java for Spark (openjdk-17-jre-headless)")
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("omnikit-lake-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    try:
        yield session
    finally:
        session.stop()


@pytest.mark.parametrize("accounts", [(), ("acme", "acme-eu")], ids=["one", "several"])
def test_spark_reads_the_table_as_it_is(tmp_path, spark, accounts):
    held = fetched(tmp_path, *accounts)
    keys = ["account", "interaction_id"] if accounts else ["interaction_id"]
    frame = spark.read.parquet(str(tmp_path / "interactions"))
    partitions = ["account", "date"] if accounts else ["date"]
    assert frame.columns == [*ok.CANONICAL_COLUMNS, *partitions]
    rows = pl.from_arrow(frame.toArrow())
    assert isinstance(rows, pl.DataFrame) and rows.schema["date"] == pl.Date
    assert_frame_equal(keyed(rows, keys), keyed(held, keys))
    per_day = {
        (row["account"] if accounts else None, str(row["date"])): row["count"]
        for row in frame.groupBy(*partitions).count().collect()
    }
    want = held.group_by(
        *(["account"] if accounts else []), pl.col("start_date_time").dt.date().alias("day")
    ).len()
    assert sorted(per_day.values()) == sorted(want.get_column("len").to_list())


# -- stores from before the table ---------------------------------------------------------------


SPAN = (dt.datetime(2024, 9, 1, 23, tzinfo=dt.UTC), dt.datetime(2024, 9, 7, 23, tzinfo=dt.UTC))


def make_old(root: Path, layout: str, accounts: tuple[str, ...] = ()) -> pl.DataFrame:
    """A store as an older omnikit wrote it: ``flat`` (``2024-09-02.parquet`` at the root),
    ``hive`` (``date=.../part-0.parquet`` at the root), or ``hive`` with ``accounts`` (each in
    ``account=NAME/`` with its own manifest). Returns the rows it holds."""
    held = []
    for account in accounts or (None,):
        rows = FRAME if account is None else FRAME.with_columns(pl.lit(account).alias("notes"))
        with Store(root, timezone=TZ, account=account) as store:
            store.write(rows, span_start=dt.datetime(2024, 9, 2, tzinfo=dt.UTC))
            store.mark_complete(*SPAN, fetched_at=SPAN[1])
            meta, files = store.meta, store.day_files()
        old = root if account is None else root / f"account={account}"
        old.mkdir(exist_ok=True)
        manifest = json.loads((meta / "_manifest.json").read_text())
        names = {}
        for path in files:
            day = file_day(path)
            name = f"{day}.parquet" if layout == "flat" else f"date={day}/part-0.parquet"
            (old / name).parent.mkdir(exist_ok=True)
            os.replace(path, old / name)
            names[name] = manifest["files"][day_file_name(day, account)]
        manifest.update(version=1 if layout == "flat" else 2, files=names)
        del manifest["extra_columns"]
        (meta / "_manifest.json").unlink()
        (old / "_manifest.json").write_text(json.dumps(manifest))
        if account is not None:
            (meta / "_lock").replace(old / "_lock")
            meta.rmdir()
        held.append(rows if account is None else rows.with_columns(account=pl.lit(account)))
    shutil.rmtree(root / "interactions")
    if accounts:
        (root / "accounts").rmdir()
    return pl.concat(held)


def old_names(root: Path) -> list[str]:
    """The day files and manifests of the older layouts still in ``root``."""
    return sorted(
        p.relative_to(root).as_posix()
        for pattern in ("*.parquet", "date=*/*", "account=*/**/*")
        for p in root.glob(pattern)
        if p.is_file() and not p.name.startswith(".")
    )


@pytest.mark.parametrize("layout", ["flat", "hive"])
def test_an_old_store_is_migrated_on_first_use_and_reads_the_same(tmp_path, layout):
    held = make_old(tmp_path, layout)
    assert len(old_names(tmp_path)) == 6
    with Store(tmp_path, timezone=TZ):  # every fetch opens the store this way
        pass
    manifest = json.loads((tmp_path / "_manifest.json").read_text())
    assert manifest["version"] == 3 and manifest["extra_columns"] == []
    with Store(tmp_path, timezone=TZ) as store:
        assert store.check() == []  # the manifest was migrated with the files
        assert store.complete() == [SPAN]
    assert old_names(tmp_path) == [] and not (tmp_path / "_journal.json").exists()
    assert table_files(tmp_path) == [f"date={d}/part-0.parquet" for d in sorted(
        {file_day(p) for p in list_day_files(tmp_path)})]  # fmt: skip
    assert_frame_equal(by_id(ok.load(tmp_path, timezone=TZ)), by_id(held))
    lake = pl.scan_parquet(tmp_path / "interactions", hive_partitioning=True).collect()
    assert_frame_equal(by_id(lake.drop("date")), by_id(held))


def test_a_store_of_several_accounts_from_before_is_migrated(tmp_path):
    held = make_old(tmp_path, "hive", ("acme", "acme-eu"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["account=acme", "account=acme-eu"]
    # Being written by an older omnikit (its lock held): read as it is, not moved.
    with open(tmp_path / "account=acme" / "_lock", "a+") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        got = ok.load(tmp_path, timezone=TZ)
        assert_frame_equal(
            got.sort("account", "interaction_id"), held.sort("account", "interaction_id")
        )
        assert (tmp_path / "account=acme" / "_manifest.json").exists()
    # Idle: the first read moves it.
    got = ok.scan(tmp_path, timezone=TZ).collect()
    assert_frame_equal(
        got.sort("account", "interaction_id"), held.sort("account", "interaction_id")
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["accounts", "interactions"]
    for name in ("acme", "acme-eu"):
        manifest = json.loads((tmp_path / "accounts" / name / "_manifest.json").read_text())
        assert manifest["version"] == 3 and len(manifest["files"]) == 6
        assert all(f.startswith(f"interactions/account={name}/date=") for f in manifest["files"])
        with Store(tmp_path, timezone=TZ, account=name) as store:
            assert store.check() == []
    assert only_parquet(tmp_path)
    lake = pl.scan_parquet(tmp_path / "interactions", hive_partitioning=True).collect()
    assert_frame_equal(
        lake.drop("date").sort("account", "interaction_id"), held.sort("account", "interaction_id")
    )


@pytest.mark.parametrize("accounts", [(), ("acme",)], ids=["one", "account"])
def test_a_write_an_older_omnikit_left_half_done_is_finished_before_the_migration(
    tmp_path, accounts
):
    held = make_old(tmp_path, "hive", accounts)
    old = tmp_path / (f"account={accounts[0]}" if accounts else "")
    newer = pl.read_parquet(old / "date=2024-09-03/part-0.parquet").with_columns(
        pl.lit("REFETCHED").alias("interaction_status")
    )
    staged = "date=2024-09-03/.part-0.parquet.1.ab.tmp"
    newer.write_parquet(old / staged)
    (old / "_journal.json").write_text(
        json.dumps({"steps": [{"replace": staged, "path": "date=2024-09-03/part-0.parquet"}]})
    )
    with Store(tmp_path, timezone=TZ, account=accounts[0] if accounts else None):
        pass
    got = ok.load(tmp_path, timezone=TZ)
    assert got.height == held.height and old_names(tmp_path) == []
    changed = got.filter(pl.col("interaction_status") == "REFETCHED")
    assert sorted(changed.get_column("interaction_id")) == sorted(
        newer.get_column("interaction_id")
    )
    assert not list(tmp_path.rglob(".*")) and only_parquet(tmp_path)


def test_ok_load_reads_a_locked_old_store_as_it_is_and_migrates_an_idle_one(tmp_path):
    held = make_old(tmp_path, "flat")
    with open(tmp_path / "_lock", "a+") as lock:  # someone is writing to it
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        assert_frame_equal(by_id(ok.load(tmp_path, timezone=TZ)), by_id(held))
        assert len(list(tmp_path.glob("*.parquet"))) == 6
    assert_frame_equal(by_id(ok.scan(tmp_path, timezone=TZ).collect()), by_id(held))
    assert not list(tmp_path.glob("*.parquet"))  # migrated by that read
    assert len(table_files(tmp_path)) == 6


def test_migrating_links_the_files_it_does_not_copy_them(tmp_path):
    make_old(tmp_path, "hive")
    inodes = {file_day(p): p.stat().st_ino for p in list_day_files(tmp_path)}
    with Store(tmp_path, timezone=TZ) as store:
        after = {file_day(p): p.stat().st_ino for p in store.day_files()}
    assert after == inodes


def test_without_hard_links_the_migration_copies_outside_the_table_then_renames_in(
    tmp_path, monkeypatch
):
    held = make_old(tmp_path, "hive")
    seen = []
    copy = shutil.copyfile

    def no_links(source, target):
        raise PermissionError(1, "Operation not permitted")

    def copied(source, target):
        copy(source, target)
        seen.append((Path(target).parent, table_files(tmp_path)))  # copied, not yet moved in

    monkeypatch.setattr(os, "link", no_links)
    monkeypatch.setattr(shutil, "copyfile", copied)
    with Store(tmp_path, timezone=TZ):
        pass
    monkeypatch.undo()
    assert [len(names) for _, names in seen] == [0, 1, 2, 3, 4, 5]
    assert {where for where, _ in seen} == {tmp_path}
    assert all(n.endswith("/part-0.parquet") for _, names in seen for n in names)
    assert old_names(tmp_path) == [] and not list(tmp_path.rglob(".*"))
    assert_frame_equal(by_id(ok.load(tmp_path, timezone=TZ)), by_id(held))


def test_a_store_is_never_written_inside_a_table_nor_mixed_with_the_other_kind(tmp_path):
    fill(tmp_path)
    before = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*"))
    for path in (tmp_path / "interactions", tmp_path / "interactions" / "date=2024-09-02"):
        with pytest.raises(ok.ParameterError, match="inside the table of the store"), Store(path):
            pass
    with (
        pytest.raises(ok.ParameterError, match="holds one account without account=NAME/"),
        Store(tmp_path, account="acme"),
    ):
        pass
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == before


class Killed(BaseException):
    pass


def kill_after(monkeypatch, kill_at: int) -> None:
    applied = 0
    real_apply = Store._apply

    def apply(self, step, *, replay=False, base=None):
        nonlocal applied
        if applied == kill_at:
            raise Killed
        applied += 1
        real_apply(self, step, replay=replay, base=base)

    monkeypatch.setattr(Store, "_apply", apply)


@pytest.mark.parametrize("kill_at", range(14))
@pytest.mark.parametrize("layout", ["flat", "hive"])
def test_a_migration_killed_at_any_step_loses_and_doubles_nothing(
    tmp_path, monkeypatch, layout, kill_at
):
    held = make_old(tmp_path, layout)
    kill_after(monkeypatch, kill_at)
    with contextlib.suppress(Killed), Store(tmp_path, timezone=TZ):
        pass
    monkeypatch.undo()
    # 6 links, the manifest, 6 deletes: 13 steps; kill_at 13 is after the last one.
    assert (tmp_path / "_journal.json").exists() == (kill_at < 13)
    assert only_parquet(tmp_path)  # a table reader never meets a file being written
    # A reader now (it takes no lock): each day once, every row once.
    seen = pl.concat([pl.read_parquet(p) for p in list_day_files(tmp_path)])
    assert_frame_equal(by_id(seen), by_id(held))
    with open(tmp_path / "_lock", "a+") as lock:  # ok.load while the writer still holds it
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        assert_frame_equal(by_id(ok.load(tmp_path, timezone=TZ)), by_id(held))
    # The next run finishes the migration.
    with Store(tmp_path, timezone=TZ) as store:
        assert store.check() == []
    assert old_names(tmp_path) == [] and not (tmp_path / "_journal.json").exists()
    assert not list(tmp_path.rglob(".*"))
    assert len(table_files(tmp_path)) == 6 and only_parquet(tmp_path)
    assert_frame_equal(by_id(ok.load(tmp_path, timezone=TZ)), by_id(held))


@pytest.mark.parametrize("kill_at", range(15))
def test_an_account_migration_killed_at_any_step_loses_and_doubles_nothing(
    tmp_path, monkeypatch, kill_at
):
    held = make_old(tmp_path, "hive", ("acme",)).drop("account")
    kill_after(monkeypatch, kill_at)
    with contextlib.suppress(Killed), Store(tmp_path, timezone=TZ, account="acme"):
        pass
    monkeypatch.undo()
    # 6 links, the manifest, 6 deletes, the old manifest's delete: 14 steps.
    assert (tmp_path / "accounts" / "acme" / "_journal.json").exists() == (kill_at < 14)
    seen = pl.concat([pl.read_parquet(p) for p in list_day_files(tmp_path, "acme")])
    assert_frame_equal(by_id(seen), by_id(held))
    with open(tmp_path / "accounts" / "acme" / "_lock", "a+") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        got = ok.load(tmp_path, timezone=TZ)
        assert_frame_equal(by_id(got.drop("account")), by_id(held))
    with Store(tmp_path, timezone=TZ, account="acme") as store:
        assert store.check() == []
        assert store.complete() == [SPAN]  # the spans fetched came along
    assert old_names(tmp_path) == [] and not (tmp_path / "account=acme").exists()
    assert not list(tmp_path.rglob(".*")) and only_parquet(tmp_path)
    assert_frame_equal(by_id(ok.load(tmp_path, timezone=TZ).drop("account")), by_id(held))


# -- further on one machine: the streaming engine over a store ------------------------------------

STREAMED = (
    "channel_mix",
    "wait_time_stats",
    "wait_time_histogram",
    "service_level",
    "wait_time_survival",
    "hourly_profile",
    "journeys",
    "channel_transitions",
    "repeat_contacts",
)


@pytest.mark.parametrize("name", STREAMED)
def test_every_function_gives_the_same_result_streaming_from_the_store(tmp_path, name):
    fill(tmp_path)
    function = getattr(ok, name)
    with pl.Config(engine_affinity="in-memory"):
        want = function(FRAME)  # the rows written, in memory
    with pl.Config(engine_affinity="streaming"):
        got = function(ok.scan(tmp_path, timezone=TZ))
    assert want.height > 0
    sort = [c for c, t in want.schema.items() if not t.is_nested()]
    assert_frame_equal(got.sort(sort, nulls_last=True), want.sort(sort, nulls_last=True))


def test_resolution_streaming_from_the_needed_columns_equals_the_eager_one(tmp_path):
    fill(tmp_path)
    want = ok.resolve_customers(FRAME).select("interaction_id", "customer_id")
    with pl.Config(engine_affinity="streaming"):
        lazy = ok.scan(tmp_path, timezone=TZ).select(
            "interaction_id", "contact", "contact_id", "name", "start_date_time"
        )
        got = ok.resolve_customers(lazy).select("interaction_id", "customer_id").collect()
    assert_frame_equal(by_id(got), by_id(want))


def test_a_store_in_a_list_of_sources_is_read_with_the_others(tmp_path, vendor_sample):
    held = fill(tmp_path / "store")
    both = ok.load([tmp_path / "store", vendor_sample], timezone=TZ)
    assert both.height == held.height + ok.load(vendor_sample, timezone=TZ).height
    assert both.columns[: len(ok.CANONICAL_COLUMNS)] == list(ok.CANONICAL_COLUMNS)
