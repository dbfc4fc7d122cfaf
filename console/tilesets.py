"""Tile sets without Qt: MBTiles files, XYZ folders and an online URL template with a disk cache.

Every source answers ``tile(z, x, y) -> bytes | None`` in XYZ numbering (y = 0 at the north edge);
MBTiles stores TMS rows (y = 0 at the south edge), so it flips ``y`` on read. A source is used from
one thread only (the console's tile loader thread): MBTiles opens its SQLite connection lazily, in
the thread that first reads. ``validate_tileset`` checks a file or folder before it is used or
imported and raises ``TilesetError`` with one line saying what is wrong and how to fix it.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from console.errors import ConsoleError

log = logging.getLogger(__name__)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"
IMAGE_EXT = (".png", ".jpg", ".jpeg")


class TilesetError(ConsoleError):
    """A tile set that cannot be used: missing, not MBTiles, no raster tiles."""


@dataclass(frozen=True, slots=True)
class TileLayerSpec:
    """One map layer the user can switch to: ``kind`` is "mbtiles", "xyz" or "url"."""

    name: str
    kind: str
    location: str  # file path, folder path or URL template with {z} {x} {y}
    max_zoom: int = 19
    cache_dir: Path | None = None  # "url" only: where fetched tiles are kept


@dataclass(frozen=True, slots=True)
class TilesetInfo:
    kind: str
    tiles: int
    min_zoom: int
    max_zoom: int
    image_format: str  # "png" | "jpg"


class TileSource(Protocol):
    def tile(self, z: int, x: int, y: int) -> bytes | None: ...
    def close(self) -> None: ...


def _image_format(blob: bytes) -> str | None:
    if blob.startswith(PNG_MAGIC):
        return "png"
    if blob.startswith(JPEG_MAGIC):
        return "jpg"
    return None


class MBTilesSource:
    """Raster tiles from an MBTiles (SQLite) file; TMS rows flipped to XYZ."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._db: sqlite3.Connection | None = None

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            self._db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
        return self._db

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        row = (1 << z) - 1 - y
        cur = self._conn().execute(
            "SELECT tile_data FROM tiles WHERE zoom_level=? AND tile_column=? AND tile_row=?", (z, x, row)
        )
        hit = cur.fetchone()
        return bytes(hit[0]) if hit and hit[0] else None

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


