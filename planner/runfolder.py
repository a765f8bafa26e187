"""Run folders: every run writes into a new folder, atomically (complete or absent).

Files are written into a hidden sibling folder, ``.<name>.partial``, and renamed into place at
the end, so a crash or Ctrl-C never leaves a half-written run. Creating that sibling is what
reserves the name: two runs started at once never pick the same folder. The run holds a lock on
that folder's :data:`RUN_MARKER` while it lives, so a ``.partial`` folder whose lock is free was left
by a killed run (SIGKILL, power loss) and is cleared instead of blocking the name. An existing
folder is never overwritten unless asked, and even then only a folder that planner wrote (it holds
:data:`RUN_MARKER`) or an empty one: never the input case, the current directory or a parent.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING

from planner.entry import command_finished, on_force_quit
from planner.errors import InputError, Problem, WriteError
from planner.json_text import json_text

try:
    import fcntl
except ImportError:  # Windows: no advisory locks, so a killed run's .partial folder stays busy
    fcntl = None  # type: ignore[assignment]

if TYPE_CHECKING:
    import pandas as pd

RUN_MARKER = ".planner-run"
"""File in every run folder; ``--overwrite`` replaces only folders that have it (or are empty)."""

_UNSAFE_NAME_CHARS = re.compile(r"[^\w.+-]+")
MAX_NAME_BYTES = 255
"""Longest file name most file systems take (NAME_MAX); a longer one was an internal error."""


RUN_NAME_PART_BYTES = 100
"""The case's and the model's parts of a default run folder name, each cut to this many bytes, so
that its staged name stays within NAME_MAX: the two parts and their "-" (201), the longest suffix
("-fixed-relaxed-unpowered", 24), the timestamp (16) and the staging name's "." and ".partial" (9)
make 250, which leaves 5 for the "-2", "-3"... of a name taken."""


def default_run_dir(case_name: str, model_name: str, root: Path = Path("runs"), suffix: str = "") -> Path:
    """``runs/<case>-<model><suffix>-<timestamp>``; :class:`RunFolder` with ``unique=True`` adds a
    suffix when that name is taken. Names are reduced to safe characters (a model named ``../x``
    must not write outside ``runs/``)."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    # ``suffix`` (e.g. "-relaxed") after the cut, so a long model name cannot drop it.
    case, model = (safe_name(part, RUN_NAME_PART_BYTES) for part in (case_name, model_name))
    return root / f"{case}-{model}{suffix}-{stamp}"


def safe_name(label: str, max_bytes: int = MAX_NAME_BYTES) -> str:
    """``label`` (a case, model or variant name: free text) as a file name, or the part of one that
    leaves the rest of NAME_MAX to what is added around it: characters outside letters, digits and
    ``.+-_`` replaced (``../x`` must not leave its folder), no leading or trailing ``.`` or ``_``, and
    at most ``max_bytes`` in UTF-8. The file system counts bytes, not characters: 100 characters of
    a 4-byte letter are 400 bytes ("File name too long")."""
    safe = _UNSAFE_NAME_CHARS.sub("_", label).strip("._")
    # A cut inside a character leaves a partial byte sequence, which "ignore" drops: whole characters only.
    cut = safe.encode()[:max_bytes].decode(errors="ignore")
    return cut.rstrip("._") or "run"


def _staging_path(final: Path) -> Path:
    return final.parent / f".{final.name}.partial"


