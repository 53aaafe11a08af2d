"""Checks and conversions of the arguments the engine functions share with the polars path."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence

import polars as pl

from .._errors import ParameterError

__all__ = [
    "EVERY_UNITS",
    "by_list",
    "check_every",
    "outcome_sets",
    "percentile_columns",
    "seconds",
    "thresholds",
]

#: The units of the ``every=`` periods engines support: a whole number of one of these.
EVERY_UNITS: tuple[str, ...] = ("s", "m", "h", "d", "w", "mo", "q", "y")
_OUTCOME_NAMES = ("answered", "unanswered", "open")


def by_list(by: str | Sequence[str] | None, func: str) -> list[str]:
    """``by`` as a list of distinct column names."""
    if by is None:
        return []
    if isinstance(by, str):
        return [by]
    if isinstance(by, Sequence) and all(isinstance(b, str) for b in by):
        return list(dict.fromkeys(by))
    raise ParameterError(f"{func}: by= must be None, a column name or a list of names, got {by!r}")


def seconds(value: object, name: str, func: str) -> float:
    """A number of seconds >= 0 from a number, a ``timedelta`` or a polars duration string."""
    if isinstance(value, dt.timedelta):
        out: object = value.total_seconds()
    elif isinstance(value, str):
        probe = dt.datetime(2001, 1, 1)
        try:
            moved = pl.select(pl.lit(probe).dt.offset_by(value)).item()
        except Exception:  # polars raises several error types for a bad duration
            raise ParameterError(
                f"{func}: {name}={value!r} is not a duration such as '20s', '2m' or '4h'"
            ) from None
        out = (moved - probe).total_seconds()
    else:
        out = value
    if isinstance(out, bool) or not isinstance(out, (int, float)) or not out >= 0:
        raise ParameterError(
            f"{func}: {name}= must be seconds >= 0, a timedelta or a duration string, got {value!r}"
        )
    return out


def thresholds(threshold: object, func: str) -> dict[str, float] | float:
    """One threshold in seconds, or a mapping channel -> seconds (``"*"``: other channels)."""
    if isinstance(threshold, Mapping):
        if not threshold:
            raise ParameterError(f"{func}: threshold= is an empty mapping; give '*' or channels")
        return {str(k): seconds(v, f"threshold[{k!r}]", func) for k, v in threshold.items()}
    return seconds(threshold, "threshold", func)


def outcome_sets(outcomes: Mapping[str, str] | None, func: str) -> dict[str, list[str]]:
    """Upper-cased statuses per outcome (statuses match without regard to case)."""
    from .._metrics import OUTCOMES

    mapping = OUTCOMES if outcomes is None else outcomes
    if not isinstance(mapping, Mapping):
        raise ParameterError(
            f"{func}: outcomes= must be a mapping status -> outcome, got {mapping!r}"
        )
    sets: dict[str, list[str]] = {name: [] for name in _OUTCOME_NAMES}
    for status, outcome in mapping.items():
        if outcome not in sets:
            raise ParameterError(
                f"{func}: outcomes= maps {status!r} to {outcome!r}; an outcome must be one of "
                f"{', '.join(map(repr, _OUTCOME_NAMES))}"
            )
        sets[outcome].append(str(status).upper())
    return sets


def percentile_columns(percentiles: Sequence[float] | float, func: str) -> list[tuple[float, str]]:
    """``(q, column name)`` per percentile: 0.5 -> ``p50``, 0.995 -> ``p99_5``."""
    if isinstance(percentiles, (int, float)):
        percentiles = (percentiles,)
    out: list[tuple[float, str]] = []
    for q in percentiles:
        if isinstance(q, bool) or not isinstance(q, (int, float)) or not 0 <= q <= 1:
            raise ParameterError(f"{func}: each percentile must be a number in [0, 1], got {q!r}")
        name = "p" + f"{q * 100:.10f}".rstrip("0").rstrip(".").replace(".", "_")
        if name in {n for _, n in out}:
            raise ParameterError(f"{func}: percentile {q!r} is given twice (column {name})")
        out.append((float(q), name))
    return out


def check_every(every: object, engine: str, func: str) -> str:
    """The unit the engine truncates to for ``every`` (``"2h"`` -> ``"1h"``, ``"1w"`` -> ``"1d"``);
    polars truncates those few distinct wall-clock times further. Anything else (``"1d12h"``, a
    negative or empty duration) is a :class:`ParameterError`."""
    match = re.fullmatch(r"([0-9]+)(mo|[smhdwqy])", every) if isinstance(every, str) else None
    if match is None or int(match.group(1)) < 1:
        raise ParameterError(
            f"{func}: every={every!r} cannot run on {engine}: give a whole number of one unit "
            f"({', '.join(EVERY_UNITS)}), such as '1h', '15m', '1d', '1w' or '1mo'"
        )
    unit = match.group(2)
    return "1d" if unit == "w" else f"1{unit}"
