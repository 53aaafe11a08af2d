"""Charts in JupyterLab 4 with no network: notebooks run there, and executed reports reopened.

One JupyterLab server on 127.0.0.1 (a free port, a token) serves a temporary folder holding
copies of the shipped notebooks and a report executed by ``ok.render_report``. Its kernels are
the ``omnikit`` kernel, pointed at this interpreter and inheriting ``PYTHONPATH``. A headless
Chromium (``tests/_browser.py``) reaches nothing but that server: every host name is
unresolvable and every proxied request refused. Each notebook is opened, all its cells are run,
and the Vega views JupyterLab drew are counted against the chart outputs in the notebook.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
from _browser import Browser, free_port

import omnikit as ok

pytest.importorskip("jupyterlab", reason="JupyterLab is the `lab` extra")
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
NAMES = ["channel_mix", "journeys", "wait_times", "weekly_report"]
TOKEN = "omnikit-test-token"

# The open notebook panel, its model's chart outputs, and the Vega views JupyterLab drew in it.
PANEL = """(name => Array.from(window.jupyterapp.shell.widgets('main'))
  .find(w => w.context && w.context.path === name))(%s)"""
STATE = """(() => {
  const panel = %s;
  if (!panel || !panel.context.isReady || !panel.sessionContext.session) return null;
  const outputs = Array.from(panel.content.model.cells)
    .filter(cell => cell.type === 'code')
    .map(cell => cell.outputs.toJSON());
  return JSON.stringify({
    kernel: panel.sessionContext.session.kernel ? panel.sessionContext.session.kernel.status
                                                : 'none',
    kernelName: panel.sessionContext.session.kernel && panel.sessionContext.session.kernel.name,
    untrusted: Array.from(panel.content.model.cells)
      .filter(cell => cell.type === 'code' && !cell.trusted).length,
    executed: Array.from(panel.content.model.cells)
      .filter(cell => cell.type === 'code' && cell.executionCount !== null).length,
    code: outputs.length,
    charts: outputs.flat().filter(o => o.data && o.data[%s]).length,
    errors: outputs.flat().filter(o => o.output_type === 'error')
      .map(o => o.ename + ': ' + o.evalue),
    views: panel.node.querySelectorAll('.jp-OutputArea-output .vega-embed svg.marks').length,
    byLab: panel.node.querySelectorAll('.jp-RenderedVegaLite .vega-embed svg.marks').length,
    byPage: panel.node.querySelectorAll('.jp-RenderedJavaScript .vega-embed svg.marks').length,
    shown: Array.from(panel.node.querySelectorAll('.jp-OutputArea-output'))
      .map(node => node.className.replace(/lm-Widget |jp-OutputArea-output/g, '').trim()
                   + ': ' + node.textContent.trim().slice(0, 40)),
    failed: panel.node.querySelectorAll('.jp-RenderedVegaLite .error, .jp-RenderedVegaLite pre')
      .length,
  });
})()"""


class Lab:
    """A JupyterLab server over ``root``, and a Chromium tab that drives it."""

    def __init__(self, root: Path, home: Path, env: dict[str, str], browser: Browser) -> None:
        self.root, self.env, self.browser = root, env, browser
        self.started = False
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = (home / "lab.log").open("w")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyterlab",
                "--allow-root",
                "--no-browser",
                "--ServerApp.open_browser=False",
                "--ServerApp.ip=127.0.0.1",
                f"--ServerApp.port={self.port}",
                "--ServerApp.port_retries=0",
                f"--IdentityProvider.token={TOKEN}",
                f"--ServerApp.root_dir={root}",
                "--LabApp.expose_app_in_browser=True",  # window.jupyterapp, to run commands
                f"--LabApp.workspaces_dir={home / 'workspaces'}",
                f"--LabApp.user_settings_dir={home / 'settings'}",
            ],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(
                    f"{self.base}/api/status?token={TOKEN}", timeout=2
                ) as answer:
                    json.load(answer)
                break
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.close()
                    raise RuntimeError(
                        f"JupyterLab did not start; see {home / 'lab.log'}"
                    ) from None
                time.sleep(0.3)
        browser.call("Emulation.setFocusEmulationEnabled", enabled=True)  # a focused window

    def open(self, name: str) -> dict:
        """Open notebook ``name`` in JupyterLab; its state once its kernel is ready.

        The first notebook is opened by its URL, later ones from JupyterLab's own command (a
        new page load would ask the user whether to leave the running notebooks).
        """
        if not self.started:
            self.browser.navigate(f"{self.base}/lab/tree/{name}?token={TOKEN}")
            self.started = True
        else:
            self.browser.wait_for("!!window.jupyterapp", timeout=90)
            self.browser.evaluate(
                "window.jupyterapp.commands.execute('docmanager:open', "
                f"{{path: {json.dumps(name)}}}).then(() => true)"
            )
        self.browser.wait_for(f"!!(window.jupyterapp && {PANEL % json.dumps(name)})", timeout=90)
        return self.wait(name, lambda s: s["kernel"] == "idle", timeout=90)

    def close_notebook(self, name: str) -> None:
        """Stop the notebook's kernel and close its tab (saved, so JupyterLab asks nothing)."""
        self.browser.evaluate(
            f"(() => {{ const panel = {PANEL % json.dumps(name)};"
            " return panel.sessionContext.shutdown().then(() => { panel.dispose(); return true; });"
            " })()"
        )

    def state(self, name: str) -> dict | None:
        value = self.browser.evaluate(
            STATE % (PANEL % json.dumps(name), json.dumps(ok.CHART_MIMETYPE))
        )
        return json.loads(str(value)) if value else None

    def wait(self, name: str, done, *, timeout: float = 120) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            state = self.state(name)
            if state is not None and done(state):
                return state
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name}: {state}")
            time.sleep(0.5)

    def run_all(self, name: str) -> dict:
        """Run every cell of the open notebook; its state once all ran and the views are drawn."""
        self.browser.evaluate(
            f"(() => {{ const panel = {PANEL % json.dumps(name)};"
            " window.jupyterapp.shell.activateById(panel.id);"
            " return window.jupyterapp.commands.execute('notebook:run-all-cells'); })()"
        )
        self.wait(
            name,
            lambda s: s["kernel"] == "idle" and (s["executed"] == s["code"] or s["errors"]),
            timeout=240,
        )
        return self.drawn(name)

    def drawn(self, name: str) -> dict:
        """The state once as many Vega views are drawn as there are charts (or 20 s passed)."""
        try:
            return self.wait(name, lambda s: s["views"] >= s["charts"], timeout=20)
        except TimeoutError:
            state = self.state(name)
            assert state is not None
            return state

    def save(self, name: str) -> None:
        self.browser.evaluate(f"{PANEL % json.dumps(name)}.context.save().then(() => true)")

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:  # pragma: no cover
            self.process.kill()
            self.process.wait()
        self.log.close()


