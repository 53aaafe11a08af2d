"""The metrics of :mod:`omnikit._metrics` on a DuckDB relation or a PySpark DataFrame.

Each function has the signature of its polars namesake. The engine reads the rows once and builds
a small count table (narwhals expressions, run lazily in the engine); polars finishes it here:

- ``channel_mix``: counts per (period, *by, channel); shares are computed here.
- ``wait_time_stats``, ``wait_time_histogram``, ``hourly_profile(value="median_wait")``: counts
  per (*by, ``waiting_time``) -- waits are whole seconds, so the table has one row per distinct
  wait, not per interaction; percentiles interpolate linearly from that frequency table
  (numpy's default), exactly as the polars path does.
- ``service_level``, ``hourly_profile(value="service_level")``: INBOUND rows counted per
  (*by, upper-cased status, answered within the channel's threshold, shorter than
  ``short_abandon``), with the sum and number of known waits.
- ``wait_time_survival``: INBOUND rows counted per (*by, wait, status); Kaplan-Meier runs here.

Wall-clock rules use the engine's session zone (see :mod:`omnikit._engines._frames`): ``every=``
truncates the wall-clock time of ``start_date_time`` to one unit (``"1h"``, ``"1d"``, ``"1w"``,
``"1mo"``, ...), and a repeated or skipped period start becomes an instant here, by the polars
path's rule (the earlier instant; the first instant after a gap).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from typing import Any, Literal

import narwhals as nw
import polars as pl

from .._errors import ParameterError, warn_data_quality
from .._metrics import (
    _SERVICE_LEVEL_COLUMNS,
    LOG_WAIT_EDGES,
    _check_formula,
    _collect,
    _hourly_columns,
    _outcome_sets,
    _percentile_columns,
    _quantile_from_counts,
    _service_level_aggs,
    _short_seconds,
    _stats_from_counts,
    _unknown_statuses,
)
from .._metrics import _warn_unknown as _warn_unknown_statuses
from .._validate import by_columns, seconds
from ..types import By, Duration, Formula, Outcomes, Threshold, Thresholds
from ._frames import check_columns, collect, engine_name, lazy, timezone
from ._params import check_every, thresholds

__all__ = [
    "channel_mix",
    "hourly_profile",
    "service_level",
    "wait_time_histogram",
    "wait_time_stats",
    "wait_time_survival",
]

_INBOUND = "INBOUND"
Frame = Any  # a DuckDB relation or a PySpark DataFrame


# --------------------------------------------------------------------------------------------
# wall-clock time


def wall_clock(frame: nw.LazyFrame[Any], column: str = "start_date_time") -> nw.Expr:
    """``column`` as a naive wall-clock timestamp of the engine's session zone."""
    if timezone(frame, column) is None:
        return nw.col(column)
    return nw.col(column).dt.replace_time_zone(None)


def naive(values: pl.Series, zone: str | None) -> pl.Series:
    """Wall-clock times collected from an engine (Spark returns them as instants) as naive."""
    dtype = values.dtype
    if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
        values = values.dt.convert_time_zone(zone or "UTC").dt.replace_time_zone(None)
    return values.cast(pl.Datetime("us"))


def localize(wall: pl.Series, zone: str | None) -> pl.Series:
    """Wall-clock period starts as instants of ``zone``: a repeated wall-clock time is its
    earlier instant, one inside a DST gap the first instant after the gap."""
    if zone is None:
        return wall
    out = wall.dt.replace_time_zone(zone, ambiguous="earliest", non_existent="null")
    gaps = wall.filter(out.is_null() & wall.is_not_null()).unique().to_list()
    fixes: dict[object, object] = {}
    for start in gaps:
        steps = pl.Series([start + dt.timedelta(minutes=m) for m in range(1, 24 * 60)])
        valid = steps.dt.replace_time_zone(zone, non_existent="null").drop_nulls()
        fixes[start] = valid[0]
    if fixes:
        fix = pl.Series([fixes.get(w) for w in wall.to_list()], dtype=out.dtype)
        out = out.fill_null(fix)
    return out.alias(wall.name)


