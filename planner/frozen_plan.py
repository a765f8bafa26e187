"""A plan to freeze (``--fix-plan``), read from an earlier run's folder: its buildings and contracts
(``builds.csv``, ``contracts.csv``), with ``--fix-chips`` its chip purchases (``chips.csv``), and
what the run's ``summary.json`` and ``capex_by_period.csv`` say of its scenarios and periods.
:mod:`planner.frozen_plan_fit` checks it against the case to solve and hands it to the formulation.

What is frozen is the decision as the contract names it: ``build`` in modules, ``sign`` as a share
of the contract, ``buy`` in chips. A folder holding only the plan files, in their columns, is a plan
written by hand (its node labels must then all be ``all``).
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field

from planner.csv_table import Checked, parse_table, valid_models, validate_rows
from planner.errors import InputError, Problem
from planner.loader import not_a_regular_file
from planner.schema import Id, Row

ALL_SCENARIOS = "all"
"""The node label of a decision taken the same in every scenario (see ``results._node_labels``)."""
SCENARIO_JOIN = "+"
"""Node labels join the ids of their scenarios with this."""
EXISTING = "existing"
"""The ``period`` of an existing contract's row in a run's ``contracts.csv`` (not a decision)."""
SUMMARY = "summary.json"
PERIODS_TABLE = "capex_by_period.csv"


class PlanBuildRow(Row):
    """builds.csv of a plan: modules started at a site in a period."""

    site: Id = Field(description="id in sites")
    period: Id = Field(description="id in periods")
    node: Id = Field(ALL_SCENARIOS, description="'all', or the scenarios of the run joined by '+'")
    modules: float = Field(ge=0, description="modules started (module_mw each)")


class PlanSignRow(Row):
    """contracts.csv of a plan: the share of a contract signed in a period."""

    contract: Id = Field(description="id in power")
    period: Id = Field(description=f"id in periods, or '{EXISTING}' (an existing contract, no decision)")
    node: Id = Field(ALL_SCENARIOS, description="'all', or the scenarios of the run joined by '+'")
    share: float = Field(ge=0, le=1, description="share of the contract's mw signed")


class PlanChipRow(Row):
    """chips.csv of a plan: chips of a type bought for a site in a period."""

    chip: Id = Field(description="id in chips")
    site: Id = Field(description="id in sites")
    period: Id = Field(description="id in periods")
    node: Id = Field(ALL_SCENARIOS, description="'all', or the scenarios of the run joined by '+'")
    bought: float = Field(ge=0, description="chips bought")


@dataclass(frozen=True)
class PlanFile:
    """One of the plan's tables."""

    file: str
    key_column: str
    key_file: str
    """The case file the ``key_column`` ids are in."""
    value_column: str
    informational: tuple[str, ...]
    """Columns a run writes beside the decision, read only for the size warning (``mw``)."""
    at_site: bool = False
    """Its decisions are of a ``key_column`` id at a site (chips.csv: a chip bought for a site)."""
    flag: str | None = None
    """The flag that asks for this file, when the plan may go without it."""

    @property
    def id_columns(self) -> tuple[str, ...]:
        """The columns naming what a decision is of: ``site``, ``contract``, ``chip`` and ``site``."""
        return (self.key_column, "site") if self.at_site else (self.key_column,)

    def amount(self, value: float) -> str:
        """``2 modules``, ``1 module``, ``share 0.4``, ``1,000 chips``."""
        if self.value_column == "share":
            return f"share {value:g}"
        if self.value_column == "bought":
            return f"{value:,.10g} chip" if value == 1 else f"{value:,.10g} chips"
        return f"{value:g} module" if value == 1 else f"{value:g} modules"


BUILDS = PlanFile("builds.csv", "site", "sites.csv", "modules", ("mw", "ready_period"))
SIGNS = PlanFile(
    "contracts.csv",
    "contract",
    "power.csv",
    "share",
    ("site", "kind", "mw", "active_from", "active_until"),
)
CHIPS = PlanFile(
    "chips.csv", "chip", "chips.csv", "bought", ("probability", "fleet"), at_site=True, flag="--fix-chips"
)


