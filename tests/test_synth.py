"""Tests of omnikit._synth: the seeded synthetic report generator."""

from __future__ import annotations

import csv
import json
import re
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import phonenumbers
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import omnikit as ok
from omnikit import _synth
from omnikit._io import canonicalize
from omnikit.cli import main

VENDOR_FIELDS = [
    "interaction_id",
    "waiting_time",
    "start_date-time",
    "end_date-time",
    "duration",
    "interaction_type",
    "interaction_status",
    "interaction_direction",
    "agent_type",
    "groups",
    "agent_name",
    "agent_id",
    "external_id",
    "name",
    "contact",
    "contact_id",
    "disposition_name",
    "transcription-recording",
    "notes",
]
CHANNELS = {"VOICE", "CHAT", "EMAIL", "SMS", "WHATSAPP"}
STATUSES = {
    "FINISHED",
    "ASSIGNED",
    "MISSED",
    "ABANDONED",
    "SHORT_ABANDONED",
    "VOICEMAIL",
    "OFFERED",
}
UNANSWERED = ["MISSED", "ABANDONED", "SHORT_ABANDONED", "VOICEMAIL"]
WALL_CLOCK = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"
N = 20_000


@pytest.fixture(scope="module")
def raw() -> pl.DataFrame:
    return ok.synth_entries(N, seed=11)


@pytest.fixture(scope="module")
def frame() -> pl.DataFrame:
    return ok.synth_frame(N, seed=11)


def _digits(contact: pl.Expr) -> pl.Expr:
    """A US phone as 11 digits (1 + number), from any of the written formats."""
    digits = contact.str.replace_all(r"\D", "")
    return pl.when(digits.str.len_chars() == 10).then("1" + digits).otherwise(digits)


# --------------------------------------------------------------------------------------------
# The vendor's format


def test_entries_have_the_vendor_fields_in_order_with_the_vendor_types(raw: pl.DataFrame) -> None:
    assert raw.columns == VENDOR_FIELDS
    assert raw.height == N
    for field, dtype in raw.schema.items():
        assert dtype == (pl.Int64 if field in ("waiting_time", "duration") else pl.String), field
    # Text is never null (empty is ""), except the date-times, which are strings or null.
    for field in VENDOR_FIELDS:
        if raw.schema[field] == pl.String and field not in ("start_date-time", "end_date-time"):
            assert raw[field].null_count() == 0, field
    assert raw["start_date-time"].null_count() == 0
    for field in ("start_date-time", "end_date-time"):
        assert raw[field].drop_nulls().str.contains(WALL_CLOCK).all(), field
    assert (raw["waiting_time"].drop_nulls() >= 0).all()
    assert (raw["duration"].drop_nulls() >= 0).all()


def test_interaction_ids_are_unique_32_hex_random_uuids(raw: pl.DataFrame) -> None:
    ids = raw["interaction_id"]
    assert ids.n_unique() == N
    assert ids.str.contains(r"^[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}$").all()
    contact_ids = raw["contact_id"].filter(raw["contact_id"] != "")
    assert contact_ids.str.contains(r"^[0-9a-f]{24}$").all()


def test_the_same_seed_gives_the_same_entries_and_another_seed_does_not() -> None:
    first = ok.synth_entries(3000, seed=5)
    assert first.equals(ok.synth_entries(3000, seed=5))
    other = ok.synth_entries(3000, seed=6)
    assert not set(first["interaction_id"]) & set(other["interaction_id"])


def test_the_same_seed_writes_the_same_bytes(tmp_path: Path) -> None:
    a = ok.synth_report(tmp_path / "a.json", 1500, seed=9)
    b = ok.synth_report(tmp_path / "b.json", 1500, seed=9)
    assert a.read_bytes() == b.read_bytes()


def test_frame_is_the_canonical_form_of_the_entries(raw: pl.DataFrame, frame: pl.DataFrame) -> None:
    assert frame.schema == ok.canonical_schema("UTC")
    assert frame.equals(canonicalize(raw, timezone="UTC"))


