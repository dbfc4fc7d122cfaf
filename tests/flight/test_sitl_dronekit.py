"""dronekit (dronekit2) scripts fly real ArduCopter SITL as they fly the embedded simulator
(tests/flight/sim/test_sim_dronekit.py): the same script, checked through dronekit's own view.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from pymavlink.dialects.v20 import ardupilotmega as M

from missions import haversine_m
from tests.flight.sim.geohelp import offset_deg
from tests.sitl_harness import CMAC, SitlOptions, running_sitl

dronekit = pytest.importorskip("dronekit")
pytestmark = pytest.mark.sitl
REL = M.MAV_FRAME_GLOBAL_RELATIVE_ALT


def _until(pred, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    """dronekit has no change notification we can wait on here: poll its attributes (like its docs do)."""
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_dronekit_arm_takeoff_ten_item_auto_mission_rtl_land_disarm(tmp_path: Path) -> None:
    opts = SitlOptions(params={"DISARM_DELAY": 30})  # 3 s of wall time at speedup 10 to take off after arming
    with running_sitl(tmp_path / "sitl", opts) as sitl:
        vehicle = dronekit.connect(sitl.url, wait_ready=True, timeout=60, heartbeat_timeout=30)
        try:
            assert vehicle.parameters["WPNAV_SPEED"] > 0
            _until(lambda: vehicle.is_armable and vehicle.gps_0.fix_type >= 3, 120, "armable (GPS, EKF)")
            cmds = vehicle.commands
            cmds.download()
            cmds.wait_ready()
            vehicle.mode = dronekit.VehicleMode("GUIDED")
            _until(lambda: vehicle.mode.name == "GUIDED", 10, "GUIDED")
            vehicle.armed = True
            _until(lambda: vehicle.armed, 10, "armed")
            vehicle.simple_takeoff(20)
            _until(lambda: vehicle.location.global_relative_frame.alt > 19.0, 60, "20 m")

            Command = dronekit.Command
            lat, lon = CMAC.lat_deg, CMAC.lon_deg
            pts = [offset_deg(lat, lon, n, e) for n, e in ((60, 0), (60, 60), (0, 60), (-40, 30))]
            cmds.clear()
            items = [
                Command(0, 0, 0, REL, M.MAV_CMD_NAV_TAKEOFF, 0, 0, 0, 0, 0, 0, 0, 0, 20),
                Command(0, 0, 0, REL, M.MAV_CMD_DO_CHANGE_SPEED, 0, 0, 1, 8, -1, 0, 0, 0, 0),
                Command(0, 0, 0, REL, M.MAV_CMD_NAV_WAYPOINT, 0, 0, 0, 0, 0, 0, *pts[0], 20),
                Command(0, 0, 0, REL, M.MAV_CMD_DO_SET_ROI, 0, 0, 0, 0, 0, 0, lat, lon, 0),
                Command(0, 0, 0, REL, M.MAV_CMD_NAV_WAYPOINT, 0, 0, 1, 0, 0, 0, *pts[1], 25),
                Command(0, 0, 0, REL, M.MAV_CMD_DO_DIGICAM_CONTROL, 0, 0, 0, 0, 0, 0, 1, 0, 0),
                Command(0, 0, 0, REL, M.MAV_CMD_NAV_LOITER_TIME, 0, 0, 3, 0, 0, 0, *pts[2], 20),
                Command(0, 0, 0, REL, M.MAV_CMD_DO_MOUNT_CONTROL, 0, 0, -60, 0, 0, 0, 0, 0, 0),
                Command(0, 0, 0, REL, M.MAV_CMD_NAV_WAYPOINT, 0, 0, 0, 0, 0, 0, *pts[3], 20),
                Command(0, 0, 0, REL, M.MAV_CMD_NAV_WAYPOINT, 0, 0, 0, 0, 0, 0, lat, lon, 20),
            ]
            for c in items:
                cmds.add(c)
            cmds.upload(timeout=30)
            cmds.download()
            cmds.wait_ready()
            assert cmds.count == 10
            assert [c.command for c in cmds] == [c.command for c in items]
            vehicle.mode = dronekit.VehicleMode("AUTO")
            _until(lambda: vehicle.commands.next == 10, 120, "last waypoint")
            vehicle.mode = dronekit.VehicleMode("RTL")
            _until(lambda: not vehicle.armed, 120, "landed and disarmed")
            here = vehicle.location.global_frame
            assert haversine_m(here.lat, here.lon, lat, lon) < 5
            assert vehicle.mode.name == "RTL"
        finally:
            vehicle.close()
