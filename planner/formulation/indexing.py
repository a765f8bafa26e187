"""Time, money weights and the scenario tree, derived once from a :class:`Case`.

Periods are referred to by their position ``t`` (0-based) inside the formulation. The scenario
tree is inferred from demand: at period ``t`` two scenarios share a node when their demand (every
workload) is equal in all periods before ``t`` (the non-anticipativity rule of the contract). One
variable per node and decision replaces the equality rows a per-scenario formulation would need.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

from planner.case import Case

YEARS_TOLERANCE = 1e-9
"""Two times in years closer than this are equal (sums of decimal period lengths are inexact)."""


@dataclass(frozen=True)
class Node:
    """A node of a decision tree: the scenarios that share a history up to period ``t``."""

    id: int
    t: int
    parent: int | None
    scenarios: tuple[str, ...]
    probability: float


@dataclass(frozen=True)
class Tree:
    """Nodes in period order; ``node_of[(scenario, t)]`` is the node the scenario is in at ``t``."""

    nodes: tuple[Node, ...]
    node_of: dict[tuple[str, int], int]

    def ancestors_or_self(self, node_id: int) -> list[int]:
        """Node ids from the root down to ``node_id`` (one per period)."""
        chain: list[int] = []
        current: int | None = node_id
        while current is not None:
            chain.append(current)
            current = self.nodes[current].parent
        return chain[::-1]

    def leaf_paths(self) -> list[tuple[int, ...]]:
        """The distinct root-to-last-period paths (one per group of identical scenarios)."""
        last_t = max(n.t for n in self.nodes)
        return [tuple(self.ancestors_or_self(n.id)) for n in self.nodes if n.t == last_t]


def build_tree(
    scenario_probability: dict[str, float],
    history_key: Mapping[tuple[str, int], tuple[float, ...]],
    n_periods: int,
) -> Tree:
    """Group scenarios period by period by ``history_key[(scenario, t)]``.

    Keys must refine over time (equal at ``t`` implies equal at ``t-1``), which holds for
    demand histories and for the single-group chain.
    """
    nodes: list[Node] = []
    node_of: dict[tuple[str, int], int] = {}
    for t in range(n_periods):
        groups: dict[tuple[float, ...], list[str]] = {}
        for scenario in scenario_probability:
            groups.setdefault(history_key[(scenario, t)], []).append(scenario)
        for members in groups.values():
            parent = node_of[(members[0], t - 1)] if t > 0 else None
            node = Node(
                id=len(nodes),
                t=t,
                parent=parent,
                scenarios=tuple(members),
                probability=sum(scenario_probability[s] for s in members),
            )
            nodes.append(node)
            for scenario in members:
                node_of[(scenario, t)] = node.id
    return Tree(tuple(nodes), node_of)


@dataclass(frozen=True)
class Indexing:
    """Everything the constraint families need about time, money and information."""

    case: Case

    @cached_property
    def periods(self) -> tuple[str, ...]:
        return self.case.periods

    @cached_property
    def years(self) -> list[float]:
        return [self.case.period_years[p] for p in self.periods]

    @cached_property
    def start_year(self) -> list[float]:
        """``y[t]``: years elapsed before period ``t`` starts."""
        starts, elapsed = [], 0.0
        for length in self.years:
            starts.append(elapsed)
            elapsed += length
        return starts

    @cached_property
    def horizon_years(self) -> float:
        """``Y``: the end of the horizon."""
        return sum(self.years)

    @cached_property
    def discount(self) -> list[float]:
        """``d[t] = (1 + r)^(-y[t])``, the weight of a one-off payment in ``t``."""
        r = self.case.parameters.discount_rate
        return [(1 + r) ** (-y) for y in self.start_year]

    @cached_property
    def annual_weight(self) -> list[float]:
        """``d[t] * years[t]``, the weight of an annual flow during ``t``."""
        return [d * n for d, n in zip(self.discount, self.years, strict=True)]

    @cached_property
    def end_discount(self) -> float:
        """``(1 + r)^(-Y)``, the weight of salvage credited at the horizon end."""
        # typeshed types float ** float as Any (a negative base would give a complex)
        weight: float = (1 + self.case.parameters.discount_rate) ** (-self.horizon_years)
        return weight

    def t_of(self, period: str | None, default: int) -> int:
        return default if period is None else self.periods.index(period)

    def in_service(self, t_decision: int, t_now: int, life_years: float) -> bool:
        """``y[t_now] - y[t_decision] < life_years``, read on the decimal years of the input: the
        start years are float sums (0.7 - 0.4 is 0.29999999999999993), so an age equal to the life
        up to rounding counts as equal, and the vintage is retired. In its own period a vintage is
        always in service (age 0 < any life), however short its life: the tolerance is for sums."""
        if t_now == t_decision:
            return True
        age = self.start_year[t_now] - self.start_year[t_decision]
        return age < life_years - YEARS_TOLERANCE

    def remaining_value_share(self, t: int, life_years: float) -> float:
        """Straight-line share of capex left at the horizon end: ``max(0, 1 - (Y - y[t]) / life)``."""
        return max(0.0, 1.0 - (self.horizon_years - self.start_year[t]) / life_years)

    def book_value_share(self, t_decision: int, t_now: int, life_years: float) -> float:
        """Straight-line share of capex left at the start of ``t_now``."""
        age = self.start_year[t_now] - self.start_year[t_decision]
        return max(0.0, 1.0 - age / life_years)

    @cached_property
    def tree(self) -> Tree:
        """The information tree of the demand scenarios."""
        history: dict[tuple[str, int], tuple[float, ...]] = {}
        for scenario in self.case.scenarios:
            seen: tuple[float, ...] = ()
            for t, period in enumerate(self.periods):
                history[(scenario, t)] = seen
                seen = seen + tuple(
                    self.case.demand_eflops[(scenario, period, k)] for k in self.case.workloads
                )
        return build_tree(self.case.scenario_probability, history, len(self.periods))

    @cached_property
    def chain(self) -> Tree:
        """One node per period holding every scenario: decisions the same in all scenarios."""
        history = {(w, t): () for w in self.case.scenarios for t in range(len(self.periods))}
        return build_tree(self.case.scenario_probability, history, len(self.periods))
