"""The ``planner`` command line: parse flags, call one function, render its result. How a
command ends when something goes wrong (messages, ``--json`` objects, exit codes) is
:mod:`planner.cli_errors`.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import click
from rich.console import Console
from rich.text import Text

from planner.case import Case
from planner.cli_errors import EXIT_NO_PLAN, OUT_OF_MEMORY, JsonAwareGroup, handle_errors
from planner.config import (
    AUTO_WARM_START_MIN_INTEGERS,
    AUTO_WARM_START_SHARE,
    MAX_THREADS,
    ModelConfig,
    load_model_config,
    resolve_model_path,
)
from planner.entry import keeping_the_plan_found, stopped_with_a_plan_in_hand
from planner.errors import InputError, Problem, load_together
from planner.json_text import json_text
from planner.loader import load_case
from planner.markup import literal, make_console, print_warnings
from planner.runfolder import RunFolder, default_run_dir

if TYPE_CHECKING:  # pyomo and highspy load in ~0.3 s: only commands that solve pay for them
    import pandas as pd

    from planner.frozen_plan import FrozenPlan
    from planner.frozen_plan_fit import FittedPlan
    from planner.solve import Progress


class _NoInterruptNoise(logging.Filter):
    """Pyomo logs "Constructing component ... failed: KeyboardInterrupt" before re-raising a
    Ctrl-C that lands while the model is built; the CLI says it once, in its own words."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "KeyboardInterrupt" not in record.getMessage()


logging.getLogger("pyomo.core").addFilter(_NoInterruptNoise())


def progress_text(p: Progress) -> str:
    return (
        f"solving: {p.elapsed_s:,.0f}s, best plan {p.incumbent_musd / 1000:,.3f} $B, "
        f"bound {p.bound_musd / 1000:,.3f} $B, gap {100 * p.gap:.2f}%"
    )


