"""``planner sweep --model A --model B``: one sweep under several models (``inputs/tiny``).

Every (model, variant) row must equal ``planner solve`` of that model on a hand-edited copy of the
case; strategies.csv's difference must be the difference of the two objectives; an edit that
fails, fails under every model with the sweep file's row named. Solves use MIP gap 0.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest
from conftest import Cli

from planner.sweep_report import VARIANT_COLUMNS
from planner.sweep_strategies import strategies_columns

TINY = Path(__file__).resolve().parents[1] / "inputs" / "tiny"
MODELS = ("phased", "all-at-once")
SWEEP = (
    "case,group,file,column,where,op,value\n"
    "chips_half,chip capex,chips.csv,capex_usd,,scale,0.5\n"
    "lo_grows,demand,demand.csv,eflops,scenario=lo&period=p2,set,1.5\n"
    "bad_chip,,chips.csv,capex_usd,chip=tpu,scale,2\n"  # sweep row 4: no chip tpu
)
# The same variants edited by hand: text replacements in inputs/tiny's files.
HAND_EDITS: dict[str, tuple[str, str, str]] = {
    "base": ("chips.csv", "", ""),
    "chips_half": ("chips.csv", "g,1,1,10000,5", "g,1,1,5000,5"),
    "lo_grows": ("demand.csv", "lo,p2,train,0.5", "lo,p2,train,1.5"),
}
SOLVED = list(HAND_EDITS)
CASES = [*SOLVED, "bad_chip"]


def model_flags(*models: str) -> list[str]:
    return [flag for model in models for flag in ("--model", model)]


@pytest.fixture(scope="module")
def swept(tmp_path_factory: pytest.TempPathFactory, cli: Cli) -> dict:
    """inputs/tiny swept under phased and all-at-once, both models' variants in one pool of two
    workers; shared by the tests below."""
    root = tmp_path_factory.mktemp("sweep-models")
    sweep = root / "sweep.csv"
    sweep.write_text(SWEEP)
    out = root / "run"
    result = cli("sweep", TINY, sweep, *model_flags(*MODELS), "--mip-gap", "0", "--workers", "2", "--json",
                 "--out", out)
    return {"code": result.exit_code, "payload": json.loads(result.stdout), "out": out, "sweep": sweep}


@pytest.fixture(scope="module")
def solved_by_hand(tmp_path_factory: pytest.TempPathFactory, cli: Cli) -> dict[tuple[str, str], dict]:
    """``planner solve --model M --mip-gap 0`` of each hand-edited copy of inputs/tiny."""
    root = tmp_path_factory.mktemp("hand-edited")
    summaries = {}
    for variant, (file, old, new) in HAND_EDITS.items():
        case = root / variant
        case.mkdir()
        for path in TINY.glob("*.csv"):
            (case / path.name).write_text(path.read_text())
        text = (case / file).read_text()
        assert text.count(old) == 1 or variant == "base"
        (case / file).write_text(text.replace(old, new))
        for model in MODELS:
            out = root / f"{variant}-{model}"
            result = cli("solve", case, "--model", model, "--mip-gap", "0", "--json", "--out", out)
            assert result.exit_code == 0, result.output
            summaries[model, variant] = json.loads(result.stdout)
    return summaries


def rows_by_pair(payload: dict) -> dict[tuple[str, str], dict]:
    return {(row["model"], row["case"]): row for row in payload["variants"]}


def test_every_model_and_variant_is_solved_in_sweep_order(swept: dict) -> None:
    assert swept["code"] == 1  # bad_chip failed
    pairs = [(row["model"], row["case"]) for row in swept["payload"]["variants"]]
    assert pairs == [(model, case) for model in MODELS for case in CASES]
    assert swept["payload"]["models"] == list(MODELS)


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("variant", SOLVED)
def test_each_row_equals_planner_solve_of_the_hand_edited_case(
    swept: dict, solved_by_hand: dict, model: str, variant: str
) -> None:
    row = rows_by_pair(swept["payload"])[model, variant]
    direct = solved_by_hand[model, variant]
    assert row["status"] == "optimal"
    assert row["objective_musd"] == pytest.approx(direct["objective_musd"], rel=1e-6)
    stranded = direct["risk"]["stranded_capital_musd_peak"]["expected"]
    assert row["stranded_capital_musd_peak_expected"] == pytest.approx(stranded, rel=1e-6, abs=1e-9)


def test_the_models_differ_on_this_case(solved_by_hand: dict) -> None:
    """Else the strategies table below would prove little."""
    assert solved_by_hand["all-at-once", "base"]["objective_musd"] > solved_by_hand["phased", "base"][
        "objective_musd"] + 0.5


def test_variants_csv_has_a_model_column_and_deltas_against_the_same_models_base(swept: dict) -> None:
    table = pd.read_csv(swept["out"] / "variants.csv", keep_default_na=False)
    assert list(table.columns) == ["model", *VARIANT_COLUMNS]
    rows = rows_by_pair(swept["payload"])
    for model in MODELS:
        base = rows[model, "base"]["objective_musd"]
        for variant in SOLVED:
            row = rows[model, variant]
            assert row["delta_musd"] == pytest.approx(row["objective_musd"] - base, abs=1e-9)
            assert row["delta_low_musd"] <= row["delta_musd"] <= row["delta_high_musd"]
    timings = pd.read_csv(swept["out"] / "timings.csv", keep_default_na=False)
    assert list(timings.columns) == ["model", "case", "seconds"] and len(timings) == len(table)


def test_strategies_table_gives_each_difference_and_its_range(swept: dict, solved_by_hand: dict) -> None:
    table = pd.read_csv(swept["out"] / "strategies.csv", keep_default_na=False)
    assert list(table.columns) == strategies_columns(list(MODELS))
    assert list(table.columns)[2:8] == [
        "status[phased]", "objective_musd[phased]", "expected_cost_musd[phased]",
        "status[all-at-once]", "objective_musd[all-at-once]", "expected_cost_musd[all-at-once]",
    ]
    assert list(table["case"]) == CASES and table["group"].tolist()[:3] == ["", "chip capex", "demand"]
    diff, low, high = (f"{what}[all-at-once - phased]" for what in (
        "diff_expected_cost_musd", "diff_expected_cost_low_musd", "diff_expected_cost_high_musd"))
    records = {row["case"]: row for row in swept["payload"]["strategies"]}
    for variant in SOLVED:
        row = records[variant]
        phased = solved_by_hand["phased", variant]["objective_musd"]
        giant_leap = solved_by_hand["all-at-once", variant]["objective_musd"]
        assert row["objective_musd[phased]"] == pytest.approx(phased, rel=1e-6)
        assert row[diff] == pytest.approx(giant_leap - phased, rel=1e-6, abs=1e-9)
        assert row[diff] == pytest.approx(row["objective_musd[all-at-once]"] - row["objective_musd[phased]"])
        assert row["expected_cost_musd[phased]"] == pytest.approx(row["objective_musd[phased]"])
        # Proven optima (gap 0): the range is the difference, give or take the bounds' round-off.
        assert row[low] <= row[diff] <= row[high] and row[high] - row[low] < 1e-6
        for model in MODELS:
            stranded = solved_by_hand[model, variant]["risk"]["stranded_capital_musd_peak"]["expected"]
            assert row[f"stranded_capital_musd_peak_expected[{model}]"] == pytest.approx(stranded, abs=1e-9)
    failed = records["bad_chip"]
    assert failed["status[phased]"] == failed["status[all-at-once]"] == "failed"
    assert all(failed[column] is None for column in (diff, low, high, "objective_musd[phased]"))


def test_a_failing_edit_fails_under_every_model_with_the_sweep_row(
    swept: dict, cli: Cli, tmp_path: Path
) -> None:
    rows = rows_by_pair(swept["payload"])
    errors = {rows[model, "bad_chip"]["error"] for model in MODELS}
    assert len(errors) == 1
    (error,) = errors
    assert "sweep.csv, row 4, column where: value 'chip=tpu'" in error
    result = cli("sweep", TINY, swept["sweep"], *model_flags(*MODELS), "--workers", "1", "--no-plans",
                 "--out", tmp_path / "run")
    assert result.exit_code == 1
    text = " ".join(result.stdout.split())
    assert text.count("bad_chip failed under phased, all-at-once:") == 1 and text.count("chip=tpu") == 1
    for header in ("Sweep strategies", "phased $M", "all-at-once $M", "all-at-once - phased $M",
                   "stranded phased $M", "Sweep variants under phased", "Sweep variants under all-at-once"):
        assert header in text, header
    assert "strategies.csv, variants.csv, tornado-phased.png, tornado-all-at-once.png" in text


def test_run_folder_has_a_tornado_and_plans_per_model_and_records_every_model(swept: dict) -> None:
    out = swept["out"]
    for model in MODELS:
        assert (out / f"tornado-{model}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        folders = sorted(path.name for path in (out / "plans" / model).iterdir())
        assert folders == ["0-base", "1-chips_half", "2-lo_grows"]  # a failed variant has no plan
        summary = json.loads((out / "plans" / model / "1-chips_half" / "summary.json").read_text())
        row = rows_by_pair(swept["payload"])[model, "chips_half"]
        assert summary["objective_musd"] == row["objective_musd"]
    assert not (out / "tornado.png").exists()
    assert list(json.loads((out / "models.json").read_text())) == list(MODELS)
    assert "Strategies" in (out / "index.html").read_text()


def test_one_model_keeps_the_v1_outputs(cli: Cli, tmp_path: Path) -> None:
    sweep = tmp_path / "sweep.csv"
    sweep.write_text(SWEEP)
    out = tmp_path / "run"
    result = cli("sweep", TINY, sweep, "--model", "all-at-once", "--no-plans", "--workers", "1", "--json",
                 "--out", out)
    payload = json.loads(result.stdout)
    assert set(payload) == {"run_dir", "variants", "warnings", "fixed_plan", "variant_warnings"}
    assert list(payload["variants"][0]) == list(VARIANT_COLUMNS)
    assert list(pd.read_csv(tmp_path / "run" / "variants.csv").columns) == list(VARIANT_COLUMNS)
    assert not (tmp_path / "run" / "strategies.csv").exists() and (tmp_path / "run" / "tornado.png").is_file()


def test_default_run_folder_names_every_model(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sweep = tmp_path / "sweep.csv"
    sweep.write_text(SWEEP.replace("bad_chip", "dear_chips").replace("chip=tpu", ""))
    monkeypatch.chdir(tmp_path)
    result = cli("sweep", TINY, sweep, *model_flags(*MODELS), "--no-plans", "--workers", "1")
    assert result.exit_code == 0, result.output
    (folder,) = (tmp_path / "runs").iterdir()
    assert folder.name.startswith("tiny-sweep-phased-vs-all-at-once-")


@pytest.mark.parametrize(
    ("models", "expected"),
    [
        (("phased", "all-at-once", "phased"), "each model once"),
        (("phased", "no-such-model", "also/missing.toml"), "no-such-model"),
    ],
)
def test_a_model_twice_or_bad_models_are_bad_input(
    cli: Cli, tmp_path: Path, models: tuple[str, ...], expected: str
) -> None:
    sweep = tmp_path / "sweep.csv"
    sweep.write_text(SWEEP)
    result = cli("sweep", TINY, sweep, *model_flags(*models), "--json", "--out", tmp_path / "run")
    assert result.exit_code == 2
    problems = json.loads(result.stdout)["problems"]
    assert expected in json.dumps(problems)
    if "missing" in models[-1]:
        assert len(problems) == 2  # every model's problem at once
    assert not (tmp_path / "run").exists()


def test_a_frozen_plan_is_re_scored_under_every_model(cli: Cli, tmp_path: Path) -> None:
    """--fix-plan with several models: each model re-scores the plan; a variant's warnings (here a
    module size other than the plan's) are kept per model and variant; plan-on-mean is refused."""
    plan = tmp_path / "giant-leap"
    assert cli("solve", TINY, "--model", "all-at-once", "--mip-gap", "0", "--out", plan).exit_code == 0
    sweep = tmp_path / "sweep.csv"
    sweep.write_text("case,group,file,column,where,op,value\nbig_modules,,sites.csv,module_mw,,set,2\n")
    result = cli("sweep", TINY, sweep, *model_flags(*MODELS), "--fix-plan", plan, "--mip-gap", "0",
                 "--workers", "1", "--no-plans", "--json", "--out", tmp_path / "run")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    direct = json.loads(cli("solve", TINY, "--model", "phased", "--fix-plan", plan, "--mip-gap", "0",
                            "--json", "--out", tmp_path / "direct").stdout)
    rows = rows_by_pair(payload)
    for model in MODELS:  # the whole plan frozen: both models re-score the same buildings and contracts
        assert rows[model, "base"]["objective_musd"] == pytest.approx(direct["objective_musd"], rel=1e-6)
    difference = payload["strategies"][0]["diff_expected_cost_musd[all-at-once - phased]"]
    assert difference == pytest.approx(0.0, abs=1e-6)
    assert payload["fixed_plan"]["from"] == str(plan)
    warnings = payload["variant_warnings"]
    assert set(warnings) == set(MODELS)
    assert all(set(by_variant) == {"big_modules"} for by_variant in warnings.values())
    lines = (tmp_path / "run" / "variant_warnings.txt").read_text().splitlines()
    # the same warnings under both models (the edited case's module size): one line each, naming both
    assert {line.split(":")[0] for line in lines} == {f"big_modules under {', '.join(MODELS)}"}
    assert len(lines) == len(warnings[MODELS[0]]["big_modules"])
    refused = cli("sweep", TINY, sweep, "--model", "phased", "--model", "plan-on-mean", "--fix-plan", plan,
                  "--json", "--out", tmp_path / "refused")
    assert refused.exit_code == 2
    (problem,) = json.loads(refused.stdout)["problems"]
    assert problem["file"] == "--model" and problem["value"] == "plan-on-mean"


