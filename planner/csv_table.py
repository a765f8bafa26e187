"""One CSV table of a case, read and validated cell by cell against a pydantic row model.

Every problem is reported in spreadsheet terms (file, row as a spreadsheet shows it, column, the
raw cell text and what was expected). Files are read with the :mod:`csv` module rather than
pandas because spreadsheet row numbers must count blank lines, rows may be ragged, and every cell
must stay the raw text the user typed. Nothing here knows which files a case has: that is
:mod:`planner.loader`.
"""

from __future__ import annotations

import csv
import io
import math
import re
import types
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Annotated, TypeVar, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel, StringConstraints, ValidationError
from pydantic_core import ErrorDetails

from planner.errors import Problem

HUGE = 1e12
"""Larger magnitudes are typos (a unit slip or a pasted id), and they wreck solver numerics."""
MAX_EXAMPLES = 5
"""How many missing combinations or repeated rows a message lists before summarising."""
REQUIRED = "a value is required"
PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", re.ASCII)
"""Digits, one ``.``, an optional exponent: what every spreadsheet exports. Python's float() also
takes ``1_000``, other scripts' digits and non-breaking spaces, which a cell should not."""
ID_EXPECTED = "an id without leading or trailing spaces or control characters"
BOOL_EXPECTED = "true/false, 1/0 or yes/no"
UNKNOWN_COLUMN = "unknown column; extra columns must start with 'note'"

M = TypeVar("M", bound=BaseModel)


# --------------------------------------------------------------------------------------------
# Fields
# --------------------------------------------------------------------------------------------


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


class CellError(Exception):
    """A cell that cannot be converted; carries the expectation for the message."""

    def __init__(self, expected: str) -> None:
        super().__init__(expected)
        self.expected = expected


def convert_cell(text: str, kind: FieldKind) -> str | int | float:
    """Turn a non-blank cell into the value handed to pydantic. Numbers are parsed here, not by
    pydantic, to refuse nan/inf/huge values with a clear message and to take ``2.0`` as an
    integer; bounds are left to the schema."""
    if kind.kind not in ("number", "integer"):
        return text
    if not PLAIN_NUMBER.fullmatch(text.strip(" ")):
        raise CellError(kind.expected)
    number = float(text)
    if not math.isfinite(number) or abs(number) > HUGE:
        raise CellError(f"{kind.expected}, at most 1e12 in magnitude")
    if kind.kind == "integer":
        if not number.is_integer():
            raise CellError(kind.expected)
        return int(number)
    return number


def is_blank(text: str) -> bool:
    return not text.strip()


def is_blank_record(record: Sequence[str]) -> bool:
    """A record with no value in any cell: layout, not data (it still counts for row numbers)."""
    return all(is_blank(cell) for cell in record)


def header_index(records: Sequence[Sequence[str]]) -> int | None:
    """Where the header is: the first record with a value (None for a file of blank records)."""
    return next((i for i, record in enumerate(records) if not is_blank_record(record)), None)


def examples(items: Sequence[object]) -> str:
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
    numbers_in_notes: dict[str, list[int]] = field(default_factory=dict)
    """Note column -> the rows where it holds a plain number (see :func:`shifted_cells_warning`)."""


def shifted_cells_warning(table: Table) -> list[str]:
    """An unquoted ``12,500`` is two cells, and in a row whose note is blank every cell after it
    moves one column right: still the right count, so no error, and the last value lands in the
    note. A number in a note column after the data, in a row holding two neighbouring cells that
    read as one number split at a thousands separator, is the trace this leaves (a note of 2024
    alone is not)."""
    return [
        f"{table.file}, {'row' if len(rows) == 1 else 'rows'} {examples(rows)}, column {column}: a plain"
        " number in a note; if a number earlier in the row has a thousands separator (12,500), its"
        " cells have shifted one column right: write 12500 or quote it (\"12,500\")"
        for column, rows in table.numbers_in_notes.items()
    ]


