"""Shared test set-up: an isolated load cache, and the vendor's sample report."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests judge results, not speed: a busy CI machine must not fail them on time.
settings.register_profile("omnikit", deadline=None)
settings.load_profile("omnikit")

# Every test run gets its own load cache, never the user's.
os.environ["OMNIKIT_CACHE_DIR"] = tempfile.mkdtemp(prefix="omnikit-test-cache-")

ROOT = Path(__file__).resolve().parents[1]
#: The vendor's sample report, exactly as documented (a copy of ../shared/fixtures/).
VENDOR_SAMPLE = ROOT / "tests" / "data" / "erc_omnichannel_report_example.json"


@pytest.fixture
def vendor_sample() -> Path:
    """Path to the vendor's sample Customer Omnichannel Report (8 entries)."""
    return VENDOR_SAMPLE


@pytest.fixture(scope="session")
def chromium():
    """One headless Chromium for every browser test of the run (tests/_browser.py)."""
    pytest.importorskip("websocket", reason="websocket-client drives Chromium")
    from _browser import CHROMIUM, Chromium

    if not Path(CHROMIUM).exists():  # pragma: no cover - `make test` installs it (make browser)
        pytest.skip("headless Chromium is not installed (make browser)")
    instance = Chromium()
    try:
        yield instance
    finally:
        instance.close()


@pytest.fixture
def browser(chromium):
    """A fresh tab in that Chromium, offline."""
    page = chromium.page()
    try:
        yield page
    finally:
        page.close()


@pytest.fixture(scope="session")
def jupyter_env(tmp_path_factory) -> dict[str, str]:
    """Environment for Jupyter subprocesses: an ``omnikit`` kernel running this Python and code.

    The kernel spec lives in a temporary ``JUPYTER_PATH`` (nothing is installed for the user),
    and ``PYTHONPATH`` starts with this checkout, so kernels import the omnikit under test.
    """
    import json
    import sys

    home = tmp_path_factory.mktemp("jupyter")
    spec = home / "share" / "jupyter" / "kernels" / "omnikit"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "Python (omnikit)",
                "language": "python",
            }
        )
    )
    return dict(
        os.environ,
        JUPYTER_PATH=str(home / "share" / "jupyter"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_DATA_DIR=str(home / "data"),
        PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
    )
