"""``planner sweep`` (shared/spec/sweeps.md) on the tiny case of ``conftest.py``.

Every variant's objective must equal the objective of a hand-edited copy of the case folder
solved directly; bad edits fail only their own variant, named by the sweep file's row; a sweep
file of the wrong shape is bad input (exit 2). Solves use MIP gap 0 so that objectives of equal
models agree to rounding.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pytest
from conftest import CaseWriter, Cli, ExactConfig
from rich.console import Console

from planner.errors import InputError
from planner.loader import load_case
from planner.money import BILLIONS, MILLIONS, money_unit
from planner.plan import solve_case
from planner.sweep import BASE, VariantOutcome, apply_edits, read_sweep, solve_variant
from planner.sweep_report import render_sweep, variants_table

if TYPE_CHECKING:
    from distributed import LocalCluster  # the dask_cluster fixture skips without distributed

SWEEP_HEADER = "case,group,file,column,where,op,value\n"

# One sweep row per op and per form of `where`; the edits a person would make by hand to get the
# same variant. `pue_both` has two rows applied together; `gpu_capex_x0.8` and `gpu_capex_x1.5`
# are the two ends of one tornado bar.
GOOD_ROWS = (
    "gpu_capex_x1.5,chip capex,chips.csv,capex_usd,chip=gpu,scale,1.5\n"  # single condition, scale
    "gpu_capex_x0.8,chip capex,chips.csv,capex_usd,chip=gpu,scale,0.8\n"
    "site_capex_plus3,site capex,sites.csv,capex_musd_per_mw,,add,3\n"  # blank where, add
    "high_p3_flat,demand,demand.csv,eflops,scenario=high&period=p3,set,7\n"  # two conditions, set
    "discount_10pct,discount,parameters.csv,value,name=discount_rate,set,0.1\n"  # parameters.csv
    "pue_both,pue,sites.csv,pue,site=north,set,1.3\n"
    "pue_both,,sites.csv,pue,site=south,add,0.1\n"
    "south_om,,sites.csv,fixed_om_musd_per_mw_year,site=south,add,0.5\n"  # blank cell: default 0
    "asic_life_plus1,,chips.csv,life_years,pflops=1.50,add,1\n"  # numeric match in `where`
)


# The same variants edited by hand: text replacements in the tiny case's files.
HAND_EDITS: dict[str, dict[str, list[tuple[str, str]]]] = {
    "base": {},
    "gpu_capex_x1.5": {"chips.csv": [("gpu,2,1.2,40000,", "gpu,2,1.2,60000,")]},
    "gpu_capex_x0.8": {"chips.csv": [("gpu,2,1.2,40000,", "gpu,2,1.2,32000,")]},
    "site_capex_plus3": {
        "sites.csv": [
            ("north,us,30,4,2,11,", "north,us,30,4,2,14,"),
            ("south,eu,20,2,,9,", "south,eu,20,2,,12,"),
        ]
    },
    "high_p3_flat": {
        "demand.csv": [
            ("high,p3,training,9", "high,p3,training,7"),
            ("high,p3,inference,6", "high,p3,inference,7"),
        ]
    },
    "discount_10pct": {"parameters.csv": [("discount_rate,0.08", "discount_rate,0.1")]},
    "pue_both": {"sites.csv": [("0,1.2,15", "0,1.3,15"), ("1,1.1,15", "1,1.2,15")]},
    "south_om": {"sites.csv": [("south,eu,20,2,,9,,1", "south,eu,20,2,,9,0.5,1")]},
    "asic_life_plus1": {"chips.csv": [("asic,1.5,0.8,25000,800,4,", "asic,1.5,0.8,25000,800,5,")]},
}


def edited(files: Mapping[str, str], changes: dict[str, list[tuple[str, str]]]) -> dict[str, str]:
    """``files`` with text replacements per file; each replaced text must occur exactly once."""
    files = dict(files)
    for name, replacements in changes.items():
        for old, new in replacements:
            assert files[name].count(old) == 1, (name, old)
            files[name] = files[name].replace(old, new)
    return files

# Rows that must fail their own variant, with what the report must say (file and row of the sweep).
BAD_ROWS = {
    "unknown_file": ("nosuch.csv,eflops,,scale,2", ["sweep.csv", "row 3", "nosuch.csv"]),
    "unknown_column": ("chips.csv,flops,,scale,2", ["sweep.csv", "row 4", "flops"]),
    "text_column": ("sites.csv,region,,set,2", ["sweep.csv", "row 5", "region", "numeric"]),
    "no_match": ("chips.csv,capex_usd,chip=tpu,scale,2", ["sweep.csv", "row 6", "chip=tpu"]),
    "where_unknown_column": ("chips.csv,capex_usd,vendor=acme,scale,2", ["sweep.csv", "row 7", "vendor"]),
    "negative_pue": ("sites.csv,pue,site=north,set,-1", ["sweep.csv", "row 8", "pue", "-1"]),
}
ERROR_SWEEP = SWEEP_HEADER + "gpu_capex_x1.5,,chips.csv,capex_usd,chip=gpu,scale,1.5\n" + "".join(
    f"{name},,{row}\n" for name, (row, _) in BAD_ROWS.items()
) + "south_om,,sites.csv,fixed_om_musd_per_mw_year,site=south,add,0.5\n"


def squash(text: str) -> str:
    return "".join(text.split())


def assert_mentions(text: str, *parts: str) -> None:
    for part in parts:
        assert squash(part) in squash(text), f"{part!r} not in:\n{text}"


def run_sweep_json(cli: Callable, case_dir: Path, sweep: Path, out: Path, *flags: object) -> tuple[int, dict]:
    result = cli("sweep", case_dir, sweep, "--out", out, "--json", "--mip-gap", "0", *flags)
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def objectives(payload: dict) -> dict[str, float | None]:
    return {row["case"]: row["objective_musd"] for row in payload["variants"]}


@pytest.fixture(scope="module")
def good_sweep(tmp_path_factory: pytest.TempPathFactory, write_case: CaseWriter, cli: Cli) -> dict:
    """The tiny case swept once with every good row (one worker); shared by the tests below."""
    root = tmp_path_factory.mktemp("sweep")
    case_dir = write_case(root / "tiny")
    sweep = root / "sweep.csv"
    sweep.write_text(SWEEP_HEADER + GOOD_ROWS)
    out = root / "run"
    code, payload = run_sweep_json(cli, case_dir, sweep, out, "--workers", "1")
    return {"code": code, "payload": payload, "out": out, "case_dir": case_dir, "root": root}


@pytest.fixture(scope="module")
def error_sweep(tmp_path_factory: pytest.TempPathFactory, write_case: CaseWriter, cli: Cli) -> dict:
    root = tmp_path_factory.mktemp("sweep-errors")
    case_dir = write_case(root / "tiny")
    sweep = root / "sweep.csv"
    sweep.write_text(ERROR_SWEEP)
    code, payload = run_sweep_json(cli, case_dir, sweep, root / "run", "--workers", "1")
    return {"code": code, "payload": payload, "case_dir": case_dir, "sweep": sweep, "root": root}


@pytest.fixture(scope="module")
def direct_objectives(
    tmp_path_factory: pytest.TempPathFactory,
    write_case: CaseWriter,
    exact_config: ExactConfig,
    tiny_files: Mapping[str, str],
) -> dict[str, float]:
    """Each hand-edited copy of the case, solved directly (MIP gap 0)."""
    root = tmp_path_factory.mktemp("hand-edited")
    values = {}
    for name, changes in HAND_EDITS.items():
        case, _ = load_case(write_case(root / name, base=edited(tiny_files, changes)))
        result = solve_case(case, exact_config())
        assert result.status == "optimal"
        values[name] = result.objective_musd
    return values


# --------------------------------------------------------------------------------------------
# good variants
# --------------------------------------------------------------------------------------------


def test_good_sweep_exits_0_and_lists_base_then_variants(good_sweep: dict) -> None:
    assert good_sweep["code"] == 0
    payload = good_sweep["payload"]
    assert payload["run_dir"] == str(good_sweep["out"])
    assert [row["case"] for row in payload["variants"]] == list(HAND_EDITS)
    assert all(row["status"] == "optimal" for row in payload["variants"])
    assert all(row["error"] == "" for row in payload["variants"])
    groups = {row["case"]: row["group"] for row in payload["variants"]}
    assert groups["pue_both"] == "pue"  # the first non-blank group of the variant's rows
    assert groups["gpu_capex_x0.8"] == groups["gpu_capex_x1.5"] == "chip capex"


@pytest.mark.parametrize("variant", list(HAND_EDITS))
def test_variant_equals_hand_edited_case(good_sweep: dict, direct_objectives: dict, variant: str) -> None:
    swept = objectives(good_sweep["payload"])
    assert swept[variant] == pytest.approx(direct_objectives[variant], rel=1e-7)


def test_variants_move_the_objective_the_expected_way(good_sweep: dict) -> None:
    rows = {row["case"]: row for row in good_sweep["payload"]["variants"]}
    base = rows["base"]["objective_musd"]
    assert rows["base"]["delta_musd"] == 0
    for name, row in rows.items():
        assert row["delta_musd"] == pytest.approx(row["objective_musd"] - base, abs=1e-6), name
    assert rows["gpu_capex_x1.5"]["delta_musd"] > 0 > rows["gpu_capex_x0.8"]["delta_musd"]
    assert rows["site_capex_plus3"]["delta_musd"] > 0
    assert rows["high_p3_flat"]["delta_musd"] < 0
    assert rows["discount_10pct"]["delta_musd"] < 0
    assert rows["pue_both"]["delta_musd"] > 0
    assert rows["south_om"]["delta_musd"] >= 0


def test_sweep_run_folder_has_table_and_tornado(good_sweep: dict) -> None:
    out = good_sweep["out"]
    for name in ("variants.csv", "tornado.png", "index.html"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    assert (out / "tornado.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = pd.read_csv(out / "variants.csv", keep_default_na=False)
    assert list(table["case"]) == list(HAND_EDITS)
    for column in ("objective_musd", "delta_musd", "status", "mip_gap", "error"):
        assert column in table.columns
    # The contract's results table has each variant's time (timings.csv too, as in compare's folder).
    timings = pd.read_csv(out / "timings.csv", keep_default_na=False)
    assert list(timings.columns) == ["case", "seconds"] and list(timings["case"]) == list(HAND_EDITS)
    assert table["seconds"].tolist() == timings["seconds"].tolist() and (table["seconds"] > 0).all()
    swept = objectives(good_sweep["payload"])
    row: Any  # a named tuple of the row's cells (pandas-stubs: each one any scalar)
    for row in table.itertuples():
        assert float(row.objective_musd) == pytest.approx(swept[row.case], rel=1e-8)
    assert not [p for p in good_sweep["root"].iterdir() if p.name.startswith(".")]
    assert (out / "sweep.csv").read_text() == SWEEP_HEADER + GOOD_ROWS
    fingerprint = load_case(good_sweep["case_dir"])[0].fingerprint
    assert (out / "inputs_fingerprint.txt").read_text() == f"sha256 {fingerprint}\n"
    assert json.loads((out / "model.json").read_text())["name"] == "phased"
    fingerprints = dict(zip(table["case"], table["fingerprint"], strict=True))
    assert fingerprints.pop("base") == fingerprint
    assert len(set(fingerprints.values()) | {fingerprint}) == len(HAND_EDITS)  # every variant its own


def test_each_solved_variant_has_its_plan_tables(good_sweep: dict, cli: Cli, tmp_path: Path) -> None:
    """plans/<n>-<variant>/ holds the tables a solve folder has, numbered in sweep order; each
    variant's cost table adds up to its objective in variants.csv. --no-plans leaves them out."""
    out = good_sweep["out"]
    table = pd.read_csv(out / "variants.csv", keep_default_na=False)
    folders = sorted(path.name for path in (out / "plans").iterdir())
    width = len(str(len(HAND_EDITS) - 1))
    assert folders == [f"{i:0{width}d}-{name}" for i, name in enumerate(HAND_EDITS)]
    row: Any  # a named tuple of the row's cells (pandas-stubs: each one any scalar)
    for folder, row in zip(folders, table.itertuples(), strict=True):
        plan = out / "plans" / folder
        assert {"builds.csv", "chips.csv", "dispatch.csv", "risk.csv"} <= {p.name for p in plan.iterdir()}
        costs = pd.read_csv(plan / "cost_by_scenario.csv", index_col=0)
        assert float(costs["total"].iloc[-1]) == pytest.approx(float(row.objective_musd), rel=1e-8)
        assert float(row.expected_cost_musd) == pytest.approx(float(row.objective_musd), rel=1e-12)  # no CVaR
        assert row.within_mip_gap in (True, "True")
        assert float(row.bound_musd) <= float(row.objective_musd) * (1 + 1e-9)
        summary = json.loads((plan / "summary.json").read_text())
        assert summary["objective_musd"] == pytest.approx(float(row.objective_musd), rel=1e-8)
        assert summary["fingerprint"] == row.fingerprint
    sweep = good_sweep["root"] / "sweep.csv"
    lean = tmp_path / "lean"
    result = cli("sweep", good_sweep["case_dir"], sweep, "--workers", "1", "--mip-gap", "0", "--no-plans",
                 "--out", lean)
    assert result.exit_code == 0, result.output
    assert not (lean / "plans").exists()
    def without_time(folder: Path) -> pd.DataFrame:
        return pd.read_csv(folder / "variants.csv", keep_default_na=False).drop(columns="seconds")

    pd.testing.assert_frame_equal(without_time(lean), without_time(out))


