"""Time: timezones, dates, durations, and wall-clock times of a frame's timezone.

One place for each rule, used by every module that takes one of these from a user:

- :func:`check_timezone`: an IANA timezone name, or a :class:`~omnikit.ParameterError`;
- :func:`parse_date`: ``YYYY-MM-DD``, an ISO date-time, a ``date`` or a ``datetime`` as an aware
  datetime in a timezone (a wall-clock time without an offset is in that timezone);
  :func:`parse_day` a calendar day;
- :func:`check_duration`: a polars duration string or a ``timedelta`` (the grammar of
  ``polars.Expr.dt.offset_by``), with a message that says how to write one;
  :func:`duration_seconds` the same as a fixed number of seconds (a threshold, an overlap),
  which may also be given as a plain number;
- :func:`wall_clock` and :func:`localize`: a frame's instants as wall-clock times of its
  timezone without converting every row through the tz database, and back.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import zoneinfo

import polars as pl

from ._errors import ParameterError
from .types import DateLike, Duration, Threshold

__all__: list[str] = []


# --------------------------------------------------------------------------------------------
# timezones and dates


def check_timezone(timezone: object, *, name: str = "timezone") -> str:
    """``timezone`` if it is a known IANA timezone name, else a :class:`ParameterError`.

    >>> check_timezone("Europe/Lisbon")
    'Europe/Lisbon'
    """
    if not isinstance(timezone, str) or not timezone:
        raise ParameterError(
            f"{name}: expected an IANA timezone name such as 'UTC' or 'Europe/Lisbon', "
            f"got {timezone!r}"
        )
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ParameterError(
            f"{name}: {timezone!r} is not a known IANA timezone; use a name such as 'UTC' or "
            "'Europe/Lisbon'"
        ) from None
    return timezone


def parse_date(value: DateLike, *, timezone: str, name: str) -> dt.datetime:
    """A date or date-time given by a user, as an aware datetime in ``timezone``.

    ``YYYY-MM-DD`` (or a :class:`datetime.date`) is midnight in ``timezone``; an ISO date-time
    without an offset (or a naive :class:`datetime.datetime`) is a wall-clock time in
    ``timezone`` (the earlier instant in a repeated hour); one with an offset is that instant.

    >>> parse_date("2024-09-02", timezone="Europe/Lisbon", name="start").isoformat()
    '2024-09-02T00:00:00+01:00'
    >>> parse_date("2024-09-02T10:30:00Z", timezone="UTC", name="end").isoformat()
    '2024-09-02T10:30:00+00:00'
    """
    zone = zoneinfo.ZoneInfo(check_timezone(timezone))
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise ParameterError(
                f"{name}: {value!r} is not a date; write YYYY-MM-DD or an ISO date-time such as "
                "2024-09-09T08:00"
            ) from None
    else:
        raise ParameterError(f"{name}: expected a date (YYYY-MM-DD), got {value!r}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone, fold=0)
    return moment.astimezone(zone)


def parse_day(value: str | dt.date, *, name: str) -> dt.date:
    """A calendar day given by a user: ``YYYY-MM-DD``, a ``date`` (a ``datetime``: its day).

    >>> parse_day("2024-09-02", name="start")
    datetime.date(2024, 9, 2)
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ParameterError(f"{name}: {value!r} is not a date; write YYYY-MM-DD")


# --------------------------------------------------------------------------------------------
# durations

# polars' duration grammar (``Expr.dt.offset_by``, ``dt.truncate``), without negative lengths
# and without "i" (a number of rows, not a length of time).
_UNITS = ("ns", "us", "ms", "s", "m", "h", "d", "w", "mo", "q", "y")
_DURATION = re.compile(r"^(?:\d+(?:ns|us|ms|s|mo|m|h|d|w|q|y))+$")
_PART = re.compile(r"(\d+)(ns|us|ms|s|mo|m|h|d|w|q|y)")
_FIXED_SECONDS = {
    "ns": 1e-9,
    "us": 1e-6,
    "ms": 1e-3,
    "s": 1,
    "m": 60,
    "h": 3600,
    "d": 86400,
    "w": 604800,
}
# what people write instead, for the hint in the message
_WORDS = {
    "sec": "s",
    "second": "s",
    "min": "m",
    "minute": "m",
    "hr": "h",
    "hour": "h",
    "day": "d",
    "week": "w",
    "month": "mo",
    "quarter": "q",
    "year": "y",
}
_HOW = "a number and a unit with no space, e.g. '30m', '24h', '7d', '1w' or '1mo'"


