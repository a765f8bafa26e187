"""A plan frozen from an earlier run (``--fix-plan``): its buildings and contracts, read from the
run folder's ``builds.csv`` and ``contracts.csv``, checked against the case to solve, and handed
to the formulation as a :class:`LongLeadPlan`. Chips and operations stay free: the frozen plan is
re-scored under the case's demand, prices and power, as a strategist stress-tests a committed
build-out.

What is frozen is the decision as the contract names it: ``build`` in modules, ``sign`` as a share
of the contract. A case whose ``module_mw`` or contract ``mw`` differs from the plan's run gets
those modules and shares at its own sizes, with a warning. A decision the plan does not list is 0.

A decision is frozen the same in every scenario, so only what the plan's run took the same in
all its scenarios can be frozen: all of an ``all-at-once`` or ``plan-on-mean`` plan, a ``phased``
plan up to the period its scenarios part (``--fix-through``, the decisions after it left to the
model).
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field

from planner.case import Case
from planner.config import ModelConfig
from planner.csv_table import Checked, examples, parse_table, valid_models, validate_rows
from planner.errors import InputError, Problem
from planner.formulation import LongLeadPlan
from planner.loader import not_a_regular_file
from planner.schema import Id, Row

ALL_SCENARIOS = "all"
"""The node label of a decision taken the same in every scenario (see ``results._node_labels``)."""
SCENARIO_JOIN = "+"
EXISTING = "existing"
"""The ``period`` of an existing contract's row in a run's ``contracts.csv`` (not a decision)."""
SAME_VALUE = 1e-9
"""Relative difference under which two nodes' decisions are one decision (CSV keeps 10 digits)."""
SIZE_CHANGED = 1e-6
"""Relative difference of MW between the plan's row and the case that earns a warning."""


class PlanBuildRow(Row):
    """builds.csv of a plan: modules started at a site in a period."""

    site: Id = Field(description="id in sites")
    period: Id = Field(description="id in periods")
    node: Id = Field(ALL_SCENARIOS, description="'all', or the scenarios of the run joined by '+'")
    modules: float = Field(ge=0, description="modules started (module_mw each)")


class PlanSignRow(Row):
    """contracts.csv of a plan: the share of a contract signed in a period."""

    contract: Id = Field(description="id in power")
    period: Id = Field(description=f"id in periods, or '{EXISTING}' (not a decision; skipped)")
    node: Id = Field(ALL_SCENARIOS, description="'all', or the scenarios of the run joined by '+'")
    share: float = Field(ge=0, le=1, description="share of the contract's mw signed")


@dataclass(frozen=True)
class PlanFile:
    """One of the plan's two tables: its decision rows and what else each row says."""

    file: str
    """As named in messages: the plan folder as given, then the file name."""
    key_column: str
    key_file: str
    """The case file the ``key_column`` ids are in."""
    value_column: str
    informational: tuple[str, ...]
    """Columns a run writes beside the decision, read only for the size warning (``mw``)."""


BUILDS = PlanFile("builds.csv", "site", "sites.csv", "modules", ("mw", "ready_period"))
SIGNS = PlanFile(
    "contracts.csv", "contract", "power.csv", "share", ("site", "kind", "mw", "active_from", "active_until")
)


@dataclass(frozen=True)
class Decision:
    """One row of a plan: ``value`` modules or share of ``key`` in ``period`` at ``node``."""

    row: int
    key: str
    period: str
    node: str
    value: float
    mw: float | None
    """The row's own ``mw`` cell (the plan's size of the decision), when it has one."""


@dataclass(frozen=True)
class FrozenPlan:
    """A plan as read, not yet checked against a case (one plan serves every variant of a sweep)."""

    source: str
    builds: tuple[Decision, ...]
    signs: tuple[Decision, ...]
    through: str | None
    """Freeze the decisions of periods up to this one; None: every period."""
    run_scenarios: tuple[str, ...] | None
    """The scenarios of the plan's run (its ``summary.json``), to read node labels; None: unknown."""
    from_relaxed_run: bool

    def file(self, spec: PlanFile) -> str:
        return str(Path(self.source) / spec.file)


@dataclass(frozen=True)
class FittedPlan:
    """A frozen plan checked against one case: the decisions the formulation fixes."""

    decisions: LongLeadPlan
    source: str
    through: str | None

    def describe(self) -> dict[str, Any]:
        """What a run's summary says of the plan it froze."""
        return {
            "from": self.source,
            "through": self.through,
            "builds": sum(1 for v in self.decisions.build_modules.values() if v > 0),
            "signings": sum(1 for v in self.decisions.sign_share.values() if v > 0),
        }


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


