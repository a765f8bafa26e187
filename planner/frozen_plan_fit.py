"""A frozen plan (:mod:`planner.frozen_plan`) checked against the case to solve, as the
:class:`LongLeadPlan` the formulation fixes.

A decision is frozen the same in every scenario, so only what the plan's run took the same in all
its scenarios can be frozen: the buildings and contracts of an ``all-at-once`` or ``plan-on-mean``
plan, a ``phased`` plan up to the period its scenarios part (``--fix-through``, the decisions after
it left to the model), and chip purchases (``--fix-chips``, bought at the nodes of the run's
scenario tree under every model) up to the period they part. Sizes, prices, lead times and terms
are the case's; a decision the plan does not list is 0.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from planner.case import Case
from planner.config import ModelConfig
from planner.csv_table import examples, unknown_id_problems
from planner.errors import InputError, Problem
from planner.formulation import LongLeadPlan
from planner.formulation.sets import first_period_with_room
from planner.frozen_plan import (
    ALL_SCENARIOS,
    BUILDS,
    CHIPS,
    PERIODS_TABLE,
    SCENARIO_JOIN,
    SIGNS,
    SUMMARY,
    Decision,
    FrozenPlan,
    PlanFile,
)

SAME_VALUE = 1e-9
"""Relative difference under which two nodes' decisions are one decision (CSV keeps 10 digits)."""
SIZE_CHANGED = 1e-6
"""Relative difference of MW between the plan's row and the case that earns a warning."""
WHOLE = 1e-6
"""How far from a whole number a frozen module count (or an indivisible contract's share) may be."""
ROOM = 1e-6
"""Relative slack of the site cap and of "signed at most once" for a frozen plan (10-digit CSV)."""

Fitted = dict[tuple[str, int], tuple[Decision, float]]
"""(id, period index) -> the plan's row and the value frozen."""
FittedChips = dict[tuple[str, str, int], tuple[Decision, float]]
"""(chip, site, period index) -> the plan's row and the chips bought, frozen."""
Frozen = dict[tuple[tuple[str, ...], int], tuple[Decision, float]]
"""(the decision's ids, period index) -> the plan's row and the value frozen (either file kind)."""
LaterDecisions = dict[tuple[str, int, frozenset[str]], float]
"""(site or contract, period index, the scenarios of the node) -> modules or share the plan took
there, after ``--fix-through``: not frozen, a start for the solve (:attr:`FittedPlan.later_builds`)."""


@dataclass(frozen=True)
class FittedPlan:
    """A frozen plan checked against one case: the decisions the formulation fixes."""

    decisions: LongLeadPlan
    source: str
    through: str | None
    later_builds: LaterDecisions = field(default_factory=dict)
    """The plan's own buildings after ``--fix-through``, by the node they were taken at: the solve
    starts from them (with :attr:`later_signs`), so that freezing a plan's first periods never
    returns a dearer plan than the plan itself on the case it was made for."""
    later_signs: LaterDecisions = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        """What a run's summary says of the plan it froze (``chip_purchases`` with ``--fix-chips``:
        the chip, site and period rows frozen at more than 0)."""
        described = {
            "from": self.source,
            "through": self.through,
            "builds": sum(1 for v in self.decisions.build_modules.values() if v > 0),
            "signings": sum(1 for v in self.decisions.sign_share.values() if v > 0),
        }
        if self.decisions.chip_units is not None:
            described["chip_purchases"] = sum(1 for v in self.decisions.chip_units.values() if v > 0)
        return described


@dataclass
class _Fit:
    """The state of one fit: the case's periods, the frozen ones, and what was found."""

    plan: FrozenPlan
    case: Case
    config: ModelConfig
    through_t: int
    problems: list[Problem]
    parted: list[tuple[int, PlanFile, Decision]]

    @property
    def periods(self) -> list[str]:
        return list(self.case.periods)

    @property
    def partial(self) -> bool:
        return self.through_t < len(self.case.periods) - 1


