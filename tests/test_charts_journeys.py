"""Charts of journeys: valid Vega-Lite, inline data, a size set by channels and paths, no PII."""

from __future__ import annotations

import datetime as dt
import json

import altair as alt
import polars as pl
import pytest

import omnikit as ok
from omnikit import charts
from omnikit.charts._theme import CHANNEL_COLORS


def spec(chart: alt.TopLevelMixin) -> dict:
    """The Vega-Lite dict (``to_dict`` validates it against the schema)."""
    return chart.to_dict()


def values(spec_dict: dict) -> list[list[dict]]:
    """Every inline data set in a (layered) spec."""
    found = []
    for node in [spec_dict, *spec_dict.get("layer", [])]:
        data = node.get("data", {})
        if "values" in data:
            found.append(data["values"])
    return found


@pytest.fixture(scope="module")
def synth() -> pl.DataFrame:
    return ok.resolve_customers(ok.synth_frame(3_000, seed=4))


def test_charts_are_valid_and_do_not_grow_with_rows(synth: pl.DataFrame) -> None:
    # Inline rows: at most one per channel pair (heatmap) or per path (bars), whatever the rows.
    channels = synth["interaction_type"].n_unique()
    for build, bound in (
        (lambda df: charts.transition_heatmap(ok.channel_transitions(df)), channels**2),
        (
            lambda df: charts.transition_heatmap(ok.channel_transitions(df), value="transitions"),
            channels**2,
        ),
        (lambda df: charts.top_paths_chart(ok.top_paths(df, n=8)), 8),
    ):
        for rows in (300, synth.height):
            d = spec(build(synth.head(rows)))
            layers = values(d) or [d["data"]["values"]]
            assert max(len(v) for v in layers) <= bound
            assert len(json.dumps(d)) < 4_000 + 120 * bound


def test_transition_heatmap_cells_are_the_transitions() -> None:
    t = pl.DataFrame(
        {
            "from_channel": ["CHAT", "CHAT", "VOICE"],
            "to_channel": ["VOICE", "CHAT", "VOICE"],
            "transitions": [3, 1, 2],
            "share": [0.75, 0.25, 1.0],
        }
    )
    d = spec(charts.transition_heatmap(t))
    cells = values(d)[0]
    assert {(c["from_channel"], c["to_channel"], c["share"]) for c in cells} == {
        ("CHAT", "VOICE", 0.75),
        ("CHAT", "CHAT", 0.25),
        ("VOICE", "VOICE", 1.0),
    }
    rect = d["layer"][0]
    assert rect["mark"]["type"] == "rect"
    assert rect["encoding"]["color"]["field"] == "share"
    assert rect["encoding"]["x"]["sort"] == ["CHAT", "VOICE"]
    with pytest.raises(ok.ParameterError, match="value must be"):
        charts.transition_heatmap(t, value="count")
    with pytest.raises(ok.ParameterError, match=r"ok\.channel_transitions"):
        charts.transition_heatmap(t.drop("share"))


def test_top_paths_chart_orders_bars_and_colours_the_first_channel() -> None:
    paths = pl.DataFrame(
        {
            "path": ["VOICE", "CHAT > VOICE", "SMS"],
            "journeys": [3, 2, 1],
            "share": [0.5, 2 / 6, 1 / 6],
        }
    )
    d = spec(charts.top_paths_chart(paths))
    bars = d["layer"][0]
    assert bars["encoding"]["y"]["sort"] == ["VOICE", "CHAT > VOICE", "SMS"]
    scale = bars["encoding"]["color"]["scale"]
    assert dict(zip(scale["domain"], scale["range"], strict=True))["CHAT"] == CHANNEL_COLORS["CHAT"]
    assert [v["first_channel"] for v in values(d)[0]] == ["VOICE", "CHAT", "SMS"]
    with pytest.raises(ok.ParameterError, match=r"ok\.top_paths"):
        charts.top_paths_chart(ok.synth_frame(10))


