"""JSON as planner writes it: standard JSON, where a figure that is not finite is ``null``.

Python's ``json`` writes NaN and infinity as ``NaN`` / ``Infinity``, which no JSON parser outside
Python accepts: an LP stopped by its time limit has an infinite gap, a failed solve no objective.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import SupportsFloat


def finite_or_none(value: SupportsFloat | None) -> float | None:
    """``value`` as a float, or None when it is None, NaN or infinite."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def json_ready(value: object) -> object:
    """``value`` with every float that is not finite replaced by None, NumPy scalars as Python
    numbers and paths as text, in nested dicts, lists and tuples."""
    if isinstance(value, dict):
        return {key: json_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(item) for item in value]
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()  # a NumPy or pandas scalar
    if isinstance(value, float):
        return finite_or_none(value)
    return value


def json_text(
    data: object, indent: int | None = None, default: Callable[[object], object] | None = None
) -> str:
    """``data`` as standard JSON text; a value JSON cannot hold is an error (or ``default(value)``),
    never written as it is."""
    return json.dumps(json_ready(data), indent=indent, allow_nan=False, default=default)
