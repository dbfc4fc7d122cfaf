"""Editing a mission item by item, as a plan editor does, keeping DO_JUMP targets on their items.

A DO_JUMP's ``param1`` is the target's sequence number with ArduPilot's home as 0, so item index
``i`` (0-based in ``Mission.items``) is seq ``i + 1``. Inserting or deleting an item before a
target shifts it; these helpers renumber every DO_JUMP so it still jumps to the same item (a
deleted target: the item that took its place). Pure functions on immutable values.
"""

from __future__ import annotations

from dataclasses import replace

from missions import mavcmd
from missions.errors import MissionError
from missions.types import Mission, MissionItem


def _shift_jumps(items: list[MissionItem], index: int, delta: int) -> list[MissionItem]:
    out = []
    for it in items:
        if it.command == mavcmd.DO_JUMP and int(it.param1) - 1 >= index + (1 if delta < 0 else 0):
            it = replace(it, param1=float(int(it.param1) + delta))
        out.append(it)
    return out


def insert_item(mission: Mission, index: int, item: MissionItem) -> Mission:
    """``item`` at ``index`` (0..len): the item there and the ones after it move down one."""
    if not 0 <= index <= len(mission.items):
        raise MissionError(f"insert at item {index + 1}: the mission has {len(mission.items)} items")
    items = _shift_jumps(list(mission.items), index, +1)
    items.insert(index, item)
    return replace(mission, items=tuple(items))


def delete_item(mission: Mission, index: int) -> Mission:
    """Remove item ``index``; a DO_JUMP that targeted it now targets the item after it."""
    if not 0 <= index < len(mission.items):
        raise MissionError(f"delete item {index + 1}: the mission has {len(mission.items)} items")
    items = list(mission.items)
    del items[index]
    items = _shift_jumps(items, index, -1)
    n = len(items)
    items = [replace(it, param1=float(min(int(it.param1), n))) if it.command == mavcmd.DO_JUMP and n else it
             for it in items]  # fmt: skip
    return replace(mission, items=tuple(items))


def move_item(mission: Mission, index: int, lat_deg: float, lon_deg: float) -> Mission:
    """Item ``index`` at a new position (altitude, command and params as they were)."""
    if not 0 <= index < len(mission.items):
        raise MissionError(f"move item {index + 1}: the mission has {len(mission.items)} items")
    if not (-90 <= lat_deg <= 90 and -180 <= lon_deg <= 180):
        raise MissionError(f"move item {index + 1}: {lat_deg}, {lon_deg} is not a place on Earth")
    items = list(mission.items)
    items[index] = replace(items[index], lat_deg=lat_deg, lon_deg=lon_deg)
    return replace(mission, items=tuple(items))


__all__ = ["delete_item", "insert_item", "move_item"]
