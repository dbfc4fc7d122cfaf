"""Motion gating: decide cheaply (a downscaled grey frame) whether a frame needs the detector.

Fixed cameras mostly look at a still scene. ``MotionGate.needs_detection`` says yes when enough pixels
changed against a running background (``diff``) or OpenCV's MOG2 model (``mog2``), for the first frame,
and at least every ``max_skip_s`` (so parked vehicles are refreshed and tracks do not go stale). On a
"no", the scheduler skips the detector and carries the feed's last tracks over.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import cv2
import numpy as np

from vision.config import MotionConfig


@dataclass(frozen=True, slots=True)
class MotionResult:
    moving: bool
    changed_frac: float  # fraction of (downscaled) pixels that changed
    detect: bool  # the final decision: moving, first frame, or max_skip_s elapsed


class MotionGate:
    """One per feed; not thread-safe. Memory: one small background image (plus MOG2's model)."""

    def __init__(self, config: MotionConfig | None = None) -> None:
        self.config = config or MotionConfig()
        self._bg: np.ndarray | None = None  # float32 running average (diff)
        self._mog2: cv2.BackgroundSubtractor | None = None
        self._shape: tuple[int, int] | None = None
        self._last_detect_mono: float | None = None

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

    def changed_fraction(self, image: np.ndarray) -> float | None:
        """Update the background with ``image``; the changed fraction, or None for a first/resized frame."""
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
            mask = self._mog2.apply(grey)
            changed = int(cv2.countNonZero(mask))
        else:
            bg = self._bg
            diff = cv2.absdiff(grey, cv2.convertScaleAbs(bg))
            changed = int(cv2.countNonZero(cv2.threshold(diff, cfg.threshold, 255, cv2.THRESH_BINARY)[1]))
            cv2.accumulateWeighted(grey, bg, cfg.background_alpha)
        return changed / grey.size

    def check(self, image: np.ndarray, now_mono: float | None = None) -> MotionResult:
        """Look at one frame (BGR or grey) and decide whether it needs the detector."""
        now = time.monotonic() if now_mono is None else now_mono
        if not self.config.enabled:
            self._last_detect_mono = now
            return MotionResult(True, 1.0, True)
        frac = self.changed_fraction(image)
        moving = frac is None or frac >= max(self.config.min_area_frac, 1e-9)
        stale = self._last_detect_mono is None or now - self._last_detect_mono >= self.config.max_skip_s
        detect = moving or stale
        if detect:
            self._last_detect_mono = now
        return MotionResult(moving, 1.0 if frac is None else frac, detect)

    def needs_detection(self, image: np.ndarray, now_mono: float | None = None) -> bool:
        return self.check(image, now_mono).detect
