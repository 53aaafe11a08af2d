"""Readers that turn one report file into a *raw* polars frame.

A raw frame has one column per source field, named and ordered as in the source, with the
values as the source wrote them (numbers, strings, nulls). ``omnikit._io.canonicalize`` turns it
into the canonical frame. Every reader raises :class:`~omnikit.ReportFormatError` for a file that
is not a report, naming the file and, for JSON, the line and column.

JSON has two paths that give the same frame:

- a fast path for JSON (compact, as the Explore API writes it, or pretty-printed) and NDJSON:
  the file is read in chunks; in each chunk the entries are put one a line in place (compact:
  ``},{`` becomes ``}\\n{``, the same length; pretty: newlines inside an entry become spaces),
  and polars parses the chunk as NDJSON on a worker thread while the next chunk is read. Every chunk is checked against byte-level counts of keys, ``null``
  values and entries, so an unknown field, a missing field, a duplicated key or a value polars would
  read differently is never lost: any mismatch sends the whole file down the general path;
- the general path: ``orjson`` decodes the document and each field becomes a column.
"""

from __future__ import annotations

import io
import json
import os
import re
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import polars as pl

from ._errors import ReportFormatError
from ._schema import SECONDS_COLUMNS, normalize_name

__all__ = [
    "REPORT_SUFFIXES",
    "read_csv",
    "read_entries",
    "read_json",
    "read_ndjson",
    "read_parquet",
]

#: File suffixes ``ok.load`` reads, and the reader for each.
REPORT_SUFFIXES: tuple[str, ...] = (".json", ".jsonl", ".ndjson", ".csv", ".parquet")

#: Files at least this large try the fast JSON path (smaller ones decode faster in one go).
FAST_PATH_MIN_BYTES = 1 << 20
_CHUNK_BYTES = 24 << 20

_QUOTE, _COLON, _COMMA, _LBRACE, _RBRACE, _BACKSLASH, _NEWLINE, _SPACE, _N = (
    ord(c) for c in '":,{}\\\n n'
)
_ENVELOPE_HEAD = re.compile(rb'\A\s*\{\s*"entries"\s*:\s*\[\s*')
_ENVELOPE_TAIL = re.compile(rb'\s*\]\s*(?:,\s*"total"\s*:\s*-?\d+\s*)?\}\s*\Z')
_ARRAY_HEAD = re.compile(rb"\A\s*\[\s*")
_ARRAY_TAIL = re.compile(rb"\s*\]\s*\Z")


class _NotFast(Exception):
    """The fast path cannot vouch for this file; use the general path."""


# --------------------------------------------------------------------------------------------
# JSON


def read_json(path: str | os.PathLike[str], *, fast: bool | None = None) -> pl.DataFrame:
    """Read a ``.json`` report: an envelope ``{"entries": [...], "total": N}`` or a bare array.

    ``fast=None`` tries the fast path for files of at least 1 MiB; ``True``/``False`` force it
    on or off (the result is the same frame either way).
    """
    path = Path(path)
    frame = _try_fast(path, fast, ndjson=False)
    if frame is not None:
        return frame
    data = path.read_bytes()
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise ReportFormatError(
            f"not valid JSON ({error.msg})", path=str(path), line=error.lineno, column=error.colno
        ) from None
    return read_entries(document, source=str(path), raw=data)


def read_ndjson(path: str | os.PathLike[str], *, fast: bool | None = None) -> pl.DataFrame:
    """Read a ``.jsonl``/``.ndjson`` report: one entry object a line (blank lines allowed)."""
    path = Path(path)
    frame = _try_fast(path, fast, ndjson=True)
    if frame is not None:
        return frame
    entries: list[Any] = []
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                entry = orjson.loads(line)
            except orjson.JSONDecodeError as error:
                raise ReportFormatError(
                    f"not valid JSON ({error.msg})", path=str(path), line=number, column=error.colno
                ) from None
            if not isinstance(entry, dict):
                raise ReportFormatError(
                    f"expected one entry object a line, found {_json_kind(entry)}",
                    path=str(path),
                    line=number,
                    column=1,
                )
            entries.append(entry)
    return _frame_from_entries(entries)


