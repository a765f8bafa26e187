"""A second, independent implementation of ``shared/spec/formulation.md`` (phased policy, risk
neutral), written straight from the text for cross-checking the package's optimum.

It shares nothing with :mod:`planner.formulation` but the :class:`Case`: no Pyomo, no scenario
tree, no state recursions. Every scenario carries its own copy of every decision, long vintage
sums are written out in every row, and non-anticipativity is a set of equality rows between
scenarios whose demand agrees in every period before ``t``. Slow and plain on purpose.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable

import highspy
import numpy as np

from planner.case import Case


class _Program:
    """Columns and rows accumulated as sparse dictionaries, then handed to HiGHS."""

    def __init__(self) -> None:
        self.cost: list[float] = []
        self.lower: list[float] = []
        self.upper: list[float] = []
        self.integer: list[bool] = []
        self.rows: list[tuple[dict[int, float], float, float]] = []

    def column(
        self, cost: float = 0.0, upper: float = math.inf, integer: bool = False, lower: float = 0.0
    ) -> int:
        self.cost.append(cost)
        self.lower.append(lower)
        self.upper.append(upper)
        self.integer.append(integer)
        return len(self.cost) - 1

    def row(self, terms: dict[int, float], lower: float = -math.inf, upper: float = math.inf) -> None:
        self.rows.append((dict(terms), lower, upper))

    def solve(self, offset: float) -> float:
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("mip_rel_gap", 0.0)
        h.setOptionValue("mip_abs_gap", 1e-9)
        h.setOptionValue("threads", 1)
        h.setOptionValue("dual_feasibility_tolerance", 1e-10)  # energy prices a few cents apart
        n = len(self.cost)
        inf = highspy.kHighsInf
        h.addVars(n, np.clip(self.lower, -inf, inf), np.clip(self.upper, -inf, inf))
        h.changeColsCost(n, np.arange(n, dtype=np.int32), np.array(self.cost))
        for terms, lower, upper in self.rows:
            index = np.array(list(terms), dtype=np.int32)
            h.addRow(max(lower, -inf), min(upper, inf), len(index), index, np.array(list(terms.values())))
        integer = [j for j in range(n) if self.integer[j]]
        if integer:
            kinds = np.array([highspy.HighsVarType.kInteger] * len(integer))
            h.changeColsIntegrality(len(integer), np.array(integer, dtype=np.int32), kinds)
        # HiGHS keeps the thread scheduler a thread first solved with (here the main thread, which
        # also runs planner's IIS diagnosis at the default count); highspy >= 1.16 no longer resets
        # it, and threads = 1 would then stop at once with no model status.
        highspy.Highs.resetGlobalScheduler(True)
        h.run()
        assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal, h.getModelStatus()
        return h.getInfo().objective_function_value + offset


def _add(terms: dict[int, float], column: int, coefficient: float) -> None:
    terms[column] = terms.get(column, 0.0) + coefficient


def reference_objective(
    case: Case,
    integer: bool = True,
    all_at_once: bool = False,
    cvar_alpha: float = 0.9,
    cvar_weight: float = 0.0,
    fixed: dict[tuple[str, str, int], float] | None = None,
) -> float:
    """Optimal objective (musd) of the phased model of ``case``, or of the all-at-once model:
    buildings only in the site's earliest period and contracts only in their first period, the
    same in every scenario; chips still bought as demand unfolds. The objective is the expected
    discounted cost plus ``cvar_weight * CVaR_alpha`` of the scenario costs. With ``fixed``
    (``("build", site, t)`` / ``("sign", contract, t)`` -> modules / share, absent = 0) every
    building and signing is fixed in every scenario: plan-on-mean's second solve."""
    par = case.parameters
    periods = list(case.periods)
    years = [case.period_years[t] for t in periods]
    n_t = len(periods)
    start = [sum(years[:t]) for t in range(n_t)]
    horizon = sum(years)
    r = par.discount_rate
    discount = [(1 + r) ** -start[t] for t in range(n_t)]
    end_discount = (1 + r) ** -horizon
    position = {p: t for t, p in enumerate(periods)}

    def salvage_share(t: int, life: float) -> float:
        return max(0.0, 1.0 - (horizon - start[t]) / life)

    prog = _Program()
    offset = 0.0
    # decision columns per scenario: key -> column, to tie them across scenarios afterwards
    decisions: dict[str, dict[tuple, int]] = {}
    scenario_cost: dict[str, tuple[range, float]] = {}  # its columns, its constant cost
    for w, p in case.scenario_probability.items():
        first_column, offset_before = len(prog.cost), offset
        cols: dict[tuple, int] = {}
        decisions[w] = cols
        budget_terms: dict[int, dict[int, float]] = defaultdict(dict)

        def invest(
            key: tuple,
            t: int,
            capex: float,
            life: float,
            upper: float = math.inf,
            integer: bool = False,
            *,
            p: float = p,
            cols: dict[tuple, int] = cols,
            budget: dict[int, dict[int, float]] = budget_terms,
        ) -> int:
            """A decision's column of this scenario: capex paid in ``t`` (A, also counted in the
            budget) minus its salvage (D)."""
            cost = p * (discount[t] - end_discount * salvage_share(t, life)) * capex
            lower = 0.0
            if fixed is not None and key[0] in ("build", "sign"):
                lower = upper = fixed.get(key, 0.0)
            j = prog.column(cost, upper=upper, integer=integer, lower=lower)
            cols[key] = j
            _add(budget[t], j, capex)
            return j

        # buildings
        built: dict[tuple[str, int], dict[int, float]] = {}
        for s, site in case.sites.items():
            earliest = position[site.earliest_period] if site.earliest_period else 0
            cap: dict[int, float] = {}
            for t in range(earliest, earliest + 1 if all_at_once else n_t):
                capex = site.module_mw * site.capex_musd_per_mw
                j = invest(("build", s, t), t, capex, site.life_years, integer=integer)
                _add(cap, j, site.module_mw)
            prog.row(cap, upper=site.max_mw - site.existing_mw)
            for t in range(n_t):
                terms: dict[int, float] = {}
                for (kind, ss, t0), j in cols.items():
                    if kind == "build" and ss == s and t0 + site.lead_periods <= t:
                        _add(terms, j, site.module_mw)
                built[(s, t)] = terms  # plus existing_mw
                om = p * discount[t] * years[t] * site.fixed_om_musd_per_mw_year
                for j, a in terms.items():
                    prog.cost[j] += om * a
                offset += om * site.existing_mw

        # chips
        fleet: dict[tuple[str, str, int], dict[int, float]] = {}
        for c, chip in case.chips.items():
            first = position[chip.first_period] if chip.first_period else 0
            last = position[chip.last_period] if chip.last_period else n_t - 1
            for s in case.sites:
                for t in range(first, last + 1):
                    invest(("buy", c, s, t), t, chip.capex_usd / 1e6, chip.life_years)
                for t in range(n_t):
                    terms = {}
                    for t0 in range(first, min(last, t) + 1):
                        if start[t] - start[t0] < chip.life_years - 1e-12:
                            _add(terms, cols[("buy", c, s, t0)], 1.0)
                    fleet[(c, s, t)] = terms
                    for j, a in terms.items():
                        prog.cost[j] += p * discount[t] * years[t] * chip.opex_usd_per_year / 1e6 * a

        # contracts: active share as an expression (constant for existing ones)
        active: dict[tuple[str, int], tuple[dict[int, float], float]] = {}
        for q, contract in case.contracts.items():
            term = contract.term_periods if contract.term_periods is not None else n_t + 1
            if contract.existing:
                for t in range(n_t):
                    active[(q, t)] = ({}, 1.0 if t < term else 0.0)
            else:
                first = position[contract.first_period] if contract.first_period else 0
                once: dict[int, float] = {}
                for t in range(first, first + 1 if all_at_once else n_t):
                    capex = contract.mw * contract.capex_musd_per_mw
                    integral = integer and not contract.divisible
                    j = invest(("sign", q, t), t, capex, contract.life_years, upper=1.0, integer=integral)
                    once[j] = 1.0
                prog.row(once, upper=1.0)
                for t in range(n_t):
                    terms = {}
                    for t0 in range(first, first + 1 if all_at_once else n_t):
                        if t0 + contract.lead_periods <= t < t0 + contract.lead_periods + term:
                            terms[cols[("sign", q, t0)]] = 1.0
                    active[(q, t)] = (terms, 0.0)
            for t in range(n_t):
                terms, constant = active[(q, t)]
                charge = p * discount[t] * years[t] * contract.capacity_cost_musd_per_mw_year * contract.mw
                for j, a in terms.items():
                    prog.cost[j] += charge * a
                offset += charge * constant

        # operations
        for t in range(n_t):
            hours = par.hours_per_year * years[t]
            served: dict[str, dict[int, float]] = {k: {} for k in case.workloads}
            for s, site in case.sites.items():
                it_load: dict[int, float] = {}
                energy_need: dict[int, float] = {}
                for c, chip in case.chips.items():
                    for j, a in fleet[(c, s, t)].items():
                        _add(it_load, j, a * chip.kw / 1000)
                    running: dict[int, float] = {}
                    for j, a in fleet[(c, s, t)].items():
                        _add(running, j, -a)
                    for k in case.workloads:
                        j = prog.column()
                        running[j] = 1.0
                        _add(served[k], j, case.pflops(c, k) / 1000)
                        _add(energy_need, j, site.pue * par.load_factor * hours * chip.kw / 1000)
                    prog.row(running, upper=0.0)  # run <= fleet
                # fits the building: IT load - built <= existing
                fit = dict(it_load)
                for j, a in built[(s, t)].items():
                    _add(fit, j, -a)
                prog.row(fit, upper=site.existing_mw)
                # firm power, energy
                firm = {j: site.pue * a for j, a in it_load.items()}
                firm_constant = 0.0
                supply = {j: -a for j, a in energy_need.items()}
                for q, contract in case.contracts.items():
                    if contract.site != s:
                        continue
                    terms, constant = active[(q, t)]
                    for j, a in terms.items():
                        _add(firm, j, -contract.mw * contract.firm_fraction * a)
                    firm_constant += contract.mw * contract.firm_fraction * constant
                    e = prog.column(p * discount[t] * contract.price_usd_per_mwh / 1e6)
                    supply[e] = 1.0
                    cap_mwh = contract.mw * contract.availability * hours
                    upper = {e: 1.0, **{j: -cap_mwh * a for j, a in terms.items()}}
                    prog.row(upper, upper=cap_mwh * constant)
                    floor = {e: 1.0, **{j: -contract.min_take * cap_mwh * a for j, a in terms.items()}}
                    prog.row(floor, lower=contract.min_take * cap_mwh * constant)
                prog.row(firm, upper=firm_constant)
                prog.row(supply, lower=0.0)
            for k in case.workloads:
                u = prog.column(p * discount[t] * years[t] * par.unmet_penalty_musd_per_eflops_year)
                served[k][u] = 1.0
                prog.row(served[k], lower=case.demand_eflops[(w, periods[t], k)])
            for c in case.chips:
                limit = case.chip_supply_units.get((c, periods[t]))
                if limit is not None:
                    terms = {cols[key]: 1.0 for key in cols if key[:2] == ("buy", c) and key[3] == t}
                    prog.row(terms, upper=limit)
            limit = case.budget_musd.get(periods[t])
            if limit is not None:
                prog.row(budget_terms[t], upper=limit)
        scenario_cost[w] = (range(first_column, len(prog.cost)), offset - offset_before)

    # non-anticipativity: equal demand before t -> equal decisions in t
    scenarios = list(case.scenario_probability)
    for t in range(n_t):
        groups: dict[tuple, list[str]] = defaultdict(list)
        for w in scenarios:
            history = tuple(
                case.demand_eflops[(w, periods[t0], k)] for t0 in range(t) for k in case.workloads
            )
            groups[history].append(w)

        def in_period(key: tuple, t: int = t) -> bool:
            return key[-1] == t

        for members in groups.values():
            for w in members[1:]:
                _tie(prog, decisions, members[0], w, in_period)
    if all_at_once:
        for w in scenarios[1:]:
            _tie(prog, decisions, scenarios[0], w, lambda key: key[0] in ("build", "sign"))
    if cvar_weight > 0:
        _add_cvar(prog, case, scenario_cost, cvar_alpha, cvar_weight)
    return prog.solve(offset)


