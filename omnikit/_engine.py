"""The Jupyter kernel and the papermill engine that run a report notebook.

:class:`KeepOnErrorEngine` is papermill's nbclient engine that also writes the partly executed
notebook when a cell times out or the kernel dies (papermill itself only writes it after a
failing cell). It is registered under the name ``"omnikit"`` through papermill's
``papermill.engine`` entry point (``pyproject.toml``); :func:`_engine_name` registers it through
papermill's public ``register`` when omnikit runs from a source tree whose metadata does not
carry the entry point.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

from papermill.engines import NBClientEngine
from papermill.iorw import write_ipynb

from ._errors import ParameterError

__all__: list[str] = []

#: Name of the Jupyter kernel that ``make setup`` registers for the project.
KERNEL_NAME = "omnikit"

#: Name of :class:`KeepOnErrorEngine` among papermill's engines.
ENGINE_NAME = "omnikit"


class KeepOnErrorEngine(NBClientEngine):
    """As nbclient, and on a timeout or a dead kernel write the partly executed notebook."""

    @classmethod
    def execute_notebook(cls, nb, kernel_name, keep_on_error=None, **kwargs):  # type: ignore[no-untyped-def]
        try:
            return super().execute_notebook(nb, kernel_name, **kwargs)
        except BaseException:
            if keep_on_error:
                write_ipynb(nb, keep_on_error)
            raise


def _engine_name() -> str:
    """The name of :class:`KeepOnErrorEngine` in papermill, registered if the entry point is not."""
    from papermill.engines import papermill_engines
    from papermill.exceptions import PapermillException

    try:
        papermill_engines.get_engine(ENGINE_NAME)
    except PapermillException:  # a source tree without installed metadata: no entry point
        papermill_engines.register(ENGINE_NAME, KeepOnErrorEngine)
    return ENGINE_NAME


def _kernel_options(kernel_name: str | None) -> dict[str, Any]:
    """Papermill options for the kernel: the project's, else this interpreter's own."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    wanted = kernel_name or KERNEL_NAME
    try:
        KernelSpecManager().get_kernel_spec(wanted)
        return {"kernel_name": wanted}
    except NoSuchKernel:
        if kernel_name is not None:
            raise ParameterError(
                f"no Jupyter kernel named {kernel_name!r}; `jupyter kernelspec list` shows the "
                "installed ones"
            ) from None
    return {"kernel_name": "python3", "kernel_manager_class": _this_interpreter_kernel_manager()}


def _this_interpreter_kernel_manager() -> type:
    """A kernel manager that starts ``sys.executable -m ipykernel_launcher`` whatever the name."""
    from jupyter_client.kernelspec import KernelSpec
    from jupyter_client.manager import AsyncKernelManager

    class ThisInterpreterKernelManager(AsyncKernelManager):
        @property
        def kernel_spec(self) -> KernelSpec:
            return KernelSpec(
                argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                display_name=f"Python ({sys.executable})",
                language="python",
                resource_dir=tempfile.gettempdir(),
            )

    return ThisInterpreterKernelManager


def _failed_cell(output: Path) -> tuple[int | None, str]:
    """Index (in the kept output notebook) and first line of the cell that failed or hung."""
    import nbformat

    try:
        nb = nbformat.read(output, as_version=4)
    except (OSError, ValueError):
        return None, "?"
    for index, cell in enumerate(nb.cells):
        status = cell.get("metadata", {}).get("papermill", {}).get("status")
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if status in ("failed", "running") or errors:
            lines = cell.source.strip().splitlines()
            return index, (lines[0][:80] if lines else "")
    return None, "?"
