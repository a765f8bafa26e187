"""Planning-model settings (``models/*.toml``) on the edges of what they accept.

Each accepted and refused value below is written by hand (from the README's model-file reference
and the documented range of each setting), not read back from :mod:`planner.config`, so a bound
that drifts fails.
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

import pytest

from planner.config import MODELS_DIR, ModelConfig, load_model_config, resolve_model_path
from planner.errors import InputError

ACCEPTED = [
    "[cvar]\nalpha = 0.0\n",  # CVaR_0 is the expected cost: legal
    "[cvar]\nalpha = 0.99\n",
    "[solver]\nmip_gap = 1.0\n",
    "[solver]\nmip_gap = 0.0\n",
    "[solver]\ntime_limit_s = 0.5\n",
    "[solver]\nwarm_start_s = 0.0\n",  # 0 turns the warm start off
    "[solver]\nproof_budget = 0.0\n",  # 0: stop at mip_gap at once
    "[solver]\nproof_budget = 1e18\n",
    f'name = "{"m" * 100}"\n',
]
REFUSED = [
    ("[cvar]\nalpha = 1.0\n", "cvar.alpha"),
    ("[cvar]\nalpha = -0.1\n", "cvar.alpha"),
    ("[solver]\nmip_gap = 1.5\n", "solver.mip_gap"),
    ("[solver]\nmip_gap = -0.01\n", "solver.mip_gap"),
    ("[solver]\ntime_limit_s = 0.0\n", "solver.time_limit_s"),
    ("[solver]\nwarm_start_s = -1.0\n", "solver.warm_start_s"),
    ("[solver]\nproof_budget = -1.0\n", "solver.proof_budget"),
    ("[solver]\nproof_budget = 1.1e18\n", "solver.proof_budget"),
    (f'name = "{"m" * 101}"\n', "name"),
    ('name = "_mine"\n', "name"),
    ('name = ".mine"\n', "name"),
    ('name = "a/b"\n', "name"),
]
PLANNER_SETS = [  # README: options planner sets itself, cutoffs, and those that write or read files
    "threads", "mip_rel_gap", "time_limit", "random_seed", "solver", "output_flag", "log_to_console",
    "log_file", "objective_bound", "objective_target", "solution_file", "write_solution_to_file",
    "write_model_file", "write_model_to_file", "write_presolved_model_file", "write_basis_file",
    "write_iis_model_file", "model_file", "options_file", "read_solution_file", "read_basis_file",
]


def _load(tmp_path: Path, toml: str) -> ModelConfig:
    path = tmp_path / "my-model.toml"
    path.write_text(toml, encoding="utf-8")
    return load_model_config(str(path))


@pytest.mark.parametrize("toml", ACCEPTED)
def test_accepted_settings(tmp_path: Path, toml: str) -> None:
    _load(tmp_path, toml)


@pytest.mark.parametrize(("toml", "key"), REFUSED)
def test_refused_settings_name_their_key(tmp_path: Path, toml: str, key: str) -> None:
    with pytest.raises(InputError) as caught:
        _load(tmp_path, toml)
    (problem,) = caught.value.problems
    assert (problem.file, problem.column) == ("my-model.toml", key)
    assert not problem.expected.startswith("Value error")


PLAIN_WORDS = [  # what pydantic said before: "Extra inputs are not permitted", "Input should be ..."
    (
        "foo = 1\n",
        "key foo: value '1' — expected one of the known keys"
        " (name, description, policy, integer, unpowered_chips, [cvar], [solver])",
    ),
    (
        "[solver]\ngap = 0.1\n",
        "key solver.gap: value '0.1' — expected one of the known keys (mip_gap, time_limit_s, threads,"
        " random_seed, [solver.highs_options], warm_start_s, proof_budget, lp_solver, scale)",
    ),
    ('integer = "yes"\n', "key integer: value '\"yes\"' — expected true or false"),
    ('[solver]\nmip_gap = "0.1"\n', "key solver.mip_gap: value '\"0.1\"' — expected a number"),
    ("[solver]\nthreads = 2.0\n", "key solver.threads: value '2.0' — expected a whole number"),
    ("[solver]\nmip_gap = inf\n", "key solver.mip_gap: value 'inf' — expected a finite number"),
    ('description = 3\n', "key description: value '3' — expected a text in quotes"),
    ("[cvar]\nalpha = 1.5\n", "key cvar.alpha: value '1.5' — expected a number < 1"),
    ("[solver]\ntime_limit_s = 0.0\n", "key solver.time_limit_s: value '0.0' — expected a number > 0"),
    ("[solver]\nthreads = 99999\n", "key solver.threads: value '99999' — expected a whole number <= 1024"),
    ("[cvar]\nweight = 1e300\n", "key cvar.weight: value '1e+300' — expected a number <= 1000000"),
    (
        'policy = "giant-leap"\n',
        "key policy: value '\"giant-leap\"' — expected one of 'phased', 'all-at-once' or 'plan-on-mean'",
    ),
    ('name = ""\n', "key name: value '\"\"' — expected a non-empty text"),
    ("cvar = 1\n", "key cvar: value '1' — expected a [cvar] table"),
    (
        "[solver]\nhighs_options = 3\n",
        "key solver.highs_options: value '3' — expected a [solver.highs_options] table",
    ),
    (
        "[solver.highs_options]\nmip_heuristic_effort = [1]\n",
        "key solver.highs_options.mip_heuristic_effort: value '[1]' — expected true or false, a number"
        " or a text in quotes",
    ),
]


@pytest.mark.parametrize(
    ("toml", "said"),
    PLAIN_WORDS,
    ids=[
        "unknown-key", "unknown-solver-key", "bool-as-text", "number-as-text", "integer-as-decimal",
        "infinite", "text-as-number", "above-an-upper-bound", "at-an-open-lower-bound",
        "integer-above-its-bound", "huge", "unknown-policy", "empty-name", "value-for-a-table",
        "value-for-the-options-table", "option-value-of-no-option-type",
    ],
)
def test_refused_settings_are_said_in_plain_words(tmp_path: Path, toml: str, said: str) -> None:
    with pytest.raises(InputError) as caught:
        _load(tmp_path, toml)
    assert [str(problem) for problem in caught.value.problems] == [f"my-model.toml, {said}"]


def test_an_unknown_model_name_names_the_file_looked_up() -> None:
    """It was labelled "nosuch.toml", as if a file of that name had been read."""
    with pytest.raises(InputError) as caught:
        load_model_config("nosuch")
    (problem,) = caught.value.problems
    assert problem.file == str(MODELS_DIR / "nosuch.toml")
    shipped = "all-at-once, phased, phased-risk-averse, plan-on-mean"
    assert problem.expected == f"a model name ({shipped}) or a .toml path"


@pytest.mark.parametrize("option", PLANNER_SETS)
def test_highs_options_planner_sets_or_that_touch_files_are_refused(tmp_path: Path, option: str) -> None:
    with pytest.raises(InputError) as caught:
        _load(tmp_path, f'[solver.highs_options]\n{option} = "x"\n')
    (problem,) = caught.value.problems
    assert problem.column == "solver.highs_options"
    assert f"only options planner leaves to the model, not: {option} (" in problem.expected


def test_options_planner_refuses_do_not_hide_the_other_bad_ones(tmp_path: Path) -> None:
    """A refused option (or any other bad key) used to be reported alone: the options HiGHS refuses
    showed up only once it was fixed."""
    with pytest.raises(InputError) as caught:
        _load(
            tmp_path,
            "[solver]\nmip_gap = 2.0\n[solver.highs_options]\n"
            'solution_file = "/tmp/x"\nwrite_solution_to_file = true\n'
            'mip_heuristic_effort = "lots"\nbogus_opt = 1\n',
        )
    problems = {cast(str, problem.column): problem for problem in caught.value.problems}  # each names a key
    assert sorted(problems) == [
        "solver.highs_options",
        "solver.highs_options.bogus_opt",
        "solver.highs_options.mip_heuristic_effort",
        "solver.mip_gap",
    ]
    assert "solution_file (" in problems["solver.highs_options"].expected
    assert "write_solution_to_file (" in problems["solver.highs_options"].expected
    assert "a value HiGHS accepts" in problems["solver.highs_options.mip_heuristic_effort"].expected
    assert "an option name HiGHS knows" in problems["solver.highs_options.bogus_opt"].expected


def test_defaults_of_a_bare_model_file(tmp_path: Path) -> None:
    """An empty file is the phased MIP at a 0.5% gap after a proof budget of 1e7 node-cells, risk
    neutral, without a time limit."""
    config = _load(tmp_path, "")
    assert (config.name, config.policy, config.integer) == ("my-model", "phased", True)
    assert (config.solver.mip_gap, config.solver.time_limit_s, config.cvar.weight) == (0.005, None, 0.0)
    assert config.solver.proof_budget == 1e7


def test_flags_override_the_file_even_when_zero(tmp_path: Path) -> None:
    """``--mip-gap 0`` and ``--warm-start 0`` are values, not 'unset'; ``--relax`` makes an LP, and
    an LP model stays one without it."""
    config = _load(tmp_path, "[solver]\nmip_gap = 0.05\nwarm_start_s = 30.0\n")
    overridden = config.with_overrides(mip_gap=0.0, warm_start_s=0.0)
    assert (overridden.solver.mip_gap, overridden.solver.warm_start_s) == (0.0, 0.0)
    assert config.with_overrides().solver.mip_gap == 0.05
    assert config.with_overrides(relax=True).integer is False
    assert _load(tmp_path, "integer = false\n").with_overrides().integer is False


@pytest.mark.parametrize(
    ("given", "is_path"),
    [("phased", False), ("mine.toml", True), ("dir/mine", True), ("dir\\mine", True), ("./mine", True)],
)
def test_a_model_argument_with_a_suffix_or_a_slash_is_a_path(given: str, is_path: bool) -> None:
    assert (resolve_model_path(given) == Path(given)) is is_path


def test_one_highs_thread_is_the_default_so_that_solve_compare_and_sweep_agree(tmp_path: Path) -> None:
    assert _load(tmp_path, "").solver.threads == 1
    shipped = {path.stem: load_model_config(str(path)).solver.threads for path in MODELS_DIR.glob("*.toml")}
    assert shipped and set(shipped.values()) == {1}, shipped


def test_side_by_side_solves_take_one_thread_each_unless_threads_were_set(tmp_path: Path) -> None:
    all_cores = "[solver]\nthreads = 0\n"
    assert _load(tmp_path, all_cores).side_by_side(parallel=True).solver.threads == 1
    assert _load(tmp_path, all_cores).side_by_side(parallel=False).solver.threads == 0
    assert _load(tmp_path, "[solver]\nthreads = 4\n").side_by_side(parallel=True).solver.threads == 4
