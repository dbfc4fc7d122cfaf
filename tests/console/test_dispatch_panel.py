"""The dispatch panel over a real desk and store: units by ETA, the clock's colours, sinks, signals."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from console.dispatch_panel import DispatchPanel, mmss
from dispatch.config import DispatchConfig, SinkConfig, UnitConfig
from dispatch.desk import DispatchDesk
from dispatch.roles import Actor, Role
from dispatch.store import AlertStore
from dispatch.types import AlertInput, Position

pytestmark = pytest.mark.gui
ADMIN = Actor.local_admin()
UNITS = {
    "foot1": UnitConfig(callsign="FOOT 1", kind="foot", lat_deg=52.1009, lon_deg=4.3),  # 100 m, 87 s
    "moto1": UnitConfig(callsign="MOTO 1", kind="motorcycle", lat_deg=52.0953, lon_deg=4.3),  # 520 m, 58 s
    "car1": UnitConfig(callsign="CAR 1", kind="car"),  # no position
}


@pytest.fixture
def desk_store(tmp_path: Path) -> Iterator[tuple[DispatchDesk, AlertStore, Any]]:
    cfg = DispatchConfig(sinks={"desk": SinkConfig(type="webhook", url="http://127.0.0.1:9/")})
    desk = DispatchDesk(tmp_path / "alerts.sqlite", cfg, UNITS, {})
    with desk, AlertStore(tmp_path / "alerts.sqlite", on_change=desk.on_change) as store:
        t = datetime.now(UTC)
        a = store.ingest(AlertInput("e1", "fight", "high", "square", t, t + timedelta(seconds=3), (1, 2),
                                    Position(52.1, 4.3, 4.0), None, "fight on the square", {}, 60))  # fmt: skip
        yield desk, store, a


def test_panel_ranks_units_runs_the_clock_and_emits_decisions(qtbot: Any, desk_store: Any) -> None:
    desk, store, a = desk_store
    clock = {"now": datetime.now(UTC)}
    panel = DispatchPanel(desk, ADMIN, refresh_ms=0, now=lambda: clock["now"])
    qtbot.addWidget(panel)
    panel.set_alert(a)
    assert "not confirmed" in panel.clock_label.text() and not panel.assign_button.isEnabled()
    a = store.confirm(a.id, ADMIN)
    clock["now"] = datetime.now(UTC) + timedelta(seconds=30)
    panel.set_alert(a)
    assert [panel.units.item(r, 0).text() for r in range(panel.units.rowCount())] == ["MOTO 1", "FOOT 1"]
    assert panel.selected_unit() == "moto1"  # least ETA preselected, not the nearest
    assert "car1: no position" in panel.not_offered.text()
    assert panel.clock_label.text().endswith("/ 5:00") and "#2e7d32" in panel.clock_label.styleSheet()
    assert "desk: pending" in panel.sinks_label.text()
    assert "desk: queue 1, dead 0" in panel.health_label.text()
    clock["now"] += timedelta(seconds=200)  # 230 s of 300: amber
    panel.refresh()
    assert "#f9a825" in panel.clock_label.styleSheet()
    clock["now"] += timedelta(seconds=100)  # past the deadline: red, and it says how late
    panel.refresh()
    assert "#c62828" in panel.clock_label.styleSheet() and "late by" in panel.phase_label.text()
    with qtbot.waitSignal(panel.assign) as sig:
        panel.assign_button.click()
    assert sig.args == [a.id, "moto1"]
    desk.dispatch(a.id, "moto1")
    panel.refresh(rank=True)
    assert panel.on_scene_button.isEnabled() and "unit moto1" in panel.phase_label.text()
    with qtbot.waitSignal(panel.on_scene) as sig:
        panel.on_scene_button.click()
    assert sig.args == [a.id]
    with qtbot.waitSignal(panel.send_drone):
        panel.drone_button.click()


def test_role_hides_buttons(qtbot: Any, desk_store: Any) -> None:
    desk, _, _ = desk_store
    panel = DispatchPanel(desk, Actor("ann", Role.OPERATOR), refresh_ms=0)
    qtbot.addWidget(panel)
    assert panel.assign_button.isHidden() and panel.drone_button.isHidden() and not panel.close_button.isHidden()
    assert mmss(-75) == "-1:15" and mmss(59.9) == "0:59"


def test_map_layer_draws_units_by_kind_and_status_and_areas_by_class(qtbot: Any, desk_store: Any) -> None:
    from PySide6.QtWidgets import QGraphicsScene

    from console.dispatch_map import DispatchLayer
    from console.mapview import to_scene
    from lookout.dispatching import AreaShape

    desk, store, a = desk_store
    scene = QGraphicsScene()
    layer = DispatchLayer(scene, to_scene)
    ring = ((52.0, 4.0), (52.0, 4.1), (52.1, 4.1), (52.0, 4.0))
    layer.set_areas([AreaShape("centre", "City centre", 3, ring), AreaShape("bank", "Bank", 1, ring)])
    assert layer.area_names() == ["bank", "centre"]
    assert (layer.area_colour("bank"), layer.area_colour("centre")) == ("#e53935", "#fb8c00")
    layer.set_units(desk.units())
    assert layer.unit_names() == ["foot1", "moto1"]  # car1 has no position: not drawn
    assert layer.unit_label("moto1") == "MOTO 1 · available" and layer.unit_colour("moto1") == "#2e7d32"
    store.confirm(a.id, ADMIN)
    desk.dispatch(a.id, "moto1")
    desk.set_position("car1", 52.09, 4.3)
    layer.set_units(desk.units())
    assert layer.unit_label("moto1") == f"MOTO 1 · assigned → #{a.id}" and layer.unit_colour("moto1") == "#ef6c00"
    assert layer.unit_names() == ["car1", "foot1", "moto1"]
    assert layer.unit_pos("car1") == to_scene(52.09, 4.3)
    layer.highlight("car1")
    layer.set_areas([])
    assert layer.area_names() == []


def test_no_units_configured_says_how_to_add_them(qtbot: Any, tmp_path: Path) -> None:
    desk = DispatchDesk(tmp_path / "alerts.sqlite", DispatchConfig(), {}, {})
    with desk, AlertStore(tmp_path / "alerts.sqlite", on_change=desk.on_change) as store:
        t = datetime.now(UTC)
        a = store.ingest(AlertInput("e1", "fight", "high", "square", t, t, (1,), Position(52.1, 4.3, 4.0), None,
                                    "fight", {}, 60))  # fmt: skip
        panel = DispatchPanel(desk, ADMIN, refresh_ms=0)
        qtbot.addWidget(panel)
        panel.set_alert(store.confirm(a.id, ADMIN))
        assert panel.units.rowCount() == 0 and "[units.NAME]" in panel.not_offered.text()
        assert "no sinks configured" in panel.health_label.text()
