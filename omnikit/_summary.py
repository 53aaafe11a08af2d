"""Summaries for a report page: the week at a glance, periods compared, tables a manager can read.

:func:`headline_numbers` gives the week at a glance (one number each, from omnikit's own
metrics), :func:`compare_periods` puts a metric beside the previous period's with the change,
and :func:`report_table` shows a small frame (or a dict of headline numbers) as a plain table.
"""

from __future__ import annotations

import datetime as dt
import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from ._errors import ParameterError
from ._journeys import journeys, repeat_contacts
from ._metrics import median_patience, service_level, wait_time_stats, wait_time_survival
from ._validate import frame_type_error
from .types import Duration, Formula, Threshold

__all__ = [
    "HEADLINE_FORMATS",
    "HEADLINE_LABELS",
    "ReportTable",
    "compare_periods",
    "headline_numbers",
    "report_table",
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


def headline_numbers(
    df: pl.DataFrame,
    *,
    threshold: Threshold = 20,
    short_abandon: Threshold = 5,
    formula: Formula = "talkdesk",
    gap: Duration = "24h",
    window: Duration = "7d",
    trips: pl.DataFrame | None = None,
) -> dict[str, float | None]:
    """The week at a glance: one number each for volume, service, patience and journeys.

    Computed with omnikit's own functions over the whole frame (``by=None``): ``interactions``;
    ``offered``, ``service_level``, ``abandon_rate``, ``asa`` (:func:`omnikit.service_level`);
    ``median_wait`` and ``p90_wait`` (:func:`omnikit.wait_time_stats`); ``median_patience``
    (:func:`omnikit.median_patience`); ``customers`` (distinct ``customer_id``), ``journeys``,
    ``switched_share`` and ``bot_to_human_share`` (:func:`omnikit.journeys`, with ``gap``);
    ``repeat_rate`` (:func:`omnikit.repeat_contacts`, with ``window``).

    ``df`` must have a ``customer_id`` column (:func:`omnikit.resolve_customers`, or
    :func:`report_data`). ``trips`` may pass ``ok.journeys(df, gap=gap)`` when it is already
    computed.

    Examples
    --------
    >>> import omnikit as ok
    >>> data = ok.report_data(None, compare=True)  # doctest: +SKIP
    >>> now = ok.headline_numbers(data.frame)  # doctest: +SKIP
    >>> before = ok.headline_numbers(data.previous)  # doctest: +SKIP
    >>> ok.compare_periods(now, before)  # doctest: +SKIP
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
        df, threshold=threshold, short_abandon=short_abandon, formula=formula, by=None
    )
    waits = wait_time_stats(df, by=None, percentiles=(0.5, 0.9))
    survival = wait_time_survival(df, by=None)
    if trips is None:
        trips = journeys(df, gap=gap)
    repeats = repeat_contacts(df, window=window)

    def first(frame: pl.DataFrame, column: str) -> float | None:
        value = frame[column][0] if frame.height else None
        return None if value is None else float(value)

    n_journeys = trips.height
    return {
        "interactions": float(df.height),
        "offered": first(service, "offered") or 0.0,
        "service_level": first(service, "service_level"),
        "abandon_rate": first(service, "abandon_rate"),
        "asa": first(service, "asa"),
        "median_wait": first(waits, "p50"),
        "p90_wait": first(waits, "p90"),
        "median_patience": median_patience(survival),
        "customers": float(df["customer_id"].n_unique()),
        "journeys": float(n_journeys),
        "switched_share": first(trips.select(pl.col("switched").mean()), "switched"),
        "bot_to_human_share": first(trips.select(pl.col("bot_to_human").mean()), "bot_to_human"),
        "repeat_rate": first(repeats, "repeat_rate"),
    }


#: What each of :func:`headline_numbers` is called in a report table.
HEADLINE_LABELS: dict[str, str] = {
    "interactions": "Interactions (all channels and directions)",
    "offered": "Inbound interactions offered",
    "service_level": "Service level",
    "abandon_rate": "Abandon rate",
    "asa": "Average speed of answer",
    "median_wait": "Median wait",
    "p90_wait": "90th percentile wait",
    "median_patience": "Median patience (Kaplan–Meier)",
    "customers": "Customers",
    "journeys": "Journeys",
    "switched_share": "Journeys that switched channel",
    "bot_to_human_share": "Journeys escalated from bot to agent",
    "repeat_rate": "Repeat contact rate",
}

#: How each of :func:`headline_numbers` is written in a report table.
HEADLINE_FORMATS: dict[str, str] = {
    "interactions": "count",
    "offered": "count",
    "service_level": "percent",
    "abandon_rate": "percent",
    "asa": "seconds",
    "median_wait": "seconds",
    "p90_wait": "seconds",
    "median_patience": "seconds",
    "customers": "count",
    "journeys": "count",
    "switched_share": "percent",
    "bot_to_human_share": "percent",
    "repeat_rate": "percent",
}

#: How :func:`report_table` writes a value, by format name.
_FORMATS = ("count", "percent", "seconds", "number", "datetime", "text")


class ReportTable:
    """A small table for a report page: formatted numbers, changes with ▲/▼, no dtypes."""

    def __init__(
        self,
        frame: pl.DataFrame,
        formats: Mapping[str, str],
        labels: Mapping[str, str],
        caption: str | None,
    ):
        self.frame = frame
        self.formats = dict(formats)
        self.labels = dict(labels)
        self.caption = caption

    def _cell(self, column: str, value: Any, row: Mapping[str, Any]) -> str:
        kind = self.formats.get(column) or HEADLINE_FORMATS.get(str(row.get("metric"))) or "text"
        if column == "metric":
            return html.escape(HEADLINE_LABELS.get(str(value), str(value)))
        if value is None:
            return "–"
        if isinstance(value, float) and not math.isfinite(value):
            return "–"
        change = column.endswith(("_change", "_change_rel"))
        if column.endswith("_change_rel"):
            text = f"{value * 100:+.1f}%"
        elif kind == "percent":
            text = f"{value * 100:+.1f} pp" if change else f"{value * 100:.1f}%"
        elif kind == "seconds":
            text = f"{value:+.1f} s" if change else f"{value:.1f} s"
        elif kind == "count":
            text = f"{value:+,.0f}" if change else f"{value:,.0f}"
        elif kind == "number":
            text = f"{value:+,.2f}" if change else f"{value:,.2f}"
        elif kind == "datetime" and isinstance(value, dt.datetime):
            text = value.strftime("%a %d %b %Y %H:%M")
        else:
            text = str(value)
        if change and isinstance(value, (int, float)) and value != 0:
            text = ("▲ " if value > 0 else "▼ ") + text
        return html.escape(text)

    def _repr_html_(self) -> str:
        rows = self.frame.to_dicts()
        columns = [c for c in self.frame.columns if not c.startswith("__")]
        head = "".join(f"<th>{html.escape(self.labels.get(c, _header(c)))}</th>" for c in columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{self._cell(c, row[c], row)}</td>" for c in columns) + "</tr>"
            for row in rows
        )
        caption = f"<caption>{html.escape(self.caption)}</caption>" if self.caption else ""
        return (
            f'<table class="omnikit-table">{caption}<thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table>"
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
) -> ReportTable:
    """Show a small result frame as a plain HTML table for a manager.

    ``formats`` maps a column to ``"count"`` (1,234), ``"percent"`` (81.2%), ``"seconds"``
    (23.0 s), ``"number"``, ``"datetime"`` (Mon 09 Sep 2024 09:11) or ``"text"``; change
    columns from :func:`compare_periods` (``*_change``, ``*_change_rel``) are written with a
    sign and ▲/▼ (percentages change in percentage points, "pp"). The rows of a ``metric``
    column (from :func:`compare_periods` of :func:`headline_numbers`) are named and formatted
    as :data:`HEADLINE_LABELS` and :data:`HEADLINE_FORMATS` say; a dict of such numbers is
    shown the same way, one row each. ``labels`` renames column headers.

    Examples
    --------
    >>> import polars as pl, omnikit as ok
    >>> frame = pl.DataFrame({"channel": ["VOICE"], "share": [0.8123]})
    >>> table = ok.report_table(frame, formats={"share": "percent"})
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
        base = column.removesuffix("_change_rel").removesuffix("_change").removesuffix("_previous")
        if base in formats and column not in formats:
            formats[column] = formats[base]
    return ReportTable(frame, formats, labels or {}, caption)