@pytest.mark.parametrize(("variants", "first", "last"), [(10, "0-base", "9-v9"), (11, "00-base", "10-v10")])
def test_plan_folders_are_padded_to_the_widest_number(variants: int, first: str, last: str) -> None:
    from planner.sweep_report import plan_folder_names

    names = ["base", *(f"v{i}" for i in range(1, variants))]
    folders = list(plan_folder_names(names).values())
    assert (folders[0], folders[-1]) == (first, last) and folders == sorted(folders)


def test_the_variants_table_keeps_each_figure_of_the_summary_apart() -> None:
    """A risk-averse variant: objective (expected + weight x CVaR), expected cost, bound, and a
    plan within the gap asked but not proven optimal, each in its own column."""
    from planner.formulation.objective import COST_COMPONENTS
    from planner.sweep import VariantOutcome
    from planner.sweep_report import variants_table

    summary = {
        "status": "optimal", "stages": [], "mip_gap": 0.004, "objective_musd": 130.0,
        "expected_cost_musd": 100.0, "bound_musd": 129.5, "within_mip_gap": True, "proven_optimal": False,
        "cost_breakdown_musd": dict.fromkeys(COST_COMPONENTS, 1.0), "fingerprint": "f",
        "risk": {m: {"expected": float(i)} for i, m in enumerate(
            ("stranded_capital_musd_peak", "idle_pflops_share_peak", "empty_shell_mw_peak",
             "unused_take_or_pay_mwh_total"))},
    }
    row = variants_table([VariantOutcome("base", "", summary, None, 1.0)]).iloc[0]
    assert (row["objective_musd"], row["expected_cost_musd"], row["bound_musd"]) == (130.0, 100.0, 129.5)
    stranded = ["stranded_capital_musd_peak_expected", "idle_pflops_share_peak_expected",
                "empty_shell_mw_peak_expected", "unused_take_or_pay_mwh_total_expected"]
    assert row[stranded].tolist() == [0.0, 1.0, 2.0, 3.0] and row["seconds"] == 1.0
    assert bool(row["within_mip_gap"]) and row["capex_musd"] == 3.0 and row["mip_gap"] == 0.004


