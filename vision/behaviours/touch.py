"""Parked vehicles and "a person's hand at a car door": the geometry the door-handle and vehicle-entry
rules share (one definition, so both rules agree on what a touch is).

**Parked vehicle.** A car, bus or truck track whose box centre stays within ``still_move`` x its box
width of where it settled for ``still_s`` seconds. Its *settled* box (the first box of the still
run) is the one used afterwards: the low-rate vehicle detector repeats boxes for seconds, and a
person standing in front of a car would otherwise shrink or shift a fresh box. It stops being parked
when its centre moves ``unpark_move`` x its width away (drives off), and is forgotten when unseen for
``keep_s`` (it may be hidden behind the person trying its door, so it is kept while out of view).

**Door-handle band** of a parked vehicle box ``(x1, y1, x2, y2)``, height ``h``::

      y1 ┌──────────────┐             roof (and, from an elevated camera, the roof seen from above)
         │              │
  y1+.30h│┄┄┄┄┄┄┄┄┄┄┄┄┄┄│┐  band  handles sit in the middle third of the side; the band is shifted
         │   handles    ││ + m    down a little because an elevated CCTV view adds the roof to the
  y1+.75h│┄┄┄┄┄┄┄┄┄┄┄┄┄┄│┘        top of the box, pushing the side (and its handles) lower
      y2 └──────────────┘  wheels

grown by ``m = margin`` x the *person's* box height on every side (a hand is a fraction of a body
at any distance from the camera). A **touch frame**: a wrist keypoint (9 or 10, score >=
``min_kp_conf``) inside that band, and the person's foot point (ankles' x when seen, else the
box's; the box's bottom y) within ``foot_above``/``foot_below`` x person height of the vehicle's
bottom edge and within its x-range +- ``foot_side`` x person height: the person stands beside the
car, not far behind it with a raised hand overlapping it in the image. When no ankle is seen and the
box ends above where the shoulders and hips put the feet (legs hidden behind the car: someone at its
far side), the feet are estimated from the torso (``stance``). When several cars qualify, the one
whose bottom edge is nearest the feet (same depth) wins.

A **touch** is touch frames of one person on one vehicle held ``min_touch_s`` (gaps up to ``gap_s``
bridged: keypoints drop out), while the foot point stays within ``max_shift`` x person height of
where it began. Someone walking past with hanging or swinging arms keeps moving, so their touch
restarts at every step and never lasts; someone trying a handle stops.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from vision.types import CAR, PERSON, TRUCK, Detections

DOOR_VEHICLE_CLASSES = (CAR, TRUCK)  # bicycles and motorcycles have no doors; people wait at bus doors all day
WRISTS = (9, 10)
SHOULDERS = (5, 6)
HIPS = (11, 12)
ANKLES = (15, 16)


@dataclass(frozen=True, slots=True)
class TouchGeometry:
    """Sizes are fractions of the vehicle box height (band) or of the person's box height (the rest)."""

    band_top: float = 0.30
    band_bottom: float = 0.75
    margin: float = 0.10
    foot_above: float = 0.30
    foot_below: float = 0.25
    foot_side: float = 0.25
    min_kp_conf: float = 0.30
    max_shift: float = 0.15
    gap_s: float = 0.40
    still_s: float = 2.0
    still_move: float = 0.15
    unpark_move: float = 0.50
    keep_s: float = 15.0


DEFAULT_GEOMETRY = TouchGeometry()


def _centre(b: np.ndarray) -> tuple[float, float]:
    return float(b[0] + b[2]) / 2, float(b[1] + b[3]) / 2


@dataclass(slots=True)
class _Vehicle:
    anchor: np.ndarray  # settled box
    anchor_t: float
    last_t: float
    parked: bool = False


class ParkedVehicles:
    """Per feed: which vehicle tracks are parked, with their settled boxes. ``update`` once per frame."""

    def __init__(self, geometry: TouchGeometry = DEFAULT_GEOMETRY) -> None:
        self.geometry = geometry
        self._vehicles: dict[int, _Vehicle] = {}

    def update(self, t_s: float, detections: Detections) -> dict[int, np.ndarray]:
        """Feed this frame's detections; return {vehicle track id: settled xyxy} of the parked ones."""
        g = self.geometry
        if detections.tracker_id is not None and len(detections):
            is_vehicle = np.isin(detections.class_id, DOOR_VEHICLE_CLASSES)
            for i in np.flatnonzero(is_vehicle):
                vid, box = int(detections.tracker_id[i]), detections.xyxy[i].astype(np.float32)
                v = self._vehicles.get(vid)
                if v is None:
                    self._vehicles[vid] = _Vehicle(box.copy(), t_s, t_s)
                    continue
                v.last_t = t_s
                (ax, ay), (bx, by) = _centre(v.anchor), _centre(box)
                moved = float(np.hypot(bx - ax, by - ay)) / max(float(v.anchor[2] - v.anchor[0]), 1.0)
                if moved > (g.unpark_move if v.parked else g.still_move):
                    v.anchor, v.anchor_t, v.parked = box.copy(), t_s, False
                elif not v.parked and t_s - v.anchor_t >= g.still_s:
                    v.parked = True
        for vid in [vid for vid, v in self._vehicles.items() if t_s - v.last_t > g.keep_s]:
            del self._vehicles[vid]
        return {vid: v.anchor for vid, v in self._vehicles.items() if v.parked}

    def last_seen(self, vehicle_id: int) -> float | None:
        """Capture time the vehicle track was last seen (None: unknown or forgotten)."""
        v = self._vehicles.get(vehicle_id)
        return None if v is None else v.last_t

    def __len__(self) -> int:
        return len(self._vehicles)


