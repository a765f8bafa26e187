"""Read a case folder of CSV files (``shared/spec/inputs.md``) into a validated :class:`Case`.

Which files and columns a case has, and every check across rows and files (unique ids,
references, complete demand, probabilities, the scenario tree), live here; reading and
validating one table cell by cell is :mod:`planner.csv_table`. All problems of a case are
reported together: a user fixing a case should see the whole list at once, not one error per run.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ValidationError

from planner.case import Case
from planner.csv_table import (
    REQUIRED,
    CellError,
    Checked,
    FieldKind,
    M,
    RawRow,
    Table,
    check_reference,
    check_unique,
    convert_cell,
    examples,
    field_kinds,
    is_blank,
    ordered_ids,
    parse_table,
    shifted_cells_warning,
    valid_models,
    validate_rows,
)
from planner.errors import InputError, Problem
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

PROBABILITY_TOLERANCE = 1e-6
"""Probabilities must sum to 1 within this (inputs.md), equality included."""
FLOAT_SLACK = 1e-12
"""Decimal probabilities exactly 1e-6 from 1 (3 x 0.333333) sum, as binary floats, up to ~3e-17
further away; this keeps them within the tolerance they meet as written."""
SUSPICIOUS_PUE = 3.0
"""Data-center PUEs lie between about 1.1 and 2; above this a percentage was most likely typed."""
HOURS_IN_A_LEAP_YEAR = 8784
FEWEST_PLAUSIBLE_HOURS = 1000
"""Fewer hours a year than this read as hours per day (24), week (168) or month (730)."""
TINY_PLAN_AMOUNT = 1e-3
"""Chips or IT MW below which a plan's amounts come within 1,000 times HiGHS's feasibility
tolerance (1e-6): see :meth:`_CaseReader._warn_amounts_below_tolerance`."""
DEMAND_DEFAULTS = {"scenario": "base"}
"""demand.csv's scenario is ``base`` when the column is absent or the cell blank."""

__all__ = ["FILES", "InputError", "Problem", "field_kinds", "load_case"]
"""Problem and InputError live in planner.errors (shared with the CLI and the model TOML
reader); they are re-exported here as part of the loader's API, as is field_kinds (the
sweep and the schema document describe columns with it)."""


def load_case(folder: str | Path) -> tuple[Case, list[str]]:
    """Read and validate a case folder; return the Case and a list of warnings (legal but
    suspicious). Raises InputError with every problem found."""
    return _CaseReader(Path(folder)).read()


# --------------------------------------------------------------------------------------------
# Files and fields
# --------------------------------------------------------------------------------------------


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
ROUND_OFF = 1e-9
"""Relative difference below which two demand cells read as the same number typed two ways."""
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



# --------------------------------------------------------------------------------------------
# The case reader
# --------------------------------------------------------------------------------------------


