"""The Parquet store: day files, merges where the last state wins, the manifest, atomic writes."""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import json
import os
import subprocess

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import omnikit as ok
from omnikit._io import deduplicate
from omnikit._store import Store, merge_spans, subtract_spans

TZ = "Europe/Lisbon"
UTC = dt.UTC


def t(text: str) -> dt.datetime:
    """A UTC instant: t("2024-09-02 23:30")."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def rows(*entries: tuple[str | None, str | None, str | None, str]) -> pl.DataFrame:
    """Canonical rows (in TZ) from (interaction_id, start UTC, end UTC, status)."""
    frame = pl.DataFrame(
        {
            "interaction_id": [e[0] for e in entries],
            "start_date_time": [t(e[1]) if e[1] else None for e in entries],
            "end_date_time": [t(e[2]) if e[2] else None for e in entries],
            "interaction_status": [e[3] for e in entries],
        },
        schema={
            "interaction_id": pl.String,
            "start_date_time": pl.Datetime("us", "UTC"),
            "end_date_time": pl.Datetime("us", "UTC"),
            "interaction_status": pl.String,
        },
    )
    frame = frame.with_columns(pl.col("start_date_time", "end_date_time").dt.convert_time_zone(TZ))
    schema = ok.canonical_schema(TZ)
    return frame.with_columns(
        [
            pl.lit(None, dtype=schema[c]).alias(c)
            for c in ok.CANONICAL_COLUMNS
            if c not in frame.columns
        ]
    ).select(ok.CANONICAL_COLUMNS)


def day_contents(store: Store) -> dict[str, list[tuple[str | None, str | None]]]:
    """{file name in the table: [(interaction_id, status), ...]} for every day file."""
    return {
        p.relative_to(store.table).as_posix(): list(
            pl.read_parquet(p).select("interaction_id", "interaction_status").iter_rows()
        )
        for p in store.day_files()
    }


def test_rows_go_to_the_day_of_their_start_in_the_store_timezone(tmp_path):
    with Store(tmp_path, timezone=TZ) as store:
        store.write(
            rows(
                ("a", "2024-09-02 10:00", "2024-09-02 10:05", "FINISHED"),
                (
                    "b",
                    "2024-09-02 23:30",
                    "2024-09-02 23:35",
                    "FINISHED",
                ),  # 00:30 on the 3rd in Lisbon
                ("c", None, "2024-09-03 12:00", "ABANDONED"),  # no start: by its end
                ("d", None, None, "MISSED"),  # neither: by the first day of its span
            ),
            span_start=t("2024-09-01 23:00"),  # midnight of the 2nd in Lisbon
        )
    assert day_contents(store) == {
        "date=2024-09-02/part-0.parquet": [("a", "FINISHED"), ("d", "MISSED")],
        "date=2024-09-03/part-0.parquet": [("b", "FINISHED"), ("c", "ABANDONED")],
    }


def test_a_later_state_replaces_the_earlier_one_and_nothing_duplicates(tmp_path):
    with Store(tmp_path, timezone=TZ) as store:
        store.write(
            rows(
                ("a", "2024-09-02 10:00", None, "IN_PROGRESS"),
                ("b", "2024-09-02 11:00", None, "FINISHED"),
            ),
            span_start=t("2024-09-02 00:00"),
        )
        store.write(
            rows(
                ("a", "2024-09-02 10:00", "2024-09-02 10:09", "FINISHED"),
                ("c", "2024-09-02 12:00", None, "MISSED"),
            ),
            span_start=t("2024-09-02 00:00"),
        )
    assert day_contents(store) == {
        "date=2024-09-02/part-0.parquet": [("a", "FINISHED"), ("b", "FINISHED"), ("c", "MISSED")]
    }
    assert ok.load(tmp_path, timezone=TZ).height == 3


def test_an_interaction_that_changes_day_leaves_its_old_file(tmp_path):
    with Store(tmp_path, timezone=TZ) as store:
        store.write(
            rows(
                ("a", None, "2024-09-04 10:00", "IN_PROGRESS"),
                ("z", "2024-09-04 09:00", None, "FINISHED"),
            ),
            span_start=t("2024-09-01 00:00"),
        )
        store.write(
            rows(("a", "2024-09-02 10:00", "2024-09-04 10:00", "FINISHED")),
            span_start=t("2024-09-01 00:00"),
        )
        store.write(
            rows(("y", "2024-09-05 10:00", None, "FINISHED")), span_start=t("2024-09-05 00:00")
        )
        store.write(
            rows(("y", "2024-09-06 10:00", None, "FINISHED")), span_start=t("2024-09-05 00:00")
        )
    assert day_contents(store) == {
        "date=2024-09-02/part-0.parquet": [("a", "FINISHED")],
        "date=2024-09-04/part-0.parquet": [("z", "FINISHED")],
        "date=2024-09-06/part-0.parquet": [("y", "FINISHED")],  # 2024-09-05 emptied and removed
    }


def test_an_interaction_leaves_a_day_the_same_batch_also_writes(tmp_path):
    with Store(tmp_path, timezone=TZ) as store:
        store.write(
            rows(("a", "2024-09-02 10:00", None, "OPEN"), ("b", "2024-09-02 11:00", None, "OPEN")),
            span_start=t("2024-09-02 00:00"),
        )
        store.write(
            rows(("a", "2024-09-03 10:00", None, "MOVED"), ("b", "2024-09-02 11:00", None, "DONE")),
            span_start=t("2024-09-02 00:00"),
        )
    assert day_contents(store) == {
        "date=2024-09-02/part-0.parquet": [("b", "DONE")],
        "date=2024-09-03/part-0.parquet": [("a", "MOVED")],
    }


def test_rows_without_an_interaction_id_are_all_kept_as_by_ok_load(tmp_path):
    # The contract: rows without an interaction_id cannot be matched, so all are kept, by the
    # store exactly as by ok.load (one de-duplication rule, _io.deduplicate).
    batch = rows(
        (None, "2024-09-02 10:00", None, "FINISHED"),
        (None, "2024-09-02 10:00", None, "FINISHED"),
        (None, "2024-09-02 11:00", None, "FINISHED"),
        ("a", "2024-09-02 12:00", None, "IN_PROGRESS"),
        ("a", "2024-09-02 12:00", None, "FINISHED"),
    )
    with Store(tmp_path, timezone=TZ) as store:
        store.write(batch, span_start=t("2024-09-02 00:00"), span_end=t("2024-09-03 00:00"))
        assert store.read().height == deduplicate(batch).height == 4
        # The same job's answer again: its id-less rows replace those it brought before.
        store.write(batch, span_start=t("2024-09-02 00:00"), span_end=t("2024-09-03 00:00"))
        assert store.read().height == 4
        # Another span's job leaves them alone.
        store.write(
            rows((None, "2024-09-03 09:00", None, "FINISHED")),
            span_start=t("2024-09-03 00:00"),
            span_end=t("2024-09-04 00:00"),
        )
    assert store.read().height == 5
    assert store.read().filter(pl.col("interaction_id") == "a").get_column(
        "interaction_status"
    ).to_list() == ["FINISHED"]


def test_the_store_reads_back_with_ok_load_and_ok_scan(tmp_path):
    batch = rows(
        ("a", "2024-09-02 10:00", None, "FINISHED"), ("b", "2024-09-05 10:00", None, "FINISHED")
    )
    with Store(tmp_path, timezone=TZ) as store:
        store.write(batch, span_start=t("2024-09-02 00:00"))
        store.mark_complete(
            t("2024-09-01 23:00"), t("2024-09-06 23:00"), fetched_at=t("2024-10-01 00:00")
        )
    (tmp_path / ".2024-09-07.parquet.123.tmp").write_bytes(b"half a file")  # left by a killed fetch
    loaded = ok.load(tmp_path, timezone=TZ)
    assert_frame_equal(loaded.sort("interaction_id"), batch.sort("interaction_id"))
    assert_frame_equal(
        ok.scan(tmp_path, timezone=TZ).collect().sort("interaction_id"),
        loaded.sort("interaction_id"),
    )
    assert_frame_equal(
        store.read(t("2024-09-04 23:00"), t("2024-09-06 23:00")),
        batch.filter(pl.col("interaction_id") == "b"),
    )
    # Opening the store to write cleans up what a killed fetch left.
    with Store(tmp_path, timezone=TZ):
        pass
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_full_disk_is_a_store_error_naming_the_file_and_changes_nothing(tmp_path, monkeypatch):
    with Store(tmp_path, timezone=TZ) as store:
        store.write(
            rows(("a", "2024-09-02 10:00", None, "FINISHED")), span_start=t("2024-09-02 00:00")
        )

        def full_disk(self, file, *args, **kwargs):
            with open(file, "wb") as out:
                out.write(b"PAR1 partial")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        monkeypatch.setattr(pl.DataFrame, "write_parquet", full_disk)
        with pytest.raises(ok.StoreError, match="No space left on device") as error:
            store.write(
                rows(
                    ("a", "2024-09-02 10:00", None, "CHANGED"), ("b", "2024-09-03 10:00", None, "X")
                ),
                span_start=t("2024-09-02 00:00"),
            )
        monkeypatch.undo()
    assert "date=2024-09-02/part-0.parquet" in str(error.value) and "the store is unchanged" in str(
        error.value
    )
    assert error.value.__suppress_context__  # one clear error, not a chain of tracebacks
    assert day_contents(store) == {"date=2024-09-02/part-0.parquet": [("a", "FINISHED")]}
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    assert ok.load(tmp_path).height == 1  # still readable


def test_the_manifest_records_complete_spans_and_what_is_missing(tmp_path):
    with Store(tmp_path, timezone=TZ) as store:
        assert store.missing(t("2024-09-01 00:00"), t("2024-09-10 00:00")) == [
            (t("2024-09-01 00:00"), t("2024-09-10 00:00"))
        ]
        store.mark_complete(
            t("2024-09-02 00:00"),
            t("2024-09-04 00:00"),
            fetched_at=t("2024-10-01 08:00"),
            job_id="j1",
        )
        store.mark_complete(
            t("2024-09-04 00:00"), t("2024-09-05 00:00"), fetched_at=t("2024-10-01 08:00")
        )
        store.mark_complete(
            t("2024-09-07 00:00"), t("2024-09-08 00:00"), fetched_at=t("2024-10-01 08:00")
        )
    reopened = Store(tmp_path)
    assert reopened.timezone == TZ
    assert reopened.missing(t("2024-09-01 00:00"), t("2024-09-10 00:00")) == [
        (t("2024-09-01 00:00"), t("2024-09-02 00:00")),
        (t("2024-09-05 00:00"), t("2024-09-07 00:00")),
        (t("2024-09-08 00:00"), t("2024-09-10 00:00")),
    ]
    assert reopened.missing(t("2024-09-02 12:00"), t("2024-09-04 12:00")) == []
    manifest = json.loads((tmp_path / "_manifest.json").read_text())
    assert manifest["timezone"] == TZ
    assert manifest["complete"][0] == {
        "from": "2024-09-02T00:00:00Z",
        "to": "2024-09-04T00:00:00Z",
        "fetched_at": "2024-10-01T08:00:00Z",
        "job_id": "j1",
    }


def test_span_arithmetic():
    a, b, c, d = (
        t("2024-09-01 00:00"),
        t("2024-09-02 00:00"),
        t("2024-09-03 00:00"),
        t("2024-09-04 00:00"),
    )
    assert merge_spans([(c, d), (a, b), (b, c)]) == [(a, d)]
    assert merge_spans([(a, c), (b, b)]) == [(a, c)]
    assert subtract_spans(a, d, [(b, c)]) == [(a, b), (c, d)]
    assert subtract_spans(a, d, [(a, d)]) == []
    assert subtract_spans(b, c, [(a, b), (c, d)]) == [(b, c)]


def test_a_store_keeps_one_timezone(tmp_path):
    with Store(tmp_path, timezone=TZ):
        pass
    with pytest.raises(
        ok.ParameterError,
        match="holds times in Europe/Lisbon, not UTC; fetch with --timezone Europe/Lisbon",
    ):
        Store(tmp_path, timezone="UTC")
    with (
        Store(tmp_path, timezone=TZ) as store,
        pytest.raises(ok.ParameterError, match="start_date_time as"),
    ):
        store.write(
            rows(("a", "2024-09-02 10:00", None, "X")).with_columns(
                pl.col("start_date_time").dt.convert_time_zone("UTC")
            ),
            span_start=t("2024-09-02 00:00"),
        )


def test_one_writer_at_a_time(tmp_path):
    with (
        Store(tmp_path, timezone=TZ),
        pytest.raises(ok.ParameterError, match="another fetch is writing"),
        Store(tmp_path, timezone=TZ),
    ):
        pass
    with Store(tmp_path, timezone=TZ):  # free again
        pass


def test_a_broken_manifest_is_a_clear_error(tmp_path):
    (tmp_path / "_manifest.json").write_text("{not json")
    with pytest.raises(ok.StoreError, match=r"_manifest\.json is not an omnikit store manifest"):
        Store(tmp_path)


def test_a_manifest_that_is_not_utf8_is_a_store_error_naming_it(tmp_path):
    (tmp_path / "_manifest.json").write_bytes(b'{"format": "omnikit-store", "x": "\xff\xfe"}')
    with pytest.raises(ok.StoreError, match=r"_manifest\.json is not UTF-8 text") as error:
        Store(tmp_path)
    assert error.value.path == str(tmp_path / "_manifest.json")
    assert error.value.__context__ is None


def test_writing_needs_the_lock(tmp_path):
    with pytest.raises(RuntimeError, match="inside `with store:`"):
        Store(tmp_path, timezone=TZ).write(
            rows(("a", "2024-09-02 10:00", None, "X")), span_start=t("2024-09-02 00:00")
        )


def test_fetch_without_read_back_fills_the_store_and_returns_none(tmp_path):
    import omnikit as ok
    from omnikit._fetch import FetchSummary
    from omnikit.explore import Credentials, ExploreClient
    from omnikit.testing import TalkdeskStandIn

    frame = ok.synth_frame(400, seed=3, start="2024-09-02", days=3, timezone="UTC")
    with (
        TalkdeskStandIn(frame, job_seconds=0.05) as standin,
        ExploreClient(Credentials.from_env(standin.environ())) as client,
    ):
        summary = FetchSummary(tmp_path / "store", "UTC", None, None)  # type: ignore[arg-type]
        result = ok.fetch(
            "2024-09-02",
            "2024-09-05",
            store=tmp_path / "store",
            client=client,
            progress=False,
            summary=summary,
            read=False,
        )
    assert result is None
    assert summary.rows == frame.height
    assert ok.load(tmp_path / "store").height == frame.height


# -- crash safety --------------------------------------------------------------------------------

OLD = rows(
    ("x", "2024-09-05 10:00", None, "OLD"),
    ("y", "2024-09-02 10:00", None, "OLD"),
    ("z", "2024-09-02 11:00", None, "OLD"),
)
# A refetch: x moves to the 2nd, y to the 5th (they swap days), z changes in place.
NEW = rows(
    ("x", "2024-09-02 09:00", None, "NEW"),
    ("y", "2024-09-05 09:00", None, "NEW"),
    ("z", "2024-09-02 11:00", None, "NEW"),
)


class Killed(BaseException):
    pass


@pytest.mark.parametrize("kill_at", range(6))
def test_a_refetch_killed_at_any_step_never_reads_older_and_the_next_run_repairs(
    tmp_path, monkeypatch, kill_at
):
    with Store(tmp_path, timezone=TZ) as store:
        store.write(OLD, span_start=t("2024-09-01 00:00"))
    applied = 0
    real_apply = Store._apply

    def apply(self, step, *, replay=False):
        nonlocal applied
        if applied == kill_at:
            raise Killed
        applied += 1
        real_apply(self, step, replay=replay)

    monkeypatch.setattr(Store, "_apply", apply)
    with Store(tmp_path, timezone=TZ) as store, contextlib.suppress(Killed):
        store.write(NEW, span_start=t("2024-09-01 00:00"))
    monkeypatch.undo()
    # The store as a reader sees it after the kill: every interaction at most once, so its
    # state is the newest written so far or (not yet moved) the one it had.
    seen = pl.concat([pl.read_parquet(p) for p in store.day_files()])
    assert seen.get_column("interaction_id").is_duplicated().sum() == 0, day_contents(store)
    read = ok.load(tmp_path)
    assert read.get_column("interaction_id").is_duplicated().sum() == 0
    # The staged files wait beside the manifest; the table holds Parquet day files only, so
    # another engine reads it mid-write as ok.load does.
    table = tmp_path / "interactions"
    assert {p.name for p in table.rglob("*") if p.is_file()} == {"part-0.parquet"}
    staged = [p.name for p in tmp_path.glob(".*.tmp")]
    assert bool(staged) == (kill_at < 5), staged
    lake = pl.scan_parquet(table, hive_partitioning=True).collect()
    assert_frame_equal(
        lake.drop("date").sort("interaction_id"),
        ok.load(tmp_path, timezone=TZ).sort("interaction_id"),
    )
    # The next run (it takes the lock) finishes the write.
    with Store(tmp_path, timezone=TZ) as store:
        pass
    if kill_at < 5:
        assert (tmp_path / "_journal.json").exists() is False
    assert day_contents(store) in (
        {
            "date=2024-09-02/part-0.parquet": [("x", "NEW"), ("z", "NEW")],
            "date=2024-09-05/part-0.parquet": [("y", "NEW")],
        },
        # Killed before the journal was complete: nothing was put in place, the old state.
        {
            "date=2024-09-02/part-0.parquet": [("y", "OLD"), ("z", "OLD")],
            "date=2024-09-05/part-0.parquet": [("x", "OLD")],
        },
    )
    with Store(tmp_path, timezone=TZ) as store:
        assert store.check() == []  # the manifest agrees with the files


def test_the_kill_window_is_real(tmp_path, monkeypatch):
    # Between steps, an interaction moving day is missing for a moment, never doubled.
    test_a_refetch_killed_at_any_step_never_reads_older_and_the_next_run_repairs(
        tmp_path, monkeypatch, 2
    )
    with Store(tmp_path, timezone=TZ) as store:
        assert day_contents(store)["date=2024-09-02/part-0.parquet"] == [("x", "NEW"), ("z", "NEW")]


def test_a_garbage_day_file_is_a_store_error_naming_it_when_written_to(tmp_path):
    with Store(tmp_path, timezone=TZ) as store:
        store.write(OLD, span_start=t("2024-09-01 00:00"))
        (tmp_path / "interactions/date=2024-09-05/part-0.parquet").write_bytes(b"garbage")
        with pytest.raises(ok.StoreError, match=r"date=2024-09-05/part-0\.parquet") as error:
            store.write(NEW, span_start=t("2024-09-01 00:00"))
        assert "Traceback" not in str(error.value)
        [line] = store.check()
        assert line.startswith(
            "interactions/date=2024-09-05/part-0.parquet unreadable (parquet: File out of spec"
        )
        store.write(NEW, span_start=t("2024-09-01 00:00"))
    assert ok.load(tmp_path).height == 3


@pytest.fixture
def tiny_disk(tmp_path):
    """A real 256 KiB file system (tmpfs); skipped where mounting is not allowed."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], capture_output=True
    )
    if made.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_a_really_full_disk_is_a_store_error_and_the_store_stays_readable(tiny_disk):
    store_dir = tiny_disk / "store"
    with Store(store_dir, timezone=TZ) as store:
        store.write(OLD, span_start=t("2024-09-01 00:00"))
        # Ten days: the first day files fit, a later one does not.
        big = ok.synth_frame(4_000, seed=1, start="2024-09-02", days=10, timezone=TZ)
        # (polars words a full disk in several ways: the path and the outcome are what count)
        with pytest.raises(
            ok.StoreError, match=r"cannot write the day file .*\.parquet: "
        ) as error:
            store.write(big, span_start=t("2024-09-02 00:00"))
    assert str(store_dir) in str(error.value) and "the store is unchanged" in str(error.value)
    assert [p.name for p in store_dir.iterdir() if p.name.startswith(".")] == []
    assert not (store_dir / "_journal.json").exists()
    assert day_contents(store) == {
        "date=2024-09-02/part-0.parquet": [("y", "OLD"), ("z", "OLD")],
        "date=2024-09-05/part-0.parquet": [("x", "OLD")],
    }
    with Store(store_dir, timezone=TZ) as store:
        assert store.check() == []
