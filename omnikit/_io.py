"""``ok.load`` and ``ok.scan``: report entries from files, directories, globs or dicts.

Each source file is read into a raw frame (``omnikit._readers``), made canonical
(:func:`canonicalize`), and the frames are stacked in input order; the same ``interaction_id``
seen again replaces the earlier row (the last occurrence wins). Bad cells become null and are
reported once, per field, in a :class:`~omnikit.DataQualityWarning`.
"""

from __future__ import annotations

import glob as globlib
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from . import _cache, _readers
from ._errors import ParameterError, ReportFormatError, ReportValidationError, warn_data_quality
from ._schema import (
    CANONICAL_COLUMNS,
    DATETIME_COLUMNS,
    SECONDS_COLUMNS,
    canonical_schema,
    normalize_name,
)
from ._time import check_timezone

__all__ = ["load", "scan"]

Source = str | os.PathLike[str] | Mapping[str, Any] | Sequence[Any]

_NAIVE_FORMATS = (
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
)
_AWARE_FORMATS = ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%z")
_EXAMPLES = 3


@dataclass
class Problems:
    """Bad cells found while loading, per field: count and a few example locations."""

    cells: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def add(self, column: str, count: int, examples: Iterable[str]) -> None:
        if not count:
            return
        self.cells[column] = self.cells.get(column, 0) + count
        known = self.examples.setdefault(column, [])
        known.extend(e for e in examples if len(known) < _EXAMPLES)

    def merge(self, other: Problems) -> None:
        for column, count in other.cells.items():
            self.add(column, count, other.examples.get(column, []))

    def to_json(self) -> dict[str, Any]:
        return {"cells": self.cells, "examples": self.examples}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Problems:
        return cls(dict(data["cells"]), {k: list(v) for k, v in data["examples"].items()})

    def report(self, timezone: str, *, strict: bool) -> None:
        """Warn (or raise, when strict) with one summary of every bad cell."""
        if not self.cells:
            return
        total = sum(self.cells.values())
        lines = []
        for column, count in self.cells.items():
            why = _WHY.get(column, "not understood").format(timezone=timezone)
            examples = ", ".join(self.examples.get(column, []))
            lines.append(
                f"  {column}: {count} cell{'s' if count != 1 else ''} {why}; e.g. {examples}"
            )
        if strict:
            message = (
                f"{total} bad cell{'s' if total != 1 else ''} in the report:\n"
                + "\n".join(lines)
                + "\nFix the source, or load with strict=False to keep those rows with null cells."
            )
            problems = {c: (n, self.examples.get(c, [])) for c, n in self.cells.items()}
            raise ReportValidationError(message, problems)
        message = (
            f"{total} bad cell{'s' if total != 1 else ''} set to null (the rows are kept):\n"
            + "\n".join(lines)
            + "\nPass strict=True to raise instead."
        )
        warn_data_quality(message)


_WHY = {
    "waiting_time": "(negative, not a whole number of seconds, or not a number)",
    "duration": "(negative, not a whole number of seconds, or not a number)",
    "start_date_time": "(not a date-time, or a time that does not exist in {timezone})",
    "end_date_time": "(not a date-time, or a time that does not exist in {timezone})",
    "interaction_id": "(missing: such rows are kept and never deduplicated)",
    "total": "(the envelope's total differs from its number of entries: the download may be "
    "cut short or padded)",
}


# --------------------------------------------------------------------------------------------
# Public API


