"""The dispatch desk in the main window: the panel beside the alerts, units and areas on the map.

``DispatchDock(window, service)`` adds to a ``console.main_window.MainWindow``:

- a "Dispatch" dock with ``console.dispatch_panel.DispatchPanel`` for the alert opened in the queue;
- ``console.dispatch_map.DispatchLayer`` on the map (units by kind and status, response areas by class),
  refreshed every second; drone units follow the fleet (``service.sync_drones()`` off the GUI thread);
- "Place unit <name> here" (the unit selected in the panel) and a "Place unit here" submenu (every
  ground unit) in the map's right-click menu (``alerts.dispatch``);
- a permanent status-bar label with every sink's health, and (the demo) a "Dispatch desk" dock with
  what the local receiver got.

Every desk call (reads and writes: the panel's data, the unit board, assign, on scene, close, send drone,
orbit, place unit, drone sync) runs on the dock's own ``QThreadPool`` (4 workers, so a long flight job in
the window's pool does not hold it up) and reports back by signal; a refusal (role, no drone qualifies, a
transition the state does not allow) is one red line in the status bar.

``service`` is ``lookout.dispatching.Dispatching`` (duck-typed here: ``source``, ``units()``,
``areas()``, ``assign``, ``on_scene``, ``close_alert``, ``send_drone``, ``place_unit``, ``sync_drones``,
``received()``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, QRunnable, Qt, QThreadPool, QTimer, Signal
from PySide6.QtWidgets import QApplication, QDockWidget, QLabel, QListWidget, QMenu

from console.dispatch_map import DispatchLayer
from console.dispatch_panel import DispatchPanel

if TYPE_CHECKING:
    from console.main_window import MainWindow
    from dispatch.types import Alert

log = logging.getLogger(__name__)


class _Signals(QObject):
    done = Signal(str)
    failed = Signal(str)
    drone_sent = Signal(object)  # lookout.dispatching.DroneSent
    board = Signal(object)  # _Board: units, sink health, what the demo desk received
    quiet_done = Signal()
    orbit_choice = Signal(object, object)  # alert, DroneChoice: ask the pilot


@dataclass(frozen=True, slots=True)
class _Board:
    units: list[Any] | None
    health: list[Any]
    received: list[str]
    error: str = ""


class _Job(QRunnable):
    def __init__(self, label: str, fn: Callable[[], Any], signals: _Signals, on_ok: Callable[[Any], None]) -> None:
        super().__init__()
        self.label, self.fn, self.signals, self.on_ok = label, fn, signals, on_ok

    def run(self) -> None:
        try:
            result = self.fn()
        except Exception as exc:  # the status bar shows it; the console stays up
            self.signals.failed.emit(f"{self.label}: {exc}")
        else:
            self.on_ok(result)


class DispatchDock(QObject):
    def __init__(self, window: MainWindow, service: Any, *, refresh_ms: int = 1000) -> None:
        super().__init__(window)
        self.window = window
        self.service = service
        self.actor = window.actor
        self.signals = _Signals(self)
        # its own workers: a long flight job in the window's pool (fly plan) must not hold up dispatch reads
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(4)
        self.panel = DispatchPanel(service.source, self.actor)
        self.panel.runner = lambda fn: self.pool.start(_Job("dispatch panel", fn, self.signals,
                                                              self.panel.gathered.emit))  # fmt: skip
        self.dock = QDockWidget("Dispatch", window)
        self.dock.setObjectName("Dispatch")
        self.dock.setWidget(self.panel)
        area = Qt.DockWidgetArea.RightDockWidgetArea
        window.addDockWidget(area, self.dock)
        wall_dock = window.findChild(QDockWidget, "Video wall")
        if wall_dock is not None:
            window.splitDockWidget(wall_dock, self.dock, Qt.Orientation.Vertical)
        elif window.alerts_dock is not None:
            window.splitDockWidget(window.alerts_dock, self.dock, Qt.Orientation.Horizontal)
        self.layer = DispatchLayer(window.map.scene(), _to_scene())
        self.layer.set_areas(service.areas())
        self.sinks_label = QLabel("")
        self.sinks_label.setTextFormat(Qt.TextFormat.RichText)
        self.sinks_label.setStyleSheet("color: palette(window-text); font-weight: normal")  # not the error style
        window.statusBar().addPermanentWidget(self.sinks_label)
        self.desk_list: QListWidget | None = None
        self.desk_dock: QDockWidget | None = None
        if getattr(service, "receiver", None) is not None:
            self.desk_list = QListWidget()
            self.desk_dock = QDockWidget("Dispatch desk (received)", window)
            self.desk_dock.setObjectName("Dispatch desk")
            self.desk_dock.setWidget(self.desk_list)
            window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.desk_dock)
        self._syncing = False
        self._reading = False
        self.units: list[Any] = []  # the unit board as last read (the map's menu uses it)
        self.last_sent: Any = None
        self.last_question = ""
        self._orbit_shape = (40.0, 3.0)
        self.signals.done.connect(self._done)
        self.signals.failed.connect(self._failed)
        self.signals.drone_sent.connect(self._drone_sent)
        self.signals.board.connect(self._show_board)
        self.signals.orbit_choice.connect(self._confirm_orbit)
        self.signals.quiet_done.connect(self._synced)
        p = self.panel
        p.assign.connect(lambda aid, unit: self._run(f"alert {aid}: assign {unit}",
                                                     lambda: self.service.assign(aid, unit, self.actor),
                                                     f"Alert {aid}: {unit} dispatched"))  # fmt: skip
        p.on_scene.connect(lambda aid: self._run(f"alert {aid}: on scene",
                                                 lambda: self.service.on_scene(aid, self.actor),
                                                 f"Alert {aid}: unit on scene"))  # fmt: skip
        p.close_alert.connect(lambda aid: self._run(f"alert {aid}: close",
                                                    lambda: self.service.close_alert(aid, self.actor),
                                                    f"Alert {aid} closed"))  # fmt: skip
        p.send_drone.connect(self.send_drone)
        p.orbit.connect(self.orbit)
        self.confirm_orbit: Callable[[str], bool] = self._ask_pilot  # tests replace it
        p.units.itemSelectionChanged.connect(lambda: self.layer.highlight(p.selected_unit()))
        if window.alert_queue is not None:
            window.alert_queue.alert_opened.connect(self.panel.set_alert)
            window.alert_queue.alerts_changed.connect(self._alerts_changed)
        window.map.viewport().installEventFilter(self)  # right-click: "Place unit here" joins the map's menu
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.tick)
        if refresh_ms > 0:
            self.timer.start(refresh_ms)
        self.tick()

    # ---- periodic ----------------------------------------------------------------------------------
    def tick(self) -> None:
        """Units on the map, sink health in the status bar, the demo desk's list (read off the GUI thread);
        drone positions from the fleet (written off the GUI thread)."""
        if not self._reading:
            self._reading = True
            self.pool.start(_Job("dispatch board", self._read_board, self.signals, self.signals.board.emit))
        if not self._syncing:
            self._syncing = True
            self.pool.start(_Job("drone positions", self.service.sync_drones, self.signals,
                                        lambda _n: self.signals.quiet_done.emit()))  # fmt: skip

    def _read_board(self) -> _Board:
        try:
            return _Board(self.service.units(), list(self.service.source.outbox.health()), self.service.received())
        except Exception as exc:  # a locked database must not take the console down
            return _Board(None, [], [], str(exc))

    def _show_board(self, board: _Board) -> None:
        self._reading = False
        if board.error:
            log.warning("dispatch: %s", board.error)
            return
        self.units = board.units or []
        self.layer.set_units(self.units)
        self._sinks_line(board.health)
        if self.desk_list is not None and len(board.received) != self.desk_list.count():
            self.desk_list.clear()
            self.desk_list.addItems(list(reversed(board.received)))  # newest first
            if board.received:
                self.window.statusBar().showMessage(f"Dispatch desk: {board.received[-1]}", 10000)

    def _synced(self) -> None:
        self._syncing = False

    def _sinks_line(self, health: list[Any]) -> None:
        parts = []
        for h in health:
            err, ok = h.last_error_utc, h.last_success_utc
            failing = err is not None and (ok is None or err > ok)
            colour = "#c62828" if h.dead_letters else ("#f9a825" if failing else "#2e7d32")
            mark = f"dead {h.dead_letters}" if h.dead_letters else ("failing" if failing else "ok")
            queue = f", {h.queue_depth} queued" if h.queue_depth else ""
            parts.append(f'<span style="color:{colour}">{h.sink}: {mark}{queue}</span>')
        self.sinks_label.setText("Sinks: " + " · ".join(parts) if parts else "Sinks: none configured")
        self.sinks_label.setToolTip("Dispatch forwarding per sink (lookout alerts sinks for details)")

    def _alerts_changed(self, alerts: list[Alert]) -> None:
        cur = self.panel.alert
        if cur is None:
            return
        new = next((a for a in alerts if a.id == cur.id), None)
        if new is not None and (new.state != cur.state or new.position != cur.position):
            self.panel.set_alert(new)

    # ---- actions -----------------------------------------------------------------------------------
    def _run(self, label: str, fn: Callable[[], Any], ok_text: str) -> None:
        self.window.statusBar().showMessage(f"{label}…", 5000)
        self.pool.start(_Job(label, fn, self.signals, lambda _r: self.signals.done.emit(ok_text)))

    def send_drone(self, alert_id: int) -> None:
        alert = self.panel.alert
        if alert is None or alert.id != alert_id:
            return
        self.window.statusBar().showMessage(f"Alert {alert_id}: choosing a drone…", 5000)
        self.pool.start(_Job(f"Send drone to alert {alert_id}",
                                    lambda: self.service.send_drone(alert, self.actor), self.signals,
                                    self.signals.drone_sent.emit))  # fmt: skip

    def orbit(self, alert_id: int, radius_m: float = 40.0, turns: float = 3.0) -> None:
        """Choose the drone (off the GUI thread), ask the pilot, then fly the orbit mission (off it again)."""
        alert = self.panel.alert
        if alert is None or alert.id != alert_id:
            return
        self._orbit_shape = (radius_m, turns)
        self.pool.start(_Job(f"Orbit alert {alert_id}", lambda: self.service.choose_drone(alert, self.actor),
                                    self.signals, lambda c: self.signals.orbit_choice.emit(alert, c)))  # fmt: skip

    def _confirm_orbit(self, alert: Alert, choice: Any) -> None:
        radius_m, turns = self._orbit_shape
        d = choice.drone
        question = (f"Fly {d.name} ({choice.distance_m:.0f} m away) on a {turns:g}-turn orbit of {radius_m:g} m "
                    f"around alert {alert.id} at {choice.alt_rel_m:.0f} m, camera on the spot, then RTL? "
                    "It leaves what it is doing now.")  # fmt: skip
        self.last_question = question
        if not self.confirm_orbit(question):
            self.window.statusBar().showMessage(f"Orbit of alert {alert.id}: not confirmed; nothing sent", 10000)
            return
        self.window.statusBar().showMessage(f"Orbit of alert {alert.id}: {d.name} checking and uploading…", 10000)
        self.pool.start(_Job(f"Orbit alert {alert.id}",
                                    lambda: self.service.fly_orbit(alert, self.actor, sysid=d.sysid,
                                                                   radius_m=radius_m, turns=turns),
                                    self.signals, self.signals.drone_sent.emit))  # fmt: skip

    def _ask_pilot(self, question: str) -> bool:
        from PySide6.QtWidgets import QMessageBox

        answer = QMessageBox.question(self.window, "Orbit the alert", question)
        return answer == QMessageBox.StandardButton.Yes

    def place_unit(self, unit: str, lat: float, lon: float) -> None:
        self._run(f"place {unit}", lambda: self.service.place_unit(unit, lat, lon, self.actor),
                  f"{unit} placed at {lat:.5f}, {lon:.5f}")  # fmt: skip

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        """On a right-click on the map, add the unit items to the menu the map is about to open (the map's
        own items stay; no change to ``console.mapview`` needed)."""
        if event.type() == QEvent.Type.ContextMenu and obj is self.window.map.viewport():
            from console.mapview import from_scene

            lat, lon = from_scene(self.window.map.mapToScene(event.pos()))  # type: ignore[attr-defined]
            QTimer.singleShot(0, lambda: self._extend_popup(lat, lon))  # runs inside the menu's exec loop
        return False

    def _extend_popup(self, lat: float, lon: float) -> None:
        menu = QApplication.activePopupWidget()
        if isinstance(menu, QMenu) and menu.parent() is self.window.map:
            self._map_menu(menu, lat, lon)
            menu.adjustSize()

    def _map_menu(self, menu: QMenu, lat: float, lon: float) -> None:
        if not self.actor.may("alerts.dispatch"):
            return
        units = [u for u in self.units if u.sysid is None]  # as last read; drones follow the fleet
        chosen = self.panel.selected_unit()
        menu.addSeparator()
        if chosen is not None and any(u.name == chosen for u in units):
            act = menu.addAction(f"Place unit {chosen} here")
            act.triggered.connect(lambda _=False, n=chosen: self.place_unit(n, lat, lon))
        sub = menu.addMenu("Place unit here")
        for u in units:
            act = sub.addAction(f"{u.callsign} ({u.kind}, {u.status.replace('_', ' ')})")
            act.triggered.connect(lambda _=False, n=u.name: self.place_unit(n, lat, lon))
        sub.setEnabled(bool(units))

    # ---- results (GUI thread) ---------------------------------------------------------------------
    def _done(self, text: str) -> None:
        self.window.statusBar().setStyleSheet("")
        self.window.statusBar().showMessage(text, 15000)
        self.panel.show_notice(text)
        self.panel.refresh(rank=True)
        self.tick()

    def _failed(self, text: str) -> None:
        if text.startswith(("drone positions:", "dispatch board:", "dispatch panel:")):  # background reads
            if text.startswith("drone positions:"):
                self._syncing = False
            elif text.startswith("dispatch board:"):
                self._reading = False
            else:
                self.panel._busy = False
            log.warning("%s", text)
            return
        log.warning("%s", text)
        self.window.statusBar().setStyleSheet("color: #d32f2f; font-weight: bold")
        self.window.statusBar().showMessage(text, 30000)
        self.panel.show_notice(text, error=True)

    def _drone_sent(self, sent: Any) -> None:
        self.last_sent = sent
        self._done(sent.line())
        self.window.select_vehicle(sent.sysid)
        self.bring_video_forward(sent.sysid)

    def bring_video_forward(self, sysid: int) -> bool:
        """Show the video wall with the drone's tile first and framed (its gimbal camera, if it has one)."""
        wall = self.window.wall
        if wall is None:
            return False
        tag = f"#{sysid}"
        tile = next((t for t in wall.tiles if tag in t.feed.name.split() or f"{tag} " in t.feed.name), None)
        if tile is None:
            return False
        grid = wall.layout()
        tiles = [tile] + [t for t in wall.tiles if t is not tile]
        cols = max(1, grid.columnCount())
        for t in tiles:
            grid.removeWidget(t)
        for i, t in enumerate(tiles):
            grid.addWidget(t, i // cols, i % cols)
            t.setStyleSheet("")
        tile.setStyleSheet("border: 3px solid #ffeb3b")
        tile.setToolTip(f"Sent to the alert: drone {tag}")
        dock = self.window.findChild(QDockWidget, "Video wall")
        if dock is not None:
            dock.show()
            dock.raise_()
        self.brought_forward = tile.feed.name
        return True

    def stop(self) -> None:
        self.timer.stop()
        self.panel.timer.stop()
        self.pool.waitForDone(3000)


def _to_scene() -> Callable[[float, float], Any]:
    from console.mapview import to_scene

    return to_scene
