"""Text from data and from the user is shown as text in a report, never run or linked (#13).

The reports are rendered from a source file whose name is a Markdown ``javascript:`` link, with
channels (``interaction_type``) and statuses (``interaction_status``) that are HTML: an image
whose ``onerror`` and a ``<script>`` would set ``window.pwned``. The unknown status also makes
the metrics print a warning naming it in the page. In headless Chromium (network off) the page
must run none of it, hold no ``javascript:`` link and no element from the data, and show every
hostile value as the text it is.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

import omnikit as ok

pytestmark = pytest.mark.slow

FILE_NAME = "[x](javascript:window.pwned=1).json"
CHANNEL = '<img src=x onerror="window.pwned=2">'
STATUS = "<script>window.pwned=3</script>"
NAMES = ["channel_mix", "journeys", "wait_times", "weekly_report"]


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, Path]:
    entries = ok.synth_entries(1500, seed=3, start="2024-09-02", days=14)
    index = pl.int_range(pl.len())
    entries = entries.with_columns(
        interaction_type=pl.when(index % 20 == 0)
        .then(pl.lit(CHANNEL))
        .otherwise("interaction_type"),
        interaction_status=pl.when(index % 25 == 1)
        .then(pl.lit(STATUS))
        .otherwise("interaction_status"),
    )
    folder = tmp_path_factory.mktemp("data")
    source = folder / FILE_NAME
    source.write_text(json.dumps({"entries": entries.to_dicts(), "total": entries.height}))
    out = tmp_path_factory.mktemp("reports")
    return {name: ok.render_report(name, source=source, out=out).html for name in NAMES}


@pytest.mark.parametrize("name", NAMES)
def test_hostile_text_is_shown_never_run_or_linked(browser, pages, name):
    status = browser.open(pages[name])
    assert status["errors"] == [] and status["rendered"] == status["expected"] > 0
    found = browser.evaluate(
        """(() => ({
          pwned: typeof window.pwned,
          links: document.querySelectorAll('a[href^="javascript" i]').length,
          handlers: document.querySelectorAll('[onerror], img[src="x"]').length,
          scripts: [...document.scripts]  // chart data is JSON (type application/json): inert
            .filter(s => !s.type || /javascript|module/i.test(s.type))
            .filter(s => s.textContent.includes('pwned')).length,
          text: document.body.innerText,
          svg: [...document.querySelectorAll('svg text')].map(t => t.textContent).join(' | '),
        }))()"""
    )
    assert found["pwned"] == "undefined", "a script from the data ran"
    assert found["links"] == 0 and found["handlers"] == 0 and found["scripts"] == 0
    # every hostile value is on the page, as text
    assert f"Data: {FILE_NAME}" in found["text"]
    if name in ("wait_times", "weekly_report"):  # service level warns of the unknown status
        assert STATUS in found["text"]
    assert CHANNEL in found["text"] or CHANNEL in found["svg"]
    errors, requests = browser.problems()
    assert requests == []  # not even the image "x"
    assert errors == []