def parse_table(
    file: str, data: bytes, known: Sequence[str], required: set[str], problems: list[Problem]
) -> Table | None:
    """Decode and split one file; report header problems. None when the file is unusable
    (undecodable, malformed CSV or no header row); then no row-level checks run on it."""
    records = _records(file, data, problems)
    if records is None:
        return None
    start = header_index(records)
    if start is None:
        problems.append(Problem(file, None, None, None, "a header row (the file is empty)"))
        return None
    header = [name.strip() for name in records[start]]
    if header[0].startswith("#"):  # one problem, not every column missing and every name unknown
        expected = "the header row first (this line reads as a comment; the format has no comment lines)"
        problems.append(Problem(file, start + 1, None, records[start][0], expected))
        return None
    if len(header) == 1 and (";" in header[0] or "\t" in header[0]):
        separator = "';'" if ";" in header[0] else "tabs"
        message = f"comma-separated columns (the header looks separated by {separator})"
        problems.append(Problem(file, start + 1, None, records[start][0], message))
        return None
    if not any(name in known for name in header) and (below := _header_below(records, start, known)):
        problems.append(Problem(file, start + 1, None, records[start][0], below))
        return None
    positions, slipped = _check_header(file, start + 1, header, known, problems)
    missing = {name for name in known if name in required and name not in positions}
    for name in known:
        if name in missing and name not in slipped:  # a slip of its letter case is reported as such
            expected = "this required column in the header row (it is missing)"
            problems.append(Problem(file, None, name, None, expected))
    rows = _raw_rows(file, records, start, header, positions, problems)
    table = Table(file, [header[i] for i in sorted(positions.values())], missing, rows)
    last_data = max(positions.values(), default=len(header))
    for index, name in enumerate(header):
        if index > last_data and name.lower().startswith("note"):
            numbers = [
                r + 1
                for r in range(start + 1, len(records))
                if index < len(records[r])
                and PLAIN_NUMBER.fullmatch(records[r][index].strip())
                and _split_thousands(records[r][:index])
            ]
            if numbers:
                table.numbers_in_notes.setdefault(name, []).extend(numbers)
    return table


HEADER_SEARCH_ROWS = 10
"""How far below a first row that names no known column the header row is looked for."""


def _header_below(records: list[list[str]], start: int, known: Sequence[str]) -> str | None:
    """What to expect when the first non-blank row is not the header but one further down is (a
    title row, or Excel's ``sep=,`` line above it): one problem instead of every column missing,
    every name unknown and every cell outside the header."""
    for index in range(start + 1, min(len(records), start + 1 + HEADER_SEARCH_ROWS)):
        names = [name.strip() for name in records[index] if name.strip()]
        if names and sum(name in known for name in names) * 2 >= len(names):
            if records[start][0].strip().lower().startswith("sep="):
                delete = "delete the 'sep=' line, a spreadsheet's separator hint the format does not have"
            else:
                delete = "delete the rows above it: the format has no title rows"
            return f"the header row first (row {index + 1} holds the column names; {delete})"
    return None


_THOUSANDS_HEAD = re.compile(r"[+-]?\d{1,3}")
_THOUSANDS_TAIL = re.compile(r"\d{3}(\.\d*)?")


def _split_thousands(cells: Sequence[str]) -> bool:
    """Two neighbouring cells that read as one number split at a thousands separator: ``12`` then
    ``500`` (or ``500.5``)."""
    return any(
        _THOUSANDS_HEAD.fullmatch(head.strip()) and _THOUSANDS_TAIL.fullmatch(tail.strip())
        for head, tail in zip(cells, cells[1:], strict=False)
    )


_WORKBOOK_SIGNATURES = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")
"""First bytes of .xlsx (a zip) and of legacy .xls files: a workbook renamed to .csv."""


LARGEST_CELL_CHARS = 2**31 - 1
"""Python's csv module refuses a cell over 131,072 characters ("field larger than field limit"):
a long pasted note is valid CSV, and the whole file is in memory anyway."""


