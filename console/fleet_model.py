"""Fleet table: one row per vehicle, the domain ``VehicleState`` is the row (no dicts)."""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from flight.types import VehicleState

PALETTE = ("#1e88e5", "#43a047", "#fb8c00", "#8e24aa", "#00acc1", "#e53935", "#6d4c41", "#3949ab")

_Index = QModelIndex | QPersistentModelIndex


def _fmt(value: float | None, spec: str, unit: str = "") -> str:
    return "—" if value is None else f"{value:{spec}}{unit}"


COLUMNS: tuple[tuple[str, object], ...] = (
    ("Vehicle", lambda s: f"#{s.sysid}"),
    ("Mode", lambda s: s.mode),
    ("Armed", lambda s: "ARMED" if s.armed else "disarmed"),
    ("Alt", lambda s: _fmt(s.alt_rel_m, ".1f", " m")),
    ("Speed", lambda s: f"{s.groundspeed_m_s:.1f} m/s"),
    ("Battery", lambda s: _fmt(s.battery_pct, ".0f", " %")),
    ("GPS", lambda s: f"{s.gps_fix}D/{s.gps_sats}" if s.gps_fix >= 2 else f"no fix/{s.gps_sats}"),
    ("Link", lambda s: "OK" if s.link_ok else "LOST"),
    ("WP", lambda s: f"{s.mission_seq}/{s.mission_total}" if s.mission_total else "—"),
    ("Last message", lambda s: s.statustexts[-1] if s.statustexts else ""),
)


class FleetModel(QAbstractTableModel):
    """Rows keep the order vehicles were first heard; ``update`` replaces a row's snapshot."""

    def __init__(self) -> None:
        super().__init__()
        self._rows: list[VehicleState] = []
        self._row_of: dict[int, int] = {}

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt signature
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section][0]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not (0 <= index.row() < len(self._rows)):
            return None
        state = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[index.column()][1](state)  # type: ignore[operator]
        if role == Qt.ItemDataRole.UserRole:
            return state.sysid
        if role == Qt.ItemDataRole.DecorationRole and index.column() == 0:
            return QColor(PALETTE[(state.sysid - 1) % len(PALETTE)])  # the drone's colour on the map
        if role == Qt.ItemDataRole.ForegroundRole:
            if not state.link_ok:
                return QBrush(QColor("#d32f2f"))
            if index.column() == 5 and state.battery_pct is not None and state.battery_pct < 25:
                return QBrush(QColor("#e65100"))
        return None

    def update(self, state: VehicleState) -> None:
        row = self._row_of.get(state.sysid)
        if row is None:
            row = len(self._rows)
            self.beginInsertRows(QModelIndex(), row, row)
            self._rows.append(state)
            self._row_of[state.sysid] = row
            self.endInsertRows()
            return
        old = self._rows[row]
        self._rows[row] = state
        if old == state:
            return
        # Snapshots differ on every poll (link age); repaint only the cells whose text or colour changed.
        changed = [c for c, (_name, fmt) in enumerate(COLUMNS) if fmt(old) != fmt(state)]  # type: ignore[operator]
        if old.link_ok != state.link_ok or (old.battery_pct or 100) < 25 <= (state.battery_pct or 100):
            changed = list(range(len(COLUMNS)))
        if changed:
            self.dataChanged.emit(self.index(row, min(changed)), self.index(row, max(changed)))

    def sysid_at(self, row: int) -> int | None:
        return self._rows[row].sysid if 0 <= row < len(self._rows) else None

    def state(self, sysid: int) -> VehicleState | None:
        row = self._row_of.get(sysid)
        return None if row is None else self._rows[row]
