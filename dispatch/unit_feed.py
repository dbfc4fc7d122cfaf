"""``UnitPositionFeed``: unit positions from a GPS tracker gateway on MQTT into the desk.

Subscribes (QoS 1) to ``lookout/units/+/position`` on the broker at ``url``; each message
(``{"lat": .., "lon": .., "t": "…Z"}``) becomes ``desk.set_position(unit, lat, lon, source="gps")``,
which also sets an assigned unit on scene when it comes within ``on_scene_radius_m`` of its alert.
A malformed message or an unknown unit is logged in one line (once per topic until it is good
again) and changes nothing. paho-mqtt 2.2, callback API version 2; reconnects and resubscribes.
"""

from __future__ import annotations

import logging
import threading
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from dispatch.errors import DispatchError
from dispatch.units import parse_position_message

log = logging.getLogger(__name__)
TOPIC = "lookout/units/+/position"


class UnitPositionFeed:
    def __init__(self, url: str, desk: Any, *, topic: str = TOPIC, client_id: str = "lookout-unit-feed") -> None:
        u = urlsplit(url)
        self.desk = desk
        self.topic = topic
        self.updates = 0
        self.rejected = 0
        self._bad_topics: set[str] = set()
        self._lock = threading.Lock()
        self.connected = threading.Event()
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
        if u.scheme == "mqtts":
            self._client.tls_set()
        self._client.reconnect_delay_set(1, 10)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = lambda *a: self.connected.clear()
        self._client.on_message = self._on_message
        self._client.connect_async(u.hostname or "127.0.0.1", u.port or (8883 if u.scheme == "mqtts" else 1883))
        self._client.loop_start()

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            log.error("unit position feed: broker refused the connection (%s)", reason)
            return
        client.subscribe(self.topic, qos=1)
        self.connected.set()

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        try:
            rep = parse_position_message(msg.topic, msg.payload)
            self.desk.set_position(rep.unit, rep.lat_deg, rep.lon_deg, source="gps", t_utc=rep.t_utc)
        except DispatchError as exc:
            with self._lock:
                self.rejected += 1
                first = msg.topic not in self._bad_topics
                self._bad_topics.add(msg.topic)
            if first:
                log.warning("unit position feed: %s", exc)
            return
        with self._lock:
            self.updates += 1
            self._bad_topics.discard(msg.topic)

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def __enter__(self) -> UnitPositionFeed:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
