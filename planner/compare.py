"""Compare planning strategies side by side, with EVPI and VSS.

- EVPI (expected value of perfect information) = phased cost - sum_w p[w] * (cost of scenario w
  solved alone with perfect foresight): what knowing the future in advance would be worth.
- VSS (value of the stochastic solution) = plan-on-mean cost - phased cost: what planning on
  the tree rather than on the mean forecast is worth.
Both are in expected discounted cost (a model's objective, unless it adds a CVaR term); they are
>= 0 up to the MIP gap when the phased model is risk neutral. When several phased (or
plan-on-mean) models are compared, the first risk-neutral one is the reference, whatever the
order of ``--model`` flags; a risk-averse one only when none is risk neutral.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from planner.case import Case
from planner.config import ModelConfig, load_model_config
from planner.idle_power import idle_power_figures
from planner.output import largest_mip_gap, range_holding, run_status
from planner.parallel import SolvedTask, default_workers, run_parallel, solve_task
from planner.unpowered import unpowered_figures

DEFAULT_MODELS = ("phased", "all-at-once", "plan-on-mean")


@dataclass
class Comparison:
    """Solved strategies (in the order asked) and the value-of-information figures."""

    case: Case
    strategies: dict[str, SolvedTask]
    configs: dict[str, ModelConfig]
    perfect_information: dict[str, SolvedTask] = field(default_factory=dict)
    evpi_musd: float | None = None
    vss_musd: float | None = None
    vss_unmet_demand_musd: float | None = None
    """Of VSS, the difference in expected unmet-demand penalty (plan-on-mean's less phased's): on the
    flagship most of VSS is demand the mean plan's buildings and power cannot serve, priced at
    ``unmet_penalty_musd_per_eflops_year``, not money spent on capacity."""
    evpi_range_musd: tuple[float, float] | None = None
    """Where EVPI lies given the solves' MIP gaps: each optimum is only known to lie between its
    bound and its plan (None with a risk-averse reference, whose bound is not one on expected cost)."""
    vss_range_musd: tuple[float, float] | None = None
    """Where VSS lies given the phased solve's MIP gap (plan-on-mean's cost is that of its plan)."""
    reference_models: dict[str, str] = field(default_factory=dict)
    """policy -> the compared model EVPI and VSS use (absent: the shipped model, run for them)."""
    reference_solves: dict[str, dict[str, Any]] = field(default_factory=dict)
    """policy -> how the shipped model run for EVPI and VSS alone ended (status, expected cost,
    gap, bound): a figure resting on a solve the comparison does not show says which."""

    def figures(self) -> pd.DataFrame:
        """One column per strategy, one row per figure (musd, MW, MWh, shares, EFLOPS-years)."""
        columns = {}
        for name, task in self.strategies.items():
            columns[name] = strategy_figures(self.case, task) if task.ok else {}
        return pd.DataFrame(columns)

    def differences(self) -> pd.DataFrame:
        """Each strategy's figures minus the first strategy's."""
        figures = self.figures()
        first = figures.columns[0]
        return figures.sub(figures[first], axis=0)

    def status_table(self) -> pd.DataFrame:
        """How each strategy's solves ended: status (plan-on-mean's mean step included), whether
        within the model's MIP gap or proven optimal, the largest gap, the bound, or the error."""
        rows = []
        for name, task in self.strategies.items():
            summary = task.summary or {}  # None when the task failed
            rows.append(
                {
                    "strategy": name,
                    "status": run_status(summary) if task.ok else "failed",
                    "within_mip_gap": summary.get("within_mip_gap"),
                    "proven_optimal": summary.get("proven_optimal"),
                    "mip_gap": largest_mip_gap(summary) if task.ok else None,
                    "mip_gap_asked": summary.get("mip_gap_asked"),
                    "bound_musd": summary.get("bound_musd"),
                    "error": task.error or "",
                }
            )
        return pd.DataFrame(rows)

    def perfect_information_table(self) -> pd.DataFrame:
        """The wait-and-see solves behind EVPI: each scenario alone with perfect foresight."""
        rows = []
        for w, task in self.perfect_information.items():
            summary = task.summary or {}  # None when the task failed
            rows.append(
                {
                    "scenario": w,
                    "probability": self.case.scenario_probability[w],
                    "status": summary.get("status", "failed"),
                    "expected_cost_musd": summary.get("expected_cost_musd"),
                    "bound_musd": _bound_on_expected_cost(task),
                    "mip_gap": summary.get("mip_gap"),
                }
            )
        columns = ["scenario", "probability", "status", "expected_cost_musd", "bound_musd", "mip_gap"]
        return pd.DataFrame(rows, columns=columns)

    def capex_by_year(self) -> pd.DataFrame:
        """Undiscounted expected capex per period (musd), one column per strategy."""
        return pd.DataFrame(
            {
                name: task.results.capex_by_period["total"]
                for name, task in self.strategies.items()
                if task.results is not None  # None when the task failed
            }
        ).fillna(0.0)


