"""Real footage through the real pipeline (pose detector -> ByteTrack -> TrackHistory -> FrameContext),
for the slow fight test and for tuning the fight rule (run this file: it prints a per-clip table).

Raw per-frame detections are cached as one .npz per clip and setting, so re-tuning the rules (or the
tracker, which is cheap) does not re-run the model. ``../shared/footage`` (``LOOKOUT_FOOTAGE``
overrides) is not in the repository; callers skip when it is missing.

    .venv/bin/python tests/vision/behaviours/footage.py [--imgsz 416] [--fps native|10]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import os
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from lookout.paths import footage_dir
from vision.behaviours.types import FrameContext
from vision.eval import pack_detections, unpack_detections
from vision.history import TrackHistory
from vision.types import Detections

FOOTAGE = footage_dir() or Path("<no ../shared/footage; set LOOKOUT_FOOTAGE>")
CACHE = Path(os.environ.get("LOOKOUT_FOOTAGE_CACHE", Path(tempfile.gettempdir()) / "lookout-footage-cache"))
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def manifest() -> list[dict[str, str]]:
    with (FOOTAGE / "manifest.tsv").open(newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def read_frames(path: Path) -> tuple[list[np.ndarray], list[float]]:
    """Every frame and its capture time (frame index / native fps)."""
    import cv2

    cap = cv2.VideoCapture(str(path))
    native = cap.get(cv2.CAP_PROP_FPS) or 25.0
    frames, times = [], []
    while True:
        ok, img = cap.read()
        if not ok:
            break
        times.append(len(frames) / native)
        frames.append(img)
    cap.release()
    return frames, times


def subsample(times: list[float], fps: float | None) -> list[int]:
    """Indices of the frames a ``fps`` analyser would take (all when None)."""
    if fps is None:
        return list(range(len(times)))
    out, next_t = [], 0.0
    for i, t in enumerate(times):
        if t + 1e-6 >= next_t:
            out.append(i)
            next_t += 1.0 / fps
    return out


def detect_clip(path: Path, imgsz: int, fps: float | None, model_cache: Path, detector=None):
    """(capture times, raw pose detections) of the frames a ``fps`` analyser takes (None: all).

    Every frame is detected once and cached in ``CACHE``; ``detector`` is built when needed and None.
    """
    key = hashlib.sha256(f"{path.resolve()}|{path.stat().st_size}|{imgsz}".encode()).hexdigest()[:16]
    cached = CACHE / f"{path.stem}-{imgsz}-{key}.npz"
    if cached.is_file():
        z = dict(np.load(cached))
        times, dets = z["t"].tolist(), unpack_detections(z)
    else:
        frames, times = read_frames(path)
        if detector is None:
            from lookout.models import packaged_pose_weights
            from vision.detect import build_detector
            from vision.detect.ultralytics_pose import PoseDetectorConfig

            detector = build_detector(PoseDetectorConfig(imgsz=imgsz), packaged_pose_weights(), cache_dir=model_cache)
        dets = [detector.detect([img])[0] for img in frames]
        CACHE.mkdir(parents=True, exist_ok=True)
        tmp = CACHE / f".{cached.stem}.{os.getpid()}.tmp.npz"
        np.savez_compressed(tmp, t=np.array(times), **pack_detections(dets))
        os.replace(tmp, cached)
    keep = subsample(times, fps)
    return [times[i] for i in keep], [dets[i] for i in keep]


def contexts(feed: str, times: list[float], dets: list[Detections], size: tuple[int, int]) -> Iterator[FrameContext]:
    """Track the raw detections (ByteTrack, fresh per clip) and yield one FrameContext per frame."""
    from vision.track import Tracker

    tracker, history = Tracker("bytetrack"), TrackHistory(maxlen=64, expire_s=10.0)
    for i, (t, d) in enumerate(zip(times, dets, strict=True)):
        tracked = tracker.update(d)
        history.update(t, tracked)
        yield FrameContext(feed, i, t, T0 + timedelta(seconds=t), size[0], size[1], tracked, history)


def frame_size(path: Path) -> tuple[int, int]:
    import cv2

    cap = cv2.VideoCapture(str(path))
    w, h = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
    cap.release()
    return w, h


def run_rule(make_rule, path: Path, imgsz: int = 320, fps: float | None = 10.0, model_cache: Path | None = None,
             detector=None) -> list:  # fmt: skip
    """Every event ``make_rule()`` reports over the clip."""
    cache = model_cache or Path.home() / ".local/share/lookout/models"
    times, dets = detect_clip(path, imgsz, fps, cache, detector)
    rule = make_rule()
    return [e for ctx in contexts(path.stem, times, dets, frame_size(path)) for e in rule.update(ctx)]


def main(argv: list[str]) -> int:
    from vision.behaviours.config import FightConfig
    from vision.behaviours.fight import FightRule

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--imgsz", type=int, default=416)
    p.add_argument("--fps", default="native", help="frames per second analysed (e.g. 10), or 'native'")
    p.add_argument("--min-duration", type=float, default=None)
    a = p.parse_args(argv)
    fps = None if a.fps == "native" else float(a.fps)
    cfg = FightConfig() if a.min_duration is None else FightConfig(min_duration_s=a.min_duration)
    tp = fp = fn = tn = 0
    for row in manifest():
        path = FOOTAGE / row["file"]
        events = run_rule(lambda: FightRule(cfg), path, a.imgsz, fps)
        fight = row["expected_label"] == "fight"
        fired = bool(events)
        tp, fp = tp + (fight and fired), fp + (not fight and fired)
        fn, tn = fn + (fight and not fired), tn + (not fight and not fired)
        first = f"{events[0].severity} at {(events[0].t_end_utc - T0).total_seconds():.2f}s" if events else ""
        print(f"{'fight  ' if fight else 'nofight'} {'FIRED' if fired else '-    '} {path.stem:55s} {first}")
    prec = tp / (tp + fp) if tp + fp else float("nan")
    rec = tp / (tp + fn) if tp + fn else float("nan")
    print(f"tp={tp} fp={fp} fn={fn} tn={tn} precision={prec:.2f} recall={rec:.2f}")
    return 0


if __name__ == "__main__":
    from lookout.models import prepare_offline_env

    prepare_offline_env(Path(tempfile.gettempdir()) / "lookout-footage-ultralytics")
    raise SystemExit(main(sys.argv[1:]))

