"""The map's tile layers: a real MBTiles file (SQLite, TMS rows) and an XYZ folder shown at the right place."""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path

import pytest

from console.tilesets import MBTilesSource, TilesetError, validate_tileset

pytestmark = pytest.mark.gui

LAT, LON, Z = 52.2297, 21.0122, 16
COLOURS = {(0, 0): (220, 30, 30), (1, 0): (30, 200, 30), (0, 1): (30, 30, 220), (1, 1): (240, 220, 20)}


def tile_xy(lat: float, lon: float, z: int) -> tuple[int, int]:
    n = 1 << z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def tile_centre(x: float, y: float, z: int) -> tuple[float, float]:
    n = 1 << z
    lon = x / n * 360 - 180
    lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y / n))))
    return lat, lon


def png(rgb: tuple[int, int, int]) -> bytes:
    import cv2
    import numpy as np

    img = np.zeros((256, 256, 3), np.uint8)
    img[:] = rgb[::-1]
    ok, buf = cv2.imencode(".png", img)
    assert ok
    return buf.tobytes()


def make_mbtiles(path: Path) -> tuple[int, int]:
    """Four PNG tiles (2x2) at zoom Z from the tile holding (LAT, LON), stored with TMS rows."""
    x0, y0 = tile_xy(LAT, LON, Z)
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
    db.execute("CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB)")
    db.executemany("INSERT INTO metadata VALUES (?, ?)", [("name", "test"), ("format", "png")])
    for (dx, dy), rgb in COLOURS.items():
        db.execute("INSERT INTO tiles VALUES (?, ?, ?, ?)", (Z, x0 + dx, (1 << Z) - 1 - (y0 + dy), png(rgb)))
    db.commit()
    db.close()
    return x0, y0


def _pixel(view, lat: float, lon: float) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    img = view.viewport().grab().toImage()
    p = view.screen_pos(lat, lon).toPoint()
    c = img.pixelColor(p.x(), p.y())
    return c.red(), c.green(), c.blue()


def _near(a: tuple[int, int, int], b: tuple[int, int, int]) -> bool:
    return max(abs(i - j) for i, j in zip(a, b, strict=True)) <= 12


