"""The ``planner`` command line through click's CliRunner: solve, validate, run folders, models.

Each test runs the real command in-process on the tiny case of ``conftest.py`` (a MIP of ~130
columns that solves in well under a second).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Mapping
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from conftest import CaseWriter, Cli

from planner.config import MODELS_DIR
from planner.errors import InputError
from planner.loader import load_case
from planner.runfolder import RunFolder, default_run_dir
from planner.synthetic import synthetic_case_files, write_case

SUMMARY_KEYS = {
    "objective_musd",
    "status",
    "mip_gap",
    "bound_musd",
    "build_seconds",
    "solve_seconds",
    "rescaled",
    "cost_breakdown_musd",
    "stranded",
    "run_dir",
}
RESULT_TABLES = (
    "builds.csv",
    "chips.csv",
    "contracts.csv",
    "commitments.csv",
    "unmet.csv",
    "dispatch.csv",
    "energy.csv",
    "cost_by_scenario.csv",
    "stranded_by_period.csv",
    "stranded_by_scenario.csv",
    "risk.csv",
    "risk_by_period.csv",
    "capex_by_period.csv",
    "capacity_by_period.csv",
)
TIMING_KEYS = {"build_seconds", "load_seconds", "solve_seconds", "run_dir"}


def squash(text: str) -> str:
    """The text without any whitespace: error messages are wrapped to the terminal width."""
    return "".join(text.split())


def assert_mentions(text: str, *parts: str) -> None:
    for part in parts:
        assert squash(part) in squash(text), f"{part!r} not in:\n{text}"


def staging_leftovers(parent: Path) -> list[Path]:
    """Hidden ``.<name>.*`` staging folders that a run folder leaves behind if not cleaned."""
    return [p for p in parent.iterdir() if p.name.startswith(".")]


def solve_json(cli: Cli, case_dir: Path, out: Path, *flags: object) -> dict:
    result = cli("solve", case_dir, "--out", out, "--json", *flags)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# --------------------------------------------------------------------------------------------
# solve: console tables, run folder, JSON
# --------------------------------------------------------------------------------------------


def test_solve_prints_tables_and_writes_the_run_folder(cli: Cli, tiny_case_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "runs" / "first"
    result = cli("solve", tiny_case_dir, "--out", out)
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "status optimal" in text
    assert "Discounted cost" in text
    assert "Stranded capacity per scenario" in text
    assert "Risk over scenarios" in text
    assert_mentions(text, str(out))

    assert out.is_dir()
    for name in ("summary.json", "solver.log", "inputs_fingerprint.txt", "model.json", *RESULT_TABLES):
        assert (out / name).is_file(), name
    assert (out / "solver.log").stat().st_size > 0
    case, _ = load_case(tiny_case_dir)
    assert (out / "inputs_fingerprint.txt").read_text().split() == ["sha256", case.fingerprint]
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary) >= SUMMARY_KEYS
    assert summary["status"] == "optimal"
    assert summary["model"] == "phased"
    assert summary["run_dir"] == str(out)
    assert summary["fingerprint"] == case.fingerprint
    assert summary["solver"] == f"HiGHS {version('highspy')}"
    assert summary["cost_breakdown_musd"]["total"] == pytest.approx(summary["objective_musd"], rel=1e-9)
    assert set(summary["stranded"]) == {"high", "low"}
    assert not staging_leftovers(out.parent)


def test_solve_json_prints_exactly_one_object(cli: Cli, tiny_case_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = cli("solve", tiny_case_dir, "--out", out, "--json")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().count("\n") == 0, result.stdout
    summary = json.loads(result.stdout)
    assert isinstance(summary, dict)
    assert set(summary) >= SUMMARY_KEYS
    assert summary["status"] == "optimal"
    assert summary["run_dir"] == str(out)
    assert 0 <= summary["mip_gap"] <= 0.005 + 1e-12
    assert summary["bound_musd"] <= summary["objective_musd"] + 1e-6
    assert summary["build_seconds"] >= 0 and summary["solve_seconds"] >= 0
    assert set(summary["stranded"]) == {"high", "low"}
    on_disk = json.loads((out / "summary.json").read_text())
    assert on_disk["objective_musd"] == summary["objective_musd"]


def test_out_that_exists_is_refused_and_left_untouched(cli: Cli, tiny_case_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "taken"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    result = cli("solve", tiny_case_dir, "--out", out)
    assert result.exit_code == 2
    assert_mentions(result.stderr, str(out), "--overwrite")
    assert "Traceback" not in result.output
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    assert (out / "keep.txt").read_text() == "mine"
    assert not staging_leftovers(tmp_path)


def test_overwrite_replaces_an_earlier_run(cli: Cli, tiny_case_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "taken"
    assert cli("solve", tiny_case_dir, "--out", out, "--relax").exit_code == 0
    (out / "extra.txt").write_text("from the earlier run")
    result = cli("solve", tiny_case_dir, "--out", out, "--overwrite")
    assert result.exit_code == 0, result.output
    assert not (out / "extra.txt").exists()
    assert json.loads((out / "model.json").read_text())["integer"] is True
    assert not staging_leftovers(tmp_path)


def test_overwrite_of_an_empty_folder(cli: Cli, tiny_case_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "empty"
    out.mkdir()
    assert cli("solve", tiny_case_dir, "--out", out, "--overwrite").exit_code == 0
    assert (out / "summary.json").is_file()


def test_overwrite_never_deletes_what_planner_did_not_write(
    cli: Cli, tiny_case_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--overwrite replaces earlier runs only: not a folder of the user's, not the input case, not the
    current directory (each refused with exit 2 before any work, every file left in place)."""
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "keep.txt").write_text("mine")
    case_dir = tmp_path / "cases" / "tiny"
    shutil.copytree(tiny_case_dir, case_dir)
    case_files = sorted(p.name for p in case_dir.iterdir())
    monkeypatch.chdir(mine)
    for out, expected in [
        (mine, "current directory"),
        (tmp_path, "current directory"),  # a parent of it
        (case_dir, "does not hold the input"),
        (case_dir.parent, "does not hold the input"),
    ]:
        result = cli("solve", case_dir, "--out", out, "--overwrite")
        assert result.exit_code == 2, (out, result.output)
        assert_mentions(result.stderr, str(out), expected)
    monkeypatch.chdir(tmp_path)
    refused = cli("solve", case_dir, "--out", mine, "--overwrite")
    assert refused.exit_code == 2
    assert_mentions(refused.stderr, str(mine), ".planner-run")
    assert [p.name for p in mine.iterdir()] == ["keep.txt"]
    assert sorted(p.name for p in case_dir.iterdir()) == case_files
    assert not staging_leftovers(mine)


