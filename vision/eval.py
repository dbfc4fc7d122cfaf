"""Event evaluation on labelled clips: recall, precision, false alarms per camera-hour, detection delay.

**Label files** (one JSON per clip): ``<clip stem>.labels.json`` beside the clip, or at the same
relative path under a separate labels folder (``labels_dir``; for footage you may not write into)::

    {"clip": "dev_fi089_night_street_parked_cars.mp4",        # file name, beside the label file
     "source": "seymanurakti/fight-detection-surv-dataset@ff83b7c:fight/fi089.mp4",
     "licence": "MIT",
     "labelled_kinds": ["fight", "door_handle_trying", "vehicle_entry"],  # scored on this clip
     "events": [{"kind": "fight", "start_s": 0.0, "end_s": 2.1, "note": "..."}]}

Optional ``"split"`` (e.g. ``"tune"`` / ``"held_out"``) puts a clip in a split: rules are tuned on
one and reported on the other (``lookout eval --split``). Times are seconds from the clip's first
frame. ``labelled_kinds`` says which kinds were labelled exhaustively on the clip: a fired event of
such a kind that matches no labelled event is a false alarm; kinds not listed are not scored there
(e.g. zone rules on a camera without zones).

**Matching.** A fired event matches a labelled event of its kind when it fired (its end time)
within ``[start_s, end_s + tolerance_s]``. Per kind: recall = labelled events matched / labelled
events; precision = fired events that match / fired events; false alarms per camera-hour = fired
events that match nothing / hours of clips that label the kind (and the same on the clips with no
event of the kind: the negatives); delay = first matching firing - ``start_s`` (median, max).

**Running.** Each clip goes through the configured detector (``lookout.wiring.detector_factory``:
pose every analysed frame, vehicles through the parked-vehicle memory), a fresh tracker and
``BehaviourEngine`` per clip, capture time = frame index / the clip's fps. The detector's output
per frame is cached (``cache_dir``, keyed by clip, detector and settings), so re-running the rules
costs seconds.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import statistics
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from vision.errors import VisionError
from vision.types import Detections

log = logging.getLogger(__name__)

LABEL_SUFFIX = ".labels.json"
VIDEO_SUFFIXES = (".mp4", ".avi", ".mkv", ".mov", ".webm", ".m4v")
CACHE_VERSION = "eval-6"  # bump when what the detector returns changes (e.g. the parked memory)
T0 = datetime(2026, 1, 1, tzinfo=UTC)


class EvalError(VisionError):
    """A label file or clip that cannot be evaluated."""


@dataclass(frozen=True, slots=True)
class LabelledEvent:
    kind: str
    start_s: float
    end_s: float


@dataclass(frozen=True, slots=True)
class ClipLabels:
    clip: Path
    labels_file: Path
    kinds: tuple[str, ...]
    events: tuple[LabelledEvent, ...]
    source: str = ""
    licence: str = ""
    split: str = ""  # e.g. "tune" / "held_out": rules are tuned on one split and reported on the other


@dataclass(frozen=True, slots=True)
class FiredEvent:
    kind: str
    severity: str
    start_s: float
    end_s: float  # when it fired
    summary: str


@dataclass(frozen=True, slots=True)
class ClipResult:
    labels: ClipLabels
    duration_s: float
    fired: tuple[FiredEvent, ...]


@dataclass(frozen=True, slots=True)
class KindScore:
    kind: str
    clips: int
    hours: float
    labelled: int
    detected: int
    fired: int
    matched_fired: int
    false_alarms: int
    negative_clips: int
    negative_hours: float
    negative_false_alarms: int
    delays_s: tuple[float, ...] = field(default_factory=tuple)

    @property
    def recall(self) -> float | None:
        return self.detected / self.labelled if self.labelled else None

    @property
    def precision(self) -> float | None:
        return self.matched_fired / self.fired if self.fired else None

    @property
    def fa_per_hour(self) -> float | None:
        return self.false_alarms / self.hours if self.hours else None

    @property
    def negative_fa_per_hour(self) -> float | None:
        return self.negative_false_alarms / self.negative_hours if self.negative_hours else None


def _label_file_for(clip: Path, root: Path, labels_dir: Path | None) -> Path:
    rel = clip.relative_to(root)
    base = labels_dir / rel if labels_dir is not None else clip
    return base.with_name(base.stem + LABEL_SUFFIX)


def parse_labels(path: Path, clip: Path) -> ClipLabels:
    """One label file; ``EvalError`` (what, where, how to fix) when it is malformed."""
    from vision.behaviours.types import EVENT_KINDS

    try:
        raw = json.loads(path.read_text())
        kinds = tuple(raw.get("labelled_kinds", EVENT_KINDS))
        events = tuple(
            LabelledEvent(str(e["kind"]), float(e["start_s"]), float(e["end_s"])) for e in raw.get("events", [])
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise EvalError(f"{path}: not a label file ({exc}); see vision/eval.py for the format") from None
    for k in (*kinds, *(e.kind for e in events)):
        if k not in EVENT_KINDS:
            raise EvalError(f"{path}: unknown kind {k!r}; use one of {', '.join(EVENT_KINDS)}")
    for e in events:
        if e.end_s < e.start_s or e.kind not in kinds:
            raise EvalError(f"{path}: event {e} ends before it starts or its kind is not in labelled_kinds; fix it")
    return ClipLabels(clip, path, kinds, events, str(raw.get("source", "")), str(raw.get("licence", "")),
                      str(raw.get("split", "")))


def find_labelled(root: Path, labels_dir: Path | None = None, split: str | None = None) -> list[ClipLabels]:
    """Every clip under ``root`` that has a label file (beside it, or under ``labels_dir``); with ``split``
    only those whose label file says ``"split": split``."""
    if not root.is_dir():
        raise EvalError(f"{root}: not a folder; give the folder that holds the clips")
    out = []
    for clip in sorted(p for p in root.rglob("*") if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file()):
        lf = _label_file_for(clip, root, labels_dir)
        if lf.is_file():
            out.append(parse_labels(lf, clip))
    if not out:
        where = labels_dir or root
        raise EvalError(f"{root}: no clip has a *{LABEL_SUFFIX} label file in {where}; write labels (vision/eval.py)")
    if split is not None:
        splits = sorted({c.split for c in out if c.split})
        out = [c for c in out if c.split == split]
        if not out:
            have = ", ".join(splits) if splits else "none (no label file has a split)"
            raise EvalError(f"{root}: no clip is in split {split!r}; the labels have: {have}")
    return out


def read_clip(path: Path) -> tuple[list[np.ndarray], float]:
    import cv2

    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise EvalError(f"{path}: cannot be read as a video; check the file")
    fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
    frames = []
    while True:
        ok, img = cap.read()
        if not ok:
            break
        frames.append(img)
    cap.release()
    return frames, float(fps)


def analysed(n: int, native: float, fps: float | None) -> list[int]:
    """Indices of the frames a ``fps`` analyser takes out of ``n`` at ``native`` fps (all when None)."""
    if fps is None or fps >= native:
        return list(range(n))
    out, nxt = [], 0.0
    for i in range(n):
        if i / native + 1e-6 >= nxt:
            out.append(i)
            nxt += 1.0 / fps
    return out


def pack_detections(dets: list[Detections]) -> dict[str, np.ndarray]:
    """One frame list of detections as flat arrays for ``np.savez`` (the detection cache)."""
    n = np.array([len(d) for d in dets], np.int64)
    m = Detections.merge(list(dets)) if dets else Detections.empty()
    kp = m.keypoints if m.keypoints is not None else np.zeros((len(m), 17, 3), np.float32)
    return {"n": n, "xyxy": m.xyxy, "conf": m.confidence, "cls": m.class_id, "kp": kp}


def unpack_detections(z: Any) -> list[Detections]:
    """The inverse of ``pack_detections`` (an ``np.load`` result or the dict itself)."""
    out, start = [], 0
    for k in z["n"].tolist():
        s = slice(start, start + k)
        out.append(Detections(z["xyxy"][s], z["conf"][s], z["cls"][s], None, z["kp"][s]))
        start += k
    return out


Clip = tuple[list[float], list[Detections], tuple[int, int]]


def detect_clip(path: Path, detector_factory: Callable[[], Any], key: str, fps: float | None,
                cache_dir: Path | None, detector_box: list) -> Clip:  # fmt: skip
    """(capture times, detections, (width, height)) of the analysed frames; cached by ``key``."""
    st = path.stat()
    h = hashlib.sha256(f"{CACHE_VERSION}|{path.resolve()}|{st.st_size}|{st.st_mtime_ns}|{key}|{fps}".encode())
    cached = cache_dir / f"{path.stem}-{h.hexdigest()[:16]}.npz" if cache_dir is not None else None
    if cached is not None and cached.is_file():
        z = dict(np.load(cached))
        return z["t"].tolist(), unpack_detections(z), (int(z["size"][0]), int(z["size"][1]))
    frames, native = read_clip(path)
    if not frames:
        raise EvalError(f"{path}: no frames; check the file")
    if not detector_box:
        detector_box.append(detector_factory())
    det = detector_box[0]
    keep = analysed(len(frames), native, fps)
    feed = f"eval:{path.stem}"
    times = [i / native for i in keep]
    dets = [det.detect([frames[i]], feeds=[feed], t_mono=[t])[0] for i, t in zip(keep, times, strict=True)]
    forget = getattr(det, "forget", None)
    if forget is not None:
        forget(feed)
    size = (frames[0].shape[1], frames[0].shape[0])
    if cached is not None:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = cache_dir / f".{cached.stem}.{os.getpid()}.tmp.npz"
        np.savez_compressed(tmp, t=np.array(times), size=np.array(size), **pack_detections(dets))
        os.replace(tmp, cached)
    return times, dets, size


def run_rules(feed: str, times: list[float], dets: list[Detections], size: tuple[int, int], rules: Any,
              tracker_kind: str = "bytetrack", zones: Any = ()) -> list[FiredEvent]:  # fmt: skip
    """Track the detections (fresh tracker) and run a fresh ``BehaviourEngine``; the events it fired."""
    from vision.behaviours import BehaviourEngine
    from vision.track import Tracker

    tracker, engine = Tracker(tracker_kind), BehaviourEngine(feed, rules, zones=zones)
    out = []
    for i, (t, d) in enumerate(zip(times, dets, strict=True)):
        for ev in engine.update(i, T0 + timedelta(seconds=t), size[0], size[1], tracker.update(d)):
            out.append(FiredEvent(ev.kind, ev.severity, (ev.t_start_utc - T0).total_seconds(),
                                  (ev.t_end_utc - T0).total_seconds(), ev.summary))  # fmt: skip
    return out


def evaluate(clips: list[ClipLabels], fire: Callable[[ClipLabels], tuple[float, list[FiredEvent]]]
             ) -> list[ClipResult]:  # fmt: skip
    """``fire(clip) -> (duration_s, fired events)`` for each clip."""
    results = []
    for c in clips:
        duration, fired = fire(c)
        results.append(ClipResult(c, duration, tuple(fired)))
    return results


def _matches(f: FiredEvent, e: LabelledEvent, tol: float) -> bool:
    return f.kind == e.kind and e.start_s - 1e-6 <= f.end_s <= e.end_s + tol


def score(results: list[ClipResult], tolerance_s: float = 1.0) -> list[KindScore]:
    """Per kind that any clip labels (in ``EVENT_KINDS`` order)."""
    from vision.behaviours.types import EVENT_KINDS

    out = []
    for kind in EVENT_KINDS:
        rs = [r for r in results if kind in r.labels.kinds]
        if not rs:
            continue
        labelled = detected = fired = matched_fired = fa = neg_clips = neg_fa = 0
        hours = neg_hours = 0.0
        delays: list[float] = []
        for r in rs:
            evs = [e for e in r.labels.events if e.kind == kind]
            fs = [f for f in r.fired if f.kind == kind]
            labelled += len(evs)
            hours += r.duration_s / 3600
            for e in evs:
                hits = [f.end_s for f in fs if _matches(f, e, tolerance_s)]
                if hits:
                    detected += 1
                    delays.append(max(0.0, min(hits) - e.start_s))
            good = [f for f in fs if any(_matches(f, e, tolerance_s) for e in evs)]
            fired += len(fs)
            matched_fired += len(good)
            fa += len(fs) - len(good)
            if not evs:
                neg_clips += 1
                neg_hours += r.duration_s / 3600
                neg_fa += len(fs)
        out.append(KindScore(kind, len(rs), hours, labelled, detected, fired, matched_fired, fa, neg_clips,
                             neg_hours, neg_fa, tuple(delays)))  # fmt: skip
    return out


def _f(v: float | None, fmt: str = ".2f") -> str:
    return "-" if v is None else format(v, fmt)


def table(scores: list[KindScore]) -> Iterator[str]:
    """Markdown table rows (header first)."""
    yield ("| kind | clips | labelled | detected | recall | fired | precision | false alarms | FA per camera-hour "
           "| negatives (clips, FA) | FA per camera-hour on negatives | delay median / max s |")
    yield "|---|---|---|---|---|---|---|---|---|---|---|---|"
    for s in scores:
        d = s.delays_s
        delay = f"{statistics.median(d):.2f} / {max(d):.2f}" if d else "-"
        yield (f"| {s.kind} | {s.clips} | {s.labelled} | {s.detected} | {_f(s.recall)} | {s.fired} | "
               f"{_f(s.precision)} | {s.false_alarms} | {_f(s.fa_per_hour, '.0f')} | {s.negative_clips}, "
               f"{s.negative_false_alarms} | {_f(s.negative_fa_per_hour, '.0f')} | {delay} |")  # fmt: skip


def to_json(scores: list[KindScore]) -> list[dict[str, Any]]:
    return [
        {"kind": s.kind, "clips": s.clips, "camera_hours": round(s.hours, 4), "labelled": s.labelled,
         "detected": s.detected, "recall": s.recall, "fired": s.fired, "precision": s.precision,
         "false_alarms": s.false_alarms, "fa_per_camera_hour": s.fa_per_hour,
         "negative_clips": s.negative_clips, "negative_false_alarms": s.negative_false_alarms,
         "fa_per_camera_hour_negatives": s.negative_fa_per_hour, "delays_s": [round(d, 2) for d in s.delays_s]}
        for s in scores
    ]  # fmt: skip
