"""A fixed ring of image slots in one ``multiprocessing.shared_memory`` block.

The scheduler (owner) writes a frame into a free slot (downscaling it to fit, straight into shared
memory) and sends the worker only ``(slot, h, w)``; the worker reads the pixels in place. Nothing is
pickled per frame, and the memory is fixed at ``slots * slot_px * slot_px * 3`` bytes.
"""

from __future__ import annotations

import contextlib
from multiprocessing import shared_memory

import cv2
import numpy as np


class FrameRing:
    """``slots`` images of at most ``max_side_px`` x ``max_side_px`` BGR pixels each."""

    def __init__(self, slots: int, max_side_px: int, *, name: str | None = None) -> None:
        if slots < 1 or max_side_px < 16:
            raise ValueError(f"FrameRing needs slots >= 1 and max_side_px >= 16, got {slots}, {max_side_px}")
        self.slots = slots
        self.max_side_px = max_side_px
        self.slot_bytes = max_side_px * max_side_px * 3
        self._owner = name is None
        if name is None:
            self._shm = shared_memory.SharedMemory(create=True, size=slots * self.slot_bytes)
        else:
            self._shm = shared_memory.SharedMemory(name=name)
        self.name = self._shm.name

    @classmethod
    def attach(cls, name: str, slots: int, max_side_px: int) -> FrameRing:
        """Open an existing ring (in a worker)."""
        return cls(slots, max_side_px, name=name)

    def fit(self, h: int, w: int) -> tuple[int, int, float]:
        """The (h, w) an image is stored at, and the factor back to its original pixels."""
        s = max(h, w)
        if s <= self.max_side_px:
            return h, w, 1.0
        k = self.max_side_px / s
        return max(1, round(h * k)), max(1, round(w * k)), s / self.max_side_px

    def view(self, slot: int, h: int, w: int) -> np.ndarray:
        """The slot's pixels as an (h, w, 3) uint8 array (no copy; valid while the ring is open)."""
        if not 0 <= slot < self.slots or h * w * 3 > self.slot_bytes:
            raise ValueError(f"slot {slot} with {h}x{w} does not fit this ring")
        buf = self._shm.buf[slot * self.slot_bytes : slot * self.slot_bytes + h * w * 3]
        return np.ndarray((h, w, 3), np.uint8, buffer=buf)

    def write(self, slot: int, image: np.ndarray) -> tuple[int, int, float]:
        """Copy (downscaling if needed) ``image`` into ``slot``; returns stored (h, w) and the scale back."""
        h, w, scale = self.fit(image.shape[0], image.shape[1])
        dst = self.view(slot, h, w)
        if scale == 1.0:
            np.copyto(dst, image)
        else:
            cv2.resize(image, (w, h), dst=dst, interpolation=cv2.INTER_AREA)
        return h, w, scale

    def close(self) -> None:
        with contextlib.suppress(BufferError):  # a numpy view is still alive; the OS frees it with the process
            self._shm.close()
        if self._owner:
            with contextlib.suppress(FileNotFoundError):
                self._shm.unlink()
