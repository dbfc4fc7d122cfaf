"""``lookout bench vision --rates``: rule-aware frame rates (``vision.rates``) against the fixed-rate
pipeline and the naive loop, on real clips, with the events each produces compared.

Each clip is played (looped to ``--loop-s`` seconds, the same frames for every side) through the real
chain: the configured composite detector (pose + parked vehicles), ByteTrack and the behaviour
rules with their defaults, twice:

- **fixed**: every feed analysed at ``--fps`` (what the scheduler does without ``rates``);
- **rules**: the rate each second from ``vision.rates.RatePolicy`` (full at a person near a vehicle or a
  tight group, low for people in open space, idle with no one).

Measured per side: analysed frames per second of video and CPU ms per analysed frame (process time of
detect + track). Feeds that fit = cores x 1000 / (CPU ms per second of video, the mean over clips): the
scheduler keeps one worker per core busy, so this is what its EDF loop fits (motion gating is not applied here: on calm
footage both sides gain from it alike). The naive loop (``YOLO(pose .pt).track`` on every frame of a
``--fps`` stream) is timed on the first clip's frames the same way. Events: every event of the fixed
run must appear in the rules run with the same kind within 0.5 s (recall), extra ones are counted.
The report names the CPU and its instruction sets (``benchmarks.bench_vision_cpu``).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.bench_vision_cpu import cpu_info, cpu_line

T0 = datetime(2026, 1, 1, tzinfo=UTC)
MATCH_S = 0.5


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lookout bench vision --rates", description=__doc__.split("\n\n")[0])
    p.add_argument("--rates", action="store_true", help="this benchmark")
    p.add_argument("--clips", default="footage", help="paths, or footage / footage:fight / footage:nofight")
    p.add_argument("--clip", type=Path, help="one clip")
    p.add_argument("--quick", action="store_true", help="at most 8 clips, looped to 8 s; naive timed on 8 frames")
    p.add_argument("--fps", type=float, default=5.0, help="the fixed (full) analysed rate per feed")
    p.add_argument("--imgsz", type=int, default=320, help="detector input size")
    p.add_argument("--loop-s", type=float, default=None, help="play each clip looped to this long (16; quick 8)")
    p.add_argument("--max-clips", type=int, default=None, help="at most this many clips (quick: 8)")
    p.add_argument("--no-naive", action="store_true", help="skip timing the naive loop")
    p.add_argument("--json", type=Path, help="also write the numbers to this JSON file")
    return p


def _frames(clip: Path, loop_s: float) -> tuple[list[np.ndarray], float]:
    from vision.eval import EvalError, read_clip

    try:
        frames, fps = read_clip(clip)
    except EvalError:  # cannot be opened: skipped like an empty clip
        return [], 25.0
    if not frames:
        return [], fps
    n = max(len(frames), round(loop_s * fps))
    return [frames[i % len(frames)] for i in range(n)], fps


def run_side(frames: list[np.ndarray], native_fps: float, fps: float, detector: Any, key: str,
             rates: Any | None) -> dict[str, Any]:  # fmt: skip
    """One pass: analyse at ``fps`` (or as ``rates`` decides); events, analysed frames, CPU per frame."""
    from vision.behaviours import BehaviourEngine, RulesConfig
    from vision.rates import RatePolicy
    from vision.track import Tracker

    policy = RatePolicy(rates) if rates is not None else None
    tracker, engine = Tracker("bytetrack"), BehaviourEngine(key, RulesConfig())
    events: list[tuple[str, float]] = []
    cpu, levels = [], {"full": 0, "low": 0, "idle": 0}
    due, cur = 0.0, fps
    for i, img in enumerate(frames):
        t = i / native_fps
        if t + 1e-6 < due:
            continue
        c0 = time.process_time()
        det = detector.detect([img], feeds=[key], t_mono=[t])[0]
        tracked = tracker.update(det, img)
        cpu.append(time.process_time() - c0)
        h, w = img.shape[:2]
        events += [(e.kind, (e.t_end_utc - T0).total_seconds()) for e in engine.update(i, T0 + timedelta(seconds=t), w,
                                                                                      h, tracked)]  # fmt: skip
        if policy is not None:
            cur = policy.update(key, tracked, t, fps)
            levels[policy.level(key)] += 1
        else:
            levels["full"] += 1
        due = max(due + 1.0 / cur, t) if policy is None else t + 1.0 / cur
    duration = len(frames) / native_fps
    return {"analysed": len(cpu), "duration_s": duration, "analysed_fps": len(cpu) / duration,
            "ms_per_frame": 1000 * sum(cpu) / len(cpu) if cpu else 0.0, "cpu_ms_per_s": 1000 * sum(cpu) / duration,
            "events": events, "levels": levels}  # fmt: skip


def match_events(ref: list[tuple[str, float]], got: list[tuple[str, float]]) -> tuple[int, int]:
    """(reference events found in ``got`` with the same kind within MATCH_S, extra events in ``got``)."""
    free = list(got)
    found = 0
    for kind, t in ref:
        best = min((g for g in free if g[0] == kind and abs(g[1] - t) <= MATCH_S), key=lambda g: abs(g[1] - t),
                   default=None)  # fmt: skip
        if best is not None:
            free.remove(best)
            found += 1
    return found, len(free)


def naive_ms(frames: list[np.ndarray], imgsz: int, n: int) -> float:
    """CPU ms per frame of ``YOLO(pose .pt).track(frame, persist=True)`` (the Ultralytics multi-stream loop)."""
    from ultralytics import YOLO

    from lookout.models import packaged_pose_weights

    model = YOLO(str(packaged_pose_weights()))
    model.track(frames[0], persist=True, imgsz=imgsz, verbose=False)  # load + warm up
    cpu = []
    for img in frames[1 : n + 1]:
        c0 = time.process_time()
        model.track(img, persist=True, imgsz=imgsz, verbose=False)
        cpu.append(time.process_time() - c0)
    return 1000 * statistics.median(cpu)


def feeds_fit(cores: int, ms: float, fps: float) -> float:
    return cores * 1000.0 / (ms * fps) if ms > 0 and fps > 0 else 0.0


def main(argv: list[str], data_dir: Path) -> int:
    from benchmarks.vision_summary import ClipListError, parse_clips
    from lookout.config import LookoutConfig
    from lookout.models import prepare_offline_env
    from lookout.wiring import detector_factory
    from vision.rates import RatesConfig

    a = _parser().parse_args(argv)
    loop_s = a.loop_s or (8.0 if a.quick else 16.0)
    try:
        clips = [a.clip] if a.clip else parse_clips(a.clips)
    except ClipListError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    clips = clips[: a.max_clips or (8 if a.quick else len(clips))]
    prepare_offline_env(data_dir / "ultralytics")
    info = cpu_info()
    cores = info["cores"]
    print(f"lookout bench vision --rates: {len(clips)} clip(s) looped to {loop_s:g} s, fixed {a.fps:g} fps vs "
          f"rule-aware, imgsz {a.imgsz}")  # fmt: skip
    print(cpu_line(info))
    # ours runs as the video wall's workers run it: one thread, ONNX Runtime without spin-waiting
    # (its default spins one thread per core, doubling the CPU per frame on 2 cores)
    import cv2

    from vision.detect._ultralytics import limit_onnxruntime_threads

    cv2.setNumThreads(1)
    limit_onnxruntime_threads(1)
    detector = detector_factory(LookoutConfig(), data_dir, a.imgsz)()
    rows = []
    naive = None
    print(f"{'clip':44} {'fixed fps':>9} {'rules fps':>9} {'ms/s fix':>8} {'ms/s rul':>8} {'events':>6} "
          f"{'recall':>6} {'extra':>5}  levels full/low/idle")  # fmt: skip
    for clip in clips:
        frames, native = _frames(clip, loop_s)
        if not frames:
            print(f"{clip.name[:44]:44} unreadable, skipped")
            continue
        fixed = run_side(frames, native, a.fps, detector, f"{clip.stem}-fixed", None)
        rules = run_side(frames, native, a.fps, detector, f"{clip.stem}-rules", RatesConfig())
        found, extra = match_events(fixed["events"], rules["events"])
        n_ev = len(fixed["events"])
        recall = found / n_ev if n_ev else 1.0
        lv = rules["levels"]
        print(f"{clip.name[:44]:44} {fixed['analysed_fps']:9.2f} {rules['analysed_fps']:9.2f} "
              f"{fixed['cpu_ms_per_s']:8.1f} {rules['cpu_ms_per_s']:8.1f} {n_ev:6d} {recall:6.2f} {extra:5d}  "
              f"{lv['full']}/{lv['low']}/{lv['idle']}")  # fmt: skip
        rows.append({"clip": str(clip), "fixed": fixed, "rules": rules, "recall": recall, "found": found,
                     "extra": extra})  # fmt: skip
        if naive is None and not a.no_naive:
            naive = naive_ms(frames, a.imgsz, 8 if a.quick else 30)
    if not rows:
        print("no readable clips", file=sys.stderr)
        return 1
    ms = statistics.mean(r["fixed"]["ms_per_frame"] for r in rows)
    fixed_fps = statistics.mean(r["fixed"]["analysed_fps"] for r in rows)
    rules_fps = statistics.mean(r["rules"]["analysed_fps"] for r in rows)
    ms_rules = statistics.mean(r["rules"]["ms_per_frame"] for r in rows)
    ev = sum(len(r["fixed"]["events"]) for r in rows)
    found = sum(r["found"] for r in rows)
    extra = sum(r["extra"] for r in rows)
    # what a feed costs per second of video (vehicle refreshes are time-based, so per-frame cost rises a little
    # when fewer frames are analysed): feeds that fit = cores x 1000 / that
    fit_fixed = cores * 1000.0 / statistics.mean(r["fixed"]["cpu_ms_per_s"] for r in rows)
    fit_rules = cores * 1000.0 / statistics.mean(r["rules"]["cpu_ms_per_s"] for r in rows)
    print(f"\nanalysed frames per feed-second: fixed {fixed_fps:.2f}, rule-aware {rules_fps:.2f} "
          f"({fixed_fps / rules_fps:.2f}x fewer)")  # fmt: skip
    print(f"feeds that fit on {cores} cores: fixed-rate {math.floor(fit_fixed)}, rule-aware {math.floor(fit_rules)}"
          f" ({fit_rules / fit_fixed:.2f}x)", end="")  # fmt: skip
    report: dict[str, Any] = {"cpu": info, "fps": a.fps, "imgsz": a.imgsz, "loop_s": loop_s, "clips": rows,
                              "fixed_fps": fixed_fps, "rules_fps": rules_fps, "ms_fixed": ms, "ms_rules": ms_rules,
                              "feeds_fixed": fit_fixed, "feeds_rules": fit_rules, "events": ev, "found": found,
                              "extra": extra}  # fmt: skip
    if naive is not None:
        fit_naive = feeds_fit(cores, naive, a.fps)
        report.update(naive_ms=naive, feeds_naive=fit_naive)
        print(f", naive loop {math.floor(fit_naive)} ({naive:.1f} ms/frame; rule-aware {fit_rules / fit_naive:.1f}x)")
    else:
        print()
    print(f"events: {found} of {ev} fixed-rate events found by rule-aware (same kind, within {MATCH_S} s), "
          f"{extra} extra")  # fmt: skip
    if a.json:
        a.json.write_text(json.dumps(report, indent=1, default=str))
    return 0


if __name__ == "__main__":
    from lookout.paths import default_data_dir

    sys.exit(main(sys.argv[1:], default_data_dir()))
