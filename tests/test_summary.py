"""The numbers a manager reads first: channel_numbers and weekly_summary on hand-built frames."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

import omnikit as ok


def frame(rows: list[tuple[str, str, str, int]]) -> pl.DataFrame:
    """(channel, direction, status, wait) rows, one minute apart."""
    start = dt.datetime(2024, 9, 9, 9, tzinfo=dt.UTC)
    return pl.DataFrame(
        {
            "interaction_id": [str(i) for i in range(len(rows))],
            "interaction_type": [r[0] for r in rows],
            "interaction_direction": [r[1] for r in rows],
            "interaction_status": [r[2] for r in rows],
            "waiting_time": [r[3] for r in rows],
            "start_date_time": [start + dt.timedelta(minutes=i) for i in range(len(rows))],
        }
    )


WEEK = frame(
    [
        ("VOICE", "INBOUND", "FINISHED", 10),
        ("VOICE", "INBOUND", "FINISHED", 30),
        ("VOICE", "INBOUND", "ABANDONED", 60),
        ("VOICE", "OUTBOUND", "FINISHED", 9000),  # the team's call: no wait of a customer
        ("EMAIL", "INBOUND", "FINISHED", 3000),
        ("EMAIL", "INBOUND", "FINISHED", 20000),
    ]
)


def test_channel_numbers_judge_each_channel_against_its_own_threshold_and_target():
    numbers = ok.channel_numbers(
        WEEK, threshold={"VOICE": 20, "*": "4h"}, targets={"VOICE": 0.8, "*": 0.5}
    )
    rows = {r["interaction_type"]: r for r in numbers.iter_rows(named=True)}
    assert rows["VOICE"]["offered"] == 3 and rows["VOICE"]["threshold"] == 20
    assert rows["VOICE"]["service_level"] == pytest.approx(1 / 3)
    assert rows["VOICE"]["to_target"] == pytest.approx(1 / 3 - 0.8)
    assert rows["EMAIL"]["threshold"] == 14400 and rows["EMAIL"]["service_level"] == 0.5
    assert rows["EMAIL"]["target"] == 0.5 and rows["EMAIL"]["to_target"] == 0
    # waits of INBOUND interactions only: the outbound 9000 s is not a customer's wait
    assert rows["VOICE"]["median_wait"] == 30 and rows["VOICE"]["p90_wait"] == pytest.approx(54)
    with pytest.raises(ok.ParameterError, match=r"no value for channel.*'EMAIL'"):
        ok.channel_numbers(WEEK, targets={"VOICE": 0.8})
    with pytest.raises(ok.ParameterError, match="EMAIL"):
        ok.channel_numbers(WEEK, threshold={"VOICE": 20})
    with pytest.raises(ok.ParameterError, match="between 0 and 1"):
        ok.channel_numbers(WEEK, targets=80)
    # the default: ok.DEFAULT_THRESHOLDS and 80 %
    default = ok.channel_numbers(WEEK)
    assert default["threshold"].to_list() == [4 * 3600, 20] and set(default["target"]) == {0.8}


def test_weekly_summary_says_who_missed_the_target_and_what_moved():
    now = {
        "interactions": 1200,
        "offered": 900,
        "service_level": 0.78,
        "containment_rate": 0.4,
        "repeat_rate": 0.12,
    }
    before = {
        "interactions": 1000,
        "offered": 800,
        "service_level": 0.82,
        "containment_rate": 0.4,
        "repeat_rate": 0.15,
    }
    channels = pl.DataFrame(
        {
            "interaction_type": ["CHAT", "EMAIL", "VOICE", "<b>X</b>"],
            "offered": [100, 50, 750, 0],
            "service_level": [0.91, 0.6, 0.72, None],
            "target": [0.8, 0.7, 0.8, 0.8],
            "to_target": [0.11, -0.1, -0.08, None],
            "abandon_rate": [0.02, 0.0, 0.08, None],
        }
    )
    channels_before = channels.with_columns(
        service_level=pl.Series([0.905, 0.605, 0.85, None]),
        abandon_rate=pl.Series([0.02, 0.0, 0.05, None]),
    )
    text = ok.weekly_summary(now, before, channels, channels_before, period="week")
    lines = text.splitlines()
    assert lines[0] == (
        "- **1,200 interactions** this week, 20.0% more than the week before (1,000), "
        "900 of them inbound."
    )
    assert lines[1] == (
        "- **Service level 78.0%** (every channel against its own threshold, down 4.0 pp on "
        "the week before)."
    )
    # the farthest below its target first, by how much; then who met theirs
    assert lines[2] == (
        "- **2 of 3 channels missed their target:** EMAIL 60.0% (target 70.0%, 10.0 pp short); "
        "VOICE 72.0% (target 80.0%, 8.0 pp short). Met its: CHAT."
    )
    # the biggest moves in points, changes under 1 pp not named
    assert lines[3] == (
        "- **Biggest changes:** VOICE service level fell 13.0 pp (85.0% → 72.0%); VOICE "
        "abandon rate rose 3.0 pp (5.0% → 8.0%)."
    )
    assert lines[4] == (
        "- **Journeys:** 40.0% of the journeys with a bot never needed an agent after it, no "
        "change; 12.0% of inbound contacts were repeats, down 3.0 pp."
    )
    assert text._repr_markdown_() == text
    every = ok.weekly_summary(now, None, channels.filter(pl.col("interaction_type") == "CHAT"))
    assert "**Every channel met its target** (CHAT)." in every and "Biggest" not in every


def test_weekly_summary_escapes_channel_names():
    channels = pl.DataFrame(
        {
            "interaction_type": ["[x](javascript:alert(1))", "<script>window.pwned=1</script>"],
            "offered": [10, 10],
            "service_level": [0.5, 0.9],
            "target": [0.8, 0.8],
            "to_target": [-0.3, 0.1],
            "abandon_rate": [0.1, 0.0],
        }
    )
    text = ok.weekly_summary({"interactions": 20, "offered": 20}, None, channels)
    assert "<script>" not in text and "](javascript" not in text
    assert ok.escape_text("[x](javascript:alert(1))") in text
