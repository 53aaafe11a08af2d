"""Shareable HTML from executed notebooks: code hidden, readable on a phone, complete offline.

A report's charts are recorded in the notebook by the ``"omnikit"`` altair renderer (enabled by
the report notebooks): each chart output carries its Vega-Lite spec under :data:`CHART_MIMETYPE`
beside altair's usual HTML (which JupyterLab shows). :func:`export_html` turns every such output
into a placeholder and writes the Vega, Vega-Lite and vega-embed JavaScript into the page once,
followed by one small script that draws every chart with tooltips. Nothing on the page is
loaded from the network: no script, style sheet, font or image URL.
"""

from __future__ import annotations

import copy
import functools
import html
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # nbformat imports jsonschema: slow, so only where needed
    import nbformat


from ._errors import ParameterError

__all__ = ["CHART_MIMETYPE", "RESULTS_MIMETYPE", "export_html"]

#: Mime type under which the ``"omnikit"`` altair renderer records a chart's Vega-Lite spec.
CHART_MIMETYPE = "application/vnd.omnikit.vegalite+json"

#: Mime type under which report notebooks record their headline numbers (see ``ok.read_results``).
RESULTS_MIMETYPE = "application/vnd.omnikit.results+json"

# Vega-Lite outputs of other renderers ("mimetype", nteract, ...) are drawn as well.
_VEGALITE_PREFIX = "application/vnd.vegalite.v"

_TEMPLATE_NAME = "omnikit_report.html.j2"

_TEMPLATE = r"""
{%- extends 'lab/index.html.j2' -%}

{#- Nothing from a CDN: no require.js, MathJax or Mermaid. -#}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}

{%- block extra_css -%}
<meta name="generator" content="omnikit">
<style type="text/css">
  body.jp-Notebook { margin: 0 auto; max-width: 1100px; padding: 1rem 1.25rem 3rem; }
  .jp-Cell { padding: 0; }
  .jp-OutputArea-output { overflow-x: auto; max-width: 100%; }
  .jp-RenderedHTMLCommon table { font-size: 0.9rem; }
  table.omnikit-table { border-collapse: collapse; margin: 0.5rem 0 1rem; }
  table.omnikit-table th, table.omnikit-table td { padding: 0.3rem 0.7rem; border-bottom: 1px solid #ddd; }
  table.omnikit-table td { white-space: nowrap; }
  table.omnikit-table td:not(:first-child), table.omnikit-table th:not(:first-child) { text-align: right; }
  table.omnikit-table td:first-child { text-align: left; }
  table.omnikit-table caption { caption-side: top; text-align: left; font-weight: 600; padding-bottom: 0.3rem; }
  .omnikit-chart { max-width: 100%; overflow-x: auto; padding: 0.25rem 0 0.75rem; }
  .omnikit-chart-error { color: #b00020; }
  @media (max-width: 640px) {
    body.jp-Notebook { padding: 0.5rem 0.6rem 2rem; }
    .jp-RenderedHTMLCommon { font-size: 15px; line-height: 1.5; }
    .jp-RenderedHTMLCommon h1 { font-size: 1.5rem; }
    .jp-RenderedHTMLCommon h2 { font-size: 1.25rem; }
    .jp-RenderedHTMLCommon table { font-size: 0.8rem; display: block; overflow-x: auto; }
  }
</style>
{%- endblock extra_css -%}

{%- block footer_js -%}
{%- if resources.omnikit_charts -%}
<script type="text/javascript" id="omnikit-vega-bundle">
{{ resources.omnikit_vega_bundle }}
</script>
<script type="text/javascript" id="omnikit-draw-charts">
{{ resources.omnikit_embed_js }}
</script>
{%- endif -%}
{%- endblock footer_js -%}
"""

# Draws every chart placeholder; window.omnikitCharts tells a test (or a curious reader's
# console) how many charts there are, how many were drawn and what went wrong.
_EMBED_JS = r"""
(function () {
  var status = window.omnikitCharts = { expected: 0, rendered: 0, errors: [] };
  var specs = document.querySelectorAll('script.omnikit-chart-spec');
  var pending = [];
  specs.forEach(function (node) {
    status.expected += 1;
    var target = document.getElementById(node.getAttribute('data-target'));
    var drawn;
    try {
      drawn = vegaEmbed(target, JSON.parse(node.textContent), {
        mode: 'vega-lite',
        renderer: 'svg',
        actions: { export: true, source: false, compiled: false, editor: false }
      });
    } catch (err) {
      drawn = Promise.reject(err);
    }
    pending.push(drawn.then(function () {
      status.rendered += 1;
    }, function (err) {
      status.errors.push(String(err));
      target.className += ' omnikit-chart-error';
      target.textContent = 'This chart could not be drawn: ' + err;
      console.error(err);
    }));
  });
  status.done = Promise.all(pending).then(function () { return status; });
})();
"""


