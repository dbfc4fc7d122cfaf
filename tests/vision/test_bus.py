"""vision.bus InProcessBus (FIFO, bounded, QoS 1 never dropped, handler errors counted, close drains) and
vision.messages (typed messages, their wire form)."""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from vision.behaviours import Event
from vision.bus import BusError, BusFull, InProcessBus, topic_matches
from vision.messages import DetectionsMessage, EventMessage, MessageError, Topics, decode, encode
from vision.types import CameraPose

T0 = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
POSE = CameraPose(52.1, 4.3, 60.0, 40.0, 1.5, -45.0, 90.0, 70.0)


def _event(k: int = 0, **kw) -> Event:
    return Event(kind="zone_entry", severity="medium", feed="gate", t_start_utc=T0, t_end_utc=T0 + timedelta(seconds=k),
                 frame_index=k, track_ids=(3,), xy_px=(120.0, 200.0), box_xyxy=(100.0, 100.0, 140.0, 200.0),
                 score=0.9, zone="door", summary="person 3 entered restricted zone 'door'", details={"n": k},
                 **kw)  # fmt: skip


def _det(k: int) -> DetectionsMessage:
    return DetectionsMessage("gate", k, T0, ({"class": "person", "zone": None},))


@pytest.mark.parametrize(
    ("pattern", "topic", "hit"),
    [
        ("lookout/events", "lookout/events", True),
        ("lookout/events", "lookout/evidence", False),
        ("lookout/detections/+", "lookout/detections/gate", True),
        ("lookout/detections/+", "lookout/detections/gate/x", False),
        ("lookout/#", "lookout/detections/gate", True),
        ("lookout/#", "lookout", True),
        ("#", "anything/at/all", True),
        ("+/events", "lookout/events", True),
        ("lookout/events", "lookout/events/x", False),
        ("", "lookout", False),
    ],
)
def test_topic_filters_match_like_mqtt(pattern: str, topic: str, hit: bool) -> None:
    assert topic_matches(pattern, topic) is hit


def test_messages_reach_matching_subscribers_in_publish_order() -> None:
    got: list[tuple[str, str, int]] = []
    topics = Topics()
    with InProcessBus() as bus:
        bus.subscribe(topics.events, lambda t, m: got.append(("events", t, m.event.frame_index)))
        bus.subscribe(topics.detections(), lambda t, m: got.append(("detections", t, m.frame_index)))
        bus.subscribe("lookout/#", lambda t, m: got.append(("all", t, -1)))
        for k in range(50):
            bus.publish(topics.detections("gate"), _det(k), qos=0)
            bus.publish(topics.events, EventMessage(_event(k)))
        assert bus.flush()
        stats = bus.stats()
    mine = [g for g in got if g[0] != "all"]
    pairs = [(("detections", "lookout/detections/gate", k), ("events", "lookout/events", k)) for k in range(50)]
    expected = [x for pair in pairs for x in pair]
    assert mine == expected
    assert len([g for g in got if g[0] == "all"]) == 100
    assert (stats.published, stats.delivered, stats.dropped, stats.handler_errors) == (100, 200, 0, 0)


def test_a_failing_handler_is_logged_once_counted_and_delivery_goes_on(caplog) -> None:
    seen: list[int] = []

    def broken(topic: str, msg) -> None:
        raise RuntimeError("subscriber bug")

    with caplog.at_level(logging.ERROR, logger="vision.bus"), InProcessBus() as bus:
        bus.subscribe("lookout/events", broken)
        bus.subscribe("lookout/events", lambda t, m: seen.append(m.event.frame_index))
        for k in range(5):
            bus.publish("lookout/events", EventMessage(_event(k)))
        assert bus.flush()
        assert bus.stats().handler_errors == 5
    assert seen == [0, 1, 2, 3, 4]
    assert caplog.text.count("RuntimeError: subscriber bug") == 1  # the traceback once, the count every time


def test_full_queue_drops_qos0_counted_but_qos1_waits_for_room() -> None:
    gate = threading.Event()
    got: list[int] = []

    def slow(topic: str, msg) -> None:
        gate.wait(10)
        got.append(msg.event.frame_index if isinstance(msg, EventMessage) else -msg.frame_index - 1)

    bus = InProcessBus(max_pending=3)
    bus.subscribe("#", slow)
    bus.publish("lookout/events", EventMessage(_event(0)))  # taken by the delivery thread, stuck in slow()
    assert _wait(lambda: bus.stats().pending == 0)
    for k in (1, 2, 3):
        bus.publish("lookout/events", EventMessage(_event(k)))
    bus.publish("lookout/detections/gate", _det(9), qos=0)  # full: dropped, counted
    assert bus.stats().dropped == 1
    done = threading.Event()
    publisher = threading.Thread(target=lambda: (bus.publish("lookout/events", EventMessage(_event(4))), done.set()))
    publisher.start()
    assert not done.wait(0.3)  # QoS 1 waits (backpressure), it is not dropped
    gate.set()
    publisher.join(10)
    assert done.is_set()
    bus.close()
    assert got == [0, 1, 2, 3, 4]