class XyzDirSource:
    """Tiles in a folder ``{z}/{x}/{y}.png`` (or .jpg/.jpeg)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        for ext in IMAGE_EXT:
            f = self.root / str(z) / str(x) / f"{y}{ext}"
            if f.is_file():
                return f.read_bytes()
        return None

    def close(self) -> None:
        return None


class UrlTileSource:
    """Online tiles from a URL template (``https://host/{z}/{x}/{y}.png``), kept in ``cache_dir``.

    A tile found in the cache is never fetched again. Fetch failures return None (the grid shows).
    Never used by the tests (no network there).
    """

    def __init__(self, template: str, cache_dir: Path, timeout_s: float = 10.0) -> None:
        self.template, self.cache_dir, self.timeout_s = template, Path(cache_dir), timeout_s
        self._failures = 0

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        cached = self.cache_dir / str(z) / str(x) / f"{y}.tile"
        if cached.is_file():
            return cached.read_bytes()
        if self._failures > 20:  # offline: stop trying (and logging) after a burst of failures
            return None
        url = self.template.format(z=z, x=x, y=y)
        try:
            req = urllib.request.Request(url, headers={"User-Agent": "Lookout-console/1 (offline cache)"})
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
                blob = resp.read()
        except OSError as exc:
            self._failures += 1
            log.warning("map tile %s: %s", url, exc)
            return None
        if _image_format(blob) is None:
            return None
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(".tmp")
        tmp.write_bytes(blob)
        os.replace(tmp, cached)
        return blob

    def close(self) -> None:
        return None


def open_source(spec: TileLayerSpec) -> TileSource:
    if spec.kind == "mbtiles":
        return MBTilesSource(Path(spec.location))
    if spec.kind == "xyz":
        return XyzDirSource(Path(spec.location))
    if spec.kind == "url":
        if spec.cache_dir is None:
            raise TilesetError(f"map layer {spec.name!r}: a URL layer needs a cache folder")
        return UrlTileSource(spec.location, spec.cache_dir)
    raise TilesetError(f"map layer {spec.name!r}: unknown kind {spec.kind!r} (use mbtiles, xyz or url)")


def validate_tileset(path: Path) -> TilesetInfo:
    """Check an MBTiles file or XYZ folder: readable, raster PNG/JPEG tiles, at least one tile."""
    path = Path(path)
    if not path.exists():
        raise TilesetError(
            f"{path}: no such file or folder (give an .mbtiles file or an XYZ folder {{z}}/{{x}}/{{y}}.png)"
        )
    if path.is_dir():
        return _validate_xyz(path)
    return _validate_mbtiles(path)


def _validate_mbtiles(path: Path) -> TilesetInfo:
    fix = "export it again as raster MBTiles (PNG or JPEG tiles)"
    with path.open("rb") as fh:
        if fh.read(16) != b"SQLite format 3\x00":
            raise TilesetError(f"{path}: not an MBTiles file (not SQLite); {fix}")
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise TilesetError(f"{path}: cannot open ({exc}); {fix}") from None
    try:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type IN ('table','view')")}
        if "tiles" not in tables:
            raise TilesetError(f"{path}: no 'tiles' table, so not MBTiles; {fix}")
        n, zmin, zmax = db.execute("SELECT COUNT(*), MIN(zoom_level), MAX(zoom_level) FROM tiles").fetchone()
        if not n:
            raise TilesetError(f"{path}: the 'tiles' table is empty; {fix}")
        meta = dict(db.execute("SELECT name, value FROM metadata").fetchall()) if "metadata" in tables else {}
        blob = db.execute("SELECT tile_data FROM tiles LIMIT 1").fetchone()[0]
    except sqlite3.Error as exc:
        raise TilesetError(f"{path}: unreadable MBTiles ({exc}); {fix}") from None
    finally:
        db.close()
    fmt = _image_format(bytes(blob or b""))
    if fmt is None:
        declared = meta.get("format", "unknown")
        raise TilesetError(
            f"{path}: tiles are not PNG or JPEG (format {declared!r}; vector tiles cannot be shown); {fix}"
        )
    return TilesetInfo("mbtiles", int(n), int(zmin), int(zmax), fmt)


def _validate_xyz(path: Path) -> TilesetInfo:
    zooms: list[int] = []
    count, fmt = 0, None
    for zdir in path.iterdir():
        if not (zdir.is_dir() and zdir.name.isdigit()):
            continue
        for xdir in zdir.iterdir():
            if not (xdir.is_dir() and xdir.name.isdigit()):
                continue
            for f in xdir.iterdir():
                if f.suffix.lower() in IMAGE_EXT and f.stem.isdigit():
                    if fmt is None:
                        fmt = _image_format(f.read_bytes()[:16])
                        if fmt is None:
                            raise TilesetError(f"{f}: not a PNG or JPEG image; replace the broken tile or the folder")
                    count += 1
                    zooms.append(int(zdir.name))
    if not count or fmt is None:
        raise TilesetError(f"{path}: no tiles found (an XYZ folder holds {{z}}/{{x}}/{{y}}.png files)")
    return TilesetInfo("xyz", count, min(zooms), max(zooms), fmt)


def spec_for(path: Path, name: str | None = None) -> TileLayerSpec:
    """A layer spec for an MBTiles file or XYZ folder (``name`` defaults to its stem)."""
    path = Path(path)
    kind = "xyz" if path.is_dir() else "mbtiles"
    return TileLayerSpec(name or path.stem, kind, str(path))


def discover_layers(tiles_root: Path) -> list[TileLayerSpec]:
    """Tile sets imported with ``lookout tiles import`` (``<data dir>/tiles``): each .mbtiles file and folder."""
    if not tiles_root.is_dir():
        return []
    found = []
    for p in sorted(tiles_root.iterdir()):
        mbtiles = p.suffix == ".mbtiles" and p.is_file()
        if mbtiles or (p.is_dir() and not p.name.startswith(".") and p.name != "cache"):
            found.append(spec_for(p))
    return found
