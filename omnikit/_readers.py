"""Readers that turn one report file into a *raw* polars frame.

A raw frame read from a file has one String column per source field, named and ordered as in
the source, holding each value as text: a string as it reads, a number exactly as the source
wrote it (``1e3`` stays ``"1e3"``, an id of 30 digits keeps every digit), ``true``/``false``,
a nested value as compact JSON text (``{"k":[1,2]}``), and ``null`` as null.
``omnikit._io.canonicalize`` turns it into the canonical frame. Every reader raises
:class:`~omnikit.ReportFormatError` for a file that is not a report, naming the file and, for
JSON, the line and column.

JSON has two paths that give the same frame:

- the fast path, for ``.json`` (an envelope with ``total`` before or after ``entries``, or a bare
  array) and NDJSON in any layout (compact, ``json.dump``'s separators, any indent, tabs, CRLF):
  the file is read in chunks, and numpy finds its structure (which quotes are escaped, which
  bytes are inside strings, where each entry starts and ends, which strings are keys). The
  bytes between entries become one line break and layout whitespace inside an entry a space, so
  each entry is one line, and polars parses the chunk as NDJSON on a worker thread while the
  next chunk is scanned. It vouches for a chunk only when every entry has exactly the first
  entry's keys in the same order (compared byte for byte), no value is nested, and every number
  is a plain integer (which polars keeps digit for digit); anything else sends the whole file
  down the general path;
- the general path: the document is decoded with numbers kept as their text, and each field
  becomes a column.
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
import polars as pl

from ._errors import ReportFormatError
from ._schema import normalize_name
from ._structure import (
    BOM,
    MAX_DEPTH,
    check_csv_records,
    check_nesting,
    in_string,
    positions_of,
    string_quotes,
)

__all__ = [
    "REPORT_SUFFIXES",
    "envelope_total",
    "read_csv",
    "read_entries",
    "read_json",
    "read_json_report",
    "read_ndjson",
    "read_parquet",
]

#: File suffixes ``ok.load`` reads, and the reader for each.
REPORT_SUFFIXES: tuple[str, ...] = (".json", ".jsonl", ".ndjson", ".csv", ".parquet")

#: Files at least this large try the fast JSON path (smaller ones decode faster in one go).
FAST_PATH_MIN_BYTES = 1 << 20
_CHUNK_BYTES = 16 << 20
_PAD = 8  # spaces before every chunk, so an 8-byte word can end at any key's closing quote
_MAX_GAP = 4096  # whitespace between entries, or around a colon, longer than this: general path
_MAX_DIGITS = 38  # polars keeps integers of up to 38 digits exactly

_QUOTE, _COLON, _COMMA, _LBRACE, _RBRACE, _LBRACKET, _BACKSLASH = (ord(c) for c in '":,{}[\\')
_NEWLINE, _RETURN, _TAB, _SPACE, _MINUS, _ZERO, _NINE = (ord(c) for c in "\n\r\t -09")
_WS = rb"[ \t\r\n]*"
_TOTAL = rb'"total"' + _WS + rb":" + _WS + rb"(-?(?:0|[1-9][0-9]*))" + _WS
_ENVELOPE_HEAD = re.compile(
    rb"\A(?:\xef\xbb\xbf)?" + _WS + rb"\{" + _WS + rb"(?:" + _TOTAL + rb"," + _WS + rb")?"
    rb'"entries"' + _WS + rb":" + _WS + rb"\[" + _WS
)
_ENVELOPE_TAIL = re.compile(_WS + rb"\]" + _WS + rb"(?:," + _WS + _TOTAL + rb")?\}" + _WS + rb"\Z")
_ARRAY_HEAD = re.compile(rb"\A(?:\xef\xbb\xbf)?" + _WS + rb"\[" + _WS)
_ARRAY_TAIL = re.compile(_WS + rb"\]" + _WS + rb"\Z")


class _NotFast(Exception):
    """The fast path cannot vouch for this file; use the general path."""


class _Number(str):
    """A JSON number, kept as the text the source wrote."""

    __slots__ = ()


# --------------------------------------------------------------------------------------------
# JSON


def read_json(path: str | os.PathLike[str], *, fast: bool | None = None) -> pl.DataFrame:
    """Read a ``.json`` report: an envelope ``{"entries": [...], "total": N}`` or a bare array.

    ``fast=None`` tries the fast path for files of at least 1 MiB; ``True``/``False`` force it
    on or off (the result is the same frame either way).

    Examples
    --------
    >>> read_json("week1.json").columns[:2]  # doctest: +SKIP
    ['interaction_id', 'waiting_time']
    """
    return read_json_report(path, fast=fast)[0]


def read_json_report(
    path: str | os.PathLike[str], *, fast: bool | None = None
) -> tuple[pl.DataFrame, int | None]:
    """Like :func:`read_json`, and also return the envelope's ``total`` (None if it has none).

    Examples
    --------
    >>> frame, total = read_json_report("week1.json")  # doctest: +SKIP
    >>> total == frame.height  # doctest: +SKIP
    True
    """
    path = Path(path)
    found = _try_fast(path, fast, ndjson=False)
    if found is not None:
        return found
    data = path.read_bytes()
    document = _decode(data, str(path))
    total = None
    if isinstance(document, dict):
        value = document.get("total")
        if isinstance(value, _Number) and value.lstrip("-").isdigit():
            total = int(value)
    return read_entries(document, source=str(path), raw=data), total


def read_ndjson(path: str | os.PathLike[str], *, fast: bool | None = None) -> pl.DataFrame:
    """Read a ``.jsonl``/``.ndjson`` report: one entry object a line (blank lines allowed).

    Examples
    --------
    >>> read_ndjson("week1.ndjson").height  # doctest: +SKIP
    1200
    """
    path = Path(path)
    found = _try_fast(path, fast, ndjson=True)
    if found is not None:
        return found[0]
    data = path.read_bytes()
    check_nesting(data, path=str(path))
    entries: list[Any] = []
    for number, line in enumerate(data.removeprefix(BOM).split(b"\n"), start=1):
        if not line.strip(b" \t\r"):
            continue
        entry = _decode(line, str(path), line=number)
        if not isinstance(entry, dict):
            raise ReportFormatError(
                f"expected one entry object a line, found {_json_kind(entry)}",
                path=str(path),
                line=number,
                column=1,
            )
        entries.append(entry)
    return _frame_from_entries(entries, str(path))


def _decode(data: bytes, source: str, *, line: int | None = None) -> Any:
    """Decode JSON with numbers kept as their text; bad JSON is a ReportFormatError."""
    if line is None:
        check_nesting(data, path=source)
    try:
        text = data.removeprefix(BOM).decode("utf-8")
    except UnicodeDecodeError as error:
        raise ReportFormatError(
            f"not UTF-8 text (byte {error.start}); save the file as UTF-8", path=source, line=line
        ) from None
    try:
        return json.loads(text, parse_int=_Number, parse_float=_Number, parse_constant=_no_constant)
    except json.JSONDecodeError as error:
        raise ReportFormatError(
            f"not valid JSON ({error.msg})",
            path=source,
            line=error.lineno if line is None else line,
            column=error.colno,
        ) from None
    except _Constant as constant:
        where, column = _locate(data, str(constant).encode())
        raise ReportFormatError(
            f"not valid JSON ({constant} is not a JSON value)",
            path=source,
            line=where if line is None else line,
            column=column,
        ) from None
    except RecursionError:
        raise ReportFormatError(
            f"a value is nested more than {MAX_DEPTH} levels deep", path=source, line=line
        ) from None


class _Constant(ValueError):
    pass


def _no_constant(name: str) -> Any:
    raise _Constant(name)


def read_entries(
    document: Any, *, source: str = "<data>", raw: bytes | None = None
) -> pl.DataFrame:
    """Turn a decoded report (envelope dict or list of entry dicts) into a raw frame.

    Examples
    --------
    >>> read_entries({"entries": [{"interaction_id": "a", "duration": 5}]}).row(0)
    ('a', '5')
    """
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
    return _frame_from_entries(entries, source)


def envelope_total(document: Any) -> int | None:
    """The ``total`` an in-memory envelope states, if it is a whole number.

    Examples
    --------
    >>> envelope_total({"entries": [], "total": 3})
    3
    """
    if isinstance(document, dict):
        value = document.get("total")
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lstrip("-").isdigit():
            return int(value)
    return None


def _frame_from_entries(entries: list[dict[str, Any]], source: str) -> pl.DataFrame:
    """Build a raw frame: one String column per key, in order of first appearance."""
    keys: dict[str, None] = {}
    previous: Any = None
    for entry in entries:
        entry_keys = entry.keys()
        if entry_keys != previous:
            keys.update(dict.fromkeys(entry_keys))
            previous = entry_keys
    columns: list[pl.Series] = []
    for key in keys:
        values = [entry.get(key) for entry in entries]
        if not {type(v) for v in values} <= {str, _Number, type(None)}:
            values = [_as_text(v, source) for v in values]
        try:
            columns.append(pl.Series(f"_{len(columns)}", values, dtype=pl.String))
        except (UnicodeEncodeError, pl.exceptions.PolarsError):
            raise ReportFormatError(
                f"field {key!r} holds text that is not valid Unicode (a lone surrogate escape "
                "such as \\ud800); fix the file",
                path=source,
            ) from None
    frame = pl.DataFrame(columns, height=len(entries))
    frame.columns = [str(key) for key in keys]  # set afterwards: a key may be "" (kept as is)
    return frame


def _as_text(value: Any, source: str, depth: int = 0) -> str | None:
    """A value as text: numbers as written, booleans as ``true``/``false``, nested as JSON."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value) if isinstance(value, int) else repr(value)
    if depth >= MAX_DEPTH:
        raise ReportFormatError(
            f"a value is nested more than {MAX_DEPTH} levels deep; a report entry holds flat "
            "fields",
            path=source,
        )
    if isinstance(value, dict):
        inner = (
            json.dumps(str(k), ensure_ascii=False) + ":" + _json_text(v, source, depth + 1)
            for k, v in value.items()
        )
        return "{" + ",".join(inner) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_json_text(v, source, depth + 1) for v in value) + "]"
    return str(value)


