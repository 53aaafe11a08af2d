"""Journeys, transitions, repeat contacts and top paths (the README's contract), by hand."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import omnikit as ok

T0 = dt.datetime(2024, 9, 2, 9, 0, 0)


def frame(rows: list[dict], timezone: str = "UTC") -> pl.DataFrame:
    """A canonical frame; ``at`` is seconds after ``T0`` (``None``: no start time)."""
    schema = ok.canonical_schema(timezone)
    naive = {c: (pl.Datetime("us") if isinstance(t, pl.Datetime) else t) for c, t in schema.items()}
    full = []
    for k, r in enumerate(rows):
        r = {"interaction_id": f"i{k:02d}", "contact_id": "k1", "interaction_type": "VOICE", **r}
        at = r.pop("at", 0)
        r.setdefault("start_date_time", None if at is None else T0 + dt.timedelta(seconds=at))
        full.append(r)
    df = pl.DataFrame({c: [r.get(c) for r in full] for c in schema}, schema=naive)
    return df.with_columns(pl.col(ok.DATETIME_COLUMNS).dt.replace_time_zone(timezone))


DAY = 24 * 3600


# ------------------------------------------------------------------------------------------
# journeys


def test_a_journey_splits_only_when_the_gap_is_exceeded() -> None:
    # Steps at 0, +24h (exactly the gap: same journey), +48h+1s (one second more: a new one).
    df = frame([{"at": 0}, {"at": DAY}, {"at": 2 * DAY + 1}])
    j = ok.journeys(df)
    assert j["interactions"].to_list() == [2, 1]
    assert j["journey_id"].to_list() == [f"{j['customer_id'][0]}-1", f"{j['customer_id'][0]}-2"]
    # The gap runs from the previous step's start, not from the journey's first step.
    chain = frame([{"at": 0}, {"at": 20 * 3600}, {"at": 40 * 3600}])
    assert ok.journeys(chain)["interactions"].to_list() == [3]
    assert ok.journeys(df, gap=dt.timedelta(hours=24, seconds=1))["interactions"].to_list() == [3]
    assert ok.journeys(df, gap="30m")["interactions"].to_list() == [1, 1, 1]


def test_ties_in_time_are_ordered_by_interaction_id() -> None:
    df = frame(
        [
            {"interaction_id": "b", "interaction_type": "SMS"},
            {"interaction_id": "a", "interaction_type": "VOICE"},
            {"interaction_id": "c", "interaction_type": "EMAIL", "at": -60},
        ]
    )
    j = ok.journeys(df)
    assert j["channels"].to_list() == [["EMAIL", "VOICE", "SMS"]]
    assert j.select("first_channel", "last_channel").row(0) == ("EMAIL", "SMS")


def test_rows_without_start_time_are_left_out_of_journeys_but_resolved() -> None:
    df = frame([{"at": 0}, {"at": None, "interaction_type": "SMS"}, {"at": 60}])
    assert ok.resolve_customers(df).height == 3
    j = ok.journeys(df)
    assert j["interactions"].to_list() == [2]
    assert j["channels"].to_list() == [["VOICE", "VOICE"]]


def test_path_collapses_repeats_and_counts_distinct_channels() -> None:
    types = ["VOICE", "VOICE", "SMS", "VOICE", None]
    df = frame([{"at": 60 * k, "interaction_type": t} for k, t in enumerate(types)])
    row = ok.journeys(df).row(0, named=True)
    assert row["channels"] == types
    assert row["path"] == "VOICE > SMS > VOICE > UNKNOWN"
    assert (row["n_channels"], row["switched"], row["interactions"]) == (2, True, 5)
    assert (row["first_channel"], row["last_channel"]) == ("VOICE", None)
    single = ok.journeys(frame([{"at": 0}, {"at": 60}])).row(0, named=True)
    assert (single["path"], single["n_channels"], single["switched"]) == ("VOICE", 1, False)


def test_started_and_ended_at() -> None:
    end = T0 + dt.timedelta(seconds=600)
    df = frame([{"at": 0, "end_date_time": end}, {"at": 300}])
    row = ok.journeys(df).row(0, named=True)
    assert row["started_at"] == T0.replace(tzinfo=dt.UTC)
    assert row["ended_at"] == end.replace(tzinfo=dt.UTC)  # the latest end, not the last step's
    # A step without an end counts with its start.
    late = ok.journeys(frame([{"at": 0, "end_date_time": end}, {"at": 900}])).row(0, named=True)
    assert late["ended_at"] == (T0 + dt.timedelta(seconds=900)).replace(tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("agents", "expected"),
    [
        (["VIRTUAL_AGENT", "USER"], True),
        (["VIRTUAL_AGENT", None, "USER"], True),
        (["USER", "VIRTUAL_AGENT"], False),
        (["VIRTUAL_AGENT", "VIRTUAL_AGENT"], False),
        (["USER", "USER"], False),
        ([None], False),
    ],
)
def test_bot_to_human_is_a_bot_step_later_followed_by_a_human_step(agents, expected) -> None:
    df = frame([{"at": 60 * k, "agent_type": a} for k, a in enumerate(agents)])
    assert ok.journeys(df)["bot_to_human"].to_list() == [expected]


def test_answered_is_any_answered_step() -> None:
    statuses = [["MISSED", "ABANDONED"], ["MISSED", "FINISHED"], ["ASSIGNED"], ["OFFERED", None]]
    rows = [
        {"contact_id": f"k{c}", "interaction_status": s, "at": 60 * k}
        for c, steps in enumerate(statuses)
        for k, s in enumerate(steps)
    ]
    by_customer = ok.journeys(frame(rows)).join(
        ok.resolve_customers(frame(rows)).select("customer_id", "contact_id").unique(),
        on="customer_id",
    )
    assert dict(by_customer.select("contact_id", "answered").iter_rows()) == {
        "k0": False,
        "k1": True,
        "k2": True,
        "k3": False,
    }


def test_an_existing_customer_id_is_used_as_is() -> None:
    # Two contacts that share nothing, but the analyst says they are one customer.
    df = frame(
        [{"contact_id": "k1", "at": 0}, {"contact_id": "k2", "at": 60, "interaction_type": "SMS"}]
    )
    mine = df.with_columns(customer_id=pl.lit("C-analyst"))
    j = ok.journeys(mine)
    assert j.select("customer_id", "journey_id", "path").rows() == [
        ("C-analyst", "C-analyst-1", "VOICE > SMS")
    ]
    assert ok.journeys(df).height == 2
    with pytest.raises(ok.ParameterError, match="already has customer_id"):
        ok.journeys(mine, link_by_name=True)
    with pytest.raises(ok.ParameterError, match="missing on 1 row"):
        ok.journeys(df.with_columns(customer_id=pl.Series([None, "C-x"], dtype=pl.String)))


def test_resolve_options_are_passed_on() -> None:
    df = frame(
        [
            {"contact_id": None, "name": "Ana Lu", "at": 0, "interaction_direction": "INBOUND"},
            {"contact_id": None, "name": "ana  lu", "at": 60, "interaction_direction": "INBOUND"},
        ]
    )
    assert ok.journeys(df).height == 2
    assert ok.journeys(df, link_by_name=True).height == 1
    assert ok.channel_transitions(df, link_by_name=True)["transitions"].to_list() == [1]
    assert ok.repeat_contacts(df, link_by_name=True)["repeated"].to_list() == [1]
    assert ok.top_paths(df, link_by_name=True)["journeys"].to_list() == [1]
    # they are explicit keywords: a typo is Python's own error, naming it
    with pytest.raises(TypeError, match="link_by_nmae"):
        ok.journeys(df, link_by_nmae=True)  # type: ignore[call-arg]


def test_every_resolution_option_is_passed_on() -> None:
    # one switchboard number on four contact ids: it links them only when the guard allows 4
    inbound = {"contact": "+1 510 876 9640", "interaction_direction": "INBOUND"}
    df = frame([{"contact_id": f"k{i}", "at": 60 * i, **inbound} for i in range(4)])
    assert ok.journeys(df).height == 4  # default max_contact_ids=3: the number does not link
    assert ok.journeys(df, max_contact_ids=4).height == 1
    assert ok.repeat_contacts(df, max_contact_ids=4)["repeated"].to_list() == [3]
    national = frame([{"contact_id": f"k{i}", "contact": "912 345 678", "at": i} for i in range(2)])
    assert ok.journeys(national, default_region="PT", max_contact_ids=None).height == 1
    resolved = ok.resolve_customers(df)
    for call in [
        lambda: ok.journeys(resolved, max_contact_ids=4),
        lambda: ok.channel_transitions(resolved, default_region="PT"),
        lambda: ok.repeat_contacts(resolved, link_by_name=True),
        lambda: ok.top_paths(resolved, link_by_name=True),
    ]:
        with pytest.raises(ok.ParameterError, match="already has customer_id"):
            call()
    with pytest.raises(ok.ParameterError, match="got a journeys frame"):
        ok.top_paths(ok.journeys(df), link_by_name=True)


def test_bad_gap_is_a_parameter_error() -> None:
    df = frame([{"at": 0}])
    for gap in ["soon", "-1h", dt.timedelta(hours=-1), 24]:
        with pytest.raises(ok.ParameterError, match="gap"):
            ok.journeys(df, gap=gap)


def test_lazy_input_gives_the_same_journeys() -> None:
    df = frame([{"at": 0}, {"at": 3 * DAY, "contact_id": "k2"}, {"at": 5 * DAY}])
    assert ok.journeys(df.lazy()).equals(ok.journeys(df))


def test_a_lazy_frame_too_large_for_one_slice_gives_the_same_journeys(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Thirty customers, several journeys each; read three rows of customers at a time.
    df = ok.synth_frame(400, seed=7, days=10, timezone="UTC")
    whole = ok.journeys(df)
    from omnikit import _journeys

    monkeypatch.setattr(_journeys, "SLICE_ROWS", 37)
    slices = _journeys._customer_slices(ok.resolve_customers(df.lazy()))
    assert len(slices) >= 8
    assert ok.journeys(df.lazy()).equals(whole)
    resolved = ok.resolve_customers(df).lazy()
    assert ok.journeys(resolved).equals(whole)


def test_the_vendor_sample_journeys(vendor_sample) -> None:
    j = ok.journeys(ok.load(vendor_sample)).sort("started_at")
    # By hand: VOICE customer calls 09-05 03:12, 03:13, 03:20 (one journey, first call MISSED
    # then answered) and 09-11 09:15 (six days later: a second journey); SMS 06:31, SMS 06:41,
    # EMAIL 08:02 on 09-05 (one journey SMS > EMAIL); the CHAT row 09-09 (bot only).
    assert j.select("path", "interactions", "switched", "answered", "bot_to_human").rows() == [
        ("VOICE", 3, False, True, False),
        ("SMS > EMAIL", 3, True, True, False),
        ("CHAT", 1, False, True, False),
        ("VOICE", 1, False, True, False),
    ]


# ------------------------------------------------------------------------------------------
# channel_transitions, repeat_contacts, top_paths


def test_channel_transitions_count_pairs_within_journeys() -> None:
    df = frame(
        [
            {"at": 0, "interaction_type": "CHAT"},
            {"at": 60, "interaction_type": "VOICE"},
            {"at": 120, "interaction_type": "VOICE"},
            {"at": 180, "interaction_type": "EMAIL"},
            {"at": 3 * DAY, "interaction_type": "SMS"},  # a new journey: no EMAIL -> SMS pair
            {"at": 0, "interaction_type": "CHAT", "contact_id": "k2"},
            {"at": 60, "interaction_type": "EMAIL", "contact_id": "k2"},
        ]
    )
    t = ok.channel_transitions(df)
    assert t.rows() == [
        ("CHAT", "EMAIL", 1, 0.5),
        ("CHAT", "VOICE", 1, 0.5),
        ("VOICE", "EMAIL", 1, 0.5),
        ("VOICE", "VOICE", 1, 0.5),
    ]
    assert t["transitions"].sum() == ok.journeys(df)["interactions"].sum() - ok.journeys(df).height


def test_repeat_contacts_window_boundary_and_by() -> None:
    week = 7 * DAY
    df = frame(
        [
            {"at": 0, "interaction_type": "VOICE"},
            {"at": week, "interaction_type": "CHAT"},  # exactly 7 days later: a repeat
            {"at": 2 * week + 1, "interaction_type": "VOICE"},  # 7 days and 1 s: not
            {"at": None, "interaction_type": "VOICE"},  # no start time: not counted
            {"at": 0, "interaction_type": "CHAT", "contact_id": "k2"},
        ]
    ).with_columns(interaction_direction=pl.lit("INBOUND"))
    overall = ok.repeat_contacts(df)
    assert overall.rows() == [(4, 1, 0.25)]
    by = ok.repeat_contacts(df, by="interaction_type")
    assert by.rows() == [("CHAT", 2, 0, 0.0), ("VOICE", 2, 1, 0.5)]
    assert ok.repeat_contacts(df, window="8d").rows() == [(4, 2, 0.5)]
    with pytest.raises(ok.ParameterError, match="no column"):
        ok.repeat_contacts(df, by="queue")


def test_top_paths_counts_and_shares() -> None:
    rows = []
    for c, types in enumerate(
        [["VOICE"], ["VOICE"], ["VOICE"], ["CHAT", "VOICE"], ["CHAT", "VOICE"], ["SMS"]]
    ):
        rows += [
            {"contact_id": f"k{c}", "interaction_type": t, "at": 60 * k}
            for k, t in enumerate(types)
        ]
    df = frame(rows)
    top = ok.top_paths(df)
    assert top.rows() == [("VOICE", 3, 0.5), ("CHAT > VOICE", 2, 2 / 6), ("SMS", 1, 1 / 6)]
    assert ok.top_paths(ok.journeys(df), n=1).rows() == [("VOICE", 3, 0.5)]
    with pytest.raises(ok.ParameterError, match="n must"):
        ok.top_paths(df, n=0)


# ------------------------------------------------------------------------------------------
# properties

STEP = st.fixed_dictionaries(
    {
        "contact_id": st.sampled_from(["k1", "k2", "k3", None]),
        "contact": st.sampled_from([None, "+1 510 876 9640", "(510) 876-9640", "a@b.co"]),
        "interaction_type": st.sampled_from(["VOICE", "SMS", "CHAT", None]),
        "agent_type": st.sampled_from(["USER", "VIRTUAL_AGENT", None]),
        "at": st.one_of(st.none(), st.integers(0, 4 * DAY).map(lambda s: s - s % 3600)),
    }
)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(STEP, min_size=1, max_size=14), data=st.data())
def test_journey_steps_add_up_and_do_not_depend_on_row_order(rows, data) -> None:
    df = frame(rows)
    j = ok.journeys(df)
    with_start = df["start_date_time"].is_not_null().sum()
    assert j["interactions"].sum() == with_start
    assert j["channels"].list.len().to_list() == j["interactions"].to_list()
    assert j["journey_id"].n_unique() == j.height
    assert (j["started_at"] <= j["ended_at"]).all()
    transitions = ok.channel_transitions(df)
    assert transitions["transitions"].sum() == with_start - j.height
    order = data.draw(st.permutations(range(df.height)))
    assert ok.journeys(df[order]).equals(j)


def test_empty_frames_give_empty_answers() -> None:
    empty = frame([])
    assert ok.resolve_customers(empty).height == 0
    assert ok.journeys(empty).height == 0
    assert ok.channel_transitions(empty).height == 0
    assert ok.top_paths(empty).height == 0
    assert ok.repeat_contacts(empty).rows() == [(0, 0, None)]
