"""Infeasible models are explained in words: constraint family, site, period, scenarios."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from factory import chip, contract, make_case, site

from planner.case import Case
from planner.config import ModelConfig
from planner.errors import ModelError
from planner.formulation import LongLeadPlan, PlanningModel, build_model
from planner.plan import _build_and_solve

if TYPE_CHECKING:
    from planner.solve import SolveOutcome


def _case(site_id: str = "alpha") -> Case:
    return make_case(
        periods={"p1": 1.0, "p2": 1.0},
        demand={"base": {"p1": 1.0, "p2": 1.0}},
        sites=[site(site_id, max_mw=2.0, module_mw=1.0)],
        chips=[chip("g")],
        contracts=[contract("grid", site_id, mw=5.0, existing=False)],
    )


@pytest.mark.parametrize("site_id", ["alpha", "O'Hare"])
def test_a_fixed_plan_beyond_the_site_cap_names_the_site(site_id: str) -> None:
    """Fixing 3 modules of 1 MW at a 2 MW site breaks the site cap: the message says so, also
    for an id holding a quote (Pyomo's message quotes the row's name, quote and all)."""
    plan = LongLeadPlan(build_modules={(site_id, 0): 3.0}, sign_share={("grid", 0): 1.0})
    with pytest.raises(ModelError) as caught:
        _build_and_solve(_case(site_id), ModelConfig(name="fixed"), "phased", plan, None, False, False, None)
    message = str(caught.value)
    assert "site cap" in message and f"{site_id}, scenarios base" in message


def test_an_infeasible_extension_is_located_by_the_iis() -> None:
    """An extra constraint demanding 5 MW built at a 2 MW site: the IIS names the cap and alpha."""
    from planner.diagnose import explain_failure
    from planner.solve import solve_model

    pm = build_model(_case())
    m = pm.model
    import pyomo.environ as pyo

    m.extension = pyo.Constraint(expr=sum(m.build[k] for k in m.build) >= 5)
    outcome = solve_model(m, ModelConfig(name="x").solver)
    assert not outcome.has_solution
    message = explain_failure(pm, outcome)
    assert "infeasible" in message.lower()
    # The build bounds encode the site cap (at most floor((max_mw - existing_mw) / module_mw)).
    assert "max_mw" in message and "alpha, period p1" in message
    assert "extension" in message


def _three_period_case():
    return make_case(
        periods={"p1": 1.0, "p2": 1.0, "p3": 1.0},
        demand={"base": {"p1": 1.0, "p2": 1.0, "p3": 1.0}},
        sites=[site("alpha", max_mw=2.0, module_mw=1.0)],
        chips=[chip("g")],
        contracts=[contract("grid", "alpha", mw=5.0, existing=False, divisible=True)],
    )


def test_a_fixed_plan_off_by_round_off_is_not_called_infeasible() -> None:
    """A plan-on-mean first stage (solved by HiGHS) signed these shares of a divisible contract:
    in floating point they add up to 1 + 9e-16, within tolerance, so the plan solves."""
    shares = {
        ("grid", 0): 0.4531462178519599,
        ("grid", 1): 0.2411218070935185,
        ("grid", 2): 0.3057319750545223,
    }
    assert sum(shares.values()) > 1
    plan = LongLeadPlan(build_modules={("alpha", 0): 1.0}, sign_share=shares)
    _, outcome, _ = _build_and_solve(
        _three_period_case(), ModelConfig(name="fixed"), "phased", plan, None, False, False, None
    )
    assert outcome.status == "optimal"


def test_a_fixed_plan_signing_a_contract_twice_is_still_infeasible() -> None:
    plan = LongLeadPlan(build_modules={("alpha", 0): 1.0}, sign_share={("grid", 0): 0.6, ("grid", 1): 0.6})
    with pytest.raises(ModelError) as caught:
        _build_and_solve(
            _three_period_case(), ModelConfig(name="fixed"), "phased", plan, None, False, False, None
        )
    assert "signed at most once" in str(caught.value) and "grid" in str(caught.value)


def test_a_conflict_of_several_rows_is_located_by_the_elastic_iis() -> None:
    """One 1 MW module and the 5 MW contract frozen in p1, and an extension asking for two chips of
    1 MW in service: no row fails alone (HiGHS's light test finds nothing), the fit, the modules
    ready and the extension together do. The message used to be "could not isolate"."""
    import pyomo.environ as pyo

    plan = LongLeadPlan(build_modules={("alpha", 0): 1.0}, sign_share={("grid", 0): 1.0}, through_t=0)
    pm = build_model(_case(), fixed_long_lead=plan)
    m = pm.model
    m.extension = pyo.Constraint(expr=m.fleet["g", "alpha", 0] >= 2)
    message = _explained(pm)
    assert "cannot all hold together" in message
    for words in (
        "chips must fit in built IT MW: alpha, period p1 (base)",
        "modules ready (lead time): alpha, period p1 (base)",
        "extension",
    ):
        assert words in message, words
    assert ">= 0" not in message  # columns whose bounds take no part in the conflict are left out


def test_the_elastic_iis_stops_at_its_deadline() -> None:
    """The elastic IIS's LPs are bounded by neither HiGHS's time_limit nor a stop signal: a
    deadline polled by HiGHS's simplex interrupt stops them, and an interrupted search (HiGHS then
    answers with every row of the model) isolates nothing rather than listing the whole model."""
    import pyomo.environ as pyo

    from planner.diagnose import infeasible_rows

    plan = LongLeadPlan(build_modules={("alpha", 0): 1.0}, sign_share={("grid", 0): 1.0}, through_t=0)
    pm = build_model(_case(), fixed_long_lead=plan)
    pm.model.extension = pyo.Constraint(expr=pm.model.fleet["g", "alpha", 0] >= 2)
    assert ("extension", ()) in infeasible_rows(pm)
    assert infeasible_rows(pm, seconds=0) == []


def _explained(pm: PlanningModel) -> str:
    from planner.diagnose import explain_failure
    from planner.solve import solve_model

    outcome = solve_model(pm.model, ModelConfig(name="x").solver)
    assert not outcome.has_solution
    return explain_failure(pm, outcome)


def test_an_unbounded_extension_names_the_decisions_that_grow() -> None:
    """An extension paying 1 musd per EFLOPS of unmet demand in p2 (a negative penalty): the
    message names unmet demand in p2, not a generic hint."""
    pm = build_model(_three_period_case())
    m = pm.model
    m.objective.expr = m.objective.expr - 2000 * sum(m.unmet[k] for k in m.unmet if k[1] == 1)
    message = _explained(pm)
    assert "without limit" in message
    assert "unmet demand (EFLOPS): w, period p2, base" in message
    assert "period p1" not in message and "period p3" not in message


def test_cvar_without_its_tail_rows_is_unbounded_in_eta() -> None:
    """Dropping the Rockafellar-Uryasev rows leaves eta free to fall: the message says which."""
    case = make_case({"lo": {"p1": 1}, "hi": {"p1": 3}}, chips=[chip(capex_usd=1e6)])
    pm = build_model(case, cvar_weight=1.0)
    pm.model.cvar_tail.deactivate()
    message = _explained(pm)
    assert "CVaR threshold eta" in message and "model is unbounded" in message


def test_a_node_limit_from_highs_options_is_named_as_the_cause(tiny_case_dir: Path) -> None:
    """``mip_max_nodes = 0`` stops HiGHS before its first plan on the tiny case: the message used to
    end at "status solution_limit", with nothing to say it came from the model's own options."""
    from planner.config import SolverSettings
    from planner.loader import load_case
    from planner.plan import solve_case

    case, _ = load_case(tiny_case_dir)
    limited = ModelConfig(
        name="limited",
        policy="phased",
        solver=SolverSettings(mip_gap=0.0, highs_options={"mip_max_nodes": 0, "mip_heuristic_effort": 0.0}),
    )
    with pytest.raises(ModelError) as raised:
        solve_case(case, limited)
    assert "status solution_limit" in str(raised.value)
    assert "[solver.highs_options]" in str(raised.value) and "mip_max_nodes" in str(raised.value)