def _summary(
    objective_musd: float, bound_musd: float | None, status: str = "optimal", cvar_musd: float = 0.0
) -> dict:
    """A solve's summary as strategies_table reads it; ``cvar_musd``: weight x CVaR in the objective."""
    stranded = {"stranded_capital_musd_peak": {"expected": objective_musd / 10}}
    return {"status": status, "stages": [], "objective_musd": objective_musd, "bound_musd": bound_musd,
            "expected_cost_musd": objective_musd - cvar_musd, "cvar_weight": 0.5 if cvar_musd else 0.0,
            "risk": stranded}


def test_a_difference_range_takes_both_solves_bounds() -> None:
    """all-at-once - phased lies between (all-at-once's bound - phased's plan) and (all-at-once's
    plan - phased's bound); blank when a side has no bound or failed."""
    from planner.sweep import VariantOutcome
    from planner.sweep_strategies import strategies_table

    phased = [VariantOutcome("base", "", _summary(100.0, 99.0, "time_limit"), None, 1.0, model="phased"),
              VariantOutcome("v", "g", _summary(90.0, None), None, 1.0, model="phased"),
              VariantOutcome("w", "", None, "no plan: infeasible", 1.0, model="phased")]
    giant_leap = [VariantOutcome("base", "", _summary(150.0, 148.0), None, 1.0, model="all-at-once"),
                  VariantOutcome("v", "g", _summary(140.0, 139.0), None, 1.0, model="all-at-once"),
                  VariantOutcome("w", "", _summary(130.0, 130.0), None, 1.0, model="all-at-once")]
    table = strategies_table({"phased": phased, "all-at-once": giant_leap})
    rows = {row["case"]: row for row in table.to_dict(orient="records")}
    pair = "[all-at-once - phased]"
    base = rows["base"]
    diff, low, high = (f"diff_expected_cost{what}_musd{pair}" for what in ("", "_low", "_high"))
    assert (base[diff], base[low], base[high]) == (
        50.0, 148.0 - 100.0, 150.0 - 99.0)
    assert base["status[phased]"] == "time_limit"
    assert base["stranded_capital_musd_peak_expected[phased]"] == 10.0
    assert rows["v"][diff] == 50.0 and math.isnan(rows["v"][low])
    assert rows["w"]["status[phased]"] == "failed" and math.isnan(rows["w"][diff])
    assert rows["w"]["objective_musd[all-at-once]"] == 130.0


