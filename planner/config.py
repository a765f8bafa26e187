"""Planning-model definitions (``models/*.toml``): decision policy, integrality, risk, solver."""

from __future__ import annotations

import json
import math
import re
import sys
import tomllib
from pathlib import Path
from typing import Any, Literal, TypeGuard, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import ErrorDetails

from planner.errors import InputError, KeyProblem, Problem

Policy = Literal["phased", "all-at-once", "plan-on-mean"]

SOURCE_MODELS_DIR = Path(__file__).resolve().parent.parent / "models"
"""``models/`` beside the package: a source checkout or an editable install."""
INSTALLED_MODELS_DIR = Path(sys.prefix) / "share" / "planner" / "models"
"""Where a regular (non-editable) install puts the same files (pyproject ``data-files``)."""
MODELS_DIR = SOURCE_MODELS_DIR if SOURCE_MODELS_DIR.is_dir() else INSTALLED_MODELS_DIR


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, strict=True)


class CvarSettings(Strict):
    """Risk term ``weight * CVaR_alpha(cost)`` added to the expected cost."""

    alpha: float = Field(0.9, ge=0, lt=1, description="confidence level: CVaR averages the worst 1-alpha")
    weight: float = Field(
        0.0, ge=0, le=1e6, description="weight of CVaR in the objective (0: risk neutral; at most 1e6)"
    )


AUTO_WARM_START_MIN_INTEGERS = 500
"""Integer columns from which a MIP gets a warm start unless told otherwise (the flagship has 848)."""
AUTO_WARM_START_SHARE = 0.75
"""Under a time limit the automatic warm start's restricted MIP may use 3/4 of it (the LP and the
relax-and-fix re-solves take what they need first). Measured on bench cases with a 175-180 s
limit: 20 sites x 10 years 0.50-0.58% with 3/4, 1.09% with 1/8; 20 sites x 40 quarters 0.82%
and 5 sites x 40 quarters 1.41% either way."""
PROOF_BUDGET_NODE_CELLS = 1e7
"""Default ``proof_budget``: about 10,000 branch-and-bound nodes of a model with 1,000 rows and
columns. Small cases then come out proven optimal where HiGHS, stopping at the first plan within
0.5%, returned one 0.04-0.3% above the optimum (2 of 60 random cases; bench 4 sites x 16 quarters:
21,255 instead of 21,248 musd, proven in 1,478 nodes, 1.9 s). The flagship and the bench cases
(warm-started) are not affected."""
AUTO_SCALE_MIN_COLUMNS = 50_000
"""``scale = "auto"`` rescales LPs from this size on: the 20-site bench LP (132,441 columns) solves
~20% faster. Below it there is little to gain (the flagship LP, 21,530 columns: 1.0 s either way),
and such LPs keep the plan the as-built path returns: where the LP has several optimal plans,
the rescaled path may return another one of them (same objective, same stranded figures on the
flagship)."""
MAX_THREADS = 1024
"""More HiGHS threads than this is a typo: at 100,000 HiGHS aborts the process (cannot start them)."""


_LOG = "planner sets it; use --log (the log is always written to the run folder's solver.log)"
_CUTOFF = "it changes what HiGHS calls optimal, so the reported optimum and gap would not be true"
_WRITES = "HiGHS would write a file outside the run folder, even over an input"
_READS = "planner hands HiGHS the model, its options and any start itself"
REFUSED_HIGHS_OPTIONS = {
    "threads": f"planner sets it; use [solver] threads (at most {MAX_THREADS}) or --threads",
    "mip_rel_gap": "planner sets it; use [solver] mip_gap or --mip-gap",
    "time_limit": "planner sets it; use [solver] time_limit_s or --time-limit",
    "random_seed": "planner sets it; use [solver] random_seed",
    "solver": "planner sets it; use [solver] lp_solver",
    "output_flag": _LOG,
    "log_to_console": _LOG,
    "log_file": _LOG,
    "objective_bound": _CUTOFF,
    "objective_target": _CUTOFF,
    **dict.fromkeys(
        (
            "solution_file",
            "write_solution_to_file",
            "write_model_file",
            "write_model_to_file",
            "write_presolved_model_file",
            "write_presolved_model_to_file",
            "write_iis_model_file",
            "write_basis_file",
            "write_matrix_image",
            "write_hessian_image",
            "mip_improving_solution_file",
            "mip_improving_solution_save",
        ),
        _WRITES,
    ),
    **dict.fromkeys(("model_file", "options_file", "read_solution_file", "read_basis_file"), _READS),
}
"""HiGHS options a model may not set in ``highs_options``, and why."""


