"""lookout.dispatching in the console over the embedded simulator: a confirmed alert is forwarded to a real
signed receiver, the panel recommends the least-ETA unit (not the nearest) against a 1-minute key site and
assigns it, units and areas are on the map, a unit is placed by hand from the map's menu, and "Send drone"
has the nearest ready drone flying toward the spot (the click -> moving time is printed, not asserted);
with no qualifying drone the status bar says why for each one."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dispatch.receiver import DeskReceiver
from dispatch.response import distance_m
from dispatch.roles import Actor, Role
from dispatch.types import AlertInput, AlertState, Position
from lookout.audit import AuditLog
from lookout.config import parse_config
from missions.geo import LocalFrame

pytestmark = pytest.mark.gui
log = logging.getLogger(__name__)
HOME = (52.2297, 21.0122, 100.0)
ADMIN = Actor.local_admin()
SECRET = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY"
SPOT_NE = (50.0, 300.0)  # the alert, metres (north, east) of home; drone 2 starts 400 m east (112 m away)


def at(north_m: float, east_m: float) -> tuple[float, float]:
    return LocalFrame(HOME[0], HOME[1]).point_to_geo(east_m, north_m)


def config_text(desk_url: str) -> str:
    sn, se = SPOT_NE
    foot = at(sn + 100, se)  # nearest in a straight line: 100 m, but on foot 87 s (late for 1 min)
    moto = at(sn - 480, se)  # 480 m, 54 s: the least ETA, makes the 1-minute deadline
    car = at(sn, se - 900)  # 900 m, 115 s
    ring = [at(sn + dn, se + de) for dn, de in ((-60, -60), (-60, 60), (60, 60), (60, -60), (-60, -60))]
    coords = ", ".join(f"[{lon}, {lat}]" for lat, lon in ring)
    return f"""
