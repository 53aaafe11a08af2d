"""Charts of customers and journeys: channel transitions, top paths, one customer's timeline.

:func:`transition_heatmap` and :func:`top_paths_chart` take the small frames that
``ok.channel_transitions`` and ``ok.top_paths`` return, so their size depends on channels and
paths, not on interactions. :func:`customer_timeline` takes one customer's interactions (a few
rows) and inlines only what it draws: times, channels, statuses, agent types -- never the
customer's name, contact or ids.

>>> import omnikit as ok
>>> df = ok.synth_frame(10_000)  # doctest: +SKIP
>>> ok.charts.transition_heatmap(ok.channel_transitions(df))  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt

import altair as alt
import polars as pl

from .._errors import ParameterError
from .._format import format_duration
from ._metrics import title_params
from ._theme import base_chart, channel_color_scale, records, require_frame, themed

__all__ = ["customer_timeline", "journey_flow_chart", "top_paths_chart", "transition_heatmap"]

#: Charts take the width of the page's column (a phone's screen, a laptop's page).
CONTAINER = "container"

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
    threshold = 0.5 if is_share else float(frame["transitions"].max() or 0) / 2
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
    gap: str | dt.timedelta = "24h",
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
