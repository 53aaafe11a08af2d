"""omnikit on DuckDB relations and PySpark DataFrames: the same numbers as the polars path.

Every metric and journey function runs on a DuckDB relation and on a local PySpark session
(``local[2]``), and its polars result is compared, exactly, with the polars path's on the same
rows: a synthetic report of a few thousand interactions over the October DST change in
Europe/Lisbon, plus hand-made edge rows (nulls, unknown statuses, OUTBOUND, no start time, the
March DST gap). The public functions are called as users call them (``ok.service_level(rel)``);
the contract's definitions are also checked on small hand-made frames, and identity resolution
on rows with placeholders, extensions, invalid numbers and hubs.

Spark needs Java: without ``java`` on the PATH the Spark tests are skipped, saying so.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sys
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import omnikit as ok
from omnikit import _engines

duckdb = pytest.importorskip("duckdb")
pytest.importorskip("narwhals")

TZ = "Europe/Lisbon"

#: Whether omnikit's public functions hand engine frames to ``omnikit._engines`` (they do).
WIRED = True


def run(name: str, frame: Any, **kwargs: Any) -> Any:
    """``ok.<name>(frame, **kwargs)`` for an engine frame (through the dispatch until wired)."""
    if WIRED or isinstance(frame, (pl.DataFrame, pl.LazyFrame)):
        return getattr(ok, name)(frame, **kwargs)
    return _engines.dispatch(name, frame, **kwargs)


# --- engines -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    """One lean local Spark session for the module, in the frames' timezone."""
    if shutil.which("java") is None:
        pytest.skip("Spark tests need Java 17 (apt-get install openjdk-17-jre-headless)")
    pytest.importorskip("pyspark")
    from pyspark.sql import SparkSession

    # Python workers (normalisation, pseudonyms) run this interpreter, which imports omnikit.
    os.environ["PYSPARK_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master("local[2]")
        .appName("omnikit-tests")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.adaptive.enabled", "false")  # small frames: no re-planning per query
        .config("spark.sql.codegen.wholeStage", "false")  # nor code generation per query
        .config("spark.default.parallelism", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", "2g")
        .config("spark.sql.session.timeZone", TZ)
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def duck() -> Any:
    con = duckdb.connect()
    con.execute(f"SET TimeZone = '{TZ}'")
    return con


@pytest.fixture(params=["duckdb", "spark"], scope="module")
def to_engine(request: pytest.FixtureRequest) -> Callable[[pl.DataFrame], Any]:
    """A function making a frame of the engine from a polars frame."""
    if request.param == "duckdb":
        con = request.getfixturevalue("duck")
        return lambda df: con.from_arrow(df.to_arrow())
    session = request.getfixturevalue("spark")
    return lambda df: session.createDataFrame(df.to_arrow())


# --- frames --------------------------------------------------------------------------------


def canonical(**columns: list[Any]) -> pl.DataFrame:
    """A canonical frame in TZ with the given columns (others null); naive datetimes are
    wall-clock times of TZ (an ambiguous one is its earlier instant)."""
    schema = ok.canonical_schema(TZ)
    n = len(next(iter(columns.values())))
    data = {}
    for name, dtype in schema.items():
        values = columns.get(name, [None] * n)
        if isinstance(dtype, pl.Datetime):
            data[name] = pl.Series(name, values, dtype=pl.Datetime("us")).dt.replace_time_zone(
                TZ, ambiguous="earliest"
            )
        else:
            data[name] = pl.Series(name, values, dtype=dtype)
    return pl.DataFrame(data)


def edge_rows() -> pl.DataFrame:
    """Rows a report can have: nulls, unknown statuses, OUTBOUND, no start, DST days."""
    d = dt.datetime
    starts = [
        d(2024, 3, 31, 0, 30),  # the hour before the gap
        d(2024, 3, 31, 2, 30),  # just after the gap (01:00-02:00 does not exist)
        d(2024, 10, 27, 1, 30),  # the repeated hour (earlier instant)
        None,  # no start time
        d(2024, 10, 27, 1, 45),
        d(2024, 10, 28, 9, 0),
        d(2024, 10, 28, 9, 0),
        d(2024, 10, 28, 9, 5),
    ]
    edge = canonical(
        interaction_id=[f"edge-{i}" for i in range(8)],
        waiting_time=[3, None, 40, 12, 0, 7, 25, 2],
        start_date_time=starts,
        end_date_time=[None, *starts[1:]],
        interaction_type=["VOICE", None, "CHAT", "VOICE", "EMAIL", "VOICE", "CHAT", "VOICE"],
        interaction_status=[
            "ABANDONED",
            "finished",  # statuses match OUTCOMES without regard to case
            "TRANSFERRED",  # unknown to OUTCOMES
            "Missed",
            None,
            "SHORT_ABANDONED",
            "OFFERED",
            "FINISHED",
        ],
        interaction_direction=[
            "INBOUND",
            "INBOUND",
            "INBOUND",
            "INBOUND",
            "OUTBOUND",
            "INBOUND",
            None,
            "INBOUND",
        ],
        agent_type=["VIRTUAL_AGENT", "USER", None, "USER", "USER", "VIRTUAL_AGENT", None, "USER"],
        contact=["+351 912 345 678"] * 3 + [None, "a@b.example", "912345678", None, None],
        contact_id=[None, None, None, "k-9", "k-9", None, None, None],
        groups=["support", None, "sales", "support", None, "support", "sales", "support"],
    )
    # A second row with the same start as edge-5, told apart by interaction_id in journeys.
    return edge


@pytest.fixture(scope="module")
def frame() -> pl.DataFrame:
    """A synthetic fortnight over the October DST change, plus the edge rows."""
    synth = ok.synth_frame(3_000, seed=17, timezone=TZ, start="2024-10-20", days=14)
    return pl.concat([synth, edge_rows()])


@pytest.fixture(scope="module")
def resolved(frame: pl.DataFrame) -> pl.DataFrame:
    return ok.resolve_customers(frame)


@pytest.fixture(scope="module")
def engine_frame(to_engine: Callable[[pl.DataFrame], Any], frame: pl.DataFrame) -> Any:
    return to_engine(frame)


@pytest.fixture(scope="module")
def engine_resolved(to_engine: Callable[[pl.DataFrame], Any], resolved: pl.DataFrame) -> Any:
    return to_engine(resolved)


def both(name: str, polars_frame: pl.DataFrame, engine: Any, **kwargs: Any) -> None:
    """The engine gives exactly the polars result, with the same kinds of warnings."""
    with warnings.catch_warnings(record=True) as expected_warnings:
        warnings.simplefilter("always")
        expected = run(name, polars_frame, **kwargs)
    with warnings.catch_warnings(record=True) as got_warnings:
        warnings.simplefilter("always")
        got = run(name, engine, **kwargs)
    assert_frame_equal(got, expected)
    kinds = {w.category for w in expected_warnings if w.category is ok.DataQualityWarning}
    assert {w.category for w in got_warnings if w.category is ok.DataQualityWarning} == kinds


# --- metrics: the same numbers as polars ----------------------------------------------------

METRIC_CASES = [
    ("channel_mix", {}),
    ("channel_mix", {"by": "interaction_direction", "every": "1d"}),
    ("channel_mix", {"every": "1h"}),
    ("channel_mix", {"every": "1w", "by": ["groups"]}),
    ("channel_mix", {"every": "2h"}),
    ("channel_mix", {"every": "1mo"}),
    ("wait_time_stats", {}),
    ("wait_time_stats", {"by": None, "percentiles": (0.0, 0.25, 0.5, 0.995, 1.0)}),
    ("wait_time_stats", {"by": ["interaction_type", "interaction_direction"]}),
    ("wait_time_histogram", {}),
    ("wait_time_histogram", {"by": None, "bins": "log"}),
    ("wait_time_histogram", {"bins": [0, 10, 60]}),
    ("service_level", {}),
    ("service_level", {"by": None, "threshold": 30, "short_abandon": 10}),
    ("service_level", {"by": "groups", "formula": "abandon_positive"}),
    (
        "service_level",
        {"formula": "answered", "outcomes": {"FINISHED": "answered", "MISSED": "unanswered"}},
    ),
    ("wait_time_survival", {}),
    ("wait_time_survival", {"by": None}),
    ("wait_time_survival", {"up_to": 30}),
    ("hourly_profile", {}),
    ("hourly_profile", {"value": "median_wait", "by": "interaction_type"}),
    ("hourly_profile", {"value": "service_level", "threshold": 15}),
    ("hourly_profile", {"value": "service_level", "threshold": {"VOICE": 10, "*": 45}}),
    ("service_level", {"threshold": {"VOICE": 20, "*": 60}, "by": None}),
    ("service_level", {"threshold": ok.DEFAULT_THRESHOLDS, "short_abandon": None}),
    ("service_level", {"threshold": "30s", "outcomes": {"finished": "answered", "Missed": "open"}}),
]


@pytest.mark.parametrize(("name", "kwargs"), METRIC_CASES, ids=lambda v: str(v))
def test_metric_equals_polars(name: str, kwargs: dict, frame: pl.DataFrame, engine_frame: Any):
    both(name, frame, engine_frame, **kwargs)


# --- journeys: the same journeys as polars --------------------------------------------------

JOURNEY_CASES = [
    ("journeys", {}),
    ("journeys", {"gap": "1d"}),
    ("journeys", {"gap": dt.timedelta(hours=2)}),
    ("channel_transitions", {}),
    ("channel_transitions", {"gap": "30m"}),
    ("repeat_contacts", {}),
    ("repeat_contacts", {"direction": None}),
    ("repeat_contacts", {"direction": "OUTBOUND", "window": "1d", "by": "interaction_type"}),
    ("repeat_contacts", {"direction": "inbound"}),  # matched exactly, as in polars: no rows
    ("top_paths", {"n": 5}),
    ("bot_containment", {}),
    ("bot_containment", {"by": ["first_channel", "answered"], "gap": "1h"}),
    ("journey_flow", {}),
    ("journey_flow", {"steps": 2, "collapse": True}),
]


@pytest.mark.parametrize(("name", "kwargs"), JOURNEY_CASES, ids=lambda v: str(v))
def test_journeys_equal_polars(name, kwargs, resolved: pl.DataFrame, engine_resolved: Any):
    assert_frame_equal(run(name, engine_resolved, **kwargs), run(name, resolved, **kwargs))


def test_repeat_contacts_inbound_by_default(resolved: pl.DataFrame, engine_resolved: Any):
    # API: only INBOUND interactions, "the next such interaction": the polars path over the
    # INBOUND rows alone gives those numbers.
    inbound = resolved.filter(pl.col("interaction_direction") == "INBOUND")
    expected = ok.repeat_contacts(inbound, window="3d", by="interaction_type")
    assert_frame_equal(
        run("repeat_contacts", engine_resolved, window="3d", by="interaction_type"), expected
    )


def test_bot_containment_equals_a_polars_reading(resolved: pl.DataFrame, engine_resolved: Any):
    # Read off polars journeys whose "channels" are the agent types: a journey with a
    # VIRTUAL_AGENT step is contained exactly when no USER step follows one (no bot_to_human).
    by_agent = ok.journeys(resolved.with_columns(interaction_type=pl.col("agent_type")))
    bot = by_agent.filter(pl.col("channels").list.contains("VIRTUAL_AGENT"))
    contained = bot.filter(~pl.col("bot_to_human")).height
    assert 0 < contained < bot.height  # both kinds occur
    got = run("bot_containment", engine_resolved)
    assert got.rows() == [(bot.height, contained, contained / bot.height)]


# --- resolution ----------------------------------------------------------------------------


def resolution_rows() -> pl.DataFrame:
    """Linking cases: formats of one number, a switchboard, a number on exactly
    ``max_contact_ids`` contact ids, placeholders, extensions, an invalid number, identity hubs
    (a number and a name shared by more people than the guard allows), rows without ids."""
    cases = [
        # (contact, contact_id, name)
        ("(510) 876-9640", None, "Ann"),  # r0-r4: one customer (formats, contact id, e-mail)
        ("+1 510 876 9640", "c1", "Ann"),
        ("tel:+15108769640", "c1", "Ann"),
        ("Ann <ANN@Example.com>", "c1", "Ann"),
        ("mailto:ann@example.com", None, "Ann"),
        ("https://shop.example/chat", None, None),  # a URL: no identifier
        *[("+351 21 000 0000", f"s{i}", None) for i in range(1, 6)],  # switchboard: 5 ids
        *[("510-876-9641", f"t{i}", None) for i in range(1, 4)],  # 3 ids (= the limit): links
        ("+1 (000) 000-0000", None, None),  # placeholders: one repeated digit, ...
        ("+1 (000) 000-0000", None, None),
        ("266696687", None, None),  # ... ANONYMOUS on the keypad
        ("266696687", None, None),
        ("+1 510 876 9642 ext. 12", None, None),  # the same extension links
        ("510-876-9642;ext=12", None, None),
        ("+1 510 876 9642 ext. 13", None, None),  # another extension, and the bare line: not
        ("+1 510 876 9642", None, None),
        ("123-456-7890", None, None),  # not a valid number: no identifier
        ("123-456-7890", None, None),
        *[("+1 510 876 9643", None, n) for n in ("Bo", "Cy", "Di", "Ed")],  # 4 identities: hub
        ("+1 510 876 9644", None, "Eve"),  # 2 identities (Eve, Fay): links
        ("+1 510 876 9644", None, "eve"),
        ("+1 510 876 9644", None, "Fay"),
        *[(f"+1 510 876 965{i}", None, "Gus") for i in range(4)],  # a name on 4 phones
        ("hub@example.com", "h1", "Hal"),  # 2 contact ids + 2 names without one: hub
        ("hub@example.com", "h2", None),
        ("hub@example.com", None, "Ida"),
        ("hub@example.com", None, "Jo"),
        (None, None, None),
        (None, None, None),
        (None, None, None),
    ]
    n = len(cases)
    return canonical(
        interaction_id=[*(f"r{i}" for i in range(n - 2)), None, None],
        contact=[c for c, _, _ in cases],
        contact_id=[k for _, k, _ in cases],
        name=[m for _, _, m in cases],
        start_date_time=[dt.datetime(2024, 10, 21, 9) + dt.timedelta(minutes=i) for i in range(n)],
        interaction_type=["VOICE"] * n,
        notes=[None] * (n - 2) + ["same", "same"],  # two identical rows without any id
    )


def customers_of(resolved: pl.DataFrame, *contacts: str) -> int:
    return resolved.filter(pl.col("contact").is_in(contacts))["customer_id"].n_unique()


@pytest.mark.parametrize("link_by_name", [False, True], ids=["ids", "by_name"])
def test_resolve_customers_equals_polars(to_engine, link_by_name: bool):
    rows = resolution_rows()
    expected = ok.resolve_customers(rows, link_by_name=link_by_name)
    got = run("resolve_customers", to_engine(rows), link_by_name=link_by_name)
    got = got.pl() if hasattr(got, "pl") else pl.from_arrow(got.toArrow())
    got = got.with_columns(
        pl.col("start_date_time", "end_date_time").dt.convert_time_zone(TZ)
    ).select(expected.columns)
    order = [c for c in expected.columns if c != "customer_id"]
    assert_frame_equal(
        got.sort(order, nulls_last=True), expected.sort(order, nulls_last=True), check_dtypes=True
    )
    # the cases are what they say, in the polars path
    first = expected.filter(pl.col("interaction_id").is_in(["r0", "r1", "r2", "r3", "r4"]))
    assert first["customer_id"].n_unique() == 1
    assert customers_of(expected, "+351 21 000 0000") == 5
    assert customers_of(expected, "510-876-9641") == 1
    assert customers_of(expected, "+1 (000) 000-0000") == 2
    assert customers_of(expected, "266696687") == 2
    assert customers_of(expected, "+1 510 876 9642 ext. 12", "510-876-9642;ext=12") == 1
    assert customers_of(expected, "+1 510 876 9642 ext. 12", "+1 510 876 9642 ext. 13") == 2
    assert customers_of(expected, "+1 510 876 9642", "+1 510 876 9642 ext. 12") == 2
    assert customers_of(expected, "123-456-7890") == 2
    assert customers_of(expected, "+1 510 876 9643") == 4
    assert customers_of(expected, "+1 510 876 9644") == 1
    assert customers_of(expected, "hub@example.com") == 4
    gus = [f"+1 510 876 965{i}" for i in range(4)]
    assert customers_of(expected, *gus) == 4  # by name: Gus has 4 identities, a hub
    assert expected.filter(pl.col("notes") == "same")["customer_id"].n_unique() == 2


def test_journeys_resolve_in_the_engine(to_engine, frame: pl.DataFrame):
    # customers resolved in the engine (Spark: normalisation in the workers, large-star /
    # small-star components) give the polars path's customer_ids, hence the same journeys
    rows = pl.concat([frame, resolution_rows()])
    assert_frame_equal(run("journeys", to_engine(rows)), ok.journeys(rows))


# --- the contract's definitions on hand-checkable frames ------------------------------------


def voice_chat() -> pl.DataFrame:
    return canonical(
        interaction_type=["VOICE", "VOICE", "VOICE", "CHAT", "CHAT", "EMAIL", "VOICE"],
        interaction_direction=["INBOUND"] * 6 + ["OUTBOUND"],
        interaction_status=[
            "finished",  # statuses match without regard to case
            "Finished",
            "SHORT_ABANDONED",
            "FINISHED",
            "abandoned",
            "FINISHED",
            "FINISHED",
        ],
        waiting_time=[10, 30, 2, 50, 3, 3000, 1],
        start_date_time=[dt.datetime(2024, 10, 21, 9, i) for i in range(7)],
    )


def test_service_level_blends_per_channel_thresholds(to_engine):
    engine = to_engine(voice_chat())
    got = run("service_level", engine, threshold={"VOICE": 20, "*": "1m"}, by=None)
    # within: VOICE 10 (<=20), CHAT 50 (<=60); not VOICE 30, EMAIL 3000.
    # offered 6, short 2 (SHORT_ABANDONED; abandoned after 3 s < 5 s) -> 2 / 4
    assert got.select("offered", "answered", "answered_within", "short_abandoned").row(0) == (
        6,
        4,
        2,
        2,
    )
    assert got["service_level"].item() == 0.5
    assert got["abandoned"].item() == 0 and got["abandon_rate"].item() == 0.0
    assert got["asa"].item() == pytest.approx((10 + 30 + 50 + 3000) / 4)


def test_service_level_names_a_channel_without_threshold(to_engine):
    with pytest.raises(ok.ParameterError) as expected:
        ok.service_level(voice_chat(), threshold={"VOICE": 20})
    with pytest.raises(ok.ParameterError) as got:
        run("service_level", to_engine(voice_chat()), threshold={"VOICE": 20})
    assert str(got.value) == str(expected.value)
    assert "'CHAT' (2 interaction(s)), 'EMAIL' (1 interaction(s))" in str(got.value)


def test_short_abandon_none_counts_every_abandon(to_engine):
    got = run("service_level", to_engine(voice_chat()), by=None, short_abandon=None)
    # nothing leaves the denominators: 1 within 20 s (VOICE 10) of 6 offered
    assert got.select("short_abandoned", "abandoned").row(0) == (0, 2)
    assert got["service_level"].item() == pytest.approx(1 / 6)
    assert got["abandon_rate"].item() == pytest.approx(2 / 6)


def test_survival_up_to_and_its_old_name(to_engine):
    engine = to_engine(voice_chat())
    whole = run("wait_time_survival", engine, by=None)
    assert whole["time"].to_list() == [2, 3, 10, 30, 50, 3000]
    assert whole["survival"].to_list() == pytest.approx(
        [5 / 6, 5 / 6 * 4 / 5, 2 / 3, 2 / 3, 2 / 3, 2 / 3]
    )
    assert_frame_equal(run("wait_time_survival", engine, by=None, up_to="30s"), whole.head(4))
    with pytest.warns(DeprecationWarning, match="up_to"):
        old = run("wait_time_survival", engine, by=None, threshold=30)
    assert_frame_equal(old, whole.head(4))


def test_every_day_on_dst_days_is_a_local_day(to_engine):
    d = dt.datetime
    rows = canonical(
        interaction_type=["VOICE"] * 4,
        start_date_time=[
            d(2024, 10, 27, 0, 5),
            d(2024, 10, 27, 23, 55),
            d(2024, 3, 31, 3, 0),
            None,
        ],
    )
    got = run("channel_mix", to_engine(rows), every="1d")
    # 27 October has 25 hours: both rows are in it; a null start is a period of its own
    assert got["period"].dt.replace_time_zone(None).to_list() == [
        d(2024, 3, 31),
        d(2024, 10, 27),
        None,
    ]
    assert got["interactions"].to_list() == [1, 2, 1]
    assert got["period"].dtype == pl.Datetime("us", TZ)


def test_hourly_profile_places_the_repeated_hour_once(to_engine):
    d = dt.datetime
    first = pl.Series([d(2024, 10, 27, 1, 30)]).dt.replace_time_zone(TZ, ambiguous="earliest")
    second = pl.Series([d(2024, 10, 27, 1, 30)]).dt.replace_time_zone(TZ, ambiguous="latest")
    rows = canonical(interaction_type=["VOICE", "VOICE"], start_date_time=[None, None])
    rows = rows.with_columns(start_date_time=pl.concat([first, second]))
    got = run("hourly_profile", to_engine(rows))
    sunday_1h = got.filter(pl.col("weekday") == 7, pl.col("hour") == 1)
    assert sunday_1h["volume"].item() == 2 and got["volume"].sum() == 2


def bot_rows() -> pl.DataFrame:
    d = dt.datetime
    return canonical(
        interaction_id=["a1", "a2", "a3", "b1", "b2", "c1", "c2"],
        start_date_time=[
            d(2024, 10, 21, 9),
            d(2024, 10, 21, 9, 5),
            d(2024, 10, 23, 9),  # a new journey (more than 24 h later)
            d(2024, 10, 21, 10),
            d(2024, 10, 21, 10, 1),
            d(2024, 10, 21, 11),
            d(2024, 10, 21, 11, 1),
        ],
        interaction_type=["CHAT", "VOICE", "CHAT", "CHAT", "CHAT", "VOICE", "VOICE"],
        agent_type=[
            "VIRTUAL_AGENT",
            "USER",
            "VIRTUAL_AGENT",
            "USER",
            "VIRTUAL_AGENT",
            "USER",
            "USER",
        ],
        interaction_direction=["INBOUND"] * 7,
    ).with_columns(customer_id=pl.Series(["A", "A", "A", "B", "B", "C", "C"]))


def test_bot_containment_by_hand(to_engine):
    # journeys: A1 bot then human (not contained), A2 bot only (contained), B human then bot
    # (contained: no human after the first bot step), C no bot (not counted)
    got = run("bot_containment", to_engine(bot_rows()))
    assert got.row(0) == (3, 2, pytest.approx(2 / 3))
    # by= groups journeys by a column of the journeys frame, as in polars
    by_path = run("bot_containment", to_engine(bot_rows()), by="path")
    assert by_path.rows() == [
        ("CHAT", 2, 2, 1.0),  # A's second journey, B
        ("CHAT > VOICE", 1, 0, 0.0),
    ]
    assert_frame_equal(by_path, ok.bot_containment(bot_rows(), by="path"))
    with pytest.raises(ok.ParameterError) as expected:
        ok.bot_containment(bot_rows(), by="interaction_type")
    with pytest.raises(ok.ParameterError) as wrong:
        run("bot_containment", to_engine(bot_rows()), by="interaction_type")
    assert str(wrong.value) == str(expected.value)


def test_repeat_contacts_by_hand(to_engine):
    rows = bot_rows().with_columns(
        interaction_direction=pl.Series(
            ["INBOUND", "OUTBOUND", "INBOUND", "INBOUND", "INBOUND", "INBOUND", "OUTBOUND"]
        )
    )
    got = run("repeat_contacts", to_engine(rows), window="3d")
    # INBOUND only: A a1 -> a3 (2 days: repeated), a3 last; B b1 -> b2 repeated; C c1 alone
    assert got.row(0) == (5, 2, pytest.approx(2 / 5))
    all_directions = run("repeat_contacts", to_engine(rows), window="1h", direction=None)
    assert all_directions.row(0) == (7, 3, pytest.approx(3 / 7))  # a1, b1, c1


# --- what cannot run in an engine, and what is not an engine frame ---------------------------


def test_unsupported_periods_say_which_and_why(to_engine):
    engine = to_engine(voice_chat())
    with pytest.raises(ok.ParameterError, match="every='1d12h' cannot run on"):
        run("channel_mix", engine, every="1d12h")
    with pytest.raises(ok.ParameterError, match="gap='1h30m' cannot run on an engine"):
        run("journeys", to_engine(bot_rows()), gap="1h30m")
    with pytest.raises(ok.ParameterError, match="no column"):
        run("wait_time_stats", engine, by="queue")


def test_what_takes_polars_frames_only_says_so(to_engine, resolved: pl.DataFrame):
    engine = to_engine(resolved.drop("customer_id"))
    with pytest.raises(ok.ParameterError, match="customer_links runs on polars frames only"):
        ok.customer_links(engine)
    with pytest.raises(ok.ParameterError, match=r"wait_time_survival\(df, by=None\)"):
        ok.median_patience(engine)
    with pytest.warns(ok.DataQualityWarning, match="TRANSFERRED"):  # an edge row's status
        curve = ok.wait_time_survival(engine, by=None)  # a polars curve: median_patience takes it
        polars_curve = ok.wait_time_survival(resolved, by=None)
    assert ok.median_patience(curve) == ok.median_patience(polars_curve)
    with pytest.raises(ok.ParameterError, match="steps must be a whole number"):
        ok.journey_flow(engine, steps=0)


def test_is_foreign(duck):
    assert _engines.is_foreign(duck.sql("select 1 as a"))
    assert not _engines.is_foreign(pl.DataFrame({"a": [1]}))
    assert not _engines.is_foreign(pl.LazyFrame({"a": [1]}))
    assert not _engines.is_foreign([1, 2])


def test_steps_at_the_same_instant_follow_interaction_id(to_engine):
    same = dt.datetime(2024, 10, 21, 9)
    rows = canonical(
        interaction_id=["d", "c", "b", "a", "e"],
        start_date_time=[same, same, same, same, same + dt.timedelta(minutes=1)],
        interaction_type=["WHATSAPP", "EMAIL", "CHAT", "VOICE", "SMS"],
        agent_type=["USER"] * 5,
    ).with_columns(customer_id=pl.lit("X"))
    got = run("journeys", to_engine(rows))
    assert got["path"].to_list() == ["VOICE > CHAT > EMAIL > WHATSAPP > SMS"]
    assert_frame_equal(got, ok.journeys(rows))
    transitions = run("channel_transitions", to_engine(rows))
    assert transitions.sort("from_channel")["to_channel"].to_list() == [
        "EMAIL",  # CHAT > EMAIL
        "WHATSAPP",  # EMAIL > WHATSAPP
        "CHAT",  # VOICE > CHAT
        "SMS",  # WHATSAPP > SMS
    ]


def test_top_paths_of_a_journeys_frame_in_the_engine(to_engine, resolved: pl.DataFrame):
    journeys = ok.journeys(resolved).drop("channels")  # a List column need not go to the engine
    assert_frame_equal(run("top_paths", to_engine(journeys), n=7), ok.top_paths(journeys, n=7))


EMPTY_CASES = [
    ("wait_time_stats", {"by": None}),
    ("wait_time_histogram", {"by": None, "bins": 5}),
    ("service_level", {"by": None}),
    ("wait_time_survival", {}),
    ("channel_mix", {"every": "1d"}),
    ("hourly_profile", {"value": "median_wait"}),
]


@pytest.mark.parametrize(("name", "kwargs"), EMPTY_CASES, ids=lambda v: str(v))
def test_empty_frames(name, kwargs, to_engine, frame: pl.DataFrame):
    empty = frame.clear()
    both(name, empty, to_engine(empty), **kwargs)


def test_engine_aware_sends_engine_frames_to_the_engine(duck, frame: pl.DataFrame):
    # The one-line wiring of a public function: polars frames keep the polars path.
    wired = _engines.engine_aware(ok._metrics.wait_time_stats)
    relation = duck.from_arrow(frame.to_arrow())
    assert_frame_equal(wired(relation, by=None), ok.wait_time_stats(frame, by=None))
    assert_frame_equal(wired(frame, by="groups"), ok.wait_time_stats(frame, by="groups"))
    assert wired.__name__ == "wait_time_stats" and wired.__doc__ == ok.wait_time_stats.__doc__


def test_large_star_small_star_finds_the_components(spark):
    # Chains, stars, a cycle and single edges over string nodes, against scipy.
    import random

    import numpy as np
    import scipy.sparse
    from scipy.sparse.csgraph import connected_components

    from omnikit._engines import _customers as engine_customers

    rng = random.Random(17)
    names = [f"1:n{i:03d}" for i in range(80)]
    pairs = [(names[i], names[i + 1]) for i in range(16)]  # a chain of 17
    pairs += [(names[40], names[j]) for j in range(41, 47)]  # a star
    pairs += [(names[50], names[51]), (names[51], names[52]), (names[52], names[50])]
    pairs += [(names[rng.randrange(55, 80)], names[rng.randrange(55, 80)]) for _ in range(12)]
    pairs = [(a, b) for a, b in pairs if a != b]
    edges = spark.createDataFrame(pairs, "a string, b string")
    got = {row["a"]: row["b"] for row in engine_customers._components(edges).collect()}
    index = {n: i for i, n in enumerate(names)}
    graph = scipy.sparse.coo_matrix(
        (np.ones(len(pairs)), ([index[a] for a, _ in pairs], [index[b] for _, b in pairs])),
        shape=(len(names), len(names)),
    )
    _, labels = connected_components(graph, directed=False)
    for node in {n for pair in pairs for n in pair}:
        smallest = min(n for n in names if labels[index[n]] == labels[index[node]])
        assert got.get(node, node) == smallest, node


def test_the_stores_table_reads_as_it_is(tmp_path, spark, duck, frame: pl.DataFrame):
    # A store's table (interactions/date=YYYY-MM-DD/): Spark, DuckDB and polars read it as it
    # is and add the partition column `date`, which omnikit ignores.
    from omnikit._store import Store

    with Store(tmp_path, timezone=TZ) as store:
        store.write(frame, span_start=dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
    held = ok.load(tmp_path, timezone=TZ)
    assert held.height > 0
    folder = str(tmp_path / "interactions")
    from_spark = spark.read.parquet(folder)
    from_duckdb = duck.read_parquet(f"{folder}/**/*.parquet", hive_partitioning=True)
    from_polars = pl.scan_parquet(folder, hive_partitioning=True)
    assert "date" in from_spark.columns and "date" in from_duckdb.columns
    assert from_polars.collect_schema()["date"] == pl.Date
    with pytest.warns(ok.DataQualityWarning):
        expected = ok.service_level(held, threshold=ok.DEFAULT_THRESHOLDS, by="interaction_type")
    for rows in (from_spark, from_duckdb, from_polars):
        with pytest.warns(ok.DataQualityWarning):  # the edge rows' unknown status
            got = ok.service_level(rows, threshold=ok.DEFAULT_THRESHOLDS, by="interaction_type")
        assert_frame_equal(got, expected)


def test_journey_flow_of_an_engine_journeys_frame(to_engine, resolved: pl.DataFrame):
    journeys = ok.journeys(resolved)
    assert_frame_equal(
        ok.journey_flow(to_engine(journeys), steps=3), ok.journey_flow(journeys, steps=3)
    )
