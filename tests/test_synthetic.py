"""Synthetic benchmark cases (planner.synthetic) and the ``planner bench`` command.

Generated cases must be ordinary valid case folders: the loader reads them without problems or
warnings, with the requested numbers of sites, chips, periods and scenarios, and the scenario
tree inferred from the demand histories has ``branching ** stages`` leaves.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner

from planner.bench import MIP_TIME_LIMIT_S, bench_config
from planner.cli import main
from planner.config import load_model_config
from planner.formulation.indexing import Indexing
from planner.loader import load_case
from planner.synthetic import synthetic_case_files, write_case

SIZES = [
    # sites, chips, periods, quarters, workloads, branching, stages
    (2, 2, 4, True, 1, 1, 0),
    (3, 2, 4, False, 2, 2, 1),
    (4, 3, 12, True, 2, 3, 2),
    (5, 4, 8, False, 3, 2, 2),
    (2, 3, 6, True, 2, 1, 2),
    (3, 2, 3, False, 2, 3, 2),
]


@pytest.mark.parametrize("sites, chips, periods, quarters, workloads, branching, stages", SIZES)
def test_generated_case_loads_with_the_requested_sizes(
    tmp_path: Path,
    sites: int,
    chips: int,
    periods: int,
    quarters: bool,
    workloads: int,
    branching: int,
    stages: int,
) -> None:
    files = synthetic_case_files(sites, chips, periods, quarters, workloads, branching, stages, seed=7)
    case, warnings = load_case(write_case(tmp_path / "case", files))
    assert warnings == []
    assert len(case.sites) == sites
    assert len(case.chips) == chips
    assert len(case.workloads) == workloads
    assert len(case.periods) == periods
    assert set(case.period_years.values()) == {0.25 if quarters else 1.0}
    assert case.periods[0] == ("2026Q1" if quarters else "Y2026")
    scenarios = branching**stages
    assert len(case.scenarios) == scenarios
    assert math.fsum(case.scenario_probability.values()) == pytest.approx(1.0, abs=1e-9)
    assert len(Indexing(case).tree.leaf_paths()) == scenarios
    assert 2 <= len(case.contracts) / sites <= 3
    assert any(site.existing_mw > 0 for site in case.sites.values())
    assert any(q.existing for q in case.contracts.values())


def test_quarterly_periods_are_named_by_year_and_quarter() -> None:
    files = synthetic_case_files(2, 2, 6, True, 1, 1, 0, seed=0)
    assert files["periods.csv"].splitlines()[1:] == [
        "2026Q1,0.25", "2026Q2,0.25", "2026Q3,0.25", "2026Q4,0.25", "2027Q1,0.25", "2027Q2,0.25",
    ]


def test_scenarios_share_demand_until_they_branch(tmp_path: Path) -> None:
    """Two branch points with three children over 12 periods: 1 node, then 3, then 9."""
    files = synthetic_case_files(3, 2, 12, True, 2, 3, 2, seed=1)
    case, _ = load_case(write_case(tmp_path / "case", files))
    tree = Indexing(case).tree
    counts = [sum(1 for n in tree.nodes if n.t == t) for t in range(12)]
    assert counts[0] == 1 and counts[-1] == 9
    assert counts == sorted(counts) and set(counts) == {1, 3, 9}


def test_same_seed_same_texts_other_seed_other_texts() -> None:
    args = (4, 3, 12, True, 2, 3, 2)
    assert synthetic_case_files(*args, seed=3) == synthetic_case_files(*args, seed=3)
    assert synthetic_case_files(*args, seed=3) != synthetic_case_files(*args, seed=4)


def test_impossible_sizes_are_refused() -> None:
    with pytest.raises(ValueError):
        synthetic_case_files(0, 2, 4, True, 1, 1, 0, seed=0)
    with pytest.raises(ValueError):
        synthetic_case_files(2, 2, 2, True, 1, 2, 2, seed=0)


def test_write_case_never_overwrites(tmp_path: Path) -> None:
    files = synthetic_case_files(2, 2, 4, True, 1, 1, 0, seed=0)
    write_case(tmp_path / "case", files)
    with pytest.raises(FileExistsError):
        write_case(tmp_path / "case", files)


def test_bench_command_reports_its_figures(tmp_path: Path) -> None:
    out = tmp_path / "bench"
    args = ["bench", "--sites", "2", "--chips", "2", "--periods", "4", "--years",
            "--branching", "2", "--stages", "1", "--out", str(out)]
    result = CliRunner().invoke(main, [*args, "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert figures["rows"] > 0 and figures["columns"] > 0 and figures["nonzeros"] > 0
    assert figures["integer_columns"] > 0
    assert figures["rescaled"] is False  # a MIP, and small: passed as built
    assert figures["unpowered_chips"] is False  # the v1 model unless asked
    assert figures["scenarios"] == 2 and figures["tree_leaves"] == 2
    assert figures["status"] == "optimal"
    assert figures["objective_musd"] > 0
    assert figures["bound_musd"] <= figures["objective_musd"] + 1e-6
    assert figures["time_limit_s"] == MIP_TIME_LIMIT_S  # the bench default for a MIP
    assert figures["peak_rss_mib"] > 0
    for key in ("build_seconds", "load_seconds", "solve_seconds", "total_seconds"):
        assert figures[key] >= 0
    assert json.loads((out / "bench.json").read_text())["rows"] == figures["rows"]
    load_case(out / "case")  # the case folder stays behind, valid

    again = CliRunner().invoke(main, [*args, "--relax"])  # never overwrites
    assert again.exit_code == 2

    table = CliRunner().invoke(main, [*args[:-2], "--out", str(tmp_path / "lp"), "--relax"])
    assert table.exit_code == 0, table.output
    for label in ("rows", "nonzeros", "build", "load", "solve", "total", "peak memory", "gap", "bound"):
        assert label in table.output
    lp_objective = json.loads((tmp_path / "lp" / "bench.json").read_text())["objective_musd"]
    extended_args = [*args[:-2], "--out", str(tmp_path / "ext"), "--relax", "--unpowered-chips"]
    extended = CliRunner().invoke(main, extended_args)
    assert extended.exit_code == 0, extended.output
    extended_figures = json.loads((tmp_path / "ext" / "bench.json").read_text())
    assert extended_figures["unpowered_chips"] is True
    assert extended_figures["objective_musd"] <= lp_objective * (1 + 1e-9)  # a relaxation of the v1 LP
    unit = "$B" if lp_objective >= 10_000 else "$M"  # one unit per run, as solve prints it
    assert f"objective ({unit})" in table.output and f"bound ({unit})" in table.output

    forced = tmp_path / "scaled.toml"
    forced.write_text('name = "scaled"\npolicy = "phased"\n[solver]\nscale = "on"\n')
    scaled_args = [*args[:-2], "--out", str(tmp_path / "scaled"), "--relax", "--model", str(forced)]
    scaled = CliRunner().invoke(main, scaled_args)
    assert scaled.exit_code == 0, scaled.output
    summary = json.loads((tmp_path / "scaled" / "bench.json").read_text())
    assert summary["rescaled"] is True
    assert summary["objective_musd"] == pytest.approx(
        json.loads((tmp_path / "lp" / "bench.json").read_text())["objective_musd"], rel=1e-9
    )

    warm = CliRunner().invoke(main, [*args[:-2], "--out", str(tmp_path / "warm"), "--warm-start", "5"])
    assert warm.exit_code == 0, warm.output
    assert "time limit (s)" in warm.output and "180" in warm.output
    assert "warm start: LP bound" in warm.output and "warm start: first plan" in warm.output
    summary = json.loads((tmp_path / "warm" / "bench.json").read_text())
    assert summary["warm_start"]["lp_bound_musd"] <= summary["objective_musd"] + 1e-6


def test_bench_gives_a_mip_its_default_time_limit_and_leaves_a_set_one_or_an_lp_alone() -> None:
    phased = load_model_config("phased")
    assert phased.integer and phased.solver.time_limit_s is None
    assert bench_config(phased).solver.time_limit_s == MIP_TIME_LIMIT_S
    assert bench_config(phased.with_overrides(time_limit_s=30)).solver.time_limit_s == 30
    assert bench_config(phased.with_overrides(relax=True)).solver.time_limit_s is None


def test_a_bench_size_beyond_the_memory_is_refused_before_anything_is_generated(tmp_path: Path) -> None:
    """A million scenarios used to fill the memory for a minute, then end in a MemoryError
    traceback (or the OS's out-of-memory kill): now exit 2 at once, with the arithmetic."""
    from planner.bench import BenchSize, check_fits_in_memory

    default = BenchSize()
    check_fits_in_memory(default, 2**31)  # the bench case fits in 2 GiB (peak 1.3 GiB as a MIP)
    check_fits_in_memory(BenchSize(branching=10**9, stages=9), None)  # unknown memory: no check
    out = tmp_path / "huge"
    args = ["bench", "--sites", "1", "--chips", "1", "--periods", "8", "--branching", "1000",
            "--stages", "6", "--out", str(out), "--json"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    problem = json.loads(result.stdout)["problems"][0]
    assert problem["value"] == "s1-c1-q8-w2-b1000x6"
    assert "1,000,000,000,000,000,000 scenarios x 8 periods" in problem["expected"]
    assert "GiB" in problem["expected"]
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (
            ["--branching", "10", "--stages", "400"],
            "more periods than branch points: --stages 400 needs at least 401 periods (got 40)",
        ),
        (
            ["--branching", "1000", "--stages", "1000000", "--periods", "1000001"],
            "about 1.0e3000000 scenarios x 1000001 periods",
        ),
    ],
)
def test_a_tree_too_big_to_count_in_floats_is_refused_in_words(
    tmp_path: Path, args: list[str], said: str
) -> None:
    """10 ** 400 scenarios overflowed a float in the memory check: "internal error: OverflowError"."""
    result = CliRunner().invoke(main, ["bench", *args, "--out", str(tmp_path / "huge"), "--json"])
    assert result.exit_code == 2, result.output
    assert said in json.loads(result.stdout)["problems"][0]["expected"]


