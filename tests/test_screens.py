"""The four reports on a phone (390 px) and a laptop (1280 px), measured in headless Chromium.

Each report is rendered once (module fixture) from two weeks of sample data. Chromium (network
off, ``tests/_browser.py``) emulates each screen through the DevTools protocol
(``Emulation.setDeviceMetricsOverride``), and ``Runtime.evaluate`` measures element boxes:
no table or chart is wider than the viewport or scrolls sideways, no text on the page is in
scientific notation, and chart text (the SVG Vega draws) is at least 10 px on screen.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import omnikit as ok

pytestmark = pytest.mark.slow

NAMES = ["channel_mix", "journeys", "wait_times", "weekly_report"]
SCREENS = {"phone": (390, 844, True), "laptop": (1280, 900, False)}

#: Everything measured on a page, in one evaluation.
MEASURE = r"""(() => {
  const vw = document.documentElement.clientWidth;  // the viewport less a scroll bar
  const out = {viewport: window.innerWidth, usable: vw, page: document.documentElement.scrollWidth,
               tables: 0, charts: 0,
               wide: [], scrolls: [], small: [], scientific: [], texts: 0};
  const name = el => (el.querySelector('caption, th') || el).textContent.trim().slice(0, 40);
  const outside = r => r.left < -0.5 || r.right > vw + 0.5;
  document.querySelectorAll('table').forEach((t, i) => {
    out.tables += 1;
    const r = t.getBoundingClientRect();
    if (outside(r)) out.wide.push(`table ${i} (${name(t)}): ${r.left}..${r.right}`);
  });
  document.querySelectorAll('table, .omnikit-table-wrap, .omnikit-chart, .jp-OutputArea-output')
    .forEach(box => {
      if (box.scrollWidth > box.clientWidth + 1)
        out.scrolls.push(`${box.className}: ${box.scrollWidth} > ${box.clientWidth}`);
    });
  document.querySelectorAll('.omnikit-chart svg.marks').forEach((svg, i) => {
    out.charts += 1;
    const r = svg.getBoundingClientRect();
    if (outside(r)) out.wide.push(`chart ${i}: ${r.left}..${r.right}`);
    svg.querySelectorAll('text').forEach(t => {
      if (!t.textContent.trim()) return;
      out.texts += 1;
      const m = t.getScreenCTM();
      const px = parseFloat(getComputedStyle(t).fontSize) * Math.hypot(m.a, m.b);
      if (px < 10) out.small.push(`chart ${i} "${t.textContent}": ${px.toFixed(1)} px`);
    });
  });
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walk.nextNode(); node; node = walk.nextNode()) {
    const tag = node.parentNode.nodeName.toLowerCase();
    if (tag === 'script' || tag === 'style') continue;
    if (/\d(\.\d+)?e[+-]?\d/i.test(node.textContent))
      out.scientific.push(node.textContent.trim().slice(0, 80));
  }
  return out;
})()"""


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, Path]:
    data = tmp_path_factory.mktemp("data")
    ok.synth_reports(data, 6000, seed=21, start="2024-09-02", days=14, windows=2)
    out = tmp_path_factory.mktemp("reports")
    return {name: ok.render_report(name, source=[data], out=out).html for name in NAMES}


@pytest.mark.parametrize("screen", list(SCREENS))
@pytest.mark.parametrize("name", NAMES)
def test_every_table_and_chart_fits_the_screen_and_reads(browser, reports, name, screen):
    width, height, mobile = SCREENS[screen]
    status = browser.open(reports[name], width=width, height=height, mobile=mobile)
    assert status["errors"] == [] and status["rendered"] == status["expected"] > 0
    found = browser.evaluate(MEASURE)
    assert found["viewport"] == width
    assert found["tables"] >= 1 and found["charts"] == status["expected"]
    assert found["texts"] > 20 * found["charts"] // 2  # the charts' text was measured
    assert found["page"] <= found["usable"] <= width, "the page scrolls sideways"
    assert found["wide"] == [], "wider than the screen"
    assert found["scrolls"] == [], "a table or chart needs a sideways scroll"
    assert found["small"] == [], "chart text under 10 px"
    assert found["scientific"] == [], "a number in scientific notation"
    errors, requests = browser.problems()
    assert errors == [] and requests == []


def test_tables_become_cards_on_a_phone_and_keep_every_column(browser, reports):
    browser.open(reports["weekly_report"], width=390, height=844, mobile=True)
    cards = browser.evaluate(
        """(() => { const t = document.querySelectorAll('table.omnikit-table')[0];
        const cells = [...t.querySelectorAll('tbody tr:first-child td')];
        return {display: getComputedStyle(t.querySelector('tr')).display,
                head: getComputedStyle(t.querySelector('thead')).display,
                labels: cells.map(c => getComputedStyle(c, '::before').content),
                visible: cells.every(c => c.getBoundingClientRect().width > 0)}; })()"""
    )
    assert cards["display"] == "block" and cards["head"] == "none" and cards["visible"]
    assert '"Previous week"' in cards["labels"] and '"Change"' in cards["labels"]
    browser.open(reports["weekly_report"], width=1280, height=900)
    display = browser.evaluate(
        "getComputedStyle(document.querySelector('table.omnikit-table tr')).display"
    )
    assert display == "table-row"