[dispatch.sinks.desk]
type = "webhook"
url = "{desk_url}"
secret = "{SECRET}"
backoff_base_s = 0.2
[units.foot1]
callsign = "FOOT 1"
kind = "foot"
lat_deg = {foot[0]}
lon_deg = {foot[1]}
[units.moto1]
callsign = "MOTO 1"
kind = "motorcycle"
lat_deg = {moto[0]}
lon_deg = {moto[1]}
[units.car1]
callsign = "CAR 1"
kind = "car"
lat_deg = {car[0]}
lon_deg = {car[1]}
[units.drone1]
callsign = "DRONE 1"
kind = "drone"
sysid = 1
status = "off_duty"
[response_areas.bank]
target_min = 1
label = "Bank"
geometry = {{ type = "Polygon", coordinates = [[{coords}]] }}
"""


@pytest.fixture
def console(qtbot: Any, tmp_path: Path) -> Iterator[dict[str, Any]]:
    from console.main_window import MainWindow
    from console.services import ConsoleServices
    from dispatch.store import AlertStore
    from flight import Fleet, Link
    from flight.sim import SimFleet
    from lookout.console_services import StoreAlerts
    from lookout.dispatching import Dispatching
    from lookout.wiring import FleetActions, FleetView

    receiver = DeskReceiver(SECRET)
    cfg = parse_config(config_text(receiver.url))
    audit = AuditLog(tmp_path / "audit.sqlite")
    sim = SimFleet.start(vehicles=2, home=HOME, speedup=2.0, listen="tcp:127.0.0.1:0", spacing_m=400.0)
    fleet = Fleet({f"sim{i + 1}": Link.open(v.url) for i, v in enumerate(sim.vehicles)})
    dispatching = Dispatching.open(tmp_path, cfg, audit=audit.append)
    store = AlertStore(tmp_path / "alerts.sqlite", audit=audit.append, on_change=dispatching.on_change)
    view = FleetView(fleet)
    actions = FleetActions(view, audit.append, actor=ADMIN)
    dispatching.attach(store=store, fleet=view, actions=actions).start()
    services = ConsoleServices(fleet=view, actions=actions, alerts=StoreAlerts(store, tmp_path), actor=ADMIN,
                               dispatch=dispatching, map_center=HOME[:2])  # fmt: skip
    win = MainWindow(services, actor=ADMIN)
    qtbot.addWidget(win)
    win.resize(1500, 950)
    win.show()
    try:
        yield {"win": win, "store": store, "dispatching": dispatching, "receiver": receiver, "view": view,
               "actions": actions, "audit": audit}  # fmt: skip
    finally:
        win.close()
        dispatching.close()
        store.close_db()
        fleet.close()
        sim.stop()
        receiver.close()
        audit.close()


def _ready(qtbot: Any, view: Any) -> None:
    def ready() -> bool:
        snap = view.snapshot()
        return len(snap) == 2 and all(s.ekf_ok and s.gps_fix >= 3 and s.lat_deg for s in snap.values())

    qtbot.waitUntil(ready, timeout=60_000)


def _airborne(qtbot: Any, view: Any, actions: Any, alt_m: float = 20.0) -> None:
    for sysid in (1, 2):
        actions.takeoff(sysid, alt_m)
    qtbot.waitUntil(lambda: all((s.alt_rel_m or 0) > alt_m - 3 for s in view.snapshot().values()), timeout=60_000)


def test_confirm_recommend_assign_place_and_send_the_nearest_drone(qtbot: Any, console: dict[str, Any]) -> None:
    win, store, dispatching, receiver = console["win"], console["store"], console["dispatching"], console["receiver"]
    view = console["view"]
    dock = win.dispatch_dock
    assert dock is not None and win.alert_queue is not None
    queue, panel = win.alert_queue, dock.panel
    assert dock.layer.area_names() == ["bank"] and dock.layer.area_colour("bank") == "#e53935"  # 1 min: red
    # the board is read off the GUI thread, then shown
    qtbot.waitUntil(lambda: set(dock.layer.unit_names()) == {"foot1", "moto1", "car1"}, timeout=5000)  # drone: none
    qtbot.waitUntil(lambda: "desk: ok" in dock.sinks_label.text(), timeout=5000)

    lat, lon = at(*SPOT_NE)
    t = datetime.now(UTC)
    alert = store.ingest(AlertInput("ev1", "fight", "high", "square cam", t, t + timedelta(seconds=2), (1,),
                                    Position(lat, lon, 3.0), None, "fight in front of the bank", {}, 60))  # fmt: skip
    win.poll_alerts()
    with qtbot.waitSignal(queue.alert_opened, timeout=5000):
        assert queue.select_alert(alert.id)
    assert panel.alert is not None and panel.alert.id == alert.id
    queue.detail.buttons["confirm"].click()  # the console's confirm: outbox row in the same transaction
    assert store.get(alert.id).state == AlertState.CONFIRMED
    qtbot.waitUntil(lambda: any(m.type == "new" and m.alert_id == alert.id for m in receiver.received()),
                    timeout=10_000)  # fmt: skip
    win.poll_alerts()  # the queue hands the confirmed alert to the panel (read off the GUI thread)
    qtbot.waitUntil(lambda: panel.assign_button.isEnabled() and panel.phase_label.text().startswith("confirmed"),
                    timeout=5000)  # fmt: skip
    qtbot.waitUntil(lambda: panel.units.rowCount() == 3, timeout=5000)
    rows = [panel.units.item(r, 0).text() for r in range(3)]
    assert rows == ["MOTO 1", "FOOT 1", "CAR 1"], rows  # least ETA first, not the nearest (FOOT 1)
    assert panel.units.item(0, 4).text() == "makes it" and panel.units.item(1, 4).text().startswith("late")
    assert "class Bank (1 min)" in panel.title.text()  # the area's label
    assert panel.selected_unit() == "moto1"
    panel.assign_button.click()  # runs off the GUI thread, reports by signal

    def unit_of() -> str | None:
        rec = dispatching.desk.record(alert.id)
        return None if rec is None else rec.unit

    qtbot.waitUntil(lambda: unit_of() == "moto1", timeout=5000)
    qtbot.waitUntil(lambda: f"MOTO 1 · assigned → #{alert.id}" == dock.layer.unit_label("moto1"), timeout=5000)
    qtbot.waitUntil(lambda: any(m.type == "update" and (m.body["after"].get("response") or {}).get("unit") == "moto1"
                                for m in receiver.received()), timeout=10_000)  # fmt: skip

    # by hand: the foot patrol placed from the map's right-click menu (the panel's selected unit first)
    where = at(SPOT_NE[0] + 20, SPOT_NE[1] + 20)
    seen: list[str] = []
    _right_click_and_choose(qtbot, win, where, "FOOT 1", seen)
    assert any(t.startswith("Fly selected drone here") for t in seen) and "Place unit here" in seen
    qtbot.waitUntil(lambda: abs(dock.layer.unit_pos("foot1").x() - _scene_x(*where)) < 2.0, timeout=5000)
    assert next(u for u in dispatching.units() if u.name == "foot1").position_source == "manual"

    # no drone qualifies: the status bar names each drone's reason
    _ready(qtbot, view)
    good = dispatching.desk.cfg
    dispatching.desk.cfg = good.model_copy(update={"drone": good.drone.model_copy(update={"min_gps_fix": 6})})
    panel.drone_button.click()
    qtbot.waitUntil(lambda: "no drone can go" in win.statusBar().currentMessage(), timeout=5000)
    msg = win.statusBar().currentMessage()
    assert "DRONE 1 (#1): GPS fix 3 (needs 6)" in msg and "; #2: GPS fix 3 (needs 6)" in msg
    assert panel.notice.text() == msg and "#c62828" in panel.notice.styleSheet()  # stays in the panel too
    dispatching.desk.cfg = good

    _airborne(qtbot, view, console["actions"])
    qtbot.waitUntil(lambda: "drone1" in dock.layer.unit_names(), timeout=5000)  # the drone unit follows its vehicle
    d0 = {s: distance_m(st.lat_deg, st.lon_deg, lat, lon) for s, st in view.snapshot().items()}
    assert d0[2] < d0[1]
    t_click = time.monotonic()
    panel.drone_button.click()

    def moving_toward() -> bool:
        st = view.snapshot()[2]
        return st.mode == "GUIDED" and st.groundspeed_m_s >= 1.0 and distance_m(st.lat_deg, st.lon_deg, lat, lon) \
            < d0[2] - 1.0  # fmt: skip

    qtbot.waitUntil(moving_toward, timeout=20_000)
    elapsed = time.monotonic() - t_click
    print(f"\nclick -> drone #2 GUIDED and moving toward the spot: {elapsed * 1000:.0f} ms")
    qtbot.waitUntil(lambda: dock.last_sent is not None, timeout=5000)
    assert dock.last_sent.sysid == 2 and dock.last_sent.roi and not dock.last_sent.took_off
    assert "Drone #2" in win.statusBar().currentMessage() and win.selected == 2
    assert view.snapshot()[1].mode == "GUIDED" and view.snapshot()[1].groundspeed_m_s < 1.0  # the other one stays
    actions_log = [(e.action, e.subject) for e in console["audit"].entries()]
    assert ("alerts.drone_sent", f"alert {alert.id}") in actions_log and ("alerts.dispatch", f"alert {alert.id}") \
        in actions_log  # fmt: skip
    # drone 2 is now busy with this alert: another alert gets drone 1, on an orbit once the pilot confirms
    other = _other_alert(store, lat, lon)
    assert dispatching.choose_drone(other, ADMIN).drone.sysid == 1
    win.poll_alerts()
    with qtbot.waitSignal(queue.alert_opened, timeout=5000):
        assert queue.select_alert(other.id)
    asked: list[str] = []
    dock.confirm_orbit = lambda q: asked.append(q) or False  # the pilot says no: nothing is sent
    panel.orbit_button.click()
    qtbot.waitUntil(lambda: "not confirmed" in win.statusBar().currentMessage(), timeout=5000)
    assert "#1" in asked[0] and "3-turn orbit of 40 m" in asked[0]
    assert view.snapshot()[1].mode == "GUIDED" and 1 not in dispatching.sent_drones()
    dock.confirm_orbit = lambda q: True
    panel.orbit_button.click()
    qtbot.waitUntil(lambda: dock.last_sent.sysid == 1, timeout=30_000)
    assert dock.last_sent.orbit == "3-turn orbit of 40 m" and dispatching.sent_drones()[1] == other.id
    qtbot.waitUntil(lambda: view.snapshot()[1].mode == "AUTO" and view.snapshot()[1].mission_total >= 6,
                    timeout=10_000)  # fmt: skip
    from flight.mission_transfer import download_mission
    from missions import mavcmd

    flown = download_mission(view.link(1), sysid=1)
    assert [i.command for i in flown.items][-3:] == [mavcmd.NAV_LOITER_TURNS, mavcmd.DO_SET_ROI_NONE,
                                                     mavcmd.NAV_RETURN_TO_LAUNCH]  # fmt: skip


def _right_click_and_choose(qtbot: Any, win: Any, where: tuple[float, float], label: str, seen: list[str]) -> None:
    """Right-click the map at ``where``; in the open menu, record the entries and choose ``label``'s unit."""
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QContextMenuEvent
    from PySide6.QtWidgets import QApplication, QMenu

    def choose() -> None:
        menu = QApplication.activePopupWidget()
        if not isinstance(menu, QMenu):
            QTimer.singleShot(50, choose)
            return
        seen.extend(a.text() for a in menu.actions())
        sub = next(a.menu() for a in menu.actions() if a.text() == "Place unit here")
        act = next(a for a in sub.actions() if a.text().startswith(label))
        menu.close()
        act.trigger()

    pos = win.map.screen_pos(*where).toPoint()
    QTimer.singleShot(200, choose)
    ev = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos, win.map.viewport().mapToGlobal(pos))
    QApplication.sendEvent(win.map.viewport(), ev)  # the map's menu runs its own loop until chosen
    assert seen, "no context menu opened"


