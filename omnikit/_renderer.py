"""Charts that draw with no network wherever a notebook is shown.

The ``"omnikit"`` altair renderer (:func:`enable_charts`, or ``alt.renderers.enable("omnikit")``)
gives every chart output two representations of one Vega-Lite spec:

- ``application/vnd.vegalite.v5+json`` (:data:`~omnikit.CHART_MIMETYPE`): drawn by JupyterLab's
  built-in Vega renderer, which ships inside JupyterLab (nothing from a CDN) and is safe, so it
  draws in untrusted notebooks, for example a report opened after papermill ran it. It is also
  what :func:`omnikit.export_html` reads.
- ``application/javascript``: a few lines that draw the chart with vega-embed. nbconvert's HTML
  pages (``jupyter nbconvert --to html``, with or without ``--no-input``) run it, and so does
  JupyterLab for trusted outputs (those of a running kernel, or a notebook saved by the user),
  where its JavaScript renderer ranks above the Vega one.

The Vega, Vega-Lite and vega-embed JavaScript (vl-convert's bundle, about 0.9 MB) is written once
per notebook: into the output of :func:`enable_charts`, or, when only the renderer is enabled,
into the first chart of the kernel session (again when that cell runs again, and after a
restart). Later charts wait for it on the page. Nothing is ever loaded from the network.
"""

from __future__ import annotations

import copy
import functools
import importlib.metadata
import json
import os
import tempfile
from typing import Any

__all__ = ["enable_charts"]

#: Output metadata key marking the output that carries the Vega JavaScript.
BUNDLE_MARKER = "omnikit/vega-bundle"

# vega-embed's actions, everywhere: save as SVG/PNG, never "open in the online editor".
_ACTIONS = {"export": True, "source": False, "compiled": False, "editor": False}

# Runs the bundle once per page, then draws the charts that were waiting for it.
_BUNDLE_JS = """(function () {
  if (!window.vegaEmbed) {
    (function () {
%(bundle)s
    })();
  }
  var waiting = window.omnikitVegaQueue || [];
  window.omnikitVegaQueue = { push: function (draw) { draw(); } };
  waiting.forEach(function (draw) { draw(); });
})();
"""

# Draws one chart in its output: `element` where JupyterLab (trusted) or an nbconvert page runs it,
# else the parent of the script. window.omnikitCharts counts the charts (expected, rendered,
# errors, done) like the page omnikit.export_html writes.
_CHART_JS = """(function (element) {
  var host = element && element.jquery ? element[0] : element;
  if (!host) host = document.currentScript ? document.currentScript.parentNode : document.body;
  var target = document.createElement('div');
  target.className = 'omnikit-chart';
  host.appendChild(target);
  var spec = %(spec)s;
  var status = window.omnikitCharts =
    window.omnikitCharts || { expected: 0, rendered: 0, errors: [] };
  status.pending = status.pending || [];
  status.expected += 1;
  var drawn = new Promise(function (resolve, reject) {
    var started = false;
    var queue = window.omnikitVegaQueue = window.omnikitVegaQueue || [];
    queue.push(function () {
      started = true;
      try {
        vegaEmbed(target, spec, %(options)s).then(resolve, reject);
      } catch (err) {
        reject(err);
      }
    });
    var missing = function () {
      if (!started) {
        reject(new Error('the Vega JavaScript is not in this notebook; run ok.enable_charts() ' +
          '(or Restart Kernel and Run All Cells) and save the notebook again'));
      }
    };
    if (document.readyState === 'complete') setTimeout(missing, 10000);
    else window.addEventListener('load', missing);
  }).then(function () {
    status.rendered += 1;
  }, function (err) {
    status.errors.push(String(err));
    target.className += ' omnikit-chart-error';
    target.textContent = 'This chart could not be drawn: ' + err.message;
    console.error(err);
  });
  status.pending.push(drawn);
  status.done = Promise.all(status.pending).then(function () { return status; });
})(typeof element === 'undefined' ? null : element);
"""

