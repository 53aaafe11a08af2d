"""Summaries for a report page: the week at a glance, periods compared, tables a manager can read.

:func:`headline_numbers` gives the week at a glance (one number each, from omnikit's own
metrics, none pooled across channels), :func:`channel_numbers` each channel against its own
threshold and target, :func:`compare_periods` puts a metric beside the previous period's with
the change, :func:`weekly_summary` writes the sentences a manager reads first, and
:func:`report_table` shows a small frame (or a dict of headline numbers) as a plain table.
"""

from __future__ import annotations

import datetime as dt
import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from ._errors import ParameterError
from ._format import escape_text, format_change, format_count, format_duration, format_share
from ._journeys import bot_containment, journeys, repeat_contacts
from ._metrics import DEFAULT_THRESHOLDS, service_level, wait_time_stats
from ._validate import frame_type_error, seconds
from .types import Duration, Formula, Threshold, Thresholds

INBOUND = "INBOUND"
_CHANNEL = "interaction_type"

__all__ = [
    "BETTER",
    "EMPTY_REASONS",
    "HEADLINE_FORMATS",
    "HEADLINE_LABELS",
    "ReportTable",
    "channel_numbers",
    "compare_periods",
    "headline_numbers",
    "report_table",
    "weekly_summary",
]


def compare_periods(
    current: pl.DataFrame | Mapping[str, Any],
    previous: pl.DataFrame | Mapping[str, Any] | None,
    *,
    on: str | Sequence[str] | None = None,
    values: Sequence[str] | None = None,
    relative: bool = True,
) -> pl.DataFrame:
    """Put a metric of this period beside the previous period's, with the change.

    Parameters
    ----------
    current, previous
        The same metric computed on two periods: frames with the key columns ``on`` (e.g. the
        output of :func:`omnikit.service_level` with ``by="interaction_type"``), or dicts of
        headline numbers (:func:`headline_numbers`), which become one row per number with the key
        ``metric``. ``previous`` may be ``None`` (no earlier data): its columns are then null.
    on
        Key columns; keys found in either period are kept (a channel new this week has a null
        previous value).
    values
        Value columns to compare; by default every numeric column that is not a key.
    relative
        Also give the relative change ``v_change_rel``.

    Returns
    -------
    polars.DataFrame
        *on, then per value ``v``: ``v``, ``v_previous``, ``v_change`` (``v − v_previous``) and
        ``v_change_rel`` (``v_change / v_previous``; null when ``v_previous`` is 0 or null).
        Values are Float64.

    Examples
    --------
    >>> import omnikit as ok
    >>> ok.compare_periods({"interactions": 120}, {"interactions": 100}).row(0)
    ('interactions', 120.0, 100.0, 20.0, 0.2)
    """
    if isinstance(current, Mapping):
        if previous is not None and not isinstance(previous, Mapping):
            raise ParameterError("compare_periods: give two dicts or two frames, not one of each")
        return compare_periods(
            _numbers_frame(current),
            _numbers_frame(previous) if previous is not None else None,
            on="metric",
            relative=relative,
        )
    if not isinstance(current, pl.DataFrame):
        raise frame_type_error(current, "compare_periods", "a polars DataFrame or a dict")
    if previous is not None and not isinstance(previous, pl.DataFrame):
        raise ParameterError("compare_periods: give two dicts or two frames, not one of each")
    keys = [on] if isinstance(on, str) else list(on or [])
    missing = [key for key in keys if key not in current.columns]
    if missing:
        raise ParameterError(f"compare_periods: key column(s) {missing} not in the current frame")
    if values is None:
        values = [c for c, t in current.schema.items() if c not in keys and t.is_numeric()]
    if previous is None:
        previous = current.clear()
    previous = previous.select([*keys, *values])
    current = current.select([*keys, *values])
    if keys:
        joined = current.join(
            previous, on=keys, how="full", coalesce=True, suffix="_previous", nulls_equal=True
        )
    else:
        joined = (
            pl.concat(
                [current.head(1), previous.head(1).rename({v: f"{v}_previous" for v in values})],
                how="horizontal",
            )
            if previous.height
            else current.with_columns(pl.lit(None).alias(f"{v}_previous") for v in values)
        )
    columns: list[pl.Expr] = [pl.col(key) for key in keys]
    for value in values:
        now, before = pl.col(value).cast(pl.Float64), pl.col(f"{value}_previous").cast(pl.Float64)
        change = now - before
        columns += [
            now.alias(value),
            before.alias(f"{value}_previous"),
            change.alias(f"{value}_change"),
        ]
        if relative:
            columns.append(pl.when(before != 0).then(change / before).alias(f"{value}_change_rel"))
    return joined.select(columns)


