"""Explain in words why a model has no plan: which constraint family, site, period, scenario.

An infeasible model is relaxed to its LP and HiGHS computes an irreducible infeasible subset
(IIS); each of its rows is named after the constraint family and the index it belongs to. An
unbounded one is named by HiGHS's primal ray: the decisions that can grow together, without a
row to stop them, while the cost falls.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import highspy

from planner.errors import Problem
from planner.formulation import PlanningModel
from planner.formulation.indexing import Tree
from planner.formulation.variables import Index
from planner.highs_factory import new_highs
from planner.highs_run import signals_stop_solves, stop_requested
from planner.magnitudes import MagnitudeError, OutOfRange
from planner.matrix import compile_model
from planner.solve import SolveOutcome

if TYPE_CHECKING:
    from pyomo.repn.plugins.standard_form import LinearStandardFormInfo

FAMILY_WORDS = {
    "site_cap": "site cap (existing_mw + modules built <= max_mw)",
    "fit_chips_in_buildings": "chips must fit in built IT MW",
    "firm_power": "firm power must cover PUE x installed IT load",
    "running_chips": "running chips <= installed fleet",
    "unpowered_within_fleet": "chips left unpowered <= chips in service",
    "meet_demand": "demand met or counted unmet",
    "energy_balance": "energy bought covers running chips",
    "energy_cap": "energy taken <= contract availability",
    "take_or_pay": "take-or-pay minimum energy",
    "chip_supply": "chip supply limit",
    "budget": "capex budget",
    "sign_once": "a contract is signed at most once",
    "ready_recursion": "modules ready (lead time)",
    "fleet_recursion": "chip fleet (purchases in service)",
    "active_recursion": "active contracts (lead and term)",
    "cvar_tail": "CVaR tail",
    "build": "bounds of modules started (at most what fits under max_mw)",
    "sign": "bounds of a contract signing (0 to 1)",
    "buy": "chips bought must be >= 0",
    "ready_modules": "modules ready must be >= 0",
    "fleet": "chips in service must be >= 0",
    "unpowered": "chips left unpowered must be >= 0",
    "contract_active": "active contract share must be >= 0",
}

VARIABLE_WORDS = {
    "build": "modules started",
    "buy": "chips bought",
    "sign": "contract share signed",
    "ready_modules": "modules ready",
    "fleet": "chips in service",
    "unpowered": "chips left unpowered",
    "contract_active": "contract share active",
    "run": "chips running",
    "energy": "energy taken (MWh)",
    "unmet": "unmet demand (EFLOPS)",
    "cvar_eta": "CVaR threshold eta",
    "cvar_excess": "CVaR excess over eta",
}

LONG_LEAD_FAMILIES = {
    "ready_recursion", "active_recursion", "build", "sign", "ready_modules", "contract_active",
}
"""Indexed by long-lead tree nodes (buildings and power); every other node index is an info node."""
PATH_FAMILIES = {"site_cap", "sign_once"}
"""Indexed by a scenario path of the long-lead tree."""
PERIOD_FAMILIES = {
    "energy_balance", "energy_cap", "take_or_pay", "meet_demand", "running_chips", "run", "energy", "unmet",
}
"""Indexed by a period position (and a scenario)."""


def describe_row(pm: PlanningModel, family: str, index: Index, words: dict[str, str] = FAMILY_WORDS) -> str:
    """``budget`` at node 3 -> ``capex budget: period 2027, scenarios low+mid``."""
    periods = pm.ix.periods
    tree = _tree_of(pm, family)
    parts = []
    for position, item in enumerate(index):
        last = position == len(index) - 1
        if isinstance(item, str):
            parts.append(item)
        elif isinstance(item, int) and family in PATH_FAMILIES and last:
            leaf = tree.nodes[tree.leaf_paths()[item][-1]]
            parts.append(f"scenarios {'+'.join(leaf.scenarios)}")
        elif isinstance(item, int) and family in PERIOD_FAMILIES:
            parts.append(f"period {periods[item]}")
        elif isinstance(item, int) and last:
            node = tree.nodes[item]
            parts.append(f"period {periods[node.t]} ({'+'.join(node.scenarios)})")
        else:
            parts.append(str(item))
    label = words.get(family, family)
    return f"{label}: {', '.join(parts)}" if parts else label


def explain_failure(pm: PlanningModel, outcome: SolveOutcome) -> str:
    """A paragraph a planner can act on."""
    head = f"HiGHS found no plan: status {outcome.status}."
    if outcome.status in ("infeasible", "infeasible_or_unbounded"):
        rows = infeasible_rows(pm)
        if rows:
            return (
                f"{head} These constraints cannot all hold together "
                f"(an irreducible infeasible set):\n{_listed(pm, rows, FAMILY_WORDS)}"
            )
    if outcome.status in ("unbounded", "infeasible_or_unbounded"):
        ray = unbounded_direction(pm)
        if ray:
            return (
                f"{head} The model is unbounded: the cost falls without limit as these decisions "
                f"grow together, with no constraint to stop them:\n{_listed(pm, ray, VARIABLE_WORDS)}\n"
                "v1 inputs cannot do this (every cost is >= 0 and salvage never exceeds capex): an "
                "extension of the model lacks a constraint or has a cost of the wrong sign."
            )
    if outcome.status == "infeasible":
        return f"{head} HiGHS could not isolate the conflicting constraints."
    if outcome.status in ("unbounded", "infeasible_or_unbounded"):
        return (
            f"{head} HiGHS could neither isolate conflicting constraints nor give a direction in "
            "which the cost falls without limit."
        )
    if outcome.status == "time_limit":
        return f"{head} It stopped ({outcome.status}) before finding any feasible plan; allow more time."
    if outcome.status in ("iteration_limit", "solution_limit"):
        # Only a [solver.highs_options] entry sets these (mip_max_nodes, simplex_iteration_limit,
        # mip_max_leaves, ...): planner leaves HiGHS's own unlimited.
        return (
            f"{head} A HiGHS limit set in the model's [solver.highs_options] (such as mip_max_nodes,"
            " mip_max_leaves or simplex_iteration_limit) stopped it before any feasible plan was found;"
            " raise or remove that limit."
        )
    if outcome.status == "memory_limit":
        return f"{head} HiGHS ran out of memory before finding any feasible plan."
    return head


def explain_trivially_infeasible(pm: PlanningModel, message: str) -> str:
    """A row whose variables are all fixed (e.g. a fixed plan) and that cannot hold, named in
    Pyomo's ``message`` between its first and last quote (an id may hold a quote itself)."""
    first, last = message.find("'"), message.rfind("'")
    constraint_name = message[first + 1 : last] if first < last else message
    component = pm.model.find_component(constraint_name)
    if component is None:
        return f"HiGHS was not called: constraint {constraint_name} cannot hold with the fixed decisions."
    return (
        "HiGHS was not called: with the decisions fixed, this constraint cannot hold:\n"
        f"  - {describe_row(pm, *_key(component))}"
    )