def read_frozen_plan(folder: Path, through: str | None = None) -> FrozenPlan:
    """Read ``folder``'s ``builds.csv`` and ``contracts.csv`` (and the scenarios and integrality
    of its ``summary.json``, when there is one); every problem at once as an :class:`InputError`."""
    source = str(folder)
    if not folder.is_dir():
        expected = "an existing run folder (or a folder holding builds.csv and contracts.csv)"
        raise InputError([Problem(source, None, None, None, expected)])
    problems: list[Problem] = []
    builds = _decisions(folder, BUILDS, PlanBuildRow, problems)
    signs = _decisions(folder, SIGNS, PlanSignRow, problems)
    scenarios, relaxed = _run_summary(folder, problems)
    if problems:
        raise InputError(problems)
    return FrozenPlan(source, tuple(builds), tuple(signs), through, scenarios, relaxed)


def _decisions(folder: Path, spec: PlanFile, model: type[Row], problems: list[Problem]) -> list[Decision]:
    path = folder / spec.file
    shown = str(path)
    if not path.exists():
        expected = f"this file of the plan ({spec.file} of a run folder, or one in its columns)"
        problems.append(Problem(shown, None, None, None, expected))
        return []
    try:
        if not path.is_file():
            problems.append(Problem(shown, None, None, None, not_a_regular_file(path)))
            return []
        data = path.read_bytes()
    except OSError as error:
        problems.append(Problem(shown, None, None, None, f"a readable file ({error.strerror})"))
        return []
    required = {name for name, f in model.model_fields.items() if f.is_required()}
    table = parse_table(shown, data, [*model.model_fields, *spec.informational], required, problems)
    if table is None:
        return []
    checked = validate_rows(table, model, problems)
    _check_unique_decisions(shown, checked, spec, problems)
    return [
        Decision(
            row,
            getattr(decision, spec.key_column),
            decision.period,  # type: ignore[attr-defined]  # both row models have it
            decision.node,  # type: ignore[attr-defined]
            getattr(decision, spec.value_column),
            _number(next(c for c in checked if c.row == row).cells.get("mw", "")),
        )
        for row, decision in valid_models(checked, model)
    ]


def _check_unique_decisions(file: str, rows: list[Checked], spec: PlanFile, problems: list[Problem]) -> None:
    first: dict[tuple[str, ...], int] = {}
    for checked in rows:
        key = checked.key(spec.key_column, "period", "node", defaults={"node": ALL_SCENARIOS})
        if key is None or key[1] == EXISTING:
            continue
        if key in first:
            expected = f"one row per {spec.key_column}, period and node; row {first[key]} has the same"
            problems.append(Problem(file, checked.row, None, ", ".join(key), expected))
            checked.bad.add(spec.key_column)
        first.setdefault(key, checked.row)


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _run_summary(folder: Path, problems: list[Problem]) -> tuple[tuple[str, ...] | None, bool]:
    """The run's scenarios and whether it was an LP, from its ``summary.json`` (optional: a plan
    written by hand has none)."""
    path = folder / "summary.json"
    if not path.is_file():
        return None, False
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
        scenarios = tuple(summary["cost_by_scenario_musd"])
        relaxed = summary.get("integer") is False
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as error:
        expected = f"a planner run's summary.json, with cost_by_scenario_musd ({type(error).__name__})"
        problems.append(Problem(str(path), None, None, None, expected))
        return None, False
    return scenarios, relaxed


# --------------------------------------------------------------------------------------------
# Fitting to a case
# --------------------------------------------------------------------------------------------


