"""Read a case folder of CSV files (``shared/spec/inputs.md``) into a validated :class:`Case`.

Every problem is reported in spreadsheet terms (file, row as a spreadsheet shows it, column, the
raw cell text and what was expected), and all of them together: a user fixing a case should see
the whole list at once, not one error per run. Files are read with the :mod:`csv` module rather
than pandas because spreadsheet row numbers must count blank lines, rows may be ragged, and
every cell must stay the raw text the user typed.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import types
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Annotated, TypeVar, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel, StringConstraints, ValidationError

from planner.case import Case
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

HUGE = 1e12
"""Larger magnitudes are typos (a unit slip or a pasted id), and they wreck solver numerics."""
PROBABILITY_TOLERANCE = 1e-6
MAX_EXAMPLES = 5
"""How many missing combinations or repeated rows a message lists before summarising."""
DEMAND_DEFAULTS = {"scenario": "base"}
"""demand.csv's scenario is ``base`` when the column is absent or the cell blank."""
REQUIRED = "a value is required"
HUGE_EXPECTED = "a finite number below 1e12 in magnitude"
ID_EXPECTED = "an id without leading or trailing spaces"
BOOL_EXPECTED = "true/false, 1/0 or yes/no"
UNKNOWN_COLUMN = "unknown column; extra columns must start with 'note'"

M = TypeVar("M", bound=BaseModel)

__all__ = ["InputError", "Problem", "branching_points", "case_summary", "load_case"]
"""Problem and InputError live in planner.errors (shared with the CLI and the model TOML
reader); they are re-exported here as part of the loader's API."""


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def load_case(folder: str | Path) -> tuple[Case, list[str]]:
    """Read and validate a case folder; return the Case and a list of warnings (legal but
    suspicious). Raises InputError with every problem found."""
    return _CaseReader(Path(folder)).read()


def case_summary(case: Case) -> dict:
    """Sizes, horizon, scenarios, scenario tree and workloads of a case (for ``planner validate``).

    Everything in the result is plain JSON-serialisable data.
    """
    periods = case.periods
    return {
        "name": case.name,
        "fingerprint": case.fingerprint,
        "sizes": {
            "periods": len(periods),
            "scenarios": len(case.scenario_probability),
            "workloads": len(case.workloads),
            "demand_rows": len(case.demand_eflops),
            "sites": len(case.sites),
            "chips": len(case.chips),
            "contracts": len(case.contracts),
            "chip_performance": len(case.chip_performance_pflops),
            "chip_supply": len(case.chip_supply_units),
            "budget_periods": len(case.budget_musd),
        },
        "horizon": {
            "first_period": periods[0] if periods else None,
            "last_period": periods[-1] if periods else None,
            "periods": len(periods),
            "total_years": sum(case.period_years.values()),
        },
        "scenarios": [
            {"scenario": scenario, "probability": probability}
            for scenario, probability in case.scenario_probability.items()
        ],
        "scenario_tree": branching_points(case),
        "workloads": list(case.workloads),
    }


def branching_points(case: Case) -> list[dict]:
    """Where the scenario tree branches: scenarios share demand history until their demand first
    differs. Each point gives the period where a group of scenarios splits, the last period they
    still share (None when they differ from the start), the group, and the branches in scenario
    order. A single scenario, or identical scenarios, give an empty list."""
    periods = case.periods
    groups: list[list[str]] = [list(case.scenarios)] if case.scenarios else []
    points: list[dict] = []
    for index, period in enumerate(periods):
        next_groups: list[list[str]] = []
        for group in groups:
            branches = _split_by_demand(case, group, period)
            if len(branches) > 1:
                points.append(
                    {
                        "period": period,
                        "shared_until": periods[index - 1] if index else None,
                        "scenarios": group,
                        "branches": branches,
                    }
                )
            next_groups.extend(branches)
        groups = next_groups
    return points


