"""A cache of parsed report files, so loading an unchanged file again is nearly free.

An entry is keyed by the file's absolute path, size, modification time, inode and change time
(which ``touch`` cannot set back), the timezone it was read in, and omnikit's version. It is an
uncompressed Arrow IPC file of the canonical frame, memory-mapped when read back (so a cached
load copies nothing), plus a small JSON sidecar with the bad-cell summary (so a cached load
warns exactly like the first one) and the frame's shape. Both are written atomically (sidecar
first), so a reader never sees half an entry. Writing happens on a background thread, so the
first load does not wait for it.

The cache lives in ``$OMNIKIT_CACHE_DIR``, else ``$XDG_CACHE_HOME/omnikit``, else
``~/.cache/omnikit``; it holds report data, so it is as sensitive as the reports themselves:
the directory is created private (0700) and every file in it is private (0600). The cache is
used only when its directory belongs to the user and no one else can write to it; otherwise
it is bypassed (files are parsed every time) with one warning. An entry that is a symbolic
link, is not the user's, or does not validate (a sidecar of the wrong shape, a frame whose
columns or length differ from its sidecar) is ignored, removed and computed again.

It keeps at most ``$OMNIKIT_CACHE_MAX_BYTES`` (a number of bytes or a size such as ``500M`` or
``8G``; default 8G), dropping the least recently used entries.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import threading
import warnings
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.ipc

from ._errors import ParameterError
from ._files import atomic_write
from ._version import __version__

__all__ = ["AUTO_MIN_BYTES", "cache_dir", "clear", "flush", "get", "key", "max_bytes", "put"]

#: With ``cache=None``, files at least this large are cached.
AUTO_MIN_BYTES = 4 << 20
_FORMAT = 2
_DEFAULT_MAX = "8G"
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:I?B)?\s*$", re.IGNORECASE)


def cache_dir() -> Path:
    """The directory the cache lives in (created on first write)."""
    configured = os.environ.get("OMNIKIT_CACHE_DIR")
    if configured:
        return Path(configured).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "omnikit"


def max_bytes() -> int:
    """The cache's size limit from ``$OMNIKIT_CACHE_MAX_BYTES`` (bytes, or ``500M``, ``8G``).

    Raises :class:`~omnikit.ParameterError` naming the variable when it cannot be read.

    >>> import os
    >>> os.environ["OMNIKIT_CACHE_MAX_BYTES"] = "1.5G"
    >>> max_bytes()
    1610612736
    >>> del os.environ["OMNIKIT_CACHE_MAX_BYTES"]
    """
    text = os.environ.get("OMNIKIT_CACHE_MAX_BYTES") or _DEFAULT_MAX
    match = _SIZE.match(text)
    if match is None:
        raise ParameterError(
            f"OMNIKIT_CACHE_MAX_BYTES is {text!r}: use a number of bytes or a size such as "
            "500M or 8G (K, M, G, T: powers of 1024)"
        )
    return int(float(match.group(1)) * _UNITS[match.group(2).upper()])


def key(path: Path, timezone: str) -> str:
    """The cache key of ``path`` as it is now, read in ``timezone``.

    Raises :class:`~omnikit.ParameterError` if ``$OMNIKIT_CACHE_MAX_BYTES`` is unreadable, so
    the mistake surfaces at the call, not in the background writer.
    """
    max_bytes()
    info = path.stat()
    parts = [
        str(path.resolve()),
        str(info.st_size),
        str(info.st_mtime_ns),
        str(info.st_ino),
        str(info.st_ctime_ns),
        timezone,
        __version__,
        str(_FORMAT),
    ]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:40]


_writing: dict[str, threading.Thread] = {}
_warned: set[str] = set()
_warn_lock = threading.Lock()


def _user() -> int:
    return os.getuid() if hasattr(os, "getuid") else -1


def _trusted(directory: Path, *, create: bool) -> bool:
    """Whether the cache may use ``directory``: the user's own, writable by no one else."""
    try:
        if create:
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        info = directory.stat()
    except FileNotFoundError:
        return False
    except OSError as error:
        problem = f"cannot use it ({error.strerror})"
    else:
        if not stat.S_ISDIR(info.st_mode):
            problem = "it is not a directory"
        elif _user() >= 0 and info.st_uid != _user():
            problem = f"it belongs to another user (uid {info.st_uid})"
        elif info.st_mode & 0o022:
            problem = f"others can write to it (mode {stat.S_IMODE(info.st_mode):o})"
        else:
            return True
    with _warn_lock:
        if str(directory) in _warned:
            return False
        _warned.add(str(directory))
    warnings.warn(
        f"omnikit's parse cache {directory} is not used: {problem}; files are parsed every "
        "time. Use a directory of your own that only you can write to "
        f"(chmod 700 {directory}) or set OMNIKIT_CACHE_DIR.",
        UserWarning,
        stacklevel=4,
    )
    return False


