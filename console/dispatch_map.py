"""Units and response areas on the map (a layer over ``console.mapview``'s scene).

- Response areas: translucent polygons coloured by class (1 min key site red, 3 min city centre amber,
  5 min grey), with their label and target; drawn under everything else, in map coordinates.
- Units: an icon per unit with a position, its shape by kind (car, motorcycle, foot, drone, boat:
  a letter in a rounded square), filled by status (available green, assigned orange, on scene blue,
  off duty grey), labelled with callsign and status; fixed pixel size (they ignore the zoom).

Producers pass domain values (``dispatch.units.Unit``, ``lookout.dispatching.AreaShape`` or anything
with the same fields); the layer keeps one set of items per unit / area and moves them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainterPath, QPen, QPolygonF, QTransform
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsPolygonItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
)

AREA_COLOUR = {1: "#e53935", 3: "#fb8c00", 5: "#90a4ae"}
STATUS_COLOUR = {"available": "#2e7d32", "assigned": "#ef6c00", "on_scene": "#1565c0", "off_duty": "#757575"}
KIND_LETTER = {"car": "C", "motorcycle": "M", "foot": "F", "drone": "D", "boat": "B"}
UNIT_ITEM = 2  # QGraphicsItem.data key holding the unit name (ALERT_ITEM is 1)


def _unit_shape(kind: str) -> QPainterPath:
    """A pixel-sized symbol: rounded square (car), diamond (motorcycle), circle (foot), hexagon-ish
    cross (drone), boat hull (boat)."""
    p = QPainterPath()
    if kind == "foot":
        p.addEllipse(QRectF(-9, -9, 18, 18))
    elif kind == "motorcycle":
        p.addPolygon(QPolygonF([QPointF(0, -11), QPointF(11, 0), QPointF(0, 11), QPointF(-11, 0), QPointF(0, -11)]))
    elif kind == "drone":
        p.addPolygon(QPolygonF([QPointF(-10, -5), QPointF(-5, -10), QPointF(5, -10), QPointF(10, -5), QPointF(10, 5),
                                QPointF(5, 10), QPointF(-5, 10), QPointF(-10, 5), QPointF(-10, -5)]))  # fmt: skip
    elif kind == "boat":
        p.addPolygon(QPolygonF([QPointF(-11, -6), QPointF(11, -6), QPointF(7, 8), QPointF(-7, 8), QPointF(-11, -6)]))
    else:
        p.addRoundedRect(QRectF(-10, -8, 20, 16), 4, 4)
    return p


class _UnitItems:
    def __init__(self, scene: QGraphicsScene, name: str, kind: str) -> None:
        self.kind = kind
        self.icon = QGraphicsPathItem(_unit_shape(kind))
        self.icon.setPen(QPen(QColor("white"), 1.5))
        self.icon.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.icon.setZValue(18)
        self.icon.setData(UNIT_ITEM, name)
        self.letter = QGraphicsSimpleTextItem(KIND_LETTER.get(kind, "?"))
        self.letter.setBrush(QBrush(QColor("white")))
        self.letter.setFont(QFont("DejaVu Sans", 8, QFont.Weight.Bold))
        self.letter.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.letter.setTransform(QTransform.fromTranslate(-4, -7))
        self.letter.setZValue(18.5)
        self.letter.setData(UNIT_ITEM, name)
        self.label = QGraphicsSimpleTextItem("")
        self.label.setBrush(QBrush(QColor("white")))
        self.label.setFont(QFont("DejaVu Sans", 8, QFont.Weight.Bold))
        self.label.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.label.setTransform(QTransform.fromTranslate(13, -8))
        self.label.setZValue(18.5)
        self.halo = QGraphicsPathItem(_unit_shape(kind))
        self.halo.setPen(QPen(QColor("#ffeb3b"), 3))
        self.halo.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.halo.setTransform(QTransform.fromScale(1.5, 1.5))
        self.halo.setZValue(17.5)
        self.halo.setVisible(False)
        for item in (self.icon, self.letter, self.label, self.halo):
            scene.addItem(item)

    def items(self) -> tuple[QGraphicsItem, ...]:
        return (self.icon, self.letter, self.label, self.halo)


class DispatchLayer:
    """Response areas and units on the map's scene (``to_scene(lat, lon) -> QPointF``)."""

    def __init__(self, scene: QGraphicsScene, to_scene: Callable[[float, float], QPointF]) -> None:
        self._scene = scene
        self._to_scene = to_scene
        self._units: dict[str, _UnitItems] = {}
        self._areas: dict[str, tuple[QGraphicsPolygonItem, QGraphicsSimpleTextItem]] = {}
        self.highlighted: str | None = None

    # ---- areas ------------------------------------------------------------------------------------
    def set_areas(self, areas: Sequence[Any]) -> None:
        """``areas``: items with ``name``, ``label``, ``target_min`` and ``ring`` [(lat, lon), ...]."""
        for poly, label in self._areas.values():
            self._scene.removeItem(poly)
            self._scene.removeItem(label)
        self._areas.clear()
        for z, a in enumerate(areas):
            colour = QColor(AREA_COLOUR.get(int(a.target_min), "#90a4ae"))
            pts = [self._to_scene(lat, lon) for lat, lon in a.ring]
            poly = QGraphicsPolygonItem(QPolygonF(pts))
            fill = QColor(colour)
            fill.setAlpha(48)
            poly.setBrush(QBrush(fill))
            pen = QPen(colour, 2, Qt.PenStyle.DashLine)
            pen.setCosmetic(True)
            poly.setPen(pen)
            poly.setZValue(1 + z * 0.01)
            label = QGraphicsSimpleTextItem(f"{a.label} · {a.target_min} min")
            label.setBrush(QBrush(colour.lighter(150)))
            label.setFont(QFont("DejaVu Sans", 8, QFont.Weight.Bold))
            label.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
            top = min(pts, key=lambda p: (p.y(), p.x())) if pts else QPointF()
            label.setPos(top)
            label.setTransform(QTransform.fromTranslate(4, 2))
            label.setZValue(2)
            self._scene.addItem(poly)
            self._scene.addItem(label)
            self._areas[a.name] = (poly, label)

    def area_names(self) -> list[str]:
        return sorted(self._areas)

    def area_colour(self, name: str) -> str:
        return self._areas[name][0].pen().color().name()

    # ---- units ------------------------------------------------------------------------------------
    def set_units(self, units: Sequence[Any]) -> None:
        """``units``: ``dispatch.units.Unit`` values; units without a position are not drawn."""
        keep = set()
        for u in units:
            if u.lat_deg is None or u.lon_deg is None:
                continue
            keep.add(u.name)
            items = self._units.get(u.name)
            if items is None or items.kind != u.kind:
                if items is not None:
                    self._remove(u.name)
                items = self._units[u.name] = _UnitItems(self._scene, u.name, u.kind)
            p = self._to_scene(u.lat_deg, u.lon_deg)
            for item in items.items():
                item.setPos(p)
            items.icon.setBrush(QBrush(QColor(STATUS_COLOUR.get(u.status, "#757575"))))
            alert = f" → #{u.alert_id}" if u.alert_id is not None else ""
            items.label.setText(f"{u.callsign} · {u.status.replace('_', ' ')}{alert}")
            if u.kind == "drone":  # the vehicle's own label is on the right: this one goes left
                w = items.label.boundingRect().width()
                items.label.setTransform(QTransform.fromTranslate(-13 - w, -8))
            items.halo.setVisible(u.name == self.highlighted)
        for name in set(self._units) - keep:
            self._remove(name)

    def highlight(self, name: str | None) -> None:
        self.highlighted = name
        for n, items in self._units.items():
            items.halo.setVisible(n == name)

    def unit_names(self) -> list[str]:
        return sorted(self._units)

    def unit_label(self, name: str) -> str:
        return self._units[name].label.text()

    def unit_colour(self, name: str) -> str:
        return self._units[name].icon.brush().color().name()

    def unit_pos(self, name: str) -> QPointF:
        return self._units[name].icon.pos()

    def _remove(self, name: str) -> None:
        for item in self._units.pop(name).items():
            self._scene.removeItem(item)
