"""Running a configured HiGHS object so that nothing escapes it: Ctrl-C or SIGTERM (or, on a Dask
worker, a stop request) cancels the solve and keeps the best plan found, and what HiGHS's solver
thread raises (out of memory under a cap) comes back in words instead of a printed traceback."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import highspy

from planner.entry import (
    count_a_press,
    new_stretch,
    press,
    presses,
    stop_signals,
    stopped_with_a_plan_in_hand,
)
from planner.errors import ModelError
from planner.solve_stop import solving, task_stop_requested


def solve_interruptibly(highs: highspy.Highs) -> None:
    """Run ``highs``; Ctrl-C (or SIGTERM) stops it cleanly: status interrupted, best plan kept.
    On a Dask worker, the task's :class:`~planner.solve_stop.SolveStop` stops it the same way.
    Inside :func:`signals_stop_solves` a signal received before this solve cancels it at once."""
    highs.HandleUserInterrupt = True  # HiGHS's callbacks poll cancelSolve()
    failures: list[BaseException] = []
    with solving(highs), signals_stop_solves(), _failures_of_the_solver_thread(failures):
        if _session is not None:
            _session.running = highs
        try:
            solver_thread = highs.startSolve()
            if stop_requested():  # startSolve() forgets a cancel made before it started the solve
                highs.cancelSolve()
            status = highs.joinSolve()
            # joinSolve() returns as the solver thread finishes: only once it has ended may the
            # process exit (a daemon thread inside HiGHS at exit aborts the process).
            solver_thread.join()
        finally:
            if _session is not None:
                _session.running = None
    if failures:
        raise _in_words(failures[0])
    if status == highspy.HighsStatus.kError and highs.getModelStatus() == highspy.HighsModelStatus.kNotset:
        raise ModelError("HiGHS refused to start the solve; run with --log to see its message.")


SOLVER_THREAD_TARGET = "__solve"
"""The function highspy's ``startSolve`` runs in its thread (Python names the thread after it)."""
OUT_OF_RESOURCES = ("Resource temporarily unavailable", "Cannot allocate memory", "bad_alloc")
"""What HiGHS's solver thread says when the machine (or a memory cap) gives it no more."""


@contextlib.contextmanager
def _failures_of_the_solver_thread(failures: list[BaseException]) -> Iterator[None]:
    """Collect what highspy's solver thread raises instead of letting Python print it: under a
    memory cap HiGHS could not start its own threads ("RuntimeError: Resource temporarily
    unavailable"), a traceback was printed, and the solve read as one that never started
    ("status Not Set")."""
    previous = threading.excepthook

    def collect(args: threading.ExceptHookArgs) -> None:
        if args.thread is not None and args.thread.name.endswith(f"({SOLVER_THREAD_TARGET})"):
            failures.append(args.exc_value if args.exc_value is not None else args.exc_type())
        else:
            previous(args)

    threading.excepthook = collect
    try:
        yield
    finally:
        threading.excepthook = previous


def _in_words(failure: BaseException) -> Exception:
    """The solver thread's failure as planner reports it: out of memory (exit 1, the CLI's own
    words), or HiGHS's error as a :class:`ModelError`."""
    if isinstance(failure, MemoryError) or any(text in str(failure) for text in OUT_OF_RESOURCES):
        return MemoryError(str(failure))
    return ModelError(f"HiGHS stopped with an error: {type(failure).__name__}: {failure}")


@dataclass
class _Signals:
    """The HiGHS run the stop signals of one solve must cancel (their count is the stretch's,
    :func:`planner.entry.presses`)."""

    running: highspy.Highs | None = None


_signals_belong_to_parent = False
"""Set in a worker process of compare / sweep: the parent decides what a Ctrl-C stops."""


def leave_signals_to_the_parent() -> None:
    """In a worker process: solves keep the process's signal handling (the parent ignores Ctrl-C
    in its workers and ends them itself) and say nothing: a worker's "stopping HiGHS; the best
    plan found so far is kept" would announce a plan that compare or sweep discards."""
    global _signals_belong_to_parent
    _signals_belong_to_parent = True


_session: _Signals | None = None
"""The solve under way in the main thread, while :func:`signals_stop_solves` holds the signals."""


def stop_requested() -> bool:
    """Ctrl-C or SIGTERM since the current solve began (or, on a Dask worker, a stop request): no
    further HiGHS run of this solve may start, and the warm start must not go on."""
    return (_session is not None and presses() > 0) or task_stop_requested()


@contextlib.contextmanager
def signals_stop_solves() -> Iterator[None]:
    """During the body (one whole solve: the warm start's HiGHS runs and the main one), the stop
    signals (:func:`~planner.entry.stop_signals`) cancel the running HiGHS solve and mark the
    solve stopped (:func:`stop_requested`) instead of raising KeyboardInterrupt. Nested uses share
    the outer one.

    highspy's own Ctrl-C handling raises KeyboardInterrupt in the main thread, and one landing
    between its start and join steps escaped the solve with HiGHS still running: planner then
    exited around a live HiGHS thread and the process aborted ("terminate called without an active
    exception", exit -6; 1 run in 25 of the LP Ctrl-C test). A handler that only cancels cannot
    escape. It is held for the whole solve, not one HiGHS run: a Ctrl-C landing just as a short
    relax-and-fix re-solve ended was otherwise seen by nobody, and the warm start went on to
    report "optimal". Off the main thread no signal arrives (Dask workers use SolveStop)."""
    global _session
    on_main_thread = threading.current_thread() is threading.main_thread()
    if not on_main_thread or _session is not None or _signals_belong_to_parent:
        yield
        return
    session = _Signals()

    def cancel(signum: int, frame: object) -> None:
        pressed = press()
        if session.running is not None:
            session.running.cancelSolve()
        # At the fifth press no clean-up can wait for HiGHS.
        count_a_press(pressed, signum, "stopping HiGHS; the best plan found so far is kept")

    # A press since the final plan was found (before --duals' solve) is not forgotten: the count
    # goes on, and stops this solve before HiGHS starts.
    if not stopped_with_a_plan_in_hand():
        new_stretch()

    previous = {number: signal.signal(number, cancel) for number in stop_signals()}
    _session = session
    try:
        yield
    finally:
        _session = None
        for number, handler in previous.items():
            signal.signal(number, handler)
