"""Reports that fetch their own data: which period, which days, and what to fetch again.

``omnikit report NAME --fetch`` (and ``ok.render_report(..., fetch=True)``) runs unattended,
e.g. every Monday morning. Before the notebook runs, :func:`fill_store` fills the store with
every day the reports need:

* the **period**: ``--start``/``--end`` when given, else the last complete week in the
  report's timezone (:func:`last_complete_week`: Monday 00:00 to Monday 00:00 by default,
  ``--week-start`` to change the first day);
* for a report that compares with the period before (the weekly report), that period too;
* only what the store lacks, plus the **still-changing tail**: Talkdesk may update an
  interaction for a few days after it happened (an abandoned call called back, a wrap-up
  finished late), so days fetched less than ``SETTLE_DAYS`` whole days before they
  were fetched are fetched again, once, until a fetch finds them settled
  (:func:`still_changing`). Re-running the same week is therefore cheap: nothing but that
  tail is fetched again.

Several reports in one run fetch once (the union of their spans) and render each.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ._errors import ParameterError
from ._store import Span, Store, merge_spans, subtract_spans
from ._time import check_timezone, parse_date
from .types import DateLike, PathLike

__all__: list[str] = []  # reached through ok.render_report(fetch=True) and `omnikit report`

#: Whole days before the day of a fetch that Talkdesk may still update: a fetch made on
#: 2024-09-30 holds final data up to 2024-09-27 00:00; 27, 28 and 29 September are fetched again
#: by the next run (``--settle`` changes it).
SETTLE_DAYS = 3

#: Reports that also show the period of the same length just before theirs.
COMPARING_REPORTS = frozenset({"weekly_report"})

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def week_start_day(text: str | int) -> int:
    """The weekday a week starts on, as ``datetime.date.weekday()`` (Monday is 0).

    >>> week_start_day("sunday"), week_start_day("Mon"), week_start_day(0)
    (6, 0, 0)
    """
    if isinstance(text, int) and not isinstance(text, bool) and 0 <= text <= 6:
        return text
    word = str(text).strip().lower()
    found = [i for i, day in enumerate(WEEKDAYS) if len(word) >= 3 and day.startswith(word)]
    if len(found) != 1:
        raise ParameterError(f"week start: {text!r} is not a day of the week such as monday")
    return found[0]


def midnight(day: dt.date, timezone: str) -> dt.datetime:
    """00:00 of ``day`` in ``timezone`` (an aware datetime).

    >>> midnight(dt.date(2024, 3, 31), "Europe/Lisbon").isoformat()
    '2024-03-31T00:00:00+00:00'
    """
    return dt.datetime(day.year, day.month, day.day, tzinfo=zoneinfo.ZoneInfo(timezone))


def last_complete_week(
    now: dt.datetime, timezone: str, week_start: str | int = 0
) -> tuple[dt.datetime, dt.datetime]:
    """The last week that has ended by ``now``, in ``timezone``: ``[start, end)`` at midnights.

    A week runs from 00:00 of ``week_start`` (Monday by default) to 00:00 of the same weekday
    a week later, in local time, so a week with a daylight-saving change is 167 or 169 hours.

    >>> now = dt.datetime(2024, 9, 30, 6, 2, tzinfo=dt.UTC)  # a Monday
    >>> [d.date().isoformat() for d in last_complete_week(now, "Europe/Lisbon")]
    ['2024-09-23', '2024-09-30']
    """
    timezone = check_timezone(timezone)
    today = now.astimezone(zoneinfo.ZoneInfo(timezone)).date()
    end = today - dt.timedelta(days=(today.weekday() - week_start_day(week_start)) % 7)
    return midnight(end - dt.timedelta(days=7), timezone), midnight(end, timezone)


def report_period(
    start: DateLike | None,
    end: DateLike | None,
    *,
    timezone: str,
    now: dt.datetime | None = None,
    week_start: str | int = 0,
) -> tuple[dt.datetime, dt.datetime]:
    """The period a fetching report covers: as given, or the last complete week.

    With only ``end`` (or only ``start``) the period is the 7 days before (after) it.
    """
    timezone = check_timezone(timezone)
    week = dt.timedelta(days=7)
    begin = None if start is None else parse_date(start, timezone=timezone, name="start")
    finish = None if end is None else parse_date(end, timezone=timezone, name="end")
    if begin is None and finish is None:
        return last_complete_week(now or dt.datetime.now(dt.UTC), timezone, week_start)
    # Aware arithmetic in one zone is wall-clock arithmetic: midnight stays midnight.
    if begin is None:
        assert finish is not None
        begin = finish - week
    if finish is None:
        finish = begin + week
    if begin >= finish:
        raise ParameterError(
            f"start ({begin.isoformat()}) must be before end ({finish.isoformat()}); end is "
            "excluded"
        )
    return begin, finish


def needed_span(name: str, start: dt.datetime, end: dt.datetime) -> Span:
    """What report ``name`` reads for ``[start, end)``: the period before too, if it compares.

    The period before is computed as :func:`omnikit.report_data` does (``start - (end -
    start)``, wall-clock), so the two always agree.
    """
    if name in COMPARING_REPORTS:
        return start - (end - start), end
    return start, end


def final_until(
    fetched_at: dt.datetime, timezone: str, settle_days: int = SETTLE_DAYS
) -> dt.datetime:
    """The moment up to which a fetch made at ``fetched_at`` holds final data.

    It is 00:00, in ``timezone``, ``settle_days`` days before the day of the fetch.

    >>> at = dt.datetime(2024, 9, 30, 5, 2, tzinfo=dt.UTC)
    >>> final_until(at, "Europe/Lisbon").isoformat()
    '2024-09-27T00:00:00+01:00'
    """
    day = fetched_at.astimezone(zoneinfo.ZoneInfo(timezone)).date()
    return midnight(day - dt.timedelta(days=settle_days), timezone)


def still_changing(
    fetched: Sequence[tuple[dt.datetime, dt.datetime, dt.datetime]],
    start: dt.datetime,
    end: dt.datetime,
    *,
    timezone: str,
    settle_days: int = SETTLE_DAYS,
) -> list[Span]:
    """The parts of ``[start, end)`` that are stored but were fetched before they settled.

    ``fetched`` is the store's complete spans with their fetch times (``Store.fetched()``).
    Parts the store does not hold at all are not included (a plain fetch gets them).

    >>> tz = "UTC"
    >>> at = dt.datetime(2024, 9, 30, 6, tzinfo=dt.UTC)
    >>> a, b = midnight(dt.date(2024, 9, 23), tz), midnight(dt.date(2024, 9, 30), tz)
    >>> [(s.day, e.day) for s, e in still_changing([(a, b, at)], a, b, timezone=tz)]
    [(27, 30)]
    """
    if settle_days < 0:
        raise ParameterError(f"settle: expected 0 or more days, got {settle_days!r}")
    start, end = start.astimezone(dt.UTC), end.astimezone(dt.UTC)
    stored = [(a, b) for a, b, _ in fetched]
    final = [
        (a, min(b, final_until(at, timezone, settle_days).astimezone(dt.UTC)))
        for a, b, at in fetched
    ]
    missing = subtract_spans(start, end, stored)
    return subtract_spans(start, end, [*final, *missing])


@dataclass
class Filled:
    """What :func:`fill_store` did: the period, the spans it read, and each fetch's summary."""

    start: dt.datetime
    end: dt.datetime
    spans: list[Span]
    summaries: list[Any] = field(default_factory=list)

    def lines(self) -> list[str]:
        """One line per fetch, as ``omnikit fetch`` prints it."""
        return [str(summary) for summary in self.summaries]


