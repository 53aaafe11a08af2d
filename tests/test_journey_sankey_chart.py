"""The Sankey-style journey chart: valid Vega-Lite whose blocks and bands are the journeys."""

from __future__ import annotations

import itertools
import json

import polars as pl
import pytest

import omnikit as ok
from omnikit import charts
from omnikit.charts._journeys import END_COLOR

TRIPS = pl.DataFrame(
    {
        "channels": [
            ["VOICE"],
            ["CHAT", "VOICE"],
            ["CHAT", "VOICE", "VOICE"],
            ["CHAT", "CHAT", "EMAIL"],
            ["VOICE", "VOICE"],
        ],
        "path": ["VOICE", "CHAT > VOICE", "CHAT > VOICE", "CHAT > EMAIL", "VOICE"],
    }
)


def layers(chart) -> tuple[dict, list[list[dict]]]:
    """The validated spec and each layer's inline rows."""
    spec = chart.to_dict()  # validates against the Vega-Lite schema
    datasets = spec.get("datasets", {})
    rows = []
    for layer in spec["layer"]:
        data = layer.get("data", {})
        rows.append(data["values"] if "values" in data else datasets[data["name"]])
    return spec, rows


def test_blocks_are_the_journeys_at_each_step_and_bands_the_flow() -> None:
    flow = ok.journey_flow(TRIPS, steps=2)
    spec, (bands, blocks, _labels) = layers(charts.journey_sankey_chart(flow))
    got = {(b["column"], b["channel"]): b["journeys"] for b in blocks}
    # Step 1: 3 CHAT, 2 VOICE; step 2: 3 VOICE (2 from CHAT, 1 from VOICE), 1 CHAT, and one
    # VOICE journey ended; step 3 (targets of step 2): 1 VOICE, 1 EMAIL, 2 END.
    assert got == {
        (1, "CHAT"): 3,
        (1, "VOICE"): 2,
        (2, "VOICE"): 3,
        (2, "CHAT"): 1,
        (2, "END"): 1,
        (3, "VOICE"): 1,
        (3, "EMAIL"): 1,
        (3, "END"): 2,
    }
    for block in blocks:  # each block is as tall as its journeys, none overlapping
        assert block["y1"] - block["y0"] == pytest.approx(block["journeys"])
    for column in {b["column"] for b in blocks}:
        spans = sorted((b["y0"], b["y1"]) for b in blocks if b["column"] == column)
        assert all(a[1] < b[0] for a, b in itertools.pairwise(spans))
    # One band per flow row; its thickness is its journeys all along.
    by_link: dict[int, list[dict]] = {}
    for point in bands:
        by_link.setdefault(point["link"], []).append(point)
    assert len(by_link) == flow.height
    seen = set()
    for points in by_link.values():
        first = points[0]
        seen.add((first["step"], first["from_channel"], first["to_channel"], first["journeys"]))
        assert all(p["y1"] - p["y0"] == pytest.approx(first["journeys"]) for p in points)
        # It leaves inside its source block and arrives inside its target block.
        source = next(
            b
            for b in blocks
            if (b["column"], b["channel"]) == (first["step"], first["from_channel"])
        )
        target = next(
            b
            for b in blocks
            if (b["column"], b["channel"]) == (first["step"] + 1, first["to_channel"])
        )
        start, end = min(points, key=lambda p: p["x"]), max(points, key=lambda p: p["x"])
        assert source["y0"] <= start["y0"] and start["y1"] <= source["y1"] + 1e-9
        assert target["y0"] <= end["y0"] and end["y1"] <= target["y1"] + 1e-9
    assert seen == set(flow.select("step", "from_channel", "to_channel", "journeys").iter_rows())
    # The bands leaving a block, and those arriving at one, tile it exactly: no overlap, no hole.
    for block in blocks:
        column, channel = block["column"], block["channel"]
        for end, step, side in ((min, column, "from_channel"), (max, column - 1, "to_channel")):
            spans = sorted(
                (p["y0"], p["y1"])
                for p in (end(ps, key=lambda p: p["x"]) for ps in by_link.values())
                if p["step"] == step and p[side] == channel
            )
            if spans:
                assert spans[0][0] == pytest.approx(block["y0"])
                assert spans[-1][1] == pytest.approx(block["y1"])
                assert all(a[1] == pytest.approx(b[0]) for a, b in itertools.pairwise(spans))
    assert END_COLOR in json.dumps(spec)


def test_the_chart_does_not_grow_with_interactions_and_shows_no_ids() -> None:
    df = ok.resolve_customers(ok.synth_frame(2_000, seed=3))
    flow = ok.journey_flow(ok.journeys(df), steps=3)
    spec, (bands, blocks, _labels) = layers(charts.journey_sankey_chart(flow))
    assert len(bands) <= 5 * flow.height and len(blocks) <= 4 * flow["from_channel"].n_unique() + 4
    text = json.dumps(spec)
    assert not any(c in text for c in df["customer_id"].unique().head(50))
    assert not any(i in text for i in df["interaction_id"].head(50))


def test_journey_sankey_chart_refuses_what_it_cannot_draw() -> None:
    with pytest.raises(ok.ParameterError, match=r"ok\.journey_flow"):
        charts.journey_sankey_chart(TRIPS)
    flow = ok.journey_flow(TRIPS)
    with pytest.raises(ok.ParameterError, match="more than one row"):
        charts.journey_sankey_chart(pl.concat([flow, flow]))
    with pytest.raises(ok.ParameterError, match="no journeys"):
        charts.journey_sankey_chart(flow.head(0))
