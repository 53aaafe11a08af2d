"""The one atomic write helper and the one vendor-format writer (real files)."""

from __future__ import annotations

import errno
import os

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import omnikit as ok
from omnikit import _files, _vendor
from omnikit.testing import vendor_bytes


def test_an_atomic_write_replaces_the_file_whole_and_private(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    _files.atomic_write(target, lambda p: p.write_bytes(b"new"), mode=0o600)
    assert target.read_bytes() == b"new"
    assert target.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")

    def full_disk(path):
        path.write_bytes(b"half")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        _files.atomic_write(target, full_disk)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]
    with pytest.raises(KeyboardInterrupt), _files.AtomicFile(target) as out:
        out.file.write(b"partial")
        raise KeyboardInterrupt
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_a_new_file_gets_the_usual_permissions_unless_asked(tmp_path):
    umask = os.umask(0o022)
    try:
        with _files.AtomicFile(tmp_path / "a.json") as out:
            out.file.write(b"{}")
    finally:
        os.umask(umask)
    assert (tmp_path / "a.json").stat().st_mode & 0o777 == 0o644


def test_the_vendor_names_come_from_source_fields():
    assert _vendor.VENDOR_NAMES == {
        "start_date_time": "start_date-time",
        "end_date_time": "end_date-time",
        "transcription_recording": "transcription-recording",
    }
    assert set(_vendor.VENDOR_NAMES.values()) == {f for f in ok.SOURCE_FIELDS if "-" in f}


@pytest.mark.parametrize("fmt", ["json", "csv", "ndjson"])
def test_the_vendor_writer_round_trips_through_ok_load(tmp_path, fmt):
    frame = ok.synth_frame(500, seed=5, start="2024-09-02", days=4, timezone="Europe/Lisbon")
    path = tmp_path / f"r.{fmt}"
    path.write_bytes(vendor_bytes(frame, "Europe/Lisbon", fmt))
    back = ok.load(path, timezone="Europe/Lisbon", cache=False)
    assert_frame_equal(back.sort("interaction_id"), frame.sort("interaction_id"))


def test_generator_and_stand_in_share_the_one_writer():
    from omnikit import _synth
    from omnikit.testing import _standin

    assert _synth._Writer is _vendor.EnvelopeWriter
    assert _standin.vendor_bytes is _vendor.vendor_bytes


def test_an_empty_report_in_each_format(tmp_path):
    empty = pl.DataFrame(schema=ok.canonical_schema("UTC"))
    assert vendor_bytes(empty, "UTC", "json") == b'{"entries":[],"total":0}'
    assert vendor_bytes(empty, "UTC", "csv").decode().strip() == ",".join(ok.SOURCE_FIELDS)
