"""A drone on the map: icon, label, halo, home, trail (in chunks), mission path and camera items.

``visual_key`` is what the map shows of a vehicle: the map moves a drone's items only when its key
changed (``console.mapview.MapView.flush``).
"""

from __future__ import annotations

import math
from collections import deque

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainterPath, QPen, QPolygonF, QTransform
from PySide6.QtWidgets import (
    QGraphicsEllipseItem,
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsPolygonItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
)

from console.fleet_model import PALETTE
from console.map_cameras import DroneCameraItems
from flight.types import VehicleState

TRAIL_POINTS = 900
TRAIL_CHUNK = 30


def drone_color(sysid: int) -> QColor:
    """The drone's colour for its icon, trail, mission and table row."""
    return QColor(PALETTE[(sysid - 1) % len(PALETTE)])


def label_text(state: VehicleState) -> str:
    return f"#{state.sysid} {state.mode} {state.alt_rel_m or 0:.0f} m" + ("" if state.link_ok else " LINK LOST")


def visual_key(state: VehicleState) -> tuple[object, ...]:
    """What the map shows of a vehicle: equal keys draw the same picture."""
    return (round(state.lat_deg or 0.0, 6), round(state.lon_deg or 0.0, 6), round(state.heading_deg or 0.0),
            label_text(state), state.link_ok, state.home_lat_deg, state.home_lon_deg,
            round(state.gimbal_pitch_deg), round(state.gimbal_yaw_deg))  # fmt: skip


class VehicleItems:
    def __init__(self, scene: QGraphicsScene, sysid: int) -> None:
        color = drone_color(sysid)
        self.color = color
        self.scene = scene
        self.trail_pts: deque[QPointF] = deque(maxlen=TRAIL_POINTS)
        # The trail in chunks of TRAIL_CHUNK points: a new point changes only the last, small chunk, so
        # the repaint is a few pixels around the drone, not the bounding box of its whole flight.
        self.trail_pen = QPen(color, 0, Qt.PenStyle.SolidLine)  # cosmetic 1 px
        self.trail_chunks: deque[tuple[QGraphicsPathItem, QPainterPath]] = deque()
        self._chunk_points = 0
        self.mission = QGraphicsPathItem()
        pen = QPen(color.lighter(130), 2, Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        self.mission.setPen(pen)
        self.mission.setZValue(4)
        # Static until the next upload: drawn once into a pixmap per zoom level, blitted while panning.
        self.mission.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        arrow = QPolygonF([QPointF(0, -14), QPointF(9, 10), QPointF(0, 5), QPointF(-9, 10)])
        self.icon = QGraphicsPolygonItem(arrow)
        self.icon.setBrush(QBrush(color))
        self.icon.setPen(QPen(QColor("white"), 1.5))
        self.icon.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.icon.setZValue(20)
        self.icon.setData(0, sysid)
        self.label = QGraphicsSimpleTextItem(f"#{sysid}")
        self.label.setBrush(QBrush(QColor("white")))
        self.label.setFont(QFont("DejaVu Sans", 9, QFont.Weight.Bold))
        self.label.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.label.setZValue(21)
        # Labels stay readable when drones share a spot (e.g. on the pad): a row per sysid, in pixels.
        self.label.setTransform(QTransform.fromTranslate(10, -9 + 15 * ((sysid - 1) % 4)))
        self.home = QGraphicsSimpleTextItem("H")
        self.home.setBrush(QBrush(color))
        self.home.setFont(QFont("DejaVu Sans", 11, QFont.Weight.Bold))
        self.home.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.home.setZValue(15)
        self.home.setVisible(False)
        self.halo = QGraphicsEllipseItem(-18, -18, 36, 36)
        self.halo.setPen(QPen(QColor("#ffeb3b"), 2.5))
        self.halo.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.halo.setZValue(19)
        self.halo.setVisible(False)
        self.camera = DroneCameraItems(scene, color)
        for item in (self.mission, self.icon, self.label, self.home, self.halo):
            scene.addItem(item)

    def add_trail_point(self, p: QPointF) -> None:
        if self.trail_pts and _dist(self.trail_pts[-1], p) <= 1.0:
            return
        last = self.trail_pts[-1] if self.trail_pts else None
        self.trail_pts.append(p)
        if not self.trail_chunks or self._chunk_points >= TRAIL_CHUNK:
            item = QGraphicsPathItem()
            item.setPen(self.trail_pen)
            item.setZValue(5)
            self.scene.addItem(item)
            self.trail_chunks.append((item, QPainterPath(last if last is not None else p)))
            self._chunk_points = 0
            if len(self.trail_chunks) > TRAIL_POINTS // TRAIL_CHUNK:
                self.scene.removeItem(self.trail_chunks.popleft()[0])
        item, path = self.trail_chunks[-1]
        path.lineTo(p)
        self._chunk_points += 1
        item.setPath(path)

    def trail_point_count(self) -> int:
        return len(self.trail_pts)


def _dist(a: QPointF, b: QPointF) -> float:
    return math.hypot(a.x() - b.x(), a.y() - b.y())
