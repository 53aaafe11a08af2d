"""The ``omnikit`` nbconvert exporter: ``jupyter nbconvert --to omnikit NOTEBOOK.ipynb``.

Registered under nbconvert's ``nbconvert.exporters`` entry point; it writes the same page as
:func:`omnikit.export_html`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nbconvert import HTMLExporter
from traitlets import default

from ._export import _EMBED_JS, _TEMPLATE, _TEMPLATE_NAME, _prepare
from ._renderer import vega_bundle

if TYPE_CHECKING:
    import nbformat

__all__ = ["OmnikitExporter"]


class OmnikitExporter(HTMLExporter):
    """nbconvert exporter ``omnikit``: the report page of :func:`export_html` for any notebook.

    ``jupyter nbconvert --to omnikit NOTEBOOK.ipynb`` writes ``NOTEBOOK.html``: code hidden,
    phone-friendly, the Vega JavaScript inlined once, nothing loaded from the network.

    Examples
    --------
    >>> from omnikit._export import OmnikitExporter
    >>> page, _ = OmnikitExporter().from_filename("reports/weekly_report.ipynb")  # doctest: +SKIP
    """

    export_from_notebook = "omnikit report (offline HTML)"

    @default("template_name")
    def _template_name_default(self) -> str:
        return "lab"

    @default("template_file")
    def _template_file_default(self) -> str:
        return _TEMPLATE_NAME

    @default("extra_loaders")
    def _extra_loaders_default(self) -> list[Any]:
        import jinja2

        return [jinja2.DictLoader({_TEMPLATE_NAME: _TEMPLATE})]

    @default("exclude_input")
    def _exclude_input_default(self) -> bool:
        return True

    @default("exclude_input_prompt")
    def _exclude_input_prompt_default(self) -> bool:
        return True

    @default("exclude_output_prompt")
    def _exclude_output_prompt_default(self) -> bool:
        return True

    @default("embed_images")
    def _embed_images_default(self) -> bool:
        return True

    def from_notebook_node(  # type: ignore[override]  # HTMLExporter returns the page text
        self, nb: nbformat.NotebookNode, resources: dict[str, Any] | None = None, **kw: Any
    ) -> tuple[str, dict[str, Any]]:
        """Export ``nb`` with its charts drawn from one inlined copy of the Vega JavaScript."""
        prepared, charts = _prepare(nb)
        resources = dict(resources or {})
        resources["omnikit_charts"] = charts
        resources["omnikit_vega_bundle"] = vega_bundle() if charts else ""
        resources["omnikit_embed_js"] = _EMBED_JS
        return super().from_notebook_node(prepared, resources, **kw)
