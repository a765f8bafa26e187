"""User text in rich output: names, ids, paths and messages are printed as written, never as markup.

rich reads ``[...]`` in a printed string or a table cell as a style tag: ``lo[v2]`` would print
as ``lo``, and an unmatched closing tag such as ``[/b]`` raises ``MarkupError``. planner's own
styling (``[bold]``, ``[yellow]``) stays markup; what the user wrote goes through :func:`literal`.
"""

from __future__ import annotations

from rich.markup import escape


def literal(value: object) -> str:
    """``value`` as text to put in a rich markup string or table cell, printed exactly as written."""
    return escape(str(value))
