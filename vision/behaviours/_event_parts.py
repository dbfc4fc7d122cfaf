"""The zone an event happened in (the vehicle and fight rules; times and boxes come from ``_common``)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from vision.behaviours import _common
from vision.behaviours.types import FrameContext
from vision.zones import zone_of_points

utc_at = _common.utc_at


def union_box(boxes: Iterable[np.ndarray]) -> tuple[float, float, float, float]:
    """``_common.union_box`` over numpy boxes, as plain floats (JSON-serialisable)."""
    return _common.union_box([tuple(float(v) for v in np.asarray(b).reshape(4)) for b in boxes])


def zone_at(ctx: FrameContext, xy: tuple[float, float]) -> tuple[str | None, str | None]:
    """(name, kind) of the zone holding the point (smallest wins), or (None, None)."""
    if not ctx.zones:
        return None, None
    name = zone_of_points(ctx.zones, np.array([xy], np.float64))[0]
    kind = next((z.kind for z in ctx.zones if z.name == name), None)
    return name, kind