def test_money_unit_is_billions_for_large_cases_only() -> None:
    assert money_unit(58.2, float("nan")) == MILLIONS
    assert money_unit(104_342.9, 98_000.0) == BILLIONS
    assert money_unit(-10_000.0) == BILLIONS
    assert money_unit(9_999.9, None) == MILLIONS
    assert money_unit(float("nan")) == MILLIONS
    assert money_unit() == MILLIONS
    assert BILLIONS(104_342.9) == "104.343" and MILLIONS(9.9855, 2) == "9.99"


def test_overwrite_never_deletes_the_sweep_file(cli: Cli, tiny_case_dir: Path, tmp_path: Path) -> None:
    """The sweep file kept inside an earlier run folder: --overwrite of that folder is refused."""
    out = tmp_path / "run"
    first = tmp_path / "sweep.csv"
    first.write_text(SWEEP_HEADER + "cheap_gpu,,chips.csv,capex_usd,chip=gpu,scale,0.5\n")
    assert cli("sweep", tiny_case_dir, first, "--workers", "1", "--out", out).exit_code == 0
    kept = out / "my-edits.csv"
    kept.write_text(first.read_text())
    result = cli("sweep", tiny_case_dir, kept, "--workers", "1", "--out", out, "--overwrite")
    assert result.exit_code == 2
    assert squash("does not hold the input") in squash(result.stderr)
    assert kept.read_text() == first.read_text()


def test_a_bad_scheduler_address_is_bad_input(cli: Cli, tiny_case_dir: Path, tmp_path: Path) -> None:
    sweep = tmp_path / "sweep.csv"
    sweep.write_text(SWEEP_HEADER + "cheap_gpu,,chips.csv,capex_usd,chip=gpu,scale,0.5\n")
    out = tmp_path / "run"
    result = cli("sweep", tiny_case_dir, sweep, "--scheduler", "notaurl", "--json", "--out", out)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    payload = json.loads(result.stdout)
    assert payload["status"] == "input_error"
    assert payload["problems"][0]["file"] == "--scheduler"
    assert "Dask scheduler" in payload["problems"][0]["expected"]
    assert not out.exists()


@pytest.mark.parametrize("reply", [None, b"HTTP/1.1 400 Bad Request\r\n\r\n" * 8])
def test_a_port_where_something_else_listens_is_not_a_scheduler(
    cli: Cli, tiny_case_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reply: bytes | None
) -> None:
    """A service that never sends Dask's handshake (an HTTP server) made the sweep wait forever;
    one that answers with other bytes (a proxy) read as a frame of exabytes: "out of memory: the
    model does not fit". Both are a bad --scheduler, said within the timeout (1 s here)."""
    import socket
    import threading

    import planner.parallel

    monkeypatch.setattr(planner.parallel, "SCHEDULER_TIMEOUT_S", 1.0)
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def answer() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            held.append(conn)
            if reply is not None:
                conn.sendall(reply)

    threading.Thread(target=answer, daemon=True).start()
    sweep = tmp_path / "sweep.csv"
    sweep.write_text(SWEEP_HEADER + "cheap_gpu,,chips.csv,capex_usd,chip=gpu,scale,0.5\n")
    out = tmp_path / "run"
    address = f"tcp://127.0.0.1:{server.getsockname()[1]}"
    try:
        result = cli("sweep", tiny_case_dir, sweep, "--scheduler", address, "--json", "--out", out)
    finally:
        server.close()
        for conn in held:
            conn.close()
    assert result.exit_code == 2, result.output
    problem = json.loads(result.stdout)["problems"][0]
    assert problem["file"] == "--scheduler" and "did not answer as one" in problem["expected"]
    assert not out.exists()


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:99999", "127.0.0.1:0", "tcp://host:abc"])
def test_a_scheduler_port_out_of_range_is_refused_at_once(
    cli: Cli, tiny_case_dir: Path, tmp_path: Path, address: str
) -> None:
    """Dask would try such an address for 20 s before saying it cannot connect."""
    sweep = tmp_path / "sweep.csv"
    sweep.write_text(SWEEP_HEADER + "cheap_gpu,,chips.csv,capex_usd,chip=gpu,scale,0.5\n")
    out = tmp_path / "run"
    started = time.monotonic()
    result = cli("sweep", tiny_case_dir, sweep, "--scheduler", address, "--json", "--out", out)
    assert time.monotonic() - started < 10
    assert result.exit_code == 2, result.output
    problem = json.loads(result.stdout)["problems"][0]
    assert problem["file"] == "--scheduler" and "port from 1 to 65535" in problem["expected"]
    assert not out.exists()


def test_sweep_console_output(cli: Cli, tiny_case_dir: Path, tmp_path: Path) -> None:
    sweep = tmp_path / "small.csv"
    sweep.write_text(SWEEP_HEADER + "cheap_gpu,,chips.csv,capex_usd,chip=gpu,scale,0.5\n"
                     "bad,,chips.csv,capex_usd,chip=tpu,scale,2\n")
    result = cli("sweep", tiny_case_dir, sweep, "--workers", "1", "--out", tmp_path / "run")
    assert result.exit_code == 1
    text = squash(result.stdout)
    assert "Sweepvariants" in text
    assert "objective$M" in text  # a small case reads in $M, not 0.0xx $B
    assert "cheap_gpu" in text and "badfailed" in text
    assert squash("small.csv, row 3, column where: value 'chip=tpu'") in text
    assert squash(str(tmp_path / "run")) in text


def test_variant_and_group_names_with_square_brackets_are_printed_as_written(
    cli: Cli, tiny_case_dir: Path, tmp_path: Path
) -> None:
    """rich read ``[v2]`` in a name as a style tag and dropped it; ``[/high]`` raised MarkupError
    after every variant was solved, and the internal-error handler then ended in a traceback."""
    sweep = tmp_path / "brackets.csv"
    sweep.write_text(
        SWEEP_HEADER
        + "capex[/high],chip capex [v2],chips.csv,capex_usd,chip=gpu,scale,1.2\n"
        + "low [v2],capex [musd/MW],chips.csv,capex_usd,chip=gpu,scale,0.8\n"
    )
    out = tmp_path / "run[v2]"
    result = cli("sweep", tiny_case_dir, sweep, "--workers", "1", "--out", out)
    assert result.exit_code == 0, result.output
    cells = [squash(line).split("│") for line in result.stdout.splitlines() if line.startswith("│")]
    rows = {cell[1]: cell[2] for cell in cells}
    assert rows == {"base": "", "capex[/high]": "chipcapex[v2]", "low[v2]": "capex[musd/MW]"}
    assert_mentions(result.stdout, f"Run folder: {out}")


def test_a_failed_variant_with_square_brackets_is_named_as_written(
    cli: Cli, tiny_case_dir: Path, tmp_path: Path
) -> None:
    sweep = tmp_path / "brackets.csv"
    sweep.write_text(SWEEP_HEADER + "bad[/x],grp[v2],chips.csv,capex_usd,chip=tpu,scale,2\n")
    result = cli("sweep", tiny_case_dir, sweep, "--workers", "1", "--out", tmp_path / "run")
    assert result.exit_code == 1, result.output
    assert_mentions(result.stdout, "│bad[/x]│grp[v2]│failed│", "bad[/x] failed:", "chip=tpu")


