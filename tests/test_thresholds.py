"""Per-channel service-level thresholds, statuses in any case and short_abandon=None, by hand.

Each frame is small enough to check its answer on paper; the comments do the arithmetic.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import omnikit as ok


def frame(rows: list[tuple], timezone: str = "UTC") -> pl.DataFrame:
    """A canonical frame from (channel, status, wait[, direction[, start]]) tuples."""
    schema = ok.canonical_schema(timezone)
    naive = {c: (pl.Datetime("us") if isinstance(t, pl.Datetime) else t) for c, t in schema.items()}
    records = []
    for k, row in enumerate(rows):
        channel, status, wait, direction, start = (*row, *("INBOUND", None)[len(row) - 3 :])
        records.append(
            {
                "interaction_id": f"i{k}",
                "interaction_type": channel,
                "interaction_status": status,
                "waiting_time": wait,
                "interaction_direction": direction,
                "start_date_time": start,
            }
        )
    data = {c: [r.get(c) for r in records] for c in schema}
    df = pl.DataFrame(data, schema=naive)
    return df.with_columns(pl.col(ok.DATETIME_COLUMNS).dt.replace_time_zone(timezone))


# VOICE: 2 answered (10 s within 20 s, 30 s not), 1 ABANDONED after 15 s.
# EMAIL: 3 answered (3000 s and 5000 s within 4 h, 20000 s not), 1 MISSED after 100 s.
# OUTBOUND SMS: not counted anywhere, and needs no threshold.
MIXED = [
    ("VOICE", "FINISHED", 10),
    ("VOICE", "FINISHED", 30),
    ("VOICE", "ABANDONED", 15),
    ("EMAIL", "FINISHED", 3000),
    ("EMAIL", "FINISHED", 5000),
    ("EMAIL", "FINISHED", 20000),
    ("EMAIL", "MISSED", 100),
    ("SMS", "FINISHED", 99999, "OUTBOUND"),
]
PER_CHANNEL = {"VOICE": 20, "EMAIL": "4h"}


def levels(out: pl.DataFrame) -> dict[str, float]:
    return dict(zip(out["interaction_type"], out["service_level"], strict=True))


# ------------------------------------------------------------------------------------------
# thresholds per channel, and the blended level


def test_each_channel_is_judged_against_its_own_threshold() -> None:
    out = ok.service_level(frame(MIXED), threshold=PER_CHANNEL)
    assert out["interaction_type"].to_list() == ["EMAIL", "VOICE"]
    assert out["answered_within"].to_list() == [2, 1]
    assert levels(out) == {"EMAIL": 2 / 4, "VOICE": 1 / 3}
    assert ok.service_level(frame(MIXED).lazy(), threshold=PER_CHANNEL).equals(out)


def test_with_a_mapping_and_no_by_the_level_is_blended() -> None:
    out = ok.service_level(frame(MIXED), threshold=PER_CHANNEL, by=None)
    # (1 voice + 2 e-mails within their thresholds) / (3 + 4 offered): not the mean of 1/3, 1/2.
    assert out.row(0, named=True) == {
        "offered": 7,
        "answered": 5,
        "answered_within": 3,
        "unanswered": 2,
        "short_abandoned": 0,
        "abandoned": 1,
        "service_level": 3 / 7,
        "abandon_rate": 1 / 7,
        "asa": (10 + 30 + 3000 + 5000 + 20000) / 5,
    }
    # One 20 s threshold for all judges e-mail by the phone's clock: only 1 of 7 within.
    assert ok.service_level(frame(MIXED), threshold=20, by=None)["service_level"].item() == 1 / 7
    assert ok.service_level(frame(MIXED), threshold="4h", by=None)["service_level"].item() == 4 / 7


def test_a_scalar_threshold_gives_todays_numbers() -> None:
    # The numbers a single 20 s threshold always gave: VOICE 1 within of 3, EMAIL 0 of 4.
    df = frame(MIXED)
    today = ok.service_level(df, threshold=20)
    assert levels(today) == {"EMAIL": 0.0, "VOICE": 1 / 3}
    assert today.equals(ok.service_level(df))  # the default threshold is still 20 s
    for same in ("20s", dt.timedelta(seconds=20), 20.0, {"*": 20}, {"VOICE": 20, "EMAIL": "20s"}):
        assert ok.service_level(df, threshold=same).equals(today), same


def test_star_covers_the_channels_a_mapping_does_not_name() -> None:
    df = frame([*MIXED, ("CHAT", "FINISHED", 50), ("CHAT", "FINISHED", 70)])
    out = ok.service_level(df, threshold={"VOICE": 20, "*": 60})
    # CHAT and EMAIL take "*" = 60 s: CHAT 1 of 2 (50 s), EMAIL 0 of 4.
    assert levels(out) == {"CHAT": 0.5, "EMAIL": 0.0, "VOICE": 1 / 3}
    # A channel's own entry wins over "*".
    assert levels(ok.service_level(df, threshold={"CHAT": 70, "*": 20}))["CHAT"] == 1.0


def test_a_channel_without_a_threshold_is_an_error_naming_it() -> None:
    df = frame([*MIXED, ("CHAT", "FINISHED", 5)])
    with pytest.raises(ok.ParameterError, match=r"'CHAT' \(1 interaction") as error:
        ok.service_level(df, threshold=PER_CHANNEL)
    assert "'VOICE'" not in str(error.value) and "'SMS'" not in str(error.value)
    with pytest.raises(ok.ParameterError, match="'CHAT'"):
        ok.hourly_profile(
            df.with_columns(start_date_time=pl.lit(dt.datetime(2024, 1, 1))),
            value="service_level",
            threshold=PER_CHANNEL,
        )
    # An INBOUND interaction without a channel is covered only by "*".
    no_channel = frame([*MIXED, (None, "FINISHED", 5)])
    with pytest.raises(ok.ParameterError, match="<null>"):
        ok.service_level(no_channel, threshold=PER_CHANNEL)
    assert (
        ok.service_level(no_channel, threshold={**PER_CHANNEL, "*": 20}, by=None)[
            "answered_within"
        ].item()
        == 4
    )


def test_abandon_positive_uses_each_channels_threshold_for_the_unanswered_too() -> None:
    out = ok.service_level(frame(MIXED), threshold=PER_CHANNEL, formula="abandon_positive")
    # VOICE: (1 answered + the 15 s abandon) / 3; EMAIL: (2 + the 100 s miss, within 4 h) / 4.
    assert levels(out) == {"EMAIL": 3 / 4, "VOICE": 2 / 3}
    blended = ok.service_level(
        frame(MIXED), threshold=PER_CHANNEL, formula="abandon_positive", by=None
    )
    assert blended["service_level"].item() == 5 / 7


@pytest.mark.parametrize(
    ("given", "seconds"),
    [
        ("20s", 20),
        ("15m", 900),
        ("4h", 14400),
        ("1h30m", 5400),
        ("1d", 86400),
        (dt.timedelta(hours=4), 14400),
        (dt.timedelta(seconds=0.5), 0.5),
        (0, 0),
    ],
)
def test_durations_and_timedeltas_are_thresholds(given, seconds) -> None:
    waits = [0, 0.5, 20, 21, 900, 5400, 14400, 86400, 86401]
    df = frame([("VOICE", "FINISHED", None) for _ in waits]).with_columns(
        waiting_time=pl.Series(waits, dtype=pl.Float64)  # fractional waits, to test 0.5 s
    )
    within = ok.service_level(df, threshold=given, by=None)["answered_within"].item()
    assert within == sum(w <= seconds for w in waits)
    assert ok.service_level(df, threshold={"VOICE": given}).equals(
        ok.service_level(df, threshold=seconds)
    )


@pytest.mark.parametrize(
    ("threshold", "message"),
    [
        ("1mo", "no fixed length"),
        ("1y", "no fixed length"),
        ("soon", "not a duration"),
        ("-5s", "must not be negative"),
        (-1, "seconds >= 0"),
        (dt.timedelta(seconds=-1), "must not be negative"),
        (True, "must be a number of seconds"),
        ({}, "as a mapping"),
        ({1: 20}, "as a mapping"),
        ({"VOICE": "fast", "*": 20}, r"threshold\['VOICE'\]"),
    ],
)
def test_bad_thresholds_are_parameter_errors(threshold, message) -> None:
    with pytest.raises(ok.ParameterError, match=message):
        ok.service_level(frame(MIXED), threshold=threshold)


def test_hourly_profile_blends_per_channel_thresholds_in_each_hour() -> None:
    nine = dt.datetime(2024, 9, 2, 9, 15)  # a Monday
    df = frame(
        [
            ("VOICE", "FINISHED", 10, "INBOUND", nine),
            ("EMAIL", "FINISHED", 3000, "INBOUND", nine),
            ("EMAIL", "FINISHED", 20000, "INBOUND", nine),
            ("VOICE", "FINISHED", 40, "INBOUND", nine + dt.timedelta(hours=1)),
        ]
    )
    grid = ok.hourly_profile(df, value="service_level", threshold=PER_CHANNEL)
    cells = grid.filter(pl.col("offered") > 0).select("weekday", "hour", "service_level", "offered")
    # 9h: the 10 s call and the 3000 s e-mail are within, the 20000 s one is not: 2 of 3.
    assert cells.rows() == [(1, 9, 2 / 3, 3), (1, 10, 0.0, 1)]
    scalar = ok.hourly_profile(df, value="service_level", threshold=20)
    assert scalar.filter(pl.col("offered") > 0)["service_level"].to_list() == [1 / 3, 0.0]


def test_default_thresholds_are_a_documented_mapping_with_a_star() -> None:
    assert ok.DEFAULT_THRESHOLDS["VOICE"] == 20
    assert ok.DEFAULT_THRESHOLDS["CHAT"] == 60
    assert ok.DEFAULT_THRESHOLDS["EMAIL"] == 4 * 3600
    assert "*" in ok.DEFAULT_THRESHOLDS
    assert ok.DEFAULT_THRESHOLDS["VOICE"] < ok.DEFAULT_THRESHOLDS["CHAT"]
    assert ok.DEFAULT_THRESHOLDS["CHAT"] < ok.DEFAULT_THRESHOLDS["SMS"]
    assert ok.DEFAULT_THRESHOLDS["SMS"] < ok.DEFAULT_THRESHOLDS["EMAIL"]
    out = ok.service_level(frame(MIXED), threshold=ok.DEFAULT_THRESHOLDS)
    assert levels(out) == {"EMAIL": 2 / 4, "VOICE": 1 / 3}


CHANNELS = ["VOICE", "CHAT", "EMAIL", None]
ROW = st.tuples(
    st.sampled_from(CHANNELS),
    st.sampled_from(["FINISHED", "Assigned", "ABANDONED", "short_abandoned", "MISSED", "OFFERED"]),
    st.one_of(st.none(), st.integers(0, 400)),
    st.sampled_from(["INBOUND", "OUTBOUND"]),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(ROW, max_size=25),
    limits=st.fixed_dictionaries({c: st.integers(0, 400) for c in ["VOICE", "CHAT", "*"]}),
    formula=st.sampled_from(sorted(ok.SERVICE_LEVEL_FORMULAS)),
    short=st.sampled_from([None, 5, 30]),
)
def test_a_mapping_is_each_channel_alone_with_its_own_scalar(rows, limits, formula, short) -> None:
    """Per channel, a mapping gives what that channel's own scalar gives on that channel alone;
    blended, the counts are the sums over channels."""
    df = frame(rows)
    kwargs = {"formula": formula, "short_abandon": short}
    out = ok.service_level(df, threshold=limits, **kwargs)
    for key, row in zip(out["interaction_type"], out.iter_rows(named=True), strict=True):
        alone = df.filter(pl.col("interaction_type").eq_missing(key))
        scalar = limits.get(key, limits["*"]) if key is not None else limits["*"]
        expected = ok.service_level(alone, threshold=scalar, **kwargs).row(0, named=True)
        assert row == expected
    blended = ok.service_level(df, threshold=limits, by=None, **kwargs).row(0, named=True)
    for name in ("offered", "answered_within", "short_abandoned", "abandoned"):
        assert blended[name] == out[name].sum()


# ------------------------------------------------------------------------------------------
# statuses without regard to case


def test_statuses_match_outcomes_without_regard_to_case() -> None:
    upper = [
        ("VOICE", "FINISHED", 10),
        ("VOICE", "ASSIGNED", 30),
        ("VOICE", "ABANDONED", 2),
        ("VOICE", "ABANDONED", 60),
        ("VOICE", "SHORT_ABANDONED", 1),
        ("VOICE", "VOICEMAIL", 90),
        ("VOICE", "OFFERED", 5),
    ]
    mixed = [(c, s.title() if k % 2 else s.lower(), w) for k, (c, s, w) in enumerate(upper)]
    assert [s for _, s, _ in mixed][:3] == ["finished", "Assigned", "abandoned"]
    expected = ok.service_level(frame(upper))
    assert expected["offered"].item() == 6  # OFFERED (open) is not counted, in any case
    assert ok.service_level(frame(mixed)).equals(expected)
    assert ok.wait_time_survival(frame(mixed)).equals(ok.wait_time_survival(frame(upper)))
    assert ok.hourly_profile(
        frame(mixed).with_columns(start_date_time=pl.lit(dt.datetime(2024, 1, 1))),
        value="service_level",
    ).equals(
        ok.hourly_profile(
            frame(upper).with_columns(start_date_time=pl.lit(dt.datetime(2024, 1, 1))),
            value="service_level",
        )
    )


def test_given_outcomes_match_without_regard_to_case_and_warnings_quote_the_data() -> None:
    df = frame(
        [("VOICE", "Finished", 10), ("VOICE", "Transferred", 10), ("VOICE", "transferred", 50)]
    )
    with pytest.warns(ok.DataQualityWarning, match=r"'Transferred': 1, 'transferred': 1"):
        out = ok.service_level(df)
    assert out["offered"].item() == 1
    with pytest.warns(ok.DataQualityWarning, match="'Transferred'"):
        ok.wait_time_survival(df)
    given = ok.service_level(df, outcomes={**ok.OUTCOMES, "TRANSFERRED": "answered"})
    assert given.select("offered", "answered_within").row(0) == (3, 2)
    lower = ok.service_level(df, outcomes={"finished": "answered", "TrAnSfErReD": "answered"})
    assert lower.equals(given)
    with pytest.raises(ok.ParameterError, match="without regard to case"):
        ok.service_level(df, outcomes={"Missed": "unanswered", "MISSED": "answered"})


# ------------------------------------------------------------------------------------------
# short_abandon=None


SHORTS = [
    ("VOICE", "FINISHED", 10),
    ("VOICE", "FINISHED", 40),
    ("VOICE", "ABANDONED", 2),
    ("VOICE", "SHORT_ABANDONED", 1),
    ("VOICE", "ABANDONED", 60),
]


def test_short_abandon_none_turns_the_filter_off() -> None:
    cols = ["offered", "short_abandoned", "abandoned", "service_level", "abandon_rate"]
    # Default (5 s): the 2 s ABANDONED and the SHORT_ABANDONED are short: 1 within / (5 - 2).
    assert ok.service_level(frame(SHORTS)).select(cols).row(0) == (5, 2, 1, 1 / 3, 1 / 3)
    # None: nothing is short, SHORT_ABANDONED is abandoned: 1 / 5 and 3 abandoned of 5.
    off = ok.service_level(frame(SHORTS), short_abandon=None)
    assert off.select(cols).row(0) == (5, 0, 3, 1 / 5, 3 / 5)
    assert ok.service_level(frame(SHORTS), short_abandon="5s").equals(
        ok.service_level(frame(SHORTS))
    )
    assert ok.service_level(frame(SHORTS), short_abandon=dt.timedelta(0)).select(cols).row(0) == (
        5,
        1,  # a 0 s rule still counts the SHORT_ABANDONED status as short
        2,
        1 / 4,
        2 / 4,
    )
    hourly = ok.hourly_profile(
        frame(SHORTS).with_columns(start_date_time=pl.lit(dt.datetime(2024, 1, 1))),
        value="service_level",
        short_abandon=None,
    )
    assert hourly.filter(pl.col("offered") > 0)["service_level"].to_list() == [1 / 5]


def written_out(rows: list[tuple], limit_of, short, formula: str) -> list[tuple]:
    """The service-level definitions written out row by row, per channel (None last)."""
    outcome = {k.upper(): v for k, v in ok.OUTCOMES.items()}
    inbound = [r for r in rows if r[3] == "INBOUND"]
    out = []
    for channel in sorted({r[0] for r in inbound}, key=lambda c: (c is None, c or "")):
        mine = [(s.upper(), w, limit_of(channel)) for c, s, w, _ in inbound if c == channel]
        answered = [(s, w, t) for s, w, t in mine if outcome[s] == "answered"]
        unanswered = [(s, w, t) for s, w, t in mine if outcome[s] == "unanswered"]
        is_short = (
            (lambda s, w: False)
            if short is None
            else (
                lambda s, w: (
                    s == "SHORT_ABANDONED" or (s == "ABANDONED" and w is not None and w < short)
                )
            )
        )
        short_n = sum(is_short(s, w) for s, w, _ in unanswered)
        abandoned = sum(
            s in ("ABANDONED", "SHORT_ABANDONED") and not is_short(s, w) for s, w, _ in unanswered
        )
        within = sum(w is not None and w <= t for _, w, t in answered)
        unanswered_within = sum(w is not None and w <= t for _, w, t in unanswered)
        offered = len(answered) + len(unanswered)
        num, den = {
            "talkdesk": (within, offered - short_n),
            "answered": (within, len(answered)),
            "offered": (within, offered),
            "abandon_positive": (within + unanswered_within, offered),
        }[formula]
        waits = [w for _, w, _ in answered if w is not None]
        out.append(
            (
                channel,
                offered,
                len(answered),
                within,
                len(unanswered),
                short_n,
                abandoned,
                num / den if den else None,
                abandoned / (offered - short_n) if offered - short_n else None,
                sum(waits) / len(waits) if waits else None,
            )
        )
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(ROW, max_size=30),
    scalar=st.integers(0, 400),
    limits=st.fixed_dictionaries({c: st.integers(0, 400) for c in ["VOICE", "CHAT", "*"]}),
    formula=st.sampled_from(sorted(ok.SERVICE_LEVEL_FORMULAS)),
    short=st.sampled_from([None, 0, 5, 30]),
)
def test_service_level_is_the_definition_written_out(rows, scalar, limits, formula, short) -> None:
    """Scalar thresholds (today's numbers) and mappings, against the definitions by hand."""
    df = frame(rows)
    kwargs = {"formula": formula, "short_abandon": short}
    got = ok.service_level(df, threshold=scalar, **kwargs).rows()
    assert close(got, written_out(rows, lambda c: scalar, short, formula))
    got = ok.service_level(df, threshold=limits, **kwargs).rows()
    assert close(got, written_out(rows, lambda c: limits.get(c, limits["*"]), short, formula))


def close(got: list[tuple], expected: list[tuple]) -> bool:
    """Rows equal, floats to rounding."""
    return len(got) == len(expected) and all(
        len(g) == len(e) and all(a == pytest.approx(b) for a, b in zip(g, e, strict=True))
        for g, e in zip(got, expected, strict=True)
    )