def test_overwrite_never_deletes_the_model_file(cli: Cli, tiny_case_dir: Path, tmp_path: Path) -> None:
    """A model TOML kept in an earlier run folder is an input too (solve and compare)."""
    out = tmp_path / "run"
    assert cli("solve", tiny_case_dir, "--out", out, "--relax").exit_code == 0
    model = out / "my-model.toml"
    model.write_text((MODELS_DIR / "phased.toml").read_text().replace('name = "phased"', 'name = "mine"'))
    for command in (["solve", "--model", model], ["compare", "--model", model, "--model", "all-at-once"]):
        result = cli(command[0], tiny_case_dir, *command[1:], "--out", out, "--overwrite")
        assert result.exit_code == 2, result.output
        assert_mentions(result.stderr, str(out), "does not hold the input")
        assert model.is_file()


def test_ctrl_c_while_printing_a_written_run_says_it_was_written(
    cli: Cli, tiny_case_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("planner.report.render_plan", interrupted)
    out = tmp_path / "run"
    result = cli("solve", tiny_case_dir, "--out", out)
    assert result.exit_code == 130
    assert_mentions(result.stderr, "after the run was written to", str(out))
    assert "nothing was written" not in result.stderr
    assert (out / "summary.json").is_file()
    # The next command, stopped before it writes anything, does not claim the earlier folder.
    monkeypatch.setattr("planner.plan.solve_case", interrupted)
    early = cli("solve", tiny_case_dir, "--out", tmp_path / "nowhere")
    assert early.exit_code == 130
    assert "nothing was written" in early.stderr and str(out) not in early.stderr


def test_runs_started_together_get_their_own_folders(tmp_path: Path) -> None:
    """The default name is only a wish: a second run that wants it while the first is still
    writing takes the next free one; an explicit --out that another run is writing is refused."""
    wished = tmp_path / "runs" / "case-phased-20260101-000000"
    with RunFolder(wished, unique=True) as first, RunFolder(wished, unique=True) as second:
        assert (first.final, second.final) == (wished, wished.with_name(f"{wished.name}-2"))
        with pytest.raises(InputError, match="another planner run"):
            RunFolder(wished)
        first.write_text("a.txt", "first")
        second.write_text("a.txt", "second")
        second.commit()
        first.commit()
    assert (wished / "a.txt").read_text() == "first"
    assert (second.final / "a.txt").read_text() == "second"
    assert not staging_leftovers(wished.parent)


KILLED_RUN = """
import os, signal, sys
from pathlib import Path
from planner.runfolder import RunFolder
folder = RunFolder(Path(sys.argv[1]), unique=sys.argv[2] == "unique")
folder.write_text("half.csv", "a,b\\n")
os.kill(os.getpid(), signal.SIGKILL)
"""


def kill_a_run_writing(final: Path, unique: bool = False) -> Path:
    """Start a run folder in another process and SIGKILL it mid-write; its ``.partial`` stays."""
    argv = [sys.executable, "-c", KILLED_RUN, str(final), "unique" if unique else "explicit"]
    killed = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    staging = final.parent / f".{final.name}.partial"
    assert (staging / "half.csv").is_file()
    return staging


@pytest.mark.skipif(sys.platform == "win32", reason="advisory locks are POSIX-only")
def test_a_killed_runs_leftover_does_not_block_its_folder(
    cli: Cli, tiny_case_dir: Path, tmp_path: Path
) -> None:
    """A run killed mid-write (SIGKILL, power loss) leaves its ``.partial`` folder. Its lock died
    with it, so the next run with that --out clears the leftover instead of refusing the name;
    a default name is taken back too, not skipped to ``-2``."""
    out = tmp_path / "run"
    kill_a_run_writing(out)
    result = cli("solve", tiny_case_dir, "--out", out)
    assert result.exit_code == 0, result.output
    assert not (out / "half.csv").exists()
    assert (out / "summary.json").is_file()
    assert not staging_leftovers(tmp_path)

    wished = tmp_path / "runs" / "case-phased-20260101-000000"
    kill_a_run_writing(wished, unique=True)
    with RunFolder(wished, unique=True) as folder:
        assert folder.final == wished
        folder.commit()
    assert sorted(p.name for p in wished.parent.iterdir()) == [wished.name]


def test_a_partial_folder_planner_did_not_mark_is_left_alone(tmp_path: Path) -> None:
    """A ``.partial`` folder without a marker is not known to be a dead run's: never deleted."""
    final = tmp_path / "run"
    foreign = tmp_path / ".run.partial"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="another planner run"):
        RunFolder(final)
    with RunFolder(final, unique=True) as folder:
        assert folder.final == tmp_path / "run-2"
    assert (foreign / "notes.txt").read_text() == "mine"


def test_default_run_folder_names_are_safe() -> None:
    path = default_run_dir("my case", "../../escaped")
    assert path.parent == Path("runs")
    assert path.name.startswith("my_case-escaped-")
    long_model = default_run_dir("case", "m" * 150, suffix="-relaxed")  # the cut once took "-relaxed"
    assert long_model.name.startswith("case-" + "m" * 100 + "-relaxed-")