def test_qos1_that_cannot_get_room_is_an_error_not_a_silent_drop() -> None:
    gate = threading.Event()
    bus = InProcessBus(max_pending=1, full_timeout_s=0.2)
    bus.subscribe("#", lambda t, m: gate.wait(10))
    bus.publish("lookout/events", EventMessage(_event(0)))
    assert _wait(lambda: bus.stats().pending == 0)
    bus.publish("lookout/events", EventMessage(_event(1)))
    with pytest.raises(BusFull, match="bus full: 1 messages pending"):
        bus.publish("lookout/events", EventMessage(_event(2)))
    gate.set()
    bus.close()
    assert bus.stats().delivered == 2


def test_lossless_bus_blocks_qos0_too() -> None:
    gate = threading.Event()
    got: list[int] = []
    bus = InProcessBus(max_pending=2, drop_qos0=False)
    bus.subscribe("#", lambda t, m: (gate.wait(10), got.append(m.frame_index)))
    feeder = threading.Thread(target=lambda: [bus.publish("lookout/detections/gate", _det(k), qos=0) for k in range(6)])
    feeder.start()
    assert _wait(lambda: bus.stats().pending == 2)
    gate.set()
    feeder.join(10)
    bus.close()
    assert got == list(range(6)) and bus.stats().dropped == 0


def test_close_delivers_what_is_pending_then_refuses() -> None:
    got: list[int] = []
    bus = InProcessBus()
    bus.subscribe("lookout/events", lambda t, m: got.append(m.event.frame_index))
    for k in range(200):
        bus.publish("lookout/events", EventMessage(_event(k)))
    bus.close()
    assert got == list(range(200))
    with pytest.raises(BusError, match="bus is closed"):
        bus.publish("lookout/events", EventMessage(_event(0)))


def test_a_handler_may_publish_even_when_the_queue_is_full_and_unsubscribe_stops_delivery() -> None:
    got: list[str] = []
    bus = InProcessBus(max_pending=1)

    def relay(topic: str, msg) -> None:
        for _ in range(3):  # more than max_pending, from the delivery thread: must not deadlock
            bus.publish("relay/out", msg)

    bus.subscribe("lookout/events", relay)
    sub = bus.subscribe("relay/out", lambda t, m: got.append(t))
    bus.publish("lookout/events", EventMessage(_event(0)))
    assert bus.flush(10)
    sub.unsubscribe()
    bus.publish("lookout/events", EventMessage(_event(1)))
    bus.close()
    assert got == ["relay/out"] * 3


def test_event_message_round_trips_with_pose_and_follows_frigates_shape() -> None:
    msg = EventMessage(_event(7), pose=POSE, snapshot_jpeg=b"\xff\xd8jpeg\x00", node="node-1")
    wire = encode(msg)
    data = json.loads(wire)
    assert (data["message"], data["type"], data["before"]) == ("event", "new", None)
    assert data["after"]["id"] == msg.event.id and data["after"]["kind"] == "zone_entry"
    back = decode("lookout/events", wire)
    assert back == msg  # every field, the event id and the bytes included


def test_event_message_carries_its_ground_position_and_track_path() -> None:
    geolocate = pytest.importorskip("vision.geolocate")
    msg = EventMessage(_event(1), pose=POSE, position=geolocate.GroundFix(52.10001, 4.30002, 3.5),
                       track_path=((52.1, 4.3), (52.10001, 4.30002)))
    assert decode("lookout/events", encode(msg)).position == msg.position


def test_detections_message_is_detects_json_line() -> None:
    msg = DetectionsMessage("gate", 4, T0, ({"class": "person", "confidence": 0.9, "zone": "door"},), POSE, "n", 12.3)
    assert msg.detection_line() == {"type": "detection", "feed": "gate", "frame": 4, "capture_t_utc": T0.isoformat(),
                                    "objects": [{"class": "person", "confidence": 0.9, "zone": "door"}]}  # fmt: skip
    assert decode("lookout/detections/gate", encode(msg)) == msg


@pytest.mark.parametrize(
    ("payload", "match"),
    [
        (b"not json", "malformed message"),
        (b"[]", "not a Lookout message"),
        (b'{"message": "alert"}', "not a Lookout message"),
        (b'{"message": "event", "after": {"kind": "x"}}', "malformed message .KeyError"),
        (b'{"message": "evidence", "evidence": null}', "evidence message without 'evidence'"),
    ],
)
def test_bad_payloads_are_one_clear_error(payload: bytes, match: str) -> None:
    with pytest.raises(MessageError, match=match) as info:
        decode("lookout/events", payload)
    assert "bus topic lookout/events" in str(info.value) and "\n" not in str(info.value)


def test_topic_names_are_one_level_per_feed() -> None:
    t = Topics("site/a")
    assert (t.events, t.evidence, t.detections("Drone #1/cam"), t.detections(), t.available("n1")) == (
        "site/a/events", "site/a/evidence", "site/a/detections/Drone _1_cam", "site/a/detections/+",
        "site/a/available/n1")  # fmt: skip


def _wait(cond, timeout_s: float = 5.0) -> bool:
    """Poll ``cond`` until true or ``timeout_s`` (a condition wait, not a sleep-and-hope)."""
    deadline = time.monotonic() + timeout_s
    tick = threading.Event()
    while not cond():
        if time.monotonic() > deadline:
            return False
        tick.wait(0.01)
    return True