def _own_file(path: Path) -> bool:
    """A regular file of the user's (not a symbolic link, not planted by someone else)."""
    try:
        info = path.lstat()
    except OSError:
        return False
    return stat.S_ISREG(info.st_mode) and (_user() < 0 or info.st_uid == _user())


def _valid_sidecar(meta: Any) -> bool:
    if not isinstance(meta, dict):
        return False
    cells, examples = meta.get("cells"), meta.get("examples")
    return (
        isinstance(cells, dict)
        and all(isinstance(k, str) and type(v) is int for k, v in cells.items())
        and isinstance(examples, dict)
        and all(
            isinstance(k, str) and isinstance(v, list) and all(isinstance(x, str) for x in v)
            for k, v in examples.items()
        )
        and type(meta.get("rows")) is int
        and isinstance(meta.get("schema"), dict)
    )


def _schema_text(frame: pl.DataFrame) -> dict[str, str]:
    return {name: str(dtype) for name, dtype in frame.schema.items()}


def _drop(directory: Path, entry: str) -> None:
    for suffix in (".arrow", ".json"):
        (directory / f"{entry}{suffix}").unlink(missing_ok=True)


def get(entry: str) -> tuple[pl.DataFrame, dict[str, Any]] | None:
    """Return the cached frame (memory-mapped, not copied) and its bad-cell summary, or None.

    None also when the cache directory is not trusted (see the module docstring), or when the
    entry is a symbolic link, is not the user's or does not validate (it is removed then).
    """
    pending = _writing.get(entry)
    if pending is not None:
        pending.join()
    directory = cache_dir()
    if not _trusted(directory, create=False):
        return None
    data, meta = directory / f"{entry}.arrow", directory / f"{entry}.json"
    if not (data.exists() or meta.exists()):
        return None
    if not (_own_file(data) and _own_file(meta)):
        _drop(directory, entry)
        return None
    try:
        metadata = json.loads(meta.read_text(encoding="utf-8"))
        if not _valid_sidecar(metadata):
            raise ValueError("sidecar of the wrong shape")
        with pa.memory_map(str(data)) as source:
            table = pa.ipc.open_file(source).read_all()
        frame = pl.from_arrow(table)
        if (
            not isinstance(frame, pl.DataFrame)
            or frame.height != metadata["rows"]
            or _schema_text(frame) != metadata["schema"]
        ):
            raise ValueError("frame and sidecar disagree")
        os.utime(data)  # recently used
    except (OSError, ValueError, pa.ArrowException, pl.exceptions.PolarsError):
        _drop(directory, entry)
        return None
    return frame, {"cells": metadata["cells"], "examples": metadata["examples"]}


def put(entry: str, frame: pl.DataFrame, metadata: dict[str, Any]) -> None:
    """Store a frame and its metadata on a background thread; the caller does not wait.

    The thread is not a daemon, so the interpreter finishes the write before it exits; a load
    of the same entry meanwhile waits for it. Failures to write the cache are not errors, but
    an unreadable ``$OMNIKIT_CACHE_MAX_BYTES`` is (raised here, in the caller's thread).
    """
    limit = max_bytes()
    directory = cache_dir()
    if not _trusted(directory, create=True):
        return
    sidecar = {**metadata, "rows": frame.height, "schema": _schema_text(frame)}
    thread = threading.Thread(
        target=_put,
        args=(directory, entry, frame, sidecar, limit),
        name=f"omnikit-cache-{entry[:8]}",
    )
    _writing[entry] = thread
    thread.start()


def _put(
    directory: Path, entry: str, frame: pl.DataFrame, sidecar: dict[str, Any], limit: int
) -> None:
    try:
        text = json.dumps(sidecar).encode()
        atomic_write(directory / f"{entry}.json", lambda p: p.write_bytes(text), mode=0o600)
        atomic_write(
            directory / f"{entry}.arrow",
            lambda p: frame.write_ipc(p, compression="uncompressed"),
            mode=0o600,
        )
        _evict(directory, limit)
    except (OSError, pl.exceptions.PolarsError):
        pass
    finally:
        _writing.pop(entry, None)


def flush() -> None:
    """Wait until every background write has finished."""
    for thread in list(_writing.values()):
        thread.join()


def clear() -> None:
    """Remove every cached entry."""
    flush()
    directory = cache_dir()
    for path in directory.glob("*.arrow"):
        path.unlink(missing_ok=True)
    for path in directory.glob("*.json"):
        path.unlink(missing_ok=True)


def _evict(directory: Path, limit: int) -> None:
    """Drop the least recently used entries until the cache holds at most ``limit`` bytes."""
    entries = []
    for path in directory.glob("*.arrow"):
        try:
            info = path.lstat()
            side = path.with_suffix(".json")
            size = info.st_size + (side.lstat().st_size if side.exists() else 0)
        except OSError:
            continue
        entries.append((info.st_mtime_ns, size, path))
    total = 0
    for _, size, path in sorted(entries, key=lambda e: e[0], reverse=True):
        total += size
        if total > limit:
            path.unlink(missing_ok=True)
            path.with_suffix(".json").unlink(missing_ok=True)
