"""``door_handle_trying``: one person's hand at the doors of several different parked cars, one after
another (a thief looking for an unlocked one). Geometry: ``vision.behaviours.touch``.

Fires once per person when they have held touches on ``min_vehicles`` different parked vehicles
within ``window_s``; re-arms when that person has touched nothing for ``window_s``. Walking past
cars (hands pass the door band but the person keeps moving) and standing at one car (the owner) do
not fire. Parking zones are a hint only: the event names the zone and is a little surer in one.

**Door work at one car** (``single_car``): the same kind at **low** severity when one person's held
touches at one car's door are ``single_car_pulls`` separate pulls within ``single_car_window_s``, or
one touch held ``single_car_hold_s`` (working at a handle, not opening the door normally: an owner
opens it in one go and gets in or walks off). Reported once per person and car; the same person
at a second car still escalates to the high event, and getting in to ``vehicle_entry``.
"""

from __future__ import annotations

from vision.behaviours._event_parts import union_box, utc_at, zone_at
from vision.behaviours.config import DoorHandleConfig
from vision.behaviours.touch import DEFAULT_GEOMETRY, ParkedVehicles, PersonTouches, TouchGeometry, TouchTracker
from vision.behaviours.types import Event, FrameContext


class DoorHandleRule:
    """One per feed. ``update(ctx)`` every analysed frame, in capture-time order."""

    kind = "door_handle_trying"

    def __init__(self, config: DoorHandleConfig | None = None, geometry: TouchGeometry = DEFAULT_GEOMETRY) -> None:
        self.config = config or DoorHandleConfig()
        self._parked = ParkedVehicles(geometry)
        self._touches = TouchTracker(self.config.min_touch_s, self.config.window_s, geometry)
        self._fired: set[int] = set()  # people already reported (until their touches age out)
        self._worked: set[tuple[int, int]] = set()  # (person, vehicle) door work already reported

    def update(self, ctx: FrameContext) -> list[Event]:
        if not self.config.enabled:
            return []
        parked = self._parked.update(ctx.t_s, ctx.detections)
        seen = self._touches.update(ctx.t_s, ctx.detections, parked)
        since = ctx.t_s - self.config.window_s
        events = []
        for pid in list(self._fired):
            st = self._touches.get(pid)
            if st is None or not st.vehicles_since(since):
                self._fired.discard(pid)
        for pid in sorted(seen - self._fired):
            st = self._touches.get(pid)
            if st is None:
                continue
            vids = st.vehicles_since(since)
            if len(vids) >= self.config.min_vehicles:
                self._fired.add(pid)
                events.append(self._event(ctx, pid, st, vids, since))
            elif self.config.single_car and vids:
                events.extend(self._door_work(ctx, pid, st))
        self._worked = {(p, v) for p, v in self._worked if self._touches.get(p) is not None}
        return events

    def _door_work(self, ctx: FrameContext, pid: int, st: PersonTouches) -> list[Event]:
        """Low-severity door work at one car: repeated pulls, or one long hold."""
        cfg = self.config
        out = []
        since = ctx.t_s - cfg.single_car_window_s
        for vid in st.vehicles_since(since):
            if (pid, vid) in self._worked:
                continue
            mine = [t for t in st.touches if t.vehicle_id == vid and t.t_end_s >= since]
            longest = max(t.held_s for t in mine)
            if len(mine) < cfg.single_car_pulls and longest < cfg.single_car_hold_s:
                continue
            self._worked.add((pid, vid))
            box = st.last_box
            foot = (float(box[0] + box[2]) / 2, float(box[3]))
            zone, zone_kind = zone_at(ctx, foot)
            t0 = mine[0].t_start_s
            how = f"{len(mine)} pulls" if len(mine) >= cfg.single_car_pulls else f"a {longest:.0f}-s hold"
            out.append(Event(
                kind=self.kind, severity="low", feed=ctx.feed, t_start_utc=utc_at(ctx, t0), t_end_utc=ctx.t_utc,
                frame_index=ctx.frame_index, track_ids=(pid, vid), xy_px=foot,
                box_xyxy=union_box([box, mine[-1].vehicle_box]),
                score=0.45 + (0.05 if zone_kind == "parking" else 0.0), zone=zone,
                summary=f"person {pid} worked at the door of parked car {vid} ({how} in {ctx.t_s - t0:.0f} s)",
                details={"person_track_id": pid, "vehicle_track_ids": [vid], "vehicles": 1, "door_work": True,
                         "pulls": len(mine), "longest_hold_s": round(longest, 2), "span_s": round(ctx.t_s - t0, 2)},
            ))  # fmt: skip
        return out

    def _event(self, ctx: FrameContext, pid: int, st: PersonTouches, vids: list[int], since: float) -> Event:
        first = {}
        for t in st.touches:
            if t.t_end_s >= since and t.vehicle_id not in first:
                first[t.vehicle_id] = t
        t0 = min(t.t_start_s for t in first.values())
        span_s = ctx.t_s - t0
        box = st.last_box
        foot = (float(box[0] + box[2]) / 2, float(box[3]))
        zone, zone_kind = zone_at(ctx, foot)
        n = len(vids)
        score = min(0.95, 0.6 + 0.1 * (n - 1) + (0.05 if zone_kind == "parking" else 0.0))
        touches = [
            {"vehicle_track_id": vid, "t_start_utc": utc_at(ctx, first[vid].t_start_s).isoformat(),
             "at_s": round(first[vid].t_start_s - t0, 2), "held_s": round(first[vid].held_s, 2)}
            for vid in vids
        ]  # fmt: skip
        return Event(
            kind=self.kind,
            severity="high",
            feed=ctx.feed,
            t_start_utc=utc_at(ctx, t0),
            t_end_utc=ctx.t_utc,
            frame_index=ctx.frame_index,
            track_ids=(pid, *vids),
            xy_px=foot,
            box_xyxy=union_box([box, *(first[v].vehicle_box for v in vids)]),
            score=score,
            zone=zone,
            summary=f"person {pid} tried the doors of {n} parked cars in {span_s:.0f} s",
            details={"person_track_id": pid, "vehicle_track_ids": vids, "vehicles": n,
                     "span_s": round(span_s, 2), "touches": touches},
        )  # fmt: skip

    def __len__(self) -> int:
        """Tracks this rule holds state for (``BehaviourEngine.memory()``)."""
        return len(self._touches) + len(self._parked)
