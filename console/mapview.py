"""The map: Web Mercator scene with tile layers (``console.map_tiles``), drones, trails, missions,
cameras (``console.map_cameras``), alerts (``console.map_alerts``) and tools (``console.map_tools``).

Producers never touch items: the main window calls ``set_vehicle(state)`` / ``set_mission_path``
with domain values; user intent leaves as signals (``vehicle_clicked(sysid)``,
``vehicle_toggled(sysid)`` on ctrl-click, ``fly_here_requested``, ``roi_requested``). Scene units
are Web Mercator metres with y flipped (Qt's y grows downward).

Repaints: ``set_vehicle`` only keeps the newest snapshot per sysid; a 10 Hz timer (``flush``) moves
the items of vehicles whose *visible* state changed (position to 0.1 m, heading to 1°, label text,
link), so a parked drone costs nothing and Qt repaints only the changed rectangles. Trails grow by
one segment instead of being rebuilt. The grid background is cached by the view.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QImage,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
    QPixmap,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QGraphicsPixmapItem,
    QGraphicsScene,
    QGraphicsView,
)

from console.fleet_model import PALETTE
from console.map_alerts import AlertLayer
from console.map_cameras import FixedCameraItems, MapCamera
from console.map_interaction import MapInteraction
from console.map_projection import from_scene, to_scene
from console.map_tiles import EARTH_R_M, TileLayerItems
from console.map_tools import CursorReadout, Ruler, ScaleBar
from console.map_vehicles import VehicleItems, drone_color, label_text, visual_key
from console.services import MapImage
from console.tilesets import TileLayerSpec
from flight.types import VehicleState

if TYPE_CHECKING:
    from dispatch.types import Alert

__all__ = ["EARTH_R_M", "PALETTE", "MapView", "bgr_to_qimage", "drone_color", "from_scene", "to_scene"]


def bgr_to_qimage(image: np.ndarray) -> QImage:
    rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


class MapView(MapInteraction, QGraphicsView):
    vehicle_clicked = Signal(int)
    vehicle_toggled = Signal(int)  # ctrl-click: add to / remove from the selection
    alert_clicked = Signal(int)
    fly_here_requested = Signal(float, float)
    roi_requested = Signal(float, float)  # "point camera here"

    def __init__(self, tiles_dir: Path | None = None, layers: Sequence[TileLayerSpec] = (),
                 cameras: Sequence[MapCamera] = ()) -> None:  # fmt: skip
        super().__init__()
        self.setScene(QGraphicsScene(self))
        self.scene().setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)  # items move every tick
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.SmoothPixmapTransform)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setBackgroundBrush(QBrush(QColor("#263238")))
        self.setCacheMode(QGraphicsView.CacheModeFlag.CacheBackground)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.MinimalViewportUpdate)
        self.setMouseTracking(True)
        all_layers = list(layers)
        if tiles_dir is not None and not any(s.location == str(tiles_dir) for s in all_layers):
            all_layers.insert(0, TileLayerSpec(Path(tiles_dir).name or "tiles", "xyz", str(tiles_dir)))
        self.tiles = TileLayerItems(self.scene(), all_layers)
        self.ruler = Ruler(self.scene())
        # Overlays are children of the view, not of its viewport: scrolling moves the viewport's children.
        self.scale_widget = ScaleBar(self)
        self.readout = CursorReadout(self)
        self._vehicles: dict[int, VehicleItems] = {}
        self._latest: dict[int, VehicleState] = {}
        self._drawn: dict[int, tuple[object, ...]] = {}
        self._selected: set[int] = set()
        self._centered = False
        self.scene().setSceneRect(QRectF(-2.1e7, -2.1e7, 4.2e7, 4.2e7))
        self.scale(0.5, 0.5)  # 2 m per pixel to start
        self.alerts = AlertLayer(self.scene(), to_scene)
        self.cameras = [FixedCameraItems(self.scene(), to_scene, c) for c in cameras]
        self.fly_here_allowed = True  # the main window clears it for roles that may not fly
        self.roi_allowed = True
        # Measurements for `lookout bench console`: paints, and paints with nothing new to show.
        self.visual_version = 0
        self._painted_version = -1
        self.paints = 0
        self.idle_paints = 0
        self._flush_timer = QTimer(self)
        self._flush_timer.timeout.connect(self.flush)
        self._flush_timer.start(100)

    # ---- background -------------------------------------------------------------------------
    def set_background(self, img: MapImage) -> None:
        item = QGraphicsPixmapItem(QPixmap.fromImage(bgr_to_qimage(img.image)))
        tl, br = to_scene(img.north_deg, img.west_deg), to_scene(img.south_deg, img.east_deg)
        h, w = img.image.shape[:2]
        item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        item.setTransform(item.transform().scale((br.x() - tl.x()) / w, (br.y() - tl.y()) / h))
        item.setPos(tl)
        item.setZValue(-10)
        self.scene().addItem(item)

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        """The plain grid (when no tiles cover a place): lines every round number of metres."""
        super().drawBackground(painter, rect)
        m_per_px = 1.0 / max(self.transform().m11(), 1e-9)
        step = 10.0 ** math.ceil(math.log10(max(m_per_px * 60, 1e-3)))
        if (rect.width() / step) * (rect.height() / step) > 20000:
            return
        pen = QPen(QColor("#37474f"), 0)
        painter.setPen(pen)
        x = math.floor(rect.left() / step) * step
        while x <= rect.right():
            painter.drawLine(QPointF(x, rect.top()), QPointF(x, rect.bottom()))
            x += step
        y = math.floor(rect.top() / step) * step
        while y <= rect.bottom():
            painter.drawLine(QPointF(rect.left(), y), QPointF(rect.right(), y))
            y += step

    def layer_names(self) -> list[str]:
        return [s.name for s in self.tiles.layers]

    def set_layer(self, name: str | None) -> None:
        """Show the tile layer ``name`` (None: the plain grid)."""
        self.tiles.set_layer(name)
        self._refresh_tiles()

    def center_on(self, lat_deg: float, lon_deg: float) -> None:
        self.centerOn(to_scene(lat_deg, lon_deg))
        self._centered = True
        self._refresh_tiles()

    def set_zoom(self, m_per_px: float) -> None:
        """Scene metres per screen pixel (Web Mercator; ground metres are this times cos(latitude))."""
        k = (1.0 / m_per_px) / max(self.transform().m11(), 1e-12)
        # Around the view's centre: "under the mouse" would use the last mouse position the view saw,
        # which is the scene origin when the mouse never moved over it (seen under Xvfb).
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.scale(k, k)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self._refresh_tiles()

    def fit_vehicles(self, missions: bool = True, margin_px: int = 60) -> None:
        """Zoom and pan so every drone (and, with ``missions``, every drawn mission) is in view."""
        self.flush()
        rect = QRectF()
        for items in self._vehicles.values():
            p = items.icon.pos()
            rect = rect.united(QRectF(p.x() - 1, p.y() - 1, 2, 2))
            if missions and not items.mission.path().isEmpty():
                rect = rect.united(items.mission.path().boundingRect())
        if rect.isEmpty():
            return
        vp = self.viewport().rect().adjusted(margin_px, margin_px, -margin_px, -margin_px)
        scale = min(vp.width() / max(rect.width(), 1.0), vp.height() / max(rect.height(), 1.0))
        self.set_zoom(1.0 / scale)
        self.centerOn(rect.center())
        self._centered = True
        self._refresh_tiles()

    # ---- vehicles ---------------------------------------------------------------------------
    def set_vehicle(self, state: VehicleState) -> None:
        """Keep the newest snapshot; the items follow on the next ``flush`` (10 Hz)."""
        if state.lat_deg is None or state.lon_deg is None:
            return
        self._latest[state.sysid] = state

    def flush(self) -> int:
        """Move the items of vehicles whose visible state changed; returns how many changed."""
        changed = 0
        for sysid, state in self._latest.items():
            key = visual_key(state)
            if self._drawn.get(sysid) == key:
                continue
            self._drawn[sysid] = key
            self._apply(state)
            changed += 1
        if changed:
            self.visual_version += 1
        return changed

    def _apply(self, state: VehicleState) -> None:
        assert state.lat_deg is not None and state.lon_deg is not None
        items = self._vehicles.get(state.sysid)
        if items is None:
            items = self._vehicles[state.sysid] = VehicleItems(self.scene(), state.sysid)
            items.halo.setVisible(state.sysid in self._selected)
        p = to_scene(state.lat_deg, state.lon_deg)
        items.icon.setPos(p)
        items.icon.setRotation(state.heading_deg or 0.0)
        items.icon.setOpacity(1.0 if state.link_ok else 0.45)
        items.halo.setPos(p)
        items.label.setPos(p)
        text = label_text(state)
        if items.label.text() != text:
            items.label.setText(text)
        items.add_trail_point(p)
        if state.home_lat_deg is not None and state.home_lon_deg is not None:
            items.home.setPos(to_scene(state.home_lat_deg, state.home_lon_deg))
            items.home.setVisible(True)
        items.camera.update(state, to_scene)
        if not self._centered:
            self.center_on(state.lat_deg, state.lon_deg)

    def set_mission_path(self, sysid: int, points: list[tuple[float, float]]) -> None:
        self.flush()
        items = self._vehicles.get(sysid)
        if items is None:
            return
        path = QPainterPath()
        for i, (lat, lon) in enumerate(points):
            q = to_scene(lat, lon)
            path.moveTo(q) if i == 0 else path.lineTo(q)
        items.mission.setPath(path)
        self.visual_version += 1

    def footprint(self, sysid: int) -> list[tuple[float, float]]:
        """The drone camera's ground footprint (lat, lon) as drawn, empty when on the ground."""
        self.flush()
        items = self._vehicles.get(sysid)
        return [] if items is None or not items.camera.footprint.isVisible() else list(items.camera.latlon)

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

    def select(self, sysids: int | Iterable[int] | None) -> None:
        """Highlight the selected drone(s)."""
        self.flush()
        chosen = set() if sysids is None else {sysids} if isinstance(sysids, int) else set(sysids)
        self._selected = chosen
        for sid, items in self._vehicles.items():
            items.halo.setVisible(sid in chosen)

    @property
    def _primary(self) -> int | None:
        return min(self._selected) if self._selected else None

    def has_mission_path(self, sysid: int) -> bool:
        items = self._vehicles.get(sysid)
        return items is not None and not items.mission.path().isEmpty()

    def vehicle_ids(self) -> list[int]:
        self.flush()
        return sorted(self._vehicles)

    def vehicle_screen_pos(self, sysid: int) -> QPointF | None:
        self.flush()
        items = self._vehicles.get(sysid)
        return None if items is None else QPointF(self.mapFromScene(items.icon.pos()))

    def paintEvent(self, event: QPaintEvent) -> None:
        self.paints += 1
        if self.visual_version == self._painted_version:
            self.idle_paints += 1
        self._painted_version = self.visual_version
        super().paintEvent(event)

    # ---- view geometry ----------------------------------------------------------------------
    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        vp = self.viewport().geometry()
        self.scale_widget.move(vp.left() + 10, vp.bottom() - self.scale_widget.height() - 8)
        self._refresh_tiles()

    def scrollContentsBy(self, dx: int, dy: int) -> None:
        super().scrollContentsBy(dx, dy)
        self._refresh_tiles()

    # ---- tiles and scale --------------------------------------------------------------------
    def _update_scale(self) -> None:
        m_per_px = 1.0 / max(self.transform().m11(), 1e-9)
        center_lat = from_scene(self.mapToScene(self.viewport().rect().center()))[0]
        self.scale_widget.set_scale(m_per_px * math.cos(math.radians(center_lat)))

    def _refresh_tiles(self) -> None:
        self._update_scale()
        if self.tiles.active:
            m_per_px = 1.0 / max(self.transform().m11(), 1e-9)
            self.tiles.refresh(self.mapToScene(self.viewport().rect()).boundingRect(), m_per_px)

    def closeEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        self.tiles.stop()
        super().closeEvent(event)
