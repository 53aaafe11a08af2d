"""ok.render_report, ok.list_reports and the `omnikit report` / `omnikit demo` commands.

Parameter checks run before any kernel starts, so those tests are fast. Execution tests use
tiny notebooks of their own (a failing cell, a cell that runs too long, the kernel fallback)
and one real report; ``tests/test_notebooks.py`` runs every report notebook in depth.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import polars as pl
import pytest

import omnikit as ok
import omnikit._parameters as parameters_module
import omnikit._render as render_module
import omnikit._results as results_module
from omnikit.cli import main

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("data")
    ok.synth_reports(folder, 600, seed=5, start="2024-09-02", days=14, windows=2)
    return folder


def tiny_notebook(folder: Path, name: str, *cells: str) -> Path:
    """A report notebook with the standard parameters and the given code cells."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "omnikit",
        "language": "python",
        "display_name": "Python (omnikit)",
    }
    params = nbformat.v4.new_code_cell(
        "from typing import Optional, Union\n"
        "source: Union[str, list[str], None] = None  # data\n"
        "start: Optional[str] = None  # first day\n"
        "end: Optional[str] = None  # end, excluded\n"
        'timezone: str = "UTC"  # timezone\n'
        "redact: bool = True  # redact\n"
        "threshold: int = 20  # seconds\n"
    )
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {name}"), params] + [
        nbformat.v4.new_code_cell(c) for c in cells
    ]
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / f"{name}.ipynb")
    return folder


@pytest.fixture
def tiny_reports(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "notebooks"
    tiny_notebook(
        folder,
        "broken",
        "x = 1",
        "import sys\nprint('before the error')",
        "raise ValueError('boom: the data is odd')",
        "y = 2",
    )
    tiny_notebook(folder, "slow", "import time", "time.sleep(60)")
    tiny_notebook(
        folder,
        "where",
        "import sys\nimport omnikit as ok\n"
        "ok.record_results(executable=sys.executable, threshold=threshold, start=start, "
        "source=source, redact=redact)",
    )
    monkeypatch.setattr(parameters_module, "_notebook_dirs", lambda: [folder])
    return folder


# ------------------------------------------------------------------------------------------------
# Listing and checking parameters (no kernel)


def test_list_reports_names_each_report_and_its_parameters():
    reports = ok.list_reports()
    assert sorted(reports) == ["channel_mix", "journeys", "wait_times", "weekly_report"]
    thresholds = reports["weekly_report"]["thresholds"]
    assert thresholds == {
        "type": "Union[float, str, dict, None]",
        "default": "None",
        "help": thresholds["help"],
    }
    assert "ok.DEFAULT_THRESHOLDS" in thresholds["help"] and "VOICE" in thresholds["help"]
    assert reports["wait_times"]["targets"]["default"] == "0.8"
    assert reports["journeys"]["gap"]["default"] == '"24h"'


def test_command_line_lists_reports(capsys):
    assert main(["report", "--list"]) == 0
    out = capsys.readouterr().out
    for name in ok.list_reports():
        assert f"\n{name}\n" in f"\n{out}"
    assert "thresholds" in out and "Union[float, dict] = 0.8" in out


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"parameters": {"treshold": 30}},
            r"has no parameter 'treshold'; its parameters are: source, start",
        ),
        ({"start": "2024-13-45"}, r"start: '2024-13-45' is not a date"),
        ({"end": "next tuesday"}, r"end: 'next tuesday' is not a date"),
        ({"start": "2024-09-10", "end": "2024-09-03"}, r"must be before end"),
        ({"timezone": "Mars/Olympus"}, r"'Mars/Olympus' is not a known IANA timezone"),
        ({"parameters": {"thresholds": "twenty"}}, r"'thresholds'='twenty' is not a duration"),
        ({"parameters": {"thresholds": -1}}, r"a number of seconds >= 0"),
        (
            {"parameters": {"thresholds": '{"VOICE": 30, "*": "soon"}'}},
            r"parameter 'thresholds' entry '\*'.*'soon' is not a duration",
        ),
        ({"parameters": {"thresholds": '{"VOICE": 30'}}, r"is not valid JSON"),
        ({"parameters": {"thresholds": "[20, 30]"}}, r"expected a mapping from channel"),
        ({"parameters": {"targets": '{"VOICE": 1.5}'}}, r"'targets' entry 'VOICE'.*between 0"),
        ({"parameters": {"targets": "high"}}, r"expected a JSON object"),
        ({"parameters": {"short_abandon": -1}}, r"must not be negative"),
        ({"parameters": {"gap": "a day"}}, r"'a day' is not a duration"),
        ({"parameters": {"targets": 80}}, r"share between 0 and 1"),
        ({"parameters": {"redact": False}}, r"pass redact as render_report arguments"),
        ({"source": ["/no/such/report.json"]}, r"'/no/such/report.json' does not exist"),
    ],
)
def test_bad_parameters_are_refused_before_a_kernel_starts(tmp_path, kwargs, message):
    with pytest.raises(ok.ParameterError, match=message):
        ok.render_report("weekly_report", out=tmp_path, **kwargs)
    assert list(tmp_path.iterdir()) == []  # nothing executed, nothing written