def fill_store(
    names: Sequence[str],
    *,
    start: DateLike | None = None,
    end: DateLike | None = None,
    timezone: str = "UTC",
    store: PathLike,
    week_start: str | int = 0,
    settle_days: int = SETTLE_DAYS,
    client: Any = None,
    progress: bool | None = None,
    now: dt.datetime | None = None,
) -> Filled:
    """Fill ``store`` with every day the reports ``names`` need; return the period.

    Fetches what the store lacks over the union of the reports' spans (one fetch for several
    reports), then fetches again the stored parts that were still changing when fetched
    (:func:`still_changing`). Errors are those of :func:`omnikit.fetch`.

    Examples
    --------
    >>> filled = fill_store(["weekly_report"], store="data/s")  # doctest: +SKIP
    >>> filled.start.date(), filled.end.date()  # doctest: +SKIP
    (datetime.date(2024, 9, 23), datetime.date(2024, 9, 30))
    """
    from ._fetch import FetchSummary, fetch
    from .explore import ExploreClient

    timezone = check_timezone(timezone)
    if settle_days < 0:
        raise ParameterError(f"settle: expected 0 or more days, got {settle_days!r}")
    begin, finish = report_period(start, end, timezone=timezone, now=now, week_start=week_start)
    spans = merge_spans([needed_span(name, begin, finish) for name in names])
    # What was stored before it settled is decided before this run fetches anything.
    fetched = Store(store, timezone=timezone).fetched()
    again = [
        part
        for a, b in spans
        for part in still_changing(fetched, a, b, timezone=timezone, settle_days=settle_days)
    ]
    owns_client = client is None
    if client is None:
        client = ExploreClient()
    result = Filled(begin, finish, spans)
    try:
        for (a, b), refetch in [*((span, False) for span in spans), *((s, True) for s in again)]:
            summary = FetchSummary(store, timezone, a, b)  # type: ignore[arg-type]
            fetch(
                a,
                b,
                timezone=timezone,
                store=store,
                client=client,
                refetch=refetch,
                progress=progress,
                summary=summary,
                read=False,
            )
            result.summaries.append(summary)
    finally:
        if owns_client:
            client.close()
    return result
