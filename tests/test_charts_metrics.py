"""Charts of the metrics: valid Vega-Lite, inline data, and a size that does not grow with rows."""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from collections.abc import Callable

import altair as alt
import numpy as np
import polars as pl
import pytest

import omnikit as ok
from omnikit import charts
from omnikit._format import duration_expression
from omnikit.charts._theme import (
    CHANNEL_COLORS,
    SUBTITLE_LINE,
    base_chart,
    channel_color_scale,
    records,
    themed,
)

TIMEZONE = "Europe/Lisbon"
CHANNELS = ["VOICE", "CHAT", "EMAIL", "SMS", "WHATSAPP", "FBM"]
STATUSES = [
    "FINISHED",
    "ASSIGNED",
    "MISSED",
    "ABANDONED",
    "SHORT_ABANDONED",
    "VOICEMAIL",
    "OFFERED",
]


def interactions(n: int, seed: int = 0) -> pl.DataFrame:
    """``n`` canonical rows over 28 days, vectorised with numpy (fast enough for 1,000,000)."""
    rng = np.random.default_rng(seed)
    seconds = rng.integers(0, 28 * 86400, n)
    start = pl.Series(np.datetime64("2024-09-02T00:00:00", "us") + seconds.astype("timedelta64[s]"))
    df = pl.DataFrame(
        {
            "waiting_time": rng.exponential(45.0, n).astype(np.int64),
            "start_date_time": start,
            "interaction_type": np.array(CHANNELS)[
                rng.choice(6, n, p=[0.45, 0.2, 0.15, 0.1, 0.06, 0.04])
            ],
            "interaction_status": np.array(STATUSES)[
                rng.choice(7, n, p=[0.7, 0.03, 0.05, 0.12, 0.04, 0.04, 0.02])
            ],
            "interaction_direction": np.where(rng.random(n) < 0.85, "INBOUND", "OUTBOUND"),
        }
    )
    schema = ok.canonical_schema(TIMEZONE)
    return df.select(
        pl.col(c).dt.replace_time_zone(TIMEZONE, non_existent="null").cast(t)
        if c == "start_date_time"
        else (pl.col(c) if c in df.columns else pl.lit(None)).cast(t).alias(c)
        for c, t in schema.items()
    )


BUILDERS: dict[str, Callable[[pl.DataFrame], alt.TopLevelMixin]] = {
    "channel_mix_area": lambda df: charts.channel_mix_chart(ok.channel_mix(df, every="1d")),
    "channel_mix_bar_count": lambda df: charts.channel_mix_chart(
        ok.channel_mix(df, every="1w", by="interaction_direction"), stack="count", mark="bar"
    ),
    "channel_share": lambda df: charts.channel_share_chart(ok.channel_mix(df)),
    "wait_ecdf": lambda df: charts.wait_time_chart(
        ok.wait_time_histogram(df), ok.wait_time_stats(df)
    ),
    "wait_histogram": lambda df: charts.wait_time_chart(
        ok.wait_time_histogram(df, bins=[0, 10, 20, 30, 60, 120, 300]),
        ok.wait_time_stats(df),
        kind="histogram",
    ),
    "service_level": lambda df: charts.service_level_chart(
        ok.service_level(df), target=0.8, threshold=20
    ),
    "survival": lambda df: charts.survival_chart(ok.wait_time_survival(df)),
    "heatmap_volume": lambda df: charts.hourly_heatmap(ok.hourly_profile(df)),
    "heatmap_service_level": lambda df: charts.hourly_heatmap(
        ok.hourly_profile(df, value="service_level")
    ),
    "heatmap_by_channel": lambda df: charts.hourly_heatmap(
        ok.hourly_profile(df, value="median_wait", by="interaction_type")
    ),
}


@pytest.fixture(scope="module")
def small() -> pl.DataFrame:
    return interactions(1_000, seed=1)


@pytest.fixture(scope="module")
def large() -> pl.DataFrame:
    return interactions(1_000_000, seed=2)


def subtitle_of(spec: dict) -> str:
    """The subtitle as one line (it is cut into lines that fit a phone)."""
    subtitle = spec["title"]["subtitle"]
    return subtitle if isinstance(subtitle, str) else " ".join(subtitle)


def values_of(spec: dict, node: dict | None = None) -> list[dict]:
    """The inline rows of ``node`` (default: the top-level chart) of a spec."""
    data = (node or spec)["data"]
    return data["values"] if "values" in data else spec["datasets"][data["name"]]


