"""Committed vs contingent decisions: per site, per signed contract and per chip type bought at a
site, how many MW the plan decides before demand tells the scenarios apart (certain: the same
whatever demand does) and how many it decides only in some scenarios, once their demand has parted
(contingent).

A building decision of ``v`` modules at site ``s`` is ``v * module_mw[s]`` MW; a signing of share
``v`` of contract ``q`` is ``v * mw[q]`` MW; a purchase of ``v`` chips of type ``c`` is
``v * kw[c] / 1000`` IT MW. A tree node (of the long-lead tree for buildings and contracts, of the
scenario tree for chips) is *certain* when every scenario shares it (the first period always; every
long-lead node under all-at-once and plan-on-mean, whose long-lead tree is a chain), or when its
decision was frozen to a plan given in advance (``--fix-plan``, ``--fix-chips``: the same at every
node of its period); every other node is *contingent*.
"""

from __future__ import annotations

from typing import NamedTuple

import pandas as pd
import pyomo.environ as pyo

from planner.formulation import PlanningModel
from planner.formulation.indexing import Tree
from planner.formulation.variables import Index

COMMITMENT_COLUMNS = (
    "kind",
    "id",
    "site",
    "now_mw",
    "certain_mw",
    "contingent_mw_expected",
    "contingent_mw_min",
    "contingent_mw_max",
    "total_mw_expected",
)


class NodeDecision(NamedTuple):
    """What one site or contract decides at one long-lead node."""

    mw: float
    frozen: bool
    """Fixed to a plan given in advance (``--fix-plan``), not chosen by this solve."""


def commitments_table(
    pm: PlanningModel, build: dict[Index, float], sign: dict[Index, float], buy: dict[Index, float]
) -> pd.DataFrame:
    """One row per site with any module started, per contract (not ``existing``) with any share
    signed and per chip type and site with any chip bought (kind ``chips``, id the chip), in input
    order (``build``, ``sign``, ``buy``: the solved values of :func:`solved_values`).

    With ``mw[n]`` the MW decided at long-lead node ``n`` and ``path[w]`` scenario ``w``'s nodes:
    ``now_mw = mw[root]`` (the first period); ``certain_mw`` the sum of ``mw[n]`` over the certain
    nodes of a path (the same on every path); ``contingent[w]`` the sum of ``mw[n]`` over the
    contingent nodes of ``path[w]``, and ``contingent_mw_expected = sum_w p[w] * contingent[w]``, with
    its ``min`` and ``max`` over the scenarios; ``total_mw_expected = certain_mw +
    contingent_mw_expected``, the MW decided over the horizon, expected over the scenarios.
    """
    m, case = pm.model, pm.case
    long_lead, info = pm.sets.long_lead_tree, pm.sets.info_tree
    rows = [
        _row(pm, long_lead, "building", s, s, _decisions(build, m.build, (s,), site.module_mw))
        for s, site in case.sites.items()
    ] + [
        _row(pm, long_lead, "contract", q, contract.site, _decisions(sign, m.sign, (q,), contract.mw))
        for q, contract in case.contracts.items()
    ]
    rows += [
        _row(pm, info, "chips", c, s, _decisions(buy, m.buy, (c, s), chip.kw / 1000.0))
        for s in case.sites
        for c, chip in case.chips.items()
    ]
    return pd.DataFrame([row for row in rows if row is not None], columns=COMMITMENT_COLUMNS)


def _decisions(
    values: dict[Index, float], var: pyo.Var, key: tuple[str, ...], mw_per_unit: float
) -> dict[int, NodeDecision]:
    """Tree node -> decision of one site (``values``: modules), contract (shares) or chip type at a
    site (chips)."""
    return {
        index[-1]: NodeDecision(v * mw_per_unit, var[index].fixed)
        for index, v in values.items()
        if index[:-1] == key
    }


def _row(
    pm: PlanningModel, tree: Tree, kind: str, key: str, site: str, decisions: dict[int, NodeDecision]
) -> dict[str, str | float] | None:
    """The row of one site, contract or chip type at a site; None when it decides nothing."""
    if not decisions:
        return None
    certain, contingent = _mw_along_paths(pm, tree, decisions)
    expected = sum((pm.case.scenario_probability[w] * mw for w, mw in contingent.items()), 0.0)
    root = tree.nodes[0]
    return {
        "kind": kind,
        "id": key,
        "site": site,
        "now_mw": decisions[root.id].mw if root.id in decisions else 0.0,
        "certain_mw": certain,
        "contingent_mw_expected": expected,
        "contingent_mw_min": min(contingent.values()),
        "contingent_mw_max": max(contingent.values()),
        "total_mw_expected": certain + expected,
    }


def _mw_along_paths(
    pm: PlanningModel, tree: Tree, decisions: dict[int, NodeDecision]
) -> tuple[float, dict[str, float]]:
    """The MW decided at the certain nodes of a path (the same on every path), and per scenario the
    MW decided at the contingent nodes of its path."""
    scenarios = pm.case.scenarios

    def certain(n: int) -> bool:
        return decisions[n].frozen or len(tree.nodes[n].scenarios) == len(scenarios)

    paths = {w: [tree.node_of[(w, t)] for t in range(len(pm.ix.periods))] for w in scenarios}
    decided = {w: [n for n in path if n in decisions] for w, path in paths.items()}
    contingent = {
        w: sum((decisions[n].mw for n in nodes if not certain(n)), 0.0) for w, nodes in decided.items()
    }
    return sum((decisions[n].mw for n in decided[scenarios[0]] if certain(n)), 0.0), contingent
