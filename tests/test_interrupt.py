"""Ctrl-C and kill with real signals (SIGINT, SIGTERM), not simulated exceptions.

``planner solve`` in a child process: during the solve HiGHS stops and the best plan found is
written, marked ``interrupted`` (exit 0); before any plan exists nothing is written (exit 130);
never a traceback, and ``--json`` output stays one JSON object. The child is signalled only once
its HiGHS log (streamed, or staged in the run folder) shows it is where the test wants it, so the
signal does not race the solve. compare, sweep and plan-on-mean: one stopped solve stops the run,
and worker processes end at once.
"""

from __future__ import annotations

import functools
import json
import multiprocessing
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import highspy
import psutil
import pytest

from planner.config import load_model_config
from planner.entry import EXIT_INTERRUPTED, INTERRUPTED
from planner.entry import run as run_planner
from planner.loader import load_case
from planner.parallel import run_parallel, solve_task
from planner.sweep import read_case_files, solve_variant
from planner.synthetic import synthetic_case_files, write_case

WAIT_S = 240.0
INCUMBENT_ROW = re.compile(r"^\s*[A-Za-z]?\s+\d+\s+\d+\s+\d+\s+[\d.]+%\s+\S+\s+-?\d[\d.e+]*\s")
"""A row of HiGHS's branch-and-bound table whose BestSol column is a number: a plan exists."""


def _signals_heard() -> None:
    for stop in (signal.SIGINT, signal.SIGHUP):
        signal.signal(stop, signal.SIG_DFL)


class Solve:
    """``planner solve`` in a child process whose log lines are read as they come."""

    def __init__(self, *args: object) -> None:
        command = [sys.executable, "-c", "from planner.entry import run; run()", "solve", *map(str, args)]
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            # A child started from a non-interactive shell may inherit "ignore SIGINT", and one
            # started under nohup "ignore SIGHUP": the tests send both and expect them heard.
            preexec_fn=_signals_heard,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.stdout: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def wait_for(self, pattern: re.Pattern[str]) -> None:
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=1.0)
            except queue.Empty:
                continue
            if line is None:
                pytest.fail(f"the solve ended before {pattern.pattern!r}:\n{''.join(self.stdout)}")
            self.stdout.append(line)
            if pattern.search(line):
                return
        self.process.kill()
        pytest.fail(f"no {pattern.pattern!r} within {WAIT_S:.0f} s")

    def interrupt(self, stop: signal.Signals = signal.SIGINT) -> tuple[int, str, str]:
        """Send Ctrl-C (or ``stop``); exit code, the rest of stdout, and stderr."""
        self.process.send_signal(stop)
        assert self.process.stderr is not None
        stderr = self.process.stderr.read()
        code = self.process.wait(timeout=WAIT_S)
        rest = []
        while (line := self.lines.get(timeout=WAIT_S)) is not None:
            rest.append(line)
        return code, "".join(rest), stderr


pytestmark = [
    pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child needs POSIX"),
    pytest.mark.usefixtures("ctrl_c_raises"),
]


@pytest.fixture(scope="module")
def long_mip_case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """20 sites x 40 quarters, one scenario: HiGHS finds plans within seconds but cannot prove a
    zero gap for hours."""
    folder = tmp_path_factory.mktemp("long") / "case"
    return write_case(folder, synthetic_case_files(branching=1, stages=0))


