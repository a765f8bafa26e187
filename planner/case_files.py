"""The files of a case folder (``shared/spec/inputs.md``): their names, row schemas, which are
required, and what a case means without an optional one."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from planner import schema


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
        FileSpec(PARAMETERS, schema.ParameterValues, True),
        FileSpec(PERIODS, schema.PeriodRow, True),
        FileSpec(SCENARIOS, schema.ScenarioRow, False, "every scenario is equally likely"),
        FileSpec(DEMAND, schema.DemandRow, True),
        FileSpec(SITES, schema.SiteRow, True),
        FileSpec(CHIPS, schema.ChipRow, True),
        FileSpec(
            PERFORMANCE,
            schema.ChipPerformanceRow,
            False,
            "every chip has its chips.csv pflops for every workload",
        ),
        FileSpec(SUPPLY, schema.ChipSupplyRow, False, "chip purchases are not limited"),
        FileSpec(POWER, schema.ContractRow, True),
        FileSpec(BUDGET, schema.BudgetRow, False, "capex is not capped"),
    )
}
"""Every file of the format, in the order problems are reported."""
