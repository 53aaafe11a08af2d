"""Inbound repeat contacts, calendar-day windows, bot containment and journey flow, by hand."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

import omnikit as ok

T0 = dt.datetime(2024, 9, 2, 9, 0, 0)
HOUR = 3600
DAY = 24 * HOUR


def frame(rows: list[dict], timezone: str = "UTC") -> pl.DataFrame:
    """A canonical frame; ``at`` is seconds after ``T0``; rows are INBOUND VOICE of customer k1
    unless they say otherwise."""
    schema = ok.canonical_schema(timezone)
    naive = {c: (pl.Datetime("us") if isinstance(t, pl.Datetime) else t) for c, t in schema.items()}
    full = []
    for k, r in enumerate(rows):
        r = {
            "interaction_id": f"i{k:02d}",
            "contact_id": "k1",
            "interaction_type": "VOICE",
            "interaction_direction": "INBOUND",
            **r,
        }
        at = r.pop("at", 0)
        r.setdefault("start_date_time", None if at is None else T0 + dt.timedelta(seconds=at))
        full.append(r)
    df = pl.DataFrame({c: [r.get(c) for r in full] for c in schema}, schema=naive)
    return df.with_columns(pl.col(ok.DATETIME_COLUMNS).dt.replace_time_zone(timezone))


# ------------------------------------------------------------------------------------------
# repeat contacts: inbound by default

FOLLOW_UPS = [
    {"at": 0, "interaction_type": "VOICE"},
    {"at": HOUR, "interaction_type": "SMS", "interaction_direction": "OUTBOUND"},  # our follow-up
    {"at": 3 * DAY, "interaction_type": "CHAT"},  # the customer comes back
    {"at": 0, "contact_id": "k2"},
    {"at": 2 * HOUR, "contact_id": "k2", "interaction_direction": "OUTBOUND"},  # only ours
    {"at": HOUR, "contact_id": "k3", "interaction_direction": None},  # no direction
]


def test_repeats_count_inbound_interactions_followed_by_an_inbound_one() -> None:
    df = frame(FOLLOW_UPS)
    # k1's call at 0 is repeated by the chat at 3 d (the outbound SMS in between is no repeat,
    # and does not hide the chat); k1's chat and k2's call have no later inbound interaction.
    assert ok.repeat_contacts(df).rows() == [(3, 1, 1 / 3)]
    assert ok.repeat_contacts(df, by="interaction_type").rows() == [
        ("CHAT", 1, 0, 0.0),
        ("VOICE", 2, 1, 0.5),
    ]
    assert ok.repeat_contacts(df, window="2d").rows() == [(3, 0, 0.0)]


def test_direction_none_counts_every_direction_and_outbound_counts_only_outbound() -> None:
    df = frame(FOLLOW_UPS)
    # k1: 0 -> 1 h -> 3 d (two repeats); k2: 0 -> 2 h (one); k3 alone: 6 interactions, 3 repeated.
    assert ok.repeat_contacts(df, direction=None).rows() == [(6, 3, 0.5)]
    assert ok.repeat_contacts(df, direction="OUTBOUND").rows() == [(2, 0, 0.0)]
    with pytest.raises(ok.ParameterError, match="direction must be"):
        ok.repeat_contacts(df, direction=["INBOUND"])  # type: ignore[arg-type]
    with pytest.raises(ok.ParameterError, match="direction=None"):
        ok.repeat_contacts(df.drop("interaction_direction"))
    assert ok.repeat_contacts(df.drop("interaction_direction"), direction=None).rows() == [
        (6, 3, 0.5)
    ]


def test_seven_days_are_calendar_days_in_the_frames_timezone_and_168h_are_hours() -> None:
    lisbon = [
        # Spring: clocks go forward on 31 March 2024, so Thursday 12:00 to the next Thursday
        # 12:30 is only 167.5 hours but more than 7 calendar days.
        {"start_date_time": dt.datetime(2024, 3, 28, 12, 0), "contact_id": "k1"},
        {"start_date_time": dt.datetime(2024, 4, 4, 12, 30), "contact_id": "k1"},
        # Autumn: clocks go back on 27 October 2024, so Thursday 12:00 to the next Thursday
        # 11:30 is 168.5 hours but less than 7 calendar days.
        {"start_date_time": dt.datetime(2024, 10, 24, 12, 0), "contact_id": "k2"},
        {"start_date_time": dt.datetime(2024, 10, 31, 11, 30), "contact_id": "k2"},
    ]
    df = frame(lisbon, timezone="Europe/Lisbon")
    hours = df["start_date_time"].diff().dt.total_minutes().to_list()
    assert hours[1] == 167.5 * 60 and hours[3] == 168.5 * 60
    calendar = ok.repeat_contacts(df, by="contact_id")
    assert calendar.rows() == [("k1", 2, 0, 0.0), ("k2", 2, 1, 0.5)]
    assert ok.repeat_contacts(df, window="7d", by="contact_id").equals(calendar)
    exact = ok.repeat_contacts(df, window="168h", by="contact_id")
    assert exact.rows() == [("k1", 2, 1, 0.5), ("k2", 2, 0, 0.0)]
    assert ok.repeat_contacts(df, window=dt.timedelta(days=7), by="contact_id").equals(exact)
    # In UTC a day is always 24 hours: the same wall-clock times give the exact-hour answer.
    utc = frame(lisbon, timezone="UTC")
    assert ok.repeat_contacts(utc, by="contact_id").rows() == [
        ("k1", 2, 0, 0.0),  # 168.5 h of wall clock in UTC
        ("k2", 2, 1, 0.5),  # 167.5 h
    ]


# ------------------------------------------------------------------------------------------
# bot containment

BOT, USER = "VIRTUAL_AGENT", "USER"
BOTS = [
    # k1: the bot hands over to a person: not contained.
    {"contact_id": "k1", "agent_type": BOT, "interaction_type": "CHAT", "at": 0},
    {"contact_id": "k1", "agent_type": USER, "interaction_type": "VOICE", "at": 600},
    # k2: the bot alone: contained.
    {"contact_id": "k2", "agent_type": BOT, "interaction_type": "CHAT", "at": 0},
    # k3: a person first, then the bot: contained (nobody after the bot).
    {"contact_id": "k3", "agent_type": USER, "interaction_type": "VOICE", "at": 0},
    {"contact_id": "k3", "agent_type": BOT, "interaction_type": "CHAT", "at": 600},
    # k4: no bot at all: not a bot journey.
    {"contact_id": "k4", "agent_type": USER, "interaction_type": "VOICE", "at": 0},
    # k5: bot, bot, no agent: contained.
    {"contact_id": "k5", "agent_type": BOT, "interaction_type": "VOICE", "at": 0},
    {"contact_id": "k5", "agent_type": BOT, "interaction_type": "VOICE", "at": 60},
    {"contact_id": "k5", "agent_type": None, "interaction_type": "VOICE", "at": 120},
    # k6: the bot, then a person two days later: another journey with a 24 h gap.
    {"contact_id": "k6", "agent_type": BOT, "interaction_type": "CHAT", "at": 0},
    {"contact_id": "k6", "agent_type": USER, "interaction_type": "VOICE", "at": 2 * DAY},
]


def test_bot_containment_counts_journeys_with_no_person_after_the_bot() -> None:
    df = frame(BOTS)
    # Bot journeys: k1, k2, k3, k5 and k6's first; contained: all but k1.
    out = ok.bot_containment(df)
    assert out.columns == ["bot_journeys", "contained", "containment_rate"]
    assert out.rows() == [(5, 4, 0.8)]
    # With a 72 h gap k6 is one journey, and its person comes after the bot.
    assert ok.bot_containment(df, gap="72h").rows() == [(5, 3, 0.6)]
    trips = ok.journeys(df)
    assert trips["bot_to_human"].sum() == 1  # contained is "not bot_to_human" among bot journeys


def test_bot_containment_by_a_journey_column() -> None:
    df = frame(BOTS)
    by_first = ok.bot_containment(df, by="first_channel")
    # CHAT first: k1 (no), k2, k6 (yes); VOICE first: k3 and k5 (yes).
    assert by_first.rows() == [("CHAT", 3, 2, 2 / 3), ("VOICE", 2, 2, 1.0)]
    assert ok.bot_containment(df, by=["switched", "last_channel"]).rows() == [
        (False, "CHAT", 2, 2, 1.0),  # k2, k6's first journey
        (False, "VOICE", 1, 1, 1.0),  # k5
        (True, "CHAT", 1, 1, 1.0),  # k3
        (True, "VOICE", 1, 0, 0.0),  # k1
    ]
    with pytest.raises(ok.ParameterError, match="first_channel"):
        ok.bot_containment(df, by="interaction_type")  # a step column, not a journey column
    with pytest.raises(ok.ParameterError, match="no column"):
        ok.bot_containment(df, by="channels")  # a list


def test_bot_containment_without_bots() -> None:
    no_bots = frame([r for r in BOTS if r["agent_type"] != BOT])
    assert ok.bot_containment(no_bots).rows() == [(0, 0, None)]
    assert ok.bot_containment(no_bots, by="first_channel").height == 0
    assert ok.bot_containment(frame([])).rows() == [(0, 0, None)]


# ------------------------------------------------------------------------------------------
# journey flow

TRIPS = pl.DataFrame(
    {
        "channels": [
            ["VOICE"],
            ["CHAT", "VOICE"],
            ["CHAT", "VOICE", "VOICE"],
            ["CHAT", "CHAT", "EMAIL", "VOICE", "SMS"],
            [None, "VOICE"],
        ],
        "path": [
            "VOICE",
            "CHAT > VOICE",
            "CHAT > VOICE",
            "CHAT > EMAIL > VOICE > SMS",
            "UNKNOWN > VOICE",
        ],
    }
)


def test_journey_flow_counts_where_each_step_went() -> None:
    flow = ok.journey_flow(TRIPS, steps=3)
    assert flow.columns == ["step", "from_channel", "to_channel", "journeys", "share"]
    assert flow.select("step", "from_channel", "to_channel", "journeys").rows() == [
        (1, "CHAT", "CHAT", 1),
        (1, "CHAT", "VOICE", 2),
        (1, "UNKNOWN", "VOICE", 1),
        (1, "VOICE", "END", 1),
        (2, "CHAT", "EMAIL", 1),
        (2, "VOICE", "END", 2),
        (2, "VOICE", "VOICE", 1),
        (3, "EMAIL", "VOICE", 1),
        (3, "VOICE", "END", 1),
    ]
    assert flow.filter(step=1, from_channel="CHAT")["share"].to_list() == [1 / 3, 2 / 3]
    # Every journey still going at step k is at some channel at step k + 1.
    totals = flow.group_by("step").agg(
        pl.col("journeys").sum(),
        going=pl.col("journeys").filter(pl.col("to_channel") != "END").sum(),
    )
    totals = totals.sort("step")
    assert totals["journeys"].to_list() == [5, 4, 2]
    assert totals["going"].to_list()[:-1] == totals["journeys"].to_list()[1:]


def test_journey_flow_collapsed_follows_the_path() -> None:
    flow = ok.journey_flow(TRIPS, steps=1, collapse=True)
    assert flow.select("from_channel", "to_channel", "journeys").rows() == [
        ("CHAT", "EMAIL", 1),
        ("CHAT", "VOICE", 2),
        ("UNKNOWN", "VOICE", 1),
        ("VOICE", "END", 1),
    ]


def test_journey_flow_from_a_canonical_frame_is_that_of_its_journeys() -> None:
    df = frame(BOTS)
    assert ok.journey_flow(df, gap="72h").equals(ok.journey_flow(ok.journeys(df, gap="72h")))
    assert ok.journey_flow(df)["journeys"].filter(ok.journey_flow(df)["step"] == 1).sum() == 7
    with pytest.raises(ok.ParameterError, match="steps must"):
        ok.journey_flow(TRIPS, steps=0)
    with pytest.raises(
        ok.ParameterError, match=r"resolution options \(link_by_name\) would be ignored"
    ):
        ok.journey_flow(TRIPS, link_by_name=True)
    assert ok.journey_flow(frame([])).height == 0


# ------------------------------------------------------------------------------------------
# journeys: statuses without regard to case


def test_a_journey_is_answered_whatever_the_case_of_its_status() -> None:
    df = frame(
        [
            {"interaction_status": "Finished", "contact_id": "k1"},
            {"interaction_status": "assigned", "contact_id": "k2"},
            {"interaction_status": "Missed", "contact_id": "k3"},
        ]
    )
    assert ok.journeys(df).sort("customer_id").join(
        ok.resolve_customers(df).select("customer_id", "contact_id"), on="customer_id"
    ).sort("contact_id")["answered"].to_list() == [True, True, False]


def test_bot_containment_and_journey_flow_take_the_resolution_options() -> None:
    # k1 and k2 share a name only: one customer (one journey) with link_by_name=True.
    df = frame(
        [
            {"contact_id": "k1", "name": "Ana Silva", "agent_type": BOT, "at": 0},
            {"contact_id": "k2", "name": "ana  silva", "agent_type": USER, "at": 600},
        ]
    )
    assert ok.bot_containment(df).rows() == [(1, 1, 1.0)]
    assert ok.bot_containment(df, link_by_name=True).rows() == [(1, 0, 0.0)]
    assert ok.journey_flow(df)["journeys"].sum() == 2
    assert ok.journey_flow(df, link_by_name=True).rows() == [
        (1, "VOICE", "VOICE", 1, 1.0),
        (2, "VOICE", "END", 1, 1.0),
    ]
    with pytest.raises(ok.ParameterError, match="would be ignored"):
        ok.bot_containment(ok.resolve_customers(df), link_by_name=True)
