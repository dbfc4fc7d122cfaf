"""Map tiles in the scene: a loader thread reads tiles (``console.tilesets``), the GUI thread places them.

``TileLoader`` owns one ``threading.Thread`` and the open sources; ``request`` queues the tiles a view
needs (newest requests first, requests of an older view dropped) and each tile comes back decoded (by
OpenCV, as RGBA pixels) by a queued signal, so the GUI thread never reads SQLite, a disk or the network;
the GUI thread makes the ``QImage``. The loader thread calls no Qt code: Qt's image readers take Qt locks
while PySide holds the GIL, and the GUI thread holding such a lock while calling into Python then
deadlocked both (seen once in a CI run, in ``QImage.fromData`` on the loader thread). ``TileLayerItems``
puts the tiles of the current layer into the ``QGraphicsScene`` (Web Mercator metres, y down) and
switches layers. With no layer the map shows a plain grid (``MapView.drawBackground``).
"""

from __future__ import annotations

import logging
import math
import queue
import threading
from collections.abc import Sequence

import cv2
import numpy as np
from PySide6.QtCore import QObject, QRectF, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QGraphicsPixmapItem, QGraphicsScene

from console.tilesets import TileLayerSpec, TileSource, open_source

log = logging.getLogger(__name__)
EARTH_R_M = 6378137.0
HALF_WORLD_M = math.pi * EARTH_R_M
MAX_TILE_ITEMS = 600
TileKey = tuple[str, int, int, int]  # layer, z, x, y


def tile_span_m(z: int) -> float:
    return 2 * HALF_WORLD_M / (1 << z)


def zoom_for(m_per_px: float, max_zoom: int) -> int:
    z = round(math.log2(2 * HALF_WORLD_M / (256 * max(m_per_px, 1e-9))))
    return int(max(0, min(max_zoom, z)))


def tiles_in(rect: QRectF, z: int) -> list[tuple[int, int]]:
    """(x, y) of the tiles at zoom ``z`` covering a scene rect, nearest the centre first."""
    span, n = tile_span_m(z), 1 << z
    x0, x1 = int((rect.left() + HALF_WORLD_M) // span), int((rect.right() + HALF_WORLD_M) // span)
    y0, y1 = int((rect.top() + HALF_WORLD_M) // span), int((rect.bottom() + HALF_WORLD_M) // span)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    keys = [(x, y) for x in range(max(0, x0), min(n - 1, x1) + 1) for y in range(max(0, y0), min(n - 1, y1) + 1)]
    return sorted(keys, key=lambda k: (k[0] - cx) ** 2 + (k[1] - cy) ** 2)


class TileLoader(QObject):
    """Reads tiles on its own thread; ``loaded(layer, z, x, y, image)`` arrives on the GUI thread."""

    loaded = Signal(str, int, int, int, object)  # layer, z, x, y, (h, w, 4) uint8 RGBA

    def __init__(self, layers: Sequence[TileLayerSpec]) -> None:
        super().__init__()
        self._specs = {s.name: s for s in layers}
        self._sources: dict[str, TileSource] = {}
        self._queue: queue.LifoQueue[tuple[int, TileKey] | None] = queue.LifoQueue()
        self._generation = 0
        self._lock = threading.Lock()
        self.loaded_count = 0
        self._thread = threading.Thread(target=self._run, name="map-tiles", daemon=True)
        self._thread.start()

    def request(self, keys: Sequence[TileKey]) -> None:
        """Replace the outstanding requests with ``keys`` (first = most wanted)."""
        with self._lock:
            self._generation += 1
            gen = self._generation
        for key in reversed(keys):  # LIFO: the first key is read first
            self._queue.put((gen, key))

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=3.0)

    def _run(self) -> None:
        try:
            while (job := self._queue.get()) is not None:
                gen, (layer, z, x, y) = job
                with self._lock:
                    if gen != self._generation:
                        continue  # the view moved on
                image = self._read(layer, z, x, y)
                if image is not None:
                    self.loaded_count += 1
                    self.loaded.emit(layer, z, x, y, image)
        finally:
            for src in self._sources.values():
                src.close()

    def _read(self, layer: str, z: int, x: int, y: int) -> np.ndarray | None:
        spec = self._specs.get(layer)
        if spec is None:
            return None
        try:
            src = self._sources.get(layer)
            if src is None:
                src = self._sources[layer] = open_source(spec)
            blob = src.tile(z, x, y)
        except Exception as exc:  # a broken file must not stop the loader; the grid shows instead
            log.warning("map layer %s tile %d/%d/%d: %s", layer, z, x, y, exc)
            return None
        if blob is None:
            return None
        return decode_rgba(blob)


def decode_rgba(blob: bytes) -> np.ndarray | None:
    """A PNG/JPEG/WebP tile as (h, w, 4) uint8 RGBA pixels (None when it does not decode); no Qt."""
    img = cv2.imdecode(np.frombuffer(blob, np.uint8), cv2.IMREAD_UNCHANGED)
    if img is None or img.dtype != np.uint8:
        return None
    if img.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2RGBA)
    return cv2.cvtColor(img, cv2.COLOR_BGRA2RGBA if img.shape[2] == 4 else cv2.COLOR_BGR2RGBA)


