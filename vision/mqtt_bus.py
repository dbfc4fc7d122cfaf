"""``MqttBus``: the bus over an MQTT broker (paho-mqtt 2, Mosquitto), so vision nodes on other machines
feed one console and alert store.

    bus = MqttBus("127.0.0.1", 1883, client_id="lookout-cam1-node", node="cam1")   # connects (or raises BusError)
    bus.subscribe("lookout/events", handler)     # same protocol as InProcessBus; handlers run on paho's thread
    bus.publish("lookout/events", EventMessage(...), qos=1)
    bus.close()                                  # waits for QoS 1 acks (bounded), says offline, disconnects

Delivery guarantees:
- QoS 1 everywhere events and evidence travel; the session is persistent (MQTT 3.1.1 ``clean_session=False``
  with a stable client id), so the broker keeps a subscriber's messages while its connection is down and
  delivers them when it returns (with a broker that persists sessions, also across a broker restart).
- paho reconnects by itself (backoff ``reconnect_min_s``..``reconnect_max_s``); QoS 1 messages published
  while disconnected wait in paho's queue (bounded by ``max_queued``; a full queue is ``BusFull``, never a
  silent drop) and are sent, or re-sent, after the reconnect. QoS 0 messages published while disconnected
  are dropped and counted (``stats().dropped``).
- Every (re)connect subscribes every pattern again, so a broker that lost the session still delivers.
- A resumed session delivers its stored messages right after the connect, before the caller subscribed
  its handlers: messages no handler matches yet wait (at most ``unclaimed_max``, received within
  ``unclaimed_s`` of a connect) and go to the first handler that subscribes to them.
- At-least-once: a message may arrive twice after a reconnect; subscribers key on ids (the alert store
  ignores an event id it has stored).
- Availability (Frigate's ``frigate/available``): ``<prefix>/available/<node>`` is ``online`` (retained)
  while connected; the broker publishes the last will ``offline`` (retained) if the connection dies, and
  ``close()`` publishes it too.
"""

from __future__ import annotations

import logging
import os
import socket
import ssl
import threading
import time
from collections import deque
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode

from vision.bus import BusError, BusFull, BusStats, Handler, Subscription, call_handlers, topic_matches
from vision.messages import Message, MessageError, Topics, decode, encode

log = logging.getLogger(__name__)


