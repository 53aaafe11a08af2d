"""Charts of customers and journeys: channel transitions, top paths, journey flow, one customer.

:func:`transition_heatmap`, :func:`top_paths_chart`, :func:`journey_flow_chart` (a step matrix,
the reports' chart) and :func:`journey_sankey_chart` (a Sankey-style flow, for a wide screen)
take the small frames that ``ok.channel_transitions``, ``ok.top_paths`` and ``ok.journey_flow``
return, so their size depends on channels, paths and steps, not on interactions.
:func:`customer_timeline` takes one customer's interactions (a few rows) and inlines only what it
draws: times, channels, statuses, agent types -- never the customer's name, contact or ids.

>>> import omnikit as ok
>>> df = ok.synth_frame(10_000)  # doctest: +SKIP
>>> ok.charts.transition_heatmap(ok.channel_transitions(df))  # doctest: +SKIP
"""

from __future__ import annotations

import altair as alt
import polars as pl

from .._errors import ParameterError
from .._format import format_duration
from .._validate import check_polars_frame
from ..types import Duration
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
    "customer_timeline",
    "journey_flow_chart",
    "journey_sankey_chart",
    "top_paths_chart",
    "transition_heatmap",
]

#: What the timeline shows of each interaction (nothing that identifies the customer).
TIMELINE_FIELDS = (
    "start_date_time",
    "end_date_time",
    "interaction_type",
    "interaction_status",
    "interaction_direction",
    "agent_type",
    "waiting_time",
    "duration",
)


def transition_heatmap(
    transitions: pl.DataFrame, *, value: str = "share", title: str | None = None
) -> alt.TopLevelMixin:
    """Heatmap of channel transitions within journeys, from ``ok.channel_transitions(df)``.

    Rows are the channel a journey was in (``from_channel``), columns the channel its next step
    used (``to_channel``); each cell is coloured by ``value`` and labelled with it.

    Parameters
    ----------
    transitions
        The frame ``ok.channel_transitions`` returns.
    value
        ``"share"`` (of the transitions out of the row's channel; rows sum to 1) or
        ``"transitions"`` (counts).
    title
        Chart title; a sensible default otherwise.

    Returns
    -------
    altair.LayerChart

    Examples
    --------
    >>> import omnikit as ok
    >>> transitions = ok.channel_transitions(ok.load("report.json"))  # doctest: +SKIP
    >>> chart = ok.charts.transition_heatmap(transitions)  # doctest: +SKIP
    """
    check_polars_frame(transitions, "transition_heatmap", "ok.channel_transitions(df)")
    frame = require_frame(
        transitions,
        ("from_channel", "to_channel", "transitions", "share"),
        "transition_heatmap",
        "ok.channel_transitions()",
    )
    if value not in ("share", "transitions"):
        raise ParameterError(
            f"transition_heatmap: value must be 'share' or 'transitions', not {value!r}"
        )
    if frame.select("from_channel", "to_channel").is_duplicated().any():
        raise ParameterError("transition_heatmap: more than one row per (from_channel, to_channel)")
    channels = sorted(
        {"(none)" if c is None else c for c in [*frame["from_channel"], *frame["to_channel"]]}
    )
    is_share = value == "share"
    base = base_chart(frame, width=CONTAINER, height=max(120, 40 * len(channels)))
    encode = {
        "x": alt.X(
            "to_channel:N",
            title="Next step's channel",
            sort=channels,
            axis=alt.Axis(labelAngle=-35, orient="top", labelLimit=90),
        ),
        "y": alt.Y("from_channel:N", title="Channel", sort=channels, axis=alt.Axis(labelLimit=90)),
    }
    rect = base.mark_rect().encode(
        **encode,
        color=alt.Color(
            f"{value}:Q",
            title="Share of the row" if is_share else "Transitions",
            scale=alt.Scale(scheme="blues", domain=[0, 1] if is_share else alt.Undefined),
            legend=alt.Legend(format=".0%" if is_share else ",d"),
        ),
        tooltip=[
            alt.Tooltip("from_channel:N", title="From"),
            alt.Tooltip("to_channel:N", title="To"),
            alt.Tooltip("transitions:Q", title="Transitions", format=",d"),
            alt.Tooltip("share:Q", title="Share of 'from'", format=".1%"),
        ],
    )
    threshold = (
        0.5 if is_share else float(frame.select(pl.col("transitions").max()).item() or 0) / 2
    )
    text = base.mark_text(fontSize=11).encode(
        **encode,
        text=alt.Text(f"{value}:Q", format=".0%" if is_share else ",d"),
        color=alt.condition(alt.datum[value] > threshold, alt.value("white"), alt.value("#222222")),
    )
    layered = alt.layer(rect, text).properties(
        title=title_params(
            title or "Where journeys go next",
            "Channel of each step, and of the step after it, within a journey",
        )
    )
    return themed(layered)


