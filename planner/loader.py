"""Read a case folder of CSV files (``shared/spec/inputs.md``) into a validated :class:`Case`.

Which files and columns a case has, and every check across rows and files (unique ids,
references, complete demand, probabilities, the scenario tree), live here; reading and
validating one table cell by cell is :mod:`planner.csv_table`. All problems of a case are
reported together: a user fixing a case should see the whole list at once, not one error per run.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from planner.case import Case
from planner.case_files import (
    BUDGET,
    CHIPS,
    DEMAND,
    FILES,
    PARAMETERS,
    PERFORMANCE,
    PERIODS,
    POWER,
    SCENARIOS,
    SITES,
    SUPPLY,
    FileSpec,
)
from planner.case_warnings import warnings_about
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
    reported_ids,
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
DEMAND_DEFAULTS = {"scenario": "base"}
"""demand.csv's scenario is ``base`` when the column is absent or the cell blank."""
COMPARED_COLUMNS: dict[tuple[str, str], tuple[str, ...]] = {(SITES, "existing_mw"): ("existing_mw", "max_mw")}
"""Rules between two numeric cells of a row (``_sites``): the columns each reads, by the (file,
column) its problem names (a sweep blames the rows that edited any of them)."""

__all__ = ["InputError", "Problem", "load_case"]
"""Problem and InputError live in planner.errors (shared with the CLI and the model TOML
reader); they are re-exported here as part of the loader's API."""


def load_case(folder: str | Path) -> tuple[Case, list[str]]:
    """Read and validate a case folder; return the Case and a list of warnings (legal but
    suspicious). Raises InputError with every problem found."""
    return _CaseReader(Path(folder)).read()





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
        row_of = {
            file: {getattr(model, id_column): row for row, model in self._models(file, FILES[file].model)}
            for file, id_column in ((SITES, "site"), (CHIPS, "chip"), (POWER, "contract"))
        }
        scenario_file = SCENARIOS if SCENARIOS in self.data else DEMAND
        self.warnings += warnings_about(case, row_of, scenario_file)
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

    def _referable(self, name: str, column: str) -> list[str] | None:
        """:meth:`_ids` and the ids of rows whose id cell is already reported: a reference to
        ``'a '`` written ``a`` is not a second problem."""
        ids = self._ids(name, column)
        return None if ids is None else ids + reported_ids(self.tables.get(name) or [], column)

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
        self._period_reference(DEMAND, rows, "period")
        if self.scenarios is not None:
            expected = "an id in scenarios.csv (a blank scenario means 'base')"
            scenarios = self._referable(SCENARIOS, "scenario")
            check_reference(DEMAND, rows, "scenario", scenarios, expected, self.problems, DEMAND_DEFAULTS)
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
        chips = self._referable(CHIPS, "chip")
        check_reference(PERFORMANCE, rows, "chip", chips, "an id in chips.csv", self.problems)
        expected = "a workload in demand.csv"
        check_reference(PERFORMANCE, rows, "workload", self.workloads, expected, self.problems)
        what = "one row per (chip, workload)"
        check_unique(PERFORMANCE, rows, ["chip", "workload"], what, self.problems)

    def _chip_supply(self) -> None:
        rows = self._rows(SUPPLY)
        if rows is None:
            return
        chips = self._referable(CHIPS, "chip")
        check_reference(SUPPLY, rows, "chip", chips, "an id in chips.csv", self.problems)
        self._period_reference(SUPPLY, rows, "period")
        check_unique(SUPPLY, rows, ["chip", "period"], "one row per (chip, period)", self.problems)

    def _power(self) -> None:
        rows = self._rows(POWER)
        if rows is None:
            return
        check_unique(POWER, rows, ["contract"], "a unique contract id", self.problems)
        sites = self._referable(SITES, "site")
        check_reference(POWER, rows, "site", sites, "an id in sites.csv", self.problems)
        self._period_reference(POWER, rows, "first_period")

    def _budget(self) -> None:
        rows = self._rows(BUDGET)
        if rows is None:
            return
        self._period_reference(BUDGET, rows, "period")
        check_unique(BUDGET, rows, ["period"], "one row per period", self.problems)

    def _period_reference(self, file: str, rows: list[Checked], column: str) -> None:
        periods = self._referable(PERIODS, "period")
        check_reference(file, rows, column, periods, "an id in periods.csv", self.problems)

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
