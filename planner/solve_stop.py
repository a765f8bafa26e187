"""Stopping a task's solves from another thread, where no Ctrl-C can reach them.

A Dask worker runs planner's solves in its own threads; when the client that asked for them is
stopped (Ctrl-C, kill), the scheduler drops the task but cannot stop the thread, and the solve
would go on to its time limit. The worker side watches for that and calls :meth:`SolveStop.request`:
the running HiGHS solve is cancelled (as Ctrl-C would) and any later solve of the same task is
refused at once with :class:`KeyboardInterrupt`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import highspy

_current: ContextVar[SolveStop | None] = ContextVar("planner_solve_stop", default=None)


class SolveStop:
    """A stop request for the solves of one task (one thread), made from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requested = False
        self._running: highspy.Highs | None = None

    @property
    def requested(self) -> bool:
        return self._requested

    def request(self) -> None:
        """Cancel the running solve and refuse later ones. Safe to repeat, and repeated by the
        watcher: a cancel that lands just before HiGHS starts its solve thread is reset by it."""
        with self._lock:
            self._requested = True
            running = self._running
        if running is not None:
            running.cancelSolve()

    @contextmanager
    def running(self, highs: highspy.Highs) -> Iterator[None]:
        with self._lock:
            if self._requested:
                raise KeyboardInterrupt
            self._running = highs
        try:
            yield
        finally:
            with self._lock:
                self._running = None


def task_stop_requested() -> bool:
    """The current task's :class:`SolveStop` (if any) was requested."""
    stop = _current.get()
    return stop is not None and stop.requested


@contextmanager
def solving(highs: highspy.Highs) -> Iterator[None]:
    """Around ``highs.solve()``: lets the current task's :class:`SolveStop`, if any, cancel it."""
    stop = _current.get()
    if stop is None:
        yield
        return
    with stop.running(highs):
        yield


@contextmanager
def stopped_when(should_stop: Callable[[], bool], poll_s: float = 1.0) -> Iterator[SolveStop]:
    """Run the body's solves under a :class:`SolveStop` that a watcher thread requests once
    ``should_stop()`` is true (polled every ``poll_s`` seconds until the body ends)."""
    stop = SolveStop()
    done = threading.Event()

    def watch() -> None:
        while not done.wait(poll_s):
            if stop.requested or should_stop():
                stop.request()

    token = _current.set(stop)
    watcher = threading.Thread(target=watch, name="planner-solve-stop", daemon=True)
    watcher.start()
    try:
        yield stop
    finally:
        done.set()
        _current.reset(token)
