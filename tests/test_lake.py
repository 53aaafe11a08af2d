"""The store as a lake table: hive partitions Spark, DuckDB and polars read as they are, and the
migration of stores from before (flat day files), killed at any step."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import omnikit as ok
from omnikit._store import Store, day_file_name, file_day, list_day_files

TZ = "Europe/Lisbon"
FRAME = ok.synth_frame(3_000, seed=5, start="2024-09-02", days=6, timezone=TZ)


def fill(root) -> pl.DataFrame:
    """A store of FRAME; returns the rows it holds (as ok.load gives them)."""
    with Store(root, timezone=TZ) as store:
        store.write(FRAME, span_start=dt.datetime(2024, 9, 2, tzinfo=dt.UTC))
    return ok.load(root, timezone=TZ)


def by_id(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort("interaction_id", nulls_last=True, maintain_order=True)


def test_the_layout_is_hive_partitions_with_the_manifest_at_the_root(tmp_path):
    held = fill(tmp_path)
    assert held.height == FRAME.height
    names = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.parquet"))
    assert names and all(n.startswith("date=") and n.endswith("/part-0.parquet") for n in names)
    assert (tmp_path / "_manifest.json").exists() and not list(tmp_path.glob("*.parquet"))
    manifest = json.loads((tmp_path / "_manifest.json").read_text())
    assert sorted(manifest["files"]) == names and manifest["version"] == 2
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


def test_polars_and_duckdb_read_the_store_as_it_is_with_a_date_column(tmp_path):
    duckdb = pytest.importorskip("duckdb")
    held = fill(tmp_path)
    (tmp_path / ".date=2024-09-09.part-0.parquet.1.tmp").write_bytes(b"a write under way")
    lake = pl.scan_parquet(f"{tmp_path}/**/*.parquet", hive_partitioning=True).collect()
    assert lake.columns == [*held.columns, "date"] and lake.schema["date"] == pl.Date
    assert_frame_equal(by_id(lake.drop("date")), by_id(held))
    start_day = pl.coalesce(
        pl.col("start_date_time").dt.date(), pl.col("end_date_time").dt.date(), pl.col("date")
    )
    assert lake.filter(start_day != pl.col("date")).height == 0
    table = duckdb.sql(
        f"select interaction_id, date, waiting_time from read_parquet("
        f"'{tmp_path}/**/*.parquet', hive_partitioning=true) order by interaction_id"
    ).pl()
    assert table.height == held.height and table.schema["date"] == pl.Date
    assert_frame_equal(
        table, lake.select("interaction_id", "date", "waiting_time").sort("interaction_id")
    )


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


def test_spark_reads_the_store_as_it_is(tmp_path, spark):
    held = fill(tmp_path)
    frame = spark.read.parquet(str(tmp_path))  # manifest, journal and lock are skipped
    assert frame.columns == [*held.columns, "date"]
    assert frame.count() == held.height
    per_day = {str(row["date"]): row["count"] for row in frame.groupBy("date").count().collect()}
    want = {str(file_day(p)): pl.read_parquet(p).height for p in list_day_files(tmp_path)}
    assert per_day == want
    waits = frame.agg({"waiting_time": "sum"}).collect()[0][0]
    assert waits == held.get_column("waiting_time").sum()


# -- stores from before the hive layout ------------------------------------------------------


def make_flat(root) -> pl.DataFrame:
    """A store as omnikit wrote it before the hive layout (day files at the root)."""
    held = fill(root)
    manifest = json.loads((root / "_manifest.json").read_text())
    files = {}
    for path in list_day_files(root):
        day = file_day(path)
        os.replace(path, root / f"{day.isoformat()}.parquet")
        path.parent.rmdir()
        files[f"{day.isoformat()}.parquet"] = manifest["files"][day_file_name(day)]
    manifest.update(version=1, files=files)
    (root / "_manifest.json").write_text(json.dumps(manifest))
    return held


def test_a_flat_store_is_migrated_on_first_use_and_reads_the_same(tmp_path):
    held = make_flat(tmp_path)
    flat = sorted(p.name for p in tmp_path.glob("*.parquet"))
    assert len(flat) == 6
    with Store(tmp_path, timezone=TZ) as store:  # every fetch opens the store this way
        assert store.check() == []  # the manifest was migrated with the files
    assert not list(tmp_path.glob("*.parquet")) and not (tmp_path / "_journal.json").exists()
    assert sorted(p.relative_to(tmp_path).as_posix() for p in list_day_files(tmp_path)) == [
        day_file_name(file_day(name)) for name in flat
    ]
    assert_frame_equal(by_id(ok.load(tmp_path, timezone=TZ)), by_id(held))


def test_ok_load_migrates_an_idle_flat_store_and_reads_a_locked_one_as_it_is(tmp_path):
    held = make_flat(tmp_path)
    with Store(tmp_path / "other", timezone=TZ):
        pass
    # Someone is writing to it: read as it is, not migrated.
    import fcntl

    with open(tmp_path / "_lock", "a+") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        assert_frame_equal(by_id(ok.load(tmp_path, timezone=TZ)), by_id(held))
        assert len(list(tmp_path.glob("*.parquet"))) == 6
    assert_frame_equal(by_id(ok.scan(tmp_path, timezone=TZ).collect()), by_id(held))
    assert not list(tmp_path.glob("*.parquet"))  # migrated by that read


class Killed(BaseException):
    pass


@pytest.mark.parametrize("kill_at", range(14))
def test_a_migration_killed_at_any_step_loses_and_doubles_nothing(tmp_path, monkeypatch, kill_at):
    held = make_flat(tmp_path)
    applied = 0
    real_apply = Store._apply

    def apply(self, step, *, replay=False):
        nonlocal applied
        if applied == kill_at:
            raise Killed
        applied += 1
        real_apply(self, step, replay=replay)

    monkeypatch.setattr(Store, "_apply", apply)
    with contextlib.suppress(Killed), Store(tmp_path, timezone=TZ):
        pass
    monkeypatch.undo()
    # 6 links, the manifest, 6 deletes: 13 steps; kill_at 13 is after the last one.
    assert (tmp_path / "_journal.json").exists() == (kill_at < 13)
    # A reader now (it takes no lock): each day once, every row once.
    seen = pl.concat([pl.read_parquet(p) for p in list_day_files(tmp_path)])
    assert_frame_equal(by_id(seen), by_id(held))
    # The next run finishes the migration.
    with Store(tmp_path, timezone=TZ) as store:
        assert store.check() == []
    assert not list(tmp_path.glob("*.parquet")) and not (tmp_path / "_journal.json").exists()
    assert not list(tmp_path.rglob(".*"))
    assert_frame_equal(by_id(ok.load(tmp_path, timezone=TZ)), by_id(held))


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