def test_the_old_threshold_and_target_parameters_still_work_with_a_warning():
    declared = ok.list_reports()["wait_times"]
    with pytest.warns(DeprecationWarning) as caught:
        checked = parameters_module._validate(
            "wait_times", {"threshold": "30", "target": "0.9"}, declared
        )
    assert checked == {"thresholds": 30, "targets": 0.9}
    assert sorted(str(w.message).split(" (")[0] for w in caught) == [
        "report parameter 'target' is now 'targets'",
        "report parameter 'threshold' is now 'thresholds'",
    ]


def test_an_unknown_report_names_the_known_ones(tmp_path):
    with pytest.raises(
        ok.ParameterError, match="no report named 'weekly'; the reports are: channel_mix, journeys"
    ):
        ok.render_report("weekly", out=tmp_path)


def test_command_line_errors_are_one_clear_line(tmp_path, capsys):
    code = main(["report", "wait_times", "--out", str(tmp_path), "-p", "thresholds", "soon"])
    assert code == 2  # a bad argument (the exit-status table)
    err = capsys.readouterr().err
    assert err.startswith("omnikit report: error: parameter 'thresholds'='soon' is not")
    assert main(["report", "wait_times", "-p", "gap", "1h", "-p", "gap", "2h"]) == 2
    assert "given twice" in capsys.readouterr().err


def test_command_line_values_are_converted_to_the_declared_types():
    declared = ok.list_reports()["weekly_report"]
    checked = parameters_module._validate(
        "weekly_report",
        {
            "thresholds": '{"VOICE": 30, "*": "4h"}',
            "targets": "0.85",
            "short_abandon": "none",
            "redact": "false",
            "start": "2024-09-09",
            "timezone": "Europe/Lisbon",
        },
        declared,
    )
    assert checked == {
        "thresholds": {"VOICE": 30, "*": "4h"},
        "targets": 0.85,
        "short_abandon": None,
        "redact": False,
        "start": "2024-09-09T00:00:00+01:00",
        "timezone": "Europe/Lisbon",
    }


# ------------------------------------------------------------------------------------------------
# Execution


@pytest.mark.slow
def test_a_failing_cell_names_notebook_cell_and_exception_and_keeps_the_notebook(
    tiny_reports, tmp_path
):
    with pytest.raises(ok.ReportExecutionError) as caught:
        ok.render_report("broken", out=tmp_path / "out")
    error = caught.value
    assert error.notebook == "broken"
    assert error.ename == "ValueError" and error.evalue == "boom: the data is odd"
    kept = nbformat.read(error.output_path, as_version=4)
    failing = kept.cells[error.cell]
    assert failing.source == "raise ValueError('boom: the data is odd')"
    assert any(output.get("ename") == "ValueError" for output in failing.outputs)
    assert "report 'broken' (broken.ipynb) failed in cell" in str(error)
    assert "ValueError: boom: the data is odd" in str(error) and str(error.output_path) in str(
        error
    )
    assert not (tmp_path / "out" / "broken.html").exists()
    assert kept.cells[error.cell + 1].get("outputs", []) == []  # nothing ran after the failure