def _hour_of_week(frame: nw.LazyFrame[Any]) -> list[nw.Expr]:
    local = wall_clock(frame)
    # ((w + 6) % 7) + 1 is 1..7 (Monday..Sunday) whether the engine says 0 or 7 for Sunday.
    return [
        (((local.dt.weekday() + 6) % 7) + 1).alias("weekday"),
        local.dt.hour().alias("hour"),
    ]


def _sorted(df: pl.DataFrame, keys: Sequence[str]) -> pl.DataFrame:
    return df.sort(keys, nulls_last=True, maintain_order=True) if keys else df


def _over(expr: pl.Expr, keys: Sequence[str]) -> pl.Expr:
    return expr.over(keys) if keys else expr


# --------------------------------------------------------------------------------------------
# channel mix


def channel_mix(df: Frame, *, by: By = None, every: Duration | None = None) -> pl.DataFrame:
    """:func:`omnikit.channel_mix` on a DuckDB relation or a PySpark DataFrame.

    Parameters
    ----------
    df
        A DuckDB relation or PySpark DataFrame with the canonical columns.
    by, every
        As in :func:`omnikit.channel_mix`; ``every`` is one unit (``"1h"``, ``"1d"``, ``"1w"``,
        ``"1mo"``, ``"1q"``, ``"1y"``), in the engine's session zone.

    Returns
    -------
    polars.DataFrame
        The same columns and values as :func:`omnikit.channel_mix` of the same rows.

    Examples
    --------
    >>> import duckdb, omnikit as ok
    >>> rel = duckdb.from_arrow(ok.synth_frame(500).to_arrow())  # doctest: +SKIP
    >>> channel_mix(rel, every="1w")  # doctest: +SKIP
    """
    func = "channel_mix"
    frame = lazy(df, func)
    keys = [k for k in by_columns(by, func) if k != "interaction_type"]
    needed = [*keys, "interaction_type"]
    zone = None
    if every is not None:
        needed.append("start_date_time")
    check_columns(frame, needed, func)
    if every is not None:
        base = check_every(every, engine_name(frame), func)
        zone = timezone(frame)
        frame = frame.with_columns(period=wall_clock(frame).dt.truncate(base))
        keys = ["period", *keys]
    table = frame.group_by([*keys, "interaction_type"]).agg(nw.len().alias("interactions"))
    result = collect(table, timezone=zone).with_columns(pl.col("interactions").cast(pl.Int64))
    if every is not None:
        # The engine truncated to one unit; polars finishes (weeks, multiples) on the wall clock.
        wall = naive(result["period"], zone).dt.truncate(every)
        result = (
            result.with_columns(period=wall)
            .group_by([*keys, "interaction_type"])
            .agg(pl.col("interactions").sum())
        )
        result = result.with_columns(period=localize(result["period"], zone))
    result = result.select(
        *keys,
        "interaction_type",
        "interactions",
        share=pl.col("interactions") / _over(pl.col("interactions").sum(), keys),
    )
    return _sorted(result, [*keys, "interaction_type"])


# --------------------------------------------------------------------------------------------
# waiting times


def _wait_counts(frame: nw.LazyFrame[Any], keys: list[str], *extra: str) -> pl.DataFrame:
    """Rows with a known wait counted per (keys, extra, ``waiting_time``), sorted by wait."""
    w = nw.col("waiting_time")
    table = (
        frame.filter(~w.is_null())
        .group_by([*keys, *extra, "waiting_time"])
        .agg(nw.len().alias("_count"))
    )
    return (
        collect(table)
        .with_columns(pl.col("_count").cast(pl.Int64))
        .sort("waiting_time", maintain_order=True)
    )


def wait_time_stats(
    df: Frame,
    *,
    by: By = "interaction_type",
    percentiles: Sequence[float] = (0.5, 0.9, 0.95),
) -> pl.DataFrame:
    """:func:`omnikit.wait_time_stats` on a DuckDB relation or a PySpark DataFrame.

    The engine counts rows per (*by, ``waiting_time``); the mean, percentiles (linear between
    closest ranks, numpy's default) and maximum are read off that frequency table here.

    Parameters
    ----------
    df
        A DuckDB relation or PySpark DataFrame with the canonical columns.
    by, percentiles
        As in :func:`omnikit.wait_time_stats`.

    Returns
    -------
    polars.DataFrame
        *by, ``n, mean``, one column per percentile, ``max``.

    Examples
    --------
    >>> wait_time_stats(spark_df, percentiles=(0.5, 0.99))  # doctest: +SKIP
    """
    func = "wait_time_stats"
    frame = lazy(df, func)
    keys = by_columns(by, func)
    check_columns(frame, [*keys, "waiting_time"], func)
    names = _percentile_columns(percentiles, func)
    counts = _wait_counts(frame, keys)
    aggs = _stats_from_counts(pl.col("waiting_time"), pl.col("_count"), names)
    out = counts.group_by(keys, maintain_order=True).agg(aggs) if keys else counts.select(aggs)
    return _sorted(out, keys)


