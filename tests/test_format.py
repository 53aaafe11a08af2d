"""How reports write numbers: one set of rules for tables, summaries, axes and tooltips."""

from __future__ import annotations

import re

import pytest
import vl_convert as vlc

import omnikit as ok
from omnikit._format import duration_expression

DURATIONS = [
    (0, "0 s"),
    (0.04, "0 s"),
    (0.05, "0.1 s"),
    (4, "4 s"),
    (4.54, "4.5 s"),
    (9.94, "9.9 s"),
    (9.96, "10 s"),
    (38, "38 s"),
    (38.5, "39 s"),
    (59.4, "59 s"),
    (59.6, "1 min"),
    (60, "1 min"),
    (252, "4 min 12 s"),
    (3599.4, "59 min 59 s"),
    (3599.6, "1 h"),
    (3660, "1 h 1 min"),
    (15946.4, "4 h 26 min"),
    (86369, "23 h 59 min"),
    (86370, "1 d"),
    (266400, "3 d 2 h"),
    (295777.0, "3 d 10 h"),
    (10_000_000, "115 d 18 h"),
    (1e9, "11,574 d 2 h"),
    (-3.5, "-3.5 s"),
    (-185, "-3 min 5 s"),
    (-0.01, "0 s"),
]


@pytest.mark.parametrize(("seconds", "text"), DURATIONS)
def test_durations_read_as_a_person_writes_them(seconds, text):
    assert ok.format_duration(seconds) == text


def test_missing_durations_and_signs():
    assert ok.format_duration(None) == ok.format_duration(float("nan")) == "–"
    assert ok.format_duration(12, signed=True) == "+12 s"
    assert ok.format_duration(0.01, signed=True) == "0 s"


def test_charts_write_durations_exactly_as_tables_do():
    """The Vega expression for axes and legends, run by Vega itself (vl-convert), on every row."""
    rows = [{"seconds": s} for s, _ in DURATIONS] + [{"seconds": None}]
    spec = {
        "data": {"values": rows},
        "transform": [
            {"window": [{"op": "row_number", "as": "i"}]},
            {"calculate": duration_expression("datum.seconds"), "as": "text"},
        ],
        "mark": {"type": "text"},
        "encoding": {
            "y": {"field": "i", "type": "ordinal", "axis": None},
            "text": {"field": "text", "type": "nominal"},
        },
    }
    svg = vlc.vegalite_to_svg(spec)
    drawn = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    expected = [ok.format_duration(row["seconds"]) for row in rows]
    assert [t.replace("&#8211;", "–") for t in drawn] == expected


def test_counts_shares_and_changes():
    assert ok.format_count(1234567.0) == "1,234,567"
    assert ok.format_count(0.4) == "0" and ok.format_count(-0.4, signed=True) == "0"
    assert ok.format_count(12, signed=True) == "+12"
    assert ok.format_share(0.8123) == "81.2%" and ok.format_share(-0.00001) == "0.0%"
    assert ok.format_share(None) == "–"
    assert ok.format_change(0.0123, "percent") == "+1.2 pp"
    assert ok.format_change(-0.0004, "percent") == "no change"  # never "-0.0 pp"
    assert ok.format_change(-0.0006, "percent") == "-0.1 pp"
    assert ok.format_change(-185, "seconds") == "-3 min 5 s"
    assert ok.format_change(0.02, "seconds") == "no change"
    assert ok.format_change(234, "count") == "+234"
    assert ok.format_change(-0.001, "number") == "no change"
    for value in (1e-12, 1e12, 123456789.0):
        for text in (
            ok.format_count(value),
            ok.format_share(value),
            ok.format_duration(value),
            ok.format_change(value, "number"),
        ):
            assert not re.search(r"\de[+-]?\d", text), text


@pytest.mark.parametrize(
    "hostile",
    [
        "[x](javascript:alert(1))",
        "<script>window.pwned = 1</script>",
        '<img src=x onerror="window.pwned=1">',
        "**bold** _it_ `code` # head | pipe",
        "line one\nline two",
    ],
)
def test_escaped_text_reads_the_same_and_is_never_markup(hostile):
    import html

    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    escaped = ok.escape_text(hostile)
    assert not re.search(r"[<>\[\]()`*_|]", escaped)
    assert html.unescape(escaped) == " ".join(hostile.splitlines())
    rendered = markdown2html_mistune(f"**Data:** {escaped}")  # as the exported page does
    assert "<a " not in rendered and "<script" not in rendered and "<img" not in rendered
    assert "<em>" not in rendered and "<code>" not in rendered