_NOTE = (
    '<div class="omnikit-charts-note" style="color:#666;font-size:0.85em">'
    "Charts draw offline (Vega-Lite {version}; its JavaScript is kept in this output for "
    "<code>jupyter nbconvert --to html</code>).</div>"
)

# Which output carries the bundle in this kernel: the cell id and request id that wrote it.
_carrier: dict[str, str | None] = {"cell": None, "request": None, "written": None}


def _vegalite_version() -> str:
    """Altair's Vega-Lite version as ``"major.minor"`` (e.g. ``"6.4"``)."""
    import altair as alt

    major, minor = alt.SCHEMA_VERSION.lstrip("v").split(".")[:2]
    return f"{major}.{minor}"


@functools.lru_cache(maxsize=2)
def vega_bundle(vl_version: str | None = None) -> str:
    """The Vega + Vega-Lite + vega-embed JavaScript (about 0.9 MB), safe inside ``<script>``.

    vl-convert makes it (offline, from the JavaScript it ships); it takes a few seconds, so it is
    kept in omnikit's cache directory for the next kernel.

    Parameters
    ----------
    vl_version
        Vega-Lite ``"major.minor"``; by default altair's.

    Returns
    -------
    The JavaScript source. It defines ``vegaEmbed``, ``vega`` and ``vegaLite`` on ``window``.

    Examples
    --------
    >>> from omnikit._renderer import vega_bundle
    >>> "vegaEmbed" in vega_bundle()  # doctest: +SKIP
    True
    """
    import vl_convert

    from ._cache import cache_dir

    version = vl_version or _vegalite_version()
    release = importlib.metadata.version("vl-convert-python")
    cached = cache_dir() / "javascript" / f"vega-{release}-vl{version}.js"
    try:
        return cached.read_text(encoding="utf-8")
    except OSError:
        pass
    # A literal "</script" inside the bundle would end the page's <script> element early.
    # the default snippet sets window.vegaEmbed, vega and vegaLite (the stub wants a snippet)
    bundle = vl_convert.javascript_bundle(vl_version=version)  # type: ignore[call-arg]
    bundle = bundle.replace("</script", "<\\/script")
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=cached.parent, delete=False, suffix=".tmp"
        ) as handle:
            handle.write(bundle)
        os.replace(handle.name, cached)
    except OSError:  # pragma: no cover - a read-only cache only costs time
        pass
    return bundle


def json_for_script(value: Any) -> str:
    """JSON that is safe inside a ``<script>`` element: no ``<`` at all, no line separators."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _bundle_output() -> tuple[dict[str, Any], dict[str, Any]]:
    version = _vegalite_version()
    data = {
        "application/javascript": _BUNDLE_JS % {"bundle": vega_bundle(version)},
        "text/html": _NOTE.format(version=version),
        "text/plain": f"omnikit: charts draw offline (Vega-Lite {version})",
    }
    return data, {BUNDLE_MARKER: version}


def _request() -> tuple[str | None, str | None]:
    """The running cell's id and request id, when a Jupyter kernel runs it."""
    try:
        from IPython import get_ipython

        kernel = getattr(get_ipython(), "kernel", None)
        parent = kernel.get_parent() if kernel is not None else {}
    except Exception:  # pragma: no cover - no IPython, or an old kernel
        return None, None
    cell = (parent.get("metadata") or {}).get("cellId")
    request = (parent.get("header") or {}).get("msg_id")
    return cell, request


def _must_carry_bundle() -> bool:
    """True when this output must carry the bundle: first in the kernel, or its cell re-ran."""
    cell, request = _request()
    if _carrier["written"] is None:
        return True
    return cell is not None and cell == _carrier["cell"] and request != _carrier["request"]


def _carry_bundle_here() -> None:
    cell, request = _request()
    _carrier.update(cell=cell, request=request, written="yes")


#: The width JupyterLab's own Vega draws a container-wide chart at. Lab's output area takes its
#: height from the chart and a "container" width from the output area, so a container-wide view
#: there can grow without end; pages (the JavaScript form) keep the container's width.
LAB_WIDTH = 640


