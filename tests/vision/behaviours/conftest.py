"""Scripted scenes for the behaviour rules: tracked ``Detections`` over capture times, no model.

A ``Scene`` advances a capture clock at ``fps`` and turns each frame's objects into a tracked
``Detections`` plus a ``FrameContext`` (with a real ``TrackHistory``), the way the engine will.
People get plausible COCO keypoints (standing, arms hanging), with wrists and ankles overridable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from vision.behaviours.types import FrameContext
from vision.history import TrackHistory
from vision.types import CAR, PERSON, Detections

T0 = datetime(2026, 11, 23, 22, 0, tzinfo=UTC)
T0_S = T0.timestamp()


@dataclass(frozen=True)
class Obj:
    tid: int
    cls: int
    box: tuple[float, float, float, float]
    keypoints: np.ndarray | None = None  # (17, 3)


def person(
    tid: int, foot_x: float, foot_y: float, height: float = 120.0, *,
    left_wrist: tuple[float, float] | None = None, right_wrist: tuple[float, float] | None = None,
    left_ankle: tuple[float, float] | None = None, right_ankle: tuple[float, float] | None = None,
    wrist_conf: float = 0.9,
) -> Obj:  # fmt: skip
    """A standing person whose feet are at (foot_x, foot_y); limbs given in pixels override the defaults."""
    h, w = height, 0.35 * height
    top = foot_y - h
    kp = np.zeros((17, 3), np.float32)
    kp[:, 2] = 0.9
    kp[0, :2] = foot_x, top + 0.06 * h  # nose
    kp[1:5, :2] = [(foot_x - 0.03 * h, top + 0.05 * h), (foot_x + 0.03 * h, top + 0.05 * h),
                   (foot_x - 0.06 * h, top + 0.06 * h), (foot_x + 0.06 * h, top + 0.06 * h)]  # fmt: skip
    kp[5, :2], kp[6, :2] = (foot_x - 0.12 * h, top + 0.18 * h), (foot_x + 0.12 * h, top + 0.18 * h)  # shoulders
    kp[7, :2], kp[8, :2] = (foot_x - 0.14 * h, top + 0.33 * h), (foot_x + 0.14 * h, top + 0.33 * h)  # elbows
    kp[9, :2] = left_wrist or (foot_x - 0.15 * h, top + 0.48 * h)
    kp[10, :2] = right_wrist or (foot_x + 0.15 * h, top + 0.48 * h)
    kp[9:11, 2] = wrist_conf
    kp[11, :2], kp[12, :2] = (foot_x - 0.08 * h, top + 0.52 * h), (foot_x + 0.08 * h, top + 0.52 * h)  # hips
    kp[13, :2], kp[14, :2] = (foot_x - 0.07 * h, top + 0.75 * h), (foot_x + 0.07 * h, top + 0.75 * h)  # knees
    kp[15, :2] = left_ankle or (foot_x - 0.06 * h, foot_y - 0.03 * h)
    kp[16, :2] = right_ankle or (foot_x + 0.06 * h, foot_y - 0.03 * h)
    xs = np.concatenate([kp[:, 0], [foot_x - w / 2, foot_x + w / 2]])
    box = (float(xs.min()), top, float(xs.max()), foot_y)
    return Obj(tid, PERSON, box, kp)


def vehicle(tid: int, box: tuple[float, float, float, float], cls: int = CAR) -> Obj:
    return Obj(tid, cls, box)


def to_detections(objs: list[Obj]) -> Detections:
    """Tracked detections of these objects (vehicles get all-zero keypoints, as from the composite)."""
    if not objs:
        return Detections(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int32),
                          np.zeros(0, np.int64), np.zeros((0, 17, 3), np.float32))  # fmt: skip
    kps = np.stack([o.keypoints if o.keypoints is not None else np.zeros((17, 3), np.float32) for o in objs])
    return Detections(
        np.array([o.box for o in objs], np.float32), np.full(len(objs), 0.9, np.float32),
        np.array([o.cls for o in objs], np.int32), np.array([o.tid for o in objs], np.int64), kps,
    )  # fmt: skip


class Scene:
    """One feed's capture clock and track history. ``frame(objs)`` -> the FrameContext of the next frame."""

    def __init__(self, fps: float = 10.0, size: tuple[int, int] = (1280, 720), feed: str = "cam1",
                 zones: tuple = ()) -> None:  # fmt: skip
        self.fps, self.size, self.feed, self.zones = fps, size, feed, zones
        self.history = TrackHistory(maxlen=64, expire_s=10.0)
        self.index = -1

    @property
    def t_s(self) -> float:
        return T0_S + max(self.index, 0) / self.fps

    def frame(self, objs: list[Obj]) -> FrameContext:
        self.index += 1
        t_s = T0_S + self.index / self.fps
        det = to_detections(objs)
        self.history.update(t_s, det)
        t_utc = T0 + timedelta(seconds=self.index / self.fps)
        return FrameContext(self.feed, self.index, t_s, t_utc, self.size[0], self.size[1], det, self.history,
                            self.zones)  # fmt: skip

    def run(self, rule, frames) -> list:
        """Feed every frame (an iterable of object lists) to ``rule``; all events, in order."""
        return [e for objs in frames for e in rule.update(self.frame(objs))]


