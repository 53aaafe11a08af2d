"""Metrics (the README's "Metrics" section) on small frames whose answers are worked out by hand."""

from __future__ import annotations

import datetime as dt
import itertools
import math

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import omnikit as ok

KNOWN_STATUSES = [
    "FINISHED",
    "ASSIGNED",
    "MISSED",
    "ABANDONED",
    "SHORT_ABANDONED",
    "VOICEMAIL",
    "OFFERED",
]


def frame(rows: list[dict], timezone: str = "UTC") -> pl.DataFrame:
    """A canonical frame from row dicts; date-times are wall-clock times in ``timezone``."""
    schema = ok.canonical_schema(timezone)
    naive = {c: (pl.Datetime("us") if isinstance(t, pl.Datetime) else t) for c, t in schema.items()}
    data = {c: [r.get(c) for r in rows] for c in schema}
    df = pl.DataFrame(data, schema=naive)
    return df.with_columns(pl.col(ok.DATETIME_COLUMNS).dt.replace_time_zone(timezone))


def call(
    status: str | None,
    wait: int | None,
    channel: str = "VOICE",
    direction: str | None = "INBOUND",
    **extra,
) -> dict:
    return {
        "interaction_type": channel,
        "interaction_status": status,
        "interaction_direction": direction,
        "waiting_time": wait,
        **extra,
    }


# ------------------------------------------------------------------------------------------
# channel_mix


def test_channel_mix_counts_and_shares():
    df = frame(
        [call("FINISHED", 1), call("FINISHED", 2), call("MISSED", 3), call("FINISHED", 0, "CHAT")]
    )
    out = ok.channel_mix(df)
    assert out.columns == ["interaction_type", "interactions", "share"]
    assert out.schema["interactions"] == pl.Int64 and out.schema["share"] == pl.Float64
    assert out.rows() == [("CHAT", 1, 0.25), ("VOICE", 3, 0.75)]


def test_channel_mix_counts_every_direction_and_splits_by():
    df = frame(
        [
            call("FINISHED", 1, "VOICE", "INBOUND"),
            call("FINISHED", 1, "EMAIL", "INBOUND"),
            call("FINISHED", 1, "EMAIL", "INBOUND"),
            call("FINISHED", 1, "VOICE", "OUTBOUND"),
            call("FINISHED", 1, "VOICE", None),
        ]
    )
    out = ok.channel_mix(df, by="interaction_direction")
    assert out.rows() == [
        ("INBOUND", "EMAIL", 2, 2 / 3),
        ("INBOUND", "VOICE", 1, 1 / 3),
        ("OUTBOUND", "VOICE", 1, 1.0),
        (None, "VOICE", 1, 1.0),  # a null key is a group of its own, sorted last
    ]
    # interaction_type in by is the channel key itself, not a second one
    assert ok.channel_mix(df, by=["interaction_type"]).equals(ok.channel_mix(df))


def test_channel_mix_every_day_truncates_in_the_frames_timezone():
    # 23:30 and 00:30 local are on different Lisbon days although both are on 2024-09-02 in UTC
    # (Lisbon is UTC+1 in September).
    df = frame(
        [
            call("FINISHED", 1, "VOICE", start_date_time=dt.datetime(2024, 9, 2, 0, 30)),
            call("FINISHED", 1, "CHAT", start_date_time=dt.datetime(2024, 9, 2, 23, 30)),
            call("FINISHED", 1, "VOICE", start_date_time=dt.datetime(2024, 9, 2, 12, 0)),
            call("FINISHED", 1, "CHAT", start_date_time=dt.datetime(2024, 9, 3, 0, 30)),
            call("FINISHED", 1, "CHAT", start_date_time=None),
        ],
        timezone="Europe/Lisbon",
    )
    out = ok.channel_mix(df, every="1d")
    assert out.schema["period"] == pl.Datetime("us", "Europe/Lisbon")

    def day(d):
        return dt.datetime(2024, 9, d).replace(
            tzinfo=__import__("zoneinfo").ZoneInfo("Europe/Lisbon")
        )

    assert out.rows() == [
        (day(2), "CHAT", 1, 1 / 3),
        (day(2), "VOICE", 2, 2 / 3),
        (day(3), "CHAT", 1, 1.0),
        (None, "CHAT", 1, 1.0),  # no start time: a null period of its own, not dropped
    ]


def test_channel_mix_every_week_starts_on_monday_and_handles_dst():
    # 2024-10-27 is a Sunday and the DST fall-back day in Lisbon; 2024-10-28 a Monday.
    df = frame(
        [
            call("FINISHED", 1, start_date_time=dt.datetime(2024, 10, 27, 23, 0)),
            call("FINISHED", 1, start_date_time=dt.datetime(2024, 10, 28, 0, 0)),
            call("FINISHED", 1, start_date_time=dt.datetime(2024, 10, 21, 0, 0)),
        ],
        timezone="Europe/Lisbon",
    )
    out = ok.channel_mix(df, every="1w")
    periods = [p.replace(tzinfo=None) for p in out["period"]]
    assert periods == [dt.datetime(2024, 10, 21), dt.datetime(2024, 10, 28)]
    assert out["interactions"].to_list() == [2, 1]


