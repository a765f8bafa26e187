"""Warnings about a valid case: what is legal but suspicious (a site whose lead time outlasts the
horizon, a chip never available, a PUE typed as a percentage, ids differing only in letter case).
They never stop a run; :mod:`planner.loader` adds them to the case's warnings."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import TypeVar

from planner.case import Case
from planner.case_files import CHIPS, DEMAND, PARAMETERS, PERFORMANCE, PERIODS, POWER, SITES, SUPPLY
from planner.schema import ContractRow

SUSPICIOUS_PUE = 3.0
"""Data-center PUEs lie between about 1.1 and 2; above this a percentage was most likely typed."""
HOURS_IN_A_LEAP_YEAR = 8784
FEWEST_PLAUSIBLE_HOURS = 1000
"""Fewer hours a year than this read as hours per day (24), week (168) or month (730)."""
TINY_PLAN_AMOUNT = 1e-3
"""Chips or IT MW below which a plan's amounts come within 1,000 times HiGHS's feasibility
tolerance (1e-6): see :meth:`_Checks._amounts_below_tolerance`."""
SMALLEST_DISCOUNT = 1e-6
"""A period weighed below this by discounting: its costs come within HiGHS's absolute tolerances
(1e-6 on rows, 1e-9 on reduced costs) of nothing. A 30-year horizon at 15% weighs its last year
at 0.017; 1e-6 takes 50% over 34 years, or 10% over 145."""
ROUND_OFF = 1e-9
"""Relative difference below which two demand cells read as the same number typed two ways."""
FULLY_BUILT_ROOM = 1e-9
"""Room (max_mw - existing_mw) below this share of max_mw: a site built to its cap, not a slip."""

Item = TypeVar("Item")


def warnings_about(case: Case, row_of: Mapping[str, Mapping[str, int]], scenario_file: str) -> list[str]:
    """Every warning about ``case``. ``row_of``: for sites.csv, chips.csv and power.csv, the
    spreadsheet row of each id; ``scenario_file``: the file that lists the scenarios."""
    checks = _Checks(row_of, scenario_file)
    checks.run(case)
    return checks.warnings


class _Checks:
    def __init__(self, row_of: Mapping[str, Mapping[str, int]], scenario_file: str) -> None:
        self.row_of = row_of
        self.scenario_file = scenario_file
        self.warnings: list[str] = []

    def _numbered(self, file: str, items: Mapping[str, Item]) -> list[tuple[int, Item]]:
        return [(self.row_of[file][key], item) for key, item in items.items()]

    def run(self, case: Case) -> None:
        """Legal but suspicious inputs: things that can never take part in a plan."""
        checks: list[Callable[[Case], None]] = [
            self._empty,
            self._sites,
            self._chips,
            self._contracts,
            self._existing_power_ending,
            self._workloads,
            self._scenario_names,
            self._probability_sum,
            self._ids_differing_in_case,
            self._period_order,
            self._branches_by_round_off,
            self._parameters,
            self._discounted_to_nothing,
            self._amounts_below_tolerance,
        ]
        for check in checks:
            check(case)

    def _ids_differing_in_case(self, case: Case) -> None:
        """``North`` and ``north`` are two sites: legal, but more often one typed twice."""
        ids = (
            (PERIODS, "period", case.periods),
            (self.scenario_file, "scenario", case.scenarios),
            (DEMAND, "workload", case.workloads),
            (SITES, "site", case.sites),
            (CHIPS, "chip", case.chips),
            (POWER, "contract", case.contracts),
        )
        for file, kind, names in ids:
            by_fold: dict[str, list[str]] = {}
            for name in names:
                by_fold.setdefault(name.casefold(), []).append(name)
            for alike in by_fold.values():
                if len(alike) > 1:
                    listed = " and ".join(repr(name) for name in alike)
                    self.warnings.append(
                        f"{file}: {kind} ids {listed} differ only in letter case; ids are case-sensitive, "
                        f"so they are {len(alike)} different {kind}s"
                    )

    def _period_order(self, case: Case) -> None:
        """Periods are taken in the order listed; ids that read as years (2031, 2027Q3, FY2030-H2)
        listed out of that order are most likely a sorted-descending or pasted sheet."""
        keys = [_calendar_key(period) for period in case.periods]
        if None in keys:
            return
        for before, after, key_before, key_after in zip(
            case.periods, case.periods[1:], keys, keys[1:], strict=False
        ):
            if key_after <= key_before:  # type: ignore[operator]  # no None: returned above
                self.warnings.append(
                    f"{PERIODS}: period '{after}' is listed after '{before}'; periods are taken in the "
                    "order listed (first = now), whatever their ids say"
                )
                return

    def _branches_by_round_off(self, case: Case) -> None:
        """The tree branches where demand histories first differ, exactly, as the contract says; a
        spreadsheet formula giving 1.1 against 1.1000000000000001 splits it there, and the phased
        plan then knows its scenario one branch point early (lower cost, other EVPI)."""
        from planner.case_summary import branching_points

        for point in branching_points(case):
            firsts = [branch[0] for branch in point["branches"]]
            for i, one in enumerate(firsts):
                for other in firsts[i + 1 :]:
                    period = point["period"]
                    demands = [
                        (case.demand_eflops[(one, period, k)], case.demand_eflops[(other, period, k)])
                        for k in case.workloads
                    ]
                    if all(math.isclose(a, b, rel_tol=ROUND_OFF, abs_tol=0.0) for a, b in demands):
                        self.warnings.append(
                            f"{DEMAND}: scenarios '{one}' and '{other}' differ in period '{period}' "
                            f"only by round-off ({_differences(demands)}); the scenario tree branches "
                            "there all the same (decisions from then on may differ). Equal cells make "
                            "them share the period"
                        )

    def _probability_sum(self, case: Case) -> None:
        """Probabilities rounded in a spreadsheet (6 x 0.1666667) pass the 1e-6 tolerance; they are
        used as written, so every expected figure weighs their sum, not 1."""
        total = case.probability_total
        if total != 1.0:
            self.warnings.append(
                f"{self.scenario_file}: probabilities sum to {total:.12g}, not exactly 1; they are used as "
                "written (not rescaled), so expected costs and figures weigh the scenarios by that sum"
            )

    def _scenario_names(self, case: Case) -> None:
        if len(case.scenarios) < 2:
            return  # a single scenario's node is always "all": no label to confuse
        for scenario in case.scenarios:
            if scenario == "all" or "+" in scenario:
                self.warnings.append(
                    f"scenario '{scenario}': the run-folder tables label a decision all scenarios share "
                    "'all' and one a few share by their ids joined with '+', so this id reads ambiguously "
                    "there; another id avoids it"
                )

    def _empty(self, case: Case) -> None:
        for name, items in ((SITES, case.sites), (CHIPS, case.chips), (POWER, case.contracts)):
            if not items:
                self.warnings.append(f"{name}: no rows; no demand can be served")

    def _sites(self, case: Case) -> None:
        n = len(case.periods)
        index = _period_index(case)
        with_power = {contract.site for contract in case.contracts.values()}
        for row, site in self._numbered(SITES, case.sites):
            start = index[site.earliest_period] if site.earliest_period else 0
            if start + site.lead_periods >= n:
                self.warnings.append(
                    f"{SITES}, row {row}: site '{site.site}' can never have a build ready within "
                    f"the horizon (earliest_period is period {start + 1} of {n}, "
                    f"lead_periods {site.lead_periods})"
                )
            if site.site not in with_power:
                self.warnings.append(
                    f"{SITES}, row {row}: site '{site.site}' has no power contract in {POWER}"
                )
            elif all(c.firm_fraction == 0 for c in case.contracts.values() if c.site == site.site):
                self.warnings.append(
                    f"{SITES}, row {row}: site '{site.site}' has no firm power: every contract at it "
                    f"has firm_fraction 0 in {POWER}, so no chip can ever be installed there"
                )
            if site.pue > SUSPICIOUS_PUE:
                self.warnings.append(
                    f"{SITES}, row {row}: site '{site.site}' has pue {site.pue:g}, far above data-center "
                    "PUEs (1.1 to 2); a PUE is a ratio (1.2), not a percentage"
                )
            room_mw = site.max_mw - site.existing_mw
            # A site already built to its max_mw is a normal case (an existing campus), not a slip.
            if site.whole_modules_that_fit() == 0 and room_mw > FULLY_BUILT_ROOM * site.max_mw:
                self.warnings.append(
                    f"{SITES}, row {row}: site '{site.site}' can never build a whole module "
                    f"(module_mw {site.module_mw:g} > max_mw - existing_mw = {room_mw:g}; "
                    "an LP relaxation may still build a fraction of one)"
                )

    def _chips(self, case: Case) -> None:
        """A chip whose ``last_period`` comes before its ``first_period``, or whose supply is 0 in
        every period it may be bought, can never be bought (legal: the model leaves it out)."""
        index = _period_index(case)
        for row, chip in self._numbered(CHIPS, case.chips):
            first = index[chip.first_period] if chip.first_period else 0
            last = index[chip.last_period] if chip.last_period else len(case.periods) - 1
            window = case.periods[first : last + 1]
            if not window:
                self.warnings.append(
                    f"{CHIPS}, row {row}: chip '{chip.chip}' is never available (last_period "
                    f"{chip.last_period} comes before first_period {chip.first_period})"
                )
            elif all(case.chip_supply_units.get((chip.chip, p)) == 0 for p in window):
                self.warnings.append(
                    f"{CHIPS}, row {row}: chip '{chip.chip}' is never available (max_units is 0 "
                    f"in {SUPPLY} in every period from {window[0]} to {window[-1]})"
                )

    def _contracts(self, case: Case) -> None:
        n = len(case.periods)
        index = _period_index(case)
        for row, contract in self._numbered(POWER, case.contracts):
            start = index[contract.first_period] if contract.first_period else 0
            ignored = [
                name
                for name, value in (
                    ("lead_periods", contract.lead_periods),
                    ("first_period", contract.first_period),
                    ("capex_musd_per_mw", contract.capex_musd_per_mw),
                )
                if value
            ]
            if contract.existing and ignored:
                self.warnings.append(
                    f"{POWER}, row {row}: contract '{contract.contract}' is existing: active from the "
                    f"first period at no signing cost, so its {_listed(ignored)} "
                    f"{'is' if len(ignored) == 1 else 'are'} ignored"
                )
            if not contract.existing and start + contract.lead_periods >= n:
                self.warnings.append(
                    f"{POWER}, row {row}: contract '{contract.contract}' can never be active "
                    f"within the horizon (first_period is period {start + 1} of {n}, "
                    f"lead_periods {contract.lead_periods})"
                )

    def _existing_power_ending(self, case: Case) -> None:
        """Firm power counts installed chips (the contract's row 5), and a chip stays installed for
        its whole life: where the only power ends within the horizon, a chip still in life then
        breaks that row, so none can be bought unless another contract takes over."""
        n = len(case.periods)
        index = _period_index(case)
        for row, contract in self._numbered(POWER, case.contracts):
            end = contract.term_periods
            if not contract.existing or end is None or end >= n:
                continue
            others = [
                other for q, other in case.contracts.items()
                if q != contract.contract and other.site == contract.site and other.firm_fraction > 0
            ]
            if not any(_can_be_active_in(other, end, index, n) for other in others):
                self.warnings.append(
                    f"{POWER}, row {row}: existing contract '{contract.contract}' ends after period {end} "
                    f"of {n}, and no other contract at site '{contract.site}' can give firm power in period "
                    f"{end + 1}; firm power counts installed chips, so in the v1 model no chip there may "
                    "still be in life when it ends (--unpowered-chips lets such chips sit unpowered)"
                )

    def _parameters(self, case: Case) -> None:
        """A rate above 100% a year, more hours than a year has or too few: most likely 8 typed
        for 8%, or hours per day, week or month."""
        p = case.parameters
        if p.discount_rate > 1:
            self.warnings.append(
                f"{PARAMETERS}: discount_rate {p.discount_rate:g} is {100 * p.discount_rate:g}% a year; "
                f"a rate is a fraction ({p.discount_rate / 100:g} for {p.discount_rate:g}%)"
            )
        if p.hours_per_year > HOURS_IN_A_LEAP_YEAR:
            self.warnings.append(
                f"{PARAMETERS}: hours_per_year {p.hours_per_year:g} is more than a year has "
                f"({HOURS_IN_A_LEAP_YEAR} in a leap year)"
            )
        elif p.hours_per_year < FEWEST_PLAUSIBLE_HOURS:
            self.warnings.append(
                f"{PARAMETERS}: hours_per_year {p.hours_per_year:g} is under {FEWEST_PLAUSIBLE_HOURS:,} "
                "hours: hours per day, week or month? (a year has 8760)"
            )

    def _discounted_to_nothing(self, case: Case) -> None:
        """Periods so far off at the case's rate that their costs weigh almost nothing: HiGHS may
        leave their demand unmet or their chips unbought at no visible cost, and their shadow
        prices, read per undiscounted unit, are its round-off magnified."""
        rate, start = case.parameters.discount_rate, 0.0
        for period, years in case.period_years.items():
            weight = (1 + rate) ** -start
            if weight < SMALLEST_DISCOUNT:
                self.warnings.append(
                    f"{PARAMETERS}: discount_rate {rate:g} weighs period '{period}' (from year {start:g}) "
                    f"and the later ones at {weight:.2g} or less of the first, below {SMALLEST_DISCOUNT:g}: "
                    "their costs come within HiGHS's tolerances of nothing, so the plan there may be "
                    "arbitrary (demand left unmet, say) and their shadow prices noise"
                )
                return
            start += years

    def _amounts_below_tolerance(self, case: Case) -> None:
        """Chips so fast for their power that serving a workload's largest demand takes a tiny
        fraction of a chip or of an MW: HiGHS's feasibility tolerances (1e-6, absolute, in chips
        and MW) then swallow the whole plan, which can leave buildings or power out of it."""
        largest: dict[str, float] = {}
        for (_w, _p, k), eflops in case.demand_eflops.items():
            largest[k] = max(largest.get(k, 0.0), eflops)
        for row, chip in self._numbered(CHIPS, case.chips):
            for k, eflops in largest.items():
                pflops = case.pflops(chip.chip, k)
                if eflops <= 0 or pflops <= 0:
                    continue
                units = eflops * 1000.0 / pflops
                it_mw = units * chip.kw / 1000.0
                if min(units, it_mw) < TINY_PLAN_AMOUNT:
                    self.warnings.append(
                        f"{CHIPS}, row {row}: chip '{chip.chip}' serves the largest demand of workload "
                        f"'{k}' ({eflops:g} EFLOPS) with {units:.3g} chips drawing {it_mw:.3g} IT MW: "
                        "amounts this small sit within the solver's tolerances (1e-6), so a plan may "
                        "leave them out of buildings, power or cost; check pflops (PFLOPS per chip) and "
                        "kw (kW per chip)"
                    )
                    break

    def _workloads(self, case: Case) -> None:
        if not case.chips:
            return  # already said: no chips at all
        for workload in case.workloads:
            if all(case.pflops(chip, workload) == 0 for chip in case.chips):
                self.warnings.append(
                    f"{DEMAND}: workload '{workload}' cannot be served by any chip "
                    f"(every chip has pflops 0 for it in {PERFORMANCE})"
                )


def _listed(names: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


_CALENDAR_ID = re.compile(r"(?:FY|Y)?[ _-]?((?:19|20|21)\d\d)(?:[ _-]?([QH])([1-4]))?", re.IGNORECASE)
"""A period id that reads as a year, or a quarter or half of one: 2030, 2027Q3, FY2030-H2."""


def _differences(pairs: list[tuple[float, float]]) -> str:
    """The cells that differ, as written: ``1.1 vs 1.1000000000000001 EFLOPS``."""
    return ", ".join(f"{a!r} vs {b!r} EFLOPS" for a, b in pairs if a != b)


def _calendar_key(period: str) -> tuple[int, float] | None:
    """Where a year-like period id falls in time; None for other ids (p1, now, phase-2)."""
    match = _CALENDAR_ID.fullmatch(period.strip())
    if match is None:
        return None
    year, part, number = match.groups()
    if part is None:
        return int(year), 0.0
    parts = 4 if part.upper() == "Q" else 2
    if int(number) > parts:
        return None
    return int(year), (int(number) - 1) / parts


def _can_be_active_in(contract: ContractRow, t: int, index: dict[str, int], n: int) -> bool:
    """Whether ``contract`` can be active in period index ``t`` (0-based) of ``n``."""
    if contract.existing:
        return contract.in_term_from_the_start(t)
    start = (index[contract.first_period] if contract.first_period else 0) + contract.lead_periods
    return start <= t < n


def _period_index(case: Case) -> dict[str, int]:
    return {period: i for i, period in enumerate(case.periods)}
