"""Plan files by suffix: .plan (QGC JSON), .waypoints/.txt (QGC WPL 110), .geojson/.json, .kml."""

from __future__ import annotations

from pathlib import Path

from missions.errors import MissionFileError
from missions.formats import geojson_plan, kml, qgc_plan, wpl
from missions.formats.common import LoadedPlan
from missions.types import Plan

_BY_SUFFIX = {
    ".plan": qgc_plan,
    ".waypoints": wpl,
    ".txt": wpl,
    ".mission": wpl,
    ".geojson": geojson_plan,
    ".json": geojson_plan,
    ".kml": kml,
}
SUFFIXES = tuple(_BY_SUFFIX)
__all__ = ["SUFFIXES", "LoadedPlan", "load_plan", "read_plan", "save_plan"]


def _module(path: Path):
    mod = _BY_SUFFIX.get(Path(path).suffix.lower())
    if mod is None:
        raise MissionFileError(path, "file name", f"unknown plan format; use one of {', '.join(SUFFIXES)}")
    return mod


def load_plan(path: Path | str) -> Plan:
    """Read a plan file, format chosen by suffix. Raises ``MissionFileError`` naming file and place.

    What the reader had to change (e.g. WPL rows renumbered) is logged as a warning."""
    path = Path(path)
    return _module(path).load(path)


def read_plan(path: Path | str) -> LoadedPlan:
    """``load_plan`` that also returns the reader's warnings (rows renumbered, fence edited in QGC ...)
    instead of logging them; for callers that show them their own way."""
    path = Path(path)
    mod = _module(path)
    read = getattr(mod, "read", None)
    return read(path) if read is not None else LoadedPlan(mod.load(path))


def save_plan(plan: Plan, path: Path | str) -> None:
    """Write a plan file atomically (temp + os.replace), format chosen by suffix."""
    path = Path(path)
    _module(path).save(plan, path)