def inline_rows(spec: dict) -> int:
    """Count inline data rows anywhere in a spec, and make sure no data is fetched by URL."""
    text = json.dumps(spec)
    assert '"url"' not in text
    count = 0

    def walk(node: object) -> None:
        nonlocal count
        if isinstance(node, dict):
            if isinstance(node.get("values"), list):
                count += len(node["values"])
            for key, value in node.items():
                if key == "datasets":
                    count += sum(len(v) for v in value.values())
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(spec)
    return count


@pytest.mark.parametrize("name", list(BUILDERS))
def test_chart_is_valid_and_its_size_does_not_grow_with_rows(name, small, large):
    small_spec = BUILDERS[name](small).to_dict()  # to_dict validates against the Vega-Lite schema
    large_spec = BUILDERS[name](large).to_dict()
    assert small_spec["$schema"].startswith("https://vega.github.io/schema/vega-lite/")
    rows_small, rows_large = inline_rows(small_spec), inline_rows(large_spec)
    assert rows_small == rows_large > 0
    size_small, size_large = len(json.dumps(small_spec)), len(json.dumps(large_spec))
    assert 0.8 < size_large / size_small < 1.25, (size_small, size_large)
    assert small_spec["config"]["font"]  # the shared theme was applied
    text = json.dumps(small_spec)
    assert '"tooltip"' in text and '"title"' in text


def test_channel_mix_chart_stacks_shares_with_channel_colours(small):
    mix = ok.channel_mix(small, every="1d")
    spec = charts.channel_mix_chart(mix).to_dict()
    enc = spec["encoding"]
    assert spec["mark"]["type"] == "area"
    assert (
        enc["y"]["field"] == "share"
        and enc["y"]["stack"] == "zero"
        and enc["y"]["axis"]["format"] == "%"
    )
    assert enc["x"]["scale"]["type"] == "utc" and "timezone" in enc["x"]["title"]
    scale = enc["color"]["scale"]
    assert (
        dict(zip(scale["domain"], scale["range"], strict=True))["VOICE"] == CHANNEL_COLORS["VOICE"]
    )
    values = values_of(spec)
    # wall-clock times of the report's timezone, to be read as UTC: local midnight is "T00:00:00Z"
    assert (
        values[0]["period"] == "2024-09-02T00:00:00Z"
        and values[0]["period_label"] == "Mon 02 Sep"  # dates as a person writes them
    )
    assert enc["x"]["axis"]["format"] == "%a %d %b"
    # every channel in every period, each period stacking to 1
    per_period: dict[str, float] = {}
    for v in values:
        per_period[v["period"]] = per_period.get(v["period"], 0) + v["share"]
    assert len(values) == 28 * 6 and all(abs(s - 1) < 1e-5 for s in per_period.values())


def test_channel_mix_chart_mentions_rows_without_start_time_and_needs_periods():
    mix = pl.DataFrame(
        {
            "period": pl.Series([dt.datetime(2024, 9, 2), None]).dt.replace_time_zone("UTC"),
            "interaction_type": ["VOICE", "CHAT"],
            "interactions": [3, 2],
            "share": [1.0, 1.0],
        }
    )
    spec = charts.channel_mix_chart(mix).to_dict()
    assert "2 interactions without a start time" in subtitle_of(spec)
    assert all(len(line) <= 48 for line in spec["title"]["subtitle"])
    with pytest.raises(ok.ParameterError, match="period"):
        charts.channel_mix_chart(mix.drop("period"))
    with pytest.raises(ok.ParameterError, match="stack="):
        charts.channel_mix_chart(mix, stack="percent")


def test_wait_time_chart_marks_the_percentiles_of_each_channel(small):
    stats = ok.wait_time_stats(small)
    spec = charts.wait_time_chart(ok.wait_time_histogram(small), stats).to_dict()
    lines, rules = spec["layer"]
    assert lines["encoding"]["x"]["title"] == "Waiting time"
    assert lines["encoding"]["x"]["axis"]["labelExpr"] == duration_expression()
    assert rules["mark"]["type"] == "rule"
    rule_values = values_of(spec, rules)
    voice = {r["percentile"]: r["seconds"] for r in rule_values if r["interaction_type"] == "VOICE"}
    expected = stats.filter(pl.col("interaction_type") == "VOICE").row(0, named=True)
    assert voice == pytest.approx({"p50": expected["p50"], "p90": expected["p90"]})
    said = {r["percentile"]: r["wait"] for r in rule_values if r["interaction_type"] == "VOICE"}
    assert said == {
        "p50": ok.format_duration(expected["p50"]),
        "p90": ok.format_duration(expected["p90"]),
    }
    without = charts.wait_time_chart(ok.wait_time_histogram(small)).to_dict()
    assert len(without["layer"]) == 1