def strategy_figures(case: Case, task: SolvedTask) -> dict[str, float]:
    """The figures a strategist compares, read from one solved strategy."""
    summary, res = task.summary, task.results
    assert summary is not None and res is not None, "a task that failed has no figures"
    risk: Any = res.risk  # pandas-stubs type a .loc cell as any scalar (date, str, ...): float() refuses it
    cvar_column = next(c for c in risk.columns if c.startswith("cvar_"))
    unmet_expected = res.expected_unmet_eflops_years(case.scenario_probability, case.period_years)
    unpowered = (
        unpowered_figures(res.unpowered_chips, case.scenario_probability)
        if res.unpowered_chips is not None
        else {}
    )
    return {
        "objective_musd": summary["objective_musd"],
        "expected_cost_musd": summary["expected_cost_musd"],
        "worst_scenario_cost_musd": float(risk.loc["cost_musd", "worst"]),
        "cvar_cost_musd": float(risk.loc["cost_musd", cvar_column]),
        "cvar_alpha": float(summary["cvar_alpha"]),
        "capex_total_musd": float(res.capex_by_period["total"].sum()),
        "idle_pflops_share_peak_worst": float(risk.loc["idle_pflops_share_peak", "worst"]),
        "idle_pflops_share_peak_expected": float(risk.loc["idle_pflops_share_peak", "expected"]),
        "empty_shell_mw_peak_worst": float(risk.loc["empty_shell_mw_peak", "worst"]),
        "empty_shell_mw_peak_expected": float(risk.loc["empty_shell_mw_peak", "expected"]),
        "stranded_capital_musd_peak_worst": float(risk.loc["stranded_capital_musd_peak", "worst"]),
        "stranded_capital_musd_peak_expected": float(risk.loc["stranded_capital_musd_peak", "expected"]),
        "unused_take_or_pay_mwh_worst": float(risk.loc["unused_take_or_pay_mwh_total", "worst"]),
        "unused_take_or_pay_mwh_expected": float(risk.loc["unused_take_or_pay_mwh_total", "expected"]),
        **idle_power_figures(res.idle_power, case.scenario_probability),
        **unpowered,
        "power_share_of_opex_expected": float(res.cost_shares["power_share_of_opex"].iloc[-1]),
        "power_share_of_ownership_expected": float(res.cost_shares["power_share_of_ownership"].iloc[-1]),
        "unmet_eflops_years_expected": unmet_expected,
        "mip_gap": _nan_if_none(largest_mip_gap(summary)),
        "solve_seconds": summary["solve_seconds"],
    }


def _nan_if_none(value: float | None) -> float:
    return float("nan") if value is None else value


def compare_strategies(
    case: Case,
    configs: list[ModelConfig],
    workers: int | None = None,
    with_value_of_information: bool = True,
) -> Comparison:
    """Solve every strategy (and the perfect-foresight scenarios for EVPI) in parallel processes."""
    by_name = {config.name: config for config in configs}
    phased = _policy_config(configs, "phased")
    tasks: list[tuple[str, Case, ModelConfig]] = [(c.name, case, c) for c in configs]
    if with_value_of_information:
        if "plan-on-mean" not in {c.policy for c in configs}:
            mean_config = load_model_config("plan-on-mean").model_copy(update=_settings_of(phased))
            tasks.append(("_vss:plan-on-mean", case, mean_config))
        if "phased" not in {c.policy for c in configs}:
            tasks.append(("_evpi:phased", case, phased))
        if len(case.scenarios) > 1:
            tasks += [(f"_pi:{w}", case.scenario_case(w), phased) for w in case.scenarios]
    n_workers = workers or default_workers(len(tasks))
    parallel = n_workers > 1
    by_name = {name: config.side_by_side(parallel) for name, config in by_name.items()}
    solved = run_parallel(
        [(solve_task, (key, task_case, config.side_by_side(parallel))) for key, task_case, config in tasks],
        n_workers,
    )
    done = {task.key: task for task in solved}
    comparison = Comparison(
        case=case,
        strategies={name: done[name] for name in by_name},
        configs=by_name,
        perfect_information={k[4:]: t for k, t in done.items() if k.startswith("_pi:")},
    )
    if with_value_of_information:
        _value_of_information(comparison, done, configs)
    return comparison


def _reference_config(configs: list[ModelConfig], policy: str) -> ModelConfig | None:
    """The config of ``policy`` the value-of-information figures use among those compared: the
    first risk-neutral one, else the first; None when no compared model has that policy."""
    same = [config for config in configs if config.policy == policy]
    return next((config for config in same if config.cvar.weight == 0), same[0] if same else None)