def test_channel_mix_null_channel_empty_and_lazy():
    df = frame([call("FINISHED", 1, None), call("FINISHED", 1, "SMS")])
    assert ok.channel_mix(df.lazy()).rows() == [("SMS", 1, 0.5), (None, 1, 0.5)]
    empty = ok.channel_mix(frame([]), every="1h", by="groups")
    assert empty.height == 0
    assert empty.columns == ["period", "groups", "interaction_type", "interactions", "share"]


def test_channel_mix_bad_arguments():
    df = frame([call("FINISHED", 1)])
    with pytest.raises(ok.ParameterError, match="every='fortnight'"):
        ok.channel_mix(df, every="fortnight")
    with pytest.raises(ok.ParameterError, match="'team'"):
        ok.channel_mix(df, by="team")
    with pytest.raises(ok.ParameterError, match="DataFrame or LazyFrame"):
        ok.channel_mix([{"interaction_type": "VOICE"}])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["VOICE", "CHAT", "EMAIL", None]),
            st.sampled_from(["INBOUND", "OUTBOUND"]),
            st.integers(0, 72),
        ),
        max_size=60,
    )
)
def test_channel_mix_shares_sum_to_one_per_group(rows):
    df = frame(
        [
            call(
                "FINISHED", 1, c, d, start_date_time=dt.datetime(2024, 9, 2) + dt.timedelta(hours=h)
            )
            for c, d, h in rows
        ]
    )
    out = ok.channel_mix(df, by="interaction_direction", every="1d")
    assert out["interactions"].sum() == len(rows)
    sums = out.group_by("period", "interaction_direction").agg(pl.col("share").sum())["share"]
    assert all(math.isclose(s, 1.0) for s in sums)


# ------------------------------------------------------------------------------------------
# wait_time_stats


def test_wait_time_stats_by_hand():
    df = frame(
        [call("FINISHED", w) for w in (40, 10, 30, 20)]
        + [call("FINISHED", None), call("MISSED", 7, "CHAT", "OUTBOUND")]
    )
    out = ok.wait_time_stats(df)
    assert out.columns == ["interaction_type", "n", "mean", "p50", "p90", "p95", "max"]
    # VOICE waits sorted 10 20 30 40: p90 sits at rank 0.9 * 3 = 2.7 -> 30 + 0.7 * 10 = 37
    chat, voice = out.rows()
    assert chat == ("CHAT", 1, 7.0, 7.0, 7.0, 7.0, 7)  # every direction counts
    assert voice[:3] == ("VOICE", 4, 25.0)
    assert voice[3:] == pytest.approx((25.0, 37.0, 38.5, 40))


def test_wait_time_stats_percentile_names_and_overall_row():
    df = frame([call("FINISHED", w) for w in range(11)])  # 0..10
    out = ok.wait_time_stats(df, by=None, percentiles=(0, 0.001, 0.25, 0.995, 1))
    assert out.columns == ["n", "mean", "p0", "p0_1", "p25", "p99_5", "p100", "max"]
    assert out.row(0) == pytest.approx((11, 5.0, 0.0, 0.01, 2.5, 9.95, 10.0, 10))


def test_wait_time_stats_empty_and_all_null():
    empty = ok.wait_time_stats(frame([]), by=None)
    assert empty.rows() == [(0, None, None, None, None, None)]
    assert ok.wait_time_stats(frame([])).height == 0
    only_null = ok.wait_time_stats(frame([call("FINISHED", None)]))
    assert only_null.height == 0  # the group has no wait to describe


def test_wait_time_stats_float_waits_take_the_general_path():
    df = frame([call("FINISHED", w) for w in (3, 1, 2, 10)])
    as_float = df.with_columns(pl.col("waiting_time").cast(pl.Float64))
    a, b = ok.wait_time_stats(df), ok.wait_time_stats(as_float)
    assert a.drop("max").equals(b.drop("max"))
    assert b["max"].to_list() == [10.0]


