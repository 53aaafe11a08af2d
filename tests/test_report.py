"""ok.render_report, ok.list_reports and the `omnikit report` / `omnikit demo` commands.

Parameter checks run before any kernel starts, so those tests are fast. Execution tests use
tiny notebooks of their own (a failing cell, a cell that runs too long, the kernel fallback)
and one real report; ``tests/test_notebooks.py`` runs every report notebook in depth.
"""

from __future__ import annotations

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
import omnikit._report as report_module
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
    nb.metadata["kernelspec"] = {"name": "omnikit", "language": "python", "display_name": "Python (omnikit)"}
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
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {name}"), params] + [nbformat.v4.new_code_cell(c) for c in cells]
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / f"{name}.ipynb")
    return folder


@pytest.fixture
def tiny_reports(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "notebooks"
    tiny_notebook(folder, "broken", "x = 1", "import sys\nprint('before the error')", "raise ValueError('boom: the data is odd')", "y = 2")
    tiny_notebook(folder, "slow", "import time", "time.sleep(60)")
    tiny_notebook(
        folder,
        "where",
        "import sys\nimport omnikit as ok\n"
        "ok.record_results(executable=sys.executable, threshold=threshold, start=start, source=source, redact=redact)",
    )
    monkeypatch.setattr(report_module, "_notebook_dirs", lambda: [folder])
    return folder


# ------------------------------------------------------------------------------------------------
# Listing and checking parameters (no kernel)


def test_list_reports_names_each_report_and_its_parameters():
    reports = ok.list_reports()
    assert sorted(reports) == ["channel_mix", "journeys", "wait_times", "weekly_report"]
    threshold = reports["weekly_report"]["threshold"]
    assert threshold == {"type": "int", "default": "20", "help": threshold["help"]}
    assert "seconds" in threshold["help"]
    assert reports["journeys"]["gap"]["default"] == '"24h"'


def test_command_line_lists_reports(capsys):
    assert main(["report", "--list"]) == 0
    out = capsys.readouterr().out
    for name in ok.list_reports():
        assert f"\n{name}\n" in f"\n{out}"
    assert "threshold" in out and "int = 20" in out


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"parameters": {"treshold": 30}}, r"has no parameter 'treshold'; its parameters are: source, start"),
        ({"start": "2024-13-45"}, r"start: '2024-13-45' is not a date"),
        ({"end": "next tuesday"}, r"end: 'next tuesday' is not a date"),
        ({"start": "2024-09-10", "end": "2024-09-03"}, r"must be before end"),
        ({"timezone": "Mars/Olympus"}, r"'Mars/Olympus' is not a known IANA timezone"),
        ({"parameters": {"threshold": "twenty"}}, r"'threshold': expected a whole number, got 'twenty'"),
        ({"parameters": {"threshold": -1}}, r"must not be negative"),
        ({"parameters": {"gap": "a day"}}, r"'a day' is not a duration"),
        ({"parameters": {"target": 80}}, r"share between 0 and 1"),
        ({"parameters": {"redact": False}}, r"pass redact as render_report arguments"),
        ({"sources": ["/no/such/report.json"]}, r"'/no/such/report.json' does not exist"),
    ],
)
def test_bad_parameters_are_refused_before_a_kernel_starts(tmp_path, kwargs, message):
    with pytest.raises(ok.ParameterError, match=message):
        ok.render_report("weekly_report", out=tmp_path, **kwargs)
    assert list(tmp_path.iterdir()) == []  # nothing executed, nothing written


def test_an_unknown_report_names_the_known_ones(tmp_path):
    with pytest.raises(ok.ParameterError, match="no report named 'weekly'; the reports are: channel_mix, journeys"):
        ok.render_report("weekly", out=tmp_path)


def test_command_line_errors_are_one_clear_line(tmp_path, capsys):
    code = main(["report", "wait_times", "--out", str(tmp_path), "-p", "threshold", "soon"])
    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith("omnikit report: error: parameter 'threshold': expected a whole number")
    assert main(["report", "wait_times", "-p", "gap", "1h", "-p", "gap", "2h"]) == 1
    assert "given twice" in capsys.readouterr().err


def test_command_line_values_are_converted_to_the_declared_types():
    declared = ok.list_reports()["weekly_report"]
    checked = report_module._validate(
        "weekly_report",
        {"threshold": "30", "target": "0.85", "redact": "false", "start": "2024-09-09", "timezone": "Europe/Lisbon"},
        declared,
    )
    assert checked == {
        "threshold": 30,
        "target": 0.85,
        "redact": False,
        "start": "2024-09-09T00:00:00+01:00",
        "timezone": "Europe/Lisbon",
    }


# ------------------------------------------------------------------------------------------------
# Execution