class TileLayerItems:
    """The scene items of the current layer's tiles; ``refresh(rect, m_per_px)`` asks for what is missing."""

    def __init__(self, scene: QGraphicsScene, layers: Sequence[TileLayerSpec]) -> None:
        self.scene = scene
        self.layers = list(layers)
        self.current: str | None = self.layers[0].name if self.layers else None
        self._items: dict[TileKey, QGraphicsPixmapItem] = {}
        self._wanted: set[TileKey] = set()
        self.loader: TileLoader | None = None
        if self.layers:
            self.loader = TileLoader(self.layers)
            self.loader.loaded.connect(self._place)

    @property
    def active(self) -> bool:
        return self.current is not None

    def set_layer(self, name: str | None) -> None:
        if name is not None and name not in {s.name for s in self.layers}:
            raise KeyError(name)
        self.current = name
        for key, item in list(self._items.items()):
            item.setVisible(key[0] == name)

    def refresh(self, rect: QRectF, m_per_px: float) -> None:
        if self.loader is None or self.current is None:
            return
        spec = next(s for s in self.layers if s.name == self.current)
        z = zoom_for(m_per_px, spec.max_zoom)
        keys = [(self.current, z, x, y) for x, y in tiles_in(rect.adjusted(-1, -1, 1, 1), z)][:400]
        missing = [k for k in keys if k not in self._items]
        self._wanted = set(keys)
        if missing:
            self.loader.request(missing)
        self._evict(z)

    def _place(self, layer: str, z: int, x: int, y: int, rgba: np.ndarray) -> None:
        key = (layer, z, x, y)
        if key in self._items:
            return
        h, w = rgba.shape[:2]
        image = QImage(rgba.data, w, h, rgba.strides[0], QImage.Format.Format_RGBA8888).copy()
        span = tile_span_m(z)
        item = QGraphicsPixmapItem(QPixmap.fromImage(image))
        item.setScale(span / max(image.width(), 1))
        item.setPos(x * span - HALF_WORLD_M, y * span - HALF_WORLD_M)
        item.setZValue(-20 + z * 0.01)  # finer tiles above coarser ones
        item.setVisible(layer == self.current)
        self.scene.addItem(item)
        self._items[key] = item

    def _evict(self, z: int) -> None:
        if len(self._items) <= MAX_TILE_ITEMS:
            return
        for key in [k for k in self._items if k not in self._wanted and (k[1] != z or k[0] != self.current)]:
            self.scene.removeItem(self._items.pop(key))
            if len(self._items) <= MAX_TILE_ITEMS // 2:
                break

    def tile_count(self) -> int:
        return sum(1 for k in self._items if k[0] == self.current)

    def stop(self) -> None:
        if self.loader is not None:
            self.loader.stop()
