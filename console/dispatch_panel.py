"""The dispatch panel beside the alert queue: units by ETA vs the deadline, the response clock, sinks.

Self-contained: give it a ``DispatchSource`` (``dispatch.desk.DispatchDesk`` is one) and show an
alert with ``set_alert(alert)``; a ``QTimer`` (1 Hz) refreshes the clock and the per-sink delivery
state. Reads go through ``gather`` (no Qt) and ``show_data``: synchronously, or, with ``runner`` set
(``console.dispatch_dock`` sets the window's thread pool), off the GUI thread, back by signal.
Decisions leave as signals carrying the alert id, which the main window turns into desk / store
calls off the GUI thread (``assign(alert_id, unit)``, ``on_scene(alert_id)``,
``close_alert(alert_id)``, ``send_drone(alert_id)``, ``orbit(alert_id)``). The running clock is
green, then amber from ``amber_at`` of the target, then red once the deadline has passed; it stops
when a unit is on scene. Buttons the role may not use (``alerts.dispatch``, ``alerts.close``,
``flight.goto``, ``flight.run``) are hidden.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

if TYPE_CHECKING:
    from dispatch.clock import ClockStatus, ResponseRecord
    from dispatch.response import Recommendation, ResponseClass
    from dispatch.roles import Actor
    from dispatch.types import Alert

log = logging.getLogger(__name__)
CLOCK_CSS = {"green": "#2e7d32", "amber": "#f9a825", "red": "#c62828"}
STATE_CSS = {"delivered": "#2e7d32", "pending": "#f9a825", "dead": "#c62828"}


class DispatchSource(Protocol):
    def classify(self, alert: Any) -> ResponseClass: ...

    def recommend(self, alert: Any, now: datetime | None = None) -> Recommendation: ...

    def record(self, alert_id: int) -> ResponseRecord | None: ...

    def clock(self, alert_id: int, now: datetime | None = None) -> ClockStatus | None: ...

    @property
    def outbox(self) -> Any: ...  # .delivery_state(alert_id) -> {sink: state}, .health()


@dataclass(frozen=True, slots=True)
class PanelData:
    """What the panel shows, read from the source in one go (``DispatchPanel.gather``, any thread)."""

    alert: Alert | None
    health: list[Any] = field(default_factory=list)
    health_error: str = ""
    cls: ResponseClass | None = None
    rec: ResponseRecord | None = None
    clock: ClockStatus | None = None
    ranking: Recommendation | None = None
    states: dict[str, str] = field(default_factory=dict)
    rank: bool = False
    error: str = ""


def mmss(seconds: float) -> str:
    sign = "-" if seconds < 0 else ""
    s = int(abs(seconds))
    return f"{sign}{s // 60:d}:{s % 60:02d}"


class DispatchPanel(QWidget):
    assign = Signal(int, str)  # alert id, unit name
    on_scene = Signal(int)
    close_alert = Signal(int)
    send_drone = Signal(int)
    orbit = Signal(int)  # a short orbit mission around the alert, flown after the pilot confirms
    gathered = Signal(object)  # PanelData read off the GUI thread (see ``runner``)

    def __init__(self, source: DispatchSource, actor: Actor | None = None, parent: QWidget | None = None,
                 *, refresh_ms: int = 1000, now: Callable[[], datetime] | None = None) -> None:  # fmt: skip
        super().__init__(parent)
        self.source = source
        self.now = now or (lambda: datetime.now(UTC))
        self.alert: Alert | None = None
        self._unit_names: list[str] = []
        self.title = QLabel("No alert selected")
        self.title.setWordWrap(True)
        self.clock_label = QLabel("")
        self.clock_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.clock_label.setMinimumHeight(36)
        self.phase_label = QLabel("")
        self.units = QTableWidget(0, 5)
        self.units.setHorizontalHeaderLabels(["Unit", "Kind", "Distance", "ETA", "Deadline"])
        self.units.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.units.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.units.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.units.verticalHeader().setVisible(False)
        self.units.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.not_offered = QLabel("")
        self.not_offered.setWordWrap(True)
        self.not_offered.setStyleSheet("color: #757575")
        self.assign_button = QPushButton("Assign unit")
        self.on_scene_button = QPushButton("On scene")
        self.close_button = QPushButton("Close")
        self.drone_button = QPushButton("Send drone")
        self.drone_button.setToolTip("The nearest ready drone flies to the alert (GUIDED, safe altitude, camera on it)")
        self.orbit_button = QPushButton("Orbit…")
        self.orbit_button.setToolTip("A short orbit mission around the alert, after you confirm the drone")
        self.notice = QLabel("")  # the outcome of the last decision (a refusal stays readable here)
        self.notice.setWordWrap(True)
        self.sinks_label = QLabel("")
        self.sinks_label.setWordWrap(True)
        self.sinks_label.setTextFormat(Qt.TextFormat.RichText)
        self.health_label = QLabel("")  # every sink: queue, dead letters, last error (shown even with no alert)
        self.health_label.setWordWrap(True)
        self.health_label.setTextFormat(Qt.TextFormat.RichText)
        buttons = QHBoxLayout()
        for b in (self.assign_button, self.on_scene_button, self.close_button, self.drone_button, self.orbit_button):
            buttons.addWidget(b)
        lay = QVBoxLayout(self)
        for w in (self.title, self.clock_label, self.phase_label, self.units, self.not_offered):
            lay.addWidget(w)
        lay.addLayout(buttons)
        lay.addWidget(self.notice)
        lay.addWidget(self.sinks_label)
        lay.addWidget(self.health_label)
        self.assign_button.clicked.connect(self._assign_clicked)
        self.on_scene_button.clicked.connect(lambda: self._emit(self.on_scene))
        self.close_button.clicked.connect(lambda: self._emit(self.close_alert))
        self.drone_button.clicked.connect(lambda: self._emit(self.send_drone))
        self.orbit_button.clicked.connect(lambda: self._emit(self.orbit))
        self.runner: Callable[[Callable[[], PanelData]], None] | None = None  # runs a read, emits ``gathered``
        self._busy = False
        self._pending_rank = False
        self.gathered.connect(self.show_data)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.refresh)
        if refresh_ms > 0:
            self.timer.start(refresh_ms)
        self.set_actor(actor)
        self.set_alert(None)

    # ---- state in -------------------------------------------------------------------------------
    def set_actor(self, actor: Actor | None) -> None:
        may = (lambda a: True) if actor is None else actor.may
        self.assign_button.setVisible(may("alerts.dispatch"))
        self.on_scene_button.setVisible(may("alerts.dispatch"))
        self.close_button.setVisible(may("alerts.close"))
        self.drone_button.setVisible(may("flight.goto"))
        self.orbit_button.setVisible(may("flight.run"))

    def show_notice(self, text: str, error: bool = False) -> None:
        """The outcome of the last decision, under the buttons (red when refused)."""
        self.notice.setText(text)
        self.notice.setStyleSheet("color: #c62828; font-weight: bold" if error else "color: #2e7d32")

    def set_alert(self, alert: Alert | None) -> None:
        if alert is None or self.alert is None or alert.id != self.alert.id:
            self.notice.setText("")
        self.alert = alert
        if alert is None:
            self._show_empty()
        self.refresh(rank=True)

    def refresh(self, *, rank: bool = False) -> None:
        """Clock and sinks every tick; the unit ranking when asked (new alert, after an action).

        With a ``runner`` (the main window's thread pool) the source is read off the GUI thread and the
        result comes back through ``gathered``; one read at a time (a tick while one runs is folded in)."""
        if self.runner is None:
            self.show_data(self.gather(self.alert, rank))
            return
        self._pending_rank = self._pending_rank or rank
        if self._busy:
            return
        self._busy, rank, self._pending_rank = True, self._pending_rank, False
        alert = self.alert
        self.runner(lambda: self.gather(alert, rank))

    def gather(self, a: Alert | None, rank: bool) -> PanelData:
        """Read everything shown from the source (no Qt: any thread). Errors become text, never raise."""
        try:
            health, health_error = list(self.source.outbox.health()), ""
        except Exception as exc:  # a locked database must not take the console down
            health, health_error = [], str(exc)
        if a is None:
            return PanelData(None, health, health_error)
        try:
            cls = self.source.classify(a)
            rec = self.source.record(a.id)
            st = self.source.clock(a.id, self.now())
            ranking = self.source.recommend(a, self.now()) if rank and a.position is not None else None
            states = dict(self.source.outbox.delivery_state(a.id))
        except Exception as exc:  # a locked or broken database must not take the console down
            log.warning("dispatch panel: %s", exc)
            return PanelData(a, health, health_error, error=str(exc))
        return PanelData(a, health, health_error, cls, rec, st, ranking, states, rank=rank)

    def show_data(self, data: PanelData) -> None:
        """Show what ``gather`` read (GUI thread); a read for an alert no longer shown is dropped."""
        self._busy = False
        self._show_health(data)
        a = self.alert
        if data.alert is None or a is None or data.alert.id != a.id:
            if a is None:
                self._show_empty()
            elif self.runner is not None:
                self.refresh(rank=True)  # the alert changed while reading: read again
            return
        if data.error:
            self.phase_label.setText(f"dispatch data unavailable: {data.error}")
        else:
            self._show(a, data)
        if self._pending_rank and self.runner is not None:
            self.refresh()

    def _show_empty(self) -> None:
        for b in (self.assign_button, self.on_scene_button, self.close_button, self.drone_button, self.orbit_button):
            b.setEnabled(False)
        self.title.setText("No alert selected")
        for lab in (self.clock_label, self.phase_label, self.not_offered, self.sinks_label):
            lab.setText("")
        self.clock_label.setStyleSheet("")
        self.units.setRowCount(0)
        self._unit_names = []

    def _show(self, a: Alert, data: PanelData) -> None:
        cls, rec, st = data.cls, data.rec, data.clock
        self.close_button.setEnabled(True)
        where = "no position" if a.position is None else f"{a.position.lat_deg:.5f}, {a.position.lon_deg:.5f}"
        if rec is None or rec.area == cls.area:
            area = cls.describe() if rec is None else f"{cls.label} ({rec.target_min} min)"
        else:  # the class is fixed at confirmation; the areas may have changed since
            area = f"{rec.area} ({rec.target_min} min)"
        self.title.setText(f"Alert {a.id}: {a.kind} ({a.severity}) at {where}; class {area}")
        if st is None or rec is None:
            self.clock_label.setText(f"not confirmed ({cls.target_min} min once confirmed)")
            self.clock_label.setStyleSheet("")
            self.phase_label.setText("")
        else:
            self.clock_label.setText(f"{mmss(st.elapsed_s)} / {mmss(rec.target_min * 60)}")
            self.clock_label.setStyleSheet(f"background: {CLOCK_CSS[st.color]}; color: white; font-size: 18pt;"
                                           "font-weight: bold")  # fmt: skip
            unit = f"; unit {rec.unit}" if rec.unit else ""
            left = f"{mmss(st.remaining_s)} left" if st.remaining_s >= 0 else f"late by {mmss(-st.remaining_s)}"
            self.phase_label.setText(f"{st.phase.replace('_', ' ')}{unit}; {left}")
        self.on_scene_button.setEnabled(rec is not None and rec.unit is not None and rec.on_scene_utc is None)
        self.assign_button.setEnabled(rec is not None and rec.closed_utc is None)
        self.drone_button.setEnabled(a.position is not None)
        self.orbit_button.setEnabled(a.position is not None)
        if data.rank:
            self._rank(a, data.ranking)
        self.sinks_label.setText(" ".join(
            f'<span style="color:{STATE_CSS.get(s, "#000")}">{name}: {s}</span>'
            for name, s in sorted(data.states.items())
        ) or "not forwarded yet")  # fmt: skip

    def _show_health(self, data: PanelData) -> None:
        if data.health_error:
            self.health_label.setText(f"sink health unavailable: {data.health_error}")
            return
        parts = []
        for h in data.health:
            err, ok = h.last_error_utc, h.last_success_utc
            failing = err is not None and (ok is None or err > ok)
            bad = bool(h.dead_letters) or failing
            colour = "#c62828" if h.dead_letters else ("#f9a825" if bad else "#2e7d32")
            text = f"{h.sink}: queue {h.queue_depth}, dead {h.dead_letters}"
            if bad and h.last_error:
                text += f" ({h.last_error})"
            parts.append(f'<span style="color:{colour}">{text}</span>')
        self.health_label.setText("<br>".join(parts) or "no sinks configured")

    def _rank(self, a: Alert, rec: Recommendation | None) -> None:
        self.units.setRowCount(0)
        self._unit_names = []
        if a.position is None or rec is None:
            self.not_offered.setText("No position on the alert: no ETA ranking; pick a unit by hand.")
            return
        for c in rec.ranked:
            row = self.units.rowCount()
            self.units.insertRow(row)
            deadline = "makes it" if c.makes_deadline else f"late {mmss(-c.slack_s)}"
            for col, text in enumerate((c.unit.callsign, c.unit.kind, f"{c.distance_m:.0f} m", mmss(c.eta_s),
                                        deadline)):  # fmt: skip
                item = QTableWidgetItem(text)
                if col == 4:
                    item.setForeground(Qt.GlobalColor.darkGreen if c.makes_deadline else Qt.GlobalColor.red)
                self.units.setItem(row, col, item)
            self._unit_names.append(c.unit.name)
        if rec.ranked:
            self.units.selectRow(0)  # the dispatcher accepts the first, or picks another
        text = "; ".join(f"{n}: {why}" for n, why in rec.not_offered)
        if not rec.ranked and not rec.not_offered:
            text = "No units configured: add [units.NAME] (callsign, kind, position) to lookout.toml."
        self.not_offered.setText(text)

    # ---- decisions out --------------------------------------------------------------------------
    def selected_unit(self) -> str | None:
        rows = self.units.selectionModel().selectedRows()
        if not rows:
            return None
        return self._unit_names[rows[0].row()]

    def _assign_clicked(self) -> None:
        unit = self.selected_unit()
        if self.alert is not None and unit is not None:
            self.assign.emit(self.alert.id, unit)

    def _emit(self, signal: Any) -> None:
        if self.alert is not None:
            signal.emit(self.alert.id)
