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

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from PySide6.QtCore import QEvent, QObject, QPointF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QKeyEvent, QMouseEvent, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import (
    QGraphicsEllipseItem,
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsRectItem,
    QGraphicsSimpleTextItem,
)

from console.mapview import MapView, from_scene, to_scene
from console.plan_shapes import LINE_ROLES, POINT_ROLES, POLYGON_ROLES, ROLES, LatLon, Shape
from missions.summary import Violation

HANDLE = 7  # QGraphicsItem data key: ("wp", i) | ("vx", shape, ring, vertex) | ("mid", i)
STYLE = {  # outline, fill alpha
    "area": ("#66bb6a", 50), "lake": ("#29b6f6", 60), "river": ("#29b6f6", 0), "route": ("#ffa726", 0),
    "point": ("#ec407a", 0), "fence": ("#fdd835", 0), "nofly": ("#e53935", 70), "rally": ("#ab47bc", 0),
}  # fmt: skip
Z_PLACE, Z_PATH, Z_HANDLE, Z_VIOLATION = 6, 8, 12, 14


@dataclass
class _Drag:
    key: tuple[object, ...]
    item: QGraphicsItem
    moved: bool = False
    start: QPointF = field(default_factory=QPointF)


class PlanEditor(QObject):
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

    # ---- rendering --------------------------------------------------------------------------
    def redraw(self) -> None:
        scene = self.map.scene()
        for item in self._items:
            scene.removeItem(item)
        self._items = []
        for k, shape in enumerate(self.shapes):
            self._draw_shape(k, shape)
        for lat, lon, radius_m, inclusion in self._circles:
            color, alpha = STYLE["fence" if inclusion else "nofly"]
            r = radius_m / max(math.cos(math.radians(lat)), 1e-6)  # ground metres -> Mercator metres
            circle = QGraphicsEllipseItem(-r, -r, 2 * r, 2 * r)
            circle.setPos(to_scene(lat, lon))
            pen = QPen(QColor(color), 3, Qt.PenStyle.DashLine)
            pen.setCosmetic(True)
            circle.setPen(pen)
            if alpha:
                fill = QColor(color)
                fill.setAlpha(alpha)
                circle.setBrush(QBrush(fill, Qt.BrushStyle.BDiagPattern))
            circle.setZValue(Z_PLACE)
            self._add(circle)
        self._draw_mission()
        for v in self._violations:
            if v.lat_deg is None or v.lon_deg is None:
                continue
            mark = QGraphicsEllipseItem(-11, -11, 22, 22)
            mark.setPen(QPen(QColor("#ff1744"), 3))
            mark.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
            mark.setPos(to_scene(v.lat_deg, v.lon_deg))
            mark.setZValue(Z_VIOLATION)
            mark.setToolTip(v.text)
            self._add(mark)

    def _add(self, item: QGraphicsItem) -> None:
        self.map.scene().addItem(item)
        self._items.append(item)

    def _draw_shape(self, k: int, shape: Shape) -> None:
        color, alpha = STYLE.get(shape.role, ("#ffffff", 0))
        pen = QPen(QColor(color), 2.5 if shape.role != "fence" else 3)
        pen.setCosmetic(True)
        if shape.role in ("fence", "nofly"):
            pen.setStyle(Qt.PenStyle.DashLine)
        if shape.role in POINT_ROLES:
            lat, lon = shape.rings[0][0]
            self._handle(("vx", k, 0, 0), lat, lon, color, 7 if shape.role == "point" else 8,
                         "R" if shape.role == "rally" else "")  # fmt: skip
            return
        path = QPainterPath()
        for ring in shape.rings:
            poly = QPolygonF([to_scene(lat, lon) for lat, lon in ring])
            if shape.closed:
                path.addPolygon(poly)
                path.closeSubpath()
            else:
                path.addPolygon(poly)
        path.setFillRule(Qt.FillRule.OddEvenFill)
        item = QGraphicsPathItem(path)
        item.setPen(pen)
        if shape.closed and alpha:
            fill = QColor(color)
            fill.setAlpha(alpha)
            item.setBrush(QBrush(fill, Qt.BrushStyle.BDiagPattern if shape.role == "nofly" else
                                 Qt.BrushStyle.SolidPattern))  # fmt: skip
        if shape.role == "river" and shape.width_m > 0:  # the water itself, at its width
            lat0 = shape.rings[0][0][0]
            scale = 1.0 / max(math.cos(math.radians(lat0)), 1e-6)  # ground metres -> Mercator metres
            band = QGraphicsPathItem(path)
            water = QColor(color)
            water.setAlpha(90)
            band.setPen(QPen(water, shape.width_m * scale, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                             Qt.PenJoinStyle.RoundJoin))  # fmt: skip
            band.setZValue(Z_PLACE - 0.5)
            self._add(band)
        item.setZValue(Z_PLACE)
        item.setToolTip(shape.name)
        self._add(item)
        for r, ring in enumerate(shape.rings):
            for v, (lat, lon) in enumerate(ring):
                self._handle(("vx", k, r, v), lat, lon, color, 4)

    def _draw_mission(self) -> None:
        if not self._waypoints:
            return
        path = QPainterPath()
        for n, (_i, (lat, lon)) in enumerate(self._waypoints):
            p = to_scene(lat, lon)
            path.moveTo(p) if n == 0 else path.lineTo(p)
        line = QGraphicsPathItem(path)
        pen = QPen(QColor("#ffffff"), 2)
        pen.setCosmetic(True)
        line.setPen(pen)
        line.setZValue(Z_PATH)
        self._add(line)
        for n, (i, (lat, lon)) in enumerate(self._waypoints):
            color = "#ffeb3b" if i == self.selected_wp else "#00e5ff"
            self._handle(("wp", i), lat, lon, color, 8, str(i + 1))
            if n + 1 < len(self._waypoints):
                lat2, lon2 = self._waypoints[n + 1][1]
                mid = self._handle(("mid", self._waypoints[n + 1][0]), (lat + lat2) / 2, (lon + lon2) / 2,
                                   "#ffffff", 5, "+")  # fmt: skip
                mid.setOpacity(0.75)

    def _handle(self, key: tuple[object, ...], lat: float, lon: float, color: str, r: float,
                text: str = "") -> QGraphicsItem:  # fmt: skip
        item: QGraphicsItem
        if key[0] == "mid":
            item = QGraphicsRectItem(-r, -r, 2 * r, 2 * r)
        else:
            item = QGraphicsEllipseItem(-r, -r, 2 * r, 2 * r)
        item.setBrush(QBrush(QColor(color)))
        item.setPen(QPen(QColor("#000000" if key[0] == "wp" else "#ffffff"), 1.5))
        item.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        item.setPos(to_scene(lat, lon))
        item.setZValue(Z_HANDLE + (0.5 if key[0] == "wp" else 0))
        item.setData(HANDLE, key)
        if key == ("vx", *(self.selected_vx or ())):
            item.setPen(QPen(QColor("#ffffff"), 3))
        self._add(item)
        if text:
            label = QGraphicsSimpleTextItem(text, item)
            label.setFont(QFont("DejaVu Sans", 7, QFont.Weight.Bold))
            b = label.boundingRect()
            label.setPos(-b.width() / 2, -b.height() / 2)
        return item

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
