"""Measurement helpers for ``lookout bench vision``: CPU/memory of a process tree, one measurement
window, the N ladders (full walk and ``--quick`` bracketing), and the weights both sides load."""

from __future__ import annotations

import argparse
import json
import math
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

SUSTAIN = 0.95  # a feed is sustained when it gets at least this share of the target fps

Row = dict[str, Any]


def tree_usage(pids: list[int], pss: bool = False) -> tuple[float, float]:
    """(CPU seconds, RSS MB) summed over ``pids`` (missing ones count 0). ``pss``: proportional set
    size instead (shared library pages split between the processes, so the sum is not inflated)."""
    import psutil

    cpu = mem = 0.0
    for pid in pids:
        try:
            p = psutil.Process(pid)
            t = p.cpu_times()
            cpu += t.user + t.system
            mem += (p.memory_full_info().pss if pss else p.memory_info().rss) / 2**20
        except psutil.Error:
            pass
    return cpu, mem


class Sampler:
    """Samples RSS (cheap) and, every ``pss_every``-th sample, PSS (reads smaps: ~15 ms CPU per big
    process, which would otherwise be billed to the measured tree) in the background."""

    def __init__(self, pids_fn: Callable[[], list[int]], every_s: float = 1.0, pss_every: int = 0) -> None:
        self.pids_fn, self.every_s, self.pss_every = pids_fn, every_s, pss_every
        self.peak_mb = 0.0  # RSS summed over the tree
        self.peak_pss_mb = 0.0
        self.series: list[tuple[float, float]] = []  # (s, PSS MB)
        self.rss_series: list[tuple[float, float]] = []  # (s, RSS MB)
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self._t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._t.join(2)

    def _run(self) -> None:
        t0 = time.monotonic()
        k = 0
        while not self._stop.is_set():
            pids = self.pids_fn()
            _, rss = tree_usage(pids)
            self.peak_mb = max(self.peak_mb, rss)
            self.rss_series.append((time.monotonic() - t0, rss))
            if self.pss_every and k % self.pss_every == 0:
                _, pss = tree_usage(pids, pss=True)
                self.peak_pss_mb = max(self.peak_pss_mb, pss)
                self.series.append((time.monotonic() - t0, pss))
            k += 1
            self._stop.wait(self.every_s)


def pose_weights() -> Path:
    from lookout.models import packaged_pose_weights

    return packaged_pose_weights()