def test_wait_time_stats_bad_percentiles():
    df = frame([call("FINISHED", 1)])
    with pytest.raises(ok.ParameterError, match="in \\[0, 1\\]"):
        ok.wait_time_stats(df, percentiles=(50,))
    with pytest.raises(ok.ParameterError, match="twice"):
        ok.wait_time_stats(df, percentiles=(0.5, 0.50))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["VOICE", "CHAT"]), st.one_of(st.none(), st.integers(0, 3600))),
        min_size=1,
        max_size=80,
    ),
    st.lists(st.floats(0, 1), min_size=1, max_size=4, unique=True),
)
def test_wait_time_stats_match_numpy(rows, qs):
    names = {f"p{q * 100:.10f}".rstrip("0").rstrip(".").replace(".", "_") for q in qs}
    if len(names) < len(qs):  # two quantiles that round to the same name
        return
    df = frame([call("FINISHED", w, c) for c, w in rows])
    out = ok.wait_time_stats(
        df, percentiles=(0.5, 0.9, 0.95, *[q for q in qs if q not in (0.5, 0.9, 0.95)])
    )
    # one row per channel with a known wait, no more and no fewer, in order
    expected = sorted({c for c, w in rows if w is not None})
    assert out["interaction_type"].to_list() == expected
    for row in out.iter_rows(named=True):
        waits = np.array([w for c, w in rows if c == row["interaction_type"] and w is not None])
        assert row["n"] == len(waits) and row["max"] == waits.max()
        assert row["mean"] == pytest.approx(waits.mean())
        for q in qs:
            name = f"p{q * 100:.10f}".rstrip("0").rstrip(".").replace(".", "_")
            assert row[name] == pytest.approx(np.percentile(waits, q * 100), abs=1e-9)
        assert row["p50"] <= row["p90"] <= row["p95"] <= row["max"]


# ------------------------------------------------------------------------------------------
# wait_time_histogram


def test_wait_time_histogram_with_edges():
    df = frame([call("FINISHED", w) for w in (0, 5, 10, 25, None)])
    out = ok.wait_time_histogram(df, bins=[0, 10, 20])
    assert out.columns == [
        "interaction_type",
        "bin",
        "bin_start",
        "bin_end",
        "count",
        "share",
        "cumulative_share",
    ]
    assert out.rows() == [
        ("VOICE", 0, 0.0, 10.0, 2, 0.5, 0.5),
        ("VOICE", 1, 10.0, 20.0, 1, 0.25, 0.75),
        ("VOICE", 2, 20.0, None, 1, 0.25, 1.0),  # the open last bin keeps long waits
    ]


def test_wait_time_histogram_equal_bins_and_complete_grid():
    df = frame([call("FINISHED", w, "VOICE") for w in (0, 3, 4, 9)] + [call("FINISHED", 8, "CHAT")])
    out = ok.wait_time_histogram(df, bins=3)
    # width = 9 // 3 + 1 = 4 seconds: bins [0, 4), [4, 8), [8, 12)
    assert out.select("interaction_type", "bin_start", "bin_end", "count").rows() == [
        ("CHAT", 0.0, 4.0, 0),
        ("CHAT", 4.0, 8.0, 0),
        ("CHAT", 8.0, 12.0, 1),
        ("VOICE", 0.0, 4.0, 2),
        ("VOICE", 4.0, 8.0, 1),
        ("VOICE", 8.0, 12.0, 1),
    ]
    overall = ok.wait_time_histogram(df, by=None, bins=3)
    assert overall["count"].to_list() == [2, 1, 2]
    empty = ok.wait_time_histogram(frame([]), by=None, bins=2)
    assert empty["count"].to_list() == [0, 0] and empty["share"].to_list() == [None, None]


def test_wait_time_histogram_bad_bins():
    df = frame([call("FINISHED", 1)])
    for bins in (0, [5, 10], [0, 10, 10], "10"):
        with pytest.raises(ok.ParameterError):
            ok.wait_time_histogram(df, bins=bins)


# ------------------------------------------------------------------------------------------
# service_level

SL_COLUMNS = [
    "interaction_type",
    "offered",
    "answered",
    "answered_within",
    "unanswered",
    "short_abandoned",
    "abandoned",
    "service_level",
    "abandon_rate",
    "asa",
]


def sl_rows() -> list[dict]:
    return [
        call("FINISHED", 5),  # answered within 20
        call("FINISHED", 20),  # answered within (<= threshold)
        call("ASSIGNED", 21),  # answered, not within
        call("FINISHED", None),  # answered, unknown wait: not within, not in asa
        call("ABANDONED", 4),  # short (< 5)
        call("ABANDONED", 5),  # not short: abandoned, within 20
        call("ABANDONED", 60),  # abandoned
        call("ABANDONED", None),  # abandoned, unknown wait
        call("SHORT_ABANDONED", 30),  # short whatever its wait
        call("MISSED", 10),  # unanswered, within 20
        call("VOICEMAIL", 90),  # unanswered
        call("OFFERED", 3),  # open: not counted
        call("FINISHED", 1, direction="OUTBOUND"),  # not inbound: not counted
        call("ABANDONED", 100, direction=None),  # not inbound: not counted
    ]