def _outcome(status: str) -> SolveOutcome:
    from planner.solve import SolveOutcome

    nan = float("nan")
    return SolveOutcome(status, False, nan, nan, nan, 0.0, 0.0, 0, 0, 0, 0)


@pytest.mark.parametrize(
    ("status", "said"),
    [("time_limit", "before finding any feasible plan; allow more time"),
     ("memory_limit", "ran out of memory before finding any feasible plan")],
)
def test_a_stop_before_any_plan_says_why(status: str, said: str) -> None:
    from planner.diagnose import explain_failure

    message = explain_failure(build_model(_case()), _outcome(status))
    assert message.startswith(f"HiGHS found no plan: status {status}.") and said in message


def test_infeasible_or_unbounded_is_told_apart_by_the_iis_or_the_ray() -> None:
    """Presolve may answer 'infeasible or unbounded': the IIS or the ray still says which."""
    import pyomo.environ as pyo

    from planner.diagnose import explain_failure

    infeasible = build_model(_case())
    build = infeasible.model.build
    infeasible.model.extension = pyo.Constraint(expr=sum(build[k] for k in build) >= 5)
    message = explain_failure(infeasible, _outcome("infeasible_or_unbounded"))
    assert "cannot all hold together" in message and "extension" in message
    unbounded = build_model(_three_period_case())
    m = unbounded.model
    m.objective.expr = m.objective.expr - 2000 * sum(m.unmet[k] for k in m.unmet if k[1] == 1)
    message = explain_failure(unbounded, _outcome("infeasible_or_unbounded"))
    assert "without limit" in message and "unmet demand (EFLOPS): w, period p2, base" in message


