"""``lookout bench plan``: coverage planning speed vs a naive sweep, and tour quality vs a thorough reference.

1. Coverage of a ~2 km² polygon with a hole (the real ``plan_coverage``: angle search, strip clipping,
   cells, mission items) against a naive baseline on the same polygon: a fixed 0-degree sweep whose
   lanes are found by testing points every 2 m for polygon membership one by one. Reports p50/p95 and
   the speed ratio, plus the flight time of both paths (the naive one does not choose its angle).
2. 50-point patrol loop (+ home): ``tsp.solve`` (nearest neighbour + 2-opt + Or-opt) against a
   reference = best of many random restarts of 2-opt + Or-opt, in the same run; the gap must be < 5 %.
   Small instances are also checked against the exact Held-Karp optimum.
"""

from __future__ import annotations

import argparse
import math
import os
import time
from pathlib import Path

import numpy as np
from shapely import affinity
from shapely.geometry import MultiLineString, Point, Polygon

from missions.geo import LocalFrame
from missions.planners import tsp
from missions.planners.common import PlanOptions, to_lonlat
from missions.planners.coverage import plan_coverage


def test_polygon() -> Polygon:
    """~2 km² irregular area (metres) with a pond hole."""
    shell = [(0, 0), (1800, -150), (2000, 550), (1600, 1050), (900, 950), (300, 1150), (-150, 650)]
    hole = [(900, 400), (1150, 380), (1200, 600), (950, 650)]
    return Polygon(shell, [hole])


def naive_coverage(poly: Polygon, spacing: float, step: float = 2.0) -> list[tuple[float, float]]:
    """Fixed-angle sweep; each lane's segments found by per-point contains() tests every ``step`` m."""
    minx, miny, maxx, maxy = poly.bounds
    pts: list[tuple[float, float]] = []
    y = miny + spacing / 2
    flip = False
    while y < maxy:
        xs = np.arange(minx, maxx + step, step)
        inside = [poly.contains(Point(x, y)) for x in xs]
        runs, start = [], None
        for x, ok in zip(xs, inside, strict=True):
            if ok and start is None:
                start = x
            elif not ok and start is not None:
                runs.append((start, x - step))
                start = None
        if start is not None:
            runs.append((start, xs[-1]))
        lane = [(a, y) for r in runs for a in r]
        pts.extend(lane[::-1] if flip else lane)
        flip = not flip
        y += spacing
    return pts


def _pct(ts: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(ts) * 1000, q))


def _time(fn, runs: int, warmup: int = 2) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def _path_time(pts: list[tuple[float, float]], speed: float, turn_s: float) -> float:
    p = np.asarray(pts, dtype=float)
    d = np.diff(p, axis=0)
    d = d[np.hypot(d[:, 0], d[:, 1]) > 1e-6]
    a = np.arctan2(d[:, 1], d[:, 0])
    turns = int((np.abs((np.diff(a) + np.pi) % (2 * np.pi) - np.pi) > math.radians(30)).sum())
    return float(np.hypot(d[:, 0], d[:, 1]).sum()) / speed + turns * turn_s