def fit_frozen_plan(plan: FrozenPlan, case: Case, config: ModelConfig) -> tuple[FittedPlan, list[str]]:
    """``plan`` as decisions of ``case`` under ``config``, with warnings; an :class:`InputError`
    naming the plan's rows that ``case`` cannot take."""
    periods = list(case.periods)
    fit = _Fit(plan, case, config, len(periods) - 1, [], [])
    through_known = plan.through is None or plan.through in periods
    if plan.through is not None and through_known:
        fit.through_t = periods.index(plan.through)
    elif not through_known:
        expected = f"a period of the case (periods.csv: {examples(periods)})"
        fit.problems.append(Problem("--fix-through", None, None, plan.through, expected))
    _check_labels_readable(fit)
    _check_run_periods(fit)
    # fit.plan: the plan as _check_labels_readable left it (labels it refused are not read again)
    builds = _fitted(fit, BUILDS, fit.plan.builds, case.sites)
    signs = _fitted(fit, SIGNS, fit.plan.signs, case.contracts)
    chips = None if fit.plan.chips is None else _fitted_chips(fit, fit.plan.chips)
    _unknown(fit, SIGNS, plan.existing, "key", case.contracts, f"an id of the case ({SIGNS.key_file})")
    if through_known:  # else every row would be checked against a freeze of every period
        fit.problems += _parted_problems(fit)
        _check_periods_allowed(fit, builds, signs)
        _check_chip_periods(fit, chips or {})
        _check_room(fit, builds, signs)
    if fit.problems:
        raise InputError(fit.problems)
    warnings = [
        *_size_warnings(fit, builds, {s: site.module_mw for s, site in case.sites.items()}, BUILDS),
        *_size_warnings(fit, signs, {q: c.mw for q, c in case.contracts.items()}, SIGNS),
        *_fraction_warnings(fit, builds, signs),
        *_existing_warnings(fit),
        *_nothing_left_warnings(fit),
    ]
    decisions = LongLeadPlan(
        build_modules={key: value for key, (_, value) in builds.items()},
        sign_share={key: value for key, (_, value) in signs.items()},
        through_t=fit.through_t if fit.partial else None,
        chip_units=None if chips is None else {key: value for key, (_, value) in chips.items()},
    )
    later_builds = _later(fit, fit.plan.builds, case.sites) if fit.partial else {}
    later_signs = _later(fit, fit.plan.signs, case.contracts) if fit.partial else {}
    return FittedPlan(decisions, plan.source, plan.through, later_builds, later_signs), warnings


def _later(fit: _Fit, decisions: Sequence[Decision], known: Collection[str]) -> LaterDecisions:
    """The plan's decisions of the case's periods after ``--fix-through``, by (id, period index,
    the node's scenarios); rows whose id, period or node label the case cannot read are left out
    (they are a start, not a freeze)."""
    periods = fit.periods
    scenarios = fit.plan.run_scenarios or fit.case.scenarios
    later: LaterDecisions = {}
    for d in decisions:
        named = node_scenarios(d.node, scenarios)
        if d.key in known and d.period in periods and named is not None:
            t = periods.index(d.period)
            if t > fit.through_t:
                later[(d.key, t, frozenset(named))] = d.value
    return later


def _check_labels_readable(fit: _Fit) -> None:
    """Node labels name scenarios joined by '+', and ``all`` for every scenario: the labels of a
    run with a scenario named ``all`` cannot be read, nor those of a run whose ids hold a '+' when
    a frozen row is labelled with scenarios (the plan is refused, not guessed)."""
    scenarios = fit.plan.run_scenarios or ()
    called_all = [w for w in scenarios if w == ALL_SCENARIOS]
    joined = [w for w in scenarios if SCENARIO_JOIN in w]
    frozen = set(fit.periods[: fit.through_t + 1])
    rows = (*fit.plan.builds, *fit.plan.signs, *(fit.plan.chips or ()))
    labelled = any(d.node != ALL_SCENARIOS and d.period in frozen for d in rows)
    if called_all or (joined and labelled):
        expected = (
            "scenario ids other than 'all' and without '+' (the plan's node labels join scenario ids with"
            " '+' and call a node of every scenario 'all', so they cannot be read): rename the scenarios"
            " and solve again"
        )
        offending = ", ".join(called_all + joined)
        fit.problems.append(Problem(fit.plan.file(SUMMARY), None, None, offending, expected))
        fit.plan = _with_labels_ignored(fit.plan)


