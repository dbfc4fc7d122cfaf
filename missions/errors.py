"""Errors raised by `missions`: one base class, subclasses with fields.

Messages say what went wrong, where, and how to fix it; `lookout.cli` prints them as one line.
"""

from __future__ import annotations

from pathlib import Path


class MissionError(Exception):
    """Base of every error `missions` raises on purpose."""


class MissionFileError(MissionError):
    """A file could not be read or written: names the file and the place in it (line, item, feature)."""

    def __init__(self, path: Path | str, place: str, reason: str) -> None:
        self.path = Path(path)
        self.place = place
        self.reason = reason
        where = f"{self.path} {place}" if place else f"{self.path}"  # plan.waypoints line 12: ...
        super().__init__(f"{where}: {reason}")


class PlaceError(MissionError):
    """A place (area, water, route, point) is unusable for planning: names the place and the fix."""

    def __init__(self, place: str, reason: str) -> None:
        self.place = place
        self.reason = reason
        super().__init__(f"{place}: {reason}")


class PlanningError(MissionError):
    """A planner could not build a mission from valid inputs (e.g. area smaller than one footprint)."""


class ValidationFailed(MissionError):
    """A plan broke one or more rules; ``violations`` lists every one, the message shows them all."""

    def __init__(self, path: Path | str | None, violations: list[str]) -> None:
        self.path = None if path is None else Path(path)
        self.violations = list(violations)
        head = f"{self.path}: " if self.path else ""
        super().__init__(f"{head}{len(self.violations)} violation(s): " + "; ".join(self.violations))
