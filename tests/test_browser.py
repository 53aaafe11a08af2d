"""Rendered reports in a real browser: headless Chromium with the network disabled.

Chromium is driven over the DevTools protocol (``tests/_browser.py``). Every chart
must render (Vega views counted against the charts in the notebook), tooltips must work, the
page must log no error and request nothing but itself, and it must fit a phone's width.
"""

from __future__ import annotations

import time
from pathlib import Path

import nbformat
import pytest
from _browser import Browser

import omnikit as ok

pytestmark = pytest.mark.slow


def chart_outputs(notebook: Path) -> int:
    nb = nbformat.read(notebook, as_version=4)
    return sum(
        ok.CHART_MIMETYPE in output.get("data", {})
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )


def rendered_views(browser: Browser) -> int:
    return browser.evaluate(
        "document.querySelectorAll('.omnikit-chart.vega-embed svg.marks').length"
    )


@pytest.fixture(scope="module")
def weekly(tmp_path_factory) -> ok.RenderedReport:
    data = tmp_path_factory.mktemp("data")
    ok.synth_reports(data, 1500, seed=21, start="2024-09-02", days=14, windows=2)
    return ok.render_report("weekly_report", source=[data], out=tmp_path_factory.mktemp("reports"))


def test_every_chart_of_the_weekly_report_renders_offline_without_errors(browser, weekly):
    charts = chart_outputs(weekly.notebook)
    assert charts >= 6
    status = browser.open(weekly.html)
    assert status == {"expected": charts, "rendered": charts, "errors": []}
    assert rendered_views(browser) == charts
    errors, requests = browser.problems()
    assert errors == []
    assert requests == []


def test_the_weekly_report_fits_a_phone(browser, weekly):
    status = browser.open(weekly.html, width=390, height=844, mobile=True)
    assert status["rendered"] == status["expected"] > 0
    overflow = browser.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0  # wide charts and tables scroll inside their own boxes
    font = browser.evaluate(
        "parseFloat(getComputedStyle(document.querySelector('.jp-RenderedMarkdown p')).fontSize)"
    )
    assert font >= 14


def test_tooltips_show_the_numbers_under_the_pointer(browser, tmp_path):
    import altair as alt
    import polars as pl

    nb = nbformat.v4.new_notebook()
    frame = pl.DataFrame({"channel": ["VOICE", "CHAT"], "interactions": [1234, 567]})
    chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(x="interactions:Q", y="channel:N", tooltip=["channel", "interactions"])
    )
    for _ in range(2):
        cell = nbformat.v4.new_code_cell("chart")
        cell.outputs = [
            nbformat.v4.new_output("display_data", data={ok.CHART_MIMETYPE: chart.to_dict()})
        ]
        nb.cells.append(cell)
    page = tmp_path / "tooltip.html"
    ok.export_html(nb, page)
    assert browser.open(page) == {"expected": 2, "rendered": 2, "errors": []}
    box = browser.evaluate(
        "(() => { const r = document.querySelector('#omnikit-chart-1 .mark-rect path')"
        ".getBoundingClientRect();"
        " return {x: r.left + r.width / 2, y: r.top + r.height / 2}; })()"
    )
    for kind in ("mouseMoved", "mouseMoved"):
        browser.call("Input.dispatchMouseEvent", type=kind, x=box["x"], y=box["y"])
    time.sleep(0.3)
    tooltip = browser.evaluate(
        "(() => { const t = document.getElementById('vg-tooltip-element');"
        " return t ? {visible: t.classList.contains('visible'), text: t.textContent} : null; })()"
    )
    assert tooltip is not None and tooltip["visible"]
    assert "VOICE" in tooltip["text"] and "1234" in tooltip["text"]
    errors, requests = browser.problems()
    assert errors == [] and requests == []


def test_a_broken_chart_is_reported_not_hidden(browser, tmp_path):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("chart")
    bad = {
        "$schema": "https://vega.github.io/schema/vega-lite/v6.json",
        "mark": "no-such-mark",
        "data": {"values": []},
    }
    cell.outputs = [nbformat.v4.new_output("display_data", data={ok.CHART_MIMETYPE: bad})]
    nb.cells = [cell]
    page = tmp_path / "broken.html"
    ok.export_html(nb, page)
    status = browser.open(page)
    assert status["expected"] == 1 and status["rendered"] == 0 and len(status["errors"]) == 1
    assert "could not be drawn" in browser.evaluate(
        "document.getElementById('omnikit-chart-1').textContent"
    )
    errors, _ = browser.problems()
    assert errors  # the page says so in the console too
