"""What lies between planner and the HiGHS library: its banner on stdout and its refusals."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import click
import highspy
import pytest
from test_diagnose import _case

from planner.config import SolverSettings
from planner.entry import EXIT_INTERRUPTED, FORCE_QUIT, FORCE_QUIT_PRESSES
from planner.errors import ModelError
from planner.formulation import build_model
from planner.highs_factory import configured_highs
from planner.highs_run import solve_interruptibly
from planner.loader import load_case
from planner.matrix import compile_model
from planner.solve import solve_model
from planner.synthetic import synthetic_case_files, write_case


def test_a_solve_highs_refuses_to_start_is_a_model_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """HiGHS answers some set-ups (e.g. a thread count its scheduler was not made for) with an
    error and no model status: that is said in words, not reported as a plan-less status."""
    def start_nothing(self: highspy.Highs) -> threading.Thread:
        thread = threading.Thread(target=lambda: None)
        thread.start()
        return thread

    monkeypatch.setattr(highspy.Highs, "startSolve", start_nothing)
    monkeypatch.setattr(highspy.Highs, "joinSolve", lambda self: highspy.HighsStatus.kError)
    with pytest.raises(ModelError, match="refused to start"):
        solve_model(build_model(_case()).model, SolverSettings())


def test_json_output_is_one_object_even_from_a_fresh_process(tiny_case_dir: Path, tmp_path: Path) -> None:
    """highspy >= 1.16 prints a banner on the C library's stdout when a process makes its first
    HiGHS object; ``--json`` must still print exactly one JSON object."""
    command = [sys.executable, "-c", "from planner.entry import run; run()", "solve", str(tiny_case_dir)]
    done = subprocess.run(
        [*command, "--json", "--out", str(tmp_path / "run")], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "optimal"


@pytest.fixture
def lp_highs(tmp_path: Path) -> highspy.Highs:
    """A HiGHS object holding the LP of a small synthetic case."""
    files = synthetic_case_files(sites=6, chips=3, periods=12, quarters=True, branching=2, stages=2, seed=2)
    case, _ = load_case(write_case(tmp_path / "case", files))
    highs = configured_highs(SolverSettings())
    highs.passModel(compile_model(build_model(case, policy="phased", integer=False).model).lp)
    return highs


@pytest.mark.usefixtures("ctrl_c_raises")
def test_ctrl_c_as_the_solve_starts_stops_it_and_waits_for_highs(
    lp_highs: highspy.Highs, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGINT landing between the start of HiGHS's solver thread and the wait for it (where
    highspy's own handling raised KeyboardInterrupt with HiGHS still running, and the process then
    aborted at exit) cancels the solve: it returns interrupted, its thread has ended, and Ctrl-C
    raises KeyboardInterrupt again once the solve is over."""
    real_start = highspy.Highs.startSolve
    threads: list[threading.Thread] = []

    def start_then_ctrl_c(self: highspy.Highs) -> threading.Thread:
        thread = real_start(self)
        threads.append(thread)
        os.kill(os.getpid(), signal.SIGINT)  # handled at the next bytecode of this (main) thread
        return thread

    monkeypatch.setattr(highspy.Highs, "startSolve", start_then_ctrl_c)
    solve_interruptibly(lp_highs)
    assert lp_highs.getModelStatus() == highspy.HighsModelStatus.kInterrupt
    assert threads and not threads[0].is_alive()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


class _Quit(Exception):
    pass


def _ctrl_c_5_times_as_each_solve_starts(monkeypatch: pytest.MonkeyPatch) -> list[threading.Thread]:
    """Patch HiGHS to get five Ctrl-C as its solver thread starts; the threads started, to join."""
    real_start = highspy.Highs.startSolve
    threads: list[threading.Thread] = []

    def start_then_ctrl_c_5_times(self: highspy.Highs) -> threading.Thread:
        threads.append(real_start(self))
        for _ in range(FORCE_QUIT_PRESSES):
            os.kill(os.getpid(), signal.SIGINT)
        return threads[-1]

    monkeypatch.setattr(highspy.Highs, "startSolve", start_then_ctrl_c_5_times)
    return threads


@pytest.mark.usefixtures("ctrl_c_raises")
def test_the_fifth_ctrl_c_quits_at_once_with_exit_130(
    lp_highs: highspy.Highs, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """For a HiGHS slow to notice: the fifth press leaves without waiting (os._exit, as nothing can
    be cleaned up around a running HiGHS); the first four only ask it to stop."""
    exits: list[int] = []

    def record_exit(code: int) -> None:
        exits.append(code)
        raise _Quit

    monkeypatch.setattr(os, "_exit", record_exit)
    threads = _ctrl_c_5_times_as_each_solve_starts(monkeypatch)
    try:
        with pytest.raises(_Quit):
            solve_interruptibly(lp_highs)
    finally:  # this process goes on: let the cancelled HiGHS end
        lp_highs.joinSolve()
        threads[0].join()
    assert exits == [EXIT_INTERRUPTED]
    stderr = capsys.readouterr().err
    assert stderr.count("Ctrl-C: stopping HiGHS") == FORCE_QUIT_PRESSES - 1
    assert stderr.rstrip().endswith(FORCE_QUIT)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_the_fifth_ctrl_c_still_answers_json_and_leaves_no_staged_folder(
    tiny_case_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Callable[..., object]
) -> None:
    """Quitting without unwinding used to leave the hidden ``.run.partial`` folder behind and print
    no ``--json`` object. Both are seen to at the moment of quitting."""
    out = tmp_path / "run"
    at_exit: dict[str, object] = {}

    def record_exit(code: int) -> None:
        at_exit["code"] = code
        at_exit["staged"] = sorted(p.name for p in tmp_path.glob(".run*"))
        raise _Quit

    monkeypatch.setattr(os, "_exit", record_exit)
    threads = _ctrl_c_5_times_as_each_solve_starts(monkeypatch)
    printed = io.StringIO()
    monkeypatch.setattr(click, "echo", lambda message="", **_: printed.write(f"{message}\n"))
    with pytest.raises(_Quit):
        cli("solve", tiny_case_dir, "--out", out, "--json")
    for thread in threads:
        thread.join()
    assert at_exit == {"code": EXIT_INTERRUPTED, "staged": []}
    assert json.loads(printed.getvalue()) == {"status": "interrupted", "message": FORCE_QUIT}


def test_pyomo_log_lines_go_to_stderr_not_the_report(capfd: pytest.CaptureFixture[str]) -> None:
    """Pyomo's handler writes to stdout; an error it logs as Ctrl-C lands while the results are
    read was seen before the ``--json`` object."""
    import logging

    import planner.solve  # noqa: F401 - sets where Pyomo logs

    logging.getLogger("pyomo.core").error("evaluating object as numeric value: objective")
    out, err = capfd.readouterr()
    assert out == ""
    assert "evaluating object as numeric value" in err