@pytest.mark.slow
def test_a_cell_that_runs_too_long_is_stopped(tiny_reports, tmp_path):
    with pytest.raises(ok.ReportExecutionError, match="ran longer than 2 s") as caught:
        ok.render_report("slow", out=tmp_path, timeout=2)
    kept = nbformat.read(caught.value.output_path, as_version=4)
    assert kept.cells[caught.value.cell].source == "time.sleep(60)"


@pytest.mark.slow
def test_without_the_omnikit_kernel_this_interpreter_runs_the_report(
    tiny_reports, tmp_path, monkeypatch, source
):
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    real = KernelSpecManager.get_kernel_spec

    def missing_omnikit(self, name):
        if name == "omnikit":
            raise NoSuchKernel(name)
        return real(self, name)

    monkeypatch.setattr(KernelSpecManager, "get_kernel_spec", missing_omnikit)
    report = ok.render_report(
        "where", source=[source], start="2024-09-03", out=tmp_path, parameters={"threshold": "45"}
    )
    results = report.results()
    assert Path(results["executable"]).resolve() == Path(sys.executable).resolve()
    assert results["threshold"] == 45
    assert results["start"] == "2024-09-03T00:00:00+00:00"
    assert results["source"] == [str(source.resolve())]
    assert results["redact"] is True
    assert report.html == tmp_path / "where.html" and report.html.exists()


@pytest.mark.slow
def test_sources_is_the_deprecated_name_of_source(tiny_reports, tmp_path, source):
    with pytest.warns(DeprecationWarning, match="sources= is now called source=") as caught:
        report = ok.render_report("where", sources=source, out=tmp_path)
    assert caught[0].filename == __file__
    assert report.results()["source"] == [str(source.resolve())]
    with pytest.raises(ok.ParameterError, match="give source= only"):
        ok.render_report("where", source=source, sources=source, out=tmp_path)


@pytest.mark.slow
def test_command_line_renders_a_report_and_no_redact_shows_customers(source, tmp_path, capsys):
    out = tmp_path / "reports"
    code = main(
        [
            "report",
            "journeys",
            "--source",
            str(source),
            "--start",
            "2024-09-02",
            "--end",
            "2024-09-09",
            "--timezone",
            "UTC",
            "--out",
            str(out),
            "-p",
            "gap",
            "12h",
            "-p",
            "top_n",
            "3",
            "--no-redact",
        ]
    )
    assert code == 0
    printed = capsys.readouterr()
    assert printed.out.split() == [str(out / "journeys.ipynb"), str(out / "journeys.html")]
    assert "not redacted" in printed.err
    results = ok.read_results(out / "journeys.ipynb")
    assert results["period"] == "2024-09-02 to 2024-09-08"
    loaded = ok.load(source)
    week = loaded.filter(pl.col("start_date_time").dt.date() < pl.date(2024, 9, 9))
    assert results["interactions"] == week.height
    assert len(results["top_paths"]) == 3
    nb = nbformat.read(out / "journeys.ipynb", as_version=4)
    assert (
        nb.metadata.papermill.parameters["gap"] == "12h"
        and nb.metadata.papermill.parameters["redact"] is False
    )
    # internal use: the example journey names its customer
    page = (out / "journeys.html").read_text(encoding="utf-8")
    names = {n.strip() for n in week["name"].drop_nulls().unique() if len(n.strip()) > 4}
    assert any(name in page for name in names)
    assert "Not redacted" in page


@pytest.mark.slow
def test_demo_makes_sample_data_and_renders_every_report(tmp_path, monkeypatch, capsys):
    calls = []

    def render(name, **kwargs):  # the rendering itself is tested above and in test_notebooks.py
        calls.append((name, kwargs))
        return render_module.RenderedReport(
            name,
            Path(kwargs["out"]) / f"{name}.ipynb",
            Path(kwargs["out"]) / f"{name}.html",
            {},
            0.0,
        )

    monkeypatch.setattr(render_module, "render_report", render)
    data, out = tmp_path / "data", tmp_path / "reports"
    code = main(
        [
            "demo",
            "--data",
            str(data),
            "--out",
            str(out),
            "--rows",
            "800",
            "--timezone",
            "Europe/Lisbon",
        ]
    )
    assert code == 0
    assert [name for name, _ in calls] == list(ok.list_reports())
    assert all(
        kwargs == {"source": [data], "timezone": "Europe/Lisbon", "out": str(out)}
        for _, kwargs in calls
    )
    loaded = ok.load(data, timezone="Europe/Lisbon")
    assert loaded.height == 800 and loaded["interaction_id"].n_unique() == 800
    printed = capsys.readouterr().out
    assert "sample data: 800 interactions" in printed and str(out / "weekly_report.html") in printed


