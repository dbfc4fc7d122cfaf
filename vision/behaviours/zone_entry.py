"""``zone_entry``: a person entering a ``kind = "restricted"`` zone (medium)."""

from __future__ import annotations

from vision.behaviours._common import drop_gone, people, zones_of_kind
from vision.behaviours.config import ZoneEntryConfig
from vision.behaviours.types import Event, FrameContext
from vision.zones import zone_of_points


class ZoneEntryRule:
    """Fires when a track is seen inside a restricted zone it was not inside at its previous sighting
    (a track first seen inside counts as entering)."""

    kind = "zone_entry"

    def __init__(self, config: ZoneEntryConfig | None = None) -> None:
        self.config = config or ZoneEntryConfig()
        self._where: dict[int, str | None] = {}  # track id -> restricted zone at its last sighting

    def __len__(self) -> int:
        return len(self._where)

    def update(self, ctx: FrameContext) -> list[Event]:
        drop_gone(self._where, ctx)
        restricted = zones_of_kind(ctx, "restricted")
        if not restricted:
            self._where.clear()
            return []
        found = people(ctx)
        names = zone_of_points(restricted, [p.foot for p in found]) if found else []
        events = []
        for person, zone in zip(found, names, strict=True):
            before = self._where.get(person.track_id)
            self._where[person.track_id] = zone
            if zone is None or zone == before:
                continue
            events.append(Event(
                kind=self.kind, severity="medium", feed=ctx.feed,
                t_start_utc=ctx.t_utc, t_end_utc=ctx.t_utc, frame_index=ctx.frame_index,
                track_ids=(person.track_id,), xy_px=person.foot, box_xyxy=person.xyxy,
                score=person.confidence, zone=zone,
                summary=f"person {person.track_id} entered restricted zone {zone!r}",
            ))  # fmt: skip
        return events
