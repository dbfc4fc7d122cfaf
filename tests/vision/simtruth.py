"""A still drone for the embedded simulator's camera (``flight.sim.SimCamera``) in the vision tests: a
``VehicleTruth`` at a given height, gimbal pitch, yaw and offset from home, and a vehicle that returns it."""

from __future__ import annotations

import dataclasses

from flight.sim.types import VehicleTruth
from tests.flight.sim.geohelp import offset_deg  # missions.geo, the plane the simulator flies on

LAT, LON, HOME_M = 47.3769, 8.5417, 400.0


class StillVehicle:
    """What ``SimCamera`` asks of a vehicle: its truth (here always the same)."""

    def __init__(self, truth: VehicleTruth) -> None:
        self._truth = truth

    def truth(self) -> VehicleTruth:
        return self._truth


def still_truth(alt_m: float, pitch_deg: float, yaw_deg: float, north_m: float = 0.0, east_m: float = 0.0
                ) -> VehicleTruth:  # fmt: skip
    """Armed, flying GUIDED ``alt_m`` above home (``LAT``, ``LON``, ``HOME_M``), ``north_m``/``east_m`` from it,
    nose and gimbal to ``yaw_deg``, gimbal pitched ``pitch_deg``; every other field 0."""
    lat, lon = offset_deg(LAT, LON, north_m, east_m)
    vals: dict[str, object] = {f.name: 0 for f in dataclasses.fields(VehicleTruth)}
    vals.update(sysid=1, t_sim_s=0.0, lat_deg=lat, lon_deg=lon, alt_amsl_m=HOME_M + alt_m, alt_rel_m=alt_m,
                mode="GUIDED", home_lat_deg=LAT, home_lon_deg=LON, home_alt_amsl_m=HOME_M, heading_deg=yaw_deg,
                yaw_deg=yaw_deg, gimbal_pitch_deg=pitch_deg, gimbal_yaw_deg=yaw_deg, roi=None, failsafe="",
                armed=True, landed=False, gcs_seen=True, ekf_ok=True)  # fmt: skip
    return VehicleTruth(**vals)  # type: ignore[arg-type]