class SolverSettings(Strict):
    """HiGHS settings; command-line flags override them."""

    mip_gap: float = Field(0.005, ge=0, le=1, description="relative MIP gap to stop at")
    time_limit_s: float | None = Field(None, gt=0, description="wall-clock limit (none: no limit)")
    threads: int = Field(
        1,
        ge=0,
        le=MAX_THREADS,
        description="HiGHS threads (1: solve, compare and sweep return the same plan; 0: HiGHS's default)",
    )
    random_seed: int = Field(
        0, ge=0, le=2**31 - 1, description="fixed seed so that runs are reproducible (HiGHS's range)"
    )
    highs_options: dict[str, bool | int | float | str] = Field(
        default_factory=dict, description="any other HiGHS option, by its HiGHS name"
    )
    warm_start_s: float | None = Field(
        None,
        ge=0,
        description="MIPs: seconds for a first plan (solve the LP, relax-and-fix period by period,"
        " then fix the integers the LP leaves integral and solve the rest as a MIP) handed to"
        " HiGHS; stops as soon as the plan is within mip_gap of the LP bound; 0 = off;"
        f" none (the default) = auto: for MIPs of at least {AUTO_WARM_START_MIN_INTEGERS:,} integer"
        f" columns, {AUTO_WARM_START_SHARE:.0%} of the time limit, or without a time limit and with"
        " a mip_gap above 0 no limit of its own; else off",
    )
    proof_budget: float = Field(
        PROOF_BUDGET_NODE_CELLS,
        ge=0,
        le=1e18,
        description="MIPs HiGHS solves without a warm start search for a proven optimum (gap 0)"
        " before settling for mip_gap: they stop within mip_gap only once branch and bound has"
        " explored nodes x (rows + columns) of at least this (1e7: 10,000 nodes of a model with"
        " 1,000 rows and columns); a count, not a clock, so the plan never depends on timing;"
        " 0 = stop at mip_gap at once",
    )
    lp_solver: Literal["choose", "simplex", "ipm"] = Field(
        "choose", description="HiGHS algorithm for LPs (relaxed models and the duals re-solve)"
    )
    scale: Literal["auto", "on", "off"] = Field(
        "auto",
        description="rescale rows and pass chips and energy in thousands (planner/scaling.py):"
        f" auto = LPs of at least {AUTO_SCALE_MIN_COLUMNS:,} columns, where it pays; MIPs and small"
        " LPs go to HiGHS as built, so its absolute tolerances keep their meaning in model units",
    )

    @field_validator("highs_options")
    @classmethod
    def _not_an_option_planner_sets(
        cls, options: dict[str, bool | int | float | str]
    ) -> dict[str, bool | int | float | str]:
        # Set through highs_options they would bypass planner's checks (threads = 100000 aborts
        # the process), its deadline, the --json promise (a console log on stdout) or its honesty.
        refused = [f"{name} ({why})" for name, why in REFUSED_HIGHS_OPTIONS.items() if name in options]
        if refused:
            raise ValueError(f"only options planner leaves to the model, not: {'; '.join(refused)}")
        return options

    def scales(self, columns: int, integer_columns: int) -> bool:
        """Whether a model of this size is rescaled before HiGHS (see ``scale``)."""
        if self.scale == "auto":
            return integer_columns == 0 and columns >= AUTO_SCALE_MIN_COLUMNS
        return self.scale == "on"

    def warm_start_seconds(self, integer_columns: int) -> float:
        """The warm start's budget for a model with ``integer_columns``; 0 when it is off.

        Auto (``warm_start_s`` unset), for MIPs of ``AUTO_WARM_START_MIN_INTEGERS`` or more:
        under a time limit, a share of it, because HiGHS alone spends most of a short limit on its
        root and returns poor plans there (34% after 300 s on the 20-site bench case, 0.82% with
        the warm start); without one, and with a gap to stop at, no limit of its own (so the plan
        does not depend on timing), because HiGHS's own search for plans changes with its version:
        on the flagship, 0.5% took 13 s with HiGHS 1.15 alone and 190 s with 1.16 alone, against
        24 s and 14 s warm-started, whose plan is also better (104.34 instead of 104.49-104.55 $B).
        At mip_gap 0 only the proof matters, and HiGHS is left alone."""
        if self.warm_start_s is not None:
            return self.warm_start_s
        if integer_columns < AUTO_WARM_START_MIN_INTEGERS:
            return 0.0
        if self.time_limit_s is None:
            return math.inf if self.mip_gap > 0 else 0.0
        return self.time_limit_s * AUTO_WARM_START_SHARE