def stance(box: np.ndarray, keypoints: np.ndarray | None, min_conf: float) -> tuple[float, float, float]:
    """(foot x, foot y, person height) of a person: the ankles' mean x when seen (stable while arms
    reach out), the box's bottom y and height. With no ankle seen and the box cut short of what the
    shoulders and hips imply (legs hidden behind a car), the feet are estimated as hip + 1.75 x the
    shoulder-to-hip drop (leg ~0.53, torso ~0.30 of a body), so someone at the far side of a car
    still stands "beside" it."""
    x, y, top = float(box[0] + box[2]) / 2, float(box[3]), float(box[1])
    if keypoints is None:
        return x, y, y - top
    ank = keypoints[list(ANKLES)]
    ok = ank[:, 2] >= min_conf
    if ok.any():
        return float(ank[ok, 0].mean()), y, y - top
    sh, hp = keypoints[list(SHOULDERS)], keypoints[list(HIPS)]
    sok, hok = sh[:, 2] >= min_conf, hp[:, 2] >= min_conf
    if sok.any() and hok.any():
        hip_y = float(hp[hok, 1].mean())
        drop = hip_y - float(sh[sok, 1].mean())
        est = hip_y + 1.75 * drop
        if drop > 0 and est > y + 0.1 * (y - top):
            return float(hp[hok, 0].mean()), est, est - top
    return x, y, y - top


def beside(foot: tuple[float, float], person_h: float, vehicle_box: np.ndarray, g: TouchGeometry) -> bool:
    """The foot point stands at the vehicle: near its bottom edge and within its x-range (plus tolerances)."""
    fx, fy = foot
    x1, _, x2, y2 = (float(v) for v in vehicle_box)
    side = g.foot_side * person_h
    return (y2 - g.foot_above * person_h <= fy <= y2 + g.foot_below * person_h) and (x1 - side <= fx <= x2 + side)


def touched_vehicle(
    box: np.ndarray, keypoints: np.ndarray | None, parked: dict[int, np.ndarray], g: TouchGeometry = DEFAULT_GEOMETRY
) -> int | None:
    """The parked vehicle whose door-handle band holds one of this person's wrists this frame, or None."""
    if keypoints is None or not parked:
        return None
    ids = np.fromiter(parked, np.int64, len(parked))
    return _touched(box, keypoints, ids, np.stack([parked[int(v)] for v in ids]).astype(np.float32), g)


def _touched(box: np.ndarray, keypoints: np.ndarray, ids: np.ndarray, vb: np.ndarray, g: TouchGeometry) -> int | None:
    wrists = keypoints[list(WRISTS)]
    wrists = wrists[wrists[:, 2] >= g.min_kp_conf]
    fx, fy, person_h = stance(box, keypoints, g.min_kp_conf)
    if person_h <= 1 or not len(wrists):
        return None
    m, side = g.margin * person_h, g.foot_side * person_h
    vh = vb[:, 3] - vb[:, 1]
    ok = (vb[:, 3] - g.foot_above * person_h <= fy) & (fy <= vb[:, 3] + g.foot_below * person_h)
    ok &= (vb[:, 0] - side <= fx) & (fx <= vb[:, 2] + side)
    if not ok.any():
        return None
    top, bottom = vb[:, 1] + g.band_top * vh - m, vb[:, 1] + g.band_bottom * vh + m
    wx, wy = wrists[:, 0:1], wrists[:, 1:2]  # (k, 1) against (n,)
    inside = ((wx >= vb[:, 0] - m) & (wx <= vb[:, 2] + m) & (wy >= top) & (wy <= bottom)).any(axis=0)
    ok &= inside
    if not ok.any():
        return None
    cand = np.flatnonzero(ok)
    return int(ids[cand[np.argmin(np.abs(vb[cand, 3] - fy))]])


