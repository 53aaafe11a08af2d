"""The report notebooks: committed clean, parameterized, and right when run with papermill.

Every notebook is executed once (module fixture) with ``ok.render_report`` on a small synthetic
report whose customers' names, phones and e-mails are known. The tests then check what the
notebooks recorded (``ok.read_results``) against omnikit's functions called directly on the same
data and against plain polars counts, and search the executed ``.ipynb`` and the ``.html`` for
every customer detail in every way it could be written.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
import re
import zoneinfo
from pathlib import Path

import nbformat
import phonenumbers
import polars as pl
import pytest

import omnikit as ok

pytestmark = pytest.mark.slow

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
NAMES = ["channel_mix", "journeys", "wait_times", "weekly_report"]
TIMEZONE = "America/New_York"

# Customers whose details the leak test searches for. Their interactions are spread over both
# weeks and several channels, so they form journeys and appear in every section.
KNOWN = [
    ("Zebulon Quimby", "+1 415 555 0199", "Zebulon.Quimby@Example.org"),
    ("Henrietta Vasquez-Oyelaran", "(646) 555-0142", "h.vasquez@Mailbox-Test.NET"),
    ("Þórunn Ægisdóttir", "+44 20 7946 0321", "thorunn@example.co.uk"),
]
PHONE_WRITINGS = [
    phonenumbers.PhoneNumberFormat.E164,
    phonenumbers.PhoneNumberFormat.INTERNATIONAL,
    phonenumbers.PhoneNumberFormat.NATIONAL,
]
# Per-channel thresholds, as a mapping (the weekly report gets one number for every channel).
WAIT_THRESHOLDS = {"VOICE": 30, "CHAT": "90s", "*": "2h"}
SECRETS = {
    "TALKDESK_ACCOUNT": "leak-account-7731",
    "TALKDESK_CLIENT_ID": "leak-client-id-5519",
    "TALKDESK_CLIENT_SECRET": "leak-client-secret-0b9f2e",
}


def report_entries(n: int = 1800, seed: int = 11) -> pl.DataFrame:
    """Two weeks of synthetic report entries; the first rows belong to the KNOWN customers."""
    entries = ok.synth_entries(n, seed=seed, start="2024-09-02", days=14, timezone=TIMEZONE)
    rows = entries.height
    index = pl.int_range(rows, eager=True)
    who = index % len(KNOWN)
    known = index < 240
    phone_forms = [
        lambda p: p,
        lambda p: phonenumbers.format_number(
            phonenumbers.parse(p, "US"), phonenumbers.PhoneNumberFormat.E164
        ),
        lambda p: phonenumbers.format_number(
            phonenumbers.parse(p, "US"), phonenumbers.PhoneNumberFormat.NATIONAL
        ),
    ]
    names, contacts, contact_ids, recordings, notes = [], [], [], [], []
    for i, (w, is_known) in enumerate(zip(who, known, strict=False)):
        name, phone, email = KNOWN[w]
        channel = entries["interaction_type"][i]
        names.append((name, name.upper(), name.lower())[i % 3] if is_known else entries["name"][i])
        if is_known:
            contacts.append(
                (email, email.upper())[i % 2] if channel == "EMAIL" else phone_forms[i % 3](phone)
            )
        else:
            contacts.append(entries["contact"][i])
        contact_ids.append(f"LEAKCID{w:02d}" if is_known else entries["contact_id"][i])
        recordings.append(
            f"https://leak-check.mytalkdesk.com/rec/LEAKREC{i:05d}"
            if is_known
            else entries["transcription-recording"][i]
        )
        notes.append(
            f"LEAKNOTE: {name} says her card ends 4242" if is_known else entries["notes"][i]
        )
    return entries.with_columns(
        pl.Series("name", names),
        pl.Series("contact", contacts),
        pl.Series("contact_id", contact_ids),
        pl.Series("transcription-recording", recordings),
        pl.Series("notes", notes),
    )


def written_forms() -> set[str]:
    """Every way a KNOWN detail could be written, plus the other identifying values."""
    forms: set[str] = set()
    for name, phone, email in KNOWN:
        forms |= {name, name.upper(), name.lower(), name.casefold(), name.split()[-1]}
        number = phonenumbers.parse(phone, "US")
        for style in PHONE_WRITINGS:
            text = phonenumbers.format_number(number, style)
            forms |= {text, text.replace(" ", "-")}
        national = str(number.national_number)
        forms |= {national, f"{number.country_code}{national}", phone}
        forms |= {email, email.lower(), email.upper(), email.split("@")[0].lower()}
    forms |= {"LEAKCID", "LEAKREC", "LEAKNOTE", "leak-check.mytalkdesk", "card ends 4242"}
    return forms


def texts_of(notebook: Path, page: Path) -> dict[str, str]:
    """The executed notebook and the page as searchable text, escapes undone."""
    raw_nb = notebook.read_text(encoding="utf-8")
    strings: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, str):
            strings.append(node)
        elif isinstance(node, dict):
            for key, value in node.items():
                strings.append(str(key))
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(raw_nb))
    raw_page = page.read_text(encoding="utf-8")
    # The Vega bundle is the same third-party code on every page; it cannot hold report data.
    page_data = re.sub(
        r'<script[^>]*id="omnikit-vega-bundle"[^>]*>.*?</script>', "", raw_page, flags=re.S
    )
    assert len(page_data) < len(raw_page) or "omnikit-chart-spec" not in raw_page
    return {
        f"{notebook.name}": raw_nb + "\n".join(strings),
        f"{page.name}": page_data + html.unescape(page_data),
    }


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("data") / "erc_omnichannel_report.json"
    entries = report_entries()
    path.write_text(
        json.dumps({"entries": entries.to_dicts(), "total": entries.height}), encoding="utf-8"
    )
    return path


@pytest.fixture(scope="module")
def rendered(source, tmp_path_factory) -> dict[str, ok.RenderedReport]:
    out = tmp_path_factory.mktemp("reports")
    with pytest.MonkeyPatch.context() as patch:
        for key, value in SECRETS.items():
            patch.setenv(key, value)
        return {
            name: ok.render_report(
                name, source=[source], timezone=TIMEZONE, out=out, parameters=extra
            )
            for name, extra in {
                "channel_mix": {"every": "1d"},
                "journeys": {"gap": "24h", "window": "7d", "top_n": 5},
                "wait_times": {
                    "thresholds": WAIT_THRESHOLDS,
                    "targets": '{"VOICE": 0.75, "*": 0.8}',
                },
                "weekly_report": {"thresholds": 30, "targets": 0.85, "gap": "24h"},
            }.items()
        }


@pytest.fixture(scope="module")
def direct(source) -> ok.ReportData:
    """The same data the notebooks computed on, prepared in this process."""
    return ok.report_data(source, timezone=TIMEZONE)


def close(recorded: object, expected: object, path: str = "") -> None:
    """Recorded JSON equals a direct result (floats to 1e-9)."""
    if isinstance(expected, pl.DataFrame):
        expected = json.loads(json.dumps(expected.to_dicts(), default=str))
    if isinstance(expected, float) and math.isnan(expected):
        expected = None
    if isinstance(expected, dict):
        assert isinstance(recorded, dict) and set(recorded) == set(expected), path
        for key in expected:
            close(recorded[key], expected[key], f"{path}.{key}")
    elif isinstance(expected, list):
        assert isinstance(recorded, list) and len(recorded) == len(expected), path
        for i, (r, e) in enumerate(zip(recorded, expected, strict=False)):
            close(r, e, f"{path}[{i}]")
    elif isinstance(expected, float) and recorded is not None:
        assert recorded == pytest.approx(expected, rel=1e-9, abs=1e-12), path
    else:
        assert recorded == expected, path


# ------------------------------------------------------------------------------------------------
# The committed notebooks


@pytest.mark.parametrize("name", NAMES)
def test_committed_without_outputs(name):
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{name}: cell {cell.get('id')} has outputs"
            assert cell.execution_count is None, (
                f"{name}: cell {cell.get('id')} has an execution count"
            )
    assert "papermill" not in nb.metadata
    assert nb.metadata.kernelspec.name == "omnikit"


@pytest.mark.parametrize("name", NAMES)
def test_exactly_one_parameters_cell_with_typed_documented_parameters(name):
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    tagged = [cell for cell in nb.cells if "parameters" in cell.metadata.get("tags", [])]
    assert len(tagged) == 1
    parameters = ok.list_reports()[name]
    assert {"source", "start", "end", "timezone", "redact"} <= set(parameters)
    for key, info in parameters.items():
        assert info["type"] != "None", f"{name}.{key} has no type"
        assert info["help"], f"{name}.{key} has no comment"
    assert not any(
        re.search(r"secret|token|password|client_id|credential", key) for key in parameters
    )


@pytest.mark.parametrize("name", NAMES)
def test_notebooks_are_thin(name):
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    code = [
        cell.source
        for cell in nb.cells
        if cell.cell_type == "code" and "parameters" not in cell.metadata.get("tags", [])
    ]
    prose = [cell.source for cell in nb.cells if cell.cell_type == "markdown"]
    assert len(prose) >= len(code) // 2, "each figure is explained"
    for source in code:
        assert not re.search(r"^\s*(def|class|for|while|with)\b", source, flags=re.M), source
        assert len(source.splitlines()) <= 14


def test_the_reports_are_the_four_notebooks():
    assert sorted(ok.list_reports()) == NAMES


# ------------------------------------------------------------------------------------------------
# Executed: what the notebooks recorded


def test_channel_mix_records_the_mix_of_the_period(rendered, direct, source):
    results = rendered["channel_mix"].results()
    close(
        results["channel_mix"], ok.channel_mix(direct.frame).sort("interactions", descending=True)
    )
    loaded = ok.load(source, timezone=TIMEZONE)
    assert results["interactions"] == loaded.height  # the whole file is the default period
    assert results["period"] == "2024-09-02 to 2024-09-15"
    shares = sum(row["share"] for row in results["channel_mix"])
    assert shares == pytest.approx(1.0)


def test_wait_times_records_service_level_and_waits_with_the_parameters(rendered, direct):
    results = rendered["wait_times"].results()
    close(results["service_level"], ok.service_level(direct.frame, threshold=WAIT_THRESHOLDS))
    targets = {"VOICE": 0.75, "*": 0.8}
    close(
        results["channels"],
        ok.channel_numbers(direct.frame, threshold=WAIT_THRESHOLDS, targets=targets),
    )
    assert rendered["wait_times"].parameters["thresholds"] == WAIT_THRESHOLDS
    assert rendered["wait_times"].parameters["targets"] == targets  # from JSON text
    # waits cover INBOUND interactions only, counted by hand
    inbound = direct.frame.filter(pl.col("interaction_direction") == "INBOUND")
    close(results["wait_time_stats"], ok.wait_time_stats(inbound))
    counts = {row["interaction_type"]: row["n"] for row in results["wait_time_stats"]}
    by_hand = dict(
        inbound.filter(pl.col("waiting_time").is_not_null())
        .group_by("interaction_type")
        .len()
        .iter_rows()
    )
    assert counts == by_hand and sum(counts.values()) < direct.frame.height
    thresholds = {row["interaction_type"]: row["threshold"] for row in results["channels"]}
    assert thresholds["VOICE"] == 30 and thresholds["CHAT"] == 90 and thresholds["EMAIL"] == 7200


def test_journeys_records_journeys_paths_and_repeats(rendered, direct):
    results = rendered["journeys"].results()
    trips = ok.journeys(direct.frame, gap="24h")
    assert results["journeys"] == trips.height
    assert results["customers"] == direct.frame["customer_id"].n_unique()
    close(results["top_paths"], ok.top_paths(direct.frame, n=5, gap="24h"))
    close(results["transitions"], ok.channel_transitions(direct.frame, gap="24h"))
    close(
        results["repeat_contacts"],
        ok.repeat_contacts(direct.frame, window="7d", by="interaction_type"),
    )
    close(results["journey_flow"], ok.journey_flow(trips, steps=4))
    close(
        results["bot_containment"],
        ok.bot_containment(direct.frame, gap="24h", by="first_channel"),
    )


def test_weekly_report_compares_the_last_week_with_the_one_before(rendered, source):
    results = rendered["weekly_report"].results()
    weekly = ok.report_data(source, timezone=TIMEZONE, compare=True)
    assert results["period"] == "2024-09-09 to 2024-09-15"
    assert results["previous_period"] == "2024-09-02 to 2024-09-08"
    options = {
        "threshold": 30,
        "short_abandon": 5,
        "formula": "talkdesk",
        "gap": "24h",
        "window": "7d",
    }
    close(results["headline"], ok.headline_numbers(weekly.frame, **options))
    close(results["headline_previous"], ok.headline_numbers(weekly.previous, **options))
    channels = ok.channel_numbers(weekly.frame, threshold=30, targets=0.85)
    close(results["channels"], channels)
    close(
        results["channels_previous"],
        ok.channel_numbers(weekly.previous, threshold=30, targets=0.85),
    )
    close(results["journey_flow"], ok.journey_flow(ok.journeys(weekly.frame, gap="24h"), steps=4))
    # the summary is written from those numbers: every channel that missed its target is named
    summary = results["summary"]
    assert summary == ok.weekly_summary(
        results["headline"],
        results["headline_previous"],
        channels,
        ok.channel_numbers(weekly.previous, threshold=30, targets=0.85),
        period="week",
    )
    missed = channels.filter(pl.col("service_level") < 0.85)["interaction_type"].to_list()
    assert f"**{len(missed)} of {channels.height} channels missed" in summary
    for channel in missed:
        assert ok.escape_text(channel) in summary

    # and by hand: interactions that start in each week, in the report's timezone
    loaded = ok.load(source, timezone=TIMEZONE)
    tz = zoneinfo.ZoneInfo(TIMEZONE)

    def week(a, b):
        return loaded.filter(
            pl.col("start_date_time").is_between(
                dt.datetime(2024, 9, a, tzinfo=tz),
                dt.datetime(2024, 9, b, tzinfo=tz),
                closed="left",
            )
        ).height

    assert results["headline"]["interactions"] == week(9, 16)
    assert results["headline_previous"]["interactions"] == week(2, 9)
    assert week(2, 9) + week(9, 16) == loaded.height
    mix = {row["interaction_type"]: row for row in results["channel_mix"]}
    for row in mix.values():
        if row["interactions"] is not None and row["interactions_previous"]:
            assert row["interactions_change"] == row["interactions"] - row["interactions_previous"]


def test_notebooks_time_their_own_computations(rendered):
    for name, report in rendered.items():
        seconds = report.results()["compute_seconds"]
        assert 0 < seconds < report.seconds, name


# ------------------------------------------------------------------------------------------------
# Executed: nothing about a customer leaks


@pytest.fixture(scope="module")
def customer_details(source) -> set[str]:
    """Every customer detail of the data, as written and in its other written forms."""
    loaded = ok.load(source, timezone=TIMEZONE)
    values = set(written_forms())
    for column, shortest in (
        ("name", 6),
        ("contact", 8),
        ("contact_id", 6),
        ("transcription_recording", 10),
        ("notes", 8),
    ):
        values |= {
            v.strip() for v in loaded[column].drop_nulls().unique() if len(v.strip()) >= shortest
        }
    for contact in loaded["contact"].drop_nulls().unique():
        try:
            number = phonenumbers.parse(contact, "US")
        except phonenumbers.NumberParseException:
            continue
        values.add(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
        values.add(str(number.national_number))
    assert len(values) > 100
    return {value.casefold() for value in values}


@pytest.mark.parametrize("name", NAMES)
def test_no_customer_detail_in_the_notebook_or_the_page(rendered, customer_details, name):
    report = rendered[name]
    for where, text in texts_of(report.notebook, report.html).items():
        folded = text.casefold()
        found = sorted(v for v in customer_details if v in folded)
        assert found == [], f"{where} shows customer details: {found[:10]}"


@pytest.mark.parametrize("name", NAMES)
def test_no_credential_from_the_environment_leaks(rendered, name):
    report = rendered[name]
    for where, text in texts_of(report.notebook, report.html).items():
        for key, secret in SECRETS.items():
            assert secret not in text, f"{key} in {where}"


def test_redaction_is_recorded_in_the_parameters(rendered):
    for report in rendered.values():
        nb = nbformat.read(report.notebook, as_version=4)
        assert nb.metadata.papermill.parameters["redact"] is True