@pytest.mark.slow
def test_a_failing_cell_names_notebook_cell_and_exception_and_keeps_the_notebook(tiny_reports, tmp_path):
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
    assert "ValueError: boom: the data is odd" in str(error) and str(error.output_path) in str(error)
    assert not (tmp_path / "out" / "broken.html").exists()
    assert kept.cells[error.cell + 1].get("outputs", []) == []  # nothing ran after the failure


@pytest.mark.slow
def test_a_cell_that_runs_too_long_is_stopped(tiny_reports, tmp_path):
    with pytest.raises(ok.ReportExecutionError, match="ran longer than 2 s") as caught:
        ok.render_report("slow", out=tmp_path, timeout=2)
    kept = nbformat.read(caught.value.output_path, as_version=4)
    assert kept.cells[caught.value.cell].source == "time.sleep(60)"


@pytest.mark.slow
def test_without_the_omnikit_kernel_this_interpreter_runs_the_report(tiny_reports, tmp_path, monkeypatch, source):
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    real = KernelSpecManager.get_kernel_spec

    def missing_omnikit(self, name):
        if name == "omnikit":
            raise NoSuchKernel(name)
        return real(self, name)

    monkeypatch.setattr(KernelSpecManager, "get_kernel_spec", missing_omnikit)
    report = ok.render_report("where", sources=[source], start="2024-09-03", out=tmp_path, parameters={"threshold": "45"})
    results = report.results()
    assert Path(results["executable"]).resolve() == Path(sys.executable).resolve()
    assert results["threshold"] == 45
    assert results["start"] == "2024-09-03T00:00:00+00:00"
    assert results["source"] == [str(source.resolve())]
    assert results["redact"] is True
    assert report.html == tmp_path / "where.html" and report.html.exists()


@pytest.mark.slow
def test_command_line_renders_a_report(source, tmp_path, capsys):
    out = tmp_path / "reports"
    code = main([
        "report", "channel_mix", "--source", str(source), "--start", "2024-09-02", "--end", "2024-09-09",
        "--timezone", "UTC", "--out", str(out), "-p", "every", "1w",
    ])
    assert code == 0
    assert capsys.readouterr().out.split() == [str(out / "channel_mix.ipynb"), str(out / "channel_mix.html")]
    results = ok.read_results(out / "channel_mix.ipynb")
    assert results["period"] == "2024-09-02 to 2024-09-08"
    loaded = ok.load(source)
    in_week = loaded.filter(pl.col("start_date_time").dt.date() < pl.date(2024, 9, 9)).height
    assert results["interactions"] == in_week
    nb = nbformat.read(out / "channel_mix.ipynb", as_version=4)
    assert nb.metadata.papermill.parameters["every"] == "1w"
    assert "<html" in (out / "channel_mix.html").read_text(encoding="utf-8")


@pytest.mark.slow
def test_demo_makes_sample_data_and_renders_every_report(tmp_path, monkeypatch, capsys):
    calls = []

    def render(name, **kwargs):  # the rendering itself is tested above and in test_notebooks.py
        calls.append((name, kwargs))
        return report_module.RenderedReport(name, Path(kwargs["out"]) / f"{name}.ipynb", Path(kwargs["out"]) / f"{name}.html", {}, 0.0)

    monkeypatch.setattr(report_module, "render_report", render)
    data, out = tmp_path / "data", tmp_path / "reports"
    code = main(["demo", "--data", str(data), "--out", str(out), "--rows", "800", "--timezone", "Europe/Lisbon"])
    assert code == 0
    assert [name for name, _ in calls] == list(ok.list_reports())
    assert all(kwargs == {"sources": [data], "timezone": "Europe/Lisbon", "out": str(out)} for _, kwargs in calls)
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
        ignore=shutil.ignore_patterns(".venv", ".git", "reports", "data", "build", "*.egg-info", "__pycache__", ".pytest_cache", ".hypothesis"),
    )
    # pip builds in an isolated environment with the build requirements of pyproject.toml
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "-q", "-w", str(tmp_path / "dist")],
        cwd=tree,
        capture_output=True,
        text=True,
    )
    if built.returncode and re.search(r"NewConnectionError|Could not find a version|ProxyError|Temporary failure", built.stderr):
        pytest.skip(f"the build requirements could not be downloaded: {built.stderr.strip().splitlines()[-1]}")
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "dist").glob("omnikit-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for report in ok.list_reports():
        assert f"omnikit/notebooks/{report}.ipynb" in names
    installed = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(installed)
    found = subprocess.run(
        [sys.executable, "-c", "import json, omnikit._report as r; print(json.dumps({k: str(v) for k, v in r._notebooks().items()}))"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(installed)},
        check=True,
        capture_output=True,
        text=True,
    )
    paths = json.loads(found.stdout)
    assert sorted(paths) == sorted(ok.list_reports())
    assert all(Path(p).is_relative_to(installed) for p in paths.values())