def _split_by_demand(case: Case, group: list[str], period: str) -> list[list[str]]:
    """Partition scenarios by their demand vector in one period, keeping scenario order."""
    parts: dict[tuple[float | None, ...], list[str]] = {}
    for scenario in group:
        vector = tuple(case.demand_eflops.get((scenario, period, w)) for w in case.workloads)
        parts.setdefault(vector, []).append(scenario)
    return list(parts.values())


# --------------------------------------------------------------------------------------------
# Files and fields
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileSpec:
    name: str
    model: type[BaseModel]
    required: bool


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
        FileSpec(PARAMETERS, ParameterValues, True),
        FileSpec(PERIODS, PeriodRow, True),
        FileSpec(SCENARIOS, ScenarioRow, False),
        FileSpec(DEMAND, DemandRow, True),
        FileSpec(SITES, SiteRow, True),
        FileSpec(CHIPS, ChipRow, True),
        FileSpec(PERFORMANCE, ChipPerformanceRow, False),
        FileSpec(SUPPLY, ChipSupplyRow, False),
        FileSpec(POWER, ContractRow, True),
        FileSpec(BUDGET, BudgetRow, False),
    )
}
"""Every file of the format, in the order problems are reported."""


@dataclass(frozen=True)
class FieldKind:
    """How one column is parsed and what to tell the user when it is wrong."""

    kind: str  # "number", "integer", "bool", "id" or "text"
    expected: str
    required: bool


@cache
def field_kinds(model: type[BaseModel]) -> dict[str, FieldKind]:
    """The parse kind and the human expectation of each field, derived from the schema so that
    messages follow any change of bounds there."""
    kinds: dict[str, FieldKind] = {}
    for name, info in model.model_fields.items():
        kind = _kind_of(info.annotation, info.metadata)
        kinds[name] = FieldKind(kind, _expectation(kind, info.metadata), info.is_required())
    return kinds


def _kind_of(annotation: object, metadata: Sequence[object]) -> str:
    """Reduce ``X | None`` and ``Annotated[X, ...]`` to one of the parse kinds."""
    constraints = list(metadata)
    if get_origin(annotation) in (Union, types.UnionType):
        annotation = next(arg for arg in get_args(annotation) if arg is not type(None))
    if get_origin(annotation) is Annotated:
        annotation, *extra = get_args(annotation)
        constraints.extend(extra)
    if annotation is bool:
        return "bool"
    if annotation is int:
        return "integer"
    if annotation is float:
        return "number"
    is_id = any(isinstance(c, StringConstraints) and c.pattern for c in constraints)
    return "id" if is_id else "text"


def _expectation(kind: str, metadata: Sequence[object]) -> str:
    if kind == "bool":
        return BOOL_EXPECTED
    if kind == "id":
        return ID_EXPECTED
    if kind == "text":
        return "a non-empty text"
    bounds = []
    for constraint in metadata:
        for attr, symbol in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<=")):
            bound = getattr(constraint, attr, None)
            if isinstance(constraint, annotated_types.BaseMetadata) and bound is not None:
                bounds.append(f"{symbol} {bound:g}")
    noun = "an integer" if kind == "integer" else "a number"
    return " and ".join([f"{noun} {bounds[0]}", *bounds[1:]]) if bounds else noun


class _CellError(Exception):
    """A cell that cannot be converted; carries the expectation for the message."""

    def __init__(self, expected: str) -> None:
        super().__init__(expected)
        self.expected = expected


def convert_cell(text: str, kind: FieldKind) -> object:
    """Turn a non-blank cell into the value handed to pydantic. Numbers are parsed here, not by
    pydantic, to refuse nan/inf/huge values with a clear message and to take ``2.0`` as an
    integer; bounds are left to the schema."""
    if kind.kind not in ("number", "integer"):
        return text
    try:
        number = float(text)
    except ValueError:
        raise _CellError(kind.expected) from None
    if not math.isfinite(number):
        raise _CellError(kind.expected)
    if abs(number) > HUGE:
        raise _CellError(HUGE_EXPECTED)
    if kind.kind == "integer":
        if not number.is_integer():
            raise _CellError(kind.expected)
        return int(number)
    return number


