"""omnikit._time: one rule each for timezones, dates and durations, checked against polars."""

from __future__ import annotations

import datetime as dt
import re

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

import omnikit as ok
from omnikit._time import (
    check_duration,
    check_timezone,
    duration_seconds,
    parse_date,
    parse_day,
)

FIXED = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


@given(st.lists(st.tuples(st.integers(0, 500), st.sampled_from(sorted(FIXED))), min_size=1))
def test_every_fixed_duration_we_accept_is_the_same_length_in_polars(parts) -> None:
    text = "".join(f"{n}{unit}" for n, unit in parts)
    assert check_duration(text, name="gap") == text
    start = pl.lit(dt.datetime(2024, 1, 1)).cast(pl.Datetime("ns"))  # naive: a day is 24 h
    nanoseconds = pl.select((start.dt.offset_by(text) - start).dt.total_nanoseconds()).item()
    assert duration_seconds(text, name="gap") == pytest.approx(
        nanoseconds / 1e9, rel=1e-12, abs=1e-9
    )


@pytest.mark.parametrize("text", ["1mo", "1q", "1y", "1y2mo3d", "2w1d", "90m", "0s"])
def test_calendar_durations_are_durations_polars_reads(text: str) -> None:
    assert check_duration(f"  {text} ", name="every") == text
    pl.select(pl.lit(dt.datetime(2024, 1, 31)).dt.offset_by(text))  # polars agrees


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1 day", "every='1 day' is not a duration (did you mean '1d'?)"),
        ("2 weeks", "did you mean '2w'"),
        ("30 min", "did you mean '30m'"),
        ("fortnight", "every='fortnight' is not a duration: write a number and a unit"),
        ("", "is not a duration"),
        ("-1h", "must not be negative"),
        ("1i", "is not a duration"),  # a number of rows is not a length of time
        (dt.timedelta(hours=-1), "must not be negative"),
        (24, "must be a duration string"),
        (None, "must be a duration string"),
    ],
)
def test_a_bad_duration_says_how_to_write_one(value: object, message: str) -> None:
    with pytest.raises(ok.ParameterError, match=re.escape(message)):
        check_duration(value, name="every")


def test_a_bad_duration_never_shows_polars_internals() -> None:
    with pytest.raises(ok.ParameterError) as raised:
        check_duration("1 day", name="every", func="channel_mix")
    text = str(raised.value)
    assert text.startswith("channel_mix: every='1 day'")
    assert "polars" not in text.lower().replace("a polars duration", "")
    assert raised.value.__cause__ is None


def test_duration_seconds_takes_numbers_strings_and_timedeltas() -> None:
    assert duration_seconds(20, name="threshold") == 20.0
    assert duration_seconds(2.5, name="threshold") == 2.5
    assert duration_seconds("1h30m", name="threshold") == 5400.0
    assert duration_seconds("1w", name="overlap") == 7 * 86400
    assert duration_seconds(dt.timedelta(minutes=2), name="threshold") == 120.0
    for bad, message in [
        (-1, "number of seconds >= 0"),
        (float("nan"), "number of seconds >= 0"),
        (True, "must be a number of seconds"),
        ("1mo", "no fixed length"),
        ("soon", "is not a duration"),
    ]:
        with pytest.raises(ok.ParameterError, match=message):
            duration_seconds(bad, name="threshold")
    with pytest.raises(ok.ParameterError, match="must be a duration string"):
        duration_seconds(5, name="overlap", numbers=False)


def test_parse_date_is_a_wall_clock_time_in_the_timezone() -> None:
    lisbon = "Europe/Lisbon"
    assert parse_date("2024-09-02", timezone=lisbon, name="start").isoformat() == (
        "2024-09-02T00:00:00+01:00"
    )
    assert parse_date(dt.date(2024, 1, 2), timezone=lisbon, name="start").isoformat() == (
        "2024-01-02T00:00:00+00:00"
    )
    # an offset names an instant, shown in the timezone
    assert parse_date("2024-09-02T10:30:00Z", timezone=lisbon, name="end").isoformat() == (
        "2024-09-02T11:30:00+01:00"
    )
    # a repeated wall-clock hour (DST fall-back) is its earlier instant
    assert parse_date("2024-10-27T01:30", timezone=lisbon, name="end").utcoffset() == (
        dt.timedelta(hours=1)
    )
    with pytest.raises(ok.ParameterError, match="start: '2024-02-30' is not a date; write"):
        parse_date("2024-02-30", timezone=lisbon, name="start")
    with pytest.raises(ok.ParameterError, match="start: expected a date"):
        parse_date(20240902, timezone=lisbon, name="start")  # type: ignore[arg-type]