def _omnikit_renderer(spec: dict[str, Any], **metadata: Any) -> dict[str, Any]:
    """Altair renderer: the spec for the offline export plus altair's HTML for JupyterLab."""
    from altair.vegalite.v6.display import html_renderer

    bundle = dict(html_renderer(spec, **metadata))
    bundle[CHART_MIMETYPE] = spec
    bundle["text/plain"] = "<omnikit chart>"
    return bundle


@functools.lru_cache(maxsize=2)
def _vega_bundle(vl_version: str) -> str:
    """The Vega + Vega-Lite + vega-embed JavaScript (about 0.9 MB), made by vl-convert."""
    import vl_convert

    bundle = vl_convert.javascript_bundle(vl_version=vl_version)
    # A literal "</script" inside the bundle would end the page's <script> element early.
    return bundle.replace("</script", "<\\/script")


def _vegalite_version() -> str:
    """Altair's Vega-Lite version as ``"major.minor"`` (e.g. ``"6.4"``)."""
    import altair as alt

    major, minor = alt.SCHEMA_VERSION.lstrip("v").split(".")[:2]
    return f"{major}.{minor}"


def _spec_of(data: dict[str, Any]) -> dict[str, Any] | None:
    if CHART_MIMETYPE in data:
        return data[CHART_MIMETYPE]
    for mimetype, value in data.items():
        if mimetype.startswith(_VEGALITE_PREFIX) and mimetype.endswith("+json"):
            return value
    return None


def _json_for_script(value: Any) -> str:
    """JSON that is safe inside ``<script type="application/json">``: no ``<`` at all."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _prepare(nb: nbformat.NotebookNode) -> tuple[nbformat.NotebookNode, int]:
    """Copy ``nb`` with charts as placeholders and the recorded results dropped."""
    nb = copy.deepcopy(nb)
    charts = 0
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        outputs = []
        for output in cell.get("outputs", []):
            if output.get("output_type") in ("display_data", "execute_result"):
                data = output.get("data", {})
                spec = _spec_of(data)
                if spec is not None:
                    charts += 1
                    target = f"omnikit-chart-{charts}"
                    output["data"] = {
                        "text/html": (
                            f'<div class="omnikit-chart" id="{target}"></div>'
                            f'<script type="application/json" class="omnikit-chart-spec" '
                            f'data-target="{target}">{_json_for_script(spec)}</script>'
                        )
                    }
                    output["metadata"] = {}
                elif RESULTS_MIMETYPE in data:
                    continue
            outputs.append(output)
        cell["outputs"] = outputs
    return nb, charts


def export_html(
    notebook: str | os.PathLike[str] | nbformat.NotebookNode,
    path: str | os.PathLike[str] | None = None,
    *,
    title: str | None = None,
) -> str:
    """Export an executed notebook as one self-contained HTML page.

    Code cells are hidden (only their outputs show), the page reflows on a phone, and it loads
    nothing from the network: the Vega, Vega-Lite and vega-embed JavaScript is written into the
    page once, however many charts there are, and each chart is drawn from its spec with
    tooltips. Charts are the outputs of the ``"omnikit"`` altair renderer
    (``alt.renderers.enable("omnikit")``) or any Vega-Lite mime output; the results a report
    records for tests (:data:`RESULTS_MIMETYPE`) are left out.

    Parameters
    ----------
    notebook
        An executed notebook, as a path or an ``nbformat`` node.
    path
        Where to write the page (UTF-8). ``None`` only returns it.
    title
        The page title; by default the notebook's ``metadata.title`` or its file name.

    Returns
    -------
    The HTML page as a string.

    Examples
    --------
    >>> import omnikit as ok
    >>> page = ok.export_html("reports/weekly_report.ipynb", "reports/weekly_report.html")  # doctest: +SKIP
    """
    import jinja2
    import nbformat
    from nbconvert import HTMLExporter

    name = "report"
    if isinstance(notebook, nbformat.NotebookNode):
        nb = notebook
    else:
        source = Path(notebook)
        if not source.is_file():
            raise ParameterError(f"export_html: no notebook at {str(source)!r}")
        nb = nbformat.read(source, as_version=4)
        name = source.stem
    prepared, charts = _prepare(nb)
    if title is not None:
        prepared.metadata["title"] = title
    exporter = HTMLExporter(
        template_name="lab",
        template_file=_TEMPLATE_NAME,
        extra_loaders=[jinja2.DictLoader({_TEMPLATE_NAME: _TEMPLATE})],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
        sanitize_html=False,
    )
    resources: dict[str, Any] = {
        "metadata": {"name": html.escape(title or prepared.metadata.get("title") or name)},
        "omnikit_charts": charts,
        "omnikit_vega_bundle": _vega_bundle(_vegalite_version()) if charts else "",
        "omnikit_embed_js": _EMBED_JS,
    }
    page, _ = exporter.from_notebook_node(prepared, resources=resources)
    if path is not None:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(page, encoding="utf-8")
    return page
