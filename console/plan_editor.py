"""Drawing and editing a patrol plan on a ``MapView``: places, fence, rally, waypoints, violations.

``PlanEditor`` is a layer over a map (an event filter on its viewport, items in its scene): the plan
view owns the data, the editor draws it and turns mouse work into signals.

- **Draw** (``start_drawing(role)``): each left click adds a vertex; a double click, Enter or
  ``finish()`` ends the shape (polygons need 3 vertices, lines 2); Esc cancels. A point or rally
  point ends with its click. ``hole`` cuts the finished ring out of the key area it lies in.
- **Edit** (no drawing): drag a waypoint (``waypoint_moved``) or a vertex of a place or fence
  (``shapes_changed``); click a leg's ``+`` to insert a waypoint there (``waypoint_inserted``);
  click a waypoint to select it (``waypoint_selected``) and press Delete to remove it
  (``waypoint_deleted``); Delete on a selected vertex removes it (or the shape, when too few are left).

Shapes are lists of (lat, lon) rings: polygons ``[outer, *holes]``, lines ``[line]``, points ``[[p]]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from PySide6.QtCore import QEvent, QObject, QPointF, Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent, QMouseEvent, QPainterPath, QPen
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPathItem,
)

from console.mapview import MapView, from_scene, to_scene
from console.plan_drawing import HANDLE, Z_HANDLE, PlanDrawing
from console.plan_shapes import LINE_ROLES, POINT_ROLES, POLYGON_ROLES, ROLES, LatLon, Shape
from missions.summary import Violation


@dataclass
class _Drag:
    key: tuple[object, ...]
    item: QGraphicsItem
    moved: bool = False
    start: QPointF = field(default_factory=QPointF)


class PlanEditor(PlanDrawing, QObject):
    shapes_changed = Signal()
    waypoint_moved = Signal(int, float, float)  # item index, lat, lon
    waypoint_inserted = Signal(int, float, float)  # new item's index, lat, lon
    waypoint_selected = Signal(int)
    waypoint_deleted = Signal(int)
    drawing_changed = Signal(str)  # the role being drawn, "" when none
    message = Signal(str)

    def __init__(self, map_view: MapView) -> None:
        super().__init__(map_view)
        self.map = map_view
        self.shapes: list[Shape] = []
        self.mode = ""
        self.pending: list[LatLon] = []
        self.river_width_m = 20.0
        self.selected_wp: int | None = None
        self.selected_vx: tuple[int, int, int] | None = None
        self._waypoints: list[tuple[int, LatLon]] = []  # (item index, position) of the placed items
        self._violations: list[Violation] = []
        self._circles: list[tuple[float, float, float, bool]] = []  # lat, lon, radius m, inclusion
        self._items: list[QGraphicsItem] = []
        self._pending_item = QGraphicsPathItem()
        self._pending_item.setPen(QPen(QColor("#ffffff"), 2, Qt.PenStyle.DashLine))
        self._pending_item.setZValue(Z_HANDLE)
        map_view.scene().addItem(self._pending_item)
        self._drag: _Drag | None = None
        self._viewport = map_view.viewport()
        self._viewport.installEventFilter(self)
        map_view.installEventFilter(self)

    # ---- data in ----------------------------------------------------------------------------
    def set_shapes(self, shapes: Sequence[Shape]) -> None:
        self.shapes = list(shapes)
        self.selected_vx = None
        self.redraw()

    def set_waypoints(self, waypoints: Sequence[tuple[int, LatLon]]) -> None:
        """The mission's placed items: (index into the mission's items, (lat, lon))."""
        self._waypoints = list(waypoints)
        if self.selected_wp is not None and all(i != self.selected_wp for i, _ in self._waypoints):
            self.selected_wp = None
        self.redraw()

    def set_circles(self, circles: Sequence[tuple[float, float, float, bool]]) -> None:
        """Fence circles from an opened file (lat, lon, radius m, inclusion): shown, not edited."""
        self._circles = list(circles)
        self.redraw()

    def set_violations(self, violations: Sequence[Violation]) -> None:
        self._violations = list(violations)
        self.redraw()

    def select_waypoint(self, index: int | None) -> None:
        self.selected_wp = index
        self.redraw()

    # ---- drawing ----------------------------------------------------------------------------
    def start_drawing(self, role: str) -> None:
        if role not in ROLES:
            raise ValueError(f"unknown shape role {role!r}; use one of {', '.join(ROLES)}")
        self.mode, self.pending = role, []
        self.map.setDragMode(self.map.DragMode.NoDrag)
        self.map.setCursor(Qt.CursorShape.CrossCursor)
        self._show_pending()
        self.drawing_changed.emit(role)

    def cancel(self) -> None:
        self.mode, self.pending = "", []
        self.map.setDragMode(self.map.DragMode.ScrollHandDrag)
        self.map.unsetCursor()
        self._show_pending()
        self.drawing_changed.emit("")

    def finish(self) -> bool:
        """End the shape being drawn; False (and a message) when it has too few vertices."""
        role, pts = self.mode, list(self.pending)
        need = 3 if role in POLYGON_ROLES else 2 if role in LINE_ROLES else 1
        if not role:
            return False
        if len(pts) < need:
            self.message.emit(f"a {role} needs at least {need} points; click on the map to add them (Esc cancels)")
            return False
        self.mode, self.pending = "", []
        if role == "hole":
            ok = self._add_hole(pts)
        else:
            count = sum(1 for s in self.shapes if s.role == role) + 1
            self.shapes.append(Shape(role, [pts], f"{role} {count}", self.river_width_m if role == "river" else 0.0))
            self.redraw()
            ok = True
        self.cancel()  # back to editing (and says so) with the new shape in place
        if ok:
            self.shapes_changed.emit()
        return ok

    def add_vertex(self, lat: float, lon: float) -> None:
        if not self.mode:
            return
        if self.pending:  # a double click's second press lands on the vertex just added
            last = self.map.mapFromScene(to_scene(*self.pending[-1]))
            here = self.map.mapFromScene(to_scene(lat, lon))
            if abs(last.x() - here.x()) + abs(last.y() - here.y()) <= 3:
                return
        self.pending.append((lat, lon))
        if self.mode in POINT_ROLES:
            self.finish()
        else:
            self._show_pending()

    def _add_hole(self, ring: list[LatLon]) -> bool:
        from shapely.geometry import Point, Polygon

        lat, lon = ring[0]
        for s in self.shapes:
            if s.role == "area" and Polygon([(b, a) for a, b in s.rings[0]]).contains(Point(lon, lat)):
                s.rings.append(ring)
                self.redraw()
                return True
        self.message.emit("a hole must lie inside a key area: draw the area first, then the hole within it")
        return False

    def _show_pending(self) -> None:
        path = QPainterPath()
        for i, (lat, lon) in enumerate(self.pending):
            p = to_scene(lat, lon)
            path.moveTo(p) if i == 0 else path.lineTo(p)
        if self.mode in POLYGON_ROLES and len(self.pending) > 2:
            path.closeSubpath()
        self._pending_item.setPath(path)

    @property
    def busy(self) -> bool:
        """Drawing or dragging: the view holds back redraws that would pull the handle away."""
        return bool(self.mode) or self._drag is not None

    # ---- positions for tests and tours ------------------------------------------------------
    def handle_at(self, pos: QPointF) -> tuple[object, ...] | None:
        for item in self.map.items(pos.toPoint()):
            while item is not None and item.data(HANDLE) is None:
                item = item.parentItem()
            if item is not None:
                return tuple(item.data(HANDLE))
        return None

    # ---- mouse and keys ---------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        t = event.type()
        if t == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            return self._key(event)
        if watched is not self._viewport or not isinstance(event, QMouseEvent):
            return False
        pos = event.position()
        if self.mode:
            if t == QEvent.Type.MouseButtonPress and event.button() == Qt.MouseButton.LeftButton:
                lat, lon = from_scene(self.map.mapToScene(pos.toPoint()))
                self.add_vertex(lat, lon)
                return True
            if t == QEvent.Type.MouseButtonDblClick:
                self.finish()
                return True
            if t == QEvent.Type.MouseButtonPress and event.button() == Qt.MouseButton.RightButton:
                self.finish()
                return True
            moving = t in (QEvent.Type.MouseButtonRelease, QEvent.Type.MouseMove)
            return moving and event.buttons() != Qt.MouseButton.NoButton
        if t == QEvent.Type.MouseButtonPress and event.button() == Qt.MouseButton.LeftButton:
            return self._press(pos)
        if t == QEvent.Type.MouseMove and self._drag is not None:
            self._drag.moved = True
            self._drag.item.setPos(self.map.mapToScene(pos.toPoint()))
            return True
        if t == QEvent.Type.MouseButtonRelease and self._drag is not None:
            self._release(pos)
            return True
        return False

    def _press(self, pos: QPointF) -> bool:
        key = self.handle_at(pos)
        if key is None:
            return False
        lat, lon = from_scene(self.map.mapToScene(pos.toPoint()))
        if key[0] == "mid":
            self.waypoint_inserted.emit(int(key[1]), lat, lon)  # type: ignore[call-overload]
            return True
        item = next(i for i in self._items if i.data(HANDLE) is not None and tuple(i.data(HANDLE)) == key)
        self._drag = _Drag(key, item, start=QPointF(pos))
        if key[0] == "wp":
            self.selected_wp, self.selected_vx = int(key[1]), None  # type: ignore[call-overload]
            self.waypoint_selected.emit(self.selected_wp)
        else:
            self.selected_vx = (int(key[1]), int(key[2]), int(key[3]))  # type: ignore[call-overload]
        self.map.setFocus()
        return True

    def _release(self, pos: QPointF) -> None:
        drag, self._drag = self._drag, None
        if drag is None:
            return
        if not drag.moved:
            self.redraw()  # selection highlight
            return
        lat, lon = from_scene(self.map.mapToScene(pos.toPoint()))
        if drag.key[0] == "wp":
            self.waypoint_moved.emit(int(drag.key[1]), lat, lon)  # type: ignore[call-overload]
            return
        k, r, v = (int(x) for x in drag.key[1:4])  # type: ignore[call-overload]
        self.shapes[k].rings[r][v] = (lat, lon)
        self.redraw()
        self.shapes_changed.emit()

    def _key(self, event: QKeyEvent) -> bool:
        key = event.key()
        if self.mode:
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.finish()
                return True
            if key == Qt.Key.Key_Escape:
                self.cancel()
                return True
            if key == Qt.Key.Key_Backspace and self.pending:
                self.pending.pop()
                self._show_pending()
                return True
            return False
        if key not in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            return False
        if self.selected_wp is not None:
            index, self.selected_wp = self.selected_wp, None
            self.waypoint_deleted.emit(index)
            return True
        if self.selected_vx is not None:
            self.delete_vertex(*self.selected_vx)
            return True
        return False

    def delete_vertex(self, k: int, r: int, v: int) -> None:
        shape = self.shapes[k]
        ring = shape.rings[r]
        need = 3 if shape.closed else 2 if shape.role in LINE_ROLES else 1
        self.selected_vx = None
        if len(ring) - 1 >= need:
            del ring[v]
        elif r > 0:
            del shape.rings[r]  # a hole with too few vertices goes
        else:
            del self.shapes[k]
        self.redraw()
        self.shapes_changed.emit()
