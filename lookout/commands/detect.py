"""``lookout detect SOURCE``: detect (people + keypoints, vehicles), track and annotate one source.

SOURCE is an image, a directory/glob of images, a video file or a stream URL (rtsp/http/udp/...).
``--json`` prints one JSON object per analysed frame::

    {"type": "detection", "feed": "bus", "frame": 0, "capture_t_utc": "...",
     "objects": [{"class": "person", "confidence": 0.88, "xyxy": [...], "tracker_id": 1,
                  "keypoints": [[x, y, score] x 17] | null, "zone": "car_row" | null}]}

With tracking (not ``--tracker none``, not a single image) the ``[rules]`` behaviour rules run too
(``vision.behaviours``); each event they fire is printed right after its frame's detection line::

    {"type": "event", "id": "...", "kind": "loitering", "severity": "low", "feed": "bus", "frame": 7,
     "t_start_utc": "...", "t_end_utc": "...", "track_ids": [3], "xy_px": [x, y], "box_xyxy": [...],
     "score": 0.87, "zone": "yard", "summary": "person 3 stayed in 'yard' (watch) for 0.5 s", "details": {...}}

(without ``--json``: one human line per event). ``--out`` writes an annotated video, or
an annotated image when SOURCE is a single image. ``[zones.*]`` apply: those of camera NAME when
SOURCE is a ``[cameras.NAME]`` name, and the ``camera = "*"`` ones; they are drawn in ``--out`` and
each object's ``"zone"`` is the zone holding its foot point (bottom-centre of the box).
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from lookout.context import Context

log = logging.getLogger(__name__)

IMAGE_OUT_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
VIDEO_OUT_SUFFIXES = {".mp4": "mp4v", ".avi": "MJPG", ".mkv": "mp4v"}
EVENT_SHOW_S = 3.0  # --out: an event's box stays drawn this long (capture time) after it fired


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "detect",
        help="detect and track people (with keypoints) and vehicles in an image, video or stream",
        description="Run the detectors and the tracker on SOURCE (image, image dir/glob, video file, "
        "rtsp/http/udp URL or device index) and print the results. With tracking, the [rules] behaviour rules "
        "run over the tracks and each event they fire is printed after its frame (a JSON line with type "
        "'event' with --json). Events need tracks: with --tracker none or a single image no rules run.",
    )
    p.add_argument("source", metavar="SOURCE", help="image, video, URL, device index, or a [cameras.NAME] name")
    p.add_argument("--config", metavar="FILE", default=argparse.SUPPRESS, help="lookout.toml (also before 'detect')")
    p.add_argument("--json", action="store_true", help="one JSON object per analysed frame and per event, on stdout")
    p.add_argument("--out", metavar="FILE", help="write an annotated video (.mp4/.avi/.mkv) or, for one image, image")
    p.add_argument("--max-frames", type=int, metavar="N", help="stop after N frames")
    p.add_argument("--imgsz", type=int, metavar="PX", help="pose inference size (default: [detectors.people] imgsz)")
    p.add_argument("--tracker", choices=("bytetrack", "botsort", "none"),
                   help="default: [detectors] tracker; 'none' also turns the behaviour rules off")  # fmt: skip
    p.add_argument("--feed", metavar="NAME", help="feed name in the output (default: from SOURCE)")
    p.set_defaults(func=run)


def build_detector(ctx: Context, imgsz: int | None = None):
    """The configured composite detector, weights resolved to absolute paths (packaged by default)."""
    from lookout.wiring import detector_factory

    return detector_factory(ctx.config, ctx.data_dir, imgsz)()


def _quiet_ultralytics() -> None:
    """Ultralytics logs to stdout; stdout is ours (JSON lines), so send its log to stderr."""
    os.environ.setdefault("YOLO_VERBOSE", "False")
    import ultralytics.utils  # noqa: F401  # creates its logger

    for h in logging.getLogger("ultralytics").handlers:
        if isinstance(h, logging.StreamHandler) and h.stream in (sys.stdout, sys.__stdout__):
            h.setStream(sys.stderr)


class _Frames:
    """Up to ``max_frames`` frames of a started source."""

    def __init__(self, source: Any, max_frames: int | None) -> None:
        self.source, self.max_frames = source, max_frames

    def __iter__(self) -> Iterator[Any]:
        for n, frame in enumerate(self.source):
            if self.max_frames is not None and n >= self.max_frames:
                return
            yield frame


@contextmanager
def _frames(source: str, feed: str | None, max_frames: int | None, **options: Any) -> Iterator[_Frames]:
    """Frames of ``source`` via ``vision.feeds`` (lossless for files, newest-first for live streams)."""
    from vision.feeds import open_source

    with open_source(source, feed, **options) as src:
        yield _Frames(src, max_frames)


def _obj(det: Any, i: int, zone: str | None = None) -> dict[str, Any]:
    from vision.types import CLASS_NAMES, PERSON

    cid = int(det.class_id[i])
    kp = None
    if det.keypoints is not None and cid == PERSON:
        kp = [[round(float(x), 1), round(float(y), 1), round(float(s), 3)] for x, y, s in det.keypoints[i]]
    return {
        "class": CLASS_NAMES.get(cid, str(cid)),
        "confidence": round(float(det.confidence[i]), 4),
        "xyxy": [round(float(v), 1) for v in det.xyxy[i]],
        "tracker_id": None if det.tracker_id is None else int(det.tracker_id[i]),
        "keypoints": kp,
        "zone": zone,
    }


class _VideoOut:
    """Annotated frames to ``path`` via a temp file renamed at the end (nothing half-written).

    ``fps`` None (live sources, where frames are skipped): the rate is measured from the capture
    times of the first frames (at most ``PROBE_FRAMES`` are held back to do so).
    """

    PROBE_FRAMES = 10

    def __init__(self, path: Path, fps: float | None) -> None:
        from vision.detect.errors import OutputError

        fourcc = VIDEO_OUT_SUFFIXES.get(path.suffix.lower())
        if fourcc is None:
            raise OutputError(path, "unknown video type", f"use one of {', '.join(VIDEO_OUT_SUFFIXES)}")
        if not path.parent.is_dir():
            raise OutputError(path, "its directory does not exist", "create it or choose another path")
        self.path, self.fps, self.fourcc = path, fps, fourcc
        self.tmp = path.with_name(f".{path.stem}.partial{path.suffix}")
        self.writer: Any = None
        self.size: tuple[int, int] = (0, 0)
        self.frames = 0
        self._held: list[tuple[np.ndarray, float]] = []

    def write(self, img: np.ndarray, t_s: float) -> None:
        if self.writer is None and self.fps is None:
            self._held.append((img, t_s))
            if len(self._held) < self.PROBE_FRAMES:
                return
            self._flush()
            return
        self._write(img)

    def _flush(self) -> None:
        held, self._held = self._held, []
        if self.fps is None:
            span = held[-1][1] - held[0][1] if len(held) > 1 else 0.0
            self.fps = min(60.0, max(1.0, (len(held) - 1) / span)) if span > 0 else 5.0
        for img, _ in held:
            self._write(img)

    def _write(self, img: np.ndarray) -> None:
        import cv2

        from vision.detect.errors import OutputError

        if self.writer is None:
            h, w = img.shape[:2]
            self.size = (w, h)
            fourcc = cv2.VideoWriter_fourcc(*self.fourcc)
            self.writer = cv2.VideoWriter(str(self.tmp), fourcc, float(self.fps or 5.0), (w, h))
            if not self.writer.isOpened():
                raise OutputError(self.path, "cannot open a video writer", "check the suffix and permissions")
        if (img.shape[1], img.shape[0]) != self.size:
            img = cv2.resize(img, self.size)
        self.writer.write(img)
        self.frames += 1

    def close(self, ok: bool) -> None:
        try:
            if ok and self._held:
                self._flush()
        finally:
            if self.writer is not None:
                self.writer.release()
            if ok and self.frames:
                os.replace(self.tmp, self.path)
            else:
                self.tmp.unlink(missing_ok=True)


def run(args: argparse.Namespace, ctx: Context) -> int:
    from vision.detect.errors import OutputError, SourceError
    from vision.zones import ANY_CAMERA, zones_for_camera

    cameras = ctx.config.cameras
    source, feed, imgsz, options = args.source, args.feed, args.imgsz, {}
    camera = ANY_CAMERA  # a bare path/URL gets only the camera = "*" zones
    if source in cameras and not Path(source).exists():  # a configured camera by name
        cam = cameras[source]
        source, feed, imgsz, camera = cam.url, feed or args.source, imgsz or cam.imgsz, args.source
        options = {"open_timeout_s": getattr(cam, "open_timeout_s", 5.0)}
    if args.max_frames is not None and args.max_frames < 1:
        raise SourceError(args.source, f"--max-frames {args.max_frames} is not positive", "give N >= 1")
    suffix = Path(source).suffix.lower()
    single_image = suffix in (*IMAGE_OUT_SUFFIXES, ".tif", ".tiff") and "*" not in source
    out = Path(args.out).expanduser() if args.out else None
    if out is not None and single_image and out.suffix.lower() not in IMAGE_OUT_SUFFIXES:
        raise OutputError(out, "SOURCE is an image, so --out must be an image", "use .jpg or .png")
    _ = ctx.data_dir  # sets the offline Ultralytics environment before anything imports it

    from vision.annotate import EventOverlay, annotate, draw_events
    from vision.behaviours import BehaviourEngine
    from vision.track import Tracker

    cfg = ctx.config.detectors
    kind = args.tracker or cfg.tracker
    zones_at = functools.lru_cache(maxsize=4)(lambda w, h: zones_for_camera(ctx.config.zones, camera, w, h))
    video: _VideoOut | None = None
    ok = False
    n = 0
    # Open the source first: a missing file or dead URL fails before any model loads.
    with _frames(source, feed, args.max_frames, **options) as frames:
        if out is not None and not single_image:
            video = _VideoOut(out, _fps_of(frames))
        _quiet_ultralytics()
        detector = build_detector(ctx, imgsz)
        tracker = None if kind == "none" or single_image else Tracker(kind)
        engine = None
        if tracker is not None:
            engine = BehaviourEngine(frames.source.name, ctx.config.rules, zones_at,
                                     history_len=cfg.track_history, expire_s=cfg.track_expire_s)  # fmt: skip
        overlay = EventOverlay(EVENT_SHOW_S)  # which events --out draws on each frame
        try:
            for frame in frames:
                t0 = time.perf_counter()
                t_s = frame.capture_t_utc.timestamp()
                det = detector.detect([frame.image], feeds=[frame.feed], t_mono=[t_s])[0]
                h, w = frame.image.shape[:2]
                events = []
                if tracker is not None and engine is not None:
                    det = tracker.update(det, frame.image)
                    events = engine.update(frame.index, frame.capture_t_utc, w, h, det)
                zones = zones_at(w, h)
                in_zone = _zones_of(zones, det)
                ms = (time.perf_counter() - t0) * 1000
                n += 1
                _emit(args.json, frame, det, ms, in_zone)
                _emit_events(args.json, frame, events)
                if out is not None:
                    scene = draw_events(annotate(frame.image, det, zones), overlay.update(events, t_s))
                    if video is not None:
                        video.write(scene, t_s)
                    else:
                        _write_image(out, scene)
            ok = True
        finally:
            if video is not None:
                video.close(ok)
            detector.close()
    if n == 0:
        raise SourceError(source, "gave no frames", "check that it is a readable image, video or live stream")
    if out is not None and not args.json:
        print(f"wrote {out}", file=sys.stderr)
    return 0


def _zones_of(zones: list[Any], det: Any) -> list[str | None]:
    """The zone holding each object's foot point (bottom-centre of its box), or None."""
    from vision.zones import foot_points, zone_of_points

    return zone_of_points(zones, foot_points(det.xyxy)) if zones else [None] * len(det)


