"""The local store: the fetched report as a lake table of Parquet files, one per day.

Layout of a store directory (``data/omnikit-store`` by default)::

    interactions/                    the table: Parquet files only, ever
      date=2024-09-02/part-0.parquet   the canonical rows whose start_date_time is on that day
      date=2024-09-03/part-0.parquet   (in the store's timezone; a row without a start goes by
      ...                              its end, one without either by the first day of its job)
    _manifest.json        the store's timezone, the spans fetched completely (with times), each
                          day file's rows and bytes, and the text columns beyond the canonical ones
    _journal.json         while a write is being put in place: its steps (see below)
    _lock                 held while a fetch writes
    _damaged.*.bad        a day file found unreadable, set aside (its days are fetched again)
    .omnikit-*.json       a download being parsed (and ``.*.tmp``: a file being written)

A store of several Talkdesk accounts has one table with both partition levels,
``interactions/account=NAME/date=YYYY-MM-DD/part-0.parquet``, and each account's manifest,
journal, lock, downloads and set-aside files in ``accounts/NAME/``. Nothing but Parquet is
ever in ``interactions/`` (every file is staged beside the manifest, on the same file system,
and renamed in), so Spark (``spark.read.parquet("S/interactions")``), DuckDB
(``read_parquet('S/interactions/**/*.parquet', hive_partitioning=true)``) and polars
(``pl.scan_parquet("S/interactions", hive_partitioning=True)``) read it as it is, even while a
fetch writes, with a ``date`` column (and ``account``) from the partition names.
``ok.load(store_dir)`` and ``ok.scan(store_dir)`` (:func:`scan_store`, itself one such scan)
return the canonical columns only, plus ``account`` in a store of several accounts.

Stores from before (``date=YYYY-MM-DD/`` partitions, or older ``2024-09-02.parquet`` files, at
the root; ``account=NAME/`` directories holding their own manifest) are migrated by the first
``with Store(...)`` (every fetch opens one): each day file is hard-linked into the table, the
manifest rewritten, and the old names removed, through the journal, so a migration killed
half-way is finished by the next run and a reader meanwhile sees every row once. Until then
they read as they are.

An interaction is in one file only: a later fetch merges its rows into the day files (the last
state wins) and takes them out of any other file where an earlier state had put them.

Crash safety. Every file is written under a temporary name starting with ``.`` beside the
manifest, flushed to disk and renamed into place (:mod:`omnikit._files`). A write that touches
several files stages them all first, then records the renames in ``_journal.json`` and performs
them in an order that never shows an older state: first the files an interaction leaves, then
the files it arrives in. An interaction moving to another day may be missing for an instant,
but is never read in its older state beside or instead of the newer one. A write killed
half-way is finished by the next fetch (which replays the journal) before it does anything else.

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
from collections.abc import Callable, Iterator, Mapping
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
#: The lake table's directory in a store: Parquet files only.
TABLE = "interactions"
#: Where each account of a store of several accounts keeps its manifest, journal and lock.
ACCOUNTS = "accounts"
_FORMAT = "omnikit-store"
#: 1: flat day files at the root; 2: hive partitions at the root; 3: the table in interactions/.
_VERSION = 3
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
#: The manifest's list of the String columns the day files have beyond the canonical ones
#: (absent when not known: then readers look at every file's schema).
_EXTRA = "extra_columns"


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _parse_iso(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(dt.UTC)


def _check_account(account: str) -> str:
    if not _ACCOUNT_NAME.match(account):
        raise ParameterError(
            f"{account!r} is not a Talkdesk account name (letters, digits, '-', '_' and '.')"
        )
    return account


def day_file_name(day: dt.date, account: str | None = None) -> str:
    """The day file of ``day``, relative to the store (the one place a day maps to a file).

    >>> day_file_name(dt.date(2024, 9, 2))
    'interactions/date=2024-09-02/part-0.parquet'
    >>> day_file_name(dt.date(2024, 9, 2), "acme")
    'interactions/account=acme/date=2024-09-02/part-0.parquet'
    """
    where = TABLE if account is None else f"{TABLE}/{ACCOUNT_KEY}={_check_account(account)}"
    return f"{where}/{_DATE_KEY}={day.isoformat()}/{_PART}"


def file_day(name: str | os.PathLike[str]) -> dt.date | None:
    """The day a day file holds (the reverse of :func:`day_file_name`), or None.

    Also reads the names of stores from before the table (``date=2024-09-02/part-0.parquet``
    and ``2024-09-02.parquet`` at the root).

    >>> file_day("interactions/date=2024-09-02/part-0.parquet"), file_day("2024-09-02.parquet")
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


