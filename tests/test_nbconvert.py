"""Sharing any notebook: plain papermill, then plain ``jupyter nbconvert``, read offline.

A shipped notebook is run with the papermill command line, and a user's own notebook (its own
altair charts, ``ok.enable_charts()`` or only ``alt.renderers.enable("omnikit")``) with
papermill too. Each executed notebook is turned into HTML by ``jupyter nbconvert --to html``
(with and without ``--no-input``) and ``--to omnikit``, and every page is opened in headless
Chromium with the network blocked: every chart must be drawn, from the notebook's own outputs.
"""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

import omnikit as ok

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]

# What nbconvert's standard HTML template itself asks a CDN for (not the notebook's outputs).
NBCONVERT_TEMPLATE_URLS = (
    "https://cdnjs.cloudflare.com/ajax/libs/require.js/",
    "https://cdnjs.cloudflare.com/ajax/libs/mathjax/",
)

OWN_CHARTS = 10

# A user's notebook: nothing from omnikit but the setup call and ten charts of their own.
OWN_NOTEBOOK = [
    "import altair as alt\nimport polars as pl\n{setup}",
    "frame = pl.DataFrame({'x': list(range(50)), 'y': [i * i for i in range(50)]})",
    *[
        f"alt.Chart(frame).mark_line().encode(x='x', y='y', tooltip=['x', 'y'])"
        f".properties(title='Chart {n}')"
        for n in range(OWN_CHARTS)
    ],
]


def exporter_name() -> str:
    """``omnikit`` once the package is installed (entry point), else the exporter's class."""
    names = {e.name for e in importlib.metadata.entry_points(group="nbconvert.exporters")}
    return "omnikit" if "omnikit" in names else "omnikit._nbconvert.OmnikitExporter"


def run(command: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def charts_in(notebook: Path) -> int:
    nb = nbformat.read(notebook, as_version=4)
    return sum(
        ok.CHART_MIMETYPE in output.get("data", {})
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )


@pytest.fixture(scope="module")
def executed(jupyter_env, tmp_path_factory) -> dict[str, Path]:
    """Notebooks executed by the papermill command line in the ``omnikit`` kernel."""
    folder = tmp_path_factory.mktemp("shared")
    data = folder / "data"
    ok.synth_reports(data, 1500, seed=21, start="2024-09-02", days=14, windows=2)
    papermill = [sys.executable, "-m", "papermill", "-k", "omnikit", "--no-progress-bar"]
    notebooks = {}
    source = ROOT / "notebooks" / "wait_times.ipynb"
    notebooks["wait_times"] = folder / "wait_times.ipynb"
    run(
        [*papermill, str(source), str(notebooks["wait_times"]), "-p", "source", str(data)],
        jupyter_env,
        folder,
    )
    for name, setup in [
        ("own_enable_charts", "import omnikit as ok\nok.enable_charts()"),
        ("own_renderer", "alt.renderers.enable('omnikit')"),
    ]:
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {
            "name": "omnikit",
            "display_name": "Python (omnikit)",
            "language": "python",
        }
        nb.cells = [
            nbformat.v4.new_code_cell(code.replace("{setup}", setup)) for code in OWN_NOTEBOOK
        ]
        nbformat.write(nb, folder / f"{name}.src.ipynb")
        notebooks[name] = folder / f"{name}.ipynb"
        run(
            [*papermill, str(folder / f"{name}.src.ipynb"), str(notebooks[name])],
            jupyter_env,
            folder,
        )
    return notebooks


NAMES = ["wait_times", "own_enable_charts", "own_renderer"]
VARIANTS = {
    "html": ["--to", "html"],
    "html-no-input": ["--to", "html", "--no-input"],
    "omnikit": ["--to", "omnikit"],
}


@pytest.fixture(scope="module")
def pages(executed, jupyter_env) -> dict[tuple[str, str], Path]:
    """Every executed notebook through every nbconvert variant (one nbconvert run per variant)."""
    folder = executed["wait_times"].parent
    found = {}
    for variant, options in VARIANTS.items():
        if variant == "omnikit":
            options = ["--to", exporter_name()]
        done = run(
            [
                sys.executable,
                "-m",
                "jupyter",
                "nbconvert",
                *options,
                *(str(executed[name]) for name in NAMES),
                "--output-dir",
                str(folder / variant),
            ],
            jupyter_env,
            folder,
        )
        assert "not able to be represented" not in done.stderr  # every output has a text
        for name in NAMES:
            found[name, variant] = folder / variant / f"{name}.html"
    return found


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_nbconvert_pages_draw_every_chart_offline(executed, pages, browser, name, variant):
    charts = charts_in(executed[name])
    assert charts == (OWN_CHARTS if name.startswith("own") else charts) >= 1
    page = pages[name, variant]
    text = page.read_text(encoding="utf-8")
    assert text.count("window.vegaEmbed=") == 1  # the JavaScript once per page
    assert len(text) < 3_000_000
    status = browser.open(page)
    assert status == {"expected": charts, "rendered": charts, "errors": []}
    views = browser.evaluate(
        "document.querySelectorAll('.jp-OutputArea-output .vega-embed svg.marks').length"
    )
    assert views == charts  # each chart in its own output, where the notebook showed it
    errors, requests = browser.problems()
    if variant == "omnikit":
        assert requests == [] and errors == []
    else:
        # nbconvert's own template still names require.js and MathJax on a CDN (unused by the
        # charts); nothing else may be asked for
        assert [url for url in requests if not url.startswith(NBCONVERT_TEMPLATE_URLS)] == []
        assert [e for e in errors if not any(u in e for u in NBCONVERT_TEMPLATE_URLS)] == []


def test_the_javascript_is_written_once_per_notebook(executed):
    for name, notebook in executed.items():
        text = notebook.read_text(encoding="utf-8")
        assert text.count("window.vegaEmbed=") == 1, name
        assert notebook.stat().st_size < 3_000_000, name  # ten charts and the JavaScript


def test_no_output_prints_a_long_text(executed):
    for notebook in executed.values():
        nb = nbformat.read(notebook, as_version=4)
        for cell in nb.cells:
            for output in cell.get("outputs", []):
                text = output.get("text") or output.get("data", {}).get("text/plain", "")
                assert len(text) < 20_000, (notebook.name, cell.source[:80])


def test_a_notebook_missing_the_javascript_says_so(executed, jupyter_env, browser, tmp_path):
    nb = nbformat.read(executed["own_enable_charts"], as_version=4)
    nb.cells[0].outputs = []  # the user cleared the setup cell's output
    broken = tmp_path / "cleared.ipynb"
    nbformat.write(nb, broken)
    run(
        [sys.executable, "-m", "jupyter", "nbconvert", "--to", "html", str(broken)],
        jupyter_env,
        tmp_path,
    )
    status = browser.open(tmp_path / "cleared.html")
    assert status["expected"] == OWN_CHARTS and status["rendered"] == 0
    assert all("ok.enable_charts()" in error for error in status["errors"])
    assert "could not be drawn" in str(
        browser.evaluate("document.querySelector('.omnikit-chart-error').textContent")
    )