def _is_blank(text: str) -> bool:
    return not text.strip()


def _examples(items: Sequence[object]) -> str:
    """``a, b, c`` or ``a, b, c, … (12 in all)`` for messages about many things."""
    shown = ", ".join(str(item) for item in items[:MAX_EXAMPLES])
    return shown if len(items) <= MAX_EXAMPLES else f"{shown}, … ({len(items)} in all)"


# --------------------------------------------------------------------------------------------
# Reading one CSV file into raw rows
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RawRow:
    row: int
    cells: dict[str, str]
    """Known columns -> raw text; cells missing at the end of a short row are ''."""


@dataclass
class Table:
    file: str
    columns: list[str]
    """Known column names present in the header (stripped), first occurrence only."""
    missing: set[str]
    """Required columns absent from the header (reported once, not on every row)."""
    rows: list[RawRow]


def parse_table(
    file: str, data: bytes, known: Sequence[str], required: set[str], problems: list[Problem]
) -> Table | None:
    """Decode and split one file; report header problems. None when the file is unusable
    (undecodable, malformed CSV or no header row); then no row-level checks run on it."""
    records = _records(file, data, problems)
    if records is None:
        return None
    start = next((i for i, rec in enumerate(records) if any(not _is_blank(c) for c in rec)), None)
    if start is None:
        problems.append(Problem(file, None, None, None, "a header row (the file is empty)"))
        return None
    header = [name.strip() for name in records[start]]
    if len(header) == 1 and (";" in header[0] or "\t" in header[0]):
        separator = "';'" if ";" in header[0] else "tabs"
        message = f"comma-separated columns (the header looks separated by {separator})"
        problems.append(Problem(file, start + 1, None, records[start][0], message))
        return None
    positions = _check_header(file, start + 1, header, known, problems)
    missing = {name for name in known if name in required and name not in positions}
    for name in known:
        if name in missing:
            expected = "this required column in the header row (it is missing)"
            problems.append(Problem(file, None, name, None, expected))
    rows = _raw_rows(file, records, start, header, positions, problems)
    return Table(file, [header[i] for i in sorted(positions.values())], missing, rows)


_WORKBOOK_SIGNATURES = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")
"""First bytes of .xlsx (a zip) and of legacy .xls files: a workbook renamed to .csv."""


def _records(file: str, data: bytes, problems: list[Problem]) -> list[list[str]] | None:
    if data.startswith(_WORKBOOK_SIGNATURES):
        expected = "CSV text (this is a spreadsheet workbook renamed .csv; export the sheet as 'CSV UTF-8')"
        problems.append(Problem(file, None, None, None, expected))
        return None
    try:
        text = data.decode("utf-8-sig")  # -sig: spreadsheet exports often start with a BOM
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        expected = f"UTF-8 text (line {line} is not valid UTF-8; save it as 'CSV UTF-8')"
        problems.append(Problem(file, None, None, None, expected))
        return None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        return list(reader)
    except csv.Error as error:
        expected = f"well-formed CSV (line {reader.line_num}: {error})"
        problems.append(Problem(file, None, None, None, expected))
        return None


def _check_header(
    file: str, row: int, header: list[str], known: Sequence[str], problems: list[Problem]
) -> dict[str, int]:
    """Map usable column names to their position; report repeated and unknown columns."""
    positions: dict[str, int] = {}
    for index, name in enumerate(header):
        if name == "":
            continue  # a trailing comma in the header; checked cell by cell in _raw_rows
        if name.lower().startswith("note"):
            continue  # free text, never read; several note columns may share a name
        if name in positions:
            problems.append(Problem(file, row, name, name, "each column once (it appears twice)"))
        elif name in known:
            positions[name] = index
        else:
            expected = f"a known column ({', '.join(known)}): {UNKNOWN_COLUMN}"
            problems.append(Problem(file, row, name, name, expected))
    return positions