@dataclass(frozen=True)
class Decision:
    """One row of a plan: ``value`` modules, share or chips of ``key`` (at ``site``) in ``period``
    at ``node``."""

    row: int
    key: str
    period: str
    node: str
    value: float
    mw: float | None
    """The row's own ``mw`` cell (the plan's size of the decision), when it has one."""
    site: str | None = None
    """The site a chip is bought for (chips.csv, whose ``key`` is the chip); None in the other files."""

    @property
    def ids(self) -> tuple[str, ...]:
        """What the decision is of: ``(site,)``, ``(contract,)``, ``(chip, site)``."""
        return (self.key,) if self.site is None else (self.key, self.site)

    @property
    def what(self) -> str:
        """``a``, ``grid``, ``g at a``."""
        return " at ".join(self.ids)


@dataclass(frozen=True)
class FrozenPlan:
    """A plan as read, not yet checked against a case (one plan serves every variant of a sweep)."""

    source: str
    builds: tuple[Decision, ...]
    signs: tuple[Decision, ...]
    """The signings; rows of ``existing`` contracts are in :attr:`existing`."""
    existing: tuple[Decision, ...]
    through: str | None
    """Freeze the decisions of periods up to this one; None: every period."""
    run_scenarios: tuple[str, ...] | None
    """The scenarios of the plan's run (its ``summary.json``), to read node labels; None: unknown."""
    run_periods: tuple[str, ...] | None
    """The periods of the plan's run (its ``capex_by_period.csv``), in order; None: unknown."""
    chips: tuple[Decision, ...] | None = None
    """The chip purchases, with ``--fix-chips``; None: chips are not frozen."""

    def file(self, name: str) -> str:
        """A file of the plan's folder, as messages name it."""
        return str(Path(self.source) / name)


def read_frozen_plan(folder: Path, through: str | None = None, chips: bool = False) -> FrozenPlan:
    """Read ``folder``'s plan, with its chip purchases when ``chips``; every problem at once as an
    :class:`InputError`."""
    source = str(folder)
    if not folder.is_dir():
        expected = "an existing run folder (or a folder holding builds.csv and contracts.csv)"
        raise InputError([Problem(source, None, None, None, expected)])
    if not (folder / BUILDS.file).exists() and (other := _other_run_kind(folder)):
        raise InputError([Problem(source, None, None, None, f"a solve's run folder: {other}")])
    problems: list[Problem] = []
    scenarios = _run_scenarios(folder, problems)
    builds = _decisions(folder, BUILDS, PlanBuildRow, scenarios, problems)
    signs = _decisions(folder, SIGNS, PlanSignRow, scenarios, problems)
    bought = _decisions(folder, CHIPS, PlanChipRow, scenarios, problems) if chips else None
    if problems:
        raise InputError(problems)
    run_periods = _run_periods(folder, problems)
    if problems:
        raise InputError(problems)
    existing = tuple(d for d in signs if d.period == EXISTING)
    signed = tuple(d for d in signs if d.period != EXISTING)
    return FrozenPlan(
        source,
        tuple(builds),
        signed,
        existing,
        through,
        scenarios,
        run_periods,
        None if bought is None else tuple(bought),
    )


def _other_run_kind(folder: Path) -> str | None:
    """What to do with a compare or sweep folder, which hold several plans."""
    if (folder / "comparison.csv").exists() or any(folder.glob("builds-*.csv")):
        return (
            "this is a compare folder, with a plan per strategy (builds-<model>.csv, contracts-<model>.csv,"
            " chips-<model>.csv): copy one strategy's files into a folder as builds.csv and contracts.csv"
            " (and chips.csv for --fix-chips), and freeze that"
        )
    if (folder / "variants.csv").exists():
        # A sweep of several models (it has strategies.csv) keeps each model's plans apart.
        several = (folder / "strategies.csv").exists()
        plans = "plans/<model>/<n>-<variant>/" if several else "plans/<n>-<variant>/"
        return f"this is a sweep folder: freeze one variant's plan, in its {plans} folder"
    return None


