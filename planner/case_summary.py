"""What a validated case holds, in plain JSON-serialisable data (for ``planner validate``):
sizes, horizon, scenarios, and where the scenario tree branches."""

from __future__ import annotations

from typing import Any

from planner.case import Case


def case_summary(case: Case) -> dict[str, Any]:
    """Sizes, horizon, scenarios, scenario tree and workloads of a case (for ``planner validate``).

    Everything in the result is plain JSON-serialisable data.
    """
    periods = case.periods
    return {
        "name": case.name,
        "fingerprint": case.fingerprint,
        "sizes": {
            "periods": len(periods),
            "scenarios": len(case.scenario_probability),
            "workloads": len(case.workloads),
            "demand_rows": len(case.demand_eflops),
            "sites": len(case.sites),
            "chips": len(case.chips),
            "contracts": len(case.contracts),
            "chip_performance": len(case.chip_performance_pflops),
            "chip_supply": len(case.chip_supply_units),
            "budget_periods": len(case.budget_musd),
        },
        "horizon": {
            "first_period": periods[0] if periods else None,
            "last_period": periods[-1] if periods else None,
            "periods": len(periods),
            "total_years": sum(case.period_years.values()),
        },
        "scenarios": [
            {"scenario": scenario, "probability": probability}
            for scenario, probability in case.scenario_probability.items()
        ],
        "scenario_tree": branching_points(case),
        "workloads": list(case.workloads),
    }


def branching_points(case: Case) -> list[dict[str, Any]]:
    """Where the scenario tree branches: scenarios share demand history until their demand first
    differs. Each point gives the period where a group of scenarios splits, the last period they
    still share (None when they differ from the start), the group, and the branches in scenario
    order. A single scenario, or identical scenarios, give an empty list."""
    periods = case.periods
    groups: list[list[str]] = [list(case.scenarios)] if case.scenarios else []
    points: list[dict[str, Any]] = []
    for index, period in enumerate(periods):
        next_groups: list[list[str]] = []
        for group in groups:
            branches = _split_by_demand(case, group, period)
            if len(branches) > 1:
                points.append(
                    {
                        "period": period,
                        "shared_until": periods[index - 1] if index else None,
                        "scenarios": group,
                        "branches": branches,
                    }
                )
            next_groups.extend(branches)
        groups = next_groups
    return points


def _split_by_demand(case: Case, group: list[str], period: str) -> list[list[str]]:
    """Partition scenarios by their demand vector in one period, keeping scenario order."""
    parts: dict[tuple[float | None, ...], list[str]] = {}
    for scenario in group:
        vector = tuple(case.demand_eflops.get((scenario, period, w)) for w in case.workloads)
        parts.setdefault(vector, []).append(scenario)
    return list(parts.values())