def test_customer_timeline_shows_one_customer_without_contact_details(vendor_sample) -> None:
    df = ok.resolve_customers(ok.load(vendor_sample))
    sms_customer = df.filter(interaction_type="SMS")["customer_id"][0]
    d = spec(charts.customer_timeline(df, customer_id=sms_customer))
    text = json.dumps(d)
    for secret in ("Xiao", "5108769640", "66d94d79", sms_customer, "2b7d28fc", "mytalkdesk"):
        assert secret not in text
    _bands, _, points = (layer for layer in d["layer"])
    steps = values(d)[1] if len(values(d)) > 1 else None
    assert steps is not None
    assert [s["interaction_type"] for s in steps] == ["SMS", "SMS", "EMAIL"]
    # One journey band (the three steps are within 24 h of each other); two with a 1 h gap.
    assert len(values(d)[0]) == 1
    assert (
        len(values(spec(charts.customer_timeline(df, customer_id=sms_customer, gap="1h")))[0]) == 2
    )
    assert points["mark"]["type"] == "point"


def test_customer_timeline_needs_one_customer(vendor_sample) -> None:
    df = ok.resolve_customers(ok.load(vendor_sample))
    with pytest.raises(ok.ParameterError, match="3 customers"):
        charts.customer_timeline(df)
    voice = df.filter(interaction_type="VOICE").drop("customer_id")
    assert spec(charts.customer_timeline(voice))["layer"]
    with pytest.raises(ok.ParameterError, match="no customer_id column"):
        charts.customer_timeline(voice, customer_id="C-x")
    no_start = voice.with_columns(start_date_time=pl.lit(None, pl.Datetime("us", "UTC")))
    with pytest.raises(ok.ParameterError, match="no interaction with a start_date_time"):
        charts.customer_timeline(no_start)


def test_timeline_times_are_the_report_wall_clock() -> None:
    schema = ok.canonical_schema("Europe/Lisbon")
    row = dict.fromkeys(schema)
    row.update(
        interaction_id="a", interaction_type="VOICE", start_date_time=dt.datetime(2024, 9, 2, 9, 30)
    )
    df = pl.DataFrame(
        [row],
        schema={
            c: (pl.Datetime("us") if isinstance(t, pl.Datetime) else t) for c, t in schema.items()
        },
    )
    df = df.with_columns(pl.col(ok.DATETIME_COLUMNS).dt.replace_time_zone("Europe/Lisbon"))
    d = spec(charts.customer_timeline(df))
    assert values(d)[1][0]["start_date_time"] == "2024-09-02T09:30:00Z"
    assert d["layer"][2]["encoding"]["x"]["scale"]["type"] == "utc"


def test_journey_flow_chart_is_a_step_matrix_whose_columns_add_up() -> None:
    trips = pl.DataFrame(
        {
            "channels": [["CHAT", "VOICE"], ["CHAT"], ["VOICE"], ["CHAT", "VOICE", "EMAIL"]],
            "path": ["CHAT > VOICE", "CHAT", "VOICE", "CHAT > VOICE > EMAIL"],
        }
    )
    d = spec(charts.journey_flow_chart(ok.journey_flow(trips, steps=3)))
    [cells] = values(d)
    at = {(c["step"], c["from_channel"]): c for c in cells}
    # step 1: 3 of 4 journeys at CHAT, 1 at VOICE; step 2: 2 at VOICE, 2 over; step 3: 1 EMAIL
    assert at[(1, "CHAT")]["share"] == 0.75 and at[(1, "VOICE")]["share"] == 0.25
    assert at[(2, "VOICE")]["journeys"] == 2 and at[(2, "END")]["journeys"] == 2
    assert at[(3, "EMAIL")]["journeys"] == 1 and at[(3, "END")]["journeys"] == 3
    for step in (1, 2, 3):
        assert sum(c["share"] for c in cells if c["step"] == step) == pytest.approx(1)
    assert at[(1, "CHAT")]["next"] == "VOICE (2), END (1)"
    assert d["layer"][0]["encoding"]["y"]["sort"][-1] == "END"
    assert d["width"] == "container"
    with pytest.raises(ok.ParameterError, match="journey_flow"):
        charts.journey_flow_chart(trips)
