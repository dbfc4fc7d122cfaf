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

The frames go through ``vision.pipeline`` on a lossless in-process bus; what is printed comes from a
subscriber of that bus (so each event line follows its frame's line). ``--alerts`` subscribes
``lookout.alerting`` too: the events' alerts are stored in the data dir's alert store with an annotated
snapshot and a clip each (``lookout alerts list`` shows them); a summary line goes to stderr.
"""

from __future__ import annotations

import argparse
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
    p.add_argument("--alerts", action="store_true",
                   help="also store the alerts its events raise, with evidence (snapshot + clip), in the data dir")
    p.add_argument("--crowd", action="store_true",
                   help="count dense groups with a tiled 640 px person pass (vision.crowd) at most once a second "
                        "when the frame shows 4+ people ([detectors.crowd]); one 'crowd' line each, and the crowd "
                        "rule counts them")  # fmt: skip
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
    camera_cfg = None
    if source in cameras and not Path(source).exists():  # a configured camera by name
        cam = camera_cfg = cameras[source]
        source, feed, imgsz, camera = cam.url, feed or args.source, imgsz or cam.imgsz, args.source
        options = {"open_timeout_s": getattr(cam, "open_timeout_s", 5.0)}
    if args.max_frames is not None and args.max_frames < 1:
        raise SourceError(args.source, f"--max-frames {args.max_frames} is not positive", "give N >= 1")
    suffix = Path(source).suffix.lower()
    single_image = suffix in (*IMAGE_OUT_SUFFIXES, ".tif", ".tiff") and "*" not in source
    out = Path(args.out).expanduser() if args.out else None
    if out is not None and single_image and out.suffix.lower() not in IMAGE_OUT_SUFFIXES:
        raise OutputError(out, "SOURCE is an image, so --out must be an image", "use .jpg or .png")
    kind = args.tracker or ctx.config.detectors.tracker
    if args.alerts and (single_image or kind == "none"):
        raise SourceError(args.source, "--alerts needs tracked video: no behaviour rules run on a single image "
                          "or with --tracker none", "give a video or stream and a tracker")  # fmt: skip
    _ = ctx.data_dir  # sets the offline Ultralytics environment before anything imports it

    from vision.bus import InProcessBus
    from vision.messages import Topics
    from vision.pipeline import Pipeline
    from vision.track import Tracker

    cfg = ctx.config.detectors
    topics = Topics(ctx.config.bus.topic_prefix)
    video: _VideoOut | None = None
    ok = False
    # Open the source first: a missing file or dead URL fails before any model loads.
    with _frames(source, feed, args.max_frames, **options) as frames:
        if out is not None and not single_image:
            video = _VideoOut(out, _fps_of(frames))
        name = frames.source.name
        # detect's own bus: lossless (a full queue makes the detector wait, never drops a line), in order
        bus = InProcessBus(drop_qos0=False, max_pending=256, name="detect-bus")
        printer = _Printer(args.json)
        bus.subscribe(topics.detections(name), printer.on_detections)
        bus.subscribe(topics.events, printer.on_event)
        alerts = detector = None
        try:
            alerts = _start_alerts(ctx, bus, topics) if args.alerts else None  # a bad store fails before models load
            _quiet_ultralytics()
            detector = build_detector(ctx, imgsz)
            tracker = None if kind == "none" or single_image else Tracker(kind)
            crowd = None
            if args.crowd:
                from vision.crowd import CrowdCounter

                # the pose detector (any size per call), [detectors.crowd] settings; --crowd turns it on
                counting = cfg.crowd.model_copy(update={"enabled": True})
                crowd = CrowdCounter(getattr(detector, "people", detector), counting)
            pipeline = Pipeline(bus, rules=ctx.config.rules, topics=topics, history_len=cfg.track_history,
                                expire_s=cfg.track_expire_s, show_s=EVENT_SHOW_S)  # fmt: skip
            fp = pipeline.add_feed(
                name, zones=lambda w, h: zones_for_camera(ctx.config.zones, camera, w, h), rules=tracker is not None,
                annotate=out is not None or args.alerts, geolocator=_geolocator(camera_cfg) if args.alerts else None,
                evidence_factory=_evidence_factory(ctx, name) if args.alerts else None,
            )  # fmt: skip
            try:
                parking_set = not hasattr(detector, "set_parking_zones")
                for frame in frames:
                    if not parking_set:  # the camera's parking zones: a prior for parked vehicles (vision.parked)
                        h0, w0 = frame.image.shape[:2]
                        zs = zones_for_camera(ctx.config.zones, camera, w0, h0)
                        detector.set_parking_zones(frame.feed, [z.polygon for z in zs if z.kind == "parking"])
                        parking_set = True
                    t0 = time.perf_counter()
                    t_s = frame.capture_t_utc.timestamp()
                    det = detector.detect([frame.image], feeds=[frame.feed], t_mono=[t_s])[0]
                    if tracker is not None:
                        if any(getattr(detector, "last_cuts", ())):  # a jump cut: no track continues across it
                            tracker.reset()
                        det = tracker.update(det, frame.image)
                    ms = (time.perf_counter() - t0) * 1000
                    h, w = frame.image.shape[:2]
                    image = frame.image if fp.annotate else None
                    counted = None if crowd is None else crowd.update(frame.feed, frame.image, t_s, det)
                    tiled = None if counted is None else counted.detections  # the crowd rule counts these
                    result = fp.process(_info(frame, w, h), det, image, latency_ms=ms, crowd=tiled)
                    if counted is not None:
                        bus.flush()  # after this frame's detection line
                        printer.on_crowd(counted, frame.index)
                    if out is not None and result.image is not None:
                        if video is not None:
                            video.write(result.image, t_s)
                        else:
                            _write_image(out, result.image)
                ok = True
            finally:
                pipeline.close()  # pending clips are finished now and published
        finally:
            bus.close()  # every line printed, every alert stored before we return
            if alerts is not None:
                alerts.close()
            if video is not None:
                video.close(ok)
            if detector is not None:
                detector.close()
    if fp.frames == 0:
        raise SourceError(source, "gave no frames", "check that it is a readable image, video or live stream")
    if out is not None and not args.json:
        print(f"wrote {out}", file=sys.stderr)
    if alerts is not None:
        print(f"lookout detect: {alerts.summary()}", file=sys.stderr)
    return 0


def _info(frame: Any, width: int, height: int) -> Any:
    from vision.pipeline import FrameInfo

    return FrameInfo(frame.feed, frame.index, frame.capture_t_utc, width, height, frame.pose)


def _geolocator(camera_cfg: Any) -> Any:
    from lookout.wiring import geolocator_for

    return geolocator_for(camera_cfg)


def _evidence_factory(ctx: Context, feed: str) -> Any:
    from lookout.wiring import evidence_factory

    factory = evidence_factory(ctx.data_dir, feed)
    if factory is None:
        log.warning("evidence recording is not available; alerts are stored without snapshots and clips")
    return factory


def _start_alerts(ctx: Context, bus: Any, topics: Any) -> Any:
    """--alerts: the dispatch alert store under the data dir, fed from the bus by ``lookout.alerting``; the
    dispatch desk's hook writes ``forward = "raised"`` outbox rows (a console's sender or ``lookout alerts
    sinks --drain`` delivers them)."""
    from lookout.alerting import AlertIngest
    from lookout.commands.alerts_dispatch import open_desk

    return AlertIngest.open(ctx.data_dir, ctx.config, audit=ctx.audit().append, bus=bus, topics=topics,
                            on_change=open_desk(ctx).on_change)  # fmt: skip


class _Printer:
    """The bus subscriber that prints: one line per analysed frame, then its events (FIFO bus: in order)."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json

    def on_detections(self, topic: str, msg: Any) -> None:
        if self.as_json:
            print(json.dumps(msg.detection_line()), flush=True)
            return
        counts: dict[str, int] = {}
        for o in msg.objects:
            counts[o["class"]] = counts.get(o["class"], 0) + 1
        found = ", ".join(f"{v} {k}" for k, v in sorted(counts.items())) or "nothing"
        print(f"{msg.feed} frame {msg.frame_index}: {found} ({msg.latency_ms:.0f} ms)", flush=True)

    def on_crowd(self, c: Any, frame_index: int) -> None:
        """A ``vision.crowd.CrowdCount``: the tiled pass's people against the whole-frame pass's."""
        if self.as_json:
            print(json.dumps({"type": "crowd", "feed": c.feed, "frame": frame_index, "people": c.people,
                              "whole_frame": c.whole_frame}), flush=True)  # fmt: skip
        else:
            print(f"{c.feed} frame {frame_index}: CROWD {c.people} people (whole frame: {c.whole_frame})", flush=True)

    def on_event(self, topic: str, msg: Any) -> None:
        ev = msg.event
        if self.as_json:
            print(json.dumps({"type": "event", **ev.to_json()}), flush=True)
        else:
            print(f"{ev.feed} frame {ev.frame_index}: EVENT {ev.kind} ({ev.severity}): {ev.summary}", flush=True)


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