def read_entries(
    document: Any, *, source: str = "<data>", raw: bytes | None = None
) -> pl.DataFrame:
    """Turn a decoded report (envelope dict or list of entry dicts) into a raw frame."""
    if isinstance(document, dict):
        if "entries" not in document:
            keys = ", ".join(repr(k) for k in list(document)[:5]) or "none"
            raise ReportFormatError(
                "not a Customer Omnichannel Report: expected an object with an 'entries' list "
                f'({{"entries": [...], "total": N}}), found keys {keys}',
                path=source,
                line=1 if raw is not None else None,
                column=1 if raw is not None else None,
            )
        entries = document["entries"]
        if not isinstance(entries, list):
            line, column = _locate(raw, b'"entries"')
            raise ReportFormatError(
                f"'entries' must be a list of entry objects, found {_json_kind(entries)}",
                path=source,
                line=line,
                column=column,
            )
    elif isinstance(document, list):
        entries = document
    else:
        raise ReportFormatError(
            f"not a Customer Omnichannel Report: expected an object with an 'entries' list or a "
            f"list of entries, found {_json_kind(document)}",
            path=source,
            line=1 if raw is not None else None,
            column=1 if raw is not None else None,
        )
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise ReportFormatError(
                f"entry {index} (counting from 0) is {_json_kind(entry)}, not an object",
                path=source,
            )
    return _frame_from_entries(entries)


def _frame_from_entries(entries: list[dict[str, Any]]) -> pl.DataFrame:
    """Build a raw frame, one column per key in order of first appearance."""
    keys: dict[str, None] = {}
    previous: Any = None
    for entry in entries:
        entry_keys = entry.keys()
        if entry_keys != previous:
            keys.update(dict.fromkeys(entry_keys))
            previous = entry_keys
    columns = []
    for key in keys:
        values = [entry.get(key) for entry in entries]
        columns.append(_series(key, values))
    return pl.DataFrame(columns, height=len(entries))


def _series(name: str, values: list[Any]) -> pl.Series:
    """A column of JSON values: numbers and strings as such; mixed or nested values as text."""
    kinds = {type(v) for v in values} - {type(None)}
    if kinds <= {str} or kinds <= {int} or kinds <= {int, float} or kinds <= {bool}:
        try:
            return pl.Series(name, values, dtype=pl.Float64 if float in kinds else None)
        except (OverflowError, pl.exceptions.PolarsError):
            pass  # integers beyond 64 bits: keep their digits as text
    return pl.Series(name, [_as_text(v) for v in values], dtype=pl.String)


def _as_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    # Nested values are kept as JSON text, written as polars writes them on the fast path.
    return json.dumps(value, ensure_ascii=False)


def _json_kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), "null" if value is None else "a number"
    )


def _locate(raw: bytes | None, needle: bytes) -> tuple[int | None, int | None]:
    """1-based line and column of ``needle`` in ``raw``."""
    if raw is None:
        return None, None
    offset = raw.find(needle)
    if offset < 0:
        return None, None
    line = raw.count(b"\n", 0, offset) + 1
    return line, offset - (raw.rfind(b"\n", 0, offset) + 1) + 1


# --------------------------------------------------------------------------------------------
# The fast path


def _try_fast(path: Path, fast: bool | None, *, ndjson: bool) -> pl.DataFrame | None:
    """The fast path's frame, or None when it is off or cannot vouch for this file."""
    if fast is None:
        fast = path.stat().st_size >= FAST_PATH_MIN_BYTES
    if not fast:
        return None
    try:
        return _read_fast(path, ndjson=ndjson)
    except _NotFast:
        return None


