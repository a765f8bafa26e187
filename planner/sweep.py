"""Sensitivity sweeps (``shared/spec/sweeps.md``): the base case plus one variant per sweep case.

A variant is the base case's CSV files with the sweep's edits applied to their text, validated
by the ordinary loader, so an edit that makes an input invalid fails that variant with the
loader's own message. Variants travel to workers as file texts (a few kB), so the same task runs
in a local process or on a remote Dask worker without a shared disk.
"""

from __future__ import annotations

import csv
import io
import math
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planner.case_files import FILES, PARAMETERS, PERIODS
from planner.config import ModelConfig
from planner.csv_table import (
    PLAIN_NUMBER,
    CellError,
    FieldKind,
    convert_cell,
    field_kinds,
    header_index,
    is_blank_record,
    parse_table,
)
from planner.errors import InputError, ModelError, Problem
from planner.loader import COMPARED_COLUMNS, not_a_regular_file
from planner.runfolder import safe_name
from planner.schema import ParameterValues, parse_bool

if TYPE_CHECKING:
    from planner.frozen_plan import FrozenPlan
    from planner.results import Results

SWEEP_COLUMNS = ("case", "group", "file", "column", "where", "op", "value")
REQUIRED_COLUMNS = ("case", "file", "column", "op", "value")
SCALE_PER_YEAR = "scale_per_year"
"""An extension of the v1 format: multiply by ``value ** y``, ``y`` the start of the row's period
in years (0 for the first period)."""
OPS: dict[str, Callable[[float, float], float]] = {
    "scale": lambda old, x: old * x,
    "add": lambda old, x: old + x,
    "set": lambda _old, x: x,
    SCALE_PER_YEAR: lambda old, x: old * x,  # x: the row's factor value ** y, from _start_years
}
PERIOD_FILES = tuple(
    name for name, spec in FILES.items() if name != PERIODS and "period" in spec.model.model_fields
)
"""The files whose rows each belong to a period (demand, chip supply, budget): what
``scale_per_year`` edits."""
BASE = "base"
SWEEP_VALUE = FieldKind("number", "a plain decimal number (e.g. 1.5 or -2e3)", required=True)
TEXT = FieldKind("text", "", required=False)
"""How ``where`` compares a column the schema does not type, such as a ``note`` column."""


@dataclass(frozen=True)
class Edit:
    """One sweep row."""

    row: int
    case: str
    group: str
    file: str
    column: str
    where: tuple[tuple[str, str], ...]
    op: str
    value: float


@dataclass
class Variant:
    """A named variant: its edits in file order, and its group (first non-blank one)."""

    name: str
    group: str
    edits: list[Edit] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    """Rows of this variant that cannot be applied (a bad op or value...): the variant fails."""


def read_sweep(path: Path) -> list[Variant]:
    """Parse and check the sweep file's shape; semantic errors are left to each variant.

    The file is read like a case file (:func:`parse_table`): the same checks of encoding, header,
    repeated or unknown columns and cells outside the header, with the same messages.
    """
    path = Path(path)
    label = path.name
    problems: list[Problem] = []
    # A file that cannot be read is named as given: its name alone does not say which one.
    if path.exists() and not path.is_file():  # a pipe would hang, /dev/zero never end
        raise InputError([Problem(str(path), None, None, None, not_a_regular_file(path))])
    try:
        data = path.read_bytes()
    except OSError as exc:
        expected = f"a readable CSV file ({exc.strerror or exc})"
        raise InputError([Problem(str(path), None, None, None, expected)]) from exc
    table = parse_table(label, data, SWEEP_COLUMNS, set(REQUIRED_COLUMNS), problems)
    if table is None or "case" in table.missing:  # no rows to read, or none to name a variant by
        raise InputError(problems)
    variants: dict[str, Variant] = {}
    for raw in table.rows:
        record = {column: raw.cells.get(column, "").strip() for column in SWEEP_COLUMNS}
        name = record["case"]
        padded = [c for c in ("case", "group") if raw.cells.get(c, "") != record[c]]
        for column in padded:  # 'capex-80 ' and 'capex-80' would merge into one variant unseen
            kind = "variant" if column == "case" else "group"
            expected = f"a {kind} name without leading or trailing spaces"
            problems.append(Problem(label, raw.row, column, raw.cells[column], expected))
        if padded:
            continue
        if not name or name == BASE:
            expected = "a variant name other than 'base'" if name else "a value (every sweep row needs one)"
            problems.append(Problem(label, raw.row, "case", name, expected))
            continue
        edit, row_problems = _parse_edit(label, raw.row, record)
        variant = variants.setdefault(name, Variant(name, record["group"]))
        if record["group"] and variant.group and record["group"] != variant.group:
            expected = f"the group given to {name} before ({variant.group}): one group per variant"
            row_problems.append(Problem(label, raw.row, "group", record["group"], expected))
        variant.group = variant.group or record["group"]
        variant.problems += row_problems
        if edit is not None:
            variant.edits.append(edit)
    if problems:  # the header's and the rows' together, in the file's order
        raise InputError(sorted(problems, key=lambda problem: problem.row or 0))
    return list(variants.values())


