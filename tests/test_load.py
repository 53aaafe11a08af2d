"""ok.load and ok.scan as the README's "Loading reports": sources, columns, types, bad input."""

from __future__ import annotations

import csv
import datetime as dt
import os
import warnings
from pathlib import Path
from typing import Any

import orjson
import polars as pl
import pytest
from polars.testing import assert_frame_equal

import omnikit as ok
from omnikit import _cache, _readers
from omnikit._io import canonicalize

ROOT = Path(__file__).resolve().parents[1]

FIELDS = [
    "interaction_id",
    "waiting_time",
    "start_date-time",
    "end_date-time",
    "duration",
    "interaction_type",
    "interaction_status",
    "interaction_direction",
    "agent_type",
    "groups",
    "agent_name",
    "agent_id",
    "external_id",
    "name",
    "contact",
    "contact_id",
    "disposition_name",
    "transcription-recording",
    "notes",
]


def entry(interaction_id: str, **fields: Any) -> dict[str, Any]:
    """A vendor-format entry with every field, empty unless given."""
    base: dict[str, Any] = dict.fromkeys(FIELDS, "")
    base.update(
        {
            "interaction_id": interaction_id,
            "waiting_time": 5,
            "start_date-time": "2024-09-05 10:00:00",
            "end_date-time": "2024-09-05 10:01:00",
            "duration": 60,
            "interaction_type": "VOICE",
            "interaction_status": "FINISHED",
            "interaction_direction": "INBOUND",
        }
    )
    for key, value in fields.items():
        base[key.replace("__", "-")] = value
    return base


def write(
    path: Path, entries: list[dict[str, Any]], *, fmt: str | None = None, indent: bool = False
) -> Path:
    """Write entries in one of the report's file formats."""
    fmt = fmt or path.suffix.lstrip(".")
    if fmt == "json":
        option = orjson.OPT_INDENT_2 if indent else 0
        path.write_bytes(orjson.dumps({"entries": entries, "total": len(entries)}, option=option))
    elif fmt == "array":
        path.write_bytes(orjson.dumps(entries))
    elif fmt in ("ndjson", "jsonl"):
        path.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in entries))
    elif fmt == "csv":
        keys = list(dict.fromkeys(k for e in entries for k in e))
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=keys)
            writer.writeheader()
            for e in entries:
                writer.writerow({k: "" if e.get(k) is None else e.get(k) for k in keys})
    elif fmt == "parquet":
        pl.DataFrame(entries, infer_schema_length=None).write_parquet(path)
    else:
        raise AssertionError(fmt)
    return path


# ---------------------------------------------------------------------------------------------
# The vendor's sample, field by field


