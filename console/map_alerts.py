"""Alerts on the map: a severity-coloured marker per open alert with a position, and for the opened
alert its accuracy circle and the track's path on the ground.

Scene units are Web Mercator metres (see ``console.mapview``); a ground distance ``d`` at latitude
``lat`` spans ``d / cos(lat)`` scene units. Markers ignore the view transform (fixed pixel size);
the circle and the path scale with the map.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainterPath, QPen, QTransform
from PySide6.QtWidgets import (
    QGraphicsEllipseItem,
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
)

if TYPE_CHECKING:
    from dispatch.types import Alert

MARKER_COLOUR = {"high": "#e53935", "medium": "#fb8c00", "low": "#90a4ae"}
CLOSED_STATES = ("dismissed", "closed")
ALERT_ITEM = 1  # QGraphicsItem.data key holding the alert id


class AlertLayer:
    def __init__(self, scene: QGraphicsScene, to_scene: Callable[[float, float], QPointF]) -> None:
        self._scene = scene
        self._to_scene = to_scene
        self._markers: dict[int, tuple[QGraphicsEllipseItem, QGraphicsSimpleTextItem]] = {}
        self.circle = QGraphicsEllipseItem()
        self.circle.setZValue(8)
        self.circle.setVisible(False)
        self.path = QGraphicsPathItem()
        self.path.setZValue(9)
        self.path.setVisible(False)
        self.focus = QGraphicsEllipseItem(-15, -15, 30, 30)
        self.focus.setPen(QPen(QColor("#ffeb3b"), 3))
        self.focus.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.focus.setZValue(17)
        self.focus.setVisible(False)
        for item in (self.circle, self.path, self.focus):
            scene.addItem(item)
        self.shown_id: int | None = None

    def set_alerts(self, alerts: Sequence[Alert]) -> None:
        """One marker per alert that has a position and is not dismissed or closed."""
        keep: set[int] = set()
        for a in alerts:
            if a.position is None or a.state.value in CLOSED_STATES:
                continue
            keep.add(a.id)
            dot, label = self._markers.get(a.id) or self._new_marker(a.id)
            colour = QColor(MARKER_COLOUR.get(a.severity, "#90a4ae"))
            dot.setBrush(QBrush(colour))
            dot.setOpacity(1.0 if a.state.value in ("new", "acknowledged") else 0.7)
            p = self._to_scene(a.position.lat_deg, a.position.lon_deg)
            dot.setPos(p)
            label.setPos(p)
            label.setText(f"!{a.id}" if a.state.value == "new" else f"#{a.id}")
        for alert_id in set(self._markers) - keep:
            for item in self._markers.pop(alert_id):
                self._scene.removeItem(item)

    def _new_marker(self, alert_id: int) -> tuple[QGraphicsEllipseItem, QGraphicsSimpleTextItem]:
        dot = QGraphicsEllipseItem(-8, -8, 16, 16)
        dot.setPen(QPen(QColor("white"), 2))
        dot.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        dot.setZValue(16)
        dot.setData(ALERT_ITEM, alert_id)
        label = QGraphicsSimpleTextItem()
        label.setBrush(QBrush(QColor("white")))
        label.setFont(QFont("DejaVu Sans", 9, QFont.Weight.Bold))
        label.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        label.setZValue(16)
        label.setData(ALERT_ITEM, alert_id)
        # right of the dot, clear of the opened alert's ring; a row per id so alerts on one spot stay readable
        label.setTransform(QTransform.fromTranslate(17, -8 + 13 * (alert_id % 4)))
        self._scene.addItem(dot)
        self._scene.addItem(label)
        self._markers[alert_id] = (dot, label)
        return dot, label

    def show(self, alert: Alert) -> QPointF | None:
        """Draw ``alert``'s accuracy circle and track path; return its scene point (None: no position)."""
        self.shown_id = alert.id
        colour = QColor(MARKER_COLOUR.get(alert.severity, "#90a4ae"))
        pts = [self._to_scene(lat, lon) for lat, lon in alert.track_path]
        if len(pts) >= 2:
            path = QPainterPath(pts[0])
            for q in pts[1:]:
                path.lineTo(q)
            self.path.setPath(path)
            pen = QPen(colour.lighter(120), 3, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
            pen.setCosmetic(True)  # 3 px at every zoom
            self.path.setPen(pen)
            self.path.setVisible(True)
        else:
            self.path.setVisible(False)
        pos = alert.position
        if pos is None:
            self.circle.setVisible(False)
            self.focus.setVisible(False)
            return pts[-1] if pts else None
        c = self._to_scene(pos.lat_deg, pos.lon_deg)
        r = max(pos.accuracy_m, 0.5) / max(math.cos(math.radians(pos.lat_deg)), 1e-6)
        self.circle.setRect(c.x() - r, c.y() - r, 2 * r, 2 * r)
        fill = QColor(colour)
        fill.setAlpha(60)
        self.circle.setBrush(QBrush(fill))
        pen = QPen(colour, 2)
        pen.setCosmetic(True)
        self.circle.setPen(pen)
        self.circle.setVisible(True)
        self.focus.setPos(c)
        self.focus.setVisible(True)
        return c

    def clear(self) -> None:
        self.shown_id = None
        for item in (self.circle, self.path, self.focus):
            item.setVisible(False)

    def marker_ids(self) -> list[int]:
        return sorted(self._markers)

    def marker_pos(self, alert_id: int) -> QPointF | None:
        items = self._markers.get(alert_id)
        return None if items is None else items[0].pos()
