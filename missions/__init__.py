"""missions: patrol planning over key areas, waters, routes and points (see README.md).

Public API: value types, ``load_plan``/``save_plan`` (QGC .plan, WPL 110, GeoJSON, KML), fences,
places, the local ENU frame, planners and validation. The file API imports no geometry library;
planners, places and validation (which use shapely) load on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from missions import mavcmd
from missions.errors import MissionError, MissionFileError, PlaceError, PlanningError, ValidationFailed
from missions.fence import FenceCircle, FencePolygon, fence_items, fence_return_point, fence_shapes, rally_item
from missions.formats import LoadedPlan, load_plan, read_plan, save_plan
from missions.geo import LocalFrame, haversine_m
from missions.types import Home, Mission, MissionItem, Plan

_LAZY = {
    "Place": "missions.places",
    "load_places": "missions.places",
    "save_places": "missions.places",
    "load_fence": "missions.fenceio",
    "PLAN_KINDS": "missions.planners.api",
    "plan": "missions.planners.api",
    "Camera": "missions.planners.common",
    "PlanOptions": "missions.planners.common",
    "PlanResult": "missions.planners.common",
    "PlanSummary": "missions.planners.common",
    "plan_coverage": "missions.planners.coverage",
    "check_plan": "missions.validate",
    "estimate_flight": "missions.validate",
    "FlightEstimate": "missions.validate",
}


def __getattr__(name: str) -> Any:
    mod = _LAZY.get(name)
    if mod is None:
        raise AttributeError(f"module 'missions' has no attribute {name!r}")
    return getattr(importlib.import_module(mod), name)


__all__ = [
    "PLAN_KINDS", "Camera", "FenceCircle", "FencePolygon", "FlightEstimate", "Home", "LoadedPlan", "LocalFrame",
    "Mission", "MissionError", "MissionFileError", "MissionItem", "Place", "PlaceError", "Plan", "PlanOptions",
    "PlanResult", "PlanSummary", "PlanningError", "ValidationFailed", "check_plan", "estimate_flight", "fence_items",
    "fence_return_point", "fence_shapes", "haversine_m", "load_fence", "load_places", "load_plan", "mavcmd", "plan",
    "plan_coverage", "rally_item", "read_plan", "save_places", "save_plan",
]