class _CaseReader:
    """Reads one folder. Files are checked in dependency order (periods before everything that
    refers to them); every check appends to ``problems`` and the Case is only built if none."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.problems: list[Problem] = []
        self.warnings: list[str] = []
        self.data: dict[str, bytes] = {}
        self.unreadable: set[str] = set()
        self.misnamed: dict[str, list[str]] = {}
        """Absent input file -> how each look-alike of it was found and why it is not read."""
        self.tables: dict[str, list[Checked] | None] = {}
        self.missing_columns: dict[str, set[str]] = {}
        self.scenarios_without_demand: set[str] = set()
        self.periods: list[str] | None = None
        self.scenarios: list[str] | None = None
        self.workloads: list[str] | None = None

    # -- top level ---------------------------------------------------------------------------

    def read(self) -> tuple[Case, list[str]]:
        if not self.folder.is_dir():
            expected = "an existing folder holding the case's CSV files"
            raise InputError([Problem(str(self.folder), None, None, None, expected)])
        fingerprint = self._read_files()
        parameters = self._parameters()
        self._periods()
        self._scenarios()
        self._demand()
        self._sites()
        self._chips()
        self._chip_performance()
        self._chip_supply()
        self._power()
        self._budget()
        if self.problems:
            raise InputError(sorted(self.problems, key=_problem_order))
        assert parameters is not None  # no problems means parameters validated
        case = self._build(parameters, fingerprint)
        self._warn(case)
        return case, self.warnings

    def _read_files(self) -> str:
        """Read every *.csv once: the same bytes feed the parser and the fingerprint."""
        digest = hashlib.sha256()
        for path in sorted(self.folder.glob("*.csv")):
            if not path.is_file():
                if path.name in FILES:  # present but not a file: never "absent", even if optional
                    self.problems.append(Problem(path.name, None, None, None, not_a_regular_file(path)))
                    self.unreadable.add(path.name)
                continue
            try:
                content = path.read_bytes()
            except OSError as error:
                self.problems.append(
                    Problem(path.name, None, None, None, f"a readable file ({error.strerror})")
                )
                self.unreadable.add(path.name)  # reported; not "missing" as well
                continue
            self.data[path.name] = content
            for part in (path.name.encode(), str(len(content)).encode(), content):
                digest.update(part + b"\0")  # separators keep (name, bytes) pairs unambiguous
            if path.name not in FILES and _resembled(path.name) is None:
                self.warnings.append(f"{path.name}: not a file of the input format; ignored")
        self._find_misnamed()
        return digest.hexdigest()

    def _find_misnamed(self) -> None:
        """Note names that differ from an input file's only in letter case, surrounding spaces or
        an extension added after it: they are never read, so when that file is absent the case
        would quietly run without it (an error, in :meth:`_table`); beside it, they are a stale
        copy (a warning)."""
        try:
            names = sorted(path.name for path in self.folder.iterdir())
        except OSError:
            return  # an unlistable folder: its files are reported missing, nothing to point at
        for found in names:
            resembled = _resembled(found)
            if resembled is None:
                continue
            name, written = resembled
            because = _misnamed_because(found, written)
            if name in self.data or name in self.unreadable:
                self.warnings.append(f"{found!r}: not read; {name} is read instead ({because})")
            else:
                self.misnamed.setdefault(name, []).append(f"found {found!r}, which is not read: {because}")

    def _table(self, spec: FileSpec, known: Sequence[str] | None = None) -> Table | None:
        """The parsed table of a file, or None when absent or unusable (after reporting)."""
        if spec.name not in self.data:
            if spec.name in self.unreadable:
                return None  # reported; not "missing" as well
            for seen in self.misnamed.get(spec.name, []):
                self.problems.append(Problem(spec.name, None, None, None, _misnamed_text(spec, seen)))
            if spec.required and spec.name not in self.misnamed:
                expected = "this required file, missing from the case folder"
                self.problems.append(Problem(spec.name, None, None, None, expected))
            return None
        kinds = field_kinds(spec.model)
        columns = list(known or kinds)
        required = {name for name in columns if known or kinds[name].required}
        content = self.data[spec.name]
        if not spec.required and not content.strip():
            self.warnings.append(f"{spec.name}: the file is empty; treated as absent")
            return None
        table = parse_table(spec.name, content, columns, required, self.problems)
        if table is not None:
            self.warnings += shifted_cells_warning(table)
        return table

    def _rows(self, name: str) -> list[Checked] | None:
        spec = FILES[name]
        table = self._table(spec)
        if table is None:
            self.tables[name] = None
            return None
        self.missing_columns[name] = table.missing
        rows = validate_rows(table, spec.model, self.problems)
        self.tables[name] = rows
        return rows

    def _ids(self, name: str, column: str) -> list[str] | None:
        """Ids defined by a file, or None when the file is absent or its id column unusable
        (then references to it can't be checked, and its own problem explains why)."""
        rows = self.tables.get(name)
        if rows is None or column in self.missing_columns.get(name, set()):
            return None
        return ordered_ids(rows, column)

    # -- parameters --------------------------------------------------------------------------

    def _parameters(self) -> ParameterValues | None:
        table = self._table(FILES[PARAMETERS], known=("name", "value"))
        if table is None or table.missing:
            return None
        kinds = field_kinds(ParameterValues)
        values: dict[str, object] = {}
        rows: dict[str, RawRow] = {}
        bad: set[str] = set()
        for raw in table.rows:
            name = self._parameter_name(raw, rows, kinds)
            if name is None:
                continue
            rows[name] = raw
            text = raw.cells["value"]
            if is_blank(text):
                continue  # blank value: the default, or "required" below
            try:
                values[name] = convert_cell(text, kinds[name])
            except CellError as error:
                self.problems.append(Problem(PARAMETERS, raw.row, "value", text, error.expected))
                bad.add(name)
        return self._parameter_values(values, rows, bad)

    def _parameter_name(
        self, raw: RawRow, seen: dict[str, RawRow], kinds: dict[str, FieldKind]
    ) -> str | None:
        name = raw.cells["name"]
        if is_blank(name):
            expected = f"a parameter name ({REQUIRED})"
            self.problems.append(Problem(PARAMETERS, raw.row, "name", name, expected))
            return None
        if name not in kinds:
            expected = f"a parameter name: one of {', '.join(kinds)}"
            self.problems.append(Problem(PARAMETERS, raw.row, "name", name, expected))
            return None
        if name in seen:
            expected = f"each parameter once; row {seen[name].row} has the same"
            self.problems.append(Problem(PARAMETERS, raw.row, "name", name, expected))
            return None
        return name

    def _parameter_values(
        self, values: dict[str, object], rows: dict[str, RawRow], bad: set[str]
    ) -> ParameterValues | None:
        """Validate the collected values; map errors back to the row of each parameter."""
        kinds = field_kinds(ParameterValues)
        try:
            parameters = ParameterValues.model_validate(values)
            return None if bad else parameters
        except ValidationError as error:
            for detail in error.errors():
                name = str(detail["loc"][0]) if detail["loc"] else ""
                if name in bad or name not in kinds:
                    continue
                raw = rows.get(name)
                if raw is None:  # no row at all for a required parameter
                    expected = f"a row for the required parameter '{name}'"
                    self.problems.append(Problem(PARAMETERS, None, "name", None, expected))
                    continue
                expected = kinds[name].expected
                if detail["type"] == "missing":
                    expected += f" ({REQUIRED})"
                text = raw.cells["value"]
                self.problems.append(Problem(PARAMETERS, raw.row, "value", text, expected))
            return None

    # -- periods and scenarios ---------------------------------------------------------------

    def _periods(self) -> None:
        rows = self._rows(PERIODS)
        if rows is None:
            return
        check_unique(PERIODS, rows, ["period"], "a unique period id", self.problems)
        self.periods = self._ids(PERIODS, "period")
        if not rows:
            self.problems.append(Problem(PERIODS, None, None, None, "at least one period row"))

    def _scenarios(self) -> None:
        rows = self._rows(SCENARIOS)
        if rows is None:
            return
        check_unique(SCENARIOS, rows, ["scenario"], "a unique scenario id", self.problems)
        self.scenarios = self._ids(SCENARIOS, "scenario")
        models = valid_models(rows, ScenarioRow)
        if rows and len(models) == len(rows):  # a sum over partly bad rows would only mislead
            total = math.fsum(m.probability for _, m in models)
            if abs(total - 1.0) > PROBABILITY_TOLERANCE + FLOAT_SLACK:
                expected = f"probabilities that sum to 1 (within 1e-6); they sum to {total:.10g}"
                self.problems.append(Problem(SCENARIOS, None, "probability", None, expected))

    # -- demand ------------------------------------------------------------------------------

    def _demand(self) -> None:
        rows = self._rows(DEMAND)
        if rows is None:
            return
        if not rows:
            self.problems.append(Problem(DEMAND, None, None, None, "at least one demand row"))
        check_reference(DEMAND, rows, "period", self.periods, "an id in periods.csv", self.problems)
        if self.scenarios is not None:
            expected = "an id in scenarios.csv (a blank scenario means 'base')"
            check_reference(
                DEMAND, rows, "scenario", self.scenarios, expected, self.problems, DEMAND_DEFAULTS
            )
            self._scenarios_without_demand(rows)
        else:  # no usable scenarios.csv: the scenarios of demand.csv, equally likely
            self.scenarios = ordered_ids(rows, "scenario", defaults=DEMAND_DEFAULTS)
        self.workloads = self._ids(DEMAND, "workload")  # None without a usable workload column
        key = ["scenario", "period", "workload"]
        what = "one row per (scenario, period, workload)"
        check_unique(DEMAND, rows, key, what, self.problems, defaults=DEMAND_DEFAULTS)
        self._demand_complete(rows)

    def _scenarios_without_demand(self, rows: list[Checked]) -> None:
        used = set(ordered_ids(rows, "scenario", defaults=DEMAND_DEFAULTS))
        for checked in self.tables.get(SCENARIOS) or []:
            key = checked.key("scenario")
            if key is not None and key[0] not in used:
                expected = "a scenario with rows in demand.csv (it has none)"
                self.problems.append(Problem(SCENARIOS, checked.row, "scenario", key[0], expected))
                checked.bad.add("scenario")
                self.scenarios_without_demand.add(key[0])

    def _demand_complete(self, rows: list[Checked]) -> None:
        """Every scenario must give every (period, workload); list a few missing ones."""
        if self.periods is None or self.scenarios is None or self.workloads is None:
            return
        present = set()
        for checked in rows:
            key = checked.key("scenario", "period", "workload", defaults=DEMAND_DEFAULTS)
            if key is not None:
                present.add(key)
        missing = [
            f"({scenario}, {period}, {workload})"
            for scenario in self.scenarios
            # a scenario with no rows at all is reported already, on its scenarios.csv row
            if scenario not in self.scenarios_without_demand
            for period in self.periods
            for workload in self.workloads
            if (scenario, period, workload) not in present
        ]
        if missing:
            expected = (
                "a row for every (scenario, period, workload); "
                f"missing {len(missing)}: {examples(missing)}"
            )
            self.problems.append(Problem(DEMAND, None, None, None, expected))

    # -- sites, chips, power, budget ---------------------------------------------------------

    def _sites(self) -> None:
        rows = self._rows(SITES)
        if rows is None:
            return
        check_unique(SITES, rows, ["site"], "a unique site id", self.problems)
        self._period_reference(SITES, rows, "earliest_period")
        for checked in rows:
            site = checked.model
            # The site cap existing_mw + built <= max_mw could never hold: say so here, not as
            # an infeasible model.
            if isinstance(site, SiteRow) and site.existing_mw > site.max_mw:
                expected = f"existing_mw not above max_mw ({site.max_mw:g})"
                self.problems.append(
                    Problem(SITES, checked.row, "existing_mw", checked.cells.get("existing_mw"), expected)
                )

    def _chips(self) -> None:
        rows = self._rows(CHIPS)
        if rows is None:
            return
        check_unique(CHIPS, rows, ["chip"], "a unique chip id", self.problems)
        self._period_reference(CHIPS, rows, "first_period")
        self._period_reference(CHIPS, rows, "last_period")

    def _chip_performance(self) -> None:
        rows = self._rows(PERFORMANCE)
        if rows is None:
            return
        chips = self._ids(CHIPS, "chip")
        check_reference(PERFORMANCE, rows, "chip", chips, "an id in chips.csv", self.problems)
        expected = "a workload in demand.csv"
        check_reference(PERFORMANCE, rows, "workload", self.workloads, expected, self.problems)
        what = "one row per (chip, workload)"
        check_unique(PERFORMANCE, rows, ["chip", "workload"], what, self.problems)

    def _chip_supply(self) -> None:
        rows = self._rows(SUPPLY)
        if rows is None:
            return
        chips = self._ids(CHIPS, "chip")
        check_reference(SUPPLY, rows, "chip", chips, "an id in chips.csv", self.problems)
        self._period_reference(SUPPLY, rows, "period")
        check_unique(SUPPLY, rows, ["chip", "period"], "one row per (chip, period)", self.problems)

    def _power(self) -> None:
        rows = self._rows(POWER)
        if rows is None:
            return
        check_unique(POWER, rows, ["contract"], "a unique contract id", self.problems)
        sites = self._ids(SITES, "site")
        check_reference(POWER, rows, "site", sites, "an id in sites.csv", self.problems)
        self._period_reference(POWER, rows, "first_period")

    def _budget(self) -> None:
        rows = self._rows(BUDGET)
        if rows is None:
            return
        self._period_reference(BUDGET, rows, "period")
        check_unique(BUDGET, rows, ["period"], "one row per period", self.problems)

    def _period_reference(self, file: str, rows: list[Checked], column: str) -> None:
        check_reference(file, rows, column, self.periods, "an id in periods.csv", self.problems)

    # -- building the case -------------------------------------------------------------------

    def _models(self, name: str, model: type[M]) -> list[tuple[int, M]]:
        return valid_models(self.tables.get(name) or [], model)

    def _build(self, parameters: ParameterValues, fingerprint: str) -> Case:
        if self.tables.get(SCENARIOS) is not None:
            rows = self._models(SCENARIOS, ScenarioRow)
            probability = {m.scenario: m.probability for _, m in rows}
        else:
            scenarios = self.scenarios or []
            probability = {s: 1.0 / len(scenarios) for s in scenarios}
        return Case(
            name=self.folder.resolve().name,
            parameters=parameters,
            period_years={m.period: m.years for _, m in self._models(PERIODS, PeriodRow)},
            scenario_probability=probability,
            workloads=tuple(self.workloads or ()),
            demand_eflops={
                (m.scenario, m.period, m.workload): m.eflops
                for _, m in self._models(DEMAND, DemandRow)
            },
            sites={m.site: m for _, m in self._models(SITES, SiteRow)},
            chips={m.chip: m for _, m in self._models(CHIPS, ChipRow)},
            contracts={m.contract: m for _, m in self._models(POWER, ContractRow)},
            chip_performance_pflops={
                (m.chip, m.workload): m.pflops
                for _, m in self._models(PERFORMANCE, ChipPerformanceRow)
            },
            chip_supply_units={
                (m.chip, m.period): m.max_units for _, m in self._models(SUPPLY, ChipSupplyRow)
            },
            budget_musd={m.period: m.capex_limit_musd for _, m in self._models(BUDGET, BudgetRow)},
            fingerprint=fingerprint,
        )

    # -- warnings ----------------------------------------------------------------------------

    def _warn(self, case: Case) -> None:
        """Legal but suspicious inputs: things that can never take part in a plan."""
        checks: list[Callable[[Case], None]] = [
            self._warn_empty,
            self._warn_sites,
            self._warn_chips,
            self._warn_contracts,
            self._warn_workloads,
            self._warn_scenario_names,
            self._warn_ids_differing_in_case,
            self._warn_period_order,
            self._warn_branches_by_round_off,
            self._warn_parameters,
            self._warn_amounts_below_tolerance,
        ]
        for check in checks:
            check(case)

    def _warn_ids_differing_in_case(self, case: Case) -> None:
        """``North`` and ``north`` are two sites: legal, but more often one typed twice."""
        ids = (
            (PERIODS, "period", case.periods),
            (SCENARIOS if SCENARIOS in self.data else DEMAND, "scenario", case.scenarios),
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

    def _warn_period_order(self, case: Case) -> None:
        """Periods are taken in the order listed; ids that read as years (2031, 2027Q3, FY2030-H2)
        listed out of that order are most likely a sorted-descending or pasted sheet."""
        keys = [_calendar_key(period) for period in case.periods]
        if None in keys:
            return
        for before, after, key_before, key_after in zip(
            case.periods, case.periods[1:], keys, keys[1:], strict=False
        ):
            if key_after <= key_before:
                self.warnings.append(
                    f"{PERIODS}: period '{after}' is listed after '{before}'; periods are taken in the "
                    "order listed (first = now), whatever their ids say"
                )
                return

    def _warn_branches_by_round_off(self, case: Case) -> None:
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

    def _warn_scenario_names(self, case: Case) -> None:
        if len(case.scenarios) < 2:
            return  # a single scenario's node is always "all": no label to confuse
        for scenario in case.scenarios:
            if scenario == "all" or "+" in scenario:
                self.warnings.append(
                    f"scenario '{scenario}': the run-folder tables label a decision all scenarios share "
                    "'all' and one a few share by their ids joined with '+', so this id reads ambiguously "
                    "there; another id avoids it"
                )

    def _warn_empty(self, case: Case) -> None:
        for name, items in ((SITES, case.sites), (CHIPS, case.chips), (POWER, case.contracts)):
            if not items:
                self.warnings.append(f"{name}: no rows; no demand can be served")

    def _warn_sites(self, case: Case) -> None:
        n = len(case.periods)
        index = _period_index(case)
        with_power = {contract.site for contract in case.contracts.values()}
        for row, site in self._models(SITES, SiteRow):
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
            if site.whole_modules_that_fit() == 0:
                self.warnings.append(
                    f"{SITES}, row {row}: site '{site.site}' can never build a whole module "
                    f"(module_mw {site.module_mw:g} > max_mw - existing_mw = {room_mw:g}; "
                    "an LP relaxation may still build a fraction of one)"
                )

    def _warn_chips(self, case: Case) -> None:
        """A chip whose ``last_period`` comes before its ``first_period``, or whose supply is 0 in
        every period it may be bought, can never be bought (legal: the model leaves it out)."""
        index = _period_index(case)
        for row, chip in self._models(CHIPS, ChipRow):
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

    def _warn_contracts(self, case: Case) -> None:
        n = len(case.periods)
        index = _period_index(case)
        for row, contract in self._models(POWER, ContractRow):
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

    def _warn_parameters(self, case: Case) -> None:
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

    def _warn_amounts_below_tolerance(self, case: Case) -> None:
        """Chips so fast for their power that serving a workload's largest demand takes a tiny
        fraction of a chip or of an MW: HiGHS's feasibility tolerances (1e-6, absolute, in chips
        and MW) then swallow the whole plan, which can leave buildings or power out of it."""
        largest: dict[str, float] = {}
        for (_w, _p, k), eflops in case.demand_eflops.items():
            largest[k] = max(largest.get(k, 0.0), eflops)
        for row, chip in self._models(CHIPS, ChipRow):
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

    def _warn_workloads(self, case: Case) -> None:
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


def _period_index(case: Case) -> dict[str, int]:
    return {period: i for i, period in enumerate(case.periods)}


def _resembled(found: str) -> tuple[str, str] | None:
    """The input file a folder entry's name stands for, and that part of the name as written, when
    it differs only in letter case, surrounding spaces or extensions added after it
    (``Scenarios.csv``, ``budget.csv ``, ``chips.csv.txt``, ``demand.CSV``); None otherwise."""
    if found in FILES:
        return None
    stem = found.strip()
    while stem.casefold() not in FILES:
        stem, dot, _ = stem.rpartition(".")
        if not dot:
            return None
        stem = stem.rstrip()
    return stem.casefold(), stem


def _misnamed_because(found: str, written: str) -> str:
    """Why a look-alike name is not the input file's name, in the user's terms (``written``: the
    part of ``found`` that stands for it, see :func:`_resembled`)."""
    reasons = []
    if written != written.casefold():
        reasons.append("file names are case-sensitive")
    extra = found.strip()[len(written) :].strip()
    if extra:
        reasons.append(f"the extra {extra!r} is part of its name")
    if found != found.strip():
        reasons.append("spaces around a name are part of it")
    return ", ".join(reasons)


def _misnamed_text(spec: FileSpec, seen: str) -> str:
    """What to expect of an absent input file when a look-alike of it is in the folder (``seen``:
    where, and why it is not read)."""
    if spec.required:
        return f"this required file ({seen})"
    return (
        f"this file under its exact name ({seen}; without {spec.name} {spec.absent}); rename the "
        f"file, or move it out of the case folder to run without {spec.name}"
    )


def not_a_regular_file(path: Path) -> str:
    """What to expect of an input file that is there but cannot be read as a file."""
    if path.is_dir():
        found = "a folder of that name"
    elif path.is_symlink() and not path.exists():
        found = f"a broken link to '{path.readlink()}'"
    else:
        found = "a device, pipe or socket"
    return f"a regular file (found {found})"


def _problem_order(problem: Problem) -> tuple[int, int]:
    """Problems in file order of the format, then by row (file-level ones first)."""
    names = list(FILES)
    position = names.index(problem.file) if problem.file in names else len(names)
    return position, problem.row or 0
