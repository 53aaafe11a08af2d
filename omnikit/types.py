"""The types omnikit's public functions take, for your own annotations.

Every public function uses these names for the same concept, so a value that one function
accepts (a ``by``, a duration, a threshold) is accepted by all of them:

>>> import datetime as dt
>>> from omnikit.types import By, Duration, FrameLike
>>> def weekly_mix(df: FrameLike, by: By = None, every: Duration = dt.timedelta(weeks=1)): ...

Like ``httpx._types`` or ``polars._typing``, this module holds type aliases only: importing it
costs nothing and changes nothing at run time.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypeAlias

import polars as pl

__all__ = [
    "By",
    "DateLike",
    "Duration",
    "Formula",
    "FrameLike",
    "Outcomes",
    "PathLike",
    "Seconds",
    "Source",
    "Threshold",
    "Thresholds",
]

#: A canonical frame (:func:`omnikit.load`, :func:`omnikit.scan`), eager or lazy. A pandas frame
#: is not one: convert it with ``pl.from_pandas(df)``.
FrameLike: TypeAlias = pl.DataFrame | pl.LazyFrame

#: Grouping columns: ``None`` (one overall group), a column name, or a list of column names. A
#: null key is a group of its own, never dropped.
By: TypeAlias = str | Sequence[str] | None

#: A length of time: a polars duration string (``"20s"``, ``"30m"``, ``"4h"``, ``"7d"``, ``"1w"``,
#: ``"1mo"``; a number and a unit with no space, units ``ns us ms s m h d w mo q y``; ``d`` and
#: longer are calendar units in the frame's timezone) or a :class:`datetime.timedelta`.
Duration: TypeAlias = str | dt.timedelta

#: A number of seconds (``int`` or ``float``, not negative).
Seconds: TypeAlias = int | float

#: A wait limit, e.g. a service-level threshold or where to cut a patience curve: seconds, or a
#: :data:`Duration` of fixed length (``"20s"``, ``"2m"``, ``timedelta(seconds=20)``).
Threshold: TypeAlias = Seconds | Duration

#: A :data:`Threshold` for every channel, or a mapping from ``interaction_type`` to one (the key
#: ``"*"`` covers the channels the mapping does not name).
Thresholds: TypeAlias = Threshold | Mapping[str, Threshold]

#: How an ``interaction_status`` counts: ``{status: "answered" | "unanswered" | "open"}``, as
#: :data:`omnikit.OUTCOMES`.
Outcomes: TypeAlias = Mapping[str, str]

#: The service-level formulas of :data:`omnikit.SERVICE_LEVEL_FORMULAS`.
Formula: TypeAlias = Literal["talkdesk", "answered", "offered", "abandon_positive"]

#: A day or an instant: ``"YYYY-MM-DD"``, an ISO 8601 date-time, a :class:`datetime.date` or a
#: :class:`datetime.datetime`. Without an offset it is a wall-clock time in the timezone given
#: beside it.
DateLike: TypeAlias = str | dt.date | dt.datetime

#: A file or folder path.
PathLike: TypeAlias = str | os.PathLike[str]

#: What :func:`omnikit.load` reads: a path to a report file (JSON envelope or array, JSON lines,
#: CSV, Parquet), a folder, a glob pattern, an envelope dict, a list of entry dicts, or a list of
#: any of these.
Source: TypeAlias = str | os.PathLike[str] | Mapping[str, Any] | Sequence[Any]
