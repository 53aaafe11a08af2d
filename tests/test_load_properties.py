"""Property tests: any report round-trips through every file format to the same frame."""

from __future__ import annotations

import datetime as dt
import json
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
    st.sampled_from([*'ab Z09"{},:\\/é李-_.@+()', "null", "},{", '":', "\\n"]), max_size=8
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


# ---------------------------------------------------------------------------------------------
# Adversarial entries in every layout: the fast and the general path agree exactly

KEYS = ["interaction_id", "waiting_time", "notes", "external_id", "", "_row", "é", "a-b"]
# Another key of the same length in bytes: only comparing the keys' bytes tells them apart.
TWINS = {"notes": "queue", "_row": "name", "é": "ab", "a-b": "a_b", "waiting_time": "agent_name_x"}
NUMBERS = st.one_of(
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.integers(min_value=0, max_value=10**6).map(str),
    st.sampled_from(["1e3", "1E-7", "-0", "-0.0", "2.50", "1e400", "0", "9007199254740993"]),
)
STRINGS = st.builds(
    lambda text, ascii_: json.dumps(text, ensure_ascii=ascii_),
    st.text(st.sampled_from([*'a "\\/{}[],:\n\té李😀', "\x01", "\u2028"]), max_size=6),
    st.booleans(),
)
NESTED = st.one_of(
    st.sampled_from(['{"k":[1,2.50,null]}', "[]", '{"a":{"b":"c"}}', "[[1],[2]]"]),
    st.integers(min_value=1, max_value=120).map(lambda n: "[" * n + "]" * n),
)
PLAIN = st.one_of(
    STRINGS,
    STRINGS,
    NUMBERS,
    st.sampled_from(["null", "true", "false", '"\\ud800 lone half of a pair"', '"\\udc00"']),
)


@st.composite
def raw_entries(draw: Any) -> list[list[tuple[str, str]]]:
    """Entries as (key, JSON text of the value) pairs: duplicated keys and all.

    Each example turns on a few troubles (nesting, an empty key, entries whose keys differ from
    the first one's), so that many examples stay on the fast path and the rest leave it.
    """
    sometimes = st.sampled_from([False, False, True])
    nesting, empty_key, changes = draw(sometimes), draw(sometimes), draw(st.booleans())
    values = st.one_of(PLAIN, NESTED) if nesting else PLAIN
    keys_from = KEYS if empty_key else [k for k in KEYS if k]
    template = draw(st.lists(st.sampled_from(keys_from), min_size=1, max_size=5, unique=True))
    entries = []
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        keys = list(template)
        change = draw(
            st.sampled_from(
                ["same", "duplicate", "extra null", "drop", "shuffle"]
                + ["twin", "duplicate for drop"] * 2
            )
            if changes
            else st.just("same")
        )
        if change == "duplicate":
            keys.append(draw(st.sampled_from(keys)))
        elif change == "extra null":
            keys.append("unknown")
        elif change == "drop" and len(keys) > 1:
            keys.pop(draw(st.integers(min_value=0, max_value=len(keys) - 1)))
        elif change == "shuffle":
            keys = draw(st.permutations(keys))
        elif change == "twin":
            keys = [TWINS.get(k, k) for k in keys]
        elif change == "duplicate for drop" and len(keys) > 1:
            keys[-1] = keys[0]  # the byte counts balance: one key twice, one missing
        entries.append([(k, "null" if k == "unknown" else draw(values)) for k in keys])
    return entries


def layout(entries: list[list[tuple[str, str]]], style: str) -> bytes:
    """Write raw entries as JSON in one of the layouts the fast path must read."""
    if style == "ndjson":
        return "\n".join(_object(e, ",", ":", None) for e in entries).encode() + b"\n"
    item, key, indent, newline = {
        "compact": (",", ":", None, "\n"),
        "json.dump": (", ", ": ", None, "\n"),
        "indent 2": (",", ": ", "  ", "\n"),
        "tabs CRLF": (",", ": ", "\t", "\r\n"),
        "bare array": (", ", ": ", None, "\n"),
        "total first": (",", ":", " ", "\n"),
    }[style]
    inner = [_object(e, item, key, indent, newline) for e in entries]
    pad = newline + (indent or "") if indent else ""
    body = ("," + pad).join(inner)
    if style == "bare array":
        return ("[" + body + "]").encode()
    if style == "total first":
        return f'{{"total": {len(entries)}, "entries": [{pad}{body}{newline}]}}'.encode()
    return f'{{"entries": [{pad}{body}{newline}], "total": {len(entries)}}}'.encode()


def _object(
    pairs: list[tuple[str, str]], item: str, key: str, indent: str | None, newline: str = "\n"
) -> str:
    fields = [json.dumps(k, ensure_ascii=False) + key + v for k, v in pairs]
    if indent is None:
        return "{" + item.join(fields) + "}"
    pad = newline + indent * 2
    return "{" + pad + ("," + pad).join(fields) + newline + indent + "}"


def read_or_error(reader: Any, path: Path, fast: bool) -> pl.DataFrame | str:
    try:
        return reader(path, fast=fast)
    except ok.ReportFormatError as error:
        return f"ReportFormatError: {error}"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entries=raw_entries())
def test_adversarial_entries_read_the_same_on_both_paths_in_every_layout(
    entries: list[list[tuple[str, str]]],
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        for style in [
            "compact",
            "json.dump",
            "indent 2",
            "tabs CRLF",
            "bare array",
            "total first",
            "ndjson",
        ]:
            ndjson = style == "ndjson"
            path = Path(folder) / ("r.ndjson" if ndjson else "r.json")
            path.write_bytes(layout(entries, style))
            reader = _readers.read_ndjson if ndjson else _readers.read_json
            fast = read_or_error(reader, path, True)
            general = read_or_error(reader, path, False)
            if isinstance(general, str) or isinstance(fast, str):
                assert isinstance(fast, str) and isinstance(general, str), (style, fast, general)
                assert fast == general, style
            else:
                assert_frame_equal(fast, general)
                assert fast.height == len(entries)
