"""End to end in the demo: the street camera's real frames go through the real detector, tracker,
zone rule, geolocation and evidence recorder, over the bus into the alert store; the alert appears in
the console's queue with a snapshot and a map position, and the operator confirms it (audited)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from dispatch.types import AlertState
from lookout.audit import AuditLog, verify
from lookout.config import parse_config
from lookout.demo import DEMO_ACTOR, STREET_FEED, start_demo, street_camera_config

pytestmark = [pytest.mark.gui, pytest.mark.slow]


def test_street_camera_reference_points_put_the_pavement_north_east_of_home() -> None:
    from missions.geo import LocalFrame
    from vision.geolocate import Geolocator

    cfg = parse_config("")
    lat, lon, _ = cfg.sim.home
    fix = Geolocator.for_camera(street_camera_config(lat, lon)).locate(320, 359, 640, 360, None)
    assert fix is not None
    east, north = LocalFrame(lat, lon).point_to_enu(fix.lat_deg, fix.lon_deg)
    assert 64 < east < 76 and 68 < north < 72


def test_a_demo_alert_reaches_the_queue_with_snapshot_and_position_and_is_confirmed(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from console.main_window import MainWindow
    from console.mapview import from_scene

    cfg = parse_config("[sim]\nspeedup = 5\n")
    audit = AuditLog(tmp_path / "audit.sqlite")
    demo = start_demo(cfg, tmp_path, vehicles=1, speedup=5.0, video=True, audit=audit.append)
    try:
        win = MainWindow(demo.services)
        qtbot.addWidget(win)
        win.resize(1500, 900)
        win.show()
        assert win.actor == DEMO_ACTOR and win.alert_queue is not None
        queue = win.alert_queue

        def street_alert():  # type: ignore[no-untyped-def]
            for row in range(queue.model.rowCount()):
                a = queue.model.alert_at(row)
                if a.feed == STREET_FEED and a.snapshot is not None and a.position is not None:
                    return a
            return None

        qtbot.waitUntil(lambda: street_alert() is not None, timeout=180_000)
        alert = street_alert()
        assert alert.kind == "zone_entry" and alert.zone == "main_st_pavement"
        assert (tmp_path / alert.snapshot.path).is_file()
        with qtbot.waitSignal(queue.alert_opened, timeout=5000):
            assert queue.select_alert(alert.id)
        assert queue.detail.has_snapshot()
        lat, lon = from_scene(win.map.mapToScene(win.map.viewport().rect().center()))
        assert abs(lat - alert.position.lat_deg) < 2e-4 and abs(lon - alert.position.lon_deg) < 2e-4
        assert alert.id in win.map.alerts.marker_ids()
        queue.detail.buttons["confirm"].click()
        assert demo.alerts is not None
        stored = demo.alerts.get(alert.id)
        assert stored.state == AlertState.CONFIRMED and stored.history[-1].user == DEMO_ACTOR.name
        qtbot.waitUntil(lambda: queue.tabs.tabText(1).startswith("Confirmed (") and "(0)" not in queue.tabs.tabText(1))
        win.close()
        assert queue.model.data(queue.model.index(queue.model.row_of(alert.id) or 0, 5),
                                Qt.ItemDataRole.DisplayRole) == "confirmed"  # fmt: skip
    finally:
        demo.close()
    entries = audit.entries()
    audit.close()
    actions = [(e.actor, e.action) for e in entries]
    assert ("demo-admin", "alerts.confirm") in actions and any(a == "alerts.create" for _, a in actions)
    assert verify(tmp_path / "audit.sqlite").ok
