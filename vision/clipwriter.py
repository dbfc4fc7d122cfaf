"""MP4 clip encoding for evidence (``vision.evidence`` calls it on its background thread).

Which encoder, probed once per process (``clip_encoder()``), best first:

* ``cv2-avc1``: OpenCV's own FFmpeg with an H.264 encoder (``cv2.VideoWriter`` fourcc ``avc1``);
* ``ffmpeg``: raw BGR frames piped to the ``ffmpeg`` binary: ``libx264 -pix_fmt yuv420p -movflags
  +faststart`` (H.264 that plays in every browser and player; ``scripts/setup`` installs ffmpeg);
* ``mp4v``: OpenCV's MPEG-4 Part 2 (always there, plays in VLC/ffplay, not in every browser).

The OpenCV probe runs in a child process: OpenCV's FFmpeg prints its failed-codec lines straight to
the process's stderr. ``LOOKOUT_CLIP_ENCODER`` (one of the names above) overrides the choice.

Frames are placed on a constant-rate timeline from their capture times (the clip's fps is the
median capture rate; a gap repeats the last frame), so the clip lasts as long as the real span.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np

log = logging.getLogger(__name__)

ENCODERS = ("cv2-avc1", "ffmpeg", "mp4v")

_AVC1_PROBE = """
import sys, os, cv2, numpy as np
p = os.path.join(sys.argv[1], "probe.mp4")
w = cv2.VideoWriter(p, cv2.VideoWriter_fourcc(*"avc1"), 5.0, (64, 64))
ok = w.isOpened()
if ok:
    for _ in range(3):
        w.write(np.zeros((64, 64, 3), np.uint8))
    w.release()
    ok = os.path.exists(p) and os.path.getsize(p) > 0
