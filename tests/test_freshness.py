"""The freshness line and the missing-data warning at the top of a report (omnikit._freshness)."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import polars as pl

import omnikit as ok
from omnikit._freshness import source_freshness, store_freshness
from omnikit._store import Store

TZ = "Europe/Lisbon"
ZONE = zoneinfo.ZoneInfo(TZ)
LATER = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def local(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=ZONE)


def make_store(path, spans):
    """A store whose manifest records ``spans``: (from, to, fetched_at), local texts."""
    frame = ok.synth_frame(400, seed=3, start="2024-09-16", days=14, timezone=TZ)
    with Store(path, timezone=TZ) as store:
        for a, b, at in spans:
            part = frame.filter(pl.col("start_date_time").is_between(local(a), local(b), "left"))
            store.write(part, span_start=local(a), span_end=local(b))
            store.mark_complete(local(a), local(b), fetched_at=local(at))
    return frame


def test_a_complete_period_says_to_when_and_when_fetched(tmp_path):
    make_store(tmp_path, [("2024-09-16", "2024-09-30", "2024-10-07T06:02")])
    fresh = store_freshness(tmp_path, local("2024-09-23"), local("2024-09-30"), TZ, now=LATER)
    assert fresh.line == "data to 2024-09-29 24:00 Europe/Lisbon, fetched 2024-10-07 06:02"
    assert fresh.warning is None


def test_fetched_before_it_settled_says_the_last_days_may_change(tmp_path):
    make_store(tmp_path, [("2024-09-16", "2024-09-30", "2024-09-30T06:02")])
    fresh = store_freshness(tmp_path, local("2024-09-23"), local("2024-09-30"), TZ, now=LATER)
    assert fresh.line.startswith("data to 2024-09-29 24:00 Europe/Lisbon, fetched 2024-09-30 06:02")
    assert "may still update the last 3 days" in fresh.line


def test_a_missing_day_is_warned_about(tmp_path):
    make_store(
        tmp_path,
        [
            ("2024-09-16", "2024-09-25", "2024-10-07T06:02"),
            ("2024-09-26", "2024-09-29", "2024-10-08T07:15"),
        ],
    )
    fresh = store_freshness(tmp_path, local("2024-09-23"), local("2024-09-30"), TZ, now=LATER)
    assert fresh.line == (
        "data to 2024-09-28 24:00 Europe/Lisbon, fetched 2024-10-07 06:02 to 2024-10-08 07:15"
    )
    assert fresh.warning is not None
    assert "2024-09-25, 2024-09-29 (Europe/Lisbon) is not in the store" in fresh.warning


def test_a_period_not_over_yet_is_not_missing_after_now(tmp_path):
    make_store(tmp_path, [("2024-09-16", "2024-09-25", "2024-10-07T06:02")])
    now = local("2024-09-25T00:00")
    fresh = store_freshness(tmp_path, local("2024-09-23"), local("2024-09-30"), TZ, now=now)
    assert fresh.warning is None


def test_files_are_not_a_store(tmp_path):
    (tmp_path / "week.json").write_text("{}")
    assert source_freshness([tmp_path / "week.json"], LATER, LATER, TZ) is None
    assert source_freshness([tmp_path], LATER, LATER, TZ) is None  # no manifest


def test_report_data_shows_freshness_and_the_warning_first(tmp_path):
    make_store(
        tmp_path,
        [
            ("2024-09-16", "2024-09-25", "2024-10-07T06:02"),
            ("2024-09-26", "2024-09-30", "2024-10-07T06:02"),
        ],
    )
    data = ok.report_data(tmp_path, start="2024-09-23", end="2024-09-30", timezone=TZ)
    lines = data._repr_markdown_().split("  \n")
    assert lines[0].startswith("⚠️ **Missing data:** 2024-09-25 (Europe/Lisbon)")
    assert (
        "**Freshness:** data to 2024-09-29 24:00 Europe/Lisbon, fetched 2024-10-07 06:02" in lines
    )
    # the weekly report's comparison week is checked too
    weekly = ok.report_data(
        tmp_path, start="2024-09-16", end="2024-09-23", timezone=TZ, compare=True
    )
    assert (
        "2024-09-09 to 2024-09-15 (Europe/Lisbon) is not in the store" in weekly._repr_markdown_()
    )
    # from report files: no freshness line at all (nothing claims a fetch time)
    files = tmp_path / "files"
    files.mkdir()
    ok.synth_reports(files, 50, seed=1, timezone=TZ)
    plain = ok.report_data(files, timezone=TZ)._repr_markdown_()
    assert "Freshness" not in plain and "Missing" not in plain