def test_a_model_name_longer_than_a_file_name_takes_is_bad_input(cli: Cli, tmp_path: Path) -> None:
    """100 characters of 3 bytes each passed the name check, then tornado-<name>.png and
    plans/<name>/ could not be written after every solve (File name too long): refused up front."""
    shipped = (Path(__file__).resolve().parents[1] / "models" / "all-at-once.toml").read_text()
    model = tmp_path / "long.toml"
    model.write_text(shipped.replace('name = "all-at-once"', f'name = "{"日" * 100}"'))
    sweep = tmp_path / "sweep.csv"
    sweep.write_text(SWEEP)
    result = cli("sweep", TINY, sweep, "--model", "phased", "--model", model, "--json",
                 "--out", tmp_path / "run")
    assert result.exit_code == 2
    (problem,) = json.loads(result.stdout)["problems"]
    assert "100 bytes" in problem["expected"]
    assert not (tmp_path / "run").exists()


def test_two_model_files_of_one_name_are_named_in_the_refusal(cli: Cli, tmp_path: Path) -> None:
    """Two TOML files, one ``name``: the refusal said "each model once" of two different paths."""
    for file, shipped in (("a.toml", "phased"), ("b.toml", "all-at-once")):
        text = (TINY.parents[1] / "models" / f"{shipped}.toml").read_text()
        (tmp_path / file).write_text(text.replace(f'name = "{shipped}"', 'name = "same"'))
    sweep = tmp_path / "sweep.csv"
    sweep.write_text(SWEEP)
    result = cli("sweep", TINY, sweep, "--model", tmp_path / "a.toml", "--model", tmp_path / "b.toml",
                 "--json", "--out", tmp_path / "run")
    assert result.exit_code == 2
    (problem,) = json.loads(result.stdout)["problems"]
    assert problem["expected"].startswith("each model once") and "named twice: 'same'" in problem["expected"]