def _scene_x(lat: float, lon: float) -> float:
    from console.mapview import to_scene

    return to_scene(lat, lon).x()


def _other_alert(store: Any, lat: float, lon: float) -> Any:
    t = datetime.now(UTC)
    return store.ingest(AlertInput("ev2", "fall", "high", "other cam", t, t + timedelta(seconds=1), (9,),
                                   Position(lat + 1e-4, lon, 3.0), None, "a fall", {}, 60))  # fmt: skip


def test_an_operator_sees_the_panel_but_may_not_dispatch_or_fly(qtbot: Any, tmp_path: Path) -> None:
    from console.main_window import MainWindow
    from console.services import ConsoleServices
    from lookout.console_services import StoreAlerts
    from lookout.dispatching import Dispatching

    class NoFleet:
        def snapshot(self) -> dict:
            return {}

    cfg = parse_config(config_text("http://127.0.0.1:9/h"))
    dispatching = Dispatching.open(tmp_path, cfg)
    alerts = StoreAlerts.open(tmp_path, None, dispatching.on_change)
    dispatching.attach(store=alerts.store)
    ann = Actor("ann", Role.OPERATOR)
    win = MainWindow(ConsoleServices(fleet=NoFleet(), alerts=alerts, dispatch=dispatching), actor=ann)
    qtbot.addWidget(win)
    try:
        panel = win.dispatch_dock.panel
        assert panel.assign_button.isHidden() and panel.drone_button.isHidden() and not panel.close_button.isHidden()
        with pytest.raises(Exception, match="may not"):
            dispatching.assign(1, "moto1", ann)
        with pytest.raises(Exception, match="may not"):
            dispatching.place_unit("moto1", 52.0, 21.0, ann)
    finally:
        win.close()
        dispatching.close()
        alerts.close()