def test_vendor_sample_loads_cleanly_field_by_field(vendor_sample: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        df = ok.load(vendor_sample, timezone="America/Los_Angeles")
    assert df.columns == list(ok.CANONICAL_COLUMNS)
    assert df.schema == ok.canonical_schema("America/Los_Angeles")
    assert df.height == 8
    first = df.row(0, named=True)
    la = dt.timezone(dt.timedelta(hours=-7))  # PDT in September
    assert first == {
        "interaction_id": "fe98638988574d359f0909cf089283f6",
        "waiting_time": 0,
        "start_date_time": dt.datetime(2024, 9, 9, 9, 11, 5, tzinfo=la),
        "end_date_time": dt.datetime(2024, 9, 9, 9, 12, 13, tzinfo=la),
        "duration": 68,
        "interaction_type": "CHAT",
        "interaction_status": "FINISHED",
        "interaction_direction": "INBOUND",
        "agent_type": "VIRTUAL_AGENT",
        "groups": None,
        "agent_name": None,
        "agent_id": "599b6eb9-ac30-49f0-84a1-13e2676c8d3c",
        "external_id": "9",
        "name": "Xiao Lux13",
        "contact": "https://xls.mybigcommerce.com/?ctk=99dcbc87-7b1d-45f2-8967-5b5f763f2197",
        "contact_id": None,
        "disposition_name": None,
        "transcription_recording": "https://erc-bigcommerce-us.mytalkdesk.com/atlas/apps/conversation-history/chat/fe98638988574d359f0909cf089283f6",
        "notes": None,
    }
    offered = df.filter(pl.col("interaction_id") == "35b7562c6f4445a4acad4af79e6b8e34").row(
        0, named=True
    )
    assert offered["waiting_time"] is None and offered["duration"] is None
    assert offered["end_date_time"] is None and offered["interaction_status"] == "OFFERED"
    assert df["interaction_type"].to_list() == [
        "CHAT",
        "VOICE",
        "SMS",
        "VOICE",
        "VOICE",
        "VOICE",
        "SMS",
        "EMAIL",
    ]
    assert df["waiting_time"].to_list() == [0, 11, 532, 10, 12, 7, None, 6]
    assert df["duration"].to_list() == [68, 26, 532, 45, 40, 7, None, None]
    assert df["contact"][7] == "[email\xa0protected]"  # kept exactly as written (a no-break space)
    assert df["groups"].to_list() == [
        None,
        "agents",
        "agents",
        *["654367b0b82ba35ce2d69439"] * 3,
        None,
        None,
    ]


# ---------------------------------------------------------------------------------------------
# Every source kind gives the same frame

ENTRIES = [
    entry("a1", waiting_time=3, contact="+15108769640", name="Ann"),
    entry(
        "b2",
        waiting_time=None,
        duration=None,
        **{"end_date-time": None},
        interaction_status="OFFERED",
    ),
    entry("c3", interaction_type="WHATSAPP", interaction_direction="OUTBOUND", notes="called back"),
]


@pytest.mark.parametrize(
    ("name", "fmt", "indent"),
    [
        ("r.json", "json", False),
        ("r.json", "json", True),
        ("r.json", "array", False),
        ("r.ndjson", "ndjson", False),
        ("r.jsonl", "jsonl", False),
        ("r.csv", "csv", False),
        ("r.parquet", "parquet", False),
    ],
)
def test_every_file_format_gives_the_same_frame(
    tmp_path: Path, name: str, fmt: str, indent: bool
) -> None:
    expected = ok.load(ENTRIES)
    got = ok.load(write(tmp_path / name, ENTRIES, fmt=fmt, indent=indent))
    assert_frame_equal(got, expected)
    assert got["interaction_type"].to_list() == ["VOICE", "VOICE", "WHATSAPP"]
    assert got["waiting_time"].to_list() == [3, None, 5]


def test_envelope_dict_list_of_dicts_directory_glob_and_list(tmp_path: Path) -> None:
    expected = ok.load(ENTRIES)
    assert_frame_equal(ok.load({"entries": ENTRIES, "total": 3}), expected)
    folder = tmp_path / "reports"
    folder.mkdir()
    write(folder / "1.json", ENTRIES[:1])
    write(folder / "2.csv", ENTRIES[1:2])
    write(folder / "3.ndjson", ENTRIES[2:])
    (folder / "_manifest.json").write_text('{"not": "a report"}')  # skipped: starts with _
    (folder / "readme.txt").write_text("not a report either")  # skipped: not a report suffix
    assert_frame_equal(ok.load(folder), expected)
    assert ok.load(str(folder / "[12].*")).height == 2
    assert_frame_equal(ok.load([folder / "1.json", str(folder / "2.csv"), ENTRIES[2:]]), expected)


def test_extra_fields_are_kept_after_the_canonical_columns_and_missing_ones_are_null(
    tmp_path: Path,
) -> None:
    entries = [
        {"interaction_id": "x", "queue_name": "billing", "waiting_time": 4},
        {"interaction_id": "y", "csat": 5, "waiting_time": 2},
    ]
    df = ok.load(write(tmp_path / "r.json", entries))
    assert df.columns == [*ok.CANONICAL_COLUMNS, "queue_name", "csat"]
    assert df.schema["queue_name"] == pl.String and df.schema["csat"] == pl.String
    assert df["queue_name"].to_list() == ["billing", None]
    assert df["csat"].to_list() == [None, "5"]
    assert df["notes"].to_list() == [None, None]
    assert df.schema["start_date_time"] == pl.Datetime("us", "UTC")


def test_empty_strings_become_null_but_other_values_are_kept_exactly() -> None:
    df = ok.load([entry("x", agent_name="", notes=" ", interaction_type="WhatsApp ")])
    assert df["agent_name"][0] is None
    assert df["notes"][0] == " "
    assert df["interaction_type"][0] == "WhatsApp "


def test_an_empty_report_is_an_empty_canonical_frame(tmp_path: Path) -> None:
    df = ok.load(write(tmp_path / "r.json", []), timezone="Europe/Lisbon")
    assert df.height == 0 and df.schema == ok.canonical_schema("Europe/Lisbon")


# ---------------------------------------------------------------------------------------------
# Time zones and DST


def test_wall_clock_times_are_read_in_the_given_timezone() -> None:
    df = ok.load(
        [entry("x", **{"start_date-time": "2024-01-15 09:00:00"})], timezone="Europe/Lisbon"
    )
    assert df["start_date_time"].dtype == pl.Datetime("us", "Europe/Lisbon")
    assert df["start_date_time"].dt.convert_time_zone("UTC")[0] == dt.datetime(
        2024, 1, 15, 9, tzinfo=dt.UTC
    )
    ny = ok.load(
        [entry("x", **{"start_date-time": "2024-01-15 09:00:00"})], timezone="America/New_York"
    )
    assert ny["start_date_time"].dt.convert_time_zone("UTC")[0] == dt.datetime(
        2024, 1, 15, 14, tzinfo=dt.UTC
    )


def test_repeated_fall_back_hour_takes_the_earlier_instant() -> None:
    # Lisbon leaves summer time at 02:00 on 2024-10-27: 01:30 happens twice (WEST, then WET).
    df = ok.load(
        [entry("x", **{"start_date-time": "2024-10-27 01:30:00"})], timezone="Europe/Lisbon"
    )
    utc = df["start_date_time"].dt.convert_time_zone("UTC")[0]
    assert utc == dt.datetime(2024, 10, 27, 0, 30, tzinfo=dt.UTC)  # 01:30 WEST = 00:30 UTC


def test_time_in_the_spring_forward_gap_is_a_bad_cell() -> None:
    # Lisbon skips 01:00-02:00 on 2024-03-31.
    rows = [
        entry("gap", **{"start_date-time": "2024-03-31 01:30:00"}),
        entry("ok", **{"start_date-time": "2024-03-31 02:30:00"}),
    ]
    with pytest.warns(ok.DataQualityWarning, match=r"start_date_time: 1 cell .*Europe/Lisbon.*gap"):
        df = ok.load(rows, timezone="Europe/Lisbon")
    assert df["start_date_time"].is_null().to_list() == [True, False]
    assert df.height == 2


def test_iso_spellings_with_offsets_are_understood() -> None:
    rows = [
        entry("t", **{"start_date-time": "2024-09-05T10:00:00"}),
        entry("z", **{"start_date-time": "2024-09-05T10:00:00Z"}),
        entry("o", **{"start_date-time": "2024-09-05T12:00:00+02:00"}),
        entry("f", **{"start_date-time": "2024-09-05 10:00:00.250"}),
    ]
    df = ok.load(rows, timezone="UTC")
    ten = dt.datetime(2024, 9, 5, 10, tzinfo=dt.UTC)
    assert df["start_date_time"].to_list() == [ten, ten, ten, ten + dt.timedelta(milliseconds=250)]


def test_unknown_timezone_is_a_parameter_error() -> None:
    with pytest.raises(ok.ParameterError, match="Mars/Olympus"):
        ok.load(ENTRIES, timezone="Mars/Olympus")


# ---------------------------------------------------------------------------------------------
# Duplicates


def test_duplicates_within_a_file_keep_the_last_occurrence() -> None:
    rows = [
        entry("a", interaction_status="OFFERED", duration=None),
        entry("b"),
        entry("a", interaction_status="FINISHED", duration=90),
    ]
    df = ok.load(rows)
    assert df.height == 2
    assert (
        df.filter(pl.col("interaction_id") == "a").row(0, named=True)["interaction_status"]
        == "FINISHED"
    )
    assert df.filter(pl.col("interaction_id") == "a")["duration"].to_list() == [90]


def test_duplicates_across_sources_keep_the_last_in_the_order_given(tmp_path: Path) -> None:
    early = write(tmp_path / "week1.json", [entry("a", interaction_status="ASSIGNED"), entry("b")])
    late = write(tmp_path / "week2.csv", [entry("a", interaction_status="FINISHED"), entry("c")])
    both = ok.load([early, late])
    assert sorted(both["interaction_id"]) == ["a", "b", "c"]
    assert both.filter(pl.col("interaction_id") == "a")["interaction_status"].to_list() == [
        "FINISHED"
    ]
    reversed_ = ok.load([late, early])
    assert reversed_.filter(pl.col("interaction_id") == "a")["interaction_status"].to_list() == [
        "ASSIGNED"
    ]
    # A directory is read in name order: week2 is later.
    assert ok.load(tmp_path).filter(pl.col("interaction_id") == "a")[
        "interaction_status"
    ].to_list() == ["FINISHED"]


def test_rows_without_interaction_id_are_kept_and_reported() -> None:
    rows = [entry(""), entry(""), entry("a")]
    with pytest.warns(ok.DataQualityWarning, match=r"interaction_id: 2 cells"):
        df = ok.load(rows)
    assert df.height == 3


# ---------------------------------------------------------------------------------------------
# Bad cells


def test_bad_cells_become_null_with_one_warning_per_load() -> None:
    rows = [
        entry("neg", waiting_time=-4),
        entry("frac", duration=12.5),
        entry("text", waiting_time="soon"),
        entry("baddate", **{"start_date-time": "2024-13-45 99:00:00"}),
        entry("fine", waiting_time=12.0),
    ]
    with pytest.warns(ok.DataQualityWarning) as record:
        df = ok.load(rows)
    assert len(record) == 1
    message = str(record[0].message)
    assert "4 bad cells set to null" in message
    assert "waiting_time: 2 cells" in message and "neg" in message and "text" in message
    assert "duration: 1 cell" in message and "frac" in message
    assert "start_date_time: 1 cell" in message and "baddate" in message
    assert df.height == 5
    assert df["waiting_time"].to_list() == [None, 5, None, 5, 12]
    assert df["duration"].to_list() == [60, None, 60, 60, 60]
    assert df["start_date_time"].null_count() == 1


def test_strict_raises_the_same_summary() -> None:
    rows = [entry("neg", waiting_time=-4), entry("bad", **{"end_date-time": "yesterday"})]
    with pytest.raises(ok.ReportValidationError, match="2 bad cells") as info:
        ok.load(rows, strict=True)
    assert info.value.problems["waiting_time"][0] == 1
    assert "interaction_id neg" in info.value.problems["waiting_time"][1][0]
    assert info.value.problems["end_date_time"][0] == 1
    assert isinstance(info.value, ok.OmnikitError) and isinstance(info.value, ValueError)


def test_bad_cells_in_csv_are_found_too(tmp_path: Path) -> None:
    path = write(
        tmp_path / "r.csv",
        [entry("a", waiting_time="-1"), entry("b", duration="7.5"), entry("c", waiting_time="")],
    )
    with pytest.warns(ok.DataQualityWarning, match="2 bad cells"):
        df = ok.load(path)
    assert df["waiting_time"].to_list() == [None, 5, None]
    assert df["duration"].to_list() == [60, None, 60]


# ---------------------------------------------------------------------------------------------
# Files that are not reports


def test_not_json_names_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"entries": [\n  {"interaction_id": "a",}\n]}')
    with pytest.raises(
        ok.ReportFormatError, match=r"broken\.json, line 2, column \d+: not valid JSON"
    ) as info:
        ok.load(path)
    assert info.value.line == 2 and info.value.path == str(path)


