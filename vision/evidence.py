"""Evidence for alerts: a short ring of recent frames per feed, snapshots and clips (``vision.evidence``).

``EvidenceRecorder`` (one per feed) keeps the last ``pre_s`` (+3 s slack) seconds of analysed frames
as JPEG bytes, capped by ``max_ring_bytes``. On an event the pipeline calls ``snapshot`` (an
annotated JPEG written now, on the caller's thread) and ``request_clip``: the clip takes the ring's
frames from ``t - pre_s`` and every frame pushed until one is captured at or after ``t + post_s``,
then a background thread encodes it (``vision.clipwriter``: H.264 MP4 where possible), writes it to
a temp file in the target directory, fsyncs, renames it into place and hands an ``EvidenceFile``
(with its SHA-256) to ``on_ready``. Failures (a full disk, ...) reach ``on_error`` as one
``EvidenceError`` line; the temp file is removed and the ring keeps running. ``flush`` (end of
stream) finishes pending clips with the frames there are; a clip whose frames stop coming (a
stalled feed) is finished after ``post_s + stall_s`` seconds of wall time.

Files: ``<out_dir>/<YYYY-MM-DD>/<event_id>/{snapshot.jpg,clip.mp4}`` (UTC date of the event);
half-written files are ``.*.partial*`` names in the same directory, never the final name; a writer
killed mid-file leaves one behind, and ``sweep_partials(root)`` removes those older than 10 minutes
(``AlertIngest.open`` at every start, and ``lookout alerts prune``).
"""

from __future__ import annotations

import hashlib
import logging
import os
import queue
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from vision.clipwriter import ClipWriteError, clip_encoder, write_clip
from vision.errors import EvidenceError

log = logging.getLogger(__name__)

RING_SLACK_S = 3.0  # the ring holds pre_s + this, for the delay between a frame's capture and its event
_EVENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")


@dataclass(frozen=True, slots=True)
class EvidenceFile:
    event_id: str
    feed: str
    kind: Literal["snapshot", "clip"]
    path: Path  # absolute, already renamed into place (never a half-written file)
    sha256: str
    size_bytes: int
    mime: str  # "image/jpeg" | "video/mp4"
    t_start_utc: datetime
    t_end_utc: datetime


@dataclass(frozen=True, slots=True)
class RingFrame:
    capture_t_utc: datetime
    jpeg: bytes


class FrameRing:
    """Recent frames as JPEG bytes, bounded by ``max_s`` seconds of capture time and ``max_bytes``."""

    def __init__(self, max_s: float, max_bytes: int, jpeg_quality: int = 80) -> None:
        if max_s <= 0 or max_bytes <= 0 or not 10 <= jpeg_quality <= 100:
            raise ValueError("FrameRing needs max_s > 0, max_bytes > 0 and jpeg_quality in 10..100")
        self.max_s, self.max_bytes, self.jpeg_quality = max_s, max_bytes, jpeg_quality
        self._frames: deque[RingFrame] = deque()
        self._bytes = 0

    def encode(self, image: np.ndarray, capture_t_utc: datetime) -> RingFrame:
        ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality])
        if not ok:
            raise ValueError(f"cannot JPEG-encode a frame of shape {image.shape}")
        return RingFrame(_aware(capture_t_utc), buf.tobytes())

    def add(self, frame: RingFrame) -> None:
        if self._frames and frame.capture_t_utc < self._frames[-1].capture_t_utc:
            self.clear()  # time went backwards (a file looped, a clock jumped): start over
        self._frames.append(frame)
        self._bytes += len(frame.jpeg)
        oldest_ok = frame.capture_t_utc - timedelta(seconds=self.max_s)
        while len(self._frames) > 1 and (self._bytes > self.max_bytes or self._frames[0].capture_t_utc < oldest_ok):
            self._bytes -= len(self._frames.popleft().jpeg)

    def since(self, t_utc: datetime) -> list[RingFrame]:
        """The frames from the last one captured at or before ``t_utc`` on (all if none is that old)."""
        frames = list(self._frames)
        start = 0
        for i, f in enumerate(frames):
            if f.capture_t_utc <= t_utc:
                start = i
            else:
                break
        return frames[start:]

    def clear(self) -> None:
        self._frames.clear()
        self._bytes = 0

    @property
    def bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._frames)

    @property
    def span_s(self) -> float:
        if len(self._frames) < 2:
            return 0.0
        return (self._frames[-1].capture_t_utc - self._frames[0].capture_t_utc).total_seconds()


@dataclass(slots=True)
class _Clip:
    event_id: str
    t_utc: datetime
    directory: Path
    deadline_mono: float
    frames: list[RingFrame] = field(default_factory=list)
    nbytes: int = 0


