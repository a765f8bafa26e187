"""The input reference, generated from the row schemas (the schema is the documentation)."""

from __future__ import annotations

from pydantic_core import PydanticUndefined

from planner.case_files import FILES
from planner.csv_table import field_kinds


def input_reference_markdown() -> str:
    """A markdown table: file, column, type, default, meaning — one row per schema field."""
    lines = ["| file | column | type | default | meaning |", "|---|---|---|---|---|"]
    for name, spec in FILES.items():
        kinds = field_kinds(spec.model)
        label = name if spec.required else f"{name} (optional)"
        if name == "parameters.csv":
            lines.append(f"| {label} | name, value | | | one row per parameter below |")
        for column, info in spec.model.model_fields.items():
            default = "required" if info.is_required() else _default_text(info.default)
            first_column = column == next(iter(spec.model.model_fields)) and name != "parameters.csv"
            lines.append(
                f"| {label if first_column else ''} "
                f"| {column} | {kinds[column].expected} | {default} | {info.description or ''} |"
            )
    return "\n".join(lines) + "\n"


def _default_text(default: object) -> str:
    if default is None or default is PydanticUndefined:
        return "blank"
    if isinstance(default, bool):
        return str(default).lower()
    return f"{default:g}" if isinstance(default, float) else str(default)