def _add_cvar(
    prog: _Program, case: Case, scenario_cost: dict[str, tuple[range, float]], alpha: float, weight: float
) -> None:
    """Rockafellar-Uryasev: ``weight * (eta + sum_w p[w] * excess[w] / (1 - alpha))`` with
    ``excess[w] >= cost[w] - eta``, ``excess >= 0``; ``cost[w]`` is rebuilt from the columns of
    scenario ``w`` (each column belongs to one scenario and carries ``p[w]`` times its cost)."""
    eta = prog.column(weight, lower=-math.inf)
    for w, (columns, constant) in scenario_cost.items():
        p = case.scenario_probability[w]
        excess = prog.column(weight * p / (1 - alpha))
        terms = {excess: 1.0, eta: 1.0}
        for j in columns:
            if prog.cost[j]:
                terms[j] = -prog.cost[j] / p
        prog.row(terms, lower=constant / p)


def _tie(
    prog: _Program,
    decisions: dict[str, dict[tuple, int]],
    lead: str,
    other: str,
    which: Callable[[tuple], bool],
) -> None:
    """Equality rows: ``other``'s decisions selected by ``which(key)`` equal ``lead``'s."""
    for key, j in decisions[other].items():
        if which(key):
            prog.row({j: 1.0, decisions[lead][key]: -1.0}, lower=0.0, upper=0.0)