def table_dir(root: str | os.PathLike[str], account: str | None = None) -> Path:
    """The table of the store at ``root``, or the partition of ``account`` in it.

    >>> table_dir("store").as_posix(), table_dir("store", "acme").as_posix()
    ('store/interactions', 'store/interactions/account=acme')
    """
    table = Path(root) / TABLE
    return table if account is None else table / f"{ACCOUNT_KEY}={_check_account(account)}"


def account_dir(root: str | os.PathLike[str], account: str) -> Path:
    """The partition directory of ``account`` in the table of a store of several accounts.

    Raises :class:`~omnikit.ParameterError` for a name that cannot be an account's.

    >>> account_dir("store", "acme").as_posix()
    'store/interactions/account=acme'
    """
    return table_dir(root, account)


def _meta_dir(root: Path, account: str | None) -> Path:
    """Where the manifest, journal and lock of the store (or of its ``account``) are."""
    return root if account is None else root / ACCOUNTS / account


def _legacy_dir(root: Path, account: str | None) -> Path:
    """Where a store from before the table kept its day files (and an account its manifest)."""
    return root if account is None else root / f"{ACCOUNT_KEY}={account}"


def store_accounts(root: str | os.PathLike[str]) -> list[str]:
    """The accounts of a store of several accounts (empty for a store of one)."""
    root = Path(root)
    if not root.is_dir():
        return []
    names = {p.name for p in (root / ACCOUNTS).glob("*") if p.is_dir()}
    for pattern in (f"{TABLE}/{ACCOUNT_KEY}=*", f"{ACCOUNT_KEY}=*"):
        names.update(p.name.partition("=")[2] for p in root.glob(pattern) if p.is_dir())
    return sorted(name for name in names if _ACCOUNT_NAME.match(name))


def _legacy_files(directory: Path) -> dict[dt.date, Path]:
    """The day files of a store from before the table in ``directory``: flat files, then
    partitions (a partition wins over a flat file of the same day)."""
    found: dict[dt.date, Path] = {}
    if not directory.is_dir():
        return found
    for path in directory.glob("*.parquet"):
        day = file_day(path.name)
        if day is not None:
            found[day] = path
    for path in directory.glob(f"{_DATE_KEY}=*/{_PART}"):
        day = file_day(path)
        if day is not None:
            found[day] = path
    return found


def list_day_files(root: str | os.PathLike[str], account: str | None = None) -> list[Path]:
    """The day files of the store at ``root`` (of ``account`` in it), one per day, by day.

    Lists the files of a store from before the table first, then the table's, and keeps the
    table's where a day has both (a migration under way), so a reader at any moment of a
    migration sees each day once.
    """
    root = Path(root)
    found = _legacy_files(_legacy_dir(root, account))
    table = table_dir(root, account)
    for path in table.glob(f"{_DATE_KEY}=*/{_PART}"):
        day = file_day(path)
        if day is not None:
            found[day] = path
    return [found[day] for day in sorted(found)]


