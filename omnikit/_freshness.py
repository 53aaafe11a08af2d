"""How fresh a report's data is: what the store covers of the period, and when it was fetched.

Read from the store's manifest (:meth:`omnikit._store.Store.fetched`): every report whose
source is a store says, at the top, ``data to 2024-09-29 24:00 Europe/Lisbon, fetched
2024-09-30 06:02``, and warns when part of its period is missing from the store or may still
change. Report files (not a store) carry no fetch times: the report names them instead.
"""

from __future__ import annotations

import datetime as dt
import os
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ._errors import StoreError
from ._schedule import SETTLE_DAYS, final_until
from ._store import MANIFEST, Span, Store, subtract_spans

__all__: list[str] = []  # shown through ReportData's markdown (the top of every report)


@dataclass(frozen=True)
class Freshness:
    """What a store holds of ``[start, end)``: one line to show and, if need be, a warning."""

    line: str
    warning: str | None = None


def _clock(moment: dt.datetime, zone: zoneinfo.ZoneInfo) -> str:
    """``YYYY-MM-DD HH:MM`` in ``zone``; a midnight that ends a day is that day's ``24:00``."""
    local = moment.astimezone(zone)
    if local.time() == dt.time(0):
        return f"{(local.date() - dt.timedelta(days=1)).isoformat()} 24:00"
    return local.strftime("%Y-%m-%d %H:%M")


def _days(span: Span, zone: zoneinfo.ZoneInfo) -> str:
    a, b = (moment.astimezone(zone) for moment in span)
    if a.time() == b.time() == dt.time(0):
        last = b.date() - dt.timedelta(days=1)
        return a.date().isoformat() if last == a.date() else f"{a.date()} to {last}"
    return f"{a.strftime('%Y-%m-%d %H:%M')} to {_clock(b, zone)}"


def store_freshness(
    store: str | os.PathLike[str],
    start: dt.datetime,
    end: dt.datetime,
    timezone: str,
    *,
    now: dt.datetime | None = None,
    settle_days: int = SETTLE_DAYS,
) -> Freshness:
    """Describe what ``store`` holds of ``[start, end)``, in ``timezone``.

    Parameters
    ----------
    store
        A store directory (one with a manifest).
    start, end
        The span the report reads (with the comparison period, if any).
    timezone
        The report's timezone, for the times shown.
    now
        The current time (default: now); a period not over yet is not "missing" after it.
    settle_days
        Days Talkdesk may still update (see ``omnikit._schedule.SETTLE_DAYS``).

    Returns
    -------
    :class:`Freshness`

    Examples
    --------
    >>> store_freshness("data/omnikit-store", start, end, "Europe/Lisbon").line  # doctest: +SKIP
    'data to 2024-09-29 24:00 Europe/Lisbon, fetched 2024-09-30 06:02'
    """
    zone = zoneinfo.ZoneInfo(timezone)
    try:
        fetched = Store(store).fetched()
    except StoreError:
        return Freshness(
            "from a store whose manifest cannot be read",
            "**Unknown freshness:** the store's manifest cannot be read, so what it covers "
            "and when it was fetched are unknown; run the fetch again to repair it.",
        )
    start, end = start.astimezone(dt.UTC), end.astimezone(dt.UTC)
    until = min(end, (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC))
    inside = [(a, b, at) for a, b, at in fetched if a < end and b > start]
    missing = subtract_spans(start, until, [(a, b) for a, b, _ in inside]) if start < until else []
    if not inside:
        return Freshness(
            "none of this period is in the store",
            f"**Missing data:** the store holds nothing of {_days((start, end), zone)} "
            f"({timezone}); fetch it (`omnikit report NAME --fetch`).",
        )
    covered = min(end, max(b for _, b, _ in inside))
    times = sorted({at.astimezone(zone).strftime("%Y-%m-%d %H:%M") for _, _, at in inside})
    when = times[0] if len(times) == 1 else f"{times[0]} to {times[-1]}"
    line = f"data to {_clock(covered, zone)} {timezone}, fetched {when}"
    warnings = []
    if missing:
        gaps = ", ".join(_days(span, zone) for span in missing)
        warnings.append(
            f"**Missing data:** {gaps} ({timezone}) is not in the store; the numbers below "
            "leave it out. Fetch it (`omnikit report NAME --fetch`) and render again."
        )
    changing = [b for a, b, at in inside if final_until(at, timezone, settle_days) < min(b, end)]
    if changing:
        line += f" (Talkdesk may still update the last {settle_days} days before the fetch)"
    return Freshness(line, " ".join(warnings) or None)


def source_freshness(
    source: Sequence[str | os.PathLike[str]],
    start: dt.datetime,
    end: dt.datetime,
    timezone: str,
) -> Freshness | None:
    """:func:`store_freshness` when ``source`` is one store directory; else None (files)."""
    if len(source) != 1 or not (Path(source[0]) / MANIFEST).is_file():
        return None
    return store_freshness(source[0], start, end, timezone)
