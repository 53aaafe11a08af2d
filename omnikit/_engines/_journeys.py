"""Journeys, channel transitions, repeat contacts and bot containment in DuckDB or Spark.

A customer's steps are ordered by (``start_date_time``, ``interaction_id``) with ordered window
functions in the engine (narwhals ``over(partition_by="customer_id", order_by=...)``): the
previous step's start says whether a step opens a journey, a running sum numbers the journeys,
the next step's start says whether an interaction was repeated. The per-journey lists
(``channels``, ``path``) are ordered aggregates written for each engine (DuckDB
``list(... ORDER BY ...)``, Spark ``sort_array(collect_list(struct(...)))``), since narwhals has
no ordered list aggregation; the one-row-per-journey result is finished here in polars.

``gap`` and ``window`` move a start later in the engine's session zone: ``"24h"`` is 24 hours,
``"1d"`` one calendar day (as ``Expr.dt.offset_by`` in polars). Customers come from a
``customer_id`` column, or from :func:`omnikit._engines._customers.resolve_customers`.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import narwhals as nw
import polars as pl

from .. import _journeys as _polars_journeys
from .._errors import ParameterError
from .._journeys import _options
from .._metrics import OUTCOMES
from .._time import check_duration
from .._validate import by_columns
from ..types import By, Duration
from ._frames import check_columns, collect, engine_name, lazy, timezone

__all__ = [
    "bot_containment",
    "channel_transitions",
    "journey_flow",
    "journeys",
    "repeat_contacts",
    "top_paths",
]

#: How a missing ``interaction_type`` is written in a ``path``.
UNKNOWN_CHANNEL = "UNKNOWN"
_STEP_COLUMNS = (
    "interaction_id",
    "start_date_time",
    "end_date_time",
    "interaction_type",
    "interaction_status",
    "agent_type",
)
_ORDER = ["start_date_time", "_id_null", "interaction_id"]
Frame = Any


def _duration(span: object, name: str) -> str:
    """``span`` (a duration, see ``omnikit._time.check_duration``) as a duration string of one
    unit, which narwhals' ``offset_by`` reads in every engine."""
    span = check_duration(span, name=name)
    if isinstance(span, dt.timedelta):
        micros = span // dt.timedelta(microseconds=1)
        return f"{micros // 1_000_000}s" if micros % 1_000_000 == 0 else f"{micros}us"
    match = re.fullmatch(r"([0-9]+)(us|ms|mo|[smhdwqy])", span)
    if match is None:
        raise ParameterError(
            f"{name}={span!r} cannot run on an engine: give a whole number of one unit such as "
            "'24h', '30m', '1d', '7d' or '1mo' (or a timedelta)"
        )
    number, unit = int(match.group(1)), match.group(2)
    return f"{number * 7}d" if unit == "w" else f"{number}{unit}"


def _with_customers(frame: nw.LazyFrame[Any], options: dict[str, Any], func: str) -> Any:
    """``frame`` with ``customer_id``: its own column, or a resolution in the engine with
    ``options`` (those not at their defaults, as ``omnikit._journeys._options`` gives them)."""
    check_columns(frame, _STEP_COLUMNS, func)
    if "customer_id" in frame.collect_schema():
        nulls = int(collect(frame.select(nw.col("customer_id").null_count().alias("n")))["n"][0])
        if nulls:
            raise ParameterError(
                f"{func}: customer_id is missing on {nulls} row(s); give every row a customer, "
                "or drop the column to resolve customers with ok.resolve_customers"
            )
        if options:
            raise ParameterError(
                f"{func}: the frame already has customer_id, so the resolution options "
                f"({', '.join(sorted(options))}) would be ignored; drop the column to re-resolve"
            )
        return frame
    from ._customers import resolve_customers

    return nw.from_native(resolve_customers(frame.to_native(), **options))