def _read_fast(path: Path, *, ndjson: bool) -> pl.DataFrame:
    """Parse compact JSON or NDJSON in chunks on worker threads (see the module docstring)."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(min(size, 4096))
        if ndjson:
            start, end = 0, size
        else:
            tail_len = min(size, 4096)
            handle.seek(size - tail_len)
            tail = handle.read(tail_len)
            head_match = _ENVELOPE_HEAD.match(head) or _ARRAY_HEAD.match(head)
            tail_match = (
                _ENVELOPE_TAIL.search(tail)
                if head_match and head_match.re is _ENVELOPE_HEAD
                else _ARRAY_TAIL.search(tail)
            )
            if head_match is None or tail_match is None:
                raise _NotFast
            start, end = head_match.end(), size - (tail_len - tail_match.start())
            if end <= start:
                raise _NotFast
        handle.seek(start)
        first = _first_object(handle.read(min(end - start, 1 << 16)))
        schema = {
            key: pl.Float64 if normalize_name(key) in SECONDS_COLUMNS else pl.String
            for key in first
        }
        handle.seek(start)
        separator = _NEWLINE if ndjson else _COMMA
        frames: list[pl.DataFrame] = []
        pending: deque[Future[pl.DataFrame]] = deque()
        with ThreadPoolExecutor(max_workers=2) as pool:
            try:
                for chunk in _chunks(handle, end - start, separator):
                    pending.append(pool.submit(_parse_chunk, chunk, schema, ndjson))
                    if len(pending) > 2:  # at most three chunks in memory at once
                        frames.append(pending.popleft().result())
                while pending:
                    frames.append(pending.popleft().result())
            finally:
                for future in pending:
                    future.cancel()
    if not frames:
        raise _NotFast
    return pl.concat(frames, how="vertical", rechunk=False)


def _first_object(data: bytes) -> dict[str, Any]:
    depth, in_string, escaped = 0, False, False
    for index, byte in enumerate(data):
        if in_string:
            if escaped:
                escaped = False
            elif byte == _BACKSLASH:
                escaped = True
            elif byte == _QUOTE:
                in_string = False
        elif byte == _QUOTE:
            in_string = True
        elif byte == _LBRACE:
            depth += 1
        elif byte == _RBRACE:
            depth -= 1
            if depth == 0:
                try:
                    first = orjson.loads(data[: index + 1])
                except orjson.JSONDecodeError:
                    raise _NotFast from None
                if not isinstance(first, dict) or not first:
                    raise _NotFast
                return first
    raise _NotFast


def _chunks(handle: io.BufferedReader, length: int, separator: int) -> Iterator[bytearray]:
    """Yield bytearrays of whole entries, cut after a ``}`` that ends an entry.

    In NDJSON an entry ends at ``}\\n{``; in a JSON array at ``},{`` (compact) or ``},\\n``
    (pretty: a raw newline is never inside a JSON string, so this is always structure).
    """
    boundaries = (b"}\n{",) if separator == _NEWLINE else (b"},{", b"},\n")
    carry = b""
    remaining = length
    while remaining > 0:
        size = min(_CHUNK_BYTES, remaining)
        buffer = bytearray(len(carry) + size)  # read straight after the carried-over bytes
        buffer[: len(carry)] = carry
        if handle.readinto(memoryview(buffer)[len(carry) :]) != size:
            raise _NotFast  # the file shrank while we read it
        remaining -= size
        if remaining == 0:
            yield buffer
            return
        cut = max(buffer.rfind(boundary) for boundary in boundaries)
        if cut < 0:
            carry = bytes(buffer)
            continue
        carry = bytes(buffer[cut + 2 :])
        del buffer[cut + 1 :]
        yield buffer
    if carry.strip():
        yield bytearray(carry)


def _parse_chunk(buffer: bytearray, schema: dict[str, Any], ndjson: bool) -> pl.DataFrame:
    """Parse one chunk of entries, or raise ``_NotFast`` if the counts do not vouch for it."""
    data = np.frombuffer(buffer, dtype=np.uint8)
    if not ndjson and buffer.find(b"\n") < 0:
        # Compact: "},{" -> "}\n{" in place (same length, no copy). A match inside a string value
        # breaks that string over two lines, which polars rejects (and we fall back).
        braces = np.flatnonzero(data[:-2] == _RBRACE)
        between = braces[(data[braces + 1] == _COMMA) & (data[braces + 2] == _LBRACE)] + 1
        data[between] = _NEWLINE
        entries = between.size + 1
    elif not ndjson:
        entries = _one_entry_a_line(buffer, data)
    else:
        newlines = np.flatnonzero(data[:-1] == _NEWLINE)
        entries = int(np.count_nonzero(data[newlines + 1] == _LBRACE))
        entries += int(_first_non_space(data) == _LBRACE)
    # Every key ends in '":'. Inside a string a quote is escaped, so '":' there reads '\":', which
    # we do not try to tell apart (such files take the general path). An explicit null is '":null'
    # (or '": null'). Counting 2- and 4-byte patterns through wide views is one pass each.
    if _follows_backslash(data, b'":'):
        raise _NotFast
    keys = _count(buffer, '":')
    try:
        frame = pl.read_ndjson(io.BytesIO(buffer), schema=schema)
    except pl.exceptions.PolarsError:
        raise _NotFast from None
    if frame.height != entries or keys != frame.height * len(schema):
        raise _NotFast
    nulls = sum(frame.null_count().row(0))
    if nulls:
        compact = _count(buffer, '":nu')
        if nulls != compact and nulls != compact + _count(buffer, '": n'):
            raise _NotFast  # a field missing from an entry, or a value polars could not read
    return frame


def _one_entry_a_line(buffer: bytearray, data: np.ndarray) -> int:
    """Pretty-printed entries -> one entry a line, in place; return how many entries.

    In valid JSON a raw newline is whitespace, never part of a string, so every newline becomes
    a space except those after an entry's ``},``, whose comma becomes a space instead. That a
    newline is not inside a string is checked: every line must hold an even number of unescaped
    quotes.
    """
    if _follows_backslash(data, b'\\"'):
        raise _NotFast  # an escaped backslash before a quote: leave it to the general path
    newlines = np.flatnonzero(data == _NEWLINE)
    quotes = np.flatnonzero(data == _QUOTE)
    quotes = quotes[data[np.maximum(quotes - 1, 0)] != _BACKSLASH]  # drop escaped quotes
    if quotes.size % 2 or np.any(np.diff(np.searchsorted(quotes, newlines), prepend=0) % 2):
        raise _NotFast  # a line with an odd number of quotes: not JSON we can vouch for
    inner = newlines[newlines >= 2]
    ends = inner[(data[inner - 1] == _COMMA) & (data[inner - 2] == _RBRACE)]
    data[newlines] = _SPACE
    data[ends] = _NEWLINE
    data[ends - 1] = _SPACE
    return ends.size + 1


def _follows_backslash(data: np.ndarray, pattern: bytes) -> bool:
    """Whether a backslash followed by ``pattern`` occurs (backslashes are rare: look there)."""
    at = np.flatnonzero(data[: data.size - len(pattern)] == _BACKSLASH)
    found = np.ones(at.size, dtype=bool)
    for offset, byte in enumerate(pattern, start=1):
        found &= data[at + offset] == byte
    return bool(found.any())


def _count(buffer: bytearray, pattern: str) -> int:
    """Occurrences of a 2- or 4-byte ASCII pattern, at every alignment."""
    width = len(pattern)
    target = int.from_bytes(pattern.encode(), "little")
    dtype = "<u2" if width == 2 else "<u4"
    total = 0
    for offset in range(width):
        words = np.frombuffer(
            buffer, dtype=dtype, count=(len(buffer) - offset) // width, offset=offset
        )
        total += int(np.count_nonzero(words == target))
    return total


def _first_non_space(data: np.ndarray) -> int:
    for byte in data[:64]:
        if byte not in b" \t\r\n":
            return int(byte)
    return -1


# --------------------------------------------------------------------------------------------
# CSV and Parquet


def read_csv(path: str | os.PathLike[str]) -> pl.DataFrame:
    """Read a ``.csv`` report download: one header row with the report's field names."""
    path = Path(path)
    try:
        frame = pl.read_csv(path, infer_schema=False, encoding="utf8", raise_if_empty=False)
    except pl.exceptions.PolarsError as error:
        raise ReportFormatError(
            f"not a readable CSV report ({_first_line(error)})", path=str(path)
        ) from None
    if frame.width and frame.columns[0].startswith("\ufeff"):
        frame = frame.rename({frame.columns[0]: frame.columns[0].removeprefix("\ufeff")})
    names = [normalize_name(c.strip()) for c in frame.columns]
    if "interaction_id" not in names:
        found = ", ".join(frame.columns[:6]) or "no header"
        raise ReportFormatError(
            f"not a Customer Omnichannel Report CSV: the header has no interaction_id column "
            f"(found: {found})",
            path=str(path),
            line=1,
        )
    return frame.rename({old: old.strip() for old in frame.columns})


def read_parquet(path: str | os.PathLike[str]) -> pl.DataFrame:
    """Read a ``.parquet`` file of report entries (raw or canonical columns)."""
    path = Path(path)
    try:
        frame = pl.read_parquet(path)
    except (pl.exceptions.PolarsError, OSError) as error:
        raise ReportFormatError(
            f"not a readable Parquet file ({_first_line(error)})", path=str(path)
        ) from None
    if "interaction_id" not in [normalize_name(c) for c in frame.columns]:
        raise ReportFormatError("not report entries: no interaction_id column", path=str(path))
    return frame


def _first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
