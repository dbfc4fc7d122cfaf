"""``water_entry``: a person's foot point inside a ``kind = "water"`` zone for ``min_inside_s`` (high)."""

from __future__ import annotations

from dataclasses import dataclass

from vision.behaviours._common import drop_gone, people, secs, utc_at, zones_of_kind
from vision.behaviours.config import WaterEntryConfig
from vision.behaviours.types import Event, FrameContext
from vision.zones import zone_of_points


@dataclass(slots=True)
class _Stay:
    zone: str
    since_s: float
    fired: bool = False


class WaterEntryRule:
    """Fires once per stay in the water; being seen outside (even one frame) restarts the clock."""

    kind = "water_entry"

    def __init__(self, config: WaterEntryConfig | None = None) -> None:
        self.config = config or WaterEntryConfig()
        self._stays: dict[int, _Stay] = {}  # track id -> current stay in a water zone

    def __len__(self) -> int:
        return len(self._stays)

    def update(self, ctx: FrameContext) -> list[Event]:
        drop_gone(self._stays, ctx)
        water = zones_of_kind(ctx, "water")
        if not water:
            self._stays.clear()
            return []
        found = people(ctx)
        names = zone_of_points(water, [p.foot for p in found]) if found else []
        events = []
        for person, zone in zip(found, names, strict=True):
            stay = self._stays.get(person.track_id)
            if zone is None:  # seen on dry land: the stay (if any) is over
                self._stays.pop(person.track_id, None)
                continue
            if stay is None or stay.zone != zone:
                stay = self._stays[person.track_id] = _Stay(zone, ctx.t_s)
            inside_s = ctx.t_s - stay.since_s
            if stay.fired or inside_s < self.config.min_inside_s:
                continue
            stay.fired = True
            events.append(Event(
                kind=self.kind, severity="high", feed=ctx.feed,
                t_start_utc=utc_at(ctx, stay.since_s), t_end_utc=ctx.t_utc, frame_index=ctx.frame_index,
                track_ids=(person.track_id,), xy_px=person.foot, box_xyxy=person.xyxy,
                score=person.confidence, zone=zone,
                summary=f"person {person.track_id} in the water at {zone!r} for {secs(inside_s)}",
                details={"inside_s": round(inside_s, 2)},
            ))  # fmt: skip
        return events