def test_running_out_of_memory_is_a_message_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import planner.bench

    def exhausted(*_args: object, **_kwargs: object) -> None:
        raise MemoryError

    monkeypatch.setattr(planner.bench, "solve_case", exhausted)
    out = tmp_path / "oom"
    args = ["bench", "--sites", "1", "--chips", "1", "--periods", "2", "--years", "--branching", "1",
            "--out", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    assert "out of memory" in result.output and "nothing was written" in result.output
    assert "Traceback" not in result.output and not out.exists()
    as_json = CliRunner().invoke(main, [*args, "--json"])
    assert json.loads(as_json.stdout)["status"] == "no_plan"


@pytest.mark.parametrize(
    ("where", "error"),
    [("solver thread", "Resource temporarily unavailable"), ("spinner", "can't start new thread")],
)
def test_no_room_for_a_thread_is_out_of_memory_in_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, where: str, error: str
) -> None:
    """Under a memory cap (ulimit -v) HiGHS could not start its threads: highspy's solver thread
    raised, Python printed its traceback, and the solve read "no plan: status Not Set"; or the
    progress spinner's thread could not start: "internal error: RuntimeError". Both are out of
    memory, said as such (exit 1), with nothing written."""
    import threading

    import highspy
    import rich.status

    if where == "solver thread":

        def start_solve(self: highspy.Highs) -> threading.Thread:
            def __solve() -> None:  # the name highspy's solver thread runs under
                raise RuntimeError(error)

            thread = threading.Thread(target=__solve, daemon=True)
            thread.start()
            return thread

        monkeypatch.setattr(highspy.Highs, "startSolve", start_solve)
        monkeypatch.setattr(highspy.Highs, "joinSolve", lambda self, *args, **kwargs: None)
    else:

        def no_thread(self: rich.status.Status) -> None:
            raise RuntimeError(error)

        monkeypatch.setattr(rich.status.Status, "start", no_thread)
    out = tmp_path / "capped"
    tiny = Path(__file__).parents[1] / "inputs" / "tiny"
    result = CliRunner().invoke(main, ["solve", str(tiny), "--out", str(out), "--json"])
    assert result.exit_code == 1, result.output
    payload = json.loads(result.stdout)
    assert payload["status"] == "no_plan"
    assert payload["message"].startswith("out of memory") and "nothing was written" in payload["message"]
    assert "Traceback" not in result.output + capsys.readouterr().err and not out.exists()


def test_bench_unmet_share_counts_eflops_years() -> None:
    """1 EFLOPS fits (1 MW existing, no room to build): demand 1 in p1 (1 year) and 2 in p2
    (3 years) leaves 1 EFLOPS unmet for 3 years of 1 + 6 EFLOPS-years: 3/7, not the 1/3 of
    EFLOPS summed over periods."""
    from factory import chip, make_case, site

    from planner.bench import plan_shape
    from planner.config import ModelConfig, SolverSettings
    from planner.plan import solve_case

    case = make_case(
        {"p1": 1.0, "p2": 2.0},
        {"p1": 1.0, "p2": 3.0},
        sites=[site("s1", max_mw=1.0, existing_mw=1.0)],
        chips=[chip("c1")],
    )
    result = solve_case(case, ModelConfig(name="m", solver=SolverSettings(mip_gap=0.0)))
    shape = plan_shape(result)
    assert shape["unmet_share"] == pytest.approx(3 / 7, rel=1e-9)
    assert shape["sites_with_buildings"] == 1 and shape["sites_built"] == 0
