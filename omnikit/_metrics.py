"""Contact-center metrics over the canonical frame: channel mix, waits, service level, patience.

Every function takes a :class:`polars.DataFrame` or :class:`polars.LazyFrame` in the canonical form
(see :func:`omnikit.canonical_schema`), builds one lazy query of polars expressions, collects it
once at the end and returns a small :class:`polars.DataFrame` sorted by its key columns (nulls
last). (Only two rare cases query again: naming the statuses of a patience warning, and start
times outside 1990-2060, which are converted row by row.) The rows are read once into a small
table (counts per group, wait and status), and every number is computed from that table. ``by`` is ``None``, a column name or a list of column names; a null key is a group of its
own, never dropped.

The definitions are those of ``shared/API.md`` section 2; in short:

- an INBOUND interaction's outcome comes from its ``interaction_status`` through :data:`OUTCOMES`
  (matched without regard to case): *answered* (FINISHED, ASSIGNED), *unanswered* (MISSED,
  ABANDONED, SHORT_ABANDONED, VOICEMAIL) or *open* (OFFERED: still waiting, not counted);
- each interaction is judged against its own channel's service-level threshold (a number, a
  duration, or a mapping from ``interaction_type``, see :data:`DEFAULT_THRESHOLDS`);
- a *short abandon* is SHORT_ABANDONED, or ABANDONED after waiting less than ``short_abandon``
  seconds; it is left out of the service-level and abandon-rate denominators ("talkdesk" formula);
  ``short_abandon=None`` turns this off;
- a ratio whose denominator is 0 is null.
"""

from __future__ import annotations

import datetime as dt
import functools
import warnings
from collections.abc import Mapping, Sequence
from typing import Literal

import polars as pl

from ._errors import DataQualityWarning, ParameterError

__all__ = [
    "DEFAULT_THRESHOLDS",
    "OUTCOMES",
    "SERVICE_LEVEL_FORMULAS",
    "channel_mix",
    "hourly_profile",
    "service_level",
    "wait_time_histogram",
    "wait_time_stats",
    "wait_time_survival",
]

#: How each ``interaction_status`` of an INBOUND interaction counts. Pass a replacement mapping as
#: ``outcomes=`` to :func:`service_level`, :func:`wait_time_survival` or :func:`hourly_profile`.
OUTCOMES: dict[str, str] = {
    "FINISHED": "answered",
    "ASSIGNED": "answered",
    "MISSED": "unanswered",
    "ABANDONED": "unanswered",
    "SHORT_ABANDONED": "unanswered",
    "VOICEMAIL": "unanswered",
    "OFFERED": "open",
}

#: The service-level formulas :func:`service_level` knows, by name, as written in the docs.
SERVICE_LEVEL_FORMULAS: dict[str, str] = {
    "talkdesk": "answered_within / (offered - short_abandoned)",
    "answered": "answered_within / answered",
    "offered": "answered_within / offered",
    "abandon_positive": "(answered_within + unanswered with waiting_time <= threshold) / offered",
}

#: Service-level thresholds in seconds per ``interaction_type``, from common practice, that the
#: reports use by default (``"*"``: every channel not named). A call is live: 80 % answered within
#: 20 s is the classic standard and Talkdesk's own default. A chat customer stays on the page but
#: expects an agent within about a minute. Messaging (SMS, WhatsApp, Messenger, Digital Connect)
#: is asynchronous: a reply within minutes is good service. E-mail is read later: a reply within
#: a few business hours is good service (24 h is a common promise; 4 h is what leading teams aim
#: for). Any other channel (``"*"``) is judged as strictly as a call, so that it stands out in a
#: report until it is given its own threshold. The README explains each choice.
DEFAULT_THRESHOLDS: dict[str, float] = {
    "VOICE": 20,
    "CHAT": 60,
    "SMS": 15 * 60,
    "WHATSAPP": 15 * 60,
    "FBM": 15 * 60,  # Facebook Messenger, spelled both ways
    "FB_MESSENGER": 15 * 60,
    "DIGITAL_CONNECT": 15 * 60,
    "EMAIL": 4 * 3600,
    "*": 20,
}

_OUTCOME_NAMES = ("answered", "unanswered", "open")
_HOURLY_VALUES = ("volume", "median_wait", "service_level")
_INBOUND = "INBOUND"

FrameLike = pl.DataFrame | pl.LazyFrame
By = str | Sequence[str] | None
#: Seconds, or a fixed-length duration string or timedelta; and that, or one per channel.
Threshold = float | str | dt.timedelta
Thresholds = Threshold | Mapping[str, Threshold]


# --------------------------------------------------------------------------------------------
# small helpers: input checks, the pieces of a query, collecting


def _lazy(df: FrameLike, func: str) -> pl.LazyFrame:
    if isinstance(df, pl.LazyFrame):
        return df
    if isinstance(df, pl.DataFrame):
        return df.lazy()
    raise ParameterError(
        f"{func}: expected a polars DataFrame or LazyFrame (e.g. from ok.load), got {type(df).__name__}"
    )


def _by_list(by: By, func: str) -> list[str]:
    if by is None:
        return []
    if isinstance(by, str):
        return [by]
    if isinstance(by, Sequence) and all(isinstance(b, str) for b in by):
        out: list[str] = []
        for b in by:
            if b not in out:
                out.append(b)
        return out
    raise ParameterError(f"{func}: by= must be None, a column name or a list of names, got {by!r}")


def _check_columns(schema: pl.Schema, needed: Sequence[str], func: str) -> None:
    missing = [c for c in needed if c not in schema]
    if missing:
        raise ParameterError(
            f"{func}: the frame has no column(s) {', '.join(map(repr, missing))}; "
            f"it has {', '.join(schema.names())}. Load reports with ok.load() to get the "
            "canonical columns, or pass by= names that exist."
        )
    if "waiting_time" in needed and not schema["waiting_time"].is_numeric():
        raise ParameterError(
            f"{func}: column 'waiting_time' must hold seconds as numbers, it is {schema['waiting_time']}"
        )
    if "start_date_time" in needed and not isinstance(schema["start_date_time"], pl.Datetime):
        raise ParameterError(
            f"{func}: column 'start_date_time' must be a Datetime, it is {schema['start_date_time']}"
        )


