"""dronekit (dronekit2) as a second, independent client: the same flight a tester would script."""

from __future__ import annotations

import math
import time

import pytest
from pymavlink.dialects.v20 import ardupilotmega as M

from tests.flight.sim.geohelp import ne_of, offset_deg

dronekit = pytest.importorskip("dronekit")

HOME = (52.2297, 21.0122, 100.0)
REL = M.MAV_FRAME_GLOBAL_RELATIVE_ALT


def _until(pred, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_dronekit_arm_takeoff_ten_item_auto_mission_rtl_land_disarm(fleet_factory):
    fleet = fleet_factory(speedup=10, params={"DISARM_DELAY": 30})  # 3 s wall to take off after arming
    sim = fleet.vehicles[0]
    sim.wait(lambda t: t.ekf_ok, 20)
    vehicle = dronekit.connect(sim.url, wait_ready=True, timeout=30, heartbeat_timeout=15)
    try:
        assert vehicle.gps_0.fix_type == 3
        assert vehicle.parameters["WPNAV_SPEED"] == 1000
        cmds = vehicle.commands
        cmds.download()
        cmds.wait_ready()
        vehicle.mode = dronekit.VehicleMode("GUIDED")
        _until(lambda: vehicle.mode.name == "GUIDED", 10, "GUIDED")
        vehicle.armed = True
        _until(lambda: vehicle.armed, 10, "armed")
        vehicle.simple_takeoff(20)
        _until(lambda: vehicle.location.global_relative_frame.alt > 19.0, 30, "20 m")

        Command = dronekit.Command
        lat, lon = HOME[0], HOME[1]
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
        cmds.upload(timeout=20)
        assert sim.truth().mission_count == 11  # home + 10
        vehicle.mode = dronekit.VehicleMode("AUTO")
        _until(lambda: vehicle.commands.next == 10, 60, "last waypoint")
        t = sim.truth()
        assert t.camera_triggers == 1 and t.gimbal_pitch_deg == -60
        vehicle.mode = dronekit.VehicleMode("RTL")
        _until(lambda: not vehicle.armed, 60, "landed and disarmed")
        t = sim.truth()
        n, e = ne_of(HOME[0], HOME[1], t.lat_deg, t.lon_deg)
        assert t.landed and math.hypot(n, e) < 1.0 and t.mode == "RTL"
        assert t.distance_flown_m > 250
    finally:
        vehicle.close()
