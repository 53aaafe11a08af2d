"""Altair charts of omnikit's metrics, with one consistent look.

Every builder takes the small aggregated frame a metric returns (never raw rows), so a chart's
size does not grow with the number of interactions.
"""

from __future__ import annotations

from . import _journeys, _metrics
from ._journeys import *  # noqa: F403
from ._metrics import *  # noqa: F403

__all__ = [*_metrics.__all__, *_journeys.__all__]
