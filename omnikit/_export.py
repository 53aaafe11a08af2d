"""Shareable HTML from executed notebooks: code hidden, readable on a phone, complete offline.

Charts are the outputs of the ``"omnikit"`` altair renderer (``ok.enable_charts()``), which
record each chart's Vega-Lite spec under :data:`CHART_MIMETYPE`, or any Vega-Lite mime output.
:func:`export_html` (and ``jupyter nbconvert --to omnikit``) turns
every chart into a placeholder and writes the Vega, Vega-Lite and vega-embed JavaScript into the
page once, followed by one small script that draws every chart with tooltips. Nothing on the page
is loaded from the network: no script, style sheet, font or image URL.
"""

from __future__ import annotations

import copy
import html
import os
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # nbformat imports jsonschema: slow, so only where needed
    import nbformat


from ._errors import ParameterError

# The "omnikit" altair renderer is registered (entry point, omnikit.charts) under this name.
from ._renderer import (  # noqa: F401
    BUNDLE_MARKER,
    _omnikit_renderer,
    container_width,
    json_for_script,
)

__all__ = ["CHART_MIMETYPE", "RESULTS_MIMETYPE", "export_html"]

#: Mime type under which the ``"omnikit"`` altair renderer records a chart's Vega-Lite spec (the
#: one JupyterLab 4 draws with its own Vega).
CHART_MIMETYPE = "application/vnd.vegalite.v5+json"

# What omnikit 0.x recorded charts under; such notebooks still export.
_OLD_CHART_MIMETYPE = "application/vnd.omnikit.vegalite+json"

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
  table.omnikit-table th, table.omnikit-table td {
    padding: 0.3rem 0.7rem; border-bottom: 1px solid #ddd;
  }
  table.omnikit-table td { white-space: nowrap; }
  table.omnikit-table td:not(:first-child),
  table.omnikit-table th:not(:first-child) { text-align: right; }
  table.omnikit-table td:first-child { text-align: left; }
  table.omnikit-table caption {
    caption-side: top; text-align: left; font-weight: 600; padding-bottom: 0.3rem;
  }
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

# The report content's own rules (tables that reflow on a phone, coloured changes, charts at the
# column's width): omnikit/assets/report.css, added after the page's.
_TEMPLATE = _TEMPLATE.replace(
    "{%- endblock extra_css -%}",
    '<style type="text/css" id="omnikit-report-css">{% raw %}'
    + files("omnikit").joinpath("assets/report.css").read_text(encoding="utf-8")
    + "{% endraw %}</style>\n{%- endblock extra_css -%}",
)

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


def _spec_of(data: dict[str, Any]) -> dict[str, Any] | None:
    """The chart spec of an output, container-wide where the chart was (the notebook's copy is
    fixed-width for JupyterLab's own Vega)."""
    for mimetype in (CHART_MIMETYPE, _OLD_CHART_MIMETYPE):
        if mimetype in data:
            return container_width(data[mimetype])
    for mimetype, value in data.items():
        if mimetype.startswith(_VEGALITE_PREFIX) and mimetype.endswith("+json"):
            return container_width(value)
    return None


def _prepare(nb: nbformat.NotebookNode) -> tuple[nbformat.NotebookNode, int]:
    """Copy ``nb`` with charts as placeholders, and recorded results and JavaScript dropped."""
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
                            f'data-target="{target}">{json_for_script(spec)}</script>'
                        )
                    }
                    output["metadata"] = {}
                elif RESULTS_MIMETYPE in data or BUNDLE_MARKER in output.get("metadata", {}):
                    continue  # recorded numbers, and the notebook's own copy of the JavaScript
            outputs.append(output)
        cell["outputs"] = outputs
    return nb, charts


def results_output(values: dict[str, Any]) -> dict[str, Any]:
    """The output data that records a report's numbers: JSON, plus a one-line text for people.

    The text (``omnikit results: name, name, ...``) lets JupyterLab and ``jupyter nbconvert``
    show the output instead of warning that they cannot; :func:`export_html` leaves it out.

    Parameters
    ----------
    values
        JSON-ready values by name.

    Returns
    -------
    A mime bundle for ``IPython.display.display(..., raw=True)``.

    Examples
    --------
    >>> results_output({"interactions": 1234})["text/plain"]
    'omnikit results: interactions'
    """
    return {RESULTS_MIMETYPE: values, "text/plain": "omnikit results: " + ", ".join(values)}


def export_html(
    notebook: str | os.PathLike[str] | nbformat.NotebookNode,
    path: str | os.PathLike[str] | None = None,
    *,
    title: str | None = None,
) -> Path:
    """Export an executed notebook as one self-contained HTML page, and return its path.

    Code cells are hidden (only their outputs show), the page reflows on a phone, and it loads
    nothing from the network: the Vega, Vega-Lite and vega-embed JavaScript is written into the
    page once, however many charts there are, and each chart is drawn from its spec with
    tooltips. Charts are the outputs of the ``"omnikit"`` renderer (:func:`enable_charts`) or
    any Vega-Lite mime output; the results a report records (:data:`RESULTS_MIMETYPE`) and the
    notebook's own copy of the JavaScript are left out. ``jupyter nbconvert --to omnikit`` does
    the same from the command line.

    Parameters
    ----------
    notebook
        An executed notebook, as a path or an ``nbformat`` node.
    path
        Where to write the page (UTF-8); by default beside the notebook, as ``NAME.html``
        (required when ``notebook`` is a node).
    title
        The page title; by default the notebook's ``metadata.title`` or its file name.

    Returns
    -------
    The path of the page written (a short value to show in a cell, not the page itself).

    Examples
    --------
    >>> import omnikit as ok
    >>> ok.export_html("reports/weekly_report.ipynb")  # doctest: +SKIP
    PosixPath('reports/weekly_report.html')
    """
    import nbformat

    name = "report"
    if isinstance(notebook, nbformat.NotebookNode):
        nb = notebook
        if path is None:
            raise ParameterError(
                "export_html: give path= (where to write the page) for a notebook given in memory"
            )
    else:
        source = Path(notebook)
        if not source.is_file():
            raise ParameterError(f"export_html: no notebook at {str(source)!r}")
        nb = nbformat.read(source, as_version=4)
        name = source.stem
        path = source.with_suffix(".html") if path is None else path
    if title is not None:
        nb = copy.copy(nb)
        nb.metadata = copy.deepcopy(nb.metadata)
        nb.metadata["title"] = title
    resources = {"metadata": {"name": html.escape(title or nb.metadata.get("title") or name)}}
    from ._nbconvert import OmnikitExporter

    page, _ = OmnikitExporter().from_notebook_node(nb, resources=resources)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(page, encoding="utf-8")
    return target
