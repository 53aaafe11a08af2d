"""ok.export_html: code hidden, phone-friendly, complete offline, Vega inlined once per page.

The notebooks here are built by hand with the outputs a kernel would have produced, so the
tests need no kernel; ``tests/test_browser.py`` opens such pages in a real browser.
"""

from __future__ import annotations

import json
import re
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import altair as alt
import nbformat
import polars as pl
import pytest

import omnikit as ok

SECRET_CODE = "secret_variable_name = 'code must not show'"


def chart(n: int) -> dict:
    data = pl.DataFrame(
        {"channel": ["VOICE", "CHAT", f"</script><b>{n}"], "interactions": [n, 2 * n, 3]}
    )
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(x="interactions:Q", y="channel:N", tooltip=["channel", "interactions"])
        .to_dict()
    )


def executed_notebook(charts: int = 3) -> nbformat.NotebookNode:
    """What a report notebook looks like after papermill: prose, hidden code, outputs."""
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell("# Weekly report\n\nVolume rose by **12%**."))
    for n in range(charts):
        cell = nbformat.v4.new_code_cell(f"{SECRET_CODE}\nchart_{n}")
        cell.outputs = [
            nbformat.v4.new_output(
                "display_data",
                data={
                    ok.CHART_MIMETYPE: chart(n),
                    "text/html": "<div>altair html</div>",
                    "text/plain": "<chart>",
                },
            )
        ]
        nb.cells.append(cell)
    table = nbformat.v4.new_code_cell("table")
    table.outputs = [
        nbformat.v4.new_output(
            "execute_result",
            data={
                "text/html": "<table><tr><td>VOICE</td><td>42</td></tr></table>",
                "text/plain": "table",
            },
            execution_count=1,
        ),
        nbformat.v4.new_output(
            "display_data", data={ok.RESULTS_MIMETYPE: {"recorded_number": 987654321012}}
        ),
    ]
    nb.cells.append(table)
    return nb