def _records(file: str, data: bytes, problems: list[Problem]) -> list[list[str]] | None:
    if data.startswith(_WORKBOOK_SIGNATURES):
        expected = "CSV text (this is a spreadsheet workbook renamed .csv; export the sheet as 'CSV UTF-8')"
        problems.append(Problem(file, None, None, None, expected))
        return None
    if data.startswith(_UTF16_SIGNATURES):
        expected = f"UTF-8 text (this file is UTF-16, 'Unicode text'; {SAVE_AS_UTF8})"
        problems.append(Problem(file, None, None, None, expected))
        return None
    try:
        text = data.decode("utf-8-sig")  # -sig: spreadsheet exports often start with a BOM
    except UnicodeDecodeError as error:
        # Kept as escapes, the bytes that are not UTF-8 can be placed in their rows and cells.
        records = _split_records(file, data.decode("utf-8-sig", errors="surrogateescape"), [])
        cells = _undecodable_cells(file, records) if records is not None else []
        if not cells:
            line = data.count(b"\n", 0, error.start) + 1
            expected = f"UTF-8 text (line {line} is not valid UTF-8; {SAVE_AS_UTF8})"
            cells = [Problem(file, None, None, None, expected)]
        problems += cells
        return None
    return _split_records(file, text, problems)


_UTF16_SIGNATURES = (b"\xff\xfe", b"\xfe\xff")
"""Byte-order marks of UTF-16 text (a spreadsheet's "Unicode text" export)."""
_NOT_UTF8 = re.compile("[\udc80-\udcff]+")
"""Bytes that are not UTF-8, as ``errors="surrogateescape"`` decodes them."""
LISTED_UNDECODABLE_CELLS = 10
SAVE_AS_UTF8 = "save it as 'CSV UTF-8'"


def _as_hex_bytes(match: re.Match[str]) -> str:
    """Escaped bytes as their hex values: ``<FC>`` for a Latin-1 ``ü``."""
    return "<" + match.group().encode("utf-8", "surrogateescape").hex(" ").upper() + ">"


def _split_records(file: str, text: str, problems: list[Problem]) -> list[list[str]] | None:
    """The file's records; None, with a problem at the row where the bad record starts, when the
    text is not CSV (a quote opened and never closed reads as one cell up to the end of the file)."""
    csv.field_size_limit(max(csv.field_size_limit(), LARGEST_CELL_CHARS))
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: list[list[str]] = []
    try:
        for record in reader:
            records.append(record)
    except csv.Error as error:
        row = len(records) + 1
        if "unexpected end of data" in str(error):
            expected = (
                "well-formed CSV (a quote opened in this row is never closed, so the rest of the file "
                f"reads as one cell; the file ends at line {reader.line_num})"
            )
        else:
            expected = f"well-formed CSV (line {reader.line_num}: {error})"
        problems.append(Problem(file, row, None, None, expected))
        return None
    return records


def _undecodable_cells(file: str, records: list[list[str]]) -> list[Problem]:
    """One problem per cell holding bytes that are not UTF-8 (shown as hex: ``Z<FC>rich``), at its
    spreadsheet row and under its header's column name; the first :data:`LISTED_UNDECODABLE_CELLS`."""
    start = header_index(records) or 0
    header = [name.strip() for name in records[start]] if records else []
    found: list[tuple[int, str | None, str]] = []
    for index, record in enumerate(records):
        for position, cell in enumerate(record):
            if _NOT_UTF8.search(cell):
                column = header[position] if index > start and position < len(header) else None
                shown = _NOT_UTF8.sub(_as_hex_bytes, cell)
                found.append((index + 1, column or None, shown))
    expected = (
        "UTF-8 text (the bytes shown <in angle brackets> are not UTF-8: the file was saved in "
        f"another encoding, such as Latin-1; {SAVE_AS_UTF8})"
    )
    problems = [Problem(file, *cell, expected) for cell in found[:LISTED_UNDECODABLE_CELLS]]
    if len(found) > LISTED_UNDECODABLE_CELLS:
        more = len(found) - LISTED_UNDECODABLE_CELLS
        problems[-1] = replace(problems[-1], expected=f"{expected}; {more} more cells like it")
    return problems