@pytest.fixture(scope="module")
def lab(chromium, jupyter_env, tmp_path_factory):
    root = tmp_path_factory.mktemp("lab-root")
    for name in NAMES:
        shutil.copy(ROOT / "notebooks" / f"{name}.ipynb", root / f"{name}.ipynb")
    data = tmp_path_factory.mktemp("data")
    ok.synth_reports(data, 1500, seed=21, start="2024-09-02", days=14, windows=2)
    report = ok.render_report("weekly_report", source=[data], out=root / "reports", html=False)
    assert report.notebook == root / "reports" / "weekly_report.ipynb"
    browser = chromium.page(offline=False)  # JupyterLab is on 127.0.0.1; nothing else resolves
    server = Lab(root, tmp_path_factory.mktemp("lab-home"), jupyter_env, browser)
    try:
        yield server
    finally:
        server.close()
        browser.close()


def lab_problems(lab: Lab) -> tuple[list[str], list[str]]:
    local = (lab.base, f"ws://127.0.0.1:{lab.port}")
    return lab.browser.problems(local=local)


@pytest.mark.parametrize("name", NAMES)
def test_every_chart_draws_offline_when_a_notebook_runs_in_jupyterlab(lab, name):
    notebook = f"{name}.ipynb"
    opened = lab.open(notebook)
    assert opened["charts"] == 0  # shipped without outputs
    state = lab.run_all(notebook)
    assert state["kernelName"] == "omnikit"
    assert state["errors"] == []
    assert state["executed"] == state["code"]
    assert state["charts"] >= 1
    assert state["views"] == state["charts"], json.dumps(state)
    assert state["byPage"] == state["charts"]  # trusted: the notebook's own JavaScript draws
    errors, requests = lab_problems(lab)
    assert errors == []
    assert requests == []
    lab.save(notebook)
    lab.close_notebook(notebook)


def test_charts_draw_again_when_a_notebook_saved_in_jupyterlab_is_reopened(lab):
    notebook = "wait_times.ipynb"  # run and saved by the test above
    saved = nbformat.read(lab.root / notebook, as_version=4)
    charts = sum(
        ok.CHART_MIMETYPE in output.get("data", {})
        for cell in saved.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )
    assert charts >= 1
    assert (lab.root / notebook).stat().st_size < 3_000_000
    lab.open(notebook)
    reopened = lab.drawn(notebook)
    assert reopened["views"] == reopened["charts"] == charts
    assert reopened["byPage"] == charts  # saved by JupyterLab, so signed and trusted
    errors, requests = lab_problems(lab)
    assert errors == [] and requests == []


def test_charts_of_an_executed_report_draw_when_it_is_opened_untrusted(lab):
    notebook = "reports/weekly_report.ipynb"
    executed = nbformat.read(lab.root / notebook, as_version=4)
    charts = sum(
        ok.CHART_MIMETYPE in output.get("data", {})
        for cell in executed.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )
    assert charts >= 6
    notary = nbformat.sign.NotebookNotary(data_dir=lab.env["JUPYTER_DATA_DIR"])
    assert not notary.check_signature(executed)  # papermill wrote it: not trusted
    lab.open(notebook)
    state = lab.drawn(notebook)
    assert state["untrusted"] > 0  # JupyterLab treats its outputs as untrusted
    assert state["byLab"] == charts  # so JupyterLab's own (safe) Vega renderer draws them
    assert state["charts"] == charts
    assert state["views"] == charts, state
    errors, requests = lab_problems(lab)
    assert errors == [] and requests == []
