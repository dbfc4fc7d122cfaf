"""The bus: how events and detections leave the vision pipeline (Frigate's communicator shape).

    bus = InProcessBus()                                   # or vision.mqtt_bus.MqttBus(config), same protocol
    sub = bus.subscribe("lookout/events", lambda topic, msg: ...)   # MQTT wildcards: + one level, # the rest
    bus.publish("lookout/events", EventMessage(...), qos=1)
    bus.close()                                            # delivers what is pending first

``InProcessBus`` delivers on ONE thread, in publish order (FIFO), to every matching subscriber.
Its queue is bounded (``max_pending``). When it is full, a QoS 0 message is dropped and counted
(``stats().dropped``) unless ``drop_qos0=False``; a QoS 1 message is never dropped: the publisher
waits for room (backpressure) up to ``full_timeout_s`` and then gets ``BusFull`` (never silent).
A handler that raises is logged (first time per subscription, with the traceback) and counted
(``stats().handler_errors``); delivery goes on. A publish from a handler (on the delivery thread)
never waits, so a handler cannot deadlock the bus.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from vision.errors import VisionError
from vision.messages import Message

log = logging.getLogger(__name__)

Handler = Callable[[str, Message], None]


class BusError(VisionError):
    """The bus cannot take a message (closed, full for too long, broker unreachable at start)."""


class BusFull(BusError):
    """A QoS 1 message waited ``full_timeout_s`` for room in a full in-process queue."""


def topic_matches(pattern: str, topic: str) -> bool:
    """MQTT topic filter matching: ``+`` is one level, a trailing ``#`` the rest (including none)."""
    pat, top = pattern.split("/"), topic.split("/")
    for i, p in enumerate(pat):
        if p == "#":
            return True
        if i >= len(top) or (p != "+" and p != top[i]):
            return False
    return len(pat) == len(top)


@dataclass(eq=False)
class Subscription:
    """A handler on a topic pattern; ``unsubscribe()`` stops its deliveries (messages already queued
    for it are skipped)."""

    pattern: str
    handler: Handler
    _cancel: Callable[[Subscription], None] = field(repr=False, default=lambda s: None)
    active: bool = True
    errors: int = 0

    def unsubscribe(self) -> None:
        if self.active:
            self.active = False
            self._cancel(self)


@dataclass(frozen=True, slots=True)
class Delivery:
    delivered: int  # handler calls that returned
    errors: int  # handler calls that raised


def call_handlers(subs: Iterable[Subscription], topic: str, message: Message) -> Delivery:
    """Call each subscriber's handler with ``message``; a handler that raises is logged (the first time per
    subscription, with the traceback) and counted, and the others still get it. Both buses deliver so."""
    delivered = errors = 0
    for sub in subs:
        try:
            sub.handler(topic, message)
            delivered += 1
        except Exception:
            errors += 1
            sub.errors += 1
            if sub.errors == 1:
                log.exception("bus subscriber of %s failed on %s (logged once per subscriber; counted)",
                              sub.pattern, topic)  # fmt: skip
    return Delivery(delivered, errors)


class Bus(Protocol):
    def publish(self, topic: str, message: Message, *, qos: int = 1, retain: bool = False) -> None: ...

    def subscribe(self, pattern: str, handler: Handler) -> Subscription: ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class BusStats:
    published: int
    delivered: int  # handler calls that returned
    dropped: int  # QoS 0 messages dropped because the queue was full
    handler_errors: int
    pending: int


