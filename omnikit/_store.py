"""The local store: the fetched report as one Parquet file per day, and :func:`fetch` to fill it.

Layout of a store directory (``data/omnikit-store`` by default)::

    2024-09-02.parquet    the canonical rows whose start_date_time is on that day
    2024-09-03.parquet    (in the store's timezone; a row without a start goes by its end,
    ...                   and one without either by the first day of the job that brought it)
    _manifest.json        the store's timezone and the spans fetched completely, with times
    _lock                 held while a fetch writes
    .omnikit-*.json       a download being parsed (and ``.*.tmp``: a file being written)

Every file is written to a temporary name starting with ``.`` and renamed into place, so a
store is readable at every moment, even after a fetch is killed. ``ok.load(store_dir)`` and
``ok.scan(store_dir)`` read it (files starting with ``_`` or ``.`` are not data). An
interaction is in one file only: a later fetch merges its rows into the day files (the last
state wins) and takes them out of any other file where an earlier state had put them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import tempfile
import zoneinfo
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import polars as pl

from ._errors import ParameterError
from ._io import deduplicate

__all__: list[str] = []  # ok.fetch, which fills a store, is in _fetch

#: The default store directory, relative to the working directory.
DEFAULT_STORE = "data/omnikit-store"

MANIFEST = "_manifest.json"
LOCK = "_lock"
_FORMAT = "omnikit-store"
_VERSION = 1

Span = tuple[dt.datetime, dt.datetime]

#: zstd at level 1: as small as the default level here, and about twice as fast to write.
_PARQUET: dict[str, Any] = {"compression": "zstd", "compression_level": 1}


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _parse_iso(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(dt.UTC)


def _atomic_write(path: Path, write: Callable[[str], None]) -> None:
    """Write ``path`` through a ``.``-prefixed temporary file and rename it into place.

    ``write`` gets the temporary file's name, so polars writes it natively (without the GIL).
    """
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        write(temp)
        handle = os.open(temp, os.O_RDONLY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def merge_spans(spans: list[Span]) -> list[Span]:
    """Return the union of ``spans`` as sorted, disjoint spans (touching spans are joined)."""
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def subtract_spans(start: dt.datetime, end: dt.datetime, done: list[Span]) -> list[Span]:
    """Return the parts of ``[start, end)`` not covered by ``done``."""
    missing: list[Span] = []
    cursor = start
    for a, b in merge_spans(done):
        if b <= cursor or a >= end:
            continue
        if a > cursor:
            missing.append((cursor, min(a, end)))
        cursor = max(cursor, b)
        if cursor >= end:
            break
    if cursor < end:
        missing.append((cursor, end))
    return missing


class Store:
    """A store directory: day files of canonical rows plus a manifest of complete spans.

    Use it as a context manager to hold its lock while writing; reading needs no lock.

    Parameters
    ----------
    path
        The directory (created when first written).
    timezone
        The timezone of the store's days and date-times. A store keeps one timezone: opening
        an existing store with another raises :class:`~omnikit.ParameterError`.

    Examples
    --------
    >>> with Store("data/omnikit-store", timezone="Europe/Lisbon") as store:  # doctest: +SKIP
    ...     store.missing(start, end)
    """

    def __init__(
        self, path: str | os.PathLike[str] = DEFAULT_STORE, *, timezone: str | None = None
    ) -> None:
        self.path = Path(path)
        manifest = self._read_manifest()
        stored = manifest.get("timezone")
        if timezone is not None and stored is not None and stored != timezone:
            raise ParameterError(
                f"the store {self.path} holds times in {stored}, not {timezone}; fetch with "
                f"--timezone {stored} or use another --store"
            )
        self.timezone: str = timezone or stored or "UTC"
        try:
            self._zone = zoneinfo.ZoneInfo(self.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ParameterError(f"timezone {self.timezone!r} is not an IANA timezone") from None
        self._manifest = manifest
        self._lock_file: IO[str] | None = None

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r}, timezone={self.timezone!r})"

    # -- lock -----------------------------------------------------------------------------

    def __enter__(self) -> Store:
        self.path.mkdir(parents=True, exist_ok=True)
        if self.path.exists() and not self.path.is_dir():
            raise ParameterError(f"the store {self.path} is not a directory")
        lock = open(self.path / LOCK, "a+")
        try:
            import fcntl
        except ImportError:  # pragma: no cover -- Windows: no advisory lock
            pass
        else:
            try:
                fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                lock.close()
                raise ParameterError(
                    f"another fetch is writing to the store {self.path}; wait for it or use "
                    "another --store"
                ) from None
        self._lock_file = lock
        # Temporary files and downloads left by a killed fetch: nobody else writes while we
        # hold the lock.
        for stale in [*self.path.glob(".*.tmp"), *self.path.glob(".omnikit-*")]:
            with contextlib.suppress(OSError):
                stale.unlink()
        self._manifest = self._read_manifest()
        if "timezone" not in self._manifest:
            # Claim the timezone before any day file exists, so a killed first fetch cannot
            # leave files in one timezone for a later fetch in another.
            self._manifest.update(format=_FORMAT, version=_VERSION, timezone=self.timezone)
            self._manifest.setdefault("complete", [])
            self._write_manifest()
        elif self._manifest["timezone"] != self.timezone:
            self.__exit__()
            raise ParameterError(
                f"the store {self.path} holds times in {self._manifest['timezone']}, not "
                f"{self.timezone}; fetch with --timezone {self._manifest['timezone']} or use "
                "another --store"
            )
        return self

    def __exit__(self, *exc: object) -> None:
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    # -- manifest -------------------------------------------------------------------------

    def _read_manifest(self) -> dict[str, Any]:
        path = self.path / MANIFEST
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        try:
            manifest = json.loads(text)
            if manifest.get("format") != _FORMAT:
                raise ValueError("not an omnikit store manifest")
            for span in manifest.get("complete", []):
                _parse_iso(span["from"]), _parse_iso(span["to"])
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            raise ParameterError(
                f"{path} is not an omnikit store manifest ({error}); move it away to start afresh"
            ) from None
        return manifest

    def _write_manifest(self) -> None:
        data = json.dumps(self._manifest, indent=2).encode() + b"\n"
        _atomic_write(self.path / MANIFEST, lambda temp: Path(temp).write_bytes(data))

    def complete(self) -> list[Span]:
        """The spans fetched completely so far, merged (UTC instants)."""
        return merge_spans(
            [
                (_parse_iso(s["from"]), _parse_iso(s["to"]))
                for s in self._manifest.get("complete", [])
            ]
        )

    def missing(self, start: dt.datetime, end: dt.datetime) -> list[Span]:
        """The parts of ``[start, end)`` the store does not have yet."""
        return subtract_spans(start.astimezone(dt.UTC), end.astimezone(dt.UTC), self.complete())

    def mark_complete(
        self, start: dt.datetime, end: dt.datetime, *, fetched_at: dt.datetime, job_id: str = ""
    ) -> None:
        """Record ``[start, end)`` as complete in the manifest (atomically)."""
        self._require_lock()
        manifest = self._manifest
        manifest.setdefault("format", _FORMAT)
        manifest.setdefault("version", _VERSION)
        manifest["timezone"] = self.timezone
        entry = {"from": _iso(start), "to": _iso(end), "fetched_at": _iso(fetched_at)}
        if job_id:
            entry["job_id"] = job_id
        manifest.setdefault("complete", []).append(entry)
        manifest["complete"].sort(key=lambda s: (s["from"], s["to"]))
        self._write_manifest()

    # -- data -----------------------------------------------------------------------------

    def day_files(self) -> list[Path]:
        """The day files, sorted by name (the order :func:`omnikit.load` reads them in)."""
        if not self.path.is_dir():
            return []
        return sorted(p for p in self.path.glob("*.parquet") if not p.name.startswith(("_", ".")))

    def _require_lock(self) -> None:
        if self._lock_file is None:
            raise RuntimeError("write to a Store inside `with store:`")

    def _days(self, frame: pl.DataFrame, fallback: dt.date) -> pl.Series:
        """The day file each row belongs to: start date, else end date, else ``fallback``."""
        tz = self.timezone
        return frame.select(
            pl.coalesce(
                pl.col("start_date_time").dt.convert_time_zone(tz).dt.date(),
                pl.col("end_date_time").dt.convert_time_zone(tz).dt.date(),
                pl.lit(fallback),
            ).alias("day")
        ).to_series()

    def write(
        self,
        frame: pl.DataFrame,
        *,
        span_start: dt.datetime,
        span_end: dt.datetime | None = None,
    ) -> list[Path]:
        """Merge ``frame`` (canonical, in the store's timezone) into the day files.

        Rows go to the file of their day; an interaction already in that file is replaced
        (the last state wins), and one in another day file is taken out of it. Rows without
        an ``interaction_id`` cannot be matched, so all of them are kept (as by
        :func:`omnikit.load`); when ``frame`` is a job's whole answer for
        ``[span_start, span_end)``, the id-less rows stored earlier for that span are replaced
        by its own. Returns the day files written.
        """
        from ._schema import canonical_schema

        self._require_lock()
        expected = canonical_schema(self.timezone)["start_date_time"]
        if frame.schema.get("start_date_time") != expected:
            raise ParameterError(
                f"rows for the store {self.path} must have start_date_time as {expected}, "
                f"not {frame.schema.get('start_date_time')}"
            )
        if frame.is_empty():
            return []
        ids_column = frame.get_column("interaction_id")
        if ids_column.null_count() or ids_column.n_unique() != frame.height:
            frame = deduplicate(frame)
        fallback = span_start.astimezone(self._zone).date()
        days = self._days(frame, fallback)
        tagged = frame.with_columns(days.alias("__day"))
        written: list[Path] = []
        names: set[str] = set()
        ids = tagged.select("interaction_id", "__day").filter(
            pl.col("interaction_id").is_not_null()
        )
        for (day,), part in tagged.partition_by("__day", as_dict=True, maintain_order=True).items():
            part = part.drop("__day")
            path = self.path / f"{day.isoformat()}.parquet"
            names.add(path.name)
            if path.exists():
                # An interaction this batch puts on another day leaves this file.
                elsewhere = (
                    ids.filter(pl.col("__day") != day).get_column("interaction_id").implode()
                )
                old = pl.read_parquet(path).filter(
                    ~pl.col("interaction_id").is_in(elsewhere).fill_null(False)
                )
                if span_end is not None:
                    old = old.filter(~self._idless_in(span_start, span_end, day))
                part = deduplicate(pl.concat([old, part], how="diagonal_relaxed"))
            part = part.sort("start_date_time", nulls_last=True, maintain_order=True)
            _atomic_write(path, lambda temp, part=part: part.write_parquet(temp, **_PARQUET))
            written.append(path)
        self._evict(frame.get_column("interaction_id").drop_nulls().unique(), keep=names)
        return written

    def _idless_in(self, start: dt.datetime, end: dt.datetime, day: dt.date) -> pl.Expr:
        """Rows without an id that a job for ``[start, end)`` brings again (in day file ``day``)."""
        moment = pl.coalesce("start_date_time", "end_date_time")
        s = pl.lit(start).dt.convert_time_zone(self.timezone)
        e = pl.lit(end).dt.convert_time_zone(self.timezone)
        fallback = start.astimezone(self._zone).date()
        inside = (moment >= s) & (moment < e)
        if day == fallback:
            inside = inside | moment.is_null()
        return pl.col("interaction_id").is_null() & inside.fill_null(False)

    def _evict(self, ids: pl.Series, *, keep: set[str]) -> None:
        """Take the interactions ``ids`` out of every day file not named in ``keep``."""
        others = [p for p in self.day_files() if p.name not in keep]
        if ids.is_empty() or not others:
            return
        # One parallel scan of the id column of every other file finds the few files to rewrite.
        wanted = ids.implode()
        hits = (
            pl.scan_parquet(
                others,
                include_file_paths="__file",
                missing_columns="insert",
                extra_columns="ignore",
            )
            .select("interaction_id", "__file")
            .filter(pl.col("interaction_id").is_in(wanted))
            .select(pl.col("__file").unique())
            .collect()
            .get_column("__file")
            .to_list()
        )
        for name in hits:
            path = Path(name)
            rest = pl.read_parquet(path).filter(
                ~pl.col("interaction_id").is_in(wanted).fill_null(False)
            )
            if rest.is_empty():
                path.unlink()
            else:
                _atomic_write(path, lambda temp, rest=rest: rest.write_parquet(temp, **_PARQUET))

    def read(
        self, start: dt.datetime | None = None, end: dt.datetime | None = None
    ) -> pl.DataFrame:
        """Read the store (every day file), or the rows of ``[start, end)``.

        Rows without a start time are kept when their end time, or their day file, is in the range.
        """
        return self.scan(start, end).collect()

    def scan(
        self, start: dt.datetime | None = None, end: dt.datetime | None = None
    ) -> pl.LazyFrame:
        """Lazily read the store; see :meth:`read`."""
        from ._schema import canonical_schema

        files = self.day_files()
        if not files:
            return pl.LazyFrame(schema=canonical_schema(self.timezone))
        if start is not None and end is not None:
            first = start.astimezone(self._zone).date()
            last = (end - dt.timedelta(microseconds=1)).astimezone(self._zone).date()
            files = [p for p in files if _file_day(p) is None or first <= _file_day(p) <= last]  # type: ignore[operator]
            if not files:
                return pl.LazyFrame(schema=canonical_schema(self.timezone))
        frames = [pl.scan_parquet(p) for p in files]
        lazy = pl.concat(frames, how="diagonal_relaxed")
        if start is not None and end is not None:
            s = pl.lit(start).dt.convert_time_zone(self.timezone)
            e = pl.lit(end).dt.convert_time_zone(self.timezone)
            moment = pl.coalesce("start_date_time", "end_date_time")
            lazy = lazy.filter(((moment >= s) & (moment < e)) | moment.is_null())
        return lazy


def _file_day(path: Path) -> dt.date | None:
    try:
        return dt.date.fromisoformat(path.stem)
    except ValueError:
        return None
