"""``open_source``: pick the right ``FrameSource`` for a URL, path or device index."""

from __future__ import annotations

import glob
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from vision.config import CameraConfig
from vision.feeds.base import FrameSource
from vision.feeds.capture import FileSource, StreamSource, mask_url
from vision.feeds.errors import SourceNotFound
from vision.feeds.images import IMAGE_SUFFIXES, ImageSource

STREAM_SCHEMES = ("rtsp", "rtsps", "rtmp", "rtmps", "http", "https", "udp", "rtp", "tcp", "srt")


def open_source(
    source: str | int | Path,
    name: str | None = None,
    *,
    loop: bool = False,
    pace: bool = False,
    fps_limit: float | None = None,
    open_timeout_s: float = 5.0,
    read_timeout_s: float = 3.0,
    backoff_max_s: float = 2.0,
    **kw: Any,
) -> FrameSource:
    """Build (not start) a source. Start it with ``with src:`` / ``src.start()``; iterate it for frames.

    ``source``: ``rtsp://``, ``http(s)://`` (MJPEG, MPEG-TS, HLS), ``udp://``, ``tcp://``, ``rtmp://``,
    ``srt://``, a device index (``0`` or ``"0"``), a video file, an image, a directory of images or a
    glob (``frames/*.jpg``). ``loop``/``pace`` apply to files (pace = play at native fps, like a
    camera); ``fps_limit`` decodes at most that many frames per second (the rest are grabbed only).
    Raises ``SourceNotFound`` for a missing file; a dead URL is reported by ``start()``.
    """
    label = str(source)
    feed = name or _default_name(source)
    if not label.strip():
        raise SourceNotFound(feed, "''", "empty source", "give a file path, a URL (rtsp://host/x) or a device index")
    common: dict[str, Any] = {"fps_limit": fps_limit, "backoff_max_s": backoff_max_s, **kw}
    cv_opts = {"open_timeout_s": open_timeout_s, "read_timeout_s": read_timeout_s}
    if isinstance(source, int) or (isinstance(source, str) and source.strip().isdigit()):
        return StreamSource(feed, int(source), **cv_opts, **common)
    if isinstance(source, str):
        scheme = urlsplit(source).scheme.lower()
        if scheme in STREAM_SCHEMES:
            return StreamSource(feed, source, **cv_opts, **common)
        if scheme == "file":
            source = urlsplit(source).path
        elif len(scheme) > 1:
            raise SourceNotFound(
                feed, mask_url(label), f"unsupported scheme {scheme}://",
                f"use one of {', '.join(s + '://' for s in STREAM_SCHEMES)}, a file path or a device index",
            )
    text = str(source)
    if any(c in text for c in "*?["):
        paths = sorted(Path(p) for p in glob.glob(text) if Path(p).suffix.lower() in IMAGE_SUFFIXES)
        if not paths:
            raise SourceNotFound(feed, text, "the pattern matches no images", "check the pattern and the suffixes")
        return ImageSource(feed, paths, loop=loop, fps=common.pop("fps", None), **common)
    path = Path(text).expanduser()
    if path.is_dir():
        paths = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not paths:
            raise SourceNotFound(feed, text, "the directory holds no images", f"add {'/'.join(IMAGE_SUFFIXES)} files")
        return ImageSource(feed, paths, loop=loop, **common)
    if not path.is_file():
        raise SourceNotFound(
            feed, text, "no such file",
            "check the path, or give a URL (rtsp://host/stream, http://host/video.mjpg, udp://@:5000) or a device",
        )
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return ImageSource(feed, [path], loop=loop, **common)
    return FileSource(feed, str(path), loop=loop, pace=pace, **cv_opts, **common)


def open_camera(name: str, camera: CameraConfig) -> FrameSource:
    """The source for a ``[cameras.NAME]`` config entry (not started; the scheduler starts it)."""
    return open_source(
        camera.url, name, loop=camera.loop, pace=camera.pace, open_timeout_s=camera.open_timeout_s,
        read_timeout_s=camera.read_timeout_s, backoff_max_s=camera.reconnect_max_s,
    )


def _default_name(source: str | int | Path) -> str:
    if isinstance(source, int) or (isinstance(source, str) and source.strip().isdigit()):
        return f"device{int(source)}"
    text = str(source)
    parts = urlsplit(text)
    if parts.scheme.lower() in STREAM_SCHEMES:
        return parts.hostname or text
    return Path(text).stem or text