_NOT_IN_FILE_NAMES = r'<>:"/\\|?*\x00-\x1f'
MODEL_NAME = re.compile(rf"[^\s._{_NOT_IN_FILE_NAMES}][^{_NOT_IN_FILE_NAMES}]{{0,99}}")
MODEL_NAME_BYTES = 100
MODEL_NAME_EXPECTED = (
    'a name of at most 100 characters (and 100 bytes in UTF-8), none of / \\ : * ? " < > | or a control'
    " character, not starting with a space, '.' or '_' (it names run-folder files; the file name is the"
    " default)"
)


class ModelConfig(Strict):
    """One planning model: how the long-lead decisions are taken, and how it is solved."""

    name: str = Field(min_length=1)
    description: str = ""
    policy: Policy = "phased"
    integer: bool = Field(True, description="false relaxes every integer and binary decision (LP)")
    unpowered_chips: bool = Field(
        False,
        description="extension: owned chips may sit unpowered, out of the building and off firm power"
        " (still paying chip O&M); false is the v1 contract, where every chip owned is installed",
    )
    cvar: CvarSettings = CvarSettings()
    solver: SolverSettings = SolverSettings()

    @field_validator("name")
    @classmethod
    def _name_is_safe_in_file_names(cls, name: str) -> str:
        # The name labels run-folder files (stranded_by_scenario-<name>.csv) and compare's tables,
        # where "_"-prefixed keys are planner's own solves (EVPI's perfect-information scenarios).
        # Bytes too: a file system's name limit is in bytes (255), and a sweep of several models writes
        # tornado-<name>.png and plans/<name>/, compare stranded_by_scenario-<name>.csv, after solving.
        if not MODEL_NAME.fullmatch(name) or len(name.encode()) > MODEL_NAME_BYTES:
            raise ValueError(MODEL_NAME_EXPECTED)
        return name

    def with_overrides(
        self,
        *,
        relax: bool = False,
        mip_gap: float | None = None,
        time_limit_s: float | None = None,
        threads: int | None = None,
        warm_start_s: float | None = None,
        unpowered_chips: bool = False,
    ) -> ModelConfig:
        """The config with command-line flags applied."""
        solver = self.solver.model_copy(
            update={
                k: v
                for k, v in {
                    "mip_gap": mip_gap,
                    "time_limit_s": time_limit_s,
                    "threads": threads,
                    "warm_start_s": warm_start_s,
                }.items()
                if v is not None
            }
        )
        return self.model_copy(
            update={
                "integer": self.integer and not relax,
                "unpowered_chips": self.unpowered_chips or unpowered_chips,
                "solver": solver,
            }
        )

    def side_by_side(self, parallel: bool) -> ModelConfig:
        """The config a solve runs with beside others: one HiGHS thread each (so that workers do
        not oversubscribe the cores) unless threads were set. Run records take it from here, so
        that they say how each solve ran."""
        if parallel and not self.solver.threads:
            return self.model_copy(update={"solver": self.solver.model_copy(update={"threads": 1})})
        return self