# ------------------------------------------------------------------------------------------------
# The notebooks ship in the wheel


@pytest.mark.slow
def test_a_built_wheel_contains_the_notebooks_and_finds_them(tmp_path):
    tree = tmp_path / "tree"
    shutil.copytree(
        ROOT,
        tree,
        symlinks=True,
        ignore=shutil.ignore_patterns(
            ".venv",
            ".git",
            "reports",
            "data",
            "build",
            "*.egg-info",
            "__pycache__",
            ".pytest_cache",
            ".hypothesis",
        ),
    )
    # pip builds in an isolated environment with the build requirements of pyproject.toml
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            ".",
            "--no-deps",
            "-q",
            "-w",
            str(tmp_path / "dist"),
        ],
        cwd=tree,
        capture_output=True,
        text=True,
    )
    if built.returncode and re.search(
        r"NewConnectionError|Could not find a version|ProxyError|Temporary failure", built.stderr
    ):
        pytest.skip(
            "the build requirements could not be downloaded: "
            f"{built.stderr.strip().splitlines()[-1]}"
        )
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "dist").glob("omnikit-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for report in ok.list_reports():
        assert f"omnikit/notebooks/{report}.ipynb" in names
    installed = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(installed)
    found = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json, omnikit._parameters as r; "
            "print(json.dumps({k: str(v) for k, v in r._notebooks().items()}))",
        ],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(installed)},
        check=True,
        capture_output=True,
        text=True,
    )
    paths = json.loads(found.stdout)
    assert sorted(paths) == sorted(ok.list_reports())
    assert all(Path(p).is_relative_to(installed) for p in paths.values())
    # papermill finds omnikit's engine through the wheel's entry point, before omnikit is imported
    engine = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from papermill.engines import papermill_engines as e; "
            "engine = e.get_engine('omnikit'); print(engine.__module__, engine.__qualname__)",
        ],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(installed)},
        check=True,
        capture_output=True,
        text=True,
    )
    assert engine.stdout.split() == ["omnikit._engine", "KeepOnErrorEngine"]


# ------------------------------------------------------------------------------------------------
# The helpers the notebooks call


def entries_frame(rows: list[tuple[str, str | None, str, str | None]]) -> dict:
    """A vendor envelope: (interaction id, start "YYYY-MM-DD HH:MM:SS" or None, channel, phone)."""
    entries = []
    for interaction_id, start, channel, phone in rows:
        entries.append(
            {
                "interaction_id": interaction_id,
                "waiting_time": 10,
                "start_date-time": start or "",
                "end_date-time": start or "",
                "duration": 60,
                "interaction_type": channel,
                "interaction_status": "FINISHED",
                "interaction_direction": "INBOUND",
                "agent_type": "USER",
                "groups": "",
                "agent_name": "",
                "agent_id": "",
                "external_id": "",
                "name": "Ana Lima",
                "contact": phone or "",
                "contact_id": "",
                "disposition_name": "",
                "transcription-recording": "",
                "notes": "",
            }
        )
    return {"entries": entries, "total": len(entries)}


@pytest.fixture
def two_weeks(tmp_path) -> Path:
    rows = [
        ("a", "2024-09-02 10:00:00", "VOICE", "(510) 876-9640"),  # Monday, week 1
        ("b", "2024-09-08 23:59:59", "EMAIL", "+1 510 876 9640"),  # Sunday, week 1: same customer
        ("c", "2024-09-09 00:00:00", "CHAT", "510-876-9640"),  # Monday, week 2: same customer
        ("d", "2024-09-12 08:00:00", "VOICE", "(415) 555-0100"),
        ("e", "2024-09-15 18:00:00", "SMS", None),
    ]
    path = tmp_path / "report.json"
    path.write_text(json.dumps(entries_frame(rows)), encoding="utf-8")
    return path


def test_report_data_defaults_to_the_days_of_the_data(two_weeks):
    data = ok.report_data(two_weeks)
    assert data.period == "2024-09-02 to 2024-09-15"
    assert data.frame["interaction_id"].to_list() == ["a", "b", "c", "d", "e"]
    assert data.previous is None and data.loaded == 5