def test_service_level_by_hand():
    out = ok.service_level(frame(sl_rows()))
    assert out.columns == SL_COLUMNS
    row = out.row(0, named=True)
    # answered: 4 (5, 20, 21, None); unanswered: 7; offered 11; within: 5 and 20
    # short: ABANDONED 4 and SHORT_ABANDONED 30 -> 2; abandoned: 5, 60, None -> 3
    assert {k: row[k] for k in SL_COLUMNS[1:7]} == {
        "offered": 11,
        "answered": 4,
        "answered_within": 2,
        "unanswered": 7,
        "short_abandoned": 2,
        "abandoned": 3,
    }
    assert row["service_level"] == pytest.approx(2 / (11 - 2))
    assert row["abandon_rate"] == pytest.approx(3 / 9)
    assert row["asa"] == pytest.approx((5 + 20 + 21) / 3)


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        ("talkdesk", 2 / 9),
        ("answered", 2 / 4),
        ("offered", 2 / 11),
        # unanswered within 20 s: ABANDONED 4, ABANDONED 5, MISSED 10 -> (2 + 3) / 11
        ("abandon_positive", 5 / 11),
    ],
)
def test_service_level_formulas(formula, expected):
    out = ok.service_level(frame(sl_rows()), formula=formula)
    assert out["service_level"].item() == pytest.approx(expected)
    assert out["abandon_rate"].item() == pytest.approx(3 / 9)  # abandon rate does not change


def test_service_level_threshold_and_short_abandon_options():
    out = ok.service_level(frame(sl_rows()), threshold=4, short_abandon=6, by=None)
    row = out.row(0, named=True)
    assert row["answered_within"] == 0
    assert row["short_abandoned"] == 3  # ABANDONED 4 and 5, SHORT_ABANDONED
    assert row["abandoned"] == 2
    assert row["service_level"] == 0.0
    assert out.columns == SL_COLUMNS[1:]


def test_service_level_unknown_formula_lists_the_valid_ones():
    with pytest.raises(
        ok.ParameterError, match=r"'talkdesk'.*'answered'.*'offered'.*'abandon_positive'"
    ):
        ok.service_level(frame(sl_rows()), formula="industry")


def test_service_level_unknown_statuses_warn_and_are_left_out():
    rows = [
        *sl_rows(),
        call("TRANSFERRED", 1),
        call("TRANSFERRED", 2),
        call(None, 3),
        call("WEIRD", 1, direction="OUTBOUND"),
    ]
    with pytest.warns(
        ok.DataQualityWarning, match=r"3 INBOUND .*'TRANSFERRED': 2, <null>: 1"
    ) as record:
        out = ok.service_level(frame(rows))
    assert len(record) == 1
    assert out["offered"].item() == 11  # same as without them


def test_service_level_outcomes_override():
    outcomes = {**ok.OUTCOMES, "TRANSFERRED": "answered", "VOICEMAIL": "open"}
    rows = [*sl_rows(), call("TRANSFERRED", 1)]
    row = ok.service_level(frame(rows), outcomes=outcomes).row(0, named=True)
    assert (row["answered"], row["unanswered"], row["answered_within"]) == (5, 6, 3)
    # a mapping without a status makes it unknown
    smaller = {k: v for k, v in ok.OUTCOMES.items() if k != "MISSED"}
    with pytest.warns(ok.DataQualityWarning, match="outcomes=.*'MISSED': 1"):
        row = ok.service_level(frame(sl_rows()), outcomes=smaller).row(0, named=True)
    assert row["unanswered"] == 6
    with pytest.raises(ok.ParameterError, match="'maybe'"):
        ok.service_level(frame(sl_rows()), outcomes={"FINISHED": "maybe"})


def test_service_level_zero_denominators_are_null():
    df = frame(
        [
            call("OFFERED", 3, "CHAT"),  # only open: nothing offered
            call("SHORT_ABANDONED", 1, "SMS"),  # offered 1, all short
            call("FINISHED", 1, "EMAIL", "OUTBOUND"),  # not inbound: no EMAIL row at all
        ]
    )
    out = ok.service_level(df)
    assert out["interaction_type"].to_list() == ["CHAT", "SMS"]
    chat, sms = out.iter_rows(named=True)
    assert (
        chat["offered"] == 0
        and chat["service_level"] is None
        and chat["abandon_rate"] is None
        and chat["asa"] is None
    )
    assert sms["offered"] == 1 and sms["short_abandoned"] == 1
    assert sms["service_level"] is None and sms["abandon_rate"] is None
    assert ok.service_level(df, formula="offered")["service_level"].to_list() == [None, 0.0]
    assert ok.service_level(df, formula="answered")["service_level"].to_list() == [None, None]


def test_service_level_empty_and_by_list():
    overall = ok.service_level(frame([]), by=None)
    assert overall.rows() == [(0, 0, 0, 0, 0, 0, None, None, None)]
    assert ok.service_level(frame([])).height == 0
    rows = [
        call("FINISHED", 1, "VOICE", groups="a"),
        call("MISSED", 1, "VOICE", groups="b"),
        call("FINISHED", 30, "VOICE", groups="a"),
    ]
    out = ok.service_level(frame(rows), by=["groups", "interaction_type"])
    assert out.select("groups", "offered", "service_level").rows() == [("a", 2, 0.5), ("b", 1, 0.0)]