class EvidenceRecorder:
    """One per feed: the frame ring, snapshots (synchronous) and clips (background thread)."""

    def __init__(self, feed: str, out_dir: Path, *, pre_s: float = 5.0, post_s: float = 5.0,
                 max_ring_bytes: int = 24_000_000, on_ready: Callable[[EvidenceFile], None],
                 on_error: Callable[[EvidenceError], None] | None = None, jpeg_quality: int = 80,
                 encoder: str | None = None, stall_s: float = 10.0) -> None:  # fmt: skip
        if pre_s < 0 or post_s < 0 or stall_s <= 0:
            raise ValueError("EvidenceRecorder needs pre_s >= 0, post_s >= 0 and stall_s > 0")
        self.feed = feed
        self.out_dir = Path(out_dir).absolute()
        self.pre_s, self.post_s, self.stall_s = pre_s, post_s, stall_s
        self.ring = FrameRing(pre_s + RING_SLACK_S, max_ring_bytes, jpeg_quality)
        self._on_ready, self._on_error = on_ready, on_error
        self._encoder = encoder
        self._lock = threading.Lock()
        self._pending: list[_Clip] = []
        self._jobs: queue.Queue[_Clip | None] = queue.Queue()
        self._outstanding = 0
        self._idle = threading.Condition(self._lock)
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=f"evidence-{feed}", daemon=True)
        self._thread.start()

    # --- the caller's thread -------------------------------------------------------------------

    def push(self, image: np.ndarray, capture_t_utc: datetime) -> None:
        """Every analysed (annotated) frame: JPEG-encode it into the ring and feed pending clips."""
        frame = self.ring.encode(image, capture_t_utc)
        with self._lock:
            self.ring.add(frame)
            done = []
            for clip in self._pending:
                clip.frames.append(frame)
                clip.nbytes += len(frame.jpeg)
                past_end = frame.capture_t_utc >= clip.t_utc + timedelta(seconds=self.post_s)
                if past_end or clip.nbytes > 4 * self.ring.max_bytes:  # bytes: a clock gone wrong cannot grow it
                    done.append(clip)
            for clip in done:
                self._submit_locked(clip)

    def snapshot(self, event_id: str, image: np.ndarray, t_utc: datetime, *,
                 box: Sequence[float] | None = None, caption: str | None = None) -> EvidenceFile:  # fmt: skip
        """Write ``image`` (optionally with the event's box and a caption drawn on a copy) as
        ``snapshot.jpg`` now. Raises ``EvidenceError`` when it cannot be written."""
        t = _aware(t_utc)
        directory = self._event_dir(event_id, t)
        if box is not None or caption:
            image = image.copy()
            if box is not None:
                x1, y1, x2, y2 = (round(float(c)) for c in box[:4])
                cv2.rectangle(image, (x1, y1), (x2, y2), (0, 0, 255), 3)
            if caption:
                cv2.putText(image, caption, (8, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 4, cv2.LINE_AA)
                cv2.putText(image, caption, (8, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 1, cv2.LINE_AA)
        ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])
        if not ok:
            raise EvidenceError("snapshot", str(directory / "snapshot.jpg"), f"cannot JPEG-encode {image.shape}")
        data = buf.tobytes()
        path = directory / "snapshot.jpg"
        _write_atomic(path, data, "snapshot")
        return EvidenceFile(event_id, self.feed, "snapshot", path, hashlib.sha256(data).hexdigest(), len(data),
                            "image/jpeg", t, t)  # fmt: skip

    def request_clip(self, event_id: str, t_utc: datetime) -> None:
        """Start a clip from ``t - pre_s`` to ``t + post_s``; it is written when a frame captured at or
        after ``t + post_s`` has been pushed (or on ``flush``/``close``, or when the feed stalls)."""
        t = _aware(t_utc)
        clip = _Clip(event_id, t, self._event_dir(event_id, t), time.monotonic() + self.post_s + self.stall_s)
        with self._lock:
            if self._closed:
                raise EvidenceError("clip", str(clip.directory), "the recorder is closed; request clips before close()")
            clip.frames = self.ring.since(t - timedelta(seconds=self.pre_s))
            clip.nbytes = sum(len(f.jpeg) for f in clip.frames)
            if clip.frames and clip.frames[-1].capture_t_utc >= t + timedelta(seconds=self.post_s):
                self._submit_locked(clip)  # the event is old enough that the ring already covers it
            else:
                self._pending.append(clip)

    def flush(self, timeout_s: float | None = 120.0) -> bool:
        """End of stream: finish every pending clip with the frames there are and wait for the
        writes. True when all are done within ``timeout_s``."""
        with self._lock:
            for clip in list(self._pending):
                self._submit_locked(clip)
            if threading.current_thread() is self._thread:  # called from on_ready/on_error: cannot wait on itself
                return self._outstanding <= 1
            return self._idle.wait_for(lambda: self._outstanding == 0, timeout=timeout_s)

    def close(self, timeout_s: float | None = 120.0) -> None:
        """Flush, then stop the writer thread."""
        if self._closed:
            return
        self.flush(timeout_s)
        with self._lock:
            self._closed = True
        self._jobs.put(None)
        self._thread.join(timeout_s)

    @property
    def pending_clips(self) -> int:
        with self._lock:
            return len(self._pending) + self._outstanding

    # --- internals ----------------------------------------------------------------------------

    def _event_dir(self, event_id: str, t: datetime) -> Path:
        if not _EVENT_ID.fullmatch(event_id) or ".." in event_id:
            raise EvidenceError("for event", repr(event_id), "event ids are 1-128 letters, digits and . _ : - only")
        return self.out_dir / t.astimezone(UTC).strftime("%Y-%m-%d") / event_id.replace(":", "-")

    def _submit_locked(self, clip: _Clip) -> None:
        if clip in self._pending:
            self._pending.remove(clip)
        self._outstanding += 1
        self._jobs.put(clip)

    def _run(self) -> None:
        while True:
            try:
                job = self._jobs.get(timeout=0.5)
            except queue.Empty:
                self._finish_stalled()
                continue
            if job is None:
                return
            try:
                self._write(job)
            finally:
                with self._lock:
                    self._outstanding -= 1
                    self._idle.notify_all()

    def _finish_stalled(self) -> None:
        now = time.monotonic()
        with self._lock:
            for clip in [c for c in self._pending if c.deadline_mono <= now]:
                log.warning("evidence: feed %s stalled; clip for %s ends early", self.feed, clip.event_id)
                self._submit_locked(clip)

    def _write(self, clip: _Clip) -> None:
        path = clip.directory / "clip.mp4"
        tmp = clip.directory / f".clip.partial-{secrets.token_hex(4)}.mp4"
        try:
            if not clip.frames:
                raise ClipWriteError("no frames were pushed around the event time")
            clip.directory.mkdir(parents=True, exist_ok=True)
            encoder = self._encoder or clip_encoder()
            fps, n = write_clip(tmp, [f.jpeg for f in clip.frames], [f.capture_t_utc for f in clip.frames], encoder)
            digest, size = _sha256_fsync(tmp)
            os.replace(tmp, path)
            _fsync_dir(clip.directory)
        except Exception as exc:  # the writer thread must outlive any one clip
            _unlink(tmp)
            if not isinstance(exc, (ClipWriteError, OSError)):
                log.exception("evidence: unexpected failure writing %s", path)
            why = "no space left on device" if getattr(exc, "errno", None) == 28 else (str(exc) or repr(exc))
            why = why.splitlines()[0]
            self._report(EvidenceError("clip", str(path), f"{why}; nothing was written (free disk space?)"))
            return
        ef = EvidenceFile(clip.event_id, self.feed, "clip", path, digest, size, "video/mp4",
                          clip.frames[0].capture_t_utc, clip.frames[-1].capture_t_utc)  # fmt: skip
        log.info("evidence: clip %s (%d frames at %.1f fps, %s, %d bytes)", path, n, fps, encoder, size)
        try:
            self._on_ready(ef)
        except Exception:
            log.exception("evidence: on_ready for %s failed", clip.event_id)

    def _report(self, err: EvidenceError) -> None:
        if self._on_error is None:
            log.error("%s", err)
            return
        try:
            self._on_error(err)
        except Exception:
            log.exception("evidence: on_error failed")


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)


