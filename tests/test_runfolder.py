"""Run folders on the edges of what they refuse (the README's "Outputs never lose data" rules).

The command-line tests (``test_cli.py``) cover the common cases end to end; these drive
:class:`RunFolder` directly where the edge is hard to reach from a solve.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from planner.errors import InputError
from planner.runfolder import MAX_NAME_BYTES, RUN_NAME_PART_BYTES, RunFolder, default_run_dir, safe_name


def _refusal(final: Path, **options: Any) -> str:
    with pytest.raises(InputError) as caught:
        RunFolder(final, **options)
    (problem,) = caught.value.problems
    return problem.expected


def test_the_longest_name_the_file_system_takes_is_accepted(tmp_path: Path) -> None:
    """255 bytes for the staging name ``.<name>.partial``: a name of 246 bytes, not one more."""
    with RunFolder(tmp_path / ("x" * 246)) as run:
        run.write_text("a.txt", "a")
        final = run.commit()
    assert (final / "a.txt").read_text() == "a"
    assert "at most 246 bytes" in _refusal(tmp_path / ("y" * 247))


@pytest.mark.parametrize("letter", ["é", "あ", "𝔸"])  # 2, 3 and 4 bytes in UTF-8
@pytest.mark.parametrize("max_bytes", [MAX_NAME_BYTES, 242, 100, 7])
def test_a_name_is_cut_on_bytes_at_a_character_boundary(letter: str, max_bytes: int) -> None:
    """Cut on characters, 100 four-byte letters were 400 bytes ("File name too long"): cut on bytes,
    every alignment of the cut within a letter (ASCII before it) keeps whole letters only."""
    for ascii_before in range(4):
        label = "x" * ascii_before + letter * 300
        name = safe_name(label, max_bytes)
        assert label.startswith(name)
        assert max_bytes - len(letter.encode()) < len(name.encode()) <= max_bytes
    exact = "x" * (max_bytes - 3) + "あ"  # at the limit: kept whole
    assert safe_name(exact, max_bytes) == exact
    assert safe_name(exact + "x", max_bytes) == exact


def test_a_cut_name_stays_safe() -> None:
    """What the cut leaves still holds no leading or trailing '.' or '_', and is never empty."""
    assert safe_name("../" + "a" * 10 + "." * 20, 12) == "a" * 10
    assert safe_name("𝔸", 3) == "run"  # no whole letter fits
    assert safe_name("😀 /") == "run"  # nothing a file name keeps as is


def test_a_default_name_of_the_longest_parts_fits_when_staged() -> None:
    """Case and model parts cut to 100 bytes each leave room for every suffix and a taken name's -NN."""
    longest_suffix = "-fixed-relaxed-unpowered"
    path = default_run_dir("𝔸" * 63, "sweep-" + "日" * 33 + "-vs-" + "語" * 33, suffix=longest_suffix)
    assert path.name.startswith(f"{'𝔸' * 25}-sweep-{'日' * 31}-fixed-relaxed-unpowered-")
    assert len(f".{path.name}-999.partial".encode()) <= MAX_NAME_BYTES
    assert len(safe_name("𝔸" * 63, RUN_NAME_PART_BYTES).encode()) == RUN_NAME_PART_BYTES


def test_an_existing_folder_is_refused_before_anything_is_made(tmp_path: Path) -> None:
    final = tmp_path / "run"
    final.mkdir()
    assert _refusal(final).startswith("a folder that does not exist yet")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no staging folder either


def test_a_folder_made_meanwhile_is_not_replaced_without_overwrite(tmp_path: Path) -> None:
    """Another program creates the folder while the run is writing: the commit refuses it."""
    final = tmp_path / "run"
    with pytest.raises(InputError), RunFolder(final) as run:
        run.write_text("a.txt", "new")
        final.mkdir()
        (final / "theirs.txt").write_text("theirs")
        run.commit()
    assert sorted(p.name for p in final.iterdir()) == ["theirs.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_pipe_in_the_way_is_named_as_such(tmp_path: Path) -> None:
    pipe = tmp_path / "run"
    os.mkfifo(pipe)
    assert "a device, pipe or socket is there" in _refusal(pipe, overwrite=True)
    file = tmp_path / "file"
    file.write_text("x")
    assert "a file is there" in _refusal(file, overwrite=True)


def test_a_run_folder_anywhere_below_the_input_folder_is_refused(tmp_path: Path) -> None:
    case = tmp_path / "case"
    case.mkdir()
    for final in (case / "run", case / "deeper" / "still" / "run"):
        assert "outside the input folder" in _refusal(final, protect=[case])
    assert list(case.iterdir()) == []


def test_an_error_after_the_commit_is_not_called_a_failed_write(tmp_path: Path) -> None:
    """Once the folder is in place, an OSError (e.g. printing) is not "Nothing was written"."""
    with pytest.raises(OSError) as caught, RunFolder(tmp_path / "run") as run:
        run.write_text("a.txt", "a")
        run.commit()
        raise OSError(28, "No space left on device")
    assert type(caught.value) is OSError
    assert (tmp_path / "run" / "a.txt").read_text() == "a"


def test_a_staging_name_that_is_a_link_is_never_cleared(tmp_path: Path) -> None:
    """``.run.partial`` linking to a folder with an unlocked marker is not a killed run's leftover:
    it is left as it is, and the name is refused as busy."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / ".planner-run").write_text("written by planner\n")
    (tmp_path / ".run.partial").symlink_to(elsewhere)
    assert "a folder no other run is writing" in _refusal(tmp_path / "run")
    assert (tmp_path / ".run.partial").is_symlink() and (elsewhere / ".planner-run").exists()


def _strict_json(text: str) -> object:
    """JSON as a parser outside Python reads it: ``NaN`` and ``Infinity`` are not JSON."""
    import json

    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def test_figures_that_are_not_finite_are_written_as_null_at_any_depth(tmp_path: Path) -> None:
    """An LP stage stopped by its time limit has an infinite gap: nested in a summary's ``stages``
    it was written as ``Infinity``, which strict readers (jq, JavaScript) refuse."""
    import numpy as np

    summary = {
        "mip_gap": float("inf"),
        "stages": [{"stage": "mean-demand plan", "mip_gap": float("inf"), "bound_musd": float("-inf")}],
        "figures": (np.float64("nan"), np.int64(3), 1.5),
        "path": tmp_path,
    }
    with RunFolder(tmp_path / "run") as run:
        run.write_json("summary.json", summary)
        run.commit()
    written = _strict_json((tmp_path / "run" / "summary.json").read_text())
    assert written == {
        "mip_gap": None,
        "stages": [{"stage": "mean-demand plan", "mip_gap": None, "bound_musd": None}],
        "figures": [None, 3, 1.5],
        "path": str(tmp_path),
    }