def _policy_config(configs: list[ModelConfig], policy: str) -> ModelConfig:
    """The reference config of ``policy`` among those compared, else the shipped model with the
    first config's settings (:func:`_settings_of`)."""
    reference = _reference_config(configs, policy)
    if reference is not None:
        return reference
    return load_model_config(policy).model_copy(update=_settings_of(configs[0]))


def _settings_of(config: ModelConfig) -> dict[str, object]:
    """What a shipped model solved for the value-of-information figures takes from a compared one:
    integrality, the ``unpowered_chips`` extension, CVaR and solver settings, so that its cost
    compares like with like (the same model of the chips, not the v1 one beside the extension)."""
    return {
        "integer": config.integer,
        "unpowered_chips": config.unpowered_chips,
        "solver": config.solver,
        "cvar": config.cvar,
    }


def _expected_cost(task: SolvedTask | None) -> float | None:
    """A strategy's expected discounted cost: its objective unless the model adds a CVaR term.
    EVPI and VSS are read "in expected cost", and a risk-averse model's objective (expected cost
    + weight x CVaR) against a risk-neutral one's would not compare like with like."""
    return task.summary["expected_cost_musd"] if task is not None and task.summary is not None else None


def _value_of_information(
    comparison: Comparison, done: dict[str, SolvedTask], configs: list[ModelConfig]
) -> None:
    case = comparison.case
    phased_reference = _reference_config(configs, "phased")
    mean_reference = _reference_config(configs, "plan-on-mean")
    phased_name = phased_reference.name if phased_reference else "_evpi:phased"
    mean_name = mean_reference.name if mean_reference else "_vss:plan-on-mean"
    comparison.reference_models = {
        policy: config.name
        for policy, config in (("phased", phased_reference), ("plan-on-mean", mean_reference))
        if config is not None
    }
    references = (("phased", phased_reference, phased_name), ("plan-on-mean", mean_reference, mean_name))
    for policy, config, name in references:
        if config is None and name in done:  # the shipped model, solved for these figures alone
            summary = done[name].summary or {}  # None when the task failed
            comparison.reference_solves[policy] = {
                "status": run_status(summary) if done[name].ok else "failed",
                "expected_cost_musd": summary.get("expected_cost_musd"),
                "mip_gap": largest_mip_gap(summary) if done[name].ok else None,
                "bound_musd": _bound_on_expected_cost(done[name]),
            }
    phased_cost = _expected_cost(done.get(phased_name))
    mean_cost = _expected_cost(done.get(mean_name))
    if phased_cost is None:
        return
    phased_bound = _bound_on_expected_cost(done.get(phased_name))
    if len(case.scenarios) == 1:
        comparison.evpi_musd = 0.0
        comparison.evpi_range_musd = (0.0, 0.0)  # the phased plan is the wait-and-see plan
    else:
        tasks = comparison.perfect_information
        costs = {w: _expected_cost(t) for w, t in tasks.items()}
        if all(c is not None for c in costs.values()):
            p = case.scenario_probability
            wait_and_see = sum(p[w] * c for w, c in costs.items())  # type: ignore[operator, misc]  # all known
            comparison.evpi_musd = phased_cost - wait_and_see
            bounds = {w: _bound_on_expected_cost(t) for w, t in tasks.items()}
            if phased_bound is not None and all(b is not None for b in bounds.values()):
                comparison.evpi_range_musd = range_holding(
                    comparison.evpi_musd,
                    phased_bound - wait_and_see,
                    phased_cost - sum(p[w] * b for w, b in bounds.items()),  # type: ignore[operator, misc]
                )
    if mean_cost is not None:
        comparison.vss_musd = mean_cost - phased_cost
        comparison.vss_unmet_demand_musd = _expected_unmet_penalty(done[mean_name]) - _expected_unmet_penalty(
            done[phased_name]
        )
        if phased_bound is not None:
            vss = comparison.vss_musd
            comparison.vss_range_musd = range_holding(vss, mean_cost - phased_cost, mean_cost - phased_bound)


def _expected_unmet_penalty(task: SolvedTask) -> float:
    """The expected discounted unmet-demand penalty of a solved strategy, in musd."""
    assert task.summary is not None, "only a solved strategy has a cost breakdown"
    return float(task.summary["cost_breakdown_musd"]["unmet_demand"])


def _bound_on_expected_cost(task: SolvedTask | None) -> float | None:
    """The solve's bound when it bounds the expected cost (a risk-neutral model's objective)."""
    if task is None or task.summary is None or task.summary["cvar_weight"] != 0:
        return None
    bound: float | None = task.summary["bound_musd"]  # None when HiGHS had no finite bound
    return bound
