"""``FrameSource``: one reader thread per feed, a 1-frame "latest" slot, reconnect with backoff, health.

Subclasses implement three hooks, all called on the reader thread only:

- ``_open()``: connect; raise any exception to say it failed (the message lands in ``last_error``).
- ``_read()``: the next item, ``SKIP`` (a frame was grabbed but not decoded, see ``fps_limit``) or
  ``None`` at the end of the stream; raise to report a dropped connection.
- ``_close()``: release whatever ``_open`` took; must not raise.

The base class owns the thread, the slot, the counters and the gap log, so a slow consumer or a dead
camera never blocks anything but its own reader.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

import numpy as np

from vision.feeds.errors import SourceUnavailable
from vision.types import CameraPose, Frame

log = logging.getLogger(__name__)

SKIP: Final = object()  # _read() result: a frame passed by (fps_limit) without being decoded
MAX_GAPS = 100  # gap records kept per feed (the counters keep counting past it)


@dataclass(frozen=True, slots=True)
class Gap:
    """A stretch with no frames because the connection was down. ``end_t_utc`` is None while ongoing."""

    start_t_utc: datetime
    end_t_utc: datetime | None
    reason: str

    @property
    def duration_s(self) -> float | None:
        return None if self.end_t_utc is None else (self.end_t_utc - self.start_t_utc).total_seconds()


@dataclass(frozen=True, slots=True)
class FeedHealth:
    """A snapshot of one source's state, cheap to take; safe to hand to the GUI."""

    feed: str
    url: str  # credentials masked
    connected: bool
    ended: bool  # a finite source ran out (file without loop, image list) or it was stopped
    fps_in: float  # frames arriving per second over the last few seconds (incl. fps_limit skips)
    frames: int  # frames published into the slot
    dropped: int  # published frames overwritten before any consumer took them
    skipped: int  # frames grabbed but not decoded because of fps_limit
    reconnects: int
    gaps: int
    gap_s: float  # total seconds spent disconnected (closed gaps)
    last_error: str | None
    last_frame_age_s: float | None


@dataclass(frozen=True, slots=True)
class Item:
    """What ``_read`` returns: the image and its capture time (and pose, for drones)."""

    image: np.ndarray
    t_utc: datetime
    pose: CameraPose | None = None