@pytest.fixture
def scene() -> Scene:
    return Scene()


# ---- a row of four parked cars and the people walking along it (1280x720, people 120 px tall) ----

CAR_IDS = (101, 102, 103, 104)
CAR_BOXES = {cid: (40.0 + 300 * i, 380.0, 330.0 + 300 * i, 480.0) for i, cid in enumerate(CAR_IDS)}
HANDLE_X = {cid: b[0] + 0.6 * (b[2] - b[0]) for cid, b in CAR_BOXES.items()}  # front door handle
FOOT_Y = 495.0  # on the pavement just in front of the cars' bottom edge
PERSON_H = 120.0
ROW_FPS = 10.0


def cars(hidden: tuple[int, ...] = ()) -> list[Obj]:
    return [vehicle(cid, box) for cid, box in CAR_BOXES.items() if cid not in hidden]


def walking(tid: int, x: float, t: float, y: float = FOOT_Y, swing: float = 1.0) -> Obj:
    """A walker with arms swinging (about one stride per second); their hands pass through the door band."""
    s = np.sin(2 * np.pi * t)
    lw = (x - 0.15 * PERSON_H + swing * 0.12 * PERSON_H * s, y - PERSON_H + 0.48 * PERSON_H - 0.04 * PERSON_H * s)
    rw = (x + 0.15 * PERSON_H - swing * 0.12 * PERSON_H * s, y - PERSON_H + 0.48 * PERSON_H + 0.04 * PERSON_H * s)
    return person(tid, x, y, PERSON_H, left_wrist=lw, right_wrist=rw)


def at_handle(tid: int, cid: int, t: float) -> Obj:
    """Standing at car ``cid``'s front door, right hand on the handle (wobbling a little: pulling)."""
    b = CAR_BOXES[cid]
    hx, hy = HANDLE_X[cid], b[1] + 0.42 * (b[3] - b[1]) + 2 * np.sin(7 * t)
    return person(tid, hx - 25 + 1.5 * np.sin(3 * t), FOOT_Y, PERSON_H, right_wrist=(hx, hy))


def hands_off(tid: int, cid: int, t: float) -> Obj:
    """At car ``cid``'s door between pulls: hands away from the handle (wrists not seen)."""
    return person(tid, HANDLE_X[cid] - 25 + 1.5 * np.sin(3 * t), FOOT_Y, PERSON_H, wrist_conf=0.1)


def going_in(tid: int, cid: int, k: int, n: int) -> Obj:
    """Step ``k`` of ``n`` of getting into car ``cid``: the legs go in first (ankles and knees no longer
    seen), the box ends inside the car's outline and shrinks as the torso ducks in."""
    b = CAR_BOXES[cid]
    f = (k + 1) / n
    foot_y = FOOT_Y - f * (FOOT_Y - (b[3] - 25))  # 495 -> 455, inside the car's box (bottom 480)
    height = PERSON_H * (1 - 0.45 * f)
    o = person(tid, HANDLE_X[cid] - 10, foot_y, height)
    kp = o.keypoints.copy()
    kp[13:17, 2] = 0.05  # knees and ankles hidden by the door / inside the car
    return Obj(o.tid, o.cls, o.box, kp)


