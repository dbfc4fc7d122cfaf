"""``fight``: people close together moving their limbs fast, sustained ``min_duration_s``.

Per person and frame, **limb speed** = the fastest wrist or ankle keypoint (score >= 0.3 in both
frames), measured relative to the box centre (so walking or running past does not count, only limbs
moving against the body) over ~``ref_dt_s`` (a longer baseline than one frame keeps keypoint jitter
small at 25-30 fps), in the person's box heights per second (the same punch is the same number near
and far from the camera). A person is **active** above ``limb_speed``.

People are **close** when their boxes overlap or the gap between them is at most ``near`` x their
mean box height, and their heights differ less than 2x (not one far behind the other). Close people
form groups; a group is **fighting** in a frame when at least two of its members, and at least
``active_frac`` of them, are active. A person's fight time runs while they are in fighting groups
(gaps up to ``gap_s`` bridged); the rule fires when ``min_people`` members of a fighting group have
fight time >= ``min_duration_s``: medium for two people, high for three or more. Each person is
reported once until they stop fighting for ``gap_s``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vision.behaviours._event_parts import union_box, utc_at, zone_at
from vision.behaviours.config import FightConfig
from vision.behaviours.types import Event, FrameContext
from vision.history import TrackPoint
from vision.types import PERSON

LIMBS = (9, 10, 15, 16)  # wrists, ankles
MIN_KP_CONF = 0.3


def limb_speed(points: tuple[TrackPoint, ...], ref_dt_s: float, max_dt_s: float) -> float | None:
    """The fastest limb keypoint's speed relative to the box centre, in box heights per second, between
    the last point and the latest one at least ``ref_dt_s`` older (None when there is none or no limb
    keypoint is seen in both)."""
    if len(points) < 2:
        return None
    cur = points[-1]
    ref = next((p for p in reversed(points[:-1]) if cur.t_s - p.t_s >= ref_dt_s), None)
    if ref is None or cur.keypoints is None or ref.keypoints is None or cur.t_s - ref.t_s > max_dt_s:
        return None
    dt = cur.t_s - ref.t_s
    h = (float(cur.xyxy[3] - cur.xyxy[1]) + float(ref.xyxy[3] - ref.xyxy[1])) / 2
    if h <= 1:
        return None
    kc, kr = cur.keypoints[list(LIMBS)], ref.keypoints[list(LIMBS)]
    ok = (kc[:, 2] >= MIN_KP_CONF) & (kr[:, 2] >= MIN_KP_CONF)
    if not ok.any():
        return None
    cc = np.array([(cur.xyxy[0] + cur.xyxy[2]) / 2, (cur.xyxy[1] + cur.xyxy[3]) / 2])
    cr = np.array([(ref.xyxy[0] + ref.xyxy[2]) / 2, (ref.xyxy[1] + ref.xyxy[3]) / 2])
    d = np.linalg.norm((kc[ok, :2] - cc) - (kr[ok, :2] - cr), axis=1)
    return float(d.max()) / dt / h


def close_groups(boxes: np.ndarray, near: float) -> list[list[int]]:
    """Indices of ``boxes`` grouped by closeness (overlap or gap <= near x mean height, heights within 2x)."""
    n = len(boxes)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    h = boxes[:, 3] - boxes[:, 1]
    for i in range(n):
        for j in range(i + 1, n):
            if max(h[i], h[j]) > 2 * min(h[i], h[j]):
                continue
            dx = max(0.0, float(max(boxes[i, 0], boxes[j, 0]) - min(boxes[i, 2], boxes[j, 2])))
            dy = max(0.0, float(max(boxes[i, 1], boxes[j, 1]) - min(boxes[i, 3], boxes[j, 3])))
            if np.hypot(dx, dy) <= near * (h[i] + h[j]) / 2:
                parent[find(i)] = find(j)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(i)
    return list(groups.values())


@dataclass(slots=True)
class _Fighter:
    since_s: float
    last_s: float
    reported: bool = False


class FightRule:
    """One per feed. ``update(ctx)`` every analysed frame, in capture-time order."""

    kind = "fight"

    def __init__(self, config: FightConfig | None = None) -> None:
        self.config = config or FightConfig()
        self._fighters: dict[int, _Fighter] = {}

    def update(self, ctx: FrameContext) -> list[Event]:
        cfg = self.config
        if not cfg.enabled:
            return []
        now = ctx.t_s
        for pid in [p for p, f in self._fighters.items() if now - f.last_s > cfg.gap_s]:
            del self._fighters[pid]
        det = ctx.detections
        if det.tracker_id is None or det.keypoints is None:
            return []
        rows = np.flatnonzero(det.class_id == PERSON)
        if len(rows) < cfg.min_people:
            return []
        ids = det.tracker_id[rows].astype(np.int64)
        boxes = det.xyxy[rows].astype(np.float32)
        speeds = [limb_speed(ctx.history.get(int(pid)), cfg.ref_dt_s, cfg.ref_dt_s * 4) for pid in ids]
        active = np.array([s is not None and s >= cfg.limb_speed for s in speeds])
        events = []
        for group in close_groups(boxes, cfg.near):
            n_active = int(active[group].sum())
            if len(group) < 2 or n_active < 2 or n_active < cfg.active_frac * len(group):
                continue
            for g in group:
                f = self._fighters.get(int(ids[g]))
                if f is None:
                    self._fighters[int(ids[g])] = _Fighter(now, now)
                else:
                    f.last_s = now
            fighters = [g for g in group if now - self._fighters[int(ids[g])].since_s >= cfg.min_duration_s]
            if len(fighters) < cfg.min_people or all(self._fighters[int(ids[g])].reported for g in fighters):
                continue
            for g in fighters:
                self._fighters[int(ids[g])].reported = True
            events.append(self._event(ctx, [int(ids[g]) for g in fighters], boxes[fighters], speeds, fighters))
        return events

    def _event(self, ctx: FrameContext, pids: list[int], boxes: np.ndarray, speeds: list, rows: list[int]) -> Event:
        t0 = min(self._fighters[p].since_s for p in pids)
        box = union_box(boxes)
        foot = ((box[0] + box[2]) / 2, box[3])
        zone, _ = zone_at(ctx, foot)
        n = len(pids)
        fast = [round(float(speeds[r]), 2) for r in rows if speeds[r] is not None]
        score = min(0.95, 0.5 + 0.1 * n + 0.05 * (max(fast, default=0.0) / self.config.limb_speed - 1))
        return Event(
            kind=self.kind,
            severity="high" if n >= 3 else "medium",
            feed=ctx.feed,
            t_start_utc=utc_at(ctx, t0),
            t_end_utc=ctx.t_utc,
            frame_index=ctx.frame_index,
            track_ids=tuple(pids),
            xy_px=foot,
            box_xyxy=box,
            score=max(0.3, score),
            zone=zone,
            summary=f"{n} people fighting for {ctx.t_s - t0:.1f} s",
            details={"people": n, "person_track_ids": pids, "duration_s": round(ctx.t_s - t0, 2),
                     "limb_speed_h_per_s": fast},
        )  # fmt: skip

    def __len__(self) -> int:
        """Tracks this rule holds state for (``BehaviourEngine.memory()``)."""
        return len(self._fighters)