def test_drone_snapshots_carry_the_fleet_health() -> None:
    from flight.types import VehicleState
    from lookout.dispatching import drone_snapshots

    st = VehicleState(sysid=3, mode="RTL", lat_deg=52.0, lon_deg=21.0, battery_pct=80.0, gps_fix=3, ekf_ok=True,
                      link_ok=True, link_age_s=0.2)  # fmt: skip
    [snap] = drone_snapshots([st], names={3: "DRONE 3"})
    assert (snap.name, snap.busy, snap.battery_pct) == ("DRONE 3 (#3)", "returning home (RTL)", 80.0)
    assert snap.link_age_s == 0.2
    assert math.isinf(drone_snapshots([VehicleState(sysid=4)])[0].link_age_s)


def test_on_an_mqtt_bus_unit_positions_come_from_the_gps_gateway_topic(qtbot: Any, tmp_path: Path,
                                                                        mosquitto: Any) -> None:  # fmt: skip
    """[bus] type = "mqtt": Dispatching.start() subscribes lookout/units/+/position; the unit moves on the map."""
    import json

    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    from console.dispatch_map import DispatchLayer
    from lookout.dispatching import Dispatching

    cfg = parse_config(config_text("http://127.0.0.1:9/h") + f'[bus]\ntype = "mqtt"\nurl = "{mosquitto.url}"\n')
    from lookout.console_services import StoreAlerts

    dispatching = Dispatching.open(tmp_path, cfg)
    alerts = StoreAlerts.open(tmp_path, None, dispatching.on_change)  # opening the store migrates the database
    dispatching.attach(store=alerts.store).start()
    try:
        assert dispatching.unit_feed is not None
        qtbot.waitUntil(dispatching.unit_feed.connected.is_set, timeout=10_000)
        pub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="gps-gateway")
        port = int(mosquitto.url.rsplit(":", 1)[1])
        pub.connect("127.0.0.1", port)
        pub.loop_start()
        lat, lon = at(10, 20)
        pub.publish("lookout/units/car1/position", json.dumps({"lat": lat, "lon": lon}), qos=1).wait_for_publish(5)
        pub.publish("lookout/units/nobody/position", json.dumps({"lat": lat, "lon": lon}), qos=1).wait_for_publish(5)

        def car() -> Any:
            return next(u for u in dispatching.units() if u.name == "car1")

        qtbot.waitUntil(lambda: car().position_source == "gps", timeout=10_000)
        assert abs(car().lat_deg - lat) < 1e-9 and abs(car().lon_deg - lon) < 1e-9
        qtbot.waitUntil(lambda: dispatching.unit_feed.rejected == 1, timeout=5000)  # unknown unit: one line
        from PySide6.QtWidgets import QGraphicsScene

        from console.mapview import to_scene

        layer = DispatchLayer(QGraphicsScene(), to_scene)
        layer.set_units(dispatching.units())
        assert layer.unit_pos("car1") == to_scene(lat, lon)
        pub.loop_stop()
        pub.disconnect()
    finally:
        dispatching.close()
        alerts.close()