def _listed(pm: PlanningModel, items: list[tuple[str, Index]], words: dict[str, str]) -> str:
    lines = [f"  - {describe_row(pm, family, index, words)}" for family, index in items[:12]]
    more = [f"  ... and {len(items) - 12} more"] if len(items) > 12 else []
    return "\n".join(lines + more)


def _key(component: Any) -> tuple[str, Index]:
    """A row's or column's (family, index tuple), as :func:`describe_row` reads them."""
    index = component.index()
    key = () if index is None else index if isinstance(index, tuple) else (index,)
    return component.parent_component().local_name, key


def _relaxed_highs(
    pm: PlanningModel, **options: str | int
) -> tuple[LinearStandardFormInfo, highspy.HighsLp, highspy.Highs]:
    """The model's LP relaxation, unscaled, passed to a silent HiGHS with ``options``."""
    compiled = compile_model(pm.model)
    lp = compiled.lp
    lp.integrality_ = []
    highs = new_highs()
    highs.setOptionValue("output_flag", False)
    for name, value in options.items():
        highs.setOptionValue(name, value)
    highs.passModel(lp)
    return compiled.repn, lp, highs


def unbounded_direction(pm: PlanningModel) -> list[tuple[str, Index]]:
    """The columns of a primal ray of the model's LP relaxation, the one lowering the cost most
    first, as (family, index); empty when the LP is not unbounded or HiGHS gives no ray."""
    # Presolve answers "infeasible or unbounded" without a ray; simplex gives one.
    repn, lp, highs = _relaxed_highs(pm, presolve="off", solver="simplex")
    highs.run()
    if highs.getModelStatus() != highspy.HighsModelStatus.kUnbounded:
        return []
    status, has_ray, ray = highs.getPrimalRay()  # type: ignore[attr-defined]  # not in highspy's stubs
    if status == highspy.HighsStatus.kError or not has_ray:
        return []
    cost = [lp.col_cost_[col] * ray[col] for col in range(lp.num_col_)]
    moving = sorted((col for col in range(lp.num_col_) if abs(ray[col]) > 1e-9), key=lambda col: cost[col])
    return [_key(repn.columns[col]) for col in moving]


