"""Property tests: any report round-trips through every file format to the same frame."""

from __future__ import annotations

import datetime as dt
import tempfile
import warnings
from pathlib import Path
from typing import Any

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal
from test_load import FIELDS, write

import omnikit as ok
from omnikit import _readers
from omnikit._io import canonicalize

# Text that stresses the JSON fast path: quotes, braces, commas, colons, backslashes, unicode.
TEXT = st.lists(
    st.sampled_from(list('ab Z09"{},:\\/é李-_.@+()') + ["null", "},{", '":', "\\n"]), max_size=8
).map("".join)
SECONDS = st.one_of(st.none(), st.integers(min_value=0, max_value=10**7))
WHEN = st.one_of(
    st.none(),
    st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2030, 1, 1)).map(
        lambda d: d.strftime("%Y-%m-%d %H:%M:%S")
    ),
)


@st.composite
def reports(draw: Any) -> list[dict[str, Any]]:
    n = draw(st.integers(min_value=1, max_value=12))
    ids = draw(
        st.lists(st.text("0123456789abcdef", min_size=1, max_size=6), min_size=n, max_size=n)
    )
    extra = draw(st.sampled_from([None, "queue_name", "csat-score"]))
    entries = []
    for interaction_id in ids:
        e: dict[str, Any] = {}
        for field in FIELDS:
            if field == "interaction_id":
                e[field] = interaction_id
            elif field in ("waiting_time", "duration"):
                e[field] = draw(SECONDS)
            elif field.endswith("date-time"):
                e[field] = draw(WHEN)
            else:
                e[field] = draw(st.one_of(st.just(""), TEXT))
        if extra:
            e[extra] = draw(st.one_of(st.just(""), TEXT))
        entries.append(e)
    return entries


def quiet_load(source: Any, timezone: str) -> pl.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ok.DataQualityWarning)
        return ok.load(source, timezone=timezone, cache=False)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    entries=reports(),
    timezone=st.sampled_from(["UTC", "Europe/Lisbon", "America/New_York", "Asia/Kolkata"]),
)
def test_any_report_round_trips_through_every_format(
    entries: list[dict[str, Any]], timezone: str
) -> None:
    expected = quiet_load(entries, timezone)
    assert expected.columns[: len(ok.CANONICAL_COLUMNS)] == list(ok.CANONICAL_COLUMNS)
    assert expected["interaction_id"].n_unique() == expected.height  # duplicates resolved
    with tempfile.TemporaryDirectory() as folder:
        for name, fmt, indent in [
            ("r.json", "json", False),
            ("p.json", "json", True),
            ("a.json", "array", False),
            ("r.ndjson", "ndjson", False),
            ("r.csv", "csv", False),
            ("r.parquet", "parquet", False),
        ]:
            path = write(Path(folder) / name, entries, fmt=fmt, indent=indent)
            assert_frame_equal(quiet_load(path, timezone), expected, check_dtypes=True)


@settings(max_examples=60, deadline=None)
@given(entries=reports())
def test_fast_json_path_equals_general_path(entries: list[dict[str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        for fmt, reader, indent in [
            ("json", _readers.read_json, False),
            ("json", _readers.read_json, True),
            ("ndjson", _readers.read_ndjson, False),
        ]:
            path = write(Path(folder) / f"r.{fmt}", entries, fmt=fmt, indent=indent)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ok.DataQualityWarning)
                fast = canonicalize(reader(path, fast=True))
                general = canonicalize(reader(path, fast=False))
            assert_frame_equal(fast, general)
