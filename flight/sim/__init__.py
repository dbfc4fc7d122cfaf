"""Embedded simulated ArduCopter fleet for demos and tests (see flight/sim/README.md).

Public API: ``SimFleet`` (start/stop N copters speaking MAVLink 2 over TCP or UDP),
``SimVehicle`` (client URL, ``truth()``, test hooks), ``VehicleTruth``, ``SimCamera``/``SimFrame``
(the rendered gimbal camera), ``COPTER_MODES`` and ``SimError``.
"""

from flight.sim.errors import SimConfigError, SimError
from flight.sim.fleet import SimFleet, SimVehicle
from flight.sim.types import COPTER_MODES, SimFrame, VehicleTruth

__all__ = [
    "COPTER_MODES",
    "SimCamera",
    "SimConfigError",
    "SimError",
    "SimFleet",
    "SimFrame",
    "SimVehicle",
    "VehicleTruth",
]


def __getattr__(name: str) -> object:
    if name == "SimCamera":  # lazy: the camera pulls in OpenCV, the fleet alone does not need it
        from flight.sim.camera import SimCamera

        return SimCamera
    raise AttributeError(f"module 'flight.sim' has no attribute {name!r}")