def test_service_level_bad_threshold():
    with pytest.raises(ok.ParameterError, match="threshold"):
        ok.service_level(frame(sl_rows()), threshold=-1)
    with pytest.raises(ok.ParameterError, match="short_abandon"):
        ok.service_level(frame(sl_rows()), short_abandon="5")


outcome_rows = st.lists(
    st.tuples(
        st.sampled_from(["VOICE", "CHAT"]),
        st.sampled_from(KNOWN_STATUSES),
        st.sampled_from(["INBOUND", "INBOUND", "OUTBOUND"]),
        st.one_of(st.none(), st.integers(0, 120)),
    ),
    max_size=60,
)


@settings(max_examples=60, deadline=None)
@given(
    outcome_rows,
    st.integers(0, 60),
    st.integers(0, 10),
    st.sampled_from(list(ok.SERVICE_LEVEL_FORMULAS)),
)
def test_service_level_rates_are_shares(rows, threshold, short, formula):
    df = frame([call(s, w, c, d) for c, s, d, w in rows])
    out = ok.service_level(df, threshold=threshold, short_abandon=short, formula=formula)
    # one row per channel with an INBOUND interaction of a known status (OFFERED included: it
    # makes a row of zeros), no more and no fewer, in order
    inbound = [(c, s, w) for c, s, d, w in rows if d == "INBOUND"]
    assert out["interaction_type"].to_list() == sorted({c for c, _, _ in inbound})
    for row in out.iter_rows(named=True):
        mine = [(s, w) for c, s, w in inbound if c == row["interaction_type"]]
        answered = [w for s, w in mine if ok.OUTCOMES[s] == "answered"]
        unanswered = [(s, w) for s, w in mine if ok.OUTCOMES[s] == "unanswered"]
        is_short = [
            s == "SHORT_ABANDONED" or (s == "ABANDONED" and w is not None and w < short)
            for s, w in unanswered
        ]
        within = sum(1 for w in answered if w is not None and w <= threshold)
        assert row["answered"] == len(answered)
        assert row["unanswered"] == len(unanswered)
        assert row["offered"] == row["answered"] + row["unanswered"]
        assert row["answered_within"] == within
        assert row["short_abandoned"] == sum(is_short)
        assert row["abandoned"] == sum(
            1
            for (s, _), short_one in zip(unanswered, is_short, strict=True)
            if s == "ABANDONED" and not short_one
        )
        assert row["short_abandoned"] + row["abandoned"] <= row["unanswered"]
        for rate in ("service_level", "abandon_rate"):
            assert row[rate] is None or 0 <= row[rate] <= 1
        offered = len(answered) + len(unanswered)
        counted = offered - sum(is_short)
        numerator, denominator = {
            "talkdesk": (within, counted),
            "answered": (within, len(answered)),
            "offered": (within, offered),
            "abandon_positive": (
                within + sum(1 for _, w in unanswered if w is not None and w <= threshold),
                offered,
            ),
        }[formula]
        assert row["service_level"] == (
            pytest.approx(numerator / denominator) if denominator else None
        )


# ------------------------------------------------------------------------------------------
# wait_time_survival


def kaplan_meier(times_events: list[tuple[int, bool]]) -> list[tuple[int, int, int, int, float]]:
    """Kaplan-Meier written out directly: (time, at_risk, events, censored, survival)."""
    out, s = [], 1.0
    for t in sorted({t for t, _ in times_events}):
        at_risk = sum(1 for u, _ in times_events if u >= t)
        events = sum(1 for u, e in times_events if u == t and e)
        censored = sum(1 for u, e in times_events if u == t and not e)
        s *= 1 - events / at_risk
        out.append((t, at_risk, events, censored, s))
    return out


def test_wait_time_survival_by_hand():
    rows = [
        call("ABANDONED", 5),
        call("FINISHED", 10),
        call("MISSED", 10),
        call("SHORT_ABANDONED", 20),
        call("ASSIGNED", 30),
        call("OFFERED", 1),  # open: not counted
        call("ABANDONED", None),  # no time: not counted
        call("ABANDONED", 2, direction="OUTBOUND"),  # not inbound
    ]
    out = ok.wait_time_survival(frame(rows))
    assert out.columns == ["interaction_type", "time", "at_risk", "events", "censored", "survival"]
    # t=5: 1 - 1/5 = 0.8; t=10: 0.8 * (1 - 1/4) = 0.6; t=20: 0.6 * (1 - 1/2) = 0.3; t=30: 0.3
    assert out.drop("survival").rows() == [
        ("VOICE", 5, 5, 1, 0),
        ("VOICE", 10, 4, 1, 1),
        ("VOICE", 20, 2, 1, 0),
        ("VOICE", 30, 1, 0, 1),
    ]
    assert out["survival"].to_list() == pytest.approx([0.8, 0.6, 0.3, 0.3])
    limited = ok.wait_time_survival(frame(rows), up_to=10)
    assert limited.equals(out.head(2))  # same values, at_risk still counts longer waits
    assert ok.wait_time_survival(frame(rows), up_to="10s").equals(limited)
    assert ok.wait_time_survival(frame(rows), up_to=dt.timedelta(seconds=10)).equals(limited)


