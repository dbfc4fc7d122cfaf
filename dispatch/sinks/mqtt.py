"""MQTT sink: alert messages on ``lookout/alerts`` (QoS 1) in Frigate's shape, unit status retained.

- Alert messages: topic ``topic`` (default ``lookout/alerts``), QoS 1, not retained, JSON
  ``{"type": "new"|"update"|"end"|"test", "id", "seq", "sent_by", "before", "after"}``; ``id`` is the
  outbox message id, so a subscriber de-duplicates QoS 1 re-deliveries and our own retries.
- Unit status: ``<units_topic>/<unit>/status`` (default ``lookout/units/NAME/status``), QoS 1,
  retained, so a dispatch screen that connects later sees every unit's latest status at once.

A message counts as delivered when the broker acknowledged it (PUBACK). The client (paho-mqtt 2.2,
callback API version 2) reconnects by itself after a broker restart; until then deliveries fail
with ``sink_down`` and the sender backs off.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from dispatch.config import SinkConfig, resolve_secret
from dispatch.errors import DeliveryError
from dispatch.outbox import OutboxMessage

log = logging.getLogger(__name__)


class MqttSink:
    def __init__(self, name: str, cfg: SinkConfig, *, client_id: str | None = None) -> None:
        if cfg.url is None:
            raise ValueError("mqtt sink without url")  # the config model already refuses this
        self.name = name
        self.cfg = cfg
        u = urlsplit(cfg.url)
        self.host = u.hostname or "127.0.0.1"
        self.tls = u.scheme == "mqtts"
        self.port = u.port or (8883 if self.tls else 1883)
        password = resolve_secret(cfg.password, f"dispatch.sinks.{name}.password")
        self._connected = threading.Event()
        self._refused: str | None = None
        self._started = False
        self._lock = threading.Lock()
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id or f"lookout-sink-{name}")
        if cfg.username:
            self._client.username_pw_set(cfg.username, None if password is None else password.decode())
        if self.tls:
            self._client.tls_set()
        self._client.reconnect_delay_set(min_delay=1, max_delay=10)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            self._refused = str(reason)
            self._connected.clear()
        else:
            self._refused = None
            self._connected.set()

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        self._connected.clear()

    def _ensure_started(self) -> None:
        with self._lock:
            if self._started:
                return
            try:
                self._client.connect_async(self.host, self.port, keepalive=30)
            except (OSError, ValueError) as exc:
                raise DeliveryError(f"sink {self.name}: cannot connect to {self.cfg.url} ({exc})",
                                    sink_down=True) from None  # fmt: skip
            self._client.loop_start()
            self._started = True

    def _require_connection(self) -> None:
        self._ensure_started()
        if not self._connected.wait(self.cfg.timeout_s):
            if self._refused:
                raise DeliveryError(f"sink {self.name}: broker {self.cfg.url} refused the connection "
                                    f"({self._refused}); check dispatch.sinks.{self.name}.username/password",
                                    sink_down=True)  # fmt: skip
            raise DeliveryError(f"sink {self.name}: no connection to broker {self.cfg.url} within "
                                f"{self.cfg.timeout_s:g} s; is it running and reachable?", sink_down=True)  # fmt: skip

    def topic_and_body(self, msg: OutboxMessage) -> tuple[str, bytes, bool]:
        p = msg.payload
        if msg.type == "unit":
            status = json.dumps(p["after"], sort_keys=True).encode()
            return f"{self.cfg.units_topic or 'lookout/units'}/{p['after']['unit']}/status", status, True
        body = {k: p.get(k) for k in ("type", "id", "seq", "sent_by", "created_utc", "before", "after")}
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        return self.cfg.topic or "lookout/alerts", data, False

    def deliver(self, msg: OutboxMessage) -> None:
        self._require_connection()
        topic, body, retain = self.topic_and_body(msg)
        info = self._client.publish(topic, body, qos=1, retain=retain)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise DeliveryError(f"sink {self.name}: publish to {self.cfg.url} failed ({mqtt.error_string(info.rc)})",
                                sink_down=True)  # fmt: skip
        try:
            info.wait_for_publish(self.cfg.timeout_s)
        except (RuntimeError, ValueError) as exc:
            raise DeliveryError(f"sink {self.name}: publish to {self.cfg.url} failed ({exc})", sink_down=True) from None
        if not info.is_published():
            raise DeliveryError(f"sink {self.name}: broker {self.cfg.url} did not acknowledge within "
                                f"{self.cfg.timeout_s:g} s; will retry", sink_down=True)  # fmt: skip

    def close(self) -> None:
        with self._lock:
            if self._started:
                self._client.disconnect()
                self._client.loop_stop()
                self._started = False