def _raw_rows(
    file: str,
    records: list[list[str]],
    start: int,
    header: list[str],
    positions: dict[str, int],
    problems: list[Problem],
) -> list[RawRow]:
    rows: list[RawRow] = []
    named = {i for i, name in enumerate(header) if name}
    has_unnamed = len(named) < len(header)
    for index in range(start + 1, len(records)):
        record = records[index]
        if not any(cell.strip() for cell in record):
            continue  # blank lines are layout, not data (they still count for row numbers)
        row = index + 1
        if has_unnamed or len(record) > len(header):  # only then can a cell lie outside
            stray = [c for i, c in enumerate(record) if i not in named and c.strip()]
            if stray:
                expected = f"no value outside the {len(named)} named columns of the header"
                problems.append(Problem(file, row, None, stray[0], expected))
        cells = {name: (record[i] if i < len(record) else "") for name, i in positions.items()}
        rows.append(RawRow(row, cells))
    return rows


# --------------------------------------------------------------------------------------------
# Validating rows with the schema
# --------------------------------------------------------------------------------------------


@dataclass
class Checked:
    """One data row after validation: the model when the row is fully valid."""

    row: int
    cells: dict[str, str]
    model: BaseModel | None
    bad: set[str] = field(default_factory=set)
    """Columns already reported for this row; later checks skip them to avoid echo problems."""

    def key(self, *columns: str, defaults: dict[str, str] | None = None) -> tuple[str, ...] | None:
        """The raw values of ``columns`` when all are present and not already reported."""
        values = []
        for column in columns:
            if column in self.bad:
                return None
            text = self.cells.get(column, "")
            if not text.strip():
                text = defaults.get(column, "") if defaults else ""
                if not text:
                    return None
            values.append(text)
        return tuple(values)


def validate_rows(table: Table, model: type[BaseModel], problems: list[Problem]) -> list[Checked]:
    """Validate every row with the schema model; report each bad cell."""
    kinds = field_kinds(model)
    columns = [name for name in table.columns if name in kinds]
    checked = []
    for raw in table.rows:
        data: dict[str, object] = {}
        bad = set(table.missing)
        for name in columns:
            text = raw.cells[name]
            if _is_blank(text):
                continue  # blank cells take the schema default, or fail as missing
            try:
                data[name] = convert_cell(text, kinds[name])
            except _CellError as error:
                problems.append(Problem(table.file, raw.row, name, text, error.expected))
                bad.add(name)
        instance = _validate(model, data, raw, table.file, bad, problems)
        checked.append(Checked(raw.row, raw.cells, None if bad else instance, bad))
    return checked


def _validate(
    model: type[BaseModel],
    data: dict[str, object],
    raw: RawRow,
    file: str,
    bad: set[str],
    problems: list[Problem],
) -> BaseModel | None:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        for detail in error.errors():
            column = str(detail["loc"][0]) if detail["loc"] else None
            if column in bad:
                continue  # already reported (bad conversion or missing column)
            problems.append(_schema_problem(model, file, raw.row, column, raw.cells, detail))
            bad.add(column or "")
        return None


def _schema_problem(
    model: type[BaseModel],
    file: str,
    row: int,
    column: str | None,
    cells: dict[str, str],
    detail: dict,
) -> Problem:
    """Translate one pydantic error into the user's terms, using the field's expectation rather
    than pydantic's message (which talks about patterns and input types)."""
    kind = field_kinds(model).get(column or "")
    if column is None or kind is None:
        return Problem(file, row, column, None, str(detail["msg"]))  # a whole-row rule
    expected = kind.expected
    if detail["type"] == "missing":
        expected += f" ({REQUIRED})"
    return Problem(file, row, column, cells.get(column, ""), expected)


# --------------------------------------------------------------------------------------------
# Cross-row and cross-file checks
# --------------------------------------------------------------------------------------------


