"""Motion gating: decide cheaply (a downscaled grey frame) whether a frame needs the detector, and where.

Fixed cameras mostly look at a still scene. ``MotionGate.check`` says "detect" when enough pixels
changed against a running background (``diff``) or OpenCV's MOG2 model (``mog2``), for the first frame,
and at least every ``max_skip_s`` (so parked vehicles are refreshed and tracks do not go stale), or
every ``region_refresh_s`` while detecting in regions (so nothing a crop missed is missed for long). On a
"no", the scheduler skips the detector and carries the feed's last tracks over. On a "yes" caused by
motion it also says where: ``regions``, boxes around the changed blobs in the frame's pixels, so a
region-aware detector can look only there (``vision.detect.regions``); ``regions=None`` means the
whole frame (first frame, forced refresh, regions off, or motion over ``region_max_frac`` of it).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import cv2
import numpy as np

from vision.config import MotionConfig
from vision.detect.regions import Box


@dataclass(frozen=True, slots=True)
class MotionResult:
    moving: bool
    changed_frac: float  # fraction of (downscaled) pixels that changed
    detect: bool  # the final decision: moving, first frame, or max_skip_s elapsed
    regions: tuple[Box, ...] | None = None  # where it moved (detect only there); None = the whole frame


class MotionGate:
    """One per feed; not thread-safe. Memory: one small background image (plus MOG2's model)."""

    def __init__(self, config: MotionConfig | None = None) -> None:
        self.config = config or MotionConfig()
        self._bg: np.ndarray | None = None  # float32 running average (diff)
        self._mog2: cv2.BackgroundSubtractor | None = None
        self._shape: tuple[int, int] | None = None
        self._last_detect_mono: float | None = None
        self._kernel = np.ones((5, 5), np.uint8)
        self._open_kernel = np.ones((2, 2), np.uint8)

    def reset(self) -> None:
        self._bg = None
        self._mog2 = None
        self._shape = None
        self._last_detect_mono = None

    def _small_grey(self, image: np.ndarray) -> np.ndarray:
        h, w = image.shape[:2]
        tw = min(self.config.width_px, w)
        th = max(1, round(h * tw / w))
        small = cv2.resize(image, (tw, th), interpolation=cv2.INTER_AREA) if (tw, th) != (w, h) else image
        grey = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY) if small.ndim == 3 else small
        return cv2.GaussianBlur(grey, (5, 5), 0)

    def _changed_mask(self, image: np.ndarray) -> np.ndarray | None:
        """Update the background with ``image``; the small changed-pixel mask (255 = changed), or None
        for a first/resized frame."""
        grey = self._small_grey(image)
        cfg = self.config
        if self._shape != grey.shape:  # first frame, or the stream came back at another resolution
            self.reset()
            self._shape = grey.shape
            if cfg.method == "mog2":
                self._mog2 = cv2.createBackgroundSubtractorMOG2(history=100, varThreshold=16, detectShadows=False)
                self._mog2.apply(grey, learningRate=1.0)
            else:
                self._bg = grey.astype(np.float32)
            return None
        if self._mog2 is not None:
            return self._mog2.apply(grey)
        bg = self._bg
        diff = cv2.absdiff(grey, cv2.convertScaleAbs(bg))
        mask = cv2.threshold(diff, cfg.threshold, 255, cv2.THRESH_BINARY)[1]
        cv2.accumulateWeighted(grey, bg, cfg.background_alpha)
        return mask

    def _regions(self, mask: np.ndarray, height: int, width: int) -> tuple[Box, ...] | None:
        """Boxes around the changed blobs, in the frame's pixels; None if they cover too much of it.

        Isolated changed pixels (sensor noise, compression flicker) are opened away first; what is
        left is dilated so one moving thing is one blob, and a blob must hold ``min_area_frac``/4 of
        the frame's (small) pixels that really changed to count."""
        opened = cv2.morphologyEx(mask, cv2.MORPH_OPEN, self._open_kernel)
        if not opened.any():
            return ()
        grown = cv2.dilate(opened, self._kernel)
        n, labels, stats, _ = cv2.connectedComponentsWithStats(grown, connectivity=8)
        changed = np.bincount(labels[opened > 0], minlength=n)
        min_px = max(3, round(self.config.min_area_frac * mask.size / 4))
        sx, sy = width / mask.shape[1], height / mask.shape[0]
        boxes = []
        area = 0
        for i in range(1, n):
            if changed[i] < min_px:
                continue  # a speck of noise
            x, y, w, h = (int(v) for v in stats[i, :4])
            boxes.append((int(x * sx), int(y * sy), min(width, round((x + w) * sx)), min(height, round((y + h) * sy))))
            area += w * h
        if area > self.config.region_max_frac * mask.size:
            return None
        return tuple(boxes)

    def check(self, image: np.ndarray, now_mono: float | None = None) -> MotionResult:
        """Look at one frame (BGR or grey) and decide whether it needs the detector."""
        now = time.monotonic() if now_mono is None else now_mono
        if not self.config.enabled:
            self._last_detect_mono = now
            return MotionResult(True, 1.0, True)
        mask = self._changed_mask(image)
        frac = None if mask is None else cv2.countNonZero(mask) / mask.size
        moving = frac is None or frac >= max(self.config.min_area_frac, 1e-9)
        since = None if self._last_detect_mono is None else now - self._last_detect_mono
        stale = since is None or since >= self.config.max_skip_s or (moving and since >= self.config.region_refresh_s)
        if stale or mask is None:  # the whole frame: first frame, or the periodic full refresh
            self._last_detect_mono = now
            return MotionResult(moving, 1.0 if frac is None else frac, True)
        if not moving:
            return MotionResult(False, frac, False)  # type: ignore[arg-type]  # frac is set with a mask
        regions = self._regions(mask, image.shape[0], image.shape[1]) if self.config.regions else None
        if regions is None:  # regions off, or motion almost everywhere: this counts as a full refresh
            self._last_detect_mono = now
        return MotionResult(True, frac, True, regions)  # type: ignore[arg-type]

    def needs_detection(self, image: np.ndarray, now_mono: float | None = None) -> bool:
        return self.check(image, now_mono).detect