class RunFolder:
    """Context manager: write into ``.<name>.partial``, rename to ``final`` on :meth:`commit`.

    ``unique``: ``final`` is only a wish (a default name); the first free ``final-2``,
    ``final-3``... is taken instead when it exists or another run is writing it. ``protect``: folders
    that must survive (the input case): ``final`` may not be one of them or hold one.
    """

    def __init__(
        self,
        final: Path,
        overwrite: bool = False,
        unique: bool = False,
        protect: Iterable[Path] = (),
    ) -> None:
        self.overwrite = overwrite and not unique
        self.committed = False
        self._quit_hooks = contextlib.ExitStack()
        self._writing = ""
        """The file being written, named when the disk fills (pandas' errors do not say)."""
        # "case/new/.." is the case: read lexically, so no "new" folder is made on the way to a refusal.
        wished = Path(os.path.normpath(final))
        if len(_staging_path(wished).name.encode()) > MAX_NAME_BYTES:
            expected = f"a run folder name of at most {MAX_NAME_BYTES - len('..partial')} bytes"
            raise InputError([_problem(wished, expected)])
        # Before any folder is made: a refused run folder leaves nothing behind.
        _check_outside_input_folders(wished, protect, named_by_user=not unique)
        if not unique:
            _check_replaceable(wished, self.overwrite, protect)
        _make_parent(wished)
        candidate, n = wished, 2
        while True:
            if not (unique and candidate.exists()) and _reserve(_staging_path(candidate)):
                break
            if not unique:
                raise InputError([_problem(candidate, _BUSY)])
            candidate = wished.with_name(f"{wished.name}-{n}")
            n += 1
        self.final = candidate
        self.path = _staging_path(candidate)
        self._marker = self._take_marker()

    def _take_marker(self) -> IO[str]:
        """The marker, held open and locked until the run ends: the lock tells later runs this one
        is alive. It is locked under another name and then renamed, so no run ever sees it
        unlocked. A disk that fills right here (the marker is the first byte written) ends the
        run as any failed write does, its staging folder removed, so no leftover blocks the name."""
        unlocked = self.path / f"{RUN_MARKER}.new"
        marker = None
        try:
            marker = unlocked.open("w")
            _lock(marker.fileno())
            marker.write("written by planner; --overwrite may replace this folder\n")
            marker.flush()
            os.replace(unlocked, self.path / RUN_MARKER)
        except OSError as exc:
            if marker is not None:
                with contextlib.suppress(OSError):  # its buffered text cannot be written either
                    marker.close()
            shutil.rmtree(self.path, ignore_errors=True)
            raise _write_error(self.final, exc, unlocked) from exc
        return marker

    def __enter__(self) -> RunFolder:
        # A fifth Ctrl-C quits without unwinding: the staged folder must not outlive it.
        self._quit_hooks.enter_context(on_force_quit(self._discard))
        return self

    def _discard(self) -> None:
        if not self.committed:
            shutil.rmtree(self.path, ignore_errors=True)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is not None:  # the command is ending: a second press must not stop the clean-up
            command_finished()
        self._quit_hooks.close()
        self._discard()
        self._marker.close()
        if isinstance(exc, OSError) and not self.committed:
            raise _write_error(self.final, exc, self.path / self._writing if self._writing else None) from exc

    def file(self, name: str) -> Path:
        """Where to write ``name`` in the run folder, its subfolders made (a ``name`` with slashes);
        every writer goes through here, so that a failed write names the file."""
        self._writing = name
        path = self.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def write_table(self, name: str, table: pd.DataFrame, index: bool = False) -> None:
        table.to_csv(self.file(f"{name}.csv"), index=index, float_format="%.10g")

    def write_json(self, name: str, data: object) -> None:
        self.write_text(name, json_text(data, indent=2) + "\n")

    def write_text(self, name: str, text: str) -> None:
        self.file(name).write_text(text)

    def copy_input(self, source: Path, name: str) -> None:
        shutil.copyfile(source, self.file(name))

    def commit(self) -> Path:
        """Move the finished folder into place."""
        replaced = None
        if self.final.exists() and not self.overwrite:
            raise InputError([_problem(self.final, _NOT_THERE_YET)])
        # From here the run goes into place: a stop signal has nothing left to save, must not
        # leave a replaced run moved aside, and landing as the report prints no longer ends a
        # written run with exit 130.
        command_finished()
        if self.final.exists():
            # Moved aside, not deleted, until the new run is in place: a crash here loses nothing.
            replaced = self.final.parent / f".{self.final.name}.replaced-{os.getpid()}"
            os.replace(self.final, replaced)
        os.replace(self.path, self.final)
        self.committed = True
        WRITTEN.append(self.final)
        if replaced is not None:
            shutil.rmtree(replaced, ignore_errors=True)
        return self.final


WRITTEN: list[Path] = []
"""Run folders this process has put in place, newest last: a Ctrl-C that lands while the summary is
being printed must not claim that nothing was written."""

_NOT_THERE_YET = "a folder that does not exist yet (runs never overwrite; pass --overwrite to replace it)"
_BUSY = (
    "a folder no other run is writing (its hidden .partial sibling exists and another planner run "
    "is writing it; if none is, remove that sibling)"
)


def _write_error(final: Path, exc: OSError, writing: Path | None) -> WriteError:
    """A failed write in words: the run folder, why, and the file (the error's, else the one
    being written)."""
    failed = exc.filename or writing
    where = f" ({failed})" if failed else ""
    remedy = "free space or choose another --out"
    if exc.errno in (errno.EMFILE, errno.ENFILE):
        remedy = "raise the open-file limit (ulimit -n) or run fewer --workers"
    return WriteError(
        f"Could not write the run folder {final}: {exc.strerror or exc}{where}. "
        f"Nothing was written; {remedy}, then run again."
    )


def _problem(path: Path, expected: str) -> Problem:
    return Problem(str(path), None, None, None, expected)


def _make_parent(final: Path) -> None:
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        blocker = next((p for p in final.parents if p.exists() or p.is_symlink()), None)
        reason = (
            f"'{blocker}' is not a folder"
            if blocker is not None and not blocker.is_dir()
            else exc.strerror or str(exc)
        )
        expected = f"a run folder path whose parent can be created ({reason})"
        raise InputError([_problem(final, expected)]) from exc


