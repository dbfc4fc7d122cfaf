"""``loitering``: a person inside one ``restricted``/``watch`` zone for ``dwell_s`` (medium/low)."""

from __future__ import annotations

from dataclasses import dataclass

from vision.behaviours._common import drop_gone, people, secs, utc_at, zones_of_kind
from vision.behaviours.config import LoiteringConfig
from vision.behaviours.types import Event, FrameContext
from vision.zones import zone_of_points

KINDS = ("restricted", "watch")


@dataclass(slots=True)
class _Stay:
    zone: str
    since_s: float
    last_in_s: float
    fired: bool = False


class LoiteringRule:
    """Fires once per stay; leaving the zone for up to ``exit_grace_s`` does not end the stay.
    With no restricted/watch zones on the camera it does nothing."""

    kind = "loitering"

    def __init__(self, config: LoiteringConfig | None = None) -> None:
        self.config = config or LoiteringConfig()
        self._stays: dict[int, _Stay] = {}

    def __len__(self) -> int:
        return len(self._stays)

    def update(self, ctx: FrameContext) -> list[Event]:
        drop_gone(self._stays, ctx)
        zones = zones_of_kind(ctx, *KINDS)
        if not zones:
            self._stays.clear()
            return []
        kind_of = {z.name: z.kind for z in zones}
        found = people(ctx)
        names = zone_of_points(zones, [p.foot for p in found]) if found else []
        events = []
        for person, zone in zip(found, names, strict=True):
            stay = self._stays.get(person.track_id)
            if stay is not None and (zone != stay.zone) and ctx.t_s - stay.last_in_s > self.config.exit_grace_s:
                stay = None  # gone from its zone for longer than the grace: the stay is over
                del self._stays[person.track_id]
            if zone is None:
                continue
            if stay is None or stay.zone != zone:
                if stay is not None:  # stepped into another zone within the grace: keep the first
                    continue
                stay = self._stays[person.track_id] = _Stay(zone, ctx.t_s, ctx.t_s)
            stay.last_in_s = ctx.t_s
            dwell_s = ctx.t_s - stay.since_s
            if stay.fired or dwell_s < self.config.dwell_s:
                continue
            stay.fired = True
            zkind = kind_of[zone]
            events.append(Event(
                kind=self.kind, severity="medium" if zkind == "restricted" else "low", feed=ctx.feed,
                t_start_utc=utc_at(ctx, stay.since_s), t_end_utc=ctx.t_utc, frame_index=ctx.frame_index,
                track_ids=(person.track_id,), xy_px=person.foot, box_xyxy=person.xyxy,
                score=person.confidence, zone=zone,
                summary=f"person {person.track_id} stayed in {zone!r} ({zkind}) for {secs(dwell_s)}",
                details={"dwell_s": round(dwell_s, 2), "zone_kind": zkind},
            ))  # fmt: skip
        return events
