"""Journeys: a customer's interactions across channels, cut where they pause.

A customer's interactions with a ``start_date_time``, ordered by (``start_date_time``,
``interaction_id``), form one journey until the next one starts more than ``gap`` after the
previous one starts (exactly ``gap`` later still belongs to the same journey). Customers come from
a ``customer_id`` column when the frame has one, otherwise from
:func:`omnikit.resolve_customers` with the resolution options given (``default_region``,
``link_by_name``, ``max_contact_ids``: explicit keywords of every function here, with the
defaults of :func:`omnikit.resolve_customers`).

- :func:`journeys`: one row per journey (path, channels, answered, bot-to-human escalation);
- :func:`channel_transitions`: from which channel to which the next step of a journey went;
- :func:`repeat_contacts`: how often a customer comes back (inbound, by default) within a window;
- :func:`top_paths`: the most common journey paths;
- :func:`bot_containment`: how many journeys with a virtual agent never reached a person;
- :func:`journey_flow`: where journeys went step by step, for a Sankey-style flow or step matrix.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence

import polars as pl

from . import _engines
from ._customers import resolve_customers
from ._errors import ParameterError
from ._metrics import OUTCOMES as _OUTCOMES
from ._time import check_duration
from ._validate import by_columns, check_columns, frame_type_error
from .types import By, Duration, FrameLike

__all__ = [
    "bot_containment",
    "channel_transitions",
    "journey_flow",
    "journeys",
    "repeat_contacts",
    "top_paths",
]

#: The defaults of :func:`omnikit.resolve_customers`' options, which these functions share.
_RESOLVE_DEFAULTS: dict[str, object] = {
    "default_region": "US",
    "link_by_name": False,
    "max_contact_ids": 3,
}

#: How a missing ``interaction_type`` is written in a ``path``.
UNKNOWN_CHANNEL = "UNKNOWN"
#: The ``to_channel`` of :func:`journey_flow` for journeys that stop at a step.
FLOW_END = "END"

_STEP_COLUMNS = (
    "interaction_id",
    "start_date_time",
    "end_date_time",
    "interaction_type",
    "interaction_status",
    "agent_type",
)


@_engines.engine_aware
def journeys(
    df: FrameLike,
    *,
    gap: Duration = "24h",
    default_region: str | None = "US",
    link_by_name: bool = False,
    max_contact_ids: int | None = 3,
) -> pl.DataFrame:
    """Return one row per customer journey.

    Parameters
    ----------
    df
        A canonical frame, eager or lazy. With a ``customer_id`` column that one is used (and the
        resolution options must keep their defaults); otherwise customers are resolved first.
    gap
        A new journey starts when the next interaction starts more than ``gap`` after the
        previous one starts: a polars duration string (``"24h"``, ``"30m"``, ``"1d"``: calendar
        units follow the frame's timezone, as in ``Expr.dt.offset_by``) or a ``timedelta``.
    default_region, link_by_name, max_contact_ids
        How customers are resolved when ``df`` has no ``customer_id``: as in
        :func:`omnikit.resolve_customers`, with its defaults.

    Returns
    -------
    polars.DataFrame
        ``customer_id, journey_id`` (the customer id, ``-`` and the journey's number for that
        customer, from 1), ``started_at`` (first start), ``ended_at`` (latest end, or start when
        an interaction has no end), ``interactions``, ``channels`` (List of ``interaction_type``
        in order), ``path`` (those joined by ``" > "``, consecutive repeats collapsed, a missing
        type written ``UNKNOWN``), ``n_channels`` (distinct non-null types), ``switched``
        (``n_channels > 1``), ``first_channel, last_channel, answered`` (any step answered per
        ``ok.OUTCOMES``, statuses matched without regard to case), ``bot_to_human`` (a
        ``VIRTUAL_AGENT`` step later followed by a ``USER`` step). Sorted by customer and start.
        Rows without ``start_date_time`` are in no journey.

    Examples
    --------
    >>> import omnikit as ok
    >>> j = ok.journeys(ok.load("report.json"))  # doctest: +SKIP
    >>> j.select("path", "switched", "bot_to_human").head()  # doctest: +SKIP
    """
    options = _options(default_region, link_by_name, max_contact_ids)
    check_duration(gap, name="gap")
    lazy = _with_customers(df, options, "journeys")
    # A LazyFrame (a store) may not fit in memory: it is read in slices of customers, in order,
    # so the concatenated slices are the journeys of the whole, sorted as they are.
    parts = [
        _journey_rows(_steps(lazy.filter(customers), gap)).drop("__has_bot").collect()
        for customers in (
            _customer_slices(lazy) if isinstance(df, pl.LazyFrame) else [pl.lit(True)]
        )
    ]
    return pl.concat(parts) if len(parts) > 1 else parts[0]


#: How many rows of a LazyFrame :func:`journeys` orders in memory at once (about 3 GiB).
SLICE_ROWS = 10_000_000


def _customer_slices(lazy: pl.LazyFrame) -> list[pl.Expr]:
    """Filters that split ``lazy`` into consecutive ranges of ``customer_id`` of about
    ``SLICE_ROWS`` rows each (a single ``True`` when it has no more), from a sample of its
    customer ids (read on polars' streaming engine, never whole)."""
    rows = lazy.select(pl.len()).collect(engine="streaming").item()
    slices = -(-rows // SLICE_ROWS)
    if slices <= 1:
        return [pl.lit(True)]
    step = max(1, rows // (slices * 1_000))
    sample = (
        lazy.select("customer_id")
        .with_row_index("__row")
        .filter(pl.col("__row") % step == 0)
        .select("customer_id")
        .collect(engine="streaming")
        .to_series()
        .sort()
    )
    bounds = sorted({sample[len(sample) * k // slices] for k in range(1, slices)})
    customer = pl.col("customer_id")
    edges: list[str | None] = [None, *bounds, None]
    return [
        (customer >= low if low is not None else pl.lit(True))
        & (customer < high if high is not None else pl.lit(True))
        for low, high in itertools.pairwise(edges)
    ]


def _journey_rows(steps: pl.LazyFrame) -> pl.LazyFrame:
    """The rows of :func:`journeys` (lazy), and ``__has_bot``: the journey has a VIRTUAL_AGENT
    step."""
    answered = [status.upper() for status, outcome in _OUTCOMES.items() if outcome == "answered"]
    channel = pl.col("interaction_type")
    agent = pl.col("agent_type")
    # Everything per step first, so that the per-journey aggregations are plain min/max/any.
    steps = steps.with_columns(
        __end=pl.coalesce("end_date_time", "start_date_time"),
        __answered=pl.col("interaction_status").str.to_uppercase().is_in(answered).fill_null(False),
        __bot=pl.when(agent == "VIRTUAL_AGENT").then("__i"),
        __user=pl.when(agent == "USER").then("__i"),
        __path=pl.when("__collapse").then(channel.fill_null(UNKNOWN_CHANNEL)),
    )
    # ``__journey`` is a running number over the sorted steps: a sorted key makes polars group
    # by slices, which is an order of magnitude faster than hashing.
    return (
        steps.group_by(pl.col("__journey").set_sorted())
        .agg(
            pl.col("customer_id").first(),
            started_at=pl.col("start_date_time").first(),
            ended_at=pl.col("__end").max(),
            interactions=pl.len().cast(pl.Int64),
            channels=channel,
            path=pl.col("__path").drop_nulls(),
            n_channels=(channel.n_unique() - channel.null_count().clip(0, 1)).cast(pl.Int64),
            first_channel=channel.first(),
            last_channel=channel.last(),
            answered=pl.col("__answered").any(),
            bot_to_human=(pl.col("__bot").min() < pl.col("__user").max()).fill_null(False),
            __has_bot=pl.col("__bot").is_not_null().any(),
            number=pl.col("__number").first(),
        )
        .with_columns(
            journey_id=pl.format("{}-{}", "customer_id", "number"),
            path=pl.col("path").list.join(" > "),
            switched=pl.col("n_channels") > 1,
        )
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


@_engines.engine_aware
def channel_transitions(
    df: FrameLike,
    *,
    gap: Duration = "24h",
    default_region: str | None = "US",
    link_by_name: bool = False,
    max_contact_ids: int | None = 3,
) -> pl.DataFrame:
    """Count consecutive pairs of interactions within journeys, by channel.

    Parameters
    ----------
    df, gap, default_region, link_by_name, max_contact_ids
        As in :func:`journeys`.

    Returns
    -------
    polars.DataFrame
        ``from_channel, to_channel, transitions, share`` (transitions / all transitions from the
        same ``from_channel``), sorted by ``from_channel, to_channel``. A journey of ``k``
        interactions gives ``k - 1`` transitions.

    Examples
    --------
    >>> import omnikit as ok
    >>> ok.channel_transitions(ok.load("report.json"))  # doctest: +SKIP
    """
    options = _options(default_region, link_by_name, max_contact_ids)
    steps = _steps(_with_customers(df, options, "channel_transitions"), gap)
    return (
        steps.select(
            from_channel=pl.col("interaction_type").shift(1),
            to_channel=pl.col("interaction_type"),
            first=pl.col("__new"),
        )
        .filter(~pl.col("first"))
        .group_by("from_channel", "to_channel")
        .agg(transitions=pl.len().cast(pl.Int64))
        .with_columns(
            share=pl.col("transitions") / pl.col("transitions").sum().over("from_channel")
        )
        .sort("from_channel", "to_channel", nulls_last=True)
        .collect()
    )


@_engines.engine_aware
def repeat_contacts(
    df: FrameLike,
    *,
    window: Duration = "7d",
    by: By = None,
    direction: str | None = "INBOUND",
    default_region: str | None = "US",
    link_by_name: bool = False,
    max_contact_ids: int | None = 3,
) -> pl.DataFrame:
    """Share of interactions after which the same customer came back within ``window``.

    Over interactions of ``direction`` (``interaction_direction``; every direction with
    ``direction=None``) with a ``start_date_time``, an interaction is *repeated* when the same
    customer's next such interaction (ordered by ``start_date_time``, ``interaction_id``)
    starts at most ``window`` after it starts. By default both are INBOUND: the customer came
    back on their own; the team's OUTBOUND follow-ups neither count nor make a repeat.

    Parameters
    ----------
    df
        A canonical frame, eager or lazy (see :func:`journeys` about ``customer_id``).
    window
        A polars duration string or a ``timedelta``. ``"7d"`` is seven *calendar* days in the
        frame's timezone (Monday 10:00 to the next Monday 10:00, 167 or 169 hours across a
        daylight-saving change); ``"168h"`` is exactly 168 hours.
    by
        ``None``, a column name or a list of column names of the interaction (e.g.
        ``"interaction_type"``: the channel the customer came back *after*).
    direction
        The ``interaction_direction`` counted (``"INBOUND"``, ``"OUTBOUND"``), or ``None`` for
        every interaction whatever its direction.
    default_region, link_by_name, max_contact_ids
        As in :func:`journeys`.

    Returns
    -------
    polars.DataFrame
        ``*by, interactions, repeated, repeat_rate`` (``repeated / interactions``; null when
        there are no interactions).

    Examples
    --------
    >>> import omnikit as ok
    >>> df = ok.load("report.json")  # doctest: +SKIP
    >>> ok.repeat_contacts(df, window="3d", by="interaction_type")  # doctest: +SKIP
    """
    func = "repeat_contacts"
    keys = by_columns(by, func)
    lazy = _with_customers(df, _options(default_region, link_by_name, max_contact_ids), func)
    check_columns(lazy.collect_schema(), keys, func, hint="Pass by= names that exist.")
    if direction is not None:
        if not isinstance(direction, str):
            raise ParameterError(
                f"{func}: direction must be an interaction_direction such as 'INBOUND', or None "
                f"for every direction, not {direction!r}"
            )
        if "interaction_direction" not in lazy.collect_schema().names():
            raise ParameterError(
                f"{func}: the frame has no column interaction_direction; pass direction=None to "
                "count every interaction"
            )
        lazy = lazy.filter(pl.col("interaction_direction") == direction)
    start = pl.col("start_date_time")
    same = pl.col("customer_id") == pl.col("customer_id").shift(-1)
    repeated = same & (start.shift(-1) <= _after(start, window, "window"))
    summary = (
        _ordered(lazy, keys)
        .with_columns(__repeated=repeated.fill_null(False))
        .group_by(keys or pl.lit(0).alias("__all"))
        .agg(
            interactions=pl.len().cast(pl.Int64), repeated=pl.col("__repeated").sum().cast(pl.Int64)
        )
        .with_columns(
            repeat_rate=pl.when(pl.col("interactions") > 0).then(
                pl.col("repeated") / pl.col("interactions")
            )
        )
    )
    if keys:
        return summary.sort(keys, nulls_last=True).collect()
    return summary.drop("__all").collect()


@_engines.engine_aware
def top_paths(
    df: FrameLike,
    *,
    n: int = 10,
    gap: Duration = "24h",
    default_region: str | None = "US",
    link_by_name: bool = False,
    max_contact_ids: int | None = 3,
) -> pl.DataFrame:
    """The ``n`` most common journey paths, with counts and shares.

    Parameters
    ----------
    df
        The frame :func:`journeys` returns (it has ``path``), or a canonical frame, whose
        journeys are computed with ``gap`` and the resolution options.
    n
        How many paths to keep.
    gap, default_region, link_by_name, max_contact_ids
        As in :func:`journeys`, for a canonical frame.

    Returns
    -------
    polars.DataFrame
        ``path, journeys, share`` (``journeys`` / all journeys), most common first; ties in
        alphabetical order of ``path``.

    Examples
    --------
    >>> import omnikit as ok
    >>> ok.top_paths(ok.journeys(ok.load("report.json")), n=5)  # doctest: +SKIP
    """
    func = "top_paths"
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ParameterError(f"{func}: n must be a whole number >= 1, not {n!r}")
    options = _options(default_region, link_by_name, max_contact_ids)
    if not isinstance(df, (pl.DataFrame, pl.LazyFrame)):
        raise frame_type_error(df, func, "a polars DataFrame or LazyFrame")
    lazy = df.lazy()
    if "path" not in lazy.collect_schema().names():
        lazy = journeys(lazy, gap=gap, **options).lazy()  # type: ignore[arg-type]
    elif options:
        raise ParameterError(
            f"{func} got a journeys frame; the resolution options "
            f"({', '.join(sorted(options))}) would be ignored"
        )
    return (
        lazy.group_by("path")
        .agg(journeys=pl.len().cast(pl.Int64))
        .with_columns(share=pl.col("journeys") / pl.col("journeys").sum())
        .sort(["journeys", "path"], descending=[True, False], nulls_last=True)
        .head(n)
        .collect()
    )


@_engines.engine_aware
def bot_containment(
    df: FrameLike,
    *,
    gap: Duration = "24h",
    by: By = None,
    default_region: str | None = "US",
    link_by_name: bool = False,
    max_contact_ids: int | None = 3,
) -> pl.DataFrame:
    """How many journeys with a virtual agent were contained: never handed to a person after it.

    Over journeys (as :func:`journeys` cuts them, with ``gap``) with at least one step whose
    ``agent_type`` is ``VIRTUAL_AGENT``: a journey is *contained* when no step with
    ``agent_type`` ``USER`` (a human agent) comes after its first ``VIRTUAL_AGENT`` step; a
    person before the bot does not matter. Contained is exactly "not ``bot_to_human``".

    Parameters
    ----------
    df
        A canonical frame, eager or lazy (see :func:`journeys` about ``customer_id``).
    gap
        As in :func:`journeys`.
    by
        ``None``, a column name or a list of columns of the :func:`journeys` frame to group
        by: ``first_channel``, ``last_channel``, ``path``, ``n_channels``, ``switched``,
        ``answered``, ``interactions``, ``customer_id`` (any column it has except the lists).
    default_region, link_by_name, max_contact_ids
        How customers are resolved when ``df`` has no ``customer_id``, as in
        :func:`omnikit.resolve_customers`.

    Returns
    -------
    polars.DataFrame
        ``*by, bot_journeys, contained`` (Int64) and ``containment_rate``
        (``contained / bot_journeys``, Float64; null when there are no bot journeys). With
        ``by=None`` there is always one row.

    Examples
    --------
    >>> import datetime as dt, polars as pl, omnikit as ok
    >>> t = dt.datetime(2024, 9, 2, 9)
    >>> df = pl.DataFrame({
    ...     "interaction_id": ["a", "b", "c", "d"],
    ...     "customer_id": ["C1", "C1", "C2", "C3"],
    ...     "start_date_time": [t, t + dt.timedelta(minutes=5), t, t],
    ...     "end_date_time": [None, None, None, None],
    ...     "interaction_type": ["CHAT", "VOICE", "CHAT", "VOICE"],
    ...     "interaction_status": ["FINISHED"] * 4,
    ...     "agent_type": ["VIRTUAL_AGENT", "USER", "VIRTUAL_AGENT", "USER"],
    ... })
    >>> ok.bot_containment(df).row(0)  # C1 reached a person, C2 did not, C3 had no bot
    (2, 1, 0.5)
    """
    func = "bot_containment"
    keys = by_columns(by, func)
    options = _options(default_region, link_by_name, max_contact_ids)
    rows = _journey_rows(_steps(_with_customers(df, options, func), gap))
    allowed = [
        name
        for name, dtype in rows.collect_schema().items()
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
    summary = (bots.group_by(keys).agg(aggs) if keys else bots.select(aggs)).with_columns(
        containment_rate=pl.when(pl.col("bot_journeys") > 0).then(
            pl.col("contained") / pl.col("bot_journeys")
        )
    )
    if keys:
        summary = summary.sort(keys, nulls_last=True)
    return summary.collect()


@_engines.engine_aware
def journey_flow(
    df: FrameLike,
    *,
    steps: int = 4,
    collapse: bool = False,
    gap: Duration = "24h",
    default_region: str | None = "US",
    link_by_name: bool = False,
    max_contact_ids: int | None = 3,
) -> pl.DataFrame:
    """Where journeys went, step by step: the small frame a Sankey-style flow or step matrix draws.

    Step 1 is each journey's first interaction, step 2 its second, and so on. For each step up
    to ``steps`` and each channel, how many journeys were at that channel at that step and
    where their next step went; a journey that has no next step goes to ``"END"``. The
    journeys at step ``k + 1`` are exactly those that did not go to ``"END"`` at step ``k``, so
    every step's counts add up to the journeys still going.

    Parameters
    ----------
    df
        The frame :func:`journeys` returns (it has ``channels`` and ``path``), or a canonical
        frame, whose journeys are computed with ``gap`` and the resolution options.
    steps
        How many steps of each journey to follow (the targets of the last one are at step
        ``steps + 1``).
    collapse
        ``False``: a step is an interaction (``channels``: VOICE > VOICE is two steps);
        ``True``: a step is a change of channel (``path``: consecutive repeats collapsed).
    gap, default_region, link_by_name, max_contact_ids
        As in :func:`journeys`, when ``df`` is a canonical frame.

    Returns
    -------
    polars.DataFrame
        ``step`` (Int64, from 1), ``from_channel``, ``to_channel`` (String; ``"END"`` when the
        journey stops there; a missing channel is ``"UNKNOWN"``), ``journeys`` (Int64) and
        ``share`` (journeys / all journeys at ``from_channel`` at that step), sorted by
        ``step, from_channel, to_channel``.

    Examples
    --------
    >>> import polars as pl, omnikit as ok
    >>> trips = pl.DataFrame({"channels": [["CHAT", "VOICE"], ["CHAT"], ["VOICE"]],
    ...                       "path": ["CHAT > VOICE", "CHAT", "VOICE"]})
    >>> ok.journey_flow(trips, steps=2).rows()  # doctest: +NORMALIZE_WHITESPACE
    [(1, 'CHAT', 'END', 1, 0.5), (1, 'CHAT', 'VOICE', 1, 0.5), (1, 'VOICE', 'END', 1, 1.0),
     (2, 'VOICE', 'END', 1, 1.0)]
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ParameterError(f"steps must be a whole number >= 1, not {steps!r}")
    if not isinstance(df, (pl.DataFrame, pl.LazyFrame)):
        raise frame_type_error(df, "journey_flow", "a journeys frame or a canonical frame")
    lazy = df.lazy()
    names = lazy.collect_schema().names()
    options = _options(default_region, link_by_name, max_contact_ids)
    if "channels" not in names or "path" not in names:
        lazy = journeys(lazy, gap=gap, **options).lazy()  # type: ignore[arg-type]
    elif options:
        raise ParameterError(
            f"journey_flow: got a journeys frame, so the resolution options "
            f"({', '.join(sorted(options))}) would be ignored; pass them to ok.journeys instead"
        )
    if collapse:
        channels = pl.col("path").str.split(" > ")
    else:
        channels = pl.col("channels").list.eval(pl.element().fill_null(UNKNOWN_CHANNEL))
    channel = pl.col("__channel")
    return (
        lazy.select(__channel=channels.list.head(steps + 1))
        .with_row_index("__journey")
        .explode("__channel")
        .filter(channel.is_not_null())
        .with_columns(
            step=pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over("__journey"),
            to_channel=channel.shift(-1).over("__journey").fill_null(FLOW_END),
        )
        .filter(pl.col("step") <= steps)
        .group_by("step", channel.alias("from_channel"), "to_channel")
        .agg(journeys=pl.len().cast(pl.Int64))
        .with_columns(
            share=pl.col("journeys") / pl.col("journeys").sum().over("step", "from_channel")
        )
        .sort("step", "from_channel", "to_channel")
        .collect()
    )


# --- shared steps --------------------------------------------------------------------------


def _options(
    default_region: str | None, link_by_name: bool, max_contact_ids: int | None
) -> dict[str, object]:
    """The resolution options that differ from :func:`omnikit.resolve_customers`' defaults."""
    given = {
        "default_region": default_region,
        "link_by_name": link_by_name,
        "max_contact_ids": max_contact_ids,
    }
    return {k: v for k, v in given.items() if v != _RESOLVE_DEFAULTS[k]}


def _with_customers(df: FrameLike, options: dict[str, object], func: str) -> pl.LazyFrame:
    """``df`` as a LazyFrame with ``customer_id``: the existing column, or a resolution with
    ``options`` (those not at their defaults)."""
    if not isinstance(df, (pl.DataFrame, pl.LazyFrame)):
        raise frame_type_error(df, func, "a polars DataFrame or LazyFrame (e.g. from ok.load)")
    schema = df.collect_schema()
    check_columns(schema, _STEP_COLUMNS, func, hint="Pass a canonical frame from ok.load.")
    if "customer_id" in schema.names():
        nulls = (
            df.lazy().select(pl.col("customer_id").null_count()).collect(engine="streaming").item()
        )
        if nulls:
            raise ParameterError(
                f"{func}: customer_id is missing on {nulls} row(s); give every row a customer, or "
                "drop the column to resolve customers with ok.resolve_customers"
            )
        if options:
            raise ParameterError(
                f"{func}: the frame already has customer_id, so the resolution options "
                f"({', '.join(sorted(options))}) would be ignored; drop the column to re-resolve"
            )
        return df.lazy()
    return resolve_customers(df, **options).lazy()  # type: ignore[arg-type]


def _ordered(lazy: pl.LazyFrame, extra: Sequence[str] = ()) -> pl.LazyFrame:
    """Rows with a start time, ordered by customer, start time and interaction id."""
    columns = list(dict.fromkeys(["customer_id", *_STEP_COLUMNS, *extra]))
    return (
        lazy.select(columns)
        .filter(pl.col("start_date_time").is_not_null())
        .sort("customer_id", "start_date_time", "interaction_id", nulls_last=True)
    )


def _steps(lazy: pl.LazyFrame, gap: Duration) -> pl.LazyFrame:
    """Ordered steps with ``__new`` (starts a journey), ``__journey`` (a running number),
    ``__collapse`` (differs from the previous step's channel) and ``__i`` (position)."""
    customer, start = pl.col("customer_id"), pl.col("start_date_time")
    new = (customer != customer.shift(1)) | (start > _after(start.shift(1), gap, "gap"))
    channel = pl.col("interaction_type").fill_null(UNKNOWN_CHANNEL)
    return (
        _ordered(lazy)
        .with_columns(__new=new.fill_null(True))
        .with_columns(
            __journey=pl.col("__new").cum_sum(),
            __collapse=pl.col("__new") | (channel != channel.shift(1)),
            __i=pl.int_range(pl.len()),
        )
        .with_columns(
            # The journey's number for its customer (a customer's steps are contiguous).
            __number=pl.col("__journey")
            - pl.when(customer != customer.shift(1).fill_null("")).then("__journey").forward_fill()
            + 1
        )
    )


def _after(start: pl.Expr, span: Duration, name: str) -> pl.Expr:
    """``start`` moved ``span`` later: a ``timedelta`` exactly, a polars duration string with
    ``Expr.dt.offset_by`` (calendar units in the frame's timezone)."""
    span = check_duration(span, name=name)
    if isinstance(span, dt.timedelta):
        return start + span
    return start.dt.offset_by(span)