def test_blocks_join_seamlessly(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Small generation blocks, so that several blocks and threads are used.
    monkeypatch.setattr(_synth, "_BLOCK", 700)
    raw = ok.synth_entries(5000, seed=2, customers=300)
    assert raw.height == 5000 and raw["interaction_id"].n_unique() == 5000
    assert ok.synth_frame(5000, seed=2, customers=300).equals(canonicalize(raw))
    # A customer keeps the same identifiers in every block.
    names = (
        raw.filter(pl.col("contact_id") != "", pl.col("name") != "")
        .with_columns(
            pl.col("name").str.strip_chars().str.to_lowercase().str.replace_all(" +", " ")
        )
        .group_by("contact_id")
        .agg(pl.col("name").n_unique())
    )
    assert names["name"].max() == 1
    # What is written does not depend on how much is written at a time.
    one = ok.synth_report(tmp_path / "one.json", 5000, seed=2, customers=300, chunk_size=1)
    many = ok.synth_report(tmp_path / "many.json", 5000, seed=2, customers=300, chunk_size=10**6)
    assert one.read_bytes() == many.read_bytes()
    assert json.loads(one.read_text(encoding="utf-8"))["entries"] == raw.to_dicts()


# --------------------------------------------------------------------------------------------
# Realism


def test_every_channel_status_direction_and_agent_type_appears(raw: pl.DataFrame) -> None:
    assert set(raw["interaction_type"]) >= CHANNELS
    assert set(raw["interaction_status"]) == STATUSES
    assert set(raw["interaction_direction"]) == {"INBOUND", "OUTBOUND"}
    assert {"USER", "VIRTUAL_AGENT", ""} == set(raw["agent_type"])
    outbound = raw.filter(pl.col("interaction_direction") == "OUTBOUND")
    assert {"VOICE", "EMAIL", "SMS"} <= set(outbound["interaction_type"])


def test_statuses_have_the_fields_they_imply(frame: pl.DataFrame) -> None:
    status = pl.col("interaction_status")
    offered = frame.filter(status == "OFFERED")
    assert offered["waiting_time"].null_count() == offered.height
    assert (
        offered["end_date_time"].null_count() == offered["duration"].null_count() == offered.height
    )
    assert offered["agent_id"].null_count() == offered.height

    assigned = frame.filter(status == "ASSIGNED")
    assert assigned["waiting_time"].null_count() == 0
    assert (
        assigned["end_date_time"].null_count()
        == assigned["duration"].null_count()
        == assigned.height
    )
    assert assigned["agent_id"].null_count() == 0

    unanswered = frame.filter(status.is_in(UNANSWERED))
    assert unanswered["waiting_time"].null_count() == 0
    assert (
        unanswered["agent_name"].null_count()
        == unanswered["agent_id"].null_count()
        == unanswered.height
    )
    assert (frame.filter(status == "SHORT_ABANDONED")["waiting_time"] < 5).all()
    assert (frame.filter(status == "ABANDONED")["waiting_time"] >= 5).all()

    ended = frame.filter(pl.col("end_date_time").is_not_null())
    took = (pl.col("end_date_time") - pl.col("start_date_time")).dt.total_seconds()
    assert ended.select((took == pl.col("duration")).all()).item()
    assert ended.select((pl.col("duration") >= pl.col("waiting_time")).all()).item()
    finished = frame.filter((status == "FINISHED") & (pl.col("agent_type") == "USER"))
    assert finished["agent_id"].null_count() == 0


def test_each_channel_has_its_own_wait_shape(frame: pl.DataFrame) -> None:
    answered = frame.filter(
        pl.col("interaction_status").is_in(["FINISHED", "ASSIGNED"])
        & (pl.col("interaction_direction") == "INBOUND")
        & (pl.col("agent_type") != "VIRTUAL_AGENT")
    )
    waits = answered.group_by("interaction_type").agg(
        p50=pl.col("waiting_time").median(), p99=pl.col("waiting_time").quantile(0.99)
    )
    p50 = dict(waits.select("interaction_type", "p50").iter_rows())
    p99 = dict(waits.select("interaction_type", "p99").iter_rows())
    assert 5 <= p50["VOICE"] <= 60 and p99["VOICE"] > 8 * p50["VOICE"]  # seconds, long tail
    assert 10 <= p50["CHAT"] <= 90  # tens of seconds
    assert 60 <= p50["SMS"] <= 1800 and 30 <= p50["WHATSAPP"] <= 900  # minutes
    assert p50["EMAIL"] >= 3600  # hours


def test_arrivals_are_busier_on_weekday_business_hours(frame: pl.DataFrame) -> None:
    start = frame["start_date_time"]
    weekday = start.dt.weekday() <= 5
    hour = start.dt.hour()
    busy = (weekday & (hour >= 9) & (hour < 17)).sum() / (
        20 * 8
    )  # per hour: 20 weekdays in 28 days
    night = (weekday & (hour < 6)).sum() / (20 * 6)
    weekend = (~weekday & (hour >= 9) & (hour < 17)).sum() / (8 * 8)
    assert busy > 4 * night
    assert busy > 1.5 * weekend
    assert start.min() >= datetime(2024, 9, 2, tzinfo=UTC)
    assert start.max() < datetime(2024, 9, 2, tzinfo=UTC) + timedelta(days=28)


def test_bots_hand_over_to_people_for_the_same_customer(raw: pl.DataFrame) -> None:
    bots = raw.filter(pl.col("agent_type") == "VIRTUAL_AGENT")
    assert bots.height > 200
    assert (bots["interaction_status"] == "FINISHED").all()
    assert (bots["waiting_time"] == 0).all()
    assert set(bots["interaction_type"]) >= {"CHAT", "WHATSAPP", "VOICE"}
    assert (
        bots["agent_id"]
        .str.contains(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
        .all()
    )
    people = raw.filter(pl.col("agent_type") == "USER").select(
        "contact", "interaction_type", pl.col("start_date-time").alias("human_start")
    )
    handed = bots.join(people, on=["contact", "interaction_type"]).filter(
        (pl.col("human_start") >= pl.col("end_date-time"))
        & (
            pl.col("human_start").str.to_datetime() - pl.col("end_date-time").str.to_datetime()
            <= timedelta(minutes=1)
        )
    )
    assert handed["interaction_id"].n_unique() > 0.6 * bots.height


def test_customers_come_back_across_channels(raw: pl.DataFrame) -> None:
    known = raw.filter(pl.col("contact_id") != "")
    assert known.height > 0.75 * raw.height  # contact_id on most rows
    # About 0.15 customers per interaction (a few have two contact ids; some never show one).
    assert 0.08 * N < known["contact_id"].n_unique() < 0.2 * N
    per = known.group_by("contact_id").agg(
        channels=pl.col("interaction_type").n_unique(),
        contacts=pl.len(),
        span=pl.col("start_date-time").str.to_datetime().max()
        - pl.col("start_date-time").str.to_datetime().min(),
    )
    returning = per.filter(pl.col("contacts") > 1)
    assert returning.height > 0.4 * per.height
    assert (returning["channels"] > 1).sum() > 0.3 * returning.height
    assert (returning["span"] > timedelta(days=2)).sum() > 0.2 * returning.height
    assert (returning["span"] < timedelta(hours=24)).sum() > 0.05 * returning.height


def test_customers_parameter_sets_the_population() -> None:
    raw = ok.synth_entries(4000, seed=1, customers=50)
    ids = raw.filter(pl.col("contact_id") != "")["contact_id"].n_unique()
    assert 35 <= ids <= 50 * 1.1


def test_phones_are_written_in_several_formats(raw: pl.DataFrame) -> None:
    phones = raw.filter(pl.col("interaction_type").is_in(["VOICE", "SMS", "WHATSAPP"]))["contact"]
    formats = {
        "+15108769640": r"^\+1\d{10}$",
        "(510) 876-9640": r"^\(\d{3}\) \d{3}-\d{4}$",
        "510-876-9640": r"^\d{3}-\d{3}-\d{4}$",
        "+1 510 876 9640": r"^\+1 \d{3} \d{3} \d{4}$",
        "510.876.9640": r"^\d{3}\.\d{3}\.\d{4}$",
        "+351 912 345 678": r"^\+351 ?9\d{2} ?\d{3} ?\d{3}$",
        "+44 7700 123456": r"^\+44 ?7\d{3} ?\d{6}$",
    }
    for example, pattern in formats.items():
        assert re.match(pattern, example)
        assert phones.str.contains(pattern).sum() > 0, example
    assert phones.str.contains(r"^\+1 \(\d{3}\) \d{3}-\d{4}$").sum() > 0
    for text in phones.unique().head(2000):
        number = phonenumbers.parse(text, "US")
        assert phonenumbers.is_possible_number(number), text
    # The same customer's number, written differently on different rows.
    same = (
        raw.filter(pl.col("interaction_type") == "VOICE", pl.col("contact").str.starts_with("+1"))
        .with_columns(digits=_digits(pl.col("contact")))
        .join(raw.with_columns(digits=_digits(pl.col("contact"))), on="digits")
        .filter(pl.col("contact") != pl.col("contact_right"))
    )
    assert same.height > 0


def test_emails_use_reserved_domains_in_mixed_case_with_stray_spaces(raw: pl.DataFrame) -> None:
    emails = raw.filter(pl.col("interaction_type") == "EMAIL")["contact"]
    assert emails.str.contains("@").all()
    assert (emails != emails.str.strip_chars()).sum() > 0
    assert (emails != emails.str.to_lowercase()).sum() > 0
    assert (emails == emails.str.to_lowercase()).sum() > 0.4 * emails.len()
    domains = emails.str.strip_chars().str.to_lowercase().str.split("@").list.last().unique()
    for domain in domains:
        assert domain in {"example.com", "example.org", "example.net"} or domain.endswith(
            (".example", ".test")
        ), domain


def test_chat_contacts_are_mostly_page_urls(raw: pl.DataFrame) -> None:
    chat = raw.filter(pl.col("interaction_type") == "CHAT")["contact"]
    urls = chat.str.contains(r"^https://[a-z.]+\.example\.(com|org)/[a-z/]*\?ctk=[0-9a-f-]{36}$")
    assert urls.sum() > 0.6 * chat.len()
    assert chat.str.contains("@").sum() > 0  # some signed-in visitors show their e-mail


def test_a_few_switchboards_and_shared_mailboxes_serve_many_contact_ids(raw: pl.DataFrame) -> None:
    rows = raw.filter(pl.col("contact_id") != "").with_columns(
        key=pl.when(pl.col("contact").str.contains("@"))
        .then(pl.col("contact").str.strip_chars().str.to_lowercase())
        .otherwise(_digits(pl.col("contact")))
    )
    shared = (
        rows.group_by("key")
        .agg(pl.col("contact_id").n_unique().alias("ids"))
        .filter(pl.col("ids") > 3)
    )
    assert 2 <= shared.filter(~pl.col("key").str.contains("@")).height <= 12
    assert 1 <= shared.filter(pl.col("key").str.contains("@")).height <= 6
    # Apart from those, an identifier belongs to one customer (two contact ids at most).
    private = rows.group_by("key").agg(pl.col("contact_id").n_unique().alias("ids"))
    assert (private["ids"] <= 3).mean() > 0.99


def test_names_vary_in_case_and_spacing(raw: pl.DataFrame) -> None:
    names = raw["name"].filter(raw["name"] != "")
    assert (names == names.str.to_uppercase()).sum() > 0
    assert (names == names.str.to_lowercase()).sum() > 0
    assert names.str.contains("  ").sum() > 0
    assert (names != names.str.strip_chars()).sum() > 0
    assert names.str.contains("[^\\x00-\\x7f]").sum() > 0  # accented names too


def test_agents_have_names_ids_and_groups(raw: pl.DataFrame) -> None:
    people = raw.filter(pl.col("agent_name") != "")
    assert people["agent_id"].str.contains(r"^[0-9a-f]{24}$").all()
    assert people.group_by("agent_name").agg(pl.col("agent_id").n_unique())["agent_id"].max() == 1
    assert set(people["groups"]) >= {"agents", "support", "billing", ""}


# --------------------------------------------------------------------------------------------
# Files


@pytest.mark.parametrize("indent", [None, 4, 2])
def test_json_envelope_is_exactly_what_json_dumps_writes(
    tmp_path: Path, indent: int | None
) -> None:
    path = ok.synth_report(tmp_path / "report.json", 2000, seed=4, indent=indent)
    text = path.read_text(encoding="utf-8")
    envelope = json.loads(text)
    assert list(envelope) == ["entries", "total"] and envelope["total"] == 2000
    assert envelope["entries"] == ok.synth_entries(2000, seed=4).to_dicts()
    assert list(envelope["entries"][0]) == VENDOR_FIELDS
    if indent is None:
        assert text == json.dumps(envelope, separators=(",", ":"), ensure_ascii=False)
    else:
        assert text == json.dumps(envelope, indent=indent, ensure_ascii=False)
    # Notes with quotes and new lines survive.
    assert any('"' in e["notes"] for e in envelope["entries"])
    assert any("\n" in e["notes"] for e in envelope["entries"])


def test_pretty_layout_matches_the_vendor_sample(vendor_sample: Path, tmp_path: Path) -> None:
    sample = vendor_sample.read_text(encoding="utf-8")
    ours = ok.synth_report(tmp_path / "r.json", 3, indent=4).read_text(encoding="utf-8")
    shape = re.compile(r'": ("[^"]*"|-?\d+|null)')
    assert shape.sub('": V', sample).split("\n")[:25] == shape.sub('": V', ours).split("\n")[:25]
    assert ours.endswith('    ],\n    "total": 3\n}')


def test_ndjson_and_csv_files(tmp_path: Path) -> None:
    entries = ok.synth_entries(1500, seed=8)
    ndjson = ok.synth_report(tmp_path / "r.ndjson", 1500, seed=8)
    lines = ndjson.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == entries.to_dicts()
    jsonl = ok.synth_report(tmp_path / "r.jsonl", 1500, seed=8)
    assert jsonl.read_bytes() == ndjson.read_bytes()

    path = ok.synth_report(tmp_path / "r.csv", 1500, seed=8)
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == VENDOR_FIELDS
    assert len(rows) == 1501
    expected = entries.select(pl.all().cast(pl.String).fill_null("")).rows()
    assert [tuple(r) for r in rows[1:]] == expected


def test_format_argument_overrides_the_suffix(tmp_path: Path) -> None:
    path = ok.synth_report(tmp_path / "report.txt", 100, format="ndjson")
    assert len(path.read_text(encoding="utf-8").splitlines()) == 100


def test_empty_reports(tmp_path: Path) -> None:
    assert json.loads(ok.synth_report(tmp_path / "e.json", 0).read_text()) == {
        "entries": [],
        "total": 0,
    }
    assert ok.synth_report(tmp_path / "e4.json", 0, indent=4).read_text() == json.dumps(
        {"entries": [], "total": 0}, indent=4
    )
    assert ok.synth_report(tmp_path / "e.csv", 0).read_text().strip() == ",".join(VENDOR_FIELDS)
    assert ok.synth_entries(0).columns == VENDOR_FIELDS
    assert ok.synth_frame(0).schema == ok.canonical_schema("UTC")


@pytest.mark.parametrize("name", ["r.json", "r.ndjson", "r.csv"])
def test_load_of_a_written_report_equals_synth_frame(tmp_path: Path, name: str) -> None:
    path = ok.synth_report(tmp_path / name, 3000, seed=21, indent=4 if name == "r.json" else None)
    assert ok.load(path, cache=False).equals(ok.synth_frame(3000, seed=21))


def test_writes_are_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = ok.synth_report(tmp_path / "r.json", 500, seed=1)
    before = path.read_bytes()
    monkeypatch.setattr(_synth, "_BLOCK", 100)

    def broken(self: _synth._Writer, block: pl.DataFrame) -> None:
        if self.total:
            raise RuntimeError("disk full")
        original(self, block)
        self.file.flush()

    original = _synth._Writer.write
    monkeypatch.setattr(_synth._Writer, "write", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        ok.synth_report(path, 500, seed=2, chunk_size=100)
    assert path.read_bytes() == before  # the old file is untouched
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]  # no temporary file left
    with pytest.raises(RuntimeError, match="disk full"):
        ok.synth_reports(tmp_path / "weeks", 500, windows=2)
    assert list((tmp_path / "weeks").iterdir()) == []


# --------------------------------------------------------------------------------------------
# Overlapping report windows


def test_overlapping_windows_repeat_interactions_in_a_later_state(tmp_path: Path) -> None:
    paths = ok.synth_reports(tmp_path, 8000, seed=3, windows=4, overlap="1d")
    assert [p.name for p in paths] == sorted(p.name for p in paths)
    assert paths[0].name == "erc_omnichannel_report_01_2024-09-02_2024-09-09.json"
    assert paths[-1].name == "erc_omnichannel_report_04_2024-09-23_2024-09-30.json"
    files = []
    for number, path in enumerate(paths):
        envelope = json.loads(path.read_text(encoding="utf-8"))
        assert envelope["total"] == len(envelope["entries"])
        files.append(pl.DataFrame(envelope["entries"]).with_columns(file=pl.lit(number)))
    every = pl.concat(files)
    assert every["interaction_id"].n_unique() == 8000
    repeated = every.filter(pl.col("interaction_id").is_duplicated()).sort("interaction_id", "file")
    assert repeated.height > 100
    # Repeats are in neighbouring files, within the day before the later window starts.
    pairs = repeated.group_by("interaction_id", maintain_order=True).agg(
        pl.col("file"), pl.col("interaction_status"), pl.col("start_date-time").first()
    )
    assert (pairs["file"].list.len() == 2).all()
    assert (pairs["file"].list.last() - pairs["file"].list.first() == 1).all()
    states = pairs.select(
        earlier=pl.col("interaction_status").list.first(),
        later=pl.col("interaction_status").list.last(),
    )
    changed = states.filter(pl.col("earlier") != pl.col("later"))
    assert changed.height > 20
    assert set(changed["earlier"]) <= {"OFFERED", "ASSIGNED"}
    assert {("ASSIGNED", "FINISHED"), ("OFFERED", "FINISHED")} <= set(changed.iter_rows())
    # Earlier states have no end yet; the last occurrence is the final state.
    earlier = repeated.filter(pl.col("interaction_status").is_in(["OFFERED", "ASSIGNED"]))
    assert earlier["end_date-time"].null_count() == earlier.height
    loaded = ok.load(tmp_path, cache=False)
    final = ok.synth_frame(8000, seed=3)
    assert loaded.sort("interaction_id").equals(final.sort("interaction_id"))


def test_windows_in_every_format(tmp_path: Path) -> None:
    for fmt in ("ndjson", "csv"):
        paths = ok.synth_reports(tmp_path / fmt, 2000, seed=5, windows=3, overlap="12h", format=fmt)
        assert len(paths) == 3 and all(p.suffix == f".{fmt}" for p in paths)
        loaded = ok.load(tmp_path / fmt, cache=False)
        assert loaded.sort("interaction_id").equals(
            ok.synth_frame(2000, seed=5).sort("interaction_id")
        )


def test_overlap_takes_any_fixed_duration(tmp_path: Path) -> None:
    week = ok.synth_reports(tmp_path / "w", 3000, seed=6, windows=2, overlap="1w")
    days = ok.synth_reports(tmp_path / "d", 3000, seed=6, windows=2, overlap=timedelta(days=7))
    assert [p.read_bytes() for p in week] == [p.read_bytes() for p in days]
    shorter = ok.synth_reports(tmp_path / "s", 3000, seed=6, windows=2, overlap="1d")
    assert json.loads(week[1].read_text())["total"] > json.loads(shorter[1].read_text())["total"]


def test_no_overlap_means_no_repeats(tmp_path: Path) -> None:
    paths = ok.synth_reports(tmp_path, 1000, windows=2, overlap=timedelta(0))
    totals = [json.loads(p.read_text())["total"] for p in paths]
    assert sum(totals) == 1000


# --------------------------------------------------------------------------------------------
# Timezones, arguments, command line


def test_no_wall_clock_time_falls_in_a_dst_gap() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        frame = ok.synth_frame(
            20_000, seed=1, start="2024-03-04", days=14, timezone="America/New_York"
        )
    assert frame["start_date_time"].null_count() == 0
    assert frame.schema["start_date_time"] == pl.Datetime("us", "America/New_York")
    assert frame.select((pl.col("end_date_time") >= pl.col("start_date_time")).all()).item()


def test_a_report_written_for_a_timezone_loads_in_it_as_synth_frame(tmp_path: Path) -> None:
    options = {"seed": 4, "start": "2024-03-25", "days": 14}  # Lisbon springs forward on the 31st
    path = ok.synth_report(tmp_path / "r.csv", 5000, timezone="Europe/Lisbon", **options)  # type: ignore[arg-type]
    loaded = ok.load(path, timezone="Europe/Lisbon", cache=False)
    assert loaded.equals(ok.synth_frame(5000, timezone="Europe/Lisbon", **options))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: ok.synth_entries(-1), "n must be"),
        (lambda: ok.synth_entries(10, days=0), "days must be"),
        (lambda: ok.synth_entries(10, start="2024-13-01"), "start: '2024-13-01' is not a date"),
        (lambda: ok.synth_entries(10, customers=0), "customers must be"),
        (lambda: ok.synth_entries(10, timezone="Mars/Olympus"), "not a known IANA timezone"),
        (lambda: ok.synth_report("r.xml", 10), "cannot tell the format"),
        (lambda: ok.synth_report("r.json", 10, format="xml"), "format must be"),
        (lambda: ok.synth_report("r.json", 10, indent=-1), "indent must be"),
        (lambda: ok.synth_reports("d", 10, overlap="a week"), "overlap='a week' is not a dura"),
        (lambda: ok.synth_reports("d", 10, overlap="1 day"), "did you mean '1d'"),
        (lambda: ok.synth_reports("d", 10, overlap="1mo"), "no fixed length"),
        (lambda: ok.synth_reports("d", 10, overlap=-timedelta(1)), "must not be negative"),
        (lambda: ok.synth_reports("d", 10, windows=0), "windows must be"),
    ],
)
def test_bad_arguments_raise_parameter_error(
    call: object, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ok.ParameterError, match=message):
        call()  # type: ignore[operator]
    assert list(tmp_path.iterdir()) == []