IIS_LIGHT = int(highspy.IisStrategy.kIisStrategyLight.value)
"""HiGHS's light test: a row that cannot hold within its columns' bounds alone."""
IIS_ELASTIC_IRREDUCIBLE = int(highspy.IisStrategy.kIisStrategyFromLp.value) | int(
    highspy.IisStrategy.kIisStrategyIrreducible.value
)
"""An elastic LP, its infeasible set then reduced to an irreducible one: a conflict of several
rows, none failing alone (chips in service that need more IT MW than the modules ready: the
fleet's and the ready modules' recursions and the fit)."""
_FREE = int(highspy.IisBoundStatus.kIisBoundStatusFree.value)
"""An IIS column whose bounds take no part in the conflict."""


IIS_SECONDS = 60.0
"""How long the elastic IIS may search. Its LPs can take far longer than the model's own solve
(a 77,000-row bench model, whose LP presolve finds infeasible at once: over 25 minutes), and
neither HiGHS's ``time_limit`` nor a stop signal reaches them (``getIis`` holds the GIL)."""


def infeasible_rows(pm: PlanningModel, seconds: float = IIS_SECONDS) -> list[tuple[str, Index]]:
    """The constraint rows and column bounds of an IIS of the model's LP relaxation, as (family,
    index): HiGHS's light test first, and when it isolates nothing, the elastic LP, given
    ``seconds`` (empty when it runs out of time). Ctrl-C or SIGTERM stops the search: exit 130."""
    repn, _lp, highs = _relaxed_highs(pm)
    deadline = time.monotonic() + seconds

    def stop_late(event: highspy.HighsCallbackEvent) -> None:
        # The elastic filter's LPs poll this; a signal's handler runs here too (Python code).
        if time.monotonic() > deadline or stop_requested():
            assert event.data_in is not None  # HiGHS passes one to every interrupt callback
            event.data_in.user_interrupt = True

    highs.cbSimplexInterrupt.subscribe(stop_late)
    for strategy in (IIS_LIGHT, IIS_ELASTIC_IRREDUCIBLE):
        highs.setOptionValue("iis_strategy", strategy)
        with signals_stop_solves():
            status, iis = highs.getIis()
            if stop_requested():
                raise KeyboardInterrupt
        # An interrupted search answers kWarning with every row of the model as its "IIS".
        if status != highspy.HighsStatus.kOk or not iis.valid_:
            continue
        components = [repn.rows[row][0] for row in iis.row_index_]
        bounds = zip(iis.col_index_, iis.col_bound_, strict=True)
        components += [repn.columns[col] for col, bound in bounds if bound != _FREE]
        if components:
            return [_key(component) for component in components]
    return []


_HOURS = "parameters.csv hours_per_year × periods.csv years"
_DISCOUNTED = "discounted, × periods.csv years for a yearly cost"

