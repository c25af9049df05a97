"""The workload plan's response (`GET /plans/{year}`): the forecast's own model, which holds no
workflow payload, and its CSV's columns."""

from reports.plans import Plan, PlanCell, PlanFlag, PlanMonth, PlanReaudit

PlanOut = Plan

__all__ = ["PlanCell", "PlanFlag", "PlanMonth", "PlanOut", "PlanReaudit"]
