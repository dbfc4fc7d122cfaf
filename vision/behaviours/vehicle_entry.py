"""``vehicle_entry``: a person who had a hand at a parked car's door disappears right there (got in:
the car was unlocked). High severity when they had tried other cars first (``door_handle_trying``
that succeeded), medium otherwise (often the owner). Geometry: ``vision.behaviours.touch``.

A person "vanishes" when their track is not updated for ``vanish_s``. Trackers also lose people
behind obstacles, so it fires only when their last held touch ended at most ``last_touch_s`` before
they were last seen and their last foot point was beside that same vehicle. It does not fire when
the person was last seen at the edge of the picture (they walked out of view) or when the car
itself is no longer seen after them (the camera moved or cut to another scene: everyone "vanished").
Fires at most once per person track.
"""

from __future__ import annotations

from vision.behaviours._event_parts import union_box, utc_at, zone_at
from vision.behaviours.config import VehicleEntryConfig
from vision.behaviours.touch import (
    DEFAULT_GEOMETRY,
    ParkedVehicles,
    PersonTouches,
    TouchGeometry,
    TouchTracker,
    beside,
)
from vision.behaviours.types import Event, FrameContext

EDGE_FRAC = 0.01  # a box within 1 % of the frame's border touches the edge of the picture


class VehicleEntryRule:
    """One per feed. ``update(ctx)`` every analysed frame, in capture-time order."""

    kind = "vehicle_entry"

    def __init__(self, config: VehicleEntryConfig | None = None, geometry: TouchGeometry = DEFAULT_GEOMETRY) -> None:
        self.config = config or VehicleEntryConfig()
        self.geometry = geometry
        self._parked = ParkedVehicles(geometry)
        memory_s = max(self.config.prior_window_s, self.config.vanish_s + self.config.last_touch_s) + 1.0
        self._touches = TouchTracker(self.config.min_touch_s, memory_s, geometry)

    def update(self, ctx: FrameContext) -> list[Event]:
        if not self.config.enabled:
            return []
        parked = self._parked.update(ctx.t_s, ctx.detections)
        seen = self._touches.update(ctx.t_s, ctx.detections, parked)
        events = []
        for pid, st in self._touches.items():
            if pid in seen or ctx.t_s - st.last_seen_s < self.config.vanish_s:
                continue
            self._touches.forget(pid)  # decided once: fired or not
            event = self._judge(ctx, pid, st)
            if event is not None:
                events.append(event)
        return events

    def _judge(self, ctx: FrameContext, pid: int, st: PersonTouches) -> Event | None:
        cfg = self.config
        last = next((t for t in reversed(st.touches) if t.t_end_s >= st.last_seen_s - cfg.last_touch_s), None)
        if last is None or not beside(st.last_foot, st.last_h, last.vehicle_box, self.geometry):
            return None
        car_seen = self._parked.last_seen(last.vehicle_id)
        if car_seen is None or car_seen <= st.last_seen_s:
            return None  # the car went out of view with them: a camera move or cut, not someone getting in
        x0, y0, x1, y1 = (float(v) for v in st.last_box)
        mx, my = EDGE_FRAC * ctx.width, EDGE_FRAC * ctx.height
        if x0 <= mx or y0 <= my or x1 >= ctx.width - mx or y1 >= ctx.height - my:
            return None  # last seen at the edge of the picture: they walked out of view
        others = [v for v in st.vehicles_since(last.t_start_s - cfg.prior_window_s) if v != last.vehicle_id]
        vid = last.vehicle_id
        box = st.last_box
        foot = (float(box[0] + box[2]) / 2, float(box[3]))
        zone, _ = zone_at(ctx, foot)
        if others:
            summary = (f"person {pid} got into parked car {vid} after trying "
                       f"{len(others)} other car{'s' if len(others) > 1 else ''}")  # fmt: skip
        else:
            summary = f"person {pid} got into parked car {vid} after {last.held_s:.1f} s at its door"
        return Event(
            kind=self.kind,
            severity="high" if others else "medium",
            feed=ctx.feed,
            t_start_utc=utc_at(ctx, last.t_start_s),
            t_end_utc=ctx.t_utc,
            frame_index=ctx.frame_index,
            track_ids=(pid, vid),
            xy_px=foot,
            box_xyxy=union_box([box, last.vehicle_box]),
            score=0.8 if others else 0.55,
            zone=zone,
            summary=summary,
            details={"person_track_id": pid, "vehicle_track_id": vid, "other_vehicle_track_ids": others,
                     "held_s": round(last.held_s, 2), "last_seen_utc": utc_at(ctx, st.last_seen_s).isoformat(),
                     "gone_s": round(ctx.t_s - st.last_seen_s, 2)},
        )  # fmt: skip

    def __len__(self) -> int:
        """Tracks this rule holds state for (``BehaviourEngine.memory()``)."""
        return len(self._touches) + len(self._parked)
