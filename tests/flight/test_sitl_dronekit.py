"""dronekit (dronekit2) scripts fly real ArduCopter SITL as they fly the embedded simulator
(tests/flight/sim/test_sim_dronekit.py): the same script, checked through dronekit's own view.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from missions import haversine_m
from tests.flight.dronekit_script import guided_arm_takeoff, ten_item_mission, until, upload_mission
from tests.sitl_harness import CMAC, SitlOptions, running_sitl

dronekit = pytest.importorskip("dronekit")
pytestmark = pytest.mark.sitl


def test_dronekit_arm_takeoff_ten_item_auto_mission_rtl_land_disarm(tmp_path: Path) -> None:
    opts = SitlOptions(params={"DISARM_DELAY": 30})  # 3 s of wall time at speedup 10 to take off after arming
    with running_sitl(tmp_path / "sitl", opts) as sitl:
        vehicle = dronekit.connect(sitl.url, wait_ready=True, timeout=60, heartbeat_timeout=30)
        try:
            assert vehicle.parameters["WPNAV_SPEED"] > 0
            until(lambda: vehicle.is_armable and vehicle.gps_0.fix_type >= 3, 120, "armable (GPS, EKF)")
            cmds = vehicle.commands
            cmds.download()
            cmds.wait_ready()
            guided_arm_takeoff(dronekit, vehicle, takeoff_timeout=60)

            lat, lon = CMAC.lat_deg, CMAC.lon_deg
            items = ten_item_mission(dronekit, lat, lon)
            upload_mission(vehicle, items, timeout=30)
            cmds.download()
            cmds.wait_ready()
            assert cmds.count == 10
            assert [c.command for c in cmds] == [c.command for c in items]
            vehicle.mode = dronekit.VehicleMode("AUTO")
            until(lambda: vehicle.commands.next == 10, 120, "last waypoint")
            vehicle.mode = dronekit.VehicleMode("RTL")
            until(lambda: not vehicle.armed, 120, "landed and disarmed")
            here = vehicle.location.global_frame
            assert haversine_m(here.lat, here.lon, lat, lon) < 5
            assert vehicle.mode.name == "RTL"
        finally:
            vehicle.close()