def parse_url(url: str) -> tuple[str, int, bool]:
    """``mqtt://HOST:PORT`` -> (host, port, tls); ``mqtts://`` means TLS (default port 8883, else 1883)."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise BusError(f"bus url {url!r}: expected mqtt://HOST:PORT or mqtts://HOST:PORT")
    try:
        port = parts.port
    except ValueError:
        raise BusError(f"bus url {url!r}: the port is not a number 1-65535") from None
    tls = parts.scheme == "mqtts"
    return parts.hostname, port or (8883 if tls else 1883), tls


class MqttBus:
    """The ``vision.bus.Bus`` protocol over MQTT (see the module doc for the guarantees)."""

    remote = True  # messages leave this process: evidence must carry its bytes

    def __init__(
        self,
        host: str,
        port: int = 1883,
        *,
        client_id: str,
        topics: Topics | None = None,
        node: str = "",
        username: str | None = None,
        password: str | None = None,
        tls: bool = False,
        ca_file: str | None = None,
        cert_file: str | None = None,
        key_file: str | None = None,
        keepalive_s: int = 15,
        connect_timeout_s: float = 10.0,
        reconnect_min_s: int = 1,
        reconnect_max_s: int = 5,
        max_queued: int = 10_000,
        unclaimed_max: int = 1000,
        unclaimed_s: float = 30.0,
    ) -> None:
        if not client_id:
            raise BusError("MqttBus needs a stable client_id (its persistent session is keyed on it)")
        self.host, self.port, self.client_id = host, port, client_id
        self.topics = topics or Topics()
        self.node = node or client_id
        self.where = f"mqtt://{host}:{port}"
        self._subs: list[Subscription] = []
        self._lock = threading.Lock()
        self._connected = threading.Event()
        self._refused: str | None = None  # the broker's reason when it refused the first connection
        self._answered = threading.Event()  # CONNACK (accepted or refused) seen
        self._closing = False
        self._published = self._delivered = self._dropped = self._errors = 0
        self.connects = 0  # successful (re)connects
        self.decode_errors = 0
        self._unacked: dict[int, mqtt.MQTTMessageInfo] = {}
        self._unacked_subs: set[int] = set()  # SUBSCRIBE requests the broker has not acknowledged yet
        # a resumed session delivers its stored messages right after CONNACK, before the caller has had the
        # chance to subscribe its handlers: messages no handler wants yet wait here (bounded) for one
        self._deliver_lock = threading.RLock()
        self._unclaimed: deque[tuple[str, Message]] = deque()
        self.unclaimed_max, self.unclaimed_s = unclaimed_max, unclaimed_s
        self._unclaimed_until = 0.0  # monotonic end of the window after a connect in which they are kept
        self._acked = threading.Condition(self._lock)
        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False,
                        protocol=mqtt.MQTTv311)  # fmt: skip
        if username:
            c.username_pw_set(username, password)
        if tls or ca_file:
            c.tls_set(ca_certs=ca_file, certfile=cert_file, keyfile=key_file, cert_reqs=ssl.CERT_REQUIRED)
        self.available_topic = self.topics.available(self.node)
        c.will_set(self.available_topic, b"offline", qos=1, retain=True)
        c.reconnect_delay_set(min_delay=reconnect_min_s, max_delay=reconnect_max_s)
        c.max_queued_messages_set(max_queued)
        c.max_inflight_messages_set(50)
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        c.on_message = self._on_message
        c.on_publish = self._on_publish
        c.on_subscribe = self._on_subscribe
        self._client = c
        try:
            c.connect_async(host, port, keepalive=keepalive_s)
        except (OSError, ValueError) as exc:
            raise BusError(f"bus {self.where}: cannot connect ({exc}); check [bus] url and that the broker runs"
                           ) from None  # fmt: skip
        c.loop_start()
        self._answered.wait(connect_timeout_s)
        if self._refused is not None and not self._connected.is_set():
            c.loop_stop()
            raise BusError(f"bus {self.where}: the broker refused client {client_id!r}: {self._refused}; check "
                           "[bus] username, password_env and client_id")  # fmt: skip
        if not self._connected.is_set():
            c.loop_stop()
            raise BusError(f"bus {self.where}: no connection to the MQTT broker within {connect_timeout_s:.0f} s; "
                           "check [bus] url, that mosquitto runs there and the firewall")  # fmt: skip

    @classmethod
    def from_config(cls, config: Any, *, role: str = "node", **kwargs: Any) -> MqttBus:
        """From a ``vision.config.BusConfig`` (the password from the environment variable it names)."""
        host, port, tls = parse_url(config.url)
        password = None
        if config.password_env:
            password = os.environ.get(config.password_env)
            if password is None:
                raise BusError(f"[bus] password_env: environment variable {config.password_env} is not set")
        hostname = socket.gethostname()
        client_id = config.client_id or f"lookout-{hostname}-{role}"[:64]
        return cls(host, port, client_id=client_id, topics=Topics(config.topic_prefix), node=config.node or hostname,
                   username=config.username, password=password, tls=tls,
                   ca_file=str(config.ca_file) if config.ca_file else None,
                   cert_file=str(config.cert_file) if config.cert_file else None,
                   key_file=str(config.key_file) if config.key_file else None, keepalive_s=config.keepalive_s,
                   **kwargs)  # fmt: skip

    # ---- Bus protocol
    def publish(self, topic: str, message: Message, *, qos: int = 1, retain: bool = False) -> None:
        if self._closing:
            raise BusError(f"bus {self.where} is closed; cannot publish on {topic}")
        info = self._client.publish(topic, encode(message), qos=qos, retain=retain)
        rc = info.rc
        with self._lock:
            if rc == MQTTErrorCode.MQTT_ERR_QUEUE_SIZE:
                raise BusFull(f"bus {self.where}: {len(self._unacked)} messages wait for the broker; "
                              f"the broker has been unreachable too long (message on {topic} not sent)")  # fmt: skip
            if qos == 0 and rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                self._dropped += 1  # QoS 0 while disconnected: gone, counted
                return
            self._published += 1
            if qos > 0:
                self._unacked[info.mid] = info

    def subscribe(self, pattern: str, handler: Handler) -> Subscription:
        sub = Subscription(pattern, handler, self._unsubscribe)
        with self._deliver_lock:  # no new message is delivered while we hand over the waiting ones
            with self._lock:
                first = all(s.pattern != pattern for s in self._subs)
                self._subs = [*self._subs, sub]
            waiting = [(t, m) for t, m in self._unclaimed if topic_matches(pattern, t)]
            if waiting:
                self._unclaimed = deque((t, m) for t, m in self._unclaimed if not topic_matches(pattern, t))
                for topic, message in waiting:
                    self._deliver(topic, message)
        if first and self._connected.is_set():
            self._send_subscribe(self._client, pattern)
        return sub

    def close(self, timeout_s: float = 10.0) -> None:
        """Wait (up to ``timeout_s``) until the broker acknowledged every QoS 1 message, publish ``offline``,
        disconnect."""
        if self._closing:
            return
        if not self.flush(timeout_s):
            with self._lock:
                left = len(self._unacked)
            log.warning("bus %s: %d QoS 1 message(s) not acknowledged by the broker at close", self.where, left)
        self._closing = True
        if self._connected.is_set():
            info = self._client.publish(self.available_topic, b"offline", qos=1, retain=True)
            with self._lock:
                self._unacked[info.mid] = info
            self.flush(2.0)
        self._client.disconnect()
        self._client.loop_stop()

    # ---- extras
    def flush(self, timeout_s: float = 10.0) -> bool:
        """Wait until the broker acknowledged every QoS 1 message published and every subscription made so far."""
        deadline = time.monotonic() + timeout_s
        with self._acked:
            while self._unacked or self._unacked_subs:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._acked.wait(left)  # on_publish (PUBACK) and on_subscribe (SUBACK) notify
        return True

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout_s: float) -> bool:
        return self._connected.wait(timeout_s)

    def stats(self) -> BusStats:
        with self._lock:
            return BusStats(self._published, self._delivered, self._dropped, self._errors, len(self._unacked))

    def __enter__(self) -> MqttBus:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- paho callbacks (its network thread)
    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            self._refused = str(reason)
            self._answered.set()
            log.error("bus %s: the broker refused the connection (%s); check [bus] username/password/client_id",
                      self.where, reason)  # fmt: skip
            return
        self.connects += 1
        self._unclaimed_until = time.monotonic() + self.unclaimed_s
        with self._lock:
            patterns = sorted({s.pattern for s in self._subs})
        with self._lock:
            self._unacked_subs.clear()  # requests of the previous connection will not be answered
        for pattern in patterns:  # again on every connect: the broker may have lost the session
            self._send_subscribe(client, pattern)
        client.publish(self.available_topic, b"online", qos=1, retain=True)
        log.info("bus %s: connected as %s (session %s)", self.where, self.client_id,
                 "resumed" if getattr(flags, "session_present", False) else "new")  # fmt: skip
        self._connected.set()
        self._answered.set()

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        self._connected.clear()
        if not self._closing:
            log.warning("bus %s: connection lost (%s); reconnecting", self.where, reason)

    def _on_publish(self, client: mqtt.Client, userdata: Any, mid: int, reason: Any, props: Any) -> None:
        with self._acked:
            self._unacked.pop(mid, None)
            self._acked.notify_all()

    def _send_subscribe(self, client: mqtt.Client, pattern: str) -> None:
        with self._lock:
            rc, mid = client.subscribe(pattern, qos=1)
            if rc == MQTTErrorCode.MQTT_ERR_SUCCESS and mid is not None:
                self._unacked_subs.add(mid)

    def _on_subscribe(self, client: mqtt.Client, userdata: Any, mid: int, reasons: Any, props: Any) -> None:
        with self._acked:
            self._unacked_subs.discard(mid)
            self._acked.notify_all()
        if any(getattr(r, "is_failure", False) for r in reasons):
            log.error("bus %s: the broker refused a subscription (%s); check its ACL", self.where, reasons)

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        topic = msg.topic
        if topic.startswith(f"{self.topics.prefix}/available/"):
            subs = [s for s in self._subs if s.active and topic_matches(s.pattern, topic)]
            if subs:
                log.info("bus %s: %s is %s", self.where, topic.rsplit("/", 1)[-1], msg.payload.decode(errors="replace"))
            return  # availability is plain text, not a Lookout message
        try:
            message = decode(topic, msg.payload)
        except MessageError as exc:
            self.decode_errors += 1
            if self.decode_errors <= 3:
                log.error("%s", exc)
            return
        self._deliver(topic, message)

    def _deliver(self, topic: str, message: Message) -> None:
        with self._deliver_lock:
            subs = [s for s in self._subs if s.active and topic_matches(s.pattern, topic)]
            if not subs:
                if time.monotonic() > self._unclaimed_until:
                    with self._lock:
                        self._dropped += 1  # nobody subscribes to it (any more): nothing to keep it for
                    return
                self._unclaimed.append((topic, message))
                if len(self._unclaimed) > self.unclaimed_max:
                    self._unclaimed.popleft()
                    with self._lock:
                        self._dropped += 1
                    log.warning("bus %s: no subscriber for %d received messages; dropping the oldest", self.where,
                                len(self._unclaimed))  # fmt: skip
                return
            self._deliver_to(subs, topic, message)

    def _deliver_to(self, subs: list[Subscription], topic: str, message: Message) -> None:
        done = call_handlers(subs, topic, message)
        with self._lock:
            self._delivered += done.delivered
            self._errors += done.errors

    def _unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            self._subs = [s for s in self._subs if s is not sub]
            last = all(s.pattern != sub.pattern for s in self._subs)
        if last and self._connected.is_set() and not self._closing:
            self._client.unsubscribe(sub.pattern)



__all__ = ["MqttBus", "parse_url"]