# --------------------------------------------------------------------------------------------
# failing variants
# --------------------------------------------------------------------------------------------


def test_error_rows_fail_only_their_variant(error_sweep: dict, good_sweep: dict) -> None:
    assert error_sweep["code"] == 1
    rows = {row["case"]: row for row in error_sweep["payload"]["variants"]}
    assert list(rows) == ["base", "gpu_capex_x1.5", *BAD_ROWS, "south_om"]
    good = objectives(good_sweep["payload"])
    for name in ("base", "gpu_capex_x1.5", "south_om"):
        assert rows[name]["status"] == "optimal"
        assert rows[name]["objective_musd"] == pytest.approx(good[name], rel=1e-9)
    for name in BAD_ROWS:
        assert rows[name]["status"] == "failed"
        assert rows[name]["objective_musd"] is None
        assert rows[name]["error"]
    plans = {path.name.split("-", 1)[1] for path in (error_sweep["root"] / "run" / "plans").iterdir()}
    assert plans == {"base", "gpu_capex_x1.5", "south_om"}  # a failed variant has no plan


@pytest.mark.parametrize(
    "name",
    [
        name
        for name in BAD_ROWS
    ],
)
def test_error_is_reported_with_the_sweep_row(error_sweep: dict, name: str) -> None:
    error = {row["case"]: row["error"] for row in error_sweep["payload"]["variants"]}[name]
    for part in BAD_ROWS[name][1]:
        assert squash(part) in squash(error), (part, error)


def test_invalid_edit_reports_the_loader_problem(error_sweep: dict) -> None:
    """What the loader says about the edited input reaches the user (file, row, column, value)."""
    error = {row["case"]: row["error"] for row in error_sweep["payload"]["variants"]}["negative_pue"]
    assert "sites.csv" in error and "pue" in error and "-1" in error


def test_a_variant_of_several_rows_names_the_rows_that_made_the_input_invalid(
    cli: Cli, tiny_case_dir: Path, tmp_path: Path
) -> None:
    """The rows whose edits gave the cell the loader complains about its value, not every row of
    the variant; every row where the complaint is about no cell an edit wrote."""
    sweep = tmp_path / "multi.csv"
    sweep.write_text(
        SWEEP_HEADER
        + "one,,chips.csv,capex_usd,,scale,1.1\n"  # row 2: fine
        + "one,,sites.csv,pue,site=north,set,-1\n"  # row 3: pue < 1
        + "two,,sites.csv,pue,site=north,set,0.5\n"  # row 4: pue < 1
        + "two,,chips.csv,capex_usd,,scale,1.1\n"  # row 5: fine
        + "two,,chips.csv,kw,chip=gpu,set,-2\n"  # row 6: kw <= 0
        + "three,,chips.csv,capex_usd,,scale,1.1\n"  # row 7: fine
        + "three,,scenarios.csv,probability,scenario=high,set,0.9\n"  # row 8: sum above 1
        + "four,,sites.csv,existing_mw,site=north,set,25\n"  # row 9: existing_mw 25 of 30
        + "four,,chips.csv,capex_usd,,scale,1.1\n"  # row 10: fine
        + "four,,sites.csv,max_mw,site=north,set,20\n"  # row 11: max_mw now below existing_mw
        + "five,,sites.csv,max_mw,site=north,set,1\n"  # row 12: below existing_mw 2
        + "five,,chips.csv,capex_usd,,scale,1.1\n"  # row 13: fine
        + "six,,chips.csv,capex_usd,,scale,1.1\n"  # row 14: fine
        + "six,,parameters.csv,value,name=hours_per_year,set,1e-30\n"  # row 15: energy rows vanish
        + "seven,,sites.csv,existing_mw,site=south,set,5\n"  # row 16: fine (south holds 20)
        + "seven,,sites.csv,existing_mw,site=north,set,40\n"  # row 17: north holds 30
        + "seven,,sites.csv,max_mw,site=south,scale,2\n"  # row 18: fine
        + "eight,,parameters.csv,value,name=discount_rate,scale,1.5\n"  # row 19: fine
        + "eight,,parameters.csv,value,name=load_factor,set,2\n"  # row 20: above 1 (a default row)
        + "nine,,sites.csv,pue,site=north,set,0.5\n"  # row 21: replaced by row 22
        + "nine,,sites.csv,pue,site=north,set,0.9\n"  # row 22: pue < 1
        + "ten,,sites.csv,pue,site=north,set,2\n"  # row 23: fine alone
        + "ten,,sites.csv,pue,site=north,add,-1.5\n"  # row 24: 2 - 1.5 < 1
    )
    result = cli("sweep", tiny_case_dir, sweep, "--workers", "1", "--json", "--out", tmp_path / "run")
    assert result.exit_code == 1, result.output
    errors = {row["case"]: row["error"] for row in json.loads(result.stdout)["variants"]}
    assert errors["one"].startswith("the edit of multi.csv row 3 makes the input invalid:\nsites.csv")
    assert errors["two"].startswith("the edits of multi.csv rows 4, 6 make the input invalid:\n")
    assert "kw" in errors["two"] and "pue" in errors["two"]
    assert errors["three"].startswith("the edit of multi.csv row 8 makes the input invalid:\nscenarios.csv")
    assert errors["four"].startswith("the edits of multi.csv rows 9, 11 make the input invalid:\n")
    assert errors["five"].startswith("the edit of multi.csv row 12 makes the input invalid:\n")
    assert "existing_mw not above max_mw (1)" in errors["five"]
    # HiGHS's limits are checked on the model's numbers, products of several inputs.
    assert errors["six"].startswith("the edits of multi.csv rows 14, 15 make the input invalid:\n")
    # The rows that wrote the very cell: not another site's edit of the same column, nor another
    # parameter's edit of parameters.csv's value column, nor a value a later set replaced.
    lead = "the edit of multi.csv row 17 makes the input invalid:\nsites.csv, row 2,"
    assert errors["seven"].startswith(lead)
    assert errors["eight"].startswith("the edit of multi.csv row 20 makes the input invalid:\n")
    assert errors["nine"].startswith("the edit of multi.csv row 22 makes the input invalid:\n")
    assert errors["ten"].startswith("the edits of multi.csv rows 23, 24 make the input invalid:\n")


def test_exit_1_when_only_one_variant_fails(cli: Cli, tiny_case_dir: Path, tmp_path: Path) -> None:
    sweep = tmp_path / "one-bad.csv"
    sweep.write_text(SWEEP_HEADER + "ok,,chips.csv,capex_usd,chip=gpu,scale,1.1\n"
                     "bad,,power.csv,mw,contract=nope,scale,2\n")
    code, payload = run_sweep_json(cli, tiny_case_dir, sweep, tmp_path / "run", "--workers", "1")
    assert code == 1
    assert [row["status"] for row in payload["variants"]] == ["optimal", "optimal", "failed"]


def test_the_table_has_the_same_columns_when_every_variant_failed(error_sweep: dict) -> None:
    """variants.csv and the --json records have one shape, whichever variants failed."""
    failed = [VariantOutcome(name, "", None, "no plan: infeasible", 0.1) for name in (BASE, "x", "y")]
    every_failed = variants_table(failed)
    for record in error_sweep["payload"]["variants"]:  # a sweep with solved and failed variants
        assert list(record) == list(every_failed.columns)
    assert every_failed["status"].tolist() == ["failed"] * 3
    assert every_failed["objective_musd"].isna().all() and every_failed["delta_musd"].isna().all()


