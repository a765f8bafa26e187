"""Row schemas of the v1 input folder (``shared/spec/inputs.md``).

Each CSV file maps to one pydantic model; one validated model instance per row. The field
descriptions are the input reference (``planner schema`` and the README table are generated
from them), so the schema is the single source of truth for names, types, defaults and units.
"""

from __future__ import annotations

import math
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

_VISIBLE = r"[^\s\x00-\x1f\x7f]"
_NO_CONTROL = r"[^\x00-\x1f\x7f]"
Id = Annotated[str, StringConstraints(min_length=1, pattern=rf"^{_VISIBLE}({_NO_CONTROL}*{_VISIBLE})?$")]
"""Non-empty, no leading or trailing whitespace, no control characters (a NUL or tab in an id is
corruption, not a name)."""


class Row(BaseModel):
    """Base of every row: frozen, unknown fields refused, finite numbers only."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class ParameterValues(Row):
    """parameters.csv, one row per scalar (columns ``name, value``)."""

    discount_rate: float = Field(ge=0, description="per year")
    load_factor: float = Field(1.0, gt=0, le=1, description="average draw of a running chip over its kw")
    hours_per_year: float = Field(8760.0, gt=0, description="hours in a year")
    unmet_penalty_musd_per_eflops_year: float = Field(gt=0, description="cost of demand not served")


class PeriodRow(Row):
    """periods.csv: chronological order as listed."""

    period: Id = Field(description="period id")
    years: float = Field(gt=0, description="length of the period")


class ScenarioRow(Row):
    """scenarios.csv (optional): absent means the scenarios in demand.csv, equally likely."""

    scenario: Id = Field(description="scenario id")
    probability: float = Field(gt=0, le=1, description="sums to 1 (within 1e-6)")


class DemandRow(Row):
    """demand.csv: every scenario gives every (period, workload) once."""

    scenario: Id = Field("base", description="scenario id")
    period: Id = Field(description="id in periods")
    workload: Id = Field(description="e.g. training, inference")
    eflops: float = Field(ge=0, description="EFLOPS demanded")


class SiteRow(Row):
    """sites.csv: one data-center site."""

    site: Id = Field(description="site id")
    region: str = Field(min_length=1, description="free text region")
    max_mw: float = Field(gt=0, description="IT MW the site can ever hold")
    module_mw: float = Field(gt=0, description="build granularity, IT MW per module")
    existing_mw: float = Field(0.0, ge=0, description="IT MW already built, at most max_mw")
    capex_musd_per_mw: float = Field(ge=0, description="per IT MW built")
    fixed_om_musd_per_mw_year: float = Field(0.0, ge=0, description="per built IT MW")
    lead_periods: int = Field(0, ge=0, description="periods from start to ready")
    earliest_period: Id | None = Field(None, description="no build before it (default: first)")
    pue: float = Field(ge=1, description="facility power / IT power")
    life_years: float = Field(gt=0, description="building life, for salvage")

    def modules_that_fit(self) -> float:
        """Room under ``max_mw`` beside ``existing_mw``, in modules (a fraction for an LP)."""
        return max(0.0, (self.max_mw - self.existing_mw) / self.module_mw)

    def whole_modules_that_fit(self) -> int:
        """:meth:`modules_that_fit` rounded down, with 1e-9 of a module of slack for the float
        round-off of the room (100 - 70 MW is 29.999999999999996 / 10 MW modules)."""
        return math.floor(self.modules_that_fit() + 1e-9)


class ChipRow(Row):
    """chips.csv: one accelerator type."""

    chip: Id = Field(description="chip id")
    pflops: float = Field(gt=0, description="effective PFLOPS per chip")
    kw: float = Field(gt=0, description="IT kW per chip, host and network share included")
    capex_usd: float = Field(ge=0, description="per chip, system share included")
    opex_usd_per_year: float = Field(0.0, ge=0, description="per chip and year")
    life_years: float = Field(gt=0, description="service life")
    first_period: Id | None = Field(None, description="first period it can be bought (default: first)")
    last_period: Id | None = Field(None, description="last period it can be bought (default: last)")


class ChipPerformanceRow(Row):
    """chip_performance.csv (optional): overrides ``pflops`` for one workload."""

    chip: Id = Field(description="id in chips")
    workload: Id = Field(description="workload id in demand")
    pflops: float = Field(ge=0, description="effective PFLOPS per chip on that workload")


class ChipSupplyRow(Row):
    """chip_supply.csv (optional): chips that can be bought in a period, all sites together."""

    chip: Id = Field(description="id in chips")
    period: Id = Field(description="id in periods")
    max_units: float = Field(ge=0, description="chips")


class ContractRow(Row):
    """power.csv: one power contract at one site."""

    contract: Id = Field(description="contract id")
    site: Id = Field(description="id in sites")
    kind: str = Field(min_length=1, description="e.g. grid, ppa, onsite")
    mw: float = Field(gt=0, description="contracted capacity")
    firm_fraction: float = Field(1.0, ge=0, le=1, description="share of mw that counts as firm")
    availability: float = Field(1.0, gt=0, le=1, description="energy cap as a share of mw")
    price_usd_per_mwh: float = Field(ge=0, description="energy price")
    capacity_cost_musd_per_mw_year: float = Field(0.0, ge=0, description="capacity charge")
    capex_musd_per_mw: float = Field(0.0, ge=0, description="paid at signing (on-site plants)")
    lead_periods: int = Field(0, ge=0, description="signing to first active period")
    term_periods: int | None = Field(None, ge=1, description="active periods (default: to the end)")
    min_take: float = Field(0.0, ge=0, le=1, description="take-or-pay share of available energy")
    first_period: Id | None = Field(None, description="earliest signing (default: first)")
    divisible: bool = Field(False, description="false: all of mw or nothing")
    existing: bool = Field(False, description="already signed, active from the first period")
    life_years: float = Field(25.0, gt=0, description="life of the contract's capex, for salvage")

    @field_validator("divisible", "existing", mode="before")
    @classmethod
    def _parse_bool(cls, value: object) -> object:
        return parse_bool(value)

    def in_term_from_the_start(self, t: int) -> bool:
        """Whether period ``t`` (0-based) lies in a term begun in the first period, as an existing
        contract's is: ``term_periods`` periods, by default to the end."""
        return self.term_periods is None or t < self.term_periods


class BudgetRow(Row):
    """budget.csv (optional): undiscounted capex cap in a period."""

    period: Id = Field(description="id in periods")
    capex_limit_musd: float = Field(ge=0, description="capex paid in that period, undiscounted")


_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


def parse_bool(value: object) -> object:
    """Accept ``true/false``, ``1/0``, ``yes/no`` in any case; leave anything else to pydantic."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError("expected true/false, 1/0 or yes/no")
