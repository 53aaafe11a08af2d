"""omnikit: Talkdesk Customer Omnichannel Reports as typed polars frames, metrics and reports.

>>> import omnikit as ok
>>> df = ok.load("week1.json", timezone="Europe/Lisbon")  # doctest: +SKIP

The public surface is ``__all__``; ``tests/test_exported_members.py`` keeps it exact.
Each line below re-exports one module's own ``__all__``.
"""

from . import _errors, _io, _schema, _synth
from ._errors import *  # noqa: F403
from . import _export, _redact, _report
from ._export import *  # noqa: F403
from ._redact import *  # noqa: F403
from ._report import *  # noqa: F403
from ._io import *  # noqa: F403
from . import _metrics
from . import _customers, _journeys
from ._metrics import *  # noqa: F403
from ._customers import *  # noqa: F403
from ._journeys import *  # noqa: F403
from ._schema import *  # noqa: F403
from . import _store
from ._store import *  # noqa: F403
from ._synth import *  # noqa: F403
from ._version import __version__


def __getattr__(name: str) -> object:
    """``ok.charts``, ``ok.explore`` and ``ok.testing`` load on first use (altair, httpx)."""
    if name in ("charts", "explore", "testing"):
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'omnikit' has no attribute {name!r}")


__all__ = [
    *_errors.__all__,
    *_export.__all__,
    *_redact.__all__,
    *_report.__all__,
    *_io.__all__,
    *_metrics.__all__,
    *_customers.__all__,
    *_journeys.__all__,
    *_schema.__all__,
    *_store.__all__,
    *_synth.__all__,
]