def test_a_plan_on_mean_variants_gap_is_that_of_its_mean_demand_mip(
    exact_config: ExactConfig, tiny_files: Mapping[str, str]
) -> None:
    """Its second solve is exact (gap 0) once the mean-demand MIP has fixed the long-lead plan;
    the table's gap is the largest of the two, as in compare, not the second's alone."""
    outcome = solve_variant(BASE, "", dict(tiny_files), exact_config("plan-on-mean"))
    assert variants_table([outcome])["mip_gap"].tolist() == [0.0]
    assert outcome.summary is not None
    outcome.summary["stages"][0]["mip_gap"] = 0.0046  # as the flagship's mean-demand MIP stopped
    assert variants_table([outcome])["mip_gap"].tolist() == [0.0046]


def test_a_change_within_the_mip_gaps_is_given_as_a_range_and_flagged(
    exact_config: ExactConfig, tiny_files: Mapping[str, str]
) -> None:
    """A MIP stopped at its gap bounds its optimum between its bound and its plan: the change of
    the optima lies between (variant bound - base plan) and (variant plan - base bound). The
    console names the variants whose change may have either sign."""
    solved = solve_variant(BASE, "", dict(tiny_files), exact_config())
    assert solved.summary is not None
    outcomes = []
    for name, objective, bound in ((BASE, 100.0, 95.0), ("unsure", 101.0, 98.0), ("dearer", 110.0, 108.0)):
        summary = {**solved.summary, "objective_musd": objective, "bound_musd": bound}
        outcomes.append(VariantOutcome(name, "", summary, None, 0.1))
    outcomes.append(VariantOutcome("no_bound", "", {**solved.summary, "bound_musd": None}, None, 0.1))
    # Proven optimal up to round-off: a range of 1e-11 around 0 is no doubt about the sign.
    round_off = {**solved.summary, "objective_musd": 100.0, "bound_musd": 100.0 - 1e-11}
    outcomes.append(VariantOutcome("round_off", "", round_off, None, 0.1))
    # Plan-on-mean whose mean-demand MIP stopped at its gap: another plan would cost another amount.
    stage = {"stage": "mean-demand plan", "status": "optimal", "mip_gap": 0.004}
    mean = {**solved.summary, "objective_musd": 101.0, "bound_musd": 101.0, "stages": [stage]}
    outcomes.append(VariantOutcome("mean_unproven", "", mean, None, 0.1))
    table = variants_table(outcomes)
    ranges = {row["case"]: [row["delta_low_musd"], row["delta_high_musd"]] for _, row in table.iterrows()}
    assert ranges[BASE] == [0.0, 0.0]
    assert ranges["unsure"] == [-2.0, 6.0] and table["delta_musd"].tolist()[1] == 1.0
    assert ranges["dearer"] == [8.0, 15.0]
    assert all(math.isnan(value) for value in ranges["no_bound"] + ranges["mean_unproven"])
    assert ranges["round_off"][0] < 0 < ranges["round_off"][1]
    console = Console(record=True, width=300)
    render_sweep(table, console, "run")
    text = console.export_text()
    assert "the change against base may have either sign ($M): unsure between -2.000 and 6.000 (" in text
    assert "dearer between" not in text and "base between" not in text and "round_off between" not in text
    # Solved to gap 0, the same model: a range of round-off around 0.
    exactly = variants_table([solved, VariantOutcome("same", "", solved.summary, None, 0.1)])
    bounds = [*exactly["delta_low_musd"], *exactly["delta_high_musd"]]
    assert bounds == pytest.approx([0.0] * 4, abs=1e-9)


# --------------------------------------------------------------------------------------------
# sweep files of the wrong shape: exit 2, nothing run, no run folder
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("case,group,file,column,where,value\nx,,chips.csv,capex_usd,,2\n",
         ["bad-sweep.csv", "column op", "missing"]),
        ("case,file,column,op\nx,chips.csv,capex_usd,scale\n", ["bad-sweep.csv", "value"]),
        (SWEEP_HEADER + "base,,chips.csv,capex_usd,,scale,2\n", ["bad-sweep.csv", "row 2", "base"]),
        (SWEEP_HEADER + ",,chips.csv,capex_usd,,scale,2\n", ["bad-sweep.csv", "row 2", "case"]),
        ("case,file,column,op,value,colour\nx,chips.csv,capex_usd,scale,2,red\n",
         ["bad-sweep.csv", "colour"]),
        ("case,group,file,column,where,op,value,value\nx,,chips.csv,capex_usd,,scale,0.5,0.7\n",
         ["bad-sweep.csv", "row 1", "value", "appears twice"]),
        (SWEEP_HEADER + "x,,chips.csv,capex_usd,,scale,0,5\n", ["bad-sweep.csv", "row 2", "5", "outside"]),
        # 'capex-80 ' (or a no-break space) would have merged its edits into 'capex-80' unseen
        (SWEEP_HEADER + "capex-80,c,chips.csv,capex_usd,,scale,0.8\n"
         "capex-80 ,c,chips.csv,capex_usd,,scale,0.5\n"
         "capex-80\u00a0,c ,chips.csv,capex_usd,,scale,0.5\n",
         ["3 problem(s)", "row 3, column case: value 'capex-80 '", "row 4, column case",
          "row 4, column group", "a variant name without leading or trailing spaces",
          "a group name without"]),
        # ' base' is a padded name, one problem: not also a variant called 'base'
        (SWEEP_HEADER + " base,,chips.csv,capex_usd,,scale,0.8\n",
         ["1 problem(s)", "row 2, column case: value ' base'", "without leading or trailing spaces"]),
    ],
    ids=["no-op-column", "no-value-column", "variant-named-base", "no-variant-name", "unknown-column",
         "repeated-column", "decimal-comma-spills-into-an-eighth-cell", "names-padded-with-spaces",
         "base-padded-with-a-space"],
)
def test_malformed_sweep_file_is_exit_2(
    cli: Cli, tiny_case_dir: Path, tmp_path: Path, text: str, expected: list[str]
) -> None:
    sweep = tmp_path / "bad-sweep.csv"
    sweep.write_text(text)
    out = tmp_path / "run"
    result = cli("sweep", tiny_case_dir, sweep, "--workers", "1", "--out", out)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for part in expected:
        assert squash(part) in squash(result.stderr), (part, result.stderr)
    assert not out.exists()


def test_a_bad_case_and_a_bad_sweep_file_are_reported_together(
    cli: Cli, tiny_case_dir: Path, tmp_path: Path
) -> None:
    case_dir = tmp_path / "case"
    shutil.copytree(tiny_case_dir, case_dir)
    chips = case_dir / "chips.csv"
    chips.write_text(chips.read_text().replace("gpu,2,1.2,40000,", "gpu,2,1.2,-40000,"))
    sweep = tmp_path / "bad-sweep.csv"
    sweep.write_text("case,file,column,op,value,colour\nx,chips.csv,capex_usd,scale,2,red\n")
    result = cli("sweep", case_dir, sweep, "--workers", "1", "--out", tmp_path / "run")
    assert result.exit_code == 2, result.output
    assert_mentions(result.stderr, "2 problem(s)", "chips.csv, row", "-40000", "bad-sweep.csv", "colour")


def test_a_cell_outside_the_header_does_not_hide_the_rows_other_problems(tmp_path: Path) -> None:
    """A stray cell (a decimal comma) was reported alone: the variant named 'base' and the blank
    case of the rows above it only showed up once it was fixed."""
    sweep = tmp_path / "sweep.csv"
    sweep.write_text(
        SWEEP_HEADER
        + "base,,chips.csv,kw,,scale,2\n"
        + ",,chips.csv,kw,,scale,2\n"
        + "x,,chips.csv,kw,,scale,0,5\n"
    )
    with pytest.raises(InputError) as caught:
        read_sweep(sweep)
    assert [(p.row, p.column, p.value) for p in caught.value.problems] == [
        (2, "case", "base"),
        (3, "case", ""),
        (4, None, "5"),
    ]


