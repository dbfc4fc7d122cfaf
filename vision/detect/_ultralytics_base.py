"""What the Ultralytics plugins (``yolo-pose``, ``yolo-detect``) share once their model is loaded."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np

from vision.detect import regions as rg
from vision.detect._ultralytics import LoadedModel, Sizes, result_to_detections
from vision.detect.base import Detector, check_images
from vision.types import Detections

MAX_FEEDS = 256  # per-feed last detections kept for region mode (least recently used dropped)
MIN_CROP_MODEL_PX = 96  # a crop is at least this many network pixels on a side (a person plus context)


class UltralyticsRunner(Detector):
    """Subclasses set ``_kind`` and ``_keypoints`` and fill ``_loaded``, ``_conf``, ``_class_map``
    and ``_keep`` in their constructor.

    Region mode (``detect_batch(..., regions=...)``): for a feed it has seen, the network runs only
    on crops around the regions (``vision.detect.regions``) and the feed's last detections are kept
    where nothing moved; the result always covers the whole frame. ``last_area`` holds, per image
    of the last batch, the share of its pixels that went through the network.
    """

    _kind = "yolo"
    _keypoints = False
    _loaded: LoadedModel
    _conf: float
    _class_map: dict[int, int]
    _keep: tuple[int, ...]
    _last: OrderedDict[str, Detections]
    last_area: list[float]

    @property
    def name(self) -> str:
        return f"{self._kind}({self._loaded.path.name}@{self._loaded.imgsz},{self._loaded.backend})"

    @property
    def backend(self) -> str:
        return self._loaded.backend

    @property
    def direct(self) -> bool:
        """The ONNX export runs straight through ONNX Runtime (``vision.detect.onnx_direct``)."""
        return self._loaded.direct is not None

    @property
    def classes(self) -> tuple[int, ...]:
        return self._keep

    def _to_detections(self, result: Any) -> Detections:
        return result_to_detections(result, self._class_map, self._keep, keypoints=self._keypoints)

    def detect(self, images: list[np.ndarray], imgsz: Sizes = None) -> list[Detections]:
        """``imgsz``: one inference size for all images or one per image (None = the configured size)."""
        check_images(images, self.name)
        self.last_area = [1.0] * len(images)
        return [self._to_detections(r) for r in self._loaded.predict(list(images), self._conf, imgsz)]

    def detect_batch(
        self,
        images: list[np.ndarray],
        feeds: Sequence[str] | None = None,
        t_mono: Any = None,
        imgsz: Sizes = None,
        regions: rg.BatchRegions = None,
    ) -> list[Detections]:
        if feeds is None or self._loaded.fixed_size:
            return self.detect(images, imgsz=imgsz)  # no feed identity or no variable size: whole frames
        check_images(images, self.name)
        n = len(images)
        sizes = [imgsz] * n if imgsz is None or isinstance(imgsz, int) else list(imgsz)
        wanted = list(regions) if regions is not None else [None] * n
        if len(feeds) != n or len(sizes) != n or len(wanted) != n:
            raise ValueError(f"{n} images but {len(feeds)} feeds, {len(sizes)} sizes, {len(wanted)} regions")
        out: list[Detections] = []
        self.last_area = []
        for img, feed, size, want in zip(images, feeds, sizes, wanted, strict=True):
            det, area = self._detect_one(img, feed, self._loaded.size(size), want)
            self._last[feed] = det
            self._last.move_to_end(feed)
            out.append(det)
            self.last_area.append(area)
        while len(self._last) > MAX_FEEDS:
            self._last.popitem(last=False)
        return out

    def _detect_one(self, img: np.ndarray, feed: str, size: int, want: rg.Regions | None) -> tuple[Detections, float]:
        h, w = img.shape[:2]
        prev = self._last.get(feed)
        crops = None
        if want is not None and prev is not None:
            min_side = round(MIN_CROP_MODEL_PX * max(h, w) / size)
            crops = rg.plan_crops(want, prev.xyxy, w, h, min_side=min_side)
        if crops is None:
            return self._to_detections(self._loaded.predict([img], self._conf, size)[0]), 1.0
        parts = [rg.outside(prev, crops)]  # type: ignore[arg-type]  # prev is set when crops is
        for x0, y0, x1, y1 in crops:
            crop = np.ascontiguousarray(img[y0:y1, x0:x1])
            result = self._loaded.predict([crop], self._conf, rg.crop_imgsz((x0, y0, x1, y1), w, h, size))[0]
            parts.append(rg.shifted(self._to_detections(result), x0, y0))
        det = Detections.merge(parts)
        if self._keypoints and det.keypoints is None:
            det = Detections(det.xyxy, det.confidence, det.class_id, det.tracker_id, np.zeros((0, 17, 3), np.float32))
        return det, rg.area_fraction(crops, w, h)

    def forget(self, feed: str) -> None:
        """Drop a feed's last detections (its next frame is detected whole)."""
        self._last.pop(feed, None)

    def close(self) -> None:
        self._loaded.close()
