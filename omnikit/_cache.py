"""A cache of parsed report files, so loading an unchanged file again is nearly free.

An entry is keyed by the file's absolute path, size and modification time, the timezone it was
read in, and omnikit's version. It is an uncompressed Arrow IPC file of the canonical frame,
memory-mapped when read back (so a cached load copies nothing), plus a small JSON sidecar with the bad-cell summary (so a cached
load warns exactly like the first one). Both are written to temporary names and renamed into
place, sidecar first, so a reader never sees half an entry. Writing happens on a background
thread, so the first load does not wait for it. Files are private to the user (0600).

The cache lives in ``$OMNIKIT_CACHE_DIR``, else ``$XDG_CACHE_HOME/omnikit``, else
``~/.cache/omnikit``; it holds report data, so it is as sensitive as the reports themselves.
It keeps at most ``$OMNIKIT_CACHE_MAX_BYTES`` (default 8 GiB), dropping the least recently used.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.ipc

from ._version import __version__

__all__ = ["AUTO_MIN_BYTES", "cache_dir", "clear", "flush", "get", "key", "put"]

#: With ``cache=None``, files at least this large are cached.
AUTO_MIN_BYTES = 4 << 20
_FORMAT = 1


def cache_dir() -> Path:
    """The directory the cache lives in (created on first write)."""
    configured = os.environ.get("OMNIKIT_CACHE_DIR")
    if configured:
        return Path(configured).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "omnikit"


def key(path: Path, timezone: str) -> str:
    """The cache key of ``path`` as it is now, read in ``timezone``."""
    stat = path.stat()
    parts = [
        str(path.resolve()),
        str(stat.st_size),
        str(stat.st_mtime_ns),
        timezone,
        __version__,
        str(_FORMAT),
    ]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:40]


_writing: dict[str, threading.Thread] = {}


def get(entry: str) -> tuple[pl.DataFrame, dict[str, Any]] | None:
    """Return the cached frame (memory-mapped, not copied) and its metadata, or None."""
    pending = _writing.get(entry)
    if pending is not None:
        pending.join()
    directory = cache_dir()
    data, meta = directory / f"{entry}.arrow", directory / f"{entry}.json"
    try:
        metadata = json.loads(meta.read_text())
        with pa.memory_map(str(data)) as source:
            table = pa.ipc.open_file(source).read_all()
        frame = pl.from_arrow(table)
        os.utime(data)  # recently used
    except (OSError, ValueError, pa.ArrowException, pl.exceptions.PolarsError):
        return None
    assert isinstance(frame, pl.DataFrame)
    return frame, metadata


def put(entry: str, frame: pl.DataFrame, metadata: dict[str, Any]) -> None:
    """Store a frame and its metadata on a background thread; the caller does not wait.

    The thread is not a daemon, so the interpreter finishes the write before it exits; a load
    of the same entry meanwhile waits for it. Failures to write the cache are not errors.
    """
    thread = threading.Thread(
        target=_put, args=(entry, frame, metadata), name=f"omnikit-cache-{entry[:8]}"
    )
    _writing[entry] = thread
    thread.start()


def _put(entry: str, frame: pl.DataFrame, metadata: dict[str, Any]) -> None:
    directory = cache_dir()
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        _write_atomic(directory / f"{entry}.json", lambda p: p.write_text(json.dumps(metadata)))
        _write_atomic(
            directory / f"{entry}.arrow", lambda p: frame.write_ipc(p, compression="uncompressed")
        )
        _evict(directory)
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


def _write_atomic(target: Path, write: Any) -> None:
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=target.suffix)
    os.close(handle)
    temporary = Path(name)
    try:
        write(temporary)
        os.chmod(temporary, 0o600)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def _evict(directory: Path) -> None:
    limit = int(os.environ.get("OMNIKIT_CACHE_MAX_BYTES", 8 << 30))
    entries = sorted(directory.glob("*.arrow"), key=lambda p: p.stat().st_mtime, reverse=True)
    total = 0
    for path in entries:
        total += path.stat().st_size
        if total > limit:
            path.unlink(missing_ok=True)
            path.with_suffix(".json").unlink(missing_ok=True)
