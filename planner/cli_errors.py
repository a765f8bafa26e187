"""How every command ends when something goes wrong: a message in the user's terms on stderr,
under ``--json`` one JSON object on stdout as well, and an exit code; never a traceback.

Exit codes: 0 success, 1 no plan (infeasible, unbounded, solver failure), 2 bad input,
130 stopped by Ctrl-C (or kill) with nothing written: before any plan, or during compare / sweep
(Ctrl-C during a single solve writes its best plan, marked interrupted: 0).
"""

from __future__ import annotations

import contextlib
import functools
import gc
import sys
import traceback
from collections.abc import Callable
from dataclasses import asdict
from typing import NoReturn

import click
from rich.console import Console

from planner.entry import EXIT_INTERRUPTED, FORCE_QUIT, INTERRUPTED, command_finished, on_force_quit
from planner.errors import InputError, ModelError, Problem, WriteError
from planner.json_text import json_text
from planner.markup import make_console
from planner.runfolder import WRITTEN

EXIT_NO_PLAN = 1
EXIT_BAD_INPUT = 2


OUT_OF_MEMORY = (
    "out of memory: the model does not fit in this machine's memory. Fewer "
    "scenarios, periods, sites or chip types make it smaller; an LP (--relax) needs about half "
    "the memory of its MIP."
)


CANNOT_START_A_THREAD = "can't start new thread"
"""Python's RuntimeError when the memory left (or a cap on it) has no room for one more thread's
stack: the progress spinner's or HiGHS's own. Out of memory, in other words."""


def handle_errors(command: Callable[..., object]) -> Callable[..., object]:
    """Turn user-facing errors into a message and an exit code, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: object, **kwargs: object) -> object:
        err = make_console(stderr=True)
        flags = kwargs.get("flags")
        as_json = bool(kwargs.get("as_json") or getattr(flags, "as_json", False))
        WRITTEN.clear()
        # A fifth Ctrl-C quits without unwinding; --json still owes its one object.
        quit_object = {"status": "interrupted", "message": FORCE_QUIT}
        json_on_quit = on_force_quit(lambda: click.echo(json_text(quit_object)))
        try:
            with json_on_quit if as_json else contextlib.nullcontext():
                return command(*args, **kwargs)
        except InputError as exc:
            command_finished()  # ending: a press now must not cut the message or the JSON short
            err.print(f"[bold red]{len(exc.problems)} problem(s) in the input:[/]", highlight=False)
            for problem in exc.problems:
                err.print(f"  - {problem}", highlight=False, markup=False)
            if as_json:  # the promised JSON object on stdout, for scripts; the text stays on stderr
                problems = [{**asdict(p), "message": str(p)} for p in exc.problems]
                click.echo(json_text({"status": "input_error", "problems": problems}))
            sys.exit(EXIT_BAD_INPUT)
        except ModelError as exc:
            _end(err, as_json, "no_plan", str(exc), EXIT_NO_PLAN, heading="No plan:")
        except WriteError as exc:
            _end(err, as_json, "not_written", str(exc), EXIT_NO_PLAN)
        except (MemoryError, RuntimeError) as exc:
            if isinstance(exc, RuntimeError) and CANNOT_START_A_THREAD not in str(exc):
                raise
            # The failed step's tables are still held by the traceback's frames: free them first.
            traceback.clear_frames(exc.__traceback__)
            gc.collect()
            written = f"the run was written to {WRITTEN[-1]}" if WRITTEN else "nothing was written"
            _end(err, as_json, "no_plan", f"{OUT_OF_MEMORY} ({written}.)", EXIT_NO_PLAN, heading="No plan:")
        except KeyboardInterrupt:
            # Ctrl-C inside a single solve's HiGHS does not come here: its best plan is written.
            message = INTERRUPTED
            if WRITTEN:
                message = f"Interrupted (Ctrl-C or kill) after the run was written to {WRITTEN[-1]}."
            _end(err, as_json, "interrupted", message, EXIT_INTERRUPTED)
        finally:
            command_finished()

    return wrapper


def _end(
    err: Console, as_json: bool, status: str, message: str, exit_code: int, heading: str | None = None
) -> NoReturn:
    """Say why the command ends (under a red heading, else in red), and under ``--json`` print
    its one object on stdout as well; then exit with ``exit_code``. A stop signal from here on is
    ignored: a second press as the first one's message printed ended in click's "Aborted!" (exit 1)
    without the promised JSON object."""
    command_finished()
    if heading:
        err.print(f"[bold red]{heading}[/]", highlight=False)
    err.print(message, style=None if heading else "bold red", highlight=False, markup=False)
    if as_json:
        click.echo(json_text({"status": status, "message": message}))
    sys.exit(exit_code)


class JsonAwareGroup(click.Group):
    """A usage error (a flag value out of range, an unknown option) is found by click before any
    command runs; with ``--json`` it still prints the promised JSON object on stdout."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta[JSON_REQUESTED] = "--json" in args  # click empties ctx.args before a usage error
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            if ctx.meta.get(JSON_REQUESTED):
                param = getattr(exc, "param", None)
                where = param.opts[0] if param is not None and param.opts else "command line"
                problem = Problem(where, None, None, None, exc.format_message())
                problems = [{**asdict(problem), "message": exc.format_message()}]
                click.echo(json_text({"status": "input_error", "problems": problems}))
            raise


JSON_REQUESTED = "planner.json_requested"