def walk(tid: int, x0: float, x1: float, t0: float, speed: float, fps: float = ROW_FPS, y: float = FOOT_Y):
    """(t, Obj) frames walking from x0 to x1 at ``speed`` px/s starting at time t0."""
    n = max(1, int(abs(x1 - x0) / speed * fps))
    for k in range(n):
        t = t0 + k / fps
        yield t, walking(tid, x0 + (x1 - x0) * k / n, t, y)


def thief_script(tid: int = 7, tried: tuple[int, ...] = CAR_IDS, hold_s: float = 1.5, end: str = "walk_on",
                 occlude: bool = False, speed: float = 100.0, pulls: int = 1) -> list[list[Obj]]:  # fmt: skip
    """Frames: cars alone for 1 s, then a person walks along the row and stops at each car in ``tried``
    with a hand on its handle for ``hold_s`` (``pulls`` times, hands off for 0.6 s in between).
    ``end``: "walk_on" (along the pavement and out of view), "vanish" (gone right at the last car,
    standing beside it), "enter" (gets into the last car: legs first, box into its outline, then
    gone), "road" (walks out into the road, then gone), "stay" (the clip ends with them at the last
    car). ``occlude``: the touched car is not detected while the person stands in front of it."""
    frames: list[list[Obj]] = [cars() for _ in range(int(ROW_FPS))]
    t, x = 1.0, -60.0
    for cid in tried:
        target = HANDLE_X[cid] - 25
        for tt, p in walk(tid, x, target, t, speed):
            frames.append([*cars(), p])
            t = tt + 1 / ROW_FPS
        for pull in range(pulls):
            if pull:
                for _ in range(int(0.6 * ROW_FPS)):
                    frames.append([*cars((cid,) if occlude else ()), hands_off(tid, cid, t)])
                    t += 1 / ROW_FPS
            for _ in range(int(hold_s * ROW_FPS)):
                frames.append([*cars((cid,) if occlude else ()), at_handle(tid, cid, t)])
                t += 1 / ROW_FPS
        x = target
    if end == "enter":
        n = int(0.6 * ROW_FPS)
        frames += [[*cars((tried[-1],) if occlude else ()), going_in(tid, tried[-1], k, n)] for k in range(n)]
    if end == "walk_on":
        for _tt, p in walk(tid, x, 1400.0, t, speed):
            frames.append([*cars(), p])
    elif end == "road":
        n = int(2.5 * ROW_FPS)
        for k in range(n):  # diagonally down into the road, 250 px lower
            frames.append([*cars(), walking(tid, x + 4 * k, t + k / ROW_FPS, FOOT_Y + 250 * k / n)])
    if end in ("walk_on", "vanish", "road", "enter"):
        frames += [cars() for _ in range(int(4 * ROW_FPS))]  # long enough for vanish_s
    return frames


def walker_script(tid: int = 9, speed: float = 100.0, y: float = FOOT_Y) -> list[list[Obj]]:
    """Cars alone for 2.5 s, then someone walks the whole row without stopping."""
    frames: list[list[Obj]] = [cars() for _ in range(int(2.5 * ROW_FPS))]
    frames += [[*cars(), p] for _t, p in walk(tid, -60.0, 1400.0, 2.5, speed, y=y)]
    return frames


def owner_script(tid: int = 5, cid: int = 102, hold_s: float = 4.0, end: str = "vanish",
                 pulls: int = 1) -> list[list[Obj]]:  # fmt: skip
    """Someone walks to one car, stands at its door (unlocking, loading) for ``hold_s`` (``pulls``
    times), then gets in ("enter"), vanishes beside it ("vanish") or walks away ("walk_on")."""
    return thief_script(tid, (cid,), hold_s=hold_s, end=end, pulls=pulls)


@pytest.fixture
def row():
    """The car-row helpers as one namespace (conftest functions are not importable in importlib mode)."""

    class Row:
        pass

    ns = Row()
    for name, v in {"CAR_IDS": CAR_IDS, "CAR_BOXES": CAR_BOXES, "HANDLE_X": HANDLE_X, "FOOT_Y": FOOT_Y,
                    "PERSON_H": PERSON_H, "cars": cars, "walking": walking, "at_handle": at_handle,
                    "thief": thief_script, "walker": walker_script, "owner": owner_script,
                    "going_in": going_in, "hands_off": hands_off,
                    "person": person, "vehicle": vehicle,
                    "detections": to_detections, "T0": T0}.items():  # fmt: skip
        setattr(ns, name, v)
    return ns
