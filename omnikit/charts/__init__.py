"""Altair charts of omnikit's metrics, with one consistent look.

Every builder takes the small aggregated frame a metric returns (never raw rows), so a chart's
size does not grow with the number of interactions. Importing this module registers the
``"omnikit"`` altair renderer used by the report notebooks (``alt.renderers.enable("omnikit")``).
"""

from __future__ import annotations

import altair as alt

from .._export import _omnikit_renderer
from . import _journeys, _metrics
from ._journeys import *  # noqa: F403
from ._metrics import *  # noqa: F403
from ._theme import CHANNEL_COLORS

#: The chart builders, and the colour of each channel they share (:data:`CHANNEL_COLORS`).
__all__ = [*_metrics.__all__, *_journeys.__all__, "CHANNEL_COLORS"]

# ``alt.renderers.enable("omnikit")`` makes charts the offline HTML export can draw.
alt.renderers.register("omnikit", _omnikit_renderer)