def all_day_files(root: str | os.PathLike[str]) -> list[Path]:
    """Every day file of the store at ``root``: of every account in a store of several."""
    accounts = store_accounts(root)
    if not accounts:
        return list_day_files(root)
    return [path for name in accounts for path in list_day_files(root, name)]


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
        The store directory (created when first written).
    timezone
        The timezone of the store's days and date-times. A store keeps one timezone: opening
        an existing store with another raises :class:`~omnikit.ParameterError`.
    account
        In a store of several Talkdesk accounts, the account: its rows are the table's
        ``account=NAME/`` partition, its manifest, journal and lock are in ``accounts/NAME/``.

    Examples
    --------
    >>> with Store("data/omnikit-store", timezone="Europe/Lisbon") as store:  # doctest: +SKIP
    ...     store.missing(start, end)
    """

    def __init__(
        self,
        path: str | os.PathLike[str] = DEFAULT_STORE,
        *,
        timezone: str | None = None,
        account: str | None = None,
    ) -> None:
        self.path = Path(path)
        self.account = account
        #: The directory of this store's day files (its partition of the table).
        self.table = table_dir(self.path, account)
        #: The directory of its manifest, journal, lock, downloads and staged files.
        self.meta = _meta_dir(self.path, account)
        self._legacy = _legacy_dir(self.path, account)
        if self.path.exists() and not self.path.is_dir():
            raise StoreError(f"the store {self.path} is not a directory", path=self.path)
        manifest = self._read_manifest()
        stored = manifest.get("timezone")
        if timezone is not None and stored is not None and stored != timezone:
            raise ParameterError(
                f"the store {self._name} holds times in {stored}, not {timezone}; fetch with "
                f"--timezone {stored} or use another --store"
            )
        self.timezone: str = timezone or stored or "UTC"
        try:
            self._zone = zoneinfo.ZoneInfo(self.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ParameterError(f"timezone {self.timezone!r} is not an IANA timezone") from None
        self._manifest = manifest
        self._locks: list[IO[str]] = []

    def __repr__(self) -> str:
        account = "" if self.account is None else f", account={self.account!r}"
        return f"Store({str(self.path)!r}, timezone={self.timezone!r}{account})"

    @property
    def _name(self) -> str:
        return str(self.path) + ("" if self.account is None else f" (account {self.account})")

    def day_path(self, day: dt.date) -> Path:
        """The file holding the rows of ``day`` (in the store's timezone)."""
        return self.path / day_file_name(day, self.account)

    # -- lock -----------------------------------------------------------------------------

    def _lock(self, path: Path) -> None:
        with _failures("lock the store", path):
            lock = open(path, "a+")  # noqa: SIM115 - closed by __exit__
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
                    f"another fetch is writing to the store {self._name}; wait for it or use "
                    "another --store"
                ) from None
        self._locks.append(lock)

    def __enter__(self) -> Store:
        _not_in_a_table(self.path)
        # One kind of store or the other (checked before anything is created).
        if self.account is None and store_accounts(self.path):
            raise ParameterError(
                f"the store {self.path} holds several Talkdesk accounts (account=NAME/ "
                "partitions): fetch into it with --account NAME, or use another --store"
            )
        if self.account is not None and (
            (self.path / MANIFEST).exists() or list_day_files(self.path)
        ):
            raise ParameterError(
                f"the store {self.path} holds one account without account=NAME/ "
                "partitions; fetch several accounts into another --store"
            )
        with _failures("create the store directory", self.meta):
            self.meta.mkdir(parents=True, exist_ok=True)
        self._lock(self.meta / LOCK)
        try:
            if self._legacy != self.meta and (self._legacy / LOCK).exists():
                self._lock(self._legacy / LOCK)  # an older omnikit's lock of this account
            self._recover()
            self._manifest = self._read_manifest()
            self._migrate()
            if "timezone" not in self._manifest:
                # Claim the timezone before any day file exists, so a killed first fetch
                # cannot leave files in one timezone for a later fetch in another.
                self._manifest.update(format=_FORMAT, version=_VERSION, timezone=self.timezone)
                self._manifest.setdefault("complete", [])
                self._manifest.setdefault(_EXTRA, _extras_of(self.day_files()))
                self._write_manifest()
            elif _EXTRA not in self._manifest:  # day files made by hand: their columns, once
                self._manifest[_EXTRA] = _extras_of(self.day_files())
                self._write_manifest()
            if self._manifest["timezone"] != self.timezone:
                raise ParameterError(
                    f"the store {self._name} holds times in {self._manifest['timezone']}, not "
                    f"{self.timezone}; fetch with --timezone {self._manifest['timezone']} or "
                    "use another --store"
                )
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        while self._locks:
            self._locks.pop().close()

    def _recover(self) -> None:
        """Finish a write a killed fetch left half-done, then drop its leftover temporaries."""
        self._replay(self.meta / JOURNAL, self.path)
        if self._legacy != self.meta:  # an older omnikit's write to this account
            self._replay(self._legacy / JOURNAL, self._legacy)
        # Nobody else writes while we hold the lock.
        stale = [*self.meta.glob(".*.tmp"), *self.meta.glob(".omnikit-*")]
        for directory in {self._legacy, self.table}:
            stale += [*directory.glob(".*.tmp"), *directory.glob(f"{_DATE_KEY}=*/.*.tmp")]
            stale += directory.glob(".omnikit-*")
        for path in stale:
            with contextlib.suppress(OSError):
                path.unlink()
        for directory in [*self._legacy.glob(f"{_DATE_KEY}=*"), *self.table.glob(f"{_DATE_KEY}=*")]:
            with contextlib.suppress(OSError):
                directory.rmdir()  # only when empty

    def _replay(self, journal: Path, base: Path) -> None:
        """Perform the steps of ``journal`` (names relative to ``base``) not done yet."""
        if not journal.exists():
            return
        with _failures("read the store's journal", journal, "move it away to go on"):
            steps = json.loads(journal.read_text(encoding="utf-8"))["steps"]
        logger.warning("finishing a write to %s that was interrupted", self._name)
        # Steps run in order, so every step before the last one done is done: resume after
        # it (a delete is not repeated over a file a later step put in place).
        done = [
            i
            for i, step in enumerate(steps)
            if "replace" in step and not (base / step["replace"]).exists()
        ]
        for step in steps[done[-1] + 1 if done else 0 :]:
            self._apply(step, replay=True, base=base)
        with _failures("remove the store's journal", journal):
            journal.unlink()

    def _migrate(self) -> None:
        """Move the day files of a store from before the table into it (``interactions/``).

        One journalled write: link (or copy) every old day file to its partition of the table,
        write the manifest with the new names (in ``accounts/NAME/`` for an account), then
        remove the old names. Readers list the old files first and prefer a day's file in the
        table (:func:`list_day_files`), so at every step each day is read once; a migration
        killed half-way is finished by :meth:`_recover`. Hard links make it one rename-sized
        step per day, whatever the files' size.
        """
        old = _legacy_files(self._legacy)
        flat = [
            p
            for p in self._legacy.glob("*.parquet")
            if _FLAT.match(p.name) and p not in old.values()
        ]
        old_manifest = self._legacy / MANIFEST if self._legacy != self.meta else None
        if not old and not flat and not (old_manifest and old_manifest.exists()):
            self._drop_legacy_dir()
            return
        logger.warning("moving the store %s into its table (%s/)", self._name, TABLE)
        steps: list[dict[str, Any]] = [{"aside": self._rel(p)} for p in flat]
        for day, path in sorted(old.items()):
            target = self.day_path(day)
            if target.exists():  # both (copied in by hand): keep the table's
                steps.append({"aside": self._rel(path)})
            else:
                steps.append({"link": self._rel(path), "path": self._rel(target)})
        files: dict[str, Any] = {}
        for name, info in self._manifest.get("files", {}).items():
            known = file_day(name)
            files[day_file_name(known, self.account) if known is not None else name] = info
        # The columns of the files the table will hold: its own, and the old ones it lacks.
        after = {file_day(p): p for p in self.table.glob(f"{_DATE_KEY}=*/{_PART}")}
        after.update((day, path) for day, path in old.items() if day not in after)
        self._manifest.update(format=_FORMAT, files=files, version=_VERSION)
        self._manifest[_EXTRA] = _extras_of(list(after.values()))
        manifest = json.dumps(self._manifest, indent=2).encode() + b"\n"
        with _failures("write the store manifest", self.meta / MANIFEST, "the store is unchanged"):
            temp = staged_write(self.meta / MANIFEST, lambda p: p.write_bytes(manifest), mode=_MODE)
        steps.append({"replace": self._rel(temp.temp), "path": self._rel(self.meta / MANIFEST)})
        steps.extend({"delete": step["link"]} for step in steps if "link" in step)
        if old_manifest is not None and old_manifest.exists():
            steps.append({"delete": self._rel(old_manifest)})
        journal = json.dumps({"steps": steps}).encode()
        try:
            with _failures(
                "write the store's journal", self.meta / JOURNAL, "the store is unchanged"
            ):
                atomic_write(self.meta / JOURNAL, lambda p: p.write_bytes(journal), mode=_MODE)
        except BaseException:
            temp.discard()
            raise
        for step in steps:
            self._apply(step)
        with _failures("remove the store's journal", self.meta / JOURNAL):
            (self.meta / JOURNAL).unlink()
        self._drop_legacy_dir()

    def _drop_legacy_dir(self) -> None:
        """Remove an account's directory from before the table once only its lock is left."""
        if self._legacy == self.meta or not self._legacy.is_dir():
            return
        if {p.name for p in self._legacy.iterdir()} <= {LOCK}:
            with contextlib.suppress(OSError):
                (self._legacy / LOCK).unlink(missing_ok=True)
                self._legacy.rmdir()

    def _rel(self, path: Path) -> str:
        """``path`` relative to the store, as the manifest and journal name it."""
        return path.relative_to(self.path).as_posix()

    def _staging(self, path: Path) -> Path:
        """The name a new ``path`` of the table is staged under: beside the manifest, on the
        same file system, never in the table (whose readers expect Parquet files only)."""
        return self.meta / path.relative_to(self.table).as_posix().replace("/", ".")

    # -- manifest -------------------------------------------------------------------------

    def _read_manifest(self) -> dict[str, Any]:
        path = self.meta / MANIFEST
        if not path.exists() and (self._legacy / MANIFEST).exists():
            path = self._legacy / MANIFEST  # an account from before the table, not yet moved
        return read_manifest(path)

    def _write_manifest(self) -> None:
        data = json.dumps(self._manifest, indent=2).encode() + b"\n"
        path = self.meta / MANIFEST
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
        if self._manifest.get(_EXTRA) is None:  # not known yet: from the files' schemas, once
            self._manifest[_EXTRA] = _extras_of(self.day_files())
        if damaged or self._manifest.get("files") is not None:
            self._write_manifest()
        return damaged

    def _aside_path(self, path: Path) -> Path:
        """Where a damaged day file is set aside: ``_damaged.YYYY-MM-DD.parquet.bad``."""
        day = file_day(path)
        return self.meta / f"_damaged.{day.isoformat() if day else path.stem}.parquet.bad"

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
        return list_day_files(self.path, self.account)

    def _require_lock(self) -> None:
        if not self._locks:
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
        extra: list[str] | None = self._manifest.get(_EXTRA)
        try:
            for path, content in plan:
                name = self._rel(path)
                if content is None:
                    steps.append({"delete": name})
                    files.pop(name, None)
                    continue
                with _failures("write the day file", path, "the store is unchanged"):
                    path.parent.mkdir(parents=True, exist_ok=True)
                    temp = staged_write(self._staging(path), _parquet_writer(content), mode=_MODE)
                staged.append(temp)
                steps.append({"replace": self._rel(temp.temp), "path": name})
                files[name] = {"rows": content.height, "bytes": temp.temp.stat().st_size}
                if extra is not None:
                    extra = _add_extras(extra, content.schema)
            grown = extra != self._manifest.get(_EXTRA)
            self._manifest.update(files=files)
            self._manifest[_EXTRA] = extra
            manifest = json.dumps(self._manifest, indent=2).encode() + b"\n"
            with _failures(
                "write the store manifest", self.meta / MANIFEST, "the store is unchanged"
            ):
                temp = staged_write(
                    self.meta / MANIFEST, lambda p: p.write_bytes(manifest), mode=_MODE
                )
            staged.append(temp)
            step = {"replace": self._rel(temp.temp), "path": self._rel(self.meta / MANIFEST)}
            # New columns: the manifest first, so a reader never meets a column it does not
            # list (one it lists that no file has yet reads as nulls).
            steps.insert(0, step) if grown else steps.append(step)
            journal = json.dumps({"steps": steps}).encode()
            with _failures(
                "write the store's journal", self.meta / JOURNAL, "the store is unchanged"
            ):
                atomic_write(self.meta / JOURNAL, lambda p: p.write_bytes(journal), mode=_MODE)
        except BaseException:
            for temp in staged:
                temp.discard()
            raise
        # From here on the journal finishes the write if this process does not.
        for step in steps:
            self._apply(step)
        with _failures("remove the store's journal", self.meta / JOURNAL):
            (self.meta / JOURNAL).unlink()

    def _apply(
        self, step: dict[str, Any], *, replay: bool = False, base: Path | None = None
    ) -> None:
        """Perform one journalled step: put a staged file in place, or remove a file.

        Names are relative to ``base``: the store, or an older omnikit's account directory.
        """
        base = self.path if base is None else base
        if "delete" in step:
            path = base / step["delete"]
            with _failures("remove the day file", path, "run the fetch again to finish"):
                path.unlink(missing_ok=True)
            if path.parent.name.startswith(f"{_DATE_KEY}="):
                with contextlib.suppress(OSError):
                    path.parent.rmdir()  # an emptied partition
            return
        if "aside" in step:
            path = base / step["aside"]
            if path.exists():
                name = PurePosixPath(step["aside"]).as_posix().replace("/", ".")
                with _failures("set aside", path, "run the fetch again to finish"):
                    os.replace(path, self.meta / f"_superseded.{name}.bad")
                if path.parent.name.startswith(f"{_DATE_KEY}="):
                    with contextlib.suppress(OSError):
                        path.parent.rmdir()
            return
        if "link" in step:  # migration: the old day file's bytes under its name in the table
            source, path = base / step["link"], base / step["path"]
            if path.exists() or not source.exists():
                return  # done before the interruption
            with _failures("move into the table", source, "run the fetch again to finish"):
                path.parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.link(source, path)  # creates the name at once, complete
                except FileExistsError:
                    raise
                except OSError:  # a file system without hard links: a copy, flushed, moved in
                    temp = temp_path(self._staging(path))
                    try:
                        shutil.copyfile(source, temp)
                        with open(temp, "rb+") as copied:
                            os.fsync(copied.fileno())
                        os.replace(temp, path)
                    finally:
                        temp.unlink(missing_ok=True)
            return
        temp, path = base / step["replace"], base / step["path"]
        if replay and not temp.exists():
            return  # done before the interruption
        with _failures("put in place", path, "run the fetch again to finish"):
            path.parent.mkdir(parents=True, exist_ok=True)
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
        from ._schema import CANONICAL_COLUMNS, canonical_schema

        files = self.day_files()
        if not files:
            return pl.LazyFrame(schema=canonical_schema(self.timezone))
        extra = self._manifest.get(_EXTRA)
        if extra is None:
            extra = _extras_of(files)
        ranged = start is not None and end is not None
        if extra is not None and all(self.table in p.parents for p in files):
            lazy = _scan_table(self.table, timezone=self.timezone, extra=extra)
            if start is not None and end is not None:
                first = start.astimezone(self._zone).date()
                last = (end - dt.timedelta(microseconds=1)).astimezone(self._zone).date()
                lazy = lazy.filter(pl.col(_DATE_KEY).is_between(first, last))
            lazy = lazy.select(*CANONICAL_COLUMNS, *extra)
        else:  # a store from before the table, or files of other schemas
            if start is not None and end is not None:
                first = start.astimezone(self._zone).date()
                last = (end - dt.timedelta(microseconds=1)).astimezone(self._zone).date()
                files = [p for p in files if _in_days(file_day(p), first, last)]
                if not files:
                    return pl.LazyFrame(schema=canonical_schema(self.timezone))
            lazy = _scan_files(files)
        if ranged:
            s = pl.lit(start).dt.convert_time_zone(self.timezone)
            e = pl.lit(end).dt.convert_time_zone(self.timezone)
            moment = pl.coalesce("start_date_time", "end_date_time")
            lazy = lazy.filter(((moment >= s) & (moment < e)) | moment.is_null())
        return lazy