def test_a_default_folder_of_long_model_names_still_says_fixed(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The label <model>-vs-<model> is cut to 100 characters; -fixed was cut with it."""
    plan = tmp_path / "giant-leap"
    assert cli("solve", TINY, "--model", "all-at-once", "--mip-gap", "0", "--out", plan).exit_code == 0
    for letter in "ab":
        text = (TINY.parents[1] / "models" / "all-at-once.toml").read_text()
        named = text.replace('name = "all-at-once"', f'name = "{letter * 50}"')
        (tmp_path / f"{letter}.toml").write_text(named)
    sweep = tmp_path / "sweep.csv"
    sweep.write_text("case,group,file,column,where,op,value\ncheap,,chips.csv,capex_usd,,scale,0.5\n")
    monkeypatch.chdir(tmp_path)
    result = cli("sweep", TINY, sweep, "--model", tmp_path / "a.toml", "--model", tmp_path / "b.toml",
                 "--fix-plan", plan, "--no-plans", "--workers", "1")
    assert result.exit_code == 0, result.output
    (folder,) = (tmp_path / "runs").iterdir()
    assert folder.name.startswith("tiny-sweep-aaaaa") and "-fixed-" in folder.name


def test_a_risk_averse_model_is_compared_on_expected_cost() -> None:
    """A risk-averse model's objective adds weight x CVaR: the same plan under phased (100) and a
    risk-averse model (objective 130 = expected cost 100 + 30) differs by 0 in expected cost, not by
    30; no range, since its bound is one on the objective, not on expected cost."""
    from planner.sweep import VariantOutcome
    from planner.sweep_strategies import strategies_table

    phased = [VariantOutcome("base", "", _summary(100.0, 100.0), None, 1.0, model="phased")]
    averse = [VariantOutcome("base", "", _summary(130.0, 130.0, cvar_musd=30.0), None, 1.0, model="ra")]
    row = strategies_table({"phased": phased, "ra": averse}).iloc[0]
    assert row["objective_musd[ra]"] == 130.0 and row["expected_cost_musd[ra]"] == 100.0
    assert row["diff_expected_cost_musd[ra - phased]"] == 0.0
    assert math.isnan(row["diff_expected_cost_low_musd[ra - phased]"])
    assert math.isnan(row["diff_expected_cost_high_musd[ra - phased]"])


def test_a_sweep_with_a_risk_averse_model_says_what_it_compares(cli: Cli, tmp_path: Path) -> None:
    """phased and phased-risk-averse choose the same plan on tiny: 0 difference in expected cost,
    and the console says the risk-averse objective adds CVaR."""
    sweep = tmp_path / "sweep.csv"
    sweep.write_text("case,group,file,column,where,op,value\ncheap,,chips.csv,capex_usd,,scale,0.5\n")
    result = cli("sweep", TINY, sweep, *model_flags("phased", "phased-risk-averse"), "--mip-gap", "0",
                 "--workers", "1", "--no-plans", "--out", tmp_path / "run")
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "run" / "strategies.csv")
    pair = "[phased-risk-averse - phased]"
    assert table[f"diff_expected_cost_musd{pair}"].abs().max() < 1e-6
    averse = "[phased-risk-averse]"
    assert (table[f"objective_musd{averse}"] > table[f"expected_cost_musd{averse}"]).all()
    assert table[f"diff_expected_cost_low_musd{pair}"].isna().all()
    assert "phased-risk-averse: the objective adds weight x CVaR" in " ".join(result.output.split())