def _ordered(frame: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """Rows with a start time, with ``_id_null`` (ids that are null sort last, as in polars)."""
    start = nw.col("start_date_time")
    return frame.filter(~start.is_null()).with_columns(_id_null=nw.col("interaction_id").is_null())


def _steps(frame: nw.LazyFrame[Any], gap: object) -> nw.LazyFrame[Any]:
    """Ordered steps with ``_new`` (opens a journey), ``_number`` (the journey's number for its
    customer), ``_i`` (position in the customer's steps) and ``_prev_type``."""
    span = _duration(gap, "gap")
    start = nw.col("start_date_time")
    prev = start.shift(1).over("customer_id", order_by=_ORDER)
    steps = _ordered(frame).with_columns(
        _prev_start=prev,
        _prev_type=nw.col("interaction_type").shift(1).over("customer_id", order_by=_ORDER),
        _i=nw.col("start_date_time").cum_count().over("customer_id", order_by=_ORDER),
    )
    new = nw.col("_prev_start").is_null() | (start > nw.col("_prev_start").dt.offset_by(span))
    return steps.with_columns(_new=new).with_columns(
        _number=nw.col("_new").cast(nw.Int64).cum_sum().over("customer_id", order_by=_ORDER)
    )


def _journey_table(steps: nw.LazyFrame[Any], answered: list[str]) -> nw.LazyFrame[Any]:
    """One row per journey: the ordered lists and the per-journey facts, in the engine."""
    channel = nw.col("interaction_type")
    fill = channel.fill_null(UNKNOWN_CHANNEL)
    agent = nw.col("agent_type")
    steps = steps.with_columns(
        _end=nw.coalesce(nw.col("end_date_time"), nw.col("start_date_time")),
        _answered=nw.col("interaction_status").str.to_uppercase().is_in(answered).fill_null(False),
        _bot=nw.when(agent == "VIRTUAL_AGENT").then(nw.col("_i")),
        _user=nw.when(agent == "USER").then(nw.col("_i")),
        _path=nw.when(nw.col("_new") | (fill != nw.col("_prev_type").fill_null(UNKNOWN_CHANNEL)))
        .then(fill)
        .otherwise(nw.lit(None, nw.String)),
    ).select(
        "customer_id",
        "_number",
        "_i",
        "start_date_time",
        "_end",
        "interaction_type",
        "_path",
        "_answered",
        "_bot",
        "_user",
    )
    native = steps.to_native()
    if engine_name(steps) == "duckdb":
        table = native.aggregate(
            "customer_id, _number, min(start_date_time) AS started_at, max(_end) AS ended_at, "
            "count(*) AS interactions, "
            "list(interaction_type ORDER BY _i) AS channels, "
            "list(_path ORDER BY _i) FILTER (WHERE _path IS NOT NULL) AS path, "
            "bool_or(_answered) AS answered, min(_bot) AS _bot, max(_user) AS _user",
            "customer_id, _number",
        )
        return nw.from_native(table)
    from pyspark.sql import functions as F

    def ordered(column: str) -> Any:
        pairs = F.sort_array(F.collect_list(F.struct(F.col("_i"), F.col(column).alias("v"))))
        return F.transform(pairs, lambda x: x["v"])

    table = native.groupBy("customer_id", "_number").agg(
        F.min("start_date_time").alias("started_at"),
        F.max("_end").alias("ended_at"),
        F.count(F.lit(1)).alias("interactions"),
        ordered("interaction_type").alias("channels"),
        F.filter(ordered("_path"), lambda x: x.isNotNull()).alias("path"),
        F.max(F.col("_answered").cast("int")).cast("boolean").alias("answered"),
        F.min("_bot").alias("_bot"),
        F.max("_user").alias("_user"),
    )
    return nw.from_native(table)


def _journey_frame(df: Frame, gap: object, options: dict[str, Any], func: str) -> pl.DataFrame:
    """The rows of :func:`omnikit.journeys` (finished here from the engine's one row per
    journey), and ``__has_bot``: the journey has a VIRTUAL_AGENT step."""
    frame = _with_customers(lazy(df, func), options, func)
    zone = timezone(frame)
    answered = [status.upper() for status, outcome in OUTCOMES.items() if outcome == "answered"]
    table = collect(_journey_table(_steps(frame, gap), answered), timezone=zone)
    channels = pl.col("channels")
    return (
        table.sort("customer_id", "_number")
        .with_columns(
            pl.col("started_at", "ended_at").dt.cast_time_unit("us"),
            journey_id=pl.format("{}-{}", "customer_id", "_number"),
            interactions=pl.col("interactions").cast(pl.Int64),
            channels=channels.cast(pl.List(pl.String)),
            path=pl.col("path").list.join(" > "),
            n_channels=channels.list.drop_nulls().list.n_unique().cast(pl.Int64),
            first_channel=channels.list.first(),
            last_channel=channels.list.last(),
            answered=pl.col("answered").fill_null(False),
            bot_to_human=(pl.col("_bot") < pl.col("_user")).fill_null(False),
            __has_bot=pl.col("_bot").is_not_null(),
        )
        .with_columns(switched=pl.col("n_channels") > 1)
        .select(
            "customer_id",
            "journey_id",
            "started_at",
            "ended_at",
            "interactions",
            "channels",
            "path",
            "n_channels",
            "switched",
            "first_channel",
            "last_channel",
            "answered",
            "bot_to_human",
            "__has_bot",
        )
    )


def journeys(
    df: Frame,
    *,
    gap: Duration = "24h",
    default_region: str | None = "US",
    link_by_name: bool = False,
    max_contact_ids: int | None = 3,
) -> pl.DataFrame:
    """:func:`omnikit.journeys` on a DuckDB relation or a PySpark DataFrame.

    Parameters
    ----------
    df
        A DuckDB relation or PySpark DataFrame with the canonical columns (and ``customer_id``,
        or customers are resolved in the engine with the options below).
    gap
        A whole number of one unit (``"24h"``, ``"30m"``, ``"1d"``) or a ``timedelta``.
    default_region, link_by_name, max_contact_ids
        As in :func:`omnikit.resolve_customers`.

    Returns
    -------
    polars.DataFrame
        One row per journey, the columns of :func:`omnikit.journeys`.

    Examples
    --------
    >>> journeys(spark_df, gap="24h").select("path", "switched")  # doctest: +SKIP
    """
    options = _options(default_region, link_by_name, max_contact_ids)
    return _journey_frame(df, gap, options, "journeys").drop("__has_bot")


def channel_transitions(
    df: Frame,
    *,
    gap: Duration = "24h",
    default_region: str | None = "US",
    link_by_name: bool = False,
    max_contact_ids: int | None = 3,
) -> pl.DataFrame:
    """:func:`omnikit.channel_transitions` on a DuckDB relation or a PySpark DataFrame.

    Parameters
    ----------
    df, gap, default_region, link_by_name, max_contact_ids
        As in :func:`journeys`.

    Returns
    -------
    polars.DataFrame
        ``from_channel, to_channel, transitions, share``.

    Examples
    --------
    >>> channel_transitions(spark_df)  # doctest: +SKIP
    """
    func = "channel_transitions"
    options = _options(default_region, link_by_name, max_contact_ids)
    steps = _steps(_with_customers(lazy(df, func), options, func), gap)
    table = (
        steps.filter(~nw.col("_new"))
        .group_by("_prev_type", "interaction_type")
        .agg(nw.len().alias("transitions"))
    )
    return (
        collect(table)
        .select(
            from_channel=pl.col("_prev_type"),
            to_channel=pl.col("interaction_type"),
            transitions=pl.col("transitions").cast(pl.Int64),
        )
        .with_columns(
            share=pl.col("transitions") / pl.col("transitions").sum().over("from_channel")
        )
        .sort("from_channel", "to_channel", nulls_last=True)
    )


def repeat_contacts(
    df: Frame,
    *,
    window: Duration = "7d",
    by: By = None,
    direction: str | None = "INBOUND",
    default_region: str | None = "US",
    link_by_name: bool = False,
    max_contact_ids: int | None = 3,
) -> pl.DataFrame:
    """:func:`omnikit.repeat_contacts` on a DuckDB relation or a PySpark DataFrame.

    Over interactions whose ``interaction_direction`` equals ``direction`` exactly (``None``:
    all) with a ``start_date_time``, an interaction is repeated when the same customer's next
    such interaction starts at most ``window`` after it; the next one is found with an ordered
    window function in the engine.

    Parameters
    ----------
    df, default_region, link_by_name, max_contact_ids
        As in :func:`journeys`.
    window
        A whole number of one unit (``"7d"``, ``"24h"``) or a ``timedelta``.
    by
        Column name(s) of the interaction.
    direction
        The ``interaction_direction`` counted (``"INBOUND"``), or ``None`` for all.

    Returns
    -------
    polars.DataFrame
        *by, ``interactions, repeated, repeat_rate``.

    Examples
    --------
    >>> repeat_contacts(spark_df, window="3d", by="interaction_type")  # doctest: +SKIP
    """
    func = "repeat_contacts"
    keys = by_columns(by, func)
    options = _options(default_region, link_by_name, max_contact_ids)
    frame = _with_customers(lazy(df, func), options, func)
    check_columns(frame, keys, func)
    if direction is not None:
        if not isinstance(direction, str):
            raise ParameterError(
                f"{func}: direction must be an interaction_direction such as 'INBOUND', or None "
                f"for every direction, not {direction!r}"
            )
        if "interaction_direction" not in frame.collect_schema():
            raise ParameterError(
                f"{func}: the frame has no column interaction_direction; pass direction=None to "
                "count every interaction"
            )
        frame = frame.filter(nw.col("interaction_direction") == direction)
    span = _duration(window, "window")
    start = nw.col("start_date_time")
    rows = _ordered(frame).with_columns(
        _next=start.shift(-1).over("customer_id", order_by=_ORDER), _all=nw.lit(0)
    )
    repeated = (nw.col("_next") <= start.dt.offset_by(span)).fill_null(False)
    table = (
        rows.with_columns(_repeated=repeated.cast(nw.Int64))
        .group_by(keys or ["_all"])
        .agg(nw.len().alias("interactions"), nw.col("_repeated").sum().alias("repeated"))
    )
    counts = collect(table).with_columns(pl.col("interactions", "repeated").cast(pl.Int64))
    if not keys and counts.height == 0:  # as in polars: with by=None always one row
        counts = pl.DataFrame(
            {"interactions": [0], "repeated": [0]},
            schema={"interactions": pl.Int64, "repeated": pl.Int64},
        )
    out = counts.with_columns(
        repeat_rate=pl.when(pl.col("interactions") > 0).then(
            pl.col("repeated") / pl.col("interactions")
        )
    ).select(*keys, "interactions", "repeated", "repeat_rate")
    return out.sort(keys, nulls_last=True) if keys else out


def bot_containment(
    df: Frame,
    *,
    gap: Duration = "24h",
    by: By = None,
    default_region: str | None = "US",
    link_by_name: bool = False,
    max_contact_ids: int | None = 3,
) -> pl.DataFrame:
    """:func:`omnikit.bot_containment` on a DuckDB relation or a PySpark DataFrame.

    The journeys are made in the engine (as :func:`journeys`, one row each); the journeys with
    a ``VIRTUAL_AGENT`` step are counted here: ``bot_journeys``; ``contained``, those with no
    ``USER`` step after the journey's first ``VIRTUAL_AGENT`` step; ``containment_rate``.

    Parameters
    ----------
    df, gap, default_region, link_by_name, max_contact_ids
        As in :func:`journeys`.
    by
        Column name(s) of the :func:`omnikit.journeys` frame (``first_channel``, ``path``,
        ``answered``, ...; any column but the ``channels`` list), as in the polars path.

    Returns
    -------
    polars.DataFrame
        *by, ``bot_journeys, contained`` (Int64), ``containment_rate`` (Float64); with
        ``by=None`` always one row.

    Examples
    --------
    >>> bot_containment(spark_df, by="first_channel")  # doctest: +SKIP
    """
    func = "bot_containment"
    keys = by_columns(by, func)
    options = _options(default_region, link_by_name, max_contact_ids)
    rows = _journey_frame(df, gap, options, func)
    allowed = [
        name
        for name, dtype in rows.schema.items()
        if not name.startswith("__") and not isinstance(dtype, pl.List)
    ]
    wrong = [c for c in keys if c not in allowed]
    if wrong:
        raise ParameterError(
            f"{func}: by= groups journeys, which have no column(s) {', '.join(wrong)}; "
            f"use {', '.join(allowed)}"
        )
    aggs = [
        pl.len().cast(pl.Int64).alias("bot_journeys"),
        (~pl.col("bot_to_human")).sum().cast(pl.Int64).alias("contained"),
    ]
    bots = rows.filter("__has_bot")
    out = (bots.group_by(keys).agg(aggs) if keys else bots.select(aggs)).with_columns(
        containment_rate=pl.when(pl.col("bot_journeys") > 0).then(
            pl.col("contained") / pl.col("bot_journeys")
        )
    )
    return out.sort(keys, nulls_last=True) if keys else out


def top_paths(
    df: Frame,
    *,
    n: int = 10,
    gap: Duration = "24h",
    default_region: str | None = "US",
    link_by_name: bool = False,
    max_contact_ids: int | None = 3,
) -> pl.DataFrame:
    """:func:`omnikit.top_paths` of a DuckDB relation or PySpark DataFrame.

    Of raw rows, the journeys are made in the engine (:func:`journeys`) and their few paths
    counted here; of a frame of journeys (it has ``path``), the paths are counted in the engine.

    Examples
    --------
    >>> top_paths(spark_df, n=5)  # doctest: +SKIP
    """
    func = "top_paths"
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ParameterError(f"{func}: n must be a whole number >= 1, not {n!r}")
    options = _options(default_region, link_by_name, max_contact_ids)
    frame = lazy(df, func)
    if "path" not in frame.collect_schema():
        table = _journey_frame(df, gap, options, func)
        return _polars_journeys.top_paths(table, n=n)
    if options:
        raise ParameterError(
            f"{func} got a journeys frame; the resolution options "
            f"({', '.join(sorted(options))}) would be ignored"
        )
    counts = collect(frame.group_by("path").agg(nw.len().alias("journeys")))
    return (
        counts.with_columns(pl.col("journeys").cast(pl.Int64))
        .with_columns(share=pl.col("journeys") / pl.col("journeys").sum())
        .sort(["journeys", "path"], descending=[True, False], nulls_last=True)
        .head(n)
    )


def journey_flow(
    df: Frame,
    *,
    steps: int = 4,
    collapse: bool = False,
    gap: Duration = "24h",
    default_region: str | None = "US",
    link_by_name: bool = False,
    max_contact_ids: int | None = 3,
) -> pl.DataFrame:
    """:func:`omnikit.journey_flow` of a DuckDB relation or PySpark DataFrame.

    The journeys are made in the engine (:func:`journeys`: one row each) and followed step by
    step here, by :func:`omnikit.journey_flow` itself. Of an engine frame of journeys (it has
    ``channels`` and ``path``), those two columns are read into polars.

    Examples
    --------
    >>> journey_flow(spark_df, steps=3)  # doctest: +SKIP
    """
    func = "journey_flow"
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ParameterError(f"steps must be a whole number >= 1, not {steps!r}")
    options = _options(default_region, link_by_name, max_contact_ids)
    frame = lazy(df, func)
    schema = frame.collect_schema()
    if "channels" in schema and "path" in schema:
        if options:
            raise ParameterError(
                f"{func}: got a journeys frame, so the resolution options "
                f"({', '.join(sorted(options))}) would be ignored; pass them to ok.journeys "
                "instead"
            )
        table = collect(frame.select("channels", "path"))
    else:
        table = _journey_frame(df, gap, options, func)
    return _polars_journeys.journey_flow(table, steps=steps, collapse=collapse)
