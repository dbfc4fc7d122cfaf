"""Still images (one file, a directory or a glob) and ``IteratorSource`` (any Python iterator)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from vision.feeds.base import FrameSource, Item
from vision.types import CameraPose

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")


class ImageSource(FrameSource):
    """Image files in order, once (or looping); ``fps`` paces them, None = as fast as consumed."""

    live = False

    def __init__(self, name: str, paths: list[Path], *, loop: bool = False, fps: float | None = None, **kw) -> None:
        kw.setdefault("block", True)
        super().__init__(name, str(paths[0]) if len(paths) == 1 else f"{paths[0].parent}/ ({len(paths)} images)", **kw)
        self.paths = list(paths)
        self.loop = loop
        self.fps = fps
        self._i = 0
        self._next_mono = 0.0

    def _open(self) -> None:
        if not self.paths:
            raise OSError("no images")

    def _read(self) -> Item | None:
        if self._i >= len(self.paths):
            if not self.loop:
                return None
            self._i = 0
        if self.fps:
            now = time.monotonic()
            if self._next_mono > now:
                self._stop.wait(self._next_mono - now)
            self._next_mono = max(self._next_mono, now) + 1.0 / self.fps
        path = self.paths[self._i]
        self._i += 1
        img = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if img is None:
            raise OSError(f"{path} is not a readable image")
        return Item(img, datetime.now(UTC))

    def _fix_hint(self) -> str:
        return "check that the files are readable JPEG/PNG images"


IteratorItem = tuple[np.ndarray, datetime] | tuple[np.ndarray, datetime, CameraPose | None]


class IteratorSource(FrameSource):
    """Wrap any iterator of ``(image, t_utc)`` or ``(image, t_utc, pose)`` (e.g. a simulated drone camera).

    ``frames`` is an iterable, or a zero-argument callable returning one: with a callable the source is
    live (a new iterator after each failure, with backoff), with a plain iterable it ends with it.
    The iterator runs on the source's reader thread; it may block (a camera paced at its fps).
    """

    def __init__(
        self,
        name: str,
        frames: Iterable[IteratorItem] | Callable[[], Iterable[IteratorItem]],
        *,
        url: str | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(name, url or f"iterator:{name}", **kw)
        self._factory = frames if callable(frames) and not hasattr(frames, "__iter__") else None
        self._iterable = None if self._factory else frames
        self.live = self._factory is not None
        self._it: Iterator[IteratorItem] | None = None

    def _open(self) -> None:
        if self._factory is not None:
            self._it = iter(self._factory())
        elif self._iterable is not None:
            self._it, self._iterable = iter(self._iterable), None
        else:
            raise OSError("iterator already consumed")

    def _read(self) -> Item | None:
        try:
            got = next(self._it)  # type: ignore[arg-type]
        except StopIteration:
            return None
        if len(got) == 2:
            img, t = got  # type: ignore[misc]
            pose = None
        else:
            img, t, pose = got  # type: ignore[misc]
        if t.tzinfo is None:
            raise ValueError(f"feed {self.name}: capture time {t} has no timezone; give an aware UTC datetime")
        return Item(img, t, pose)

    def _close(self) -> None:
        close = getattr(self._it, "close", None)
        if close is not None:
            close()
        self._it = None
