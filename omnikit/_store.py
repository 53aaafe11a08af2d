"""The local store: the fetched report as a hive-partitioned Parquet table, one file per day.

Layout of a store directory (``data/omnikit-store`` by default)::

    date=2024-09-02/part-0.parquet   the canonical rows whose start_date_time is on that day
    date=2024-09-03/part-0.parquet   (in the store's timezone; a row without a start goes by
    ...                              its end, one without either by the first day of its job)
    _manifest.json        the store's timezone, the spans fetched completely (with times) and
                          each day file's rows and bytes
    _journal.json         while a write is being put in place: its steps (see below)
    _lock                 held while a fetch writes
    _damaged.*.bad        a day file found unreadable, set aside (its days are fetched again)
    .omnikit-*.json       a download being parsed (and ``.*.tmp``: a file being written)

A store of several Talkdesk accounts holds one such store per account, in ``account=NAME/``
directories (each with its own manifest, journal and lock). Spark
(``spark.read.parquet(root)``), DuckDB (``read_parquet('root/**/*.parquet',
hive_partitioning=true)``) and polars (``pl.scan_parquet('root/**/*.parquet',
hive_partitioning=True)``) read the directory as it is, with a ``date`` column (and ``account``)
from the partition names. ``ok.load(store_dir)`` and ``ok.scan(store_dir)`` (:func:`scan_store`)
return the canonical columns only, plus ``account`` in a store of several accounts.

Stores written before the hive layout (``2024-09-02.parquet`` files at the root) are migrated
by the first ``with Store(...)`` (every fetch opens one): each day file is linked to its
partition, the manifest rewritten, and the old names removed, through the journal, so a
migration killed half-way is finished by the next run and a reader meanwhile sees every row
once. Until then they read as they are.

An interaction is in one file only: a later fetch merges its rows into the day files (the last
state wins) and takes them out of any other file where an earlier state had put them.

Crash safety. Every file is written under a temporary name starting with ``.``, flushed to
disk and renamed into place (:mod:`omnikit._files`). A write that touches several files stages
them all first, then records the renames in ``_journal.json`` and performs them in an order
that never shows an older state: first the files an interaction leaves, then the files it
arrives in. An interaction moving to another day may be missing for an instant, but is never
read in its older state beside or instead of the newer one. A write killed half-way is
finished by the next fetch (which replays the journal) before it does anything else.

At the start of every fetch the day files are checked against the manifest: a file that is
missing, unreadable or not the size the manifest says is set aside, its days are taken out of
the complete spans (so they are fetched again) and the fetch says so.

Every file-system failure (a full disk, a manifest that is not UTF-8, a garbage day file) is a
:class:`~omnikit.StoreError` naming the path; the store is left readable.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import re
import shutil
import zoneinfo
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import IO, Any, NoReturn

import polars as pl

from ._errors import ParameterError, StoreError
from ._files import AtomicFile, atomic_write, staged_write, temp_path
from ._io import deduplicate

__all__: list[str] = []  # ok.fetch, which fills a store, is in _fetch

logger = logging.getLogger("omnikit.store")

#: The default store directory, relative to the working directory.
DEFAULT_STORE = "data/omnikit-store"

MANIFEST = "_manifest.json"
JOURNAL = "_journal.json"
LOCK = "_lock"
_FORMAT = "omnikit-store"
_VERSION = 2  # 1: flat day files at the root; 2: hive partitions (date=YYYY-MM-DD/)
#: The partition directory of a day, and of an account in a store of several accounts.
_DATE_KEY = "date"
ACCOUNT_KEY = "account"
_PART = "part-0.parquet"
_FLAT = re.compile(r"^\d{4}-\d{2}-\d{2}\.parquet$")
_ACCOUNT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
#: Store files are private to the user: they hold customer data.
_MODE = 0o600

Span = tuple[dt.datetime, dt.datetime]

#: zstd at level 1: as small as the default level here, and about twice as fast to write.
_PARQUET: dict[str, Any] = {"compression": "zstd", "compression_level": 1}


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _parse_iso(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(dt.UTC)


def day_file_name(day: dt.date) -> str:
    """The day file of ``day``, relative to the store (the one place a day maps to a file).

    >>> day_file_name(dt.date(2024, 9, 2))
    'date=2024-09-02/part-0.parquet'
    """
    return f"{_DATE_KEY}={day.isoformat()}/{_PART}"


def file_day(name: str | os.PathLike[str]) -> dt.date | None:
    """The day a day file holds (the reverse of :func:`day_file_name`), or None.

    Also reads the flat names of stores from before the hive layout (``2024-09-02.parquet``).

    >>> file_day("date=2024-09-02/part-0.parquet"), file_day("2024-09-02.parquet")
    (datetime.date(2024, 9, 2), datetime.date(2024, 9, 2))
    """
    path = PurePosixPath(Path(name).as_posix())
    key, _, value = path.parent.name.partition("=")
    text = value if key == _DATE_KEY and path.name == _PART else path.name
    if key != _DATE_KEY and not _FLAT.match(text):
        return None
    try:
        return dt.date.fromisoformat(text.removesuffix(".parquet"))
    except ValueError:
        return None


def account_dir(root: str | os.PathLike[str], account: str) -> Path:
    """The partition directory of ``account`` in a store of several accounts.

    >>> account_dir("store", "acme").as_posix()
    'store/account=acme'
    """
    if not _ACCOUNT_NAME.match(account):
        raise ParameterError(
            f"{account!r} is not a Talkdesk account name (letters, digits, '-', '_' and '.')"
        )
    return Path(root) / f"{ACCOUNT_KEY}={account}"


def store_accounts(root: str | os.PathLike[str]) -> list[str]:
    """The accounts of a store of several accounts (empty for a store of one)."""
    root = Path(root)
    if not root.is_dir():
        return []
    return sorted(
        p.name.partition("=")[2]
        for p in root.glob(f"{ACCOUNT_KEY}=*")
        if p.is_dir() and p.name.partition("=")[2]
    )


def list_day_files(root: Path) -> list[Path]:
    """The day files of the store at ``root``, one per day, sorted by day.

    Lists the flat files of a store not migrated yet first, then the partitions, and keeps
    the partition's file where a day has both (a migration under way), so a reader at any
    moment of a migration sees each day once.
    """
    if not root.is_dir():
        return []
    found: dict[dt.date, Path] = {}
    for path in root.glob("*.parquet"):
        day = file_day(path.name)
        if day is not None:
            found[day] = path
    for path in root.glob(f"{_DATE_KEY}=*/{_PART}"):
        day = file_day(path)
        if day is not None:
            found[day] = path
    return [found[day] for day in sorted(found)]


def _why(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error).splitlines()[0][:200] if str(error) else type(error).__name__


@contextlib.contextmanager
def _failures(what: str, path: Path, then: str = "") -> Iterator[None]:
    """Turn a file-system or Parquet failure on ``path`` into a :class:`StoreError`."""
    try:
        yield
    except (OSError, pl.exceptions.PolarsError) as error:
        problem = f"cannot {what} {path}: {_why(error)}" + (f"; {then}" if then else "")
        raise StoreError(problem, path=path) from None


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
        if self.path.exists() and not self.path.is_dir():
            raise StoreError(f"the store {self.path} is not a directory", path=self.path)
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

    def day_path(self, day: dt.date) -> Path:
        """The file holding the rows of ``day`` (in the store's timezone)."""
        return self.path / day_file_name(day)

    # -- lock -----------------------------------------------------------------------------

    def __enter__(self) -> Store:
        with _failures("create the store directory", self.path):
            self.path.mkdir(parents=True, exist_ok=True)
        with _failures("lock the store", self.path / LOCK):
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
        try:
            if store_accounts(self.path):
                raise ParameterError(
                    f"the store {self.path} holds several Talkdesk accounts (account=NAME/ "
                    "partitions): fetch into it with --account NAME, or use another --store"
                )
            self._recover()
            self._manifest = self._read_manifest()
            self._migrate()
            if "timezone" not in self._manifest:
                # Claim the timezone before any day file exists, so a killed first fetch
                # cannot leave files in one timezone for a later fetch in another.
                self._manifest.update(format=_FORMAT, version=_VERSION, timezone=self.timezone)
                self._manifest.setdefault("complete", [])
                self._write_manifest()
            elif self._manifest["timezone"] != self.timezone:
                raise ParameterError(
                    f"the store {self.path} holds times in {self._manifest['timezone']}, not "
                    f"{self.timezone}; fetch with --timezone {self._manifest['timezone']} or "
                    "use another --store"
                )
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    def _recover(self) -> None:
        """Finish a write a killed fetch left half-done, then drop its leftover temporaries."""
        journal = self.path / JOURNAL
        if journal.exists():
            with _failures("read the store's journal", journal, "move it away to go on"):
                steps = json.loads(journal.read_text(encoding="utf-8"))
            logger.warning("finishing a write to %s that was interrupted", self.path)
            steps = steps["steps"]
            # Steps run in order, so every step before the last one done is done: resume
            # after it (a delete is not repeated over a file a later step put in place).
            done = [
                i
                for i, step in enumerate(steps)
                if "replace" in step and not (self.path / step["replace"]).exists()
            ]
            for step in steps[done[-1] + 1 if done else 0 :]:
                self._apply(step, replay=True)
            with _failures("remove the store's journal", journal):
                journal.unlink()
        # Nobody else writes while we hold the lock.
        for stale in [
            *self.path.glob(".*.tmp"),
            *self.path.glob(f"{_DATE_KEY}=*/.*.tmp"),
            *self.path.glob(".omnikit-*"),
        ]:
            with contextlib.suppress(OSError):
                stale.unlink()
        for directory in self.path.glob(f"{_DATE_KEY}=*"):
            with contextlib.suppress(OSError):
                directory.rmdir()  # only when empty

    def _migrate(self) -> None:
        """Move the flat day files of a store from before the hive layout into partitions.

        One journalled write: link (or copy) every flat file to its partition, rewrite the
        manifest with the new names, then remove the flat names. Readers list flat files
        first and prefer a day's partition (:func:`list_day_files`), so at every step each
        day is read once; a migration killed half-way is finished by :meth:`_recover`.
        """
        flat = sorted(p for p in self.path.glob("*.parquet") if _FLAT.match(p.name))
        if not flat:
            return
        logger.warning("moving the store %s to the hive layout (date=YYYY-MM-DD/)", self.path)
        files: dict[str, Any] = {}
        steps: list[dict[str, Any]] = []
        for name, info in self._manifest.get("files", {}).items():
            day = file_day(name)
            files[day_file_name(day) if day is not None else name] = info
        for path in flat:
            day = file_day(path.name)
            assert day is not None
            target = day_file_name(day)
            if (self.path / target).exists():  # both (copied in by hand): keep the newer layout
                steps.append({"aside": path.name})
            else:
                steps.append({"link": path.name, "path": target})
        self._manifest.update(format=_FORMAT, files=files, version=_VERSION)
        manifest = json.dumps(self._manifest, indent=2).encode() + b"\n"
        with _failures("write the store manifest", self.path / MANIFEST, "the store is unchanged"):
            temp = staged_write(self.path / MANIFEST, lambda p: p.write_bytes(manifest), mode=_MODE)
        steps.append({"replace": self._rel(temp.temp), "path": MANIFEST})
        steps.extend({"delete": path.name} for path in flat if {"aside": path.name} not in steps)
        journal = json.dumps({"steps": steps}).encode()
        try:
            with _failures(
                "write the store's journal", self.path / JOURNAL, "the store is unchanged"
            ):
                atomic_write(self.path / JOURNAL, lambda p: p.write_bytes(journal), mode=_MODE)
        except BaseException:
            temp.discard()
            raise
        for step in steps:
            self._apply(step)
        with _failures("remove the store's journal", self.path / JOURNAL):
            (self.path / JOURNAL).unlink()

    def _rel(self, path: Path) -> str:
        """``path`` relative to the store, as the manifest and journal name it."""
        return path.relative_to(self.path).as_posix()

    # -- manifest -------------------------------------------------------------------------

    def _read_manifest(self) -> dict[str, Any]:
        path = self.path / MANIFEST
        then = "move it away to start afresh (its day files stay readable with ok.load)"
        problem = None
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as error:
            problem = f"cannot read the store manifest {path}: {_why(error)}"
            data = b""
        if problem is None:
            try:
                manifest = json.loads(data.decode("utf-8"))
                if not isinstance(manifest, dict) or manifest.get("format") != _FORMAT:
                    raise ValueError("not an omnikit store manifest")
                for span in manifest.get("complete", []):
                    _parse_iso(span["from"]), _parse_iso(span["to"])
                for name, info in manifest.get("files", {}).items():
                    if file_day(name) is None or not isinstance(info["bytes"], int):
                        raise ValueError(f"bad file entry {name!r}")
            except UnicodeDecodeError:
                problem = f"the store manifest {path} is not UTF-8 text; {then}"
            except (ValueError, TypeError, KeyError, AttributeError) as error:
                problem = f"{path} is not an omnikit store manifest ({error}); {then}"
        if problem is not None:
            raise StoreError(problem, path=path)
        return manifest

    def _write_manifest(self) -> None:
        data = json.dumps(self._manifest, indent=2).encode() + b"\n"
        path = self.path / MANIFEST
        with _failures("write the store manifest", path, "the store is unchanged"):
            atomic_write(path, lambda temp: temp.write_bytes(data), mode=_MODE)

    def complete(self) -> list[Span]:
        """The spans fetched completely so far, merged (UTC instants)."""
        return merge_spans(
            [
                (_parse_iso(s["from"]), _parse_iso(s["to"]))
                for s in self._manifest.get("complete", [])
            ]
        )

    def fetched(self) -> list[tuple[dt.datetime, dt.datetime, dt.datetime]]:
        """The complete spans as recorded, each with when it was fetched: ``(from, to, at)``."""
        return sorted(
            (_parse_iso(s["from"]), _parse_iso(s["to"]), _parse_iso(s["fetched_at"]))
            for s in self._manifest.get("complete", [])
            if s.get("fetched_at")
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

    # -- checking -------------------------------------------------------------------------

    def check(self) -> list[str]:
        """Check the day files against the manifest; set aside and forget the damaged ones.

        A day file the manifest records that is missing, has another size or does not read
        as Parquet, and a day file the manifest does not record that does not read, is
        damaged: it is renamed ``_damaged.<name>.bad`` (out of ``ok.load``'s way), and its day is
        taken out of the complete spans, so the next fetch of that range fetches it again.
        Returns one line per damaged file (empty when all is well).
        """
        self._require_lock()
        recorded: dict[str, Any] = self._manifest.setdefault("files", {})
        present = {self._rel(p): p for p in self.day_files()}
        damaged: list[str] = []
        for name in sorted(set(recorded) | set(present)):
            path = self.path / name
            info = recorded.get(name)
            problem = None
            if name not in present:
                problem = "missing"
            else:
                try:
                    size = path.stat().st_size
                    rows = pl.scan_parquet(path).select(pl.len()).collect().item()
                except (OSError, pl.exceptions.PolarsError) as error:
                    problem = f"unreadable ({_why(error)})"
                else:
                    if info is not None and info.get("bytes") != size:
                        problem = f"changed outside omnikit ({size} bytes, not {info['bytes']})"
                    elif info is None:
                        recorded[name] = {"rows": rows, "bytes": size}  # a store from before
            if problem is None:
                continue
            damaged.append(f"{name} {problem}")
            if name in present:
                with _failures("set aside the damaged day file", path):
                    os.replace(path, self._aside_path(path))
                with contextlib.suppress(OSError):
                    path.parent.rmdir()
            recorded.pop(name, None)
            day = file_day(name)
            if day is not None:
                self._forget(day)
        if damaged or self._manifest.get("files") is not None:
            self._write_manifest()
        return damaged

    def _aside_path(self, path: Path) -> Path:
        """Where a damaged day file is set aside: ``_damaged.YYYY-MM-DD.parquet.bad``."""
        day = file_day(path)
        return self.path / f"_damaged.{day.isoformat() if day else path.stem}.parquet.bad"

    def _forget(self, day: dt.date) -> None:
        """Take ``day`` (midnight to midnight in the store's timezone) out of the complete spans."""
        begin = dt.datetime(day.year, day.month, day.day, tzinfo=self._zone)
        nxt = day + dt.timedelta(days=1)
        end = dt.datetime(nxt.year, nxt.month, nxt.day, tzinfo=self._zone)
        begin, end = begin.astimezone(dt.UTC), end.astimezone(dt.UTC)
        kept = []
        for entry in self._manifest.get("complete", []):
            a, b = _parse_iso(entry["from"]), _parse_iso(entry["to"])
            for lo, hi in ((a, min(b, begin)), (max(a, end), b)):
                if lo < hi:
                    kept.append({**entry, "from": _iso(lo), "to": _iso(hi)})
        self._manifest["complete"] = kept

    # -- data -----------------------------------------------------------------------------

    def day_files(self) -> list[Path]:
        """The day files, sorted by day (the order :func:`omnikit.load` reads them in)."""
        return list_day_files(self.path)

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

    def _read_day(self, path: Path) -> pl.DataFrame:
        with _failures("read the day file", path, "run the fetch again to check and repair"):
            return pl.read_parquet(path)

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
        by its own. The write is crash-safe (see the module docstring). Returns the day files
        written.
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
        frame = deduplicate(frame)
        fallback = span_start.astimezone(self._zone).date()
        tagged = frame.with_columns(self._days(frame, fallback).alias("__day"))
        parts = {
            day: part.drop("__day")
            for (day,), part in tagged.partition_by(
                "__day", as_dict=True, maintain_order=True
            ).items()
        }
        ids = tagged.select("interaction_id", "__day").filter(
            pl.col("interaction_id").is_not_null()
        )
        # Phase 1, the files the batch's interactions leave (each file without the ids that
        # now belong to another day); phase 2, the files of the batch's days, merged.
        leaving = self._leaving(ids)
        first: list[tuple[Path, pl.DataFrame | None]] = []
        second: list[tuple[Path, pl.DataFrame]] = []
        for path, moved in leaving.items():
            if file_day(path) in parts:
                continue  # merged below; its phase 1 is written there
            rest = self._read_day(path).filter(
                ~pl.col("interaction_id").is_in(moved).fill_null(False)
            )
            first.append((path, None if rest.is_empty() else rest))
        for day, part in parts.items():
            path = self.day_path(day)
            if path.exists():
                old = self._read_day(path)
                if path in leaving:
                    old = old.filter(
                        ~pl.col("interaction_id").is_in(leaving[path]).fill_null(False)
                    )
                    first.append((path, None if old.is_empty() else old))
                if span_end is not None:
                    old = old.filter(~self._idless_in(span_start, span_end, day))
                part = deduplicate(pl.concat([old, part], how="diagonal_relaxed"))
            second.append(
                (path, part.sort("start_date_time", nulls_last=True, maintain_order=True))
            )
        self._commit([*first, *second])
        return [path for path, _ in second]

    def _leaving(self, ids: pl.DataFrame) -> dict[Path, pl.Series]:
        """The day files holding interactions of ``ids`` that now belong to another day."""
        files = self.day_files()
        if ids.is_empty() or not files:
            return {}
        try:
            found = (
                pl.scan_parquet(
                    files,
                    include_file_paths="__file",
                    missing_columns="insert",
                    extra_columns="ignore",
                )
                .select("interaction_id", "__file")
                .filter(pl.col("interaction_id").is_in(ids.get_column("interaction_id").implode()))
                .collect()
            )
        except (OSError, pl.exceptions.PolarsError) as error:
            self._name_unreadable(files, error)
        if found.is_empty():
            return {}
        days = {str(p): file_day(p) for p in files}
        found = found.join(ids, on="interaction_id").with_columns(
            pl.col("__file").replace_strict(days, return_dtype=pl.Date).alias("__file_day")
        )
        moving = found.filter(pl.col("__file_day") != pl.col("__day"))
        return {
            Path(name): part.get_column("interaction_id").implode()
            for (name,), part in moving.partition_by("__file", as_dict=True).items()
        }

    def _commit(self, plan: list[tuple[Path, pl.DataFrame | None]]) -> None:
        """Stage every file, journal the renames, perform them in order, update the manifest."""
        staged: list[AtomicFile] = []
        steps: list[dict[str, Any]] = []
        files: dict[str, Any] = dict(self._manifest.get("files", {}))
        try:
            for path, content in plan:
                name = self._rel(path)
                if content is None:
                    steps.append({"delete": name})
                    files.pop(name, None)
                    continue
                with _failures("write the day file", path, "the store is unchanged"):
                    path.parent.mkdir(exist_ok=True)
                    temp = staged_write(path, _parquet_writer(content), mode=_MODE)
                staged.append(temp)
                steps.append({"replace": self._rel(temp.temp), "path": name})
                files[name] = {"rows": content.height, "bytes": temp.temp.stat().st_size}
            self._manifest["files"] = files
            manifest = json.dumps(self._manifest, indent=2).encode() + b"\n"
            with _failures(
                "write the store manifest", self.path / MANIFEST, "the store is unchanged"
            ):
                temp = staged_write(
                    self.path / MANIFEST, lambda p: p.write_bytes(manifest), mode=_MODE
                )
            staged.append(temp)
            steps.append({"replace": self._rel(temp.temp), "path": MANIFEST})
            journal = json.dumps({"steps": steps}).encode()
            with _failures(
                "write the store's journal", self.path / JOURNAL, "the store is unchanged"
            ):
                atomic_write(self.path / JOURNAL, lambda p: p.write_bytes(journal), mode=_MODE)
        except BaseException:
            for temp in staged:
                temp.discard()
            raise
        # From here on the journal finishes the write if this process does not.
        for step in steps:
            self._apply(step)
        with _failures("remove the store's journal", self.path / JOURNAL):
            (self.path / JOURNAL).unlink()

    def _apply(self, step: dict[str, Any], *, replay: bool = False) -> None:
        """Perform one journalled step: put a staged file in place, or remove a file."""
        if "delete" in step:
            path = self.path / step["delete"]
            with _failures("remove the day file", path, "run the fetch again to finish"):
                path.unlink(missing_ok=True)
            if path.parent != self.path:
                with contextlib.suppress(OSError):
                    path.parent.rmdir()  # an emptied partition
            return
        if "aside" in step:
            path = self.path / step["aside"]
            if path.exists():
                with _failures("set aside", path, "run the fetch again to finish"):
                    os.replace(path, self.path / f"_superseded.{path.name}.bad")
            return
        if "link" in step:  # migration: the flat file's bytes under its partition's name
            source, path = self.path / step["link"], self.path / step["path"]
            if path.exists() or not source.exists():
                return  # done before the interruption
            with _failures("move into its partition", source, "run the fetch again to finish"):
                path.parent.mkdir(exist_ok=True)
                temp = temp_path(path)
                try:
                    os.link(source, temp)
                except OSError:  # a file system without hard links: a copy, flushed
                    shutil.copyfile(source, temp)
                    with open(temp, "rb+") as copied:
                        os.fsync(copied.fileno())
                os.replace(temp, path)
            return
        temp, path = self.path / step["replace"], self.path / step["path"]
        if replay and not temp.exists():
            return  # done before the interruption
        with _failures("put in place", path, "run the fetch again to finish"):
            os.replace(temp, path)

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

    def read(
        self, start: dt.datetime | None = None, end: dt.datetime | None = None
    ) -> pl.DataFrame:
        """Read the store (every day file), or the rows of ``[start, end)``.

        Rows without a start time are kept when their end time, or their day file, is in the
        range. A day file that does not read is a :class:`~omnikit.StoreError` naming it.
        """
        try:
            return self.scan(start, end).collect()
        except (OSError, pl.exceptions.PolarsError) as error:
            self._name_unreadable(self.day_files(), error)

    def _name_unreadable(self, files: list[Path], error: BaseException) -> NoReturn:
        """Raise a :class:`StoreError` naming the day file that does not read."""
        for path in files:
            with _failures("read the day file", path, "run the fetch again to check and repair"):
                pl.scan_parquet(path).select(pl.len()).collect()
        raise StoreError(f"cannot read the store {self.path}: {_why(error)}", path=self.path)

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
            files = [p for p in files if _in_days(file_day(p.name), first, last)]
            if not files:
                return pl.LazyFrame(schema=canonical_schema(self.timezone))
        lazy = _scan_files(files)
        if start is not None and end is not None:
            s = pl.lit(start).dt.convert_time_zone(self.timezone)
            e = pl.lit(end).dt.convert_time_zone(self.timezone)
            moment = pl.coalesce("start_date_time", "end_date_time")
            lazy = lazy.filter(((moment >= s) & (moment < e)) | moment.is_null())
        return lazy


def scan_store(root: str | os.PathLike[str], *, timezone: str) -> pl.LazyFrame:
    """Lazily read a store directory as :func:`omnikit.scan` does: canonical columns only.

    The ``date`` partition key is not a column (it is the day of ``start_date_time``). A store
    of several accounts gets an ``account`` column (String, last), and its rows are every
    account's: an ``interaction_id`` is unique within an account, so nothing is de-duplicated
    across accounts. Date-times are converted to ``timezone``. A store from before the hive
    layout is migrated first when it can be (nobody is writing to it and it is writable), and
    read as it is otherwise. Reading needs neither the lock nor a readable manifest.

    Examples
    --------
    >>> scan_store("data/omnikit-store", timezone="Europe/Lisbon")  # doctest: +SKIP
    """
    from ._schema import DATETIME_COLUMNS, canonical_schema

    root = Path(root)
    accounts = store_accounts(root)
    parts: list[tuple[str | None, Path]] = (
        [(name, account_dir(root, name)) for name in accounts] if accounts else [(None, root)]
    )
    frames = []
    for account, directory in parts:
        _migrate_if_idle(directory)
        files = list_day_files(directory)
        if not files:
            continue
        frame = _scan_files(files)
        frame = frame.with_columns(pl.col(DATETIME_COLUMNS).dt.convert_time_zone(timezone))
        if account is not None:
            frame = frame.with_columns(pl.lit(account, dtype=pl.String).alias(ACCOUNT_KEY))
        frames.append(frame)
    if not frames:
        empty = pl.LazyFrame(schema=canonical_schema(timezone))
        if accounts:
            empty = empty.with_columns(pl.lit(None, dtype=pl.String).alias(ACCOUNT_KEY))
        return empty
    return frames[0] if len(frames) == 1 else pl.concat(frames, how="diagonal_relaxed")


def _scan_files(files: list[Path]) -> pl.LazyFrame:
    """One scan per distinct schema (usually one): a plan of hundreds of scans of one file each
    is three times slower to run than one scan of them all."""
    groups: dict[tuple[tuple[str, str], ...], list[Path]] = {}
    for path in files:
        with _failures("read the day file", path, "run the fetch again to check and repair"):
            schema = pl.read_parquet_schema(path)
        groups.setdefault(tuple((k, str(v)) for k, v in schema.items()), []).append(path)
    scans = [pl.scan_parquet(paths) for paths in groups.values()]
    return scans[0] if len(scans) == 1 else pl.concat(scans, how="diagonal_relaxed")


def load_store(root: str | os.PathLike[str], *, timezone: str) -> pl.DataFrame:
    """Read a store directory (see :func:`scan_store`); a day file that does not read is a
    :class:`~omnikit.StoreError` naming it."""
    try:
        return scan_store(root, timezone=timezone).collect()
    except (OSError, pl.exceptions.PolarsError) as error:
        root = Path(root)
        directories = [account_dir(root, a) for a in store_accounts(root)] or [root]
        for directory in directories:
            for path in list_day_files(directory):
                with _failures(
                    "read the day file", path, "run the fetch again to check and repair"
                ):
                    pl.scan_parquet(path).select(pl.len()).collect()
        raise StoreError(f"cannot read the store {root}: {_why(error)}", path=root) from None


def is_store(path: Path) -> bool:
    """Whether the directory ``path`` is an omnikit store (partitions, or its manifest)."""
    if any(
        p.is_dir() for pattern in (f"{_DATE_KEY}=*", f"{ACCOUNT_KEY}=*") for p in path.glob(pattern)
    ):
        return True
    try:
        return bool(json.loads((path / MANIFEST).read_bytes()).get("format") == _FORMAT)
    except (OSError, ValueError, AttributeError):
        return False


def _migrate_if_idle(directory: Path) -> None:
    """Migrate a store from before the hive layout when a reader meets it, if nobody writes."""
    if not (directory / MANIFEST).is_file() or not any(
        _FLAT.match(p.name) for p in directory.glob("*.parquet")
    ):
        return
    from ._errors import OmnikitError

    with contextlib.suppress(OmnikitError, OSError), Store(directory):
        pass


def _parquet_writer(frame: pl.DataFrame) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        frame.write_parquet(path, **_PARQUET)

    return write


def _in_days(day: dt.date | None, first: dt.date, last: dt.date) -> bool:
    return day is None or first <= day <= last
