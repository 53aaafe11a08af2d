"""The canonical frame: the columns and dtypes every omnikit function works on.

A report entry becomes one row. Field names are the source's with ``-`` replaced by ``_``;
``waiting_time`` and ``duration`` are Int64 seconds; ``start_date_time`` and ``end_date_time``
are ``Datetime("us", time_zone=timezone)``; every other field is String.
"""

from __future__ import annotations

import polars as pl

from ._time import check_timezone

__all__ = [
    "CANONICAL_COLUMNS",
    "DATETIME_COLUMNS",
    "SECONDS_COLUMNS",
    "SOURCE_FIELDS",
    "canonical_schema",
]

#: The report's fields as the vendor names them, in the vendor's order.
SOURCE_FIELDS: tuple[str, ...] = (
    "interaction_id",
    "waiting_time",
    "start_date-time",
    "end_date-time",
    "duration",
    "interaction_type",
    "interaction_status",
    "interaction_direction",
    "agent_type",
    "groups",
    "agent_name",
    "agent_id",
    "external_id",
    "name",
    "contact",
    "contact_id",
    "disposition_name",
    "transcription-recording",
    "notes",
)


def normalize_name(field: str) -> str:
    """Return omnikit's column name for a source field: ``-`` becomes ``_``.

    >>> normalize_name("start_date-time")
    'start_date_time'
    """
    return field.replace("-", "_")


#: The report's fields, in the source's order, as omnikit names them.
CANONICAL_COLUMNS: tuple[str, ...] = tuple(normalize_name(f) for f in SOURCE_FIELDS)

#: Fields holding a whole number of seconds (Int64, never negative).
SECONDS_COLUMNS: tuple[str, ...] = ("waiting_time", "duration")

#: Fields holding a wall-clock date-time in the report's timezone.
DATETIME_COLUMNS: tuple[str, ...] = ("start_date_time", "end_date_time")


def canonical_schema(timezone: str = "UTC") -> pl.Schema:
    """Return the dtypes of the canonical columns for frames loaded in ``timezone``.

    >>> canonical_schema("Europe/Lisbon")["start_date_time"]
    Datetime(time_unit='us', time_zone='Europe/Lisbon')
    """
    timezone = check_timezone(timezone)
    dtypes: dict[str, pl.DataType] = {}
    for column in CANONICAL_COLUMNS:
        if column in SECONDS_COLUMNS:
            dtypes[column] = pl.Int64()
        elif column in DATETIME_COLUMNS:
            dtypes[column] = pl.Datetime("us", time_zone=timezone)
        else:
            dtypes[column] = pl.String()
    return pl.Schema(dtypes)
