"""The exit statuses of the ``omnikit`` command line: one table for every subcommand.

A scheduler (cron, a systemd timer, Airflow) can tell from the status alone what went wrong:

====  =========================================================================================
 0    done: the report was written (``report``), the store was filled (``fetch``)
 1    any other omnikit error: an input file that is not a report, a store that cannot be
      read or written, an output that cannot be written
 2    a bad argument or report parameter (nothing was started)
 3    Talkdesk credentials missing from the environment, or refused (401/403)
 4    the Talkdesk Explore API failed for good: a job failed, a timeout, an error answer
 5    a report notebook failed while running (the partly run notebook is kept)
 130  interrupted (Ctrl-C, SIGINT)
====  =========================================================================================

Every failure is one line on stderr, ``omnikit COMMAND: error: ...``; never a traceback.
"""

from __future__ import annotations

from ._errors import (
    AuthenticationError,
    ExploreError,
    OmnikitError,
    ParameterError,
    ReportExecutionError,
)

__all__: list[str] = []  # the command line's table; the README shows it

OK = 0
FAILURE = 1
USAGE = 2
CREDENTIALS = 3
API = 4
NOTEBOOK = 5
INTERRUPTED = 130

#: Most specific first: ``AuthenticationError`` is an ``ExploreError``.
_STATUSES: tuple[tuple[type[OmnikitError], int], ...] = (
    (ParameterError, USAGE),
    (AuthenticationError, CREDENTIALS),
    (ExploreError, API),
    (ReportExecutionError, NOTEBOOK),
)


def exit_status(error: OmnikitError) -> int:
    """The exit status of the command line for ``error`` (see the table above).

    >>> exit_status(ParameterError("--timeout: 'nan' is not a number"))
    2
    >>> exit_status(AuthenticationError("credentials missing"))
    3
    """
    for kind, status in _STATUSES:
        if isinstance(error, kind):
            return status
    return FAILURE