def test_wait_time_chart_refuses_raw_rows_and_mixed_groups(small):
    with pytest.raises(ok.ParameterError, match="wait_time_histogram"):
        charts.wait_time_chart(small)
    split = ok.wait_time_histogram(small, by=["interaction_type", "interaction_direction"])
    with pytest.raises(ok.ParameterError, match="more than one row"):
        charts.wait_time_chart(split)
    with pytest.raises(ok.ParameterError, match="kind="):
        charts.wait_time_chart(ok.wait_time_histogram(small), kind="violin")


def test_service_level_chart_draws_the_target(small):
    service = ok.service_level(small, threshold=30)
    spec = charts.service_level_chart(service, target=0.75, threshold=30).to_dict()
    assert "answered within 30 s" in subtitle_of(spec)
    lines = spec["title"]["subtitle"]  # cut into lines that fit a phone, words kept whole
    assert isinstance(lines, list) and all(len(line) <= SUBTITLE_LINE for line in lines)
    same = charts.service_level_chart(service, target=0.75, threshold="30s").to_dict()
    assert json.dumps(same) == json.dumps(spec)  # a threshold as a duration, as service_level
    bars, target = spec["layer"]
    assert bars["encoding"]["x"]["field"] == "service_level"
    assert bars["encoding"]["x"]["scale"]["domain"] == [0, 1]
    assert target["mark"]["type"] == "tick" and target["encoding"]["x"]["field"] == "target"
    assert {v["target"] for v in values_of(spec)} == {0.75}
    assert "within 30 s" in subtitle_of(spec) and "75.0%" in subtitle_of(spec)
    assert len(charts.service_level_chart(service, target=None).to_dict()["layer"]) == 1
    with pytest.raises(ok.ParameterError, match="target"):
        charts.service_level_chart(service, target=80)
    # per channel: each channel's own target and threshold, a missing one is an error
    own = charts.service_level_chart(
        service, target={"VOICE": 0.9, "*": 0.6}, threshold={"VOICE": 20, "*": "4h"}
    ).to_dict()
    rows = {v["interaction_type"]: v for v in values_of(own)}
    assert rows["VOICE"]["target"] == 0.9 and rows["CHAT"]["target"] == 0.6
    assert rows["VOICE"]["within"] == "20 s" and rows["CHAT"]["within"] == "4 h"
    assert "own channel's threshold" in subtitle_of(own)
    with pytest.raises(ok.ParameterError, match="no value for channel"):
        charts.service_level_chart(service, target={"VOICE": 0.9})


def two_channel_survival() -> pl.DataFrame:
    """VOICE: survival 0.5 from 10 s, 0 from 20 s; CHAT: 0 from 40 s."""
    return pl.DataFrame(
        {
            "interaction_type": ["VOICE", "VOICE", "CHAT"],
            "time": [10, 20, 40],
            "at_risk": [2, 1, 1],
            "events": [1, 1, 1],
            "censored": [0, 0, 0],
            "survival": [0.5, 0.0, 0.0],
        }
    )


def test_survival_chart_reads_the_step_curve_on_a_fixed_grid():
    survival = two_channel_survival()
    spec = charts.survival_chart(survival, points=5, x_scale="linear").to_dict()
    assert spec["mark"]["interpolate"] == "step-after"
    values = values_of(spec)
    curve = {(v["interaction_type"], v["time"]): v["survival"] for v in values}
    # grid 0, 10, 20, 30, 40 s: VOICE is 1 before 10 s, 0.5 from 10 s, 0 from 20 s
    assert [curve[("VOICE", t)] for t in (0.0, 10.0, 20.0, 30.0, 40.0)] == [1.0, 0.5, 0.0, 0.0, 0.0]
    assert [curve[("CHAT", t)] for t in (0.0, 30.0, 40.0)] == [1.0, 1.0, 0.0]
    with pytest.raises(ok.ParameterError, match="points="):
        charts.survival_chart(survival, points=1)


def test_survival_chart_on_a_log_time_axis_reads_the_curve_at_geometric_times():
    survival = two_channel_survival()
    spec = charts.survival_chart(survival, points=5).to_dict()  # symlog is the default
    assert spec["encoding"]["x"]["scale"] == {"type": "symlog"}
    curve = {(v["interaction_type"], v["time"]): v["survival"] for v in values_of(spec)}
    # grid 0, then 1 s to 40 s in geometric steps: 1, 40**(1/3) = 3.42, 40**(2/3) = 11.70, 40
    assert sorted(t for c, t in curve if c == "VOICE") == [0.0, 1.0, 3.42, 11.7, 40.0]
    assert [curve[("VOICE", t)] for t in (0.0, 1.0, 3.42, 11.7, 40.0)] == [1.0, 1.0, 1.0, 0.5, 0.0]
    with pytest.raises(ok.ParameterError, match="x_scale="):
        charts.survival_chart(survival, x_scale="log")