def _check_header(
    file: str, row: int, header: list[str], known: Sequence[str], problems: list[Problem]
) -> tuple[dict[str, int], set[str]]:
    """Map usable column names to their position; report repeated and unknown columns, and names
    that differ from a known column's only in letter case. Return the positions and those known
    columns (absent, but already reported)."""
    positions: dict[str, int] = {}
    slipped: set[str] = set()
    for index, name in enumerate(header):
        if name == "":
            continue  # a trailing comma in the header; checked cell by cell in _raw_rows
        if name.lower().startswith("note"):
            continue  # free text, never read; several note columns may share a name
        if name in positions:
            problems.append(Problem(file, row, name, name, "each column once (it appears twice)"))
        elif name in known:
            positions[name] = index
        elif alike := _case_slip(name, header, known):
            expected = (
                f"the column {alike} ({name!r} differs from it only in letter case, and column names"
                " must match exactly)"
            )
            problems.append(Problem(file, row, name, name, expected))
            slipped.add(alike)
        else:
            expected = f"a known column ({', '.join(known)}): {UNKNOWN_COLUMN}"
            problems.append(Problem(file, row, name, name, expected))
    return positions, slipped


def _case_slip(name: str, header: list[str], known: Sequence[str]) -> str | None:
    """The known column ``name`` stands for when it differs from it only in letter case (``Chip``
    for ``chip``) and the header lacks the exact name: a slip worth naming, not an unknown column
    plus a missing one. None otherwise."""
    alike = next((column for column in known if column.casefold() == name.casefold()), None)
    return alike if alike is not None and alike not in header else None


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
        if is_blank_record(record):
            continue
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
            if is_blank(text):
                continue  # blank cells take the schema default, or fail as missing
            try:
                data[name] = convert_cell(text, kinds[name])
            except CellError as error:
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
    detail: ErrorDetails,
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
    defaults: dict[str, str] | None = None,
) -> None:
    """Report cells that name an id not in ``known`` (skipped when the other file is unusable:
    its own problem explains it). One problem per unknown value, at its first row, so that a
    missing period does not bury the list under thousands of demand rows. A blank cell stands
    for its column's entry in ``defaults``, if any, and is checked as that id."""
    if known is None:
        return
    known_set = set(known)
    unknown: dict[str, list[Checked]] = {}
    for checked in rows:
        key = checked.key(column, defaults=defaults)
        if key is not None and key[0] not in known_set:
            unknown.setdefault(key[0], []).append(checked)
            checked.bad.add(column)
    at_rows = {value: [c.row for c in bad_rows] for value, bad_rows in unknown.items()}
    problems += unknown_id_problems(file, column, at_rows, known_set, expected)


def unknown_id_problems(
    file: str, column: str, unknown: dict[str, list[int]], known: Iterable[str], expected: str
) -> list[Problem]:
    """One problem per unknown id (``unknown``: id -> the rows naming it), at its first row, with
    how many more rows name it and a known id it differs from only in letter case."""
    by_fold = {name.casefold(): name for name in sorted(known, reverse=True)}
    problems = []
    for value, rows in unknown.items():
        more = rows[1:]
        suffix = f"; same value in {len(more)} more rows: {examples(more)}" if more else ""
        alike = by_fold.get(value.casefold())
        if alike is not None:  # a near miss worth naming: ids are exact
            suffix += f"; {alike!r} differs from it only in letter case, and ids must match exactly"
        problems.append(Problem(file, rows[0], column, value, expected + suffix))
    return problems


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


def reported_ids(rows: Iterable[Checked], column: str) -> list[str]:
    """The ids of rows whose id cell has a problem of its own (``'a '``: spaces around it), as they
    were most likely meant: references to them are not reported again (the run stops anyway)."""
    return [c.cells[column].strip() for c in rows if column in c.bad and c.cells.get(column, "").strip()]


def valid_models(rows: Iterable[Checked], model: type[M]) -> list[tuple[int, M]]:
    """(row, model) of the fully valid rows; the isinstance filter also narrows the type."""
    return [(c.row, c.model) for c in rows if isinstance(c.model, model) and not c.bad]
