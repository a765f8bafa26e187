"""Run sweep tasks locally or on Dask, with a live progress bar (done / running / failed, ETA)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from planner.config import ModelConfig
from planner.parallel import run_parallel
from planner.sweep import PlanWriter, SweepTask, VariantOutcome, solve_variant

if TYPE_CHECKING:
    from planner.frozen_plan import FrozenPlan


def run_sweep(
    tasks: list[SweepTask],
    configs: Sequence[ModelConfig],
    workers: int,
    scheduler: str | None,
    console: Console,
    write_plan: PlanWriter | None = None,
    frozen: FrozenPlan | None = None,
) -> list[VariantOutcome]:
    """Solve every task that has files under each of ``configs``, every (model, variant) pair one
    task of the same pool; tasks whose edits failed are reported as failed at once, under every
    model. The outcomes come model by model, each in the tasks' order.
    With ``write_plan`` each solved variant's tables are written as it arrives, then let go (a
    sweep of many variants keeps no plan in memory). With ``frozen`` every variant re-scores that
    plan (``--fix-plan``)."""
    pairs = [(config, task) for config in configs for task in tasks]
    runnable = [(config, task) for config, task in pairs if task.files is not None]
    failed_early = {
        (c.name, t.name): VariantOutcome(t.name, t.group, None, t.error, 0.0, model=c.name)
        for c, t in pairs
        if t.files is None
    }
    counts = {"finished": 0, "solved": 0, "failed": len(failed_early)}
    slots = 1 if not scheduler and workers <= 1 else workers
    with Progress(
        TextColumn("[bold]sweep[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    ) as progress:
        bar = progress.add_task("sweep", total=len(pairs), completed=len(failed_early), detail="")

        def detail() -> str:
            remaining = len(runnable) - counts["finished"]
            running = remaining if scheduler else min(slots, remaining)
            return f"solved {counts['solved']}  running {running}  failed {counts['failed']}"

        progress.update(bar, detail=detail())

        def on_done(outcome: VariantOutcome) -> None:
            counts["finished"] += 1
            counts["solved" if outcome.ok else "failed"] += 1
            if write_plan is not None and outcome.results is not None:
                write_plan(outcome)
                outcome.results = None
            progress.update(bar, advance=1, detail=detail())

        keep = write_plan is not None
        solved = run_parallel(
            [(solve_variant, (t.name, t.group, t.files, c, t.source, keep, frozen)) for c, t in runnable],
            workers,
            on_done=on_done,
            scheduler=scheduler,
        )
    by_pair = {(o.model, o.case): o for o in solved} | failed_early
    return [by_pair[config.name, task.name] for config, task in pairs]