def _json_text(value: Any, source: str, depth: int) -> str:
    """A value nested in another, as compact JSON text (numbers as the source wrote them)."""
    if value is None:
        return "null"
    if isinstance(value, _Number):
        return str.__str__(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    text = _as_text(value, source, depth)
    return "null" if text is None else text


def _json_kind(value: Any) -> str:
    if isinstance(value, _Number):
        return "a number"
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


def _try_fast(
    path: Path, fast: bool | None, *, ndjson: bool
) -> tuple[pl.DataFrame, int | None] | None:
    """The fast path's frame and total, or None when it is off or cannot vouch for the file."""
    if fast is None:
        fast = path.stat().st_size >= FAST_PATH_MIN_BYTES
    if not fast:
        return None
    try:
        return _read_fast(path, ndjson=ndjson)
    except _NotFast:
        return None


def _read_fast(path: Path, *, ndjson: bool) -> tuple[pl.DataFrame, int | None]:
    """Parse JSON or NDJSON in chunks on worker threads (see the module docstring)."""
    size = path.stat().st_size
    total: int | None = None
    with path.open("rb") as handle:
        head = handle.read(min(size, 4096))
        if ndjson:
            start, end = (len(BOM) if head.startswith(BOM) else 0), size
        else:
            tail_len = min(size, 4096)
            handle.seek(size - tail_len)
            tail = handle.read(tail_len)
            head_match = _ENVELOPE_HEAD.match(head)
            tail_match = _ENVELOPE_TAIL.search(tail) if head_match else None
            if head_match is None:
                head_match, tail_match = _ARRAY_HEAD.match(head), _ARRAY_TAIL.search(tail)
            if head_match is None or tail_match is None:
                raise _NotFast
            totals = [t for t in (head_match.groups() + tail_match.groups()) if t is not None]
            if len(totals) > 1:
                raise _NotFast  # "total" twice: leave the duplicate key to the general path
            total = int(totals[0]) if totals else None
            start, end = head_match.end(), size - (tail_len - tail_match.start())
        if end <= start:
            raise _NotFast
        handle.seek(start)
        frames: list[pl.DataFrame] = []
        pending: deque[Future[pl.DataFrame]] = deque()
        with ThreadPoolExecutor(max_workers=2) as pool:
            try:
                for job in _chunks(handle, end - start, ndjson):
                    pending.append(pool.submit(_parse_chunk, *job))
                    if len(pending) > 2:  # at most three chunks in memory at once
                        frames.append(pending.popleft().result())
                while pending:
                    frames.append(pending.popleft().result())
            finally:
                for future in pending:
                    future.cancel()
    if not frames:
        raise _NotFast
    return pl.concat(frames, how="vertical", rechunk=False), total


class _Template:
    """The first entry's keys: their names, and their bytes as 8-byte words to compare.

    Each key is covered by words read at fixed offsets from its opening quote (the last word
    ending at its closing quote); a key of up to 6 bytes by one word ending at its closing
    quote, masked to the key and its quotes.
    """

    def __init__(self, names: list[str]) -> None:
        self.names = names
        self.schema = dict.fromkeys(names, pl.String)
        self.lengths = np.array([len(n.encode()) for n in names], dtype=np.int64)
        columns, offsets, masks, words = [], [], [], []
        keys = len(names)
        for column, name in enumerate(names):
            raw = b'"' + name.encode() + b'"'
            if len(raw) <= 8:
                pad = 8 - len(raw)
                columns.append(keys + column)  # measured from the closing quote
                offsets.append(-7)
                masks.append(((1 << (8 * len(raw))) - 1) << (8 * pad))
                words.append(int.from_bytes(b"\0" * pad + raw, "little"))
            else:
                for offset in [*range(0, len(raw) - 8, 8), len(raw) - 8]:
                    columns.append(column)  # measured from the opening quote
                    offsets.append(offset)
                    masks.append((1 << 64) - 1)
                    words.append(int.from_bytes(raw[offset : offset + 8], "little"))
        self.columns = np.array(columns, dtype=np.intp)
        self.offsets = np.array(offsets, dtype=np.int64)
        self.masks = np.array(masks, dtype=np.uint64)
        self.words = np.array(words, dtype=np.uint64)


_ALL_BITS = np.uint64((1 << 64) - 1)
_SPACE_TABLE = np.zeros(256, dtype=bool)
_SPACE_TABLE[[_SPACE, _NEWLINE, _RETURN, _TAB]] = True


def _chunks(handle: io.BufferedReader, length: int, ndjson: bool) -> Iterator[tuple[Any, ...]]:
    """Read the entries in chunks; yield each with the structure found in it.

    Each chunk is ``_PAD`` spaces, then the bytes from the end of the previous chunk's last
    entry to the end of this chunk's last entry (what follows is carried over). Found here:
    the quotes that delimit strings, and the ``}`` outside strings (each one ends an entry: a
    nested object is caught when the bytes after its ``}`` do not start a new entry).
    """
    carry = b""
    remaining = length
    first = True
    template: _Template | None = None
    scratch = np.empty(0, dtype=bool)  # reused for every byte comparison: no fresh pages
    while remaining > 0:
        size = min(_CHUNK_BYTES, remaining)
        buffer = bytearray(_PAD + len(carry) + size)
        buffer[:_PAD] = b" " * _PAD
        buffer[_PAD : _PAD + len(carry)] = carry
        if handle.readinto(memoryview(buffer)[_PAD + len(carry) :]) != size:
            raise _NotFast  # the file shrank while we read it
        remaining -= size
        final = remaining == 0
        data = np.frombuffer(buffer, dtype=np.uint8)
        if scratch.size < data.size:
            scratch = np.empty(data.size, dtype=bool)
        slashes = positions_of(data, _BACKSLASH, scratch)
        quotes = string_quotes(data, slashes, scratch)
        closes = positions_of(data, _RBRACE, scratch)
        closes = closes[~in_string(quotes, closes)]
        if not closes.size:
            if final:
                raise _NotFast
            carry = bytes(buffer[_PAD:])
            continue
        cut = int(closes[-1]) + 1
        if final and bytes(buffer[cut:]).strip(b" \t\r\n"):
            raise _NotFast
        quotes = quotes[: np.searchsorted(quotes, cut)]
        if quotes.size % 2:
            raise _NotFast
        if template is None:
            start = buffer.find(b"{", _PAD)
            template = _template(buffer, start, int(closes[0]))
        carry = bytes(buffer[cut:])
        slashes = slashes[: np.searchsorted(slashes, cut)]
        breaks = positions_of(data[:cut], _NEWLINE, scratch)
        yield buffer, cut, quotes, closes, slashes, breaks, first, ndjson, template
        first = False
    if carry.strip(b" \t\r\n"):
        raise _NotFast


def _template(buffer: bytearray, open_: int, close: int) -> _Template:
    """The first entry's keys, if the fast path can compare every entry's keys with them."""
    if open_ < 0 or open_ > close:
        raise _NotFast
    try:
        pairs = json.loads(bytes(buffer[open_ : close + 1]), object_pairs_hook=list)
    except (ValueError, RecursionError):
        raise _NotFast from None
    if not isinstance(pairs, list):
        raise _NotFast
    names = [key for key, _ in pairs]
    if not names or len(set(names)) != len(names):
        raise _NotFast
    for name in names:
        if not name or any(c in name for c in '"\\') or any(ord(c) < 32 for c in name):
            raise _NotFast  # written with escapes (or empty): the general path decides
    return _Template(names)


def _skip_whitespace(data: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """For each position, the first position at or after it that is not JSON whitespace."""
    positions = positions.copy()
    todo = np.flatnonzero(_SPACE_TABLE[data[positions]])
    steps = 0
    while todo.size:
        steps += 1
        if steps > _MAX_GAP:
            raise _NotFast
        positions[todo] += 1
        todo = todo[_SPACE_TABLE[data[positions[todo]]]]
    return positions


def _parse_chunk(
    buffer: bytearray,
    cut: int,
    quotes: np.ndarray,
    closes: np.ndarray,
    slashes: np.ndarray,
    breaks: np.ndarray,
    first: bool,
    ndjson: bool,
    template: _Template,
) -> pl.DataFrame:
    """Vouch for one chunk of entries, put them one a line in place, and parse them."""
    data = np.frombuffer(buffer, dtype=np.uint8)
    opens = _lay_out_gaps(data, closes, first=first, ndjson=ndjson)
    entries = opens.size

    # Line breaks inside an entry: layout (outside strings) becomes a space. A raw line break
    # inside a string is not JSON: polars rejects the broken line and the general path says so.
    breaks = breaks[data[breaks] == _NEWLINE]  # those between entries are spaces by now
    if breaks.size:
        if ndjson:
            raise _NotFast  # an NDJSON entry over several lines: the general path names it
        data[breaks[~in_string(quotes, breaks)]] = _SPACE
    data[closes[:-1] + 1] = _NEWLINE  # one entry a line

    # A UTF-16 surrogate escape must be half of a pair (\ud83d\ude00): polars reads a lone one
    # as a NUL character, where the general path rejects it.
    if slashes.size:
        _check_surrogates(data, slashes)

    # Keys: strings followed by a colon. Every entry must have the template's keys, in order.
    opening, closing = quotes[0::2], quotes[1::2]
    colons = closing + 1
    after = data[colons]
    spaced = np.flatnonzero(_SPACE_TABLE[after])  # "key" : value, or a value at a line's end
    if spaced.size:
        colons[spaced] = _skip_whitespace(data, colons[spaced])
        after[spaced] = data[colons[spaced]]
    is_key = np.flatnonzero(after == _COLON)
    keys = template.lengths.size
    if is_key.size != entries * keys:
        raise _NotFast
    key_open, key_close, colons = opening[is_key], closing[is_key], colons[is_key]
    if not np.array_equal(np.searchsorted(key_open, opens), np.arange(0, entries * keys, keys)):
        raise _NotFast
    key_open, key_close = key_open.reshape(entries, keys), key_close.reshape(entries, keys)
    if not np.array_equal(
        key_close - key_open - 1, np.broadcast_to(template.lengths, (entries, keys))
    ):
        raise _NotFast
    # Column by column: a key's words are gathered from contiguous rows of positions.
    starts_of = (key_open.T.copy(), key_close.T.copy())
    words = np.ndarray(shape=(len(buffer) - 7,), dtype="<u8", buffer=buffer, strides=(1,))
    for column, offset, mask, word in zip(
        template.columns.tolist(),
        template.offsets.tolist(),
        template.masks,
        template.words,
        strict=True,
    ):
        base = starts_of[column >= keys][column % keys]
        got = words[base + offset]
        if mask != _ALL_BITS:
            got &= mask
        if not np.all(got == word):
            raise _NotFast

    # Values: no nesting, and numbers that polars keeps exactly as written (plain integers).
    starts = _skip_whitespace(data, colons + 1)
    first_bytes = data[starts]
    if np.any((first_bytes == _LBRACE) | (first_bytes == _LBRACKET)):
        raise _NotFast
    negative = first_bytes == _MINUS
    numbers = starts[negative | ((first_bytes >= _ZERO) & (first_bytes <= _NINE))]
    if numbers.size:
        _check_integers(data, numbers + (data[numbers] == _MINUS), bool(negative.any()))

    try:
        frame = pl.read_ndjson(io.BytesIO(memoryview(buffer)[:cut]), schema=template.schema)
    except pl.exceptions.PolarsError:
        raise _NotFast from None
    if frame.height != entries:
        raise _NotFast
    return frame


def _lay_out_gaps(data: np.ndarray, closes: np.ndarray, *, first: bool, ndjson: bool) -> np.ndarray:
    """Check the bytes before each entry, make them spaces (in place); return each ``{``.

    Before an entry of an array there must be whitespace and exactly one comma; before an
    NDJSON entry whitespace with at least one line break. Before the chunk's first entry is the
    previous chunk's separator (nothing but whitespace before the file's first entry).
    """
    starts = np.concatenate([[_PAD], closes[:-1] + 1])
    position = starts.copy()
    commas = np.zeros(starts.size, dtype=np.int64)
    breaks = np.zeros(starts.size, dtype=np.int64)
    todo = np.arange(starts.size)
    steps = 0
    while todo.size:
        values = data[position[todo]]
        space = _SPACE_TABLE[values]
        comma = values == _COMMA
        commas[todo] += comma
        breaks[todo] += values == _NEWLINE
        step = space | comma
        data[position[todo[step]]] = _SPACE
        todo = todo[step]
        position[todo] += 1
        steps += 1
        if steps > _MAX_GAP:
            raise _NotFast
    if not np.all(data[position] == _LBRACE):
        raise _NotFast  # not a new entry: a nested object, or something that is not JSON
    if ndjson:
        if np.any(commas) or np.any(breaks[int(first) :] == 0):
            raise _NotFast
    else:
        expected = np.ones(starts.size, dtype=np.int64)
        expected[0] = 0 if first else 1
        if not np.array_equal(commas, expected):
            raise _NotFast
    return position


def _check_surrogates(data: np.ndarray, slashes: np.ndarray) -> None:
    """Every ``\\uD800``-``\\uDBFF`` escape must be followed by a ``\\uDC00``-``\\uDFFF`` one."""
    slashes = slashes[slashes + 5 < data.size]
    escapes = slashes[(data[slashes + 1] == ord("u")) & ((data[slashes + 2] | 0x20) == ord("d"))]
    if not escapes.size:
        return
    third = data[escapes + 3] | 0x20  # lower case
    high = escapes[np.isin(third, np.frombuffer(b"89ab", dtype=np.uint8))]
    low = escapes[np.isin(third, np.frombuffer(b"cdef", dtype=np.uint8))]
    if high.size != low.size or not np.array_equal(high + 6, low):
        raise _NotFast


def _check_integers(data: np.ndarray, digits: np.ndarray, signed: bool) -> None:
    """Numbers must be plain integers of at most 38 digits (``-0`` and ``1e3`` do not pass)."""
    lead = data[digits]
    if np.any((lead < _ZERO) | (lead > _NINE)):
        raise _NotFast
    if signed and np.any((lead == _ZERO) & (data[digits - 1] == _MINUS)):
        raise _NotFast
    ends = digits + 1
    todo = np.arange(digits.size)
    for _ in range(_MAX_DIGITS):
        values = data[ends[todo]]
        todo = todo[(values >= _ZERO) & (values <= _NINE)]
        if not todo.size:
            break
        ends[todo] += 1
    else:
        raise _NotFast
    after = data[ends]
    if not np.all(_SPACE_TABLE[after] | (after == _COMMA) | (after == _RBRACE)):
        raise _NotFast  # a fraction or an exponent: kept as written by the general path


# --------------------------------------------------------------------------------------------
# CSV and Parquet


def read_csv(path: str | os.PathLike[str]) -> pl.DataFrame:
    """Read a ``.csv`` report download: one header row with the report's field names.

    Every row must have as many fields as the header (a cell holding a comma or a line break is
    quoted); otherwise :class:`~omnikit.ReportFormatError` names the line. Blank lines are
    skipped. A UTF-8 byte-order mark is accepted.

    Examples
    --------
    >>> read_csv("week3.csv").columns[0]  # doctest: +SKIP
    'interaction_id'
    """
    path = Path(path)
    blank = check_csv_records(path)
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
    if blank:  # polars makes an empty row of a blank line: a blank line is no interaction
        rows = np.array(blank, dtype=np.int64) - 1
        rows = rows[(rows >= 0) & (rows < frame.height)]
        keep = np.ones(frame.height, dtype=bool)
        keep[rows] = False
        frame = frame.filter(pl.Series(keep))
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
