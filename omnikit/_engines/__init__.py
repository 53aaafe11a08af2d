"""omnikit's functions on the frames of other engines (DuckDB, PySpark), through narwhals.

Each public metric and journey function starts with one line::

    if _engines.is_foreign(df):
        return _engines.dispatch("service_level", df, threshold=threshold, ...)

and :func:`dispatch` runs the function of the same name here: the heavy work (filters, group-bys,
ordered window functions) runs in the engine, and the small result comes back as the polars
DataFrame the polars path returns. :func:`engine_aware` is the same as a decorator, which is how
the public functions are wired (``wait_time_survival`` dispatches inline, after the warning
about its old ``threshold=`` name). ``customer_links`` raises a ParameterError saying why.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from ._frames import ENGINES, is_foreign

__all__ = ["ENGINES", "dispatch", "engine_aware", "is_foreign"]

F = TypeVar("F", bound=Callable[..., Any])

#: The functions that run on other engines, by name.
FUNCTIONS: tuple[str, ...] = (
    "channel_mix",
    "wait_time_stats",
    "wait_time_histogram",
    "service_level",
    "wait_time_survival",
    "hourly_profile",
    "journeys",
    "channel_transitions",
    "repeat_contacts",
    "bot_containment",
    "top_paths",
    "journey_flow",
    "resolve_customers",
    "customer_links",
)


def _function(name: str) -> Callable[..., Any]:
    from . import _customers, _journeys, _metrics

    for module in (_metrics, _journeys, _customers):
        if name in module.__all__:
            return getattr(module, name)
    raise KeyError(f"omnikit._engines has no function {name!r}")  # pragma: no cover


def dispatch(name: str, df: object, *args: Any, **kwargs: Any) -> Any:
    """Run omnikit's function ``name`` on ``df``, a DuckDB relation or a PySpark DataFrame.

    Parameters
    ----------
    name
        One of ``FUNCTIONS`` (``"service_level"``, ``"journeys"``, ...).
    df
        A frame for which :func:`is_foreign` is true.
    *args, **kwargs
        The arguments of the public function.

    Returns
    -------
    Any
        What the public function returns: a polars DataFrame (``resolve_customers`` returns a
        frame of the same engine, with ``customer_id``).

    Examples
    --------
    >>> import duckdb, omnikit as ok
    >>> rel = duckdb.from_arrow(ok.synth_frame(100).to_arrow())  # doctest: +SKIP
    >>> dispatch("wait_time_stats", rel, by=None)  # doctest: +SKIP
    """
    return _function(name)(df, *args, **kwargs)


def engine_aware(func: F) -> F:
    """Decorate a public function so that a DuckDB or PySpark frame goes to its engine twin.

    Examples
    --------
    >>> @engine_aware
    ... def wait_time_stats(df, *, by="interaction_type", percentiles=(0.5,)): ...
    """

    @functools.wraps(func)
    def wrapper(df: object, *args: Any, **kwargs: Any) -> Any:
        if is_foreign(df):
            return dispatch(func.__name__, df, *args, **kwargs)
        return func(df, *args, **kwargs)

    return wrapper  # type: ignore[return-value]