def test_report_data_compares_the_last_seven_days_with_the_seven_before(two_weeks):
    data = ok.report_data(two_weeks, compare=True)
    assert (data.period, data.previous_period) == (
        "2024-09-09 to 2024-09-15",
        "2024-09-02 to 2024-09-08",
    )
    assert data.frame["interaction_id"].to_list() == ["c", "d", "e"]
    assert data.previous["interaction_id"].to_list() == ["a", "b"]
    # one customer across both periods: the same pseudonym on both sides
    assert data.previous["customer_id"].n_unique() == 1
    assert (
        data.frame.filter(pl.col("interaction_id") == "c")["customer_id"][0]
        == data.previous["customer_id"][0]
    )


def test_report_data_start_and_end(two_weeks):
    data = ok.report_data(two_weeks, start="2024-09-08", end="2024-09-09T00:00:01")
    assert data.frame["interaction_id"].to_list() == ["b", "c"]  # start included, end excluded
    assert data.period == "2024-09-08T00:00+00:00 to 2024-09-09T00:00+00:00 (end excluded)"
    week = ok.report_data(two_weeks, start="2024-09-03", compare=True)
    assert week.period == "2024-09-03 to 2024-09-09" and week.frame["interaction_id"].to_list() == [
        "b",
        "c",
    ]
    lisbon = ok.report_data(
        two_weeks, start="2024-09-09", end="2024-09-10", timezone="Europe/Lisbon"
    )
    assert lisbon.start.utcoffset().total_seconds() == 3600 and lisbon.frame[
        "interaction_id"
    ].to_list() == ["c"]


def test_report_data_redacts_unless_asked_not_to(two_weeks):
    data = ok.report_data(two_weeks)
    assert (
        data.redacted
        and data.frame["name"].null_count() == 5
        and data.frame["contact"].null_count() == 5
    )
    assert data.frame["customer_id"].n_unique() == 3  # linked before the contacts were blanked
    plain = ok.report_data(two_weeks, redact=False)
    assert plain.frame["name"].to_list() == ["Ana Lima"] * 5
    assert "Privacy" in data._repr_markdown_() and "Not redacted" in plain._repr_markdown_()


def test_report_data_says_how_many_interactions_have_no_start(tmp_path):
    path = tmp_path / "report.json"
    path.write_text(
        json.dumps(
            entries_frame(
                [("a", "2024-09-02 10:00:00", "VOICE", None), ("b", "not a date", "CHAT", None)]
            )
        )
    )
    with pytest.warns(ok.DataQualityWarning) as caught:
        data = ok.report_data(path)
    assert any("1 of 2 interactions have no start_date_time" in str(w.message) for w in caught)
    assert data.frame["interaction_id"].to_list() == ["a"]


def test_report_data_without_a_source_makes_sample_data():
    data = ok.report_data(None, sample_rows=300, seed=3)
    assert (
        data.loaded == 300
        and data.source_label == "sample data (300 synthetic interactions, seed 3)"
    )


def test_report_data_checks_its_arguments(two_weeks):
    with pytest.raises(ok.ParameterError, match="not a date"):
        ok.report_data(two_weeks, start="someday")
    with pytest.raises(ok.ParameterError, match="must be before end"):
        ok.report_data(two_weeks, start="2024-09-10", end="2024-09-09")
    with pytest.raises(ok.ParameterError, match="not a known IANA timezone"):
        ok.report_data(two_weeks, timezone="Lisbon")


def test_compare_periods_puts_each_key_beside_its_previous_value():
    now = pl.DataFrame({"channel": ["VOICE", "CHAT"], "n": [30, 10], "share": [0.75, 0.25]})
    before = pl.DataFrame({"channel": ["VOICE", "SMS"], "n": [20, 5], "share": [0.8, 0.2]})
    out = ok.compare_periods(now, before, on="channel").sort("channel")
    assert out.columns == [
        "channel",
        "n",
        "n_previous",
        "n_change",
        "n_change_rel",
        "share",
        "share_previous",
        "share_change",
        "share_change_rel",
    ]
    rows = {row["channel"]: row for row in out.to_dicts()}
    assert rows["VOICE"]["n_change"] == 10 and rows["VOICE"]["n_change_rel"] == pytest.approx(0.5)
    assert rows["VOICE"]["share_change"] == pytest.approx(-0.05)
    assert rows["CHAT"]["n_previous"] is None and rows["CHAT"]["n_change"] is None  # new this week
    assert (
        rows["SMS"]["n"] is None and rows["SMS"]["n_previous"] == 5
    )  # gone this week, still shown
    assert ok.compare_periods(now, before, on="channel", values=["n"], relative=False).columns == [
        "channel",
        "n",
        "n_previous",
        "n_change",
    ]


