"""Errors a user can act on: bad input (exit code 2) and models that cannot be solved."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class Problem:
    """One problem in an input file, located as a spreadsheet shows it (header = row 1)."""

    file: str
    row: int | None
    column: str | None
    value: str | None
    expected: str
    place: ClassVar[str] = "column"
    """What ``column`` names in the message."""

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"{self.place} {self.column}")
        text = ", ".join(where)
        if self.value is not None:
            text += f": value {self.value!r}"
        return f"{text} — expected {self.expected}"


@dataclass(frozen=True)
class KeyProblem(Problem):
    """One problem in a TOML file (a model): ``column`` holds the dotted key (``solver.mip_gap``),
    which the message calls a key, since the file has no columns."""

    place: ClassVar[str] = "key"


class InputError(Exception):
    """Every problem found in a case or model file, reported together."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def __reduce__(self) -> tuple[type[InputError], tuple[list[Problem]]]:
        # Keep the problem list when the error crosses a process boundary (parallel workers).
        return (InputError, (self.problems,))


def load_together(*loads: Callable[[], Any]) -> list[Any]:
    """What each of ``loads`` returns, in order; all of them run even when one finds problems, and
    the problems of every one are raised as one :class:`InputError`: a bad case and a bad model
    TOML are reported in one answer, the same whichever command reads them."""
    results: list[Any] = []
    problems: list[Problem] = []
    for load in loads:
        try:
            results.append(load())
        except InputError as exc:
            problems += exc.problems
    if problems:
        raise InputError(problems)
    return results


class ModelError(Exception):
    """A model that has no plan to offer (infeasible, unbounded, solver failure), in words."""


class WriteError(Exception):
    """The run folder could not be written (disk full, quota, folder removed underneath): the
    partial folder is gone, so nothing of the run is on disk."""