def load(
    source: Source,
    *,
    timezone: str = "UTC",
    strict: bool = False,
    cache: bool | None = None,
) -> pl.DataFrame:
    """Load Customer Omnichannel Report entries into the canonical polars frame.

    Parameters
    ----------
    source
        A path (``str`` or ``Path``) to a ``.json`` envelope or bare array, a ``.jsonl`` /
        ``.ndjson`` file, a ``.csv`` or a ``.parquet`` file; a directory (every such file in it,
        sorted by name; names starting with ``_`` or ``.`` are skipped, so a store's manifest is
        not read); a glob pattern; an envelope dict; a list of entry dicts; or a list of any of
        these.
    timezone
        IANA name of the timezone the report job was run with. Wall-clock times are read in it;
        in a repeated (DST fall-back) hour the earlier instant is taken; a time that does not
        exist in it (spring-forward gap) is a bad cell.
    strict
        ``False``: bad cells (unparseable or non-existent date-times, negative or non-integer
        seconds) become null, the row is kept, and one :class:`~omnikit.DataQualityWarning`
        summarises them per field. ``True``: the same summary is raised as
        :class:`~omnikit.ReportValidationError`.
    cache
        Reuse the parsed result of an unchanged file (keyed by path, size, modification time and
        timezone; kept in ``$OMNIKIT_CACHE_DIR`` or ``~/.cache/omnikit``). ``None`` (default):
        for JSON/NDJSON/CSV files of at least 4 MiB; ``False``: never; ``True``: always.

    Returns
    -------
    polars.DataFrame
        The columns of ``omnikit.CANONICAL_COLUMNS`` in that order (``waiting_time`` and
        ``duration`` Int64 seconds, ``start_date_time`` and ``end_date_time``
        ``Datetime("us", timezone)``, the rest String), then any fields the report had beyond
        those, as String. One row per ``interaction_id`` (the last occurrence wins).

    Raises
    ------
    ReportFormatError
        A file is not a report (not JSON or not UTF-8, no ``entries`` list, a value nested more
        than 64 levels deep, a CSV without ``interaction_id``, a CSV row whose number of fields
        differs from the header); the message names the file, the line and, for JSON, the
        column.
    ReportValidationError
        ``strict=True`` and some cells are bad, or an envelope's ``total`` differs from its
        number of entries (with ``strict=False`` both are one ``DataQualityWarning``).

    Notes
    -----
    String fields keep the exact text the source wrote: a number keeps its digits (``1e3``
    stays ``"1e3"``, an id beyond 2**53 is never rounded); a nested value is compact JSON text.

    Examples
    --------
    >>> import omnikit as ok
    >>> files = ["week1.json", "week2.json", "week3.csv"]
    >>> df = ok.load(files, timezone="Europe/Lisbon")  # doctest: +SKIP
    >>> df.group_by("interaction_type").len()  # doctest: +SKIP
    """
    check_timezone(timezone)
    store = _store_dir(source)
    if store is not None:
        from ._store import load_store

        return load_store(store, timezone=timezone)
    frames: list[pl.DataFrame] = []
    problems = Problems()
    for item in _expand(source):
        frame, found = _load_one(item, timezone=timezone, cache=cache)
        frames.append(frame)
        problems.merge(found)
    problems.report(timezone, strict=strict)
    if not frames:
        return pl.DataFrame(schema=canonical_schema(timezone))
    frame = frames[0] if len(frames) == 1 else pl.concat(frames, how="diagonal")
    # A single file was deduplicated when it was read (and cached that way).
    return frame if len(frames) == 1 else deduplicate(frame)


def scan(
    source: Source,
    *,
    timezone: str = "UTC",
    strict: bool = False,
    cache: bool | None = None,
) -> pl.LazyFrame:
    """Like :func:`load`, but return a ``LazyFrame`` that reads Parquet lazily.

    Parquet files in canonical form (an ``omnikit fetch`` store, or frames omnikit wrote) are
    scanned without being read, so filters and aggregations run over data larger than memory.
    Other sources are loaded (with the same checks and warnings as :func:`load`) and wrapped.

    Examples
    --------
    >>> import omnikit as ok
    >>> lf = ok.scan("data/omnikit-store", timezone="Europe/Lisbon")  # doctest: +SKIP
    >>> ok.channel_mix(lf.filter(pl.col("agent_type") == "USER"))  # doctest: +SKIP
    """
    check_timezone(timezone)
    store = _store_dir(source)
    if store is not None:
        from ._store import scan_store

        return scan_store(store, timezone=timezone)  # one file per interaction: no de-duplication
    items = list(_expand(source))
    paths = [item for item in items if isinstance(item, Path) and item.suffix.lower() == ".parquet"]
    if not items or len(paths) != len(items):
        return load(source, timezone=timezone, strict=strict, cache=cache).lazy()
    lazy = []
    for path in paths:
        schema = pl.read_parquet_schema(path)
        if not _is_canonical(schema):
            return load(source, timezone=timezone, strict=strict, cache=cache).lazy()
        frame = pl.scan_parquet(path)
        zone = schema["start_date_time"].time_zone  # type: ignore[attr-defined]
        if zone != timezone:
            frame = frame.with_columns(pl.col(DATETIME_COLUMNS).dt.convert_time_zone(timezone))
        lazy.append(frame)
    frame = lazy[0] if len(lazy) == 1 else pl.concat(lazy, how="diagonal")
    return deduplicate(frame)


# --------------------------------------------------------------------------------------------
# Sources