#: Where a Lab copy of a spec records the places that were ``"container"`` wide.
CONTAINER_PATHS = "omnikit_container_widths"


def _fixed_width(spec: dict[str, Any], width: int = LAB_WIDTH) -> dict[str, Any]:
    """``spec`` with every ``"width": "container"`` (top level, layers, concatenations) set to
    ``width`` pixels, for viewers whose container has no width of its own. The places changed
    are listed in ``usermeta`` so that :func:`container_width` can put them back."""
    paths: list[list[str | int]] = []

    def fix(node: Any, path: list[str | int]) -> Any:
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if key == "width" and value == "container":
                    paths.append([*path, key])
                    out[key] = width
                else:
                    out[key] = fix(value, [*path, key])
            return out
        if isinstance(node, list):
            return [fix(item, [*path, i]) for i, item in enumerate(node)]
        return node

    fixed: dict[str, Any] = fix(spec, [])
    if paths:
        fixed["usermeta"] = {**fixed.get("usermeta", {}), CONTAINER_PATHS: paths}
    return fixed


def container_width(spec: dict[str, Any]) -> dict[str, Any]:
    """Undo :func:`_fixed_width`: the spec as the chart made it, container-wide where it was."""
    meta = spec.get("usermeta")
    if not isinstance(meta, dict) or CONTAINER_PATHS not in meta:
        return spec
    spec = copy.deepcopy(spec)
    for path in spec["usermeta"].pop(CONTAINER_PATHS):
        node = spec
        for step in path[:-1]:
            node = node[step]
        node[path[-1]] = "container"
    if not spec["usermeta"]:
        del spec["usermeta"]
    return spec


def _omnikit_renderer(spec: dict[str, Any], **metadata: Any) -> tuple[dict, dict]:
    """The ``"omnikit"`` altair renderer: one chart, drawable offline in Lab, pages and exports."""
    from ._export import CHART_MIMETYPE

    chart_js = _CHART_JS % {
        "spec": json_for_script(spec),
        "options": json.dumps({"mode": "vega-lite", "renderer": "svg", "actions": _ACTIONS}),
    }
    output_metadata: dict[str, Any] = {
        CHART_MIMETYPE: {"embed_options": {"actions": _ACTIONS, "renderer": "svg", **metadata}}
    }
    if _must_carry_bundle():
        bundle, marker = _bundle_output()
        chart_js = bundle["application/javascript"] + chart_js
        output_metadata.update(marker)
        _carry_bundle_here()
    title = spec.get("title")
    if isinstance(title, dict):
        title = title.get("text")
    data = {
        CHART_MIMETYPE: _fixed_width(spec),
        "application/javascript": chart_js,
        "text/plain": f"<omnikit chart: {title}>" if title else "<omnikit chart>",
    }
    return data, output_metadata


def enable_charts() -> None:
    """Make every altair chart in this notebook draw offline: in JupyterLab and in shared pages.

    Enables the ``"omnikit"`` altair renderer and, in a notebook, writes the Vega JavaScript into
    this cell's output once (a one-line note in JupyterLab). Charts then draw with no network in
    JupyterLab (running, and reopened, trusted or not), in ``jupyter nbconvert --to html``
    pages, and in :func:`omnikit.export_html`. Call it once, near the top of the notebook.

    Returns
    -------
    None

    Examples
    --------
    >>> import omnikit as ok
    >>> ok.enable_charts()  # doctest: +SKIP
    """
    import altair as alt

    alt.renderers.register("omnikit", _omnikit_renderer)
    alt.renderers.enable("omnikit")
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # pragma: no cover - IPython comes with ipykernel
        return
    if getattr(get_ipython(), "kernel", None) is None:
        return  # not in a notebook: nothing to write the JavaScript into
    data, metadata = _bundle_output()
    display(data, metadata=metadata, raw=True)
    _carry_bundle_here()
