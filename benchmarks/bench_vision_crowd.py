"""``lookout bench vision --crowd``: people counted in dense groups by the tiled pass (``vision.crowd``)
against whole-frame passes at 320 (the pipeline's default) and 640, on real crowd clips.

Frames are sampled at ``--hz`` (1-2 Hz: the rate the tiled pass runs at). Per frame: people found by
the packaged pose model on the whole frame at 320 and 640, and by the tiled pass (2x2 overlapping
tiles at 640 each); CPU ms of each. Default clips: the shared footage clips with crowds (nightclub,
lane brawl/scuffle, plaza); ``--clips`` overrides. The report names the CPU.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.bench_vision_cpu import cpu_info, cpu_line

CROWD_CLIPS = (
    "nofight/dev_nofi049_nightclub_crowd.mp4",
    "fight/dev_fi122_lane_brawl_parked_cars.mp4",
    "fight/dev_fi123_lane_crowd_scuffle_parked_cars.mp4",
    "nofight/dev_nofi026_night_group_walking.mp4",
)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lookout bench vision --crowd", description=__doc__.split("\n\n")[0])
    p.add_argument("--crowd", action="store_true", help="this benchmark")
    p.add_argument("--clips", help="paths or footage[:SUB] (default: the shared footage's crowd clips)")
    p.add_argument("--hz", type=float, default=2.0, help="frames sampled per second of video")
    p.add_argument("--quick", action="store_true", help="1 Hz")
    p.add_argument("--json", type=Path, help="also write the numbers to this JSON file")
    return p


def _sample(clip: Path, hz: float) -> list[np.ndarray]:
    import cv2

    cap = cv2.VideoCapture(str(clip))
    fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
    out, i, due = [], 0, 0.0
    while True:
        ok, img = cap.read()
        if not ok:
            break
        if i / fps + 1e-6 >= due:
            out.append(img)
            due += 1.0 / hz
        i += 1
    cap.release()
    return out


def _timed(fn: Any) -> tuple[Any, float]:
    c0 = time.process_time()
    r = fn()
    return r, 1000 * (time.process_time() - c0)


def main(argv: list[str], data_dir: Path) -> int:
    from benchmarks.vision_summary import ClipListError, parse_clips
    from lookout.models import packaged_pose_weights, prepare_offline_env
    from lookout.paths import footage_dir
    from vision.crowd import CrowdCountConfig, tiled_people
    from vision.detect import build_detector
    from vision.detect.ultralytics_pose import PoseDetectorConfig
    from vision.types import PERSON

    a = _parser().parse_args(argv)
    hz = 1.0 if a.quick else a.hz
    if a.clips:
        try:
            clips = parse_clips(a.clips)
        except ClipListError as exc:
            print(str(exc), file=sys.stderr)
            return 1
    else:
        root = footage_dir()
        if root is None:
            print("no shared footage (../shared/footage or LOOKOUT_FOOTAGE); pass --clips", file=sys.stderr)
            return 1
        clips = [root / c for c in CROWD_CLIPS if (root / c).is_file()]
    prepare_offline_env(data_dir / "ultralytics")
    print(f"lookout bench vision --crowd: {len(clips)} clip(s), {hz:g} frames/s sampled")
    print(cpu_line())
    det = build_detector(PoseDetectorConfig(imgsz=640), packaged_pose_weights(), cache_dir=data_dir / "models")
    cfg = CrowdCountConfig()
    det.detect([np.zeros((360, 640, 3), np.uint8)], imgsz=640)  # warm up

    def people(d: Any) -> int:
        return int(np.sum(d.class_id == PERSON))

    rows = []
    print(f"{'clip':48} {'frames':>6} {'@320':>5} {'@640':>5} {'tiled':>5}   ms @320 / @640 / tiled (median)")
    for clip in clips:
        frames = _sample(clip, hz)
        n320, n640, ntile, t320, t640, ttile = [], [], [], [], [], []
        for img in frames:
            d, ms = _timed(lambda img=img: det.detect([img], imgsz=320)[0])
            n320.append(people(d))
            t320.append(ms)
            d, ms = _timed(lambda img=img: det.detect([img], imgsz=640)[0])
            n640.append(people(d))
            t640.append(ms)
            d, ms = _timed(lambda img=img: tiled_people(det, img, cfg))
            ntile.append(len(d))
            ttile.append(ms)
        row = {"clip": str(clip), "frames": len(frames), "people_320": n320, "people_640": n640, "people_tiled": ntile,
               "ms_320": statistics.median(t320), "ms_640": statistics.median(t640),
               "ms_tiled": statistics.median(ttile)}  # fmt: skip
        rows.append(row)
        print(f"{clip.name[:48]:48} {len(frames):6d} {statistics.median(n320):5.1f} {statistics.median(n640):5.1f} "
              f"{statistics.median(ntile):5.1f}   {row['ms_320']:.0f} / {row['ms_640']:.0f} / {row['ms_tiled']:.0f}")
    all320 = [n for r in rows for n in r["people_320"]]
    all640 = [n for r in rows for n in r["people_640"]]
    alltile = [n for r in rows for n in r["people_tiled"]]
    if all640:
        gain = sum(alltile) / max(1, sum(all640))
        print(f"\nall frames: median people @320 {statistics.median(all320):g}, @640 {statistics.median(all640):g}, "
              f"tiled {statistics.median(alltile):g}; tiled finds {gain:.2f}x the people of whole-frame @640")
    if a.json:
        a.json.write_text(json.dumps({"cpu": cpu_info(), "hz": hz, "clips": rows}, indent=1))
    return 0