def top_paths_chart(paths: pl.DataFrame, *, title: str | None = None) -> alt.TopLevelMixin:
    """Horizontal bars of the most common journey paths, from ``ok.top_paths(df, n=...)``.

    Bars are coloured by the channel the path starts with and labelled with their share.

    Parameters
    ----------
    paths
        The frame ``ok.top_paths`` returns (``path, journeys, share``).
    title
        Chart title; a sensible default otherwise.

    Returns
    -------
    altair.LayerChart

    Examples
    --------
    >>> import omnikit as ok
    >>> paths = ok.top_paths(ok.load("report.json"), n=8)  # doctest: +SKIP
    >>> chart = ok.charts.top_paths_chart(paths)  # doctest: +SKIP
    """
    check_polars_frame(paths, "top_paths_chart", "ok.top_paths(df)")
    frame = require_frame(paths, ("path", "journeys", "share"), "top_paths_chart", "ok.top_paths()")
    if frame["path"].is_duplicated().any():
        raise ParameterError(
            "top_paths_chart: more than one row per path; pass ok.top_paths() as returned"
        )
    frame = frame.select(
        "path", "journeys", "share", first_channel=pl.col("path").str.split(" > ").list.first()
    )
    order = (
        frame.sort(["journeys", "path"], descending=[True, False])["path"]
        .fill_null("(none)")
        .to_list()
    )
    channels = sorted({"(none)" if c is None else c for c in frame["first_channel"]})
    base = base_chart(frame, width=CONTAINER, height=max(60, 26 * frame.height))
    y = alt.Y("path:N", title=None, sort=order, axis=alt.Axis(labelLimit=140))
    bars = base.mark_bar().encode(
        y=y,
        x=alt.X("journeys:Q", title="Journeys", axis=alt.Axis(format=",d")),
        color=alt.Color(
            "first_channel:N", title="First channel", scale=channel_color_scale(channels)
        ),
        tooltip=[
            alt.Tooltip("path:N", title="Path"),
            alt.Tooltip("journeys:Q", title="Journeys", format=",d"),
            alt.Tooltip("share:Q", title="Share of journeys", format=".1%"),
        ],
    )
    labels = base.mark_text(align="left", dx=4, fontSize=11).encode(
        y=y, x="journeys:Q", text=alt.Text("share:Q", format=".1%")
    )
    layered = alt.layer(bars, labels).properties(
        title=title_params(
            title or "Most common journeys",
            "Channels in order, repeats collapsed; label: share of all journeys",
        )
    )
    return themed(layered)