def check_unique(
    file: str,
    rows: Iterable[Checked],
    columns: Sequence[str],
    what: str,
    problems: list[Problem],
    defaults: dict[str, str] | None = None,
) -> None:
    """Report every row whose key repeats an earlier row, naming both rows."""
    first_row: dict[tuple[str, ...], int] = {}
    for checked in rows:
        key = checked.key(*columns, defaults=defaults)
        if key is None:
            continue
        if key not in first_row:
            first_row[key] = checked.row
            continue
        column = columns[0] if len(columns) == 1 else None
        expected = f"{what}; row {first_row[key]} has the same"
        problems.append(Problem(file, checked.row, column, ", ".join(key), expected))
        checked.bad.update(columns)


def check_reference(
    file: str,
    rows: Iterable[Checked],
    column: str,
    known: Iterable[str] | None,
    expected: str,
    problems: list[Problem],
) -> None:
    """Report cells that name an id not in ``known`` (skipped when the other file is unusable:
    its own problem explains it). One problem per unknown value, at its first row, so that a
    missing period does not bury the list under thousands of demand rows."""
    if known is None:
        return
    known_set = set(known)
    unknown: dict[str, list[Checked]] = {}
    for checked in rows:
        key = checked.key(column)
        if key is not None and key[0] not in known_set:
            unknown.setdefault(key[0], []).append(checked)
            checked.bad.add(column)
    for value, bad_rows in unknown.items():
        more = [c.row for c in bad_rows[1:]]
        suffix = f"; same value in {len(more)} more rows: {_examples(more)}" if more else ""
        problems.append(Problem(file, bad_rows[0].row, column, value, expected + suffix))


def ordered_ids(
    rows: Iterable[Checked], column: str, defaults: dict[str, str] | None = None
) -> list[str]:
    """Distinct ids of ``column`` in first-appearance order, taken from the raw cells so that
    a row bad elsewhere does not make references to it fail too."""
    seen: dict[str, None] = {}
    for checked in rows:
        key = checked.key(column, defaults=defaults)
        if key is not None:
            seen.setdefault(key[0], None)
    return list(seen)


