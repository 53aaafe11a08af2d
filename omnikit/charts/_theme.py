"""The shared look of omnikit's charts: a colour per channel, fonts, sizes, titles, inline data.

Every builder in :mod:`omnikit.charts` starts from :func:`base_chart` and ends with
:func:`themed`, and colours channels with :func:`channel_color_scale`, so that VOICE has the same
colour in every chart of a report. Data is always inlined as values (the frames are small), never
referenced by URL, so the charts render offline.

>>> import polars as pl
>>> from omnikit.charts._theme import base_chart, channel_color_scale, themed
>>> frame = pl.DataFrame({"interaction_type": ["VOICE", "CHAT"], "interactions": [3, 1]})
>>> import altair as alt
>>> chart = base_chart(frame, title="Interactions").mark_bar().encode(
...     x="interactions:Q", color=alt.Color("interaction_type:N", scale=channel_color_scale()))
>>> themed(chart).to_dict()["config"]["font"]  # doctest: +SKIP
'Inter, Helvetica, Arial, sans-serif'
"""

from __future__ import annotations

import datetime as dt
import math
import textwrap
from collections.abc import Iterable, Sequence
from typing import Any

import altair as alt
import polars as pl
import polars.selectors as cs

from .._validate import metric_frame

__all__ = [
    "CHANNEL_COLORS",
    "CONTAINER",
    "FONT",
    "HEIGHT",
    "OTHER_COLORS",
    "SUBTITLE_LINE",
    "WIDTH",
    "base_chart",
    "channel_color_scale",
    "records",
    "themed",
    "title_params",
]

#: One fixed colour per known ``interaction_type`` (colour-blind friendly, Okabe–Ito based).
CHANNEL_COLORS: dict[str, str] = {
    "VOICE": "#0072B2",
    "CHAT": "#E69F00",
    "EMAIL": "#009E73",
    "SMS": "#CC79A7",
    "WHATSAPP": "#56B4E9",
    "FBM": "#D55E00",
    "DIGITAL_CONNECT": "#F0E442",
    "VIDEO": "#882255",
}

#: Colours handed, in order, to channels not in :data:`CHANNEL_COLORS`.
OTHER_COLORS: tuple[str, ...] = ("#7F7F7F", "#999933", "#44AA99", "#AA4499", "#332288", "#117733")

FONT = "Inter, Helvetica, Arial, sans-serif"
WIDTH = 560
HEIGHT = 280

#: Charts of a report take the width of the page's column (a phone's screen, a laptop's page):
#: Vega-Lite sizes the whole chart, axes and legend included, to its container.
CONTAINER = "container"

#: Longest line of a chart subtitle: Vega does not wrap titles, and a phone shows about 50
#: characters of 12-pixel text.
SUBTITLE_LINE = 48


def channel_color_scale(channels: Iterable[str | None] | None = None) -> alt.Scale:
    """Return the colour scale for channels: fixed colours for known ones, then the others.

    Parameters
    ----------
    channels
        The channels that appear in the chart (order kept); ``None`` for the known channels.
    """
    domain: list[str] = []
    for channel in CHANNEL_COLORS if channels is None else channels:
        label = "(none)" if channel is None else str(channel)
        if label not in domain:
            domain.append(label)
    others = iter(OTHER_COLORS * (len(domain) // len(OTHER_COLORS) + 1))
    colors = [CHANNEL_COLORS.get(c) or next(others) for c in domain]
    return alt.Scale(domain=domain, range=colors)


def records(frame: pl.DataFrame, *, digits: int = 6) -> list[dict[str, Any]]:
    """Turn a small metric frame into JSON-ready rows for inline Vega-Lite data.

    Date-times become their wall-clock time in the frame's timezone, written as if UTC
    (``"2024-09-02T00:00:00Z"``), to be read with a ``utc`` scale, so that the chart shows the
    frame's local times whatever the viewer's timezone. Floats are rounded to ``digits``
    decimals (NaN and infinities become null); null String keys become ``"(none)"``.
    """
    frame = frame.with_columns(
        cs.datetime().dt.replace_time_zone(None).dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
        cs.date().dt.strftime("%Y-%m-%dT00:00:00Z"),
        cs.float().round(digits),
        cs.string().fill_null("(none)"),
    )
    rows = frame.to_dicts()
    for row in rows:
        for key, value in row.items():
            if isinstance(value, float) and not math.isfinite(value):
                row[key] = None
            elif isinstance(value, (dt.datetime, dt.date, dt.timedelta)):  # pragma: no cover
                row[key] = str(value)
    return rows


def title_params(title: str, subtitle: str | None = None) -> alt.TitleParams:
    """omnikit's chart title: left-aligned, with an optional grey subtitle cut into lines that
    fit a phone (``SUBTITLE_LINE`` characters at most, words kept whole)."""
    if not subtitle:
        return alt.TitleParams(text=title, anchor="start")
    lines = textwrap.wrap(subtitle, SUBTITLE_LINE, break_long_words=False)
    return alt.TitleParams(
        text=title, anchor="start", subtitle=lines[0] if len(lines) == 1 else lines
    )


def base_chart(
    frame: pl.DataFrame,
    *,
    title: str | None = None,
    subtitle: str | None = None,
    width: Any = WIDTH,
    height: Any = HEIGHT,
) -> alt.Chart:
    """Start a chart on ``frame``'s rows inlined as values, with omnikit's title and size.

    For a layered chart leave ``title`` out here and give :func:`title_params` to the layer.
    """
    chart = alt.Chart(alt.Data(values=records(frame))).properties(width=width, height=height)
    return chart.properties(title=title_params(title, subtitle)) if title else chart


def themed(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    """Apply omnikit's fonts, sizes and quiet grid to a finished (top-level) chart."""
    return (
        chart.configure(font=FONT)
        .configure_title(fontSize=15, subtitleFontSize=12, subtitleColor="#555555", anchor="start")
        .configure_axis(
            labelFontSize=11, titleFontSize=12, gridColor="#e6e6e6", domainColor="#888888"
        )
        .configure_legend(labelFontSize=11, titleFontSize=12, orient="right")
        .configure_view(stroke=None)
    )


def require_frame(frame: object, columns: Sequence[str], chart: str, source: str) -> pl.DataFrame:
    """The metric frame a chart was given, collected, or a ParameterError naming what is missing.

    The same rule as every other frame check: :func:`omnikit._validate.metric_frame`.
    """
    return metric_frame(frame, columns, chart, source)
