"""missions: patrol planning over key areas, waters, routes and points (see README.md).

Public API: the value types, ``load_plan``/``save_plan`` (QGC .plan, WPL 110, GeoJSON, KML),
places, the local ENU projection, planners, and validation.
"""

from missions.errors import MissionError, MissionFileError, PlaceError, PlanningError, ValidationFailed
from missions.fence import FenceCircle, FencePolygon, fence_items, fence_shapes, rally_item
from missions.formats import load_plan, save_plan
from missions.types import Home, Mission, MissionItem, Plan

__all__ = [
    "FenceCircle",
    "FencePolygon",
    "Home",
    "Mission",
    "MissionError",
    "MissionFileError",
    "MissionItem",
    "PlaceError",
    "Plan",
    "PlanningError",
    "ValidationFailed",
    "fence_items",
    "fence_shapes",
    "load_plan",
    "rally_item",
    "save_plan",
]