def _check_seconds(value: object, name: str, func: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise ParameterError(f"{func}: {name}= must be a number of seconds >= 0, got {value!r}")
    return value


def _outcome_sets(outcomes: Mapping[str, str] | None, func: str) -> dict[str, list[str]]:
    mapping = OUTCOMES if outcomes is None else outcomes
    if not isinstance(mapping, Mapping):
        raise ParameterError(
            f"{func}: outcomes= must be a mapping status -> outcome, got {mapping!r}"
        )
    sets: dict[str, list[str]] = {name: [] for name in _OUTCOME_NAMES}
    seen: dict[str, tuple[str, str]] = {}
    for status, outcome in mapping.items():
        if outcome not in sets:
            raise ParameterError(
                f"{func}: outcomes= maps {status!r} to {outcome!r}; an outcome must be one of "
                f"{', '.join(map(repr, _OUTCOME_NAMES))}"
            )
        if not isinstance(status, str):
            raise ParameterError(f"{func}: outcomes= keys must be status names, got {status!r}")
        # Statuses match without regard to case: the sets hold upper-case names.
        key = status.upper()
        if key in seen and seen[key][1] != outcome:
            raise ParameterError(
                f"{func}: outcomes= maps {seen[key][0]!r} to {seen[key][1]!r} and {status!r} to "
                f"{outcome!r}; statuses match without regard to case, so give one outcome"
            )
        if key not in seen:
            seen[key] = (status, outcome)
            sets[outcome].append(key)
    return sets


def _sorted(lf: pl.LazyFrame, keys: Sequence[str]) -> pl.LazyFrame:
    return lf.sort(keys, nulls_last=True, maintain_order=True) if keys else lf


def _over(expr: pl.Expr, keys: Sequence[str]) -> pl.Expr:
    return expr.over(keys) if keys else expr


def _collect(*lfs: pl.LazyFrame) -> list[pl.DataFrame]:
    """Collect several queries over the same source together (shared scans are computed once)."""
    return pl.collect_all(list(lfs))


def _unknown_statuses(table: pl.LazyFrame, known: Sequence[str]) -> pl.LazyFrame:
    """Rows per status (as written) that ``known`` (upper case) does not list, from a table of
    INBOUND row counts."""
    status = pl.col("interaction_status")
    return (
        table.filter(~status.str.to_uppercase().is_in(known) | status.is_null())
        .group_by(status)
        .agg(rows=pl.col("_rows").sum())
        .sort("rows", "interaction_status", descending=[True, False], nulls_last=True)
    )


def _warn_unknown(unknown: pl.DataFrame, func: str, outcomes_given: bool) -> None:
    if unknown.height == 0:
        return
    total = int(unknown["rows"].sum())
    parts = [
        f"{'<null>' if s is None else repr(s)}: {n}"
        for s, n in unknown.select("interaction_status", "rows").iter_rows()
    ]
    table = "outcomes=" if outcomes_given else "ok.OUTCOMES"
    warnings.warn(
        f"{func}: {total} INBOUND interaction(s) have an interaction_status that {table} does not "
        f"map to answered/unanswered/open and are left out of every count ({', '.join(parts)}). "
        "Pass outcomes= with these statuses to count them.",
        DataQualityWarning,
        stacklevel=3,
    )


def _percentile_name(q: float) -> str:
    text = f"{q * 100:.10f}".rstrip("0").rstrip(".")
    return "p" + text.replace(".", "_")


# --------------------------------------------------------------------------------------------
# wall-clock time in the frame's timezone, without converting every row through the tz database

_SECOND = 1_000_000  # microseconds
_HOUR = 3600 * _SECOND
_DAY = 24 * _HOUR


def _offsets_at(instants_us: pl.Series, timezone: str) -> pl.Series:
    """UTC offset (µs) of ``timezone`` at each instant (µs since the epoch)."""
    utc = instants_us.cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    local = utc.dt.convert_time_zone(timezone).dt.replace_time_zone(None)
    return local.cast(pl.Int64) - instants_us


@functools.lru_cache(maxsize=64)
def _offset_changes(
    timezone: str, lo_us: int, hi_us: int
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The instants (µs) from which ``timezone``'s UTC offset holds, and those offsets, over
    [lo, hi]; exact to the second (the tz database's resolution): hours are sampled, and each
    hour in which the offset changed is searched second by second."""
    lo = lo_us // _HOUR * _HOUR
    hours = pl.int_range(lo, hi_us // _HOUR * _HOUR + 2 * _HOUR, _HOUR, eager=True, dtype=pl.Int64)
    offsets = _offsets_at(hours, timezone)
    starts, values = [lo], [int(offsets[0])]
    for i in (offsets != offsets.shift(1)).fill_null(False).arg_true().to_list():
        seconds = pl.int_range(
            int(hours[i - 1]) + _SECOND,
            int(hours[i]) + _SECOND,
            _SECOND,
            eager=True,
            dtype=pl.Int64,
        )
        inside = _offsets_at(seconds, timezone)
        changed = (inside != inside.shift(1, fill_value=values[-1])).arg_true().to_list()
        starts += [int(seconds[j]) for j in changed]
        values += [int(inside[j]) for j in changed]
    return tuple(starts), tuple(values)


_TABLE_START = 631_152_000 * _SECOND  # 1990-01-01 UTC: the offset table covers 1990 ...
_TABLE_END = 2_840_140_800 * _SECOND  # ... to 2060-01-01 UTC; rows outside convert row by row


def _wall_clock(
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
    starts, offsets = _offset_changes(timezone, _TABLE_START, _TABLE_END)
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


def _localize(naive: pl.Series, timezone: str | None) -> pl.Series:
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
        starts, offsets = _offset_changes(timezone, wall_us - 2 * _DAY, wall_us + 2 * _DAY)
        for k in range(1, len(starts)):
            if starts[k] + offsets[k - 1] <= wall_us < starts[k] + offsets[k]:
                fixes[wall] = starts[k]
    utc = pl.Series([fixes.get(w) for w in naive.to_list()], dtype=pl.Int64).cast(pl.Datetime("us"))
    return out.fill_null(utc.dt.replace_time_zone("UTC").dt.convert_time_zone(timezone)).alias(
        naive.name
    )


# --------------------------------------------------------------------------------------------
# channel mix


def channel_mix(df: FrameLike, *, by: By = None, every: str | None = None) -> pl.DataFrame:
    """Count interactions per channel and their share of each period and group.

    Parameters
    ----------
    df
        Canonical frame (DataFrame or LazyFrame), e.g. from :func:`omnikit.load`.
    by
        ``None``, a column name or a list of names to split by (e.g. ``"interaction_direction"``).
    every
        ``None`` (no time split) or a polars duration string (``"1h"``, ``"1d"``, ``"1w"``,
        ``"1mo"``): ``period`` is ``start_date_time`` truncated to it in the frame's timezone
        (weeks start on Monday): the start of the wall-clock period, as an instant of that
        timezone. Should that wall-clock time occur twice (DST fall-back) it is the earlier
        instant, so a local day or hour is one period; should it not exist (a DST gap at
        midnight in a few zones) it is the first instant after the gap. Interactions without a
        ``start_date_time`` form a period of their own with a null ``period`` (sorted last), so
        nothing is dropped.

    Returns
    -------
    polars.DataFrame
        One row per (``period``, *by, ``interaction_type``): ``interactions`` (Int64) and
        ``share`` (interactions / all interactions of the same period and ``by`` group; the
        shares of a group sum to 1). All directions and statuses are counted.

    Examples
    --------
    >>> import omnikit as ok
    >>> df = ok.synth_frame(1_000, seed=1)  # doctest: +SKIP
    >>> ok.channel_mix(df, every="1w")  # doctest: +SKIP
    """
    func = "channel_mix"
    lf = _lazy(df, func)
    keys = [k for k in _by_list(by, func) if k != "interaction_type"]
    schema = lf.collect_schema()
    needed = [*keys, "interaction_type"]
    if every is not None:
        needed.append("start_date_time")
    _check_columns(schema, needed, func)
    if every is not None:
        _check_every(every, func)
        keys = ["period", *keys]

    def query(rowwise: bool) -> tuple[pl.LazyFrame, pl.LazyFrame]:
        rows, outside = lf, lf.select(pl.lit(0, dtype=pl.Int64).alias("outside"))
        if every is not None:
            # Truncate the wall-clock time (cheap integer work per row); the few distinct
            # period starts become instants of the frame's timezone at the end.
            local, count_outside = _wall_clock(schema, rowwise=rowwise)
            rows = lf.with_columns(period=local.cast(pl.Datetime("us")).dt.truncate(every))
            outside = lf.select(count_outside)
        out = (
            rows.group_by([*keys, "interaction_type"])
            .agg(interactions=pl.len().cast(pl.Int64))
            .with_columns(share=pl.col("interactions") / _over(pl.col("interactions").sum(), keys))
        )
        return out, outside

    result, outside = _collect(*query(rowwise=False))
    if outside.item():
        (result,) = _collect(query(rowwise=True)[0])
    if every is not None:
        dtype = schema["start_date_time"]
        period = _localize(result["period"], dtype.time_zone).cast(
            pl.Datetime(dtype.time_unit, dtype.time_zone)
        )
        result = result.with_columns(period=period)
    return result.sort([*keys, "interaction_type"], nulls_last=True, maintain_order=True)


def _check_every(every: object, func: str) -> None:
    if not isinstance(every, str) or not every.strip():
        raise ParameterError(
            f"{func}: every= must be a polars duration string like '1d', got {every!r}"
        )
    probe = pl.Series([0], dtype=pl.Datetime("us"))
    try:
        probe.dt.truncate(every)
    except Exception as exc:  # polars raises several error types for a bad duration
        raise ParameterError(
            f"{func}: every={every!r} is not a polars duration (use e.g. '1h', '1d', '1w', '1mo'): {exc}"
        ) from None


# --------------------------------------------------------------------------------------------
# waiting times


def wait_time_stats(
    df: FrameLike,
    *,
    by: By = "interaction_type",
    percentiles: Sequence[float] = (0.5, 0.9, 0.95),
) -> pl.DataFrame:
    """Summarise waiting times per group: count, mean, percentiles and maximum.

    Parameters
    ----------
    df
        Canonical frame (DataFrame or LazyFrame).
    by
        Grouping column(s); ``None`` for one overall row.
    percentiles
        Quantiles in [0, 1]; q is returned as column ``"p" + q*100`` with ``.`` written ``_``
        (0.5 → ``p50``, 0.995 → ``p99_5``). They interpolate linearly between closest ranks,
        as :func:`numpy.percentile` does by default.

    Returns
    -------
    polars.DataFrame
        *by, ``n`` (Int64), ``mean`` (Float64), one Float64 column per percentile, ``max``
        (Int64), over the rows with a non-null ``waiting_time`` (all directions and statuses).
        With ``by=None`` there is always one row (``n`` 0 and nulls for an empty frame).

    Examples
    --------
    >>> import polars as pl, omnikit as ok
    >>> df = pl.DataFrame({"interaction_type": ["VOICE"] * 4, "waiting_time": [0, 10, 20, 30]})
    >>> ok.wait_time_stats(df, percentiles=(0.5,))["p50"].item()
    15.0
    """
    func = "wait_time_stats"
    lf = _lazy(df, func)
    keys = _by_list(by, func)
    _check_columns(lf.collect_schema(), [*keys, "waiting_time"], func)
    names = _percentile_columns(percentiles, func)
    w = pl.col("waiting_time")
    lf = lf.filter(w.is_not_null())
    if lf.collect_schema()["waiting_time"].is_integer():
        # Whole seconds take few distinct values: count them once, then read every statistic
        # off the (sorted) frequency table -- one cheap group-by instead of a sort per quantile.
        counts = (
            lf.group_by([*keys, "waiting_time"])
            .agg(_count=pl.len().cast(pl.Int64))
            .sort("waiting_time")
        )
        aggs = _stats_from_counts(w, pl.col("_count"), names)
        out = counts.group_by(keys).agg(aggs) if keys else counts.select(aggs)
    else:
        aggs = [
            w.count().cast(pl.Int64).alias("n"),
            w.mean().cast(pl.Float64).alias("mean"),
            *[w.quantile(q, interpolation="linear").cast(pl.Float64).alias(n) for q, n in names],
            w.max().alias("max"),
        ]
        out = lf.group_by(keys).agg(aggs) if keys else lf.select(aggs)
    (result,) = _collect(_sorted(out, keys))
    return result


def _quantile_from_counts(value: pl.Expr, count: pl.Expr, q: float) -> pl.Expr:
    """Linear-interpolation quantile (numpy's default) of ``value`` repeated ``count`` times.

    Expects the (small) frequency table sorted by ``value``; usable in ``select`` and in
    ``group_by().agg`` (polars keeps the order of rows within each group).
    """
    n = count.sum()
    before = count.cum_sum() - count  # rank (0-based) of the first copy of each value
    pos = (n - 1) * q
    lo, hi = pos.floor(), pos.ceil()
    at_lo = value.filter(before <= lo).last().cast(pl.Float64)
    at_hi = value.filter(before <= hi).last().cast(pl.Float64)
    return at_lo + (pos - lo) * (at_hi - at_lo)


def _stats_from_counts(
    value: pl.Expr, count: pl.Expr, names: list[tuple[float, str]]
) -> list[pl.Expr]:
    """n, mean, percentiles and max of ``value`` repeated ``count`` times."""
    n = count.sum()
    return [
        n.cast(pl.Int64).alias("n"),
        pl.when(n > 0).then((value * count).sum() / n).cast(pl.Float64).alias("mean"),
        *[_quantile_from_counts(value, count, q).alias(name) for q, name in names],
        value.max().cast(pl.Int64).alias("max"),
    ]


def _percentile_columns(percentiles: Sequence[float], func: str) -> list[tuple[float, str]]:
    if isinstance(percentiles, (int, float)):
        percentiles = (percentiles,)
    out: list[tuple[float, str]] = []
    for q in percentiles:
        if isinstance(q, bool) or not isinstance(q, (int, float)) or not 0 <= q <= 1:
            raise ParameterError(f"{func}: each percentile must be a number in [0, 1], got {q!r}")
        name = _percentile_name(float(q))
        if name in {n for _, n in out}:
            raise ParameterError(f"{func}: percentile {q!r} is given twice (column {name})")
        out.append((float(q), name))
    return out


#: Bin edges in seconds for ``wait_time_histogram(bins="log")``: seconds to a week, spaced
#: roughly logarithmically at values people read easily.
LOG_WAIT_EDGES: tuple[float, ...] = (
    0,
    5,
    10,
    15,
    20,
    30,
    45,
    60,
    90,
    120,
    180,
    300,
    600,
    900,
    1200,
    1800,
    2700,
    3600,
    5400,
    7200,
    10800,
    14400,
    21600,
    28800,
    43200,
    86400,
    172800,
    259200,
    604800,
)


def wait_time_histogram(
    df: FrameLike,
    *,
    by: By = "interaction_type",
    bins: int | Sequence[float] | Literal["log"] = 30,
) -> pl.DataFrame:
    """Count waiting times in bins per group: a small frame to chart a wait distribution.

    Parameters
    ----------
    df
        Canonical frame (DataFrame or LazyFrame).
    by
        Grouping column(s); ``None`` for one overall distribution.
    bins
        An ``int``: that many bins of equal whole-second width ``max_wait // bins + 1``
        starting at 0, shared by all groups (the largest wait falls in the last bins). Or a
        sequence of ascending edges starting at 0: bins ``[e_i, e_i+1)`` plus a last open bin
        ``[e_last, ∞)`` (``bin_end`` null) so that no wait is dropped. Or ``"log"``: the
        roughly logarithmic edges of :data:`LOG_WAIT_EDGES` (5 s, 10 s, … 1 h, … 1 week), for
        channels whose waits differ by orders of magnitude (seconds for voice, hours for email).

    Returns
    -------
    polars.DataFrame
        *by, ``bin``, ``bin_start``, ``bin_end`` (seconds, Float64), ``count`` (Int64),
        ``share`` (count / waits of the group) and ``cumulative_share`` (share of the group's
        waits below ``bin_end``), over rows with a non-null ``waiting_time``. Every group has
        every bin (empty bins count 0), so the size depends on groups and bins, not on rows.

    Examples
    --------
    >>> import polars as pl, omnikit as ok
    >>> df = pl.DataFrame({"interaction_type": ["CHAT"] * 3, "waiting_time": [0, 5, 12]})
    >>> ok.wait_time_histogram(df, bins=[0, 10])["count"].to_list()
    [2, 1]
    """
    func = "wait_time_histogram"
    lf = _lazy(df, func)
    keys = _by_list(by, func)
    _check_columns(lf.collect_schema(), [*keys, "waiting_time"], func)
    w = pl.col("waiting_time")
    lf = lf.filter(w.is_not_null())
    if isinstance(bins, str):
        if bins != "log":
            raise ParameterError(
                f"{func}: bins= must be an int, a list of edges or 'log', got {bins!r}"
            )
        bins = LOG_WAIT_EDGES
    if isinstance(bins, bool) or not isinstance(bins, (int, Sequence)):
        raise ParameterError(f"{func}: bins= must be an int or a list of edges, got {bins!r}")
    if isinstance(bins, int):
        if bins < 1:
            raise ParameterError(f"{func}: bins= must be at least 1, got {bins}")
        n_bins = bins
        width = (w.max().fill_null(0) // bins + 1).cast(pl.Int64)
        binned = lf.select(*keys, w, _width=width).with_columns(
            bin=(w // pl.col("_width")).cast(pl.Int64)
        )
        counts = binned.group_by([*keys, "bin"]).agg(
            count=pl.len().cast(pl.Int64), _width=pl.first("_width")
        )
        widths = lf.select(_width=width)
        grid = widths.join(
            pl.LazyFrame({"bin": range(n_bins)}, schema={"bin": pl.Int64}), how="cross"
        )
        grid = grid.with_columns(
            bin_start=(pl.col("bin") * pl.col("_width")).cast(pl.Float64),
            bin_end=((pl.col("bin") + 1) * pl.col("_width")).cast(pl.Float64),
        ).drop("_width")
        counts = counts.drop("_width")
    else:
        edges = [float(e) for e in bins]
        if not edges or edges[0] != 0 or any(b <= a for a, b in zip(edges, edges[1:])):
            raise ParameterError(
                f"{func}: bins= edges must start at 0 and increase strictly, got {list(bins)!r}"
            )
        n_bins = len(edges)  # the last one is open-ended
        edge_series = pl.Series("edges", edges, dtype=pl.Float64)
        binned = lf.select(
            *keys,
            bin=(pl.lit(edge_series).search_sorted(w.cast(pl.Float64), side="right") - 1).cast(
                pl.Int64
            ),
        )
        counts = binned.group_by([*keys, "bin"]).agg(count=pl.len().cast(pl.Int64))
        grid = pl.LazyFrame(
            {"bin": range(n_bins), "bin_start": edges, "bin_end": [*edges[1:], None]},
            schema={"bin": pl.Int64, "bin_start": pl.Float64, "bin_end": pl.Float64},
        )
    if keys:
        groups = counts.select(keys).unique()
        grid = groups.join(grid, how="cross")
    out = (
        grid.join(counts, on=[*keys, "bin"], how="left", nulls_equal=True)
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
    (result,) = _collect(out)
    return result


# --------------------------------------------------------------------------------------------
# service level


# Duration strings. TODO(lead): a local wrapper around polars' own duration parsing (as
# _check_every and _journeys._after use it); point it at omnikit/_time.py's parser when that lands.
_FIXED_LENGTH_PROBES = (dt.datetime(2000, 1, 1), dt.datetime(2001, 2, 1))


def _duration_seconds(value: str, name: str, func: str) -> float:
    """Seconds of a fixed-length polars duration string (``"20s"``, ``"15m"``, ``"4h"``,
    ``"1d"``); months, quarters and years have no fixed length and are refused."""
    try:
        lengths = {
            (pl.select(pl.lit(probe).dt.offset_by(value)).item() - probe).total_seconds()
            for probe in _FIXED_LENGTH_PROBES
        }
    except Exception:  # polars raises several error types for a bad duration
        raise ParameterError(
            f"{func}: {name}={value!r} is not a duration; use seconds (20), a polars duration "
            "string ('20s', '15m', '4h') or a datetime.timedelta"
        ) from None
    if len(lengths) != 1:
        raise ParameterError(
            f"{func}: {name}={value!r} has no fixed length in seconds; use s, m, h, d or w units"
        )
    (seconds,) = lengths
    if seconds < 0:
        raise ParameterError(f"{func}: {name}= must not be negative, got {value!r}")
    return seconds


def _to_seconds(value: object, name: str, func: str) -> float:
    """A number of seconds, a duration string or a timedelta, as seconds (not negative)."""
    if isinstance(value, str):
        return _duration_seconds(value, name, func)
    if isinstance(value, dt.timedelta):
        value = value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise ParameterError(
            f"{func}: {name}= must be seconds >= 0, a duration string like '20s' or '4h', or a "
            f"timedelta, got {value!r}"
        )
    return value


def _short_seconds(short_abandon: object, func: str) -> float | None:
    """``short_abandon`` as seconds, or ``None`` (no short-abandon filtering)."""
    return None if short_abandon is None else _to_seconds(short_abandon, "short_abandon", func)


def _threshold_seconds(threshold: object, lf: pl.LazyFrame, func: str) -> pl.Expr:
    """Each row's service-level threshold in seconds, as a Float64 expression.

    A number, duration string or timedelta is one threshold for every row; a mapping gives each
    ``interaction_type`` its own (``"*"``: every channel it does not name). With a mapping and
    no ``"*"``, the INBOUND channels of ``lf`` that it does not name are a
    :class:`ParameterError` naming them (a short query, before any work).
    """
    if not isinstance(threshold, Mapping):
        return pl.lit(_to_seconds(threshold, "threshold", func), dtype=pl.Float64)
    if not threshold or not all(isinstance(k, str) for k in threshold):
        raise ParameterError(
            f"{func}: threshold= as a mapping needs interaction_type names (and optionally '*') "
            f"as keys, got {dict(threshold)!r}"
        )
    seconds = {k: float(_to_seconds(v, f"threshold[{k!r}]", func)) for k, v in threshold.items()}
    default = seconds.pop("*", None)
    channel = pl.col("interaction_type")
    if default is None:
        uncovered = (
            lf.filter(
                pl.col("interaction_direction") == _INBOUND,
                ~channel.is_in(list(seconds)).fill_null(False),
            )
            .group_by(channel)
            .agg(rows=pl.len())
            .sort("interaction_type", nulls_last=True)
            .collect()
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
    if not seconds:
        return pl.lit(default, dtype=pl.Float64)
    return channel.replace_strict(
        list(seconds), list(seconds.values()), default=default, return_dtype=pl.Float64
    )


def _status_table(
    lf: pl.LazyFrame, keys: list[str], threshold: pl.Expr, short_abandon: float | None
) -> pl.LazyFrame:
    """INBOUND rows counted per (keys, status, wait within threshold, wait shorter than short).

    One cheap group-by over the rows; every service-level count, and the statuses nobody knows,
    are then read off this small table. ``threshold`` is each row's own (its channel's).
    """
    w = pl.col("waiting_time")
    short_wait = pl.lit(False) if short_abandon is None else (w < short_abandon).fill_null(False)
    return (
        lf.filter(pl.col("interaction_direction") == _INBOUND)
        .group_by(
            *keys,
            "interaction_status",
            (w <= threshold).fill_null(False).alias("_within"),
            short_wait.alias("_short_wait"),
        )
        .agg(
            _rows=pl.len().cast(pl.Int64),
            _wait_sum=w.sum().cast(pl.Int64),
            _wait_n=w.count().cast(pl.Int64),
        )
    )


def _service_level_aggs(
    sets: dict[str, list[str]], formula: str, short: bool = True
) -> tuple[list[pl.Expr], list[pl.Expr]]:
    """Aggregations of the status table (per group) and the ratio columns computed from them.

    Statuses match the (upper-case) sets without regard to case. With ``short=False``
    (``short_abandon=None``) nothing is a short abandon and SHORT_ABANDONED is abandoned.
    """
    s, rows = pl.col("interaction_status").str.to_uppercase(), pl.col("_rows")
    answered = s.is_in(sets["answered"])
    unanswered = s.is_in(sets["unanswered"])
    if short:
        is_short = (s == "SHORT_ABANDONED") | ((s == "ABANDONED") & pl.col("_short_wait"))
    else:
        is_short = pl.lit(False)
    within = pl.col("_within")
    answered_waits = pl.col("_wait_n").filter(answered).sum()
    aggs = [
        rows.filter(answered).sum().cast(pl.Int64).alias("answered"),
        rows.filter(unanswered).sum().cast(pl.Int64).alias("unanswered"),
        rows.filter(answered & within).sum().cast(pl.Int64).alias("answered_within"),
        rows.filter(unanswered & within).sum().cast(pl.Int64).alias("_unanswered_within"),
        rows.filter(unanswered & is_short).sum().cast(pl.Int64).alias("short_abandoned"),
        rows.filter(unanswered & s.is_in(["ABANDONED", "SHORT_ABANDONED"]) & ~is_short)
        .sum()
        .cast(pl.Int64)
        .alias("abandoned"),
        pl.when(answered_waits > 0)
        .then(pl.col("_wait_sum").filter(answered).sum() / answered_waits)
        .cast(pl.Float64)
        .alias("asa"),
    ]

    def ratio(num: pl.Expr, den: pl.Expr) -> pl.Expr:
        return pl.when(den > 0).then(num / den).otherwise(None).cast(pl.Float64)

    offered = pl.col("answered") + pl.col("unanswered")
    counted = offered - pl.col("short_abandoned")
    numerators = {
        "talkdesk": (pl.col("answered_within"), counted),
        "answered": (pl.col("answered_within"), pl.col("answered")),
        "offered": (pl.col("answered_within"), offered),
        "abandon_positive": (pl.col("answered_within") + pl.col("_unanswered_within"), offered),
    }
    num, den = numerators[formula]
    ratios = [
        offered.alias("offered"),
        ratio(num, den).alias("service_level"),
        ratio(pl.col("abandoned"), counted).alias("abandon_rate"),
    ]
    return aggs, ratios


_SERVICE_LEVEL_COLUMNS = (
    "offered",
    "answered",
    "answered_within",
    "unanswered",
    "short_abandoned",
    "abandoned",
    "service_level",
    "abandon_rate",
    "asa",
)


def _check_formula(formula: object, func: str) -> str:
    if formula not in SERVICE_LEVEL_FORMULAS:
        raise ParameterError(
            f"{func}: unknown formula={formula!r}; valid formulas are "
            + "; ".join(f"{name!r} = {text}" for name, text in SERVICE_LEVEL_FORMULAS.items())
        )
    return formula  # type: ignore[return-value]


def _service_level_query(
    lf: pl.LazyFrame,
    keys: list[str],
    *,
    threshold: pl.Expr,
    short_abandon: float | None,
    formula: str,
    outcomes: Mapping[str, str] | None,
    func: str,
) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    sets = _outcome_sets(outcomes, func)
    known = [status for statuses in sets.values() for status in statuses]
    aggs, ratios = _service_level_aggs(sets, formula, short=short_abandon is not None)
    table = _status_table(lf, keys, threshold, short_abandon)
    rows = table.filter(pl.col("interaction_status").str.to_uppercase().is_in(known))
    grouped = rows.group_by(keys).agg(aggs) if keys else rows.select(aggs)
    out = grouped.with_columns(ratios).select(*keys, *_SERVICE_LEVEL_COLUMNS)
    return _sorted(out, keys), _unknown_statuses(table, known)


def service_level(
    df: FrameLike,
    *,
    threshold: Thresholds = 20,
    short_abandon: Threshold | None = 5,
    by: By = "interaction_type",
    formula: Literal["talkdesk", "answered", "offered", "abandon_positive"] = "talkdesk",
    outcomes: Mapping[str, str] | None = None,
) -> pl.DataFrame:
    """Service level, abandon rate and average speed of answer of INBOUND interactions.

    Each ``interaction_status`` maps to an outcome through ``outcomes`` (default
    :data:`OUTCOMES`), without regard to case (``Finished`` is ``FINISHED``): answered =
    FINISHED, ASSIGNED; unanswered = MISSED, ABANDONED, SHORT_ABANDONED, VOICEMAIL; open =
    OFFERED (still waiting, not counted). A status the mapping does not know (or a null status)
    is left out of every count, and one :class:`omnikit.DataQualityWarning` names those statuses
    (as written) and how many rows each had. Interactions that are not INBOUND (OUTBOUND, null,
    ...) are not counted.

    Each interaction is judged against its own channel's threshold (``threshold`` below), so
    with a mapping and ``by=None`` the result is the *blended* service level across channels:
    all interactions answered within their channel's threshold over all interactions counted.

    - ``offered`` = answered + unanswered
    - ``short_abandoned`` = unanswered with status SHORT_ABANDONED, or ABANDONED with
      ``waiting_time < short_abandon``; none with ``short_abandon=None``
    - ``abandoned`` = ABANDONED that is not short (an unknown wait is not short); with
      ``short_abandon=None`` SHORT_ABANDONED is abandoned too
    - ``answered_within`` = answered with ``waiting_time <=`` its channel's threshold (an
      unknown wait is not within)
    - ``service_level``, by ``formula``: ``"talkdesk"`` answered_within / (offered −
      short_abandoned); ``"answered"`` answered_within / answered; ``"offered"``
      answered_within / offered; ``"abandon_positive"`` (answered_within + unanswered with
      waiting_time <= its channel's threshold) / offered
    - ``abandon_rate`` = abandoned / (offered − short_abandoned)
    - ``asa`` = mean ``waiting_time`` (seconds) of answered interactions with a known wait

    A ratio whose denominator is 0 is null.

    Parameters
    ----------
    df
        Canonical frame (DataFrame or LazyFrame).
    threshold
        Within how long an answer counts as in service level: seconds (``20``), a polars
        duration string of fixed length (``"20s"``, ``"15m"``, ``"4h"``), a
        ``datetime.timedelta``, or a mapping from ``interaction_type`` to any of those, where
        ``"*"`` covers every channel the mapping does not name (e.g.
        :data:`DEFAULT_THRESHOLDS`). An INBOUND channel with no threshold is a
        :class:`omnikit.ParameterError` naming it.
    short_abandon
        An ABANDONED interaction that waited less than this (seconds, duration string or
        timedelta) is a short abandon, left out of the denominators. The 5 s default is
        omnikit's own; ``None`` turns short-abandon filtering off, as Talkdesk ships it:
        nothing is taken out of the denominators and SHORT_ABANDONED counts as abandoned.
    by
        Grouping column(s); ``None`` for one overall row (always present, zeros when empty).
    formula
        One of :data:`SERVICE_LEVEL_FORMULAS`; anything else raises
        :class:`omnikit.ParameterError`.
    outcomes
        Replacement for :data:`OUTCOMES` (status → "answered", "unanswered" or "open").

    Returns
    -------
    polars.DataFrame
        *by, ``offered, answered, answered_within, unanswered, short_abandoned, abandoned``
        (Int64), ``service_level, abandon_rate`` (Float64 in [0, 1]) and ``asa`` (Float64 s).

    Examples
    --------
    >>> import polars as pl, omnikit as ok
    >>> df = pl.DataFrame({
    ...     "interaction_type": ["VOICE"] * 4,
    ...     "interaction_direction": ["INBOUND"] * 4,
    ...     "interaction_status": ["FINISHED", "FINISHED", "ABANDONED", "ABANDONED"],
    ...     "waiting_time": [10, 40, 2, 60],
    ... })
    >>> ok.service_level(df)["service_level"].item()  # 1 within 20 s / (4 offered - 1 short)
    0.3333333333333333
    >>> ok.service_level(df, short_abandon=None)["service_level"].item()  # 1 / 4 offered
    0.25
    >>> mixed = pl.DataFrame({
    ...     "interaction_type": ["VOICE", "VOICE", "EMAIL", "EMAIL"],
    ...     "interaction_direction": ["INBOUND"] * 4,
    ...     "interaction_status": ["FINISHED"] * 4,
    ...     "waiting_time": [10, 40, 3000, 20000],
    ... })
    >>> ok.service_level(mixed, threshold={"VOICE": 20, "*": "4h"}, by=None)["service_level"].item()
    0.5
    """
    func = "service_level"
    lf = _lazy(df, func)
    keys = _by_list(by, func)
    _check_columns(
        lf.collect_schema(),
        [*keys, "interaction_status", "interaction_direction", "waiting_time"]
        + (["interaction_type"] if isinstance(threshold, Mapping) else []),
        func,
    )
    short_seconds = _short_seconds(short_abandon, func)
    formula = _check_formula(formula, func)
    within = _threshold_seconds(threshold, lf, func)
    out, unknown = _service_level_query(
        lf,
        keys,
        threshold=within,
        short_abandon=short_seconds,
        formula=formula,
        outcomes=outcomes,
        func=func,
    )
    result, unknown_df = _collect(out, unknown)
    _warn_unknown(unknown_df, func, outcomes is not None)
    return result


# --------------------------------------------------------------------------------------------
# patience (Kaplan-Meier)


def wait_time_survival(
    df: FrameLike,
    *,
    by: By = "interaction_type",
    threshold: float | None = None,
    outcomes: Mapping[str, str] | None = None,
) -> pl.DataFrame:
    """Kaplan–Meier estimate of customer patience: the share still willing to wait after t s.

    Over INBOUND interactions with a known ``waiting_time``: time = ``waiting_time``; an
    *unanswered* interaction is an event (the customer gave up, or was not served, after that
    wait); an *answered* one is censored (we only know the customer would have waited at least
    that long). Open interactions (OFFERED) are not counted; statuses that ``outcomes`` does not
    know are left out with a :class:`omnikit.DataQualityWarning`. Answered waits are not averaged:
    their mean understates patience, which is why the estimate treats them as censored.

    At each distinct time t of a group: ``at_risk`` = interactions with ``waiting_time >= t``,
    ``events`` and ``censored`` = those ending exactly at t, and
    ``survival`` = Π over times s <= t of (1 − events(s) / at_risk(s)).

    Parameters
    ----------
    df
        Canonical frame (DataFrame or LazyFrame).
    by
        Grouping column(s); ``None`` for one curve.
    threshold
        ``None`` for the whole curve, or seconds: only rows with ``time <= threshold`` are
        returned (e.g. up to the service-level threshold). The values are the same as in the
        whole curve: ``at_risk`` still counts waits longer than the threshold.
    outcomes
        Replacement for :data:`OUTCOMES`.

    Returns
    -------
    polars.DataFrame
        *by, ``time`` (Int64 s), ``at_risk, events, censored`` (Int64), ``survival`` (Float64),
        sorted by *by and ``time``.

    Examples
    --------
    >>> import polars as pl, omnikit as ok
    >>> df = pl.DataFrame({
    ...     "interaction_type": ["VOICE"] * 3, "interaction_direction": ["INBOUND"] * 3,
    ...     "interaction_status": ["ABANDONED", "FINISHED", "ABANDONED"],
    ...     "waiting_time": [10, 20, 30],
    ... })
    >>> ok.wait_time_survival(df)["survival"].round(3).to_list()
    [0.667, 0.667, 0.0]
    """
    func = "wait_time_survival"
    lf = _lazy(df, func)
    keys = _by_list(by, func)
    _check_columns(
        lf.collect_schema(),
        [*keys, "interaction_status", "interaction_direction", "waiting_time"],
        func,
    )
    if threshold is not None:
        threshold = _check_seconds(threshold, "threshold", func)
    sets = _outcome_sets(outcomes, func)
    known = [status for statuses in sets.values() for status in statuses]
    s, w = pl.col("interaction_status"), pl.col("waiting_time")
    # One group-by over the rows, by wait and status as written; statuses are then matched
    # without regard to case on that small table. Statuses nobody knows are only counted here,
    # and named by a second query when there are any (a warning case).
    upper, rows = s.str.to_uppercase(), pl.col("_rows")
    table = (
        lf.filter(pl.col("interaction_direction") == _INBOUND)
        .group_by(*keys, w, s)
        .agg(_rows=pl.len().cast(pl.Int64))
        .group_by(*keys, w)
        .agg(
            events=rows.filter(upper.is_in(sets["unanswered"])).sum().cast(pl.Int64),
            censored=rows.filter(upper.is_in(sets["answered"])).sum().cast(pl.Int64),
            _unknown=rows.filter((~upper.is_in(known)).fill_null(True)).sum().cast(pl.Int64),
        )
    )
    out = (
        table.with_columns(_unknown=pl.col("_unknown").sum())  # carried along: one query
        .filter(w.is_not_null(), (pl.col("events") + pl.col("censored")) > 0)
        .select(*keys, w.cast(pl.Int64).alias("time"), "events", "censored", "_unknown")
        .sort([*keys, "time"], nulls_last=True)
        .with_columns(
            at_risk=_over((pl.col("events") + pl.col("censored")).cum_sum(reverse=True), keys)
        )
        .with_columns(
            survival=_over((1.0 - pl.col("events") / pl.col("at_risk")).cum_prod(), keys),
        )
        .select(*keys, "time", "at_risk", "events", "censored", "survival", "_unknown")
    )
    if threshold is not None:
        out = out.filter(pl.col("time") <= threshold)
    (result,) = _collect(out)
    unknown = (
        result["_unknown"][0]
        if result.height
        else _collect(table.select(pl.col("_unknown").sum()))[0].item()
    )
    result = result.drop("_unknown")
    if unknown:
        inbound = (
            lf.filter(pl.col("interaction_direction") == _INBOUND).group_by(s).agg(_rows=pl.len())
        )
        (unknown_df,) = _collect(_unknown_statuses(inbound, known))
        _warn_unknown(unknown_df, func, outcomes is not None)
    return result


# --------------------------------------------------------------------------------------------
# hour of week


def hourly_profile(
    df: FrameLike,
    *,
    value: Literal["volume", "median_wait", "service_level"] = "volume",
    by: By = None,
    threshold: Thresholds = 20,
    short_abandon: Threshold | None = 5,
    formula: Literal["talkdesk", "answered", "offered", "abandon_positive"] = "talkdesk",
    outcomes: Mapping[str, str] | None = None,
) -> pl.DataFrame:
    """A 7 × 24 hour-of-week table of volume, median wait or service level.

    Each interaction is placed by the weekday (1 = Monday … 7 = Sunday) and hour (0–23) of its
    ``start_date_time`` in the frame's timezone. The grid is complete: 168 rows (per ``by``
    group), with 0 volume and null medians/service levels where nothing happened. Interactions
    without a ``start_date_time`` cannot be placed; they are left out with a
    :class:`omnikit.DataQualityWarning` saying how many.

    Parameters
    ----------
    df
        Canonical frame (DataFrame or LazyFrame).
    value
        ``"volume"``: interactions (all directions); ``"median_wait"``: median
        ``waiting_time`` of rows with a known wait (as ``p50`` of :func:`wait_time_stats`),
        with their number ``n``; ``"service_level"``: as :func:`service_level` (INBOUND only,
        with ``threshold``, ``short_abandon``, ``formula``, ``outcomes``), with ``offered``.
        ``threshold`` may be a mapping per ``interaction_type`` as in :func:`service_level`:
        each interaction is judged against its own channel's threshold, so with ``by=None``
        each hour shows the blended service level of its channels.
    by
        Grouping column(s) (e.g. ``"interaction_type"`` for one grid per channel).

    Returns
    -------
    polars.DataFrame
        *by, ``weekday`` (Int8), ``hour`` (Int8), then ``volume`` (Int64), or ``median_wait``
        (Float64) and ``n`` (Int64), or ``service_level`` (Float64) and ``offered`` (Int64).

    Examples
    --------
    >>> import omnikit as ok
    >>> grid = ok.hourly_profile(ok.synth_frame(1_000), value="median_wait")  # doctest: +SKIP
    >>> grid.shape  # doctest: +SKIP
    (168, 4)
    """
    func = "hourly_profile"
    lf = _lazy(df, func)
    keys = _by_list(by, func)
    if value not in _HOURLY_VALUES:
        raise ParameterError(
            f"{func}: unknown value={value!r}; valid values are {', '.join(map(repr, _HOURLY_VALUES))}"
        )
    needed = [*keys, "start_date_time"]
    if value != "volume":
        needed.append("waiting_time")
    if value == "service_level":
        needed += ["interaction_status", "interaction_direction"]
        if isinstance(threshold, Mapping):
            needed.append("interaction_type")
    _check_columns(lf.collect_schema(), needed, func)
    if value == "service_level":
        short_seconds = _short_seconds(short_abandon, func)
        checked_formula = _check_formula(formula, func)
        within = _threshold_seconds(threshold, lf, func)
    start = pl.col("start_date_time")
    schema = lf.collect_schema()

    def query(rowwise: bool) -> tuple[pl.LazyFrame, pl.LazyFrame, list[pl.LazyFrame]]:
        # Hour of week 0..167 (Monday 00h = 0) from the wall clock: integer work per row, one key.
        wall_clock, count_outside = _wall_clock(schema, rowwise=rowwise)
        local = pl.col("_local")
        day = local // _DAY  # days since 1970-01-01, a Thursday
        placed = (
            lf.filter(start.is_not_null())
            .with_columns(_local=wall_clock)
            .with_columns(_how=((day + 3) % 7 * 24 + (local - day * _DAY) // _HOUR))
        )
        how = pl.col("_how")
        split = [
            (how // 24 + 1).cast(pl.Int8).alias("weekday"),
            (how % 24).cast(pl.Int8).alias("hour"),
        ]
        cell = [*keys, "weekday", "hour"]
        extra: list[pl.LazyFrame] = []
        if value == "volume":
            agg = (
                placed.group_by(*keys, how)
                .agg(volume=pl.len().cast(pl.Int64))
                .with_columns(split)
                .drop("_how")
            )
            fill = {"volume": 0}
        elif value == "median_wait":
            w = pl.col("waiting_time")
            if schema["waiting_time"].is_integer():
                # count (hour of week, wait) pairs under one integer key, then read the medians off
                counts = (
                    placed.filter(w.is_not_null())
                    .group_by(*keys, (how + 168 * w).alias("_key"))
                    .agg(_count=pl.len().cast(pl.Int64))
                    .with_columns(_how=pl.col("_key") % 168, waiting_time=pl.col("_key") // 168)
                    .sort("waiting_time")
                )
                agg = counts.group_by(*keys, how).agg(
                    median_wait=_quantile_from_counts(w, pl.col("_count"), 0.5),
                    n=pl.col("_count").sum().cast(pl.Int64),
                )
            else:
                agg = placed.group_by(*keys, how).agg(
                    median_wait=w.median().cast(pl.Float64), n=w.count().cast(pl.Int64)
                )
            agg = agg.with_columns(split).drop("_how")
            fill = {"n": 0}
        else:
            sl, unknown = _service_level_query(
                placed,
                [*keys, "_how"],
                threshold=within,
                short_abandon=short_seconds,
                formula=checked_formula,
                outcomes=outcomes,
                func=func,
            )
            agg = sl.with_columns(split).select(*cell, "service_level", "offered")
            fill = {"offered": 0}
            extra.append(unknown)
        grid = pl.LazyFrame(
            {"weekday": [d for d in range(1, 8) for _ in range(24)], "hour": list(range(24)) * 7},
            schema={"weekday": pl.Int8, "hour": pl.Int8},
        )
        if keys:
            grid = agg.select(keys).unique().join(grid, how="cross")
        out = (
            grid.join(agg, on=cell, how="left", nulls_equal=True)
            .with_columns(pl.col(name).fill_null(v) for name, v in fill.items())
            .sort(cell, nulls_last=True)
        )
        return out, lf.select(count_outside), extra

    out, outside, extra = query(rowwise=False)
    unplaced = lf.select(missing=start.null_count().cast(pl.Int64))
    result, outside_df, unplaced_df, *unknown_dfs = _collect(out, outside, unplaced, *extra)
    if outside_df.item():
        (result,) = _collect(query(rowwise=True)[0])
    missing = int(unplaced_df["missing"].item())
    if missing:
        warnings.warn(
            f"{func}: {missing} interaction(s) have no start_date_time and are left out of the "
            "hour-of-week grid.",
            DataQualityWarning,
            stacklevel=2,
        )
    for unknown_df in unknown_dfs:
        _warn_unknown(unknown_df, func, outcomes is not None)
    return result
