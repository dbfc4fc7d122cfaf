"""End to end: a configured camera (a real clip of people standing in a watch zone) goes through the
real detector, tracker and behaviour rules, and the loitering events land in the console's Events list."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest

from console.services import ConsoleServices
from lookout.config import parse_config

pytestmark = [pytest.mark.gui, pytest.mark.slow]

BUS = Path(cv2.__file__).parents[1] / "ultralytics" / "assets" / "bus.jpg"


class NoFleet:
    def snapshot(self) -> dict:
        return {}


def test_loitering_in_a_watch_zone_reaches_the_events_list(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from console.main_window import MainWindow
    from lookout.wiring import VisionWall

    img = cv2.imread(str(BUS))
    clip = tmp_path / "yard.mp4"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"mp4v"), 5.0, (img.shape[1], img.shape[0]))
    for _ in range(10):
        writer.write(img)
    writer.release()
    cfg = parse_config(
        f'[cameras.yard]\nurl = "{clip}"\nloop = true\nfps = 5\n'
        '[zones.pavement]\ncamera = "yard"\nkind = "watch"\nnormalized = true\n'
        "polygon = [[0, 0.5], [1, 0.5], [1, 1], [0, 1]]\n"
        "[rules.loitering]\ndwell_s = 1.0\n"
    )
    wall = VisionWall(cfg, tmp_path / "data", workers=1)
    wall.add_cameras(cfg.cameras)
    wall.start()
    try:
        win = MainWindow(ConsoleServices(fleet=NoFleet(), feeds=list(wall.feeds.values()), events=wall), poll_hz=20)
        qtbot.addWidget(win)
        win.show()
        qtbot.waitUntil(lambda: win.events_model.rowCount() >= 1, timeout=90_000)
        first = win.events_model.event_at(win.events_model.rowCount() - 1)
        assert first.kind == "loitering" and first.feed == "yard" and first.zone == "pavement"
        m = win.events_model
        row = [m.data(m.index(m.rowCount() - 1, c)) for c in range(5)]
        assert row[1:4] == ["yard", "Loitering", "low"] and "pavement" in row[4]
        assert "Loitering on yard" in win.statusBar().currentMessage()
    finally:
        wall.stop()
