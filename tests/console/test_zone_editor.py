"""console.zone_editor on a real video tile, saving through lookout.config_edit into a real config file.

A water zone is drawn with mouse clicks on the tile; the saved file keeps its comments, a backup is
kept, and the running feed pipeline picks the zone up (``FeedPipeline.set_zones``): water entry fires
when a person's foot point enters it, on a real clip from the shared footage (skipped when absent)
and on tracked foot points that always run. A bad edit (edges that cross) changes nothing and says why.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from console.services import FeedFrame
from console.video import VideoTile
from console.zone_editor import ZoneOverlay
from lookout.config import load_config
from lookout.config_edit import ConfigZones
from lookout.paths import footage_dir
from vision.bus import InProcessBus
from vision.messages import EventMessage
from vision.pipeline import FeedPipeline, FrameInfo, Pipeline
from vision.types import Detections
from vision.zones import zones_for_camera

T0 = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
CLIP = "nofight/dev_nofi036_shopfront_pedestrians_parked_cars.mp4"
CONFIG = """# site config: comments must survive the editor
[cameras.gate]
url = "rtsp://10.0.0.5/stream1"  # the gate camera

[zones.door]  # drawn by hand
camera = "gate"
kind = "restricted"
polygon = [[10, 10], [60, 10], [60, 60]]

