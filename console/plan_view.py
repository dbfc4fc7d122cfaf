"""The Plan view: draw places on the map, choose the patrol, see it, fix it, upload and fly it.

QGroundControl's Plan view over the ``missions`` planners. The pilot draws (or imports from
GeoJSON/KML) key areas with holes, lakes, rivers with a width, routes and points
(``console.plan_editor``), picks the patrol (coverage, perimeter, shoreline, route, points) and its
options; the path previews as options change (debounced 200 ms; planning and validation run on a
``QThreadPool`` worker, stale results are dropped). The summary (``missions.summary``) and every
violation (``missions.validate.check_plan`` located on the map, plus ``flight.plan_check`` against
the first selected drone: battery, distance) show beside the map; while there is one the Upload
button is disabled and says why. Waypoints are edited on the map (drag, ``+`` on a leg inserts,
Delete removes) and in the table (``console.plan_model``); a geofence (inclusion), no-fly zones
(exclusion) and rally points are drawn the same way and uploaded with the mission. Files:
``.plan``, ``.waypoints``, GeoJSON, KML (``missions.formats``). Upload, start, pause and resume go
to the checked drones through ``console.services.MissionActions`` (``lookout.wiring.FleetActions``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, QTimer, Signal
from PySide6.QtWidgets import (
    QMainWindow,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from console.mapview import MapView
from console.plan_editor import PlanEditor
from console.plan_files import PlanFiles
from console.plan_fly import FlyBox
from console.plan_layout import PlanLayout
from console.plan_model import WaypointModel
from console.plan_outcome import PlanOutcome, validate
from console.plan_panel import KINDS
from console.plan_shapes import Shape, fence_and_rally, places_from_shapes
from console.plan_summary import PlanSummaryPanel
from console.services import ConsoleServices
from flight.types import VehicleState
from missions import mavcmd
from missions.config import MissionsConfig
from missions.edit import delete_item, insert_item, move_item
from missions.planners.common import PlanOptions
from missions.summary import MissionFacts, Violation
from missions.types import Mission, MissionItem, Plan

log = logging.getLogger(__name__)


class _Signals(QObject):
    outcome = Signal(object)  # PlanOutcome


class _Job(QRunnable):
    def __init__(self, fn: Callable[[], None]) -> None:
        super().__init__()
        self.fn = fn

    def run(self) -> None:
        self.fn()


class PlanView(PlanLayout, PlanFiles, QWidget):
    updated = Signal()  # a planning/validation result is on screen
    uploaded = Signal(int)  # sysid
    message = Signal(str)

    def __init__(self, services: ConsoleServices, missions_cfg: MissionsConfig | None = None) -> None:
        super().__init__()
        self.services = services
        self.cfg = missions_cfg or getattr(services, "missions", None) or MissionsConfig()
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(2)
        self.signals = _Signals(self)
        self.signals.outcome.connect(self._apply)
        self.fly = FlyBox(services.actions)
        self.fly.upload_requested.connect(self.upload)
        self.fly.uploaded.connect(self.uploaded)
        self.fly.message.connect(self.message)
        self.fly_buttons, self.progress, self.status = self.fly.buttons, self.fly.progress, self.fly.status
        self.mission: Mission | None = None
        self.facts: MissionFacts | None = None
        self.violations: tuple[Violation, ...] = ()
        self.error = ""
        self.busy = False
        self._generation = 0
        self._coverage: float | None = None
        self._fence_circles: tuple[MissionItem, ...] = ()
        self._polls = 0  # circles from an opened file (drawn as they are)

        self.map = MapView(services.tiles_dir, layers=getattr(services, "map_layers", ()))
        if services.map_image is not None:
            self.map.set_background(services.map_image)
        if services.map_center is not None:
            self.map.center_on(*services.map_center)
        self.map.fly_here_allowed = False
        self.editor = PlanEditor(self.map)
        self.editor.shapes_changed.connect(self._shapes_changed)
        self.editor.waypoint_moved.connect(self.move_waypoint)
        self.editor.waypoint_inserted.connect(self.insert_waypoint)
        self.editor.waypoint_deleted.connect(self.delete_waypoint)
        self.editor.waypoint_selected.connect(self._select_row)
        self.editor.drawing_changed.connect(self._drawing_changed)
        self.editor.message.connect(self._fail)

        self.model = WaypointModel()
        self.model.items_edited.connect(self._table_edited)
        self.summary = PlanSummaryPanel()
        self.summary.violation_clicked.connect(self._show_violation)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.map)
        split.addWidget(self._side_panel())
        split.setStretchFactor(0, 1)
        split.setSizes([900, 440])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(split)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(200)
        self._debounce.timeout.connect(self.replan)
        self._poll = QTimer(self)
        self._poll.timeout.connect(self.poll_fleet)
        self._poll.start(500)
        self._refresh_buttons()

    # ---- fleet ------------------------------------------------------------------------------
    def poll_fleet(self) -> None:
        states = self.services.fleet.snapshot()
        for st in states.values():
            self.map.set_vehicle(st)
        self._polls += 1
        if self.drone_list.update_states(states):
            self._drones_changed()  # checked against the new drone (its home, battery)
        elif self.mission is not None and self._polls % 20 == 0 and not self.busy and not self.editor.busy:
            self.revalidate()  # every 10 s: the drone's battery and position move on

    def selected_drones(self) -> list[int]:
        return self.drone_list.selected()

    def check_drones(self, sysids: list[int]) -> None:
        self.drone_list.check(sysids)

    def _state(self) -> VehicleState | None:
        ids = self.selected_drones()
        return self.services.fleet.snapshot().get(ids[0]) if ids else None

    def _drones_changed(self) -> None:
        self.schedule() if self.editor.shapes and self.mission is None else self.revalidate()

    # ---- planning ---------------------------------------------------------------------------
    def options(self) -> PlanOptions:
        st = self._state()
        home = None
        if st is not None:
            if st.home_lat_deg is not None and st.home_lon_deg is not None:
                home = (st.home_lat_deg, st.home_lon_deg)
            elif st.lat_deg is not None and st.lon_deg is not None:
                home = (st.lat_deg, st.lon_deg)
        return self.patrol.options(home)

    def schedule(self) -> None:
        """Re-plan shortly (typing in a spin box or dragging a vertex plans once, when it settles)."""
        self._debounce.start()

    def replan(self) -> None:
        self._debounce.stop()
        places = places_from_shapes(self.editor.shapes)
        if not places:
            self._start(None, replan=False)
            return
        self._auto_kind(places)
        self._start(places, replan=True)

    def revalidate(self) -> None:
        self._start(None, replan=False)

    def _auto_kind(self, places: list[Any]) -> None:
        from missions.planners.api import select

        for kind in (self.kind.currentText(), *KINDS):
            try:
                select(kind, places)
            except Exception:
                continue
            if kind != self.kind.currentText():
                self.patrol.set_kind_quietly(kind)
            return

    def _start(self, places: list[Any] | None, replan: bool) -> None:
        self._generation += 1
        gen = self._generation
        kind, opts, st = self.kind.currentText(), self.options(), self._state()
        fence, rally = fence_and_rally(self.editor.shapes, self.alt.value(), self._fence_circles)
        mission, coverage, cfg = self.mission, self._coverage, self.cfg
        emit = self.signals.outcome.emit
        self.busy = True
        self._refresh_buttons()

        def work() -> None:
            nonlocal mission, coverage
            try:
                if replan and places:
                    from missions.planners.api import plan

                    result = plan(kind, places, opts)
                    mission, coverage = result.mission, result.summary.coverage_pct
                if mission is None or not mission.items:
                    emit(PlanOutcome(gen, mission, None, ()))
                    return
                emit(validate(Plan(mission, fence, rally), cfg, st, gen, coverage))
            except Exception as exc:
                emit(PlanOutcome(gen, None if replan else mission, None, (), error=str(exc)))

        self.pool.start(_Job(work))

    def _apply(self, out: PlanOutcome) -> None:
        if out.generation != self._generation:
            return  # a newer job is on its way
        self.busy = False
        self.error = out.error
        if out.error:
            self.status.setText(f"<span style='color:#d32f2f'>{out.error}</span>")
            self.mission = out.mission
        else:
            if out.mission is not self.mission and out.facts is not None:
                self._coverage = out.facts.coverage_pct
            self.mission = out.mission
        self.facts, self.violations = out.facts, out.violations
        items = self.mission.items if self.mission is not None else ()
        self.model.set_items(items)
        self.editor.set_waypoints([(i, (it.lat_deg, it.lon_deg)) for i, it in enumerate(items)
                                   if it.command in mavcmd.NAV_POSITION_COMMANDS
                                   and not (it.lat_deg == 0 and it.lon_deg == 0)])  # fmt: skip
        self.editor.set_violations(out.violations)
        self.summary.show_result(out.facts, out.violations, out.notes)
        self._refresh_buttons()
        self.updated.emit()

    # ---- edits ------------------------------------------------------------------------------
    def _shapes_changed(self) -> None:
        self.mission = None  # the path follows the places again (edits of the old path are dropped)
        self.schedule()

    def _set_items(self, items: tuple[MissionItem, ...]) -> None:
        self._edit(Mission(items) if self.mission is None else replace(self.mission, items=items))

    def _edit(self, mission: Mission) -> None:
        self.mission = mission
        self.revalidate()

    def move_waypoint(self, index: int, lat: float, lon: float) -> None:
        if self.mission is not None and 0 <= index < len(self.mission.items):
            self._edit(move_item(self.mission, index, lat, lon))

    def insert_waypoint(self, index: int, lat: float, lon: float) -> None:
        """A new WAYPOINT at ``index`` (before the item there), at the altitude of the one before it;
        DO_JUMPs keep their targets (``missions.edit``)."""
        if self.mission is None:
            return
        items = self.mission.items
        index = max(0, min(index, len(items)))
        prev = next((it for it in reversed(items[:index]) if it.command in mavcmd.NAV_POSITION_COMMANDS), None)
        alt = prev.alt_m if prev is not None and prev.alt_m > 0 else self.alt.value()
        wp = MissionItem(mavcmd.NAV_WAYPOINT, mavcmd.FRAME_GLOBAL_RELATIVE_ALT, 0, 0, 0, 0, lat, lon, alt)
        self._edit(insert_item(self.mission, index, wp))

    def delete_waypoint(self, index: int) -> None:
        if self.mission is not None and 0 <= index < len(self.mission.items):
            self._edit(delete_item(self.mission, index))

    def _table_edited(self, items: tuple[MissionItem, ...]) -> None:
        self._set_items(items)

    def _select_row(self, index: int) -> None:
        self.table.selectRow(index)

    def _toggle_draw(self, role: str) -> None:
        if self.editor.mode == role:
            self.editor.finish() or self.editor.cancel()
        else:
            self.editor.start_drawing(role)

    def _drawing_changed(self, role: str) -> None:
        for r, b in self.draw_buttons.items():
            b.setChecked(r == role)
        if role:
            self._say(f"Drawing a {role}: click on the map to add points; double-click or Enter to finish, "
                      "Esc to cancel")  # fmt: skip
        else:
            counts: dict[str, int] = {}
            for s in self.editor.shapes:
                counts[s.role] = counts.get(s.role, 0) + 1
            self._say("On the map: " + (", ".join(f"{n} {r}" for r, n in counts.items()) or "nothing"))

    def clear(self) -> None:
        self.editor.cancel()
        self.editor.set_shapes([])
        self._fence_circles = ()
        self.editor.set_circles([])
        self.mission = None
        self._coverage = None
        self.revalidate()

    def _show_violation(self, v: Violation) -> None:
        if v.lat_deg is not None and v.lon_deg is not None:
            self.map.center_on(v.lat_deg, v.lon_deg)
        if v.item_index is not None:
            self.editor.select_waypoint(v.item_index)
            self.table.selectRow(v.item_index)

    # ---- files ------------------------------------------------------------------------------
    def current_plan(self) -> Plan | None:
        if self.mission is None:
            return None
        fence, rally = fence_and_rally(self.editor.shapes, self.alt.value(), self._fence_circles)
        return Plan(self.mission, fence, rally)

    # ---- flying -----------------------------------------------------------------------------
    def allow(self, upload: bool, fly: bool) -> None:
        """Show only what the logged-in role may do (the flight commands refuse the rest anyway)."""
        self.fly.allow(upload, fly)

    def upload_blocked(self) -> str:
        """Why Upload is disabled ("" when it is not)."""
        actions = self.services.actions
        if actions is None or not hasattr(actions, "upload_plan"):
            return "this console has no flight link that can upload plans"
        if self.editor.mode:
            return f"finish drawing the {self.editor.mode} first"
        if self.busy:
            return "planning…"
        if self.error:
            return f"the plan has an error: {self.error}"
        if self.mission is None or not self.mission.items:
            return "no plan yet: draw or import a place, or open a plan"
        if self.violations:
            kinds = sorted({v.kind for v in self.violations})
            return f"{len(self.violations)} violation(s) ({', '.join(kinds)}): fix them first"
        if not self.selected_drones():
            return "check the drone(s) to upload to"
        return ""

    def _refresh_buttons(self) -> None:
        self.fly.set_state(self.upload_blocked(), self.selected_drones(), self.mission is not None)

    def upload(self) -> None:
        plan, reason = self.current_plan(), self.upload_blocked()
        if plan is None or reason:
            self._fail(f"upload: {reason or 'no plan'}")
            return
        self.fly.upload(plan, self.selected_drones())

    def _say(self, text: str) -> None:
        self.fly.say(text)

    def _fail(self, text: str) -> None:
        self.fly.fail(text)

    def shutdown(self) -> None:
        self._poll.stop()
        self._debounce.stop()
        self.pool.waitForDone(5000)
        self.fly.shutdown()
        tiles = getattr(self.map, "tiles", None)
        if tiles is not None:
            tiles.stop()  # its loader thread


def install(window: QMainWindow, services: ConsoleServices, missions_cfg: MissionsConfig | None = None) -> PlanView:
    """Put a Plan tab next to the window's central widget (the Fly map) and return the view."""
    central = window.centralWidget()
    tabs = central if isinstance(central, QTabWidget) else None
    if tabs is None:
        tabs = QTabWidget()
        tabs.setDocumentMode(True)
        window.takeCentralWidget()
        tabs.addTab(central, "Fly")
        window.setCentralWidget(tabs)
    view = PlanView(services, missions_cfg)
    tabs.addTab(view, "Plan")
    return view


__all__ = ["PlanOutcome", "PlanView", "Shape", "install", "validate"]
