"""Per-feed multi-object tracking with Ultralytics' ByteTrack / BoT-SORT, fed from our ``Detections``.

One ``Tracker`` per feed (ids are per tracker, starting at 1). The tracker's settings are
Ultralytics' own yaml defaults (``ultralytics/cfg/trackers/<kind>.yaml``), optionally overridden.
Each returned row is the *detection* that a track matched this frame (its own box, confidence,
class and keypoints, so keypoints stay aligned), with ``tracker_id`` set; detections not (yet) in
a confirmed track are dropped, as Ultralytics' ``model.track`` does.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any, Literal

import numpy as np

from vision.errors import VisionError
from vision.types import Detections

TrackerKind = Literal["bytetrack", "botsort"]


class TrackerConfigError(VisionError):
    """Unknown tracker kind or setting."""


class _Boxes:
    """The slice of Ultralytics' ``Boxes`` API its trackers use: conf, cls, xywh/xyxy, len, mask indexing."""

    __slots__ = ("cls", "conf", "xywh")

    def __init__(self, xywh: np.ndarray, conf: np.ndarray, cls: np.ndarray) -> None:
        self.xywh, self.conf, self.cls = xywh, conf, cls

    @property
    def xyxy(self) -> np.ndarray:  # BoT-SORT's camera-motion compensation masks out the boxes
        half = self.xywh[:, 2:4] / 2
        return np.concatenate([self.xywh[:, 0:2] - half, self.xywh[:, 0:2] + half], axis=1)

    @classmethod
    def from_detections(cls, det: Detections) -> _Boxes:
        xyxy = det.xyxy.astype(np.float32)
        wh = xyxy[:, 2:4] - xyxy[:, 0:2]
        xywh = np.concatenate([xyxy[:, 0:2] + wh / 2, wh], axis=1)
        return cls(xywh, det.confidence.astype(np.float32), det.class_id.astype(np.float32))

    def __len__(self) -> int:
        return len(self.conf)

    def __getitem__(self, idx: Any) -> _Boxes:
        return _Boxes(self.xywh[idx], self.conf[idx], self.cls[idx])


def tracker_defaults(kind: TrackerKind) -> dict[str, Any]:
    """Ultralytics' shipped settings for ``kind`` (read from its yaml, never fetched)."""
    import yaml

    spec = importlib.util.find_spec("ultralytics")
    if spec is None or not spec.submodule_search_locations:
        raise TrackerConfigError("ultralytics is not installed; reinstall the project (pip install -e .)")
    path = Path(next(iter(spec.submodule_search_locations))) / "cfg" / "trackers" / f"{kind}.yaml"
    if not path.is_file():
        raise TrackerConfigError(f"tracker {kind!r} is unknown; use 'bytetrack' or 'botsort'")
    return dict(yaml.safe_load(path.read_text()))


class Tracker:
    """Stable ids for one feed. ``update`` once per analysed frame, in order."""

    def __init__(self, kind: TrackerKind = "bytetrack", **overrides: Any) -> None:
        from ultralytics.trackers.track import TRACKER_MAP
        from ultralytics.utils import IterableSimpleNamespace

        settings = tracker_defaults(kind)
        unknown = sorted(set(overrides) - set(settings))
        if unknown:
            raise TrackerConfigError(f"tracker {kind}: unknown setting {unknown[0]!r}; known: {', '.join(settings)}")
        settings.update(overrides)
        if kind == "botsort":
            settings["with_reid"] = False  # a ReID model would have to be downloaded
            settings["device"] = "cpu"
        self.kind = kind
        self.settings = settings
        self._tracker = TRACKER_MAP[kind](args=IterableSimpleNamespace(**settings))
        self._id_offset = 0  # added to the tracker's ids: after a reset they go on from the last one
        self._max_id = 0

    def update(self, detections: Detections, image: np.ndarray | None = None) -> Detections:
        """Match ``detections`` to tracks; return the matched rows with ``tracker_id``.

        ``image`` (the frame) is needed by BoT-SORT's camera-motion compensation; ByteTrack ignores it.
        """
        if self.kind == "botsort" and image is None:
            raise TrackerConfigError("tracker botsort needs the frame image (camera-motion compensation)")
        tracks = self._tracker.update(_Boxes.from_detections(detections), image)
        if len(tracks) == 0:
            return _with_ids(detections[np.zeros(0, np.int64)], np.zeros(0, np.int64))
        idx = tracks[:, -1].astype(np.int64)
        ids = tracks[:, 4].astype(np.int64) + self._id_offset
        self._max_id = max(self._max_id, int(ids.max()))
        return _with_ids(detections[idx], ids)

    def reset(self) -> None:
        """Forget all tracks (a jump cut, a reconnect to a different scene). New tracks get ids above every id
        given so far, so nobody in the new scene continues someone's history from before."""
        self._tracker.reset()
        self._id_offset = self._max_id


def _with_ids(det: Detections, ids: np.ndarray) -> Detections:
    return Detections(det.xyxy, det.confidence, det.class_id, ids, det.keypoints)