def test_compare_periods_of_numbers_and_of_nothing_before():
    out = ok.compare_periods(
        {"interactions": 120, "service_level": 0.8}, {"interactions": 0, "service_level": 0.5}
    )
    assert out.to_dicts() == [
        {
            "metric": "interactions",
            "value": 120.0,
            "value_previous": 0.0,
            "value_change": 120.0,
            "value_change_rel": None,
        },
        {
            "metric": "service_level",
            "value": 0.8,
            "value_previous": 0.5,
            "value_change": pytest.approx(0.3),
            "value_change_rel": pytest.approx(0.6),
        },
    ]
    alone = ok.compare_periods({"interactions": 7}, None)
    assert alone.row(0) == ("interactions", 7.0, None, None, None)
    with pytest.raises(ok.ParameterError, match="two dicts or two frames"):
        ok.compare_periods({"a": 1}, pl.DataFrame({"a": [1]}))


def test_median_patience_is_the_first_time_half_gave_up():
    curve = pl.DataFrame({"time": [5, 20, 45, 90], "survival": [0.95, 0.6, 0.5, 0.1]})
    assert ok.median_patience(curve) == 45.0
    assert ok.median_patience(curve.head(2)) is None  # more than half still waiting at the end


def test_headline_numbers_by_hand():
    start = pl.datetime(2024, 9, 9, 9, time_zone="UTC")
    frame = pl.DataFrame(
        {
            "interaction_id": ["1", "2", "3", "4", "5"],
            "waiting_time": [10, 30, 4, 100, 3000],
            "interaction_type": ["VOICE", "VOICE", "CHAT", "VOICE", "EMAIL"],
            "interaction_status": [
                "FINISHED",
                "FINISHED",
                "SHORT_ABANDONED",
                "ABANDONED",
                "Finished",
            ],
            "interaction_direction": ["INBOUND"] * 5,
            "agent_type": ["VIRTUAL_AGENT", "USER", "USER", "USER", "VIRTUAL_AGENT"],
            "customer_id": ["C-1", "C-1", "C-2", "C-3", "C-4"],
        }
    ).with_columns(
        start_date_time=pl.select(
            pl.datetime_range(start, start + pl.duration(hours=4), "1h")
        ).to_series(),
        end_date_time=pl.select(
            pl.datetime_range(start, start + pl.duration(hours=4), "1h")
        ).to_series(),
    )
    numbers = ok.headline_numbers(frame, threshold=20)
    assert numbers["interactions"] == 5 and numbers["offered"] == 5 and numbers["customers"] == 4
    # one threshold for all: within 20 s: 1 of (5 offered - 1 short abandon); abandoned: 1 of 4
    assert numbers["service_level"] == pytest.approx(1 / 4)
    assert numbers["abandon_rate"] == pytest.approx(1 / 4)
    # the default judges each channel against its own threshold: the e-mail within 4 h counts
    assert ok.headline_numbers(frame)["service_level"] == pytest.approx(2 / 4)
    assert numbers["journeys"] == 4  # C-1's two interactions are one hour apart: one journey
    assert numbers["bot_to_human_share"] == pytest.approx(1 / 4)
    assert numbers["containment_rate"] == pytest.approx(1 / 2)  # C-4's bot journey, not C-1's
    # nothing pooled across channels whose waits live on different time scales
    assert not {"asa", "median_wait", "p90_wait", "median_patience"} & set(numbers)
    with pytest.raises(ok.ParameterError, match="resolve customers first"):
        ok.headline_numbers(frame.drop("customer_id"))