def _emit(as_json: bool, frame: Any, det: Any, ms: float, in_zone: list[str | None]) -> None:
    objects = [_obj(det, i, in_zone[i]) for i in range(len(det))]
    if as_json:
        line = {
            "type": "detection",
            "feed": frame.feed,
            "frame": frame.index,
            "capture_t_utc": frame.capture_t_utc.isoformat(),
            "objects": objects,
        }
        print(json.dumps(line), flush=True)
        return
    counts: dict[str, int] = {}
    for o in objects:
        counts[o["class"]] = counts.get(o["class"], 0) + 1
    found = ", ".join(f"{v} {k}" for k, v in sorted(counts.items())) or "nothing"
    print(f"{frame.feed} frame {frame.index}: {found} ({ms:.0f} ms)", flush=True)


def _emit_events(as_json: bool, frame: Any, events: list[Any]) -> None:
    for ev in events:
        if as_json:
            print(json.dumps({"type": "event", **ev.to_json()}), flush=True)
        else:
            print(f"{frame.feed} frame {frame.index}: EVENT {ev.kind} ({ev.severity}): {ev.summary}", flush=True)


def _fps_of(frames: _Frames) -> float | None:
    """A file's native rate (every frame is analysed); None for live sources (measured instead)."""
    if getattr(frames.source, "live", True):
        return None
    fps = getattr(frames.source, "native_fps", None)
    return float(fps) if fps else 5.0


def _write_image(path: Path, img: np.ndarray) -> None:
    import cv2

    from vision.detect.errors import OutputError

    tmp = path.with_name(f".{path.stem}.partial{path.suffix}")
    try:
        if not cv2.imwrite(str(tmp), img):
            raise OutputError(path, "cv2 could not encode the image", "use .jpg or .png")
    except cv2.error as exc:
        raise OutputError(path, f"cannot be written ({exc})", "check the directory and permissions") from None
    os.replace(tmp, path)
