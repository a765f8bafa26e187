"""The validated case: the only thing the formulation reads.

A :class:`Case` is built by :mod:`planner.loader` from a CSV folder (with every problem reported
in spreadsheet terms), or directly in Python by tests and the benchmark generator. Every id
referenced here is known to exist; probabilities sum to one; every scenario gives every
(period, workload) once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from planner.schema import ChipRow, ContractRow, ParameterValues, SiteRow

PROBABILITY_ROUND_OFF = 1e-9
"""A probability sum this close to 1 is binary round-off of decimals that sum to 1 (0.1 + 0.2 + 0.7)."""


@dataclass(frozen=True)
class Case:
    """A planning case. Periods, workloads and scenarios keep the order of the input files."""

    name: str
    parameters: ParameterValues
    period_years: dict[str, float]
    """Length in years of each period, in chronological order."""
    scenario_probability: dict[str, float]
    workloads: tuple[str, ...]
    demand_eflops: dict[tuple[str, str, str], float]
    """(scenario, period, workload) -> EFLOPS."""
    sites: dict[str, SiteRow]
    chips: dict[str, ChipRow]
    contracts: dict[str, ContractRow]
    chip_performance_pflops: dict[tuple[str, str], float] = field(default_factory=dict)
    """(chip, workload) -> PFLOPS per chip, overriding ``chips.pflops``."""
    chip_supply_units: dict[tuple[str, str], float] = field(default_factory=dict)
    """(chip, period) -> max chips bought in that period over all sites."""
    budget_musd: dict[str, float] = field(default_factory=dict)
    """period -> undiscounted capex limit."""
    fingerprint: str = ""
    """sha256 over the input files' bytes (empty when built in Python)."""

    @property
    def periods(self) -> tuple[str, ...]:
        return tuple(self.period_years)

    @property
    def scenarios(self) -> tuple[str, ...]:
        return tuple(self.scenario_probability)

    @property
    def probability_total(self) -> float:
        """The probabilities' sum: 1, or their sum as written when a spreadsheet's rounding
        (6 x 0.1666667) leaves it further from 1 than binary round-off; the loader accepts such
        sums within 1e-6 and uses the probabilities as written."""
        total = math.fsum(self.scenario_probability.values())
        return 1.0 if abs(total - 1.0) <= PROBABILITY_ROUND_OFF else total

    def pflops(self, chip: str, workload: str) -> float:
        """``pflops[c,k]``: the per-workload override when given, else ``chips.pflops``."""
        return self.chip_performance_pflops.get((chip, workload), self.chips[chip].pflops)

    def with_demand(
        self, demand_eflops: dict[tuple[str, str, str], float], scenario_probability: dict[str, float]
    ) -> Case:
        """A copy with other scenarios (used for plan-on-mean and perfect-information solves);
        every other input, including any added to the case later, is kept."""
        return replace(self, demand_eflops=demand_eflops, scenario_probability=scenario_probability)

    def mean_demand_case(self) -> Case:
        """The single-scenario case whose demand is the probability-weighted mean demand."""
        mean: dict[tuple[str, str, str], float] = {}
        for (scenario, period, workload), eflops in self.demand_eflops.items():
            key = ("mean", period, workload)
            mean[key] = mean.get(key, 0.0) + self.scenario_probability[scenario] * eflops
        return self.with_demand(mean, {"mean": 1.0})

    def scenario_case(self, scenario: str) -> Case:
        """The deterministic case of one scenario alone (perfect foresight)."""
        demand = {k: v for k, v in self.demand_eflops.items() if k[0] == scenario}
        return self.with_demand(demand, {scenario: 1.0})
