"""What the mouse and keys do on the map: wheel zoom, click a drone (ctrl-click toggles it) or an
alert, the cursor readout and ruler, Esc, and the context menu (fly here, point camera here, measure,
map layer).

A mixin of ``console.mapview.MapView`` (before ``QGraphicsView``, whose handlers it extends); user
intent leaves through the view's signals.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QContextMenuEvent, QKeyEvent, QMouseEvent, QWheelEvent
from PySide6.QtWidgets import QGraphicsPolygonItem, QMenu

from console.map_alerts import ALERT_ITEM
from console.map_projection import from_scene, to_scene
from console.map_tools import format_latlon

if TYPE_CHECKING:
    from PySide6.QtCore import SignalInstance
    from PySide6.QtWidgets import QGraphicsView

    from console.map_tiles import TileLayerItems
    from console.map_tools import CursorReadout, Ruler

    _Base = QGraphicsView
else:
    _Base = object


class MapInteraction(_Base):
    ruler: Ruler
    readout: CursorReadout
    tiles: TileLayerItems
    fly_here_allowed: bool
    roi_allowed: bool
    _selected: set[int]

    if TYPE_CHECKING:  # the view's
        vehicle_clicked: SignalInstance
        vehicle_toggled: SignalInstance
        alert_clicked: SignalInstance
        fly_here_requested: SignalInstance
        roi_requested: SignalInstance

        def layer_names(self) -> list[str]: ...
        def set_layer(self, name: str | None) -> None: ...
        def _refresh_tiles(self) -> None: ...

    def wheelEvent(self, event: QWheelEvent) -> None:
        factor = 1.25 if event.angleDelta().y() > 0 else 0.8
        m = self.transform().m11() * factor
        if 0.0005 < m < 50:
            self.scale(factor, factor)
            self._refresh_tiles()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            if self.ruler.measuring:
                self.ruler.finish()
                return
            ctrl = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
            for item in self.items(event.position().toPoint()):
                if isinstance(item, QGraphicsPolygonItem) and item.data(0) is not None:
                    (self.vehicle_toggled if ctrl else self.vehicle_clicked).emit(int(item.data(0)))
                    return
                if item.data(ALERT_ITEM) is not None:
                    self.alert_clicked.emit(int(item.data(ALERT_ITEM)))
                    return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        at = self.mapToScene(event.position().toPoint())
        lat, lon = from_scene(at)
        text = format_latlon(lat, lon)
        if self.ruler.measuring:
            text += "   " + self.ruler.move(lat, lon, at)
        elif self.ruler.reading:
            text += "   ruler " + self.ruler.reading
        self.readout.show_text(text)
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        super().mouseReleaseEvent(event)
        self._refresh_tiles()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.ruler.clear()
            return
        super().keyPressEvent(event)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        at = self.mapToScene(event.pos())
        lat, lon = from_scene(at)
        menu = QMenu(self)
        one = len(self._selected) == 1
        fly = menu.addAction(f"Fly selected drone here ({lat:.5f}, {lon:.5f})")
        fly.setEnabled(one and self.fly_here_allowed)
        roi = menu.addAction("Point camera here (ROI)")
        roi.setEnabled(one and self.roi_allowed)
        measure = menu.addAction("Measure distance/bearing from here")
        clear = menu.addAction("Clear measurement")
        clear.setEnabled(self.ruler.a is not None)
        if self.tiles.layers:
            sub = menu.addMenu("Map layer")
            for name in [*self.layer_names(), None]:
                act = sub.addAction(name or "plain grid")
                act.setCheckable(True)
                act.setChecked(self.tiles.current == name)
                act.triggered.connect(lambda _=False, n=name: self.set_layer(n))
        chosen = menu.exec(event.globalPos())
        if chosen is fly:
            self.fly_here_requested.emit(lat, lon)
        elif chosen is roi:
            self.roi_requested.emit(lat, lon)
        elif chosen is measure:
            self.start_measure(lat, lon)
        elif chosen is clear:
            self.ruler.clear()

    def start_measure(self, lat: float, lon: float) -> None:
        """Ruler from (lat, lon): the other end follows the cursor until the next click; Esc clears."""
        self.ruler.start(lat, lon, to_scene(lat, lon))
