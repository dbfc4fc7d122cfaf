"""dronekit (dronekit2) as a second, independent client: the same flight a tester would script."""

from __future__ import annotations

import math

import pytest

from tests.flight.dronekit_script import guided_arm_takeoff, ten_item_mission, until, upload_mission
from tests.flight.sim.geohelp import ne_of

dronekit = pytest.importorskip("dronekit")

HOME = (52.2297, 21.0122, 100.0)


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
        guided_arm_takeoff(dronekit, vehicle, takeoff_timeout=30)

        items = ten_item_mission(dronekit, HOME[0], HOME[1])
        upload_mission(vehicle, items, timeout=20)
        assert sim.truth().mission_count == 11  # home + 10
        vehicle.mode = dronekit.VehicleMode("AUTO")
        until(lambda: vehicle.commands.next == 10, 60, "last waypoint")
        t = sim.truth()
        assert t.camera_triggers == 1 and t.gimbal_pitch_deg == -60
        vehicle.mode = dronekit.VehicleMode("RTL")
        until(lambda: not vehicle.armed, 60, "landed and disarmed")
        t = sim.truth()
        n, e = ne_of(HOME[0], HOME[1], t.lat_deg, t.lon_deg)
        assert t.landed and math.hypot(n, e) < 1.0 and t.mode == "RTL"
        assert t.distance_flown_m > 250
    finally:
        vehicle.close()
