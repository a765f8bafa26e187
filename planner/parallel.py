"""Independent solves in parallel processes (compare, sweep), each building its own model.

Pyomo model building holds the GIL, so workers are processes (spawned, never forked, so HiGHS
threads are never copied mid-flight); each task builds its model inside the worker from small
inputs and returns tables, never a Pyomo model.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import resource_tracker
from typing import Any

from planner.case import Case
from planner.config import ModelConfig
from planner.errors import InputError, ModelError, Problem
from planner.highs_run import leave_signals_to_the_parent
from planner.results import Results
from planner.solve_stop import stopped_when


@dataclass
class SolvedTask:
    """What a worker sends back: the run's summary and tables, or why it failed."""

    key: str
    summary: dict[str, Any] | None
    results: Results | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def solve_task(key: str, case: Case, config: ModelConfig) -> SolvedTask:
    """Solve one (case, model) pair; failures become a reason, never an exception."""
    from planner.output import plan_summary
    from planner.plan import solve_case, unless_interrupted

    try:
        result = unless_interrupted(solve_case(case, config))
    except (ModelError, InputError) as exc:
        return SolvedTask(key, None, None, str(exc))
    except Exception as exc:  # noqa: BLE001 - one failing task must not stop the others
        return SolvedTask(key, None, None, f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}")
    return SolvedTask(key, plan_summary(result, None), result.results)


def default_workers(n_tasks: int) -> int:
    return max(1, min(n_tasks, os.cpu_count() or 1))


def run_parallel(
    tasks: Iterable[tuple[Callable[..., Any], tuple[Any, ...]]],
    workers: int,
    on_done: Callable[[Any], None] | None = None,
    scheduler: str | None = None,
) -> list[Any]:
    """Run ``fn(*args)`` for each task, in processes when ``workers > 1``, or on the Dask
    distributed cluster at ``scheduler``; results in task order."""
    tasks = list(tasks)
    if scheduler:
        return _run_on_dask(tasks, scheduler, on_done)
    if workers <= 1 or len(tasks) <= 1:
        results = []
        for fn, args in tasks:
            results.append(fn(*args))
            if on_done:
                on_done(results[-1])
        return results
    context = multiprocessing.get_context("spawn")
    _start_resource_tracker_deaf_to_hangups()
    ordered: list[Any] = [None] * len(tasks)
    pool = ProcessPoolExecutor(
        max_workers=min(workers, len(tasks)),
        mp_context=context,
        initializer=_end_with_parent,
        initargs=(os.getpid(),),
    )
    try:
        futures: dict[Future[Any], int] = {pool.submit(fn, *args): i for i, (fn, args) in enumerate(tasks)}
        for future in _completed(futures):
            ordered[futures[future]] = future.result()
            if on_done:
                on_done(ordered[futures[future]])
    except BaseException:
        _stop_now(pool)  # Ctrl-C (or a failing callback): do not wait minutes for running solves
        raise
    pool.shutdown()
    return ordered


def _start_resource_tracker_deaf_to_hangups() -> None:
    """Start multiprocessing's resource tracker (the process that cleans up the pool's semaphores)
    with SIGHUP blocked, which it keeps: it already ignores Ctrl-C and SIGTERM, but a closed
    terminal's SIGHUP, sent to the whole process group, killed it; the pool's clean-up then
    relaunched it, and the new one printed a KeyError traceback for every semaphore it had never
    seen. The parent only defers a SIGHUP that comes meanwhile, it does not lose it."""
    hangup = getattr(signal, "SIGHUP", None)
    if hangup is None:  # Windows: no SIGHUP, and no tracker process
        return
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, {hangup})
    try:
        resource_tracker.ensure_running()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # a SIGHUP the caller blocked stays blocked


def _end_with_parent(parent_pid: int, poll_s: float = 0.5) -> None:
    """Worker initializer: leave Ctrl-C to the parent, and end this worker process as soon as the
    planner process that started it is gone. A SIGKILL (or a closed terminal's SIGHUP) gives the
    parent no chance to stop its pool, and orphaned workers would solve on, then idle holding their
    memory, forever."""

    # The terminal's Ctrl-C reaches every process of the group: the parent alone handles it (it
    # ends the workers with SIGTERM, which then ends a worker at once, HiGHS running or not).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    leave_signals_to_the_parent()

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(poll_s)
        os._exit(1)

    threading.Thread(target=watch, name="planner-end-with-parent", daemon=True).start()