def bench_coverage(runs: int) -> bool:
    frame = LocalFrame(52.52, 13.40)
    poly = test_polygon()
    area_ll = to_lonlat(frame, poly)
    opts = PlanOptions(alt_m=60.0, home=frame.point_to_geo(-200.0, -200.0))
    width, _ = opts.camera.footprint_m(opts.alt_m)
    spacing = width * (1 - opts.side_overlap)
    real = _time(lambda: plan_coverage(area_ll, opts), runs)
    naive = _time(lambda: naive_coverage(poly, spacing), max(3, runs // 5), warmup=1)
    res = plan_coverage(area_ll, opts)
    hframe = LocalFrame(*opts.home)  # type: ignore[misc]
    real_pts = [hframe.point_to_enu(it.lat_deg, it.lon_deg) for it in res.mission.items if it.command == 16]
    shift = np.subtract(hframe.point_to_enu(*frame.point_to_geo(0.0, 0.0)), (0.0, 0.0))
    naive_pts = [(x + shift[0], y + shift[1]) for x, y in naive_coverage(poly, spacing)]
    real_t = _path_time([(0.0, 0.0), *real_pts], opts.speed_m_s, opts.turn_penalty_s)
    naive_t = _path_time([(0.0, 0.0), *naive_pts], opts.speed_m_s, opts.turn_penalty_s)
    print(f"coverage of {poly.area / 1e6:.2f} km² (1 hole), alt {opts.alt_m:.0f} m, lane spacing {spacing:.1f} m")
    print(f"  real  (angle search + strips + cells + items): p50 {_pct(real, 50):7.2f} ms  p95 {_pct(real, 95):7.2f} ms"
          f"  -> {len(res.mission)} items, sweep {res.summary.sweep_angle_deg:.0f} deg, "
          f"coverage {res.summary.coverage_pct:.1f}%")
    lanes = MultiLineString([naive_pts[i:i + 2] for i in range(0, len(naive_pts) - 1, 2)])
    naive_cov = 100 * lanes.buffer(width / 2, cap_style="square").intersection(
        affinity.translate(poly, *shift)).area / poly.area
    print(f"  naive (fixed 0 deg, per-point clipping):       p50 {_pct(naive, 50):7.2f} ms"
          f"  p95 {_pct(naive, 95):7.2f} ms  -> coverage {naive_cov:.1f}% (lanes clipped at their centre line)")
    print(f"  speed ratio naive/real (p50): {_pct(naive, 50) / _pct(real, 50):.1f}x;"
          f" path time home->last lane: real {real_t / 60:.1f} min, naive {naive_t / 60:.1f} min"
          f" ({len(real_pts)} vs {len(naive_pts)} waypoints)")
    strip = affinity.rotate(Polygon([(0, 0), (4000, 0), (4000, 500), (0, 500)]), 35, origin=(0, 0))
    strip_ll = to_lonlat(frame, strip)
    best = plan_coverage(strip_ll, opts)
    fixed = plan_coverage(strip_ll, PlanOptions(alt_m=opts.alt_m, home=opts.home, sweep_angle_deg=0.0))
    print(f"  angle choice on a 2 km² strip at 35 deg: chosen {best.summary.sweep_angle_deg:.0f} deg -> "
          f"{best.summary.flight_time_s / 60:.1f} min, {len(best.mission)} items; fixed 0 deg -> "
          f"{fixed.summary.flight_time_s / 60:.1f} min, {len(fixed.mission)} items")
    ok = _pct(real, 50) < 100.0
    print(f"  target p50 < 100 ms: {'PASS' if ok else 'FAIL'}")
    return ok


def bench_tour(n: int, starts: int, seeds: int) -> bool:
    ok = True
    print(f"{n}-point loop + home: nearest neighbour + 2-opt + Or-opt vs best of {starts} random-restart "
          "2-opt + Or-opt (reference)")
    for seed in range(seeds):
        xy = np.random.default_rng(seed).uniform(0, 4000, (n + 1, 2))
        d = tsp.distance_matrix(xy)
        t = time.perf_counter()
        tour = tsp.solve(xy)
        t_fast = time.perf_counter() - t
        t = time.perf_counter()
        ref = tsp.multistart(xy, starts, seed=seed + 100)
        t_ref = time.perf_counter() - t
        a, b = tsp.tour_length(tour, d), tsp.tour_length(ref, d)
        nn = tsp.tour_length(tsp.nearest_neighbour(d), d)
        gap = 100 * (a / b - 1)
        ok &= gap < 5.0
        print(f"  seed {seed}: tour {a / 1000:.2f} km in {t_fast * 1000:.0f} ms; reference {b / 1000:.2f} km in "
              f"{t_ref:.1f} s; gap {gap:+.2f}% (NN alone {100 * (nn / b - 1):+.1f}%) {'PASS' if gap < 5 else 'FAIL'}")
    xy = np.random.default_rng(99).uniform(0, 4000, (11, 2))
    exact, _ = tsp.held_karp(xy)
    mine = tsp.tour_length(tsp.solve(xy), tsp.distance_matrix(xy))
    print(f"  11 nodes vs exact Held-Karp: {100 * (mine / exact - 1):+.2f}%")
    return ok


def main(argv: list[str], data_dir: Path) -> int:
    ap = argparse.ArgumentParser(prog="lookout bench plan", description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=30, help="timed coverage runs (after warm-up)")
    ap.add_argument("--points", type=int, default=50)
    ap.add_argument("--starts", type=int, default=60, help="random restarts for the reference tour")
    ap.add_argument("--seeds", type=int, default=3, help="tour instances")
    args = ap.parse_args(argv)
    print(f"cores: {os.cpu_count()}")
    ok = bench_coverage(args.runs)
    ok = bench_tour(args.points, args.starts, args.seeds) and ok
    return 0 if ok else 1
