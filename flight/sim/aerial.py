"""A georeferenced aerial image for the simulated camera: procedural (no downloads) or a user file.

``generate_aerial`` paints a plausible town block seen from above: grass with texture, a river
with a bridge, a road grid with lane markings, buildings, trees and parking lots full of parked
cars (coloured rectangles with windscreens) — enough for detectors and geolocation tests to have
something real to look at. Deterministic for a given ``seed``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from flight.sim.errors import SimConfigError
from missions.geo import LocalFrame

ROAD_SPACING_M = 150.0
CAR_COLOURS = (
    (40, 40, 200),
    (200, 200, 200),
    (30, 30, 30),
    (180, 90, 20),
    (20, 140, 230),
    (230, 230, 240),
    (60, 120, 60),
    (120, 120, 120),
)  # BGR


@dataclass(frozen=True)
class AerialMap:
    """``image`` (BGR uint8, north up) whose centre pixel is at ``center_lat``/``center_lon``."""

    image: np.ndarray
    center_lat: float
    center_lon: float
    m_per_px: float
    cars: tuple[tuple[float, float], ...] = ()  # parked car centres, metres (north, east) from the centre
    lots: tuple[tuple[float, float], ...] = ()  # parking lot centres, metres (north, east)

    @property
    def size_m(self) -> tuple[float, float]:
        h, w = self.image.shape[:2]
        return h * self.m_per_px, w * self.m_per_px

    def px_to_ne(self) -> np.ndarray:
        """3x3 matrix: aerial pixel (u, v, 1) -> ground (east, north, 1) metres from the centre."""
        h, w = self.image.shape[:2]
        s = self.m_per_px
        return np.array([[s, 0.0, -w / 2 * s], [0.0, -s, h / 2 * s], [0.0, 0.0, 1.0]])

    def offset_of(self, lat: float, lon: float) -> tuple[float, float]:
        """(north, east) metres of a point from the map centre."""
        east, north = LocalFrame(self.center_lat, self.center_lon).point_to_enu(lat, lon)
        return north, east

    @classmethod
    def from_file(cls, path: Path, north: float, south: float, east: float, west: float) -> AerialMap:
        """A user's north-up image covering the given bounds (degrees)."""
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise SimConfigError("aerial image", str(path), "give a readable PNG/JPEG file")
        if not (south < north and west < east):
            raise SimConfigError("aerial bounds", (north, south, east, west), "need south < north and west < east")
        lat, lon = (north + south) / 2, (east + west) / 2
        h_m = LocalFrame(south, lon).point_to_enu(north, lon)[1]
        w_m = LocalFrame(lat, west).point_to_enu(lat, east)[0]
        h, w = image.shape[:2]
        mpp = (h_m / h + w_m / w) / 2
        return cls(image, lat, lon, mpp)


def _m(v: float, mpp: float) -> int:
    return round(v / mpp)