def test_a_sweep_file_without_a_case_column_says_so_once(tmp_path: Path) -> None:
    """Its rows are not each reported as having a blank case as well."""
    sweep = tmp_path / "sweep.csv"
    sweep.write_text("file,column,op,value\nchips.csv,kw,scale,2\nchips.csv,kw,scale,3\n")
    with pytest.raises(InputError) as caught:
        read_sweep(sweep)
    (problem,) = caught.value.problems
    assert (problem.row, problem.column) == (None, "case")


def test_a_missing_sweep_file_is_named_with_its_folder(tmp_path: Path) -> None:
    """It was labelled by its file name alone ("edits.csv")."""
    path = tmp_path / "nowhere" / "edits.csv"
    with pytest.raises(InputError) as caught:
        read_sweep(path)
    (problem,) = caught.value.problems
    assert (problem.file, problem.expected) == (str(path), "a readable CSV file (No such file or directory)")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes need POSIX")
def test_a_sweep_file_that_is_a_pipe_is_exit_2_not_a_hang(
    cli: Cli, tiny_case_dir: Path, tmp_path: Path
) -> None:
    """Reading a named pipe waited for a writer forever; /dev/zero was read until memory ran out."""
    pipe = tmp_path / "edits.csv"
    os.mkfifo(pipe)
    result = cli("sweep", tiny_case_dir, pipe, "--workers", "1", "--out", tmp_path / "run")
    assert result.exit_code == 2, result.output
    assert_mentions(result.stderr, "edits.csv", "a regular file", "pipe")
    assert not (tmp_path / "run").exists()


# Rows whose edit cannot be read: their variant fails with every problem of its rows, named by row;
# the other variants still run.
UNREADABLE_ROWS = {
    "bad_op": (
        "chips.csv,capex_usd,,multiply,2", ["row 3", "op", "multiply", "scale, add, set or scale_per_year"]
    ),
    "not_a_number": ("chips.csv,capex_usd,,scale,abc", ["row 4", "value", "abc", "plain decimal"]),
    "nan": ("chips.csv,capex_usd,,scale,nan", ["row 5", "value", "nan"]),
    "blank_op": ("chips.csv,capex_usd,,,2", ["row 6", "op", "every sweep row needs one"]),
    "where_without_equals": ("chips.csv,capex_usd,chip,scale,2", ["row 7", "where", "col=value"]),
    "not_plain": ("chips.csv,capex_usd,,scale,1_000", ["row 8", "1_000", "plain decimal"]),
}


def test_unreadable_rows_fail_only_their_variant(cli: Cli, tiny_case_dir: Path, tmp_path: Path) -> None:
    sweep = tmp_path / "sweep.csv"
    sweep.write_text(
        SWEEP_HEADER
        + "ok,,chips.csv,capex_usd,chip=gpu,scale,1.1\n"
        + "".join(f"{name},,{row}\n" for name, (row, _) in UNREADABLE_ROWS.items())
        + "two_groups,g1,chips.csv,capex_usd,chip=gpu,scale,2\n"
        + "two_groups,g2,chips.csv,capex_usd,chip=asic,scale,2\n"
    )
    code, payload = run_sweep_json(cli, tiny_case_dir, sweep, tmp_path / "run", "--workers", "1")
    assert code == 1
    rows = {row["case"]: row for row in payload["variants"]}
    assert rows["base"]["status"] == rows["ok"]["status"] == "optimal"
    for name, (_, expected) in UNREADABLE_ROWS.items():
        assert rows[name]["status"] == "failed"
        assert_mentions(rows[name]["error"], "sweep.csv", *expected)
    assert_mentions(rows["two_groups"]["error"], "row 10", "group", "g2", "one group per variant")


def test_a_variant_lists_every_problem_of_its_rows(cli: Cli, tiny_case_dir: Path, tmp_path: Path) -> None:
    sweep = tmp_path / "sweep.csv"
    sweep.write_text(SWEEP_HEADER + "a,,chips.csv,capex_usd,,multiply,2\na,,chips.csv,capex_usd,,scale,x\n")
    code, payload = run_sweep_json(cli, tiny_case_dir, sweep, tmp_path / "run", "--workers", "1")
    assert code == 1
    error = payload["variants"][1]["error"]
    assert_mentions(error, "sweep.csv, row 2, column op", "sweep.csv, row 3, column value")


def test_a_sweep_without_variants_warns(cli: Cli, tiny_case_dir: Path, tmp_path: Path) -> None:
    sweep = tmp_path / "empty-sweep.csv"
    sweep.write_text(SWEEP_HEADER)
    result = cli("sweep", tiny_case_dir, sweep, "--workers", "1", "--out", tmp_path / "run")
    assert result.exit_code == 0, result.output
    assert_mentions(result.output, "warning", "empty-sweep.csv has no variant rows")


def _sweep_edits(tmp_path: Path, rows: str) -> dict[str, list]:
    """Each variant's edits, read from a sweep file of ``rows`` (under SWEEP_HEADER)."""
    sweep = tmp_path / "sweep.csv"
    sweep.write_text(SWEEP_HEADER + rows)
    return {variant.name: variant.edits for variant in read_sweep(sweep)}


def _edited_rows(files: dict[str, str], edits: list, file: str) -> list[str]:
    """``file``'s data rows once ``edits`` are applied to ``files``."""
    return apply_edits(files, edits, "sweep.csv")[file].splitlines()[1:]


def test_where_compares_ids_as_text_and_numeric_columns_as_numbers(tmp_path: Path) -> None:
    """Period ids ``2026.1`` and ``2026.10`` are different ids; ``kw=0.80`` is ``kw`` 0.8."""
    files = {
        "demand.csv": "period,workload,eflops\n2026.1,w,1\n2026.10,w,2\n",
        "chips.csv": "chip,pflops,kw,capex_usd,life_years,note\na,1,0.8,10,4,\nb,1,1.2,10,4,old\n",
    }
    edits = _sweep_edits(
        tmp_path,
        "month1,,demand.csv,eflops,period=2026.1,scale,10\n"
        + "cheap_a,,chips.csv,capex_usd,kw=0.80,set,5\n"
        + "no_such_period,,demand.csv,eflops,period=2026.10000,scale,10\n"
        + "old_chips,,chips.csv,life_years,note=old,add,1\n",  # a note column, compared as text
    )
    assert _edited_rows(files, edits["month1"], "demand.csv") == ["2026.1,w,10.0", "2026.10,w,2"]
    assert _edited_rows(files, edits["cheap_a"], "chips.csv") == ["a,1,0.8,5.0,4,", "b,1,1.2,10,4,old"]
    assert _edited_rows(files, edits["old_chips"], "chips.csv") == ["a,1,0.8,10,4,", "b,1,1.2,10,5.0,old"]
    with pytest.raises(InputError, match="2026.10000"):
        apply_edits(files, edits["no_such_period"], "sweep.csv")


