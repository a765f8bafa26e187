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
    replan: bool = False,
) -> list[VariantOutcome]:
    """Solve every task that has files under each of ``configs``, every (model, variant) pair one
    task of the same pool; tasks whose edits failed are reported as failed at once, under every
    model. The outcomes come model by model, each in the tasks' order.
    With ``write_plan`` each solved variant's tables are written as it arrives, then let go (a
    sweep of many variants keeps no plan in memory). With ``frozen`` every variant re-scores that
    plan (``--fix-plan``); with ``replan`` too, every pair is also solved freely, a task of the
    same pool, and each outcome carries that re-plan as its ``replan`` (``--replan``)."""
    pairs = [(config, task) for config in configs for task in tasks]
    kinds = (False, True) if replan else (False,)  # replanned: the free solve beside the frozen one
    solves = [(config, task, replanned) for config, task in pairs for replanned in kinds]
    runnable = [(config, task, replanned) for config, task, replanned in solves if task.files is not None]
    failed_early = {  # an edit that failed fails the frozen solve and its re-plan alike
        (c.name, t.name, replanned): VariantOutcome(
            t.name, t.group, None, t.error, 0.0, model=c.name, replanned=replanned
        )
        for c, t, replanned in solves
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
        bar = progress.add_task("sweep", total=len(solves), completed=len(failed_early), detail="")

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
            [
                (solve_variant, (t.name, t.group, t.files, c, t.source, keep, None if r else frozen, r))
                for c, t, r in runnable
            ],
            workers,
            on_done=on_done,
            scheduler=scheduler,
        )
    by_solve = {(o.model, o.case, o.replanned): o for o in solved} | failed_early
    outcomes = []
    for config, task in pairs:
        outcome = by_solve[config.name, task.name, False]
        outcome.replan = by_solve.get((config.name, task.name, True))
        outcomes.append(outcome)
    return outcomes