def _write_atomic(path: Path, data: bytes, what: str) -> None:
    tmp = path.parent / f".{path.stem}.partial-{secrets.token_hex(4)}{path.suffix}"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except OSError as exc:
        _unlink(tmp)
        why = "no space left on device" if exc.errno == 28 else (exc.strerror or str(exc))
        raise EvidenceError(what, str(path), f"{why}; nothing was written (free disk space?)") from None


def _sha256_fsync(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with open(path, "rb+") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
            size += len(chunk)
        os.fsync(fh.fileno())
    return h.hexdigest(), size


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _unlink(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:
        log.warning("evidence: could not remove %s", path)


def sweep_partials(root: Path, older_than_s: float = 600.0, now: float | None = None) -> list[Path]:
    """Delete the half-written ``.*.partial*`` files under ``root`` (a writer killed mid-file, e.g. by
    ``kill -9``, leaves them; final names are never half-written) last modified more than
    ``older_than_s`` ago, so a clip another process is encoding right now is left alone. The removed
    paths; files that vanish or cannot be removed meanwhile are skipped (logged)."""
    now = time.time() if now is None else now
    removed: list[Path] = []
    if not root.is_dir():
        return removed
    for path in root.rglob(".*.partial*"):
        try:
            if path.is_file() and now - path.stat().st_mtime > older_than_s:
                path.unlink()
                removed.append(path)
        except OSError as exc:
            log.warning("evidence: cannot remove the half-written %s (%s)", path, exc)
    if removed:
        log.info("evidence: removed %d half-written file(s) under %s", len(removed), root)
    return removed