class FrameSource:
    """Base of every source. Use as a context manager or ``start()``/``stop()``; iterate for frames."""

    #: live sources reconnect when the stream drops or ends; finite ones (files, images) just end
    live: bool = True

    def __init__(
        self,
        name: str,
        url: str,
        *,
        block: bool = False,
        fps_limit: float | None = None,
        backoff_initial_s: float = 0.1,
        backoff_max_s: float = 2.0,
    ) -> None:
        self.name = name
        self.url = url
        self.block = block  # reader waits for the consumer instead of overwriting (lossless offline runs)
        self.fps_limit = fps_limit
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._listeners: list[Callable[[], None]] = []
        self._slot: Frame | None = None
        self._slot_taken = True
        self._index = 0
        self._frames = self._dropped = self._skipped = self._reconnects = self._gap_count = 0
        self._gap_s = 0.0
        self._connected = self._ended = self._ever_connected = False
        self._first_attempt_done = False
        self._last_error: str | None = None
        self._last_frame_mono: float | None = None
        self._arrivals: deque[float] = deque(maxlen=32)
        self._gaps: deque[Gap] = deque(maxlen=MAX_GAPS)
        self._open_gap: tuple[datetime, str] | None = None

    # ----------------------------------------------------------------- lifecycle
    def start(self, *, require: bool = True, timeout_s: float | None = None) -> FrameSource:
        """Start the reader thread.

        ``require=True`` (one-off runs, ``lookout detect``): wait for the first connection attempt and
        raise ``SourceUnavailable`` if it fails. ``require=False`` (a running video wall): return at
        once; the reader keeps retrying with backoff and ``health()`` shows ``last_error``.
        """
        if self._thread is not None:
            return self
        self._stop.clear()
        with self._cond:
            self._ended = self._first_attempt_done = False
        self._thread = threading.Thread(target=self._run, name=f"feed-{self.name}", daemon=True)
        self._thread.start()
        if require:
            with self._cond:
                self._cond.wait_for(lambda: self._first_attempt_done or self._ended, timeout=timeout_s)
                ok = self._ever_connected
                err = self._last_error
            if not ok:
                self.stop()
                raise SourceUnavailable(
                    self.name, self.url, f"cannot open ({err or 'no answer'})", self._fix_hint()
                )
        return self

    def request_stop(self) -> None:
        """Tell the reader to stop without waiting (stop many sources at once, then ``stop()`` each)."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()

    def stop(self, timeout_s: float = 5.0) -> bool:
        """Stop the reader; returns False if it is still stuck in a blocking call after ``timeout_s``."""
        self.request_stop()
        t = self._thread
        if t is None:
            return True
        t.join(timeout_s)
        alive = t.is_alive()
        if alive:
            log.warning("feed %s: reader still blocked after %.1f s; left as a daemon thread", self.name, timeout_s)
        self._thread = None
        return not alive

    def __enter__(self) -> FrameSource:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def add_listener(self, fn: Callable[[], None]) -> None:
        """Call ``fn()`` (on the reader thread; keep it tiny) after each new frame or when the source ends."""
        self._listeners.append(fn)

    # ----------------------------------------------------------------- consumer side
    def latest(self, after: int = -1) -> Frame | None:
        """The newest frame if its index is greater than ``after``, else None. Never blocks."""
        with self._cond:
            f = self._slot
            if f is None or f.index <= after:
                return None
            self._slot_taken = True
            self._cond.notify_all()
            return f

    def wait(self, after: int = -1, timeout_s: float | None = None) -> Frame | None:
        """Block until a frame newer than ``after`` arrives (None on timeout or when the source ends)."""
        with self._cond:
            self._cond.wait_for(
                lambda: (self._slot is not None and self._slot.index > after) or self._ended or self._stop.is_set(),
                timeout=timeout_s,
            )
            f = self._slot
            if f is None or f.index <= after:
                return None
            self._slot_taken = True
            self._cond.notify_all()
            return f

    def __iter__(self) -> Iterator[Frame]:
        """Each newest frame once, until the source ends or is stopped (frames a slow loop missed are skipped)."""
        after = -1
        while True:
            f = self.wait(after, timeout_s=0.5)
            if f is None:
                if self._ended or self._stop.is_set():
                    return
                continue
            after = f.index
            yield f

    @property
    def ended(self) -> bool:
        return self._ended

    def health(self) -> FeedHealth:
        now = time.monotonic()
        with self._cond:
            arr = self._arrivals
            fps = (len(arr) - 1) / (arr[-1] - arr[0]) if len(arr) >= 2 and arr[-1] > arr[0] else 0.0
            if arr and now - arr[-1] > 2.0:  # nothing lately: do not report a stale rate
                fps = 0.0
            return FeedHealth(
                feed=self.name,
                url=self.url,
                connected=self._connected,
                ended=self._ended,
                fps_in=round(fps, 2),
                frames=self._frames,
                dropped=self._dropped,
                skipped=self._skipped,
                reconnects=self._reconnects,
                gaps=self._gap_count,
                gap_s=round(self._gap_s, 3),
                last_error=self._last_error,
                last_frame_age_s=None if self._last_frame_mono is None else round(now - self._last_frame_mono, 3),
            )

    def gaps(self) -> list[Gap]:
        """Recorded gaps (the newest ``MAX_GAPS``), the ongoing one last with ``end_t_utc=None``."""
        with self._cond:
            out = list(self._gaps)
            if self._open_gap is not None:
                out.append(Gap(self._open_gap[0], None, self._open_gap[1]))
            return out

    # ----------------------------------------------------------------- subclass hooks
    def _open(self) -> None:
        raise NotImplementedError

    def _read(self) -> Item | object | None:
        raise NotImplementedError

    def _close(self) -> None:
        """Release resources; default: nothing."""

    def _fix_hint(self) -> str:
        return "check the source and that it is reachable from this machine"

    # ----------------------------------------------------------------- reader thread
    def _run(self) -> None:
        delay = self.backoff_initial_s
        try:
            while not self._stop.is_set():
                try:
                    self._open()
                except Exception as exc:  # any failure to open is reported and retried
                    self._fail(f"open failed: {exc}")
                    if not self.live:
                        break
                    self._stop.wait(delay)
                    delay = min(delay * 2, self.backoff_max_s)
                    continue
                self._on_connected()
                delay = self.backoff_initial_s
                reason = self._pump()
                self._close()
                with self._cond:
                    self._connected = False
                if reason is None or not self.live:
                    break
                self._begin_gap(reason)
                self._stop.wait(delay)
                delay = min(delay * 2, self.backoff_max_s)
        finally:
            with self._cond:
                self._connected = False
                self._ended = True
                self._first_attempt_done = True
                self._cond.notify_all()
            self._notify()

    def _pump(self) -> str | None:
        """Read until stop (None), end of a finite source (None) or a drop (the reason)."""
        while not self._stop.is_set():
            try:
                item = self._read()
            except Exception as exc:  # a read error is a dropped connection
                self._fail(f"read failed: {exc}")
                return str(exc)
            if item is None:
                if self.live:
                    self._fail("stream ended")
                    return "stream ended"
                return None
            with self._cond:
                self._arrivals.append(time.monotonic())
            if item is SKIP:
                with self._cond:
                    self._skipped += 1
                continue
            self._publish(item)  # type: ignore[arg-type]
        return None

    def _publish(self, item: Item) -> None:
        with self._cond:
            if self.block:
                self._cond.wait_for(lambda: self._slot_taken or self._stop.is_set())
                if self._stop.is_set():
                    return
            elif not self._slot_taken:
                self._dropped += 1
            self._slot = Frame(item.image, item.t_utc, self.name, self._index, item.pose)
            self._slot_taken = False
            self._index += 1
            self._frames += 1
            self._last_frame_mono = time.monotonic()
            self._cond.notify_all()
        self._notify()

    def _notify(self) -> None:
        for fn in self._listeners:
            fn()

    def _fail(self, message: str) -> None:
        log.debug("feed %s: %s", self.name, message)
        with self._cond:
            self._last_error = message
            self._first_attempt_done = True
            self._cond.notify_all()

    def _on_connected(self) -> None:
        now = datetime.now(UTC)
        with self._cond:
            if self._ever_connected:
                self._reconnects += 1
                log.info("feed %s: reconnected to %s", self.name, self.url)
            self._connected = self._ever_connected = self._first_attempt_done = True
            if self._open_gap is not None:
                start, reason = self._open_gap
                self._gaps.append(Gap(start, now, reason))
                self._gap_s += (now - start).total_seconds()
                self._open_gap = None
            self._cond.notify_all()

    def _begin_gap(self, reason: str) -> None:
        with self._cond:
            if self._open_gap is None:
                self._gap_count += 1
                self._open_gap = (datetime.now(UTC), reason)
        log.warning("feed %s: stream dropped (%s); reconnecting", self.name, reason)


def utc_after(t0_utc: datetime, seconds: float) -> datetime:
    return t0_utc + timedelta(seconds=seconds)
