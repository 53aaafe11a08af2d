"""Checks of what a user passes in, and warnings about the data, each written once.

- :func:`lazy_frame`: the frame a function was given, as a LazyFrame (a pandas frame gets the
  hint to convert it with ``pl.from_pandas``); :func:`check_polars_frame` the same for a chart's
  metric frame, and :func:`metric_frame` that frame collected, with the columns the chart needs;
- :func:`by_columns`: ``by`` as a list of column names;
- :func:`check_columns`: the columns a function needs, with their types;
- :func:`seconds`: a number of seconds or a fixed duration (see :mod:`omnikit._time`).

Data-quality warnings go through :func:`omnikit._errors.warn_data_quality`, beside the warning
class: it points at the line of the caller's code that called omnikit, however deep inside
omnikit the problem was found.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import cast

import polars as pl

from ._errors import ParameterError
from ._time import duration_seconds
from .types import By, FrameLike

__all__: list[str] = []


def _convert_hint(value: object) -> str:
    module = type(value).__module__.split(".")[0]
    if module == "pandas":
        return "; convert it with pl.from_pandas(df)"
    if module == "pyarrow":
        return "; convert it with pl.from_arrow(table)"
    if isinstance(value, (str, Path)):
        return f"; load the report first with ok.load({str(value)!r})"
    return ""


def frame_type_error(value: object, func: str, expected: str) -> ParameterError:
    """The error for a value that is not the polars frame ``func`` expects (with a hint)."""
    module, name = type(value).__module__.split(".")[0], type(value).__name__
    shown = name if module in ("builtins", "pathlib") else f"{module}.{name}"
    return ParameterError(f"{func}: expected {expected}, got {shown}{_convert_hint(value)}")


def check_polars_frame(value: object, func: str, source: str) -> None:
    """A :class:`ParameterError` unless ``value`` is a polars frame: the error names ``source``
    (what to pass, e.g. ``"ok.service_level(df)"``) and how to convert a pandas frame."""
    if not isinstance(value, (pl.DataFrame, pl.LazyFrame)):
        raise frame_type_error(value, func, f"the polars DataFrame returned by {source}")


def metric_frame(frame: object, columns: Sequence[str], func: str, source: str) -> pl.DataFrame:
    """The metric frame a chart was given, collected, or a :class:`ParameterError` saying what
    to pass: :func:`check_polars_frame`'s check, then :func:`check_columns`' with ``source``
    (the call that makes the frame, e.g. ``"ok.service_level(df)"``) as the advice.

    >>> metric_frame(pl.LazyFrame({"a": [1]}), ["a"], "chart", "ok.metric(df)").height
    1
    >>> metric_frame(pl.DataFrame({"a": [1]}), ["b"], "chart", "ok.f(df)")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    omnikit._errors.ParameterError: chart: the frame has no column(s) 'b'; it has a. Pass the ...
    """
    check_polars_frame(frame, func, source)
    collected = frame.collect() if isinstance(frame, pl.LazyFrame) else cast(pl.DataFrame, frame)
    check_columns(collected.schema, columns, func, hint=f"Pass the frame returned by {source}.")
    return collected


def lazy_frame(df: FrameLike, func: str) -> pl.LazyFrame:
    """``df`` as a LazyFrame, or a :class:`ParameterError` saying what to pass instead.

    >>> lazy_frame(pl.DataFrame({"a": [1]}), "f").collect().height
    1
    """
    if isinstance(df, pl.LazyFrame):
        return df
    if isinstance(df, pl.DataFrame):
        return df.lazy()
    raise frame_type_error(df, func, "a polars DataFrame or LazyFrame (e.g. from ok.load)")


def by_columns(by: By, func: str) -> list[str]:
    """``by`` (``None``, a column name or a list of names) as a list without repeats.

    >>> by_columns(["a", "b", "a"], "f")
    ['a', 'b']
    """
    if by is None:
        return []
    if isinstance(by, str):
        return [by]
    if isinstance(by, Sequence) and all(isinstance(b, str) for b in by):
        return list(dict.fromkeys(by))
    raise ParameterError(f"{func}: by= must be None, a column name or a list of names, got {by!r}")


def check_columns(
    schema: pl.Schema, needed: Sequence[str], func: str, *, hint: str | None = None
) -> None:
    """A :class:`ParameterError` naming the columns of ``needed`` that ``schema`` lacks (and the
    ones it has), or whose type is wrong (``waiting_time`` numeric, ``start_date_time`` a
    Datetime). ``hint`` replaces the default advice (load reports with ``ok.load()``)."""
    missing = [c for c in needed if c not in schema]
    if missing:
        advice = hint or (
            "Load reports with ok.load() to get the canonical columns, or pass by= names that "
            "exist."
        )
        raise ParameterError(
            f"{func}: the frame has no column(s) {', '.join(map(repr, missing))}; "
            f"it has {', '.join(schema.names()) or 'no columns'}. {advice}"
        )
    if "waiting_time" in needed and not schema["waiting_time"].is_numeric():
        raise ParameterError(
            f"{func}: column 'waiting_time' must hold seconds as numbers, it is "
            f"{schema['waiting_time']}"
        )
    if "start_date_time" in needed and not isinstance(schema["start_date_time"], pl.Datetime):
        raise ParameterError(
            f"{func}: column 'start_date_time' must be a Datetime, it is "
            f"{schema['start_date_time']}"
        )


def seconds(value: object, name: str, func: str) -> float:
    """A number of seconds >= 0, or a fixed duration (``"20s"``, ``timedelta``) in seconds."""
    return duration_seconds(value, name=name, func=func)
