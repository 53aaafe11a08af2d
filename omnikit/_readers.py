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
  the file is read in chunks, each cut after a ``}`` outside strings (an even number of
  unescaped quotes before it), and polars parses each chunk as NDJSON, one entry a line, on a
  worker thread while the next chunk is read. The first entry sets the layout: the bytes
  between its values (whitespace, commas, each key with its colon) and the gap between two
  entries. A chunk is split at each ``}`` followed by that gap and ``{`` (the gap's comma
  becomes a line break, line breaks inside entries spaces); after polars has parsed it, each
  entry is walked from its ``{`` with the lengths of the values polars read (a string's
  escapes measured from its backslashes): the bytes between values must be the first entry's,
  byte for byte, and the quotes in the chunk exactly those of the keys and strings walked. A
  chunk laid out otherwise (a ``}`` and the gap inside a string, say) is vouched for by a
  slower numpy scan of its structure (which quotes are escaped, which bytes lie inside
  strings, which strings are keys). Either way a chunk goes fast only when every entry has
  exactly the first entry's keys in the same order, no value is nested, and every number is a
  plain integer (which polars keeps digit for digit); anything else sends the whole file down
  the general path;
- the general path: the document is decoded with numbers kept as their text, and each field
  becomes a column.
"""

from __future__ import annotations

import io
import json
import os
import re
import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
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
    count_byte,
    escapes,
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
_CHUNK_BYTES = 4 << 20  # a chunk the walk over it keeps in a core's cache (16 MiB: 7% more CPU)
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
        first = handle.read(min(end - start, _HEAD_BYTES))
        skip = len(first) - len(first.lstrip(b" \t\r\n"))  # blank lines before an NDJSON entry
        layout = _layout(first[skip:], ndjson=ndjson)
        handle.seek(start + skip)
        frames: list[pl.DataFrame] = []
        pending: deque[Future[pl.DataFrame]] = deque()
        with ThreadPoolExecutor(max_workers=2) as pool:
            try:
                for chunk in _chunks(handle, end - start - skip, layout):
                    pending.append(pool.submit(_parse_chunk, chunk))
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
_NO_NEWLINES = bytes.maketrans(b"\n", b" ")
_LITERALS = np.zeros(256, dtype=bool)  # first bytes of a value that is no string and no null
_LITERALS[[*range(_ZERO, _NINE + 1), _MINUS, ord("t"), ord("f")]] = True
_HEAD_BYTES = 1 << 20  # the first entry and the gap after it must lie within this
_MAX_CUT_TRIES = 64  # '}' inside strings at the end of a chunk tried before giving up
_MAX_ESCAPE_ROUNDS = 64
_FEW_BACKSLASHES = 1000  # more in a chunk: found with numpy
_TOKEN = re.compile(
    rb'[ \t\r\n]*(?:("(?:[^"\\\x00-\x1f]|\\.)*")|([{}\[\]:,])|([^ \t\r\n{}\[\]:,"]+))'
)
_ARRAY_GAP = re.compile(rb"[ \t\r\n]*,[ \t\r\n]*(?=\{)")
_LINE_GAP = re.compile(rb"[ \t\r\n]*\n[ \t\r\n]*(?=\{)")


def _pattern(piece: bytes) -> list[tuple[int, np.uint64, np.uint64]]:
    """``piece`` as (offset, mask, word) triples: 8-byte words that cover it from its start.

    A piece shorter than 8 bytes is one word ending where it ends (the bytes before it masked
    off); a longer one is words at 0, 8, ... and a last one ending where it ends.
    """
    if len(piece) < 8:
        pad = 8 - len(piece)
        mask = ((1 << (8 * len(piece))) - 1) << (8 * pad)
        word = int.from_bytes(b"\0" * pad + piece, "little")
        return [(-pad, np.uint64(mask), np.uint64(word))]
    offsets = [*range(0, len(piece) - 8, 8), len(piece) - 8]
    return [(o, _ALL_BITS, np.uint64(int.from_bytes(piece[o : o + 8], "little"))) for o in offsets]


def _matches(buffer: bytearray, positions: np.ndarray, pattern: Any) -> np.ndarray:
    """Whether the bytes of ``buffer`` at each position are the pattern's piece."""
    found = np.ones(positions.size, dtype=bool)
    for offset, mask, word in pattern:
        got = _words_at(buffer, positions, offset)
        if mask != _ALL_BITS:
            got &= mask
        found &= got == word
    return found


def _all_match(buffer: bytearray, positions: np.ndarray, pattern: Any) -> bool:
    """Whether the bytes of ``buffer`` at every position are the pattern's piece."""
    for offset, mask, word in pattern:
        got = _words_at(buffer, positions, offset)
        if mask != _ALL_BITS:
            got &= mask
        if not np.all(got == word):
            return False
    return True


def _words_at(buffer: bytearray, positions: np.ndarray, offset: int) -> np.ndarray:
    """The 8-byte little-endian word at each position + ``offset``."""
    if offset < 0:
        positions, offset = positions + offset, 0
    view = np.ndarray(
        shape=(len(buffer) - 7 - offset,), dtype="<u8", buffer=buffer, offset=offset, strides=(1,)
    )
    return view[positions]


class _Layout:
    """How the first entry is written: the bytes around its values, and the gap after it.

    An entry written the same way is ``pieces[0]``, the first value, ``pieces[1]``, the second
    value, ..., ``pieces[-1]`` (which ends with ``}``): each piece holds the whitespace, the
    commas and the next key with its colon. ``gap`` is what separates two entries (``,`` and
    whitespace in an array, whitespace with a line break in NDJSON), None if unknown.
    """

    def __init__(
        self, template: _Template, pieces: list[bytes], gap: bytes | None, ndjson: bool
    ) -> None:
        self.template = template
        self.ndjson = ndjson
        self.pieces = [len(p) for p in pieces]
        self.patterns = [_pattern(p) for p in pieces]
        self.entry_newlines = sum(p.count(b"\n") for p in pieces)
        self.gap = gap
        self.gap_pattern = _pattern(gap + b"{") if gap else []
        self.gap_newlines = gap.count(b"\n") if gap else 0
        self.comma = gap.find(b",") if gap else -1


def _layout(head: bytes, *, ndjson: bool) -> _Layout:
    """Learn the layout from the first entry (``head`` starts with it)."""
    if not head.startswith(b"{"):
        raise _NotFast
    pieces: list[bytes] = []
    names: list[bytes] = []
    mark = 0  # where the current piece starts
    position = 1
    while True:
        key = _TOKEN.match(head, position)
        if key is None or key.group(1) is None:
            raise _NotFast  # an empty entry, or one cut off by the end of the head
        colon = _TOKEN.match(head, key.end())
        value = _TOKEN.match(head, colon.end()) if colon and colon.group(2) == b":" else None
        if value is None or value.group(2) is not None:
            raise _NotFast  # a nested value (or not JSON): the general path decides
        names.append(key.group(1))
        begin = value.start(1) if value.group(1) is not None else value.start(3)
        pieces.append(head[mark:begin])
        mark = value.end()
        after = _TOKEN.match(head, mark)
        if after is None or after.group(2) not in (b",", b"}"):
            raise _NotFast
        position = after.end()
        if after.group(2) == b"}":
            break
    pieces.append(head[mark:position])
    template = _template(bytearray(head), 0, position - 1)
    if [n[1:-1].decode() for n in names] != template.names:
        raise _NotFast
    if ndjson and any(b"\n" in p for p in pieces):
        raise _NotFast  # an NDJSON entry over several lines: the general path names it
    gap = (_LINE_GAP if ndjson else _ARRAY_GAP).match(head, position)
    return _Layout(template, pieces, gap.group() if gap else None, ndjson)


@dataclass
class _Chunk:
    """Entries read from the file: ``buffer[_PAD:cut]``, and what the main thread found."""

    buffer: bytearray
    cut: int  # just after the last entry's '}'
    first: bool  # the file's first chunk (no gap before its first entry)
    layout: _Layout
    slashes: np.ndarray  # positions of the backslashes
    escapes: np.ndarray  # positions of the escapes' backslashes
    extra: np.ndarray  # bytes each escape adds (see _structure.escapes)
    escaped: np.ndarray  # positions of the escaped quotes
    quotes: int  # quotes that open or close a string


def _chunks(handle: io.BufferedReader, length: int, layout: _Layout) -> Iterator[_Chunk]:
    """Read the entries in chunks, each cut just after the last ``}`` outside strings.

    Each chunk is ``_PAD`` spaces, then the bytes from the end of the previous chunk's last
    entry to the end of this chunk's last entry (what follows is carried over). A ``}`` is
    outside strings when an even number of (unescaped) quotes precede it in the chunk.
    """
    carry = b""
    remaining = length
    first = True
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
        slashes = _backslashes(buffer, data, scratch)
        starts, extra, escaped = escapes(data, slashes)
        quote = np.equal(data, _QUOTE, out=scratch[: data.size])
        cut, quotes = -1, 0
        close = buffer.rfind(b"}", _PAD)
        for _ in range(_MAX_CUT_TRIES):
            if close < 0:
                break
            quotes = int(np.count_nonzero(quote[:close])) - int(np.searchsorted(escaped, close))
            if quotes % 2 == 0:
                cut = close + 1
                break
            close = buffer.rfind(b"}", _PAD, close)
        else:
            raise _NotFast
        if cut < 0:
            if final:
                raise _NotFast
            carry = bytes(buffer[_PAD:])
            continue
        if final and bytes(buffer[cut:]).strip(b" \t\r\n"):
            raise _NotFast
        carry = bytes(buffer[cut:])
        count = int(np.searchsorted(starts, cut))
        yield _Chunk(
            buffer,
            cut,
            first,
            layout,
            slashes[: np.searchsorted(slashes, cut)],
            starts[:count],
            extra[:count],
            escaped[: np.searchsorted(escaped, cut)],
            quotes,
        )
        first = False
    if carry.strip(b" \t\r\n"):
        raise _NotFast


def _backslashes(buffer: bytearray, data: np.ndarray, scratch: np.ndarray) -> np.ndarray:
    """Positions of the backslashes: found one by one (at memchr speed) while they are few."""
    found: list[int] = []
    at = buffer.find(b"\\", _PAD)
    while at >= 0:
        if len(found) >= _FEW_BACKSLASHES:
            return positions_of(data, _BACKSLASH, scratch)
        found.append(at)
        at = buffer.find(b"\\", at + 1)
    return np.array(found, dtype=np.int64)


class _Retry(Exception):
    """The layout walk cannot vouch for this chunk; scan its structure instead."""


def _parse_chunk(chunk: _Chunk) -> pl.DataFrame:
    """Parse one chunk: by the first entry's layout if every entry follows it, else by a scan."""
    try:
        return _parse_by_layout(chunk)
    except _Retry:
        pass
    buffer, cut = chunk.buffer, chunk.cut
    data = np.frombuffer(buffer, dtype=np.uint8)[:cut]
    quotes = string_quotes(data, chunk.slashes)
    if quotes.size % 2:
        raise _NotFast
    closes = np.flatnonzero(data == _RBRACE)
    closes = closes[~in_string(quotes, closes)]
    breaks = np.flatnonzero(data == _NEWLINE)
    layout = chunk.layout
    return _scan_chunk(
        buffer,
        cut,
        quotes,
        closes,
        chunk.slashes,
        breaks,
        chunk.first,
        layout.ndjson,
        layout.template,
    )


def _parse_by_layout(chunk: _Chunk) -> pl.DataFrame:
    """Parse a chunk whose entries are all written as the first one; else raise ``_Retry``.

    Entries are split at each ``}`` followed by the gap and ``{``; polars parses them one a
    line (rejecting a line cut inside a string or a nested value). Then each entry is walked
    from its ``{`` with the lengths of the values polars read: the bytes between values must
    be the layout's pieces (so the keys, their order and the whitespace are the first entry's),
    a string must end with a quote there, and the quotes counted in the chunk must be exactly
    those of the keys and string values walked (so no entry holds another key).
    """
    layout, buffer, cut = chunk.layout, chunk.buffer, chunk.cut
    gap = layout.gap
    if gap is None:
        raise _Retry
    data = np.frombuffer(buffer, dtype=np.uint8)
    first = _PAD if chunk.first else _PAD + len(gap)
    if not chunk.first and buffer[_PAD:first] != gap:
        raise _Retry
    if first >= cut or data[first] != _LBRACE:
        raise _Retry
    span = data[first : cut - 1 - len(gap)]
    closes = np.flatnonzero(np.equal(span, _RBRACE, out=_scratch(span.size))) + first
    closes = closes[_matches(buffer, closes + 1, layout.gap_pattern)]
    starts = np.concatenate([[first], closes + 1 + len(gap)])
    ends = np.append(closes, cut - 1)
    entries = starts.size
    gaps = entries - 1 + (0 if chunk.first else 1)
    newlines = 0
    if buffer.find(b"\n", _PAD, cut) >= 0:
        newlines = int(np.count_nonzero(np.equal(data[:cut], _NEWLINE, out=_scratch(cut))))
    if newlines != gaps * layout.gap_newlines + entries * layout.entry_newlines:
        raise _Retry  # a line break inside a string, or whitespace laid out another way

    text = buffer
    if not layout.ndjson:  # one entry a line: each gap's comma becomes a line break
        if newlines:
            text = buffer.translate(_NO_NEWLINES)
        lines = np.frombuffer(text, dtype=np.uint8)
        commas = closes + 1 + layout.comma
        lines[commas] = _NEWLINE
        if not chunk.first:
            lines[_PAD + layout.comma] = _SPACE
    try:
        frame = pl.read_ndjson(io.BytesIO(memoryview(text)[:cut]), schema=layout.template.schema)
    except pl.exceptions.PolarsError:
        frame = None
    if text is buffer and not layout.ndjson:  # put the commas back for the scan
        lines[commas] = _COMMA
        if not chunk.first:
            lines[_PAD + layout.comma] = _COMMA
    if frame is None or frame.height != entries:
        raise _Retry
    _walk(chunk, data, frame, starts, ends)
    return frame


_local = threading.local()


def _scratch(size: int) -> np.ndarray:
    """A bool array of ``size`` for this thread, reused from chunk to chunk (no fresh pages)."""
    array = getattr(_local, "scratch", None)
    if array is None or array.size < size:
        array = _local.scratch = np.empty(size, dtype=bool)
    return array[:size]


def _walk(
    chunk: _Chunk,
    data: np.ndarray,
    frame: pl.DataFrame,
    starts: np.ndarray,
    ends: np.ndarray,
) -> None:
    """Walk every entry from its ``{`` to its ``}`` (see :func:`_parse_by_layout`)."""
    layout = chunk.layout
    lengths = frame.select(pl.all().str.len_bytes().fill_null(0)).to_numpy()
    nulls = frame.select(pl.all().is_null()).to_numpy()
    cumulative = np.concatenate([[0], np.cumsum(chunk.extra)])
    # The entries that hold an escape (most hold none)
    escaping = np.flatnonzero(
        np.searchsorted(chunk.escapes, ends) > np.searchsorted(chunk.escapes, starts)
    )
    if not _all_match(chunk.buffer, starts, layout.patterns[0]):
        raise _Retry
    position = starts + layout.pieces[0]
    strings = 0
    numbers = []
    for column in range(len(layout.template.names)):
        value = position
        first = data[value]
        is_string = first == _QUOTE
        length = lengths[:, column] + 2 * is_string  # int64
        null = nulls[:, column]
        if null.any():
            if not np.all(first[null] == ord("n")):
                raise _Retry
            length[null] = 4
        other = ~(is_string | null)
        if other.any():
            if not np.all(_LITERALS[first[other]]):
                raise _Retry  # a nested value
            numbers.append(
                value[other & ((first == _MINUS) | ((first >= _ZERO) & (first <= _NINE)))]
            )
        if escaping.size:
            _add_escapes(chunk.escapes, cumulative, value, length, escaping[is_string[escaping]])
        closing = (value + length - 1)[is_string]
        if not np.all(data[closing] == _QUOTE):
            raise _Retry
        if chunk.escaped.size:  # a string must not end at an escaped quote
            found = np.minimum(np.searchsorted(chunk.escaped, closing), chunk.escaped.size - 1)
            if np.any(chunk.escaped[found] == closing):
                raise _Retry
        strings += int(np.count_nonzero(is_string))
        position = value + length
        if np.any(position + (layout.pieces[column + 1] - 1) > ends):
            raise _Retry  # walked past the entry's end
        if not _all_match(chunk.buffer, position, layout.patterns[column + 1]):
            raise _Retry
        position = position + layout.pieces[column + 1]
    if not np.array_equal(position, ends + 1):
        raise _Retry
    if chunk.quotes != starts.size * 2 * len(layout.template.names) + 2 * strings:
        raise _Retry  # a string the walk did not see: another key
    if chunk.slashes.size:
        _check_surrogates(data, chunk.slashes)
    if numbers:
        digits = np.concatenate(numbers)
        signed = bool(np.any(data[digits] == _MINUS))
        _check_integers(data, digits + (data[digits] == _MINUS), signed)


def _add_escapes(
    escapes_at: np.ndarray,
    cumulative: np.ndarray,
    value: np.ndarray,
    length: np.ndarray,
    at: np.ndarray,
) -> None:
    """Lengthen (in place) the string values ``at`` by the bytes their escapes add as written.

    The closing quote is where the decoded text, grown escape by escape, ends: repeat until
    the escapes before it add up.
    """
    opening = value[at]
    base = opening + length[at] - 1  # the closing quote without escapes
    low = np.searchsorted(escapes_at, opening)
    touched = np.flatnonzero(np.searchsorted(escapes_at, base) > low)
    if not touched.size:
        return
    opening, base, low = opening[touched], base[touched], low[touched]
    closing = base
    for _ in range(_MAX_ESCAPE_ROUNDS):
        grown = base + cumulative[np.searchsorted(escapes_at, closing)] - cumulative[low]
        if np.array_equal(grown, closing):
            break
        closing = grown
    else:
        raise _Retry
    length[at[touched]] = closing - opening + 1


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


def _scan_chunk(
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
    """Vouch for one chunk by scanning its structure, put its entries one a line, parse them."""
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
    try:
        frame = pl.read_csv(path, infer_schema=False, encoding="utf8", raise_if_empty=False)
    except pl.exceptions.PolarsError as error:
        check_csv_records(path)  # a row with more fields than the header: name its line
        raise ReportFormatError(
            f"not a readable CSV report ({_first_line(error)})", path=str(path)
        ) from None
    blank: list[int] = []
    if not _fields_add_up(path, frame):
        blank = check_csv_records(path)  # raises, naming the line of a row with too few fields
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


def _fields_add_up(path: Path, frame: pl.DataFrame) -> bool:
    """Whether every record of the CSV file polars read has as many fields as the header.

    polars refuses a row with more fields than the header but pads one with fewer, with nulls
    (a cell written empty but quoted, ``""``, reads as empty text): so when the last column
    holds no null, no row is short (nor is any line blank). Otherwise the commas that separate
    fields are those of the file less those inside cells (which polars read as part of the
    text), so when they number ``(rows + 1) * (fields - 1)`` and no row has more fields than the
    header, none has fewer either.
    """
    if frame.width < 2:
        return False  # a blank line reads as a row of one empty field: scan the records
    if not frame.get_column(frame.columns[-1]).null_count():
        return True
    inside = sum(name.count(",") for name in frame.columns)
    counts = frame.select(pl.all().str.count_matches(",", literal=True).sum()).row(0)
    inside += sum(int(c or 0) for c in counts)
    return count_byte(path, _COMMA) - inside == (frame.height + 1) * (frame.width - 1)


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
