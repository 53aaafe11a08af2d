"""Loading: every JSON layout on the fast path, one meaning for every value, bad files named.

Each layout must be read by the fast path (``_read_fast`` raises ``_NotFast`` where it would
fall back) and give exactly the general path's frame; what it cannot vouch for falls back.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from test_load import entry

import omnikit as ok
from omnikit import _readers

BOM = b"\xef\xbb\xbf"

ENTRIES = [entry(f"id{i}", waiting_time=i, notes="x" * (i % 5)) for i in range(40)] + [
    entry("q1", notes='he said "},{" and {"a": [1]} \\ back\\slash \\" end', name="Zoë 李 😀"),
    entry("q2", notes="line\nbreak\ttab\r", agent_name='"', contact="\\"),
    entry("q3", notes='":null, "x": 1', name="}", groups="]"),
    entry("n1", **{"end_date-time": None}, duration=None, notes=None),
]


def envelope(entries: list[dict[str, Any]]) -> dict[str, Any]:
    return {"entries": entries, "total": len(entries)}


LAYOUTS: dict[str, Callable[[list[dict[str, Any]]], bytes]] = {
    "compact": lambda e: orjson.dumps(envelope(e)),
    "json.dump default": lambda e: json.dumps(envelope(e)).encode(),
    "ensure_ascii off": lambda e: json.dumps(envelope(e), ensure_ascii=False).encode(),
    "indent 2": lambda e: json.dumps(envelope(e), indent=2).encode(),
    "indent 4": lambda e: json.dumps(envelope(e), indent=4).encode(),
    "tabs with CRLF": lambda e: json.dumps(envelope(e), indent="\t").replace("\n", "\r\n").encode(),
    "bare array": lambda e: json.dumps(e).encode(),
    "bare array indent": lambda e: json.dumps(e, indent=1).encode(),
    "total first": lambda e: json.dumps({"total": len(e), "entries": e}, indent=3).encode(),
    "spaces around colons": lambda e: json.dumps(envelope(e), separators=(" , ", " : ")).encode(),
    "byte-order mark": lambda e: BOM + json.dumps(envelope(e), indent=2).encode(),
}
NDJSON_LAYOUTS: dict[str, Callable[[list[dict[str, Any]]], bytes]] = {
    "ndjson": lambda e: b"".join(orjson.dumps(x) + b"\n" for x in e),
    "ndjson CRLF, spaces, blank lines": lambda e: (
        b"\r\n\r\n".join(json.dumps(x).encode() for x in e) + b"\r\n"
    ),
    "ndjson with a BOM": lambda e: BOM + b"\n".join(orjson.dumps(x) for x in e),
}


def quiet(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ok.DataQualityWarning)
        return function(*args, **kwargs)


def both_paths(path: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    reader = _readers.read_json if path.suffix == ".json" else _readers.read_ndjson
    return reader(path, fast=True), reader(path, fast=False)


# ---------------------------------------------------------------------------------------------
# Every layout goes fast, and gives the general path's frame


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_every_json_layout_takes_the_fast_path(tmp_path: Path, layout: str) -> None:
    path = tmp_path / "r.json"
    path.write_bytes(LAYOUTS[layout](ENTRIES))
    fast, total = _readers._read_fast(path, ndjson=False)  # raises _NotFast if it fell back
    general = _readers.read_json(path, fast=False)
    assert_frame_equal(fast, general)
    assert fast.height == len(ENTRIES) and fast.columns == list(ENTRIES[0])
    assert total == (None if "array" in layout else len(ENTRIES))
    assert fast.filter(pl.col("interaction_id") == "q1")["notes"].item() == ENTRIES[-4]["notes"]
    assert fast.filter(pl.col("interaction_id") == "q2")["notes"].item() == "line\nbreak\ttab\r"


@pytest.mark.parametrize("layout", list(NDJSON_LAYOUTS))
def test_every_ndjson_layout_takes_the_fast_path(tmp_path: Path, layout: str) -> None:
    path = tmp_path / "r.ndjson"
    path.write_bytes(NDJSON_LAYOUTS[layout](ENTRIES))
    fast, _ = _readers._read_fast(path, ndjson=True)
    assert_frame_equal(fast, _readers.read_ndjson(path, fast=False))
    assert fast.height == len(ENTRIES)


@pytest.mark.parametrize("layout", ["compact", "json.dump default", "tabs with CRLF", "ndjson"])
def test_fast_path_spans_many_chunks_in_every_layout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, layout: str
) -> None:
    monkeypatch.setattr(_readers, "_CHUNK_BYTES", 700)  # entries longer than a chunk, too
    ndjson = layout == "ndjson"
    path = tmp_path / ("r.ndjson" if ndjson else "r.json")
    path.write_bytes((NDJSON_LAYOUTS if ndjson else LAYOUTS)[layout](ENTRIES * 5))
    fast, _ = _readers._read_fast(path, ndjson=ndjson)
    assert fast.height == len(ENTRIES) * 5
    general = (_readers.read_ndjson if ndjson else _readers.read_json)(path, fast=False)
    assert_frame_equal(fast, general)


# Escapes the layout walk must measure (written length != decoded length), with no '}' inside a
# string (which makes a chunk take the structural scan instead).
ESCAPED = [entry(f"e{i}", waiting_time=i) for i in range(30)] + [
    entry("u1", name="Zoë 李 😀", notes="ends with an emoji 😀"),
    entry("u2", notes='quote at the end "', agent_name="\\", contact="a\\\\b"),
    entry("u3", notes="tab\there\nand\r\u0000 nul", groups="/", name="\u2028 é"),
    entry("u4", notes="😀" * 30 + '"\\"', external_id=-1234567890123456789),
    entry("u5", **{"end_date-time": None}, notes=None, duration=0, contact_id=True),
]


@pytest.mark.parametrize("layout", [*LAYOUTS, *NDJSON_LAYOUTS])
def test_uniform_layouts_are_walked_without_the_structural_scan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, layout: str
) -> None:
    def no_scan(*args: Any) -> None:
        raise AssertionError("the chunk took the structural scan")

    monkeypatch.setattr(_readers, "_scan_chunk", no_scan)
    monkeypatch.setattr(_readers, "_CHUNK_BYTES", 1500)  # several chunks, escapes at their edges
    ndjson = layout in NDJSON_LAYOUTS
    path = tmp_path / ("r.ndjson" if ndjson else "r.json")
    path.write_bytes((NDJSON_LAYOUTS if ndjson else LAYOUTS)[layout](ESCAPED * 3))
    fast, _ = _readers._read_fast(path, ndjson=ndjson)
    monkeypatch.undo()
    general = (_readers.read_ndjson if ndjson else _readers.read_json)(path, fast=False)
    assert_frame_equal(fast, general)
    assert fast.filter(pl.col("interaction_id") == "u1")["name"].to_list() == ["Zoë 李 😀"] * 3


def test_a_brace_inside_a_string_sends_only_its_chunk_to_the_structural_scan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scanned = []
    scan = _readers._scan_chunk
    monkeypatch.setattr(_readers, "_scan_chunk", lambda *a: scanned.append(1) or scan(*a))
    monkeypatch.setattr(_readers, "_CHUNK_BYTES", 4000)
    rows = ESCAPED * 4
    rows[70] = entry("brace", notes='he said "},{" twice')
    path = tmp_path / "r.json"
    path.write_bytes(orjson.dumps(envelope(rows)))
    fast, _ = _readers._read_fast(path, ndjson=False)
    assert_frame_equal(fast, _readers.read_json(path, fast=False))
    assert len(scanned) == 1


# ---------------------------------------------------------------------------------------------
# What the fast path cannot vouch for falls back, and both paths agree

FALLBACKS: dict[str, list[dict[str, Any]] | bytes] = {
    "exponent and fraction": [entry("a", external_id=1), {**entry("b"), "external_id": 1.5e3}],
    "number beyond 38 digits": json.dumps(
        envelope([entry("a"), {**entry("b"), "external_id": 10**45}])
    ).encode(),
    "keys in another order": [entry("a"), dict(reversed(list(entry("b").items())))],
    "unknown field holding null": [entry("a"), {**entry("b"), "queue": None}],
    "missing field": [entry("a"), {k: v for k, v in entry("b").items() if k != "notes"}],
    "nested value": [entry("a"), {**entry("b"), "notes": {"k": [1, {"x": None}]}}],
    "empty key": [{**entry("a"), "": "x"}, {**entry("b"), "": None}],
    "escaped key": b'{"entries": [{"interaction_id": "a", "n\\u0061me": "x"}]}',
    # An unknown key in place of a known one of the same length, both null: the values and
    # lengths all agree, only the key's own bytes differ.
    "unknown field in place of another": [
        entry("a", name=None),
        {("nome" if k == "name" else k): v for k, v in entry("b", name=None).items()},
    ],
    # A duplicated key whose second value is null, in an entry missing another field: the
    # byte counts balance, so only comparing the keys themselves catches it.
    "duplicated key": b'{"entries": [{"interaction_id": "a", "notes": "n", "name": "A"}, '
    b'{"interaction_id": "b", "notes": "kept", "notes": null}]}',
}


@pytest.mark.parametrize("case", list(FALLBACKS))
def test_what_the_fast_path_cannot_vouch_for_falls_back_to_the_same_frame(
    tmp_path: Path, case: str
) -> None:
    source = FALLBACKS[case]
    path = tmp_path / "r.json"
    path.write_bytes(source if isinstance(source, bytes) else orjson.dumps(envelope(source)))
    with pytest.raises(_readers._NotFast):
        _readers._read_fast(path, ndjson=False)
    fast, general = both_paths(path)
    assert_frame_equal(fast, general)


def test_a_duplicated_key_keeps_its_last_value_and_a_missing_field_is_null(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_bytes(FALLBACKS["duplicated key"])  # type: ignore[arg-type]
    for frame in both_paths(path):
        assert frame.rows() == [("a", "n", "A"), ("b", None, None)]


def test_a_null_only_unknown_field_is_kept_as_a_column(tmp_path: Path) -> None:
    rows = [entry("a"), {**entry("b"), "queue": None}]
    path = tmp_path / "r.json"
    path.write_bytes(orjson.dumps(envelope(rows)))
    df = ok.load(path, cache=False)
    assert df.columns[-1] == "queue" and df["queue"].to_list() == [None, None]


# ---------------------------------------------------------------------------------------------
# One meaning for every value


def test_numbers_in_text_fields_keep_the_text_the_source_wrote(tmp_path: Path) -> None:
    raw = (
        b'{"entries": [{"interaction_id": 9007199254740993, "external_id": 1e3, '
        b'"contact_id": 1E-7, "agent_id": -0, "name": 1.50, "notes": true, "groups": 0},'
        b'{"interaction_id": 9007199254740992, "external_id": 123456789012345678901234567890, '
        b'"contact_id": -5, "agent_id": 12, "name": "1.50", "notes": false, "groups": null}]}'
    )
    path = tmp_path / "r.json"
    path.write_bytes(raw)
    expected = [
        ("9007199254740993", "1e3", "1E-7", "-0", "1.50", "true", "0"),
        ("9007199254740992", "123456789012345678901234567890", "-5", "12", "1.50", "false", None),
    ]
    for frame in both_paths(path):
        assert frame.rows() == expected
    df = quiet(ok.load, path, cache=False)
    assert df.height == 2  # two ids beyond 2**53 stay distinct
    assert df["interaction_id"].to_list() == ["9007199254740993", "9007199254740992"]
    assert df["external_id"].to_list() == ["1e3", "123456789012345678901234567890"]


def test_big_integer_ids_keep_every_digit_on_the_fast_path(tmp_path: Path) -> None:
    rows = [
        {**entry(str(2**64 + i)), "interaction_id": 2**64 + i, "external_id": -(10**37) - i}
        for i in range(50)
    ]
    path = tmp_path / "r.json"
    path.write_bytes(json.dumps(envelope(rows), indent=2).encode())
    fast, _ = _readers._read_fast(path, ndjson=False)
    assert fast["interaction_id"].to_list() == [str(2**64 + i) for i in range(50)]
    assert fast["external_id"].to_list() == [str(-(10**37) - i) for i in range(50)]
    assert_frame_equal(fast, _readers.read_json(path, fast=False))


def test_in_memory_entries_write_numbers_as_python_does() -> None:
    df = ok.load([{**entry("a"), "external_id": 2**70, "contact_id": 1e3, "name": True}])
    assert df.row(0, named=True)["external_id"] == str(2**70)
    assert df.row(0, named=True)["contact_id"] == "1000.0"
    assert df.row(0, named=True)["name"] == "true"


@pytest.mark.parametrize(
    ("written", "seconds"),
    [
        (b"12", 12),
        (b'"12"', 12),
        (b'" 12 "', 12),
        (b"12.0", 12),
        (b"1e3", 1000),
        (b"0", 0),
        (b"9223372036854775807", 9223372036854775807),
        (b"12.5", None),
        (b"-4", None),
        (b"-0.5", None),
        (b"1e30", None),
        (b"9223372036854775808", None),
        (b'"soon"', None),
        (b"true", None),
    ],
)
def test_seconds_are_whole_non_negative_numbers(
    tmp_path: Path, written: bytes, seconds: int | None
) -> None:
    path = tmp_path / "r.json"
    path.write_bytes(b'{"entries": [{"interaction_id": "a", "duration": ' + written + b"}]}")
    if seconds is None:
        with pytest.warns(ok.DataQualityWarning, match="duration: 1 cell"):
            df = ok.load(path, cache=False)
        with pytest.raises(ok.ReportValidationError):
            ok.load(path, cache=False, strict=True)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            df = ok.load(path, cache=False)
    assert df["duration"].to_list() == [seconds]


def test_reserved_and_empty_field_names_never_crash(tmp_path: Path) -> None:
    rows = [{"interaction_id": None, "_row": "r", "": "empty key", "index": 1}, entry("b")]
    path = tmp_path / "r.json"
    path.write_bytes(orjson.dumps(envelope(rows)))
    for source in (rows, path):
        with pytest.warns(ok.DataQualityWarning, match="interaction_id: 1 cell"):
            df = ok.load(source, cache=False)
        assert df.height == 2
        assert df["_row"].to_list() == ["r", None]
        assert df[""].to_list() == ["empty key", None]


# ---------------------------------------------------------------------------------------------
# total, byte-order marks, nesting


@pytest.mark.parametrize("layout", ["compact", "total first", "indent 2"])
@pytest.mark.parametrize("fast", [True, False])
def test_a_total_that_differs_from_the_entries_is_a_data_quality_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, layout: str, fast: bool
) -> None:
    monkeypatch.setattr(_readers, "FAST_PATH_MIN_BYTES", 0 if fast else 1 << 40)
    path = tmp_path / "cut.json"
    data = LAYOUTS[layout](ENTRIES)
    stated = re.compile(rb'"total":\s*44')
    assert len(ENTRIES) == 44 and stated.search(data)
    path.write_bytes(stated.sub(b'"total": 1000', data))
    with pytest.warns(
        ok.DataQualityWarning, match=r"total: .*cut\.json says total 1000 but holds 44"
    ):
        df = ok.load(path, cache=False)
    assert df.height == len(ENTRIES)
    with pytest.raises(ok.ReportValidationError, match="says total 1000"):
        ok.load(path, cache=False, strict=True)
    path.write_bytes(data)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ok.load(path, cache=False)


def test_total_of_an_in_memory_envelope_is_checked_too() -> None:
    with pytest.warns(ok.DataQualityWarning, match="says total 5 but holds 2"):
        ok.load({"entries": [entry("a"), entry("b")], "total": 5})


def test_a_cached_load_warns_about_the_total_again(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_bytes(orjson.dumps({"entries": [entry("a")], "total": 2}))
    for _ in range(2):
        with pytest.warns(ok.DataQualityWarning, match="says total 2 but holds 1"):
            ok.load(path, cache=True)


@pytest.mark.parametrize("suffix", [".json", ".ndjson", ".csv"])
def test_a_byte_order_mark_is_accepted_in_every_text_format(tmp_path: Path, suffix: str) -> None:
    from test_load import write

    plain = write(tmp_path / f"plain{suffix}", ENTRIES[:5])
    marked = tmp_path / f"marked{suffix}"
    marked.write_bytes(BOM + plain.read_bytes())
    expected = ok.load(plain, cache=False)
    assert_frame_equal(ok.load(marked, cache=False), expected)
    if suffix != ".csv":
        for frame in both_paths(marked):
            assert frame.columns[0] == "interaction_id"


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


@pytest.mark.parametrize("levels", [1000, 100_000])
def test_deep_nesting_is_a_clear_format_error_on_every_path(tmp_path: Path, levels: int) -> None:
    path = tmp_path / "deep.json"
    path.write_text('{"entries": [{"interaction_id": "a", "notes": ' + deep(levels) + "}]}")
    for fast in (True, False):
        with pytest.raises(ok.ReportFormatError, match=r"deep\.json, line 1, column \d+: .*nested"):
            _readers.read_json(path, fast=fast)
    lines = tmp_path / "deep.ndjson"
    lines.write_text(
        '{"interaction_id": "b"}\n{"interaction_id": "a", "notes": ' + deep(levels) + "}\n"
    )
    for fast in (True, False):
        with pytest.raises(ok.ReportFormatError, match=r"deep\.ndjson, line 2, .*nested"):
            _readers.read_ndjson(lines, fast=fast)


def test_deep_nesting_in_memory_is_a_format_error() -> None:
    value: Any = []
    for _ in range(2000):
        value = [value]
    with pytest.raises(ok.ReportFormatError, match="nested"):
        ok.load([{"interaction_id": "a", "notes": value}])


def test_moderate_nesting_is_kept_as_compact_json_text(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_text(
        '{"entries": [{"interaction_id": "a", "notes": {"k": [1, 2.50, "x", null, true]}}]}'
    )
    for frame in both_paths(path):
        assert frame["notes"].to_list() == ['{"k":[1,2.50,"x",null,true]}']


def test_text_that_is_not_unicode_is_a_format_error_on_both_paths(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_bytes(b'{"entries": [{"interaction_id": "a", "name": "\\ud800"}]}')
    for fast in (True, False):
        with pytest.raises(ok.ReportFormatError, match="not valid Unicode"):
            _readers.read_json(path, fast=fast)
    path.write_bytes(b'{"entries": [{"interaction_id": "a", "name": "\xff"}]}')
    for fast in (True, False):
        with pytest.raises(ok.ReportFormatError, match="not UTF-8"):
            _readers.read_json(path, fast=fast)


@pytest.mark.parametrize(
    "broken",
    [
        b'{"entries": [{"interaction_id": "a",}]}',
        b'{"entries": [{"interaction_id": "a"},,{"interaction_id": "b"}]}',
        b'{"entries": [{"interaction_id": "a"} {"interaction_id": "b"}]}',
        b'{"entries": [{"interaction_id": "a"}, 5]}',
        b'{"entries": [{"interaction_id": NaN}]}',
        b'{"entries": [{"interaction_id": "a\tb"}]}',
        b'{"entries": [{"interaction_id": "a"}]}}',
    ],
)
def test_broken_json_is_the_same_error_on_both_paths(tmp_path: Path, broken: bytes) -> None:
    path = tmp_path / "broken.json"
    path.write_bytes(broken)
    errors = []
    for fast in (True, False):
        with pytest.raises(ok.ReportFormatError) as info:
            _readers.read_json(path, fast=fast)
        errors.append(str(info.value))
    assert errors[0] == errors[1] and "broken.json" in errors[0]


# ---------------------------------------------------------------------------------------------
# CSV rows


def csv_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "r.csv"
    path.write_text("interaction_id,duration,notes\n" + body, newline="")
    return path


def test_an_unquoted_line_break_in_a_cell_is_a_format_error_naming_the_line(
    tmp_path: Path,
) -> None:
    path = csv_file(tmp_path, "a,5,fine\nb,6,called back\nthen hung up\nc,7,ok\n")
    with pytest.raises(
        ok.ReportFormatError, match=r"r\.csv, line 4: this row has 1 field but the header has 3"
    ):
        ok.load(path, cache=False)
    with pytest.raises(ok.ReportFormatError, match=r"line 3: this row has 4 fields"):
        ok.load(csv_file(tmp_path, 'a,5,"x"\nb,6,called back, then hung up\n'), cache=False)


@pytest.mark.parametrize(
    ("body", "line"),
    [
        ("a,5\n", 2),  # too few fields: never padded with nulls
        ("a,5,x\nb,6,x,extra\n", 3),  # too many
        ('a,5,"quoted\nbreak"\nb,6\n', 4),  # lines counted across a quoted break
        ("a,5,x\r\nb,6\r\n", 3),
        ("a,5,x\nb", 3),  # the last line has no line break
    ],
)
def test_a_row_whose_field_count_differs_from_the_header_is_a_format_error(
    tmp_path: Path, body: str, line: int
) -> None:
    with pytest.raises(ok.ReportFormatError, match=rf"r\.csv, line {line}: this row has"):
        ok.load(csv_file(tmp_path, body), cache=False)


def test_a_short_row_among_rows_whose_last_cell_is_never_null_is_a_format_error(
    tmp_path: Path,
) -> None:
    # polars writes an empty text as "": no cell reads as null, so the reader trusts the rows
    # without counting commas (a short row is padded with a null, which it sees).
    rows = [entry(f"i{n}", notes="") for n in range(50)]
    path = tmp_path / "r.csv"
    pl.DataFrame(rows).write_csv(path)
    assert ok.load(path, cache=False)["notes"].null_count() == 50
    lines = path.read_text().splitlines(keepends=True)
    lines[31] = lines[31].rsplit(",", 1)[0] + "\n"  # the 31st row loses its last field
    path.write_text("".join(lines))
    with pytest.raises(ok.ReportFormatError, match=r"r\.csv, line 32: this row has"):
        ok.load(path, cache=False)


def test_quoted_line_breaks_commas_and_quotes_stay_data_and_blank_lines_are_skipped(
    tmp_path: Path,
) -> None:
    path = csv_file(tmp_path, 'a,5,"called back\nthen, ""hung"" up"\n\nb,6,x\r\n\r\n"c",7,\n\n')
    df = ok.load(path, cache=False)
    assert df["interaction_id"].to_list() == ["a", "b", "c"]
    assert df["notes"].to_list() == ['called back\nthen, "hung" up', "x", None]
    assert df["duration"].to_list() == [5, 6, 7]
