"""Shared fixtures: small valid case folders written into ``tmp_path``, a CLI runner, exact models.

The tiny case (``tiny_case_dir``) has 2 sites, 2 chips, 3 periods and 2 workloads, with two
scenarios (``high``, ``low``) that share the first period and branch after it. It exercises blank
optional cells (``south`` has no ``existing_mw`` and no fixed O&M), a chip that can only be bought
from ``p2``, a site with a one-period lead time, an existing contract, a non-divisible PPA and a
divisible grid contract. It solves in a fraction of a second.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Protocol

import pytest
from click.testing import CliRunner, Result

from planner.cli import main
from planner.config import ModelConfig, Policy, SolverSettings

TINY_CASE: dict[str, str] = {
    "parameters.csv": "name,value\ndiscount_rate,0.08\nunmet_penalty_musd_per_eflops_year,300\n",
    "periods.csv": "period,years\np1,1\np2,2\np3,2\n",
    "scenarios.csv": "scenario,probability\nhigh,0.6\nlow,0.4\n",
    "demand.csv": (
        "scenario,period,workload,eflops\n"
        "high,p1,training,2\nhigh,p1,inference,1\n"
        "high,p2,training,5\nhigh,p2,inference,3\n"
        "high,p3,training,9\nhigh,p3,inference,6\n"
        "low,p1,training,2\nlow,p1,inference,1\n"
        "low,p2,training,2.5\nlow,p2,inference,1.5\n"
        "low,p3,training,2\nlow,p3,inference,2\n"
    ),
    "sites.csv": (
        "site,region,max_mw,module_mw,existing_mw,capex_musd_per_mw,fixed_om_musd_per_mw_year,"
        "lead_periods,pue,life_years\n"
        "north,us,30,4,2,11,0.3,0,1.2,15\n"
        "south,eu,20,2,,9,,1,1.1,15\n"
    ),
    "chips.csv": (
        "chip,pflops,kw,capex_usd,opex_usd_per_year,life_years,first_period\n"
        "gpu,2,1.2,40000,1500,5,\n"
        "asic,1.5,0.8,25000,800,4,p2\n"
    ),
    "power.csv": (
        "contract,site,kind,mw,firm_fraction,price_usd_per_mwh,capacity_cost_musd_per_mw_year,"
        "existing,divisible\n"
        "grid_n,north,grid,6,1,70,0.05,true,false\n"
        "ppa_n,north,ppa,12,0.8,55,0.02,false,false\n"
        "grid_s,south,grid,15,1,60,0.04,false,true\n"
    ),
}


# The types of the function-valued fixtures below, for the tests' parameters.


class CaseWriter(Protocol):
    """``write_case``."""

    def __call__(
        self,
        folder: Path,
        overrides: Mapping[str, str | None] | None = None,
        base: Mapping[str, str] | None = None,
    ) -> Path: ...


class Cli(Protocol):
    """``cli``."""

    def __call__(self, *args: object) -> Result: ...


class ExactConfig(Protocol):
    """``exact_config``."""

    def __call__(
        self, policy: Policy = "phased", integer: bool = True, name: str | None = None
    ) -> ModelConfig: ...


@pytest.fixture(scope="session")
def write_case() -> CaseWriter:
    """``write_case(folder, overrides=None, base=None) -> folder``: write ``base`` (default: the
    tiny case) with ``overrides`` replacing whole files (``None`` leaves a file out)."""

    def write(
        folder: Path,
        overrides: Mapping[str, str | None] | None = None,
        base: Mapping[str, str] | None = None,
    ) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in {**(base if base is not None else TINY_CASE), **(overrides or {})}.items():
            if text is not None:
                (folder / name).write_text(text, encoding="utf-8")
        return folder

    return write


@pytest.fixture(scope="session")
def tiny_files() -> Mapping[str, str]:
    """The tiny case's file texts, by file name (read-only: copy with ``dict()`` to edit)."""
    return MappingProxyType(TINY_CASE)


@pytest.fixture
def tiny_case_dir(tmp_path: Path, write_case: CaseWriter) -> Path:
    """The tiny case written into ``tmp_path/tiny``."""
    return write_case(tmp_path / "tiny")


@pytest.fixture(scope="session")
def cli() -> Cli:
    """``cli(*args)``: run ``planner`` in-process; stdout and stderr are kept apart.

    Unexpected exceptions propagate (so a traceback is a test failure, not a silent exit code)."""
    runner = CliRunner()

    def invoke(*args: object) -> Result:
        return runner.invoke(main, [str(a) for a in args], catch_exceptions=False)

    return invoke


@pytest.fixture(scope="session")
def exact_config() -> ExactConfig:
    """``exact_config(policy="phased", integer=True)``: a model solved to MIP gap 0 on one thread,
    so objectives of equal models compare to rounding."""

    def make(policy: Policy = "phased", integer: bool = True, name: str | None = None) -> ModelConfig:
        return ModelConfig(
            name=name or policy,
            policy=policy,
            integer=integer,
            solver=SolverSettings(mip_gap=0.0, threads=1),
        )

    return make


@pytest.fixture
def ctrl_c_raises() -> Iterator[None]:
    """Python's own Ctrl-C handler in this process for the in-process tests: a test run started in
    the background from a non-interactive shell inherits "ignore SIGINT", and the signal would
    vanish (tests then wait for their solves to end, or find SIG_IGN where they expect Python's
    handler)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)
