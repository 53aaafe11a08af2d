"""The byte-level structure of report files, found with numpy rather than a byte-by-byte loop.

JSON: which quotes open or close a string (a quote after an odd run of backslashes is part of
the string), so which bytes are inside strings, and how deeply each brace or bracket outside a
string is nested. CSV: which line breaks end a record (those outside quoted cells) and how many
fields each record holds. ``omnikit._readers`` uses these to vouch for its fast JSON path and to
reject CSV rows whose number of fields differs from the header.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._errors import ReportFormatError

__all__ = [
    "BOM",
    "MAX_DEPTH",
    "check_csv_records",
    "check_nesting",
    "count_byte",
    "escapes",
    "in_string",
    "positions_of",
    "string_quotes",
]

#: The UTF-8 byte-order mark, accepted (and skipped) at the start of every text format.
BOM = b"\xef\xbb\xbf"

#: Values nested deeper than this (an entry inside an envelope is at level 2) are refused.
MAX_DEPTH = 64

_QUOTE, _BACKSLASH, _NEWLINE, _COMMA = (ord(c) for c in '"\\\n,')
_CSV_BLOCK = 16 << 20
_LOWER_U = ord("u")
_HEX = np.zeros(256, dtype=np.int64)  # hex digit values (polars rejects anything else)
for _digit in b"0123456789abcdef":
    _HEX[_digit] = _HEX[ord(chr(_digit).upper())] = int(chr(_digit), 16)


def positions_of(data: np.ndarray, byte: int, scratch: np.ndarray | None = None) -> np.ndarray:
    """Positions of ``byte`` in ``data`` (``scratch``: a reusable bool array as long as data)."""
    if scratch is None:
        return np.flatnonzero(data == byte)
    found = np.equal(data, byte, out=scratch[: data.size])
    return np.flatnonzero(found)


def string_quotes(
    data: np.ndarray, slashes: np.ndarray | None = None, scratch: np.ndarray | None = None
) -> np.ndarray:
    """Positions of the quotes that open or close a JSON string (escaped quotes left out).

    A quote is escaped when the run of backslashes just before it is odd (``\\"`` is a quote
    inside a string, ``\\\\"`` an escaped backslash and then the closing quote). ``slashes``
    are the positions of the backslashes, if already known.
    """
    found = data == _QUOTE if scratch is None else np.equal(data, _QUOTE, out=scratch[: data.size])
    if slashes is None:
        slashes = np.flatnonzero(data == _BACKSLASH)
    slashes = slashes[slashes + 1 < data.size]
    if slashes.size:
        # Only a quote right after a backslash can be escaped; runs of backslashes are short.
        suspects = slashes[data[slashes + 1] == _QUOTE] + 1
        run = np.ones(suspects.size, dtype=np.int64)
        position = suspects - 2
        todo = np.arange(suspects.size)
        while todo.size:
            todo = todo[position[todo] >= 0]
            todo = todo[data[position[todo]] == _BACKSLASH]
            run[todo] += 1
            position[todo] -= 1
        found[suspects[run % 2 == 1]] = False
    return np.flatnonzero(found)


def escapes(data: np.ndarray, slashes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The escapes of JSON strings, from the positions of the backslashes.

    Returns the position of each escape's backslash, how many bytes longer each escape is
    written than the UTF-8 text it stands for (``\\n`` is 1 byte longer, ``\\u00e9`` 4,
    ``\\u4e2d`` 3, a surrogate pair's halves 6 and 2), and the positions of the
    escaped quotes. A backslash escapes the next byte unless it is itself escaped, so in a run
    of backslashes every other one starts an escape.

    Examples
    --------
    >>> raw = rb'"a\\"b\\\\c\\u00e9"'
    >>> data = np.frombuffer(raw, dtype=np.uint8)
    >>> starts, extra, quotes = escapes(data, np.flatnonzero(data == ord("\\\\")))
    >>> starts.tolist(), extra.tolist(), quotes.tolist()
    ([2, 5, 8], [1, 1, 4], [3])
    """
    if not slashes.size:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, empty
    run_start = np.ones(slashes.size, dtype=bool)
    run_start[1:] = np.diff(slashes) != 1
    firsts = np.flatnonzero(run_start)
    index = np.arange(slashes.size) - firsts[np.cumsum(run_start) - 1]
    starts = slashes[index % 2 == 0]
    last = data.size - 1
    kind = data[np.minimum(starts + 1, last)]
    extra = np.ones(starts.size, dtype=np.int64)
    unicode = np.flatnonzero(kind == _LOWER_U)
    if unicode.size:
        at = starts[unicode]
        code = np.zeros(unicode.size, dtype=np.int64)
        for digit in range(2, 6):
            code = code * 16 + _HEX[data[np.minimum(at + digit, last)]]
        # A surrogate pair's 4 bytes are counted on its second half, so a string's length
        # written, grown escape by escape from its start, never stops between the halves.
        high = (code >= 0xD800) & (code < 0xDC00)
        low = (code >= 0xDC00) & (code < 0xE000)
        written = np.select([code < 0x80, code < 0x800, high, low], [1, 2, 0, 4], 3)
        extra[unicode] = 6 - written
    return starts, extra, starts[kind == _QUOTE] + 1


def in_string(quotes: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Whether each (non-quote) position lies inside a string, given :func:`string_quotes`."""
    return (np.searchsorted(quotes, positions) & 1).astype(bool)


def check_nesting(raw: bytes, *, path: str) -> None:
    """Raise :class:`~omnikit.ReportFormatError` if a value is nested deeper than MAX_DEPTH.

    The check is on the bytes, before decoding, so a deeply nested file is a clear error on
    every path (never a ``RecursionError``).
    """
    data = np.frombuffer(raw, dtype=np.uint8)
    opens = np.flatnonzero((data == ord("{")) | (data == ord("[")))
    if opens.size <= MAX_DEPTH:
        return
    closes = np.flatnonzero((data == ord("}")) | (data == ord("]")))
    quotes = string_quotes(data)
    opens = opens[~in_string(quotes, opens)]
    closes = closes[~in_string(quotes, closes)]
    where = np.concatenate([opens, closes])
    order = np.argsort(where, kind="stable")
    depth = np.cumsum(
        np.concatenate([np.ones(opens.size, np.int64), -np.ones(closes.size, np.int64)])[order]
    )
    deep = np.flatnonzero(depth > MAX_DEPTH)
    if deep.size:
        offset = int(where[order][deep[0]])
        line = raw.count(b"\n", 0, offset) + 1
        column = offset - (raw.rfind(b"\n", 0, offset) + 1) + 1
        raise ReportFormatError(
            f"a value is nested more than {MAX_DEPTH} levels deep; a report entry holds flat "
            "fields, so this is not a report omnikit can read",
            path=path,
            line=line,
            column=column,
        )


def count_byte(path: Path, byte: int) -> int:
    """How many times ``byte`` occurs in the file, counted block by block.

    Examples
    --------
    >>> count_byte(Path("week3.csv"), ord(","))  # doctest: +SKIP
    3420
    """
    if path.stat().st_size == 0:
        return 0
    data = np.memmap(path, dtype=np.uint8, mode="r")
    scratch = np.empty(min(data.size, _CSV_BLOCK), dtype=bool)
    try:
        count = 0
        for base in range(0, data.size, _CSV_BLOCK):
            block = data[base : base + _CSV_BLOCK]
            count += int(np.count_nonzero(np.equal(block, byte, out=scratch[: block.size])))
        return count
    finally:
        del data


@dataclass
class _Records:
    """Running state of the CSV record scan across blocks."""

    header: int = -1  # fields in the header record
    quotes: int = 0  # quotes seen so far (their parity says whether we are inside a cell)
    commas: int = 0  # commas outside quotes in the open record
    start: int = 0  # offset where the open record starts
    index: int = 0  # index of the open record (the header is 0)


def check_csv_records(path: Path) -> list[int]:
    """Check that every CSV record has as many fields as the header; return blank records.

    Records are separated by line breaks outside quoted cells (a quoted cell may hold line
    breaks). A blank line is no record; the indices (the header is 0) of blank lines are
    returned so the reader can drop the empty rows polars makes of them. Raises
    :class:`~omnikit.ReportFormatError` naming the line of the first record whose number of
    fields differs from the header.
    """
    size = path.stat().st_size
    if size == 0:
        return []
    data = np.memmap(path, dtype=np.uint8, mode="r")
    state = _Records()
    blank: list[int] = []
    try:
        for base in range(0, size, _CSV_BLOCK):
            block = data[base : base + _CSV_BLOCK]
            quotes = np.flatnonzero(block == _QUOTE)
            newlines = np.flatnonzero(block == _NEWLINE)
            commas = np.flatnonzero(block == _COMMA)
            outside_nl = (state.quotes + np.searchsorted(quotes, newlines)) % 2 == 0
            outside_cm = (state.quotes + np.searchsorted(quotes, commas)) % 2 == 0
            newlines, commas = newlines[outside_nl], commas[outside_cm]
            before = np.searchsorted(commas, newlines)  # commas in this block before each end
            fields = np.diff(before, prepend=0) + 1
            if fields.size:
                fields[0] += state.commas
            ends = newlines + base
            starts = np.empty_like(ends)
            if ends.size:
                starts[0] = state.start
                starts[1:] = ends[:-1] + 1
            lengths = ends - starts
            empty = (lengths == 0) | (
                (lengths == 1) & (data[np.minimum(starts, size - 1)] == ord("\r"))
            )
            _check_fields(path, data, state, fields, empty, starts, blank)
            state.quotes += quotes.size
            state.commas = (
                (commas.size - int(before[-1])) if ends.size else state.commas + commas.size
            )
            if ends.size:
                state.start = int(ends[-1]) + 1
        if state.start < size:  # a last record without a final line break
            length = size - state.start
            empty = np.array([length == 1 and data[state.start] == ord("\r")])
            _check_fields(
                path,
                data,
                state,
                np.array([state.commas + 1]),
                empty,
                np.array([state.start]),
                blank,
            )
    finally:
        del data
    return blank


def _check_fields(
    path: Path,
    data: np.ndarray,
    state: _Records,
    fields: np.ndarray,
    empty: np.ndarray,
    starts: np.ndarray,
    blank: list[int],
) -> None:
    if not fields.size:
        return
    if state.header < 0:
        state.header = int(fields[0])
    wrong = np.flatnonzero((fields != state.header) & ~empty)
    if wrong.size:
        at = int(wrong[0])
        offset = int(starts[at])
        line = int(np.count_nonzero(data[:offset] == _NEWLINE)) + 1
        found, expected = int(fields[at]), state.header
        raise ReportFormatError(
            f"this row has {found} field{'s' if found != 1 else ''} but the header has "
            f'{expected}: a cell holding a comma or a line break must be quoted ("..."), and '
            "no field may be missing; fix the file (or export it again) and load it again",
            path=str(path),
            line=line,
        )
    blank.extend(int(i) + state.index for i in np.flatnonzero(empty))
    state.index += int(fields.size)