def test_wait_time_survival_threshold_is_the_deprecated_name_of_up_to():
    rows = [call("ABANDONED", 5), call("FINISHED", 10), call("ABANDONED", 20)]
    with pytest.warns(DeprecationWarning, match="up_to=") as caught:
        old = ok.wait_time_survival(frame(rows), threshold=10)
    assert caught[0].filename == __file__  # points at this line, not at omnikit
    assert old.equals(ok.wait_time_survival(frame(rows), up_to=10))
    assert old["time"].to_list() == [5, 10]
    with pytest.raises(ok.ParameterError, match="up_to= only"):
        ok.wait_time_survival(frame(rows), threshold=10, up_to=10)


def test_wait_time_survival_groups_unknown_and_empty():
    rows = [
        call("ABANDONED", 5, "CHAT"),
        call("FINISHED", 5, "CHAT"),
        call("MISSED", 1, "VOICE"),
        call("TRANSFERRED", 3),
    ]
    with pytest.warns(ok.DataQualityWarning, match="'TRANSFERRED': 1"):
        out = ok.wait_time_survival(frame(rows))
    assert out.rows() == [("CHAT", 5, 2, 1, 1, 0.5), ("VOICE", 1, 1, 1, 0, 0.0)]
    overall = ok.wait_time_survival(frame(rows[:3]), by=None)
    assert overall.columns == ["time", "at_risk", "events", "censored", "survival"]
    assert overall.rows() == [
        (1, 3, 1, 0, pytest.approx(2 / 3)),
        (5, 2, 1, 1, pytest.approx(1 / 3)),
    ]
    assert ok.wait_time_survival(frame([])).height == 0
    override = ok.wait_time_survival(
        frame(rows), outcomes={**ok.OUTCOMES, "TRANSFERRED": "answered"}
    )
    assert override.filter(pl.col("time") == 3)["censored"].to_list() == [1]


@settings(max_examples=60, deadline=None)
@given(outcome_rows)
def test_wait_time_survival_matches_direct_computation(rows):
    df = frame([call(s, w, c, d) for c, s, d, w in rows])
    out = ok.wait_time_survival(df)
    counted = [
        c for c, s, d, w in rows if d == "INBOUND" and w is not None and ok.OUTCOMES[s] != "open"
    ]
    # one curve per channel with an answered or unanswered INBOUND wait, no more and no fewer
    channels = sorted(set(counted))
    assert out["interaction_type"].unique(maintain_order=True).to_list() == channels
    for channel in channels:
        mine = out.filter(pl.col("interaction_type") == channel).drop("interaction_type").rows()
        sample = [
            (w, ok.OUTCOMES[s] == "unanswered")
            for c, s, d, w in rows
            if c == channel and d == "INBOUND" and w is not None and ok.OUTCOMES[s] != "open"
        ]
        expected = kaplan_meier(sample)
        assert [r[:4] for r in mine] == [r[:4] for r in expected]
        assert [r[4] for r in mine] == pytest.approx([r[4] for r in expected])
        survival = [1.0] + [r[4] for r in mine]
        assert all(b <= a + 1e-12 for a, b in itertools.pairwise(survival))  # non-increasing from 1
        assert all(0 <= s <= 1 for s in survival)


# ------------------------------------------------------------------------------------------
# hourly_profile


def test_hourly_profile_volume_in_the_frames_timezone():
    # 2024-09-02 is a Monday. New York is UTC-4 then: 23:30 local is Tuesday 03:30 in UTC.
    rows = [
        call("FINISHED", 1, start_date_time=dt.datetime(2024, 9, 2, 23, 30)),
        call("FINISHED", 1, start_date_time=dt.datetime(2024, 9, 2, 23, 59)),
        call("FINISHED", 1, start_date_time=dt.datetime(2024, 9, 8, 0, 0)),  # Sunday
        call("FINISHED", 1, start_date_time=dt.datetime(2024, 9, 9, 23, 1)),  # next Monday
    ]
    out = ok.hourly_profile(frame(rows, "America/New_York"))
    assert out.columns == ["weekday", "hour", "volume"]
    assert out.height == 168 and out["volume"].sum() == 4
    assert out.select("weekday", "hour").rows() == [(d, h) for d in range(1, 8) for h in range(24)]
    assert out.filter(pl.col("volume") > 0).rows() == [(1, 23, 3), (7, 0, 1)]


