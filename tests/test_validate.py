"""omnikit._validate: input checks and data-quality warnings, as a new user meets them."""

from __future__ import annotations

import polars as pl
import pytest

import omnikit as ok
from omnikit import charts


@pytest.fixture(scope="module")
def df() -> pl.DataFrame:
    return ok.resolve_customers(ok.synth_frame(600, seed=11))


def with_unknown_status(df: pl.DataFrame) -> pl.DataFrame:
    inbound = pl.col("interaction_direction") == "INBOUND"
    first = inbound & (pl.int_range(pl.len()) == inbound.arg_true().first())
    return df.with_columns(
        interaction_status=pl.when(first).then(pl.lit("PARKED")).otherwise("interaction_status")
    )


def test_data_quality_warnings_point_at_the_callers_line(df: pl.DataFrame) -> None:
    odd = with_unknown_status(df)
    with pytest.warns(ok.DataQualityWarning, match="'PARKED': 1") as caught:
        ok.service_level(odd)
    assert {(w.filename, w.lineno) for w in caught} == {(__file__, caught[0].lineno)}
    # raised a call deeper (headline_numbers -> service_level): still here, and only once
    with pytest.warns(ok.DataQualityWarning, match="PARKED") as caught:
        ok.headline_numbers(odd)
    assert len(caught) == 1
    assert {w.filename for w in caught} == {__file__}
    with pytest.warns(ok.DataQualityWarning, match="no start_date_time") as caught:
        ok.hourly_profile(
            df.with_columns(start_date_time=pl.lit(None).cast(df["start_date_time"].dtype))
        )
    assert {w.filename for w in caught} == {__file__}


@pytest.mark.parametrize(
    "call",
    [
        lambda pdf: ok.service_level(pdf),
        lambda pdf: ok.channel_mix(pdf, every="1d"),
        lambda pdf: ok.wait_time_survival(pdf),
        lambda pdf: ok.journeys(pdf),
        lambda pdf: ok.top_paths(pdf),
        lambda pdf: ok.headline_numbers(pdf),
        lambda pdf: ok.median_patience(pdf),
        lambda pdf: charts.service_level_chart(pdf),
        lambda pdf: charts.top_paths_chart(pdf),
        lambda pdf: charts.journey_flow_chart(pdf),
        lambda pdf: charts.journey_sankey_chart(pdf),
    ],
)
def test_a_pandas_frame_gets_the_conversion_hint(df: pl.DataFrame, call) -> None:
    with pytest.raises(
        ok.ParameterError, match=r"got pandas\.DataFrame; convert it with pl\.from_pandas\(df\)"
    ):
        call(df.head(20).to_pandas())


def test_a_path_gets_the_load_hint() -> None:
    with pytest.raises(
        ok.ParameterError, match=r"load the report first with ok\.load\('week\.json'\)"
    ):
        ok.service_level("week.json")  # type: ignore[arg-type]


def test_chart_hints_name_the_call_that_makes_the_frame(df: pl.DataFrame) -> None:
    with pytest.raises(ok.ParameterError) as raised:
        charts.channel_mix_chart(ok.channel_mix(df))  # no every=: no period column
    text = str(raised.value)
    assert "ok.channel_mix(df, every='1d')" in text
    assert "')()" not in text
    with pytest.raises(ok.ParameterError, match=r"returned by ok\.service_level\(df\)"):
        charts.service_level_chart(ok.wait_time_stats(df))


def test_every_written_in_words_gets_the_polars_spelling(df: pl.DataFrame) -> None:
    with pytest.raises(ok.ParameterError) as raised:
        ok.channel_mix(df, every="1 day")
    text = str(raised.value)
    assert text.startswith("channel_mix: every='1 day' is not a duration (did you mean '1d'?)")
    assert "Error" not in text and "expected leading integer" not in text


def test_median_patience_of_raw_interactions_says_what_to_pass(df: pl.DataFrame) -> None:
    with pytest.raises(ok.ParameterError) as raised:
        ok.median_patience(df)
    text = str(raised.value)
    assert "expected a Kaplan–Meier curve" in text
    assert "this looks like interactions" in text
    assert "ok.median_patience(ok.wait_time_survival(df, by=None))" in text


def test_median_patience_of_several_curves_refuses_to_mix_them(df: pl.DataFrame) -> None:
    per_channel = ok.wait_time_survival(df)
    assert per_channel["interaction_type"].n_unique() > 1
    with pytest.raises(ok.ParameterError, match=r"split by 'interaction_type' \(\d+ curves\)"):
        ok.median_patience(per_channel)
    # the same curves without their key column are caught by their repeated times
    with pytest.raises(ok.ParameterError, match="several curves"):
        ok.median_patience(per_channel.drop("interaction_type"))
    # one channel's curve, or the overall curve, gives its median
    voice = per_channel.filter(pl.col("interaction_type") == "VOICE")
    expected = voice.filter(pl.col("survival") <= 0.5)["time"].min()
    assert ok.median_patience(voice) == (None if expected is None else float(expected))
    overall = ok.wait_time_survival(df, by=None)
    assert ok.median_patience(overall) == ok.median_patience(overall.lazy())


def test_by_is_checked_the_same_way_everywhere(df: pl.DataFrame) -> None:
    for call in [
        lambda: ok.service_level(df, by=3),
        lambda: ok.channel_mix(df, by=[1]),
        lambda: ok.repeat_contacts(df, by=3),
    ]:
        with pytest.raises(ok.ParameterError, match="by= must be None, a column name or a list"):
            call()  # type: ignore[no-untyped-call]
    for call in [
        lambda: ok.service_level(df, by="team"),
        lambda: ok.repeat_contacts(df, by="team"),
    ]:
        with pytest.raises(ok.ParameterError, match="the frame has no column\\(s\\) 'team'"):
            call()
    # a repeated name is one key
    assert ok.repeat_contacts(df, by=["interaction_type", "interaction_type"]).equals(
        ok.repeat_contacts(df, by="interaction_type")
    )


def test_a_chart_checks_its_frame_with_the_one_frame_rule(df: pl.DataFrame) -> None:
    from omnikit._validate import check_columns, metric_frame
    from omnikit.charts._theme import require_frame

    levels = ok.service_level(df)
    # a LazyFrame is collected; the result is the same rows
    assert metric_frame(levels.lazy(), ["service_level"], "f", "ok.service_level(df)").equals(
        levels
    )
    assert require_frame(levels, ["service_level"], "f", "ok.service_level(df)") is levels
    # the missing-column message is check_columns' own, with the call to make as advice
    with pytest.raises(ok.ParameterError) as ours:
        check_columns(levels.schema, ["nope"], "f", hint="Pass the frame returned by ok.x(df).")
    with pytest.raises(ok.ParameterError) as theirs:
        require_frame(levels, ["nope"], "f", "ok.x(df)")
    assert str(ours.value) == str(theirs.value)
    assert "'nope'; it has interaction_type" in str(theirs.value)
    # a wrong type gets the conversion hints of every other function (not just a type name)
    with pytest.raises(ok.ParameterError, match=r"got pandas\.DataFrame; convert it with"):
        require_frame(levels.to_pandas(), ["service_level"], "f", "ok.service_level(df)")
    with pytest.raises(ok.ParameterError, match=r"load the report first with ok\.load"):
        charts.transition_heatmap("week.json")  # type: ignore[arg-type]
    # a column of the wrong type is caught by the same rule
    with pytest.raises(ok.ParameterError, match="'waiting_time' must hold seconds as numbers"):
        metric_frame(pl.DataFrame({"waiting_time": ["1"]}), ["waiting_time"], "f", "ok.load()")