def test_command_line_writes_one_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "week.json"
    assert main(["synth", str(path), "--n", "800", "--seed", "3", "--indent", "4"]) == 0
    assert "800 interactions" in capsys.readouterr().out
    assert (
        path.read_bytes()
        == ok.synth_report(tmp_path / "again.json", 800, seed=3, indent=4).read_bytes()
    )


def test_command_line_writes_overlapping_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["synth", str(tmp_path / "data"), "--n", "900", "--windows", "3", "--format", "csv"])
        == 0
    )
    assert len(sorted((tmp_path / "data").glob("*.csv"))) == 3
    tmp_path.joinpath("existing").mkdir()
    assert main(["synth", str(tmp_path / "existing"), "--n", "300"]) == 0
    assert len(list((tmp_path / "existing").glob("*.json"))) == 4
    assert main(["synth", str(tmp_path / "r.xml"), "--n", "10"]) == 2  # a bad argument
    assert "cannot tell the format" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------
# Properties


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    n=st.integers(0, 400),
    seed=st.integers(0, 2**64 - 1),
    days=st.integers(1, 10),
    customers=st.none() | st.integers(1, 50),
    fmt=st.sampled_from(["json", "ndjson", "csv"]),
    indent=st.none() | st.integers(0, 4),
)
def test_any_report_round_trips_through_its_file(
    tmp_path_factory: pytest.TempPathFactory,
    n: int,
    seed: int,
    days: int,
    customers: int | None,
    fmt: str,
    indent: int | None,
) -> None:
    directory = tmp_path_factory.mktemp("prop")
    options = {"seed": seed, "days": days, "customers": customers}
    path = ok.synth_report(directory / f"r.{fmt}", n, format=fmt, indent=indent, **options)  # type: ignore[arg-type]
    raw = ok.synth_entries(n, **options)  # type: ignore[arg-type]
    assert raw.height == n and raw["interaction_id"].n_unique() == n
    start = raw["start_date-time"].str.to_datetime()
    assert start.min() is None or start.min() >= datetime(2024, 9, 2)
    assert start.max() is None or start.max() < datetime(2024, 9, 2) + timedelta(days=days)
    if fmt == "json":
        assert json.loads(path.read_text(encoding="utf-8")) == {
            "entries": raw.to_dicts(),
            "total": n,
        }
    assert ok.load(path, cache=False).equals(ok.synth_frame(n, **options))  # type: ignore[arg-type]
