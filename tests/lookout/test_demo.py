"""The demo's wiring end to end: simulator -> flight links -> console, and console -> vehicle."""

from __future__ import annotations

from pathlib import Path

import pytest

from lookout.audit import AuditLog, verify
from lookout.config import parse_config
from lookout.demo import demo_plans, start_demo

pytestmark = [pytest.mark.gui, pytest.mark.slow]


def test_demo_plans_are_valid_patrols() -> None:
    plans = demo_plans(52.2297, 21.0122)
    assert set(plans) == {1, 2}
    for plan in plans.values():
        cmds = [i.command for i in plan.mission.items]
        assert cmds[0] == 22  # NAV_TAKEOFF first
        assert 177 in cmds  # DO_JUMP: the patrol repeats
        assert cmds[-1] in (20, 21)  # ends with RTL or LAND


def test_demo_flies_patrols_and_obeys_the_console(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from console.main_window import MainWindow

    cfg = parse_config("[sim]\nspeedup = 10\n")
    audit = AuditLog(tmp_path / "audit.sqlite")
    demo = start_demo(cfg, tmp_path, vehicles=3, speedup=10.0, video=False, audit=audit.append)
    try:
        win = MainWindow(demo.services)
        qtbot.addWidget(win)
        qtbot.waitUntil(lambda: win.fleet_model.rowCount() == 3, timeout=15000)
        # drones 1 and 2 fly their planned patrols by themselves
        snap = demo.services.fleet.snapshot
        qtbot.waitUntil(lambda: snap()[1].mode == "AUTO" and snap()[2].mode == "AUTO", timeout=60000)
        qtbot.waitUntil(lambda: (snap()[1].alt_rel_m or 0) > 20, timeout=30000)
        # drone 3 waits on the pad for the pilot: take off from the console
        win.select_vehicle(3)
        win.alt_spin.setValue(15)
        win.buttons["Take off"].click()  # the pre-flight checklist, read from the drone, for the pilot to confirm
        qtbot.waitUntil(lambda: win.commander.dialog is not None, timeout=15000)
        assert win.commander.dialog.passed, win.commander.dialog.reason.text()
        with qtbot.waitSignal(win.signals.done, timeout=30000):
            win.commander.dialog.confirm_button.click()
        truth = demo.sim.vehicles[2].truth
        qtbot.waitUntil(lambda: truth().armed and truth().alt_amsl_m - truth().home_alt_amsl_m > 10, timeout=30000)
        qtbot.waitUntil(lambda: win.map.has_mission_path(1), timeout=15000)
        win.close()
    finally:
        demo.close()
    assert any(p.suffix == ".tlog" and p.stat().st_size > 0 for p in (tmp_path / "tlogs").iterdir())
    entries = audit.entries()
    audit.close()
    assert [(e.action, e.subject, e.detail["outcome"]) for e in entries] == [("flight.takeoff", "vehicle 3", "ok")]
    assert verify(tmp_path / "audit.sqlite").ok
