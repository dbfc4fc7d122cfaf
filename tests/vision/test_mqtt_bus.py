"""vision.mqtt_bus.MqttBus against a real Mosquitto: typed messages round trip, QoS 1 persistent sessions
(messages published while a subscriber is away arrive when it returns, also across a broker SIGKILL),
availability with a last will, handler errors counted, bad URLs one line."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from vision.behaviours import Event
from vision.bus import BusError
from vision.messages import DetectionsMessage, EventMessage, Topics
from vision.mqtt_bus import MqttBus, parse_url
from vision.types import CameraPose

T0 = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
TOPICS = Topics()


def _event(k: int) -> Event:
    return Event(kind="zone_entry", severity="medium", feed="gate", t_start_utc=T0, t_end_utc=T0 + timedelta(seconds=k),
                 frame_index=k, track_ids=(k,), xy_px=(1.0, 2.0), box_xyxy=(0.0, 0.0, 2.0, 2.0), score=0.5)  # fmt: skip


class Inbox:
    def __init__(self) -> None:
        self.items: list[tuple[str, object]] = []
        self.cond = threading.Condition()

    def __call__(self, topic: str, msg: object) -> None:
        with self.cond:
            self.items.append((topic, msg))
            self.cond.notify_all()

    def wait_for(self, n: int, timeout_s: float = 20.0) -> bool:
        with self.cond:
            return self.cond.wait_for(lambda: len(self.items) >= n, timeout_s)

    def frames(self) -> list[int]:
        return [m.event.frame_index for _, m in self.items if isinstance(m, EventMessage)]


def _bus(broker, client_id: str, **kw) -> MqttBus:
    return MqttBus(broker.host, broker.port, client_id=client_id, reconnect_min_s=1, reconnect_max_s=1, **kw)


def test_typed_messages_cross_the_broker_with_their_bytes_and_pose(mosquitto) -> None:
    inbox = Inbox()
    with _bus(mosquitto, "t-sub") as sub, _bus(mosquitto, "t-pub", node="cam-node") as pub:
        sub.subscribe(TOPICS.events, inbox)
        sub.subscribe(TOPICS.detections(), inbox)
        assert sub.flush()
        pose = CameraPose(52.0, 4.0, 50.0, 40.0, 0.0, -45.0, 10.0, 70.0)
        ev = EventMessage(_event(1), pose=pose, snapshot_jpeg=bytes(range(256)) * 400, node="cam-node")
        pub.publish(TOPICS.events, ev)
        pub.publish(TOPICS.detections("gate"), DetectionsMessage("gate", 1, T0, ({"class": "person"},)), qos=0)
        assert inbox.wait_for(2)
    got = dict(inbox.items)
    assert got[TOPICS.events] == ev  # the event id, the pose and 100 kB of bytes intact
    assert got["lookout/detections/gate"].objects == ({"class": "person"},)


def test_messages_published_while_the_subscriber_is_away_arrive_when_it_returns(mosquitto) -> None:
    first = Inbox()
    sub = _bus(mosquitto, "t-persistent")
    sub.subscribe(TOPICS.events, first)
    sub.close()  # waits for the SUBACK: the broker holds the subscription in the session
    with _bus(mosquitto, "t-pub2") as pub:
        for k in range(20):
            pub.publish(TOPICS.events, EventMessage(_event(k)))
        assert pub.flush()
    later = Inbox()
    back = _bus(mosquitto, "t-persistent")  # the same client id: the broker kept its session and messages
    back.subscribe(TOPICS.events, later)
    assert later.wait_for(20)
    back.close()
    assert later.frames() == list(range(20)) and first.items == []


def test_nothing_published_after_a_broker_sigkill_and_restart_is_lost(mosquitto) -> None:
    inbox = Inbox()
    sub = _bus(mosquitto, "t-restart-sub")
    pub = _bus(mosquitto, "t-restart-pub")
    try:
        sub.subscribe(TOPICS.events, inbox)
        assert sub.flush()
        for k in range(10):
            pub.publish(TOPICS.events, EventMessage(_event(k)))
        assert inbox.wait_for(10)
        assert mosquitto.wait_saved(time.monotonic())  # the subscriber's session is on disk
        mosquitto.kill()
        assert _until(lambda: not pub.connected and not sub.connected)
        for k in range(10, 15):  # published while the broker is down: paho keeps them and sends them later
            pub.publish(TOPICS.events, EventMessage(_event(k)))
        mosquitto.start()
        for k in range(15, 40):  # published after it returned, whether or not we reconnected yet
            pub.publish(TOPICS.events, EventMessage(_event(k)))
        assert pub.flush(30)
        assert _until(lambda: set(range(15, 40)) <= set(inbox.frames()), 30), sorted(set(inbox.frames()))
        assert set(range(40)) <= set(inbox.frames())  # the ones from the outage too
        assert sub.connects >= 2 and pub.connects >= 2
    finally:
        pub.close(2)
        sub.close(2)


def test_a_failing_handler_is_counted_and_others_still_get_the_message(mosquitto) -> None:
    inbox = Inbox()

    def broken(topic: str, msg: object) -> None:
        raise ValueError("bug")

    with _bus(mosquitto, "t-h-sub") as sub, _bus(mosquitto, "t-h-pub") as pub:
        sub.subscribe(TOPICS.events, broken)
        sub.subscribe(TOPICS.events, inbox)
        assert sub.flush()  # subscribed (SUBACK) before anything is published
        pub.publish(TOPICS.events, EventMessage(_event(3)))
        assert inbox.wait_for(1)
        assert sub.stats().handler_errors == 1


def test_availability_is_online_while_connected_and_the_last_will_says_offline(mosquitto) -> None:
    """A node process killed with SIGKILL: the broker publishes its retained 'offline'."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    seen: list[bytes] = []
    cond = threading.Condition()

    def on_message(client, userdata, msg) -> None:
        with cond:
            seen.append(msg.payload)
            cond.notify_all()

    watcher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="t-watch")
    watcher.on_message = on_message
    watcher.connect(mosquitto.host, mosquitto.port)
    watcher.subscribe(TOPICS.available("victim"), qos=1)
    watcher.loop_start()
    code = (f"from vision.mqtt_bus import MqttBus\nb = MqttBus('127.0.0.1', {mosquitto.port}, client_id='victim', "
            "node='victim', keepalive_s=5)\nprint('up', flush=True)\nimport time\ntime.sleep(60)\n")  # fmt: skip
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "up"
        with cond:
            assert cond.wait_for(lambda: b"online" in seen, 10)
        proc.kill()
        with cond:
            assert cond.wait_for(lambda: seen[-1:] == [b"offline"], 20), seen
    finally:
        proc.kill()
        proc.wait(5)
        watcher.loop_stop()
        watcher.disconnect()


