"""Property test: any corruption of a valid case gives exit 2 and a precise message, never a traceback."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_loader import VALID

from planner.cli import main

# Cell values that are illegal in every numeric column of the format.
JUNK_NUMBERS = ["abc", "nan", "inf", "-inf", "1e300", "-5", "1,5", "--1", "0x10"]
NUMERIC_COLUMNS = {
    "periods.csv": ["years"],
    "demand.csv": ["eflops"],
    "sites.csv": ["max_mw", "module_mw", "capex_musd_per_mw", "pue", "life_years"],
    "chips.csv": ["pflops", "kw", "capex_usd", "life_years"],
    "power.csv": ["mw", "price_usd_per_mwh"],
}
ID_COLUMNS = {"sites.csv": "site", "chips.csv": "chip", "power.csv": "contract", "periods.csv": "period"}


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def _text(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


@st.composite
def corruptions(draw: st.DrawFn) -> tuple[dict[str, str], str, int | None, str | None, str | None]:
    """A corrupted case and where its problem must be reported: (files, file, row, column, value)."""
    kind = draw(
        st.sampled_from(["junk", "blank", "missing_column", "extra_column", "duplicate_id", "empty_file"])
    )
    files = dict(VALID)
    if kind in ("junk", "blank"):
        name = draw(st.sampled_from(sorted(NUMERIC_COLUMNS)))
        column = draw(st.sampled_from(NUMERIC_COLUMNS[name]))
        rows = _rows(files[name])
        row = draw(st.integers(1, len(rows) - 1))
        value = draw(st.sampled_from(JUNK_NUMBERS)) if kind == "junk" else ""
        rows[row][rows[0].index(column)] = value
        files[name] = _text(rows)
        return files, name, row + 1, column, value if value else None
    if kind == "missing_column":
        name = draw(st.sampled_from(sorted(NUMERIC_COLUMNS)))
        column = draw(st.sampled_from(NUMERIC_COLUMNS[name]))
        rows = _rows(files[name])
        index = rows[0].index(column)
        files[name] = _text([r[:index] + r[index + 1 :] for r in rows])
        return files, name, None, column, None
    if kind == "extra_column":
        name = draw(st.sampled_from(sorted(NUMERIC_COLUMNS)))
        rows = _rows(files[name])
        files[name] = _text([rows[0] + ["colour"]] + [r + ["red"] for r in rows[1:]])
        return files, name, None, "colour", None
    if kind == "duplicate_id":
        name = draw(st.sampled_from(sorted(ID_COLUMNS)))
        rows = _rows(files[name])
        files[name] = _text(rows + [rows[1]])
        return files, name, len(rows) + 1, ID_COLUMNS[name], None
    name = draw(st.sampled_from(["sites.csv", "chips.csv", "power.csv", "periods.csv", "demand.csv"]))
    files[name] = ""
    return files, name, None, None, None


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(corruptions())
def test_any_corruption_is_exit_2_with_its_location(
    corruption: tuple[dict[str, str], str, int | None, str | None, str | None],
) -> None:
    files, file_name, row, column, value = corruption
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "case"
        folder.mkdir()
        for name, text in files.items():
            (folder / name).write_text(text, encoding="utf-8")
        result = CliRunner().invoke(main, ["validate", str(folder)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert file_name in result.output
    if row is not None:
        assert f"row {row}" in result.output
    if column is not None:
        assert column in result.output
    if value is not None:
        assert repr(value) in result.output
