"""The files of a case folder (``shared/spec/inputs.md``): their names, row schemas, which are
required, and what a case means without an optional one."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from planner.schema import (
    BudgetRow,
    ChipPerformanceRow,
    ChipRow,
    ChipSupplyRow,
    ContractRow,
    DemandRow,
    ParameterValues,
    PeriodRow,
    ScenarioRow,
    SiteRow,
)


@dataclass(frozen=True)
class FileSpec:
    name: str
    model: type[BaseModel]
    required: bool
    absent: str = ""
    """What the case means without this optional file, for the error on a misnamed copy."""


PARAMETERS = "parameters.csv"
PERIODS = "periods.csv"
SCENARIOS = "scenarios.csv"
DEMAND = "demand.csv"
SITES = "sites.csv"
CHIPS = "chips.csv"
PERFORMANCE = "chip_performance.csv"
SUPPLY = "chip_supply.csv"
POWER = "power.csv"
BUDGET = "budget.csv"

FILES: dict[str, FileSpec] = {
    spec.name: spec
    for spec in (
        FileSpec(PARAMETERS, ParameterValues, True),
        FileSpec(PERIODS, PeriodRow, True),
        FileSpec(SCENARIOS, ScenarioRow, False, "every scenario is equally likely"),
        FileSpec(DEMAND, DemandRow, True),
        FileSpec(SITES, SiteRow, True),
        FileSpec(CHIPS, ChipRow, True),
        FileSpec(
            PERFORMANCE, ChipPerformanceRow, False, "every chip has its chips.csv pflops for every workload"
        ),
        FileSpec(SUPPLY, ChipSupplyRow, False, "chip purchases are not limited"),
        FileSpec(POWER, ContractRow, True),
        FileSpec(BUDGET, BudgetRow, False, "capex is not capped"),
    )
}
"""Every file of the format, in the order problems are reported."""
