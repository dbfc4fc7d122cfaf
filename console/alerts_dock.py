"""The alert queue: alerts from dispatch's store, newest first, by severity colour, with thumbnails.

One ``AlertsModel`` owns the domain ``dispatch.types.Alert`` rows; ``QSortFilterProxyModel`` tabs
show its New (new + acknowledged: waiting for a decision), Confirmed and All views (Qt's address book
example shape). ``AlertQueue.poll()`` (the main window's timer) asks ``AlertSource.changes_since``
for what changed; the first poll restores the queue from the store after a restart. Opening an alert
shows its evidence in ``AlertDetail``; A / C / D (while the queue has focus) acknowledge, confirm and
dismiss it as the logged-in actor. Store calls are local SQLite and quick, so they run on the GUI
thread; a refusal (role, wrong state) goes to the status bar.
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QModelIndex, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QAction, QBrush, QColor, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from console.alert_detail import AlertDetail, DismissDialog, evidence_of, local_path
from console.events import SEVERITY_COLOUR, kind_text
from console.services import AlertSource
from console.table_model import Index, RowsTableModel

if TYPE_CHECKING:
    from dispatch.roles import Actor
    from dispatch.types import Alert

log = logging.getLogger(__name__)
THUMB_W, THUMB_H = 80, 45
COLUMNS = ("", "Time (UTC)", "Camera", "What", "Severity", "State")
COLUMN_WIDTHS = (THUMB_W + 6, 80, 110, 140, 62, 90)  # px; the operator may drag them
ROW_TINT = {"high": QColor(255, 205, 210), "medium": QColor(255, 236, 179), "low": QColor(236, 239, 241)}
TABS = (("New", ("new", "acknowledged")), ("Confirmed", ("confirmed",)), ("All", None))
ACTIONS = (("ack", "alerts.ack", "A"), ("confirm", "alerts.confirm", "C"), ("dismiss", "alerts.dismiss", "D"))


class AlertsModel(RowsTableModel):
    """Alerts newest first (highest id first), at most ``max_rows`` (the newest; older ones stay in the
    store: ``lookout alerts list``). ``upsert`` inserts new ids and replaces changed ones."""

    COLUMNS = COLUMNS
    BULK = 50  # more new alerts than this at once (a restart): one model reset instead of row inserts

    def __init__(self, source: AlertSource, max_rows: int = 2000) -> None:
        super().__init__()
        self._source = source
        self.max_rows = max_rows
        self._rows: list[Alert] = []
        self._row_by_id: dict[int, int] = {}
        self._thumbs: dict[int, tuple[str, QPixmap | None]] = {}  # alert id -> (snapshot sha256, thumbnail)

    def upsert(self, alerts: Iterable[Alert]) -> list[Alert]:
        """Put ``alerts`` in the queue; return those that were not in it before."""
        latest = {a.id: a for a in alerts}  # a batch may hold several versions of one alert: keep the last
        added = sorted((a for i, a in latest.items() if i not in self._row_by_id), key=lambda a: a.id)
        for alert in latest.values():
            row = self._row_by_id.get(alert.id)
            if row is not None:
                self._rows[row] = alert
                self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))
        if len(added) > self.BULK:
            self.beginResetModel()
            self._rows = sorted(self._rows + added, key=lambda a: -a.id)[: self.max_rows]
            self._reindex()
            self.endResetModel()
        else:
            for alert in added:
                pos = bisect.bisect_left([-a.id for a in self._rows], -alert.id)
                self.beginInsertRows(QModelIndex(), pos, pos)
                self._rows.insert(pos, alert)
                self.endInsertRows()
                self._reindex()
            if len(self._rows) > self.max_rows:
                self.beginRemoveRows(QModelIndex(), self.max_rows, len(self._rows) - 1)
                del self._rows[self.max_rows :]
                self.endRemoveRows()
                self._reindex()
        return [a for a in added if a.id in self._row_by_id]

    def _reindex(self) -> None:
        self._row_by_id = {a.id: i for i, a in enumerate(self._rows)}
        for gone in set(self._thumbs) - set(self._row_by_id):
            del self._thumbs[gone]

    def row_of(self, alert_id: int) -> int | None:
        return self._row_by_id.get(alert_id)

    def alert_at(self, row: int) -> Alert:
        return self._rows[row]

    def alerts(self) -> list[Alert]:
        return list(self._rows)

    def thumbnail(self, alert: Alert) -> QPixmap | None:
        ref = evidence_of(alert, "snapshot")
        if ref is None:
            return None
        cached = self._thumbs.get(alert.id)
        if cached is None or cached[0] != ref.sha256:
            path = local_path(self._source.evidence_path, ref)
            pix = QPixmap(str(path)) if path is not None and path.is_file() else QPixmap()
            thumb = None if pix.isNull() else pix.scaled(
                THUMB_W, THUMB_H, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
            )  # fmt: skip
            cached = self._thumbs[alert.id] = (ref.sha256 if thumb is not None else "", thumb)
        return cached[1]

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        a = self._rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            what = kind_text(a.kind) + (f" ×{a.count}" if a.count > 1 else "")
            return ("", _when(a.t_start_utc), a.feed, what, a.severity, a.state.value)[col]
        if role == Qt.ItemDataRole.DecorationRole and col == 0:
            return self.thumbnail(a)
        if role == Qt.ItemDataRole.ForegroundRole and col in (3, 4):
            return QBrush(SEVERITY_COLOUR.get(a.severity, QColor(0, 0, 0)))
        if role == Qt.ItemDataRole.BackgroundRole and a.state.value in ("new", "acknowledged"):
            tint = ROW_TINT.get(a.severity)
            return QBrush(tint) if tint is not None else None
        if role == Qt.ItemDataRole.ToolTipRole:
            where = f"{a.position.lat_deg:.5f}, {a.position.lon_deg:.5f}" if a.position else "no position"
            return f"#{a.id} {kind_text(a.kind)} on {a.feed} ({a.severity}, {a.state.value})\n{a.summary}\n{where}"
        if role == Qt.ItemDataRole.UserRole:
            return a.id
        return None


def _when(t: datetime) -> str:
    """HH:MM:SS today (UTC), else the date too (a restored queue holds older alerts)."""
    t = t.astimezone(UTC)
    return t.strftime("%H:%M:%S") if t.date() == datetime.now(UTC).date() else t.strftime("%Y-%m-%d %H:%M")


class AlertFilter(QSortFilterProxyModel):
    """One tab: the alerts whose state is in ``states`` (None: all)."""

    def __init__(self, states: Sequence[str] | None) -> None:
        super().__init__()
        self.states = None if states is None else frozenset(states)

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        if self.states is None:
            return True
        model = self.sourceModel()
        return isinstance(model, AlertsModel) and model.alert_at(source_row).state.value in self.states


class AlertQueue(QWidget):
    """Tabs of alerts over a detail panel. Signals carry domain ``Alert`` values."""

    alert_opened = Signal(object)  # Alert: the main window centres the map on it
    alerts_changed = Signal(object)  # list[Alert]: every alert in the queue (for the map's markers)
    urgent = Signal(object)  # Alert: a new high-severity alert arrived
    message = Signal(str)
    failed = Signal(str)

    def __init__(self, source: AlertSource, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.source = source
        self.actor = actor
        self.version = 0
        self.restored = False
        self._updating = False
        self._last_error = ""
        self.model = AlertsModel(source)
        self.tabs = QTabWidget()
        self.views: list[QTableView] = []
        self.proxies: list[AlertFilter] = []
        for title, states in TABS:
            proxy = AlertFilter(states)
            proxy.setSourceModel(self.model)
            view = _table(proxy)
            view.selectionModel().currentRowChanged.connect(lambda cur, _prev, v=view: self._open_index(v, cur))
            view.clicked.connect(lambda idx, v=view: self._open_index(v, idx))
            self.tabs.addTab(view, title)
            self.views.append(view)
            self.proxies.append(proxy)
        for signal in (self.model.rowsInserted, self.model.rowsRemoved, self.model.modelReset, self.model.dataChanged):
            signal.connect(self._retitle)
        self.detail = AlertDetail(source.evidence_path)
        self.detail.acknowledge_requested.connect(self.acknowledge)
        self.detail.confirm_requested.connect(self.confirm)
        self.detail.dismiss_requested.connect(self.ask_dismiss)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.tabs)
        split.addWidget(self.detail)
        split.setSizes([260, 420])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addWidget(split)
        self.shortcuts: dict[str, QAction] = {}
        for key, _perm, letter in ACTIONS:
            act = QAction(self)
            act.setShortcut(letter)
            act.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            act.triggered.connect(lambda _=False, k=key: self._shortcut(k))
            self.addAction(act)
            self.shortcuts[key] = act
        self.dismiss_dialog: DismissDialog | None = None
        self.set_actor(actor)
        self._retitle()

    # ---- who ----------------------------------------------------------------------------------
    def set_actor(self, actor: Actor) -> None:
        """Show only the decisions ``actor``'s role may take (the store refuses the rest anyway)."""
        from dispatch.roles import may

        self.actor = actor
        for key, perm, _letter in ACTIONS:
            allowed = may(actor.role, perm)
            self.detail.allow(key, allowed)
            self.shortcuts[key].setEnabled(allowed)

    # ---- data ---------------------------------------------------------------------------------
    def poll(self) -> list[Alert]:
        """Take what changed in the store; return the alerts new to the queue."""
        changed: list[Alert] = []
        for _ in range(50):  # the store hands out changes in batches (1000); a restart may need several
            try:
                version, batch = self.source.changes_since(self.version)
            except Exception as exc:  # a broken store must not take the console down; say why, once
                if str(exc) != self._last_error:
                    self._last_error = str(exc)
                    self.failed.emit(f"alert store: {exc}")
                return []
            if not batch or version <= self.version:
                break
            changed.extend(batch)
            self.version = version
            self._last_error = ""
        first = not self.restored
        self.restored = True
        if not changed:
            return []
        added = self._upsert(changed)
        current = self.detail.alert
        if current is not None:
            updated = next((a for a in changed if a.id == current.id), None)
            if updated is not None:
                self.detail.show_alert(updated)
        self.alerts_changed.emit(self.model.alerts())
        if first:
            waiting = [a for a in added if a.state.value == "new"]
            if waiting:
                self.message.emit(f"{len(waiting)} alert(s) waiting for a decision (restored from the store)")
            return added
        for alert in added:
            if alert.severity == "high" and alert.state.value == "new":
                self.urgent.emit(alert)
        return added

    def select_alert(self, alert_id: int) -> bool:
        """Open ``alert_id`` in the current tab (switching to All when the tab hides it)."""
        row = self.model.row_of(alert_id)
        if row is None:
            return False
        for tab in (self.tabs.currentIndex(), len(TABS) - 1):
            proxy_index = self.proxies[tab].mapFromSource(self.model.index(row, 0))
            if proxy_index.isValid():
                self.tabs.setCurrentIndex(tab)
                view = self.views[tab]
                view.setCurrentIndex(proxy_index)
                view.selectRow(proxy_index.row())
                view.setFocus()
                self._open(self.model.alert_at(row))
                return True
        return False

    def current(self) -> Alert | None:
        return self.detail.alert

    def _upsert(self, alerts: Sequence[Alert]) -> list[Alert]:
        """Update the model without opening another alert: a decided alert leaving its tab moves that
        tab's current row to a neighbour, which must not become the opened alert (a second C would
        confirm an alert the operator has not looked at)."""
        self._updating = True
        try:
            added = self.model.upsert(alerts)
        finally:
            self._updating = False
        opened = self.detail.alert
        for proxy, view in zip(self.proxies, self.views, strict=True):
            cur = view.currentIndex()
            src = proxy.mapToSource(cur) if cur.isValid() else QModelIndex()
            if src.isValid() and (opened is None or self.model.alert_at(src.row()).id != opened.id):
                view.selectionModel().clear()
        return added

    def _open_index(self, view: QTableView, index: QModelIndex) -> None:
        if not index.isValid() or self._updating:
            return
        proxy = view.model()
        if isinstance(proxy, AlertFilter):
            src = proxy.mapToSource(index)
            if src.isValid():
                self._open(self.model.alert_at(src.row()))

    def _open(self, alert: Alert) -> None:
        if self.detail.alert is not None and self.detail.alert.id == alert.id and self.detail.alert == alert:
            return
        self.detail.show_alert(alert)
        self.alert_opened.emit(alert)

    def _retitle(self, *_: Any) -> None:
        for i, (title, _states) in enumerate(TABS):
            self.tabs.setTabText(i, f"{title} ({self.proxies[i].rowCount()})")

    # ---- decisions ----------------------------------------------------------------------------
    def _shortcut(self, key: str) -> None:
        alert = self.detail.alert
        if alert is None:
            self.message.emit("Select an alert first (A acknowledge, C confirm, D dismiss)")
            return
        {"ack": self.acknowledge, "confirm": self.confirm, "dismiss": self.ask_dismiss}[key](alert.id)

    def acknowledge(self, alert_id: int) -> None:
        self._act("acknowledged", lambda: self.source.acknowledge(alert_id, self.actor))

    def confirm(self, alert_id: int) -> None:
        self._act("confirmed", lambda: self.source.confirm(alert_id, self.actor))

    def ask_dismiss(self, alert_id: int) -> None:
        row = self.model.row_of(alert_id)
        if row is None:
            return
        dialog = self.dismiss_dialog = DismissDialog(self.model.alert_at(row), self)
        dialog.accepted.connect(lambda: self.dismiss(alert_id, dialog.reason()))
        dialog.open()

    def dismiss(self, alert_id: int, reason: str) -> None:
        self._act("dismissed", lambda: self.source.dismiss(alert_id, self.actor, reason))

    def _act(self, verb: str, call: Any) -> None:
        try:
            alert = call()
        except Exception as exc:  # refusals (role, wrong state) and store errors: shown, the console stays up
            self.failed.emit(str(exc))
            return
        self._upsert([alert])
        if self.detail.alert is not None and self.detail.alert.id == alert.id:
            self.detail.show_alert(alert)
        self.alerts_changed.emit(self.model.alerts())
        self.message.emit(f"Alert #{alert.id} {verb} by {self.actor.name}")


def _table(proxy: AlertFilter) -> QTableView:
    view = QTableView()
    view.setModel(proxy)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setDefaultSectionSize(THUMB_H + 4)
    view.setIconSize(view.iconSize().expandedTo(QPixmap(THUMB_W, THUMB_H).size()))
    header = view.horizontalHeader()
    header.setStretchLastSection(True)
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    for col, width in enumerate(COLUMN_WIDTHS):
        view.setColumnWidth(col, width)
    view.setTextElideMode(Qt.TextElideMode.ElideRight)
    view.setWordWrap(False)
    return view