def _stop_now(pool: ProcessPoolExecutor) -> None:
    """Cancel queued tasks and end the workers' running ones."""
    terminate = getattr(pool, "terminate_workers", None)  # Python >= 3.14
    if terminate is not None:
        terminate()
        return
    # Before shutdown(), which forgets both: the workers, and the queue whose feeder thread may be
    # stuck writing a task to a worker that will never read it (exit would wait for it).
    processes = list((getattr(pool, "_processes", None) or {}).values())
    call_queue = getattr(pool, "_call_queue", None)
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    if call_queue is not None:
        call_queue.cancel_join_thread()


def _completed(futures: dict[Future[Any], int]) -> Iterator[Future[Any]]:
    yield from as_completed(futures)


def _run_on_dask(
    tasks: list[tuple[Callable[..., Any], tuple[Any, ...]]],
    scheduler: str,
    on_done: Callable[[Any], None] | None,
) -> list[Any]:
    """Submit every task to a running ``dask scheduler``; workers must have planner installed."""
    from distributed import Client
    from distributed import as_completed as dask_completed

    ordered: list[Any] = [None] * len(tasks)
    try:
        _check_a_dask_scheduler_answers(scheduler)
        client = Client(scheduler, timeout=f"{SCHEDULER_TIMEOUT_S:g}s")
    except (ValueError, OSError, MemoryError) as exc:  # malformed, nobody there, or not Dask
        reason = "it did not answer as one" if isinstance(exc, MemoryError | TimeoutError) else exc
        expected = f"the address of a running Dask scheduler, e.g. tcp://10.0.0.5:8786 ({reason})"
        raise InputError([Problem("--scheduler", None, None, scheduler, expected)]) from exc
    with client:
        futures = [client.submit(_on_dask_worker, fn, args, pure=False) for fn, args in tasks]
        position = {future.key: i for i, future in enumerate(futures)}
        for future in dask_completed(futures):
            ordered[position[future.key]] = future.result()
            if on_done:
                on_done(ordered[position[future.key]])
    return ordered


SCHEDULER_TIMEOUT_S = 20.0
"""How long a ``--scheduler`` address has to answer as a Dask scheduler."""


def _check_a_dask_scheduler_answers(address: str) -> None:
    """Open one Dask connection, handshake included, within :data:`SCHEDULER_TIMEOUT_S`.

    ``Client`` alone waited forever on a port where another service listens (an HTTP server never
    sends Dask's handshake), and read a proxy's reply as a frame of exabytes (MemoryError, which
    read as "the model does not fit in memory"). Raises TimeoutError, OSError or MemoryError."""
    import asyncio

    from distributed.comm.core import connect  # distributed.comm does not re-export it (py.typed)

    async def probe() -> None:
        comm = await asyncio.wait_for(
            connect(address, timeout=SCHEDULER_TIMEOUT_S), SCHEDULER_TIMEOUT_S + 1
        )
        await comm.close()

    asyncio.run(probe())


def _on_dask_worker(fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    """``fn(*args)`` on a Dask worker: one at a time per worker process, and stopped as soon as
    the scheduler drops the task.

    One at a time: highspy's solve-thread locks are shared by every HiGHS object in a process, so
    a second concurrent solve fails ("Solver is already running"); a worker started with several
    threads runs planner's tasks in turn (start ``--nworkers N --nthreads 1`` for N at once).
    Stopped: when the client is stopped (Ctrl-C, kill) or cancels, the scheduler releases its
    tasks, but a worker cannot stop a running thread; without this each running solve would go
    on to its time limit, holding the worker.
    """
    from distributed import get_worker

    worker = get_worker()
    key = worker.get_current_task()

    def dropped() -> bool:
        task = worker.state.tasks.get(key)
        return task is None or task.state in _DROPPED_TASK_STATES

    while not _ONE_SOLVE_AT_A_TIME.acquire(timeout=1.0):
        if dropped():
            return None
    try:
        if dropped():
            return None
        with stopped_when(dropped):
            return fn(*args)
    except KeyboardInterrupt:
        return None  # stopped because nobody waits for the result any more
    finally:
        _ONE_SOLVE_AT_A_TIME.release()


_ONE_SOLVE_AT_A_TIME = threading.Lock()
"""Held by the Dask task of this worker process that is solving (see :func:`_on_dask_worker`)."""

_DROPPED_TASK_STATES = frozenset({"cancelled", "released", "forgotten"})
"""A running task the scheduler no longer wants (``distributed``'s worker state machine)."""