def _store_dir(source: Source) -> Path | None:
    """The directory, when ``source`` is an ``omnikit fetch`` store (read by ``omnikit._store``)."""
    if not isinstance(source, (str, os.PathLike)):
        return None
    from ._store import is_store

    path = Path(source).expanduser()
    return path if path.is_dir() and is_store(path) else None


def _expand(source: Source) -> Iterable[Path | Mapping[str, Any] | list[Any]]:
    """Yield the files (as Paths) and in-memory reports a source names, in input order."""
    if isinstance(source, (str, os.PathLike)):
        yield from _expand_path(source)
    elif isinstance(source, Mapping):
        yield source
    elif isinstance(source, pl.DataFrame | pl.LazyFrame):
        raise ParameterError(
            "ok.load reads report files or entry dicts; a polars frame is already loaded"
        )
    elif isinstance(source, Sequence):
        if source and all(isinstance(item, Mapping) for item in source):
            yield list(source)  # a list of entry dicts
            return
        for item in source:
            if isinstance(item, (str, os.PathLike, Mapping)) or (
                isinstance(item, Sequence) and not isinstance(item, (bytes, bytearray))
            ):
                yield from _expand(item)
            else:
                raise ParameterError(
                    f"cannot load {type(item).__name__!s} {item!r:.60}: "
                    "expected a path or entry dicts"
                )
    else:
        raise ParameterError(
            f"cannot load {type(source).__name__}: expected a path, a glob, a directory, an "
            "envelope dict, a list of entry dicts, or a list of these"
        )


def _expand_path(source: str | os.PathLike[str]) -> Iterable[Path]:
    path = Path(source).expanduser()
    if path.is_dir() and _store_dir(path) is not None:  # a store among other sources
        from ._store import all_day_files

        yield from all_day_files(path)
    elif path.is_dir():
        files = sorted(
            p
            for p in path.iterdir()
            if p.is_file()
            and p.suffix.lower() in _readers.REPORT_SUFFIXES
            and p.name[0] not in "._"
        )
        if not files and (path / "_manifest.json").exists():
            return  # an omnikit fetch store that holds no interactions yet
        if not files:
            raise FileNotFoundError(
                f"{path}: no report files in this directory (expected "
                f"{', '.join(_readers.REPORT_SUFFIXES)})"
            )
        yield from files
    elif path.exists():
        yield path
    elif globlib.has_magic(str(source)):
        matches = sorted(
            Path(p)
            for p in globlib.glob(os.path.expanduser(str(source)), recursive=True)
            if Path(p).is_file()
        )
        if not matches:
            raise FileNotFoundError(f"{source}: no file matches this pattern")
        yield from matches
    else:
        raise FileNotFoundError(f"{path}: no such file or directory")


def _load_one(
    item: Path | Mapping[str, Any] | list[Any], *, timezone: str, cache: bool | None
) -> tuple[pl.DataFrame, Problems]:
    """Read, canonicalize and deduplicate one source, through the cache where it applies."""
    if not isinstance(item, Path):
        raw = _readers.read_entries(item, source="<entries>")
        frame, problems = _canonicalize(raw, timezone=timezone, source="<entries>")
        _check_total(problems, _readers.envelope_total(item), raw.height, "<entries>")
        return deduplicate(frame), problems
    suffix = item.suffix.lower()
    readers: dict[str, Callable[[Path], Any]] = {
        ".json": _readers.read_json_report,
        ".jsonl": _readers.read_ndjson,
        ".ndjson": _readers.read_ndjson,
        ".csv": _readers.read_csv,
        ".parquet": _readers.read_parquet,
    }
    reader = readers.get(suffix)
    if reader is None:
        raise ReportFormatError(
            f"cannot read '{item.suffix}' files; expected one of "
            f"{', '.join(_readers.REPORT_SUFFIXES)}",
            path=str(item),
        )
    use_cache = suffix != ".parquet" and (
        cache or (cache is None and item.stat().st_size >= _cache.AUTO_MIN_BYTES)
    )
    key = _cache.key(item, timezone) if use_cache else None
    if key is not None:
        hit = _cache.get(key)
        if hit is not None:
            frame, meta = hit
            return frame, Problems.from_json(meta)
    read = reader(item)
    raw, total = read if isinstance(read, tuple) else (read, None)
    frame, problems = _canonicalize(raw, timezone=timezone, source=item.name)
    _check_total(problems, total, raw.height, item.name)
    frame = deduplicate(frame)
    if key is not None:
        _cache.put(key, frame, problems.to_json())
    return frame, problems


