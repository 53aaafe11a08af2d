"""A headless Chromium driven over the DevTools protocol, with the network blocked.

Shared by the browser tests (``tests/test_browser.py``, ``tests/test_nbconvert.py``,
``tests/test_jupyterlab.py``) through the session-scoped ``chromium`` fixture in
``conftest.py``: one Chromium for the whole run, a fresh page (tab) per test.

Every host name is unresolvable and every proxied request refused; only ``127.0.0.1`` (a local
JupyterLab) is reachable, and pages from files are opened with the network emulated offline.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"

#: Resolves when every chart on a page has been drawn or has failed: the status object that
#: omnikit's pages keep in ``window.omnikitCharts`` (expected, rendered, errors).
WAIT_FOR_CHARTS = """new Promise(resolve => {
  const wait = () => (document.readyState === 'complete')
    ? (window.omnikitCharts ? window.omnikitCharts.done
                            : Promise.resolve({expected: 0, rendered: 0, errors: []}))
        .then(s => resolve(JSON.stringify({expected: s.expected, rendered: s.rendered,
                                           errors: s.errors})))
    : setTimeout(wait, 50);
  wait();
})"""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Chromium:
    """One headless Chromium process; :meth:`page` opens a tab driven over its websocket."""

    def __init__(self) -> None:
        import websocket  # noqa: F401  (fail early when websocket-client is missing)

        self.port = free_port()
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
                f"--remote-debugging-port={self.port}",
                "--remote-allow-origins=*",
                # no network: every host unresolvable, every proxied request refused;
                # loopback (a local JupyterLab) is never proxied and needs no resolving
                "--proxy-server=127.0.0.1:9",
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                self._get("/json/version")
                break
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.close()
                    raise RuntimeError("Chromium did not start") from None
                time.sleep(0.2)

    def _get(self, path: str, method: str = "GET") -> object:
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", method=method)
        with urllib.request.urlopen(request, timeout=5) as answer:
            return json.load(answer)

    def page(self, *, offline: bool = True) -> Browser:
        """A new tab; ``offline`` also emulates no network at all (for pages from files)."""
        target = self._get("/json/new?about:blank", method="PUT")
        assert isinstance(target, dict)
        return Browser(self, target, offline=offline)

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.profile, ignore_errors=True)


class Browser:
    """One tab, recording console messages, exceptions and requests."""

    def __init__(self, chromium: Chromium, target: dict, *, offline: bool) -> None:
        import websocket

        self.chromium = chromium
        self.target = target
        self.socket = websocket.create_connection(target["webSocketDebuggerUrl"], timeout=120)
        self.next_id = 0
        self.events: list[dict] = []
        for domain in ("Runtime", "Log", "Network", "Page"):
            self.call(f"{domain}.enable")
        if offline:
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

    def wait_for(self, expression: str, *, timeout: float = 60, every: float = 0.25) -> object:
        """Evaluate ``expression`` until it is truthy; its value, or TimeoutError."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"still false after {timeout} s: {expression}")
            time.sleep(every)

    def navigate(
        self, url: str, *, width: int = 1280, height: int = 900, mobile: bool = False
    ) -> None:
        self.call(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=mobile,
        )
        self.call("Page.navigate", url=url)

    def open(
        self, path: Path, *, width: int = 1280, height: int = 900, mobile: bool = False
    ) -> dict:
        """Load the page at ``path`` and wait until every chart has been drawn (or failed)."""
        self.navigate(path.resolve().as_uri(), width=width, height=height, mobile=mobile)
        time.sleep(0.1)  # let the navigation start before asking about readyState
        return json.loads(str(self.evaluate(WAIT_FOR_CHARTS)))

    def problems(self, *, local: tuple[str, ...] = ()) -> tuple[list[str], list[str]]:
        """Console errors and exceptions, and requests for anything but ``local`` URLs and files."""
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
                errors.append(f"{params['entry']['text']} {params['entry'].get('url', '')}")
            elif method == "Network.requestWillBeSent":
                url = params["request"]["url"]
                if not url.startswith(("file:", "data:", "about:", "blob:", *local)):
                    requests.append(url)
        return errors, requests

    def close(self) -> None:
        self.socket.close()
        with contextlib.suppress(OSError, ValueError):  # the answer is not JSON
            self.chromium._get(f"/json/close/{self.target['id']}")
