"""Redaction: take customer details out of a frame before it is shown or shared.

Reports redact by default (``omnikit report ... --no-redact`` turns it off): once customers are
resolved, the columns that say who a customer is, or what they said, are blanked, and customers
remain only as their ``customer_id`` pseudonyms.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

import polars as pl

from ._errors import ParameterError

__all__ = ["REDACTED_COLUMNS", "redact"]

#: Columns that identify a customer or hold what they said: blanked by :func:`redact`.
REDACTED_COLUMNS: tuple[str, ...] = (
    "name",
    "contact",
    "contact_id",
    "transcription_recording",
    "notes",
)

FrameT = TypeVar("FrameT", pl.DataFrame, pl.LazyFrame)


def redact(df: FrameT, *, columns: Iterable[str] = REDACTED_COLUMNS) -> FrameT:
    """Return ``df`` with the customer-identifying columns blanked (set to null).

    Call it *after* :func:`omnikit.resolve_customers`, so that customers stay distinguishable
    by their ``customer_id`` pseudonym; redacting first would leave nothing to link them by.
    The columns are kept (as all-null columns of the same dtype) so that every omnikit function
    still accepts the frame. Columns of ``columns`` that the frame does not have are ignored.

    Parameters
    ----------
    df
        A canonical frame (DataFrame or LazyFrame), usually with a ``customer_id`` column.
    columns
        The columns to blank; by default :data:`REDACTED_COLUMNS`: ``name``, ``contact``,
        ``contact_id``, ``transcription_recording`` and ``notes``.

    Returns
    -------
    The same kind of frame, same columns and dtypes, with those columns null.

    Examples
    --------
    >>> import polars as pl, omnikit as ok
    >>> df = pl.DataFrame(
    ...     {"customer_id": ["c1"], "name": ["Ana Silva"], "contact": ["+351 912 345 678"]}
    ... )
    >>> ok.redact(df).row(0)
    ('c1', None, None)
    """
    if isinstance(columns, str):
        raise ParameterError(
            f"redact: columns must be a list of column names, not the string {columns!r}"
        )
    schema = df.collect_schema() if isinstance(df, pl.LazyFrame) else df.schema
    present = [column for column in columns if column in schema]
    if not present:
        return df
    return df.with_columns(pl.lit(None, dtype=schema[column]).alias(column) for column in present)