# rules below
[rules]
cooldown_s = 0
"""


class Feed:
    def __init__(self, image: np.ndarray) -> None:
        self.name = "gate"
        self.image = image

    def latest(self) -> FeedFrame:
        return FeedFrame(self.image, "test", 0.0)

    def status(self) -> str:
        return "ok"


def _frame() -> np.ndarray:
    root = footage_dir()
    if root is not None and (root / CLIP).is_file():
        cap = cv2.VideoCapture(str(root / CLIP))
        ok, img = cap.read()
        cap.release()
        if ok:
            return img
    img = np.full((360, 640, 3), 90, np.uint8)
    cv2.rectangle(img, (0, 200), (640, 360), (140, 100, 40), -1)
    return img


@pytest.fixture
def tile(qtbot):  # type: ignore[no-untyped-def]
    t = VideoTile(Feed(_frame()))
    qtbot.addWidget(t)
    t.resize(640, 400)
    t.show()
    t.poll()
    qtbot.waitUntil(lambda: t.frame_size() is not None, timeout=3000)
    return t


def _click(qtbot, overlay: ZoneOverlay, x: float, y: float, button=Qt.MouseButton.LeftButton) -> None:  # type: ignore[no-untyped-def]
    p = overlay.to_widget(x, y)
    qtbot.mouseClick(overlay, button, Qt.KeyboardModifier.NoModifier, QPoint(round(p.x()), round(p.y())))


def _draw_water(qtbot, tile: VideoTile, store: ConfigZones, pts: list[tuple[float, float]]) -> ZoneOverlay:  # type: ignore[no-untyped-def]
    tile.zone_store = store
    overlay = tile.edit_zones()
    assert isinstance(overlay, ZoneOverlay)
    assert [z.name for z in overlay.zones] == ["door"]  # the saved zone shows
    overlay.kind_box.setCurrentText("water")
    overlay.name_edit.setText("pond")
    for x, y in pts:
        _click(qtbot, overlay, x, y)
    _click(qtbot, overlay, *pts[0])  # the first point again closes it
    assert [z.name for z in overlay.zones] == ["door", "pond"] and overlay.zones[1].kind == "water"
    return overlay


def _water_poly(w: int, h: int) -> list[tuple[float, float]]:
    return [(0.02 * w, 0.35 * h), (0.98 * w, 0.35 * h), (0.98 * w, 0.98 * h), (0.02 * w, 0.98 * h)]


def test_a_water_zone_drawn_on_a_tile_is_saved_and_fires_water_entry(qtbot, tile: VideoTile, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "lookout.toml"
    path.write_text(CONFIG)
    cfg0 = load_config(path)
    with InProcessBus() as bus:
        got: list[EventMessage] = []
        bus.subscribe("lookout/events", lambda t, m: got.append(m))
        fp = Pipeline(bus, rules=cfg0.rules).add_feed("gate", zones=zones_for_camera(cfg0.zones, "gate", 640, 360))
        store = ConfigZones(path, on_saved=lambda z: fp.set_zones(lambda w, h: zones_for_camera(z, "gate", w, h)))
        w, h = tile.frame_size()  # type: ignore[misc]
        overlay = _draw_water(qtbot, tile, store, _water_poly(w, h))
        # drag a vertex and delete one with a right-click: still a valid zone
        overlay.zones[1].points.append((0.5 * w, 0.99 * h))
        _click(qtbot, overlay, 0.5 * w, 0.99 * h, Qt.MouseButton.RightButton)
        assert len(overlay.zones[1].points) == 4
        a = overlay.to_widget(*overlay.zones[1].points[0])
        b = overlay.to_widget(0.02 * w, 0.30 * h)
        qtbot.mousePress(overlay, Qt.MouseButton.LeftButton, pos=QPoint(round(a.x()), round(a.y())))
        qtbot.mouseMove(overlay, QPoint(round(b.x()), round(b.y())))
        qtbot.mouseRelease(overlay, Qt.MouseButton.LeftButton, pos=QPoint(round(b.x()), round(b.y())))
        assert overlay.zones[1].points[0][1] == pytest.approx(0.30 * h, abs=2)
        assert overlay.save(), overlay.status.text()

        text = path.read_text()
        assert "# site config: comments must survive the editor" in text and "# rules below" in text
        assert '# the gate camera' in text and (tmp_path / "lookout.toml.bak").read_text() == CONFIG
        pond = load_config(path).zones["pond"]
        assert pond.kind == "water" and pond.camera == "gate" and pond.normalized
        assert load_config(path).zones["door"].polygon == [(10, 10), (60, 10), (60, 60)]  # untouched, pixels

        # the running pipeline uses the new zone: a foot point walks from above the zone into it
        def det(y: float) -> Detections:
            box = np.array([[0.5 * w - 20, y - 90, 0.5 * w + 20, y]], np.float32)
            return Detections(box, np.array([0.9], np.float32), np.zeros(1, np.int32), np.array([3], np.int64))

        for k in range(25):  # 10 fps: 0.5 s above the zone, then 2 s inside
            fp.process(FrameInfo("gate", k, T0 + timedelta(seconds=k / 10), w, h), det(0.2 * h if k < 5 else 0.7 * h))
        assert bus.flush()
    assert [m.event.kind for m in got] == ["water_entry"] and got[0].event.zone == "pond"


def test_the_drawn_zone_fires_water_entry_on_a_real_clip(qtbot, tile: VideoTile, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = footage_dir()
    if root is None or not (root / CLIP).is_file():
        pytest.skip(f"no shared footage clip {CLIP} (../shared/footage or LOOKOUT_FOOTAGE)")
    from lookout.models import packaged_pose_weights
    from vision.detect import build_detector
    from vision.detect.ultralytics_pose import PoseDetectorConfig
    from vision.track import Tracker

    path = tmp_path / "lookout.toml"
    path.write_text(CONFIG)
    cfg = load_config(path)
    runs: dict[str, FeedPipeline] = {}
    with InProcessBus() as bus:
        got: list[EventMessage] = []
        bus.subscribe("lookout/events", lambda t, m: got.append(m))
        pipe = Pipeline(bus, rules=cfg.rules)
        runs["before"] = pipe.add_feed("before", zones=lambda w, h: zones_for_camera(cfg.zones, "gate", w, h))
        runs["after"] = fp = pipe.add_feed("after", zones=lambda w, h: zones_for_camera(cfg.zones, "gate", w, h))
        store = ConfigZones(path, on_saved=lambda z: fp.set_zones(lambda w, h: zones_for_camera(z, "gate", w, h)))
        w, h = tile.frame_size()  # type: ignore[misc]
        assert _draw_water(qtbot, tile, store, _water_poly(w, h)).save()
        detector = build_detector(PoseDetectorConfig(imgsz=416), packaged_pose_weights(),
                                  cache_dir=Path.home() / ".local/share/lookout/models")  # fmt: skip
        cap = cv2.VideoCapture(str(root / CLIP))
        fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
        trackers = {name: Tracker("bytetrack") for name in runs}
        k = 0
        while True:
            ok, img = cap.read()
            if not ok:
                break
            if k % 3 == 0:  # about 8 analysed frames a second
                raw = detector.detect([img])[0]
                for name, run in runs.items():
                    at = FrameInfo(name, k, T0 + timedelta(seconds=k / fps), w, h)
                    run.process(at, trackers[name].update(raw))
            k += 1
        cap.release()
        assert bus.flush()
    fired = [(m.event.feed, m.event.kind, m.event.zone) for m in got if m.event.kind == "water_entry"]
    assert fired and all(f == ("after", "water_entry", "pond") for f in fired)


def test_a_bad_edit_changes_nothing_and_says_why(qtbot, tile: VideoTile, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "lookout.toml"
    path.write_text(CONFIG)
    saved: list[object] = []
    store = ConfigZones(path, on_saved=saved.append)
    w, h = tile.frame_size()  # type: ignore[misc]
    bow = [(0.1 * w, 0.4 * h), (0.9 * w, 0.9 * h), (0.9 * w, 0.4 * h), (0.1 * w, 0.9 * h)]  # edges cross
    overlay = _draw_water(qtbot, tile, store, bow)
    assert not overlay.save()
    assert "edges cross" in overlay.status.text() and "nothing saved" in overlay.status.text()
    assert path.read_text() == CONFIG and not (tmp_path / "lookout.toml.bak").exists() and not saved
    overlay.selected = 1
    overlay.delete_selected()  # delete the bad zone, then the saved one: a valid edit
    overlay.selected = 0
    overlay.delete_selected()
    assert overlay.save(), overlay.status.text()
    assert load_config(path).zones == {} and "[rules]" in path.read_text() and saved == [{}]
