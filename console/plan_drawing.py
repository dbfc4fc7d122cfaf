"""How the plan editor draws on the map: places (polygons, lines, points, a river at its width), fence
circles, the mission path with its waypoint and ``+`` handles, and violation marks.

A mixin of ``console.plan_editor.PlanEditor`` (it draws the editor's data into its map's scene; the
editor keeps the data and the mouse work). Handles carry their key under ``HANDLE``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import (
    QGraphicsEllipseItem,
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsRectItem,
    QGraphicsSimpleTextItem,
)

from console.mapview import to_scene
from console.plan_shapes import POINT_ROLES, LatLon, Shape

if TYPE_CHECKING:
    from console.mapview import MapView
    from missions.summary import Violation

HANDLE = 7  # QGraphicsItem data key: ("wp", i) | ("vx", shape, ring, vertex) | ("mid", i)
STYLE = {  # outline, fill alpha
    "area": ("#66bb6a", 50), "lake": ("#29b6f6", 60), "river": ("#29b6f6", 0), "route": ("#ffa726", 0),
    "point": ("#ec407a", 0), "fence": ("#fdd835", 0), "nofly": ("#e53935", 70), "rally": ("#ab47bc", 0),
}  # fmt: skip
Z_PLACE, Z_PATH, Z_HANDLE, Z_VIOLATION = 6, 8, 12, 14


class PlanDrawing:
    map: MapView
    shapes: list[Shape]
    selected_wp: int | None
    selected_vx: tuple[int, int, int] | None
    _waypoints: list[tuple[int, LatLon]]
    _violations: list[Violation]
    _circles: list[tuple[float, float, float, bool]]
    _items: list[QGraphicsItem]

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