def test_where_reads_blank_and_absent_cells_as_their_default_and_booleans_as_booleans(tmp_path: Path) -> None:
    files = {
        "power.csv": "contract,site,kind,mw,price_usd_per_mwh,divisible\n"
        "q1,s,grid,10,50,TRUE\nq2,s,grid,20,50,\n",
        "demand.csv": "scenario,period,workload,eflops\n,p1,w,1\nhigh,p1,w,2\n",
        "parameters.csv": "name,value\ndiscount_rate,0.08\nunmet_penalty_musd_per_eflops_year,100\n",
    }
    variants = _sweep_edits(
        tmp_path,
        "divisible,,power.csv,mw,divisible=yes,set,5\n"  # TRUE is yes
        + "indivisible,,power.csv,mw,divisible=false,set,7\n"  # blank is the default, false
        + "no_lead,,power.csv,mw,lead_periods=0,scale,2\n"  # an absent optional column: its default
        + "base_demand,,demand.csv,eflops,scenario=base,set,3\n"  # blank scenario is base
        + "hours,,parameters.csv,value,name=hours_per_year,set,8000\n"  # an absent optional parameter
        + "load,,parameters.csv,value,name=load_factor,scale,0.5\n",
    )

    def edited_rows(variant: str, file: str) -> list[str]:
        return _edited_rows(files, variants[variant], file)

    assert edited_rows("divisible", "power.csv") == ["q1,s,grid,5.0,50,TRUE", "q2,s,grid,20,50,"]
    assert edited_rows("indivisible", "power.csv") == ["q1,s,grid,10,50,TRUE", "q2,s,grid,7.0,50,"]
    assert edited_rows("no_lead", "power.csv") == ["q1,s,grid,20.0,50,TRUE", "q2,s,grid,40.0,50,"]
    assert edited_rows("base_demand", "demand.csv") == [",p1,w,3.0", "high,p1,w,2"]
    assert edited_rows("hours", "parameters.csv")[-1] == "hours_per_year,8000.0"
    assert edited_rows("load", "parameters.csv")[-1] == "load_factor,0.5"


def test_where_ignores_spaces_around_equals_and_reads_integer_columns_as_numbers(tmp_path: Path) -> None:
    """``contract = q2`` is ``contract=q2`` (a spreadsheet user types spaces); ``lead_periods=1.0``
    is lead period 1, as ``kw=0.80`` is kw 0.8: integer columns compare as numbers too."""
    files = {
        "power.csv": "contract,site,kind,mw,price_usd_per_mwh,lead_periods\n"
        "q1,s,grid,10,50,1\nq2,s,grid,20,50,2\n",
    }
    edits = _sweep_edits(
        tmp_path,
        "spaced,,power.csv,mw,contract = q2 & site = s,set,5\n"
        + "lead_one,,power.csv,mw,lead_periods=1.0,scale,3\n",
    )
    assert _edited_rows(files, edits["spaced"], "power.csv") == ["q1,s,grid,10,50,1", "q2,s,grid,5.0,50,2"]
    assert _edited_rows(files, edits["lead_one"], "power.csv") == ["q1,s,grid,30.0,50,1", "q2,s,grid,20,50,2"]


def test_where_on_a_blank_cell_without_default_and_on_a_column_the_file_lacks(tmp_path: Path) -> None:
    """``note=`` (nothing after the sign) matches the chips whose note is blank: a note has no
    default, so blank is blank. ``colour=`` names a column chips.csv neither has nor may have: the
    row is an error naming that column (sweep row 3), not an edit of every chip whose missing
    colour reads as blank."""
    files = {"chips.csv": "chip,pflops,kw,capex_usd,life_years,note\na,1,0.8,10,4,\nb,1,1.2,10,4,old\n"}
    edits = _sweep_edits(
        tmp_path,
        "unnoted,,chips.csv,capex_usd,note=,set,5\n" + "colour,,chips.csv,capex_usd,colour=,set,5\n",
    )
    assert _edited_rows(files, edits["unnoted"], "chips.csv") == ["a,1,0.8,5.0,4,", "b,1,1.2,10,4,old"]
    with pytest.raises(InputError) as raised:
        apply_edits(files, edits["colour"], "sweep.csv")
    [problem] = raised.value.problems
    assert (problem.file, problem.row, problem.column, problem.value) == ("sweep.csv", 3, "where", "colour")
    assert problem.expected.startswith("a column of chips.csv (chip, ")


# --------------------------------------------------------------------------------------------
# parallel: processes and a real Dask cluster give the same table
# --------------------------------------------------------------------------------------------


def assert_same_variants(code: int, payload: dict, local_payload: dict) -> None:
    """Another way of running the same sweep gives the same variants, statuses, errors and optima."""
    assert code == 1
    local = local_payload["variants"]
    assert [row["case"] for row in payload["variants"]] == [row["case"] for row in local]
    for mine, theirs in zip(payload["variants"], local, strict=True):
        assert mine["status"] == theirs["status"]
        assert mine["error"] == theirs["error"]
        if theirs["objective_musd"] is not None:
            assert mine["objective_musd"] == pytest.approx(theirs["objective_musd"], rel=1e-8)


def test_two_worker_processes_give_the_same_results(error_sweep: dict, cli: Cli) -> None:
    root = error_sweep["root"]
    code, payload = run_sweep_json(cli, error_sweep["case_dir"], error_sweep["sweep"], root / "run-2",
                                   "--workers", "2")
    assert_same_variants(code, payload, error_sweep["payload"])


@pytest.fixture
def dask_cluster():
    distributed = pytest.importorskip("distributed")
    # Two threads: the worker is handed two solves at once, which highspy cannot run side by side.
    cluster = distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=True, host="127.0.0.1", dashboard_address=None
    )
    try:
        yield cluster
    finally:
        cluster.close()


def test_dask_scheduler_gives_the_same_results(
    error_sweep: dict, cli: Cli, dask_cluster: LocalCluster
) -> None:
    root = error_sweep["root"]
    code, payload = run_sweep_json(cli, error_sweep["case_dir"], error_sweep["sweep"], root / "run-dask",
                                   "--scheduler", dask_cluster.scheduler_address)
    assert_same_variants(code, payload, error_sweep["payload"])
    assert (root / "run-dask" / "variants.csv").is_file()


# --------------------------------------------------------------------------------------------
# optional columns: blank cells and columns left out of the file
# --------------------------------------------------------------------------------------------


def with_power_column(power_csv: str, column: str, values: dict[str, str]) -> str:
    """power.csv with one more column, blank except for ``values`` (by contract)."""
    lines = power_csv.strip().split("\n")
    out = [lines[0] + f",{column}"]
    for line in lines[1:]:
        out.append(line + "," + values.get(line.split(",")[0], ""))
    return "\n".join(out) + "\n"


def sweep_one(cli: Cli, case_dir: Path, row: str, out: Path) -> dict:
    sweep = out.parent / f"{out.name}.csv"
    sweep.write_text(SWEEP_HEADER + row + "\n")
    _code, payload = run_sweep_json(cli, case_dir, sweep, out, "--workers", "1")
    return {r["case"]: r for r in payload["variants"]}["v"]


def direct(write_case: CaseWriter, exact_config: ExactConfig, folder: Path, files: dict[str, str]) -> float:
    case, _ = load_case(write_case(folder, files))
    return solve_case(case, exact_config()).objective_musd


@pytest.mark.parametrize(
    "column, in_file, value",
    [("term_periods", True, "1"), ("min_take", False, "0.5")],
    ids=["blank-cell", "column-absent-from-file"],
)
def test_set_on_an_optional_column_blank_or_absent(
    cli: Cli,
    write_case: CaseWriter,
    exact_config: ExactConfig,
    tiny_files: Mapping[str, str],
    tmp_path: Path,
    column: str,
    in_file: bool,
    value: str,
) -> None:
    """`set` on a blank optional cell, or on an optional column the file lacks, solves exactly the
    case written by hand with that value."""
    assert (column in tiny_files["power.csv"]) is False
    files = {"power.csv": with_power_column(tiny_files["power.csv"], column, {})} if in_file else {}
    case_dir = write_case(tmp_path / "case", files)
    row = sweep_one(cli, case_dir, f"v,,power.csv,{column},contract=ppa_n,set,{value}", tmp_path / "run")
    power = with_power_column(tiny_files["power.csv"], column, {"ppa_n": value})
    expected = direct(write_case, exact_config, tmp_path / "hand", {"power.csv": power})
    assert row["error"] == ""
    assert row["objective_musd"] == pytest.approx(expected, rel=1e-7)