def read_manifest(path: Path) -> dict[str, Any]:
    """The store manifest at ``path`` (empty when there is none), checked; a
    :class:`~omnikit.StoreError` naming it when it does not read."""
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
            extra = manifest.get(_EXTRA)
            if extra is not None and not all(isinstance(c, str) for c in extra):
                raise ValueError(f"bad {_EXTRA} {extra!r}")
        except UnicodeDecodeError:
            problem = f"the store manifest {path} is not UTF-8 text; {then}"
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            problem = f"{path} is not an omnikit store manifest ({error}); {then}"
    if problem is not None:
        raise StoreError(problem, path=path)
    return manifest


def scan_store(root: str | os.PathLike[str], *, timezone: str) -> pl.LazyFrame:
    """Lazily read a store directory as :func:`omnikit.scan` does: canonical columns only.

    One ``pl.scan_parquet`` of the store's table (``interactions/``, hive partitions), with the
    schema from the manifest: planning it reads no day file, whatever their number, and a
    filter on ``account`` (or on the hidden ``date`` key) reads only those partitions. The
    ``date`` partition key is not a column (it is the day of ``start_date_time``). A store of
    several accounts gets an ``account`` column (String, last), and its rows are every
    account's: an ``interaction_id`` is unique within an account, so nothing is de-duplicated
    across accounts. Date-times are converted to ``timezone``. A store from before the table is
    migrated first when it can be (nobody is writing to it and it is writable), and read as it
    is otherwise. Reading needs neither the lock nor a readable manifest (without one, the
    schema comes from the day files).

    Examples
    --------
    >>> scan_store("data/omnikit-store", timezone="Europe/Lisbon")  # doctest: +SKIP
    """
    from ._schema import CANONICAL_COLUMNS, DATETIME_COLUMNS, canonical_schema

    root = Path(root)
    accounts = store_accounts(root)
    keys: list[str | None] = [*accounts] if accounts else [None]
    for account in keys:
        _migrate_if_idle(root, account)
    account_column = [ACCOUNT_KEY] if accounts else []
    files = {account: list_day_files(root, account) for account in keys}
    if not any(files.values()):
        empty = pl.LazyFrame(schema=canonical_schema(timezone))
        if accounts:
            empty = empty.with_columns(pl.lit(None, dtype=pl.String).alias(ACCOUNT_KEY))
        return empty
    table = table_dir(root)
    migrated = all(table in p.parents for paths in files.values() for p in paths)
    extra = _manifest_extras(root, keys) if migrated else None
    if migrated and extra is None:
        extra = _extras_of([p for paths in files.values() for p in paths])
    if extra is not None:
        lazy = _scan_table(table, timezone=timezone, extra=extra, accounts=bool(accounts))
        return lazy.select(*CANONICAL_COLUMNS, *extra, *account_column)
    frames = []
    for account, paths in files.items():  # as it is: one scan per schema of the files
        if not paths:
            continue
        frame = _scan_files(paths)
        frame = frame.with_columns(pl.col(DATETIME_COLUMNS).dt.convert_time_zone(timezone))
        if account is not None:
            frame = frame.with_columns(pl.lit(account, dtype=pl.String).alias(ACCOUNT_KEY))
        frames.append(frame)
    return frames[0] if len(frames) == 1 else pl.concat(frames, how="diagonal_relaxed")


