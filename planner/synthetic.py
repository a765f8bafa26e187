"""Synthetic benchmark cases: a realistic, valid case folder of any size, deterministic per seed.

:func:`synthetic_case_files` returns the CSV texts of a case that follows
``shared/spec/inputs.md`` exactly, so a benchmark exercises the same path as a user's case
(CSV -> loader -> model -> HiGHS). Figures are drawn from ``shared/domain/facts.md``:

- Periods: yearly (``Y2026``, ``Y2027``, ...) or quarterly (``2026Q1``, ``2026Q2``, ...).
- Sites: 4-12 modules of 25-150 IT MW at 9-16 musd/MW, PUE 1.08-1.35, building lead
  6-10 quarters (1-3 years), earliest period staggered over the first half of the horizon. About
  one site in five already holds one to three modules and an ``existing`` grid contract.
- Chips: one generation after another (``first_period`` / ``last_period`` windows that overlap),
  0.7-1.8 kW, 25k-70k USD, 5-6 year life; PFLOPS per chip grow about 45% a year.
- Power: per site a grid connection with a capacity charge (``existing`` at the sites that already
  have buildings, sized to them; elsewhere a new one, not divisible, 2-4 years' lead), a firmed
  PPA (divisible, ``min_take`` 0.85) and, at about half of the sites, an on-site gas plant
  (capex, 1-2 years' lead): two or three contracts per site.
- Demand per workload grows from about half of the existing buildings' capacity to about 45% of
  what all sites could hold with the most efficient last chip. The scenario tree has ``stages``
  branch points evenly spaced over the horizon, each with ``branching`` children that scale the
  later growth; scenarios share their demand exactly until they branch, so the model infers the
  tree (``branching ** stages`` leaves) from the demand histories.

Lead times are clamped so that every site and contract can be ready within the horizon (the loader
warns otherwise); on a horizon shorter than the drawn lead time this shortens it.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

REGIONS = ("us-tx", "us-va", "us-oh", "us-ga", "us-az", "us-ia", "us-wa", "us-pa", "eu-se", "eu-fi")
MODULE_MW = (25.0, 50.0, 75.0, 100.0, 150.0)
WORKLOADS = ("training", "inference")
DISCOUNT_RATE = 0.08
LOAD_FACTOR = 0.8
START_YEAR = 2026
PFLOPS_GROWTH_PER_YEAR = 1.45
END_FILL = 0.45
"""Expected last-period demand as a share of all sites' capacity with the most efficient chip."""
START_FILL = 0.5
"""First-period demand as a share of the existing buildings' capacity."""
BRANCH_SPREAD = 0.05
"""Children scale the later log-growth of demand by 1 - spread ... 1 + spread."""

_Row = dict[str, Any]
"""A row of a CSV file: column -> cell (text, or a number that ``csv`` writes as ``str`` does)."""


@dataclass(frozen=True)
class _Period:
    id: str
    years: float
    start: float


def check_size(sites: int, chips: int, periods: int, workloads: int, branching: int, stages: int) -> None:
    """Raise ValueError when the sizes cannot make a case (see :func:`synthetic_case_files`)."""
    if min(sites, chips, periods, workloads, branching) < 1 or stages < 0:
        raise ValueError("sites, chips, periods, workloads and branching of at least 1, stages of at least 0")
    if branching > 1 and stages >= periods:
        raise ValueError(
            f"more periods than branch points: --stages {stages} needs at least {stages + 1} periods "
            f"(got {periods})"
        )


def synthetic_case_files(
    sites: int = 20,
    chips: int = 8,
    periods: int = 40,
    quarters: bool = True,
    workloads: int = 2,
    branching: int = 3,
    stages: int = 2,
    seed: int = 0,
) -> dict[str, str]:
    """The CSV files (name -> text) of a synthetic case; the same arguments give the same texts.

    Raises ValueError when the sizes cannot make a case (fewer than one site, chip, period or
    workload; ``stages`` branch points need ``stages < periods`` when ``branching > 1``).
    """
    check_size(sites, chips, periods, workloads, branching, stages)
    rng = np.random.default_rng(seed)
    timeline = _periods(periods, quarters)
    per_year = 4 if quarters else 1
    site_rows = _sites(rng, sites, timeline, quarters)
    chip_rows = _chips(rng, chips, timeline, per_year)
    power_rows = _power(rng, site_rows, timeline, quarters)
    scenarios, demand_rows, penalty = _demand(
        rng, site_rows, chip_rows, timeline, workloads, branching, stages
    )
    parameters = [
        {"name": "discount_rate", "value": DISCOUNT_RATE},
        {"name": "load_factor", "value": LOAD_FACTOR},
        {"name": "hours_per_year", "value": 8760},
        {"name": "unmet_penalty_musd_per_eflops_year", "value": penalty},
    ]
    return {
        "parameters.csv": _csv(["name", "value"], parameters),
        "periods.csv": _csv(["period", "years"], [{"period": p.id, "years": p.years} for p in timeline]),
        "scenarios.csv": _csv(["scenario", "probability"], scenarios),
        "demand.csv": _csv(["scenario", "period", "workload", "eflops"], demand_rows),
        "sites.csv": _csv(list(site_rows[0]), site_rows),
        "chips.csv": _csv(list(chip_rows[0]), chip_rows),
        "power.csv": _csv(_POWER_COLUMNS, power_rows),
    }


