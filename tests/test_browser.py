"""Rendered reports in a real browser: headless Chromium with the network disabled.

Chromium is driven over the DevTools protocol (a websocket, ``websocket-client``). Every chart
must render (Vega views counted against the charts in the notebook), tooltips must work, the
page must log no error and request nothing but itself, and it must fit a phone's width.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

import omnikit as ok

websocket = pytest.importorskip("websocket", reason="websocket-client drives Chromium")

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"
if not Path(CHROMIUM).exists():  # pragma: no cover - `make test` installs it (make browser)
    pytest.skip("headless Chromium is not installed (make browser)", allow_module_level=True)


class Browser:
    """One headless Chromium with one page, offline, recording console messages and requests."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.profile = tempfile.mkdtemp(prefix="omnikit-chromium-")
        self.process = subprocess.Popen(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={self.profile}",
                f"--remote-debugging-port={port}",
                "--remote-allow-origins=*",
                # no network: every host unresolvable, every proxied request refused
                "--proxy-server=127.0.0.1:9",
                "--host-resolver-rules=MAP * ~NOTFOUND",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/json/list", timeout=2
                ) as answer:
                    targets = json.load(answer)
                break
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.close()
                    raise RuntimeError("Chromium did not start") from None
                time.sleep(0.2)
        page = next(t for t in targets if t["type"] == "page")
        self.socket = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=60)
        self.next_id = 0
        self.events: list[dict] = []
        for domain in ("Runtime", "Log", "Network", "Page"):
            self.call(f"{domain}.enable")
        self.call(
            "Network.emulateNetworkConditions",
            offline=True,
            latency=0,
            downloadThroughput=-1,
            uploadThroughput=-1,
        )

    def call(self, method: str, **params: object) -> dict:
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def evaluate(self, expression: str) -> object:
        result = self.call(
            "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"])
        return result["result"].get("value")

    def open(
        self, path: Path, *, width: int = 1280, height: int = 900, mobile: bool = False
    ) -> dict:
        """Load ``path`` and wait until every chart has been drawn (or failed)."""
        self.call(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=mobile,
        )
        self.call("Page.navigate", url=path.resolve().as_uri())
        return json.loads(
            self.evaluate(
                """new Promise(resolve => {
                 const wait = () => (document.readyState === 'complete')
                   ? (window.omnikitCharts ? window.omnikitCharts.done : Promise.resolve({expected: 0, rendered: 0, errors: []}))
                       .then(s => resolve(JSON.stringify({expected: s.expected, rendered: s.rendered, errors: s.errors})))
                   : setTimeout(wait, 50);
                 wait();
               })"""
            )
        )

    def problems(self) -> tuple[list[str], list[str]]:
        """Console errors and exceptions, and requests for anything but local files and data."""
        self.call("Runtime.evaluate", expression="0")  # flush pending events
        errors, requests = [], []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                errors.append(json.dumps(params["exceptionDetails"])[:300])
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                errors.append(
                    " ".join(str(a.get("value", a.get("description"))) for a in params["args"])
                )
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                errors.append(params["entry"]["text"])
            elif method == "Network.requestWillBeSent":
                url = params["request"]["url"]
                if not url.startswith(("file:", "data:", "about:", "blob:")):
                    requests.append(url)
        return errors, requests

    def close(self) -> None:
        if getattr(self, "socket", None) is not None:
            self.socket.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.profile, ignore_errors=True)


@pytest.fixture
def browser():
    instance = Browser()
    try:
        yield instance
    finally:
        instance.close()


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
    return ok.render_report("weekly_report", sources=[data], out=tmp_path_factory.mktemp("reports"))


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
        "(() => { const r = document.querySelector('#omnikit-chart-1 .mark-rect path').getBoundingClientRect();"
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
