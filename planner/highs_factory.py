"""One place that turns a model's ``[solver]`` settings into a configured HiGHS object.

The main solve and every helper solve of the warm start (LP relaxation, relax-and-fix
re-solves, restricted MIP) go through :func:`configured_highs`, so a ``[solver.highs_options]``
entry (tolerances, presolve, ...) applies to all of them alike.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import highspy
import numpy as np

from planner.config import SolverSettings
from planner.entry import count_a_press, stop_signals
from planner.errors import ModelError
from planner.solve_stop import solving, task_stop_requested

OK = highspy.HighsStatus.kOk

DEFAULT_HIGHS_OPTIONS: dict[str, float] = {"dual_feasibility_tolerance": 1e-9}
"""Set on every HiGHS object before ``highs_options`` (which may override them).

Energy is priced per MWh in musd: ~7e-5 a MWh, so two contracts whose prices differ by a few
cents per MWh differ by less than HiGHS's default reduced-cost tolerance (1e-7), and HiGHS may
return the dearer one as optimal: 1.8e-6 of the objective on tests/cases/close_prices. At 1e-9
that case is exact and the flagship and bench solves are unchanged (same path, same time)."""


def configured_highs(
    settings: SolverSettings, log_file: Path | None = None, stream_log: bool = False
) -> highspy.Highs:
    """A HiGHS object with the model's gap, seed, threads, ``DEFAULT_HIGHS_OPTIONS`` and
    ``highs_options``; silent unless a log file or streaming is asked for. Callers set what is
    theirs alone (time limit, LP solver)."""
    highs = new_highs()
    highs.setOptionValue("output_flag", bool(stream_log or log_file))
    highs.setOptionValue("log_to_console", stream_log)
    if log_file is not None:
        highs.setOptionValue("log_file", str(log_file))
    highs.setOptionValue("mip_rel_gap", settings.mip_gap)
    highs.setOptionValue("random_seed", settings.random_seed)
    if settings.threads:
        highs.setOptionValue("threads", settings.threads)
    for option, value in {**DEFAULT_HIGHS_OPTIONS, **settings.highs_options}.items():
        if highs.setOptionValue(option, value) != OK:
            raise ModelError(f"HiGHS refused option {option} = {value!r} (see the HiGHS option list).")
    return highs


@dataclass(frozen=True)
class SolverLog:
    """Where a solve's log goes: the run folder's ``solver.log`` and, with ``--log``, the terminal.

    Every HiGHS object of one solve (the warm start's and the main one) logs there, so the log
    covers the whole solve; planner's own lines say which step the HiGHS output belongs to."""

    file: Path | None = None
    stream: bool = False

    def highs(self, settings: SolverSettings) -> highspy.Highs:
        """A :func:`configured_highs` that logs here (HiGHS appends to the file)."""
        return configured_highs(settings, self.file, self.stream)

    def note(self, text: str) -> None:
        """One line of planner's own, between two HiGHS solves (HiGHS flushes after each line)."""
        line = f"planner: {text}\n"
        if self.file is not None:
            try:
                with self.file.open("a", encoding="utf-8") as log:
                    log.write(line)
            except OSError:
                pass  # as for HiGHS's own log lines: a log that cannot be written does not stop the solve
        if self.stream:
            sys.stdout.write(line)
            sys.stdout.flush()


NO_LOG = SolverLog()
"""Solves nobody reads the log of (the warm start's default)."""


def refused_highs_options(options: dict[str, bool | int | float | str]) -> dict[str, str]:
    """For every entry of ``options`` that HiGHS refuses, what it expects instead, in words."""
    if not options:  # the usual case: no HiGHS object just to check nothing
        return {}
    highs = new_highs()
    highs.setOptionValue("log_to_console", False)
    said: list[str] = []  # HiGHS's own words, e.g. that this build lacks the "hipo" solver
    highs.cbLogging.subscribe(lambda event: said.append(event.message))
    refused: dict[str, str] = {}
    for name, value in options.items():
        said.clear()
        if highs.setOptionValue(name, value) != OK:
            refused[name] = " ".join(m.replace("ERROR:", "").strip() for m in said if m.strip())
    if not refused:
        return {}
    known = _option_descriptions(highs)
    return {
        name: (
            f"a value HiGHS accepts: {known[name]}"
            if name in known
            else "an option name HiGHS knows (its list: ergo-code.github.io/HiGHS/stable/options/definitions)"
        )
        + (f"; HiGHS said: {message}" if message else "")
        for name, message in refused.items()
    }


def _option_descriptions(highs: highspy.Highs) -> dict[str, str]:
    """``{option: 'Presolve option: "off", "choose" or "on" (type: string, default: "choose")'}``,
    from the option file HiGHS writes (a comment line, a ``# [type, range, default]`` line, the
    option)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "options.txt"
        highs.writeOptions(str(path))
        lines = path.read_text().splitlines()
    described: dict[str, str] = {}
    for i, line in enumerate(lines):
        if i < 2 or " = " not in line or not lines[i - 1].startswith("# ["):
            continue
        fields = [f.strip() for f in lines[i - 1][3:].rstrip("]").split(", ") if not f.startswith("advanced")]
        what = lines[i - 2].removeprefix("# ").strip() if lines[i - 2].startswith("# ") else ""
        described[line.split(" = ")[0].strip()] = f"{what} ({', '.join(fields)})".strip()
    return described


_first_highs = threading.Lock()
_banner_done = False


FEASIBLE_PLAN = int(highspy.SolutionStatus.kSolutionStatusFeasible)
"""``primal_solution_status`` of a solve that holds a feasible plan."""


def new_highs() -> highspy.Highs:
    """A new ``highspy.Highs``, the process's first one made with the C library's stdout silenced.

    highspy >= 1.16 prints its copyright banner on stdout (file descriptor 1, out of Python's
    reach) when a process makes its first Highs object, before any option can turn output off: it
    would break ``--json``'s one JSON object. Later objects print nothing until told to log."""
    global _banner_done
    with _first_highs:
        if _banner_done:
            return highspy.Highs()
        sys.stdout.flush()
        saved_stdout = os.dup(1)
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 1)
            highs = highspy.Highs()
        finally:
            os.dup2(saved_stdout, 1)
            os.close(saved_stdout)
            os.close(devnull)
        _banner_done = True
        return highs


def give_start(highs: highspy.Highs, values: np.ndarray) -> None:
    """Hand ``values`` (one per column) to HiGHS as a MIP start; HiGHS ignores an infeasible one."""
    start = highspy.HighsSolution()
    start.col_value = list(values)
    start.value_valid = True
    highs.setSolution(start)


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
    """Signals received during one solve, and the HiGHS run they must cancel."""

    received: int = 0
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
    return (_session is not None and _session.received > 0) or task_stop_requested()


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
        session.received += 1
        if session.running is not None:
            session.running.cancelSolve()
        # At the fifth press no clean-up can wait for HiGHS.
        count_a_press(session.received, signum, "stopping HiGHS; the best plan found so far is kept")

    previous = {number: signal.signal(number, cancel) for number in stop_signals()}
    _session = session
    try:
        yield
    finally:
        _session = None
        for number, handler in previous.items():
            signal.signal(number, handler)