def _hint(text: str) -> str:
    match = re.fullmatch(r"\s*(\d+)\s*([A-Za-z]+?)s?\s*", text)
    if match:
        unit = match[2].lower()
        unit = _WORDS.get(unit, unit if unit in _UNITS else "")
        if unit:
            return f" (did you mean {match[1] + unit!r}?)"
    return ""


def check_duration(value: object, *, name: str, func: str | None = None) -> Duration:
    """``value`` if it is a polars duration string or a ``timedelta`` of zero or more.

    The string is returned stripped of surrounding spaces; anything else is a
    :class:`ParameterError` saying how to write a duration (``"1 day"`` suggests ``'1d'``).

    >>> check_duration("24h", name="gap")
    '24h'
    """
    where = f"{func}: " if func else ""
    if isinstance(value, dt.timedelta):
        if value < dt.timedelta(0):
            raise ParameterError(f"{where}{name} must not be negative, got {value!r}")
        return value
    if isinstance(value, str) and _DURATION.match(value.strip()):
        return value.strip()
    if isinstance(value, str) and value.strip().startswith("-"):
        raise ParameterError(f"{where}{name} must not be negative, got {value!r}")
    if isinstance(value, str):
        raise ParameterError(
            f"{where}{name}={value!r} is not a duration{_hint(value)}: write {_HOW} "
            f"(units: {', '.join(_UNITS)}), or pass a datetime.timedelta"
        )
    raise ParameterError(
        f"{where}{name} must be a duration string ({_HOW}) or a datetime.timedelta, got {value!r}"
    )


def duration_seconds(
    value: Threshold | object, *, name: str, func: str | None = None, numbers: bool = True
) -> float:
    """A fixed length of time in seconds: a number of seconds (when ``numbers``), a duration
    string of fixed units (``"90s"``, ``"2m"``, ``"1h30m"``, ``"1w"``: a day is 86,400 s) or a
    ``timedelta``; never negative. Calendar units (``mo``, ``q``, ``y``) have no fixed length.

    >>> duration_seconds("1h30m", name="overlap")
    5400.0
    >>> duration_seconds(20, name="threshold")
    20.0
    """
    where = f"{func}: " if func else ""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and numbers:
        if not value >= 0:  # also NaN
            raise ParameterError(
                f"{where}{name} must be a number of seconds >= 0 or a duration such as '20s', "
                f"got {value!r}"
            )
        return float(value)
    if isinstance(value, bool) or not isinstance(value, (str, dt.timedelta)):
        allowed = "a number of seconds, " if numbers else ""
        raise ParameterError(
            f"{where}{name} must be {allowed}a duration string such as '20s', '2m' or '1h', or a "
            f"datetime.timedelta, got {value!r}"
        )
    duration = check_duration(value, name=name, func=func)
    if isinstance(duration, dt.timedelta):
        return duration.total_seconds()
    parts = _PART.findall(duration)
    calendar = [unit for _, unit in parts if unit not in _FIXED_SECONDS]
    if calendar:
        raise ParameterError(
            f"{where}{name}={value!r}: months, quarters and years have no fixed length; "
            "give days, hours, minutes or seconds (e.g. '30d')"
        )
    return float(sum(int(count) * _FIXED_SECONDS[unit] for count, unit in parts))


# --------------------------------------------------------------------------------------------
# wall-clock time in a frame's timezone, without converting every row through the tz database

SECOND = 1_000_000  # microseconds
HOUR = 3600 * SECOND
DAY = 24 * HOUR


def _offsets_at(instants_us: pl.Series, timezone: str) -> pl.Series:
    """UTC offset (µs) of ``timezone`` at each instant (µs since the epoch)."""
    utc = instants_us.cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    local = utc.dt.convert_time_zone(timezone).dt.replace_time_zone(None)
    return local.cast(pl.Int64) - instants_us


