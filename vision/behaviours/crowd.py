"""``crowd``: at least ``min_people`` people in one group for ``min_duration_s`` (medium).

Two people are linked when their foot points are closer than ``link_heights`` x the mean of their
box heights (a distance that scales with how far from the camera they stand); a group is a
connected set of linked people.

A whole-frame pass sees a dense crowd as a few people. When a tiled pass (``vision.crowd``) ran on a
frame (``FrameContext.crowd``), its largest group stands for the crowd for ``tiled_hold_s`` (the pass
runs at ~1 Hz): the rule counts whichever group is larger, the tracked one or the tiled one. Without
tiled counts the rule is unchanged.
"""

from __future__ import annotations

import numpy as np

from vision.behaviours._common import Person, people, secs, union_box, utc_at
from vision.behaviours.config import CrowdConfig
from vision.behaviours.types import Event, FrameContext
from vision.types import PERSON, Detections
from vision.zones import zone_of_points


def groups(found: list[Person], link_heights: float) -> list[list[Person]]:
    """People grouped by foot-point distance relative to their box heights, largest group first."""
    n = len(found)
    if n == 0:
        return []
    feet = np.array([p.foot for p in found], np.float64)
    heights = np.array([max(p.height_px, 1.0) for p in found], np.float64)
    dist = np.linalg.norm(feet[:, None, :] - feet[None, :, :], axis=2)
    limit = link_heights * (heights[:, None] + heights[None, :]) / 2
    linked = dist <= limit
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in zip(*np.nonzero(np.triu(linked, 1)), strict=True):
        parent[root(int(i))] = root(int(j))
    out: dict[int, list[Person]] = {}
    for i, p in enumerate(found):
        out.setdefault(root(i), []).append(p)
    return sorted(out.values(), key=len, reverse=True)


def untracked_people(det: Detections) -> list[Person]:
    """The people rows of ``det`` (a tiled pass: no tracker ids; ``track_id`` is -1)."""
    out = []
    for i in np.flatnonzero(det.class_id == PERSON):
        x1, y1, x2, y2 = (float(v) for v in det.xyxy[i])
        out.append(Person(-1, (x1, y1, x2, y2), ((x1 + x2) / 2, y2), float(det.confidence[i])))
    return out


def inside(found: list[Person], box: tuple[float, float, float, float]) -> list[Person]:
    """The people of ``found`` whose foot point lies in ``box``."""
    return [p for p in found if box[0] <= p.foot[0] <= box[2] and box[1] <= p.foot[1] <= box[3]]


class CrowdRule:
    """Fires once per crowd episode; the episode ends when no large group was seen for ``gap_s``."""

    kind = "crowd"

    def __init__(self, config: CrowdConfig | None = None) -> None:
        self.config = config or CrowdConfig()
        self._since_s: float | None = None  # the current episode started then
        self._last_s = 0.0  # a large group was last seen then
        self._fired = False
        self._tiled: tuple[float, list[Person]] | None = None  # the last tiled pass: capture time, largest group

    def __len__(self) -> int:
        return 0 if self._since_s is None else 1

    def update(self, ctx: FrameContext) -> list[Event]:
        cfg = self.config
        found = people(ctx)
        group = groups(found, cfg.link_heights)[0] if len(found) >= cfg.min_people else []
        tiled = self._tiled_group(ctx)
        counted = "tracked"
        if len(tiled) > len(group):  # the tiled pass sees the crowd the whole-frame pass undercounts
            counted, group = "tiled", tiled
        if len(group) < cfg.min_people:
            if self._since_s is not None and ctx.t_s - self._last_s > cfg.gap_s:
                self._since_s, self._fired = None, False
            return []
        if self._since_s is None:
            self._since_s = ctx.t_s
        self._last_s = ctx.t_s
        held_s = ctx.t_s - self._since_s
        if self._fired or held_s < cfg.min_duration_s:
            return []
        self._fired = True
        box = union_box([p.xyxy for p in group])
        tracks = sorted(p.track_id for p in (inside(found, box) if counted == "tiled" else group))
        cx = float(np.mean([p.foot[0] for p in group]))
        cy = float(np.mean([p.foot[1] for p in group]))
        zone = zone_of_points(ctx.zones, [(cx, cy)])[0] if ctx.zones else None
        where = f" at {zone!r}" if zone else ""
        return [Event(
            kind=self.kind, severity="medium", feed=ctx.feed,
            t_start_utc=utc_at(ctx, self._since_s), t_end_utc=ctx.t_utc, frame_index=ctx.frame_index,
            track_ids=tuple(tracks), xy_px=(cx, cy), box_xyxy=box,
            score=float(np.mean([p.confidence for p in group])), zone=zone,
            summary=f"crowd of {len(group)} people{where} for {secs(held_s)}",
            details={"people": len(group), "held_s": round(held_s, 2), "counted": counted},
        )]  # fmt: skip

    def _tiled_group(self, ctx: FrameContext) -> list[Person]:
        """The largest group of the newest tiled pass, while it is at most ``tiled_hold_s`` old (else [])."""
        if ctx.crowd is not None:
            found = untracked_people(ctx.crowd)
            self._tiled = (ctx.t_s, groups(found, self.config.link_heights)[0] if found else [])
        if self._tiled is None or not 0.0 <= ctx.t_s - self._tiled[0] <= self.config.tiled_hold_s:
            return []
        return self._tiled[1]