def test_parse_day() -> None:
    assert parse_day(" 2024-09-02 ", name="start") == dt.date(2024, 9, 2)
    assert parse_day(dt.datetime(2024, 9, 2, 8), name="start") == dt.date(2024, 9, 2)
    with pytest.raises(ok.ParameterError, match="start: 'Monday' is not a date"):
        parse_day("Monday", name="start")


def test_one_timezone_check_with_one_message() -> None:
    assert check_timezone("America/New_York") == "America/New_York"
    for bad in ["Mars/Olympus", "europe/lisbon "]:
        with pytest.raises(ok.ParameterError, match="is not a known IANA timezone; use a name"):
            check_timezone(bad)
    for bad in ["", None, 1]:
        with pytest.raises(ok.ParameterError, match="expected an IANA timezone name"):
            check_timezone(bad)
    # every function that takes a timezone says it the same way
    for call in [
        lambda: ok.synth_entries(1, timezone="Mars/Olympus"),
        lambda: ok.canonical_schema("Mars/Olympus"),
        lambda: ok.report_data(None, timezone="Mars/Olympus"),
        lambda: ok.render_report("weekly_report", timezone="Mars/Olympus"),
    ]:
        with pytest.raises(ok.ParameterError, match="'Mars/Olympus' is not a known IANA timezone"):
            call()


def test_every_function_takes_the_same_durations() -> None:
    df = ok.synth_frame(400, seed=3)
    assert ok.channel_mix(df, every=dt.timedelta(days=1)).equals(ok.channel_mix(df, every="1d"))
    assert ok.journeys(df, gap=dt.timedelta(hours=24)).equals(ok.journeys(df, gap="24h"))
    assert ok.service_level(df, threshold="20s").equals(ok.service_level(df, threshold=20))
    assert ok.service_level(df, threshold=dt.timedelta(seconds=20)).equals(
        ok.service_level(df, threshold=20)
    )
    for call in [
        lambda: ok.channel_mix(df, every="1 day"),
        lambda: ok.journeys(df, gap="1 day"),
        lambda: ok.repeat_contacts(df, window="1 day"),
    ]:
        with pytest.raises(ok.ParameterError, match="did you mean '1d'"):
            call()


def test_the_explore_ranges_use_the_same_date_and_timezone_rules() -> None:
    from omnikit._explore._ranges import check_zone
    from omnikit.explore import clamp_range, parse_when

    lisbon = "Europe/Lisbon"
    for value in ["2024-09-02", "2024-09-02T08:15", "2024-09-02T10:30:00Z", dt.date(2024, 1, 2)]:
        assert parse_when(value, lisbon) == parse_date(value, timezone=lisbon, name="x")
        assert (
            parse_when(value, lisbon).tzinfo == parse_date(value, timezone=lisbon, name="x").tzinfo
        )
    assert check_zone(lisbon).key == check_timezone(lisbon)
    # the same messages as every other function: the date names the option it came from
    with pytest.raises(ok.ParameterError) as ours:
        parse_date("2024-02-30", timezone=lisbon, name="--from")
    with pytest.raises(ok.ParameterError) as theirs:
        clamp_range("2024-02-30", "2024-03-02", lisbon)
    assert str(ours.value) == str(theirs.value)
    with pytest.raises(ok.ParameterError, match=r"^--to: 'next tuesday' is not a date; write YYYY"):
        clamp_range("2024-09-02", "next tuesday", lisbon)
    for call in [
        lambda: check_zone("Mars/Olympus"),
        lambda: parse_when("2024-09-02", "Mars/Olympus"),
    ]:
        with pytest.raises(ok.ParameterError, match="'Mars/Olympus' is not a known IANA timezone"):
            call()
    with pytest.raises(ok.ParameterError, match="expected an IANA timezone name"):
        check_zone(None)  # type: ignore[arg-type]
