#!/usr/bin/env python3
"""Screenshots of the dispatch loop in `lookout demo` under Xvfb (the dispatch half of scripts/screenshots).

    python scripts/screenshots_dispatch.py [--out docs/screenshots] [--wait-s 240]
    (or from scripts/screenshots: ``dispatch_shots(out)``)

A real street-camera alert is confirmed, the recommended demo unit assigned, a drone sent:
- demo-dispatch.png: the Dispatch panel (clock, units by ETA vs the deadline, sinks), the units and
  response areas on the map, the local dispatch desk's received messages;
- demo-dispatch-drone.png: a few seconds later, the drone on its way, its video tile first and framed;
- demo-dispatch-refused.png: "Send drone" for a second alert refused with each drone's reason.
Without a display it re-runs itself under `xvfb-run -a -s "-screen 0 1600x1000x24"`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    ap.add_argument("--wait-s", type=float, default=240.0, help="give up when no alert came by then")
    ap.add_argument("--fly-s", type=float, default=30.0, help="let the drones fly at least this long first")
    args = ap.parse_args()
    if not os.environ.get("DISPLAY"):
        xvfb = shutil.which("xvfb-run")
        if xvfb is None:
            print("scripts/screenshots_dispatch: no DISPLAY and no xvfb-run (apt-get install xvfb)", file=sys.stderr)
            return 1
        return subprocess.call([xvfb, "-a", "-s", "-screen 0 1600x1000x24", sys.executable, *sys.argv])
    return dispatch_shots(args.out, wait_s=args.wait_s, fly_s=args.fly_s)


def dispatch_shots(out: Path, *, wait_s: float = 240.0, fly_s: float = 30.0) -> int:
    """The dispatch pictures into ``out`` (needs a display); 0 when the loop completed."""
    args = argparse.Namespace(out=out, wait_s=wait_s, fly_s=fly_s)
    from console.app import run as run_console
    from lookout.context import Context
    from lookout.demo import STREET_FEED, start_demo
    from lookout.logsetup import setup_logging

    data_dir = Path(tempfile.mkdtemp(prefix="lookout-dispatch-shots-"))
    ctx = Context(None, data_dir)
    cfg = ctx.config
    setup_logging("INFO", ctx.data_dir / "logs", cfg.logging.file_level)
    args.out.mkdir(parents=True, exist_ok=True)
    demo = start_demo(cfg, ctx.data_dir, vehicles=cfg.sim.vehicles, speedup=cfg.sim.speedup, video=True,
                      audit=ctx.audit().append)  # fmt: skip
    result = {"rc": 1}
    t0 = time.monotonic()

    def on_window(win) -> None:  # type: ignore[no-untyped-def]
        from PySide6.QtCore import QTimer

        win.resize(1600, 1000)
        win.move(0, 0)
        win.raise_()
        win.activateWindow()
        queue, dock = win.alert_queue, win.dispatch_dock
        state: dict[str, object] = {"step": "wait"}

        def grab(name: str) -> None:
            screen = win.screen()
            pix = screen.grabWindow(0, win.x(), win.y(), win.frameGeometry().width(), win.frameGeometry().height())
            if pix.isNull() or pix.width() < 100:
                pix = win.grab()
            path = args.out / name
            pix.save(str(path), "PNG", 0)
            small(path)
            print(f"saved {path} ({path.stat().st_size // 1024} KB)", flush=True)

        def street_alerts(st: str = "new") -> list:  # type: ignore[type-arg]
            out = []
            for row in range(queue.model.rowCount()):
                a = queue.model.alert_at(row)
                if a.feed == STREET_FEED and a.snapshot and a.position and a.state.value == st:
                    out.append(a)
            return out

        def step() -> None:
            elapsed = time.monotonic() - t0
            s, since = state["step"], elapsed - float(state.get("at", 0.0))  # type: ignore[arg-type]
            if s == "wait":
                new = street_alerts()
                if new and elapsed >= args.fly_s:
                    queue.select_alert(new[0].id)
                    queue.confirm(new[0].id)
                    state.update(step="assign", alert=new[0].id, at=elapsed)
                elif elapsed > args.wait_s:
                    print(f"no street-camera alert after {elapsed:.0f} s", file=sys.stderr)
                    win.close()
                    return
            elif s == "assign" and since > 1.5 and dock.panel.units.rowCount():
                dock.panel.assign_button.click()
                state.update(step="drone", at=elapsed)
            elif s == "drone" and since > 1.5:
                dock.panel.drone_button.click()
                state.update(step="shot1", at=elapsed)
            elif s == "shot1" and dock.last_sent is not None and dock.desk_list.count() >= 2 and since > 3:
                grab("demo-dispatch.png")
                state.update(step="shot2", at=elapsed)
            elif s == "shot2" and since > 8:
                win.map.center_on(*_between(demo, dock.last_sent.sysid, int(state["alert"])))  # type: ignore[arg-type]
                grab("demo-dispatch-drone.png")
                state.update(step="refuse", at=elapsed)
            elif s == "refuse":
                others = [a for a in street_alerts() if a.id != state["alert"]]
                if others or since > 60:
                    if others:
                        queue.select_alert(others[0].id)
                        queue.confirm(others[0].id)
                    good = demo.dispatching.desk.cfg  # every drone needs an RTK fix now: none qualifies
                    demo.dispatching.desk.cfg = good.model_copy(
                        update={"drone": good.drone.model_copy(update={"min_gps_fix": 6})})
                    state.update(step="refused", at=elapsed)
            elif s == "refused" and since > 1.5:
                dock.panel.drone_button.click()
                state.update(step="shot3", at=elapsed)
            elif s == "shot3" and since > 1.5:
                grab("demo-dispatch-refused.png")
                got = demo.receiver.received()
                print("dispatch desk received:", *[m.line() for m in got], sep="\n  ", flush=True)
                result["rc"] = 0 if got and dock.last_sent is not None else 1
                win.close()
                return
            QTimer.singleShot(250, step)

        QTimer.singleShot(500, step)

    try:
        run_console(demo.services, on_window=on_window)
    finally:
        demo.close()
    return result["rc"]


def _between(demo, sysid: int, alert_id: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """The middle of the drone and the alert (so both are in the picture)."""
    st = demo.services.fleet.snapshot()[sysid]
    a = demo.alerts.get(alert_id)
    return (st.lat_deg + a.position.lat_deg) / 2, (st.lon_deg + a.position.lon_deg) / 2


def small(path: Path) -> None:
    """Docs pictures stay small: a 256-colour palette PNG (Pillow), written to a temp name first."""
    from PIL import Image

    tmp = path.with_suffix(".tmp.png")
    with Image.open(path) as img:
        img.convert("RGB").quantize(256, dither=Image.Dither.NONE).save(tmp, optimize=True)
    os.replace(tmp, path)


if __name__ == "__main__":
    raise SystemExit(main())