def _with_labels_ignored(plan: FrozenPlan) -> FrozenPlan:
    """``plan`` with its ``all`` rows only: its other labels are reported, not read again."""

    def common(rows: Sequence[Decision]) -> tuple[Decision, ...]:
        return tuple(d for d in rows if d.node == ALL_SCENARIOS)

    chips = None if plan.chips is None else common(plan.chips)
    return replace(plan, builds=common(plan.builds), signs=common(plan.signs), chips=chips)


def _check_run_periods(fit: _Fit) -> None:
    """Every frozen period of the case is one of the run's (when its periods are known): a plan
    says nothing of a period its run did not have, and freezing that period would build nothing."""
    run = fit.plan.run_periods
    if run is None:
        return
    common = [p for p in fit.periods if p in run]
    if common != [p for p in run if p in fit.periods]:
        expected = f"the case's periods in the order of the plan's run ({examples(list(run))})"
        file = fit.plan.file(PERIODS_TABLE)
        fit.problems.append(Problem(file, None, "period", ", ".join(common), expected))
        return
    frozen = fit.periods[: fit.through_t + 1]
    missing = [p for p in frozen if p not in run]
    if not missing:
        return
    t = fit.periods.index(missing[0])
    before = f"--fix-through {fit.periods[t - 1]}" if t > 0 else "none of them can be frozen"
    expected = (
        f"every frozen period of the case among the plan's run's ({examples(list(run))}): the plan says"
        f" nothing of {examples(missing)}; freeze the periods before ({before})"
    )
    fit.problems.append(Problem(fit.plan.file(PERIODS_TABLE), None, "period", missing[0], expected))


def _fitted(fit: _Fit, spec: PlanFile, decisions: Sequence[Decision], known: Collection[str]) -> Fitted:
    """The frozen buildings or signings by (site or contract, period index)."""
    frozen = _frozen(fit, spec, decisions, {"key": (known, spec.key_file)})
    return {(ids[0], t): value for (ids, t), value in frozen.items()}


def _fitted_chips(fit: _Fit, decisions: Sequence[Decision]) -> FittedChips:
    """The frozen chip purchases by (chip, site, period index)."""
    known: dict[str, tuple[Collection[str], str]] = {
        "key": (fit.case.chips, CHIPS.key_file),
        "site": (fit.case.sites, BUILDS.key_file),
    }
    frozen = _frozen(fit, CHIPS, decisions, known)
    return {(c, s, t): value for ((c, s), t), value in frozen.items()}


def _frozen(
    fit: _Fit,
    spec: PlanFile,
    decisions: Sequence[Decision],
    known: Mapping[str, tuple[Collection[str], str]],
) -> Frozen:
    """The frozen decisions of one file by (ids, period index), unknown ids (``known``: a
    decision's field -> the case's ids and their file) and periods reported. A decision the run did
    not take the same in every scenario goes to ``fit.parted``."""
    periods = fit.periods
    later = _after_the_freeze(fit)
    # Rows of periods after --fix-through are never frozen: their ids and periods need not be the case's.
    frozen = set(periods[: fit.through_t + 1])
    candidates = [
        d for d in decisions if d.period not in later and (d.period in frozen or d.period not in periods)
    ]
    for field_name, (ids, file) in known.items():
        _unknown(fit, spec, candidates, field_name, ids, f"an id of the case ({file})")
    _unknown(fit, spec, candidates, "period", periods, _period_expected(fit))
    by_key: dict[tuple[tuple[str, ...], int], list[Decision]] = {}
    for d in candidates:
        if (
            all(getattr(d, field_name) in ids for field_name, (ids, _) in known.items())
            and d.period in periods
            and periods.index(d.period) <= fit.through_t
        ):
            by_key.setdefault((d.ids, periods.index(d.period)), []).append(d)
    fitted: Frozen = {}
    for key, rows in by_key.items():
        value = _common_value(fit, spec, rows)
        if value is None:
            fit.parted.append((key[1], spec, rows[0]))
        elif value > 0:
            fitted[key] = (rows[0], value)
    return fitted


def _after_the_freeze(fit: _Fit) -> set[str]:
    """The run's periods after ``--fix-through`` (by the run's order) that the case does not have."""
    run = fit.plan.run_periods
    through = fit.plan.through
    if run is None or through is None or through not in run:
        return set()
    return set(run[run.index(through) + 1 :]) - set(fit.periods)