def _numbers_frame(numbers: Mapping[str, Any]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "metric": list(numbers),
            "value": [None if v is None else float(v) for v in numbers.values()],
        },
        schema={"metric": pl.String, "value": pl.Float64},
    )


def _channel_values(
    values: Any, channels: Sequence[str | None], name: str, func: str, check: Any
) -> dict[str | None, float]:
    """Each channel's value of a per-channel parameter (a scalar, or a mapping with ``"*"``)."""
    if not isinstance(values, Mapping):
        one = check(values, name)
        return dict.fromkeys(channels, one)
    if not values or not all(isinstance(key, str) for key in values):
        raise ParameterError(
            f"{func}: {name}= as a mapping needs interaction_type names (and optionally '*') "
            f"as keys, got {dict(values)!r}"
        )
    default = values.get("*")
    missing = [c for c in channels if c not in values and default is None]
    if missing:
        raise ParameterError(
            f"{func}: {name}= has no value for channel(s) "
            f"{', '.join('<null>' if c is None else repr(c) for c in missing)}; add them to the "
            "mapping, or a '*' entry for every channel it does not name"
        )
    return {
        c: check(values.get(c, default), f"{name}[{c if c in values else '*'!r}]") for c in channels
    }


def _check_target(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ParameterError(
            f"{name}: a target is a share between 0 and 1 (0.8 for 80%), got {value!r}"
        )
    return float(value)


def channel_numbers(
    df: pl.DataFrame | pl.LazyFrame,
    *,
    threshold: Thresholds = DEFAULT_THRESHOLDS,
    targets: float | Mapping[str, float] = 0.8,
    short_abandon: Threshold | None = 5,
    formula: Formula = "talkdesk",
    outcomes: Mapping[str, str] | None = None,
) -> pl.DataFrame:
    """Each channel's service, against its own threshold and target, and its INBOUND waits.

    One row per ``interaction_type`` with INBOUND interactions: ``offered``, ``threshold``
    (seconds: the channel's entry of ``threshold``, or ``"*"``), ``target`` (the channel's entry
    of ``targets``), ``service_level``, ``to_target`` (``service_level − target``: below 0 is a
    missed target), ``abandon_rate`` and ``asa`` (:func:`omnikit.service_level`, each
    interaction judged against its channel's threshold), and ``median_wait`` and ``p90_wait``
    of the INBOUND interactions with a known wait (:func:`omnikit.wait_time_stats`). A
    percentile is never pooled across channels: the waits of calls and e-mails live on
    different time scales.

    Parameters
    ----------
    threshold
        Seconds, a duration, or a mapping from ``interaction_type`` to either (``"*"``: every
        channel it does not name); default :data:`omnikit.DEFAULT_THRESHOLDS`.
    targets
        The service level each channel aims for: a share in [0, 1] or a mapping with the same
        rules as ``threshold``; default 0.8.
    short_abandon, formula, outcomes
        As in :func:`omnikit.service_level`.

    Examples
    --------
    >>> import omnikit as ok
    >>> ok.channel_numbers(df, targets={"VOICE": 0.8, "*": 0.9})  # doctest: +SKIP
    """
    func = "channel_numbers"
    lazy = df.lazy()
    inbound = lazy.filter(pl.col("interaction_direction") == INBOUND)
    service = service_level(
        lazy,
        threshold=threshold,
        short_abandon=short_abandon,
        formula=formula,
        outcomes=outcomes,
        by=_CHANNEL,
    )
    waits = wait_time_stats(inbound, by=_CHANNEL, percentiles=(0.5, 0.9)).select(
        _CHANNEL, median_wait="p50", p90_wait="p90"
    )
    channels = service[_CHANNEL].to_list()
    limits = _channel_values(
        threshold, channels, "threshold", func, lambda v, n: seconds(v, n, func)
    )
    aims = _channel_values(targets, channels, "targets", func, _check_target)
    return (
        service.select(_CHANNEL, "offered", "service_level", "abandon_rate", "asa")
        .with_columns(
            threshold=pl.Series([limits[c] for c in channels], dtype=pl.Float64),
            target=pl.Series([aims[c] for c in channels], dtype=pl.Float64),
        )
        .with_columns(to_target=pl.col("service_level") - pl.col("target"))
        .join(waits, on=_CHANNEL, how="left", nulls_equal=True)
        .select(
            _CHANNEL,
            "offered",
            "threshold",
            "target",
            "service_level",
            "to_target",
            "abandon_rate",
            "asa",
            "median_wait",
            "p90_wait",
        )
        .sort(_CHANNEL, nulls_last=True)
    )


def headline_numbers(
    df: pl.DataFrame,
    *,
    threshold: Thresholds = DEFAULT_THRESHOLDS,
    short_abandon: Threshold | None = 5,
    formula: Formula = "talkdesk",
    gap: Duration = "24h",
    window: Duration = "7d",
    trips: pl.DataFrame | None = None,
) -> dict[str, float | None]:
    """The week at a glance: one number each for volume, service and journeys.

    Computed with omnikit's own functions over the whole frame (``by=None``):
    ``interactions`` (every channel and direction); ``offered``, ``service_level`` and
    ``abandon_rate`` (:func:`omnikit.service_level` of INBOUND interactions; with a mapping
    ``threshold``, the default, each interaction is judged against its own channel's
    threshold: the **blended** service level); ``customers`` (distinct ``customer_id``),
    ``journeys``, ``switched_share`` and ``bot_to_human_share`` (:func:`omnikit.journeys`, with
    ``gap``); ``containment_rate`` (:func:`omnikit.bot_containment`); ``repeat_rate``
    (:func:`omnikit.repeat_contacts` of INBOUND contacts, with ``window``).

    No wait percentile, average wait or patience is pooled across channels (the waits of calls
    and e-mails live on different time scales, so a pooled figure moves with the channel mix,
    not with the service): :func:`channel_numbers` gives them per channel.

    ``df`` must have a ``customer_id`` column (:func:`omnikit.resolve_customers`, or
    :func:`report_data`). ``trips`` may pass ``ok.journeys(df, gap=gap)`` when it is already
    computed.

    Examples
    --------
    >>> import omnikit as ok
    >>> data = ok.report_data(None, compare=True)  # doctest: +SKIP
    >>> week = ok.headline_numbers(data.frame)  # doctest: +SKIP
    >>> ok.compare_periods(week, ok.headline_numbers(data.previous))  # doctest: +SKIP
    """
    if not isinstance(df, pl.DataFrame):
        raise frame_type_error(
            df, "headline_numbers", "a polars DataFrame (ok.report_data().frame)"
        )
    if "customer_id" not in df.columns:
        raise ParameterError(
            "headline_numbers: resolve customers first (ok.resolve_customers or ok.report_data)"
        )
    service = service_level(
        df,
        threshold=threshold,
        short_abandon=short_abandon,
        formula=formula,
        by=None,
    )
    if trips is None:
        trips = journeys(df, gap=gap)
    repeats = repeat_contacts(df, window=window)
    bots = bot_containment(df, gap=gap)

    def first(frame: pl.DataFrame, column: str) -> float | None:
        value = frame[column][0] if frame.height else None
        return None if value is None else float(value)

    n_journeys = trips.height
    return {
        "interactions": float(df.height),
        "offered": first(service, "offered") or 0.0,
        "service_level": first(service, "service_level"),
        "abandon_rate": first(service, "abandon_rate"),
        "customers": float(df["customer_id"].n_unique()),
        "journeys": float(n_journeys),
        "switched_share": first(trips.select(pl.col("switched").mean()), "switched"),
        "bot_to_human_share": first(trips.select(pl.col("bot_to_human").mean()), "bot_to_human"),
        "containment_rate": first(bots, "containment_rate"),
        "repeat_rate": first(repeats, "repeat_rate"),
    }


#: What each of :func:`headline_numbers` is called in a report table.
HEADLINE_LABELS: dict[str, str] = {
    "interactions": "Interactions (all channels and directions)",
    "offered": "Inbound interactions offered",
    "service_level": "Service level (each channel against its own threshold)",
    "abandon_rate": "Abandon rate",
    "customers": "Customers",
    "journeys": "Journeys",
    "switched_share": "Journeys that switched channel",
    "bot_to_human_share": "Journeys escalated from bot to agent",
    "containment_rate": "Bot journeys contained (no agent after the bot)",
    "repeat_rate": "Inbound contacts repeated within the window",
}

#: How each of :func:`headline_numbers` is written in a report table.
HEADLINE_FORMATS: dict[str, str] = {
    "interactions": "count",
    "offered": "count",
    "service_level": "percent",
    "abandon_rate": "percent",
    "customers": "count",
    "journeys": "count",
    "switched_share": "percent",
    "bot_to_human_share": "percent",
    "containment_rate": "percent",
    "repeat_rate": "percent",
}

#: Which way is better for a metric (a column or a headline number): 1 higher, -1 lower, 0
#: neither (volume). A change is coloured by it in :func:`report_table`.
BETTER: dict[str, int] = {
    "service_level": 1,
    "abandon_rate": -1,
    "asa": -1,
    "mean": -1,
    "median_wait": -1,
    "p50": -1,
    "p90": -1,
    "p95": -1,
    "p90_wait": -1,
    "max": -1,
    "to_target": 1,
    "containment_rate": 1,
    "repeat_rate": -1,
    "switched_share": -1,
    "bot_to_human_share": -1,
}

# How a column is written when report_table is not told (by its name, as omnikit's metrics
# name them).
_COLUMN_FORMATS: dict[str, str] = {
    "interactions": "count",
    "offered": "count",
    "answered": "count",
    "answered_within": "count",
    "unanswered": "count",
    "short_abandoned": "count",
    "abandoned": "count",
    "journeys": "count",
    "bot_journeys": "count",
    "contained": "count",
    "repeated": "count",
    "n": "count",
    "share": "percent",
    "service_level": "percent",
    "abandon_rate": "percent",
    "repeat_rate": "percent",
    "containment_rate": "percent",
    "target": "percent",
    "to_target": "points",
    "asa": "seconds",
    "threshold": "seconds",
    "mean": "seconds",
    "p50": "seconds",
    "p90": "seconds",
    "p95": "seconds",
    "max": "seconds",
    "median_wait": "seconds",
    "p90_wait": "seconds",
    "waiting_time": "seconds",
}

#: Why a cell is empty, by column or headline number (a ratio with nothing to divide by, a
#: median that was never reached).
EMPTY_REASONS: dict[str, str] = {
    "service_level": "nothing offered",
    "abandon_rate": "nothing offered",
    "to_target": "nothing offered",
    "asa": "none answered",
    "median_patience": "fewer than half gave up",
    "median_wait": "no waits",
    "p90_wait": "no waits",
    "mean": "no waits",
    "p50": "no waits",
    "p90": "no waits",
    "p95": "no waits",
    "max": "no waits",
    "containment_rate": "no bot journeys",
    "repeat_rate": "no inbound contacts",
    "switched_share": "no journeys",
    "bot_to_human_share": "no journeys",
    "share": "no interactions",
}

#: How :func:`report_table` writes a value, by format name.
_FORMATS = ("count", "percent", "points", "seconds", "number", "datetime", "text")


def _base(column: str) -> str:
    return column.removesuffix("_change_rel").removesuffix("_change").removesuffix("_previous")


class ReportTable:
    """A small table for a report page: readable numbers, coloured changes, no dtypes.

    On a narrow screen (a phone) the page's style sheet shows each row as a small card of
    "label: value" lines (each cell carries its column's label), so no column is hidden.
    """

    def __init__(
        self,
        frame: pl.DataFrame,
        formats: Mapping[str, str],
        labels: Mapping[str, str],
        caption: str | None,
        empty: Mapping[str, str] | None = None,
    ):
        self.frame = frame
        self.formats = dict(formats)
        self.labels = dict(labels)
        self.caption = caption
        self.empty = dict(empty or {})

    def _kind(self, column: str, row: Mapping[str, Any]) -> str:
        metric = str(row.get("metric")) if "metric" in row else None
        return (
            self.formats.get(column)
            or (HEADLINE_FORMATS.get(metric) if metric is not None else None)
            or _COLUMN_FORMATS.get(_base(column))
            or "text"
        )

    def _cell(self, column: str, value: Any, row: Mapping[str, Any]) -> str:
        """The inner HTML of a cell."""
        if column == "metric":
            return escape_text(HEADLINE_LABELS.get(str(value), str(value)))
        kind = self._kind(column, row)
        name = str(row["metric"]) if "metric" in row else _base(column)
        change = column.endswith(("_change", "_change_rel"))
        if kind == "points":  # a difference of shares (against a target): signed, in pp
            change, kind = True, "percent"
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            if column in self.empty:
                reason = self.empty[column]
            elif change:
                reason = "no comparison"
            elif column.endswith("_previous"):
                reason = "no data"
            else:
                reason = self.empty.get(name) or EMPTY_REASONS.get(name, "no data")
            return f'<span class="omnikit-empty">{escape_text(reason)}</span>'
        if column.endswith("_change_rel"):
            if kind == "percent":
                return '<span class="omnikit-empty">in pp only</span>'
            text = format_change(value, "percent").replace(" pp", "%")
        elif change:
            text = format_change(
                value, kind if kind in ("percent", "seconds", "count") else "number"
            )
        elif kind == "percent":
            text = format_share(value)
        elif kind == "seconds":
            text = format_duration(value)
        elif kind == "count":
            text = format_count(value)
        elif kind == "number":
            text = format_change(value, "number").lstrip("+") if value else "0.00"
        elif kind == "datetime" and isinstance(value, dt.datetime):
            text = value.strftime("%a %d %b %Y %H:%M")
        else:
            return escape_text(value)
        if not change or text == "no change":
            return html.escape(text)
        arrow = "▲ " if value > 0 else "▼ "
        better = BETTER.get(name, 0) * (1 if value > 0 else -1)
        verdict = {1: "better", -1: "worse", 0: "neutral"}[better]
        return (
            f'<span class="omnikit-{verdict}" title="{verdict}">{arrow}{html.escape(text)}</span>'
        )

    def _repr_html_(self) -> str:
        rows = self.frame.to_dicts()
        columns = [
            c
            for c in self.frame.columns
            if not c.startswith("__")
            and not (c.endswith("_change_rel") and self.formats.get(c) == "percent")
        ]
        headers = {c: self.labels.get(c, _header(c)) for c in columns}
        head = "".join(f"<th>{html.escape(headers[c])}</th>" for c in columns)
        body = "".join(
            "<tr>"
            + "".join(
                f'<td data-label="{html.escape(headers[c])}">{self._cell(c, row[c], row)}</td>'
                for c in columns
            )
            + "</tr>"
            for row in rows
        )
        caption = f"<caption>{escape_text(self.caption)}</caption>" if self.caption else ""
        return (
            f'<div class="omnikit-table-wrap"><table class="omnikit-table">{caption}'
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
        )

    def __repr__(self) -> str:
        return repr(self.frame)


def _header(column: str) -> str:
    special = {
        "metric": "",
        "value": "This period",
        "value_previous": "Previous period",
        "value_change": "Change",
        "value_change_rel": "Change (%)",
        "interaction_type": "Channel",
        "p50": "Median",
        "p90": "90th pct",
        "p95": "95th pct",
        "p90_wait": "90th pct wait",
        "asa": "ASA",
        "n": "Waits",
    }
    if column in special:
        return special[column]
    for suffix, words in (
        ("_change_rel", " change (%)"),
        ("_change", " change"),
        ("_previous", " (previous)"),
    ):
        if column.endswith(suffix):
            return _header(column.removesuffix(suffix)) + words
    return column.replace("_", " ").capitalize() if column.islower() else column


def report_table(
    frame: pl.DataFrame | Mapping[str, Any],
    *,
    formats: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    caption: str | None = None,
    empty: Mapping[str, str] | None = None,
) -> ReportTable:
    """Show a small result frame as a plain HTML table for a manager.

    Numbers are written by one set of rules (:func:`omnikit.format_duration` and friends):
    ``formats`` maps a column to ``"count"`` (1,234), ``"percent"`` (81.2%), ``"points"`` (a
    difference of shares, e.g. against a target: ``▲ +1.2 pp``), ``"seconds"``
    (``4 min 12 s``), ``"number"``, ``"datetime"`` (Mon 09 Sep 2024 09:11) or ``"text"``;
    columns omnikit's metrics name (``offered``, ``service_level``, ``asa``, ``p90``, ...) need
    no entry. Change columns from :func:`compare_periods` (``*_change``) have a sign and ▲/▼,
    coloured by whether the change is good for that metric (:data:`BETTER`: a falling abandon
    rate is good, volume is neither); a change of a share is in percentage points (pp) only:
    its relative change (``*_change_rel``) is not shown; a change that rounds to nothing says
    "no change". An empty cell says why (:data:`EMPTY_REASONS`, or ``empty``: column → reason).
    The rows of a ``metric`` column (from :func:`compare_periods` of :func:`headline_numbers`)
    are named and formatted as :data:`HEADLINE_LABELS` and :data:`HEADLINE_FORMATS` say; a dict
    of such numbers is shown the same way, one row each. ``labels`` renames column headers.
    Every text value (channels, statuses, the caption) is escaped (:func:`omnikit.escape_text`).

    Examples
    --------
    >>> import polars as pl, omnikit as ok
    >>> table = ok.report_table(pl.DataFrame({"channel": ["VOICE"], "share": [0.8123]}))
    >>> "81.2%" in table._repr_html_()
    True
    """
    if isinstance(frame, Mapping):
        frame = _numbers_frame(frame)
    formats = dict(formats or {})
    for column, kind in formats.items():
        if kind not in _FORMATS:
            raise ParameterError(
                f"report_table: format {kind!r} of {column!r} is not one of {', '.join(_FORMATS)}"
            )
    for column in frame.columns:
        base = _base(column)
        if base in formats and column not in formats:
            formats[column] = formats[base]
        elif column not in formats and base in _COLUMN_FORMATS:
            formats[column] = _COLUMN_FORMATS[base]
    return ReportTable(frame, formats, labels or {}, caption, empty)


# --------------------------------------------------------------------------------------------
# the summary a manager reads first


class ReportText(str):
    """Markdown text that a notebook shows as Markdown (``_repr_markdown_``)."""

    def _repr_markdown_(self) -> str:
        return str(self)


def _pp(value: float) -> str:
    return format_change(value, "percent").lstrip("+-")


def _moved(value: float | None, kind: str, up: str = "up", down: str = "down") -> str:
    if value is None:
        return "no comparison"
    text = format_change(value, kind)
    if text == "no change":
        return "no change"
    return f"{up if value > 0 else down} {text.lstrip('+-')}"


def weekly_summary(
    this_week: Mapping[str, float | None],
    last_week: Mapping[str, float | None] | None,
    channels: pl.DataFrame,
    channels_before: pl.DataFrame | None = None,
    *,
    changes: int = 3,
    period: str = "period",
) -> ReportText:
    """A few sentences a manager reads first, generated from the report's own numbers.

    Says the volume and how it moved, the blended service level, which channels missed their
    target and by how much (and which met it), the biggest changes of a channel's service
    level or abandon rate (in percentage points), and how bots and repeat contacts moved.
    Every channel name is escaped (:func:`omnikit.escape_text`). Nothing is written by hand.

    Parameters
    ----------
    this_week, last_week
        :func:`headline_numbers` of the period and of the one before (``None``: none).
    channels, channels_before
        :func:`channel_numbers` of the period and of the one before (``None``: none).
    changes
        How many of the biggest changes to name (changes under 1 pp are never named).
    period
        What the period is called: ``"week"`` writes "this week" and "the week before".

    Returns
    -------
    Markdown text (a ``str`` that a notebook shows as Markdown).

    Examples
    --------
    >>> import polars as pl, omnikit as ok
    >>> now = {"interactions": 1200, "offered": 900, "service_level": 0.78}
    >>> voice = pl.DataFrame({"interaction_type": ["VOICE"], "offered": [900],
    ...     "service_level": [0.78], "target": [0.8], "to_target": [-0.02], "abandon_rate": [0.05]})
    >>> print(ok.weekly_summary(now, None, voice))  # doctest: +NORMALIZE_WHITESPACE
    - **1,200 interactions** this period, 900 of them inbound.
    - **Service level 78.0%** (every channel against its own threshold).
    - **1 of 1 channels missed its target:** VOICE 78.0% (target 80.0%, 2.0 pp short).
    """
    lines = []
    volume = this_week.get("interactions") or 0
    before = (last_week or {}).get("interactions")
    moved = ""
    if before:
        relative = (volume - before) / before
        moved = (
            f", {format_share(abs(relative))} {'more' if relative > 0 else 'fewer'} than the "
            f"{period} before ({format_count(before)})"
            if format_share(abs(relative)) != "0.0%"
            else f", as many as the {period} before ({format_count(before)})"
        )
    lines.append(
        f"**{format_count(volume)} interactions** this {period}{moved}, "
        f"{format_count(this_week.get('offered') or 0)} of them inbound."
    )
    level = this_week.get("service_level")
    if level is not None:
        previous_level = (last_week or {}).get("service_level")
        change = (
            f", {_moved(level - previous_level, 'percent')} on the {period} before"
            if previous_level is not None
            else ""
        )
        lines.append(
            f"**Service level {format_share(level)}** (every channel against its own "
            f"threshold{change})."
        )
    rated = channels.filter(pl.col("service_level").is_not_null())
    if "target" in rated.columns and rated.height:
        missed = rated.filter(pl.col("service_level") < pl.col("target")).sort("to_target")
        met = rated.filter(pl.col("service_level") >= pl.col("target"))
        named = [escape_text(c) for c in met["interaction_type"].to_list()]
        if missed.height:
            shortfalls = "; ".join(
                f"{escape_text(r['interaction_type'])} {format_share(r['service_level'])} "
                f"(target {format_share(r['target'])}, "
                f"{_pp(r['target'] - r['service_level'])} short)"
                for r in missed.iter_rows(named=True)
            )
            verb = "its" if missed.height == 1 else "their"
            text = (
                f"**{missed.height} of {rated.height} channels missed {verb} target:** "
                f"{shortfalls}."
            )
            if named:
                text += f" Met {'its' if len(named) == 1 else 'theirs'}: {', '.join(named)}."
            lines.append(text)
        else:
            lines.append(f"**Every channel met its target** ({', '.join(named)}).")
    if channels_before is not None and channels_before.height and rated.height:
        metrics = [("service_level", "service level"), ("abandon_rate", "abandon rate")]
        compared = compare_periods(
            channels, channels_before, on="interaction_type", values=[m for m, _ in metrics]
        )
        moves = []
        for row in compared.iter_rows(named=True):
            for metric, words in metrics:
                delta = row[f"{metric}_change"]
                if delta is not None and abs(delta) >= 0.01:
                    moves.append((abs(delta), row, metric, words, delta))
        moves.sort(key=lambda m: (-m[0], str(m[1]["interaction_type"]), m[2]))
        if moves:
            said = "; ".join(
                f"{escape_text(row['interaction_type'])} {words} "
                f"{'rose' if delta > 0 else 'fell'} {_pp(delta)} "
                f"({format_share(row[metric + '_previous'])} → {format_share(row[metric])})"
                for _, row, metric, words, delta in moves[:changes]
            )
            lines.append(f"**Biggest changes:** {said}.")
    journey_bits = []
    for key, words in (
        ("containment_rate", "of the journeys with a bot never needed an agent after it"),
        ("repeat_rate", "of inbound contacts were repeats"),
    ):
        value = this_week.get(key)
        if value is None:
            continue
        previous = (last_week or {}).get(key)
        tail = f", {_moved(value - previous, 'percent')}" if previous is not None else ""
        journey_bits.append(f"{format_share(value)} {words}{tail}")
    if journey_bits:
        lines.append("**Journeys:** " + "; ".join(journey_bits) + ".")
    return ReportText("\n".join(f"- {line}" for line in lines))
