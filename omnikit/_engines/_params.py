"""The arguments only the engine functions check: periods and thresholds as engines take them.

Every other argument is checked by the rule the polars path uses (``omnikit._validate``,
``omnikit._time``, ``omnikit._metrics``), imported from there.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from .._errors import ParameterError
from .._time import check_duration
from .._validate import seconds

__all__ = ["EVERY_UNITS", "check_every", "thresholds"]

#: The units of the ``every=`` periods engines support: a whole number of one of these.
EVERY_UNITS: tuple[str, ...] = ("s", "m", "h", "d", "w", "mo", "q", "y")


def thresholds(threshold: object, func: str) -> dict[str, float] | float:
    """One threshold in seconds, or a mapping channel -> seconds (``"*"``: other channels),
    checked as :func:`omnikit.service_level` checks it."""
    if not isinstance(threshold, Mapping):
        return seconds(threshold, "threshold", func)
    if not threshold or not all(isinstance(k, str) for k in threshold):
        raise ParameterError(
            f"{func}: threshold= as a mapping needs interaction_type names (and optionally '*') "
            f"as keys, got {dict(threshold)!r}"
        )
    return {k: seconds(v, f"threshold[{k!r}]", func) for k, v in threshold.items()}


def check_every(every: object, engine: str, func: str) -> str:
    """The unit the engine truncates to for ``every`` (``"2h"`` -> ``"1h"``, ``"1w"`` -> ``"1d"``);
    polars truncates those few distinct wall-clock times further.

    ``every`` is first a duration (``omnikit._time.check_duration``); one the engine cannot
    truncate to (a compound such as ``"1d12h"``, a ``timedelta`` that is not a whole number of
    one unit) is a :class:`ParameterError` saying so.
    """
    every = check_duration(every, name="every", func=func)
    if not isinstance(every, str):
        every = _timedelta_text(every.total_seconds())
    match = re.fullmatch(r"([0-9]+)(mo|[smhdwqy])", every)
    if match is None or int(match.group(1)) < 1:
        raise ParameterError(
            f"{func}: every={every!r} cannot run on {engine}: give a whole number of one unit "
            f"({', '.join(EVERY_UNITS)}), such as '1h', '15m', '1d', '1w' or '1mo'"
        )
    unit = match.group(2)
    return "1d" if unit == "w" else f"1{unit}"


def _timedelta_text(total: float) -> str:
    """A ``timedelta``'s length as a duration string of its largest whole unit (``"2h"``)."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if total >= size and total % size == 0:
            return f"{int(total // size)}{unit}"
    return f"{total}s"  # not a whole number of seconds: check_every says it cannot run
