"""flight: MAVLink links, vehicle state, commands, mission/fence/rally transfer, params, signing, tlogs.

See README.md. ``flight.sim`` (the embedded simulator) is not imported here, so ``import flight``
stays light.
"""

from flight.autorun import RunProgress, fly_mission
from flight.commands import (
    arm,
    change_speed,
    clear_roi,
    disarm,
    goto,
    land,
    mission_start,
    pause,
    prearm_reasons,
    resume,
    rtl,
    run_command,
    set_gimbal,
    set_mode,
    set_roi,
    takeoff,
    trigger_camera,
)
from flight.errors import (
    CommandRejected,
    CommandTimeout,
    FlightAborted,
    FlightError,
    LinkError,
    MissionTransferError,
    NoVehicle,
    ParamError,
    SigningKeyError,
    TransferCancelled,
    UnknownMode,
)
from flight.fleet import Fleet
from flight.link import Link
from flight.mission_transfer import (
    download_fence,
    download_items,
    download_mission,
    download_rally,
    upload_fence,
    upload_items,
    upload_mission,
    upload_plan,
    upload_rally,
)
from flight.params import list_params, read_param, write_param
from flight.types import CommandAck, LinkStats, VehicleState

__all__ = [
    "CommandAck",
    "CommandRejected",
    "CommandTimeout",
    "Fleet",
    "FlightAborted",
    "FlightError",
    "Link",
    "LinkError",
    "LinkStats",
    "MissionTransferError",
    "NoVehicle",
    "ParamError",
    "RunProgress",
    "SigningKeyError",
    "TransferCancelled",
    "UnknownMode",
    "VehicleState",
    "arm",
    "change_speed",
    "clear_roi",
    "disarm",
    "download_fence",
    "download_items",
    "download_mission",
    "download_rally",
    "fly_mission",
    "goto",
    "land",
    "list_params",
    "mission_start",
    "pause",
    "prearm_reasons",
    "read_param",
    "resume",
    "rtl",
    "run_command",
    "set_gimbal",
    "set_mode",
    "set_roi",
    "takeoff",
    "trigger_camera",
    "upload_fence",
    "upload_items",
    "upload_mission",
    "upload_plan",
    "upload_rally",
    "write_param",
]  # fmt: skip
