"""Main window: map in the centre, the alert queue, fleet table + flight controls and the video wall in docks.

Vehicle commands block until the vehicle ACKs, so they run on a ``QThreadPool`` worker and report
back by signal; the GUI thread only polls immutable snapshots on a timer. The window works as one
``Actor`` (the logged-in user) and shows only what that role may do (``dispatch.roles.may``): a
pilot gets the flight controls and no confirm button, an operator the alert queue and no arm button.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, QThreadPool, QTimer
from PySide6.QtGui import QAction, QCloseEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDockWidget,
    QLabel,
    QMainWindow,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from console.alerts_dock import AlertQueue
from console.events import EventsModel, EventsView, kind_text
from console.fleet_controls import AlarmBanner, AlarmMonitor, FleetCommander, GimbalControls
from console.fleet_model import FleetModel
from console.fly_actions import BUTTON_PERMISSION, MODES, MULTI, FlyActions, JobSignals
from console.mapview import MapView
from console.services import AlertSource, ConsoleServices
from console.video import VideoWall
from dispatch.roles import Actor, may
from dispatch.types import Alert

log = logging.getLogger(__name__)
__all__ = ["BUTTON_PERMISSION", "MODES", "MULTI", "MainWindow"]  # the buttons' tables live in console.fly_actions


class MainWindow(FlyActions, QMainWindow):
    def __init__(self, services: ConsoleServices, poll_hz: float = 10.0, actor: Actor | None = None) -> None:
        super().__init__()
        self.services = services
        self.actor = actor or services.actor or Actor.local_admin()
        self.setWindowTitle(f"{services.title} · {self.actor.name} ({self.actor.role})")
        self.resize(1400, 860)
        self.pool = QThreadPool(self)
        self.signals = JobSignals()
        self.signals.done.connect(self._status)
        self.signals.failed.connect(self._error)
        self.signals.progress.connect(self._status)
        self._quiet = JobSignals(self)
        self._quiet.failed.connect(lambda m: log.warning("%s", m))

        self.map = MapView(services.tiles_dir, layers=services.map_layers, cameras=services.cameras)
        if services.map_image is not None:
            self.map.set_background(services.map_image)
        if services.map_center is not None:
            self.map.center_on(*services.map_center)
        self.setCentralWidget(self.map)
        self.map.vehicle_clicked.connect(self.select_vehicle)
        self.map.vehicle_toggled.connect(self.toggle_vehicle)
        self.map.roi_requested.connect(self._point_camera_here)
        self.commander = FleetCommander(self)
        self.alarms = AlarmMonitor()
        self.alarm_banner = AlarmBanner(self.map, self.alarms)  # over the map (not its scrolling viewport)
        self.alarms.changed.connect(self._alarms_changed)
        self.map.fly_here_requested.connect(self._fly_here)
        self._quiet.mission_path.connect(self.map.set_mission_path)

        self.fleet_model = FleetModel()
        self.table = QTableView()
        self.table.setModel(self.fleet_model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)  # ctrl/shift: several
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.selectionModel().selectionChanged.connect(self._table_selection)
        fleet_box = QWidget()
        lay = QVBoxLayout(fleet_box)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addWidget(self.table)
        lay.addWidget(self._controls())
        self.gimbal = GimbalControls(self._point_gimbal, self._take_photo)
        self.gimbal.set_enabled(False)
        lay.addWidget(self.gimbal)
        fleet_dock = self._dock("Fleet", fleet_box, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.resizeDocks([fleet_dock], [190], Qt.Orientation.Vertical)
        self.wall: VideoWall | None = None
        if services.feeds:
            self.wall = VideoWall(services.feeds, zone_store=getattr(services, "zones", None))
            wall_dock = self._dock("Video wall", self.wall, Qt.DockWidgetArea.RightDockWidgetArea)
            self.resizeDocks([wall_dock], [560], Qt.Orientation.Horizontal)

        self.events_model = EventsModel()
        self.events_view: EventsView | None = None
        self._event_seq = 0
        if services.events is not None:
            self.events_view = EventsView(self.events_model)
            events_dock = self._dock("Events", self.events_view, Qt.DockWidgetArea.BottomDockWidgetArea)
            self.tabifyDockWidget(fleet_dock, events_dock)
            fleet_dock.raise_()
            self._events_dock = events_dock

        self.alert_queue: AlertQueue | None = None
        self.alerts_dock: QDockWidget | None = None
        if services.alerts is not None and may(self.actor.role, "alerts.view"):
            self._add_alert_queue(services.alerts)

        self.selected: int | None = None
        self.selection: list[int] = []  # every selected drone (multi-drone commands); ``selected`` is the first
        self._missions_drawn: set[int] = set()
        self._apply_role()
        self.dispatch_dock = None  # console.dispatch_dock.DispatchDock: panel beside the alerts, units on the map
        if services.dispatch is not None and self.alert_queue is not None:
            from console.dispatch_dock import DispatchDock

            self.dispatch_dock = DispatchDock(self, services.dispatch)
        from console.plan_view import install as install_plan_view

        self.plan_view = install_plan_view(self, services)  # a "Plan" tab beside this map (the "Fly" tab)
        self.plan_view.allow(upload=may(self.actor.role, "flight.upload"), fly=may(self.actor.role, "flight.run"))
        self.plan_view.message.connect(self._status)
        self.plan_view.uploaded.connect(self._missions_drawn.discard)  # the Fly map fetches the new mission
        self.user_label = QLabel(f"{self.actor.name} · {self.actor.role}")
        self.statusBar().addPermanentWidget(self.user_label)
        self.statusBar().showMessage("Ready. Click a drone on the map or in the fleet table to select it.")
        if services.notice:
            self._error(services.notice)
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.poll)
        self._timer.start(int(1000 / poll_hz))
        if self.alert_queue is not None:
            self._alert_timer = QTimer(self)
            self._alert_timer.timeout.connect(self.poll_alerts)
            self._alert_timer.start(int(1000 / min(poll_hz, 4.0)))
            self.poll_alerts()  # the queue comes back from the store at once after a restart
        quit_action = QAction("Quit", self)
        quit_action.setShortcut("Ctrl+Q")
        quit_action.triggered.connect(self.close)
        self.addAction(quit_action)

    # ---- layout -----------------------------------------------------------------------------
    def _add_alert_queue(self, source: AlertSource) -> None:
        queue = self.alert_queue = AlertQueue(source, self.actor)
        self.alerts_dock = self._dock("Alerts", queue, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.resizeDocks([self.alerts_dock], [560], Qt.Orientation.Horizontal)
        queue.alert_opened.connect(self._alert_opened)
        queue.alerts_changed.connect(self.map.set_alerts)
        queue.urgent.connect(self._urgent_alert)
        queue.message.connect(self._status)
        queue.failed.connect(self._error)
        self.map.alert_clicked.connect(queue.select_alert)

    def _apply_role(self) -> None:
        """Hide what the actor's role may not do (the store and the flight commands refuse it anyway)."""
        for name, btn in self.buttons.items():
            btn.setVisible(may(self.actor.role, BUTTON_PERMISSION[name]))
        self.alt_spin.setVisible(self.buttons["Take off"].isVisible())
        self.mode_combo.setVisible(self.buttons["Set mode"].isVisible())
        self.map.fly_here_allowed = may(self.actor.role, "flight.goto")
        self.map.roi_allowed = may(self.actor.role, "flight.mode")
        self.gimbal.setVisible(may(self.actor.role, "flight.mode"))

    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(title)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    # ---- state ------------------------------------------------------------------------------
    def poll(self) -> None:
        self._poll_events()
        snapshot = self.services.fleet.snapshot()
        self.alarms.update(snapshot)
        for state in snapshot.values():
            self.fleet_model.update(state)
            self.map.set_vehicle(state)
            if self.services.actions is not None and state.mission_total and state.sysid not in self._missions_drawn:
                self._missions_drawn.add(state.sysid)
                self._load_mission_path(state.sysid)

    def poll_alerts(self) -> None:
        if self.alert_queue is not None:
            self.alert_queue.poll()

    def _alert_opened(self, alert: Alert) -> None:
        if not self.map.show_alert(alert):
            self._status(f"Alert #{alert.id} has no position on the map (no reference points or pose for "
                         f"{alert.feed})")  # fmt: skip

    def _urgent_alert(self, alert: Alert) -> None:
        if self.alerts_dock is not None:
            self.alerts_dock.show()
            self.alerts_dock.raise_()
        self.statusBar().setStyleSheet("color: #d32f2f; font-weight: bold")
        self.statusBar().showMessage(
            f"ALERT #{alert.id}: {kind_text(alert.kind)} on {alert.feed} at {alert.t_start_utc:%H:%M:%S} UTC: "
            f"{alert.summary} (select it, then A acknowledge, C confirm, D dismiss)", 60000
        )

    def _poll_events(self) -> None:
        if self.services.events is None:
            return
        seq, events = self.services.events.events_since(self._event_seq)
        self._event_seq = seq
        if not events:
            return
        self.events_model.add(events)
        urgent = [e for e in events if e.severity == "high"]
        newest = (urgent or list(events))[-1]
        self.statusBar().showMessage(f"{'ALERT' if urgent else 'Event'}: {kind_text(newest.kind)} on "
                                     f"{newest.feed} at {newest.t_end_utc:%H:%M:%S} UTC: {newest.summary}")
        if urgent:
            self._events_dock.raise_()  # the operator sees the list, not the fleet table

    def select_vehicle(self, sysid: int) -> None:
        self.set_selection([sysid])

    def toggle_vehicle(self, sysid: int) -> None:
        """Ctrl-click on the map: add the drone to the selection or take it out."""
        chosen = [s for s in self.selection if s != sysid] if sysid in self.selection else [*self.selection, sysid]
        self.set_selection(chosen)

    def set_selection(self, sysids: list[int]) -> None:
        """Select these drones (map halos, table rows, buttons); the first one is ``selected``."""
        self.selection = list(dict.fromkeys(sysids))
        self.selected = self.selection[0] if self.selection else None
        self.map.select(self.selection)
        names = ", ".join(f"#{s}" for s in self.selection)
        self.selected_label.setText("No drone selected" if not self.selection else
                                    f"Drone {names}" if len(self.selection) == 1 else f"Drones {names}")  # fmt: skip
        one = len(self.selection) == 1
        for name, btn in self.buttons.items():
            btn.setEnabled(bool(self.selection) and (one or name in MULTI) and self.services.actions is not None
                           and may(self.actor.role, BUTTON_PERMISSION[name]))  # fmt: skip
        self.gimbal.set_enabled(one and self.services.actions is not None)
        if self.wall is not None and self.selected is not None:
            self.wall.follow(self.selected)
        rows = {r for r in range(self.fleet_model.rowCount()) if self.fleet_model.sysid_at(r) in self.selection}
        selected_rows = {i.row() for i in self.table.selectionModel().selectedRows()}
        if rows != selected_rows:
            from PySide6.QtCore import QItemSelection, QItemSelectionModel

            sel = QItemSelection()
            for r in rows:
                sel.select(self.fleet_model.index(r, 0), self.fleet_model.index(r, self.fleet_model.columnCount() - 1))
            self._syncing = True
            self.table.selectionModel().select(sel, QItemSelectionModel.SelectionFlag.ClearAndSelect)
            self._syncing = False

    def _table_selection(self) -> None:
        if getattr(self, "_syncing", False):
            return
        rows = sorted(i.row() for i in self.table.selectionModel().selectedRows())
        ids = [s for s in (self.fleet_model.sysid_at(r) for r in rows) if s is not None]
        if ids and ids != self.selection:
            self.set_selection(ids)

    # ---- actions ----------------------------------------------------------------------------
    def status(self, text: str) -> None:
        self._status(text)

    def error(self, text: str) -> None:
        self._error(text)

    def _alarms_changed(self) -> None:
        alarms = self.alarms.alarms()
        if alarms:
            self._error("ALARM: " + "  ·  ".join(a.text for a in alarms))

    def _status(self, text: str) -> None:
        self.statusBar().setStyleSheet("")
        self.statusBar().showMessage(text, 15000)

    def _error(self, text: str) -> None:
        log.warning("%s", text)
        self.statusBar().setStyleSheet("color: #d32f2f; font-weight: bold")
        self.statusBar().showMessage(text, 30000)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._timer.stop()
        self.plan_view.shutdown()
        if self.dispatch_dock is not None:
            self.dispatch_dock.stop()
        if self.alert_queue is not None:
            self._alert_timer.stop()
            self.alert_queue.detail.clip.stop()
        self.map.tiles.stop()
        self.pool.waitForDone(3000)
        super().closeEvent(event)

