"""``vehicle_entry``: a person who had a hand at a parked car's door goes into it (the car was unlocked).
High severity when they had tried other cars first (``door_handle_trying`` that succeeded), medium
otherwise (often the owner). Geometry: ``vision.behaviours.touch``.

**Going in, as people see it** (``require_inside``, the default): after a held touch, within
``enter_window_s`` of it, the person is seen for ``min_inside_s`` with the body in the car's outline
(``entering``): the box ends above the car's bottom edge (the legs went in first or are hidden by
the door), no ankle is seen, and at least ``inside_frac`` of the box lies inside the car's box;
and this is a change, not how they stood all along: at the door their feet were seen at or below
the car's bottom edge (they stood on the camera's side), or their box has shrunk below 0.85 x its
height at the door (ducking in). Then they are gone for ``enter_vanish_s`` without coming out.
With ``require_inside = false`` vanishing beside the car for ``vanish_s`` after a touch is enough
(the older rule). With ``require_door_work`` (default) it fires only after door work at that car
(``door_work_pulls`` separate held touches or one held ``door_work_hold_s``) or tries at other
cars: an owner who opens their car in one go and gets in stays quiet.

**Not an entry**: the person was last seen at the edge of the picture (walked out of view); the
car itself is not seen after them (the camera moved away); a **cut** right after they were last
seen (at least 60 % of the two or more people in view ended at the same frame: a jump cut or a
scene change ends every track at once, whatever the cached vehicle boxes say). Decided once per
person track.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

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
from vision.types import PERSON

EDGE_FRAC = 0.01  # a box within 1 % of the frame's border touches the edge of the picture
CUT_FRAC = 0.6  # this share of the people in view ending at one frame is a cut
ANKLES = (15, 16)


@dataclass(slots=True)
class _Going:
    """A person's body seen going into one car after touching it."""

    vehicle_id: int
    door_h: float  # box height at the door (during the touch)
    near_side: bool  # feet seen at/below the car's bottom edge at the door
    first_t: float | None = None  # first entering frame
    last_t: float | None = None  # last entering frame
    shrunk: bool = False


