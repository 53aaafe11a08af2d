"""The parse cache under hostile set-ups and damage, and its size limit (real files)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import omnikit as ok
from omnikit import _cache


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv("OMNIKIT_CACHE_DIR", str(directory))
    monkeypatch.delenv("OMNIKIT_CACHE_MAX_BYTES", raising=False)
    _cache._warned.clear()
    return directory


def report(path: Path, n: int, seed: int) -> Path:
    return ok.synth_report(path, n, seed=seed, start="2024-09-02", days=3)


def load(path: Path) -> pl.DataFrame:
    frame = ok.load(path, cache=True)
    _cache.flush()
    return frame


def entry_of(path: Path, cache: Path) -> tuple[Path, Path]:
    name = _cache.key(path, "UTC")
    return cache / f"{name}.arrow", cache / f"{name}.json"


def plant(path: Path, other: Path, cache: Path) -> None:
    """Make ``path``'s entry hold ``other``'s rows (as someone with write access could)."""
    load(other)
    data, meta = entry_of(path, cache)
    other_data, other_meta = entry_of(other, cache)
    shutil.copy(other_data, data)
    shutil.copy(other_meta, meta)


def test_a_cache_entry_is_private_and_served_again(cache, tmp_path):
    path = report(tmp_path / "a.json", 200, 1)
    first = load(path)
    data, meta = entry_of(path, cache)
    assert (data.stat().st_mode & 0o777, meta.stat().st_mode & 0o777) == (0o600, 0o600)
    assert cache.stat().st_mode & 0o777 == 0o700
    data.chmod(0o600)
    assert_frame_equal(load(path), first)


def test_a_directory_others_can_write_to_is_bypassed_with_one_warning(cache, tmp_path):
    a, b = report(tmp_path / "a.json", 200, 1), report(tmp_path / "b.json", 300, 2)
    want = load(a)
    plant(a, b, cache)  # what a planted entry would serve
    cache.chmod(0o777)
    with pytest.warns(UserWarning, match="not used: others can write to it") as caught:
        assert_frame_equal(load(a), want)
        assert_frame_equal(load(a), want)
    assert len([w for w in caught if "parse cache" in str(w.message)]) == 1


@pytest.mark.skipif(not hasattr(os, "getuid") or os.getuid() != 0, reason="needs root to chown")
def test_a_directory_of_another_user_is_bypassed(cache, tmp_path):
    a, b = report(tmp_path / "a.json", 200, 1), report(tmp_path / "b.json", 300, 2)
    want = load(a)
    plant(a, b, cache)
    os.chown(cache, 65534, 65534)
    with pytest.warns(UserWarning, match="belongs to another user"):
        assert_frame_equal(load(a), want)


@pytest.mark.parametrize(
    "sidecar",
    ["{}", "[]", '{"cells": [], "examples": {}}', '{"cells": {"x": "1"}, "examples": {}}', "nul"],
)
def test_a_sidecar_that_does_not_validate_is_recomputed(cache, tmp_path, sidecar):
    path = report(tmp_path / "a.json", 200, 1)
    want = load(path)
    _, meta = entry_of(path, cache)
    meta.write_text(sidecar)
    assert_frame_equal(load(path), want)
    assert json.loads(meta.read_text())["rows"] == want.height  # written again


def test_a_frame_that_disagrees_with_its_sidecar_is_recomputed(cache, tmp_path):
    a, b = report(tmp_path / "a.json", 200, 1), report(tmp_path / "b.json", 300, 2)
    want = load(a)
    load(b)
    shutil.copy(entry_of(b, cache)[0], entry_of(a, cache)[0])  # only the frame swapped
    assert_frame_equal(load(a), want)


def test_a_symlinked_entry_is_recomputed(cache, tmp_path):
    a, b = report(tmp_path / "a.json", 200, 1), report(tmp_path / "b.json", 300, 2)
    want = load(a)
    load(b)
    for mine, theirs in zip(entry_of(a, cache), entry_of(b, cache), strict=True):
        mine.unlink()
        mine.symlink_to(theirs)
    assert_frame_equal(load(a), want)
    assert not entry_of(a, cache)[0].is_symlink()


def test_a_file_rewritten_to_the_same_size_and_mtime_is_read_again(cache, tmp_path):
    path = report(tmp_path / "a.json", 200, 1)
    first = load(path)
    info = path.stat()
    text = path.read_bytes()
    changed = text.replace(b'"FINISHED"', b'"ABANDONE"', 1)  # same length
    assert changed != text and len(changed) == len(text)
    path.write_bytes(changed)
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))  # what `touch -d` restores
    assert path.stat().st_size == info.st_size and path.stat().st_mtime_ns == info.st_mtime_ns
    again = load(path)
    assert not again.equals(first)
    assert_frame_equal(again, ok.load(path, cache=False))


def test_the_cache_drops_the_least_recently_used_beyond_its_size(cache, tmp_path, monkeypatch):
    paths = [report(tmp_path / f"{i}.json", 400, i) for i in range(3)]
    for path in paths:
        load(path)
    sizes = {p: sum(f.stat().st_size for f in entry_of(p, cache)) for p in paths}
    # Used in the order 0, 2, 1: entry 0 is the least recently used.
    for age, path in zip((3, 1, 2), paths, strict=True):
        data = entry_of(path, cache)[0]
        os.utime(data, ns=(0, data.stat().st_mtime_ns - age * 10**9))
    fourth = report(tmp_path / "3.json", 400, 3)
    monkeypatch.setenv("OMNIKIT_CACHE_MAX_BYTES", str(sum(sizes.values()) + 100))
    load(fourth)
    kept = [p for p in paths if entry_of(p, cache)[0].exists()]
    assert kept == [paths[1], paths[2]]  # only the least recently used went
    assert entry_of(fourth, cache)[0].exists() and not entry_of(paths[0], cache)[1].exists()
    monkeypatch.setenv("OMNIKIT_CACHE_MAX_BYTES", "0")
    load(paths[0])
    assert list(cache.glob("*.arrow")) == []


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("8G", 8 << 30),
        ("500M", 500 << 20),
        ("1.5k", 1536),
        ("123", 123),
        ("2GiB", 2 << 30),
        ("64 MB", 64 << 20),
    ],
)
def test_size_limits_take_units(monkeypatch, text, size):
    monkeypatch.setenv("OMNIKIT_CACHE_MAX_BYTES", text)
    assert _cache.max_bytes() == size


def test_an_unreadable_size_limit_is_a_parameter_error_at_the_call(cache, tmp_path):
    path = report(tmp_path / "a.json", 50, 1)
    code = (
        "import omnikit as ok, sys\n"
        "try:\n"
        f"    ok.load({str(path)!r}, cache=True)\n"
        "except ok.ParameterError as error:\n"
        "    print('ParameterError:', error); sys.exit(3)\n"
    )
    env = {**os.environ, "OMNIKIT_CACHE_MAX_BYTES": "lots", "OMNIKIT_CACHE_DIR": str(cache)}
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert run.returncode == 3, run.stderr
    assert "OMNIKIT_CACHE_MAX_BYTES is 'lots'" in run.stdout
    assert "Traceback" not in run.stderr and "Exception in thread" not in run.stderr


def test_no_warning_for_a_private_cache(cache, tmp_path):
    path = report(tmp_path / "a.json", 50, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        load(path)
        load(path)
