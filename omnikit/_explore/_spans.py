"""The span runner: one job per span on a pool of worker threads, yielded as they finish.

Each worker thread carries a :class:`RunContext` (a stop event and the fetch's deadline), so a
Ctrl-C in the main thread stops every worker at its next step, and the token request made on a
worker's behalf knows how long it may take.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

from ._retry import Deadline

__all__ = ["Cancelled", "RunContext", "run_spans"]

#: Seconds past the deadline the main thread waits for workers before it gives up on them.
_GRACE = 2.0

T = TypeVar("T")
S = TypeVar("S")


class Cancelled(Exception):
    """Internal: the fetch was interrupted; workers stop at their next step."""


class RunContext:
    """Per-thread state of a run: its stop event and its deadline.

    >>> context = RunContext()
    >>> context.check()  # not stopped: returns
    """

    def __init__(self) -> None:
        self._local = threading.local()

    def bind(self, cancel: threading.Event | None, deadline: Deadline | None) -> None:
        """Give the current thread a stop event and a deadline."""
        self._local.cancel = cancel
        self._local.deadline = deadline

    @property
    def cancel(self) -> threading.Event:
        """The current thread's stop event."""
        event = getattr(self._local, "cancel", None)
        if event is None:
            event = self._local.cancel = threading.Event()
        return event

    @property
    def deadline(self) -> Deadline | None:
        """The current thread's deadline, if a run set one."""
        return getattr(self._local, "deadline", None)

    def check(self) -> None:
        """Raise :class:`Cancelled` if the run was stopped."""
        if self.cancel.is_set():
            raise Cancelled()

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds``, or raise :class:`Cancelled` as soon as the run is stopped."""
        if self.cancel.wait(max(0.0, seconds)):
            raise Cancelled()


def run_spans(
    spans: Sequence[S],
    job: Callable[[S], T],
    *,
    workers: int,
    context: RunContext,
    deadline: Deadline,
    on_event: Callable[[str, S], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[T]:
    """Run ``job(span)`` for every span on at most ``workers`` threads; yield results as they come.

    A span whose job fails does not stop the others: they are yielded first, then the first
    error is raised (its message counting the others). Closing the iterator (or Ctrl-C) sets
    the stop event and waits up to a second for the workers.

    >>> list(run_spans([1, 2], lambda n: n * 10, workers=2, context=RunContext(),
    ...                deadline=Deadline(float("inf"), 60)))  # doctest: +SKIP
    [10, 20]
    """
    cancel = threading.Event()
    todo: queue.SimpleQueue[S] = queue.SimpleQueue()
    for span in spans:
        todo.put(span)
    results: queue.SimpleQueue[tuple[S, T | None, BaseException | None]] = queue.SimpleQueue()

    def work() -> None:
        context.bind(cancel, deadline)
        while not cancel.is_set():
            try:
                span = todo.get_nowait()
            except queue.Empty:
                return
            try:
                results.put((span, job(span), None))
            except BaseException as error:
                results.put((span, None, error))

    # Daemon threads: a worker blocked on a slow download must not keep a Ctrl-C'd process
    # alive; each stops at its next step once ``cancel`` is set.
    threads = [
        threading.Thread(target=work, name=f"omnikit-job-{i}", daemon=True)
        for i in range(min(workers, len(spans)))
    ]
    for thread in threads:
        thread.start()
    errors: list[BaseException] = []
    try:
        for _ in spans:
            while True:
                try:
                    # A timeout, so the main thread sees Ctrl-C at once.
                    span, part, error = results.get(timeout=0.2)
                    break
                except queue.Empty:
                    pass
                # Workers stop at their deadline; should one be stuck past it (a read that
                # does not return), the run ends anyway, a little later.
                if deadline.remaining(clock) < -_GRACE:
                    raise deadline.expired()
            if error is not None:
                if not isinstance(error, Cancelled):
                    errors.append(error)
                    if on_event:
                        on_event("failed", span)
                continue
            if on_event:
                on_event("done", span)
            yield part  # type: ignore[misc]
    finally:
        cancel.set()
        until = time.monotonic() + 1.0
        for thread in threads:
            thread.join(timeout=max(0.0, until - time.monotonic()))
    if errors:
        first = errors[0]
        if len(errors) > 1:
            from .._errors import ExploreError

            if isinstance(first, ExploreError):
                more = type(first)(f"{first} (and {len(errors) - 1} more span(s) failed)")
                del errors, first
                raise more
        del errors
        raise first