def _parse_edit(label: str, row: int, record: dict[str, str]) -> tuple[Edit | None, list[Problem]]:
    problems = []
    for column in REQUIRED_COLUMNS:
        if not record.get(column):
            problems.append(Problem(label, row, column, "", "a value (every sweep row needs one)"))
    op = record.get("op", "")
    if op and op not in OPS:
        problems.append(Problem(label, row, "op", op, "scale, add, set or scale_per_year"))
    value = math.nan
    if record.get("value"):
        try:
            value = float(convert_cell(record["value"], SWEEP_VALUE))
        except CellError as error:
            problems.append(Problem(label, row, "value", record["value"], error.expected))
        if op == SCALE_PER_YEAR and math.isfinite(value) and not value > 0:
            expected = "a number > 0 for scale_per_year (the factor per year, e.g. 0.9 for 10% less a year)"
            problems.append(Problem(label, row, "value", record["value"], expected))
    where = []
    for condition in filter(None, (c.strip() for c in record.get("where", "").split("&"))):
        name, sep, wanted = condition.partition("=")
        if not sep or not name.strip():
            problems.append(Problem(label, row, "where", record["where"], "col=value conditions joined by &"))
            break
        where.append((name.strip(), wanted.strip()))
    if problems:
        return None, problems
    edit = Edit(
        row,
        record["case"],
        record.get("group", ""),
        record["file"],
        record["column"],
        tuple(where),
        op,
        value,
    )
    return edit, []