def test_the_raised_rule_forwards_an_alert_the_bus_stores_before_anyone_confirms(qtbot: Any, tmp_path: Path) -> None:
    """lookout.alerting with the desk's hook (as the console and demo wire it): forward = "raised"."""
    from lookout.alerting import AlertIngest
    from lookout.dispatching import Dispatching
    from vision.behaviours import Event
    from vision.bus import InProcessBus
    from vision.messages import EventMessage, Topics

    with DeskReceiver(SECRET) as receiver:
        text = config_text(receiver.url).replace('secret = "', 'forward = "raised"\nmin_severity = "medium"\n'
                                                 'secret = "', 1)  # fmt: skip
        cfg = parse_config(text)
        dispatching = Dispatching.open(tmp_path, cfg)
        bus = InProcessBus()
        ingest = AlertIngest.open(tmp_path, cfg, bus=bus, on_change=dispatching.on_change)
        dispatching.attach(store=ingest.store).start()
        try:
            t = datetime.now(UTC)
            for sev, track in (("low", 1), ("high", 2)):
                ev = Event(kind="zone_entry", severity=sev, feed="gate", t_start_utc=t, t_end_utc=t, frame_index=1,
                           track_ids=(track,), xy_px=(1.0, 2.0), box_xyxy=(0.0, 0.0, 2.0, 4.0), score=0.9,
                           zone=f"z{track}", summary="someone in the zone")  # fmt: skip
                bus.publish(Topics().events, EventMessage(ev, None, None, None, None, "node-1"))
            assert bus.flush(5.0)
            qtbot.waitUntil(lambda: len(receiver.received()) >= 1, timeout=10_000)
            [msg] = receiver.received()  # the low one is under min_severity
            assert msg.type == "new" and msg.body["after"]["severity"] == "high"
            assert msg.body["after"]["state"] == "new"  # raised, nobody confirmed it
        finally:
            ingest.close()
            bus.close()
            dispatching.close()