def test_a_long_list_shows_twelve_then_a_count() -> None:
    from planner.diagnose import FAMILY_WORDS, _listed

    periods = {f"p{i}": 1.0 for i in range(1, 16)}
    pm = build_model(make_case(demand={t: 1.0 for t in periods}, periods=periods))
    lines = _listed(pm, [("unmet", k) for k in pm.model.unmet], FAMILY_WORDS).splitlines()
    assert len(lines) == 13 and lines[-1] == "  ... and 3 more"
    assert lines[11].endswith("period p12, base") and "p13" not in "\n".join(lines)


def test_a_ray_lists_every_decision_that_moves_steepest_first() -> None:
    """An extension ties unmet demand in p3 to 1e-4 of that in p2, which pays 2000 musd per EFLOPS
    (a negative penalty): both move along the ray, p2 (the one lowering the cost) first."""
    import pyomo.environ as pyo

    pm = build_model(_three_period_case())
    m = pm.model
    u2 = next(m.unmet[k] for k in m.unmet if k[1] == 1)
    u3 = next(m.unmet[k] for k in m.unmet if k[1] == 2)
    m.tie = pyo.Constraint(expr=u3 == 1e-4 * u2)
    m.objective.expr = m.objective.expr - 2000 * u2
    listed = [line for line in _explained(pm).splitlines() if line.startswith("  - ")]
    assert listed == [
        "  - unmet demand (EFLOPS): w, period p2, base",
        "  - unmet demand (EFLOPS): w, period p3, base",
    ]


def test_every_family_of_a_full_model_has_words_and_one_index_shape() -> None:
    """The diagnosis names rows and columns by family: a family added to the model without words
    (or with two index shapes) would be explained as a bare name or with a wrong period."""
    import pyomo.environ as pyo

    from planner.diagnose import (
        FAMILY_WORDS,
        LONG_LEAD_FAMILIES,
        PATH_FAMILIES,
        PERIOD_FAMILIES,
        VARIABLE_WORDS,
    )

    case = make_case(
        periods={"p1": 1.0, "p2": 1.0},
        demand={"a": {"p1": 1.0, "p2": 2.0}, "b": {"p1": 1.0, "p2": 1.0}},
        sites=[site("alpha", max_mw=2.0, module_mw=1.0)],
        chips=[chip("g")],
        contracts=[contract("grid", "alpha", mw=5.0, existing=False, min_take=0.5)],
        chip_supply={("g", "p1"): 10.0},
        budget={"p1": 100.0},
    )
    m = build_model(case, cvar_weight=1.0, unpowered_chips=True).model
    rows = {c.local_name for c in m.component_objects(pyo.Constraint)}
    columns = {v.local_name for v in m.component_objects(pyo.Var)}
    assert rows <= set(FAMILY_WORDS), rows - set(FAMILY_WORDS)
    assert columns <= set(VARIABLE_WORDS), columns - set(VARIABLE_WORDS)
    assert {"site_cap", "sign_once", "take_or_pay", "chip_supply", "budget", "cvar_tail"} <= rows
    assert {"unpowered_within_fleet"} <= rows and {"unpowered"} <= columns
    shapes = (LONG_LEAD_FAMILIES, PATH_FAMILIES, PERIOD_FAMILIES)
    assert all(len([s for s in shapes if name in s]) <= 1 for name in rows | columns)