def test_an_unusable_out_path_is_an_input_error(cli: Cli, tiny_case_dir: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    result = cli("solve", tiny_case_dir, "--out", blocker / "run")
    assert result.exit_code == 2
    assert_mentions(
        result.stderr, str(blocker / "run"), "parent can be created", f"'{blocker}' is not a folder"
    )


@pytest.mark.parametrize("command", ["solve", "compare"])
@pytest.mark.parametrize("error_names_the_file", [True, False])
def test_a_full_disk_is_reported_in_words_and_leaves_nothing(
    cli: Cli,
    tiny_case_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    command: str,
    error_names_the_file: bool,
) -> None:
    """Disk full (or a quota, or the folder removed underneath) while the run folder is written
    used to end in "internal error: OSError" with no JSON. A failed write() names no file (pandas
    passes that on): the message still names the file being written."""
    import errno

    import pandas as pd

    def disk_full(self: pd.DataFrame, path: object, *args: object, **kwargs: object) -> None:
        if error_names_the_file:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_csv", disk_full)
    out = tmp_path / "runs" / "run"
    workers = ["--workers", "1"] if command == "compare" else []
    result = cli(command, tiny_case_dir, "--relax", *workers, "--out", out, "--json")
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert payload["status"] == "not_written"
    assert_mentions(payload["message"], str(out), "No space left on device", ".csv", "Nothing was written")
    assert list((tmp_path / "runs").iterdir()) == []


def test_too_many_open_files_is_not_advised_as_a_full_disk(
    cli: Cli, tiny_case_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under a low ``ulimit -n`` the advice was "free space"."""
    import errno

    import pandas as pd

    def out_of_descriptors(self: pd.DataFrame, path: object, *args: object, **kwargs: object) -> None:
        raise OSError(errno.EMFILE, "Too many open files", str(path))

    monkeypatch.setattr(pd.DataFrame, "to_csv", out_of_descriptors)
    result = cli("solve", tiny_case_dir, "--relax", "--out", tmp_path / "run", "--json")
    assert result.exit_code == 1
    message = json.loads(result.stdout)["message"]
    assert "ulimit -n" in message and "free space" not in message


@pytest.mark.parametrize("fails", ["open", "write"])
def test_a_disk_full_before_the_first_file_leaves_nothing_that_blocks_the_name(
    cli: Cli, tiny_case_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fails: str
) -> None:
    """The run's marker is its first file. A disk full right there was "internal error: OSError"
    with no JSON, and left a .partial folder holding an unlocked .planner-run.new that every later
    run to that name took for a live run ("another planner run is writing it")."""
    import errno
    import io

    real_open = Path.open

    def full_at_the_marker(self: Path, *args: Any, **kwargs: Any) -> object:
        if self.name != ".planner-run.new":
            return real_open(self, *args, **kwargs)
        if fails == "open":
            raise OSError(errno.ENOSPC, "No space left on device", str(self))
        handle = real_open(self, *args, **kwargs)

        def no_room(_text: str) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

        handle.write = no_room
        assert isinstance(handle, io.TextIOWrapper)
        return handle

    out = tmp_path / "runs" / "run"
    with monkeypatch.context() as patch:
        patch.setattr(Path, "open", full_at_the_marker)
        result = cli("solve", tiny_case_dir, "--relax", "--out", out, "--json")
    assert result.exit_code == 1, result.output
    payload = json.loads(result.stdout)
    assert payload["status"] == "not_written"
    assert_mentions(payload["message"], str(out), "No space left on device", ".planner-run.new")
    assert list((tmp_path / "runs").iterdir()) == []
    assert solve_json(cli, tiny_case_dir, out, "--relax")["status"] == "optimal"  # the name is free


def test_relaxation_is_a_lower_bound_on_the_mip(cli: Cli, tiny_case_dir: Path, tmp_path: Path) -> None:
    mip = solve_json(cli, tiny_case_dir, tmp_path / "mip", "--mip-gap", "0")
    lp = solve_json(cli, tiny_case_dir, tmp_path / "lp", "--relax")
    assert lp["status"] == "optimal"
    assert lp["integer"] is False and mip["integer"] is True
    assert lp["objective_musd"] <= mip["objective_musd"] * (1 + 1e-9)


def test_all_at_once_model_and_a_model_toml_path(cli: Cli, tiny_case_dir: Path, tmp_path: Path) -> None:
    shipped = solve_json(cli, tiny_case_dir, tmp_path / "shipped", "--model", "all-at-once", "--mip-gap", "0")
    assert shipped["model"] == "all-at-once" and shipped["policy"] == "all-at-once"

    toml = tmp_path / "giant-leap.toml"
    toml.write_text('policy = "all-at-once"\n[solver]\nmip_gap = 0.0\nthreads = 1\n')
    custom = solve_json(cli, tiny_case_dir, tmp_path / "custom", "--model", toml)
    assert custom["model"] == "giant-leap"  # the name defaults to the file's stem
    assert custom["policy"] == "all-at-once"
    assert custom["objective_musd"] == pytest.approx(shipped["objective_musd"], rel=1e-7)
    model = json.loads((tmp_path / "custom" / "model.json").read_text())
    assert model["solver"]["mip_gap"] == 0.0

    phased = solve_json(cli, tiny_case_dir, tmp_path / "phased", "--mip-gap", "0")
    # Committing the whole build-out up front can only cost more than deciding in phases.
    assert phased["objective_musd"] <= shipped["objective_musd"] * (1 + 1e-9)


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ('policy = "phased"\ncolour = "red"\n', ["key colour", "'\"red\"'", "one of the known keys (name,"]),
        ('[solver]\ngap = 0.1\n', ["key solver.gap", "one of the known keys (mip_gap,"]),
        ("[cvar]\nalpha = 1.5\n", ["key cvar.alpha", "'1.5'", "a number < 1"]),
        ('policy = "giant-leap"\n', ["policy", "giant-leap"]),
        ('policy = "phased\n', ["valid TOML"]),
        ("[solver.highs_options]\nno_such_option = 1\n", ["solver.highs_options.no_such_option", "name"]),
        (
            "[solver.highs_options]\nmip_heuristic_effort = -5.0\n",
            [
                "solver.highs_options.mip_heuristic_effort",
                "'-5.0'",
                "range: [0, 1]",
                "HiGHS said",
                "below lower bound",
            ],
        ),
        (
            '[solver.highs_options]\npresolve = "maybe"\n',
            ["presolve", "'\"maybe\"'", '"off", "choose" or "on"'],
        ),
        ("[solver]\nthreads = 100000\n", ["solver.threads", "1024"]),
        ("[cvar]\nweight = 1e300\n", ["cvar.weight", "1000000"]),
        ("[solver.highs_options]\nthreads = 100000\n", ["highs_options", "threads", "[solver] threads"]),
        ("[solver.highs_options]\nlog_to_console = true\n", ["highs_options", "log_to_console", "--log"]),
        ("[solver.highs_options]\nobjective_bound = 1.0\n", ["highs_options", "objective_bound", "optimal"]),
        ('[solver]\nmip_gap = "0.1"\n', ["solver.mip_gap", "'\"0.1\"'", "expected a number"]),
        ('integer = "yes"\n', ["integer", "'\"yes\"'", "expected true or false"]),
        ("[solver]\nthreads = 2.0\n", ["solver.threads", "expected a whole number"]),
        ("[solver]\nrandom_seed = 99999999999\n", ["solver.random_seed", "2147483647"]),
        ('[solver.highs_options]\nsolution_file = "chips.csv"\n', ["solution_file", "outside the run"]),
        ('[solver.highs_options]\nread_basis_file = "b.bas"\n', ["read_basis_file", "hands HiGHS"]),
    ],
    ids=[
        "unknown-key",
        "unknown-solver-key",
        "alpha-out-of-range",
        "unknown-policy",
        "broken-toml",
        "unknown-highs-option",
        "highs-option-out-of-range",
        "highs-option-bad-string",
        "threads-beyond-reason",
        "cvar-weight-beyond-reason",
        "highs-threads-planner-sets",
        "highs-console-log-planner-sets",
        "highs-cutoff-changes-optimal",
        "number-written-as-text",
        "boolean-written-as-text",
        "integer-written-as-decimal",
        "seed-beyond-highs-range",
        "highs-writes-a-file",
        "highs-reads-a-file",
    ],
)
def test_bad_model_toml_is_exit_2_naming_file_and_key(
    cli: Cli, tiny_case_dir: Path, tmp_path: Path, toml: str, expected: list[str]
) -> None:
    path = tmp_path / "my-model.toml"
    path.write_text(toml)
    out = tmp_path / "run"
    result = cli("solve", tiny_case_dir, "--model", path, "--out", out)
    assert result.exit_code == 2
    assert_mentions(result.stderr, "my-model.toml", *expected)
    assert "Traceback" not in result.output
    assert not out.exists()


def test_bad_model_toml_lists_every_problem(cli: Cli, tiny_case_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('colour = "red"\n[cvar]\nalpha = 1.5\n[solver]\nmip_gap = -1\n')
    result = cli("solve", tiny_case_dir, "--model", path, "--out", tmp_path / "run")
    assert result.exit_code == 2
    assert_mentions(result.stderr, "3 problem(s)", "colour", "cvar.alpha", "solver.mip_gap")


@pytest.mark.parametrize(
    "flag", [("--mip-gap", "nan"), ("--time-limit", "nan"), ("--warm-start", "NaN"), ("--threads", "100000")]
)
def test_flag_values_that_are_no_number_are_exit_2(
    cli: Cli, tiny_case_dir: Path, tmp_path: Path, flag: tuple[str, str]
) -> None:
    result = cli("solve", tiny_case_dir, *flag, "--out", tmp_path / "run")
    assert result.exit_code == 2
    assert_mentions(result.stderr, flag[0], flag[1])
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    ("args", "where", "said"),
    [
        (["solve", "CASE", "--mip-gap", "2"], "--mip-gap", "0<=x<=1"),
        (["solve", "CASE", "--time-limit", "nan"], "--time-limit", "'nan'"),
        (["solve", "CASE", "--bogus"], "command line", "--bogus"),  # click's wording varies by release
        (["bench", "--seed", "1.5"], "--seed", "'1.5'"),
        (["compare", "CASE", "--workers", "0"], "--workers", "x>=1"),
        (["sweep", "CASE"], "sweep_file", "Missing argument 'SWEEP_FILE'"),
    ],
)
def test_usage_errors_print_json_too_when_asked(
    cli: Cli, tiny_case_dir: Path, args: list[str], where: str, said: str
) -> None:
    """click refuses these before any command runs; --json still promises one object on stdout."""
    argv = [tiny_case_dir if a == "CASE" else a for a in args]
    result = cli(*argv, "--json")
    assert result.exit_code == 2
    (problem,) = json.loads(result.stdout)["problems"]
    assert problem["file"] == where
    assert said in problem["message"]
    assert said in result.stderr  # the usual usage message stays on stderr
    plain = cli(*argv)
    assert plain.exit_code == 2 and plain.stdout == ""


def test_a_model_path_that_is_not_there_says_so(cli: Cli, tiny_case_dir: Path, tmp_path: Path) -> None:
    for path, said in ((tmp_path / "gone.toml", "no such file at"), (tmp_path, "a folder at")):
        result = cli("solve", tiny_case_dir, "--model", path, "--out", tmp_path / "run")
        assert result.exit_code == 2
        assert_mentions(result.stderr, "a model TOML file", said, str(path))


def test_unknown_model_name_is_exit_2(cli: Cli, tiny_case_dir: Path, tmp_path: Path) -> None:
    result = cli("solve", tiny_case_dir, "--model", "no-such-model", "--out", tmp_path / "run")
    assert result.exit_code == 2
    assert_mentions(result.stderr, "no-such-model", "phased", "all-at-once")


def test_time_limit_is_accepted(cli: Cli, tiny_case_dir: Path, tmp_path: Path) -> None:
    summary = solve_json(cli, tiny_case_dir, tmp_path / "run", "--time-limit", "60", "--threads", "1")
    assert summary["status"] == "optimal"
    model = json.loads((tmp_path / "run" / "model.json").read_text())
    assert model["solver"]["time_limit_s"] == 60
    assert model["solver"]["threads"] == 1


def _strict_json(text: str) -> Any:
    """JSON as jq or a browser reads it: NaN and Infinity are not JSON."""

    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def test_time_limit_inf_is_no_limit_recorded_as_null(cli: Cli, tiny_case_dir: Path, tmp_path: Path) -> None:
    summary = solve_json(cli, tiny_case_dir, tmp_path / "run", "--time-limit", "inf")
    assert summary["status"] == "optimal"
    for name in ("model.json", "summary.json"):
        recorded = _strict_json((tmp_path / "run" / name).read_text())
        if name == "model.json":
            assert recorded["solver"]["time_limit_s"] is None


def test_warm_start_inf_is_a_usage_error(cli: Cli, tiny_case_dir: Path, tmp_path: Path) -> None:
    result = cli("solve", tiny_case_dir, "--warm-start", "inf", "--out", tmp_path / "run")
    assert result.exit_code == 2
    assert_mentions(result.stderr, "--warm-start", "'inf' is not a finite number")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("flags", [["--time-limit", "0"], ["--mip-gap", "2"], ["--threads", "-1"]])
def test_out_of_range_flags_are_usage_errors(
    cli: Cli, tiny_case_dir: Path, tmp_path: Path, flags: list[str]
) -> None:
    result = cli("solve", tiny_case_dir, "--out", tmp_path / "run", *flags)
    assert result.exit_code == 2
    assert flags[0] in result.stderr
    assert not (tmp_path / "run").exists()


def test_missing_case_folder_is_exit_2(cli: Cli, tmp_path: Path) -> None:
    result = cli("solve", tmp_path / "nowhere", "--out", tmp_path / "run")
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert not (tmp_path / "run").exists()


def test_solving_twice_gives_identical_tables(cli: Cli, tiny_case_dir: Path, tmp_path: Path) -> None:
    first = solve_json(cli, tiny_case_dir, tmp_path / "a")
    second = solve_json(cli, tiny_case_dir, tmp_path / "b")
    assert first["objective_musd"] == second["objective_musd"]
    csvs = sorted(p.name for p in (tmp_path / "a").glob("*.csv"))
    assert set(RESULT_TABLES) <= set(csvs)
    assert csvs == sorted(p.name for p in (tmp_path / "b").glob("*.csv"))
    for name in csvs:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name

    def without_timing(summary: dict) -> dict:
        clean = {k: v for k, v in summary.items() if k not in TIMING_KEYS}
        clean["stages"] = [{k: v for k, v in s.items() if k not in TIMING_KEYS} for s in summary["stages"]]
        return clean

    on_disk = [json.loads((tmp_path / d / "summary.json").read_text()) for d in ("a", "b")]
    assert without_timing(on_disk[0]) == without_timing(on_disk[1])


def test_a_warm_started_mip_gives_identical_tables_run_after_run(cli: Cli, tmp_path: Path) -> None:
    files = synthetic_case_files(sites=4, chips=2, periods=6, quarters=False, branching=2, stages=1, seed=5)
    case_dir = write_case(tmp_path / "case", files)
    flags = ("--warm-start", 5, "--mip-gap", 0.001)
    first = solve_json(cli, case_dir, tmp_path / "a", *flags)
    second = solve_json(cli, case_dir, tmp_path / "b", *flags)
    assert first["warm_start"]["fractional_columns"] > 0, "the case must exercise the rounding"
    assert first["objective_musd"] == second["objective_musd"]
    for table in sorted((tmp_path / "a").glob("*.csv")):
        assert table.read_bytes() == (tmp_path / "b" / table.name).read_bytes(), table.name


def test_tables_do_not_depend_on_the_process_hash_seed(tmp_path: Path) -> None:
    """Each process salts str hashes anew: anything that walks a set of ids to order sites,
    rows or columns would give another model, plan or table from one run to the next. Two
    processes with different PYTHONHASHSEED solve a warm-started MIP and compare its strategies."""
    files = synthetic_case_files(sites=4, chips=2, periods=6, quarters=False, branching=2, stages=1, seed=5)
    case_dir = write_case(tmp_path / "case", files)
    runs = {"solve": ("--warm-start", "5", "--mip-gap", "0.001"), "compare": ("--workers", "1")}
    for command, flags in runs.items():
        argv = [sys.executable, "-c", "from planner.entry import run; run()", command, str(case_dir), *flags]
        both = [  # side by side: the machine has two cores
            subprocess.Popen(
                [*argv, "--out", str(tmp_path / f"{command}-{seed}")],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                env={**os.environ, "PYTHONHASHSEED": seed},
            )
            for seed in ("0", "4242")
        ]
        try:
            for process in both:
                _, stderr = process.communicate(timeout=300)
                assert process.returncode == 0, stderr
        finally:  # a failed or hung first run must not leave the second solving
            for process in both:
                process.kill()
                process.wait()
    for command, must_have in (("solve", "dispatch.csv"), ("compare", "dispatch-plan-on-mean.csv")):
        tables = sorted(p.name for p in (tmp_path / f"{command}-0").glob("*.csv") if p.name != "timings.csv")
        assert must_have in tables
        for table in tables:
            first, second = (tmp_path / f"{command}-{seed}" / table for seed in ("0", "4242"))
            assert first.read_bytes() == second.read_bytes(), f"{command}: {table}"


# --------------------------------------------------------------------------------------------
# validate
# --------------------------------------------------------------------------------------------


def test_validate_good_case(cli: Cli, tiny_case_dir: Path) -> None:
    result = cli("validate", tiny_case_dir)
    assert result.exit_code == 0, result.output
    assert "tiny: valid" in result.stdout
    assert "sizes" in result.stdout and "scenario_tree" in result.stdout
    # In words, not Python's reprs ({'periods': 3, ...} before).
    assert "sizes: periods 3, scenarios 2" in result.stdout
    assert "scenario high, probability" in result.stdout
    assert not any(mark in result.stdout for mark in ("{'", "['", "'}"))

    result = cli("validate", tiny_case_dir, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["sizes"]["periods"] == 3
    assert summary["sizes"]["sites"] == 2 and summary["sizes"]["chips"] == 2
    assert [s["scenario"] for s in summary["scenarios"]] == ["high", "low"]
    assert summary["scenario_tree"][0]["period"] == "p2"
    assert summary["scenario_tree"][0]["shared_until"] == "p1"
    assert summary["warnings"] == []


def test_validate_says_none_for_a_tree_branching_in_the_first_period(
    cli: Cli, tiny_files: dict, write_case: CaseWriter, tmp_path: Path
) -> None:
    """Scenarios that differ from the first period share no period: "none", not Python's None."""
    demand = tiny_files["demand.csv"].replace("low,p1,training,2", "low,p1,training,1")
    result = cli("validate", write_case(tmp_path / "root", {"demand.csv": demand}))
    assert result.exit_code == 0, result.output
    assert "period p1, shared_until none, scenarios high, low" in result.stdout
    assert "None" not in result.stdout


def test_validate_bad_case_lists_every_problem(
    cli: Cli, tiny_files: dict, write_case: CaseWriter, tmp_path: Path
) -> None:
    files = {
        "sites.csv": tiny_files["sites.csv"].replace("0,1.2,15", "0,0.9,15"),  # pue < 1, row 2
        "chips.csv": tiny_files["chips.csv"].replace("asic,1.5,0.8", "asic,1.5,abc"),  # row 3
        "power.csv": tiny_files["power.csv"].replace("grid_s,south", "grid_s,nowhere"),  # row 4
        "periods.csv": "period,years\np1,1\np2,-2\np3,2\n",  # row 3
    }
    case_dir = write_case(tmp_path / "bad", files)
    result = cli("validate", case_dir)
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    err = result.stderr
    assert_mentions(err, "4 problem(s)")
    assert_mentions(err, "sites.csv, row 2, column pue: value '0.9'")
    assert_mentions(err, "chips.csv, row 3, column kw: value 'abc'")
    assert_mentions(err, "power.csv, row 4, column site: value 'nowhere'")
    assert_mentions(err, "periods.csv, row 3, column years: value '-2'")

    # solve refuses the same case with the same report, before creating any run folder
    solved = cli("solve", case_dir, "--out", tmp_path / "run")
    assert solved.exit_code == 2
    assert squash(solved.stderr) == squash(err)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("command", ["validate", "solve"])
def test_json_reports_bad_input_as_json_on_stdout(
    cli: Cli, write_case: CaseWriter, tmp_path: Path, command: str
) -> None:
    """--json promises one JSON object on stdout: bad input included (the text stays on stderr)."""
    case_dir = write_case(tmp_path / "nochips", {"chips.csv": None})
    result = cli(command, case_dir, "--json")
    assert result.exit_code == 2
    report = json.loads(result.stdout)
    assert report["status"] == "input_error"
    [problem] = report["problems"]
    assert problem["file"] == "chips.csv" and problem["row"] is None
    assert "required file" in problem["expected"]
    assert squash(problem["message"]) in squash(result.stderr)


@pytest.mark.parametrize(
    "command",
    [["validate"], ["solve"], ["compare"], ["sweep", "SWEEP"], ["validate", "--json"], ["solve", "--json"]],
    ids=["validate", "solve", "compare", "sweep", "validate-json", "solve-json"],
)
def test_problems_of_the_case_and_of_the_model_are_reported_together(
    cli: Cli, tiny_files: dict, write_case: CaseWriter, tmp_path: Path, command: list[str]
) -> None:
    """validate used to list the case's problems alone, solve, compare and sweep the model's alone;
    every command now gives the same whole list in one answer."""
    files = {"periods.csv": "period,years\np1,1\np2,-2\np3,2\n"}
    case_dir = write_case(tmp_path / "bad", files)
    model = tmp_path / "mine.toml"
    model.write_text('integer = "yes"\n')
    sweep = tmp_path / "sweep.csv"
    sweep.write_text("case,file,column,op,value\nx,chips.csv,kw,scale,2\n")
    name, *flags = [str(sweep) if arg == "SWEEP" else arg for arg in command]
    out = [] if name == "validate" else ["--out", tmp_path / "run"]
    result = cli(name, case_dir, *flags, "--model", model, *out)
    assert result.exit_code == 2, result.output
    assert_mentions(result.stderr, "2 problem(s)", "periods.csv, row 3, column years", "mine.toml", "integer")
    if "--json" in flags:
        problems = json.loads(result.stdout)["problems"]
        assert [problem["file"] for problem in problems] == ["periods.csv", "mine.toml"]
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("command", ["solve", "compare", "sweep"])
def test_the_case_warnings_are_in_the_json_and_the_run_folder(
    cli: Cli, tiny_files: dict, write_case: CaseWriter, tmp_path: Path, command: str
) -> None:
    """``solve --json`` printed the case's warnings on stderr only (``validate --json`` lists them):
    every command's JSON now has them, and every run folder has ``warnings.txt`` (solve's alone
    had), and ``summary.json`` where the run writes one."""
    case_dir = write_case(tmp_path / "warned", {**tiny_files, "readme.csv": "anything\n"})
    sweep = tmp_path / "sweep.csv"
    sweep.write_text("case,file,column,op,value\nx,chips.csv,kw,scale,2\n")
    args: list[str | Path] = [sweep] if command == "sweep" else []
    if command != "solve":  # the warnings are the case's, read in this process: no pool of workers
        args += ["--workers", "1"]
    out = tmp_path / "run"
    result = cli(command, case_dir, *args, "--relax", "--json", "--out", out)
    assert result.exit_code == 0, result.output
    warning = "readme.csv: not a file of the input format; ignored"
    assert json.loads(result.stdout)["warnings"] == [warning]
    assert (out / "warnings.txt").read_text() == warning + "\n"
    if command != "sweep":
        assert json.loads((out / "summary.json").read_text())["warnings"] == [warning]


def test_json_reports_no_plan_as_json_on_stdout(cli: Cli, tiny_case_dir: Path, tmp_path: Path) -> None:
    """A solve that stops before any plan (iteration limit 0) is exit 1, with its JSON object."""
    model = tmp_path / "starved.toml"
    model.write_text(
        '[solver.highs_options]\nsimplex_iteration_limit = 0\nipm_iteration_limit = 0\npresolve = "off"\n'
    )
    result = cli("solve", tiny_case_dir, "--relax", "--model", model, "--json", "--out", tmp_path / "run")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["status"] == "no_plan"
    assert "iteration_limit" in report["message"]
    assert not (tmp_path / "run").exists()


def test_validate_missing_file(cli: Cli, write_case: CaseWriter, tmp_path: Path) -> None:
    case_dir = write_case(tmp_path / "nochips", {"chips.csv": None})
    result = cli("validate", case_dir)
    assert result.exit_code == 2
    assert_mentions(result.stderr, "chips.csv")
    assert "Traceback" not in result.output


def test_default_run_folder_is_under_runs(
    cli: Cli, tiny_case_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    summary = json.loads(cli("solve", tiny_case_dir, "--json").stdout)
    run_dir = Path(summary["run_dir"])
    assert run_dir.parent == Path("runs")
    assert run_dir.name.startswith("tiny-phased-")
    assert (tmp_path / run_dir / "summary.json").is_file()
    second = json.loads(cli("solve", tiny_case_dir, "--json").stdout)
    assert second["run_dir"] != summary["run_dir"]  # a new folder for every run
    relaxed = json.loads(cli("solve", tiny_case_dir, "--json", "--relax").stdout)
    assert Path(relaxed["run_dir"]).name.startswith("tiny-phased-relaxed-")  # not read as the MIP's


def test_overwrite_of_an_existing_file(cli: Cli, tiny_case_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.write_text("not a folder")
    result = cli("solve", tiny_case_dir, "--out", out, "--overwrite")
    assert result.exit_code == 2
    assert "expected a folder path (a file is there)" in result.stderr
    assert out.read_text() == "not a folder"


@pytest.mark.parametrize("overwrite", [(), ("--overwrite",)])
def test_an_out_that_is_a_link_is_refused_naming_its_target(
    cli: Cli, tiny_case_dir: Path, tmp_path: Path, overwrite: tuple[str, ...]
) -> None:
    """A run renames its finished folder into place, which would replace the link rather than
    fill the folder it points to; planner used to say only "something other than a folder"."""
    target = tmp_path / "elsewhere"
    target.mkdir()
    (tmp_path / "link").symlink_to(target)
    (tmp_path / "broken").symlink_to(tmp_path / "gone")
    result = cli("solve", tiny_case_dir, "--out", tmp_path / "link", *overwrite)
    assert result.exit_code == 2
    assert f"a link to '{target}' is there" in " ".join(result.stderr.split())
    assert (tmp_path / "link").is_symlink() and list(target.iterdir()) == []
    result = cli("solve", tiny_case_dir, "--out", tmp_path / "broken", *overwrite)
    assert result.exit_code == 2
    assert f"a link to '{tmp_path / 'gone'}' that leads nowhere" in " ".join(result.stderr.split())
    (tmp_path / "loop").symlink_to(tmp_path / "loop")  # was "internal error: RuntimeError: Symlink loop"
    result = cli("solve", tiny_case_dir, "--out", tmp_path / "loop", *overwrite)
    assert result.exit_code == 2
    assert "(broken, or a loop)" in " ".join(result.stderr.split())
    inside = cli("solve", tiny_case_dir, "--out", tmp_path / "link" / "run", "--json")
    assert inside.exit_code == 0, inside.output
    assert (target / "run" / "summary.json").is_file()


@pytest.mark.parametrize(
    ("value", "digits", "shown"),
    [
        (-1e-12, 3, "0.000"),
        (-0.0, 2, "0.00"),
        (-0.0006, 3, "-0.001"),
        (-1234.5, 1, "-1,234.5"),
        (2.0, 1, "2.0"),
    ],
)
def test_a_value_a_tolerance_below_zero_is_printed_as_zero(value: float, digits: int, shown: str) -> None:
    from planner.money import fmt

    assert fmt(value, digits) == shown


@pytest.mark.parametrize("command", ["solve", "compare"])
def test_a_scenario_called_expected_is_an_ordinary_scenario(
    cli: Cli, write_case: CaseWriter, tiny_files: Mapping[str, str], tmp_path: Path, command: str
) -> None:
    """"low / expected / high" is a common naming; the expected-cost row used to collide with the
    scenario and stop every solve with an internal error. It is labelled ``(expected)`` then."""
    renamed = {
        name: tiny_files[name].replace("low,", "expected,") for name in ("scenarios.csv", "demand.csv")
    }
    original = write_case(tmp_path / "original")
    case_dir = write_case(tmp_path / "case", renamed)
    extra = ["--workers", "1"] if command == "compare" else []
    results = []
    for folder, out in ((original, tmp_path / "run-original"), (case_dir, tmp_path / "run")):
        result = cli(command, folder, "--mip-gap", "0", *extra, "--out", out, "--json")
        assert result.exit_code == 0, result.output
        results.append(json.loads(result.stdout))
    if command == "compare":
        before, after = (r["strategies"]["phased"] for r in results)
        table = tmp_path / "run" / "cost_by_scenario-phased.csv"
    else:
        before, after = results
        table = tmp_path / "run" / "cost_by_scenario.csv"
        assert after["cost_by_scenario_musd"]["expected"] == before["cost_by_scenario_musd"]["low"]
    assert after["objective_musd"] == pytest.approx(before["objective_musd"], rel=1e-9)
    assert after["cost_breakdown_musd"] == before["cost_breakdown_musd"]
    labels = [line.split(",")[0] for line in table.read_text().splitlines()[1:]]
    assert labels == ["high", "expected", "(expected)"]


def test_the_expected_row_steps_past_every_scenario_it_would_collide_with() -> None:
    """Scenarios ``expected`` and ``(expected)``: the expected-cost row takes ``((expected))``,
    the first label in the sequence expected, (expected), ((expected)) that no scenario has."""
    from planner.results import expected_row_label

    assert expected_row_label(["low", "high"]) == "expected"
    assert expected_row_label(["expected", "(expected)", "high"]) == "((expected))"


def test_a_folder_named_like_a_model_does_not_shadow_it(
    cli: Cli, tiny_case_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--out phased`` in the current folder used to break every later ``--model phased`` (the
    default) with "expected a model name (..., phased, ...)"; a file is used only when written as
    a path."""
    monkeypatch.chdir(tmp_path)
    assert cli("solve", tiny_case_dir, "--relax", "--out", "phased").exit_code == 0
    again = cli("solve", tiny_case_dir, "--relax", "--out", "again", "--json")
    assert again.exit_code == 0, again.output
    assert json.loads((tmp_path / "again" / "model.json").read_text())["policy"] == "phased"
    Path("mine").write_text('policy = "all-at-once"\n')
    assert cli("solve", tiny_case_dir, "--relax", "--model", "./mine", "--out", "third").exit_code == 0
    assert json.loads((tmp_path / "third" / "model.json").read_text())["policy"] == "all-at-once"
    bare = cli("solve", tiny_case_dir, "--relax", "--model", "mine", "--out", "fourth")
    assert bare.exit_code == 2
    assert_mentions(bare.stderr, "write ./mine")


# --------------------------------------------------------------------------------------------
# user text with square brackets: printed as written, never read as rich markup
# --------------------------------------------------------------------------------------------


def bracketed_case(
    write_case: CaseWriter, tiny_files: Mapping[str, str], folder: Path, scenario: str
) -> Path:
    """The tiny case with ids that rich would read as style tags: scenario ``low`` is ``scenario``,
    site ``north`` is ``north[/dc]``, chip ``asic`` is ``asic[v2]``, contract ``ppa_n`` is ``ppa[/n]``,
    and a site ``east[/x]`` without power gives a warning that quotes it."""
    files = dict(tiny_files)
    for name in ("scenarios.csv", "demand.csv"):
        files[name] = files[name].replace("low", scenario)
    files["sites.csv"] = files["sites.csv"].replace("north", "north[/dc]")
    files["sites.csv"] += "east[/x],us,10,2,,10,,0,1.2,15\n"
    files["power.csv"] = files["power.csv"].replace("north", "north[/dc]").replace("ppa_n", "ppa[/n]")
    files["chips.csv"] = files["chips.csv"].replace("asic", "asic[v2]")
    return write_case(folder, files)


@pytest.mark.parametrize("scenario", ["lo[v2]", "[/b]"])
def test_ids_with_square_brackets_are_printed_as_written(
    cli: Cli, write_case: CaseWriter, tiny_files: Mapping[str, str], tmp_path: Path, scenario: str
) -> None:
    """rich read ``[v2]`` in an id as a style tag and dropped it, and ``[/b]`` as a closing tag
    that matched nothing: MarkupError, then a traceback from the internal-error handler."""
    case_dir = bracketed_case(write_case, tiny_files, tmp_path / "case[red]", scenario)
    warning = "site 'east[/x]' has no power contract"

    result = cli("validate", case_dir)
    assert result.exit_code == 0, result.output
    assert_mentions(result.stdout, "case[red]: valid", f"scenario {scenario}, probability", warning)

    out = tmp_path / "run[v2]"
    result = cli("solve", case_dir, "--out", out)
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert_mentions(text, "case[red] under phased", warning, "north[/dc]", "asic[v2]", "ppa[/n]")
    cost_header = next(line for line in text.splitlines() if "component" in line)
    assert_mentions(cost_header, f"high┃{scenario}┃expected")
    stranded_row = next(line for line in text.splitlines() if "0.400" in line and "%" in line)
    assert squash(stranded_row).startswith(f"│{scenario}│")
    assert_mentions(text, f"Run folder: {out}")
    assert (out / "summary.json").is_file()


def test_the_run_folder_is_printed_as_written(cli: Cli, tiny_case_dir: Path, tmp_path: Path) -> None:
    """``--out run[v2]`` was printed as "Run folder: .../run"; ``run[/x]`` ended in a traceback
    after the run was written."""
    for name in ("run[v2]", "run[/x]"):
        out = tmp_path / name
        result = cli("solve", tiny_case_dir, "--relax", "--out", out)
        assert result.exit_code == 0, result.output
        assert_mentions(result.stdout, f"Run folder: {out}")


def test_the_internal_error_handler_prints_the_message_as_written(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The last line of defence printed the exception message as markup: a message quoting a
    closing tag (``[/high]``) made it raise MarkupError itself, and Python printed a traceback."""
    import planner.cli

    def broken(**kwargs: object) -> None:
        raise RuntimeError("closing tag '[/high]' in 'capex[/high]' and [v2]")

    monkeypatch.setattr(planner.cli, "main", broken)
    monkeypatch.delenv("PLANNER_DEBUG", raising=False)
    with pytest.raises(SystemExit) as stopped:
        planner.cli.run()
    assert stopped.value.code == 1
    message = "closing tag '[/high]' in 'capex[/high]' and [v2]"
    assert_mentions(capsys.readouterr().err, f"internal error: RuntimeError: {message}")


def test_an_unreadable_model_toml_is_exit_2(
    cli: Cli, tiny_case_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Was "internal error: PermissionError" (exit 1, no JSON); root reads any file, hence the patch."""
    path = tmp_path / "locked.toml"
    path.write_text('name = "locked"\n')
    real_read_text = Path.read_text

    def locked(self: Path, *args: Any, **kwargs: Any) -> str:
        if self.name == "locked.toml":
            raise PermissionError(13, "Permission denied", str(self))
        return real_read_text(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", locked)
    result = cli("solve", tiny_case_dir, "--model", path, "--out", tmp_path / "run", "--json")
    assert result.exit_code == 2
    assert json.loads(result.stdout)["problems"][0]["expected"] == "a readable file (Permission denied)"


def test_out_inside_the_case_is_refused_and_creates_nothing(
    cli: Cli, tiny_case_dir: Path, tmp_path: Path
) -> None:
    """``--out case/budget.csv`` made a folder the loader then read as a case file (every later
    run failed); ``--out case/new/.. --overwrite`` was refused but left ``new`` in the case."""
    before = sorted(p.name for p in tiny_case_dir.iterdir())
    inside = cli("solve", tiny_case_dir, "--out", tiny_case_dir / "budget.csv")
    assert inside.exit_code == 2
    assert_mentions(inside.stderr, "outside the input folder")
    around = cli("solve", tiny_case_dir, "--out", f"{tiny_case_dir}/new/..", "--overwrite")
    assert around.exit_code == 2
    assert_mentions(around.stderr, "does not hold the input")
    assert sorted(p.name for p in tiny_case_dir.iterdir()) == before


def test_the_default_run_folder_is_refused_inside_the_case(
    cli: Cli, tiny_case_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run from inside the case (``cd case && planner solve .``), the default ``runs/`` folder was
    written into the case, where ``--out runs/x`` is refused: both are now, and nothing is made."""
    before = sorted(p.name for p in tiny_case_dir.iterdir())
    monkeypatch.chdir(tiny_case_dir)
    for command in ("solve", "compare"):
        result = cli(command, ".", "--relax")
        assert result.exit_code == 2, result.output
        assert_mentions(result.stderr, "outside the input folder", "run from another directory or give --out")
    assert sorted(p.name for p in tiny_case_dir.iterdir()) == before


def test_a_run_folder_name_too_long_for_the_file_system(
    cli: Cli, tmp_path: Path, write_case: CaseWriter
) -> None:
    """Was "internal error: OSError: [Errno 36] File name too long", with --out or with a long
    case folder name in the default runs/<case>-<model>-<time>."""
    case_dir = write_case(tmp_path / ("c" * 240))
    too_long = cli("solve", case_dir, "--out", tmp_path / ("x" * 300), "--json")
    assert too_long.exit_code == 2
    assert "at most" in json.loads(too_long.stdout)["problems"][0]["expected"]
    default = default_run_dir(case_dir.name, "phased", root=tmp_path / "runs")
    assert len(f".{default.name}-99.partial".encode()) <= 255
    assert default.name.startswith("c" * 100 + "-phased-")


@pytest.mark.parametrize(
    ("case_name", "kept"), [("𝔸" * 63, "𝔸" * 25), ("あ" * 85, "あ" * 33)], ids=["4-byte", "3-byte"]
)
def test_a_long_non_ascii_case_name_gets_a_default_run_folder(
    cli: Cli,
    write_case: CaseWriter,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    case_name: str,
    kept: str,
) -> None:
    """A case folder of 63 four-byte letters (252 bytes, a name the file system takes) was refused by
    every command without --out: its part of runs/<case>-... was cut to 100 characters, 252 bytes,
    not 100 bytes."""
    case_dir = write_case(tmp_path / "cases" / case_name)
    sweep = tmp_path / "sweep.csv"
    sweep.write_text("case,group,file,column,where,op,value\nv,,sites.csv,max_mw,,scale,2\n")
    monkeypatch.chdir(tmp_path)
    commands: dict[str, tuple[str, tuple[object, ...]]] = {
        "solve": ("phased", ()),
        "compare": ("compare", ("--workers", "1")),
        "sweep": ("sweep-phased", (sweep, "--workers", "1")),
    }
    for command, (label, args) in commands.items():
        result = cli(command, case_dir, *args, "--relax", "--json")
        assert result.exit_code == 0, result.output
        run_dir = Path(json.loads(result.stdout)["run_dir"])
        assert run_dir.parent == Path("runs") and run_dir.is_dir()
        assert run_dir.name.startswith(f"{kept}-{label}-relaxed-")
        assert len(run_dir.name.encode()) <= 246


def test_log_with_json_says_where_the_log_went(cli: Cli, tiny_case_dir: Path, tmp_path: Path) -> None:
    """--log under --json was dropped without a word (stdout must stay one JSON object)."""
    result = cli("solve", tiny_case_dir, "--log", "--json", "--out", tmp_path / "run")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["status"] == "optimal"
    assert_mentions(result.stderr, "--json", "solver.log")
    assert (tmp_path / "run" / "solver.log").read_text()
