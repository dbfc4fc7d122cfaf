"""Plan files by suffix: .plan (QGC JSON), .waypoints/.txt (QGC WPL 110), .geojson/.json, .kml."""

from __future__ import annotations

from pathlib import Path

from missions.errors import MissionFileError
from missions.formats import geojson_plan, kml, qgc_plan, wpl
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


def _module(path: Path):
    mod = _BY_SUFFIX.get(Path(path).suffix.lower())
    if mod is None:
        raise MissionFileError(path, "file name", f"unknown plan format; use one of {', '.join(SUFFIXES)}")
    return mod


def load_plan(path: Path | str) -> Plan:
    """Read a plan file, format chosen by suffix. Raises ``MissionFileError`` naming file and place."""
    path = Path(path)
    return _module(path).load(path)


def save_plan(plan: Plan, path: Path | str) -> None:
    """Write a plan file atomically (temp + os.replace), format chosen by suffix."""
    path = Path(path)
    _module(path).save(plan, path)
