"""Moving things on the ground for the simulated camera: cars driving the road grid, people walking.

Positions are metres (north, east) from the aerial map's centre and move in sim time, so the
video and the ground truth (``SimFrame.actors``) stay in step with the drone at any speedup.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from flight.sim.aerial import CAR_COLOURS, ROAD_SPACING_M, AerialMap


@dataclass(frozen=True, slots=True)
class Actor:
    """Something that moves along a closed ``path`` of (north, east) points at ``speed_m_s``."""

    kind: str  # "car" | "person"
    path: tuple[tuple[float, float], ...]
    speed_m_s: float
    colour: tuple[int, int, int]
    length_m: float = 4.5
    width_m: float = 1.9
    phase_m: float = 0.0

    def pose(self, t_s: float) -> tuple[float, float, float]:
        """(north, east, heading_rad) at sim time ``t_s``."""
        ends = self.path[1:] + self.path[:1]
        legs = [(a, b, math.hypot(b[0] - a[0], b[1] - a[1])) for a, b in zip(self.path, ends, strict=True)]
        total = sum(d for _a, _b, d in legs) or 1.0
        s = (self.phase_m + self.speed_m_s * t_s) % total
        for a, b, d in legs:
            if s <= d and d > 0:
                k = s / d
                return a[0] + (b[0] - a[0]) * k, a[1] + (b[1] - a[1]) * k, math.atan2(b[1] - a[1], b[0] - a[0])
            s -= d
        a = self.path[0]
        return a[0], a[1], 0.0


def default_traffic(aerial: AerialMap, cars: int = 8, people: int = 6, seed: int = 3) -> tuple[Actor, ...]:
    """Cars circling blocks near the centre (right-hand lane) and people walking in parking lots."""
    rng = np.random.default_rng(seed)
    half = min(aerial.size_m) / 2
    roads = [r for r in np.arange(-half + ROAD_SPACING_M / 2, half, ROAD_SPACING_M)]
    out: list[Actor] = []
    if len(roads) >= 2:
        for i in range(cars):
            j, k = int(rng.integers(0, len(roads) - 1)), int(rng.integers(0, len(roads) - 1))
            s, n0, n1, e0, e1 = 2.5, roads[j], roads[j + 1], roads[k], roads[k + 1]
            # right-hand traffic: clockwise just inside the block, anticlockwise just outside it
            loop = ((n0 + s, e0 + s), (n1 - s, e0 + s), (n1 - s, e1 - s), (n0 + s, e1 - s))
            if i % 2:
                loop = ((n0 - s, e0 - s), (n0 - s, e1 + s), (n1 + s, e1 + s), (n1 + s, e0 - s))
            colour = CAR_COLOURS[int(rng.integers(len(CAR_COLOURS)))]
            out.append(Actor("car", loop, float(rng.uniform(6, 12)), colour, phase_m=float(rng.uniform(0, 600))))
    lots = [(n, e) for n, e in aerial.lots] or [(0.0, 0.0)]
    for i in range(people):
        cn, ce = lots[i % len(lots)]
        w = float(rng.uniform(10, 40))
        loop = ((cn - w, ce - w), (cn - w, ce + w), (cn + w, ce + w), (cn + w, ce - w))
        colour = (int(rng.integers(20, 200)), int(rng.integers(20, 200)), int(rng.integers(20, 200)))
        out.append(Actor("person", loop, 1.4, colour, 0.5, 0.5, float(rng.uniform(0, 100))))
    return tuple(out)


def draw_actors(
    image: np.ndarray, H_ground: np.ndarray, actors: tuple[Actor, ...], t_s: float
) -> list[tuple[str, float, float, float, float]]:
    """Paint ``actors`` through the ground homography; returns visible ones as (kind, n, e, u, v)."""
    h, w = image.shape[:2]
    seen = []
    for a in actors:
        n, e, hd = a.pose(t_s)
        c, s = math.cos(hd), math.sin(hd)
        fwd, side = np.array([s, c]), np.array([c, -s])  # (east, north) of heading and of its right
        corners = [np.array([e, n]) + fwd * dl * a.length_m / 2 + side * dw * a.width_m / 2
                   for dl, dw in ((1, 1), (1, -1), (-1, -1), (-1, 1))]  # fmt: skip
        pts = np.array([[x, y, 1.0] for x, y in corners]) @ H_ground.T
        if (pts[:, 2] <= 1e-6).any():
            continue
        px = pts[:, :2] / pts[:, 2:3]
        if px[:, 0].max() < 0 or px[:, 1].max() < 0 or px[:, 0].min() >= w or px[:, 1].min() >= h:
            continue
        if a.kind == "person":
            centre = px.mean(axis=0)
            radius = max(1, round(np.linalg.norm(px[0] - px[2]) / 2.8))
            cv2.circle(image, (round(centre[0]), round(centre[1])), radius, a.colour, -1, cv2.LINE_AA)
        else:
            cv2.fillConvexPoly(image, np.round(px * 16).astype(np.int32), a.colour, cv2.LINE_AA, 4)
            front = [corners[0], corners[1], corners[1] - fwd * a.length_m * 0.25, corners[0] - fwd * a.length_m * 0.25]
            wp = np.array([[x, y, 1.0] for x, y in front]) @ H_ground.T
            cv2.fillConvexPoly(image, np.round(wp[:, :2] / wp[:, 2:3] * 16).astype(np.int32), (40, 30, 30),
                               cv2.LINE_AA, 4)  # fmt: skip
        centre = np.array([e, n, 1.0]) @ H_ground.T
        seen.append((a.kind, n, e, float(centre[0] / centre[2]), float(centre[1] / centre[2])))
    return seen