print("yes" if ok else "no")
"""


class ClipWriteError(Exception):
    """Internal: the encoder failed; ``vision.evidence`` turns it into an ``EvidenceError``."""


@functools.cache
def clip_encoder() -> str:
    """The best MP4 encoder this machine has (see the module docstring); probed once per process."""
    forced = os.environ.get("LOOKOUT_CLIP_ENCODER", "")
    if forced:
        if forced not in ENCODERS:
            log.warning("LOOKOUT_CLIP_ENCODER=%r is not one of %s; probing instead", forced, ", ".join(ENCODERS))
        else:
            return forced
    with tempfile.TemporaryDirectory(prefix="lookout-avc1-") as tmp:
        try:
            out = subprocess.run([sys.executable, "-c", _AVC1_PROBE, tmp], capture_output=True, text=True,
                                 timeout=60, check=False)  # fmt: skip
            if out.stdout.strip() == "yes":
                return "cv2-avc1"
        except (OSError, subprocess.SubprocessError) as exc:
            log.debug("cv2 avc1 probe failed: %s", exc)
    if _ffmpeg_has_x264():
        return "ffmpeg"
    log.warning("no H.264 encoder (OpenCV avc1 or ffmpeg libx264): evidence clips are MPEG-4 Part 2 (mp4v)")
    return "mp4v"


def _ffmpeg_has_x264() -> bool:
    exe = shutil.which("ffmpeg")
    if exe is None:
        return False
    try:
        out = subprocess.run([exe, "-hide_banner", "-encoders"], capture_output=True, text=True, timeout=30,
                             check=False)  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return False
    return " libx264 " in out.stdout


def timeline(times: Sequence[datetime], max_fps: float = 30.0) -> tuple[float, list[int]]:
    """(fps, frame index per output tick): a constant-rate timeline over the capture times."""
    if len(times) < 2:
        return 1.0, [0] * len(times)
    t = np.array([x.timestamp() for x in times])
    gaps = np.diff(t)
    gaps = gaps[gaps > 0]
    fps = float(np.clip(1.0 / np.median(gaps), 1.0, max_fps)) if len(gaps) else 1.0
    fps = round(fps, 3)
    span = t[-1] - t[0]
    ticks = t[0] + np.arange(int(np.floor(span * fps + 1e-6)) + 1) / fps
    idx = np.searchsorted(t, ticks + 1e-6, side="right") - 1
    return fps, [int(i) for i in np.clip(idx, 0, len(t) - 1)]


def write_clip(path: Path, jpegs: Sequence[bytes], times: Sequence[datetime], encoder: str) -> tuple[float, int]:
    """Encode JPEG frames to an MP4 at ``path`` (which must end in .mp4). Returns (fps, frames written).
    Raises ``ClipWriteError`` (with the reason in one line) or ``OSError``."""
    if not jpegs:
        raise ClipWriteError("no frames to write")
    fps, order = timeline(times)
    first = cv2.imdecode(np.frombuffer(jpegs[0], np.uint8), cv2.IMREAD_COLOR)
    if first is None:
        raise ClipWriteError("a ring frame does not decode")
    h, w = first.shape[:2]
    w2, h2 = w - w % 2, h - h % 2  # yuv420p needs even sizes

    def frames() -> Iterator[np.ndarray]:
        cache: dict[int, np.ndarray] = {}
        for i in order:
            if i not in cache:
                cache.clear()  # the order is non-decreasing: keep only the current frame
                img = cv2.imdecode(np.frombuffer(jpegs[i], np.uint8), cv2.IMREAD_COLOR)
                if img is None:
                    raise ClipWriteError("a ring frame does not decode")
                if img.shape[:2] != (h, w):
                    img = cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA)
                cache[i] = np.ascontiguousarray(img[:h2, :w2])
            yield cache[i]

    if encoder == "ffmpeg":
        _write_ffmpeg(path, frames(), w2, h2, fps)
    else:
        _write_cv2(path, frames(), w2, h2, fps, "avc1" if encoder == "cv2-avc1" else "mp4v", len(order))
    return fps, len(order)


def _write_ffmpeg(path: Path, frames: Iterator[np.ndarray], w: int, h: int, fps: float) -> None:
    exe = shutil.which("ffmpeg")
    if exe is None:
        raise ClipWriteError("the ffmpeg binary is gone; run scripts/setup")
    cmd = [exe, "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-f", "rawvideo", "-pix_fmt", "bgr24",
           "-s", f"{w}x{h}", "-r", f"{fps}", "-i", "pipe:0", "-c:v", "libx264", "-preset", "veryfast",
           "-threads", "1", "-pix_fmt", "yuv420p", "-movflags", "+faststart", "-f", "mp4", str(path)]  # fmt: skip
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=err)
        stdin = proc.stdin
        if stdin is None:
            raise ClipWriteError("ffmpeg started without a stdin pipe")
        broken = False
        try:
            for img in frames:
                try:
                    stdin.write(img.tobytes())
                except BrokenPipeError:
                    broken = True
                    break
        finally:
            try:
                stdin.close()
            except BrokenPipeError:
                broken = True
            try:
                rc = proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                raise ClipWriteError("ffmpeg did not finish within 120 s; killed") from None
        err.seek(0)
        lines = [x for x in err.read().decode("utf-8", "replace").splitlines() if x.strip()]
    if rc != 0 or broken:
        why = lines[-1].strip() if lines else f"exit code {rc}"
        if any("No space left" in x for x in lines):
            why = "no space left on device"
        raise ClipWriteError(f"ffmpeg failed: {why}")


def _write_cv2(path: Path, frames: Iterator[np.ndarray], w: int, h: int, fps: float, fourcc: str, count: int) -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (w, h))
    if not writer.isOpened():
        raise ClipWriteError(f"cv2.VideoWriter({fourcc}) did not open {path.name}")
    try:
        for img in frames:
            writer.write(img)
    finally:
        writer.release()
    # OpenCV does not report write errors (a full disk): read the file back and count the frames
    cap = cv2.VideoCapture(str(path))
    try:
        got = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) if cap.isOpened() else 0
    finally:
        cap.release()
    if got < count:
        free = shutil.disk_usage(path.parent).free
        why = "no space left on device" if free < 1_000_000 else f"the file holds {got} of {count} frames"
        raise ClipWriteError(f"cv2 {fourcc} writer failed: {why}")
