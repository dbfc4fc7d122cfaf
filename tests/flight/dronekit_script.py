"""The dronekit (dronekit2) script a tester would write, shared by the embedded-simulator test
(tests/flight/sim/test_sim_dronekit.py) and the real ArduCopter SITL test
(tests/flight/test_sitl_dronekit.py): both fly the same steps, each checks through its own view.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from pymavlink.dialects.v20 import ardupilotmega as M

from tests.flight.sim.geohelp import offset_deg

REL = M.MAV_FRAME_GLOBAL_RELATIVE_ALT


def until(pred: Callable[[], bool], timeout: float, what: str) -> None:
    """dronekit has no change notification we can wait on here: poll its attributes (like its docs do)."""
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def guided_arm_takeoff(dronekit: Any, vehicle: Any, takeoff_timeout: float) -> None:
    """GUIDED, arm, take off to 20 m; wait for each step."""
    vehicle.mode = dronekit.VehicleMode("GUIDED")
    until(lambda: vehicle.mode.name == "GUIDED", 10, "GUIDED")
    vehicle.armed = True
    until(lambda: vehicle.armed, 10, "armed")
    vehicle.simple_takeoff(20)
    until(lambda: vehicle.location.global_relative_frame.alt > 19.0, takeoff_timeout, "20 m")


def ten_item_mission(dronekit: Any, lat: float, lon: float) -> list[Any]:
    """Takeoff, speed, four waypoints around (lat, lon), ROI, camera trigger, loiter, gimbal pitch, back."""
    Command = dronekit.Command
    pts = [offset_deg(lat, lon, n, e) for n, e in ((60, 0), (60, 60), (0, 60), (-40, 30))]
    return [
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


def upload_mission(vehicle: Any, items: list[Any], timeout: float) -> None:
    """Replace the vehicle's mission with ``items``."""
    cmds = vehicle.commands
    cmds.clear()
    for c in items:
        cmds.add(c)
    cmds.upload(timeout=timeout)
