"""Charts of the metrics: channel mix, wait-time distributions, service level, patience, hours.

Each builder takes the small frame an omnikit metric returns (never raw interactions), so the
size of a chart depends on channels, periods and bins, not on the number of interactions. The
data is inlined in the Vega-Lite spec, so a chart renders offline.

>>> import omnikit as ok
>>> df = ok.synth_frame(10_000)  # doctest: +SKIP
>>> ok.charts.service_level_chart(ok.service_level(df), target=0.8)  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Literal

import altair as alt
import polars as pl

from .._errors import ParameterError
from .._format import duration_expression, format_duration, format_share
from .._validate import check_polars_frame
from ..types import Thresholds
from ._theme import (
    CONTAINER,
    base_chart,
    channel_color_scale,
    records,
    require_frame,
    themed,
    title_params,
)

__all__ = [
    "channel_mix_chart",
    "channel_share_chart",
    "hourly_heatmap",
    "service_level_chart",
    "survival_chart",
    "wait_time_chart",
]

_CHANNEL = "interaction_type"
_FACET_WIDTH = 520
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

#: The service-level heatmap's colours: orange below the target, white at it, blue above
#: (a colour-blind-safe diverging pair).
BELOW_TARGET, AT_TARGET, ABOVE_TARGET = "#b35806", "#f7f7f7", "#2166ac"


def _durations(column: pl.Expr) -> pl.Expr:
    """Seconds written as :func:`omnikit.format_duration` writes them (tooltips)."""
    return column.map_elements(format_duration, return_dtype=pl.String, skip_nulls=False)


def _date_format(frame: pl.DataFrame, column: str) -> str:
    """How periods read: ``Mon 23 Sep``, with the time when some do not start at midnight."""
    hourly = (
        frame.height
        and frame.select(
            (pl.col(column).dt.replace_time_zone(None).dt.time() != dt.time(0)).any()
        ).item()
    )
    return "%a %d %b %H:%M" if hourly else "%a %d %b"


def _call(metric: str) -> str:
    """How a user gets the frame: ``"service_level"`` -> ``"ok.service_level(df)"``."""
    return f"ok.{metric}" if "(" in metric else f"ok.{metric}(df)"


def _require(frame: object, columns: Sequence[str], chart: str, metric: str) -> pl.DataFrame:
    check_polars_frame(frame, chart, _call(metric))
    return require_frame(frame, columns, chart, _call(metric))


def _one_row_per(frame: pl.DataFrame, keys: Sequence[str], chart: str, metric: str) -> None:
    if frame.select(keys).is_duplicated().any():
        extra = [c for c in frame.columns if c not in keys]
        raise ParameterError(
            f"{chart}: more than one row per {', '.join(keys)}; the frame from {_call(metric)} was "
            f"split by more columns than the chart shows ({', '.join(extra)}). Filter it to one "
            "group first, or compute the metric with by='interaction_type'."
        )


def _channels(frame: pl.DataFrame, column: str = _CHANNEL) -> list[str]:
    return sorted({"(none)" if c is None else c for c in frame[column].to_list()})


def _color(frame: pl.DataFrame, column: str = _CHANNEL) -> alt.Color:
    return alt.Color(
        f"{column}:N", title="Channel", scale=channel_color_scale(_channels(frame, column))
    )


# --------------------------------------------------------------------------------------------
# channel mix


def channel_mix_chart(
    mix: pl.DataFrame,
    *,
    stack: str = "share",
    mark: str = "area",
    title: str | None = None,
    divide_at: dt.datetime | None = None,
) -> alt.TopLevelMixin:
    """Stacked channel mix over time, from ``ok.channel_mix(df, every=...)``.

    Periods read as dates a person writes (``Mon 23 Sep``, with the time for hourly steps).

    Parameters
    ----------
    mix
        The frame from :func:`omnikit.channel_mix` with ``every=`` (it has ``period``); extra
        ``by`` columns are summed over.
    stack
        ``"share"`` (each period stacks to 100 %) or ``"count"`` (interactions).
    mark
        ``"area"`` or ``"bar"``.
    divide_at
        Where a comparison's earlier period ends (e.g. ``data.start`` of a weekly report): a
        rule marks it, labelled "previous" and "this period" on either side.

    Examples
    --------
    >>> import omnikit as ok
    >>> ok.charts.channel_mix_chart(ok.channel_mix(df, every="1d"))  # doctest: +SKIP
    """
    func = "channel_mix_chart"
    mix = _require(mix, ["period", _CHANNEL, "interactions"], func, "channel_mix(df, every='1d')")
    if stack not in ("share", "count"):
        raise ParameterError(f"{func}: stack= must be 'share' or 'count', got {stack!r}")
    if mark not in ("area", "bar"):
        raise ParameterError(f"{func}: mark= must be 'area' or 'bar', got {mark!r}")
    placed = mix.filter(pl.col("period").is_not_null())
    grid = placed.select("period").unique().join(placed.select(_CHANNEL).unique(), how="cross")
    counts = placed.group_by("period", _CHANNEL).agg(pl.col("interactions").sum())
    data = (
        grid.join(counts, on=["period", _CHANNEL], how="left", nulls_equal=True)
        .with_columns(pl.col("interactions").fill_null(0))  # every channel in every period
        .with_columns(share=pl.col("interactions") / pl.col("interactions").sum().over("period"))
        .with_columns(
            period_label=pl.col("period")
            .dt.replace_time_zone(None)
            .dt.strftime(_date_format(placed, "period"))
        )
        .sort("period", _CHANNEL, nulls_last=True)
    )
    y = (
        alt.Y("share:Q", title="Share of interactions", axis=alt.Axis(format="%"), stack="zero")
        if stack == "share"
        else alt.Y("interactions:Q", title="Interactions", stack="zero", axis=alt.Axis(format=",d"))
    )
    subtitle = (
        "Share of each period's interactions by channel"
        if stack == "share"
        else "Interactions per period by channel"
    )
    unplaced = int(mix.filter(pl.col("period").is_null())["interactions"].sum())
    if unplaced:
        subtitle += f" ({unplaced:,} interactions without a start time not shown)"
    base = base_chart(data, width=CONTAINER)
    x = (
        alt.X(
            "period:T",
            title="Period start (report timezone)",
            scale=alt.Scale(type="utc"),
            axis=alt.Axis(format=_date_format(placed, "period"), labelOverlap=True),
        )
        if mark == "area"  # bars: one band per period, labelled with its local start
        else alt.X(
            "period_label:O",
            title="Period start (report timezone)",
            sort=data.unique("period", maintain_order=True)["period_label"].to_list(),
            axis=alt.Axis(labelAngle=-45, labelOverlap=True),
        )
    )
    chart = (base.mark_area(opacity=0.9) if mark == "area" else base.mark_bar()).encode(
        x=x,
        y=y,
        color=_color(data),
        order=alt.Order(f"{_CHANNEL}:N"),
        tooltip=[
            alt.Tooltip("period_label:N", title="Period start"),
            alt.Tooltip(f"{_CHANNEL}:N", title="Channel"),
            alt.Tooltip("interactions:Q", title="Interactions", format=","),
            alt.Tooltip("share:Q", title="Share", format=".1%"),
        ],
    )
    heading = title_params(title or "Channel mix over time", subtitle)
    if divide_at is None:
        return themed(chart.properties(title=heading))
    layers = [chart, *_divider(data, divide_at, mark)]
    return themed(alt.layer(*layers).properties(title=heading))


def _divider(data: pl.DataFrame, at: dt.datetime, mark: str) -> list[alt.Chart]:
    """A rule where the previous period ends, with a label on either side."""
    if not isinstance(at, dt.datetime):
        raise ParameterError(f"channel_mix_chart: divide_at= must be a datetime, got {at!r}")
    boundary = pl.DataFrame({"at": [at]})
    if at.tzinfo is not None and data.height:
        zone = data.schema["period"]
        boundary = boundary.with_columns(
            pl.col("at").dt.convert_time_zone(getattr(zone, "time_zone", None) or "UTC")
        )
    if mark == "area":
        x = alt.X("at:T", scale=alt.Scale(type="utc"))
        frame = boundary
    else:
        later = data.filter(pl.col("period") >= boundary["at"][0]).sort("period")
        if not later.height:
            return []
        frame = pl.DataFrame({"period_label": [later["period_label"][0]]})
        order = data.unique("period", maintain_order=True)["period_label"].to_list()
        x = alt.X("period_label:O", bandPosition=0, sort=order)
    rule = (
        alt.Chart(alt.Data(values=records(frame)))
        .mark_rule(color="#333333", strokeDash=[4, 3], strokeWidth=1.5)
        .encode(x=x)
    )
    before = rule.mark_text(align="right", baseline="top", dx=-4, y=2, fontSize=11).encode(
        text=alt.value("◀ previous"), color=alt.value("#333333")
    )
    after = rule.mark_text(align="left", baseline="top", dx=4, y=2, fontSize=11).encode(
        text=alt.value("this period ▶"), color=alt.value("#333333")
    )
    return [rule, before, after]


def channel_share_chart(mix: pl.DataFrame, *, title: str | None = None) -> alt.TopLevelMixin:
    """Overall share of each channel (bars), from ``ok.channel_mix(df)`` (any ``by``/``every``).

    Examples
    --------
    >>> import omnikit as ok
    >>> ok.charts.channel_share_chart(ok.channel_mix(df))  # doctest: +SKIP
    """
    mix = _require(mix, [_CHANNEL, "interactions"], "channel_share_chart", "channel_mix")
    data = (
        mix.group_by(_CHANNEL)
        .agg(pl.col("interactions").sum())
        .with_columns(share=pl.col("interactions") / pl.col("interactions").sum())
        .sort("interactions", _CHANNEL, descending=[True, False], nulls_last=True)
    )
    total = int(data["interactions"].sum()) if data.height else 0
    base = base_chart(data, width=CONTAINER, height=alt.Step(26))
    bars = base.mark_bar().encode(
        x=alt.X("share:Q", title="Share of interactions", axis=alt.Axis(format="%")),
        y=alt.Y(
            f"{_CHANNEL}:N",
            title="Channel",
            sort=[r[_CHANNEL] for r in records(data.select(_CHANNEL))],
        ),
        color=alt.Color(f"{_CHANNEL}:N", legend=None, scale=channel_color_scale(_channels(data))),
        tooltip=[
            alt.Tooltip(f"{_CHANNEL}:N", title="Channel"),
            alt.Tooltip("interactions:Q", title="Interactions", format=","),
            alt.Tooltip("share:Q", title="Share", format=".1%"),
        ],
    )
    labels = bars.mark_text(align="left", dx=4, fontSize=11).encode(
        text=alt.Text("share:Q", format=".1%"), color=alt.value("#333333")
    )
    heading = title_params(title or "Channel mix", f"{total:,} interactions")
    return themed(alt.layer(bars, labels).properties(title=heading))


# --------------------------------------------------------------------------------------------
# waiting times


def wait_time_chart(
    histogram: pl.DataFrame,
    stats: pl.DataFrame | None = None,
    *,
    kind: str = "ecdf",
    marks: Sequence[str] = ("p50", "p90"),
    title: str | None = None,
    x_scale: str = "symlog",
) -> alt.TopLevelMixin:
    """Distribution of waiting times per channel, with percentiles marked.

    Parameters
    ----------
    histogram
        The frame from :func:`omnikit.wait_time_histogram` (by ``interaction_type``).
    stats
        Optionally the frame from :func:`omnikit.wait_time_stats` (same ``by``): its ``marks``
        columns are drawn as vertical rules per channel.
    kind
        ``"ecdf"``: the share of waits below each time, one line per channel; ``"histogram"``:
        one row of bars per channel.
    x_scale
        ``"symlog"`` (default): a logarithmic time axis that still shows 0, so seconds of voice
        and hours of email both stay readable (pair it with ``wait_time_histogram(bins="log")``);
        ``"linear"``.

    Examples
    --------
    >>> import omnikit as ok
    >>> histogram, stats = ok.wait_time_histogram(df), ok.wait_time_stats(df)  # doctest: +SKIP
    >>> ok.charts.wait_time_chart(histogram, stats)  # doctest: +SKIP
    """
    func = "wait_time_chart"
    hist = _require(
        histogram,
        [_CHANNEL, "bin_start", "bin_end", "count", "share", "cumulative_share"],
        func,
        "wait_time_histogram",
    )
    _one_row_per(hist, [_CHANNEL, "bin_start"], func, "wait_time_histogram")
    if kind not in ("ecdf", "histogram"):
        raise ParameterError(f"{func}: kind= must be 'ecdf' or 'histogram', got {kind!r}")
    scale = _time_scale(x_scale, func)
    rules = pl.DataFrame(
        schema={_CHANNEL: pl.String, "percentile": pl.String, "seconds": pl.Float64}
    )
    if stats is not None:
        stats = _require(stats, [_CHANNEL, *marks], func, "wait_time_stats")
        _one_row_per(stats, [_CHANNEL], func, "wait_time_stats")
        rules = (
            stats.unpivot(
                index=_CHANNEL, on=list(marks), variable_name="percentile", value_name="seconds"
            )
            .with_columns(pl.col("seconds").cast(pl.Float64))
            .filter(pl.col("seconds").is_not_null())
        )
    hist = hist.filter(pl.col("bin_end").is_not_null())  # the open last bin has no end to draw
    longest = hist.select(pl.col("bin_end").filter(pl.col("count") > 0).max()).item()
    axis = _time_axis(x_scale, float(longest or 0))
    color = _color(pl.concat([hist.select(_CHANNEL), rules.select(_CHANNEL)]))
    dash = alt.StrokeDash(
        "percentile:N",
        title="Percentile",
        scale=alt.Scale(
            domain=list(marks),
            range=[[1, 0], [6, 3], [2, 2], [8, 2, 2, 2]][: len(marks)] or [[1, 0]],
        ),
    )
    rules = rules.with_columns(wait=_durations(pl.col("seconds")))
    hist = hist.with_columns(
        waited=_durations(pl.col("bin_end")), waited_from=_durations(pl.col("bin_start"))
    )
    rule_tooltip = [
        alt.Tooltip(f"{_CHANNEL}:N", title="Channel"),
        alt.Tooltip("percentile:N", title="Percentile"),
        alt.Tooltip("wait:N", title="Waiting time"),
    ]
    subtitle = "Marked: " + ", ".join(marks) if stats is not None else None
    if kind == "ecdf":
        start = hist.filter(pl.col("bin") == 0).with_columns(
            bin_end=pl.col("bin_start"), cumulative_share=pl.lit(0.0), waited=pl.col("waited_from")
        )
        points = pl.concat([start, hist]).sort(_CHANNEL, "bin_end", nulls_last=True)
        base = base_chart(points, width=CONTAINER)
        lines = base.mark_line(interpolate="linear").encode(
            x=alt.X("bin_end:Q", title="Waiting time", scale=scale, axis=axis),
            y=alt.Y(
                "cumulative_share:Q",
                title="Share of waits shorter (cumulative)",
                axis=alt.Axis(format="%"),
            ),
            color=color,
            tooltip=[
                alt.Tooltip(f"{_CHANNEL}:N", title="Channel"),
                alt.Tooltip("waited:N", title="Waited less than"),
                alt.Tooltip("cumulative_share:Q", title="Share", format=".1%"),
            ],
        )
        layers = [lines]
        if rules.height:
            layers.append(
                alt.Chart(alt.Data(values=records(rules)))
                .mark_rule(strokeWidth=1.5)
                .encode(
                    x=alt.X("seconds:Q", scale=scale),
                    color=color,
                    strokeDash=dash,
                    tooltip=rule_tooltip,
                )
            )
        heading = title_params(title or "Waiting time distribution", subtitle)
        return themed(alt.layer(*layers).properties(title=heading))
    combined = pl.concat(
        [hist.with_columns(layer=pl.lit("bin")), rules.with_columns(layer=pl.lit("rule"))],
        how="diagonal_relaxed",
    )
    base = alt.Chart().properties(width=_FACET_WIDTH, height=90)
    bars = (
        base.transform_filter(alt.datum.layer == "bin")
        .mark_rect()
        .encode(
            x=alt.X("bin_start:Q", title="Waiting time", scale=scale, axis=axis),
            x2="bin_end:Q",
            y=alt.Y("share:Q", title="Share", axis=alt.Axis(format="%")),
            y2=alt.datum(0),
            color=color,
            tooltip=[
                alt.Tooltip(f"{_CHANNEL}:N", title="Channel"),
                alt.Tooltip("waited_from:N", title="From"),
                alt.Tooltip("waited:N", title="To (excluded)"),
                alt.Tooltip("count:Q", title="Interactions", format=","),
                alt.Tooltip("share:Q", title="Share", format=".1%"),
            ],
        )
    )
    layers = [bars]
    if rules.height:
        layers.append(
            base.transform_filter(alt.datum.layer == "rule")
            .mark_rule(color="#333333", strokeWidth=1.5)
            .encode(x="seconds:Q", strokeDash=dash, tooltip=rule_tooltip)
        )
    chart = (
        alt.layer(*layers, data=alt.Data(values=records(combined)))
        .facet(
            row=alt.Row(
                f"{_CHANNEL}:N", title="Channel", header=alt.Header(labelAngle=0, labelAlign="left")
            )
        )
        .properties(title=title_params(title or "Waiting time distribution", subtitle))
    )
    return themed(chart)


# --------------------------------------------------------------------------------------------
# service level


def service_level_chart(
    service: pl.DataFrame,
    *,
    target: float | Mapping[str, float] | None = 0.8,
    threshold: Thresholds | None = None,
    title: str | None = None,
) -> alt.TopLevelMixin:
    """Service level per channel (bars) against each channel's target (a dark tick).

    Parameters
    ----------
    service
        The frame from :func:`omnikit.service_level` (by ``interaction_type``) or from
        :func:`omnikit.channel_numbers` (whose ``target`` and ``threshold`` columns are used
        when ``target``/``threshold`` are not given).
    target
        The target service level in [0, 1], one for every channel or a mapping from
        ``interaction_type`` (``"*"``: every channel it does not name); ``None`` for none
        (unless the frame has a ``target`` column).
    threshold
        The ``threshold`` the frame was computed with (seconds, a duration or a mapping), shown
        in the subtitle and the tooltips.

    Examples
    --------
    >>> import omnikit as ok
    >>> numbers = ok.channel_numbers(df)  # doctest: +SKIP
    >>> ok.charts.service_level_chart(numbers, target={"VOICE": 0.8, "*": 0.9})  # doctest: +SKIP
    """
    from .._summary import _channel_values, _check_target
    from .._validate import seconds

    func = "service_level_chart"
    data = _require(service, [_CHANNEL, "service_level", "offered"], func, "service_level")
    _one_row_per(data, [_CHANNEL], func, "service_level")
    data = data.sort(_CHANNEL, nulls_last=True)
    channels = data[_CHANNEL].to_list()
    if target is not None:
        aims = _channel_values(target, channels, "target", func, _check_target)
        data = data.with_columns(target=pl.Series([aims[c] for c in channels], dtype=pl.Float64))
    if threshold is not None:
        limits = _channel_values(
            threshold, channels, "threshold", func, lambda v, n: seconds(v, n, func)
        )
        data = data.with_columns(
            threshold=pl.Series([limits[c] for c in channels], dtype=pl.Float64)
        )
    has_target = "target" in data.columns and data["target"].is_not_null().any()
    if "threshold" in data.columns:
        data = data.with_columns(within=_durations(pl.col("threshold")))
        distinct = data["within"].unique().to_list()
        within = (
            f"answered within {distinct[0]}"
            if len(distinct) == 1
            else "each answered within its own channel's threshold"
        )
    else:
        within = "answered within the threshold"
    if "asa" in data.columns:
        data = data.with_columns(asa_text=_durations(pl.col("asa")))
    if has_target:
        targets = data["target"].drop_nulls().unique().to_list()
        aim = f"; target {format_share(targets[0])}" if len(targets) == 1 else "; tick: target"
    else:
        aim = ""
    subtitle = f"Share of offered INBOUND interactions {within}{aim}"
    tooltip = [
        alt.Tooltip(f"{_CHANNEL}:N", title="Channel"),
        alt.Tooltip("service_level:Q", title="Service level", format=".1%"),
    ]
    optional = [
        ("target", alt.Tooltip("target:Q", title="Target", format=".0%")),
        ("within", alt.Tooltip("within:N", title="Threshold")),
        ("offered", alt.Tooltip("offered:Q", title="Offered", format=",")),
        ("answered_within", alt.Tooltip("answered_within:Q", title="Answered within", format=",")),
        ("abandon_rate", alt.Tooltip("abandon_rate:Q", title="Abandon rate", format=".1%")),
        ("asa_text", alt.Tooltip("asa_text:N", title="Average speed of answer")),
    ]
    tooltip += [tip for column, tip in optional if column in data.columns]
    base = base_chart(data, width=CONTAINER, height=alt.Step(26))
    y = alt.Y(f"{_CHANNEL}:N", title="Channel")
    bars = base.mark_bar().encode(
        x=alt.X(
            "service_level:Q",
            title="Service level",
            axis=alt.Axis(format="%"),
            scale=alt.Scale(domain=[0, 1]),
        ),
        y=y,
        color=alt.Color(f"{_CHANNEL}:N", legend=None, scale=channel_color_scale(_channels(data))),
        tooltip=tooltip,
    )
    layers = [bars]
    if has_target:
        layers.append(
            base.mark_tick(color="#222222", thickness=3, size=22).encode(
                x="target:Q", y=y, tooltip=tooltip
            )
        )
    heading = title_params(title or "Service level by channel", subtitle)
    return themed(alt.layer(*layers).properties(title=heading))


# --------------------------------------------------------------------------------------------
# patience


def _time_scale(x_scale: str, func: str) -> alt.Scale:
    if x_scale == "symlog":
        return alt.Scale(type="symlog")
    if x_scale == "linear":
        return alt.Scale(type="linear")
    raise ParameterError(f"{func}: x_scale= must be 'symlog' or 'linear', got {x_scale!r}")


#: Ticks of a log time axis: 10 s, 1 min, 5 min, 30 min, 1 h, 4 h, 1 day, 1 week; labelled as
#: :func:`omnikit.format_duration` writes durations (never ``3e+2``).
_TIME_TICKS = (0, 10, 60, 300, 1800, 3600, 14400, 86400, 604800)


def _time_axis(x_scale: str, longest: float) -> alt.Axis:
    """Readable ticks for a symlog time axis (Vega's own are sparse there)."""
    if x_scale != "symlog":
        return alt.Axis(labelExpr=duration_expression(), labelOverlap=True)
    return alt.Axis(
        values=[t for t in _TIME_TICKS if t <= max(longest, 10) * 1.5],
        labelExpr=duration_expression(),
        labelOverlap=True,
    )


def survival_chart(
    survival: pl.DataFrame,
    *,
    points: int = 120,
    title: str | None = None,
    x_scale: str = "symlog",
) -> alt.TopLevelMixin:
    """Patience curves per channel: the Kaplan–Meier share of customers still waiting after t s.

    The step curve is read at ``points`` times from 0 to the longest wait (the value at t is
    the estimate after the last event at or before t), so the chart's size does not depend on
    how many distinct waits the data has. The times are spaced evenly on the chart's time axis:
    logarithmically with ``x_scale="symlog"`` (default: seconds of voice and hours of email both
    stay readable), evenly with ``"linear"``.

    Parameters
    ----------
    survival
        The frame from :func:`omnikit.wait_time_survival` (by ``interaction_type``).

    Examples
    --------
    >>> import omnikit as ok
    >>> ok.charts.survival_chart(ok.wait_time_survival(df))  # doctest: +SKIP
    """
    func = "survival_chart"
    data = _require(survival, [_CHANNEL, "time", "survival", "at_risk"], func, "wait_time_survival")
    _one_row_per(data, [_CHANNEL, "time"], func, "wait_time_survival")
    if isinstance(points, bool) or not isinstance(points, int) or points < 2:
        raise ParameterError(f"{func}: points= must be an int >= 2, got {points!r}")
    data = data.with_columns(pl.col(_CHANNEL).fill_null("(none)"))
    channels = data.select(_CHANNEL).unique().sort(_CHANNEL)
    scale = _time_scale(x_scale, func)
    tmax = float(data.select(pl.col("time").max()).item() or 0)
    if x_scale == "symlog" and tmax > 1:
        # 0, then geometric steps from 1 s to the longest wait.
        times = [0.0, *(tmax ** (i / (points - 2)) for i in range(points - 1))]
    else:
        times = [tmax * i / (points - 1) for i in range(points)]
    grid = pl.DataFrame({"t": times})
    curve = (
        channels.join(grid, how="cross")
        .sort(_CHANNEL, "t")
        .join_asof(
            data.select(_CHANNEL, pl.col("time").cast(pl.Float64), "survival", "at_risk").sort(
                _CHANNEL, "time"
            ),
            left_on="t",
            right_on="time",
            by=_CHANNEL,
            strategy="backward",
            check_sortedness=False,
        )
        .select(_CHANNEL, pl.col("t").round(2).alias("time"), pl.col("survival").fill_null(1.0))
        .with_columns(after=_durations(pl.col("time")))
    )
    base = base_chart(curve, width=CONTAINER).properties(
        title=title_params(
            title or "Customer patience by channel",
            "Kaplan–Meier: share of INBOUND customers still willing to wait (answered waits "
            "censored)",
        )
    )
    chart = base.mark_line(interpolate="step-after").encode(
        x=alt.X("time:Q", title="Waiting time", scale=scale, axis=_time_axis(x_scale, tmax)),
        y=alt.Y(
            "survival:Q",
            title="Still waiting (%)",
            axis=alt.Axis(format="%"),
            scale=alt.Scale(domain=[0, 1]),
        ),
        color=_color(curve),
        tooltip=[
            alt.Tooltip(f"{_CHANNEL}:N", title="Channel"),
            alt.Tooltip("after:N", title="After"),
            alt.Tooltip("survival:Q", title="Still waiting", format=".1%"),
        ],
    )
    return themed(chart)


# --------------------------------------------------------------------------------------------
# hour of week

_HOURLY: dict[str, tuple[str, Literal["blues", "orangered"] | None]] = {
    "volume": ("Interactions", "blues"),
    "median_wait": ("Median wait", "orangered"),
    "service_level": ("Service level", None),
}


def hourly_heatmap(
    profile: pl.DataFrame, *, target: float | None = 0.8, title: str | None = None
) -> alt.TopLevelMixin:
    """Hour-of-week heatmap (weekday × hour) of ``ok.hourly_profile(df, value=...)``.

    A service level is coloured on a scale that diverges at ``target``: orange below it,
    white at it, blue above (colour-blind safe); hours without inbound customers are grey.
    Median waits read as durations (``4 min 12 s``) in the legend and tooltips. With ``by=``
    one extra column, there is one heatmap per group (rows of a facet).

    Parameters
    ----------
    profile
        The frame from :func:`omnikit.hourly_profile`.
    target
        Where the service-level colours diverge (a share in [0, 1]); ignored for other values.

    Examples
    --------
    >>> import omnikit as ok
    >>> ok.charts.hourly_heatmap(ok.hourly_profile(df, value="median_wait"))  # doctest: +SKIP
    """
    func = "hourly_heatmap"
    data = _require(profile, ["weekday", "hour"], func, "hourly_profile")
    values = [v for v in _HOURLY if v in data.columns]
    if len(values) != 1:
        raise ParameterError(
            f"{func}: the frame must have one of the columns volume, median_wait, service_level "
            "(from ok.hourly_profile)"
        )
    value = values[0]
    label, scheme = _HOURLY[value]
    count = {"volume": None, "median_wait": "n", "service_level": "offered"}[value]
    keys = [c for c in data.columns if c not in ("weekday", "hour", value, count)]
    if len(keys) > 1:
        raise ParameterError(
            f"{func}: the frame is split by {', '.join(keys)}; chart at most one by= column"
        )
    _one_row_per(data, [*keys, "weekday", "hour"], func, "hourly_profile")
    if value == "service_level" and (
        target is None
        or isinstance(target, bool)
        or not isinstance(target, (int, float))
        or not 0 <= target <= 1
    ):
        raise ParameterError(f"{func}: target= must be a share between 0 and 1, got {target!r}")
    data = data.with_columns(
        day=pl.col("weekday").replace_strict(
            dict(enumerate(_WEEKDAYS, start=1)), return_dtype=pl.String
        ),
        hours=pl.format(
            "{}:00–{}:00",
            pl.col("hour").cast(pl.String).str.zfill(2),
            (pl.col("hour") + 1).cast(pl.String).str.zfill(2),
        ),
        shown=(
            _durations(pl.col(value))
            if value == "median_wait"
            else pl.col(value).map_elements(format_share, return_dtype=pl.String, skip_nulls=False)
            if value == "service_level"
            else pl.col(value)
            .cast(pl.Int64)
            .map_elements(lambda n: f"{n:,}", return_dtype=pl.String)
        ),
    )
    if value == "service_level" and target is not None:  # a share in [0, 1]: checked above
        middle = min(max(float(target), 0.001), 0.999)
        color_scale = alt.Scale(
            domain=[0, middle, 1],
            range=[BELOW_TARGET, AT_TARGET, ABOVE_TARGET],
            interpolate="rgb",
        )
        legend = alt.Legend(format=".0%", values=[0, float(target), 1])
    elif value == "median_wait":
        color_scale = alt.Scale(scheme=scheme or "orangered")
        legend = alt.Legend(labelExpr=duration_expression())
    else:
        color_scale = alt.Scale(scheme=scheme or "blues")
        legend = alt.Legend(format=",d")
    tooltip = [
        alt.Tooltip("day:N", title="Day"),
        alt.Tooltip("hours:N", title="Hour"),
        alt.Tooltip("shown:N", title=label),
    ]
    if count:
        tooltip.append(
            alt.Tooltip(f"{count}:Q", title="Waits" if count == "n" else "Offered", format=",")
        )
    for key in keys:
        tooltip.insert(0, alt.Tooltip(f"{key}:N", title="Channel" if key == _CHANNEL else key))
    subtitle = "Hour of week in the report's timezone" + (
        f"; white: the target ({format_share(target)}), orange below, blue above; "
        "grey: none offered"
        if value == "service_level"
        else "; grey: no waits"
        if value == "median_wait"
        else ""
    )
    x = alt.X("hour:O", title="Hour of day", axis=alt.Axis(labelOverlap=True, labelAngle=0))
    y = alt.Y("day:N", title=None, sort=list(_WEEKDAYS))
    cells = (
        alt.Chart()
        .mark_rect()
        .encode(
            x=x,
            y=y,
            color=alt.Color(f"{value}:Q", title=label, scale=color_scale, legend=legend),
            tooltip=tooltip,
        )
    )
    layers = [cells]
    if count:  # empty hours: grey, underneath
        layers.insert(0, alt.Chart().mark_rect(color="#d9d9d9").encode(x=x, y=y, tooltip=tooltip))
    heading = (
        title
        or {
            "volume": "Interactions by hour of week",
            "median_wait": "Median wait by hour of week",
            "service_level": "Service level by hour of week",
        }[value]
    )
    if not keys:
        chart = alt.layer(*layers, data=alt.Data(values=records(data))).properties(
            width=CONTAINER, height=alt.Step(22), title=title_params(heading, subtitle)
        )
        return themed(chart)
    chart = (
        alt.layer(*layers, data=alt.Data(values=records(data)))
        .properties(width=alt.Step(16), height=alt.Step(18))
        .facet(
            row=alt.Row(
                f"{keys[0]}:N",
                title="Channel" if keys[0] == _CHANNEL else keys[0],
                header=alt.Header(labelAngle=0, labelAlign="left"),
            )
        )
        .properties(title=title_params(heading, subtitle))
    )
    return themed(chart)
