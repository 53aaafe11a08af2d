"""The one retry policy: how many attempts, how long to wait between them, and the deadline.

Every retry of the client goes through a :class:`RetryPolicy`: the token request and API
requests that failed with 429, 5xx or a connection error, downloads that broke off or arrived
incomplete, files that did not parse, jobs that ended ``failed`` and the wait for room in the
account's job queue. Its clock and its sleep are injectable, so tests run without real sleeps.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import email.utils
import random
import time
from collections.abc import Callable

from .._errors import ExploreTimeoutError

__all__ = ["RETRY_STATUSES", "Deadline", "RetryPolicy"]

#: HTTP statuses worth asking again: too many requests and the server's passing troubles.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclasses.dataclass(frozen=True)
class Deadline:
    """The moment (on the policy's clock) a whole fetch must be done by, and its timeout.

    >>> Deadline(at=100.0, timeout=60.0).remaining(clock=lambda: 70.0)
    30.0
    """

    at: float
    timeout: float

    def remaining(self, clock: Callable[[], float]) -> float:
        """Seconds left (negative once passed)."""
        return self.at - clock()

    def expired(self, what: str = "") -> ExploreTimeoutError:
        """The error to raise once the deadline has passed."""
        return ExploreTimeoutError(
            f"{what or 'the fetch'} did not finish within the timeout of {self.timeout:g} s; "
            "raise timeout= (--timeout) or fetch a shorter range"
        )


class RetryPolicy:
    """How often to try again and how long to wait first (doubling backoff with jitter).

    Parameters
    ----------
    retries
        Attempts after the first; :meth:`gives_up` is true beyond them.
    backoff, max_backoff
        First and largest wait in seconds; each attempt doubles it, times a jitter in
        ``[0.5, 1)``. A ``Retry-After`` answer wins (see :meth:`wait_seconds`).
    clock
        Seconds on a monotonic clock (default :func:`time.monotonic`).
    sleep
        Waits the given seconds (default :func:`time.sleep`; the client passes one that a
        Ctrl-C interrupts).
    jitter
        Returns the jitter factor (default: uniform in ``[0.5, 1)``).

    Examples
    --------
    >>> policy = RetryPolicy(retries=2, backoff=1.0, jitter=lambda: 1.0)
    >>> [policy.backoff_seconds(n) for n in (1, 2, 3)], policy.gives_up(3)
    ([1.0, 2.0, 4.0], True)
    """

    def __init__(
        self,
        retries: int = 5,
        backoff: float = 0.5,
        max_backoff: float = 60.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = time.sleep,
        jitter: Callable[[], float] | None = None,
    ) -> None:
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.clock = clock
        self.sleep = sleep
        self.jitter = jitter or (lambda: random.uniform(0.5, 1.0))

    def __repr__(self) -> str:
        return (
            f"RetryPolicy(retries={self.retries}, backoff={self.backoff:g}, "
            f"max_backoff={self.max_backoff:g})"
        )

    def gives_up(self, attempt: int, *, limit: int | None = None) -> bool:
        """True when failure number ``attempt`` (1-based) is one more than ``retries`` allows.

        ``limit`` replaces ``retries`` for a count of its own (jobs created again).
        """
        return attempt > (self.retries if limit is None else limit)

    def backoff_seconds(self, attempt: int) -> float:
        """The wait before retry number ``attempt``: doubling from ``backoff``, with jitter."""
        return min(self.max_backoff, self.backoff * 2 ** (attempt - 1)) * self.jitter()

    def wait_seconds(
        self, attempt: int, retry_after: str | None = None, *, at_least_backoff: bool = False
    ) -> float:
        """The wait before retry ``attempt``: ``Retry-After`` (seconds or a date) if given.

        ``at_least_backoff`` makes the backoff a floor under ``Retry-After`` (a queue that
        answers ``Retry-After: 0`` is still not asked back to back).

        >>> RetryPolicy(jitter=lambda: 1.0).wait_seconds(1, "7")
        7.0
        """
        backoff = self.backoff_seconds(attempt)
        asked = _retry_after_seconds(retry_after)
        if asked is None:
            return backoff
        return max(asked, backoff) if at_least_backoff else asked

    def pause(self, seconds: float, *, deadline: Deadline | None = None, what: str = "") -> None:
        """Sleep ``seconds``, or raise :class:`~omnikit.ExploreTimeoutError` if that would pass
        ``deadline``."""
        if deadline is not None and self.clock() + seconds > deadline.at:
            raise deadline.expired(what)
        self.sleep(max(0.0, seconds))


def _retry_after_seconds(header: str | None) -> float | None:
    if not header:
        return None
    try:
        return max(0.0, float(header))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())
