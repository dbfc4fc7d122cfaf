"""Map tools drawn over the scene: cursor coordinates, the distance/bearing ruler, the scale bar.

The overlays are small child widgets of the viewport, so a drone moving on the map repaints only its
own rectangle and not the overlays (no full-viewport repaint for a scale bar). Geodesy is plain
spherical (haversine, initial great-circle bearing): errors are far below a pixel at map scales.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRect, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QGraphicsLineItem, QGraphicsScene, QGraphicsSimpleTextItem, QLabel, QWidget

from missions.geo import haversine_m

distance_m = haversine_m  # great-circle metres (the ruler)
NICE_M = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000)


def bearing_deg(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Initial bearing from point 1 to point 2, degrees clockwise from true north, 0..360."""
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lon2 - lon1)
    y = math.sin(dl) * math.cos(p2)
    x = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    return math.degrees(math.atan2(y, x)) % 360.0


def format_distance(m: float) -> str:
    return f"{m:.1f} m" if m < 100 else f"{m:.0f} m" if m < 1000 else f"{m / 1000:.2f} km"


def format_latlon(lat: float, lon: float) -> str:
    return f"{abs(lat):.6f}°{'N' if lat >= 0 else 'S'}  {abs(lon):.6f}°{'E' if lon >= 0 else 'W'}"


def scale_bar(ground_m_per_px: float, target_px: float = 120) -> tuple[float, str]:
    """A round length near ``target_px`` pixels: (its length in pixels, its label)."""
    want = target_px * ground_m_per_px
    nice = max([v for v in NICE_M if v <= max(want, 1)] or [1])
    return nice / ground_m_per_px, (f"{nice:g} m" if nice < 1000 else f"{nice / 1000:g} km")


class ScaleBar(QWidget):
    """Bottom-left scale bar; ``set_scale(ground_m_per_px)`` repaints only when the label changes."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.resize(260, 30)
        self.px, self.label = 0.0, ""

    def set_scale(self, ground_m_per_px: float) -> None:
        px, label = scale_bar(ground_m_per_px)
        if abs(px - self.px) > 0.5 or label != self.label:
            self.px, self.label = px, label
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setPen(QPen(QColor(0, 0, 0, 160), 5))
        y = self.height() - 6
        p.drawLine(4, y, int(4 + self.px), y)
        p.setPen(QPen(QColor("white"), 3))
        p.drawLine(4, y, int(4 + self.px), y)
        p.setFont(QFont("DejaVu Sans", 9, QFont.Weight.Bold))
        p.drawText(QRect(4, 0, 250, y - 3), Qt.AlignmentFlag.AlignBottom | Qt.AlignmentFlag.AlignLeft, self.label)
        p.end()


class CursorReadout(QLabel):
    """Bottom-right: the coordinates under the cursor (and the ruler's reading while measuring)."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setStyleSheet("background: rgba(0,0,0,150); color: white; padding: 2px 6px; font: bold 9pt 'DejaVu Sans'")
        self.setText("")
        self.hide()

    def show_text(self, text: str) -> None:
        if text != self.text():
            self.setText(text)
            self.adjustSize()
            parent = self.parentWidget()
            if parent is not None:
                self.move(parent.width() - self.width() - 6, parent.height() - self.height() - 6)
        self.show()


class Ruler:
    """Distance/bearing tool: ``start(a)`` then ``move(b)`` draws A->B with its length and bearing."""

    def __init__(self, scene: QGraphicsScene) -> None:
        self.line = QGraphicsLineItem()
        self.line.setPen(QPen(QColor("#ffeb3b"), 2, Qt.PenStyle.DashLine))
        self.line.pen().setCosmetic(True)
        pen = self.line.pen()
        pen.setCosmetic(True)
        self.line.setPen(pen)
        self.line.setZValue(40)
        self.text = QGraphicsSimpleTextItem()
        self.text.setBrush(QColor("#ffeb3b"))
        self.text.setFont(QFont("DejaVu Sans", 10, QFont.Weight.Bold))
        self.text.setFlag(QGraphicsSimpleTextItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.text.setZValue(41)
        for item in (self.line, self.text):
            item.setVisible(False)
            scene.addItem(item)
        self.a: tuple[float, float] | None = None  # lat, lon
        self.a_scene = QPointF()
        self.reading = ""
        self.measuring = False  # the second point follows the cursor until the next click

    def start(self, lat: float, lon: float, at: QPointF) -> None:
        self.a, self.a_scene, self.measuring = (lat, lon), at, True
        self.line.setLine(at.x(), at.y(), at.x(), at.y())
        self.line.setVisible(True)
        self.text.setVisible(True)

    def move(self, lat: float, lon: float, at: QPointF) -> str:
        if self.a is None:
            return ""
        d = distance_m(self.a[0], self.a[1], lat, lon)
        b = bearing_deg(self.a[0], self.a[1], lat, lon)
        self.reading = f"{format_distance(d)}  {b:05.1f}°"
        self.line.setLine(self.a_scene.x(), self.a_scene.y(), at.x(), at.y())
        self.text.setText(self.reading)
        self.text.setPos(at)
        return self.reading

    def finish(self) -> None:
        self.measuring = False

    def clear(self) -> None:
        self.a, self.measuring, self.reading = None, False, ""
        self.line.setVisible(False)
        self.text.setVisible(False)