@functools.lru_cache(maxsize=64)
def offset_changes(
    timezone: str, lo_us: int, hi_us: int
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The instants (µs) from which ``timezone``'s UTC offset holds, and those offsets, over
    [lo, hi]; exact to the second (the tz database's resolution): hours are sampled, and each
    hour in which the offset changed is searched second by second."""
    lo = lo_us // HOUR * HOUR
    hours = pl.int_range(lo, hi_us // HOUR * HOUR + 2 * HOUR, HOUR, eager=True, dtype=pl.Int64)
    offsets = _offsets_at(hours, timezone)
    starts, values = [lo], [int(offsets[0])]
    for i in (offsets != offsets.shift(1)).fill_null(False).arg_true().to_list():
        seconds = pl.int_range(
            int(hours[i - 1]) + SECOND,
            int(hours[i]) + SECOND,
            SECOND,
            eager=True,
            dtype=pl.Int64,
        )
        inside = _offsets_at(seconds, timezone)
        changed = (inside != inside.shift(1, fill_value=values[-1])).arg_true().to_list()
        starts += [int(seconds[j]) for j in changed]
        values += [int(inside[j]) for j in changed]
    return tuple(starts), tuple(values)


_TABLE_START = 631_152_000 * SECOND  # 1990-01-01 UTC: the offset table covers 1990 ...
_TABLE_END = 2_840_140_800 * SECOND  # ... to 2060-01-01 UTC; rows outside convert row by row


def wall_clock(
    schema: pl.Schema, column: str = "start_date_time", *, rowwise: bool = False
) -> tuple[pl.Expr, pl.Expr]:
    """``column``'s wall-clock time in the frame's timezone as µs since 1970-01-01 (an
    expression), and an aggregate counting the rows this fast path cannot place.

    Each row adds the UTC offset in force at its instant, found by binary search in a table of
    the timezone's offsets from 1990 to 2060 (built once per timezone). Should any row fall
    outside those years (the aggregate is not 0), compute again with ``rowwise=True``, which
    converts every row through the tz database.
    """
    dtype = schema[column]
    epoch_us = pl.col(column).dt.cast_time_unit("us").cast(pl.Int64)
    timezone = getattr(dtype, "time_zone", None)
    none = pl.lit(0, dtype=pl.Int64).alias("outside")
    if timezone is None or timezone == "UTC":
        return epoch_us, none
    if rowwise:
        return pl.col(column).dt.replace_time_zone(None).dt.cast_time_unit("us").cast(
            pl.Int64
        ), none
    starts, offsets = offset_changes(timezone, _TABLE_START, _TABLE_END)
    outside = (
        ((epoch_us < _TABLE_START) | (epoch_us >= _TABLE_END)).sum().cast(pl.Int64).alias("outside")
    )
    if len(starts) == 1:
        return epoch_us + offsets[0], outside
    index = (
        pl.lit(pl.Series(starts, dtype=pl.Int64))
        .search_sorted(epoch_us, side="right")
        .cast(pl.Int64)
        - 1
    )
    return epoch_us + pl.lit(pl.Series(offsets, dtype=pl.Int64)).gather(
        index.clip(lower_bound=0)
    ), outside


def localize(naive: pl.Series, timezone: str | None) -> pl.Series:
    """Wall-clock times (a few distinct period starts) to instants in ``timezone``: a repeated
    wall-clock time is its earlier instant, one in a DST gap the first instant after the gap."""
    if timezone is None:
        return naive
    out = naive.dt.replace_time_zone(timezone, ambiguous="earliest", non_existent="null")
    gaps = naive.filter(out.is_null() & naive.is_not_null()).unique().to_list()
    if not gaps:
        return out
    fixes: dict[object, int] = {}
    for wall in gaps:
        wall_us = int(pl.Series([wall]).cast(pl.Int64)[0])
        starts, offsets = offset_changes(timezone, wall_us - 2 * DAY, wall_us + 2 * DAY)
        for k in range(1, len(starts)):
            if starts[k] + offsets[k - 1] <= wall_us < starts[k] + offsets[k]:
                fixes[wall] = starts[k]
    utc = pl.Series([fixes.get(w) for w in naive.to_list()], dtype=pl.Int64).cast(pl.Datetime("us"))
    return out.fill_null(utc.dt.replace_time_zone("UTC").dt.convert_time_zone(timezone)).alias(
        naive.name
    )