def read_case_files(folder: Path) -> dict[str, str]:
    """The texts of the case's input files, by file name: exactly the files the loader reads. A
    stray ``notes.csv`` (any encoding) or a folder named ``old.csv`` is no input, as the loader says."""
    files: dict[str, str] = {}
    problems = []
    for name in sorted(FILES):
        path = Path(folder) / name
        if not path.is_file():
            continue
        try:
            files[name] = path.read_bytes().decode("utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:  # changed on disk since the base case loaded
            problems.append(Problem(name, None, None, None, f"a readable UTF-8 text file ({exc})"))
    if problems:
        raise InputError(problems)
    return files


CellWriters = dict[tuple[str, int, str], list[int]]
"""(file, spreadsheet row, column) of an edited cell → the sweep rows whose edits its value comes
from (a ``set`` replaces those before it)."""


def apply_edits(
    files: dict[str, str], edits: list[Edit], sweep_label: str, writers: CellWriters | None = None
) -> dict[str, str]:
    """The files with every edit applied, in order; raise :class:`InputError` naming the sweep row.
    ``writers``, when given, receives which sweep rows wrote each edited cell."""
    tables = {}
    writers = {} if writers is None else writers
    problems = []
    for edit in edits:
        if edit.file not in files:
            expected = f"a file of the case ({', '.join(sorted(files))})"
            if edit.file in FILES:
                expected += f"; {edit.file} is optional and absent here: add it to the case to sweep it"
            problems.append(Problem(sweep_label, edit.row, "file", edit.file, expected))
            continue
        if edit.file not in tables:
            tables[edit.file] = _records(files[edit.file])
        start_years = None
        if edit.op == SCALE_PER_YEAR:  # the periods as this variant's rows so far left them
            start_years = _start_years(tables.get(PERIODS) or _records(files.get(PERIODS, "")))
        problem = _apply(tables[edit.file], edit, sweep_label, writers, start_years)
        if problem:
            problems.append(problem)
    if problems:
        raise InputError(problems)
    edited = dict(files)
    for name, rows in tables.items():
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(rows)
        edited[name] = buffer.getvalue()
    return edited


def _records(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def _header_and_data(rows: list[list[str]]) -> tuple[int, list[str], list[tuple[int, list[str]]]]:
    """Where the header is, its names, and the data records by spreadsheet row, read as the loader
    reads them: a blank record is never a row an edit matches. The loader numbers a row as a
    spreadsheet does: its record's place, the header's 1."""
    start = header_index(rows)
    if start is None:
        start = len(rows)
    header = [h.strip() for h in rows[start]] if start < len(rows) else []
    data = [(i + 1, cells) for i, cells in enumerate(rows) if i > start and not is_blank_record(cells)]
    return start, header, data


def _start_years(rows: list[list[str]]) -> dict[str, float]:
    """``y`` of each period of periods.csv's records: the years of the periods listed before it,
    summed in order as the model sums them (``start_year`` of the formulation). A period whose
    ``y`` cannot be told (a missing column, a ``years`` that is no finite number before it) is left
    out: its rows keep their value, and the loader reports the file."""
    _, header, data = _header_and_data(rows)
    if "period" not in header or "years" not in header:
        return {}
    period_at, years_at = header.index("period"), header.index("years")
    starts: dict[str, float] = {}
    elapsed = 0.0
    for _, cells in data:
        period = cells[period_at].strip() if period_at < len(cells) else ""
        years = cells[years_at].strip() if years_at < len(cells) else ""
        if period:
            starts.setdefault(period, elapsed)
        if not PLAIN_NUMBER.fullmatch(years) or not math.isfinite(float(years)):
            break
        elapsed += float(years)
    return starts


def _scaled_per_year(old: float, value: float, y: float) -> float:
    """``old × value ** y``. A factor beyond the floats (years of 1e12) gives ±inf (0 stays 0),
    which the loader refuses, naming the cell."""
    try:
        factor = value**y
    except OverflowError:
        factor = math.inf
    return OPS[SCALE_PER_YEAR](old, factor) if old else old


def _apply(
    rows: list[list[str]],
    edit: Edit,
    label: str,
    writers: CellWriters,
    start_years: dict[str, float] | None = None,
) -> Problem | None:
    """Apply one edit to a file's records; ``start_years`` (period → y) for ``scale_per_year``."""
    start, header, data = _header_and_data(rows)
    if edit.op == SCALE_PER_YEAR and edit.file not in PERIOD_FILES:
        expected = f"a file whose rows each have a period, for scale_per_year ({', '.join(PERIOD_FILES)})"
        return Problem(label, edit.row, "file", edit.file, expected)
    if edit.file == PARAMETERS:
        columns = {"name": TEXT, "value": FieldKind("number", "", True)}
        _add_default_parameters(rows, header, data, edit)
    else:
        columns = field_kinds(FILES[edit.file].model) if edit.file in FILES else {}
    numeric_columns = [name for name, kind in columns.items() if kind.kind in ("number", "integer")]
    if edit.column not in numeric_columns or (edit.column not in header and columns[edit.column].required):
        listed = ", ".join(numeric_columns)
        return Problem(label, edit.row, "column", edit.column, f"a numeric column of {edit.file} ({listed})")
    for name, _ in edit.where:
        if name not in header and name not in columns:
            return Problem(label, edit.row, "where", name, f"a column of {edit.file} ({', '.join(columns)})")
    if edit.column not in header:
        # An optional column left out of the file: add it blank, so its rows take the default.
        rows[start].append(edit.column)
        header.append(edit.column)
    col = header.index(edit.column)
    conditions = [
        (name, wanted, columns.get(name, TEXT), _default(edit.file, name)) for name, wanted in edit.where
    ]
    matched = 0
    for row, cells in data:
        record = {h: (cells[i].strip() if i < len(cells) else "") for i, h in enumerate(header)}
        if not all(
            _holds(record.get(name, ""), wanted, kind, default) for name, wanted, kind, default in conditions
        ):
            continue
        old = 0.0
        if edit.op != "set":
            old_or_problem = _old_value(record[edit.column], edit, label)
            if isinstance(old_or_problem, Problem):
                return old_or_problem
            old = old_or_problem
        matched += 1
        if edit.op == SCALE_PER_YEAR:
            y = (start_years or {}).get(record.get("period", ""))
            if y is None:  # no period of periods.csv: the loader says so; the cell is left as it is
                continue
            new = _scaled_per_year(old, edit.value, y)
        else:
            new = OPS[edit.op](old, edit.value)
        while len(cells) <= col:
            cells.append("")
        cells[col] = repr(new)
        cell = (edit.file, row, edit.column)
        writers[cell] = [edit.row] if edit.op == "set" else [*writers.get(cell, []), edit.row]
    if matched == 0:
        where = "&".join(f"{k}={v}" for k, v in edit.where) or "(every row)"
        return Problem(label, edit.row, "where", where, f"at least one matching row in {edit.file}")
    return None


def _add_default_parameters(
    rows: list[list[str]], header: list[str], data: list[tuple[int, list[str]]], edit: Edit
) -> None:
    """An optional parameter left out of parameters.csv is at its default: give it a row holding
    that default, so that ``where name=hours_per_year`` can edit it."""
    if "name" not in header or "value" not in header:
        return
    name_at, value_at = header.index("name"), header.index("value")
    listed = {cells[name_at].strip() for _, cells in data if len(cells) > name_at}
    for column, wanted in edit.where:
        info = ParameterValues.model_fields.get(wanted) if column == "name" else None
        if info is not None and not info.is_required() and wanted not in listed:
            cells = [""] * len(header)
            cells[name_at], cells[value_at] = wanted, repr(info.default)
            rows.append(cells)
            data.append((len(rows), cells))


def _default(file: str, column: str) -> object:
    """The schema default a blank cell of ``column`` stands for (None when it has none)."""
    spec = FILES.get(file)
    info = spec.model.model_fields.get(column) if spec and file != PARAMETERS else None
    return None if info is None or info.is_required() else info.default


def _old_value(text: str, edit: Edit, label: str) -> float | Problem:
    """The number a scale/add edit starts from: the cell, or the column's default when blank."""
    if not text:
        default = _default(edit.file, edit.column)
        if isinstance(default, bool) or not isinstance(default, (int, float)):
            return Problem(
                label,
                edit.row,
                "column",
                edit.column,
                f"a value to {edit.op} (the cell is blank and the default is not a number)",
            )
        text = str(default)
    if not PLAIN_NUMBER.fullmatch(text):
        return Problem(label, edit.row, "column", edit.column, f"a number in the case (found {text!r})")
    return float(text)


def _holds(cell: str, wanted: str, kind: FieldKind, default: object) -> bool:
    """Whether a ``where`` condition holds for one cell. A blank cell stands for the column's
    default; ids and text compare as written (period ``2026.1`` is not ``2026.10``), numeric
    columns as numbers (``1.50`` is ``1.5``), booleans as booleans (``TRUE`` is ``yes``)."""
    if not cell and default is not None:
        cell = str(default).lower() if isinstance(default, bool) else str(default)
    if cell == wanted:
        return True
    if kind.kind == "bool":
        try:
            return parse_bool(cell) == parse_bool(wanted)
        except ValueError:
            return False
    if kind.kind not in ("number", "integer"):
        return False
    if not (PLAIN_NUMBER.fullmatch(cell) and PLAIN_NUMBER.fullmatch(wanted)):
        return False
    return float(cell) == float(wanted)


@dataclass
class VariantOutcome:
    """One row of the sweep table."""

    case: str
    group: str
    summary: dict[str, Any] | None
    error: str | None
    seconds: float
    results: Results | None = None
    """The variant's result tables when its plan is kept (dropped once written)."""
    model: str = ""
    """The name of the model it was solved under (a sweep may run several)."""
    replanned: bool = False
    """A free re-plan of the variant (``sweep --fix-plan --replan``): no decision frozen."""
    replan: VariantOutcome | None = None
    """A frozen plan's solve's re-plan of the same variant under the same model (``--replan``)."""

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def every_solve_ok(self) -> bool:
        """This solve and its re-plan, if any, found plans."""
        return self.ok and (self.replan is None or self.replan.ok)


PlanWriter = Callable[[VariantOutcome], None]
"""Writes a solved variant's result tables as it arrives (``sweep --plans``)."""


def solve_variant(
    name: str,
    group: str,
    files: dict[str, str],
    config: ModelConfig,
    source: VariantSource | None = None,
    keep_plan: bool = False,
    frozen: FrozenPlan | None = None,
    replanned: bool = False,
) -> VariantOutcome:
    """Worker task: write the files, load, solve; a failure becomes a reason naming the sweep rows
    (``source``) whose edits made the input invalid.
    With ``keep_plan`` the outcome carries the variant's result tables; with ``frozen`` the
    variant re-scores that plan's buildings and contracts; ``replanned`` marks the outcome as the
    free re-plan beside such a solve (``--replan``: solved without ``frozen``)."""
    from planner.frozen_plan_fit import fit_frozen_plan
    from planner.loader import load_case
    from planner.output import plan_summary
    from planner.plan import solve_case, unless_interrupted

    started = time.perf_counter()

    def outcome(
        summary: dict[str, Any] | None, error: str | None, kept: Results | None = None
    ) -> VariantOutcome:
        seconds = time.perf_counter() - started
        return VariantOutcome(name, group, summary, error, seconds, kept, config.name, replanned)

    try:
        with tempfile.TemporaryDirectory(prefix="planner-variant-") as tmp:
            # The folder name is the case's name; a variant's name is free text ("..", 300 chars).
            folder = Path(tmp) / safe_name(name)
            folder.mkdir()
            for file_name, text in files.items():
                (folder / file_name).write_text(text, encoding="utf-8")
            case, warnings = load_case(folder)
            try:
                fixed, plan_warnings = (None, []) if frozen is None else fit_frozen_plan(frozen, case, config)
            except InputError as exc:  # the variant's input is valid: the frozen plan no longer fits it
                return outcome(None, f"the frozen plan does not fit this variant:\n{exc}")
        result = unless_interrupted(solve_case(case, config, fixed_plan=fixed))
        summary = plan_summary(result, None, [*warnings, *plan_warnings] or None)
        return outcome(summary, None, result.results if keep_plan else None)
    except InputError as exc:
        return outcome(None, f"{source.blamed_for(exc.problems)}:\n{exc}" if source is not None else str(exc))
    except ModelError as exc:
        return outcome(None, str(exc))
    except Exception as exc:  # noqa: BLE001 - one failing variant must not stop the others
        return outcome(None, f"{type(exc).__name__}: {exc}")


@dataclass(frozen=True)
class VariantSource:
    """Where a variant comes from: its rows of the sweep file, named in its errors."""

    sweep_label: str
    edits: tuple[Edit, ...]
    writers: CellWriters
    """Which of the variant's sweep rows wrote each edited cell."""

    def blamed_for(self, problems: list[Problem]) -> str:
        """``the edit of sweep.csv row 5 makes the input invalid``, naming the sweep rows whose
        edits gave the cell each problem names its value (or a cell its rule compares it with;
        any edited cell of the column for a problem about a whole column, such as probabilities
        that no longer sum to 1). Every row of the variant when a problem names no cell an edit
        wrote (a product of inputs too large for HiGHS)."""
        blamed: set[int] = set()
        for problem in problems:
            column = problem.column or ""
            read = COMPARED_COLUMNS.get((problem.file, column), (column,))
            wrote = {
                sweep_row
                for (file, row, edited), sweep_rows in self.writers.items()
                if file == problem.file and edited in read and problem.row in (None, row)
                for sweep_row in sweep_rows
            }
            if not wrote:
                blamed = {edit.row for edit in self.edits}
                break
            blamed |= wrote
        rows = sorted(blamed)
        if len(rows) == 1:
            return f"the edit of {self.sweep_label} row {rows[0]} makes the input invalid"
        return f"the edits of {self.sweep_label} rows {', '.join(map(str, rows))} make the input invalid"


@dataclass(frozen=True)
class SweepTask:
    name: str
    group: str
    files: dict[str, str] | None
    error: str | None
    source: VariantSource | None = None


def sweep_tasks(case_dir: Path, variants: list[Variant], sweep_label: str) -> list[SweepTask]:
    """The base and every variant of the sweep file ``sweep_label``, with edit errors already
    turned into failed tasks."""
    base_files = read_case_files(case_dir)
    tasks = [SweepTask(BASE, "", base_files, None)]
    for variant in variants:
        if variant.problems:
            tasks.append(SweepTask(variant.name, variant.group, None, str(InputError(variant.problems))))
            continue
        writers: CellWriters = {}
        try:
            files = apply_edits(base_files, variant.edits, sweep_label, writers)
        except InputError as exc:
            tasks.append(SweepTask(variant.name, variant.group, None, str(exc)))
            continue
        source = VariantSource(sweep_label, tuple(variant.edits), writers)
        tasks.append(SweepTask(variant.name, variant.group, files, None, source))
    return tasks

