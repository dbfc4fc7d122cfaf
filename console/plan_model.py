"""The waypoint table of the plan view: one row per mission item (command, frame, altitude, params, position).

``WaypointModel`` holds a ``missions.Mission``'s items (immutable ``MissionItem``s); an edit in a
cell builds a new item with ``dataclasses.replace`` and emits ``items_edited(tuple[MissionItem])``
for the plan view, which re-validates. The command column takes a MAV_CMD name (``WAYPOINT``,
``LOITER_TIME``, ...) or number; a bad value changes nothing.
"""

from __future__ import annotations

import math
from dataclasses import replace

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal

from missions.types import MissionItem
from missions.validate import NAMES

COLUMNS = ("#", "command", "alt m", "param1", "param2", "param3", "param4", "lat", "lon", "frame")
_FIELDS = {2: "alt_m", 3: "param1", 4: "param2", 5: "param3", 6: "param4", 7: "lat_deg", 8: "lon_deg", 9: "frame"}
_BY_NAME = {v: k for k, v in NAMES.items()}
Index = QModelIndex | QPersistentModelIndex


def command_text(command: int) -> str:
    return NAMES.get(command, str(command))


def parse_command(text: str) -> int | None:
    t = text.strip().upper().removeprefix("MAV_CMD_").removeprefix("NAV_")
    if t in _BY_NAME:
        return _BY_NAME[t]
    if t == "RTL":
        return 20
    return int(t) if t.isdigit() else None


class WaypointModel(QAbstractTableModel):
    items_edited = Signal(object)  # tuple[MissionItem, ...]

    def __init__(self) -> None:
        super().__init__()
        self._items: tuple[MissionItem, ...] = ()

    def set_items(self, items: tuple[MissionItem, ...]) -> None:
        self.beginResetModel()
        self._items = tuple(items)
        self.endResetModel()

    def items(self) -> tuple[MissionItem, ...]:
        return self._items

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._items)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        horizontal = orientation == Qt.Orientation.Horizontal
        if role == Qt.ItemDataRole.DisplayRole and horizontal and 0 <= section < len(COLUMNS):
            return COLUMNS[section]
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        return base if index.column() == 0 else base | Qt.ItemFlag.ItemIsEditable

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._items):
            return None
        it, col = self._items[index.row()], index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            if col == 0:
                return index.row() + 1
            if col == 1:
                return command_text(it.command)
            value = getattr(it, _FIELDS[col])
            if role == Qt.ItemDataRole.EditRole:
                return str(value)
            if isinstance(value, float):
                if math.isnan(value):
                    return "-"
                return f"{value:.7f}" if col in (7, 8) else f"{value:g}"
            return value
        if role == Qt.ItemDataRole.TextAlignmentRole and col != 1:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def setData(self, index: Index, value: object, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not index.isValid() or index.column() == 0:
            return False
        row, col = index.row(), index.column()
        it = self._items[row]
        text = str(value).strip()
        try:
            if col == 1:
                cmd = parse_command(text)
                if cmd is None:
                    return False
                new = replace(it, command=cmd)
            elif col == 9:
                new = replace(it, frame=int(text))
            else:
                number = float(text)
                if not math.isfinite(number) and col in (2, 7, 8):
                    return False
                if (col == 7 and abs(number) > 90) or (col == 8 and abs(number) > 180):
                    return False
                new = replace(it, **{_FIELDS[col]: number})
        except ValueError:
            return False
        self._items = (*self._items[:row], new, *self._items[row + 1:])
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))
        self.items_edited.emit(self._items)
        return True
