"""Committed vs contingent long-lead decisions: per site and per signed contract, how many MW the
plan decides before demand tells the scenarios apart (certain: the same whatever demand does) and
how many it decides only in some scenarios, once their demand has parted (contingent).

A building decision of ``v`` modules at site ``s`` is ``v * module_mw[s]`` MW; a signing of share
``v`` of contract ``q`` is ``v * mw[q]`` MW. A long-lead tree node is *certain* when every scenario
shares it (the first period always; all of them under all-at-once and plan-on-mean, whose tree is a
chain), or when its decision was frozen to a plan given in advance (``--fix-plan``: the same at every
node of its period); every other node is *contingent*.
"""

from __future__ import annotations

from typing import NamedTuple

import pandas as pd
import pyomo.environ as pyo

from planner.formulation import PlanningModel
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


def commitments_table(pm: PlanningModel, build: dict[Index, float], sign: dict[Index, float]) -> pd.DataFrame:
    """One row per site with any module started and per contract (not ``existing``) with any share
    signed, in input order (``build``, ``sign``: the solved values of :func:`solved_values`).

    With ``mw[n]`` the MW decided at long-lead node ``n`` and ``path[w]`` scenario ``w``'s nodes:
    ``now_mw = mw[root]`` (the first period); ``certain_mw`` the sum of ``mw[n]`` over the certain
    nodes of a path (the same on every path); ``contingent[w]`` the sum of ``mw[n]`` over the
    contingent nodes of ``path[w]``, and ``contingent_mw_expected = sum_w p[w] * contingent[w]``, with
    its ``min`` and ``max`` over the scenarios; ``total_mw_expected = certain_mw +
    contingent_mw_expected``, the MW decided over the horizon, expected over the scenarios.
    """
    m, case = pm.model, pm.case
    rows = [
        _row(pm, "building", s, s, _decisions(build, m.build, s, site.module_mw))
        for s, site in case.sites.items()
    ] + [
        _row(pm, "contract", q, contract.site, _decisions(sign, m.sign, q, contract.mw))
        for q, contract in case.contracts.items()
    ]
    return pd.DataFrame([row for row in rows if row is not None], columns=COMMITMENT_COLUMNS)


def _decisions(
    values: dict[Index, float], var: pyo.Var, key: str, mw_per_unit: float
) -> dict[int, NodeDecision]:
    """Long-lead node -> decision of one site (``values``: modules) or contract (shares)."""
    return {
        n: NodeDecision(v * mw_per_unit, var[key, n].fixed)
        for (owner, n), v in values.items()
        if owner == key
    }


def _row(
    pm: PlanningModel, kind: str, key: str, site: str, decisions: dict[int, NodeDecision]
) -> dict[str, str | float] | None:
    """The row of one site or contract; None when it decides nothing."""
    if not decisions:
        return None
    certain, contingent = _mw_along_paths(pm, decisions)
    expected = sum((pm.case.scenario_probability[w] * mw for w, mw in contingent.items()), 0.0)
    root = pm.sets.long_lead_tree.nodes[0]
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


def _mw_along_paths(pm: PlanningModel, decisions: dict[int, NodeDecision]) -> tuple[float, dict[str, float]]:
    """The MW decided at the certain nodes of a path (the same on every path), and per scenario the
    MW decided at the contingent nodes of its path."""
    tree, scenarios = pm.sets.long_lead_tree, pm.case.scenarios

    def certain(n: int) -> bool:
        return decisions[n].frozen or len(tree.nodes[n].scenarios) == len(scenarios)

    paths = {w: [tree.node_of[(w, t)] for t in range(len(pm.ix.periods))] for w in scenarios}
    decided = {w: [n for n in path if n in decisions] for w, path in paths.items()}
    contingent = {
        w: sum((decisions[n].mw for n in nodes if not certain(n)), 0.0) for w, nodes in decided.items()
    }
    return sum((decisions[n].mw for n in decided[scenarios[0]] if certain(n)), 0.0), contingent