def fit_frozen_plan(plan: FrozenPlan, case: Case, config: ModelConfig) -> tuple[FittedPlan, list[str]]:
    """``plan`` as decisions of ``case`` under ``config``'s policy, with warnings; an :class:`InputError`
    naming the plan's rows that ``case`` cannot take (unknown ids, a build before the site's
    ``earliest_period``, a decision that differs between the run's scenarios where it is frozen)."""
    policy = config.policy
    periods = list(case.periods)
    problems: list[Problem] = []
    warnings: list[str] = []
    last = len(periods) - 1
    through_t = last
    if plan.through is not None:
        if plan.through in periods:
            through_t = periods.index(plan.through)
        else:
            expected = f"a period of the case (periods.csv: {examples(periods)})"
            problems.append(Problem("--fix-through", None, None, plan.through, expected))
    parted: list[tuple[int, PlanFile, Decision]] = []
    builds = _fitted(plan, BUILDS, plan.builds, case.sites, periods, through_t, problems, parted)
    signs = _fitted(plan, SIGNS, plan.signs, case.contracts, periods, through_t, problems, parted)
    problems += _parted_problems(plan, parted, periods)
    for (s, t), (row, _) in builds.items():
        earliest = periods.index(case.sites[s].earliest_period or periods[0])
        rule = Rule(earliest, "earliest_period", policy, through_t < last)
        _check_decision_period(plan, BUILDS, row, t, rule, periods, problems)
    for (q, t), (row, _) in signs.items():
        contract = case.contracts[q]
        if contract.existing:
            expected = f"a contract to sign: {q} is an existing contract in this case (power.csv)"
            problems.append(Problem(plan.file(SIGNS), row.row, "contract", q, expected))
            continue
        first = periods.index(contract.first_period or periods[0])
        rule = Rule(first, "first_period", policy, through_t < last)
        _check_decision_period(plan, SIGNS, row, t, rule, periods, problems)
    if problems:
        raise InputError(problems)
    warnings += _size_warnings(plan, builds, {s: site.module_mw for s, site in case.sites.items()}, BUILDS)
    warnings += _size_warnings(plan, signs, {q: c.mw for q, c in case.contracts.items()}, SIGNS)
    if plan.from_relaxed_run and config.integer:
        warnings.append(
            f"the plan of {plan.source} comes from an LP run (--relax): its fractional modules and"
            " shares of indivisible contracts are frozen as they are"
        )
    decisions = LongLeadPlan(
        build_modules={key: value for key, (_, value) in builds.items()},
        sign_share={key: value for key, (_, value) in signs.items()},
        through_t=None if through_t == last else through_t,
    )
    through = None if through_t == last else periods[through_t]
    return FittedPlan(decisions, plan.source, through), warnings


def _fitted(
    plan: FrozenPlan,
    spec: PlanFile,
    decisions: Sequence[Decision],
    known: Collection[str],
    periods: list[str],
    through_t: int,
    problems: list[Problem],
    parted: list[tuple[int, PlanFile, Decision]],
) -> dict[tuple[str, int], tuple[Decision, float]]:
    """The frozen decisions of one file by (id, period index), unknown ids reported. A decision
    the run did not take the same in every scenario goes to ``parted`` (period index, file, row)."""
    file = plan.file(spec)
    decisions = [d for d in decisions if d.period != EXISTING]
    _unknown(file, decisions, "key", known, spec.key_column, f"an id of the case ({spec.key_file})", problems)
    _unknown(file, decisions, "period", periods, "period", "a period of the case (periods.csv)", problems)
    by_key: dict[tuple[str, int], list[Decision]] = {}
    for d in decisions:
        if d.key in known and d.period in periods and periods.index(d.period) <= through_t:
            by_key.setdefault((d.key, periods.index(d.period)), []).append(d)
    fitted: dict[tuple[str, int], tuple[Decision, float]] = {}
    for key, rows in by_key.items():
        value = _common_value(rows, plan.run_scenarios)
        if value is None:
            parted.append((key[1], spec, rows[0]))
        elif value > 0:
            fitted[key] = (rows[0], value)
    return fitted


def _parted_problems(
    plan: FrozenPlan, parted: list[tuple[int, PlanFile, Decision]], periods: list[str]
) -> list[Problem]:
    """One problem per file, at its first decision the run took differently across scenarios,
    naming the period where the plan's scenarios part and the ``--fix-through`` that freezes
    the periods before it."""
    if not parted:
        return []
    parted.sort(key=lambda item: (item[0], item[1].file, item[2].row))
    first_t = parted[0][0]
    before = f"--fix-through {periods[first_t - 1]}" if first_t > 0 else "none of its periods"
    problems = []
    for spec in (BUILDS, SIGNS):
        mine = [(t, d) for t, s, d in parted if s is spec]
        if not mine:
            continue
        t, d = mine[0]
        rows = sorted(d.row for _, d in mine)
        count = f"{len(rows)} of its rows, {examples(rows)}," if len(rows) > 1 else "this row"
        unknown = "" if plan.run_scenarios is not None else " (no summary.json tells the run's scenarios)"
        expected = (
            f"'{ALL_SCENARIOS}': a frozen decision is the same in every scenario, but the plan's run took"
            f" {count} at some scenarios only{unknown}, the first in {d.period}; the plan's scenarios"
            f" part in {periods[first_t]}: freeze the periods before ({before}) and let the model take"
            " the rest"
        )
        problems.append(Problem(plan.file(spec), d.row, "node", d.node, expected))
    return problems