def _scan_table(
    table: Path, *, timezone: str, extra: list[str], accounts: bool = False
) -> pl.LazyFrame:
    """The hive scan of ``table`` (a store's, or an account's partition of it): the canonical
    columns in ``timezone``, the String columns ``extra`` (null in a file without them), then
    the partition keys (``account`` when ``accounts``, and ``date``)."""
    from ._schema import canonical_schema

    schema: dict[str, pl.DataType] = {
        **canonical_schema(timezone),
        **dict.fromkeys(extra, pl.String()),
    }
    hive: dict[str, pl.DataType] = {ACCOUNT_KEY: pl.String()} if accounts else {}
    hive[_DATE_KEY] = pl.Date()
    return pl.scan_parquet(
        table,
        hive_partitioning=True,
        hive_schema=hive,
        schema=schema,
        missing_columns="insert",
        cast_options=pl.ScanCastOptions(datetime_cast="convert-timezone"),
    )


def _manifest_extras(root: Path, accounts: list[str | None]) -> list[str] | None:
    """The extra columns the manifests of ``accounts`` list, or None where one does not say."""
    names: list[str] = []
    for account in accounts:
        try:
            extra = read_manifest(_meta_dir(root, account) / MANIFEST).get(_EXTRA)
        except StoreError:
            return None
        if extra is None:
            return None
        names += [c for c in extra if c not in names]
    return names


