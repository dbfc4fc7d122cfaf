"""Units on the desk over a real store: positions (by hand, GPS feed messages), dispatch, auto on scene."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from dispatch.config import DispatchConfig, SinkConfig, UnitConfig
from dispatch.desk import DispatchDesk
from dispatch.errors import ResponseError, UnitError
from dispatch.roles import Actor
from dispatch.store import AlertStore
from dispatch.units import parse_position_message

ADMIN = Actor.local_admin()
UNITS = {
    "car1": UnitConfig(callsign="CAR 1", kind="car", lat_deg=52.11, lon_deg=4.3),
    "foot1": UnitConfig(callsign="FOOT 1", kind="foot"),  # no position yet
    "boat1": UnitConfig(callsign="BOAT 1", kind="boat", lat_deg=52.1, lon_deg=4.31, status="off_duty"),
}


@pytest.fixture
def desk_store(tmp_path: Path) -> Iterator[tuple[DispatchDesk, AlertStore]]:
    sinks = {"bus": SinkConfig(type="mqtt", url="mqtt://127.0.0.1:1"), "desk": SinkConfig(type="webhook", url="http://x/")}
    desk = DispatchDesk(tmp_path / "alerts.sqlite", DispatchConfig(sinks=sinks, on_scene_radius_m=50), UNITS, {})
    with desk, AlertStore(tmp_path / "alerts.sqlite", on_change=desk.on_change) as store:
        yield desk, store


def test_board_starts_from_the_config(desk_store: tuple[DispatchDesk, AlertStore]) -> None:
    desk, _ = desk_store
    units = {u.name: u for u in desk.units()}
    car = units["car1"]
    assert (car.status, car.lat_deg, car.position_source) == ("available", 52.11, "config")
    assert units["foot1"].lat_deg is None and units["boat1"].status == "off_duty"


def test_dispatch_then_gps_within_radius_sets_on_scene(desk_store: tuple[DispatchDesk, AlertStore],
                                                       inputs: Callable[..., Any]) -> None:  # fmt: skip
    desk, store = desk_store
    a = store.ingest(inputs("e1"))  # at 52.1, 4.3
    with pytest.raises(ResponseError, match="not confirmed"):
        desk.dispatch(a.id, "car1")
    store.confirm(a.id, ADMIN)
    rec = desk.recommend(store.get(a.id))
    assert [c.unit.name for c in rec.ranked] == ["car1"]
    assert dict(rec.not_offered)["foot1"].startswith("no position")
    assert dict(rec.not_offered)["boat1"] == "off duty"
    desk.dispatch(a.id, "car1", "dispatcher1")
    b = store.ingest(inputs("e2", feed="other"))
    store.confirm(b.id, ADMIN)
    with pytest.raises(UnitError, match=f"car1 is assigned to alert {a.id}; pick another unit"):
        desk.dispatch(b.id, "car1")  # an assigned unit is not offered twice
    assert "car1" not in [c.unit.name for c in desk.recommend(store.get(b.id)).ranked]
    desk.set_position("car1", 52.105, 4.3, source="gps")  # ~550 m away: still on the way
    assert desk.record(a.id).on_scene_utc is None  # type: ignore[union-attr]
    u = desk.set_position("car1", 52.1002, 4.3, source="gps")  # ~22 m: within 50 m
    rec2 = desk.record(a.id)
    assert u.status == "on_scene" and rec2 is not None and rec2.on_scene_by == "auto:car1"
    store.close(a.id, ADMIN)
    car = {u.name: u for u in desk.units()}["car1"]
    assert (car.status, car.alert_id, car.position_source) == ("available", None, "gps")  # freed on close
    # every step went to the outbox: alert updates for both sinks, the unit's status for MQTT only
    msgs = desk.outbox.messages(alert_id=a.id, sink="desk")
    assert [m.type for m in msgs] == ["new", "update", "update", "end"]
    statuses = [m.payload["after"]["status"] for m in desk.outbox.messages(sink="bus") if m.type == "unit"]
    assert statuses == ["assigned", "on_scene", "available"]
    assert not [m for m in desk.outbox.messages(sink="desk") if m.type == "unit"]


@pytest.mark.parametrize(
    ("topic", "payload", "expect"),
    [
        ("lookout/units/car1/position", b'{"lat": 52.1, "lon": 4.3, "t": "2026-06-01T12:00:00Z"}', (52.1, 4.3)),
        ("lookout/units/car1/position", b'{"lat_deg": 52.1, "lon_deg": 4.3}', (52.1, 4.3)),
        ("lookout/units/car1/position", b"not json", "not JSON with lat and lon"),
        ("lookout/units/car1/position", b'{"lat": 52.1}', "not JSON with lat and lon"),
        ("lookout/units/car1/position", b'{"lat": 152.1, "lon": 4.3}', "is not lat/lon in degrees"),
        ("lookout/units/car1/speed", b'{"lat": 52.1, "lon": 4.3}', "not a unit position topic"),
        ("lookout/units/car1/position", b"", "not JSON"),
    ],
)
def test_position_messages(topic: str, payload: bytes, expect: Any) -> None:
    if isinstance(expect, str):
        with pytest.raises(UnitError, match=expect):
            parse_position_message(topic, payload)
    else:
        rep = parse_position_message(topic, payload)
        assert (rep.unit, rep.lat_deg, rep.lon_deg) == ("car1", *expect) and rep.t_utc.tzinfo is not None


def test_bad_position_and_unknown_unit_change_nothing(desk_store: tuple[DispatchDesk, AlertStore]) -> None:
    desk, _ = desk_store
    before = desk.units()
    with pytest.raises(UnitError, match="not lat/lon in degrees; nothing changed"):
        desk.set_position("car1", float("nan"), 4.3)
    with pytest.raises(UnitError, match=r"no unit 'car9'; .* has: boat1, car1, foot1"):
        desk.set_position("car9", 52.1, 4.3)
    with pytest.raises(UnitError, match="set by dispatching"):
        desk.set_status("car1", "on_scene")
    assert desk.units() == before
    assert desk.set_status("boat1", "available").status == "available"


def test_gps_feed_over_real_mqtt_moves_units_and_sets_on_scene(
    tmp_path: Path, mosquitto: Any, inputs: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    import json

    import paho.mqtt.publish as publish

    from dispatch.unit_feed import UnitPositionFeed
    from tests.dispatch.webhook_receiver import wait_for

    desk = DispatchDesk(tmp_path / "alerts.sqlite", DispatchConfig(on_scene_radius_m=50), UNITS, {})
    with desk, AlertStore(tmp_path / "alerts.sqlite", on_change=desk.on_change) as store, \
            UnitPositionFeed(mosquitto.url, desk) as feed:  # fmt: skip
        assert feed.connected.wait(10)
        a = store.ingest(inputs("e1"))
        store.confirm(a.id, ADMIN)
        desk.dispatch(a.id, "car1")
        host, port = "127.0.0.1", mosquitto.port
        pub = lambda topic, body: publish.single(topic, body, qos=1, hostname=host, port=port)  # noqa: E731
        pub("lookout/units/foot1/position", json.dumps({"lat": 52.2, "lon": 4.4}))
        pub("lookout/units/ghost/position", json.dumps({"lat": 52.2, "lon": 4.4}))  # not configured
        pub("lookout/units/car1/position", b"garbage")
        pub("lookout/units/car1/position", json.dumps({"lat": 52.10015, "lon": 4.3}))  # 17 m from the alert
        assert wait_for(lambda: feed.updates == 2 and feed.rejected == 2)
        units = {u.name: u for u in desk.units()}
        assert (units["foot1"].lat_deg, units["foot1"].position_source) == (52.2, "gps")
        assert units["car1"].status == "on_scene" and desk.record(a.id).on_scene_by == "auto:car1"  # type: ignore[union-attr]
    assert any("no unit 'ghost'" in r.getMessage() for r in caplog.records)
    assert any("not JSON with lat and lon" in r.getMessage() for r in caplog.records)


def test_drone_units_follow_their_vehicles(tmp_path: Path) -> None:
    from dispatch.drone_first import DroneSnapshot

    units = {**UNITS, "eagle1": UnitConfig(callsign="EAGLE 1", kind="drone", sysid=2)}
    desk = DispatchDesk(tmp_path / "alerts.sqlite", DispatchConfig(), units, {})
    with desk, AlertStore(tmp_path / "alerts.sqlite", on_change=desk.on_change):
        snap = DroneSnapshot("copter 2", 2, 52.2, 4.4, 80.0, 3, 0.2)
        other = DroneSnapshot("copter 7", 7, 52.3, 4.5, 80.0, 3, 0.2)  # no unit has sysid 7
        assert desk.sync_drones([snap, other]) == 1
        assert desk.sync_drones([snap]) == 0  # has not moved: no write
        assert desk.sync_drones([DroneSnapshot("copter 2", 2, 52.201, 4.4, 80.0, 3, 0.2)]) == 1  # 111 m on
        eagle = {u.name: u for u in desk.units()}["eagle1"]
        assert (eagle.lat_deg, eagle.position_source) == (52.201, "mavlink")