def test_add_to_a_blank_cell_uses_the_default(
    cli: Cli, write_case: CaseWriter, exact_config: ExactConfig, tiny_files: Mapping[str, str], tmp_path: Path
) -> None:
    """south's existing_mw is blank (default 0): adding 2 gives 2."""
    case_dir = write_case(tmp_path / "case")
    row = sweep_one(cli, case_dir, "v,,sites.csv,existing_mw,site=south,add,2", tmp_path / "run")
    sites = tiny_files["sites.csv"].replace("south,eu,20,2,,9,", "south,eu,20,2,2,9,")
    expected = direct(write_case, exact_config, tmp_path / "hand", {"sites.csv": sites})
    assert row["error"] == ""
    assert row["objective_musd"] == pytest.approx(expected, rel=1e-7)


# --------------------------------------------------------------------------------------------
# the sweep reads a case exactly as the loader does
# --------------------------------------------------------------------------------------------


def test_files_the_loader_ignores_are_no_input_to_a_sweep(
    cli: Cli, write_case: CaseWriter, exact_config: ExactConfig, tiny_files: Mapping[str, str], tmp_path: Path
) -> None:
    """A stray notes.csv in Latin-1 and a folder named old.csv are ignored by the loader (a
    warning); the sweep used to read every *.csv and stop with an internal error."""
    case_dir = write_case(tmp_path / "case")
    (case_dir / "notes.csv").write_bytes("site,remarque\nnorth,réseau\n".encode("latin-1"))
    (case_dir / "old.csv").mkdir()
    row = sweep_one(cli, case_dir, "v,,sites.csv,existing_mw,site=south,add,2", tmp_path / "run")
    sites = tiny_files["sites.csv"].replace("south,eu,20,2,,9,", "south,eu,20,2,2,9,")
    expected = direct(write_case, exact_config, tmp_path / "hand", {"sites.csv": sites})
    assert row["error"] == ""
    assert row["objective_musd"] == pytest.approx(expected, rel=1e-7)


@pytest.mark.parametrize("layout", ["leading", "trailing", "between"])
def test_blank_lines_are_layout_for_a_sweep_as_for_the_loader(
    cli: Cli,
    write_case: CaseWriter,
    exact_config: ExactConfig,
    tiny_files: Mapping[str, str],
    tmp_path: Path,
    layout: str,
) -> None:
    """Blank lines before the header, between rows or at the end of a file are skipped by the
    loader; a sweep used to take a leading one for the header and match blank ones as rows."""
    lines = tiny_files["sites.csv"].strip().split("\n")
    spaced = {
        "leading": ["", " ,", *lines],
        "trailing": [*lines, "", ",,"],
        "between": [lines[0], "", *lines[1:2], " ", *lines[2:]],
    }[layout]
    case_dir = write_case(tmp_path / "case", {"sites.csv": "\n".join(spaced) + "\n"})
    scaled = sweep_one(cli, case_dir, "v,,sites.csv,capex_musd_per_mw,,scale,0.5", tmp_path / "scaled")
    hand = "\n".join(
        [lines[0], *[_scaled_cell(line, lines[0], "capex_musd_per_mw", 0.5) for line in lines[1:]]]
    )
    expected = direct(write_case, exact_config, tmp_path / "hand", {"sites.csv": hand + "\n"})
    assert scaled["error"] == ""
    assert scaled["objective_musd"] == pytest.approx(expected, rel=1e-7)
    set_row = sweep_one(cli, case_dir, "v,,sites.csv,existing_mw,site=south,set,2", tmp_path / "set")
    assert set_row["error"] == ""


def _scaled_cell(line: str, header: str, column: str, factor: float) -> str:
    cells = line.split(",")
    at = header.split(",").index(column)
    cells[at] = repr(float(cells[at]) * factor)
    return ",".join(cells)


@pytest.mark.filterwarnings("error::UserWarning")
def test_any_variant_name_solves(cli: Cli, write_case: CaseWriter, tmp_path: Path) -> None:
    """Variant names are free text; they named a temporary folder, so "..", "." and a 300-character
    name failed with raw OS errors although their edits were fine (and that name, as a tornado
    label, collapsed the chart's axes: a matplotlib warning, an error here)."""
    case_dir = write_case(tmp_path / "case")
    names = ["..", ".", "x" * 300, "a/b", "ok"]
    sweep = tmp_path / "names.csv"
    sweep.write_text(SWEEP_HEADER + "".join(f"{n},,sites.csv,existing_mw,site=south,add,2\n" for n in names))
    code, payload = run_sweep_json(cli, case_dir, sweep, tmp_path / "run", "--workers", "1")
    assert code == 0
    rows = {row["case"]: row for row in payload["variants"]}
    assert [row["error"] for row in rows.values()] == [""] * (len(names) + 1)
    assert {rows[n]["objective_musd"] for n in names} == {rows["ok"]["objective_musd"]}


LONG_NAMES = (
    "𝔸" * 64,  # 256 bytes: one more than a file name takes
    "𝔸" * 64 + "x",  # the same first 256 bytes: its folders must not be the one above's
    *("x" * before + "𝔸" * 70 for before in range(1, 4)),  # every cut inside a 4-byte letter
    "あ" * 85,  # 255 bytes: exactly NAME_MAX
    "あ" * 86,
    "𠀀" * 80,  # a CJK letter of 4 bytes
    "x" * 255,
    "x" * 242,  # with 11 folders, exactly what "NN-<name>-replanned" leaves for the name
)


def test_long_non_ascii_variant_names_solve_and_name_their_folders_within_the_limit(
    cli: Cli, write_case: CaseWriter, tmp_path: Path
) -> None:
    """64 letters of 4 bytes failed their variant: "File name too long" (ENAMETOOLONG), the name cut
    to 100 characters (400 bytes) for its temporary case folder and to 80 for its plans/ folder.
    Every folder is written, the longest ones ``<n>-<variant>-replanned`` of a re-plan."""
    case_dir = write_case(tmp_path / "case")
    plan = tmp_path / "plan"
    assert cli("solve", case_dir, "--mip-gap", "0", "--out", plan).exit_code == 0
    sweep = tmp_path / "names.csv"
    sweep.write_text(
        SWEEP_HEADER + "".join(f"{n},,sites.csv,existing_mw,site=south,add,2\n" for n in LONG_NAMES),
        encoding="utf-8",
    )
    out = tmp_path / "run"
    frozen = ("--fix-plan", plan, "--fix-through", "p2", "--replan")  # tiny's plan parts from p3 on
    code, payload = run_sweep_json(cli, case_dir, sweep, out, "--workers", "1", *frozen)
    assert code == 0
    assert [row["case"] for row in payload["variants"]] == ["base", *LONG_NAMES]
    for row in payload["variants"]:
        assert (row["status"], row["replanned_status"], row["error"]) == ("optimal", "optimal", ""), row
    for _parent, subfolders, files in os.walk(out):
        for name in [*subfolders, *files]:
            encoded = os.fsencode(name)
            assert len(encoded) <= 255 and encoded.decode("utf-8") == name
    folders = sorted(path.name for path in (out / "plans").iterdir())
    assert len(folders) == 2 * (len(LONG_NAMES) + 1)  # every variant's and its re-plan's, none shared
    assert "01-" + "𝔸" * 60 in folders and "02-" + "𝔸" * 60 in folders
    assert f"10-{'x' * 242}-replanned" in folders and f"06-{'あ' * 80}" in folders
    for i, row in enumerate(payload["variants"]):
        (own,) = (f for f in folders if f.startswith(f"{i:02d}-") and not f.endswith("-replanned"))
        summary = json.loads((out / "plans" / own / "summary.json").read_text(encoding="utf-8"))
        assert summary["objective_musd"] == row["objective_musd"]
