"""The data of a report period: loaded, customers resolved, redacted, cut to the period.

:func:`report_data` is the first step of every report notebook (and of your own analysis of a
period); :class:`ReportData` holds the period, the one before it for comparisons, and describes
itself at the top of a report.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import time
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from ._errors import ParameterError, warn_data_quality
from ._format import escape_text
from ._freshness import Freshness, source_freshness
from ._time import check_timezone, parse_date
from .types import DateLike, PathLike

__all__ = ["ReportData", "report_data"]


@dataclass(repr=False)
class ReportData:
    """The data of a report period, made by :func:`report_data`.

    ``frame`` holds the interactions that start in ``[start, end)``; ``previous`` those of the
    period of the same length just before (or ``None`` when not asked for). Both have a
    ``customer_id`` column and are redacted unless ``redact=False`` was given.
    """

    frame: pl.DataFrame
    start: dt.datetime
    end: dt.datetime
    timezone: str
    previous: pl.DataFrame | None = None
    previous_start: dt.datetime | None = None
    redacted: bool = True
    loaded: int = 0
    source_label: str = ""
    freshness: Freshness | None = None  # when the source is a store: what it covers, when fetched
    began: float = field(default_factory=time.perf_counter)

    def elapsed(self) -> float:
        """Seconds since :func:`report_data` was called: the notebook's own computing time."""
        return time.perf_counter() - self.began

    def __repr__(self) -> str:
        previous = (
            f", previous={self.previous_period!r} ({self.previous.height} rows)"
            if self.previous is not None
            else ""
        )
        return (
            f"ReportData(period={self.period!r} ({self.frame.height} rows){previous}, "
            f"redacted={self.redacted})"
        )

    def _repr_markdown_(self) -> str:
        fresh = self.freshness
        # the freshness lines hold only dates and a checked timezone, never user text
        lines = [f"⚠️ {fresh.warning}"] if fresh and fresh.warning else []
        # file names and the timezone come from the user: escaped, never markup
        lines.append(
            f"**Period:** {escape_text(self.period)} ({escape_text(self.timezone)}): "
            f"**{self.frame.height:,}** interactions"
        )
        if self.previous is not None:
            lines.append(
                f"**Compared with:** {escape_text(self.previous_period)}: "
                f"**{self.previous.height:,}** interactions"
            )
        lines.append(
            f"**Data:** {escape_text(self.source_label)}, {self.loaded:,} interactions loaded"
        )
        if fresh:
            lines.append(f"**Freshness:** {fresh.line}")
        lines.append(
            "**Privacy:** customers appear only as pseudonymous customer ids; names, contacts, "
            "transcriptions and notes are removed."
            if self.redacted
            else "**Not redacted:** this report may show customer names and contacts. "
            "Do not share it."
        )
        return "  \n".join(lines)

    @property
    def period(self) -> str:
        """The period as a reader would write it, e.g. ``"2024-09-23 to 2024-09-29"``."""
        return _describe(self.start, self.end)

    @property
    def previous_period(self) -> str | None:
        """The comparison period, described like :attr:`period`."""
        if self.previous_start is None:
            return None
        return _describe(self.previous_start, self.start)


def _describe(start: dt.datetime, end: dt.datetime) -> str:
    last = end - dt.timedelta(microseconds=1)
    if start.time() == dt.time(0) and end.time() == dt.time(0):
        if last.date() == start.date():
            return start.date().isoformat()
        return f"{start.date().isoformat()} to {last.date().isoformat()}"
    first, until = start.isoformat(timespec="minutes"), end.isoformat(timespec="minutes")
    return f"{first} to {until} (end excluded)"


def _load_sample(rows: int, seed: int, timezone: str) -> pl.DataFrame:
    """Write sample report files (``ok.synth_reports``) to a temporary folder and load them."""
    from ._io import load
    from ._synth import synth_reports

    with tempfile.TemporaryDirectory(prefix="omnikit-sample-") as folder:
        written = synth_reports(folder, rows, seed=seed, timezone=timezone)
        return load(written, timezone=timezone, cache=False)