def journey_flow_chart(
    flow: pl.DataFrame, *, title: str | None = None, top: int = 3
) -> alt.TopLevelMixin:
    """How journeys move step by step across channels: a step matrix of ``ok.journey_flow``.

    Columns are the steps of a journey (1 = its first interaction), rows the channels and
    ``END``; a cell is the share of all journeys that were at that channel at that step (``END``:
    journeys already over), so every column adds up to 100 %. Hover a cell for where those
    journeys went next. Drawn as retentioneering draws a step matrix; it reads on a phone where
    a Sankey's thin links would not.

    Parameters
    ----------
    flow
        The frame ``ok.journey_flow`` returns (``step, from_channel, to_channel, journeys``).
    title
        Chart title; a sensible default otherwise.
    top
        How many of the next steps to name in a cell's tooltip.

    Returns
    -------
    altair.LayerChart

    Examples
    --------
    >>> import omnikit as ok
    >>> flow = ok.journey_flow(ok.journeys(df), steps=4)  # doctest: +SKIP
    >>> chart = ok.charts.journey_flow_chart(flow)  # doctest: +SKIP
    """
    from .._journeys import FLOW_END

    check_polars_frame(flow, "journey_flow_chart", "ok.journey_flow(trips)")
    frame = require_frame(
        flow,
        ("step", "from_channel", "to_channel", "journeys"),
        "journey_flow_chart",
        "ok.journey_flow()",
    )
    if frame.select("step", "from_channel", "to_channel").is_duplicated().any():
        raise ParameterError(
            "journey_flow_chart: more than one row per (step, from_channel, to_channel); pass "
            "ok.journey_flow() as returned"
        )
    at = frame.group_by("step", "from_channel").agg(pl.col("journeys").sum())
    total = int(at.filter(pl.col("step") == 1)["journeys"].sum()) if frame.height else 0
    nexts = (
        frame.sort("journeys", "to_channel", descending=[True, False])
        .group_by("step", "from_channel", maintain_order=True)
        .agg(
            pl.format("{} ({})", pl.col("to_channel"), pl.col("journeys"))
            .head(top)
            .str.join(", ")
            .alias("next")
        )
    )
    steps = sorted(at["step"].unique().to_list())
    ended = pl.DataFrame(
        {
            "step": steps,
            "from_channel": [FLOW_END] * len(steps),
            "journeys": [
                total - int(at.filter(pl.col("step") == k)["journeys"].sum()) for k in steps
            ],
        },
        schema={"step": pl.Int64, "from_channel": pl.String, "journeys": pl.Int64},
    ).filter(pl.col("journeys") > 0)
    cells = (
        pl.concat([at.join(nexts, on=["step", "from_channel"]), ended], how="diagonal_relaxed")
        .with_columns(
            share=pl.col("journeys") / total if total else pl.lit(None, pl.Float64),
            step_label=pl.format("Step {}", pl.col("step")),
            next=pl.col("next").fill_null("journey over"),
        )
        .sort("step", "from_channel")
    )
    channels = sorted(c for c in cells["from_channel"].unique().to_list() if c != FLOW_END)
    order = [*channels, FLOW_END]
    step_order = [f"Step {k}" for k in steps]
    base = base_chart(cells, width=CONTAINER, height=alt.Step(28))
    encode = {
        "x": alt.X(
            "step_label:O", title=None, sort=step_order, axis=alt.Axis(orient="top", labelAngle=0)
        ),
        "y": alt.Y("from_channel:N", title="Channel", sort=order),
    }
    tooltip = [
        alt.Tooltip("step_label:N", title="Step"),
        alt.Tooltip("from_channel:N", title="Channel"),
        alt.Tooltip("journeys:Q", title="Journeys", format=",d"),
        alt.Tooltip("share:Q", title="Share of all journeys", format=".1%"),
        alt.Tooltip("next:N", title="Went next to"),
    ]
    rect = base.mark_rect().encode(
        **encode,
        color=alt.Color(
            "share:Q",
            title="Share of journeys",
            scale=alt.Scale(scheme="blues", domain=[0, 1]),
            legend=alt.Legend(format=".0%", orient="bottom"),
        ),
        tooltip=tooltip,
    )
    text = base.mark_text(fontSize=11).encode(
        **encode,
        text=alt.Text("share:Q", format=".0%"),
        color=alt.condition(alt.datum.share > 0.5, alt.value("white"), alt.value("#222222")),
        tooltip=tooltip,
    )
    layered = alt.layer(rect, text).properties(
        title=title_params(
            title or "How journeys move, step by step",
            f"Share of all {total:,} journeys at each channel at each step; END: already over",
        )
    )
    return themed(layered)