def valid_models(rows: Iterable[Checked], model: type[M]) -> list[tuple[int, M]]:
    """(row, model) of the fully valid rows; the isinstance filter also narrows the type."""
    return [(c.row, c.model) for c in rows if isinstance(c.model, model) and not c.bad]


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
        self.tables: dict[str, list[Checked] | None] = {}
        self.missing_columns: dict[str, set[str]] = {}
        self.scenarios_without_demand: set[str] = set()
        self.periods: list[str] | None = None
        self.scenarios: list[str] | None = None
        self.workloads: list[str] = []

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
        for path in sorted(p for p in self.folder.glob("*.csv") if p.is_file()):
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
            if path.name not in FILES:
                self.warnings.append(f"{path.name}: not a file of the input format; ignored")
        return digest.hexdigest()

    def _table(self, spec: FileSpec, known: Sequence[str] | None = None) -> Table | None:
        """The parsed table of a file, or None when absent or unusable (after reporting)."""
        if spec.name not in self.data:
            if spec.required and spec.name not in self.unreadable:
                self.problems.append(Problem(spec.name, None, None, None, self._missing(spec.name)))
            return None
        kinds = field_kinds(spec.model)
        columns = list(known or kinds)
        required = {name for name in columns if known or kinds[name].required}
        content = self.data[spec.name]
        if not spec.required and not content.strip():
            self.warnings.append(f"{spec.name}: the file is empty; treated as absent")
            return None
        return parse_table(spec.name, content, columns, required, self.problems)

    def _missing(self, name: str) -> str:
        """Say a required file is missing, pointing at a near miss in letter case."""
        exact = self.folder / name
        if exact.is_dir():
            return "this required file (found a folder of that name)"
        if exact.is_symlink() and not exact.exists():
            return f"this required file (found a broken link to '{exact.readlink()}')"
        for path in self.folder.iterdir():
            if path.name.lower() == name.lower() and path.name != name:
                return f"this required file (found '{path.name}'; file names are case-sensitive)"
        return "this required file, missing from the case folder"

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
            if _is_blank(text):
                continue  # blank value: the default, or "required" below
            try:
                values[name] = convert_cell(text, kinds[name])
            except _CellError as error:
                self.problems.append(Problem(PARAMETERS, raw.row, "value", text, error.expected))
                bad.add(name)
        return self._parameter_values(values, rows, bad)

    def _parameter_name(
        self, raw: RawRow, seen: dict[str, RawRow], kinds: dict[str, FieldKind]
    ) -> str | None:
        name = raw.cells["name"]
        if _is_blank(name):
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
            if abs(total - 1.0) > PROBABILITY_TOLERANCE:
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
            expected = "an id in scenarios.csv"
            check_reference(DEMAND, rows, "scenario", self.scenarios, expected, self.problems)
            self._scenarios_without_demand(rows)
        else:  # no usable scenarios.csv: the scenarios of demand.csv, equally likely
            self.scenarios = ordered_ids(rows, "scenario", defaults=DEMAND_DEFAULTS)
        self.workloads = ordered_ids(rows, "workload")
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
        if self.periods is None or self.scenarios is None:
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
                f"missing {len(missing)}: {_examples(missing)}"
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
        if self.periods is None:
            return
        index = {period: i for i, period in enumerate(self.periods)}
        for checked in rows:
            first, last = checked.key("first_period"), checked.key("last_period")
            if first and last and index[first[0]] > index[last[0]]:
                expected = f"a period not before first_period '{first[0]}'"
                self.problems.append(Problem(CHIPS, checked.row, "last_period", last[0], expected))
                checked.bad.add("last_period")

    def _chip_performance(self) -> None:
        rows = self._rows(PERFORMANCE)
        if rows is None:
            return
        chips = self._ids(CHIPS, "chip")
        check_reference(PERFORMANCE, rows, "chip", chips, "an id in chips.csv", self.problems)
        workloads = self.workloads if self.tables.get(DEMAND) is not None else None
        expected = "a workload in demand.csv"
        check_reference(PERFORMANCE, rows, "workload", workloads, expected, self.problems)
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
            workloads=tuple(self.workloads),
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
        ]
        for check in checks:
            check(case)

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

    def _warn_chips(self, case: Case) -> None:
        """A chip whose supply is 0 in every period it may be bought can never be bought."""
        index = _period_index(case)
        for row, chip in self._models(CHIPS, ChipRow):
            first = index[chip.first_period] if chip.first_period else 0
            last = index[chip.last_period] if chip.last_period else len(case.periods) - 1
            window = case.periods[first : last + 1]
            if all(case.chip_supply_units.get((chip.chip, p)) == 0 for p in window):
                self.warnings.append(
                    f"{CHIPS}, row {row}: chip '{chip.chip}' is never available (max_units is 0 "
                    f"in {SUPPLY} in every period from {window[0]} to {window[-1]})"
                )

    def _warn_contracts(self, case: Case) -> None:
        n = len(case.periods)
        index = _period_index(case)
        for row, contract in self._models(POWER, ContractRow):
            start = index[contract.first_period] if contract.first_period else 0
            if not contract.existing and start + contract.lead_periods >= n:
                self.warnings.append(
                    f"{POWER}, row {row}: contract '{contract.contract}' can never be active "
                    f"within the horizon (first_period is period {start + 1} of {n}, "
                    f"lead_periods {contract.lead_periods})"
                )

    def _warn_workloads(self, case: Case) -> None:
        if not case.chips:
            return  # already said: no chips at all
        for workload in case.workloads:
            if all(case.pflops(chip, workload) == 0 for chip in case.chips):
                self.warnings.append(
                    f"{DEMAND}: workload '{workload}' cannot be served by any chip "
                    f"(every chip has pflops 0 for it in {PERFORMANCE})"
                )


def _period_index(case: Case) -> dict[str, int]:
    return {period: i for i, period in enumerate(case.periods)}


def _problem_order(problem: Problem) -> tuple[int, int]:
    """Problems in file order of the format, then by row (file-level ones first)."""
    names = list(FILES)
    position = names.index(problem.file) if problem.file in names else len(names)
    return position, problem.row or 0