def report_data(
    source: PathLike | Sequence[PathLike] | None = None,
    *,
    start: DateLike | None = None,
    end: DateLike | None = None,
    timezone: str = "UTC",
    compare: bool = False,
    days: int = 7,
    redact: bool = True,
    default_region: str | None = "US",
    link_by_name: bool = False,
    max_contact_ids: int | None = 3,
    sample_rows: int = 20_000,
    seed: int = 0,
) -> ReportData:
    """Load a report's data, resolve customers, redact, and cut out the report period.

    This is the first step of every report notebook. ``source=None`` writes sample report
    files with ``ok.synth_reports`` (``sample_rows`` interactions, seeded) to a temporary
    folder and loads those, so a notebook runs without any data of your own.

    The period is ``[start, end)`` in ``timezone``. A missing ``end`` is midnight after the last
    interaction; a missing ``start`` is ``days`` days before ``end`` when ``compare`` is set,
    else the first day of data (with ``start`` given and ``end`` missing, and ``compare`` set,
    the period is ``days`` days from ``start``). With ``compare=True`` the period of the same
    length just before is returned as ``previous``. Customers are resolved over the
    interactions of the report (both periods together, so a customer keeps one ``customer_id``
    across them; data outside the report is not used), then the frames are redacted.
    Interactions without a ``start_date_time`` belong to no period: a
    :class:`~omnikit.DataQualityWarning` says how many. ``default_region``, ``link_by_name``
    and ``max_contact_ids`` are passed to :func:`omnikit.resolve_customers` (same defaults).

    Examples
    --------
    >>> import omnikit as ok
    >>> data = ok.report_data(None, end="2024-09-30", compare=True)  # doctest: +SKIP
    >>> data.period, data.previous_period  # doctest: +SKIP
    ('2024-09-23 to 2024-09-29', '2024-09-16 to 2024-09-22')
    """
    from ._customers import resolve_customers
    from ._io import load
    from ._redact import redact as redact_frame

    began = time.perf_counter()
    timezone = check_timezone(timezone)
    start_at = None if start is None else parse_date(start, timezone=timezone, name="start")
    end_at = None if end is None else parse_date(end, timezone=timezone, name="end")
    if days <= 0:
        raise ParameterError(f"days: expected a positive number of days, got {days!r}")
    paths: list[str] = []
    if source is None or (isinstance(source, (list, tuple)) and not source):
        frame = _load_sample(sample_rows, seed, timezone)
        label = f"sample data ({sample_rows:,} synthetic interactions, seed {seed})"
    else:
        paths = (
            [os.fspath(source)]
            if isinstance(source, (str, os.PathLike))
            else [os.fspath(s) for s in source]
        )
        label = ", ".join(Path(p).name or p for p in paths)
        frame = load(paths if len(paths) > 1 else paths[0], timezone=timezone)
    loaded = frame.height
    undated = frame.select(pl.col("start_date_time").is_null().sum()).item()
    if undated:
        warn_data_quality(
            f"report_data: {undated:,} of {loaded:,} interactions have no start_date_time and "
            "belong to no report period"
        )
    first, last = frame.select(
        pl.col("start_date_time").min().alias("first"),
        pl.col("start_date_time").max().alias("last"),
    ).row(0)
    if first is None and (start_at is None or end_at is None):
        raise ParameterError(
            f"{label}: no interaction has a start_date_time, so there is no period to report"
        )
    length = dt.timedelta(days=days)
    tz = zoneinfo.ZoneInfo(timezone)
    if end_at is None:
        if start_at is not None and compare:
            end_at = start_at + length
        else:
            last_day = last.astimezone(tz).date() + dt.timedelta(days=1)
            end_at = dt.datetime(last_day.year, last_day.month, last_day.day, tzinfo=tz)
    if start_at is None:
        if compare:
            start_at = end_at - length
        else:
            first_day = first.astimezone(tz).date()
            start_at = dt.datetime(first_day.year, first_day.month, first_day.day, tzinfo=tz)
    if start_at >= end_at:
        raise ParameterError(
            f"start ({start_at.isoformat()}) must be before end ({end_at.isoformat()})"
        )
    previous_start = start_at - (end_at - start_at) if compare else None

    # Customers are resolved over the interactions of the report (both periods), then redacted.
    lo = previous_start or start_at
    frame = frame.filter((pl.col("start_date_time") >= lo) & (pl.col("start_date_time") < end_at))
    frame = resolve_customers(  # type: ignore[assignment]  # eager in, eager out
        frame,
        default_region=default_region,
        link_by_name=link_by_name,
        max_contact_ids=max_contact_ids,
    )
    if redact:
        frame = redact_frame(frame)
    current = frame.filter(pl.col("start_date_time") >= start_at) if compare else frame
    previous = frame.filter(pl.col("start_date_time") < start_at) if compare else None
    return ReportData(
        frame=current,
        start=start_at,
        end=end_at,
        timezone=timezone,
        previous=previous,
        previous_start=previous_start,
        redacted=redact,
        loaded=loaded,
        source_label=label,
        freshness=source_freshness(paths, lo, end_at, timezone),
        began=began,
    )