def test_a_drone_on_the_ground_takes_off_first_then_flies_to_the_alert(qtbot: Any, tmp_path: Path) -> None:
    from flight import Fleet, Link
    from flight.sim import SimFleet
    from lookout.console_services import StoreAlerts
    from lookout.dispatching import Dispatching
    from lookout.wiring import FleetActions, FleetView

    cfg = parse_config(config_text("http://127.0.0.1:9/h") + "[dispatch.drone]\nalt_rel_m = 30\n")
    with SimFleet.start(vehicles=1, home=HOME, speedup=4.0, listen="tcp:127.0.0.1:0") as sim, \
            Fleet({"sim1": Link.open(sim.vehicles[0].url)}) as fleet:  # fmt: skip
        view = FleetView(fleet)
        dispatching = Dispatching.open(tmp_path, cfg)
        alerts = StoreAlerts.open(tmp_path, None, dispatching.on_change)
        dispatching.attach(store=alerts.store, fleet=view, actions=FleetActions(view, None, actor=ADMIN))
        sent_to: list[tuple[int, int]] = []
        dispatching.on_drone_sent = lambda sysid, alert_id: sent_to.append((sysid, alert_id))
        try:
            qtbot.waitUntil(lambda: 1 in view.snapshot() and view.snapshot()[1].ekf_ok, timeout=60_000)
            lat, lon = at(*SPOT_NE)
            t = datetime.now(UTC)
            alert = alerts.store.ingest(AlertInput("ev9", "fight", "high", "cam", t, t, (1,), Position(lat, lon, 3.0),
                                                   None, "fight", {}, 60))  # fmt: skip
            assert not view.snapshot()[1].armed
            sent = dispatching.send_drone(alert, ADMIN)
            assert sent.took_off and sent.sysid == 1 and sent_to == [(1, alert.id)] and "taking off" in sent.line()
            st = view.snapshot()[1]
            assert st.armed and st.mode == "GUIDED" and (st.alt_rel_m or 0) >= 6
            d0 = distance_m(st.lat_deg, st.lon_deg, lat, lon)
            qtbot.waitUntil(lambda: distance_m(view.snapshot()[1].lat_deg, view.snapshot()[1].lon_deg, lat, lon)
                            < d0 - 20, timeout=30_000)  # fmt: skip
        finally:
            dispatching.close()
            alerts.close()


def test_lookout_console_delivers_what_the_cli_confirmed_and_stops_its_sender(qtbot: Any, tmp_path: Path) -> None:
    """`lookout alerts confirm` writes the outbox row; the console's sender delivers it while it runs."""
    import threading

    from flight.sim import SimFleet
    from lookout.cli import main

    data = tmp_path / "data"
    with DeskReceiver(SECRET) as receiver, SimFleet.start(vehicles=1, speedup=5.0, listen="tcp:127.0.0.1:0") as sim:
        cfg = tmp_path / "lookout.toml"
        cfg.write_text(config_text(receiver.url) + f'[links.patrol1]\nurl = "{sim.vehicles[0].url}"\n')
        from lookout.console_services import StoreAlerts

        data.mkdir()
        alerts = StoreAlerts.open(data)
        t = datetime.now(UTC)
        a = alerts.store.ingest(AlertInput("ev1", "fight", "high", "cam", t, t, (1,), Position(*at(*SPOT_NE), 3.0),
                                           None, "fight", {}, 60))  # fmt: skip
        alerts.close()
        assert main(["--config", str(cfg), "--data-dir", str(data), "alerts", "confirm", str(a.id)]) == 0
        assert receiver.received() == []  # the CLI does not deliver; a running sender does
        before = {t.name for t in threading.enumerate()}
        rc = main(["--config", str(cfg), "--data-dir", str(data), "console", "--quit-after", "3"])
        assert rc == 0
        assert [(m.type, m.alert_id) for m in receiver.received()] == [("new", a.id)]
        left = {t.name for t in threading.enumerate()} - before
        assert not [n for n in left if "sender" in n or "outbox" in n], left  # stopped on quit
