"""Run folders: every run writes into a new folder, atomically (complete or absent).

Files are written into a hidden sibling folder first and renamed into place at the end, so a
crash or Ctrl-C never leaves a half-written run; an existing folder is never overwritten unless
asked.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from planner.errors import InputError, Problem

if TYPE_CHECKING:
    import pandas as pd


def default_run_dir(case_name: str, model_name: str, root: Path = Path("runs")) -> Path:
    """``runs/<case>-<model>-<timestamp>``, with a suffix if that name is taken."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    base = root / f"{case_name}-{model_name}-{stamp}"
    candidate, n = base, 2
    while candidate.exists():
        candidate = base.with_name(f"{base.name}-{n}")
        n += 1
    return candidate


class RunFolder:
    """Context manager: write into ``.staging``, rename to ``final`` on :meth:`commit`."""

    def __init__(self, final: Path, overwrite: bool = False) -> None:
        self.final = Path(final)
        self.overwrite = overwrite
        if self.final.exists() and not self.final.is_dir():
            raise InputError([Problem(str(self.final), None, None, None, "a folder path (a file is there)")])
        if self.final.exists() and not overwrite:
            raise InputError(
                [
                    Problem(
                        str(self.final),
                        None,
                        None,
                        None,
                        "a folder that does not exist yet "
                        "(runs never overwrite; pass --overwrite to replace it)",
                    )
                ]
            )
        self.final.parent.mkdir(parents=True, exist_ok=True)
        self.path = Path(tempfile.mkdtemp(prefix=f".{self.final.name}.", dir=self.final.parent))
        self.committed = False

    def __enter__(self) -> RunFolder:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self.committed:
            shutil.rmtree(self.path, ignore_errors=True)

    def write_table(self, name: str, table: pd.DataFrame, index: bool = False) -> None:
        table.to_csv(self.path / f"{name}.csv", index=index, float_format="%.10g")

    def write_json(self, name: str, data: object) -> None:
        (self.path / name).write_text(json.dumps(data, indent=2, default=_json_default) + "\n")

    def write_text(self, name: str, text: str) -> None:
        (self.path / name).write_text(text)

    def commit(self) -> Path:
        """Move the finished folder into place."""
        if self.final.exists():
            if not self.overwrite:
                raise InputError(
                    [Problem(str(self.final), None, None, None, "a folder that does not exist yet")]
                )
            shutil.rmtree(self.final)
        os.replace(self.path, self.final)
        self.committed = True
        return self.final


def _json_default(value: object) -> object:
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