def test_truncated_json_is_a_format_error(tmp_path: Path) -> None:
    full = orjson.dumps({"entries": [entry("a"), entry("b")], "total": 2})
    path = tmp_path / "cut.json"
    path.write_bytes(full[: len(full) // 2])
    with pytest.raises(ok.ReportFormatError, match=r"cut\.json, line 1, column \d+"):
        ok.load(path)


def test_wrong_envelope_is_a_format_error(tmp_path: Path) -> None:
    path = tmp_path / "other.json"
    path.write_text('{\n  "data": [], "count": 0\n}')
    with pytest.raises(
        ok.ReportFormatError, match=r"other\.json, line 1, column 1: .*'entries'.*'data'"
    ):
        ok.load(path)
    path.write_text('{\n  "entries": {"a": 1}\n}')
    with pytest.raises(ok.ReportFormatError, match=r"line 2, column 3: 'entries' must be a list"):
        ok.load(path)
    path.write_text('{"entries": [1, 2]}')
    with pytest.raises(ok.ReportFormatError, match=r"entry 0 .* is a number, not an object"):
        ok.load(path)
    path.write_text('"just a string"')
    with pytest.raises(ok.ReportFormatError, match="found a string"):
        ok.load(path)


def test_ndjson_line_that_is_not_json_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "r.ndjson"
    path.write_bytes(orjson.dumps(entry("a")) + b"\n" + orjson.dumps(entry("b")) + b"\n{oops\n")
    with pytest.raises(ok.ReportFormatError, match=r"r\.ndjson, line 3, column \d+"):
        ok.load(path)


def test_csv_without_interaction_id_is_a_format_error(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text("name,phone\nAnn,555\n")
    with pytest.raises(
        ok.ReportFormatError, match=r"people\.csv, line 1: .*no interaction_id.*name, phone"
    ):
        ok.load(path)


def test_unsupported_suffix_and_missing_paths(tmp_path: Path) -> None:
    odd = tmp_path / "r.xlsx"
    odd.write_text("x")
    with pytest.raises(ok.ReportFormatError, match=r"cannot read '\.xlsx' files"):
        ok.load(odd)
    with pytest.raises(FileNotFoundError, match="no such file"):
        ok.load(tmp_path / "nope.json")
    with pytest.raises(FileNotFoundError, match="no file matches"):
        ok.load(str(tmp_path / "*.json"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no report files"):
        ok.load(tmp_path / "empty")
    with pytest.raises(ok.ParameterError):
        ok.load(42)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# The fast JSON path gives exactly what the general path gives


FAST_CASES = {
    "clean": [entry(f"id{i}", waiting_time=i) for i in range(50)],
    "unknown field late": [entry(f"id{i}") for i in range(40)]
    + [{**entry("late"), "queue": "vip"}],
    "missing field late": [entry(f"id{i}") for i in range(40)]
    + [{k: v for k, v in entry("short").items() if k != "notes"}],
    "seconds as text": [entry("a"), entry("b", waiting_time="12")],
    "nested value": [entry("a"), {**entry("b"), "notes": {"k": [1, 2]}}],
    "separator inside a string": [entry("a", notes='he said "},{" twice'), entry("b")],
    "escaped quotes and colons": [entry("a", notes='x\\":null', name='"Q": n'), entry("b")],
    "unicode": [entry("a", name="Zoë Ñúñez 李"), entry("b")],
    "quoted notes": [
        entry("a", notes='Said the parcel was "left at the door", then {}'),
        entry("b"),
    ],
    "null everywhere": [dict.fromkeys(FIELDS) | {"interaction_id": "n"}, entry("b")],
}


@pytest.mark.parametrize("case", list(FAST_CASES))
@pytest.mark.parametrize("fmt", ["json", "pretty", "ndjson"])
def test_fast_path_equals_general_path(tmp_path: Path, case: str, fmt: str) -> None:
    path = write(
        tmp_path / f"r.{fmt.replace('pretty', 'json')}", FAST_CASES[case], indent=fmt == "pretty"
    )
    reader = _readers.read_ndjson if fmt == "ndjson" else _readers.read_json
    assert_frame_equal(
        canonicalize(reader(path, fast=True)), canonicalize(reader(path, fast=False))
    )


@pytest.mark.parametrize("indent", [False, True])
@pytest.mark.parametrize("case", ["clean", "quoted notes", "unicode", "null everywhere"])
def test_fast_path_is_taken_for_ordinary_json(tmp_path: Path, indent: bool, case: str) -> None:
    path = write(tmp_path / "r.json", FAST_CASES[case], indent=indent)
    frame, _ = _readers._read_fast(path, ndjson=False)  # raises _NotFast if it would fall back
    assert frame.height == len(FAST_CASES[case])


def test_fast_path_is_taken_for_the_vendor_sample(vendor_sample: Path) -> None:
    frame, total = _readers._read_fast(vendor_sample, ndjson=False)
    assert total == 8
    assert_frame_equal(canonicalize(frame), ok.load(vendor_sample, cache=False))


def test_fast_path_spans_many_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_readers, "_CHUNK_BYTES", 1000)
    rows = [entry(f"id{i}", waiting_time=i % 7, notes="x" * (i % 13)) for i in range(300)]
    for fmt in ("json", "pretty", "ndjson"):
        path = write(tmp_path / f"r.{fmt.replace('pretty', 'json')}", rows, indent=fmt == "pretty")
        fast, _ = _readers._read_fast(path, ndjson=fmt == "ndjson")
        assert fast.height == 300
        reader = _readers.read_ndjson if fmt == "ndjson" else _readers.read_json
        assert_frame_equal(canonicalize(fast), canonicalize(reader(path, fast=False)))


# ---------------------------------------------------------------------------------------------
# The cache


def test_cached_load_is_identical_and_follows_file_changes(tmp_path: Path) -> None:
    path = write(tmp_path / "r.json", ENTRIES)
    _cache.clear()
    first = ok.load(path, cache=True)
    _cache.flush()  # the entry is written on a background thread
    assert list(_cache.cache_dir().glob("*.arrow"))
    assert_frame_equal(ok.load(path, cache=True), first)
    write(path, ENTRIES[:2])
    os.utime(path, ns=(1, 1))  # a different modification time
    assert ok.load(path, cache=True).height == 2


def test_cached_load_warns_again_and_honours_strict(tmp_path: Path) -> None:
    path = write(tmp_path / "r.json", [entry("neg", waiting_time=-1)])
    with pytest.warns(ok.DataQualityWarning):
        ok.load(path, cache=True)
    with pytest.warns(ok.DataQualityWarning, match="waiting_time: 1 cell"):
        ok.load(path, cache=True)
    with pytest.raises(ok.ReportValidationError):
        ok.load(path, cache=True, strict=True)


def test_cache_is_keyed_by_timezone(tmp_path: Path) -> None:
    path = write(tmp_path / "r.json", ENTRIES)
    utc = ok.load(path, cache=True)
    lisbon = ok.load(path, cache=True, timezone="Europe/Lisbon")
    assert lisbon.schema["start_date_time"] == pl.Datetime("us", "Europe/Lisbon")
    assert utc["start_date_time"][0] != lisbon["start_date_time"].dt.convert_time_zone("UTC")[0]


# ---------------------------------------------------------------------------------------------
# scan


def test_scan_reads_a_canonical_parquet_store_lazily(tmp_path: Path) -> None:
    store = tmp_path / "store"
    store.mkdir()
    ok.load(
        [entry("a", interaction_status="ASSIGNED"), entry("b")], timezone="Europe/Lisbon"
    ).write_parquet(store / "2024-09-05.parquet")
    ok.load([entry("a", interaction_status="FINISHED")], timezone="Europe/Lisbon").write_parquet(
        store / "2024-09-06.parquet"
    )
    (store / "_manifest.json").write_text("{}")
    lazy = ok.scan(store, timezone="UTC")
    assert isinstance(lazy, pl.LazyFrame)
    df = lazy.collect()
    assert sorted(df["interaction_id"]) == ["a", "b"]
    assert df.filter(pl.col("interaction_id") == "a")["interaction_status"].to_list() == [
        "FINISHED"
    ]
    assert df.schema["start_date_time"] == pl.Datetime("us", "UTC")
    assert_frame_equal(df, ok.load(store, timezone="UTC"), check_row_order=False)


def test_scan_of_other_sources_loads_with_the_same_checks(tmp_path: Path) -> None:
    path = write(tmp_path / "r.json", [entry("neg", waiting_time=-1)])
    with pytest.warns(ok.DataQualityWarning):
        lazy = ok.scan(path)
    assert lazy.collect()["waiting_time"].to_list() == [None]


def test_data_quality_warning_points_at_the_callers_line() -> None:
    with pytest.warns(ok.DataQualityWarning) as record:
        ok.load([entry("neg", waiting_time=-1)])
    assert record[0].filename == __file__


def test_an_empty_fetch_store_loads_as_an_empty_frame(tmp_path: Path) -> None:
    (tmp_path / "_manifest.json").write_text("{}")
    df = ok.load(tmp_path, timezone="Europe/Lisbon")
    assert df.height == 0 and df.schema == ok.canonical_schema("Europe/Lisbon")
    assert ok.scan(tmp_path).collect().height == 0


def test_escaped_quotes_are_told_apart_by_the_run_of_backslashes_before_them() -> None:
    import numpy as np

    from omnikit._structure import string_quotes

    for text, expected in [
        (b'"a"', [0, 2]),
        (b'"a\\"b"', [0, 5]),  # one backslash: an escaped quote inside the string
        (b'"a\\\\"', [0, 4]),  # two: an escaped backslash, then the closing quote
        (b'"\\\\\\"x"', [0, 6]),  # three: an escaped backslash and an escaped quote
        (b'"x" "y\\\\" "z"', [0, 2, 4, 8, 10, 12]),
    ]:
        data = np.frombuffer(bytearray(text), dtype=np.uint8)
        assert string_quotes(data).tolist() == expected, text
