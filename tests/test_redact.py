"""ok.redact: customer details blanked, pseudonyms kept, frames otherwise unchanged."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

import omnikit as ok


def frame() -> pl.DataFrame:
    """Three interactions of two customers, with every identifying field filled in."""
    schema = ok.canonical_schema("UTC")
    start = dt.datetime(2024, 9, 9, 9, 0, tzinfo=dt.UTC)
    rows = {
        "interaction_id": ["i1", "i2", "i3"],
        "waiting_time": [3, 40, None],
        "start_date_time": [start, start + dt.timedelta(hours=1), start + dt.timedelta(hours=2)],
        "end_date_time": [start + dt.timedelta(minutes=5)] * 3,
        "duration": [300, 20, 0],
        "interaction_type": ["VOICE", "EMAIL", "CHAT"],
        "interaction_status": ["FINISHED", "ABANDONED", "MISSED"],
        "interaction_direction": ["INBOUND"] * 3,
        "agent_type": ["USER", "USER", "VIRTUAL_AGENT"],
        "groups": ["agents", "agents", None],
        "agent_name": ["Agent Smith", "Agent Smith", None],
        "agent_id": ["a1", "a1", "bot"],
        "external_id": ["9", "10", "11"],
        "name": ["Ana Silva", "ANA SILVA", "Bo Li"],
        "contact": ["+1 510 876 9640", "ana@example.com", "(415) 555-0100"],
        "contact_id": ["k1", "k1", "k2"],
        "disposition_name": ["Sale", None, None],
        "transcription_recording": [
            "https://example.talkdesk.com/rec/i1",
            None,
            "https://example.talkdesk.com/chat/i3",
        ],
        "notes": ["called about invoice 42", None, "angry"],
    }
    return pl.DataFrame(rows, schema=schema).with_columns(
        pl.Series("customer_id", ["C-1", "C-1", "C-2"], dtype=pl.String)
    )


def test_identifying_columns_are_blanked_and_pseudonyms_kept():
    df = frame()
    out = ok.redact(df)
    for column in ok.REDACTED_COLUMNS:
        assert out[column].null_count() == out.height, column
    assert out["customer_id"].to_list() == ["C-1", "C-1", "C-2"]
    untouched = [c for c in df.columns if c not in ok.REDACTED_COLUMNS]
    assert out.select(untouched).equals(df.select(untouched))


def test_the_redacted_columns_are_the_customer_details():
    assert set(ok.REDACTED_COLUMNS) == {
        "name",
        "contact",
        "contact_id",
        "transcription_recording",
        "notes",
    }


def test_schema_and_column_order_are_kept():
    df = frame()
    assert ok.redact(df).schema == df.schema


def test_lazy_frames_stay_lazy():
    lazy = frame().lazy()
    out = ok.redact(lazy)
    assert isinstance(out, pl.LazyFrame)
    assert out.collect().equals(ok.redact(frame()))


def test_missing_columns_are_ignored():
    df = pl.DataFrame({"interaction_id": ["i1"], "name": ["Ana"]})
    assert ok.redact(df).to_dicts() == [{"interaction_id": "i1", "name": None}]
    only_ids = pl.DataFrame({"interaction_id": ["i1"]})
    assert ok.redact(only_ids).equals(only_ids)


def test_chosen_columns_only():
    out = ok.redact(frame(), columns=["notes"])
    assert out["notes"].null_count() == 3
    assert out["name"].to_list() == ["Ana Silva", "ANA SILVA", "Bo Li"]


def test_a_single_string_is_not_taken_for_a_list_of_columns():
    with pytest.raises(ok.ParameterError, match="list of column names"):
        ok.redact(frame(), columns="notes")


def test_no_value_of_a_redacted_column_survives_anywhere():
    out = ok.redact(frame())
    text = out.write_csv() + str(out.to_dicts())
    for value in [
        "Ana Silva",
        "ANA SILVA",
        "Bo Li",
        "510 876 9640",
        "ana@example.com",
        "555-0100",
        "k1",
        "k2",
        "rec/i1",
        "invoice 42",
        "angry",
    ]:
        assert value not in text
