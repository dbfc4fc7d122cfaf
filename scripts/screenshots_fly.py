"""Fly-view pictures for ``scripts/screenshots``: the real window over ``lookout demo`` (3 drones, video).

1. ``preflight-checklist.png``: drone 3 waits on the pad; Take off opens the pre-flight checklist read
   from the drone (link, GPS, EKF, battery, pre-arm, fence, plan), which the pilot confirms.
2. ``fly-three-drones.png``: all three drones selected (halos), each in its colour with trail, mission
   and camera footprint; the street camera's view cone; the scale bar and cursor coordinates.
3. ``video-wall-detections.png``: the video wall once the street camera shows detected people, the
   selected drone's gimbal camera first.

Run by ``scripts/screenshots`` (``--fly-only`` for just these), under Xvfb.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any


def save(widget: Any, out: Path, name: str) -> None:
    """Grab ``widget`` (a top-level window from the X screen, as drawn) into ``out/name``, a small palette PNG."""
    import os

    from PIL import Image

    pix = None
    if widget.isWindow():
        pix = widget.screen().grabWindow(0, widget.x(), widget.y(), widget.frameGeometry().width(),
                                         widget.frameGeometry().height())  # fmt: skip
    if pix is None or pix.isNull() or pix.width() < 100:
        pix = widget.grab()
    path = out / name
    tmp = path.with_suffix(".tmp.png")
    pix.save(str(tmp), "PNG", 0)
    with Image.open(tmp) as img:
        img.convert("RGB").quantize(256, dither=Image.Dither.NONE).save(path.with_suffix(".q.png"), optimize=True)
    os.replace(path.with_suffix(".q.png"), path)
    tmp.unlink()
    print(f"saved {path} ({path.stat().st_size // 1024} KB, {pix.width()}x{pix.height()})", flush=True)


def fly_shots(out: Path, wait_s: float = 240.0) -> int:
    """Take the three pictures into ``out``. Returns 0 when all were taken."""
    from console.app import run as run_console
    from lookout.context import Context
    from lookout.demo import STREET_FEED, start_demo

    out.mkdir(parents=True, exist_ok=True)
    ctx = Context(None, Path(tempfile.mkdtemp(prefix="lookout-fly-shots-")))
    cfg = ctx.config
    demo = start_demo(cfg, ctx.data_dir, vehicles=3, speedup=cfg.sim.speedup, video=True, audit=ctx.audit().append)
    taken: list[str] = []
    t0 = time.monotonic()

    def on_window(win: Any) -> None:
        from PySide6.QtCore import QItemSelection, QItemSelectionModel, QPoint, Qt, QTimer
        from PySide6.QtGui import QMouseEvent
        from PySide6.QtWidgets import QApplication, QDockWidget

        win.resize(1600, 1000)
        win.move(0, 0)
        for dock in win.findChildren(QDockWidget):
            if dock.objectName() not in ("Fleet", "Video wall"):
                dock.hide()  # the fly view: map, fleet, video
        wall_dock = win.findChild(QDockWidget, "Video wall")
        if wall_dock is not None:
            win.resizeDocks([wall_dock], [520], Qt.Orientation.Horizontal)
        snap = demo.services.fleet.snapshot
        state: dict[str, Any] = {"step": "wait"}

        def select_rows(rows: list[int]) -> None:
            sel = QItemSelection()
            model = win.fleet_model
            for r in rows:
                sel.select(model.index(r, 0), model.index(r, model.columnCount() - 1))
            win.table.selectionModel().select(sel, QItemSelectionModel.SelectionFlag.ClearAndSelect)

        def row_of(sysid: int) -> int:
            return next(r for r in range(win.fleet_model.rowCount()) if win.fleet_model.sysid_at(r) == sysid)

        def street_people() -> bool:
            feed = next((t.feed for t in (win.wall.tiles if win.wall else []) if t.feed.name == STREET_FEED), None)
            frame = feed.latest() if feed is not None else None
            return frame is not None and "· 0 people" not in frame.caption and "people" in frame.caption

        def app_pump() -> None:
            deadline = time.monotonic() + 0.5
            while time.monotonic() < deadline:
                QApplication.processEvents()
                time.sleep(0.02)

        def step() -> None:
            elapsed = time.monotonic() - t0
            s = snap()
            if elapsed > wait_s:
                print(f"screenshots_fly: gave up at step {state['step']} after {elapsed:.0f} s", flush=True)
                win.close()
                return
            if state["step"] == "wait":
                flying = [i for i in (1, 2) if i in s and s[i].mode == "AUTO" and (s[i].alt_rel_m or 0) > 20]
                if len(flying) == 2 and 3 in s and s[3].ekf_ok and s[3].gps_fix >= 3 and elapsed > 20:
                    select_rows([row_of(3)])
                    win.alt_spin.setValue(25)
                    win.buttons["Take off"].click()
                    state.update(step="checklist", at=elapsed)
            elif state["step"] == "checklist":
                dialog = win.commander.dialog
                if dialog is not None and dialog.isVisible() and elapsed - state["at"] > 1.0:
                    save(dialog, out, "preflight-checklist.png")
                    taken.append("preflight")
                    dialog.confirm_button.click()
                    state.update(step="climb", at=elapsed)
            elif state["step"] == "climb":
                if (s[3].alt_rel_m or 0) > 15:
                    win.map.fit_vehicles(missions=True, margin_px=30)
                    win.map.start_measure(*_offset_home(s[1], 0.0, 0.0))
                    target = win.map.screen_pos(*_offset_home(s[1], 150.0, 260.0)).toPoint()
                    vp = win.map.viewport()
                    move = QMouseEvent(QMouseEvent.Type.MouseMove, target, vp.mapToGlobal(target),
                                       Qt.MouseButton.NoButton, Qt.MouseButton.NoButton,
                                       Qt.KeyboardModifier.NoModifier)  # fmt: skip
                    QApplication.sendEvent(vp, move)
                    win.map.ruler.finish()
                    select_rows([row_of(1), row_of(2), row_of(3)])
                    state.update(step="fly", at=elapsed)
            elif state["step"] == "fly" and elapsed - state["at"] > 12.0:
                vp = win.map.viewport()
                p = QPoint(vp.width() - 300, 80)
                QApplication.sendEvent(vp, QMouseEvent(QMouseEvent.Type.MouseMove, p, vp.mapToGlobal(p),
                                                       Qt.MouseButton.NoButton, Qt.MouseButton.NoButton,
                                                       Qt.KeyboardModifier.NoModifier))  # fmt: skip
                win.map.fit_vehicles(missions=True, margin_px=30)  # again: an alert may have moved the map
                app_pump()
                save(win, out, "fly-three-drones.png")
                taken.append("fly")
                select_rows([row_of(1)])  # the drone's camera tile comes first
                if wall_dock is not None and win.wall is not None:
                    win.resizeDocks([wall_dock], [1100], Qt.Orientation.Horizontal)
                    win.wall.setFixedHeight(330)  # two 16:9 tiles side by side, no black bars
                state.update(step="video", at=elapsed)
            elif state["step"] == "video" and street_people() and elapsed - state["at"] > 3.0:
                save(win.wall, out, "video-wall-detections.png")
                taken.append("video")
                win.close()
                return
            QTimer.singleShot(400, step)

        QTimer.singleShot(400, step)

    try:
        run_console(demo.services, on_window=on_window)
    finally:
        demo.close()
    return 0 if len(taken) == 3 else 1


def _offset_home(st: Any, north_m: float, east_m: float) -> tuple[float, float]:
    from missions.geo import LocalFrame

    lat, lon = LocalFrame(st.home_lat_deg, st.home_lon_deg).point_to_geo(east_m, north_m)
    return lat, lon