class Resources(HTMLParser):
    """Every URL the page would fetch: script src, link href (style sheets, icons), img src."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "script":
            self.scripts += 1
        for name in ("src", "href", "data", "poster", "srcset"):
            value = attributes.get(name)
            if value and not value.startswith(("#", "data:")):
                if tag == "a" and name == "href":
                    continue  # a link the reader may click is not a resource the page loads
                self.urls.append(f"{tag} {name}={value}")


def export(nb: nbformat.NotebookNode, **options) -> str:
    """The page ``ok.export_html`` writes for ``nb``."""
    with tempfile.TemporaryDirectory() as folder:
        path = ok.export_html(nb, Path(folder) / "page.html", **options)
        return path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def page() -> str:
    return export(executed_notebook(3))


def test_code_is_hidden_and_prose_and_outputs_are_shown(page):
    assert "secret_variable_name" not in page
    assert "Volume rose by" in page
    assert "<td>VOICE</td>" in page


def test_vega_is_inlined_once_however_many_charts(page):
    one = export(executed_notebook(1))
    assert page.count('class="omnikit-chart-spec"') == 3
    assert page.count('id="omnikit-vega-bundle"') == one.count('id="omnikit-vega-bundle"') == 1
    assert page.count("vegaEmbed") == one.count("vegaEmbed")
    assert len(page) - len(one) < 20_000  # two more charts add their specs, not another bundle


def test_no_resource_is_loaded_from_the_network(page):
    parser = Resources()
    parser.feed(page)
    assert parser.urls == []
    assert not re.search(r"@import\s+url\(\s*['\"]?https?:", page)
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", page)
    assert "cdn.jsdelivr" not in page and "cdnjs" not in page and "require.js" not in page


def test_page_is_readable_on_a_phone(page):
    assert re.search(r'<meta content="width=device-width[^"]*" name="viewport"', page)
    assert "@media (max-width: 640px)" in page


def test_specs_are_embedded_safely(page):
    specs = re.findall(
        r'<script class="omnikit-chart-spec" data-target="([^"]+)" type="application/json">'
        r"(.*?)</script>",
        page,
        flags=re.S,
    )
    assert [target for target, _ in specs] == [
        "omnikit-chart-1",
        "omnikit-chart-2",
        "omnikit-chart-3",
    ]
    first = json.loads(specs[0][1])
    assert first["encoding"]["tooltip"] == chart(0)["encoding"]["tooltip"]
    values = next(iter(first["datasets"].values()))
    assert (
        values[2]["channel"] == "</script><b>0"
    )  # survives the round trip, never ends the tag early
    for target, _ in specs:
        assert f'id="{target}"' in page


def test_recorded_results_are_left_out_of_the_page(page):
    assert "987654321012" not in page
    assert ok.RESULTS_MIMETYPE not in page


def test_a_page_without_charts_carries_no_javascript_bundle():
    nb = executed_notebook(0)
    page = export(nb)
    assert 'id="omnikit-vega-bundle"' not in page and "vegaEmbed" not in page
    assert len(page) < 400_000


@pytest.mark.parametrize(
    "mimetype",
    [
        "application/vnd.vegalite.v6+json",  # altair's "mimetype" renderer, nteract
        "application/vnd.omnikit.vegalite+json",  # notebooks made by earlier omnikit versions
    ],
)
def test_vegalite_outputs_of_other_renderers_are_drawn_too(mimetype):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("chart")
    cell.outputs = [nbformat.v4.new_output("display_data", data={mimetype: chart(1)})]
    nb.cells.append(cell)
    page = export(nb)
    assert page.count('class="omnikit-chart-spec"') == 1


def renderer_outputs(charts: int) -> list[dict]:
    """What the "omnikit" renderer gives for ``charts`` charts in a fresh kernel."""
    from omnikit import _renderer

    _renderer._carrier.update(cell=None, request=None, written=None)  # a fresh kernel
    previous = alt.renderers.active
    try:
        alt.renderers.enable("omnikit")
        bundles = []
        for n in range(charts):
            data, metadata = (
                alt.Chart(pl.DataFrame({"a": [n]})).mark_point().encode(x="a")._repr_mimebundle_()
            )
            bundles.append({"data": data, "metadata": metadata})
    finally:
        alt.renderers.enable(previous)
    return bundles


def test_the_omnikit_renderer_gives_jupyterlab_its_vegalite_and_pages_their_javascript():
    first, second, third = renderer_outputs(3)
    for output in (first, second, third):
        assert output["data"][ok.CHART_MIMETYPE]["mark"] == {"type": "point"}
        assert ok.CHART_MIMETYPE == "application/vnd.vegalite.v5+json"  # JupyterLab 4 draws it
        assert "vegaEmbed(target, spec" in output["data"]["application/javascript"]
        assert output["data"]["text/plain"] == "<omnikit chart>"
        assert "text/html" not in output["data"]  # JupyterLab would prefer it to its Vega
        assert output["metadata"][ok.CHART_MIMETYPE]["embed_options"]["actions"]["editor"] is False
    # the Vega JavaScript goes into the first chart of the kernel only
    assert len(first["data"]["application/javascript"]) > 500_000
    assert len(second["data"]["application/javascript"]) < 5_000
    assert len(third["data"]["application/javascript"]) < 5_000
    assert "window.vegaEmbed=" in first["data"]["application/javascript"]
    assert "window.vegaEmbed=" not in second["data"]["application/javascript"]


def test_the_bundle_is_written_again_when_its_cell_runs_again(monkeypatch):
    from omnikit import _renderer

    runs = [("cell-a", "run-1"), ("cell-b", "run-2"), ("cell-a", "run-3")]
    now: list[tuple[str, str]] = []
    monkeypatch.setattr(_renderer, "_request", lambda: now[-1])
    _renderer._carrier.update(cell=None, request=None, written=None)
    carried = []
    for run in runs:
        now.append(run)
        data, _ = _renderer._omnikit_renderer({"mark": "point"})
        carried.append("window.vegaEmbed=" in data["application/javascript"])
    assert carried == [True, False, True]


def test_renderer_output_exports_with_one_bundle(tmp_path):
    from omnikit import _renderer

    nb = nbformat.v4.new_notebook()
    setup = nbformat.v4.new_code_cell("ok.enable_charts()")
    data, metadata = _renderer._bundle_output()  # what ok.enable_charts() displays
    setup.outputs = [nbformat.v4.new_output("display_data", data=data, metadata=metadata)]
    nb.cells.append(setup)
    for output in renderer_outputs(10):
        cell = nbformat.v4.new_code_cell("chart")
        cell.outputs = [nbformat.v4.new_output("display_data", **output)]
        nb.cells.append(cell)
    page = export(nb)
    assert page.count('class="omnikit-chart-spec"') == 10
    assert page.count("window.vegaEmbed=") == 1  # the notebook's own copies are left out
    assert "Charts draw offline" not in page  # and so is the note of the setup cell
    nbformat.write(nb, tmp_path / "ten.ipynb")
    assert (tmp_path / "ten.ipynb").stat().st_size < 3_000_000


def test_recorded_results_have_a_text_for_people():
    output = ok._export.results_output({"interactions": 3, "service_level": 0.8})
    assert output[ok.RESULTS_MIMETYPE] == {"interactions": 3, "service_level": 0.8}
    assert output["text/plain"] == "omnikit results: interactions, service_level"


def test_writes_the_page_and_returns_its_path(tmp_path):
    source = tmp_path / "weekly.ipynb"
    nbformat.write(executed_notebook(1), source)
    target = tmp_path / "out" / "weekly.html"
    assert ok.export_html(source, target) == target
    page = target.read_text(encoding="utf-8")
    assert "<title>weekly</title>" in page
    beside = ok.export_html(source, title="My title")
    assert beside == tmp_path / "weekly.html"  # beside the notebook by default
    assert "<title>My title</title>" in beside.read_text(encoding="utf-8")
    assert len(repr(beside)) < 200  # a cell that ends with it shows the path, not the page


def test_a_missing_notebook_is_a_clear_error(tmp_path):
    with pytest.raises(ok.ParameterError, match="no notebook at"):
        ok.export_html(tmp_path / "nope.ipynb")
    with pytest.raises(ok.ParameterError, match="give path="):
        ok.export_html(executed_notebook(1))


def test_container_wide_charts_have_a_fixed_width_in_jupyterlab_and_the_container_in_pages():
    # JupyterLab's own Vega sizes its output area from the chart: a "container" width there
    # grows without end, so the notebook's Vega-Lite copy is fixed-width; pages keep the
    # container's width (a phone's screen).
    from omnikit import _renderer

    chart = alt.vconcat(
        alt.Chart(pl.DataFrame({"x": [1, 2]}))
        .mark_bar()
        .encode(x="x")
        .properties(width="container"),
        alt.Chart(pl.DataFrame({"x": [3]})).mark_point().encode(x="x").properties(width=300),
    ).properties(usermeta={"mine": 1})
    data, _ = _renderer._omnikit_renderer(chart.to_dict())
    lab = data[ok.CHART_MIMETYPE]
    assert lab["vconcat"][0]["width"] == _renderer.LAB_WIDTH
    assert lab["vconcat"][1]["width"] == 300
    assert '"container"' in data["application/javascript"]  # pages draw container-wide
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("chart")
    cell.outputs = [nbformat.v4.new_output("display_data", data=data)]
    nb.cells.append(cell)
    spec = json.loads(
        re.search(r'class="omnikit-chart-spec"[^>]*>(.*?)</script>', export(nb), re.S).group(1)
    )
    assert spec["vconcat"][0]["width"] == "container"
    assert spec["vconcat"][1]["width"] == 300
    assert spec["usermeta"] == {"mine": 1}  # the user's own usermeta is kept, ours removed