class VehicleEntryRule:
    """One per feed. ``update(ctx)`` every analysed frame, in capture-time order."""

    kind = "vehicle_entry"

    def __init__(self, config: VehicleEntryConfig | None = None, geometry: TouchGeometry = DEFAULT_GEOMETRY) -> None:
        self.config = config or VehicleEntryConfig()
        self.geometry = geometry
        self._parked = ParkedVehicles(geometry)
        memory_s = max(self.config.prior_window_s, self.config.vanish_s + self.config.last_touch_s,
                       self.config.enter_window_s + self.config.enter_vanish_s) + 1.0  # fmt: skip
        self._touches = TouchTracker(self.config.min_touch_s, memory_s, geometry)
        self._going: dict[int, _Going] = {}
        self._prev_people: set[int] = set()
        self._prev_t: float | None = None
        self._cuts: deque[float] = deque(maxlen=32)  # capture times of frames that were cuts

    def update(self, ctx: FrameContext) -> list[Event]:
        if not self.config.enabled:
            return []
        cfg = self.config
        parked = self._parked.update(ctx.t_s, ctx.detections)
        seen = self._touches.update(ctx.t_s, ctx.detections, parked)
        self._note_cut(ctx.t_s, seen)
        self._watch_going(ctx, parked)
        events = []
        for pid, st in self._touches.items():
            if pid in seen:
                continue
            going = self._going.get(pid)
            entered = going is not None and going.first_t is not None and (
                going.last_t - going.first_t >= cfg.min_inside_s and (going.near_side or going.shrunk)
            )
            wait = cfg.enter_vanish_s if entered else cfg.vanish_s
            if ctx.t_s - st.last_seen_s < wait:
                continue
            self._touches.forget(pid)  # decided once: fired or not
            self._going.pop(pid, None)
            if cfg.require_inside and not entered:
                continue
            event = self._judge(ctx, pid, st, entered)
            if event is not None:
                events.append(event)
        for pid in [p for p in self._going if self._touches.get(p) is None]:
            del self._going[pid]
        return events

    @property
    def cuts(self) -> tuple[float, ...]:
        """Capture times (s) of the recent frames judged a cut (most people in view ended at once)."""
        return tuple(self._cuts)

    def _note_cut(self, t_s: float, seen: set[int]) -> None:
        prev = self._prev_people
        if len(prev) >= 2 and len(prev - seen) >= CUT_FRAC * len(prev):
            self._cuts.append(t_s)
        self._prev_people, self._prev_t = seen, t_s

    def _cut_after(self, last_seen_s: float) -> bool:
        """The first frame after ``last_seen_s`` was a cut."""
        later = [t for t in self._cuts if t > last_seen_s]
        return bool(later) and min(later) - last_seen_s <= 0.5

    def _watch_going(self, ctx: FrameContext, parked: dict[int, np.ndarray]) -> None:
        """For people who touched a car recently: is their body going into its outline this frame?"""
        det, cfg, g = ctx.detections, self.config, self.geometry
        if det.tracker_id is None:
            return
        for i in np.flatnonzero(det.class_id == PERSON):
            pid = int(det.tracker_id[i])
            st = self._touches.get(pid)
            if st is None or not st.touches:
                continue
            last = st.touches[-1]
            if ctx.t_s - last.t_end_s > cfg.enter_window_s:
                continue
            box = det.xyxy[i].astype(np.float32)
            kps = None if det.keypoints is None else det.keypoints[i]
            vb = parked.get(last.vehicle_id, last.vehicle_box)
            h = float(box[3] - box[1])
            ankles = kps is not None and bool((kps[list(ANKLES), 2] >= g.min_kp_conf).any())
            going = self._going.get(pid)
            if going is None or going.vehicle_id != last.vehicle_id:
                going = self._going[pid] = _Going(last.vehicle_id, h, False)
            m = 0.1 * going.door_h
            ix = max(0.0, min(float(box[2]), float(vb[2]) + m) - max(float(box[0]), float(vb[0]) - m))
            iy = max(0.0, min(float(box[3]), float(vb[3]) + m) - max(float(box[1]), float(vb[1]) - m))
            inside = ix * iy / max(h * float(box[2] - box[0]), 1e-6)
            in_outline = float(box[3]) <= float(vb[3]) - 0.05 * going.door_h and not ankles
            if in_outline and inside >= cfg.inside_frac:
                going.first_t = ctx.t_s if going.first_t is None else going.first_t
                going.last_t = ctx.t_s
                going.shrunk = going.shrunk or h < 0.85 * going.door_h
            elif ctx.t_s <= last.t_end_s + 1e-6:  # at the door, touching: how they stand there
                going.door_h = max(going.door_h, h)
                going.near_side = going.near_side or (ankles and float(box[3]) >= float(vb[3]) - 0.05 * h)
            elif going.first_t is not None and ankles and float(box[3]) > float(vb[3]):
                going.first_t = going.last_t = None  # came back out, standing beside the car again

    def _judge(self, ctx: FrameContext, pid: int, st: PersonTouches, entered: bool) -> Event | None:
        cfg = self.config
        if self._cut_after(st.last_seen_s):
            return None  # every track ended at once: a jump cut or a scene change, not someone getting in
        if entered:
            last = st.touches[-1]
        else:
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
        horizon = last.t_start_s - cfg.prior_window_s
        here = [t for t in st.touches if t.vehicle_id == last.vehicle_id and t.t_end_s >= horizon]
        worked = len(here) >= cfg.door_work_pulls or max(t.held_s for t in here) >= cfg.door_work_hold_s
        if cfg.require_door_work and not (worked or others):
            return None  # opened in one go and got in: the owner
        vid = last.vehicle_id
        box = st.last_box
        foot = (float(box[0] + box[2]) / 2, float(box[3]))
        zone, _ = zone_at(ctx, foot)
        if others:
            summary = (f"person {pid} got into parked car {vid} after trying "
                       f"{len(others)} other car{'s' if len(others) > 1 else ''}")  # fmt: skip
        else:
            summary = f"person {pid} got into parked car {vid} after {len(here)} tries at its door"
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
                     "gone_s": round(ctx.t_s - st.last_seen_s, 2), "seen_going_in": entered,
                     "door_touches": len(here)},
        )  # fmt: skip

    def __len__(self) -> int:
        """Tracks this rule holds state for (``BehaviourEngine.memory()``)."""
        return len(self._touches) + len(self._parked) + len(self._going)