def _period_expected(fit: _Fit) -> str:
    expected = f"a period of the case (periods.csv: {examples(fit.periods)})"
    if fit.plan.run_periods is None and fit.partial:
        expected += (
            f"; without the run's {PERIODS_TABLE} planner cannot tell whether it comes after"
            " --fix-through: remove its rows"
        )
    elif fit.plan.run_periods is not None and set(fit.plan.run_periods) - set(fit.periods):
        common = [p for p in fit.plan.run_periods if p in fit.periods]
        if common:  # the run had periods this case has not
            expected += f"; to freeze only the periods both have: --fix-through {common[-1]}"
    return expected


def _unknown(
    fit: _Fit,
    spec: PlanFile,
    decisions: Sequence[Decision],
    field_name: str,
    known: Collection[str],
    expected: str,
) -> None:
    """One problem per unknown id (``field_name`` of a decision), as the case loader reports
    references."""
    rows: dict[str, list[int]] = {}
    for d in decisions:
        value = getattr(d, field_name)
        if value not in known:
            rows.setdefault(value, []).append(d.row)
    column = spec.key_column if field_name == "key" else field_name  # "site" of a chip, "period"
    fit.problems += unknown_id_problems(fit.plan.file(spec.file), column, rows, known, expected)


def _common_value(fit: _Fit, spec: PlanFile, rows: list[Decision]) -> float | None:
    """The decision's value when the run took it the same in every scenario (one ``all`` row, or
    equal values at the nodes listed, and 0 if they leave a scenario out), else None. Labels that
    name no scenario of the run, or nodes that overlap, are reported."""
    if len(rows) == 1 and rows[0].node == ALL_SCENARIOS:
        return rows[0].value
    scenarios = fit.plan.run_scenarios
    if scenarios is None:  # only 'all' reads: report the row labelled otherwise, not an 'all' beside it
        _bad_label(fit, spec, next((row for row in rows if row.node != ALL_SCENARIOS), rows[-1]))
        return 0.0  # reported; read as no decision so that nothing else is said of it
    covered: list[str] = []
    for row in rows:
        named = node_scenarios(row.node, scenarios)
        if named is None:
            _bad_label(fit, spec, row)
            return 0.0
        covered += named
    if len(covered) != len(set(covered)):
        expected = "nodes of one period that share no scenario (this row's repeats scenarios of another)"
        fit.problems.append(Problem(fit.plan.file(spec.file), rows[-1].row, "node", rows[-1].node, expected))
        return 0.0
    values = [row.value for row in rows]
    if len(covered) < len(scenarios or ()):
        values.append(0.0)  # a scenario at no listed node took no such decision
    same = max(values) - min(values) <= SAME_VALUE * max(1.0, max(values))
    return values[0] if same else None


def _bad_label(fit: _Fit, spec: PlanFile, row: Decision) -> None:
    scenarios = fit.plan.run_scenarios
    if scenarios is None:
        expected = f"'{ALL_SCENARIOS}' (without the run's {SUMMARY} the scenarios of a node are unknown)"
    else:
        expected = f"'{ALL_SCENARIOS}' or the run's scenarios joined by '+' ({examples(list(scenarios))})"
    fit.problems.append(Problem(fit.plan.file(spec.file), row.row, "node", row.node, expected))


def node_scenarios(label: str, scenarios: Sequence[str]) -> list[str] | None:
    """The scenarios a node label names (``all``, or ids joined by ``+``), or None when it names
    something else."""
    if label == ALL_SCENARIOS:
        return list(scenarios)
    named = label.split(SCENARIO_JOIN)
    return named if all(w in scenarios for w in named) else None


def _parted_problems(fit: _Fit) -> list[Problem]:
    """One problem per file, at its first decision the run took differently across scenarios,
    naming the period where the plan's scenarios part and the ``--fix-through`` that freezes
    the periods before it."""
    if not fit.parted:
        return []
    parted = sorted(fit.parted, key=lambda item: (item[0], item[1].file, item[2].row))
    first_t = parted[0][0]
    periods = fit.periods
    before = f"--fix-through {periods[first_t - 1]}" if first_t > 0 else "none of its periods"
    problems = []
    for spec in (BUILDS, SIGNS, CHIPS):
        mine = [d for _, s, d in parted if s is spec]
        if not mine:
            continue
        d = mine[0]
        others = sorted(other.row for other in mine[1:])
        likewise = ""
        if others:
            likewise = f", and so {'does row' if len(others) == 1 else 'do rows'} {examples(others)}"
        expected = (
            f"'{ALL_SCENARIOS}': a frozen decision is the same in every scenario, but the plan's run took"
            f" this one ({d.what} in {d.period}) in some scenarios only{likewise}. Its decisions part"
            f" between scenarios from {periods[first_t]} on: freeze the periods before ({before})"
            " and let the model take the rest"
        )
        problems.append(Problem(fit.plan.file(spec.file), d.row, "node", d.node, expected))
    return problems