def _check_total(problems: Problems, total: int | None, entries: int, source: str) -> None:
    """An envelope whose ``total`` is not its number of entries: a data quality problem."""
    if total is not None and total != entries:
        problems.add("total", 1, [f"{source} says total {total} but holds {entries} entries"])


# --------------------------------------------------------------------------------------------
# Canonical form


def canonicalize(
    raw: pl.DataFrame, *, timezone: str = "UTC", strict: bool = False, source: str = "<data>"
) -> pl.DataFrame:
    """Turn a raw frame (the report's own field names and values) into the canonical frame.

    Bad cells are nulled and reported as in :func:`load`; rows are not deduplicated.
    """
    check_timezone(timezone)
    frame, problems = _canonicalize(raw, timezone=timezone, source=source)
    problems.report(timezone, strict=strict)
    return frame


def deduplicate(frame: pl.DataFrame | pl.LazyFrame) -> Any:
    """Keep the last row of each ``interaction_id`` (rows without one are all kept)."""
    if isinstance(frame, pl.DataFrame):
        ids = frame.get_column("interaction_id")
        if ids.null_count():
            ids = ids.drop_nulls()
        # Distinct 64-bit hashes prove distinct ids (five times faster than comparing strings);
        # only when some hashes repeat are the ids themselves compared.
        if ids.hash().n_unique() == ids.len():
            return frame  # nothing repeats: no copy
    keep = pl.col("interaction_id").is_null() | pl.col("interaction_id").is_last_distinct()
    return frame.filter(keep)


def _is_canonical(schema: Mapping[str, pl.DataType]) -> bool:
    expected = canonical_schema("UTC")
    for column in CANONICAL_COLUMNS:
        dtype = schema.get(column)
        if dtype is None:
            return False
        if column in DATETIME_COLUMNS:
            if (
                not isinstance(dtype, pl.Datetime)
                or dtype.time_zone is None
                or dtype.time_unit != "us"
            ):
                return False
        elif dtype != expected[column]:
            return False
    return list(schema)[: len(CANONICAL_COLUMNS)] == list(CANONICAL_COLUMNS)


def _canonicalize(
    raw: pl.DataFrame, *, timezone: str, source: str
) -> tuple[pl.DataFrame, Problems]:
    names = [normalize_name(c) for c in raw.columns]
    if len(set(names)) != len(names):
        clash = sorted({n for n in names if names.count(n) > 1})
        raise ReportFormatError(
            f"fields {', '.join(repr(c) for c in raw.columns if normalize_name(c) in clash)} "
            f"all become column {clash[0]!r}",
            path=source,
        )
    raw = raw.rename(dict(zip(raw.columns, names, strict=True)))
    problems = Problems()
    if raw.height and "interaction_id" in raw.columns:
        missing = raw.get_column("interaction_id")
        missing = missing.is_null() | (missing.cast(pl.String) == "")
        count = int(missing.sum())
        if count:
            rows = missing.arg_true().head(_EXAMPLES)
            problems.add("interaction_id", count, (f"row {r + 1} of {source}" for r in rows))

    schema = canonical_schema(timezone)
    exprs: list[pl.Expr] = []
    checked: list[str] = []  # columns whose values can turn out bad
    for column in CANONICAL_COLUMNS:
        if column not in raw.columns:
            exprs.append(pl.repeat(None, raw.height, dtype=schema[column]).alias(column))
        elif column in SECONDS_COLUMNS:
            plain = _plain_seconds(raw.get_column(column))
            if plain is not None:
                exprs.append(pl.lit(plain).alias(column))
            else:
                exprs.append(_seconds(column, raw.schema[column]).alias(column))
                checked.append(column)
        elif column in DATETIME_COLUMNS:
            exprs.append(_datetime(column, raw.schema[column], timezone).alias(column))
            checked.append(column)
        else:
            exprs.append(_text(pl.col(column), raw.schema[column]).alias(column))
    # Extra fields by position: a field may be named "" (which pl.col cannot select).
    exprs.extend(
        _text(pl.nth(index), dtype).alias(name)
        for index, (name, dtype) in enumerate(raw.schema.items())
        if name not in CANONICAL_COLUMNS
    )
    # A cell is bad when the source had a value and the canonical column has none.
    frame = raw.select(exprs)
    for column in checked:
        original = raw.get_column(column)
        bad = original.is_not_null() & frame.get_column(column).is_null()
        if original.dtype == pl.String:
            bad = bad & (original.str.len_bytes() > 0)
            if bad.any() and column in DATETIME_COLUMNS:
                # Other ISO 8601 spellings (T separator, fractions, offsets) only when needed.
                value = frame.get_column(column).fill_null(
                    _datetime_other_formats(original, timezone)
                )
                frame = frame.with_columns(value.alias(column))
                bad = bad & value.is_null()
            if bad.any():  # blank text is no value, not a bad cell
                bad = bad & (original.str.strip_chars() != "")
        count = int(bad.sum())
        if count:
            ids = frame.filter(bad).get_column("interaction_id").head(_EXAMPLES)
            problems.add(column, count, (f"interaction_id {i} in {source}" for i in ids))
    return frame, problems