def _add_extras(names: list[str], schema: Mapping[str, Any]) -> list[str] | None:
    """``names`` and the columns of ``schema`` beyond the canonical ones; None when one of those
    is not String (a reader then takes the files' own schemas)."""
    from ._schema import CANONICAL_COLUMNS

    names = list(names)
    for column, dtype in schema.items():
        if column in CANONICAL_COLUMNS:
            continue
        if dtype != pl.String:
            return None
        if column not in names:
            names.append(column)
    return names


def _extras_of(files: list[Path]) -> list[str] | None:
    """The String columns beyond the canonical ones in ``files``, from their schemas; None when
    a file does not read or has another type of extra column."""
    names: list[str] | None = []
    for path in files:
        try:
            schema = pl.read_parquet_schema(path)
        except (OSError, pl.exceptions.PolarsError):
            return None
        names = _add_extras(names, schema) if names is not None else None
        if names is None:
            return None
    return names


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
        for path in all_day_files(root):
            with _failures("read the day file", path, "run the fetch again to check and repair"):
                pl.scan_parquet(path).select(pl.len()).collect()
        raise StoreError(f"cannot read the store {root}: {_why(error)}", path=root) from None


def is_store(path: Path) -> bool:
    """Whether the directory ``path`` is an omnikit store: its manifest, its table or
    accounts, or the partitions of a store from before the table (or of a table itself)."""
    patterns = (
        f"{TABLE}/{_DATE_KEY}=*",
        f"{TABLE}/{ACCOUNT_KEY}=*",
        f"{ACCOUNTS}/*/{MANIFEST}",
        f"{_DATE_KEY}=*",
        f"{ACCOUNT_KEY}=*",
    )
    if any(p.is_dir() or p.name == MANIFEST for pattern in patterns for p in path.glob(pattern)):
        return True
    try:
        return bool(json.loads((path / MANIFEST).read_bytes()).get("format") == _FORMAT)
    except (OSError, ValueError, AttributeError):
        return False


def _not_in_a_table(path: Path) -> None:
    """Refuse to write a store inside another store's table (which holds Parquet files only)."""
    for directory in [path, *path.absolute().parents]:
        parent = directory.parent
        if directory.name == TABLE and (
            (parent / MANIFEST).exists() or (parent / ACCOUNTS).is_dir()
        ):
            raise ParameterError(
                f"{path} is inside the table of the store {directory.parent}; write to the "
                f"store itself (--store {directory.parent})"
            )


def _migrate_if_idle(root: Path, account: str | None) -> None:
    """Migrate a store from before the table when a reader meets it, if nobody writes."""
    legacy = _legacy_dir(root, account)
    manifests = [legacy / MANIFEST, _meta_dir(root, account) / MANIFEST]
    if not any(p.is_file() for p in manifests) or not (
        _legacy_files(legacy) or (account is not None and manifests[0].is_file())
    ):
        return
    from ._errors import OmnikitError

    with contextlib.suppress(OmnikitError, OSError), Store(root, account=account):
        pass


def _parquet_writer(frame: pl.DataFrame) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        frame.write_parquet(path, **_PARQUET)

    return write


def _in_days(day: dt.date | None, first: dt.date, last: dt.date) -> bool:
    return day is None or first <= day <= last