@pytest.fixture
def ctrl_c_at_the_first_plan(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Ctrl-C to this process as soon as a HiGHS solve (in any thread of it) has found its first
    plan: HiGHS is running then, and what stops must handle a solve stopped with a plan in hand
    (a timer had to guess when that was, and waited seconds longer to be safe)."""
    found = threading.Event()
    done = threading.Event()
    real_start = highspy.Highs.startSolve

    def start_watched(self: highspy.Highs) -> object:
        self.cbMipImprovingSolution.subscribe(lambda _: found.set())
        return real_start(self)

    def press_once_found() -> None:
        while not found.wait(timeout=0.1):
            if done.is_set():
                return
        os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(highspy.Highs, "startSolve", start_watched)
    presser = threading.Thread(target=press_once_found, daemon=True)
    presser.start()
    try:
        yield
    finally:
        done.set()
        presser.join()


@pytest.mark.parametrize(
    "stop", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=["ctrl-c", "kill", "hangup"]
)
def test_ctrl_c_during_the_mip_writes_the_best_plan_marked_interrupted(
    long_mip_case: Path, tmp_path: Path, stop: signal.Signals
) -> None:
    """A plain ``kill`` (SIGTERM, what batch schedulers send) acts like Ctrl-C; so does a closed
    terminal (SIGHUP), which ended the run silently with its staging folder left behind."""
    out = tmp_path / "run"
    solve = Solve(long_mip_case, "--mip-gap", "0", "--log", "--out", out)
    solve.wait_for(INCUMBENT_ROW)
    code, _, stderr = solve.interrupt(stop)
    assert code == 0, stderr
    assert "Traceback" not in stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "interrupted"
    assert summary["objective_musd"] > summary["bound_musd"] > 0
    assert (out / "builds.csv").exists() and (out / "risk.csv").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_ctrl_c_keeps_json_output_one_object(long_mip_case: Path, tmp_path: Path) -> None:
    """--json streams no log: the wait reads the HiGHS log the run writes into its staging folder."""
    out = tmp_path / "run"
    solve = Solve(long_mip_case, "--mip-gap", "0", "--json", "--out", out)
    deadline = time.monotonic() + WAIT_S
    while not any(INCUMBENT_ROW.search(line) for line in _staged_log_lines(tmp_path)):
        assert time.monotonic() < deadline, "no plan in the staged solver.log"
        time.sleep(0.2)
    code, stdout, stderr = solve.interrupt()
    assert code == 0, stderr
    assert "Traceback" not in stderr
    assert json.loads(stdout)["status"] == "interrupted"
    assert "Ctrl-C: stopping HiGHS" in stderr  # the notice goes to stderr, not into the JSON


def _staged_log_lines(parent: Path) -> list[str]:
    logs = [p / "solver.log" for p in parent.iterdir() if p.name.startswith(".run")]
    return [line for log in logs if log.exists() for line in log.read_text().splitlines()]


def test_ctrl_c_before_any_plan_writes_nothing_and_exits_130(tmp_path: Path) -> None:
    """The LP of a 9-scenario case: interior point takes far longer than the wait for its log."""
    case = write_case(tmp_path / "case", synthetic_case_files(sites=12, periods=40))
    out = tmp_path / "run"
    solve = Solve(case, "--relax", "--log", "--out", out)
    solve.wait_for(re.compile(r"^Coefficient ranges|^Presolving model|^Running IPX"))
    code, _, stderr = solve.interrupt()
    assert code == EXIT_INTERRUPTED, stderr
    assert "Traceback" not in stderr and "nothing was written" in stderr
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_ctrl_c_before_any_plan_still_prints_one_json_object(tmp_path: Path) -> None:
    case = write_case(tmp_path / "case", synthetic_case_files(sites=12, periods=40))
    out = tmp_path / "run"
    solve = Solve(case, "--relax", "--json", "--out", out)
    deadline = time.monotonic() + WAIT_S
    while not any(re.search(r"Presolving model|Running IPX", line) for line in _staged_log_lines(tmp_path)):
        assert time.monotonic() < deadline, "the LP never started"
        time.sleep(0.2)
    code, stdout, stderr = solve.interrupt()
    assert code == EXIT_INTERRUPTED, stderr
    assert json.loads(stdout) == {"status": "interrupted", "message": INTERRUPTED}
    assert not out.exists()


def test_ctrl_c_in_a_parallel_run_stops_its_workers_at_once() -> None:
    """compare and sweep: Ctrl-C must not wait for the running solves (minutes) to finish."""
    timer = threading.Timer(3.0, os.kill, (os.getpid(), signal.SIGINT))
    started = time.monotonic()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        run_parallel([(time.sleep, (120,)) for _ in range(4)], workers=2)
    assert time.monotonic() - started < 30
    deadline = time.monotonic() + 10
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert multiprocessing.active_children() == []


def test_workers_of_a_killed_parallel_run_end_with_it() -> None:
    """SIGKILL of compare or sweep (no chance to stop its pool): its worker processes must not
    live on as orphans, solving and then idling forever."""
    script = (
        "import time\nfrom planner.parallel import run_parallel\n"
        "run_parallel([(time.sleep, (120,))] * 2, workers=2)"
    )
    parent = psutil.Process(subprocess.Popen([sys.executable, "-c", script]).pid)
    deadline = time.monotonic() + WAIT_S
    while len(workers := [c for c in parent.children() if "spawn_main" in " ".join(c.cmdline())]) < 2:
        assert time.monotonic() < deadline, "the pool never started"
        time.sleep(0.2)
    parent.kill()
    parent.wait(timeout=30)
    _, alive = psutil.wait_procs(workers, timeout=10)
    assert alive == []


HUNG_UP_POOL = """
import signal, sys, time
from planner.parallel import run_parallel

def hang_up(signum, frame):
    raise KeyboardInterrupt  # as planner's own handler does

signal.signal(signal.SIGHUP, hang_up)
try:
    run_parallel([(time.sleep, (120,))] * 2, workers=2)
except KeyboardInterrupt:
    sys.exit(130)
"""


def test_a_closed_terminal_ends_a_parallel_run_without_tracebacks() -> None:
    """A closed terminal sends SIGHUP to every process of the group, multiprocessing's resource
    tracker included: it died, was relaunched as the pool was cleared, and printed a KeyError
    traceback per semaphore it had never seen. It is now deaf to SIGHUP, as it is to Ctrl-C."""
    child = subprocess.Popen(
        [sys.executable, "-c", HUNG_UP_POOL], stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    parent = psutil.Process(child.pid)
    deadline = time.monotonic() + WAIT_S
    while len([c for c in parent.children() if "spawn_main" in " ".join(c.cmdline())]) < 2:
        assert time.monotonic() < deadline, "the pool never started"
        time.sleep(0.2)
    os.killpg(child.pid, signal.SIGHUP)
    _, stderr = child.communicate(timeout=60)
    assert child.returncode == 130, stderr
    assert "Traceback" not in stderr and "resource_tracker" not in stderr, stderr


@pytest.mark.parametrize(
    "task, model", [("compare", "phased"), ("compare", "plan-on-mean"), ("sweep", "phased")]
)
@pytest.mark.usefixtures("ctrl_c_at_the_first_plan")
def test_a_solve_stopped_by_ctrl_c_stops_the_comparison_or_sweep_around_it(
    long_mip_case: Path, task: str, model: str
) -> None:
    """One worker runs compare's and sweep's solves in this process: a solve that Ctrl-C stopped
    must stop them all, not hand over to the next solve (nor plan-on-mean to its second stage)."""
    config = load_model_config(model)
    solver = config.solver.model_copy(update={"mip_gap": 0.0, "time_limit_s": 90.0, "warm_start_s": 0.0})
    config = config.model_copy(update={"solver": solver})
    run: Callable[[], object]
    if task == "compare":
        case, _ = load_case(long_mip_case)
        run = functools.partial(solve_task, "task", case, config)
    else:
        run = functools.partial(solve_variant, "base", "base", read_case_files(long_mip_case), config)
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        run()
    assert time.monotonic() - started < 60


@pytest.mark.usefixtures("ctrl_c_at_the_first_plan")
def test_ctrl_c_in_a_dask_run_stops_the_solves_on_the_workers(long_mip_case: Path, tmp_path: Path) -> None:
    """A Dask worker cannot stop a running task's thread: the solve itself must notice that the
    scheduler dropped its task, or it runs on to its time limit (here 120 s) after Ctrl-C."""
    distributed = pytest.importorskip("distributed")
    solver = load_model_config("phased").solver.model_copy(
        update={"mip_gap": 0.0, "time_limit_s": 120.0, "warm_start_s": 0.0}
    )
    config = load_model_config("phased").model_copy(update={"solver": solver})
    case, _ = load_case(long_mip_case)
    ended = tmp_path / "ended"  # Dask pickles the task, so it reports back through a file

    def task() -> None:
        try:
            solve_task("task", case, config)
        finally:
            ended.write_text(repr(time.monotonic()))

    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0"
    ) as cluster:
        with pytest.raises(KeyboardInterrupt):
            run_parallel([(task, ())], workers=1, scheduler=cluster.scheduler_address)
        stopped = time.monotonic()
        while not ended.exists() and time.monotonic() < stopped + 60:
            time.sleep(0.2)
    assert ended.exists() and float(ended.read_text()) - stopped < 20


class _InterruptedImport:
    """A meta-path finder standing in for Ctrl-C pressed while Python imports the CLI."""

    def find_spec(self, name: str, *_: object) -> None:
        if name == "planner.cli":
            raise KeyboardInterrupt


@pytest.mark.parametrize("as_json", [False, True])
def test_ctrl_c_while_the_command_starts_is_one_line_and_exit_130(
    as_json: bool, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """With ``--json`` the one JSON object is printed too (it was missing: nothing had read the
    flag yet)."""
    monkeypatch.setattr(sys, "argv", ["planner", "validate", "somewhere", *(["--json"] if as_json else [])])
    monkeypatch.delitem(sys.modules, "planner.cli", raising=False)
    monkeypatch.setattr(sys, "meta_path", [_InterruptedImport(), *sys.meta_path])
    handlers = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        with pytest.raises(SystemExit) as stopped:
            run_planner()
    finally:  # run() sets the process's handlers: this process goes on
        for number, handler in handlers.items():
            signal.signal(number, handler)
    assert stopped.value.code == EXIT_INTERRUPTED
    said = capsys.readouterr()
    assert said.err == INTERRUPTED + "\n"
    if as_json:
        assert json.loads(said.out) == {"status": "interrupted", "message": INTERRUPTED}
    else:
        assert said.out == ""


LATE_CTRL_C = """
import os, signal, sys
import planner.cli_errors, planner.entry

def finished_then_signalled():
    planner.entry.command_finished()
    os.kill(os.getpid(), signal.SIGINT)
    os.kill(os.getpid(), signal.SIGTERM)

planner.cli_errors.command_finished = finished_then_signalled
sys.argv = ["planner", *sys.argv[1:]]
planner.entry.run()
"""


CTRL_C_WHILE_WRITING = """
import os, signal, sys
import planner.entry, planner.output

real_write_plan = planner.output.write_plan

def signalled_then_written(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGINT)
    os.kill(os.getpid(), signal.SIGTERM)
    return real_write_plan(*args, **kwargs)

planner.output.write_plan = signalled_then_written
sys.argv = ["planner", *sys.argv[1:]]
planner.entry.run()
"""


def test_ctrl_c_while_a_finished_plan_is_written_still_writes_it(tiny_case_dir: Path, tmp_path: Path) -> None:
    """A press that lands after HiGHS has returned, while the tables are written, threw the plan
    away (exit 130, nothing written), where one a moment earlier keeps it: the folder is completed."""
    out = tmp_path / "run"
    command: list[str | Path] = [
        sys.executable, "-c", CTRL_C_WHILE_WRITING, "solve", tiny_case_dir, "--json", "--out", out
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "optimal"
    assert json.loads((out / "summary.json").read_text())["status"] == "optimal"
    assert "Ctrl-C: the plan is being written (4 more" in done.stderr
    assert "SIGTERM: the plan is being written (3 more" in done.stderr
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_ctrl_c_after_the_command_finished_changes_nothing(tiny_case_dir: Path, tmp_path: Path) -> None:
    """Presses that come after the run is written and reported (a fifth Ctrl-C of an impatient
    user, a kill as a batch job ends) used to end the process by SIGINT (exit -2) or print
    "Aborted!" (exit 1) after the success object. They are ignored once the command has finished."""
    command: list[str | Path] = [
        sys.executable, "-c", LATE_CTRL_C, "solve", tiny_case_dir, "--json", "--out", tmp_path / "run"
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "optimal"
    assert (tmp_path / "run" / "summary.json").is_file()


def test_a_run_started_under_nohup_keeps_ignoring_sighup() -> None:
    """``nohup planner ...`` asks that a closed terminal not stop the run: SIGHUP stays ignored."""
    from planner.entry import stop_signals

    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        assert stop_signals() == (signal.SIGINT, signal.SIGTERM)
    finally:
        signal.signal(signal.SIGHUP, previous)
    if previous != signal.SIG_IGN:
        assert signal.SIGHUP in stop_signals()


CTRL_C_AS_THE_TABLES_ARE_BUILT = """
import os, signal, sys
import planner.entry, planner.plan

real_extract_results = planner.plan.extract_results

def signalled_then_extracted(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGINT)
    return real_extract_results(*args, **kwargs)

planner.plan.extract_results = signalled_then_extracted
sys.argv = ["planner", *sys.argv[1:]]
planner.entry.run()
"""


def _solve_signalled_as_the_tables_are_built(
    case: Path, out: Path, *flags: str
) -> subprocess.CompletedProcess:
    script = CTRL_C_AS_THE_TABLES_ARE_BUILT
    command: list[str | Path] = [sys.executable, "-c", script, "solve", case, "--json", "--out", out, *flags]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def test_ctrl_c_between_the_solve_and_the_writing_keeps_the_plan(tiny_case_dir: Path, tmp_path: Path) -> None:
    """HiGHS has returned, the result tables are being built (0.5 s on the bench LP) and the
    writing has not begun: a press there threw the plan away (exit 130, nothing written), where one
    a moment earlier or later keeps it."""
    out = tmp_path / "run"
    done = _solve_signalled_as_the_tables_are_built(tiny_case_dir, out)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "optimal"  # HiGHS had finished: the plan is complete
    assert json.loads((out / "summary.json").read_text())["status"] == "optimal"
    assert "Ctrl-C: the plan is being written (4 more" in done.stderr
    assert "ERROR" not in done.stderr  # no Pyomo line about a value read as the press landed


def test_bench_keeps_its_plan_on_a_press_once_highs_has_returned(tmp_path: Path) -> None:
    """``bench`` kept the plan of a press during the solve (marked ``interrupted``) but threw away
    that of a press a moment later, as the tables were built: exit 130, nothing written. It keeps
    it now, as ``solve`` does."""
    out = tmp_path / "run"
    size = ["--sites", "1", "--chips", "1", "--periods", "2", "--years", "--branching", "1", "--stages", "0"]
    command: list[str | Path] = [
        sys.executable, "-c", CTRL_C_AS_THE_TABLES_ARE_BUILT, "bench", *size, "--json", "--out", out
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "optimal"
    assert json.loads((out / "bench.json").read_text())["status"] == "optimal"
    assert (out / "case" / "sites.csv").is_file()
    assert "Ctrl-C: the plan is being written (4 more" in done.stderr


def test_ctrl_c_before_the_duals_solve_stops_the_run_as_in_it(tiny_case_dir: Path, tmp_path: Path) -> None:
    """``--duals`` solves again after the plan: a press before that solve, like one during it,
    stops the run (exit 130, nothing written) rather than starting a solve the user asked to stop."""
    done = _solve_signalled_as_the_tables_are_built(tiny_case_dir, tmp_path / "run", "--duals")
    assert done.returncode == EXIT_INTERRUPTED, done.stderr
    assert json.loads(done.stdout)["status"] == "interrupted"
    assert not [p for p in tmp_path.iterdir() if p.name == "run" or p.name.startswith(".")]


def test_presses_count_on_from_the_solve_into_the_keeping_of_its_plan(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """One press stopped HiGHS; the next, as the plan is kept, is the second of five, not a first."""
    from planner import entry

    monkeypatch.setattr(entry, "_finished", False)  # commands run in this process have finished
    entry.new_stretch()
    assert entry.press() == 1
    with entry.keeping_the_plan_found():
        with pytest.raises(KeyboardInterrupt):  # no final plan yet: e.g. between plan-on-mean's solves
            entry._interrupt(signal.SIGINT, None)
        entry.plan_found()
        entry._interrupt(signal.SIGTERM, None)
        assert entry.stopped_with_a_plan_in_hand()
    assert not entry.stopped_with_a_plan_in_hand()
    said = "SIGTERM: the plan is being written (3 more to quit at once, writing nothing)\n"
    assert capsys.readouterr().err == said
    entry.plan_found()  # outside the keeping of `solve` and `bench` (compare, sweep): nothing is kept
    with pytest.raises(KeyboardInterrupt):
        entry._interrupt(signal.SIGINT, None)


IGNORED_ONCE_FINISHED = """
import os, signal
import planner.entry

signal.signal(signal.SIGINT, planner.entry._interrupt)
signal.signal(signal.SIGTERM, signal.default_int_handler)  # not planner's: left alone
planner.entry.command_finished()
print(signal.getsignal(signal.SIGINT) == signal.SIG_IGN)
print(signal.getsignal(signal.SIGTERM) == signal.default_int_handler)
os.kill(os.getpid(), signal.SIGINT)
"""


def test_once_finished_the_stop_signals_are_ignored_by_the_system() -> None:
    """Ignored by a Python handler only, a press landing as the interpreter shut down (which puts
    the default action back for Python's handlers) ended a complete run by SIGINT (exit -2)."""
    command = [sys.executable, "-c", IGNORED_ONCE_FINISHED]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True"]


CTRL_C_AS_THE_REPORT_PRINTS = """
import os, signal, sys
import planner.entry, planner.report, planner.compare_report

def signalled_then_printed(real):
    def printed(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGINT)
        os.kill(os.getpid(), signal.SIGTERM)
        return real(*args, **kwargs)
    return printed

planner.report.render_plan = signalled_then_printed(planner.report.render_plan)
planner.compare_report.render_comparison = signalled_then_printed(planner.compare_report.render_comparison)
sys.argv = ["planner", *sys.argv[1:]]
planner.entry.run()
"""


@pytest.mark.parametrize("command", ["solve", "compare"])
def test_ctrl_c_as_the_report_prints_after_the_run_is_written_changes_nothing(
    command: str, tiny_case_dir: Path, tmp_path: Path
) -> None:
    """Once the run folder goes into place nothing is left to save: presses as the report prints
    used to end a written run with exit 130 ("Interrupted after the run was written")."""
    out = tmp_path / "run"
    argv: list[str | Path] = [
        sys.executable, "-c", CTRL_C_AS_THE_REPORT_PRINTS, command, tiny_case_dir, "--out", out
    ]
    if command == "compare":  # its solves in this process: the presses come after them either way
        argv += ["--workers", "1"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "Interrupted" not in done.stderr
    assert "Run folder" in done.stdout or "run folder" in done.stdout.lower()
    assert (out / "summary.json").is_file()


SECOND_PRESS_AS_THE_FIRST_IS_ANSWERED = """
import os, signal, sys
import planner.cli, planner.cli_errors, planner.entry

real_load = planner.cli.load_case
real_json_text = planner.cli_errors.json_text

def interrupted_load(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGINT)  # before any plan: the run stops
    return real_load(*args, **kwargs)

def pressed_again_then_json_text(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGTERM)  # as the first press is being answered
    return real_json_text(*args, **kwargs)

planner.cli.load_case = interrupted_load
planner.cli_errors.json_text = pressed_again_then_json_text
sys.argv = ["planner", *sys.argv[1:]]
planner.entry.run()
"""


def test_a_second_press_as_the_first_is_answered_still_ends_with_130_and_one_json_object(
    tiny_case_dir: Path, tmp_path: Path
) -> None:
    """The second press used to escape the answer to the first: click printed "Aborted!" and the
    command exited 1 without its JSON object."""
    out = tmp_path / "run"
    argv: list[str | Path] = [
        sys.executable, "-c", SECOND_PRESS_AS_THE_FIRST_IS_ANSWERED, "solve", tiny_case_dir, "--json"
    ]
    done = subprocess.run([*argv, "--out", out], capture_output=True, text=True, timeout=120)
    assert done.returncode == EXIT_INTERRUPTED, done.stderr
    assert json.loads(done.stdout)["status"] == "interrupted"
    assert "Aborted" not in done.stderr and "Traceback" not in done.stderr
    assert not [p for p in tmp_path.iterdir() if p.name == "run" or p.name.startswith(".")]


SECOND_PRESS_AS_THE_STAGED_FOLDER_IS_REMOVED = """
import os, signal, sys
import planner.entry, planner.plan, planner.runfolder

def interrupted_solve(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGINT)  # as the model is built: no plan, the run stops
    raise AssertionError("the press did not stop the run")

real_discard = planner.runfolder.RunFolder._discard

def pressed_again_then_discarded(self):
    os.kill(os.getpid(), signal.SIGTERM)
    return real_discard(self)

planner.plan.solve_case = interrupted_solve
planner.runfolder.RunFolder._discard = pressed_again_then_discarded
sys.argv = ["planner", *sys.argv[1:]]
planner.entry.run()
"""


def test_a_second_press_as_the_staged_folder_is_removed_leaves_nothing_behind(
    tiny_case_dir: Path, tmp_path: Path
) -> None:
    """A second press landing in the clean-up of the first stopped the clean-up: the hidden
    ``.run.partial`` folder was left behind."""
    argv: list[str | Path] = [
        sys.executable, "-c", SECOND_PRESS_AS_THE_STAGED_FOLDER_IS_REMOVED, "solve", tiny_case_dir
    ]
    done = subprocess.run([*argv, "--out", tmp_path / "run"], capture_output=True, text=True, timeout=120)
    assert done.returncode == EXIT_INTERRUPTED, done.stderr
    assert not [p for p in tmp_path.iterdir() if p.name == "run" or p.name.startswith(".")]


PRESS_IN_THE_DUALS = """
import os, signal, sys
import planner.duals, planner.entry

where = sys.argv.pop(1)
real_drop = planner.duals.drop_rows_met_by_fixed_decisions
real_solve = planner.duals.solve_model

def pressed_as_built(model):
    os.kill(os.getpid(), signal.SIGINT)
    return real_drop(model)

def pressed_as_solved(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGTERM)
    return real_solve(*args, **kwargs)

if where == "build":
    planner.duals.drop_rows_met_by_fixed_decisions = pressed_as_built
else:
    planner.duals.solve_model = pressed_as_solved
sys.argv = ["planner", *sys.argv[1:]]
planner.entry.run()
"""


@pytest.mark.parametrize("where", ["build", "solve"])
def test_a_press_in_the_duals_stops_the_run(where: str, tiny_case_dir: Path, tmp_path: Path) -> None:
    """A press as the duals' model was built, or as their solve was called, was counted, then
    forgotten as that solve began (the run went on to exit 0). Both stop the run as the README
    says for a press during that solve: exit 130, nothing written."""
    argv: list[str | Path] = [
        sys.executable, "-c", PRESS_IN_THE_DUALS, where, "solve", tiny_case_dir, "--duals", "--json"
    ]
    done = subprocess.run([*argv, "--out", tmp_path / "run"], capture_output=True, text=True, timeout=120)
    assert done.returncode == EXIT_INTERRUPTED, done.stderr
    assert json.loads(done.stdout)["status"] == "interrupted"
    assert not [p for p in tmp_path.iterdir() if p.name == "run" or p.name.startswith(".")]


@pytest.mark.parametrize("model", ["phased", "plan-on-mean"])
def test_a_press_as_highs_ends_optimal_still_stops_what_runs_several_solves(
    model: str, tiny_case_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HiGHS ended optimal as the press came, so it never saw the cancel: the press was lost, and a
    sweep or comparison in this process (``--workers 1``), or plan-on-mean's second solve, went on.
    The solve says a stop was asked; what runs several solves stops."""
    import highspy

    from planner.plan import solve_case, unless_interrupted

    real_join = highspy.Highs.joinSolve

    def join_then_ctrl_c(self: highspy.Highs) -> highspy.HighsStatus | None:
        status = real_join(self)
        signal.raise_signal(signal.SIGINT)  # to this (main) thread, after HiGHS has returned
        return status

    monkeypatch.setattr(highspy.Highs, "joinSolve", join_then_ctrl_c)
    case, _ = load_case(tiny_case_dir)
    with pytest.raises(KeyboardInterrupt):
        unless_interrupted(solve_case(case, load_model_config(model)))