def _unknown(
    file: str,
    decisions: Iterable[Decision],
    field_name: str,
    known: Collection[str],
    column: str,
    expected: str,
    problems: list[Problem],
) -> None:
    """One problem per unknown id (``field_name`` of a decision), at its first row, as the case
    loader reports references."""
    rows: dict[str, list[int]] = {}
    for d in decisions:
        value = getattr(d, field_name)
        if value not in known:
            rows.setdefault(value, []).append(d.row)
    for value, at in rows.items():
        more = f"; same value in {len(at) - 1} more rows: {examples(at[1:])}" if len(at) > 1 else ""
        problems.append(Problem(file, at[0], column, value, expected + more))


def _common_value(rows: list[Decision], run_scenarios: tuple[str, ...] | None) -> float | None:
    """The decision's value when the run took it the same in every scenario (one ``all`` row, or
    equal values at the nodes listed, and 0 if they leave a scenario out), else None."""
    if len(rows) == 1 and rows[0].node == ALL_SCENARIOS:
        return rows[0].value
    if run_scenarios is None:
        return None
    covered: list[str] = []
    for row in rows:
        scenarios = node_scenarios(row.node, run_scenarios)
        if scenarios is None:
            return None
        covered += scenarios
    values = [row.value for row in rows]
    if sorted(covered) != sorted(run_scenarios):
        values.append(0.0)  # a scenario at no listed node took no such decision
    same = max(values) - min(values) <= SAME_VALUE * max(1.0, max(values))
    return values[0] if same else None


def node_scenarios(label: str, scenarios: Sequence[str]) -> list[str] | None:
    """The scenarios a node label names (``all``, or ids joined by ``+``; an id may hold a ``+``
    itself), or None when it names none of them."""
    if label == ALL_SCENARIOS:
        return list(scenarios)
    known = set(scenarios)
    parts = label.split(SCENARIO_JOIN)
    # read[i]: the ids of parts[:i] when they join into known ids, tried from the longest id down
    read: dict[int, list[str]] = {0: []}
    for end in range(1, len(parts) + 1):
        for start in range(end):
            candidate = SCENARIO_JOIN.join(parts[start:end])
            if start in read and candidate in known:
                read[end] = [*read[start], candidate]
                break
    return read.get(len(parts))


@dataclass(frozen=True)
class Rule:
    """When the case lets an id's decision be taken: from ``earliest`` (the index of its
    ``column``, ``earliest_period`` or ``first_period``) on, or only then under all-at-once."""

    earliest: int
    column: str
    policy: str
    partial: bool
    """Only some periods are frozen: the model's policy takes the others."""


def _check_decision_period(
    plan: FrozenPlan,
    spec: PlanFile,
    row: Decision,
    t: int,
    rule: Rule,
    periods: list[str],
    problems: list[Problem],
) -> None:
    """A frozen decision in a period the case allows it in: not before the id's ``earliest_period``
    (``first_period``), and, where the model takes the periods after ``--fix-through`` under
    ``all-at-once``, only in that period (a model with such a decision has no room for it)."""
    where = f"{row.key}'s {rule.column} {periods[rule.earliest]} ({spec.key_file})"
    if t < rule.earliest:
        expected = f"a period from {where} on: the case allows no such decision before it"
        problems.append(Problem(plan.file(spec), row.row, "period", row.period, expected))
    elif rule.partial and rule.policy == "all-at-once" and t != rule.earliest:
        expected = (
            f"{where}: an all-at-once model decides only then; freeze the whole plan"
            " (no --fix-through) or use a phased model"
        )
        problems.append(Problem(plan.file(spec), row.row, "period", row.period, expected))


def _size_warnings(
    plan: FrozenPlan,
    fitted: dict[tuple[str, int], tuple[Decision, float]],
    unit_mw: dict[str, float],
    spec: PlanFile,
) -> list[str]:
    """A frozen decision whose MW in the case differ from the plan's own ``mw`` cell."""
    warnings = []
    for (key, _), (row, value) in fitted.items():
        here = value * unit_mw[key]
        if row.mw is not None and abs(here - row.mw) > SIZE_CHANGED * max(1.0, abs(row.mw)):
            warnings.append(
                f"{plan.file(spec)}, row {row.row}: {key}'s {value:g} {spec.value_column} are {here:,.6g} MW"
                f" in this case, {row.mw:,.6g} MW in the plan; the {spec.value_column} are frozen, at the"
                " case's sizes"
            )
    return warnings