def test_hourly_profile_median_wait_and_service_level():
    monday9 = dt.datetime(2024, 9, 2, 9, 15)
    tuesday10 = dt.datetime(2024, 9, 3, 10, 0)
    rows = [
        call("FINISHED", 10, start_date_time=monday9),
        call("FINISHED", 30, start_date_time=monday9),
        call("MISSED", 40, start_date_time=monday9),
        call("FINISHED", None, start_date_time=monday9),
        call("OFFERED", 7, start_date_time=tuesday10),
    ]
    med = ok.hourly_profile(frame(rows), value="median_wait")
    assert med.columns == ["weekday", "hour", "median_wait", "n"]
    assert med.filter(pl.col("n") > 0).rows() == [(1, 9, 30.0, 3), (2, 10, 7.0, 1)]
    assert med.filter(pl.col("n") == 0)["median_wait"].null_count() == 166
    sl = ok.hourly_profile(frame(rows), value="service_level", threshold=20)
    assert sl.columns == ["weekday", "hour", "service_level", "offered"]
    # Monday 9h: offered 4 (3 answered, 1 missed), within 20: the 10 s wait -> 1/4
    assert sl.filter(pl.col("offered") > 0).rows() == [(1, 9, 0.25, 4)]
    tuesday = sl.filter(pl.col("weekday") == 2, pl.col("hour") == 10).row(0)
    assert tuesday == (2, 10, None, 0)  # only open: a null service level


def test_hourly_profile_by_groups_and_warnings():
    start = dt.datetime(2024, 9, 4, 12, 0)  # Wednesday
    rows = [
        call("FINISHED", 1, "VOICE", start_date_time=start),
        call("FINISHED", 1, "CHAT", start_date_time=start),
        call("FINISHED", 1, "CHAT", start_date_time=None),
    ]
    with pytest.warns(ok.DataQualityWarning, match="1 interaction\\(s\\) have no start_date_time"):
        out = ok.hourly_profile(frame(rows), by="interaction_type")
    assert out.height == 2 * 168
    assert out.filter(pl.col("volume") > 0).rows() == [("CHAT", 3, 12, 1), ("VOICE", 3, 12, 1)]
    with pytest.warns(ok.DataQualityWarning, match="'LOST': 1"):
        ok.hourly_profile(frame([call("LOST", 1, start_date_time=start)]), value="service_level")
    empty = ok.hourly_profile(frame([]), value="median_wait")
    assert empty.height == 168 and empty["n"].sum() == 0
    with pytest.raises(ok.ParameterError, match="'calls'"):
        ok.hourly_profile(frame(rows[:1]), value="calls")


def test_metrics_take_a_lazyframe_and_collect_it_once(monkeypatch):
    """Each metric builds one lazy query and collects it once (with pl.collect_all)."""
    import omnikit._metrics as metrics

    lf = (
        frame(sl_rows())
        .lazy()
        .with_columns(
            start_date_time=pl.lit(dt.datetime(2024, 9, 2, 9)).dt.replace_time_zone("Europe/Lisbon")
        )
    )
    calls = []
    real = metrics._collect
    monkeypatch.setattr(metrics, "_collect", lambda *lfs: calls.append(len(lfs)) or real(*lfs))
    monkeypatch.setattr(
        pl.LazyFrame, "collect", lambda *a, **k: pytest.fail("collected outside _collect")
    )
    for metric in (
        lambda: ok.channel_mix(lf, every="1d"),
        lambda: ok.wait_time_stats(lf),
        lambda: ok.wait_time_histogram(lf),
        lambda: ok.service_level(lf),
        lambda: ok.wait_time_survival(lf),
        lambda: ok.hourly_profile(lf, value="service_level"),
        lambda: ok.hourly_profile(lf, value="median_wait"),
    ):
        calls.clear()
        result = metric()
        assert isinstance(result, pl.DataFrame) and result.height > 0
        assert len(calls) == 1, calls


# ------------------------------------------------------------------------------------------
# wall-clock time: the fast offset lookup must agree with the tz database row by row

ZONES = [
    "Europe/Lisbon",
    "America/New_York",
    "America/Havana",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Africa/Monrovia",
    "Pacific/Chatham",
]


