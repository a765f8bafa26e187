"""One place that turns a model's ``[solver]`` settings into a configured HiGHS object.

The main solve and every helper solve of the warm start (LP relaxation, relax-and-fix
re-solves, restricted MIP) go through :func:`configured_highs`, so a ``[solver.highs_options]``
entry (tolerances, presolve, ...) applies to all of them alike. Running one, so that Ctrl-C stops
it cleanly, is :mod:`planner.highs_run`.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import highspy
import numpy as np

from planner.config import SolverSettings
from planner.errors import ModelError

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