def _decisions(
    folder: Path, spec: PlanFile, model: type[Row], scenarios: tuple[str, ...] | None, problems: list[Problem]
) -> list[Decision]:
    path = folder / spec.file
    shown = str(path)
    if not path.exists():
        where = f"{spec.file} of a run folder, or one in its columns: {', '.join(model.model_fields)}"
        expected = f"this file of the plan ({where})"
        if spec.flag is not None:
            expected = (
                f"this file of the plan, which is missing: {spec.flag} freezes the decisions it lists"
                f" ({where}); leave {spec.flag} out to freeze the buildings and contracts alone"
            )
        problems.append(Problem(shown, None, None, None, expected))
        return []
    data = _file_bytes(path, problems)
    if data is None:
        return []
    required = {name for name, f in model.model_fields.items() if f.is_required()}
    table = parse_table(shown, data, [*model.model_fields, *spec.informational], required, problems)
    if table is None:
        return []
    checked = validate_rows(table, model, problems)
    _check_unique_decisions(shown, checked, spec, scenarios, problems)
    cells = {c.row: c.cells for c in checked}
    rows = [(row, decision.model_dump()) for row, decision in valid_models(checked, model)]
    return [
        Decision(
            row,
            values[spec.key_column],
            values["period"],
            values["node"],
            values[spec.value_column],
            _number(cells[row].get("mw", "")),
            values["site"] if spec.at_site else None,
        )
        for row, values in rows
    ]


def _check_unique_decisions(
    file: str, rows: list[Checked], spec: PlanFile, scenarios: tuple[str, ...] | None, problems: list[Problem]
) -> None:
    """One row per id (chip and site), period and node. Not checked where scenario ids hold a '+': a
    run's node of scenarios ``x`` and ``y`` and its scenario ``x+y`` then share a label (refused when
    fitted)."""
    ambiguous = scenarios is not None and any(SCENARIO_JOIN in w for w in scenarios)
    first: dict[tuple[str, ...], int] = {}
    for checked in rows:
        key = checked.key(*spec.id_columns, "period", "node", defaults={"node": ALL_SCENARIOS})
        if key is None or key[-2] == EXISTING or (ambiguous and key[-1] != ALL_SCENARIOS):
            continue
        if key in first:
            expected = (
                f"one row per {', '.join(spec.id_columns)}, period and node; row {first[key]} has the same"
            )
            problems.append(Problem(file, checked.row, None, ", ".join(key), expected))
            checked.bad.add(spec.key_column)
        first.setdefault(key, checked.row)


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _run_scenarios(folder: Path, problems: list[Problem]) -> tuple[str, ...] | None:
    """The run's scenarios, from its ``summary.json`` (optional: a plan written by hand has none)."""
    path = folder / SUMMARY
    if not path.exists():
        return None
    expected = (
        "a planner run's summary.json: a JSON object whose cost_by_scenario_musd names the run's"
        " scenarios"
    )
    data = _file_bytes(path, problems)
    if data is None:
        return None
    try:
        summary: Any = json.loads(data.decode("utf-8"))
    except ValueError:  # not JSON, or not UTF-8
        problems.append(Problem(str(path), None, None, None, expected))
        return None
    scenarios = summary.get("cost_by_scenario_musd") if isinstance(summary, dict) else None
    if not isinstance(scenarios, dict) or not scenarios or not all(w for w in scenarios):
        problems.append(Problem(str(path), None, "cost_by_scenario_musd", None, expected))
        return None
    return tuple(scenarios)


def _run_periods(folder: Path, problems: list[Problem]) -> tuple[str, ...] | None:
    """The run's periods, in order, from its ``capex_by_period.csv``; None without one (a plan
    written by hand): then nothing is checked against them."""
    path = folder / PERIODS_TABLE
    if not path.exists():
        return None
    expected = (
        "a planner run's capex_by_period.csv: a period column naming each of the run's periods once"
    )
    data = _file_bytes(path, problems)
    if data is None:
        return None
    try:
        records = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
        periods = tuple((record.get("period") or "").strip() for record in records)
    except (ValueError, csv.Error):  # not UTF-8, or not CSV
        problems.append(Problem(str(path), None, None, None, expected))
        return None
    if not periods or not all(periods) or len(set(periods)) != len(periods):
        problems.append(Problem(str(path), None, "period", None, expected))
        return None
    return periods


def _file_bytes(path: Path, problems: list[Problem]) -> bytes | None:
    """The bytes of ``path`` (which exists), or None with the problem reported: not a regular file
    (a folder, a pipe that would block the run), or unreadable."""
    try:
        if not path.is_file():
            problems.append(Problem(str(path), None, None, None, not_a_regular_file(path)))
            return None
        return path.read_bytes()
    except OSError as error:
        problems.append(Problem(str(path), None, None, None, f"a readable file ({error.strerror})"))
        return None