def resolve_model_path(name_or_path: str) -> Path:
    """``phased`` → ``models/phased.toml``; anything with a suffix or a slash is a path. A bare
    name is never looked up in the current folder: a run folder written with ``--out phased``
    must not shadow the shipped model (``./phased`` names that folder)."""
    candidate = Path(name_or_path)
    if candidate.suffix or "/" in name_or_path or "\\" in name_or_path:
        return candidate
    return MODELS_DIR / f"{name_or_path}.toml"


def load_model_config(name_or_path: str) -> ModelConfig:
    """Read and validate a model TOML; every problem is reported as an :class:`InputError`."""
    path = resolve_model_path(name_or_path)
    label = path.name
    if not path.is_file():  # named as looked up: a bare name is a file of the models folder
        known = ", ".join(sorted(p.stem for p in MODELS_DIR.glob("*.toml")))
        names = f"a model name ({known})" if known else f"a model name (none found in {MODELS_DIR})"
        expected = f"{names} or a .toml path"
        if path.parent != MODELS_DIR:
            what = "a folder" if path.is_dir() else "no such file"
            expected = f"a model TOML file ({what} at {path}) or {names}"
        elif name_or_path and Path(name_or_path).exists():
            expected += f" (to use the file {name_or_path} here, write ./{name_or_path})"
        raise InputError([Problem(str(path), None, None, name_or_path, expected)])
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        expected = f"a readable file ({exc.strerror or exc})"
        raise InputError([Problem(label, None, None, None, expected)]) from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError([Problem(label, None, None, None, f"valid TOML ({exc})")]) from exc
    data.setdefault("name", path.stem)
    config, problems = _validated(data, label)
    problems += _highs_option_problems(data, label)  # beside the schema's: every problem at once
    if problems:
        raise InputError(problems)
    assert config is not None  # no problems means the schema took it
    return config


def _validated(data: dict[str, Any], label: str) -> tuple[ModelConfig | None, list[Problem]]:
    """The config, or None and every problem the schema finds in ``data``, one per key."""
    try:
        return ModelConfig.model_validate(data), []
    except ValidationError as exc:
        problems: dict[str | None, Problem] = {}
        for err in exc.errors():
            problem = _key_problem(label, err)
            problems.setdefault(problem.column, problem)  # an option value's alternatives: one problem
        return None, list(problems.values())


HIGHS_OPTIONS_KEY = ("solver", "highs_options")
OPTION_VALUE_EXPECTED = "true or false, a number or a text in quotes"
TYPE_EXPECTED = {
    "bool_type": "true or false",
    "int_type": "a whole number",
    "float_type": "a number",
    "finite_number": "a finite number",
    "string_type": "a text in quotes",
    "string_too_short": "a non-empty text",
}
"""What a key of each type takes, by pydantic's error type, in the words of the model-file
reference (pydantic says "Input should be a valid boolean")."""
BOUND_SYMBOLS = {"greater_than": "gt", "greater_than_equal": "ge", "less_than": "lt", "less_than_equal": "le"}
SYMBOLS = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}


def _key_problem(label: str, err: ErrorDetails) -> KeyProblem:
    """One schema error in the model file's terms: its dotted key, the value as the file writes
    it, and what the key takes in plain words."""
    key = tuple(str(part) for part in err["loc"])
    if key[:2] == HIGHS_OPTIONS_KEY and len(key) > 3:  # one of the types an option value may have
        return KeyProblem(label, None, ".".join(key[:3]), _as_written(err["input"]), OPTION_VALUE_EXPECTED)
    return KeyProblem(label, None, ".".join(key), _as_written(err["input"]), _plain_expectation(key, err))