def customer_timeline(
    interactions: pl.DataFrame | pl.LazyFrame,
    *,
    customer_id: str | None = None,
    gap: Duration = "24h",
    title: str | None = None,
) -> alt.TopLevelMixin:
    """One customer's interactions on a time axis, one lane and colour per channel.

    Each interaction is a point at its start (a bar to its end when it has one); grey bands
    are the customer's journeys (cut at ``gap``, as in ``ok.journeys``). Only times, channels,
    statuses, directions, agent types, waits and durations are put in the chart.

    Parameters
    ----------
    interactions
        One customer's rows of the canonical frame (e.g. filtered on ``customer_id`` after
        ``ok.resolve_customers``). With a ``customer_id`` column holding several customers,
        pass ``customer_id`` to pick one.
    customer_id
        The customer to draw, when ``interactions`` holds several.
    gap
        Journey gap for the bands, as in ``ok.journeys``.
    title
        Chart title (the default does not name the customer).

    Returns
    -------
    altair.LayerChart

    Examples
    --------
    >>> import omnikit as ok
    >>> df = ok.resolve_customers(ok.load("report.json"))  # doctest: +SKIP
    >>> ok.charts.customer_timeline(df, customer_id=df["customer_id"][0])  # doctest: +SKIP
    """
    from .._journeys import journeys

    check_polars_frame(interactions, "customer_timeline", "ok.load() for one customer")
    frame = require_frame(
        interactions,
        ("interaction_id", *TIMELINE_FIELDS),
        "customer_timeline",
        "ok.load() for one customer",
    )
    if "customer_id" in frame.columns:
        if customer_id is not None:
            frame = frame.filter(pl.col("customer_id") == customer_id)
        customers = frame["customer_id"].unique()
        if len(customers) > 1:
            raise ParameterError(
                f"customer_timeline: the rows belong to {len(customers)} customers; pass "
                "customer_id= to pick one (or filter the frame first)"
            )
    elif customer_id is not None:
        raise ParameterError(
            "customer_timeline: customer_id given but the frame has no customer_id column"
        )
    frame = frame.filter(pl.col("start_date_time").is_not_null())
    if frame.is_empty():
        raise ParameterError("customer_timeline: no interaction with a start_date_time to draw")
    bands = journeys(frame.with_columns(customer_id=pl.lit("C")), gap=gap).select(
        "started_at", "ended_at", "path", "interactions", journey=pl.int_range(1, pl.len() + 1)
    )
    steps = (
        frame.select(TIMELINE_FIELDS)
        .sort("start_date_time")
        .with_columns(
            wait=pl.col("waiting_time").map_elements(
                format_duration, return_dtype=pl.String, skip_nulls=False
            ),
            took=pl.col("duration").map_elements(
                format_duration, return_dtype=pl.String, skip_nulls=False
            ),
        )
    )
    channels = sorted({"(none)" if c is None else c for c in steps["interaction_type"]})
    x_scale = alt.Scale(type="utc")
    band = (
        alt.Chart(alt.Data(values=records(bands)))
        .mark_rect(color="#eeeeee")
        .encode(
            x=alt.X(
                "started_at:T",
                scale=x_scale,
                title="Time (report timezone)",
                axis=alt.Axis(format="%a %d %b %H:%M", labelOverlap=True),
            ),
            x2="ended_at:T",
            tooltip=[
                alt.Tooltip("journey:Q", title="Journey"),
                alt.Tooltip("path:N", title="Path"),
                alt.Tooltip("interactions:Q", title="Interactions"),
            ],
        )
    )
    base = base_chart(steps, height=max(80, 36 * len(channels)))
    y = alt.Y("interaction_type:N", title="Channel", sort=channels)
    color = alt.Color("interaction_type:N", title="Channel", scale=channel_color_scale(channels))
    tooltip = [
        alt.Tooltip(
            "start_date_time:T", title="Start", timeUnit="utcyearmonthdatehoursminutesseconds"
        ),
        alt.Tooltip("interaction_type:N", title="Channel"),
        alt.Tooltip("interaction_status:N", title="Status"),
        alt.Tooltip("interaction_direction:N", title="Direction"),
        alt.Tooltip("agent_type:N", title="Agent"),
        alt.Tooltip("wait:N", title="Wait"),
        alt.Tooltip("took:N", title="Duration"),
    ]
    spans = (
        base.mark_bar(height=10, opacity=0.5)
        .encode(x=alt.X("start_date_time:T", scale=x_scale), x2="end_date_time:T", y=y, color=color)
        .transform_filter("datum.end_date_time != null")
    )
    points = base.mark_point(filled=True, size=90, opacity=1).encode(
        x=alt.X("start_date_time:T", scale=x_scale),
        y=y,
        color=color,
        shape=alt.Shape("agent_type:N", title="Agent"),
        tooltip=tooltip,
    )
    layered = alt.layer(band, spans, points).properties(
        width=CONTAINER,
        title=title_params(
            title or "One customer's interactions", "Grey bands: journeys; bars: start to end"
        ),
    )
    return themed(layered)


#: Colour of the "END" blocks and bands of :func:`journey_sankey_chart`.
END_COLOR = "#BBBBBB"
_NODE_HALF_WIDTH = 0.06  # of the distance between two steps
#: Where each band is sampled (0 = its source, 1 = its target); drawn with monotone
#: interpolation, these few points make a smooth S that leaves and arrives flat.
_CURVE_AT = (0.0, 0.12, 0.5, 0.88, 1.0)