def generate_aerial(center_lat: float, center_lon: float, size_m: float = 800.0, m_per_px: float = 0.25,
                    seed: int = 7) -> AerialMap:  # fmt: skip
    """Paint a ``size_m`` square town block around (center_lat, center_lon)."""
    if not 50 <= size_m <= 5000 or not 0.05 <= m_per_px <= 5:
        raise SimConfigError("aerial size", (size_m, m_per_px), "use 50..5000 m and 0.05..5 m/px")
    rng = np.random.default_rng(seed)
    n = _m(size_m, m_per_px)
    small = rng.integers(0, 40, size=(max(2, n // 16), max(2, n // 16), 1), dtype=np.uint8)
    noise = cv2.resize(small, (n, n), interpolation=cv2.INTER_LINEAR)[..., None]
    img = np.empty((n, n, 3), np.uint8)
    img[...] = (60, 120, 70)  # grass
    img = cv2.add(img, np.concatenate([noise // 3, noise, noise // 2], axis=2))
    c = n // 2

    def pt(north: float, east: float) -> tuple[int, int]:
        return c + _m(east, m_per_px), c - _m(north, m_per_px)

    # river: a sine running west-east, south of the centre
    xs = np.arange(0, n, 8)
    ys = (c + _m(120, m_per_px) + (np.sin(xs / n * 2 * math.pi * 1.5) * _m(40, m_per_px))).astype(np.int32)
    river = np.stack([xs, ys], axis=1).reshape(-1, 1, 2)
    cv2.polylines(img, [river], False, (110, 80, 40), _m(30, m_per_px), cv2.LINE_AA)
    cv2.polylines(img, [river], False, (130, 95, 50), _m(24, m_per_px), cv2.LINE_AA)
    # road grid every 150 m, 10 m wide, with dashed centre lines
    road = (75, 75, 80)
    half = size_m / 2
    for k in np.arange(-half + 75, half, 150):
        cv2.line(img, pt(k, -half), pt(k, half), road, _m(10, m_per_px))
        cv2.line(img, pt(-half, k), pt(half, k), road, _m(10, m_per_px))
    for k in np.arange(-half + 75, half, 150):
        for d in np.arange(-half, half, 6):
            cv2.line(img, pt(k, d), pt(k, d + 3), (230, 230, 230), max(1, _m(0.2, m_per_px)))
            cv2.line(img, pt(d, k), pt(d + 3, k), (230, 230, 230), max(1, _m(0.2, m_per_px)))
    cars: list[tuple[float, float]] = []
    lots: list[tuple[float, float]] = []
    # blocks between roads: buildings, a parking lot, trees
    for bn in np.arange(-half + 75, half - 75, 150):
        for be in np.arange(-half + 75, half - 75, 150):
            cn, ce = bn + 75, be + 75  # block centre
            kind = rng.random()
            if (abs(cn) < 80 and abs(ce) < 80) or kind < 0.3:
                _parking(img, pt, rng, cn, ce, m_per_px, cars)
                lots.append((float(cn), float(ce)))
            else:
                _buildings(img, pt, rng, cn, ce, m_per_px)
            for _ in range(12):
                tn, te = cn + rng.uniform(-62, 62), ce + rng.uniform(-62, 62)
                cv2.circle(img, pt(tn, te), _m(rng.uniform(2, 4), m_per_px), (40, 90, 45), -1, cv2.LINE_AA)
    return AerialMap(img, center_lat, center_lon, m_per_px, tuple(cars), tuple(lots))


def _buildings(img, pt, rng, cn, ce, mpp) -> None:
    for _ in range(int(rng.integers(2, 5))):
        bw, bh = rng.uniform(15, 40), rng.uniform(15, 40)
        n0, e0 = cn + rng.uniform(-55, 55 - bh), ce + rng.uniform(-55, 55 - bw)
        roof = tuple(int(x) for x in rng.choice([(90, 90, 150), (120, 120, 120), (70, 80, 110), (150, 150, 160)]))
        cv2.rectangle(img, pt(n0 + bh, e0), pt(n0, e0 + bw), roof, -1)
        cv2.rectangle(img, pt(n0 + bh, e0), pt(n0, e0 + bw), (40, 40, 50), max(1, round(0.6 / mpp)))
        cv2.line(img, pt(n0 + bh / 2, e0), pt(n0 + bh / 2, e0 + bw), (60, 60, 70), max(1, round(0.3 / mpp)))


def _parking(img, pt, rng, cn, ce, mpp, cars) -> None:
    cv2.rectangle(img, pt(cn + 60, ce - 60), pt(cn - 60, ce + 60), (95, 95, 100), -1)
    for row in range(-2, 3):
        rn = cn + row * 22
        for col in range(-10, 11):
            e = ce + col * 2.8
            cv2.line(img, pt(rn - 2.6, e - 1.4), pt(rn + 2.6, e - 1.4), (220, 220, 220), max(1, round(0.12 / mpp)))
            if rng.random() < 0.55:
                colour = CAR_COLOURS[int(rng.integers(len(CAR_COLOURS)))]
                cv2.rectangle(img, pt(rn + 2.3, e - 0.9), pt(rn - 2.3, e + 0.9), colour, -1)
                cv2.rectangle(img, pt(rn + 1.2, e - 0.8), pt(rn + 0.5, e + 0.8), (40, 30, 30), -1)  # windscreen
                cars.append((rn, e))
