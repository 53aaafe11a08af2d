"""Frames of other engines: recognising them, their timezone, and bringing small results home.

A *foreign* frame is a lazy frame of an engine that narwhals supports other than polars (a DuckDB
relation, a PySpark DataFrame). omnikit's functions hand such a frame to :mod:`omnikit._engines`,
whose queries run in that engine and return small polars frames.

Timestamps: DuckDB's ``TIMESTAMP WITH TIME ZONE`` and Spark's ``TIMESTAMP`` hold instants and carry
no zone of their own; the engine places them in its session zone (DuckDB's ``TimeZone`` setting,
Spark's ``spark.sql.session.timeZone``). That zone is the frame's timezone here: every wall-clock
rule (calendar days, ``every=``, hour of week) is applied in it, and datetimes come back as
``Datetime("us", <that zone>)``. A naive timestamp (DuckDB ``TIMESTAMP``, Spark ``TIMESTAMP_NTZ``)
is a wall-clock time, as a naive polars ``Datetime``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import narwhals as nw
import polars as pl

from .._errors import ParameterError

__all__ = [
    "ENGINES",
    "check_columns",
    "collect",
    "engine_name",
    "is_foreign",
    "lazy",
    "timezone",
]

#: The engines whose frames omnikit's functions accept besides polars (narwhals' names).
ENGINES: tuple[str, ...] = ("duckdb", "pyspark", "pyspark_connect", "sqlframe")


def is_foreign(df: object) -> bool:
    """Whether ``df`` is a lazy frame of another engine that narwhals supports.

    Parameters
    ----------
    df
        Anything a function of omnikit was given.

    Returns
    -------
    bool
        True for a DuckDB relation or a PySpark DataFrame (anything narwhals wraps as a lazy
        frame of an engine in ``ENGINES``); False for polars frames and everything else.

    Examples
    --------
    >>> import polars as pl
    >>> is_foreign(pl.DataFrame({"a": [1]}))
    False
    """
    if isinstance(df, (pl.DataFrame, pl.LazyFrame)) or df is None:
        return False
    try:
        frame = nw.from_native(cast(Any, df))
    except TypeError:
        return False
    return isinstance(frame, nw.LazyFrame) and engine_name(frame) in ENGINES


def engine_name(frame: nw.LazyFrame[Any]) -> str:
    """The engine of a narwhals frame, as narwhals names it (``"duckdb"``, ``"pyspark"``)."""
    return str(frame.implementation.value)


def lazy(df: object, func: str) -> nw.LazyFrame[Any]:
    """``df`` as a narwhals LazyFrame, or a :class:`ParameterError` naming ``func``."""
    if not is_foreign(df):
        raise ParameterError(
            f"{func}: expected a polars frame, a DuckDB relation or a PySpark DataFrame, "
            f"got {type(df).__name__}"
        )
    return nw.from_native(cast(Any, df))


def check_columns(frame: nw.LazyFrame[Any], needed: Sequence[str], func: str) -> None:
    """Raise a :class:`ParameterError` naming the columns of ``needed`` that ``frame`` lacks."""
    schema = frame.collect_schema()
    missing = [c for c in dict.fromkeys(needed) if c not in schema]
    if missing:
        raise ParameterError(
            f"{func}: the {engine_name(frame)} frame has no column(s) "
            f"{', '.join(map(repr, missing))}; it has {', '.join(schema.names())}. Give it the "
            "canonical columns of ok.load (e.g. read a store's Parquet files), or pass by= names "
            "that exist."
        )
    if "waiting_time" in needed and not schema["waiting_time"].is_numeric():
        raise ParameterError(
            f"{func}: column 'waiting_time' must hold seconds as numbers, it is "
            f"{schema['waiting_time']}"
        )
    if "start_date_time" in needed and not isinstance(schema["start_date_time"], nw.Datetime):
        raise ParameterError(
            f"{func}: column 'start_date_time' must be a timestamp, it is "
            f"{schema['start_date_time']}"
        )


def timezone(frame: nw.LazyFrame[Any], column: str = "start_date_time") -> str | None:
    """The zone the engine places ``column`` in: its session zone, or None for naive times."""
    dtype = frame.collect_schema()[column]
    return getattr(dtype, "time_zone", None)


def collect(frame: nw.LazyFrame[Any], *, timezone: str | None = None) -> pl.DataFrame:
    """Run ``frame``'s query in its engine and return the (small) result as a polars DataFrame.

    Integers come back as Int64 (DuckDB sums are 128-bit), and tz-aware datetimes in
    ``timezone`` (Spark's Arrow batches say UTC whatever the session zone is).
    """
    out = frame.collect("polars").to_native()
    fixes = []
    for name, dtype in out.schema.items():
        if dtype in (pl.Int128, pl.UInt64) or isinstance(dtype, pl.Decimal):
            fixes.append(pl.col(name).cast(pl.Int64))
        elif isinstance(dtype, pl.Datetime) and dtype.time_zone is not None and timezone:
            fixes.append(pl.col(name).dt.convert_time_zone(timezone).dt.cast_time_unit("us"))
    return out.with_columns(fixes) if fixes else out