def _plain_expectation(key: tuple[str, ...], err: ErrorDetails) -> str:
    """What the key takes, said as the model-file reference says it, not as pydantic does
    ("Extra inputs are not permitted", "Input should be a valid dictionary or instance of ...")."""
    kind, context = err["type"], err.get("ctx") or {}
    if kind in TYPE_EXPECTED:
        return TYPE_EXPECTED[kind]
    if kind in BOUND_SYMBOLS:
        bound = BOUND_SYMBOLS[kind]
        table = _table_schema(key[:-1])
        field = table.model_fields.get(key[-1]) if table else None
        noun = "a whole number" if field is not None and field.annotation is int else "a number"
        return f"{noun} {SYMBOLS[bound]} {_plain_number(context[bound])}"
    if kind == "extra_forbidden":
        return f"one of the known keys ({_known_keys(key[:-1])})"
    if kind == "literal_error":
        return f"one of {context['expected']}"
    if kind in ("model_type", "dict_type"):
        return f"a [{'.'.join(key)}] table"
    return err["msg"].removeprefix("Value error, ")  # planner's own validators speak plainly


def _table_schema(table: tuple[str, ...]) -> type[BaseModel] | None:
    """The schema of the TOML table at ``table`` (``()``: the top level), None for a key that is
    no table of the schema."""
    schema: type[BaseModel] = ModelConfig
    for key in table:
        field = schema.model_fields.get(key)
        if field is None or not _is_schema(field.annotation):
            return None
        schema = field.annotation
    return schema


def _is_schema(annotation: object) -> TypeGuard[type[BaseModel]]:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _is_table(annotation: object) -> bool:
    """A key that is a table of its own in the file: ``[cvar]``, ``[solver.highs_options]``."""
    return _is_schema(annotation) or get_origin(annotation) is dict


def _known_keys(table: tuple[str, ...]) -> str:
    """The keys of the TOML table at ``table``, its own tables written ``[cvar]``."""
    schema = _table_schema(table)
    if schema is None:
        return ""
    return ", ".join(
        f"[{'.'.join((*table, name))}]" if _is_table(field.annotation) else name
        for name, field in schema.model_fields.items()
    )


def _plain_number(number: float) -> str:
    """``1000000`` for a bound of 1e6 (not ``1e+06`` or ``1000000.0``); ``1e+18`` for one nobody
    would type in full."""
    return str(int(number)) if float(number).is_integer() and abs(number) < 1e15 else f"{number:g}"


def _as_written(value: object) -> str | None:
    """A TOML value as the file writes it: ``"0.1"`` keeps its quotes, so that a number written as
    text shows as one; None for a table, which its key names."""
    if isinstance(value, dict):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _highs_option_problems(data: dict[str, Any], label: str) -> list[Problem]:
    """The ``[solver.highs_options]`` entries HiGHS refuses (an unknown name, a value it does not
    take), read from the file's own table, so that a refused option or another bad key elsewhere
    does not hide them. Entries the schema refuses itself (options planner sets, values
    of no type an option takes) are left to its message."""
    solver = data.get("solver")
    options = solver.get("highs_options") if isinstance(solver, dict) else None
    if not isinstance(options, dict):
        return []
    from planner.highs_factory import refused_highs_options  # it imports this module

    checkable = {
        name: value
        for name, value in options.items()
        if name not in REFUSED_HIGHS_OPTIONS and _is_option_value(value)
    }
    return [
        KeyProblem(label, None, f"solver.highs_options.{name}", _as_written(options[name]), expected)
        for name, expected in refused_highs_options(checkable).items()
    ]


def _is_option_value(value: object) -> bool:
    """A value of a type HiGHS options take, as the schema's ``highs_options`` lets through."""
    return isinstance(value, bool | int | str) or (isinstance(value, float) and math.isfinite(value))