def _text(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    if dtype == pl.String:
        return pl.when(expr.str.len_bytes() > 0).then(expr)
    if isinstance(dtype, pl.Struct):
        return expr.struct.json_encode()
    if isinstance(dtype, (pl.List, pl.Array)):
        return expr.map_elements(lambda v: str(list(v)), return_dtype=pl.String)
    return expr.cast(pl.String, strict=False)


def _seconds(column: str, dtype: pl.DataType) -> pl.Expr:
    """Whole, non-negative seconds as Int64; anything else is null (a bad cell).

    Text is read exactly: plain integers as integers (never through a float), other numbers
    (``12.0``, ``1e3``) when their value is whole and fits in Int64.
    """
    expr = pl.col(column)
    if dtype.is_integer():
        return pl.when(expr >= 0).then(expr.cast(pl.Int64, strict=False))
    if dtype == pl.String:
        text = expr.str.strip_chars()
        exact = text.cast(pl.Int64, strict=False)
        number = text.cast(pl.Float64, strict=False)
    elif dtype.is_float():
        exact = pl.lit(None, dtype=pl.Int64)
        number = expr.cast(pl.Float64)
    else:  # null, booleans, nested values: never a number of seconds
        return pl.lit(None, dtype=pl.Int64)
    whole = number.is_finite() & (number >= 0) & (number == number.floor()) & (number < 2.0**63)
    return (
        pl.when(exact.is_not_null())
        .then(pl.when(exact >= 0).then(exact))
        .when(whole)
        .then(number.cast(pl.Int64, strict=False))
    )


def _plain_seconds(text: pl.Series) -> pl.Series | None:
    """The column as Int64 if every value is a plain non-negative integer, else None.

    The common case, read with one cast instead of :func:`_seconds`'s exact-or-whole rules
    (which give the same numbers for such a column).
    """
    if text.dtype != pl.String:
        return None
    exact = text.cast(pl.Int64, strict=False)
    if exact.null_count() != text.null_count():
        return None  # some value is not a plain integer
    smallest = exact.min()
    if smallest is not None and smallest < 0:  # type: ignore[operator]
        return None
    return exact


def _datetime(column: str, dtype: pl.DataType, timezone: str) -> pl.Expr:
    expr = pl.col(column)
    if isinstance(dtype, pl.Datetime):
        value = expr.dt.cast_time_unit("us")
        if dtype.time_zone is None:
            return value.dt.replace_time_zone(timezone, ambiguous="earliest", non_existent="null")
        return value.dt.convert_time_zone(timezone)
    if isinstance(dtype, pl.Date):
        naive = expr.cast(pl.Datetime("us"))
    elif dtype == pl.String:
        # No cache: a report's timestamps are nearly all distinct, so a cache of parsed values
        # only costs (it made the parse 1.6x slower).
        naive = expr.str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S", strict=False, cache=False)
    else:
        return pl.lit(None, dtype=pl.Datetime("us", timezone))
    return naive.dt.replace_time_zone(timezone, ambiguous="earliest", non_existent="null")


def _datetime_other_formats(text: pl.Series, timezone: str) -> pl.Series:
    """Parse ISO 8601 spellings other than the report's own, with or without an offset."""
    frame = text.str.strip_chars().to_frame("t")
    naive = pl.coalesce(
        pl.col("t").str.strptime(pl.Datetime("us"), f, strict=False) for f in _NAIVE_FORMATS
    )
    zoned = pl.col("t").str.replace(r"[Zz]$", "+00:00")
    aware = pl.coalesce(
        zoned.str.to_datetime(f, time_unit="us", strict=False) for f in _AWARE_FORMATS
    )
    return frame.select(
        pl.coalesce(
            naive.dt.replace_time_zone(timezone, ambiguous="earliest", non_existent="null"),
            aware.dt.convert_time_zone(timezone),
        )
    ).to_series()
