"""Contact-center metrics over the canonical frame: channel mix, waits, service level, patience.

Every function takes a :class:`polars.DataFrame` or :class:`polars.LazyFrame` in the canonical form
(see :func:`omnikit.canonical_schema`), builds one lazy query of polars expressions, collects it
once at the end and returns a small :class:`polars.DataFrame` sorted by its key columns (nulls
last). (Only two rare cases query again: naming the statuses of a patience warning, and start
times outside 1990-2060, which are converted row by row.) The rows are read once into a small
table (counts per group, wait and status), and every number is computed from that table.
``by`` is ``None``, a column name or a list of column names; a null key is a group of its own,
never dropped. A threshold is seconds or a fixed duration (``"20s"``, ``timedelta``); ``every`` a
polars duration string or a ``timedelta`` (see :mod:`omnikit.types`).

The definitions (the README's "Metrics" section) in short:

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

import itertools
import warnings
from collections.abc import Mapping, Sequence
from typing import Literal, cast

import polars as pl

from . import _engines
from ._errors import ParameterError, warn_data_quality
from ._time import DAY, HOUR, check_duration, localize, wall_clock
from ._validate import (
    by_columns,
    check_columns,
    frame_type_error,
    lazy_frame,
    seconds,
)
from .types import By, Duration, Formula, FrameLike, Outcomes, Threshold, Thresholds

__all__ = [
    "DEFAULT_THRESHOLDS",
    "LOG_WAIT_EDGES",
    "OUTCOMES",
    "SERVICE_LEVEL_FORMULAS",
    "channel_mix",
    "hourly_profile",
    "median_patience",
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

# --------------------------------------------------------------------------------------------
# small helpers: the pieces of a query, collecting (input checks: omnikit._validate)


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
    """Collect several queries over the same source together (shared scans are computed once),
    on polars' streaming engine: a store larger than memory is read in batches, never whole."""
    return pl.collect_all(list(lfs), engine="streaming")


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
    warn_data_quality(
        f"{func}: {total} INBOUND interaction(s) have an interaction_status that {table} does not "
        f"map to answered/unanswered/open and are left out of every count ({', '.join(parts)}). "
        "Pass outcomes= with these statuses to count them."
    )


def _percentile_name(q: float) -> str:
    text = f"{q * 100:.10f}".rstrip("0").rstrip(".")
    return "p" + text.replace(".", "_")


# --------------------------------------------------------------------------------------------
# channel mix


