"""The vendor's file format: its field names and the report envelope, written in one place.

Talkdesk serves the Customer Omnichannel Report as a JSON envelope
(``{"entries":[{...},{...}],"total":N}``, compact or indented), as newline-delimited JSON, or
as CSV, with the vendor's field names (``start_date-time``, ...) and wall-clock date-times
(``YYYY-MM-DD HH:MM:SS``). :class:`EnvelopeWriter` streams blocks of vendor rows into any of
these; the generator (``ok.synth_report``) and the stand-in (``omnikit.testing``) both write
with it. The field-name map is derived from :data:`omnikit.SOURCE_FIELDS`.
"""

from __future__ import annotations

import io
import os
from typing import IO

import polars as pl

from ._files import AtomicFile
from ._schema import SOURCE_FIELDS, normalize_name

__all__ = ["VENDOR_NAMES", "EnvelopeWriter", "vendor_bytes", "vendor_frame"]

#: Canonical column name -> the vendor's field name (where they differ), from SOURCE_FIELDS.
VENDOR_NAMES: dict[str, str] = {
    normalize_name(field): field for field in SOURCE_FIELDS if normalize_name(field) != field
}


class EnvelopeWriter:
    """Stream blocks of vendor rows into one report (``json``, ``ndjson`` or ``csv``).

    Parameters
    ----------
    out
        A binary file, or a path: then the report is written atomically (a temporary file
        renamed into place by :meth:`close`, removed by :meth:`abort`).
    fmt
        ``"json"`` (the envelope), ``"ndjson"`` or ``"csv"``.
    indent
        For ``json``: None for the compact form the API serves, or the indent of
        ``json.dumps(envelope, indent=indent, ensure_ascii=False)``.

    Examples
    --------
    >>> buffer = io.BytesIO()
    >>> with EnvelopeWriter(buffer, "json") as writer:
    ...     writer.write(pl.DataFrame({"interaction_id": ["a"], "waiting_time": [3]}))
    >>> buffer.getvalue()
    b'{"entries":[{"interaction_id":"a","waiting_time":3}],"total":1}'
    """

    def __init__(
        self, out: IO[bytes] | str | os.PathLike[str], fmt: str, indent: int | None = None
    ) -> None:
        self.fmt = fmt
        self.indent = indent if fmt == "json" else None
        self.total = 0
        self._atomic = None if hasattr(out, "write") else AtomicFile(out)
        self.file: IO[bytes] = self._atomic.file if self._atomic else out  # type: ignore[assignment]
        self._started = False
        if fmt == "json":
            self.file.write(b"{" if indent is None else b"{\n" + b" " * indent)
            self.file.write(b'"entries":[' if indent is None else b'"entries": [')

    def __enter__(self) -> EnvelopeWriter:
        return self

    def __exit__(self, kind: object, value: object, traceback: object) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()

    def write(self, block: pl.DataFrame) -> None:
        """Append the rows of ``block`` (vendor field names, text date-times)."""
        if self.fmt == "csv":
            if not self._started or block.height:
                block.select(_blank_to_null(block)).write_csv(
                    self.file, include_header=not self._started
                )
                self._started = True
        elif block.height:
            if self.fmt == "ndjson":
                block.write_ndjson(self.file)
            elif self.indent is None:
                buffer = io.BytesIO()
                block.write_ndjson(buffer)
                text = buffer.getvalue().rstrip(b"\n").replace(b"\n", b",")
                self.file.write(b"," + text if self.total else text)
            else:
                self.file.write(_pretty(block, self.indent, self.total == 0))
        self.total += block.height

    def close(self) -> None:
        """Finish the report (and, for a path, put it in place)."""
        if self.fmt == "csv" and not self._started:
            self.file.write(",".join(SOURCE_FIELDS).encode() + b"\n")
        if self.fmt == "json":
            if self.indent is None:
                self.file.write(b'],"total":%d}' % self.total)
            else:
                pad = b" " * self.indent
                if self.total:
                    self.file.write(b"\n" + pad)
                self.file.write(b'],\n%s"total": %d\n}' % (pad, self.total))
        if self._atomic is not None:
            self._atomic.commit()

    def abort(self) -> None:
        """Give up: for a path, remove the temporary file and leave the target as it was."""
        if self._atomic is not None:
            self._atomic.discard()


def _blank_to_null(block: pl.DataFrame) -> list[pl.Expr]:
    """CSV cells: empty text is written as an empty field, like a missing value."""
    return [
        pl.when(pl.col(f) == "").then(None).otherwise(pl.col(f)).alias(f)
        if dtype == pl.String
        else pl.col(f)
        for f, dtype in block.schema.items()
    ]


def _pretty(block: pl.DataFrame, indent: int, first: bool) -> bytes:
    """Entries laid out as ``json.dumps(envelope, indent=indent, ensure_ascii=False)`` does."""
    outer = "\n" + " " * (2 * indent)
    inner = "\n" + " " * (3 * indent)
    parts: list[pl.Expr | str] = []
    for i, field in enumerate(block.columns):
        if block.schema[field] == pl.String:
            # JSON text of the value: encode a one-field struct, keep what follows the key.
            value = (
                pl.struct(pl.col(field).alias("v")).struct.json_encode().str.slice(5).str.head(-1)
            )
        else:
            value = pl.col(field).cast(pl.String).fill_null("null")
        key = f'"{field}": '
        parts.append(("{" + inner if i == 0 else "," + inner) + key)
        parts.append(value)
    parts.append(outer + "}")
    entries = block.select(
        pl.concat_str([pl.lit(p) if isinstance(p, str) else p for p in parts]).alias("entry")
    ).get_column("entry")
    lead = outer if first else "," + outer
    return (lead + entries.str.join("," + outer).item()).encode()


def vendor_frame(frame: pl.DataFrame, timezone: str) -> pl.DataFrame:
    """Return a canonical ``frame`` as the vendor writes it: its field names, wall-clock
    strings in ``timezone``, ``""`` for empty strings.

    >>> import omnikit as ok
    >>> vendor_frame(ok.synth_frame(3, seed=1), "Europe/Lisbon").columns[2]
    'start_date-time'
    """
    exprs = []
    for name, dtype in frame.schema.items():
        column = pl.col(name)
        if isinstance(dtype, pl.Datetime):
            expr = (
                column.dt.convert_time_zone(timezone).dt.strftime("%Y-%m-%d %H:%M:%S").fill_null("")
            )
        elif dtype == pl.String:
            expr = column.fill_null("")
        else:
            expr = column
        exprs.append(expr.alias(VENDOR_NAMES.get(name, name)))
    return frame.select(exprs)


def vendor_bytes(frame: pl.DataFrame, timezone: str, fmt: str = "json") -> bytes:
    """Return the report file the vendor would serve for a canonical ``frame``.

    >>> import omnikit as ok
    >>> vendor_bytes(ok.synth_frame(2, seed=1), "UTC")[:12]
    b'{"entries":['
    """
    # Written as bytes, not str: encoding a large str holds the GIL for seconds, which would
    # stall the stand-in's other answers while a job's file is made.
    buffer = io.BytesIO()
    with EnvelopeWriter(buffer, fmt) as writer:
        writer.write(vendor_frame(frame, timezone))
    return buffer.getvalue()