def journey_sankey_chart(flow: pl.DataFrame, *, title: str | None = None) -> alt.TopLevelMixin:
    """A Sankey-style flow of journeys across channels, step by step, from ``ok.journey_flow``.

    Each column is a step of the journeys (1 = their first interaction); each block a channel,
    as tall as the journeys at that channel at that step; each band goes from a channel to the
    channel of the next step, as thick as the journeys that went that way. Journeys that stop
    go to a grey ``END`` block in the next column. Drawn from altair marks only (rectangles,
    areas and text), so it renders offline like every omnikit chart. It shows the transitions
    themselves, where :func:`journey_flow_chart` (the report's chart) shows where journeys are at
    each step; it is 150 pixels wide per step, for a laptop screen rather than a phone.

    Parameters
    ----------
    flow
        The frame ``ok.journey_flow`` returns (``step, from_channel, to_channel, journeys``).
    title
        Chart title; a sensible default otherwise.

    Returns
    -------
    altair.LayerChart

    Examples
    --------
    >>> import omnikit as ok
    >>> trips = ok.journeys(ok.resolve_customers(ok.load("report.json")))  # doctest: +SKIP
    >>> ok.charts.journey_sankey_chart(ok.journey_flow(trips, steps=4))  # doctest: +SKIP
    """
    from .._journeys import FLOW_END

    check_polars_frame(flow, "journey_sankey_chart", "ok.journey_flow(trips)")
    frame = require_frame(
        flow,
        ("step", "from_channel", "to_channel", "journeys"),
        "journey_sankey_chart",
        "ok.journey_flow()",
    )
    frame = frame.select(
        pl.col("step").cast(pl.Int64),
        pl.col("from_channel").fill_null("(none)"),
        pl.col("to_channel").fill_null("(none)"),
        pl.col("journeys").cast(pl.Int64),
    ).filter(pl.col("journeys") > 0)
    if frame.select("step", "from_channel", "to_channel").is_duplicated().any():
        raise ParameterError(
            "journey_sankey_chart: more than one row per (step, from_channel, to_channel); pass "
            "ok.journey_flow() as returned"
        )
    if frame.is_empty():
        raise ParameterError("journey_sankey_chart: the flow has no journeys to draw")
    nodes, links = _flow_layout(frame, FLOW_END)
    channels = [
        c
        for c in nodes.sort("journeys", descending=True)["channel"].unique(maintain_order=True)
        if c != FLOW_END
    ]
    scale = channel_color_scale(channels)
    color_scale = alt.Scale(
        domain=[*scale.domain, FLOW_END],
        range=[*scale.range, END_COLOR],
    )
    last = int(nodes["column"].max())  # type: ignore[arg-type]
    x_scale = alt.Scale(domain=[1 - 2 * _NODE_HALF_WIDTH, last + 2 * _NODE_HALF_WIDTH], nice=False)
    y_scale = alt.Scale(domain=[0, float(nodes["y1"].max())], reverse=True, nice=False)  # type: ignore[arg-type]
    x_axis = alt.Axis(values=list(range(1, last + 1)), format="d", title="Step", orient="top")
    height = max(240, 40 * nodes.group_by("column").len()["len"].max())  # type: ignore[operator]
    width = max(320, 150 * last)
    bands = (
        alt.Chart(alt.Data(values=records(links)))
        .mark_area(opacity=0.35, interpolate="monotone")
        .encode(
            x=alt.X("x:Q", scale=x_scale, axis=x_axis),
            y=alt.Y("y0:Q", scale=y_scale, axis=None, stack=None),
            y2="y1:Q",
            detail="link:N",
            color=alt.Color("from_channel:N", scale=color_scale, legend=None),
            tooltip=[
                alt.Tooltip("step:Q", title="Step"),
                alt.Tooltip("from_channel:N", title="From"),
                alt.Tooltip("to_channel:N", title="Next step"),
                alt.Tooltip("journeys:Q", title="Journeys", format=",d"),
                alt.Tooltip("share:Q", title="Share of 'from'", format=".1%"),
            ],
        )
    )
    base = alt.Chart(alt.Data(values=records(nodes)))
    blocks = base.mark_rect().encode(
        x=alt.X("x0:Q", scale=x_scale, axis=x_axis),
        x2="x1:Q",
        y=alt.Y("y0:Q", scale=y_scale, axis=None),
        y2="y1:Q",
        color=alt.Color("channel:N", title="Channel", scale=color_scale),
        tooltip=[
            alt.Tooltip("column:Q", title="Step"),
            alt.Tooltip("channel:N", title="Channel"),
            alt.Tooltip("journeys:Q", title="Journeys", format=",d"),
        ],
    )
    labels = (
        base.mark_text(align="left", dx=3, fontSize=11, color="#222222")
        .encode(
            x=alt.X("x1:Q", scale=x_scale, axis=x_axis),
            y=alt.Y("middle:Q", scale=y_scale, axis=None),
            text="label:N",
        )
        .transform_filter("datum.show")
    )
    layered = alt.layer(bands, blocks, labels).properties(
        width=width,
        height=height,
        title=title_params(
            title or "How journeys move across channels",
            "Each column is a step of the journeys; bands: where the next step went",
        ),
    )
    return themed(layered)


