"""The map: Web Mercator scene, offline XYZ tiles or a geo-referenced image, drones, trails, missions,
alerts (``console.map_alerts``).

Producers never touch items: the main window calls ``set_vehicle(state)`` / ``set_mission_path``
with domain values (MAVProxy's slipmap shape); user intent leaves as signals
(``vehicle_clicked(sysid)``, ``fly_here_requested(lat, lon)``). Scene units are Web Mercator metres
with y flipped (Qt's y grows downward). Drone symbols ignore the view transform, so they keep their
size at every zoom.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QContextMenuEvent,
    QFont,
    QImage,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
    QPolygonF,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QGraphicsEllipseItem,
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsPixmapItem,
    QGraphicsPolygonItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsView,
    QMenu,
)

from console.map_alerts import ALERT_ITEM, AlertLayer
from console.services import MapImage
from flight.types import VehicleState

if TYPE_CHECKING:
    from dispatch.types import Alert

EARTH_R_M = 6378137.0
TRAIL_POINTS = 900
PALETTE = ("#1e88e5", "#43a047", "#fb8c00", "#8e24aa", "#00acc1", "#e53935", "#6d4c41", "#3949ab")


def to_scene(lat_deg: float, lon_deg: float) -> QPointF:
    lat = max(-85.05, min(85.05, lat_deg))
    x = EARTH_R_M * math.radians(lon_deg)
    y = EARTH_R_M * math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))
    return QPointF(x, -y)


def from_scene(p: QPointF) -> tuple[float, float]:
    lon = math.degrees(p.x() / EARTH_R_M)
    lat = math.degrees(2 * math.atan(math.exp(-p.y() / EARTH_R_M)) - math.pi / 2)
    return lat, lon


def bgr_to_qimage(image: np.ndarray) -> QImage:
    rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


class _VehicleItems:
    def __init__(self, scene: QGraphicsScene, sysid: int) -> None:
        color = QColor(PALETTE[(sysid - 1) % len(PALETTE)])
        self.trail_pts: deque[QPointF] = deque(maxlen=TRAIL_POINTS)
        self.trail = QGraphicsPathItem()
        self.trail.setPen(QPen(color, 0, Qt.PenStyle.SolidLine))  # cosmetic 1 px
        self.trail.setZValue(5)
        self.mission = QGraphicsPathItem()
        pen = QPen(color.lighter(130), 0, Qt.PenStyle.DashLine)
        self.mission.setPen(pen)
        self.mission.setZValue(4)
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
        for item in (self.trail, self.mission, self.icon, self.label, self.home, self.halo):
            scene.addItem(item)


class MapView(QGraphicsView):
    vehicle_clicked = Signal(int)
    alert_clicked = Signal(int)
    fly_here_requested = Signal(float, float)

    def __init__(self, tiles_dir: Path | None = None) -> None:
        super().__init__()
        self.setScene(QGraphicsScene(self))
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.SmoothPixmapTransform)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setBackgroundBrush(QBrush(QColor("#263238")))
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # The scale bar is drawn in viewport pixels: a scrolled (bit-blitted) viewport would cut it.
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.FullViewportUpdate)
        self._tiles_dir = tiles_dir
        self._tiles: dict[tuple[int, int, int], QGraphicsPixmapItem] = {}
        self._vehicles: dict[int, _VehicleItems] = {}
        self._selected: int | None = None
        self._centered = False
        self.scene().setSceneRect(QRectF(-2.1e7, -2.1e7, 4.2e7, 4.2e7))
        self.scale(0.5, 0.5)  # 2 m per pixel to start
        self.alerts = AlertLayer(self.scene(), to_scene)
        self.fly_here_allowed = True  # the main window clears it for roles that may not fly

    # ---- background -------------------------------------------------------------------------
    def set_background(self, img: MapImage) -> None:
        item = QGraphicsPixmapItem(QPixmap.fromImage(bgr_to_qimage(img.image)))
        tl, br = to_scene(img.north_deg, img.west_deg), to_scene(img.south_deg, img.east_deg)
        h, w = img.image.shape[:2]
        item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        item.setScale(1.0)
        item.setTransform(item.transform().scale((br.x() - tl.x()) / w, (br.y() - tl.y()) / h))
        item.setPos(tl)
        item.setZValue(-10)
        self.scene().addItem(item)

    def center_on(self, lat_deg: float, lon_deg: float) -> None:
        self.centerOn(to_scene(lat_deg, lon_deg))
        self._centered = True
        self._refresh_tiles()

    # ---- vehicles ---------------------------------------------------------------------------
    def set_vehicle(self, state: VehicleState) -> None:
        if state.lat_deg is None or state.lon_deg is None:
            return
        items = self._vehicles.get(state.sysid)
        if items is None:
            items = self._vehicles[state.sysid] = _VehicleItems(self.scene(), state.sysid)
        p = to_scene(state.lat_deg, state.lon_deg)
        items.icon.setPos(p)
        items.icon.setRotation(state.heading_deg or 0.0)
        items.icon.setOpacity(1.0 if state.link_ok else 0.45)
        items.halo.setPos(p)
        items.label.setPos(p)
        items.label.setText(
            f"#{state.sysid} {state.mode} {state.alt_rel_m or 0:.0f} m" + ("" if state.link_ok else " LINK LOST")
        )
        if not items.trail_pts or _dist(items.trail_pts[-1], p) > 1.0:
            items.trail_pts.append(p)
            path = QPainterPath(items.trail_pts[0])
            for q in list(items.trail_pts)[1:]:
                path.lineTo(q)
            items.trail.setPath(path)
        if state.home_lat_deg is not None and state.home_lon_deg is not None:
            items.home.setPos(to_scene(state.home_lat_deg, state.home_lon_deg))
            items.home.setVisible(True)
        if not self._centered:
            self.center_on(state.lat_deg, state.lon_deg)

    def set_mission_path(self, sysid: int, points: list[tuple[float, float]]) -> None:
        items = self._vehicles.get(sysid)
        if items is None:
            return
        path = QPainterPath()
        for i, (lat, lon) in enumerate(points):
            q = to_scene(lat, lon)
            path.moveTo(q) if i == 0 else path.lineTo(q)
        items.mission.setPath(path)

    # ---- alerts -----------------------------------------------------------------------------
    def set_alerts(self, alerts: Sequence[Alert]) -> None:
        """Severity-coloured markers for the open alerts that have a position."""
        self.alerts.set_alerts(alerts)

    def show_alert(self, alert: Alert) -> bool:
        """Centre on ``alert`` with its accuracy circle and track path; False when it has no position."""
        p = self.alerts.show(alert)
        if p is None:
            return False
        self.centerOn(p)
        self._centered = True
        self._refresh_tiles()
        return True

    def screen_pos(self, lat_deg: float, lon_deg: float) -> QPointF:
        return QPointF(self.mapFromScene(to_scene(lat_deg, lon_deg)))

    def select(self, sysid: int | None) -> None:
        self._selected = sysid
        for sid, items in self._vehicles.items():
            items.halo.setVisible(sid == sysid)

    def has_mission_path(self, sysid: int) -> bool:
        items = self._vehicles.get(sysid)
        return items is not None and not items.mission.path().isEmpty()

    def vehicle_ids(self) -> list[int]:
        return sorted(self._vehicles)

    def vehicle_screen_pos(self, sysid: int) -> QPointF | None:
        items = self._vehicles.get(sysid)
        return None if items is None else QPointF(self.mapFromScene(items.icon.pos()))

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        """A scale bar (bottom left), in viewport pixels."""
        painter.save()
        painter.resetTransform()
        m_per_px = 1.0 / max(self.transform().m11(), 1e-9)
        center_lat = from_scene(self.mapToScene(self.viewport().rect().center()))[0]
        ground_m_per_px = m_per_px * math.cos(math.radians(center_lat))  # Mercator stretch
        target = 120 * ground_m_per_px
        nice = max(
            v for v in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000) if v <= max(target, 1)
        )
        px = nice / ground_m_per_px
        x0, y0 = 14, self.viewport().height() - 18
        painter.setPen(QPen(QColor("white"), 3))
        painter.drawLine(int(x0), int(y0), int(x0 + px), int(y0))
        painter.setFont(QFont("DejaVu Sans", 9, QFont.Weight.Bold))
        painter.drawText(int(x0), int(y0 - 6), f"{nice:g} m" if nice < 1000 else f"{nice / 1000:g} km")
        painter.restore()

    # ---- interaction ------------------------------------------------------------------------
    def wheelEvent(self, event: QWheelEvent) -> None:
        factor = 1.25 if event.angleDelta().y() > 0 else 0.8
        m = self.transform().m11() * factor
        if 0.0005 < m < 50:
            self.scale(factor, factor)
            self._refresh_tiles()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            for item in self.items(event.position().toPoint()):
                if isinstance(item, QGraphicsPolygonItem) and item.data(0) is not None:
                    self.vehicle_clicked.emit(int(item.data(0)))
                    return
                if item.data(ALERT_ITEM) is not None:
                    self.alert_clicked.emit(int(item.data(ALERT_ITEM)))
                    return
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        super().mouseReleaseEvent(event)
        self._refresh_tiles()

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        lat, lon = from_scene(self.mapToScene(event.pos()))
        menu = QMenu(self)
        fly = menu.addAction(f"Fly selected drone here ({lat:.5f}, {lon:.5f})")
        fly.setEnabled(self._selected is not None and self.fly_here_allowed)
        chosen = menu.exec(event.globalPos())
        if chosen is fly:
            self.fly_here_requested.emit(lat, lon)

    # ---- offline tiles ----------------------------------------------------------------------
    def _refresh_tiles(self) -> None:
        if self._tiles_dir is None:
            return
        m_per_px = 1.0 / max(self.transform().m11(), 1e-9)
        z = int(max(0, min(19, round(math.log2(2 * math.pi * EARTH_R_M / (256 * m_per_px))))))
        rect = self.mapToScene(self.viewport().rect()).boundingRect()
        span = 2 * math.pi * EARTH_R_M / (1 << z)
        half = math.pi * EARTH_R_M
        x0, x1 = int((rect.left() + half) // span), int((rect.right() + half) // span)
        y0, y1 = int((rect.top() + half) // span), int((rect.bottom() + half) // span)
        if (x1 - x0 + 1) * (y1 - y0 + 1) > 400:
            return
        for tx in range(max(0, x0), min((1 << z) - 1, x1) + 1):
            for ty in range(max(0, y0), min((1 << z) - 1, y1) + 1):
                key = (z, tx, ty)
                if key in self._tiles:
                    continue
                f = self._tiles_dir / str(z) / str(tx) / f"{ty}.png"
                pix = QPixmap(str(f)) if f.is_file() else QPixmap()
                item = QGraphicsPixmapItem(pix)
                item.setScale(span / 256.0)
                item.setPos(tx * span - half, ty * span - half)
                item.setZValue(-20 + z * 0.01)
                self.scene().addItem(item)
                self._tiles[key] = item


def _dist(a: QPointF, b: QPointF) -> float:
    return math.hypot(a.x() - b.x(), a.y() - b.y())
