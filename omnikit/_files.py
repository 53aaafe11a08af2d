"""Atomic file writes: the one way omnikit replaces a file.

A file is written under a hidden temporary name (``.{name}.{random}.tmp``) in the target's own
directory, flushed to disk (``fsync``), given its permissions and renamed over the target, so
a reader sees the old file or the new one, never half of one, even after a crash or a full
disk. On any error the temporary file is removed and the target is left as it was.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import IO

__all__ = ["AtomicFile", "atomic_write", "staged_write", "temp_path"]


def temp_path(path: Path) -> Path:
    """A fresh hidden temporary name beside ``path`` (``ok.load`` skips names starting with ``.``).

    >>> temp_path(Path("store/2024-09-02.parquet")).name.startswith(".2024-09-02.parquet.")
    True
    """
    return path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):  # not every file system can (nor needs to)
        handle = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)


class AtomicFile:
    """A binary file written under a temporary name and renamed over ``path`` by :meth:`commit`.

    Parameters
    ----------
    path
        The file to create or replace.
    mode
        Its permissions (e.g. ``0o600`` for a private file); default: those of a new file
        (``0o666`` less the umask).

    Examples
    --------
    >>> with AtomicFile(Path("out.json")) as out:  # doctest: +SKIP
    ...     out.file.write(b"{}")
    """

    def __init__(self, path: str | os.PathLike[str], *, mode: int | None = None) -> None:
        self.path = Path(path)
        self.mode = mode
        self.temp = temp_path(self.path)
        handle = os.open(
            self.temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666 if mode is None else mode
        )
        self.file: IO[bytes] = os.fdopen(handle, "wb")

    def finish(self) -> None:
        """Flush the data to disk and close the file, still under its temporary name."""
        if self.file.closed:
            return
        try:
            self.file.flush()
            os.fsync(self.file.fileno())
            self.file.close()
            if self.mode is not None:
                os.chmod(self.temp, self.mode)
        except BaseException:
            self.discard()
            raise

    def commit(self) -> None:
        """Finish the file and rename it into place (removing it on failure)."""
        self.finish()
        try:
            os.replace(self.temp, self.path)
        except BaseException:
            self.discard()
            raise
        _fsync_dir(self.path.parent)

    def discard(self) -> None:
        """Close and remove the temporary file; the target is left as it was."""
        with contextlib.suppress(OSError):
            self.file.close()
        with contextlib.suppress(OSError):
            self.temp.unlink()

    def __enter__(self) -> AtomicFile:
        return self

    def __exit__(self, kind: object, value: object, traceback: object) -> None:
        if kind is None:
            self.commit()
        else:
            self.discard()


def staged_write(
    path: str | os.PathLike[str], write: Callable[[Path], object], *, mode: int | None = None
) -> AtomicFile:
    """Write the new ``path`` under its temporary name, on disk, not yet in place.

    ``write`` gets the temporary file's path, so writers that take a path (polars' Parquet
    and IPC writers, which write without the GIL) write it natively. Call ``commit()`` on the
    result to put it in place, or ``discard()`` to drop it: several files can be staged first
    and then put in place in an order of the caller's choosing.

    >>> staged = staged_write(Path("day.parquet"), frame.write_parquet)  # doctest: +SKIP
    >>> staged.commit()  # doctest: +SKIP
    """
    target = AtomicFile(path, mode=mode)
    target.file.close()
    try:
        write(target.temp)
        target.file = open(target.temp, "rb+")  # noqa: SIM115 - finish() closes it
        target.finish()
    except BaseException:
        target.discard()
        raise
    return target


def atomic_write(
    path: str | os.PathLike[str], write: Callable[[Path], object], *, mode: int | None = None
) -> None:
    """Replace ``path`` atomically with what ``write(temporary_path)`` writes.

    >>> atomic_write(Path("day.parquet"), lambda p: frame.write_parquet(p))  # doctest: +SKIP
    """
    staged_write(path, write, mode=mode).commit()