class Number(click.FloatRange):
    """A float range that also refuses ``nan`` (a range check lets it through: every comparison
    with nan is false) and, unless ``allow_inf`` (``--time-limit inf``: no limit), ``inf``."""

    def __init__(self, *args: Any, allow_inf: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.allow_inf = allow_inf

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if math.isnan(number):
            self.fail(f"{value!r} is not a number.", param, ctx)
        if math.isinf(number) and not self.allow_inf:
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return number


def solver_options(command: Callable[..., object]) -> Callable[..., object]:
    """The flags every solving command shares (``--model`` is added per command)."""
    options = [
        click.option("--relax", is_flag=True, help="Solve the LP relaxation (no integer decisions)."),
        click.option(
            "--unpowered-chips",
            "unpowered_chips",
            is_flag=True,
            help="Extension: let owned chips sit unpowered, out of the building and off firm power, paying"
            " chip O&M (the model's unpowered_chips = true; default: the v1 contract, every chip installed).",
        ),
        click.option(
            "--mip-gap",
            type=Number(0, 1),
            default=None,
            help="Relative MIP gap to stop at (default: the model's).",
        ),
        click.option(
            "--time-limit",
            type=Number(0, min_open=True, allow_inf=True),
            default=None,
            help="Seconds; the best plan found by then is returned, marked as such (inf: no limit).",
        ),
        click.option(
            "--threads",
            type=click.IntRange(0, MAX_THREADS),
            default=None,
            help="HiGHS threads (default: the model's, 1 in the shipped models, so that solve, compare and"
            " sweep return the same plan; 0: HiGHS's default, all cores).",
        ),
        click.option(
            "--warm-start",
            "warm_start",
            type=Number(0),
            default=None,
            help="MIPs: seconds for the relax-and-fix / LP-and-fix first plan (0: off;"
            f" default: the model's, else auto for MIPs of {AUTO_WARM_START_MIN_INTEGERS:,}+ integer columns:"
            f" {AUTO_WARM_START_SHARE:.0%} of --time-limit, or unlimited without one when --mip-gap > 0)."
            " Shares --time-limit with HiGHS.",
        ),
        click.option(
            "--out",
            type=click.Path(path_type=Path),
            default=None,
            help="Run folder to create (default: a new runs/<case>-<model>-<timestamp>; compare:"
            " <case>-compare-..., sweep: <case>-sweep-<model>-... or <case>-sweep-<model>-vs-<model>-...,"
            " bench: bench-<size>-...).",
        ),
        click.option("--overwrite", is_flag=True, help="Replace --out if it already exists."),
        click.option(
            "--json", "as_json", is_flag=True, help="Print one JSON object on stdout, nothing else."
        ),
    ]

    @functools.wraps(command)
    def wrapper(
        *args: object,
        relax: bool,
        unpowered_chips: bool,
        mip_gap: float | None,
        time_limit: float | None,
        threads: int | None,
        warm_start: float | None,
        out: Path | None,
        overwrite: bool,
        as_json: bool,
        **kwargs: object,
    ) -> object:
        flags = RunFlags(
            relax, mip_gap, time_limit, threads, out, overwrite, as_json, warm_start, unpowered_chips
        )
        return command(*args, flags=flags, **kwargs)

    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper


@dataclass(frozen=True)
class RunFlags:
    """The shared flags of the solving commands, bundled."""

    relax: bool
    mip_gap: float | None
    time_limit: float | None
    threads: int | None
    out: Path | None
    overwrite: bool
    as_json: bool
    warm_start: float | None = None
    unpowered_chips: bool = False

    def model(self, name_or_path: str) -> ModelConfig:
        """The model TOML with the command-line overrides applied."""
        return load_model_config(name_or_path).with_overrides(
            relax=self.relax,
            mip_gap=self.mip_gap,
            time_limit_s=self.time_limit,
            threads=self.threads,
            warm_start_s=self.warm_start,
            unpowered_chips=self.unpowered_chips,
        )

    def run_folder(self, case_name: str, label: str, *inputs: Path, suffix: str = "") -> RunFolder:
        """The run folder to write: ``--out``, or a new ``runs/<case>-<label><suffix>-<time>`` folder
        (``<label><suffix>-relaxed`` with ``--relax``, so an LP run does not read as the MIP's;
        ``-unpowered`` with ``--unpowered-chips``, so an extended run does not read as the v1 model's).
        ``suffix`` (``-fixed``) is kept when a long label is cut. ``--overwrite`` never replaces a
        folder holding one of the ``inputs``, and neither may be inside one of them."""
        if self.out is not None:
            return RunFolder(self.out, overwrite=self.overwrite, protect=inputs)
        suffix += "-relaxed" if self.relax else ""
        suffix += "-unpowered" if self.unpowered_chips else ""
        return RunFolder(default_run_dir(case_name, label, suffix=suffix), unique=True, protect=inputs)


@dataclass(frozen=True)
class FixFlags:
    """``--fix-plan``, ``--fix-through`` and ``--fix-chips``: an earlier plan's buildings and
    contracts, and its chip purchases too, frozen."""

    plan_dir: Path | None
    through: str | None
    chips: bool = False

    def read(self) -> FrozenPlan | None:
        from planner.frozen_plan import read_frozen_plan

        return None if self.plan_dir is None else read_frozen_plan(self.plan_dir, self.through, self.chips)

    def model(self, flags: RunFlags, name_or_path: str) -> ModelConfig:
        """The model, refused when it cannot take a frozen plan (plan-on-mean fixes its own)."""
        config = flags.model(name_or_path)
        if self.plan_dir is not None and config.policy == "plan-on-mean":
            expected = (
                "a phased or all-at-once model with --fix-plan (plan-on-mean fixes its own buildings"
                " and contracts)"
            )
            raise InputError([Problem("--model", None, None, config.name, expected)])
        return config

    @property
    def suffix(self) -> str:
        """A run folder's label is followed by ``-fixed`` when a plan is frozen, so that it does not
        read as the model's own plan (after the label's cut: a long model name must not drop it)."""
        return "" if self.plan_dir is None else "-fixed"

    @property
    def inputs(self) -> tuple[Path, ...]:
        return () if self.plan_dir is None else (self.plan_dir,)

    @property
    def plan_files(self) -> tuple[str, ...]:
        """The plan's files that are frozen, as a sweep folder keeps them."""
        return ("builds.csv", "contracts.csv", *(("chips.csv",) if self.chips else ()))


def fix_plan_options(command: Callable[..., object]) -> Callable[..., object]:
    """``--fix-plan RUN_DIR [--fix-through PERIOD] [--fix-chips]``, bundled as ``fix``."""

    @functools.wraps(command)
    def wrapper(
        *args: object, fix_plan: Path | None, fix_through: str | None, fix_chips: bool, **kwargs: object
    ) -> object:
        if fix_through is not None and fix_plan is None:
            raise click.UsageError("--fix-through needs --fix-plan (the plan whose periods it freezes).")
        if fix_chips and fix_plan is None:
            raise click.UsageError("--fix-chips needs --fix-plan (the plan whose chip purchases it freezes).")
        return command(*args, fix=FixFlags(fix_plan, fix_through, fix_chips), **kwargs)

    wrapper = click.option(
        "--fix-chips",
        is_flag=True,
        help="With --fix-plan: freeze the plan's chip purchases too (its chips.csv), in the frozen periods"
        " and the same in every scenario (a phased plan's until its scenarios part).",
    )(wrapper)
    wrapper = click.option(
        "--fix-through",
        metavar="PERIOD",
        default=None,
        help="With --fix-plan: freeze only the decisions of the periods up to PERIOD; the model takes"
        " the later ones (a phased plan can be frozen only until its scenarios part).",
    )(wrapper)
    return click.option(
        "--fix-plan",
        metavar="RUN_DIR",
        type=click.Path(path_type=Path),
        default=None,
        help="Freeze the buildings and contracts of an earlier run's plan (its run folder, or a folder"
        " with builds.csv and contracts.csv in their columns) and re-optimise chips (unless --fix-chips)"
        " and operations on this case: a stress test of a committed plan.",
    )(wrapper)


def fitted_plan(
    frozen: FrozenPlan | None, case: Case, configs: list[ModelConfig], console: Console
) -> tuple[FittedPlan | None, list[str]]:
    """The frozen plan checked against ``case`` under each of ``configs`` (exit 2 naming its rows
    when the case cannot take it under one of them, the problems of every model at once, each
    once), with its warnings printed once. The fitted decisions are the plan's, whichever model."""
    if frozen is None:
        return None, []
    from planner.frozen_plan_fit import fit_frozen_plan

    try:
        fits = load_together(*(functools.partial(fit_frozen_plan, frozen, case, c) for c in configs))
    except InputError as exc:  # a plan row the case cannot take is one problem under every model
        raise InputError(list(dict.fromkeys(exc.problems))) from exc
    warnings = list(dict.fromkeys(warning for _, found in fits for warning in found))
    print_warnings(console, warnings)
    return fits[0][0], warnings


def load_case_reporting(case_dir: Path, console: Console) -> tuple[Case, list[str]]:
    """Load and validate a case, printing its warnings (legal but suspicious inputs)."""
    case, warnings = load_case(case_dir)
    print_warnings(console, warnings)
    return case, warnings


def check_numbers_before_solving(case: Case, configs: list[ModelConfig]) -> None:
    """Exit 2 (every problem once) before any solve or run folder when ``case`` makes numbers
    HiGHS would not take as written under one of ``configs``: ``solve`` finds them after its
    build; ``compare`` and ``sweep`` would otherwise answer with a folder of failed strategies
    (exit 1), and ``validate`` would call the case valid."""
    from planner.plan import check_case_numbers, numbers_check_key

    problems: dict[tuple[str, str | None], Problem] = {}  # one per input, as the first model saw it
    checked: dict[tuple[object, ...], ModelConfig] = {}
    for config in configs:
        checked.setdefault(numbers_check_key(config), config)  # the same numbers need one check
    for config in checked.values():
        try:
            check_case_numbers(case, config)
        except InputError as exc:
            for problem in exc.problems:
                problems.setdefault((problem.file, problem.column), problem)
    if problems:
        raise InputError(list(problems.values()))


model_option = click.option(
    "--model",
    "model_name",
    default="phased",
    show_default=True,
    help="Model name in models/ or path to a model TOML.",
)
"""``--model NAME|PATH`` of the single-model commands."""


def _scheduler_port_checked(ctx: click.Context, param: click.Parameter, address: str | None) -> str | None:
    """A port no scheduler can listen on is refused at once (Dask would try it for 20 s);
    any other address is checked by connecting to it."""
    if address is None:
        return None
    expected = "expected a port from 1 to 65535, e.g. tcp://10.0.0.5:8786"
    try:
        port = urlsplit(address if "://" in address else f"tcp://{address}").port
    except ValueError as exc:  # out of 0-65535, or not a number
        raise click.BadParameter(f"{address!r}: {exc}; {expected}") from exc
    if port == 0:
        raise click.BadParameter(f"{address!r}: port 0; {expected}")
    return address


@click.group(cls=JsonAwareGroup)
@click.version_option(package_name="planner")
def main() -> None:
    """planner: phased data-center, chip and power planning under demand uncertainty."""


@main.command()
@click.argument("case_dir", type=click.Path(path_type=Path))
@model_option
@solver_options
@click.option("--log", "stream_log", is_flag=True, help="Stream the HiGHS log to the terminal.")
@click.option("--duals", is_flag=True, help="Report shadow prices (LP, or the MIP with integers fixed).")
@fix_plan_options
@handle_errors
def solve(
    case_dir: Path,
    model_name: str,
    flags: RunFlags,
    stream_log: bool,
    duals: bool,
    fix: FixFlags,
) -> None:
    """Solve CASE_DIR under a planning model and report cost and stranded-capacity risk."""
    from planner.output import plan_summary, write_plan
    from planner.plan import solve_case
    from planner.report import render_plan

    as_json = flags.as_json
    console = make_console(stderr=as_json)
    (case, warnings), config, frozen = load_together(
        lambda: load_case_reporting(case_dir, console), lambda: fix.model(flags, model_name), fix.read
    )
    fixed, plan_warnings = fitted_plan(frozen, case, [config], console)
    warnings = [*warnings, *plan_warnings]
    if stream_log and as_json:
        note = "with --json the HiGHS log is not streamed (stdout holds one JSON object only)"
        console.print(f"note: {note}; it is in the run folder's solver.log", highlight=False)
    progress_console = make_console(stderr=True)
    with (
        keeping_the_plan_found(),
        flags.run_folder(
            case.name, config.name, case_dir, resolve_model_path(model_name), *fix.inputs, suffix=fix.suffix
        ) as folder,
        progress_console.status("building the model...", spinner="dots") as status,
    ):
        final_dir = folder.final
        result = solve_case(
            case,
            config,
            log_file=folder.file("solver.log"),
            stream_log=stream_log and not as_json,
            with_duals=duals and not config.integer,  # an LP's duals come with its solve
            on_progress=None if stream_log else lambda p: status.update(progress_text(p)),
            fixed_plan=fixed,
        )
        if duals:
            from planner.duals import render_duals, shadow_prices

            if stopped_with_a_plan_in_hand():  # a stop before the shadow prices' solve is one during it
                raise KeyboardInterrupt
            tables = shadow_prices(result)  # a solve of its own: a Ctrl-C here still stops the run
        write_plan(folder, result, warnings, str(final_dir))
        if duals:
            from planner.duals import write_duals

            write_duals(folder, tables)
        folder.commit()
    if as_json:
        summary = plan_summary(result, str(final_dir), warnings)
        click.echo(json_text(summary))
        return
    render_plan(result, console, str(final_dir))
    if duals:
        render_duals(tables, console)


@main.command()
@click.argument("case_dir", type=click.Path(path_type=Path))
@click.option(
    "--model",
    "model_names",
    multiple=True,
    help="Model name or TOML path; repeat for each strategy (default: phased, all-at-once, plan-on-mean).",
)
@solver_options
@click.option(
    "--workers",
    type=click.IntRange(1),
    default=None,
    help="Parallel solver processes (default: one per core, up to the number of solves).",
)
@handle_errors
def compare(
    case_dir: Path,
    model_names: tuple[str, ...],
    flags: RunFlags,
    workers: int | None,
) -> None:
    """Solve CASE_DIR under several strategies and compare cost, risk, EVPI and VSS."""
    from planner.compare import DEFAULT_MODELS, compare_strategies
    from planner.compare_report import comparison_summary, render_comparison, write_comparison
    from planner.output import write_inputs_record

    names = model_names or DEFAULT_MODELS
    console = make_console(stderr=flags.as_json)
    (case, warnings), configs = load_together(
        lambda: load_case_reporting(case_dir, console), lambda: _strategy_models(names, flags.model)
    )
    check_numbers_before_solving(case, configs)
    with flags.run_folder(case.name, "compare", case_dir, *map(resolve_model_path, names)) as folder:
        final_dir = folder.final
        comparison = compare_strategies(case, configs, workers=workers)
        write_comparison(folder, comparison, str(final_dir), warnings)
        write_inputs_record(folder, case, list(comparison.configs.values()), warnings)
        folder.commit()
    if flags.as_json:
        click.echo(json_text(comparison_summary(comparison, str(final_dir), warnings)))
    else:
        render_comparison(comparison, console, str(final_dir))
    if any(not task.ok for task in comparison.strategies.values()):
        sys.exit(EXIT_NO_PLAN)


def _strategy_models(names: tuple[str, ...], model: Callable[[str], ModelConfig]) -> list[ModelConfig]:
    """compare's and sweep's models as ``model`` reads each (the flags applied): the problems of
    every model TOML at once, and each model once (its name labels the strategy's tables)."""
    configs = load_together(*(functools.partial(model, name) for name in names))
    seen = [c.name for c in configs]
    twice = list(dict.fromkeys(name for name in seen if seen.count(name) > 1))
    if twice:  # two TOML files may carry one name: say which, it is not the path given
        named = ", ".join(repr(name) for name in twice)
        expected = f"each model once (a model's name labels its tables and files; named twice: {named})"
        raise InputError([Problem("--model", None, None, ", ".join(names), expected)])
    return configs


@main.command()
@click.argument("case_dir", type=click.Path(path_type=Path))
@click.argument("sweep_file", type=click.Path(path_type=Path))
@click.option(
    "--model",
    "model_names",
    multiple=True,
    default=("phased",),
    show_default=True,
    help="Model name in models/ or path to a model TOML; repeat to sweep several models at once"
    " (strategies.csv compares them variant by variant).",
)
@solver_options
@click.option(
    "--workers",
    type=click.IntRange(1),
    default=None,
    help="Parallel solver processes (default: one per core).",
)
@click.option(
    "--scheduler",
    default=None,
    callback=_scheduler_port_checked,
    help="Address of a running Dask scheduler (e.g. tcp://10.0.0.5:8786) to run the variants on.",
)
@click.option(
    "--plans/--no-plans",
    default=True,
    show_default=True,
    help="Write each solved variant's plan and figures (a solve folder's tables) into plans/<n>-<variant>/"
    " (plans/<model>/<n>-<variant>/ with several models; a re-plan's into <n>-<variant>-replanned/).",
)
@click.option(
    "--replan",
    is_flag=True,
    help="With --fix-plan: also solve every variant freely under the same model, in the same pool, and"
    " give the frozen plan's regret (its objective less the re-planned one) in variants.csv.",
)
@fix_plan_options
@handle_errors
def sweep(
    case_dir: Path,
    sweep_file: Path,
    model_names: tuple[str, ...],
    flags: RunFlags,
    workers: int | None,
    scheduler: str | None,
    plans: bool,
    replan: bool,
    fix: FixFlags,
) -> None:
    """Solve CASE_DIR and every variant of SWEEP_FILE under each model; table and tornado chart of
    the changes, and with several models a table of the strategies side by side."""
    if replan and fix.plan_dir is None:
        raise click.UsageError("--replan needs --fix-plan (the plan whose regret it measures).")
    from planner.output import write_inputs_record
    from planner.parallel import default_workers
    from planner.sweep import read_sweep, sweep_tasks
    from planner.sweep_report import (
        outcomes_by_model,
        sweep_warnings,
        variant_plan_writer,
        variants_tables,
        warnings_by_variant,
        write_sweep,
    )
    from planner.sweep_run import run_sweep
    from planner.sweep_strategies import strategies_table

    console = make_console(stderr=flags.as_json)
    (case, warnings), variants, configs, frozen = load_together(
        lambda: load_case_reporting(case_dir, console),
        lambda: read_sweep(sweep_file),
        lambda: _strategy_models(model_names, functools.partial(fix.model, flags)),
        fix.read,
    )
    base_plan, plan_warnings = fitted_plan(frozen, case, configs, console)  # a variant's are its failure
    warnings = [*warnings, *plan_warnings]
    fixed = None if base_plan is None else base_plan.describe()
    check_numbers_before_solving(case, configs)  # base's; a variant's own are its failure
    tasks = sweep_tasks(case_dir, variants, sweep_file.name)  # edited once, solved under every model
    if len(tasks) == 1:
        no_variants = f"{sweep_file.name} has no variant rows: only base is solved"
        print_warnings(console, [no_variants])
        warnings = [*warnings, no_variants]
    n_workers = workers or default_workers(len(tasks) * len(configs) * (2 if replan else 1))
    configs = [config.side_by_side(n_workers > 1 or scheduler is not None) for config in configs]
    several = len(configs) > 1
    label = "-vs-".join(config.name for config in configs)  # sweep-phased-vs-all-at-once
    inputs = (case_dir, sweep_file, *map(resolve_model_path, model_names), *fix.inputs)
    with flags.run_folder(case.name, f"sweep-{label}", *inputs, suffix=fix.suffix) as folder:
        final_dir = folder.final
        folder.copy_input(sweep_file, "sweep.csv")  # the edits, kept with what they gave
        write_inputs_record(folder, case, configs, warnings)
        if fix.plan_dir is not None:  # the plan every variant re-scored, kept with what it gave
            folder.write_json("fixed_plan.json", fixed)
            for name in fix.plan_files:
                folder.copy_input(fix.plan_dir / name, f"fixed_plan_{name}")
        plan_writer = variant_plan_writer(folder, tasks, several) if plans else None
        outcomes = run_sweep(tasks, configs, n_workers, scheduler, console, plan_writer, frozen, replan)
        tables = variants_tables(outcomes)
        strategies = strategies_table(outcomes_by_model(outcomes)) if several else None
        write_sweep(folder, tables, strategies)
        said = sweep_warnings(outcomes, warnings)
        if said:
            lines = [f"{who}: {warning}" for who, items in warnings_by_variant(said) for warning in items]
            folder.write_text("variant_warnings.txt", "\n".join(lines) + "\n")
        folder.commit()
    outcome = SweepOutcome(str(final_dir), tables, strategies, warnings, fixed, said)
    if flags.as_json:
        click.echo(json_text(outcome.answer()))
    else:
        outcome.render(console)
    if any(not o.every_solve_ok for o in outcomes):
        sys.exit(EXIT_NO_PLAN)


@dataclass(frozen=True)
class SweepOutcome:
    """What ``sweep`` reports, on the console or as its ``--json`` object."""

    run_dir: str
    tables: dict[str, pd.DataFrame]
    """Each model's variants table."""
    strategies: pd.DataFrame | None
    """The models side by side, when there are several."""
    warnings: list[str]
    fixed: dict[str, Any] | None
    said: dict[str, Any]
    """The variants' own warnings: by variant, or by model and variant."""

    def answer(self) -> dict[str, Any]:
        from planner.sweep_report import variants_csv

        answer: dict[str, Any] = {
            "run_dir": self.run_dir,
            "variants": variants_csv(self.tables, replanned_seconds=True).to_dict(orient="records"),
        }
        if self.strategies is not None:
            answer |= {"models": list(self.tables), "strategies": self.strategies.to_dict(orient="records")}
        return answer | {"warnings": self.warnings, "fixed_plan": self.fixed, "variant_warnings": self.said}

    def render(self, console: Console) -> None:
        from planner.report import fixed_plan_line
        from planner.sweep_report import render_sweep, warnings_by_variant
        from planner.sweep_strategies import render_model_sweep

        if self.fixed is not None:
            console.print(fixed_plan_line(self.fixed), highlight=False)
        if self.strategies is None:
            render_sweep(next(iter(self.tables.values())), console, self.run_dir)
        else:
            render_model_sweep(self.tables, self.strategies, console, self.run_dir)
        for who, items in warnings_by_variant(self.said):
            print_warnings(console, items, about=f"variant {literal(who)}: ")


def _plain(value: object) -> str:
    """A summary value as words, not Python's reprs: ``periods 2, sites 1`` for a dict."""
    if isinstance(value, dict):
        return ", ".join(f"{key} {_plain(item)}" for key, item in value.items())
    if isinstance(value, list | tuple):
        separator = "; " if any(isinstance(item, list) for item in value) else ", "
        return separator.join(_plain(item) for item in value)
    return "none" if value is None else str(value)


@main.command()
@click.argument("case_dir", type=click.Path(path_type=Path))
@model_option
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@handle_errors
def validate(case_dir: Path, model_name: str, as_json: bool) -> None:
    """Check CASE_DIR; print a short summary, or every problem found (exit 2). The model is built,
    not solved, to check its numbers are ones HiGHS can take as written."""
    from planner.case_summary import case_summary

    (case, warnings), config = load_together(
        lambda: load_case(case_dir), lambda: load_model_config(model_name)
    )
    check_numbers_before_solving(case, [config])
    summary = case_summary(case)
    summary["warnings"] = warnings
    if as_json:
        click.echo(json_text(summary, default=str))
        return
    console = make_console()
    console.print(f"[bold green]{literal(case.name)}: valid[/] (fingerprint {case.fingerprint[:12]})")
    for key, value in summary.items():
        if key == "warnings":
            continue
        if isinstance(value, list) and value and isinstance(value[0], dict):
            console.print(f"  {key}:", highlight=False, markup=False)
            for item in value:
                console.print(f"    {_plain(item)}", highlight=False, markup=False)
        else:
            console.print(f"  {key}: {_plain(value)}", highlight=False, markup=False)
    print_warnings(console, warnings)


@main.command()
def schema() -> None:
    """Print the input reference (markdown), generated from the row schemas."""
    from planner.schema_doc import input_reference_markdown

    click.echo(input_reference_markdown(), nl=False)


@main.command()
@click.option("--sites", type=click.IntRange(1), default=20, show_default=True)
@click.option("--chips", type=click.IntRange(1), default=8, show_default=True)
@click.option("--periods", type=click.IntRange(1), default=40, show_default=True)
@click.option("--quarters/--years", default=True, show_default=True, help="Period length.")
@click.option("--workloads", type=click.IntRange(1), default=2, show_default=True)
@click.option(
    "--branching",
    type=click.IntRange(1),
    default=3,
    show_default=True,
    help="Children at each branch point of the scenario tree.",
)
@click.option(
    "--stages",
    type=click.IntRange(0),
    default=2,
    show_default=True,
    help="Branch points, evenly spaced (branching ** stages scenarios).",
)
@click.option("--seed", type=click.IntRange(0), default=0, show_default=True)
@model_option
@solver_options
@handle_errors
def bench(
    sites: int,
    chips: int,
    periods: int,
    quarters: bool,
    workloads: int,
    branching: int,
    stages: int,
    seed: int,
    model_name: str,
    flags: RunFlags,
) -> None:
    """Generate a synthetic case of the given size, solve it, and report size, times and memory.

    A MIP gets a 180 s time limit (the issue's 3-minute budget) unless --time-limit or the model
    sets one: HiGHS alone would run for hours on the default size. Under a time limit, MIPs of
    500 integer columns or more also get the automatic warm start (see --warm-start)."""
    from planner.bench import BenchSize, bench_config, render_bench, run_bench

    config = bench_config(flags.model(model_name))
    size = BenchSize(sites, chips, periods, quarters, workloads, branching, stages, seed)
    with keeping_the_plan_found():  # as in `solve`: a press once HiGHS has returned keeps the plan
        figures = run_bench(size, config, lambda: flags.run_folder("bench", size.label))
    if flags.as_json:
        click.echo(json_text(figures))
        return
    render_bench(figures, make_console())


def run() -> None:
    """Entry point wrapper: unexpected errors are one line unless PLANNER_DEBUG is set."""
    try:
        main(standalone_mode=True)
    except MemoryError:
        if os.environ.get("PLANNER_DEBUG"):
            raise
        sys.stderr.write(f"planner: {OUT_OF_MEMORY}\n")  # no rich here: it needs memory too
        sys.exit(EXIT_NO_PLAN)
    except Exception as exc:  # noqa: BLE001 - last line of defence for the user
        if os.environ.get("PLANNER_DEBUG"):
            raise
        # The message may quote user text ("[/x]" in a name): printed as written, never as markup,
        # so that this last line of defence cannot raise itself.
        message = Text.assemble(("internal error:", "bold red"), f" {type(exc).__name__}: {exc}")
        Console(stderr=True).print(message, markup=False)
        sys.exit(EXIT_NO_PLAN)
