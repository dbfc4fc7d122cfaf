"""``fight``: people close together with fast limb motion, sustained ``min_duration_s``.

Per person and frame, **limb speed** = how far their faster-moving wrist swept against the
torso (shoulders/hips centre) within the last ``window_s`` (the diagonal of the box its positions
span), in the person's box heights, per second of the window. Measuring the sweep of positions
relative to the torso, rather than frame-to-frame speed, keeps pose-keypoint jitter and walking
or running past from counting: only hands moving a long way against the body (punches, grabs,
shoves, blows with a stick) do. A person is **active** at ``limb_speed`` or more.

People are **close** when their boxes overlap or the gap between them is at most ``near`` x their
mean box height, and their heights differ less than 2x (not one far behind the other). Close people
form groups; a group is **fighting** in a frame when at least one member, and at least
``active_frac`` of them, is active. The fight's clock starts half a window before the first active
frame (the sweep happened within the window) but not before the person was first seen; people who
join, or a track re-identified under a new id, inherit the group's start; pauses up to ``gap_s``
are bridged. It fires when a fighting group of ``min_people`` or more has fought for
``min_duration_s``: medium for two people, high for three or more; those people are reported once
until they stop for ``gap_s``.

Ankles were measured too: on the footage they changed no result, and a walking stride sweeps an
ankle ~0.4 box heights against the hips, right at the threshold, so they are left out. Requiring
*both* people to be active (as first planned) lost most real fights: the victim is often
half hidden, on the ground or keypoint-less. Thresholds were tuned on the 2-s clips of
``../shared/footage`` (see README.md for the per-clip table).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vision.behaviours._event_parts import union_box, utc_at, zone_at
from vision.behaviours.config import FightConfig
from vision.behaviours.types import Event, FrameContext
from vision.history import TrackPoint
from vision.types import PERSON

LIMBS = (9, 10)  # wrists (ankles: see the module docstring)
TORSO = (5, 6, 11, 12)  # shoulders, hips
MIN_KP_CONF = 0.3


def limb_swing(points: tuple[TrackPoint, ...], window_s: float, now_s: float) -> float | None:
    """How far the most-moving wrist or ankle travelled against the torso in the last ``window_s``:
    the diagonal of the box its positions (relative to the shoulders/hips centre, in box heights)
    span; None with fewer than 3 usable points. Jitter of a still or walking person stays small; a
    punch, kick, grab or shove sweeps a limb across a large part of the body."""
    recent = []
    for p in reversed(points):
        if now_s - p.t_s > window_s:
            break
        if p.keypoints is not None:
            recent.append(p)
    if len(recent) < 3:
        return None
    kps = np.stack([p.keypoints for p in recent])  # (n, 17, 3)
    h = np.array([float(p.xyxy[3] - p.xyxy[1]) for p in recent])
    torso = kps[:, list(TORSO)]
    tok = torso[:, :, 2] >= MIN_KP_CONF
    use = tok.any(axis=1) & (h > 1)
    if use.sum() < 3:
        return None
    centre = (torso[use, :, :2] * tok[use, :, None]).sum(axis=1) / tok[use].sum(axis=1)[:, None]
    limbs = kps[use][:, list(LIMBS)]
    rel = (limbs[:, :, :2] - centre[:, None, :]) / h[use, None, None]
    best = None
    for j in range(len(LIMBS)):
        ok = limbs[:, j, 2] >= MIN_KP_CONF
        if ok.sum() >= 3:
            xy = rel[ok, j]
            ext = float(np.hypot(*(xy.max(axis=0) - xy.min(axis=0))))
            best = ext if best is None else max(best, ext)
    return best


def close_groups(boxes: np.ndarray, near: float) -> list[list[int]]:
    """Indices of ``boxes`` grouped by closeness (overlap or gap <= near x mean height, heights within 2x)."""
    n = len(boxes)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    b = np.asarray(boxes, np.float64)
    h = b[:, 3] - b[:, 1]
    dx = np.maximum(0.0, np.maximum(b[:, None, 0], b[None, :, 0]) - np.minimum(b[:, None, 2], b[None, :, 2]))
    dy = np.maximum(0.0, np.maximum(b[:, None, 1], b[None, :, 1]) - np.minimum(b[:, None, 3], b[None, :, 3]))
    close = np.hypot(dx, dy) <= near * (h[:, None] + h[None, :]) / 2
    close &= np.maximum(h[:, None], h[None, :]) <= 2 * np.minimum(h[:, None], h[None, :])
    for i, j in zip(*np.nonzero(np.triu(close, 1)), strict=True):
        parent[find(int(i))] = find(int(j))
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
        tracks = [ctx.history.get(int(pid)) for pid in ids]
        speeds = [None if (e := limb_swing(pts, cfg.window_s, now)) is None else e / cfg.window_s for pts in tracks]
        active = np.array([s is not None and s >= cfg.limb_speed for s in speeds])
        first_seen = [pts[0].t_s if pts else now for pts in tracks]
        events = []
        for group in close_groups(boxes, cfg.near):
            n_active = int(active[group].sum())
            if len(group) < 2 or n_active < 1 or n_active < cfg.active_frac * len(group):
                continue
            pids = [int(ids[g]) for g in group]
            # the group fights since its longest-fighting member did: people joining it, or a track
            # re-identified under a new id mid-fight, inherit the fight's start
            # (a first active frame means the sweep began within the last window: count half of it)
            start = max(now - cfg.window_s / 2, min(first_seen[g] for g in group if active[g]))
            since = min([start] + [self._fighters[p].since_s for p in pids if p in self._fighters])
            for p in pids:
                f = self._fighters.setdefault(p, _Fighter(since, now))
                f.since_s, f.last_s = since, now
            if len(group) < cfg.min_people or now - since < cfg.min_duration_s:
                continue
            if all(self._fighters[p].reported for p in pids):
                continue
            for p in pids:
                self._fighters[p].reported = True
            events.append(self._event(ctx, pids, boxes[group], speeds, group))
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
