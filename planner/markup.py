"""Rich output: consoles sized for the plan tables, and user text (names, ids, paths, messages)
printed as written, never as markup.

rich reads ``[...]`` in a printed string or a table cell as a style tag: ``lo[v2]`` would print
as ``lo``, and an unmatched closing tag such as ``[/b]`` raises ``MarkupError``. planner's own
styling (``[bold]``, ``[yellow]``) stays markup; what the user wrote goes through :func:`literal`.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable

from rich.console import Console
from rich.markup import escape


def literal(value: object) -> str:
    """``value`` as text to put in a rich markup string or table cell, printed exactly as written."""
    return escape(str(value))


def make_console(stderr: bool = False) -> Console:
    """Wide enough for the plan tables when output is piped or captured."""
    stream = sys.stderr if stderr else sys.stdout
    return Console(stderr=stderr, width=None if stream.isatty() else 160)


def print_warnings(console: Console, warnings: Iterable[str], about: str = "") -> None:
    """Each of ``warnings`` (user text, printed as written) as a yellow ``warning:`` line, after
    ``about`` (markup, e.g. which sweep variant) when given."""
    for warning in warnings:
        console.print(f"[yellow]warning:[/] {about}{literal(warning)}", highlight=False)