def write_case(folder: Path, files: dict[str, str]) -> Path:
    """Write ``files`` into ``folder`` (created); an existing file is never overwritten."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        with (folder / name).open("x", encoding="utf-8", newline="") as handle:
            handle.write(text)
    return folder


def size_label(
    sites: int, chips: int, periods: int, quarters: bool, workloads: int, branching: int, stages: int
) -> str:
    """A short name for a size, e.g. ``s20-c8-q40-w2-b3x2`` (3 children at each of 2 points)."""
    return f"s{sites}-c{chips}-{'q' if quarters else 'y'}{periods}-w{workloads}-b{branching}x{stages}"


# --------------------------------------------------------------------------------------------
# Parts of the case
# --------------------------------------------------------------------------------------------


def _periods(n: int, quarters: bool) -> list[_Period]:
    years = 0.25 if quarters else 1.0
    out = []
    for t in range(n):
        label = f"{START_YEAR + t // 4}Q{t % 4 + 1}" if quarters else f"Y{START_YEAR + t}"
        out.append(_Period(label, years, t * years))
    return out


def _sites(rng: np.random.Generator, n: int, timeline: list[_Period], quarters: bool) -> list[_Row]:
    n_periods = len(timeline)
    n_existing = max(1, round(n / 5))
    rows = []
    for i in range(n):
        module = float(rng.choice(MODULE_MW))
        modules = int(rng.integers(4, 13))
        max_mw = module * modules
        lead = int(rng.integers(6, 11)) if quarters else int(rng.integers(1, 4))
        if i < n_existing:
            earliest = 0
            existing = module * int(rng.integers(1, 4))
        else:
            # staggered: later sites become available later, over the first half of the horizon
            earliest = round((i - n_existing + 1) / (n - n_existing + 1) * 0.5 * (n_periods - 1))
            existing = 0.0
        lead = min(lead, max(0, (n_periods - 1) // 2))
        earliest = min(earliest, n_periods - 1 - lead)
        rows.append(
            {
                "site": f"site{i + 1:0{_width(n)}d}",
                "region": REGIONS[int(rng.integers(len(REGIONS)))],
                "max_mw": _num(max_mw),
                "module_mw": _num(module),
                "existing_mw": _num(existing),
                "capex_musd_per_mw": _num(rng.uniform(9.0, 16.0), 3),
                "fixed_om_musd_per_mw_year": _num(rng.uniform(0.25, 0.35), 3),
                "lead_periods": lead,
                "earliest_period": timeline[earliest].id,
                "pue": _num(rng.uniform(1.08, 1.35), 3),
                "life_years": int(rng.integers(14, 21)),
            }
        )
    return rows


def _chips(rng: np.random.Generator, n: int, timeline: list[_Period], per_year: int) -> list[_Row]:
    """Generations released over the first 80% of the horizon, each sold for about three years
    and at least until the next-but-one arrives, the last two until the end."""
    n_periods = len(timeline)
    first = [round(j * 0.8 * (n_periods - 1) / n) for j in range(n)]
    window = 3 * per_year
    horizon = timeline[-1].start + timeline[-1].years
    rows = []
    for j in range(n):
        sold_until = n_periods - 1 if j + 2 >= n else max(first[j] + window - 1, first[j + 1])
        last = min(n_periods - 1, sold_until)
        age = timeline[first[j]].start
        share = age / horizon  # 0 for the first chip, up to 0.8 for the last
        kw = float(np.clip(0.7 + 1.1 * share + rng.uniform(-0.1, 0.2), 0.7, 1.8))
        capex = float(np.clip(25_000 + 45_000 * share + rng.uniform(-3_000, 8_000), 25_000, 70_000))
        pflops = rng.uniform(1.0, 2.5) * PFLOPS_GROWTH_PER_YEAR**age * rng.uniform(0.9, 1.1)
        rows.append(
            {
                "chip": f"chip{j + 1:0{_width(n)}d}",
                "pflops": _num(pflops, 4),
                "kw": _num(kw, 3),
                "capex_usd": _num(round(capex, -2)),
                "opex_usd_per_year": _num(round(capex * rng.uniform(0.03, 0.06), -1)),
                "life_years": int(rng.integers(5, 7)),
                "first_period": timeline[first[j]].id,
                "last_period": timeline[last].id,
            }
        )
    return rows


_POWER_COLUMNS = [
    "contract", "site", "kind", "mw", "firm_fraction", "availability", "price_usd_per_mwh",
    "capacity_cost_musd_per_mw_year", "capex_musd_per_mw", "lead_periods", "term_periods",
    "min_take", "first_period", "divisible", "existing", "life_years",
]


def _power(
    rng: np.random.Generator, site_rows: list[_Row], timeline: list[_Period], quarters: bool
) -> list[_Row]:
    n_periods = len(timeline)
    index = {p.id: t for t, p in enumerate(timeline)}
    q = 4 if quarters else 1

    def lead(low_years: float, high_years: float, start: int) -> int:
        drawn = int(rng.integers(round(low_years * q), round(high_years * q) + 1))
        return max(0, min(drawn, n_periods - 1 - start))

    rows = []
    for site in site_rows:
        s = site["site"]
        facility_mw = float(site["max_mw"]) * float(site["pue"])
        start = index[site["earliest_period"]]
        first = site["earliest_period"] if start else ""
        existing_mw = float(site["existing_mw"])
        if existing_mw > 0:
            rows.append(_contract(
                f"{s}-grid-existing", s, "grid", _mw(existing_mw * float(site["pue"]) * 1.25),
                price=rng.uniform(55, 90), capacity_cost=rng.uniform(0.06, 0.12), existing=True,
            ))
        else:
            rows.append(_contract(
                f"{s}-grid", s, "grid", _mw(facility_mw * rng.uniform(0.6, 1.0)),
                price=rng.uniform(55, 90), capacity_cost=rng.uniform(0.06, 0.12),
                lead=lead(2, 4, start), first=first,
            ))
        rows.append(_contract(
            f"{s}-ppa", s, "ppa", _mw(facility_mw * rng.uniform(0.3, 0.6)),
            price=rng.uniform(55, 115), firm=rng.uniform(0.5, 0.8), availability=rng.uniform(0.85, 0.95),
            lead=lead(0.5, 1.5, start), term=round(rng.uniform(10, 20) * q), min_take=0.85,
            divisible=True, first=first,
        ))
        if rng.random() < 0.5:
            rows.append(_contract(
                f"{s}-onsite", s, "onsite", _mw(facility_mw * rng.uniform(0.3, 0.5)),
                price=rng.uniform(60, 100), availability=0.92, capex=rng.uniform(1.5, 2.4),
                lead=lead(1, 2, start), first=first,
            ))
    return rows


def _contract(
    contract: str,
    site: str,
    kind: str,
    mw: float,
    *,
    price: float,
    firm: float = 1.0,
    availability: float = 1.0,
    capacity_cost: float = 0.0,
    capex: float = 0.0,
    lead: int = 0,
    term: int | None = None,
    min_take: float = 0.0,
    first: str = "",
    divisible: bool = False,
    existing: bool = False,
) -> _Row:
    return {
        "contract": contract,
        "site": site,
        "kind": kind,
        "mw": _num(mw),
        "firm_fraction": _num(firm, 3),
        "availability": _num(availability, 3),
        "price_usd_per_mwh": _num(price, 4),
        "capacity_cost_musd_per_mw_year": _num(capacity_cost, 3),
        "capex_musd_per_mw": _num(capex, 3),
        "lead_periods": lead,
        "term_periods": "" if term is None else term,
        "min_take": _num(min_take),
        "first_period": first,
        "divisible": str(divisible).lower(),
        "existing": str(existing).lower(),
        "life_years": 25,
    }


def _demand(
    rng: np.random.Generator,
    site_rows: list[_Row],
    chip_rows: list[_Row],
    timeline: list[_Period],
    n_workloads: int,
    branching: int,
    stages: int,
) -> tuple[list[_Row], list[_Row], float]:
    """Scenario probabilities, demand rows and the unmet-demand penalty."""
    n_periods = len(timeline)
    index = {p.id: t for t, p in enumerate(timeline)}
    workloads = list(WORKLOADS[:n_workloads]) + [
        f"workload{k + 1}" for k in range(len(WORKLOADS), n_workloads)
    ]

    def efficiency(chip: _Row) -> float:  # EFLOPS per IT MW
        return float(chip["pflops"]) / float(chip["kw"])

    first_chips = [c for c in chip_rows if index[c["first_period"]] == 0]
    last_chips = [c for c in chip_rows if index[c["last_period"]] == n_periods - 1]
    existing_mw = sum(float(s["existing_mw"]) for s in site_rows)
    total_mw = sum(float(s["max_mw"]) for s in site_rows)
    d_start = START_FILL * existing_mw * max(efficiency(c) for c in first_chips)
    d_end = max(END_FILL * total_mw * max(efficiency(c) for c in last_chips), 1.5 * d_start)

    # Mean path: log-demand rises concavely from d_start to d_end, with a little shared noise.
    x = np.array([p.start for p in timeline]) / max(timeline[-1].start, 1e-9)
    log_mean = math.log(d_start) + (math.log(d_end) - math.log(d_start)) * x**0.85
    log_mean = log_mean + np.concatenate([[0.0], rng.normal(0, 0.02, n_periods - 1)])
    log_mean = np.maximum.accumulate(log_mean)
    growth = (log_mean[-1] - log_mean[0]) / max(n_periods - 1, 1)
    start_share = rng.dirichlet(np.full(n_workloads, 4.0))
    end_share = rng.dirichlet(np.full(n_workloads, 4.0))
    shares = np.outer(1 - x, start_share) + np.outer(x, end_share)  # (period, workload)

    # Branch points: demand first differs in period points[j]; decisions split one period later.
    n_points = stages if branching > 1 else 0
    points = [(j + 1) * (n_periods - 1) // (n_points + 1) for j in range(n_points)]
    scales: list[np.ndarray] = []  # per point: the growth scale of each child
    weights: list[np.ndarray] = []  # per point and parent node: the children's probabilities
    for j in range(n_points):
        base = np.linspace(-BRANCH_SPREAD, BRANCH_SPREAD, branching)
        jitter = rng.uniform(-0.2, 0.2, branching) * BRANCH_SPREAD / branching
        scales.append(1.0 + base + jitter)
        weights.append(rng.uniform(0.5, 1.5, (branching**j, branching)))

    scenario_rows: list[_Row] = []
    demand_rows: list[_Row] = []
    paths = list(itertools.product(range(branching), repeat=n_points))
    probability = []
    for path in paths:
        p = 1.0
        for j in range(n_points):
            parent = _node_number(path[:j], branching)
            w = weights[j][parent]
            p *= w[path[j]] / w.sum()
        probability.append(p)
    total = math.fsum(probability)
    for path, p in zip(paths, probability, strict=True):
        scenario = "base" if not path else "sc-" + "-".join(str(i + 1) for i in path)
        scenario_rows.append({"scenario": scenario, "probability": f"{p / total:.15g}"})
        log_demand = log_mean.copy()
        for j, point in enumerate(points):
            # after the branch point, growth is scaled; the step itself makes the children differ
            rise = log_mean[point:] - log_mean[point] + growth
            log_demand[point:] += (scales[j][path[j]] - 1.0) * rise
        level = np.exp(log_demand)
        for t, period in enumerate(timeline):
            for k, workload in enumerate(workloads):
                demand_rows.append(
                    {
                        "scenario": scenario,
                        "period": period.id,
                        "workload": workload,
                        "eflops": f"{level[t] * shares[t, k]:.6g}",
                    }
                )
    return scenario_rows, demand_rows, _penalty(site_rows, first_chips)


def _penalty(site_rows: list[_Row], first_chips: list[_Row]) -> float:
    """Three times the yearly cost of serving 1 EFLOPS with the cheapest first-period chip."""

    def cost(chip: _Row) -> float:
        pflops, kw = float(chip["pflops"]), float(chip["kw"])
        units = 1000.0 / pflops
        mw = units * kw / 1000.0
        capex_musd_per_mw = float(np.mean([float(s["capex_musd_per_mw"]) for s in site_rows]))
        chips_musd = units * float(chip["capex_usd"]) / 1e6 / float(chip["life_years"])
        building_musd = mw * capex_musd_per_mw / 15.0
        energy_musd = mw * 1.2 * LOAD_FACTOR * 8760 * 80 / 1e6
        return chips_musd + building_musd + energy_musd

    return float(f"{3.0 * min(cost(c) for c in first_chips):.4g}")


def _node_number(prefix: tuple[int, ...], branching: int) -> int:
    number = 0
    for i in prefix:
        number = number * branching + i
    return number


# --------------------------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------------------------


def _csv(columns: list[str], rows: list[_Row]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def _num(value: float, digits: int = 6) -> str:
    """A number as short text: ``digits`` significant digits, no trailing zeros."""
    return f"{float(value):.{digits}g}"


def _mw(value: float) -> float:
    """Contract sizes in whole 5 MW steps (at least 5)."""
    return max(5.0, 5.0 * round(value / 5.0))


def _width(n: int) -> int:
    return max(2, len(str(n)))
