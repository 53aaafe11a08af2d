"""The period and the days a fetching report needs (omnikit._schedule), without the network."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

import omnikit as ok
from omnikit._schedule import (
    SETTLE_DAYS,
    final_until,
    last_complete_week,
    needed_span,
    report_period,
    still_changing,
    week_start_day,
)

LISBON = "Europe/Lisbon"
UTC = dt.UTC


def at(text: str, tz: str = LISBON) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=zoneinfo.ZoneInfo(tz))


def days(span: tuple[dt.datetime, dt.datetime], tz: str = LISBON) -> tuple[str, str]:
    zone = zoneinfo.ZoneInfo(tz)
    return tuple(moment.astimezone(zone).isoformat() for moment in span)  # type: ignore[return-value]


@pytest.mark.parametrize(
    ("now", "week_start", "want"),
    [
        # a Monday morning: the week that ended at midnight
        ("2024-09-30T06:02", "monday", ("2024-09-23", "2024-09-30")),
        # the last minute of a Sunday: that week has not ended yet
        ("2024-09-29T23:59", "monday", ("2024-09-16", "2024-09-23")),
        ("2024-09-30T00:00", "monday", ("2024-09-23", "2024-09-30")),
        # weeks that start on Sunday
        ("2024-09-30T06:02", "sunday", ("2024-09-22", "2024-09-29")),
        ("2024-09-29T00:30", "sun", ("2024-09-22", "2024-09-29")),
        # across a year boundary
        ("2025-01-01T09:00", "monday", ("2024-12-23", "2024-12-30")),
        ("2025-01-06T09:00", "monday", ("2024-12-30", "2025-01-06")),
        ("2021-01-03T12:00", "saturday", ("2020-12-26", "2021-01-02")),
    ],
)
def test_last_complete_week(now, week_start, want):
    start, end = last_complete_week(at(now), LISBON, week_start)
    assert (start.date().isoformat(), end.date().isoformat()) == want
    assert start.time() == end.time() == dt.time(0)
    assert start.tzinfo == end.tzinfo == zoneinfo.ZoneInfo(LISBON)


def test_weeks_with_a_daylight_saving_change_run_midnight_to_midnight():
    # Lisbon: clocks forward on 2024-03-31 (a 167-hour week), back on 2024-10-27 (169 hours).
    spring = last_complete_week(at("2024-04-01T07:00"), LISBON)
    autumn = last_complete_week(at("2024-10-28T07:00"), LISBON)
    assert days(spring) == ("2024-03-25T00:00:00+00:00", "2024-04-01T00:00:00+01:00")
    assert days(autumn) == ("2024-10-21T00:00:00+01:00", "2024-10-28T00:00:00+00:00")
    hours = [
        (b.astimezone(UTC) - a.astimezone(UTC)) / dt.timedelta(hours=1) for a, b in (spring, autumn)
    ]
    assert hours == [167, 169]
    # the week before a DST week is midnight to midnight too (as report_data computes it)
    before = needed_span("weekly_report", *autumn)
    assert days(before)[0] == "2024-10-14T00:00:00+01:00"
    assert needed_span("wait_times", *autumn) == autumn


def test_the_same_instant_is_another_week_in_another_timezone():
    now = dt.datetime(2024, 9, 29, 23, 30, tzinfo=UTC)  # Monday 00:30 in Lisbon, Sunday in UTC
    assert last_complete_week(now, LISBON)[1].date() == dt.date(2024, 9, 30)
    assert last_complete_week(now, "UTC")[1].date() == dt.date(2024, 9, 23)


def test_report_period_as_given_or_a_week():
    assert days(report_period("2024-09-02", "2024-09-05", timezone=LISBON))[1].startswith(
        "2024-09-05"
    )
    assert days(report_period(None, "2024-09-30", timezone=LISBON))[0].startswith("2024-09-23")
    assert days(report_period("2024-09-23", None, timezone=LISBON))[1].startswith("2024-09-30")
    assert days(report_period(None, None, timezone=LISBON, now=at("2024-09-30T06:00")))[
        0
    ].startswith("2024-09-23")
    with pytest.raises(ok.ParameterError, match="must be before end"):
        report_period("2024-09-05", "2024-09-02", timezone=LISBON)


@pytest.mark.parametrize("bad", ["mo", "someday", "", "7", "t"])
def test_week_start_must_be_a_day(bad):
    with pytest.raises(ok.ParameterError, match="is not a day of the week"):
        week_start_day(bad)
    assert week_start_day("Tuesday") == 1


def test_final_until_is_midnight_settle_days_before_the_fetch():
    fetched = dt.datetime(2024, 9, 30, 5, 2, tzinfo=UTC)
    assert days((final_until(fetched, LISBON),))[0] == "2024-09-27T00:00:00+01:00"
    assert days((final_until(fetched, LISBON, 0),))[0] == "2024-09-30T00:00:00+01:00"
    assert SETTLE_DAYS == 3


def test_still_changing_is_the_tail_fetched_before_it_settled():
    a, b = at("2024-09-16T00:00"), at("2024-09-30T00:00")
    monday = at("2024-09-30T06:02")
    # fetched on the Monday: Friday to Sunday were still changing
    tail = still_changing([(a, b, monday)], a, b, timezone=LISBON)
    assert [days(s) for s in tail] == [("2024-09-27T00:00:00+01:00", "2024-09-30T00:00:00+01:00")]
    # fetched again on Thursday: all settled; nothing to fetch again
    later = [
        (a, at("2024-09-27T00:00"), monday),
        (at("2024-09-27T00:00"), b, at("2024-10-03T08:00")),
    ]
    assert still_changing(later, a, b, timezone=LISBON) == []
    # a part never fetched is not "changing" (a plain fetch gets it)
    assert still_changing([], a, b, timezone=LISBON) == []
    # with no settling time, nothing is ever fetched again
    assert still_changing([(a, b, monday)], a, b, timezone=LISBON, settle_days=0) == []
    # a week fetched on the Tuesday after: only Saturday and Sunday
    tuesday = at("2024-10-01T06:00")
    assert [days(s)[0][:10] for s in still_changing([(a, b, tuesday)], a, b, timezone=LISBON)] == [
        "2024-09-28"
    ]
