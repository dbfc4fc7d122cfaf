"""The demo's dispatch loop end to end, headless: a real street-camera alert is confirmed in the console,
the nearest demo unit (least ETA) is recommended and dispatched, a drone is sent and flies, and the
demo's local dispatch desk receives the signed messages (new, then the dispatch update) and lists them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dispatch.types import AlertState
from lookout.audit import AuditLog
from lookout.config import parse_config
from lookout.demo import DESK_SINK, STREET_FEED, demo_dispatch_config, start_demo

pytestmark = [pytest.mark.gui, pytest.mark.slow]


def test_demo_units_and_areas_put_the_pavement_in_the_city_centre_with_the_car_first() -> None:
    from dispatch.response import ResponseAreas
    from missions.geo import LocalFrame

    cfg = demo_dispatch_config(parse_config(""), "http://127.0.0.1:9/h", "s3cret", vehicles=3)
    assert {u.kind for u in cfg.units.values()} == {"car", "motorcycle", "foot", "drone"}
    assert sorted(a.target_min for a in cfg.response_areas.values()) == [1, 1, 3]
    assert cfg.dispatch.sinks[DESK_SINK].url == "http://127.0.0.1:9/h"
    lat, lon, _ = cfg.sim.home
    pav_lat, pav_lon = LocalFrame(lat, lon).point_to_geo(70.0, 90.0)
    assert ResponseAreas(cfg.response_areas).classify(pav_lat, pav_lon).target_min == 3
    kept = demo_dispatch_config(cfg, "http://127.0.0.1:9/h", "s3cret", vehicles=3)  # a config's own units stay
    assert kept.units == cfg.units


def test_demo_loop_alert_confirmed_unit_dispatched_drone_sent_desk_received(qtbot: Any, tmp_path: Path) -> None:
    from console.main_window import MainWindow

    cfg = parse_config("[sim]\nspeedup = 5\n")
    audit = AuditLog(tmp_path / "audit.sqlite")
    demo = start_demo(cfg, tmp_path, vehicles=3, speedup=5.0, video=True, audit=audit.append)
    try:
        win = MainWindow(demo.services)
        qtbot.addWidget(win)
        win.resize(1600, 1000)
        win.show()
        dock, queue = win.dispatch_dock, win.alert_queue
        assert dock is not None and queue is not None and dock.desk_list is not None
        assert {"station", "school", "centre"} == set(dock.layer.area_names())
        qtbot.waitUntil(lambda: {"alpha1", "mike2", "foxtrot3"} <= set(dock.layer.unit_names()), timeout=10_000)

        def street_alert() -> Any:
            for row in range(queue.model.rowCount()):
                a = queue.model.alert_at(row)
                if a.feed == STREET_FEED and a.position is not None and a.state == AlertState.NEW:
                    return a
            return None

        qtbot.waitUntil(lambda: street_alert() is not None, timeout=240_000)
        alert = street_alert()
        with qtbot.waitSignal(queue.alert_opened, timeout=5000):
            assert queue.select_alert(alert.id)
        queue.detail.buttons["confirm"].click()
        received = demo.receiver.received
        qtbot.waitUntil(lambda: any(m.type == "new" and m.alert_id == alert.id for m in received()), timeout=15_000)
        panel = dock.panel
        qtbot.waitUntil(lambda: panel.units.rowCount() > 0 and "3 min" in panel.title.text(), timeout=10_000)
        qtbot.waitUntil(lambda: panel.assign_button.isEnabled(), timeout=10_000)  # the confirmed state, read
        assert panel.units.item(0, 0).text() == "ALPHA 1" and panel.selected_unit() == "alpha1"
        assert panel.units.item(0, 4).text() == "makes it"
        panel.assign_button.click()
        qtbot.waitUntil(lambda: any(m.type == "update" and (m.body["after"].get("response") or {}).get("unit")
                                    == "alpha1" for m in received()), timeout=15_000)  # fmt: skip
        qtbot.waitUntil(lambda: dock.desk_list.count() >= 2, timeout=5000)
        assert "desk got update of alert" in dock.desk_list.item(0).text() and "unit alpha1" in \
            dock.desk_list.item(0).text()  # fmt: skip

        qtbot.waitUntil(lambda: panel.drone_button.isEnabled(), timeout=5000)
        panel.drone_button.click()
        qtbot.waitUntil(lambda: dock.last_sent is not None, timeout=120_000)
        sysid = dock.last_sent.sysid
        qtbot.waitUntil(lambda: demo.services.fleet.snapshot()[sysid].mode == "GUIDED", timeout=10_000)
        assert demo.patrols.get(sysid) is None or demo.patrols[sysid].is_set()  # it left its patrol
        panel.refresh(rank=True)  # the drone sent first is not offered again as a unit
        qtbot.waitUntil(lambda: f"drone{sysid}: drone sent to alert {alert.id}" in panel.not_offered.text(),
                        timeout=5000)  # fmt: skip
        qtbot.waitUntil(lambda: f"DRONE {sysid} · assigned → #{alert.id}" == dock.layer.unit_label(f"drone{sysid}"),
                        timeout=5000)  # fmt: skip
        if sysid == 1:
            assert dock.brought_forward.startswith("Drone #1")
        win.close()
    finally:
        demo.close()
    actions = [(e.action, e.subject) for e in audit.entries()]
    audit.close()
    assert ("alerts.dispatch", f"alert {alert.id}") in actions and ("alerts.drone_sent", f"alert {alert.id}") in actions