@pytest.mark.parametrize("timezone", ZONES)
def test_wall_clock_matches_polars_conversion_row_by_row(timezone):
    from omnikit._time import _TABLE_END, _TABLE_START
    from omnikit._time import wall_clock as _wall_clock

    rng = np.random.default_rng(len(timezone))
    # instants over the table's years (1990-2060), plus dense DST days
    spread = rng.integers(_TABLE_START, _TABLE_END, 20_000) // 1_000_000 * 1_000_000
    dense = (
        np.datetime64("2024-03-09", "us").astype(np.int64)
        + rng.integers(0, 240 * 86400, 20_000) * 1_000_000
    )
    us = pl.Series(np.concatenate([spread, dense, [_TABLE_START, _TABLE_END - 1]]))
    df = pl.DataFrame(
        {
            "start_date_time": us.cast(pl.Datetime("us"))
            .dt.replace_time_zone("UTC")
            .dt.convert_time_zone(timezone)
        }
    )
    fast, outside = _wall_clock(df.schema)
    slow, _ = _wall_clock(df.schema, rowwise=True)
    got = df.select(fast=fast, slow=slow, outside=outside)
    theirs = df["start_date_time"].dt.replace_time_zone(None).cast(pl.Int64)
    assert (got["fast"] == theirs).all() and (got["slow"] == theirs).all()
    assert (got["outside"] == 0).all()


def test_rows_outside_the_offset_table_are_placed_row_by_row():
    # Monrovia was UTC-0:44:30 until 1972: 1968-01-01 12:00 UTC is 11:15:30 local (a Monday)
    utc = pl.Series([dt.datetime(1968, 1, 1, 12), dt.datetime(2024, 9, 2, 12)])
    df = frame([call("FINISHED", 1)] * 2, "Africa/Monrovia").with_columns(
        start_date_time=utc.dt.replace_time_zone("UTC").dt.convert_time_zone("Africa/Monrovia")
    )
    assert ok.hourly_profile(df).filter(pl.col("volume") > 0).rows() == [(1, 11, 1), (1, 12, 1)]
    days = ok.channel_mix(df, every="1d")["period"].dt.replace_time_zone(None).to_list()
    assert days == [dt.datetime(1968, 1, 1), dt.datetime(2024, 9, 2)]


def test_hourly_profile_agrees_with_polars_weekday_and_hour():
    rng = np.random.default_rng(5)
    us = pl.Series(
        np.datetime64("2024-01-01", "us").astype(np.int64)
        + rng.integers(0, 366 * 86400, 5_000) * 1_000_000
    )
    df = frame([call("FINISHED", 1)] * 5_000, "Asia/Kathmandu").with_columns(
        start_date_time=us.cast(pl.Datetime("us"))
        .dt.replace_time_zone("UTC")
        .dt.convert_time_zone("Asia/Kathmandu")
    )
    expected = (
        df.group_by(
            weekday=pl.col("start_date_time").dt.weekday(), hour=pl.col("start_date_time").dt.hour()
        )
        .agg(volume=pl.len())
        .sort("weekday", "hour")
    )
    got = ok.hourly_profile(df).filter(pl.col("volume") > 0)
    assert got.rows() == expected.rows()


def test_channel_mix_periods_on_dst_days_are_one_per_wall_clock_day():
    # Havana changes its clocks at midnight: 2024-03-10 00:00 does not exist (clocks jump to
    # 01:00), and 2024-11-03 00:00-01:00 happens twice.
    utc = pl.Series(
        [
            dt.datetime(2024, 3, 10, 5, 30),
            dt.datetime(2024, 3, 10, 12),
            dt.datetime(2024, 11, 3, 4, 30),
            dt.datetime(2024, 11, 3, 5, 30),
            dt.datetime(2024, 11, 3, 12),
        ]
    )
    df = frame([call("FINISHED", 1)] * 5, "America/Havana").with_columns(
        start_date_time=utc.dt.replace_time_zone("UTC").dt.convert_time_zone("America/Havana")
    )
    out = ok.channel_mix(df, every="1d")
    assert out["interactions"].to_list() == [2, 3]
    starts = out["period"].dt.convert_time_zone("UTC").dt.replace_time_zone(None).to_list()
    # the first instant after the gap (01:00 CDT = 05:00 UTC); the earlier of the two midnights
    # (CDT)
    assert starts == [dt.datetime(2024, 3, 10, 5), dt.datetime(2024, 11, 3, 4)]
    hourly = ok.channel_mix(df, every="1h")
    assert hourly["interactions"].to_list() == [1, 1, 2, 1]  # the repeated 00:00 hour is one period


def test_wait_time_histogram_log_bins_use_fixed_readable_edges():
    df = pl.DataFrame(
        {"interaction_type": ["EMAIL", "VOICE", "VOICE"], "waiting_time": [7200, 3, 12]}
    )
    histogram = ok.wait_time_histogram(df, bins="log")
    voice = histogram.filter(pl.col("interaction_type") == "VOICE")
    # edges 0, 5, 10, 15, ...: 3 s falls in [0, 5), 12 s in [10, 15)
    assert voice.filter(pl.col("count") > 0)["bin_start"].to_list() == [0.0, 10.0]
    email = histogram.filter((pl.col("interaction_type") == "EMAIL") & (pl.col("count") > 0))
    assert email["bin_start"].to_list() == [7200.0]
    with pytest.raises(ok.ParameterError, match="'log'"):
        ok.wait_time_histogram(df, bins="logarithmic")
