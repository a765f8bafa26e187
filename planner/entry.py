"""The ``planner`` command's entry point.

It loads the CLI itself so that Ctrl-C while Python is still importing it ends the way Ctrl-C does
later (one line, exit 130) instead of with a traceback; this module imports nothing heavy.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import NoReturn

EXIT_INTERRUPTED = 130
"""The shell's code for a command stopped by Ctrl-C (128 + SIGINT)."""
INTERRUPTED = "Interrupted (Ctrl-C or kill) before the run was complete; nothing was written."
FORCE_QUIT = "Interrupted 5 times: quit without waiting for HiGHS; nothing was written."


_FORCE_QUIT_HOOKS: list[Callable[[], None]] = []


@contextmanager
def on_force_quit(hook: Callable[[], None]) -> Iterator[None]:
    """During the body, :func:`force_quit` runs ``hook`` (newest first) before the process ends."""
    _FORCE_QUIT_HOOKS.append(hook)
    try:
        yield
    finally:
        if hook in _FORCE_QUIT_HOOKS:  # force_quit takes the hooks it runs
            _FORCE_QUIT_HOOKS.remove(hook)


def force_quit(message: str) -> NoReturn:
    """End the process at once with exit 130, without unwinding (nothing may wait for a HiGHS
    thread that has not stopped): say ``message``, then run the hooks that undo what is half
    done (a staged run folder) or owe an answer (``--json``'s object), each at most once."""
    sys.stderr.write(f"{message}\n")
    sys.stderr.flush()
    while _FORCE_QUIT_HOOKS:
        hook = _FORCE_QUIT_HOOKS.pop()
        with suppress(Exception):  # quitting anyway; the next hook still runs
            hook()
    sys.stdout.flush()
    os._exit(EXIT_INTERRUPTED)


_finished = False


def command_finished() -> None:
    """The command's run folder is going into place (or the command has ended): from now on
    Ctrl-C and SIGTERM are ignored, while the rename completes and the report prints.
    Ignored by the system, not by a Python handler: Python puts the default action back for its
    own handlers as it shuts down, and a press landing then turned a complete run into a death by
    signal (exit -2)."""
    global _finished
    _finished = True
    for number in stop_signals():
        # Only the handlers run() installed: a command run in-process (a test's CliRunner) leaves
        # its host's alone.
        with suppress(ValueError):  # off the main thread there is nothing to change
            if signal.getsignal(number) is _interrupt:
                signal.signal(number, signal.SIG_IGN)


FORCE_QUIT_PRESSES = 5
"""Ctrl-C presses during one solve (and the writing of its plan) after which planner quits
without waiting, writing nothing."""

_presses = 0
"""Stop signals of the current stretch of work: one solve, then the keeping of its plan."""
_keeping = 0
"""Depth of :func:`keeping_the_plan_found` blocks under way."""
_plan_in_hand = False
"""In such a block, a final plan exists: a stop signal no longer throws it away."""


def new_stretch() -> None:
    """A solve begins: its presses are counted from 0."""
    global _presses
    _presses = 0


def presses() -> int:
    """Stop signals of this stretch so far."""
    return _presses


def press() -> int:
    """One more stop signal in this stretch; the count so far."""
    global _presses
    _presses += 1
    return _presses


def count_a_press(presses: int, signum: int, going_on: str) -> None:
    """After the ``presses``-th stop signal of one stretch of work (a solve, the keeping of its
    plan): quit at once at the fifth, writing nothing; before it, say what goes on regardless."""
    if presses >= FORCE_QUIT_PRESSES:
        force_quit(FORCE_QUIT)
    what = "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name
    sys.stderr.write(
        f"{what}: {going_on} ({FORCE_QUIT_PRESSES - presses} more to quit at once, writing nothing)\n"
    )
    sys.stderr.flush()


@contextmanager
def keeping_the_plan_found() -> Iterator[None]:
    """In the body (a ``solve`` or ``bench`` from its start to its written run folder), once the final solve
    has a plan (:func:`plan_found`), one Ctrl-C or kill no longer throws it away (exit 130,
    nothing written): the plan's tables are computed and the folder completed, as for a press a
    moment earlier during the solve; the fifth press of the stretch still quits at once."""
    global _keeping, _plan_in_hand
    _keeping += 1
    try:
        yield
    finally:
        _keeping -= 1
        if not _keeping:
            _plan_in_hand = False


def plan_found() -> None:
    """HiGHS has returned the final plan: inside :func:`keeping_the_plan_found` it is kept from now
    on (elsewhere, as in ``compare``'s and ``sweep``'s solves, nothing changes)."""
    global _plan_in_hand
    if _keeping:
        _plan_in_hand = True


def stopped_with_a_plan_in_hand() -> bool:
    """A stop signal came after the final plan was found (a press is counted, not raised)."""
    return _plan_in_hand and _presses > 0


def _interrupt(signum: int, frame: object) -> None:
    if _finished:
        return
    if not _plan_in_hand:
        raise KeyboardInterrupt
    count_a_press(press(), signum, "the plan is being written")


BLAS_THREADS = "1"
"""OpenBLAS threads (numpy's and scipy's): planner does no dense linear algebra, and under an
address-space cap (``ulimit -v``, a batch scheduler's h_vmem) OpenBLAS's start-up, reached when
scipy is first imported mid-run, retried its failed thread buffers forever at 100% CPU, deaf to
SIGTERM. One thread needs no such buffers. A value the user set is kept."""


def stop_signals() -> tuple[int, ...]:
    """The signals that stop a run the way Ctrl-C does: SIGINT, SIGTERM (`kill`, a batch
    scheduler's stop) and SIGHUP (the terminal closed; a run left behind with its staging folder
    died silently), unless the run was started to ignore it (``nohup``)."""
    hangup = getattr(signal, "SIGHUP", None)
    if hangup is None or signal.getsignal(hangup) == signal.SIG_IGN:
        return (signal.SIGINT, signal.SIGTERM)
    return (signal.SIGINT, signal.SIGTERM, hangup)


def run() -> None:
    os.environ.setdefault("OPENBLAS_NUM_THREADS", BLAS_THREADS)  # before numpy is first imported
    # `kill`, a batch scheduler's stop or a closed terminal act like Ctrl-C: the best plan found
    # is still written.
    for number in stop_signals():
        signal.signal(number, _interrupt)
    try:
        from planner.cli import run as run_cli
    except KeyboardInterrupt:
        command_finished()
        sys.stderr.write(INTERRUPTED + "\n")
        if "--json" in sys.argv[1:]:  # the promised one object, before click could parse the flag
            from planner.json_text import json_text  # light: json and math only

            sys.stdout.write(json_text({"status": "interrupted", "message": INTERRUPTED}) + "\n")
        sys.exit(EXIT_INTERRUPTED)
    try:
        run_cli()
    finally:  # every command, also one that ends early (validate, schema, a usage error)
        command_finished()