@pytest.mark.parametrize(
    ("url", "match"),
    [("http://x:1", "expected mqtt://HOST:PORT"), ("mqtt://", "expected mqtt://HOST:PORT"),
     ("mqtt://h:99999", "port is not a number")],
)  # fmt: skip
def test_bad_urls_are_one_line(url: str, match: str) -> None:
    with pytest.raises(BusError, match=match):
        parse_url(url)


def test_no_broker_is_one_clear_error_at_start() -> None:
    from tests.mqtt_broker import free_port

    port = free_port()
    with pytest.raises(BusError, match=rf"bus mqtt://127.0.0.1:{port}: no connection to the MQTT broker within 2 s"):
        MqttBus("127.0.0.1", port, client_id="t-none", connect_timeout_s=2)
    assert parse_url("mqtts://broker.example") == ("broker.example", 8883, True)


def _until(cond, timeout_s: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout_s
    tick = threading.Event()
    while not cond():
        if time.monotonic() > deadline:
            return False
        tick.wait(0.05)
    return True


def test_credentials_come_from_the_config_and_a_refusal_is_one_clear_error(tmp_path, monkeypatch) -> None:
    from tests.mqtt_broker import Broker, mosquitto_binary
    from vision.config import BusConfig

    if mosquitto_binary() is None or shutil.which("mosquitto_passwd") is None:
        pytest.skip("mosquitto / mosquitto_passwd are not installed (scripts/setup installs them)")
    broker = Broker(mosquitto_binary(), tmp_path / "auth", users={"cam1": "s3cret"}).start()
    try:
        cfg = BusConfig(type="mqtt", url=broker.url, client_id="t-auth", username="cam1", password_env="T_MQTT_PW")
        monkeypatch.setenv("T_MQTT_PW", "s3cret")
        with MqttBus.from_config(cfg) as bus:
            assert bus.connected
        monkeypatch.setenv("T_MQTT_PW", "wrong")
        with pytest.raises(BusError, match=r"refused client 't-auth': Not authorized; check \[bus\] username"):
            MqttBus.from_config(cfg)
        monkeypatch.delenv("T_MQTT_PW")
        with pytest.raises(BusError, match="environment variable T_MQTT_PW is not set"):
            MqttBus.from_config(cfg)
    finally:
        broker.stop()


def test_mqtts_with_the_configured_ca_connects_and_a_plain_client_cannot(tmp_path) -> None:
    """TLS from [bus]: mqtts:// + ca_file; the broker's certificate is for 127.0.0.1 (checked by paho)."""
    from tests.mqtt_broker import Broker, mosquitto_binary
    from vision.config import BusConfig

    if mosquitto_binary() is None or shutil.which("openssl") is None:
        pytest.skip("mosquitto / openssl are not installed")
    d = tmp_path / "tls"
    d.mkdir()

    def ssl_cmd(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60, cwd=d)

    ssl_cmd("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
            "-subj", "/CN=lookout test CA")  # fmt: skip
    ssl_cmd("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
            "-subj", "/CN=127.0.0.1")  # fmt: skip
    (d / "san.ext").write_text("subjectAltName = IP:127.0.0.1\n")
    ssl_cmd("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "server.crt", "-days", "2", "-extfile", "san.ext")  # fmt: skip
    broker = Broker(mosquitto_binary(), tmp_path / "broker",
                    extra_config=f"cafile {d / 'ca.crt'}\ncertfile {d / 'server.crt'}\nkeyfile {d / 'server.key'}\n",
                    ).start()  # fmt: skip
    try:
        inbox = Inbox()
        cfg = BusConfig(type="mqtt", url=f"mqtts://127.0.0.1:{broker.port}", client_id="t-tls", ca_file=d / "ca.crt")
        with MqttBus.from_config(cfg) as bus:
            bus.subscribe(TOPICS.events, inbox)
            assert bus.flush()
            bus.publish(TOPICS.events, EventMessage(_event(1)))
            assert inbox.wait_for(1)
        with pytest.raises(BusError):  # plain MQTT on the TLS port: no session
            MqttBus(broker.host, broker.port, client_id="t-plain", connect_timeout_s=3)
    finally:
        broker.stop()
