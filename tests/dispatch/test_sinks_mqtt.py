"""MQTT sink against a real Mosquitto on 127.0.0.1 (a free port; tests/mqtt_broker.py), restarted mid-run."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from dispatch.config import DispatchConfig, SinkConfig, UnitConfig
from dispatch.desk import DispatchDesk
from dispatch.errors import DeliveryError
from dispatch.outbox import OutboxMessage
from dispatch.roles import Actor
from dispatch.sinks.mqtt import MqttSink
from dispatch.store import AlertStore
from tests.dispatch.webhook_receiver import free_port, wait_for
from tests.mqtt_broker import Broker

ADMIN = Actor.local_admin()


class Subscriber:
    """A dispatch screen: persistent session (clean_session=False), QoS 1, de-duplicates on the payload id."""

    def __init__(self, port: int, client_id: str, topics: list[str]) -> None:
        self.messages: dict[str, dict[str, Any]] = {}
        self.order: list[str] = []
        self.retained: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self.c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False)
        self.c.reconnect_delay_set(1, 1)

        def on_connect(c: mqtt.Client, u: Any, f: Any, rc: Any, p: Any) -> None:
            for t in topics:
                c.subscribe(t, qos=1)

        def on_message(c: mqtt.Client, u: Any, m: mqtt.MQTTMessage) -> None:
            body = json.loads(m.payload)
            with self._lock:
                if m.topic.endswith("/status"):
                    self.retained[m.topic] = body
                elif body["id"] not in self.messages:
                    self.messages[body["id"]] = body
                    self.order.append(body["id"])

        self.c.on_connect = on_connect
        self.c.on_message = on_message
        self.c.connect_async("127.0.0.1", port)
        self.c.loop_start()

    def close(self) -> None:
        self.c.disconnect()
        self.c.loop_stop()


def test_alerts_and_unit_status_survive_a_broker_restart(
    tmp_path: Path, mosquitto: Broker, inputs: Callable[..., Any]
) -> None:
    broker = mosquitto
    sub = Subscriber(broker.port, "desk-screen", ["lookout/alerts", "lookout/units/+/status"])
    assert wait_for(lambda: sub.c.is_connected())
    sink = SinkConfig(type="mqtt", url=broker.url, timeout_s=1.0, backoff_base_s=0.1, backoff_max_s=0.5)
    units = {"car1": UnitConfig(callsign="CAR 1", lat_deg=52.1, lon_deg=4.3)}
    desk = DispatchDesk(tmp_path / "data" / "alerts.sqlite", DispatchConfig(sinks={"bus": sink}), units, {})
    try:
        with AlertStore(tmp_path / "data" / "alerts.sqlite", on_change=desk.on_change) as store:
            desk.start_sender()
            ids = []
            for i in range(4):
                a = store.ingest(inputs(f"e{i}", feed=f"cam{i}"))
                store.confirm(a.id, ADMIN)
                ids.append(a.id)
            assert wait_for(lambda: len(sub.messages) == 4)
            broker.stop()  # mid-run: the broker goes away
            desk.dispatch(ids[0], "car1")
            store.close(ids[0], ADMIN)
            for i in range(4, 7):
                a = store.ingest(inputs(f"e{i}", feed=f"cam{i}"))
                store.confirm(a.id, ADMIN)
                ids.append(a.id)
            assert wait_for(lambda: (desk.outbox.health()[0].last_error or "").startswith("sink bus"))
            assert desk.outbox.health()[0].queue_depth > 0
            broker.start()
            expected = {m.msg_id for m in desk.outbox.messages() if m.type != "unit"}
            assert wait_for(lambda: set(sub.messages) == expected, timeout_s=60)
            assert wait_for(lambda: desk.outbox.health()[0].queue_depth == 0, timeout_s=30)
    finally:
        desk.close()
        sub.close()
    first = [sub.messages[m] for m in sub.order if sub.messages[m]["after"]["id"] == ids[0]]
    assert [(m["type"], m["seq"]) for m in first] == [("new", 1), ("update", 2), ("end", 3)]
    assert first[1]["before"]["response"]["unit"] is None and first[1]["after"]["response"]["unit"] == "car1"
    # a screen that connects later gets every unit's latest status at once (retained)
    late = Subscriber(broker.port, "late-screen", ["lookout/units/+/status"])
    try:
        assert wait_for(lambda: "lookout/units/car1/status" in late.retained)
        assert late.retained["lookout/units/car1/status"]["status"] == "available"  # freed when the alert closed
    finally:
        late.close()


def _msg() -> OutboxMessage:
    payload = {"type": "new", "id": "m1", "seq": 1, "after": {"id": 1}, "before": None}
    return OutboxMessage(1, "bus", "alert:1", 1, 1, "new", "m1", payload, 0.0, "pending", 1, None)


def test_refused_and_unreachable_brokers_are_one_clear_line(tmp_path: Path, mosquitto: Broker) -> None:
    closed = MqttSink("bus", SinkConfig(type="mqtt", url=f"mqtt://127.0.0.1:{free_port()}", timeout_s=0.5))
    try:
        with pytest.raises(DeliveryError, match=r"no connection to broker .* is it running") as ei:
            closed.deliver(_msg())
        assert ei.value.sink_down
    finally:
        closed.close()
    strict = Broker(mosquitto.binary, tmp_path / "strict", extra_config="allow_anonymous false\n").start()
    refusing = MqttSink("bus", SinkConfig(type="mqtt", url=strict.url, timeout_s=1.0, username="nobody",
                                          password="wrong"))  # fmt: skip
    try:
        with pytest.raises(DeliveryError, match=r"refused the connection \(Not authorized\).*username/password"):
            refusing.deliver(_msg())
    finally:
        refusing.close()
        strict.stop()
