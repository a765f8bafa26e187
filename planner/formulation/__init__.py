"""The v1 planning model (``shared/spec/formulation.md``) as a Pyomo model."""

from planner.formulation.model import LongLeadPlan, PlanningModel, build_model

__all__ = ["LongLeadPlan", "PlanningModel", "build_model"]