COEFFICIENT_INPUTS: dict[tuple[str, str], tuple[str, str]] = {
    ("site_cap", "build"): ("sites.csv", "module_mw"),
    ("fit_chips_in_buildings", "ready_modules"): ("sites.csv", "module_mw"),
    ("fit_chips_in_buildings", "fleet"): ("chips.csv", "kw"),
    ("firm_power", "fleet"): ("chips.csv", "kw × sites.csv pue"),
    ("fit_chips_in_buildings", "unpowered"): ("chips.csv", "kw"),
    ("firm_power", "unpowered"): ("chips.csv", "kw × sites.csv pue"),
    ("firm_power", "contract_active"): ("power.csv", "mw × firm_fraction"),
    ("meet_demand", "run"): ("chips.csv", "pflops (or chip_performance.csv pflops)"),
    ("energy_balance", "run"): ("chips.csv", f"kw × sites.csv pue × parameters.csv load_factor × {_HOURS}"),
    ("energy_cap", "contract_active"): ("power.csv", f"mw × availability × {_HOURS}"),
    ("take_or_pay", "contract_active"): ("power.csv", f"mw × min_take × availability × {_HOURS}"),
    ("budget", "build"): ("sites.csv", "module_mw × capex_musd_per_mw"),
    ("budget", "buy"): ("chips.csv", "capex_usd"),
    ("budget", "sign"): ("power.csv", "mw × capex_musd_per_mw"),
}
"""(row family, column family) -> the input file and the product of inputs the coefficient is."""

COST_INPUTS: dict[str, tuple[str, str]] = {
    "build": ("sites.csv", f"module_mw × capex_musd_per_mw (less salvage, {_DISCOUNTED})"),
    "buy": ("chips.csv", f"capex_usd (less salvage, {_DISCOUNTED})"),
    "sign": ("power.csv", f"mw × capex_musd_per_mw (less salvage, {_DISCOUNTED})"),
    "ready_modules": ("sites.csv", f"module_mw × fixed_om_musd_per_mw_year ({_DISCOUNTED})"),
    "fleet": ("chips.csv", f"opex_usd_per_year ({_DISCOUNTED})"),
    "contract_active": ("power.csv", f"mw × capacity_cost_musd_per_mw_year ({_DISCOUNTED})"),
    "energy": ("power.csv", f"price_usd_per_mwh ({_DISCOUNTED})"),
    "unmet": ("parameters.csv", f"unmet_penalty_musd_per_eflops_year ({_DISCOUNTED})"),
}
"""A cost's column family -> its inputs (the objective and the CVaR rows carry the same costs)."""

RHS_INPUTS: dict[str, tuple[str, str]] = {
    "energy_cap": ("power.csv", f"mw × availability × {_HOURS} of an existing contract"),
    "take_or_pay": ("power.csv", f"mw × min_take × availability × {_HOURS} of an existing contract"),
    "firm_power": ("power.csv", "mw × firm_fraction of an existing contract"),
    "meet_demand": ("demand.csv", "eflops"),
    "cvar_tail": (
        "sites.csv and power.csv",
        "costs fixed in advance: existing_mw × fixed_om_musd_per_mw_year, an existing contract's"
        " mw × capacity_cost_musd_per_mw_year",
    ),
}
"""A right-hand side's row family -> its inputs (fixed decisions, e.g. existing contracts, move
into the right-hand side)."""

_HIGHS_READS = {
    "small": "HiGHS reads a coefficient of magnitude at most {limit} as 0, so this term would vanish",
    "large": "HiGHS refuses a model with a coefficient of magnitude {limit} or more",
    "cost": "HiGHS takes a cost of magnitude {limit} or more as infinite",
    "rhs": "HiGHS takes a bound of magnitude {limit} or more as infinite, so this row would vanish",
}


def magnitude_problems(pm: PlanningModel, error: MagnitudeError) -> list[Problem]:
    """One input problem per kind of out-of-range number and the inputs that make it (e.g.
    module_mw too small), with its first example named in words and how many share it."""
    grouped: dict[tuple[str, str, str], list[OutOfRange]] = {}
    for item in error.found:
        grouped.setdefault((item.what, *_inputs_behind(error, item)), []).append(item)
    problems = []
    for (what, file, product), items in grouped.items():
        first = items[0]
        column = _key(error.repn.columns[first.column]) if first.column is not None else None
        where = (
            f"the objective's cost of {VARIABLE_WORDS.get(column[0], column[0])}"
            if first.row is None and column is not None
            else f"'{describe_row(pm, *_key(error.repn.rows[first.row][0]))}'"
        )
        term = f" on {describe_row(pm, *column, VARIABLE_WORDS)}" if column and first.row is not None else ""
        more = f" (and {len(items) - 1} more like it)" if len(items) > 1 else ""
        keys = [_key(error.repn.rows[first.row][0])] if first.row is not None else []
        values = _input_values(pm, file, product, [*keys, *([column] if column else [])])
        problems.append(
            Problem(
                file=file or "the case",
                row=None,
                column=product or None,
                value=None,
                expected=(
                    f"magnitudes the solver can use: {'this product' if '×' in product else 'this input'}"
                    f" makes the number {_short(abs(first.value))}{term} in {where}{more}{values};"
                    f" {_HIGHS_READS[what].format(limit=_short(first.limit))}."
                    " Check these values for a unit slip"
                ),
            )
        )
    return problems