def _check_periods_allowed(fit: _Fit, builds: Fitted, signs: Fitted) -> None:
    """A frozen decision in a period the case allows it in: not before the site's
    ``earliest_period`` (the contract's ``first_period``), a contract the case does not mark
    ``existing``, and, where the model takes the periods after ``--fix-through`` under
    ``all-at-once``, only in that period (such a model has no other decision to fix)."""
    periods, case = fit.periods, fit.case
    for (s, t), (row, _) in builds.items():
        earliest = periods.index(case.sites[s].earliest_period or periods[0])
        _check_period(fit, BUILDS, row, t, earliest, "earliest_period")
    for (q, t), (row, _) in signs.items():
        contract = case.contracts[q]
        if contract.existing:
            expected = f"a contract to sign: {q} is an existing contract in this case ({SIGNS.key_file})"
            fit.problems.append(Problem(fit.plan.file(SIGNS.file), row.row, "contract", q, expected))
            continue
        first = periods.index(contract.first_period or periods[0])
        _check_period(fit, SIGNS, row, t, first, "first_period")


def _check_period(fit: _Fit, spec: PlanFile, row: Decision, t: int, earliest: int, column: str) -> None:
    where = f"{row.key}'s {column} {fit.periods[earliest]} ({spec.key_file})"
    if t < earliest:
        expected = f"a period from {where} on: the case allows no such decision before it"
        fit.problems.append(Problem(fit.plan.file(spec.file), row.row, "period", row.period, expected))
    elif fit.partial and fit.config.policy == "all-at-once" and t != earliest:
        expected = (
            f"{where}: an all-at-once model decides only then; freeze the whole plan"
            " (no --fix-through) or use a phased model"
        )
        fit.problems.append(Problem(fit.plan.file(spec.file), row.row, "period", row.period, expected))


def _check_chip_periods(fit: _Fit, chips: FittedChips) -> None:
    """A frozen purchase in a period the case sells the chip in (from its ``first_period`` to its
    ``last_period``), and in which its site can hold chips: the model has no purchase where no IT
    MW can be built yet (no ``existing_mw``, and no module ready before ``earliest_period`` plus
    ``lead_periods``), and a frozen one there could only make a model with no plan."""
    periods, case = fit.periods, fit.case
    file = fit.plan.file(CHIPS.file)
    for (c, s, t), (row, value) in chips.items():
        chip, site = case.chips[c], case.sites[s]
        first = periods.index(chip.first_period or periods[0])
        last = periods.index(chip.last_period or periods[-1])
        room = first_period_with_room(site, periods)
        if not first <= t <= last:
            expected = (
                f"a period from {c}'s first_period {periods[first]} to its last_period {periods[last]}"
                f" ({CHIPS.key_file}): the case sells no {c} in {row.period}"
            )
            fit.problems.append(Problem(file, row.row, "period", row.period, expected))
        elif t < room:
            ready = f"from {periods[room]} on" if room < len(periods) else "in no period of the case"
            earliest = site.earliest_period or periods[0]
            expected = (
                f"a period in which {s} can hold chips: it has no existing_mw, and a module started in its"
                f" earliest_period {earliest} is ready {site.lead_periods} period(s) later"
                f" ({BUILDS.key_file}), so chips fit there {ready}; the plan buys {CHIPS.amount(value)}"
                f" of {c} in {row.period}"
            )
            fit.problems.append(Problem(file, row.row, "period", row.period, expected))


