"""Draw and edit a camera's zones on its video tile; save them to the config file.

Right-click a tile, "Draw zones…": an overlay covers the tile's picture with the feed's zones.

- click points on the picture to outline a new zone; click the first point again, double-click or
  press Enter to close it (Esc drops it); it takes the kind and name in the bar below;
- drag a vertex to move it; right-click a vertex to delete it (a zone keeps at least 3);
- click inside a zone to select it (its kind and name show in the bar, and changing them changes it);
  "Delete zone" or the Delete key removes it;
- "Save" writes the feed's zones through the ``ZoneStore`` (``lookout.config_edit.ConfigZones``: the
  config file, a backup kept, the file re-validated, the running pipeline updated). A bad edit (edges
  that cross, a name in use) changes nothing; the bar says why.

Zones are kept in the units they were saved in: existing pixel zones stay pixels, new ones are
fractions of the frame (``normalized = true``) so they survive a change of stream resolution.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

KINDS = ("parking", "water", "restricted", "entrance", "watch")
KIND_QCOLORS = {"parking": "#1e90ff", "water": "#00ffff", "restricted": "#ff0000", "entrance": "#00c800",
                "watch": "#ffc800"}  # fmt: skip
HIT_PX = 9.0  # a click this close to a vertex grabs it


@dataclass(frozen=True, slots=True)
class DrawnZone:
    """A zone as the editor hands it over: ``points`` in pixels, or fractions of the frame when ``normalized``."""

    name: str
    kind: str
    points: tuple[tuple[float, float], ...]
    normalized: bool = True


class ZoneStore(Protocol):
    def zones(self, feed: str) -> Sequence[DrawnZone]:
        """The feed's pixel-drawn zones as saved now."""
        ...

    def save(self, feed: str, zones: Sequence[DrawnZone]) -> None:
        """Replace the feed's zones; raise an exception whose message says why when they are not accepted."""
        ...


class TileLike(Protocol):
    """``console.video.VideoTile``: a widget showing a feed's frames scaled to fit, centred."""

    feed: Any

    def frame_size(self) -> tuple[int, int] | None: ...


@dataclass(slots=True)
class _Zone:
    name: str
    kind: str
    points: list[tuple[float, float]]  # frame pixels while editing
    normalized: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