def onnx_path(data_dir: Path, imgsz: int) -> Path:
    """The cached ONNX export of the packaged pose model (exported on first use)."""
    from vision.detect._ultralytics import export_onnx

    return export_onnx(pose_weights(), "pose", imgsz, data_dir / "models")


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope (MB per second) of (t_s, MB) samples."""
    if len(points) < 2:
        return 0.0
    mt = sum(t for t, _ in points) / len(points)
    mm = sum(m for _, m in points) / len(points)
    return sum((t - mt) * (m - mm) for t, m in points) / max(1e-9, sum((t - mt) ** 2 for t, _ in points))


def loadavg_1m() -> float | None:
    p = Path("/proc/loadavg")
    return float(p.read_text().split()[0]) if p.exists() else None


def window(counts_fn: Callable[[], dict[str, tuple[int, int]]], pids_fn: Callable[[], list[int]],
           warm_done_fn: Callable[[], bool], a: argparse.Namespace, n: int) -> Row:
    """Warm up, then measure per-feed counts, CPU and RSS over ``a.window_s``."""
    deadline = time.monotonic() + 180
    while not warm_done_fn():
        if time.monotonic() > deadline:
            return {"feeds": n, "error": "no results within 180 s", "sustained": False}
        time.sleep(0.1)
    time.sleep(a.warmup_s)
    c0, t0 = counts_fn(), time.monotonic()
    cpu0, _ = tree_usage(pids_fn())
    with Sampler(pids_fn) as s:
        time.sleep(a.window_s)
    c1, t1 = counts_fn(), time.monotonic()
    cpu1, _ = tree_usage(pids_fn())
    _, pss = tree_usage(pids_fn(), pss=True)  # once, after the CPU reading
    dt = t1 - t0
    per_feed = {k: round((c1[k][0] - c0.get(k, (0, 0))[0]) / dt, 2) for k in c1}
    detected = {k: round((c1[k][1] - c0.get(k, (0, 0))[1]) / dt, 2) for k in c1}
    frames = sum(c1[k][0] - c0.get(k, (0, 0))[0] for k in c1)
    cpu_per_frame = (cpu1 - cpu0) / max(1, frames)
    cores = os.cpu_count() or 1
    return {
        "feeds": n,
        "fps_per_feed": per_feed,
        "fps_min": min(per_feed.values()),
        "fps_mean": round(sum(per_feed.values()) / n, 2),
        "detected_fps_mean": round(sum(detected.values()) / n, 2),
        "total_fps": round(sum(per_feed.values()), 1),
        "cpu_pct": round(100 * (cpu1 - cpu0) / dt / cores, 1),
        "peak_rss_mb": round(s.peak_mb, 1),
        "peak_pss_mb": round(max(s.peak_pss_mb, pss), 1),
        "sustained": min(per_feed.values()) >= SUSTAIN * a.fps,
        # Load-independent capacity: CPU seconds per analysed frame -> feeds a dedicated machine could carry.
        "cpu_ms_per_frame": round(1000 * cpu_per_frame, 1),
        "projected_feeds": projected_feeds(1000 * cpu_per_frame, a.fps, cores),
        "loadavg_1m": loadavg_1m(),
    }


def projected_feeds(cpu_ms_per_frame: float | None, fps: float, cores: int) -> int:
    """Feeds at ``fps`` that ``cores`` idle cores could carry at this CPU cost per analysed frame."""
    if not cpu_ms_per_frame or cpu_ms_per_frame <= 0 or fps <= 0:
        return 0
    return int(cores / (cpu_ms_per_frame / 1000 * fps))


def two_misses(rows: list[Row]) -> bool:
    return len(rows) >= 2 and not rows[-1].get("sustained") and not rows[-2].get("sustained")


def next_feeds(rows: list[Row], fps: float, cores: int, n_max: int = 64, aim: float = 0.75) -> int | None:
    """``--quick``: the next N to try, or None when the sustained limit is bracketed (or ``n_max`` hit).

    Instead of walking 1, 2, 4, ... the CPU cost per frame measured at the largest N so far projects
    the capacity (for idle cores); the first step aims at ``aim`` x that projection (a shared machine
    never gives all of it), later steps climb by ~25 % while sustained, and once a miss is seen bisect between the
    largest sustained N and the smallest missed N above it."""
    tried = {int(r["feeds"]): bool(r.get("sustained")) for r in rows}
    lo = max((k for k, ok in tried.items() if ok), default=0)
    hi = min((k for k, ok in tried.items() if not ok and k > lo), default=None)
    if hi is not None:
        return None if hi - lo <= 1 else (lo + hi) // 2
    measured = [r for r in rows if r.get("cpu_ms_per_frame")]
    ref = max(measured, key=lambda r: r["feeds"]) if measured else None
    p = projected_feeds(ref["cpu_ms_per_frame"], fps, cores) if ref else 0
    target = round(aim * p)
    cand = target if target > lo else math.ceil(lo * 1.25)
    cand = min(max(cand, lo + 1), n_max)
    return None if cand in tried else cand


def ladder(measure: Callable[[int], Row], feeds: list[int], quick: bool, probe: int, tries: int,
           fps: float, cores: int, emit: Callable[[Row], None]) -> list[Row]:
    """Measure N values: ``feeds`` in order (stop after two misses), or with ``quick`` a probe at
    ``probe`` feeds then up to ``tries`` more chosen by ``next_feeds``. In ``quick`` mode a miss is
    measured once more before it counts (best of two windows: on a shared machine one window can
    catch another process's burst; both sides get the same second chance)."""
    out: list[Row] = []
    if not quick:
        for n in feeds:
            out.append(measure(n))
            emit(out[-1])
            if two_misses(out):
                break
        return out
    n: int | None = probe
    distinct = 0
    while n is not None and distinct <= tries:
        r = measure(n)
        emit(r)
        if not r.get("sustained"):
            r2 = measure(n)
            r2["retry"] = True
            emit(r2)
            out.append(r)
            r = r2
        out.append(r)
        distinct += 1
        n = next_feeds(_best_per_n(out), fps, cores)
    return out


def _best_per_n(rows: list[Row]) -> list[Row]:
    """One row per N: a sustained window if any, else the last (for ``next_feeds``)."""
    by_n: dict[int, Row] = {}
    for r in rows:
        if r.get("sustained") or not by_n.get(r["feeds"], {}).get("sustained"):
            by_n[r["feeds"]] = r
    return list(by_n.values())


def best(rows: list[Row]) -> Row | None:
    ok = [r for r in rows if r.get("sustained")]
    return max(ok, key=lambda r: r["feeds"]) if ok else None


def cpu_per_frame(rows: list[Row]) -> float | None:
    """Median CPU ms per analysed frame over the measured N values."""
    vals = sorted(r["cpu_ms_per_frame"] for r in rows if r.get("cpu_ms_per_frame"))
    return vals[len(vals) // 2] if vals else None


def emit(r: Row) -> None:
    """Hand one result to the orchestrator (it reads the role subprocess's stdout)."""
    print("RESULT " + json.dumps(r), flush=True)