class InProcessBus:
    """The default bus: subscribers in this process, one delivery thread, FIFO, bounded."""

    def __init__(self, *, max_pending: int = 1000, drop_qos0: bool = True, full_timeout_s: float = 30.0,
                 name: str = "bus") -> None:  # fmt: skip
        if max_pending < 1:
            raise BusError(f"InProcessBus: max_pending must be >= 1, got {max_pending}")
        self.max_pending, self.drop_qos0, self.full_timeout_s = max_pending, drop_qos0, full_timeout_s
        self._subs: list[Subscription] = []
        self._queue: deque[tuple[str, Message]] = deque()
        self._cond = threading.Condition()
        self._closed = False
        self._busy = False  # the delivery thread is inside handlers
        self._published = self._delivered = self._dropped = self._errors = 0
        self._thread = threading.Thread(target=self._run, name=f"{name}-delivery", daemon=True)
        self._thread.start()

    # ---- Bus protocol
    def publish(self, topic: str, message: Message, *, qos: int = 1, retain: bool = False) -> None:
        """Queue ``message`` for every subscriber matching ``topic`` (``retain`` has no meaning here)."""
        on_delivery_thread = threading.current_thread() is self._thread
        with self._cond:
            if self._closed:
                raise BusError(f"bus is closed; cannot publish on {topic}")
            if len(self._queue) >= self.max_pending and not on_delivery_thread:
                if qos == 0 and self.drop_qos0:
                    self._dropped += 1
                    if self._dropped == 1 or self._dropped % 1000 == 0:
                        log.warning("bus full (%d pending): dropped %d QoS 0 message(s) so far, latest on %s",
                                    len(self._queue), self._dropped, topic)  # fmt: skip
                    return
                deadline = time.monotonic() + self.full_timeout_s
                while len(self._queue) >= self.max_pending and not self._closed:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise BusFull(f"bus full: {len(self._queue)} messages pending for {self.full_timeout_s:.0f} s; "
                                      f"a subscriber is stuck or too slow (message on {topic} not sent)")  # fmt: skip
                    self._cond.wait(left)
                if self._closed:
                    raise BusError(f"bus closed while waiting to publish on {topic}")
            self._queue.append((topic, message))
            self._published += 1
            self._cond.notify_all()

    def subscribe(self, pattern: str, handler: Handler) -> Subscription:
        sub = Subscription(pattern, handler, self._unsubscribe)
        with self._cond:
            self._subs = [*self._subs, sub]  # copy on write: the delivery thread iterates a snapshot
        return sub

    def close(self, timeout_s: float = 10.0) -> None:
        """Stop taking messages, deliver what is pending (up to ``timeout_s``), stop the thread."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._cond.notify_all()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                log.warning("bus: %d message(s) still pending after %.0f s at close", len(self._queue), timeout_s)

    # ---- extras
    def wants(self, topic: str) -> bool:
        """Whether any subscriber would get a message on ``topic`` (a publisher may skip building it)."""
        return any(s.active and topic_matches(s.pattern, topic) for s in self._subs)

    def flush(self, timeout_s: float = 10.0) -> bool:
        """Wait until everything published so far has been delivered. True if it was within ``timeout_s``
        (False at once from a handler: the delivery thread cannot wait for itself)."""
        if threading.current_thread() is self._thread:
            return False
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while self._queue or self._busy:
                left = deadline - time.monotonic()
                if left <= 0 or not self._thread.is_alive():
                    return False
                self._cond.wait(left)
        return True

    def stats(self) -> BusStats:
        with self._cond:
            return BusStats(self._published, self._delivered, self._dropped, self._errors, len(self._queue))

    def __enter__(self) -> InProcessBus:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- internals
    def _unsubscribe(self, sub: Subscription) -> None:
        with self._cond:
            self._subs = [s for s in self._subs if s is not sub]

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closed:
                    self._cond.wait()
                if not self._queue:  # closed and drained
                    self._cond.notify_all()
                    return
                topic, message = self._queue.popleft()
                subs = self._subs
                self._busy = True
                self._cond.notify_all()  # a publisher waiting for room
            # lazily filtered: a handler that unsubscribes a later one stops its delivery of this message
            done = call_handlers((s for s in subs if s.active and topic_matches(s.pattern, topic)), topic, message)
            with self._cond:
                self._delivered += done.delivered
                self._errors += done.errors
                self._busy = False
                self._cond.notify_all()


__all__ = [
    "Bus", "BusError", "BusFull", "BusStats", "Delivery", "Handler", "InProcessBus", "Subscription", "call_handlers",
    "topic_matches",
]
