"""Sparse index sets: which decision and state variables can exist at all.

No variable is created for an impossible tuple: a chip outside its purchase window or at a site
with no IT MW built yet, a build before ``earliest_period``, a contract before its
``first_period``, a fleet with no vintage in service,
a contract with no signing active, a run of a chip that does not exist at that site and time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from planner.case import Case
from planner.formulation.indexing import Indexing, Tree
from planner.schema import SiteRow

Policy = Literal["phased", "all-at-once", "fixed-long-lead"]
"""How buildings and contracts are decided: on the tree, once up front, or fixed to a plan."""


@dataclass
class Sets:
    """The sparse sets of one model instance, with the vintage maps of the state recursions."""

    ix: Indexing
    info_tree: Tree
    """Chips and every per-node constraint live on this tree (non-anticipative)."""
    long_lead_tree: Tree
    """Buildings and contracts are decided on this tree: the info tree, or a single chain when
    the policy takes them the same in all scenarios."""
    long_lead_node: dict[int, int]
    """info-tree node -> long-lead-tree node of the same period and history."""
    build: list[tuple[str, int]] = field(default_factory=list)
    buy: list[tuple[str, str, int]] = field(default_factory=list)
    sign: list[tuple[str, int]] = field(default_factory=list)
    ready: dict[tuple[str, int], list[int]] = field(default_factory=dict)
    """(site, long-lead node) -> build nodes whose modules are ready there."""
    fleet: dict[tuple[str, str, int], list[int]] = field(default_factory=dict)
    """(chip, site, info node) -> purchase nodes still in service there."""
    active: dict[tuple[str, int], list[int]] = field(default_factory=dict)
    """(contract, long-lead node) -> signing nodes active there (contracts not ``existing``)."""
    existing_active: dict[tuple[str, int], float] = field(default_factory=dict)
    """(existing contract, t) -> 1.0 while its term runs."""
    run: list[tuple[str, str, str, int, str]] = field(default_factory=list)
    energy: list[tuple[str, int, str]] = field(default_factory=list)


def vintages_alive(
    tree: Tree,
    decision_nodes: dict[str, set[int]],
    alive: Callable[[str, int, int], bool],
) -> dict[tuple[str, int], list[int]]:
    """For each key and node, the ancestor decision nodes whose decision is alive at that node.

    ``alive(key, t_decision, t_now)`` says whether a decision taken in ``t_decision`` still counts
    in ``t_now``. Keys and nodes with nothing alive are left out (their state is zero).
    """
    result: dict[tuple[str, int], list[int]] = {}
    for node in tree.nodes:
        path = tree.ancestors_or_self(node.id)
        for key, allowed in decision_nodes.items():
            living = [a for a in path if a in allowed and alive(key, tree.nodes[a].t, node.t)]
            if living:
                result[(key, node.id)] = living
    return result


def first_period_with_room(site: SiteRow, periods: Sequence[str]) -> int:
    """The index of the first period in which ``site`` can hold chips: 0 with ``existing_mw``, else
    its ``earliest_period`` plus ``lead_periods``, when a module started first is ready (at or past
    ``len(periods)``: in no period of the horizon). Under every policy a build can be started in
    ``earliest_period``, so some node of each later period has modules that may be ready."""
    if site.existing_mw > 0:
        return 0
    earliest = periods.index(site.earliest_period) if site.earliest_period is not None else 0
    return earliest + site.lead_periods


def build_sets(case: Case, ix: Indexing, policy: Policy, chips_only_where_built: bool = True) -> Sets:
    """Derive every sparse set for ``policy`` (``phased``, ``all-at-once`` or ``fixed-long-lead``).

    ``chips_only_where_built=False`` keeps chips at sites and nodes with no IT MW built yet: the
    fit and firm-power rows there hold them at 0 and their duals price a MW that is not there
    (``--duals``); the optimum is the same."""
    info = ix.tree
    long_lead = info if policy == "phased" else ix.chain
    long_lead_node = {n.id: long_lead.node_of[(n.scenarios[0], n.t)] for n in info.nodes}
    sets = Sets(ix, info, long_lead, long_lead_node)
    n_periods = len(ix.periods)

    build_nodes: dict[str, set[int]] = {}
    for s, site in case.sites.items():
        earliest = ix.t_of(site.earliest_period, 0)
        allowed = {
            n.id for n in long_lead.nodes if (n.t == earliest if policy == "all-at-once" else n.t >= earliest)
        }
        build_nodes[s] = allowed
        sets.build += [(s, b) for b in sorted(allowed)]
    sets.ready = vintages_alive(long_lead, build_nodes, lambda s, t0, t: t0 + case.sites[s].lead_periods <= t)

    buy_nodes: dict[str, set[int]] = {}
    for c, chip in case.chips.items():
        first, last = ix.t_of(chip.first_period, 0), ix.t_of(chip.last_period, n_periods - 1)
        buy_nodes[c] = {n.id for n in info.nodes if first <= n.t <= last}
    chip_alive = vintages_alive(
        info,
        buy_nodes,
        lambda c, t0, t: t0 <= t and ix.in_service(t0, t, case.chips[c].life_years),
    )
    for s, site in case.sites.items():
        # No chip can be installed where no IT MW can be built yet (kw > 0): no buy there, and a fleet
        # only from the vintages bought where there was room.
        first_room = first_period_with_room(site, ix.periods)
        room = {n.id for n in info.nodes if not chips_only_where_built or n.t >= first_room}
        for c in case.chips:
            sets.buy += [(c, s, n) for n in sorted(buy_nodes[c] & room)]
        for (c, n), living in chip_alive.items():
            with_room = [a for a in living if a in room]
            if with_room:
                sets.fleet[(c, s, n)] = with_room
    chip_order = {c: i for i, c in enumerate(case.chips)}
    sets.buy.sort(key=lambda k: chip_order[k[0]])  # stable: sites, then nodes, in input order per chip
    sets.fleet = dict(sorted(sets.fleet.items(), key=lambda kv: (kv[0][2], kv[0][1], kv[0][0])))

    sign_nodes: dict[str, set[int]] = {}
    for q, contract in case.contracts.items():
        if contract.existing:
            for t in range(n_periods):
                if contract.in_term_from_the_start(t):
                    sets.existing_active[(q, t)] = 1.0
            continue
        first = ix.t_of(contract.first_period, 0)
        sign_nodes[q] = {
            n.id for n in long_lead.nodes if (n.t == first if policy == "all-at-once" else n.t >= first)
        }
        sets.sign += [(q, b) for b in sorted(sign_nodes[q])]
    sets.active = vintages_alive(long_lead, sign_nodes, lambda q, t0, t: _contract_alive(case, q, t0, t))

    _operations(case, sets)
    return sets


def _contract_alive(case: Case, q: str, t_signed: int, t: int) -> bool:
    contract = case.contracts[q]
    start = t_signed + contract.lead_periods
    end = None if contract.term_periods is None else start + contract.term_periods
    return start <= t and (end is None or t < end)


def _operations(case: Case, sets: Sets) -> None:
    """Per-scenario operating variables, only where the assets they use can exist."""
    ix = sets.ix
    for w in case.scenarios:
        for t in range(len(ix.periods)):
            n = sets.info_tree.node_of[(w, t)]
            b = sets.long_lead_node[n]
            for s in case.sites:
                for c in case.chips:
                    if (c, s, n) not in sets.fleet:
                        continue
                    for k in case.workloads:
                        if case.pflops(c, k) > 0:
                            sets.run.append((c, s, k, t, w))
            for q in case.contracts:
                if (q, b) in sets.active or (q, t) in sets.existing_active:
                    sets.energy.append((q, t, w))