def _flow_layout(frame: pl.DataFrame, end: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Blocks (one per column and channel) and band outlines of a journey flow, in journeys.

    Column c holds the journeys at step c: those leaving at step c, or (for the last column)
    arriving from step c - 1. Blocks of a column are ordered by the channel's total journeys,
    ``END`` last, with a small gap between them; a band leaves its block in the order of its
    target block and arrives in the order of its source block.
    """
    last_step = int(frame["step"].max())  # type: ignore[arg-type]
    out = frame.group_by(column="step", channel="from_channel").agg(pl.col("journeys").sum())
    arriving = (
        frame.filter(pl.col("step") == last_step)
        .group_by(column=pl.col("step") + 1, channel="to_channel")
        .agg(pl.col("journeys").sum())
    )
    ends = (
        frame.filter(pl.col("to_channel") == end, pl.col("step") < last_step)
        .group_by(column=pl.col("step") + 1, channel="to_channel")
        .agg(pl.col("journeys").sum())
    )
    nodes = (
        pl.concat([out, arriving, ends]).group_by("column", "channel").agg(pl.col("journeys").sum())
    )
    volume = nodes.group_by("channel").agg(total=pl.col("journeys").sum())
    rank = {c: (c == end, -t, c) for c, t in volume.iter_rows()}
    tallest = nodes.group_by("column").agg(pl.col("journeys").sum())["journeys"].max()
    gap = max(1.0, 0.04 * float(tallest))  # type: ignore[arg-type]
    tops: dict[tuple[int, str], float] = {}
    rows = []
    for column in sorted(set(nodes["column"])):
        y = 0.0
        here = nodes.filter(pl.col("column") == column)
        for channel, journeys in sorted(
            here.select("channel", "journeys").iter_rows(), key=lambda r: rank[r[0]]
        ):
            tops[(column, channel)] = y
            rows.append((column, channel, journeys, y, y + journeys))
            y += journeys + gap
    total = max(r[4] for r in rows)
    nodes = pl.DataFrame(
        rows, schema=["column", "channel", "journeys", "y0", "y1"], orient="row"
    ).with_columns(
        x0=pl.col("column") - _NODE_HALF_WIDTH,
        x1=pl.col("column") + _NODE_HALF_WIDTH,
        middle=(pl.col("y0") + pl.col("y1")) / 2,
        label=pl.format("{} {}", "channel", "journeys"),
        show=(pl.col("y1") - pl.col("y0")) >= 0.04 * total,
    )
    # Where each band leaves its source block and reaches its target block.
    leave = dict(tops)
    reach = dict(tops)
    points = []
    ordered = sorted(
        frame.iter_rows(named=True),
        key=lambda r: (r["step"], rank[r["from_channel"]], rank[r["to_channel"]]),
    )
    leaving = {(r["step"], r["from_channel"]): 0 for r in ordered}
    for r in ordered:
        leaving[(r["step"], r["from_channel"])] += r["journeys"]
    for r in sorted(
        ordered, key=lambda r: (r["step"], rank[r["to_channel"]], rank[r["from_channel"]])
    ):
        key_to = (r["step"] + 1, r["to_channel"])
        r["_to"] = reach[key_to]
        reach[key_to] += r["journeys"]
    for link, r in enumerate(ordered):
        key_from = (r["step"], r["from_channel"])
        start = leave[key_from]
        leave[key_from] += r["journeys"]
        x_from, x_to = r["step"] + _NODE_HALF_WIDTH, r["step"] + 1 - _NODE_HALF_WIDTH
        for k, t in enumerate(_CURVE_AT):
            smooth = t * t * (3 - 2 * t)  # smoothstep: flat where it leaves and arrives
            top = start + (r["_to"] - start) * smooth
            points.append(
                {
                    "link": link,
                    "point": k,
                    "x": x_from + (x_to - x_from) * t,
                    "y0": top,
                    "y1": top + r["journeys"],
                    "step": r["step"],
                    "from_channel": r["from_channel"],
                    "to_channel": r["to_channel"],
                    "journeys": r["journeys"],
                    "share": r["journeys"] / leaving[key_from],
                }
            )
    return nodes, pl.DataFrame(points)