@_engines.engine_aware
def channel_mix(df: FrameLike, *, by: By = None, every: Duration | None = None) -> pl.DataFrame:
    """Count interactions per channel and their share of each period and group.

    Parameters
    ----------
    df
        Canonical frame (DataFrame or LazyFrame), e.g. from :func:`omnikit.load`.
    by
        ``None``, a column name or a list of names to split by (e.g. ``"interaction_direction"``).
    every
        ``None`` (no time split), a polars duration string (``"1h"``, ``"1d"``, ``"1w"``, ``"1mo"``)
        or a ``timedelta``: ``period`` is ``start_date_time`` truncated to it in the frame's
        timezone (weeks start on Monday): the start of the wall-clock period, as an instant of that
        timezone. Should that wall-clock time occur twice (DST fall-back) it is the earlier instant,
        so a local day or hour is one period; should it not exist (a DST gap at midnight in a few
        zones) it is the first instant after the gap. Interactions without a ``start_date_time``
        form a period of their own with a null ``period`` (sorted last), so nothing is dropped.

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
    lf = lazy_frame(df, func)
    keys = [k for k in by_columns(by, func) if k != "interaction_type"]
    schema = lf.collect_schema()
    needed = [*keys, "interaction_type"]
    if every is not None:
        needed.append("start_date_time")
    check_columns(schema, needed, func)
    if every is not None:
        every = check_duration(every, name="every", func=func)
        keys = ["period", *keys]

    def query(rowwise: bool) -> tuple[pl.LazyFrame, pl.LazyFrame]:
        rows, outside = lf, lf.select(pl.lit(0, dtype=pl.Int64).alias("outside"))
        if every is not None:
            # Truncate the wall-clock time (cheap integer work per row); the few distinct
            # period starts become instants of the frame's timezone at the end.
            local, count_outside = wall_clock(schema, rowwise=rowwise)
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
        assert isinstance(dtype, pl.Datetime)  # check_columns said so
        period = localize(result["period"], dtype.time_zone).cast(
            pl.Datetime(dtype.time_unit, dtype.time_zone)
        )
        result = result.with_columns(period=period)
    return result.sort([*keys, "interaction_type"], nulls_last=True, maintain_order=True)


# --------------------------------------------------------------------------------------------
# waiting times


@_engines.engine_aware
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
    lf = lazy_frame(df, func)
    keys = by_columns(by, func)
    check_columns(lf.collect_schema(), [*keys, "waiting_time"], func)
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


@_engines.engine_aware
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
    lf = lazy_frame(df, func)
    keys = by_columns(by, func)
    check_columns(lf.collect_schema(), [*keys, "waiting_time"], func)
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
        if not edges or edges[0] != 0 or any(b <= a for a, b in itertools.pairwise(edges)):
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


def _short_seconds(short_abandon: object, func: str) -> float | None:
    """``short_abandon`` as seconds, or ``None`` (no short-abandon filtering)."""
    return None if short_abandon is None else seconds(short_abandon, "short_abandon", func)


def _threshold_seconds(threshold: object, lf: pl.LazyFrame, func: str) -> pl.Expr:
    """Each row's service-level threshold in seconds, as a Float64 expression.

    A number, duration string or timedelta is one threshold for every row; a mapping gives each
    ``interaction_type`` its own (``"*"``: every channel it does not name). With a mapping and
    no ``"*"``, the INBOUND channels of ``lf`` that it does not name are a
    :class:`ParameterError` naming them (a short query, before any work).
    """
    if not isinstance(threshold, Mapping):
        return pl.lit(seconds(threshold, "threshold", func), dtype=pl.Float64)
    if not threshold or not all(isinstance(k, str) for k in threshold):
        raise ParameterError(
            f"{func}: threshold= as a mapping needs interaction_type names (and optionally '*') "
            f"as keys, got {dict(threshold)!r}"
        )
    per_channel = {k: seconds(v, f"threshold[{k!r}]", func) for k, v in threshold.items()}
    default = per_channel.pop("*", None)
    channel = pl.col("interaction_type")
    if default is None:
        uncovered = (
            lf.filter(
                pl.col("interaction_direction") == _INBOUND,
                ~channel.is_in(list(per_channel)).fill_null(False),
            )
            .group_by(channel)
            .agg(rows=pl.len())
            .sort("interaction_type", nulls_last=True)
            .collect(engine="streaming")
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
    if not per_channel:
        return pl.lit(default, dtype=pl.Float64)
    return channel.replace_strict(
        list(per_channel), list(per_channel.values()), default=default, return_dtype=pl.Float64
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


def _check_formula(formula: object, func: str) -> Formula:
    if formula not in SERVICE_LEVEL_FORMULAS:
        raise ParameterError(
            f"{func}: unknown formula={formula!r}; valid formulas are "
            + "; ".join(f"{name!r} = {text}" for name, text in SERVICE_LEVEL_FORMULAS.items())
        )
    return cast(Formula, formula)


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


@_engines.engine_aware
def service_level(
    df: FrameLike,
    *,
    threshold: Thresholds = 20,
    short_abandon: Threshold | None = 5,
    by: By = "interaction_type",
    formula: Formula = "talkdesk",
    outcomes: Outcomes | None = None,
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
    lf = lazy_frame(df, func)
    keys = by_columns(by, func)
    check_columns(
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
    up_to: Threshold | None = None,
    outcomes: Outcomes | None = None,
    threshold: Threshold | None = None,
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
    up_to
        ``None`` for the whole curve, or seconds (a number or a fixed duration such as
        ``"2m"``): only rows with ``time <= up_to`` are returned (e.g. up to the service-level
        threshold). The values are the same as in the whole curve: ``at_risk`` still counts
        waits longer than ``up_to``.
    outcomes
        Replacement for :data:`OUTCOMES`.
    threshold
        The old name of ``up_to``; it keeps working for this release with a
        :class:`DeprecationWarning`.

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
    if threshold is not None:
        if up_to is not None:
            raise ParameterError(f"{func}: give up_to= only (threshold= is its old name)")
        warnings.warn(
            f"{func}: threshold= is now called up_to= (threshold= will be removed in the next "
            "release); write wait_time_survival(df, up_to=...)",
            DeprecationWarning,
            stacklevel=2,
        )
        up_to, name = threshold, "threshold"
    else:
        name = "up_to"
    if _engines.is_foreign(df):  # after the old name's warning, which points at the caller
        return _engines.dispatch("wait_time_survival", df, by=by, up_to=up_to, outcomes=outcomes)
    lf = lazy_frame(df, func)
    keys = by_columns(by, func)
    check_columns(
        lf.collect_schema(),
        [*keys, "interaction_status", "interaction_direction", "waiting_time"],
        func,
    )
    limit = None if up_to is None else seconds(up_to, name, func)
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
    if limit is not None:
        out = out.filter(pl.col("time") <= limit)
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


def median_patience(survival: pl.DataFrame) -> float | None:
    """The wait after which half of the customers would have given up (Kaplan–Meier median).

    The first ``time`` at which ``survival`` is at most 0.5, in one curve from
    :func:`wait_time_survival` with ``by=None``; ``None`` when more than half were still
    waiting at the longest wait seen (patience is then longer than the data can tell). For one
    number per channel, filter the per-channel curve to a channel first, or group it yourself.

    Parameters
    ----------
    survival
        One Kaplan–Meier curve: the frame of ``ok.wait_time_survival(df, by=None)`` (at least
        the columns ``time`` and ``survival``).

    Returns
    -------
    float or None
        Seconds.

    Examples
    --------
    >>> import polars as pl, omnikit as ok
    >>> ok.median_patience(pl.DataFrame({"time": [10, 30, 60], "survival": [0.9, 0.5, 0.2]}))
    30.0
    """
    func = "median_patience"
    how = "pass one curve: ok.median_patience(ok.wait_time_survival(df, by=None))"
    if isinstance(survival, pl.LazyFrame):
        survival = survival.collect()
    if not isinstance(survival, pl.DataFrame):
        raise frame_type_error(survival, func, f"the frame of ok.wait_time_survival(); {how}")
    if "time" not in survival.columns or "survival" not in survival.columns:
        canonical = "interaction_status" in survival.columns or "waiting_time" in survival.columns
        raise ParameterError(
            f"{func}: expected a Kaplan–Meier curve (columns 'time' and 'survival'), got a frame "
            f"with {', '.join(map(repr, survival.columns)) or 'no columns'}"
            + ("; this looks like interactions, not a curve" if canonical else "")
            + f"; {how}"
        )
    keys = [c for c in survival.columns if c not in _SURVIVAL_COLUMNS]
    if keys and survival.select(keys).n_unique() > 1:
        raise ParameterError(
            f"{func}: the curve is split by {', '.join(map(repr, keys))} "
            f"({survival.select(keys).n_unique()} curves), and one median would mix them; {how}, "
            f"or one curve per group, e.g. {{k: ok.median_patience(g) for (k,), g in "
            f"curves.group_by({keys[0]!r})}}"
        )
    if survival.select(pl.col("time").is_duplicated().any()).item():
        raise ParameterError(
            f"{func}: the same time appears more than once, so the frame holds several curves; "
            f"{how}"
        )
    reached = survival.select(pl.col("time").filter(pl.col("survival") <= 0.5).min()).item()
    return None if reached is None else float(reached)


#: The columns of one :func:`wait_time_survival` curve, besides its ``by`` keys.
_SURVIVAL_COLUMNS = ("time", "at_risk", "events", "censored", "survival")


# --------------------------------------------------------------------------------------------
# hour of week


def _hourly_columns(value: str, keys: list[str], per_channel: bool, func: str) -> list[str]:
    """The columns :func:`hourly_profile` reads for ``value`` (a ``ParameterError`` for an
    unknown one); ``per_channel``: the threshold is a mapping, so ``interaction_type`` too."""
    if value not in _HOURLY_VALUES:
        raise ParameterError(
            f"{func}: unknown value={value!r}; valid values are "
            f"{', '.join(map(repr, _HOURLY_VALUES))}"
        )
    needed = [*keys, "start_date_time"]
    if value != "volume":
        needed.append("waiting_time")
    if value == "service_level":
        needed += ["interaction_status", "interaction_direction"]
        if per_channel:
            needed.append("interaction_type")
    return needed


@_engines.engine_aware
def hourly_profile(
    df: FrameLike,
    *,
    value: Literal["volume", "median_wait", "service_level"] = "volume",
    by: By = None,
    threshold: Thresholds = 20,
    short_abandon: Threshold | None = 5,
    formula: Formula = "talkdesk",
    outcomes: Outcomes | None = None,
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
    lf = lazy_frame(df, func)
    keys = by_columns(by, func)
    needed = _hourly_columns(value, keys, isinstance(threshold, Mapping), func)
    check_columns(lf.collect_schema(), needed, func)
    if value == "service_level":
        short_seconds = _short_seconds(short_abandon, func)
        checked_formula = _check_formula(formula, func)
        within = _threshold_seconds(threshold, lf, func)
    start = pl.col("start_date_time")
    schema = lf.collect_schema()

    def query(rowwise: bool) -> tuple[pl.LazyFrame, pl.LazyFrame, list[pl.LazyFrame]]:
        # Hour of week 0..167 (Monday 00h = 0) from the wall clock: integer work per row, one key.
        local_us, count_outside = wall_clock(schema, rowwise=rowwise)
        local = pl.col("_local")
        day = local // DAY  # days since 1970-01-01, a Thursday
        placed = (
            lf.filter(start.is_not_null())
            .with_columns(_local=local_us)
            .with_columns(_how=((day + 3) % 7 * 24 + (local - day * DAY) // HOUR))
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
        warn_data_quality(
            f"{func}: {missing} interaction(s) have no start_date_time and are left out of the "
            "hour-of-week grid."
        )
    for unknown_df in unknown_dfs:
        _warn_unknown(unknown_df, func, outcomes is not None)
    return result