def wait_time_histogram(
    df: Frame,
    *,
    by: By = "interaction_type",
    bins: int | Sequence[float] | Literal["log"] = 30,
) -> pl.DataFrame:
    """:func:`omnikit.wait_time_histogram` on a DuckDB relation or a PySpark DataFrame.

    The engine counts rows per (*by, ``waiting_time``); bins are filled here from that table.

    Parameters
    ----------
    df
        A DuckDB relation or PySpark DataFrame with the canonical columns.
    by, bins
        As in :func:`omnikit.wait_time_histogram`.

    Returns
    -------
    polars.DataFrame
        *by, ``bin, bin_start, bin_end, count, share, cumulative_share``.

    Examples
    --------
    >>> wait_time_histogram(spark_df, bins="log")  # doctest: +SKIP
    """
    func = "wait_time_histogram"
    frame = lazy(df, func)
    keys = by_columns(by, func)
    check_columns(frame, [*keys, "waiting_time"], func)
    if isinstance(bins, str):
        if bins != "log":
            raise ParameterError(
                f"{func}: bins= must be an int, a list of edges or 'log', got {bins!r}"
            )
        bins = LOG_WAIT_EDGES
    if isinstance(bins, bool) or not isinstance(bins, (int, Sequence)):
        raise ParameterError(f"{func}: bins= must be an int or a list of edges, got {bins!r}")
    if isinstance(bins, int) and bins < 1:
        raise ParameterError(f"{func}: bins= must be at least 1, got {bins}")
    if not isinstance(bins, int):
        edges = [float(e) for e in bins]
        if not edges or edges[0] != 0 or any(b <= a for a, b in itertools.pairwise(edges)):
            raise ParameterError(
                f"{func}: bins= edges must start at 0 and increase strictly, got {list(bins)!r}"
            )
    counts = _wait_counts(frame, keys)
    w = pl.col("waiting_time")
    if isinstance(bins, int):
        top = counts["waiting_time"].max()
        width = int((0 if top is None else top) // bins + 1)  # type: ignore[operator]
        binned = counts.with_columns(bin=(w // width).cast(pl.Int64))
        grid = pl.DataFrame(
            {
                "bin": range(bins),
                "bin_start": [float(b * width) for b in range(bins)],
                "bin_end": [float((b + 1) * width) for b in range(bins)],
            },
            schema={"bin": pl.Int64, "bin_start": pl.Float64, "bin_end": pl.Float64},
        )
    else:
        edge_series = pl.Series("edges", edges, dtype=pl.Float64)
        binned = counts.with_columns(
            bin=(pl.lit(edge_series).search_sorted(w.cast(pl.Float64), side="right") - 1).cast(
                pl.Int64
            )
        )
        grid = pl.DataFrame(
            {"bin": range(len(edges)), "bin_start": edges, "bin_end": [*edges[1:], None]},
            schema={"bin": pl.Int64, "bin_start": pl.Float64, "bin_end": pl.Float64},
        )
    per_bin = binned.group_by([*keys, "bin"]).agg(count=pl.col("_count").sum().cast(pl.Int64))
    if keys:
        grid = per_bin.select(keys).unique().join(grid, how="cross")
    return (
        grid.join(per_bin, on=[*keys, "bin"], how="left", nulls_equal=True)
        .with_columns(pl.col("count").fill_null(0))
        .sort([*keys, "bin"], nulls_last=True)
        .with_columns(_total=_over(pl.col("count").sum(), keys))
        .with_columns(
            share=pl.when(pl.col("_total") > 0).then(pl.col("count") / pl.col("_total")),
            cumulative_share=pl.when(pl.col("_total") > 0).then(
                _over(pl.col("count").cum_sum(), keys) / pl.col("_total")
            ),
        )
        .select(*keys, "bin", "bin_start", "bin_end", "count", "share", "cumulative_share")
    )


# --------------------------------------------------------------------------------------------
# service level


def _within(threshold: dict[str, float] | float) -> nw.Expr:
    """Whether the wait is within the threshold of the row's channel (an unknown wait is not)."""
    w = nw.col("waiting_time")
    if not isinstance(threshold, dict):
        return (w <= threshold).fill_null(False)
    channel = nw.col("interaction_type")
    named = {k: v for k, v in threshold.items() if k != "*"}
    parts = [(channel == k) & (w <= v) for k, v in named.items()]
    if "*" in threshold:
        other = ~channel.is_in(list(named)).fill_null(False) if named else nw.lit(True)
        parts.append(other & (w <= threshold["*"]))
    out = parts[0]
    for part in parts[1:]:
        out = out | part
    return out.fill_null(False)


def _status_table(
    frame: nw.LazyFrame[Any],
    keys: list[str],
    threshold: dict[str, float] | float,
    short_abandon: float | None,
) -> pl.DataFrame:
    """INBOUND rows per (keys, status as written, within, short wait[, channel]), with the sum
    and number of known waits: the columns of the polars path's status table, so its
    aggregations (``omnikit._metrics._service_level_aggs``) read it as they are."""
    w = nw.col("waiting_time")
    extra = ["interaction_type"] if isinstance(threshold, dict) else []
    group = list(dict.fromkeys([*keys, *extra, "interaction_status", "_within", "_short_wait"]))
    short = nw.lit(False) if short_abandon is None else (w < short_abandon).fill_null(False)
    table = (
        frame.filter(nw.col("interaction_direction") == _INBOUND)
        .with_columns(_within=_within(threshold), _short_wait=short)
        .group_by(group)
        .agg(
            nw.len().alias("_rows"),
            w.sum().alias("_wait_sum"),
            w.count().alias("_wait_n"),
        )
    )
    out = collect(table)
    return out.with_columns(pl.col("_rows", "_wait_sum", "_wait_n").cast(pl.Int64))


def _check_channels(table: pl.DataFrame, threshold: dict[str, float] | float, func: str) -> None:
    """The polars path's error for INBOUND channels a mapping without ``"*"`` does not name."""
    if not isinstance(threshold, dict) or "*" in threshold:
        return
    channel = pl.col("interaction_type")
    uncovered = (
        table.filter(~channel.is_in(list(threshold)).fill_null(False))
        .group_by(channel)
        .agg(rows=pl.col("_rows").sum())
        .sort("interaction_type", nulls_last=True)
    )
    if uncovered.height:
        named = ", ".join(
            f"{'<null>' if c is None else repr(c)} ({n} interaction(s))"
            for c, n in uncovered.iter_rows()
        )
        raise ParameterError(
            f"{func}: threshold= has no threshold for INBOUND channel(s) {named}; add them "
            "to the mapping, or a '*' entry for every channel it does not name (see "
            "ok.DEFAULT_THRESHOLDS)"
        )


def _warn_unknown(table: pl.DataFrame, known: list[str], func: str, given: bool) -> None:
    """The polars path's warning about statuses ``known`` does not list, from a status table."""
    (unknown,) = _collect(_unknown_statuses(table.lazy(), known))
    _warn_unknown_statuses(unknown, func, given)


def _service_level_from_table(
    table: pl.DataFrame,
    keys: list[str],
    sets: dict[str, list[str]],
    formula: str,
    short_abandon: float | None,
) -> pl.DataFrame:
    """Every count and ratio of :func:`service_level`, by the polars path's aggregations."""
    known = [s for statuses in sets.values() for s in statuses]
    aggs, ratios = _service_level_aggs(sets, formula, short=short_abandon is not None)
    rows = table.filter(pl.col("interaction_status").str.to_uppercase().is_in(known))
    grouped = rows.group_by(keys, maintain_order=True).agg(aggs) if keys else rows.select(aggs)
    out = grouped.with_columns(ratios).select(*keys, *_SERVICE_LEVEL_COLUMNS)
    return _sorted(out, keys)


def service_level(
    df: Frame,
    *,
    threshold: Thresholds = 20,
    short_abandon: Threshold | None = 5,
    by: By = "interaction_type",
    formula: Formula = "talkdesk",
    outcomes: Outcomes | None = None,
) -> pl.DataFrame:
    """:func:`omnikit.service_level` on a DuckDB relation or a PySpark DataFrame.

    The engine counts INBOUND rows per (*by, upper-cased status, answered within the row's
    channel threshold, waited less than ``short_abandon``) with the sum and number of known
    waits; every count and ratio is read off that table here.

    Parameters
    ----------
    df
        A DuckDB relation or PySpark DataFrame with the canonical columns.
    threshold
        Seconds, a duration, or a mapping ``interaction_type`` -> either (``"*"``: every other
        channel; a channel with no threshold is a :class:`omnikit.ParameterError`).
    short_abandon
        Seconds; ``None`` turns short-abandon filtering off (SHORT_ABANDONED counts as
        abandoned, nothing leaves the denominators).
    by, formula, outcomes
        As in :func:`omnikit.service_level`; statuses match ``outcomes`` without regard to case.

    Returns
    -------
    polars.DataFrame
        *by, ``offered, answered, answered_within, unanswered, short_abandoned, abandoned,
        service_level, abandon_rate, asa``.

    Examples
    --------
    >>> service_level(spark_df, threshold={"VOICE": 20, "*": "1h"}, by=None)  # doctest: +SKIP
    """
    func = "service_level"
    frame = lazy(df, func)
    keys = by_columns(by, func)
    limit = thresholds(threshold, func)
    needed = [*keys, "interaction_status", "interaction_direction", "waiting_time"]
    if isinstance(limit, dict):
        needed.append("interaction_type")
    check_columns(frame, needed, func)
    short = _short_seconds(short_abandon, func)
    formula = _check_formula(formula, func)
    sets = _outcome_sets(outcomes, func)
    table = _status_table(frame, keys, limit, short)
    _check_channels(table, limit, func)
    _warn_unknown(table, [s for v in sets.values() for s in v], func, outcomes is not None)
    return _service_level_from_table(table, keys, sets, formula, short)


# --------------------------------------------------------------------------------------------
# patience (Kaplan-Meier)


def wait_time_survival(
    df: Frame,
    *,
    by: By = "interaction_type",
    up_to: Threshold | None = None,
    outcomes: Outcomes | None = None,
) -> pl.DataFrame:
    """:func:`omnikit.wait_time_survival` on a DuckDB relation or a PySpark DataFrame.

    The engine counts INBOUND rows per (*by, ``waiting_time``, upper-cased status); the
    Kaplan-Meier estimate is computed here from those counts.

    Parameters
    ----------
    df
        A DuckDB relation or PySpark DataFrame with the canonical columns.
    by, outcomes
        As in :func:`omnikit.wait_time_survival`.
    up_to
        ``None`` for the whole curve, or seconds (a number, duration string or timedelta): the
        rows with ``time <= up_to``.

    Returns
    -------
    polars.DataFrame
        *by, ``time, at_risk, events, censored, survival``.

    Examples
    --------
    >>> wait_time_survival(spark_df, up_to=120)  # doctest: +SKIP
    """
    func = "wait_time_survival"
    frame = lazy(df, func)
    keys = by_columns(by, func)
    check_columns(
        frame, [*keys, "interaction_status", "interaction_direction", "waiting_time"], func
    )
    limit = None if up_to is None else seconds(up_to, "up_to", func)
    sets = _outcome_sets(outcomes, func)
    known = [s for v in sets.values() for s in v]
    table = collect(
        frame.filter(nw.col("interaction_direction") == _INBOUND)
        .group_by([*keys, "waiting_time", "interaction_status"])
        .agg(nw.len().alias("_rows"))
    ).with_columns(pl.col("_rows").cast(pl.Int64))
    _warn_unknown(table, known, func, outcomes is not None)
    s = pl.col("interaction_status").str.to_uppercase()
    rows, w = pl.col("_rows"), pl.col("waiting_time")
    out = (
        table.filter(~w.is_null())
        .group_by(*keys, "waiting_time")
        .agg(
            events=rows.filter(s.is_in(sets["unanswered"])).sum().cast(pl.Int64),
            censored=rows.filter(s.is_in(sets["answered"])).sum().cast(pl.Int64),
        )
        .filter((pl.col("events") + pl.col("censored")) > 0)
        .select(*keys, w.cast(pl.Int64).alias("time"), "events", "censored")
        .sort([*keys, "time"], nulls_last=True)
        .with_columns(
            at_risk=_over((pl.col("events") + pl.col("censored")).cum_sum(reverse=True), keys)
        )
        .with_columns(survival=_over((1.0 - pl.col("events") / pl.col("at_risk")).cum_prod(), keys))
        .select(*keys, "time", "at_risk", "events", "censored", "survival")
    )
    return out if limit is None else out.filter(pl.col("time") <= limit)


# --------------------------------------------------------------------------------------------
# hour of week


def hourly_profile(
    df: Frame,
    *,
    value: Literal["volume", "median_wait", "service_level"] = "volume",
    by: By = None,
    threshold: Thresholds = 20,
    short_abandon: Threshold | None = 5,
    formula: Formula = "talkdesk",
    outcomes: Outcomes | None = None,
) -> pl.DataFrame:
    """:func:`omnikit.hourly_profile` on a DuckDB relation or a PySpark DataFrame.

    The weekday and hour of ``start_date_time`` are those of the wall clock in the engine's
    session zone. The engine counts rows per (*by, weekday, hour) -- and wait, or status, for
    the median and the service level -- and the grid is completed here.

    Parameters
    ----------
    df
        A DuckDB relation or PySpark DataFrame with the canonical columns.
    value, by, threshold, short_abandon, formula, outcomes
        As in :func:`omnikit.hourly_profile` and :func:`service_level`.

    Returns
    -------
    polars.DataFrame
        *by, ``weekday, hour``, then ``volume``; ``median_wait, n``; or ``service_level,
        offered``.

    Examples
    --------
    >>> hourly_profile(duckdb_relation, value="median_wait")  # doctest: +SKIP
    """
    func = "hourly_profile"
    frame = lazy(df, func)
    keys = by_columns(by, func)
    limit = thresholds(threshold, func) if value == "service_level" else 0.0  # read only for SL
    needed = _hourly_columns(value, keys, isinstance(limit, dict), func)
    check_columns(frame, needed, func)
    start = nw.col("start_date_time")
    missing = int(collect(frame.select(start.null_count().alias("n")))["n"].item() or 0)
    placed = frame.filter(~start.is_null()).with_columns(*_hour_of_week(frame))
    cell = [*keys, "weekday", "hour"]
    small = [pl.col("weekday").cast(pl.Int8), pl.col("hour").cast(pl.Int8)]
    if value == "volume":
        agg = collect(placed.group_by(cell).agg(nw.len().alias("volume"))).with_columns(
            *small, pl.col("volume").cast(pl.Int64)
        )
        fill = {"volume": 0}
    elif value == "median_wait":
        counts = _wait_counts(placed, keys, "weekday", "hour").with_columns(small)
        agg = counts.group_by(cell, maintain_order=True).agg(
            median_wait=_quantile_from_counts(pl.col("waiting_time"), pl.col("_count"), 0.5),
            n=pl.col("_count").sum().cast(pl.Int64),
        )
        fill = {"n": 0}
    else:
        short = _short_seconds(short_abandon, func)
        formula = _check_formula(formula, func)
        sets = _outcome_sets(outcomes, func)
        table = _status_table(placed, cell, limit, short).with_columns(small)
        _check_channels(table, limit, func)
        _warn_unknown(table, [s for v in sets.values() for s in v], func, outcomes is not None)
        agg = _service_level_from_table(table, cell, sets, formula, short).select(
            *cell, "service_level", "offered"
        )
        fill = {"offered": 0}
    grid = pl.DataFrame(
        {"weekday": [d for d in range(1, 8) for _ in range(24)], "hour": list(range(24)) * 7},
        schema={"weekday": pl.Int8, "hour": pl.Int8},
    )
    if keys:
        grid = agg.select(keys).unique().join(grid, how="cross")
    result = (
        grid.join(agg, on=cell, how="left", nulls_equal=True)
        .with_columns(pl.col(name).fill_null(v) for name, v in fill.items())
        .sort(cell, nulls_last=True)
    )
    if missing:
        warn_data_quality(
            f"{func}: {missing} interaction(s) have no start_date_time and are left out of the "
            "hour-of-week grid."
        )
    return result
