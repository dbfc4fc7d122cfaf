"""The events list: behaviour events from the video wall, newest first, high severity in red.

The window polls ``EventFeed.events_since(seq)`` on its timer and appends what is new; the list
keeps the newest ``max_rows`` (older ones are in the log and, later, in the alert store).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

from console.services import EventLike
from console.table_model import Index, RowsTableModel

COLUMNS = ("Time (UTC)", "Camera", "What", "Severity", "Details")
KIND_TEXT = {
    "door_handle_trying": "Trying car doors",
    "vehicle_entry": "Got into a car",
    "water_entry": "Person in water",
    "fight": "Fight",
    "loitering": "Loitering",
    "crowd": "Crowd",
    "zone_entry": "Entered restricted zone",
}
SEVERITY_COLOUR = {"high": QColor(200, 30, 30), "medium": QColor(200, 120, 0), "low": QColor(90, 90, 90)}


def kind_text(kind: str) -> str:
    return KIND_TEXT.get(kind, kind.replace("_", " ").capitalize())


class EventsModel(RowsTableModel):
    COLUMNS = COLUMNS

    def __init__(self, max_rows: int = 500) -> None:
        super().__init__()
        self.max_rows = max_rows
        self._rows: list[EventLike] = []  # newest first

    def add(self, events: Sequence[EventLike]) -> None:
        """Put ``events`` (oldest first) at the top; drop the oldest beyond ``max_rows``."""
        if not events:
            return
        new = list(reversed(events))[: self.max_rows]
        self.beginInsertRows(QModelIndex(), 0, len(new) - 1)
        self._rows[:0] = new
        self.endInsertRows()
        extra = len(self._rows) - self.max_rows
        if extra > 0:
            self.beginRemoveRows(QModelIndex(), self.max_rows, len(self._rows) - 1)
            del self._rows[self.max_rows :]
            self.endRemoveRows()

    def event_at(self, row: int) -> EventLike:
        return self._rows[row]

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        ev = self._rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (ev.t_end_utc.strftime("%H:%M:%S"), ev.feed, kind_text(ev.kind), ev.severity, ev.summary)[col]
        if role == Qt.ItemDataRole.ForegroundRole and col in (2, 3):
            return QBrush(SEVERITY_COLOUR.get(ev.severity, QColor(0, 0, 0)))
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{kind_text(ev.kind)} on {ev.feed} at {ev.t_end_utc.isoformat()}\n{ev.summary}\nevent {ev.id}"
        return None


class EventsView(QTableView):
    def __init__(self, model: EventsModel) -> None:
        super().__init__()
        self.setModel(model)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.verticalHeader().setVisible(False)
        header = self.horizontalHeader()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