def test_wait_time_chart_uses_a_log_time_axis_by_default(small):
    histogram = ok.wait_time_histogram(small, bins="log")
    assert histogram["bin_start"].unique().sort().to_list()[:4] == [0.0, 5.0, 10.0, 15.0]
    spec = charts.wait_time_chart(histogram, ok.wait_time_stats(small)).to_dict()
    assert spec["layer"][0]["encoding"]["x"]["scale"] == {"type": "symlog"}
    linear = charts.wait_time_chart(histogram, x_scale="linear").to_dict()
    assert linear["layer"][0]["encoding"]["x"]["scale"] == {"type": "linear"}


def test_hourly_heatmap_labels_days_and_hours(small):
    spec = charts.hourly_heatmap(ok.hourly_profile(small, value="service_level"), target=0.7)
    spec = spec.to_dict()
    empty, cells = spec["layer"]  # grey hours with nothing offered, under the coloured ones
    assert empty["mark"] == {"type": "rect", "color": "#d9d9d9"}
    assert cells["encoding"]["y"]["sort"] == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    # the colours diverge at the target, not at 50 %
    scale = cells["encoding"]["color"]["scale"]
    assert scale["domain"] == [0, 0.7, 1] and scale["range"][1] == "#f7f7f7"
    values = values_of(spec)
    assert len(values) == 168 and values[0]["day"] == "Mon" and values[0]["hours"] == "00:00–01:00"
    two_keys = ok.hourly_profile(small, by=["interaction_type", "interaction_direction"])
    with pytest.raises(ok.ParameterError, match="at most one"):
        charts.hourly_heatmap(two_keys)
    with pytest.raises(ok.ParameterError, match="volume, median_wait, service_level"):
        charts.hourly_heatmap(pl.DataFrame({"weekday": [1], "hour": [0]}))


def test_theme_helpers():
    scale = channel_color_scale(["VOICE", "NEWCHANNEL", None, "VOICE"])
    assert scale.domain == ["VOICE", "NEWCHANNEL", "(none)"]
    assert scale.range[0] == CHANNEL_COLORS["VOICE"] and scale.range[1] != scale.range[2]
    frame = pl.DataFrame(
        {
            "when": pl.Series([dt.datetime(2024, 10, 27, 1, 30)]).dt.replace_time_zone(
                "Europe/Lisbon", ambiguous="latest"
            ),
            "x": [float("nan")],
            "y": [1 / 3],
            "k": [None],
        },
        schema_overrides={"k": pl.String},
    )
    assert records(frame) == [
        {"when": "2024-10-27T01:30:00Z", "x": None, "y": 0.333333, "k": "(none)"}
    ]
    chart = themed(base_chart(frame, title="T", subtitle="S").mark_point().encode(y="y:Q"))
    spec = chart.to_dict()
    assert spec["title"] == {"text": "T", "anchor": "start", "subtitle": "S"}
    assert spec["config"]["view"]["stroke"] is None


def test_a_comparison_chart_marks_where_the_previous_period_ends(small):
    mix = ok.channel_mix(small, every="1d")
    boundary = dt.datetime(2024, 9, 9, tzinfo=zoneinfo.ZoneInfo(TIMEZONE))  # local midnight
    for mark in ("bar", "area"):
        spec = charts.channel_mix_chart(mix, stack="count", mark=mark, divide_at=boundary)
        layers = spec.to_dict()["layer"]
        rule = layers[1]
        assert rule["mark"]["type"] == "rule"
        texts = [layer["encoding"]["text"]["value"] for layer in layers[2:]]
        assert texts == ["◀ previous", "this period ▶"]
        if mark == "bar":  # at the start of the first band of the later period
            assert rule["data"]["values"] == [{"period_label": "Mon 09 Sep"}]
            assert rule["encoding"]["x"]["bandPosition"] == 0
        else:
            assert rule["data"]["values"] == [{"at": "2024-09-09T00:00:00Z"}]  # wall clock
    with pytest.raises(ok.ParameterError, match="divide_at"):
        charts.channel_mix_chart(mix, divide_at="2024-09-09")