def _inputs_behind(error: MagnitudeError, item: OutOfRange) -> tuple[str, str]:
    """The input file and the product of input columns that make ``item``'s number."""
    row_family = _key(error.repn.rows[item.row][0])[0] if item.row is not None else ""
    column_family = _key(error.repn.columns[item.column])[0] if item.column is not None else ""
    if item.what == "rhs":
        return RHS_INPUTS.get(row_family, ("", ""))
    if item.what == "cost" or row_family == "cvar_tail":
        return COST_INPUTS.get(column_family, ("", ""))
    return COEFFICIENT_INPUTS.get((row_family, column_family), ("", ""))


def _input_values(pm: PlanningModel, file: str, product: str, keys: list[tuple[str, Index]]) -> str:
    """``", from chips.csv kw 0.7 (g) × ... × periods.csv years 1e-11 (p2)"``: the cells behind
    the first example, so the one with a unit slip stands out; empty unless every factor of the
    product is found from the ids and period of ``keys`` (the example's row and column)."""
    if "(or " in product:  # which of two inputs applies is not worth spelling out here
        return ""
    case = pm.case
    tables: dict[str, Mapping[str, object]] = {
        "sites.csv": case.sites,
        "chips.csv": case.chips,
        "power.csv": case.contracts,
    }
    ids = {item for _, index in keys for item in index if isinstance(item, str)}
    periods = {period for family, index in keys if (period := _period_of(pm, family, index))}
    factors = []
    source = file  # a factor without a file name is a column of the factor before it
    for factor in product.split(" (")[0].removesuffix(" of an existing contract").split(" × "):
        named, _, column = factor.rpartition(" ")
        source = named or source
        if source == "parameters.csv":
            value, id_ = getattr(case.parameters, column, None), ""
        elif source == "periods.csv" and column == "years" and len(periods) == 1:
            [id_] = periods
            value = case.period_years[id_]
        elif source in tables and len(found := [i for i in ids if i in tables[source]]) == 1:
            [id_] = found
            value = getattr(tables[source][id_], column, None)
        else:
            return ""
        if not isinstance(value, (int, float)):
            return ""
        factors.append(f"{source} {column} {_short(value, digits=6)}{f' ({id_})' if id_ else ''}")
    return f", from {' × '.join(factors)}" if factors else ""


def _tree_of(pm: PlanningModel, family: str) -> Tree:
    """The tree whose nodes index ``family``: buildings and power on the long-lead tree."""
    return pm.sets.long_lead_tree if family in LONG_LEAD_FAMILIES | PATH_FAMILIES else pm.sets.info_tree


def _period_of(pm: PlanningModel, family: str, index: Index) -> str | None:
    """The period a row or column of ``family`` at ``index`` belongs to (None for a whole path)."""
    position = next((item for item in reversed(index) if isinstance(item, int)), None)
    if position is None or family in PATH_FAMILIES:
        return None
    if family in PERIOD_FAMILIES:
        return pm.ix.periods[position]
    return pm.ix.periods[_tree_of(pm, family).nodes[position].t]


def _short(number: float, digits: int = 3) -> str:
    """``1e-09`` -> ``1e-9``, ``8.32e+15`` -> ``8.32e15``: as a spreadsheet cell would hold it."""
    mantissa, _, exponent = f"{number:.{digits}g}".partition("e")
    return f"{mantissa}e{int(exponent)}" if exponent else mantissa
