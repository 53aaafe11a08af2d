"""Dates and spans: what a ``--from``/``--to`` names, and a range cut into jobs of 31 days."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from .._errors import ParameterError
from .._time import check_timezone, parse_date

__all__ = [
    "DATA_LAG",
    "MAX_JOB_SPAN",
    "check_zone",
    "clamp_range",
    "iso",
    "parse_when",
    "span_text",
    "split_range",
    "utc",
]

#: The API refuses a job spanning more than this.
MAX_JOB_SPAN = dt.timedelta(days=31)

#: Data lags real time by about this much; ``to`` is clamped to ``now - DATA_LAG``.
DATA_LAG = dt.timedelta(seconds=60)


def check_zone(timezone: str) -> zoneinfo.ZoneInfo:
    """Return the IANA zone ``timezone`` or raise :class:`~omnikit.ParameterError`.

    The rule and its message are :func:`omnikit._time.check_timezone`'s.

    >>> check_zone("Europe/Lisbon")
    zoneinfo.ZoneInfo(key='Europe/Lisbon')
    """
    return zoneinfo.ZoneInfo(check_timezone(timezone))


def parse_when(
    value: str | dt.date | dt.datetime, timezone: str = "UTC", *, name: str = "date"
) -> dt.datetime:
    """Return the instant a ``--from``/``--to`` value names, as an aware datetime in ``timezone``.

    A date (``YYYY-MM-DD``) is midnight in ``timezone``; a date-time without an offset is a
    wall-clock time in ``timezone`` (the earlier one in a repeated hour); one with an offset
    is that instant. The rule is :func:`omnikit._time.parse_date`'s; ``name`` starts its error
    message (``"--from: 'next tuesday' is not a date; write YYYY-MM-DD or ..."``).

    >>> parse_when("2024-09-02", "Europe/Lisbon").isoformat()
    '2024-09-02T00:00:00+01:00'
    >>> parse_when("2024-09-02T10:30:00Z").isoformat()
    '2024-09-02T10:30:00+00:00'
    """
    return parse_date(value, timezone=timezone, name=name)


def utc(moment: dt.datetime) -> dt.datetime:
    """The same instant in UTC."""
    return moment.astimezone(dt.UTC)


def iso(moment: dt.datetime) -> str:
    """The instant as ``YYYY-MM-DDTHH:MM:SSZ``."""
    return utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def split_range(
    start: dt.datetime,
    end: dt.datetime,
    timezone: str = "UTC",
    *,
    max_span: dt.timedelta = MAX_JOB_SPAN,
) -> list[tuple[dt.datetime, dt.datetime]]:
    """Split ``[start, end)`` into consecutive spans of at most ``max_span``.

    Cuts fall on midnights in ``timezone`` where possible, so a 31-day job is 31 whole days
    (or 30 around a DST change that would make 31 days an hour too long).

    >>> spans = split_range(parse_when("2024-09-01"), parse_when("2024-12-01"))
    >>> [(a.date().isoformat(), b.date().isoformat()) for a, b in spans]
    [('2024-09-01', '2024-10-02'), ('2024-10-02', '2024-11-02'), ('2024-11-02', '2024-12-01')]
    """
    zone = check_zone(timezone)
    # Aware datetimes with the same tzinfo subtract as wall-clock times: compare in UTC.
    start, end = utc(start), utc(end)
    if end <= start:
        return []
    spans: list[tuple[dt.datetime, dt.datetime]] = []
    cursor = start
    while cursor < end:
        if end - cursor <= max_span:
            spans.append((cursor, end))
            break
        local = cursor.astimezone(zone)
        day = local.date()
        cut = None
        for days in range(max_span.days, 0, -1):
            nxt = day + dt.timedelta(days=days)
            candidate = utc(dt.datetime(nxt.year, nxt.month, nxt.day, tzinfo=zone))
            if candidate - cursor <= max_span and candidate > cursor:
                cut = candidate
                break
        if cut is None:  # spans shorter than a day: cut at max_span exactly
            cut = cursor + max_span
        spans.append((cursor, cut))
        cursor = cut
    return spans


def clamp_range(
    start: str | dt.date | dt.datetime,
    end: str | dt.date | dt.datetime,
    timezone: str = "UTC",
    *,
    now: dt.datetime | None = None,
) -> tuple[dt.datetime, dt.datetime]:
    """Parse ``[start, end)`` in ``timezone`` and clamp ``end`` to ``now - 60 s``.

    Raises :class:`~omnikit.ParameterError` when the range is empty or wholly in the future.
    """
    begin = parse_when(start, timezone, name="--from")
    finish = parse_when(end, timezone, name="--to")
    if finish <= begin:
        raise ParameterError(f"--to ({end}) must come after --from ({start}): the range is empty")
    latest = (now or dt.datetime.now(dt.UTC)) - DATA_LAG
    if begin >= latest:
        raise ParameterError(
            f"--from ({start}) is in the future (or within the last minute, which Talkdesk has not "
            "reported yet)"
        )
    return begin, min(finish, latest.replace(microsecond=0))


def span_text(start: dt.datetime, end: dt.datetime) -> str:
    """``start..end`` in UTC, as messages name a span."""
    return f"{iso(start)}..{iso(end)}"
