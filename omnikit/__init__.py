"""omnikit: Talkdesk Customer Omnichannel Reports as typed polars frames, metrics and reports.

>>> import omnikit as ok
>>> df = ok.load("week1.json", timezone="Europe/Lisbon")  # doctest: +SKIP

The public surface is ``__all__``; ``tests/test_exported_members.py`` keeps it exact.
Each line below re-exports one module's own ``__all__``.
"""

from . import (
    _customers,
    _errors,
    _export,
    _fetch,
    _format,
    _io,
    _journeys,
    _metrics,
    _parameters,
    _redact,
    _render,
    _renderer,
    _report_data,
    _results,
    _schema,
    _store,
    _summary,
    _synth,
)
from ._customers import *
from ._errors import *
from ._export import *
from ._fetch import *
from ._format import *
from ._io import *
from ._journeys import *
from ._metrics import *
from ._parameters import *
from ._redact import *
from ._render import *
from ._renderer import *
from ._report_data import *
from ._results import *
from ._schema import *
from ._store import *
from ._summary import *
from ._synth import *
from ._version import __version__ as __version__


def __getattr__(name: str) -> object:
    """``ok.charts``, ``ok.explore`` and ``ok.testing`` load on first use (altair, httpx)."""
    if name in ("charts", "explore", "testing"):
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'omnikit' has no attribute {name!r}")


__all__ = [
    *_errors.__all__,
    *_export.__all__,
    *_format.__all__,
    *_renderer.__all__,
    *_redact.__all__,
    *_parameters.__all__,
    *_render.__all__,
    *_report_data.__all__,
    *_results.__all__,
    *_io.__all__,
    *_metrics.__all__,
    *_customers.__all__,
    *_journeys.__all__,
    *_schema.__all__,
    *_store.__all__,
    *_summary.__all__,
    *_fetch.__all__,
    *_synth.__all__,
]