def _check_room(fit: _Fit, builds: Fitted, signs: Fitted) -> None:
    """The frozen modules fit the site (``existing_mw + module_mw * modules <= max_mw``) and a
    contract's frozen shares add up to at most 1 (signed at most once)."""
    for s, site in fit.case.sites.items():
        rows = [(row, v) for (key, _), (row, v) in builds.items() if key == s]
        total = math.fsum(v for _, v in rows)
        room = site.modules_that_fit()
        if rows and total > room * (1 + ROOM) + ROOM:
            expected = (
                f"at most {BUILDS.amount(room)} at {s} in all ((max_mw {site.max_mw:g} - existing_mw"
                f" {site.existing_mw:g}) / module_mw {site.module_mw:g}, {BUILDS.key_file}); the plan starts"
                f" {total:g}"
            )
            file = fit.plan.file(BUILDS.file)
            fit.problems.append(Problem(file, rows[0][0].row, "modules", f"{rows[0][1]:g}", expected))
    for q in fit.case.contracts:
        rows = [(row, v) for (key, _), (row, v) in signs.items() if key == q]
        total = math.fsum(v for _, v in rows)
        if rows and total > 1 + ROOM:
            expected = (
                f"shares of {q} adding up to at most 1 (a contract is signed at most once); the plan signs"
                f" {total:g}"
            )
            file = fit.plan.file(SIGNS.file)
            fit.problems.append(Problem(file, rows[-1][0].row, "share", f"{rows[-1][1]:g}", expected))


def _size_warnings(fit: _Fit, fitted: Fitted, unit_mw: dict[str, float], spec: PlanFile) -> list[str]:
    """A frozen decision whose MW in the case differ from the plan's own ``mw`` cell."""
    warnings = []
    for (key, _), (row, value) in fitted.items():
        here = value * unit_mw[key]
        if row.mw is not None and abs(here - row.mw) > SIZE_CHANGED * max(1.0, abs(row.mw)):
            warnings.append(
                f"{fit.plan.file(spec.file)}, row {row.row}: {key}, {spec.amount(value)} in {row.period}:"
                f" {here:,.6g} MW in this case, {row.mw:,.6g} MW in the plan; frozen as {spec.amount(value)},"
                " at the case's size"
            )
    return warnings


def _fraction_warnings(fit: _Fit, builds: Fitted, signs: Fitted) -> list[str]:
    """In an integer model: frozen modules that are not whole, and parts of indivisible contracts
    (a plan from an LP run): legal, kept as they are, worth saying."""
    if not fit.config.integer:
        return []
    parts = [
        f"{key}: {BUILDS.amount(v)} in {row.period}"
        for (key, _), (row, v) in builds.items()
        if abs(v - round(v)) > WHOLE
    ] + [
        f"{key}: {SIGNS.amount(v)} in {row.period}"
        for (key, _), (row, v) in signs.items()
        if not fit.case.contracts[key].divisible and WHOLE < v < 1 - WHOLE
    ]
    if not parts:
        return []
    return [
        f"the plan of {fit.plan.source} starts parts of modules or signs parts of indivisible contracts"
        f" (a plan from an LP run?): {examples(parts)}; frozen as they are"
    ]


def _existing_warnings(fit: _Fit) -> list[str]:
    """A contract existing in the plan's run but to sign in the case: the plan signs none of it."""
    return [
        f"{fit.plan.file(SIGNS.file)}, row {row.row}: {row.key} was an existing contract in the plan's run"
        f" and is one to sign in this case ({SIGNS.key_file}); the frozen plan signs none of it"
        for row in fit.plan.existing
        if row.key in fit.case.contracts and not fit.case.contracts[row.key].existing
    ]


def _nothing_left_warnings(fit: _Fit) -> list[str]:
    """All-at-once decides each site and contract once, in its first allowed period: with
    ``--fix-through`` at or after all of those, nothing is left for the model to decide."""
    if not fit.partial or fit.config.policy != "all-at-once":
        return []
    periods, case = fit.periods, fit.case
    firsts = [periods.index(site.earliest_period or periods[0]) for site in case.sites.values()] + [
        periods.index(c.first_period or periods[0]) for c in case.contracts.values() if not c.existing
    ]
    if any(t > fit.through_t for t in firsts):
        return []
    return [
        f"under all-at-once every building and contract is decided by {periods[fit.through_t]}, so with"
        f" --fix-through {periods[fit.through_t]} all of them are frozen and the model decides none"
    ]
