"""The ``planner`` command's entry point.

It loads the CLI itself so that Ctrl-C while Python is still importing it ends the way Ctrl-C does
later (one line, exit 130) instead of with a traceback; this module imports nothing heavy.
"""

from __future__ import annotations

import sys

EXIT_INTERRUPTED = 130
"""The shell's code for a command stopped by Ctrl-C (128 + SIGINT)."""
INTERRUPTED = "Interrupted (Ctrl-C or kill) before the run was complete; nothing was written."


def run() -> None:
    try:
        from planner.cli import run as run_cli
    except KeyboardInterrupt:
        sys.stderr.write(INTERRUPTED + "\n")
        sys.exit(EXIT_INTERRUPTED)
    run_cli()
