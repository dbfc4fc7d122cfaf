"""OpenCV (FFmpeg backend) sources: video files, network streams, capture devices."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import cv2

from vision.feeds.base import SKIP, FrameSource, Item, utc_after

#: Used only when the user has not set OPENCV_FFMPEG_CAPTURE_OPTIONS: FFmpeg's default 5 s stream
#: probe makes every RTSP (re)connect take ~3 s; 1 s of probing is plenty for H.264/H.265 cameras.
FFMPEG_DEFAULT_OPTIONS = "analyzeduration;1000000|probesize;1000000"


def mask_url(url: str) -> str:
    """``rtsp://user:secret@host/x`` -> ``rtsp://user:***@host/x`` (for logs and error messages)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.password is None:
        return url
    netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class _CvSource(FrameSource):
    """Shared OpenCV plumbing: open with timeouts, grab every frame, decode only as often as needed."""

    def __init__(
        self,
        name: str,
        target: str | int,
        *,
        open_timeout_s: float = 5.0,
        read_timeout_s: float = 3.0,
        **kw,
    ) -> None:
        super().__init__(name, mask_url(str(target)), **kw)
        self._target = target
        self.open_timeout_s = open_timeout_s
        self.read_timeout_s = read_timeout_s
        self._cap: cv2.VideoCapture | None = None
        self._last_decode_mono = 0.0
        self.native_fps: float | None = None
        self.size: tuple[int, int] | None = None  # (width, height) once opened

    def _open(self) -> None:
        os.environ.setdefault("OPENCV_FFMPEG_CAPTURE_OPTIONS", FFMPEG_DEFAULT_OPTIONS)
        params = [
            cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, int(self.open_timeout_s * 1000),
            cv2.CAP_PROP_READ_TIMEOUT_MSEC, int(self.read_timeout_s * 1000),
        ]
        backend = cv2.CAP_ANY if isinstance(self._target, int) else cv2.CAP_FFMPEG
        cap = cv2.VideoCapture(self._target, backend, params)
        if not cap.isOpened():
            cap.release()
            raise OSError("no stream (refused, not found, timed out or unsupported)")
        fps = cap.get(cv2.CAP_PROP_FPS)
        self.native_fps = fps if 0 < fps < 1000 else None
        w, h = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        self.size = (w, h) if w and h else None
        self._cap = cap

    def _close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None

    def _want_decode(self) -> bool:
        lim = self.fps_limit
        if not lim:
            return True
        now = time.monotonic()
        if now - self._last_decode_mono >= 1.0 / lim * 0.98:
            self._last_decode_mono = now
            return True
        return False

    def _grab(self) -> object | None:
        """Grab one frame; SKIP if fps_limit says not to decode it; the image otherwise; None at EOF."""
        cap = self._cap
        if cap is None or not cap.grab():
            return None
        if not self._want_decode():
            return SKIP
        ok, img = cap.retrieve()
        if not ok or img is None:
            raise OSError("frame could not be decoded")
        return img


class StreamSource(_CvSource):
    """RTSP / HTTP (MJPEG, MPEG-TS, HLS) / UDP / TCP / RTMP / SRT, or a capture device index.

    Live: reconnects with exponential backoff (``backoff_max_s`` cap) whenever the stream drops or
    stalls longer than ``read_timeout_s``; frames are stamped with the wall clock when grabbed.
    """

    live = True

    def _read(self) -> Item | object | None:
        img = self._grab()
        if img is None:
            raise OSError(f"no frame for {self.read_timeout_s:.0f} s or stream closed")
        if img is SKIP:
            return SKIP
        return Item(img, datetime.now(UTC))  # type: ignore[arg-type]

    def _fix_hint(self) -> str:
        if isinstance(self._target, int):
            return f"check that camera device {self._target} exists (ls /dev/video*) and is not in use"
        scheme = urlsplit(str(self._target)).scheme.lower()
        if scheme in ("rtsp", "rtsps"):
            return ("check host, port and path (e.g. rtsp://user:pass@host:554/stream1), that the camera is "
                    "on and reachable (ping, ffprobe URL) and the credentials")
        if scheme in ("udp", "rtp"):
            return "check the port and that something is sending to it (udp://@:PORT to listen on all interfaces)"
        return "check the URL, that the server is up and reachable from this machine (try ffprobe URL)"


class FileSource(_CvSource):
    """A video file. ``loop`` restarts it at the end; ``pace`` plays it at its native fps (like a camera).

    Frame times are the start time plus the position in the video, so behaviour rules see real motion
    even when a file is processed faster or slower than real time.
    """

    live = False

    def __init__(
        self, name: str, path: str, *, loop: bool = False, pace: bool = False, start_frame: int = 0, **kw
    ) -> None:
        kw.setdefault("block", not pace)  # offline (unpaced) runs lose nothing; paced ones behave live
        super().__init__(name, path, **kw)
        self.loop = loop
        self.pace = pace
        self.start_frame = start_frame  # begin here (e.g. copies of one clip that should not run in step)
        self._t0_utc: datetime | None = None
        self._t0_mono = 0.0
        self._k = 0  # frames read since start, over all loops

    def _open(self) -> None:
        super()._open()
        if self.start_frame and self._t0_utc is None:
            self._cap.set(cv2.CAP_PROP_POS_FRAMES, self.start_frame)  # type: ignore[union-attr]
        if self._t0_utc is None:
            self._t0_utc = datetime.now(UTC)
            self._t0_mono = time.monotonic()

    def _read(self) -> Item | object | None:
        fps = self.native_fps or 25.0
        if self.pace:
            due = self._t0_mono + self._k / fps
            now = time.monotonic()
            if due > now:
                self._stop.wait(due - now)
            elif now - due > 1.0:  # fell far behind (CPU starved): do not burst to catch up
                self._t0_mono += now - due
        img = self._grab()
        if img is None and self.loop and self._k > 0:
            self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)  # type: ignore[union-attr]
            img = self._grab()
        if img is None:
            return None
        t = utc_after(self._t0_utc, self._k / fps)  # type: ignore[arg-type]
        self._k += 1
        if img is SKIP:
            return SKIP
        return Item(img, t)  # type: ignore[arg-type]

    def _fix_hint(self) -> str:
        return "check that the file is a readable video (try ffprobe FILE)"