class ZoneOverlay(QWidget):
    """The editing layer over one tile (a child widget that covers it)."""

    def __init__(self, tile: QWidget, store: ZoneStore) -> None:
        super().__init__(tile)
        self.tile, self.store = tile, store
        self.feed_name: str = tile.feed.name  # type: ignore[attr-defined]
        size = tile.frame_size()  # type: ignore[attr-defined]
        self.frame_w, self.frame_h = size if size else (0, 0)
        self.zones: list[_Zone] = []
        self.selected: int | None = None
        self.drawing: list[tuple[float, float]] = []
        self._drag: tuple[int, int] | None = None
        self.saved = False
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, False)
        self._build_bar()
        self._load()
        tile.installEventFilter(self)
        self.setGeometry(tile.rect())
        self.show()
        self.raise_()
        self.setFocus()

    # ---- bar
    def _build_bar(self) -> None:
        self.kind_box = QComboBox()
        self.kind_box.addItems(KINDS)
        self.kind_box.setCurrentText("watch")
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("zone name")
        self.delete_button = QPushButton("Delete zone")
        self.save_button = QPushButton("Save")
        self.close_button = QPushButton("Close")
        self.status = QLabel("Click points to outline a zone")
        self.status.setStyleSheet("color: white; background: rgba(0,0,0,160); padding: 2px;")
        self.status.setWordWrap(True)
        bar = QWidget(self)
        bar.setStyleSheet("background: rgba(0,0,0,170);")
        row = QHBoxLayout(bar)
        row.setContentsMargins(4, 2, 4, 2)
        for w in (self.kind_box, self.name_edit, self.delete_button, self.save_button, self.close_button):
            row.addWidget(w)
        col = QVBoxLayout(self)  # at the top, under the tile's caption: the ground is usually lower down
        col.setContentsMargins(0, 20, 0, 0)
        col.setSpacing(0)
        col.addWidget(bar)
        col.addWidget(self.status)
        col.addStretch(1)
        self.bar = bar
        self.kind_box.currentTextChanged.connect(self._kind_changed)
        self.name_edit.editingFinished.connect(self._name_changed)
        self.delete_button.clicked.connect(self.delete_selected)
        self.save_button.clicked.connect(self.save)
        self.close_button.clicked.connect(self.close_editor)

    def _load(self) -> None:
        if not self.frame_w:
            self.status.setText("No picture from this camera yet: zones are drawn on its frames; try again later")
            return
        try:
            saved = self.store.zones(self.feed_name)
        except Exception as exc:
            self.status.setText(f"Cannot read the zones: {exc}")
            return
        for z in saved:
            sx, sy = (self.frame_w, self.frame_h) if z.normalized else (1, 1)
            self.zones.append(_Zone(z.name, z.kind, [(x * sx, y * sy) for x, y in z.points], z.normalized))

    # ---- geometry: frame pixels <-> widget
    def image_rect(self) -> QRectF:
        """Where the tile draws the frame (scaled to fit, centred), in this widget's coordinates."""
        if not self.frame_w:
            return QRectF()
        s = min(self.width() / self.frame_w, self.height() / self.frame_h)
        w, h = self.frame_w * s, self.frame_h * s
        return QRectF((self.width() - int(w)) // 2, (self.height() - int(h)) // 2, w, h)

    def to_widget(self, x: float, y: float) -> QPointF:
        r = self.image_rect()
        return QPointF(r.x() + x * r.width() / self.frame_w, r.y() + y * r.height() / self.frame_h)

    def to_frame(self, p: QPointF) -> tuple[float, float] | None:
        r = self.image_rect()
        if r.isEmpty() or not r.adjusted(-1, -1, 1, 1).contains(p):
            return None
        x = (p.x() - r.x()) * self.frame_w / r.width()
        y = (p.y() - r.y()) * self.frame_h / r.height()
        return min(max(x, 0.0), float(self.frame_w)), min(max(y, 0.0), float(self.frame_h))

    def _vertex_at(self, p: QPointF) -> tuple[int, int] | None:
        best, best_d = None, HIT_PX
        for zi, z in enumerate(self.zones):
            for vi, (x, y) in enumerate(z.points):
                q = self.to_widget(x, y)
                d = math.hypot(q.x() - p.x(), q.y() - p.y())
                if d <= best_d:
                    best, best_d = (zi, vi), d
        return best

    def _zone_at(self, p: QPointF) -> int | None:
        for zi in reversed(range(len(self.zones))):
            poly = QPolygonF([self.to_widget(x, y) for x, y in self.zones[zi].points])
            if poly.containsPoint(p, Qt.FillRule.OddEvenFill):
                return zi
        return None

    # ---- events
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.tile and event.type() == QEvent.Type.Resize:
            self.setGeometry(self.tile.rect())  # type: ignore[attr-defined]
        return False

    def mousePressEvent(self, event: QMouseEvent) -> None:
        p = event.position()
        on_bar = self.bar.geometry().contains(p.toPoint()) or self.status.geometry().contains(p.toPoint())
        if not self.frame_w or on_bar:
            return
        hit = self._vertex_at(p)
        if event.button() == Qt.MouseButton.RightButton:
            if hit is not None:
                self._delete_vertex(*hit)
            elif self.drawing:
                self.drawing.pop()
            self.update()
            return
        if event.button() != Qt.MouseButton.LeftButton:
            return
        if self.drawing:
            first = self.to_widget(*self.drawing[0])
            if len(self.drawing) >= 3 and math.hypot(first.x() - p.x(), first.y() - p.y()) <= HIT_PX:
                self.finish_zone()
                return
        elif hit is not None:
            self._drag = hit
            self._select(hit[0])
            return
        elif (zi := self._zone_at(p)) is not None:
            self._select(zi)
            return
        pt = self.to_frame(p)
        if pt is None:
            return
        if not self.drawing:
            self._select(None)
        self.drawing.append(pt)
        self.status.setText(f"{len(self.drawing)} point(s): click the first point, double-click or Enter to close")
        self.update()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._drag is None:
            return
        pt = self.to_frame(event.position())
        if pt is not None:
            zi, vi = self._drag
            self.zones[zi].points[vi] = pt
            self.saved = False
            self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._drag = None

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if len(self.drawing) >= 3:
            self.finish_zone()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and len(self.drawing) >= 3:
            self.finish_zone()
        elif key == Qt.Key.Key_Escape:
            if self.drawing:
                self.drawing.clear()
                self.update()
            else:
                self.close_editor()
        elif key == Qt.Key.Key_Delete:
            self.delete_selected()
        else:
            super().keyPressEvent(event)

    # ---- edits
    def finish_zone(self) -> None:
        if len(self.drawing) < 3:
            return
        kind = self.kind_box.currentText()
        name = self.name_edit.text().strip() or self._free_name(kind)
        if any(z.name == name for z in self.zones):
            name = self._free_name(name)
        self.zones.append(_Zone(name, kind, list(self.drawing), True))
        self.drawing.clear()
        self.saved = False
        self._select(len(self.zones) - 1)
        self.status.setText(f"zone {name!r} ({kind}) added; Save writes it to the config")

    def _free_name(self, base: str) -> str:
        used = {z.name for z in self.zones}
        k = 1
        while f"{base}_{k}" in used:
            k += 1
        return f"{base}_{k}"

    def _delete_vertex(self, zi: int, vi: int) -> None:
        z = self.zones[zi]
        if len(z.points) <= 3:
            self.status.setText(f"zone {z.name!r} needs at least 3 points; use Delete zone to remove it")
            return
        del z.points[vi]
        self.saved = False

    def delete_selected(self) -> None:
        if self.selected is None:
            return
        z = self.zones.pop(self.selected)
        self.selected = None
        self.saved = False
        self.status.setText(f"zone {z.name!r} deleted; Save writes the change")
        self.update()

    def _select(self, zi: int | None) -> None:
        self.selected = zi
        if zi is not None:
            z = self.zones[zi]
            self.kind_box.blockSignals(True)
            self.kind_box.setCurrentText(z.kind)
            self.kind_box.blockSignals(False)
            self.name_edit.setText(z.name)
        self.update()

    def _kind_changed(self, kind: str) -> None:
        if self.selected is not None and not self.drawing:
            self.zones[self.selected].kind = kind
            self.saved = False
            self.update()

    def _name_changed(self) -> None:
        name = self.name_edit.text().strip()
        if self.selected is not None and not self.drawing and name:
            self.zones[self.selected].name = name
            self.saved = False
            self.update()

    def drawn(self) -> list[DrawnZone]:
        """The zones as they would be saved (in each zone's units)."""
        out = []
        for z in self.zones:
            sx, sy = (self.frame_w, self.frame_h) if z.normalized else (1, 1)
            pts = tuple((round(x / sx, 5), round(y / sy, 5)) if z.normalized else (round(x, 1), round(y, 1))
                        for x, y in z.points)  # fmt: skip
            out.append(DrawnZone(z.name, z.kind, pts, z.normalized))
        return out

    def save(self) -> bool:
        """Write the zones; on refusal the bar says why and nothing changed."""
        if len(self.drawing) >= 3:
            self.finish_zone()
        try:
            self.store.save(self.feed_name, self.drawn())
        except Exception as exc:
            self.status.setText(f"Not saved: {exc}")
            self.status.setStyleSheet("color: #ffcdd2; background: rgba(80,0,0,200); padding: 2px;")
            return False
        self.saved = True
        self.status.setStyleSheet("color: white; background: rgba(0,0,0,160); padding: 2px;")
        self.status.setText(f"Saved {len(self.zones)} zone(s); the camera uses them from its next frame")
        return True

    def close_editor(self) -> None:
        self.tile.removeEventFilter(self)
        self.hide()
        self.deleteLater()

    # ---- drawing
    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        for zi, z in enumerate(self.zones):
            colour = QColor(KIND_QCOLORS.get(z.kind, "#ffc800"))
            poly = QPolygonF([self.to_widget(x, y) for x, y in z.points])
            fill = QColor(colour)
            fill.setAlpha(90 if zi == self.selected else 50)
            p.setBrush(fill)
            p.setPen(QPen(colour, 3 if zi == self.selected else 2))
            p.drawPolygon(poly)
            p.setBrush(colour)
            for q in poly:
                p.drawRect(QRectF(q.x() - 3, q.y() - 3, 6, 6))
            if len(poly):
                p.setPen(QColor("white"))
                p.drawText(poly.boundingRect().center(), f"{z.name} ({z.kind})")
        if self.drawing:
            colour = QColor(KIND_QCOLORS.get(self.kind_box.currentText(), "#ffc800"))
            p.setPen(QPen(colour, 2, Qt.PenStyle.DashLine))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawPolyline(QPolygonF([self.to_widget(x, y) for x, y in self.drawing]))
            p.setBrush(colour)
            for x, y in self.drawing:
                q = self.to_widget(x, y)
                p.drawEllipse(q, 4, 4)
        p.end()


def open_zone_editor(tile: QWidget, store: ZoneStore) -> ZoneOverlay:
    """Start editing ``tile``'s zones (one overlay per tile: an open one is brought to the front)."""
    for child in tile.findChildren(ZoneOverlay):
        if child.isVisible():
            child.raise_()
            return child
    return ZoneOverlay(tile, store)


__all__ = ["KINDS", "DrawnZone", "ZoneOverlay", "ZoneStore", "open_zone_editor"]