@dataclass(slots=True)
class Touch:
    """One held touch: a person's hand at one parked vehicle's door from ``t_start_s`` to ``t_end_s``."""

    vehicle_id: int
    t_start_s: float
    t_end_s: float
    vehicle_box: np.ndarray  # settled box of the vehicle

    @property
    def held_s(self) -> float:
        return self.t_end_s - self.t_start_s


@dataclass(slots=True)
class _Pending:
    vehicle_id: int
    t_start_s: float
    t_last_s: float
    foot: tuple[float, float]
    touch: Touch | None = None  # set once held long enough


@dataclass(slots=True)
class PersonTouches:
    """What one person did at parked vehicles; ``touches`` oldest first."""

    last_seen_s: float
    last_box: np.ndarray
    last_foot: tuple[float, float]
    last_h: float  # person height (estimated when the legs are hidden)
    touches: list[Touch] = field(default_factory=list)
    pending: _Pending | None = None

    def vehicles_since(self, t_s: float) -> list[int]:
        """Distinct vehicles touched (held) since ``t_s``, in the order first touched."""
        out: list[int] = []
        for t in self.touches:
            if t.t_end_s >= t_s and t.vehicle_id not in out:
                out.append(t.vehicle_id)
        return out


class TouchTracker:
    """Per feed: held touches per person. Only people who have touched a parked car get state, and
    touches older than ``memory_s`` and people unseen for ``memory_s`` are dropped (bounded memory)."""

    def __init__(self, min_touch_s: float, memory_s: float, geometry: TouchGeometry = DEFAULT_GEOMETRY) -> None:
        self.min_touch_s = min_touch_s
        self.memory_s = memory_s
        self.geometry = geometry
        self._people: dict[int, PersonTouches] = {}

    def update(self, t_s: float, detections: Detections, parked: dict[int, np.ndarray]) -> set[int]:
        """Feed one frame; return the ids of the people in it (touching or not)."""
        g = self.geometry
        seen: set[int] = set()
        if detections.tracker_id is not None and len(detections):
            ids = np.fromiter(parked, np.int64, len(parked))
            vb = np.stack([parked[int(v)] for v in ids]).astype(np.float32) if parked else None
            for i in np.flatnonzero(detections.class_id == PERSON):
                pid, box = int(detections.tracker_id[i]), detections.xyxy[i]
                kps = None if detections.keypoints is None else detections.keypoints[i]
                seen.add(pid)
                vid = None if vb is None or kps is None else _touched(box, kps, ids, vb, g)
                st = self._people.get(pid)
                if st is None and vid is None:
                    continue
                fx, fy, person_h = stance(box, kps, g.min_kp_conf)
                foot = (fx, fy)
                if st is None:
                    st = self._people[pid] = PersonTouches(t_s, box.copy(), foot, person_h)
                st.last_seen_s, st.last_box, st.last_foot, st.last_h = t_s, box.copy(), foot, person_h
                self._advance(st, t_s, vid, foot, person_h, parked)
        self._prune(t_s)
        return seen

    def _advance(
        self, st: PersonTouches, t_s: float, vid: int | None, foot: tuple[float, float], person_h: float,
        parked: dict[int, np.ndarray],
    ) -> None:  # fmt: skip
        p, g = st.pending, self.geometry
        if vid is None:
            if p is not None and t_s - p.t_last_s > g.gap_s:
                st.pending = None
            return
        shift = np.inf if p is None else float(np.hypot(foot[0] - p.foot[0], foot[1] - p.foot[1]))
        if p is None or p.vehicle_id != vid or t_s - p.t_last_s > g.gap_s or shift > g.max_shift * person_h:
            p = st.pending = _Pending(vid, t_s, t_s, foot)
        p.t_last_s = t_s
        if p.t_last_s - p.t_start_s >= self.min_touch_s:
            if p.touch is None:
                p.touch = Touch(vid, p.t_start_s, t_s, parked[vid].copy())
                st.touches.append(p.touch)
            p.touch.t_end_s = t_s

    def _prune(self, t_s: float) -> None:
        horizon = t_s - self.memory_s
        for pid in list(self._people):
            st = self._people[pid]
            if st.last_seen_s < horizon:
                del self._people[pid]
                continue
            while st.touches and st.touches[0].t_end_s < horizon:
                st.touches.pop(0)

    def get(self, person_id: int) -> PersonTouches | None:
        return self._people.get(person_id)

    def forget(self, person_id: int) -> None:
        self._people.pop(person_id, None)

    def items(self) -> Iterator[tuple[int, PersonTouches]]:
        return iter(list(self._people.items()))

    def __len__(self) -> int:
        return len(self._people)