def test_mbtiles_tiles_show_at_their_coordinates(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from console.mapview import MapView
    from console.tilesets import spec_for

    f = tmp_path / "city.mbtiles"
    x0, y0 = make_mbtiles(f)
    assert validate_tileset(f).tiles == 4
    assert MBTilesSource(f).tile(Z, x0, y0) == png(COLOURS[(0, 0)])  # XYZ numbering in, TMS row read
    view = MapView(layers=[spec_for(f)])
    qtbot.addWidget(view)
    view.resize(900, 700)
    view.show()
    mid_lat, mid_lon = tile_centre(x0 + 1, y0 + 1, Z)  # the corner the four tiles share
    view.center_on(mid_lat, mid_lon)
    view.set_zoom(2 * math.pi * 6378137.0 / (256 << Z))  # one tile pixel per screen pixel at zoom Z
    qtbot.waitUntil(lambda: view.tiles.tile_count() == 4, timeout=5000)
    for (dx, dy), rgb in COLOURS.items():
        lat, lon = tile_centre(x0 + dx + 0.5, y0 + dy + 0.5, Z)
        qtbot.waitUntil(lambda lat=lat, lon=lon, rgb=rgb: _near(_pixel(view, lat, lon), rgb), timeout=3000)
    got = _pixel(view, LAT, LON)  # the known coordinate lies in the first tile
    assert _near(got, COLOURS[(0, 0)]), got
    assert view.rect().contains(view.scale_widget.geometry()) and view.scale_widget.label.endswith(" m")

    view.set_layer(None)  # the plain grid: the tiles hide
    qtbot.waitUntil(lambda: not _near(_pixel(view, LAT, LON), COLOURS[(0, 0)]), timeout=3000)
    view.tiles.stop()


def test_xyz_folder_and_layer_switch(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from console.mapview import MapView
    from console.tilesets import spec_for

    x0, y0 = tile_xy(LAT, LON, Z)
    root = tmp_path / "xyz"
    (root / str(Z) / str(x0)).mkdir(parents=True)
    (root / str(Z) / str(x0) / f"{y0}.png").write_bytes(png((250, 0, 250)))
    f = tmp_path / "city.mbtiles"
    make_mbtiles(f)
    view = MapView(layers=[spec_for(f), spec_for(root)])
    qtbot.addWidget(view)
    view.resize(600, 400)
    view.show()
    assert view.layer_names() == ["city", "xyz"]
    view.center_on(LAT, LON)
    view.set_zoom(2 * math.pi * 6378137.0 / (256 << Z))
    qtbot.waitUntil(lambda: _near(_pixel(view, LAT, LON), COLOURS[(0, 0)]), timeout=5000)
    view.set_layer("xyz")
    qtbot.waitUntil(lambda: _near(_pixel(view, LAT, LON), (250, 0, 250)), timeout=5000)
    view.tiles.stop()


def test_broken_tilesets_are_one_clear_line(tmp_path: Path) -> None:
    junk = tmp_path / "junk.mbtiles"
    junk.write_bytes(b"not sqlite at all" * 10)
    with pytest.raises(TilesetError, match="not an MBTiles file") as e:
        validate_tileset(junk)
    assert "\n" not in str(e.value)
    empty = tmp_path / "empty.mbtiles"
    db = sqlite3.connect(empty)
    db.execute("CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB)")
    db.commit()
    db.close()
    with pytest.raises(TilesetError, match="empty"):
        validate_tileset(empty)
    with pytest.raises(TilesetError, match="no such file"):
        validate_tileset(tmp_path / "missing.mbtiles")
    (tmp_path / "dir").mkdir()
    with pytest.raises(TilesetError, match="no tiles found"):
        validate_tileset(tmp_path / "dir")


def test_fixed_camera_cone_and_drone_camera_wedge_point_where_they_look(qtbot) -> None:  # type: ignore[no-untyped-def]
    import dataclasses

    from console.mapview import MapView, from_scene
    from console.services import MapCamera
    from flight.types import VehicleState

    view = MapView(cameras=[MapCamera("gate", LAT, LON, heading_deg=90.0, hfov_deg=60.0, range_m=60.0)])
    qtbot.addWidget(view)
    cone = [from_scene(p) for p in view.cameras[0].cone.polygon()]
    assert cone[0] == pytest.approx((LAT, LON), abs=1e-7)  # apex at the camera
    far = cone[1 + (len(cone) - 1) // 2]  # the arc's middle: 60 m due east
    assert far[0] == pytest.approx(LAT, abs=1e-6) and (far[1] - LON) * 111_320 * math.cos(math.radians(LAT)) == \
        pytest.approx(60.0, abs=0.5)  # fmt: skip
    drone = VehicleState(sysid=1, lat_deg=LAT, lon_deg=LON, alt_rel_m=30.0, heading_deg=0.0, gimbal_pitch_deg=-45.0,
                         gimbal_yaw_deg=180.0, link_ok=True)  # fmt: skip
    view.set_vehicle(drone)
    ground = view.footprint(1)
    assert len(ground) == 4 and all(la < LAT for la, _lo in ground)  # looking back (south), 45° down
    south_m = sorted((LAT - la) * 111_320 for la, _lo in ground)
    # 70° x 43° camera 45° down from 30 m: image rows 66.5° and 23.5° below the horizon
    assert south_m[0] == pytest.approx(30 / math.tan(math.radians(66.5)), abs=1.0)
    assert south_m[-1] == pytest.approx(30 / math.tan(math.radians(23.5)), abs=2.0)
    view.set_vehicle(dataclasses.replace(drone, alt_rel_m=0.0))
    assert view.footprint(1) == []  # on the ground: no footprint
    view.tiles.stop()


def test_ruler_reads_distance_and_bearing_and_the_cursor_its_coordinates(qtbot) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    from console.map_tools import bearing_deg, distance_m
    from console.mapview import MapView

    assert distance_m(52.0, 21.0, 53.0, 21.0) == pytest.approx(111_195, rel=1e-4)  # 1° of latitude, mean sphere
    assert distance_m(0.0, 0.0, 0.0, 1.0) == pytest.approx(111_195, rel=1e-4)  # 1° of longitude at the equator
    assert bearing_deg(0.0, 0.0, 0.0, 1.0) == pytest.approx(90.0)
    assert bearing_deg(52.0, 21.0, 51.0, 21.0) == pytest.approx(180.0)
    view = MapView()
    qtbot.addWidget(view)
    view.resize(800, 600)
    view.show()
    view.center_on(LAT, LON)
    view.set_zoom(0.5)
    view.start_measure(LAT, LON)
    north = LAT + 200 / 111_195  # 200 m due north
    p = view.screen_pos(north, LON)
    move = QMouseEvent(QMouseEvent.Type.MouseMove, p, view.viewport().mapToGlobal(p), Qt.MouseButton.NoButton,
                       Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)  # fmt: skip
    QApplication.sendEvent(view.viewport(), move)
    assert view.ruler.reading.startswith(("199", "200", "201")) and view.ruler.reading.endswith(("000.0°", "360.0°"))
    text = view.readout.text()
    lat_text, lon_text = text.split()[:2]
    assert float(lat_text.rstrip("°N")) == pytest.approx(north, abs=1e-5) and lon_text.endswith("°E")
    assert float(lon_text.rstrip("°E")) == pytest.approx(LON, abs=1e-5) and view.ruler.reading in text
    assert view.rect().contains(view.readout.geometry())
    view.tiles.stop()


def test_url_layer_reads_its_disk_cache_and_gives_up_quietly_offline(tmp_path: Path) -> None:
    """No network: the template points at a closed port on this machine (connection refused at once)."""
    from console.tilesets import UrlTileSource

    src = UrlTileSource("http://127.0.0.1:9/{z}/{x}/{y}.png", tmp_path / "cache", timeout_s=2.0)
    cached = tmp_path / "cache" / "16" / "100" / "200.tile"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(png((1, 2, 3)))
    assert src.tile(16, 100, 200) == png((1, 2, 3))  # from the cache, nothing fetched
    assert src.tile(16, 100, 201) is None  # not cached, fetch refused: the map shows its grid there
    assert not (tmp_path / "cache" / "16" / "100" / "201.tile").exists()


def test_tiles_decode_off_the_gui_thread_without_qt() -> None:
    import cv2
    import numpy as np

    from console.map_tiles import decode_rgba

    colour = np.full((4, 4, 3), (10, 20, 30), np.uint8)  # BGR
    see_through = np.full((4, 4, 4), (10, 20, 30, 40), np.uint8)
    grey = np.full((4, 4), 7, np.uint8)
    got = [decode_rgba(cv2.imencode(".png", img)[1].tobytes())[0, 0].tolist() for img in (colour, see_through, grey)]
    assert got == [[30, 20, 10, 255], [30, 20, 10, 40], [7, 7, 7, 255]]
    assert decode_rgba(b"not an image") is None
