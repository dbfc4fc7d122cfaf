"""Video wall: tiles that poll their feed's newest (already annotated) frame and paint it."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from PySide6.QtCore import QRect, Qt, QTimer
from PySide6.QtGui import QColor, QContextMenuEvent, QFont, QImage, QPainter, QPaintEvent
from PySide6.QtWidgets import QGridLayout, QMenu, QWidget

from console.mapview import bgr_to_qimage
from console.services import VideoFeed

STALE_S = 3.0


class VideoTile(QWidget):
    def __init__(self, feed: VideoFeed) -> None:
        super().__init__()
        self.feed = feed
        self.zone_store: object | None = None  # console.zone_editor.ZoneStore: "Draw zones…" in the menu
        self._image: QImage | None = None
        self._source: object = None  # the feed's array behind _image
        self._caption = "waiting for video…"
        self._stale = True
        self._status = ""
        self.setMinimumSize(240, 150)

    @property
    def showing_video(self) -> bool:
        return self._image is not None and not self._stale

    def frame_size(self) -> tuple[int, int] | None:
        """(width, height) of the frame shown, or None before the first one."""
        return None if self._image is None else (self._image.width(), self._image.height())

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        if self.zone_store is None:
            return
        menu = QMenu(self)
        act = menu.addAction("Draw zones…")
        act.setEnabled(self._image is not None)
        if menu.exec(event.globalPos()) is act:
            self.edit_zones()

    def edit_zones(self) -> object:
        """Open the zone editor over this tile (``console.zone_editor``)."""
        from console.zone_editor import open_zone_editor

        return open_zone_editor(self, self.zone_store)  # type: ignore[arg-type]

    def poll(self) -> None:
        frame = self.feed.latest()
        if frame is None:
            status = self.feed.status()
            if status != self._status:
                self._status = status
                self.update()
            return
        stale = frame.age_s > STALE_S
        if frame.image is self._source and frame.caption == self._caption and stale == self._stale:
            return  # the same frame as last poll (cameras run slower than the 10 Hz poll): nothing to repaint
        if stale:
            self._status = self.feed.status()
        self._source = frame.image
        self._image = bgr_to_qimage(frame.image)
        self._caption = frame.caption
        self._stale = stale
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#111"))
        if self._image is not None:
            img = self._image.scaled(
                self.size(), Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
            )
            p.drawImage((self.width() - img.width()) // 2, (self.height() - img.height()) // 2, img)
        p.setFont(QFont("DejaVu Sans", 9, QFont.Weight.Bold))
        bar = QRect(0, 0, self.width(), 20)
        p.fillRect(bar, QColor(0, 0, 0, 160))
        p.setPen(QColor("white"))
        p.drawText(bar.adjusted(6, 0, -6, 0), Qt.AlignmentFlag.AlignVCenter, f"{self.feed.name}  {self._caption}")
        if self._stale:
            p.setPen(QColor("#ff5252"))
            p.setFont(QFont("DejaVu Sans", 14, QFont.Weight.Bold))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "NO SIGNAL" if self._image is None else "STALE")
            if self._status:
                p.setFont(QFont("DejaVu Sans", 9))
                p.setPen(QColor("#ffcdd2"))
                below = self.rect().adjusted(8, self.height() // 2 + 14, -8, 0)
                p.drawText(below, Qt.AlignmentFlag.AlignHCenter | Qt.TextFlag.TextWordWrap, self._status)
        p.end()


class VideoWall(QWidget):
    def __init__(self, feeds: Sequence[VideoFeed], fps: float = 10.0, zone_store: object | None = None) -> None:
        super().__init__()
        self.tiles = [VideoTile(f) for f in feeds]
        for tile in self.tiles:
            tile.zone_store = zone_store
        grid = QGridLayout(self)
        grid.setContentsMargins(2, 2, 2, 2)
        grid.setSpacing(2)
        self._cols = 0
        self._place(max(1, math.ceil(math.sqrt(len(self.tiles)))))
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.poll)
        self._timer.start(int(1000 / fps))

    def poll(self) -> None:
        for tile in self.tiles:
            tile.poll()

    def follow(self, sysid: int) -> bool:
        """Put the selected drone's camera tile first (top left), e.g. "Drone #2 gimbal camera" for 2.

        Returns False when no feed belongs to that drone (the wall stays as it is)."""
        pattern = re.compile(rf"\bdrone\s*[#-]?\s*{sysid}\b", re.IGNORECASE)
        match = next((t for t in self.tiles if pattern.search(t.feed.name)), None)
        if match is None:
            return False
        if self.tiles[0] is not match:
            self.tiles.remove(match)
            self.tiles.insert(0, match)
            self._place(self._cols, force=True)
        return True

    def best_columns(self, width: int, height: int, aspect: float = 16 / 9) -> int:
        """The column count that shows 16:9 video largest in ``width`` x ``height``."""
        n = max(1, len(self.tiles))

        def video_width(cols: int) -> float:
            rows = math.ceil(n / cols)
            return min(width / cols, height / rows * aspect)

        return max(range(1, n + 1), key=video_width)

    def _place(self, cols: int, force: bool = False) -> None:
        if cols == self._cols and not force:
            return
        self._cols = cols
        grid = self.layout()
        for tile in self.tiles:
            grid.removeWidget(tile)
        for i, tile in enumerate(self.tiles):
            grid.addWidget(tile, i // cols, i % cols)  # type: ignore[call-arg]

    def resizeEvent(self, event) -> None:  # type: ignore[no-untyped-def] - QResizeEvent
        super().resizeEvent(event)
        self._place(self.best_columns(self.width(), self.height()))  # tall dock: one column, wide: a row