def _reserve(staging: Path) -> bool:
    """Create ``staging``; False when it already exists and a live run holds it.

    A ``staging`` folder whose marker lock is free was left by a killed run: it is cleared and
    the name taken. Only a lock holder ever removes a staging folder, and ``mkdir`` decides who
    owns a new one, so two runs clearing the same leftover cannot both win.
    """
    try:
        staging.mkdir()
    except FileExistsError:
        return _clear_if_abandoned(staging) and _reserve(staging)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        if isinstance(exc, FileNotFoundError) and staging.parent.is_dir():
            reason = "it exists but refuses new folders, as /proc and /sys do"  # the kernel says ENOENT
        raise InputError([_problem(staging.parent, f"a folder planner can write in ({reason})")]) from exc
    return True


def _lock(fd: int) -> bool:
    """Take the exclusive lock on ``fd`` without waiting; False when another process holds it."""
    if fcntl is None:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _clear_if_abandoned(staging: Path) -> bool:
    """Remove ``staging`` if a killed run left it (its marker exists and nobody holds its lock).

    Without a marker the folder is not known to be planner's, or its run is just starting: it
    is left alone. The identity check guards against a marker replaced since it was opened.
    """
    if fcntl is None or staging.is_symlink() or not staging.is_dir():
        return False
    try:
        with (staging / RUN_MARKER).open("rb") as marker:
            if not _lock(marker.fileno()):
                return False
            opened, current = os.fstat(marker.fileno()), os.stat(staging / RUN_MARKER)
            if (opened.st_dev, opened.st_ino) != (current.st_dev, current.st_ino):
                return False
            abandoned = staging.with_name(f"{staging.name}.abandoned-{os.getpid()}")
            os.replace(staging, abandoned)
    except OSError:
        return False
    shutil.rmtree(abandoned, ignore_errors=True)
    return True


def _check_outside_input_folders(final: Path, protect: Iterable[Path], named_by_user: bool = True) -> None:
    """Refuse, before anything is created, a run folder inside an input folder (the case): the
    loader reads every ``*.csv`` there, so ``--out case/budget.csv`` made the case unreadable. The
    default ``runs/`` folder is made in the current directory, so run from inside the case it
    would land there too."""
    resolved = _real(final)
    for kept in protect:
        kept_resolved = _real(Path(kept))
        if kept_resolved.is_dir() and kept_resolved in resolved.parents:
            expected = f"a run folder outside the input folder {kept} (a run never changes its inputs)"
            if not named_by_user:
                expected += (
                    ": the default run folder is made under runs/ in the current directory, which is"
                    " inside it; run from another directory or give --out"
                )
            raise InputError([_problem(final, expected)])


def _check_replaceable(final: Path, overwrite: bool, protect: Iterable[Path]) -> None:
    """Refuse, before any work, an existing ``final`` that this run may not replace."""
    if not final.exists() and not final.is_symlink():
        return
    if not final.is_dir() or final.is_symlink():
        raise InputError([_problem(final, f"a folder path ({_not_a_folder(final)})")])
    if not overwrite:
        raise InputError([_problem(final, _NOT_THERE_YET)])
    resolved = _real(final)
    cwd = _real(Path.cwd())
    if resolved == cwd or resolved in cwd.parents:
        raise InputError(
            [_problem(final, "a run folder other than the current directory or a parent of it")]
        )
    for kept in protect:
        kept_resolved = _real(Path(kept))
        if resolved == kept_resolved or resolved in kept_resolved.parents:
            expected = f"a run folder that does not hold the input {kept} (--overwrite deletes it)"
            raise InputError([_problem(final, expected)])
    if any(final.iterdir()) and not (final / RUN_MARKER).is_file():
        raise InputError(
            [
                _problem(
                    final,
                    f"a folder planner wrote (it has a {RUN_MARKER} file) or an empty one: "
                    "--overwrite replaces only those; choose another --out or remove it yourself",
                )
            ]
        )


def _real(path: Path) -> Path:
    """``path`` with its links followed as far as they go; unlike ``Path.resolve`` (Python 3.11), a
    link loop does not raise, so it reaches the check that refuses it in words."""
    return Path(os.path.realpath(path))


def _not_a_folder(path: Path) -> str:
    """What is at ``path`` instead of a folder a run may write, and what to do about a link."""
    if path.is_symlink():
        target = path.readlink()
        if not path.exists():
            return f"a link to '{target}' that leads nowhere (broken, or a loop) is there"
        # A run renames its finished folder into place: that would replace the link, not fill its target.
        return (
            f"a link to '{target}' is there; a run writes a real folder in place of its name, so give the"
            " folder itself, or a new name inside it"
        )
    return "a file is there" if path.is_file() else "a device, pipe or socket is there"