def test_report_table_writes_numbers_for_a_manager():
    week = ok.compare_periods(
        {"service_level": 0.812, "abandon_rate": 0.05, "interactions": 1234, "repeat_rate": 0.2},
        {"service_level": 0.8, "abandon_rate": 0.07, "interactions": 1000, "repeat_rate": 0.2},
    )
    page = ok.report_table(week, labels={"value": "This week"})._repr_html_()
    assert "<th>This week</th>" in page and "<th>Previous period</th>" in page
    cells = re.findall(r"<tr>(.*?)</tr>", page)
    level = next(row for row in cells if "Service level" in row)
    # a rate changes in percentage points only, coloured by whether that is good
    assert '>81.2%</td><td data-label="Previous period">80.0%</td>' in level
    assert '<span class="omnikit-better" title="better">▲ +1.2 pp</span>' in level
    assert "in pp only" in level and "+1.5%" not in level
    abandon = next(row for row in cells if "Abandon rate" in row)
    assert '<span class="omnikit-better" title="better">▼ -2.0 pp</span>' in abandon
    volume = next(row for row in cells if "Interactions" in row)
    assert '<span class="omnikit-neutral" title="neutral">▲ +234</span>' in volume
    assert '<span class="omnikit-neutral" title="neutral">▲ +23.4%</span>' in volume
    repeats = next(row for row in cells if "repeated" in row)
    assert ">no change</td>" in repeats and "-0.0" not in page
    waits = ok.compare_periods(
        pl.DataFrame({"interaction_type": ["VOICE", "EMAIL"], "asa": [12.0, 15946.4]}),
        pl.DataFrame({"interaction_type": ["VOICE", "EMAIL"], "asa": [15.5, 14000.0]}),
        on="interaction_type",
        relative=False,
    )
    page = ok.report_table(waits)._repr_html_()
    assert ">12 s<" in page and ">4 h 26 min<" in page
    assert '<span class="omnikit-better" title="better">▼ -3.5 s</span>' in page
    assert '<span class="omnikit-worse" title="worse">▲ +32 min 26 s</span>' in page
    table = ok.report_table(
        pl.DataFrame(
            {
                "at": [dt.datetime(2024, 9, 9, 9, 11)],
                "note": [None],
                "service_level": [None],
                "asa": [None],
            },
            schema_overrides={"service_level": pl.Float64, "asa": pl.Float64},
        ),
        formats={"at": "datetime"},
        empty={"note": "not written"},
    )
    html = table._repr_html_()
    assert ">Mon 09 Sep 2024 09:11</td>" in html
    # an empty cell says why
    assert ">not written</span>" in html and ">nothing offered</span>" in html
    assert ">none answered</span>" in html
    patience = ok.report_table({"median_patience": None})._repr_html_()
    assert "fewer than half gave up" in patience
    with pytest.raises(ok.ParameterError, match="format 'pct'"):
        ok.report_table(pl.DataFrame({"a": [1]}), formats={"a": "pct"})


def test_report_table_escapes_every_text():
    hostile = pl.DataFrame(
        {
            "interaction_type": ["<script>window.pwned=1</script>"],
            "interaction_status": ["[x](javascript:alert(1))"],
        }
    )
    page = ok.report_table(hostile, caption="<b>caption</b>")._repr_html_()
    assert "<script>" not in page and "<b>" not in page and "](javascript" not in page
    assert "&#60;script&#62;" in page


def test_read_results_merges_what_the_notebook_recorded(tmp_path):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("record")
    cell.outputs = [
        nbformat.v4.new_output("display_data", data={ok.RESULTS_MIMETYPE: {"a": 1, "b": [1, 2]}}),
        nbformat.v4.new_output("display_data", data={"text/plain": "other output"}),
        nbformat.v4.new_output("display_data", data={ok.RESULTS_MIMETYPE: {"b": None}}),
    ]
    nb.cells = [nbformat.v4.new_markdown_cell("x"), cell]
    nbformat.write(nb, tmp_path / "r.ipynb")
    assert ok.read_results(tmp_path / "r.ipynb") == {"a": 1, "b": None}
    assert results_module._jsonable(
        {"t": dt.date(2024, 9, 9), "f": float("nan"), "df": pl.DataFrame({"x": [1]})}
    ) == {"t": "2024-09-09", "f": None, "df": [{"x": 1}]}
