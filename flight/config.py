"""Config section models owned by ``flight``: ``[links.*]`` and ``[sim]``."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LinkConfig(_Strict):
    """One MAVLink connection, e.g. ``[links.patrol1] url = "udp:0.0.0.0:14550"``."""

    url: str = Field(description="pymavlink URL: udp:HOST:PORT, udpout:HOST:PORT, tcp:HOST:PORT, /dev/ttyUSB0,57600")
    sysid: int | None = Field(None, ge=1, le=255, description="only this vehicle on the link; None = all")
    signing_key: str | None = Field(
        None, description="MAVLink2 signing key: 64 hex chars, or 'env:VAR' to read it from the environment"
    )
    tlog: bool = Field(True, description="record every message to a .tlog in the data directory")
    source_system: int = Field(255, ge=1, le=255, description="our (GCS) MAVLink system id")
    source_component: int = Field(190, ge=0, le=255, description="our MAVLink component id (190 = MISSIONPLANNER)")
    heartbeat_timeout_s: float = Field(2.0, gt=0, le=60, description="link lost after this long without a heartbeat")
    telemetry_hz: float = Field(4.0, gt=0, le=50, description="position/attitude rate requested on first heartbeat")


class SimConfig(_Strict):
    """The embedded simulated copters used by ``lookout demo`` and ``lookout sim``."""

    vehicles: int = Field(3, ge=1, le=50, description="number of simulated copters")
    home: tuple[float, float, float] = Field(
        (52.2297, 21.0122, 100.0), description="home of vehicle 0: lat_deg, lon_deg, alt_amsl_m"
    )
    speedup: float = Field(1.0, gt=0, le=100, description="simulation speed multiplier")
    listen: str = Field(
        "tcp:127.0.0.1:5760", description="TCP server of vehicle 0 (vehicle i: port + 10*i), like ArduPilot SITL"
    )
    out: str | None = Field(None, description="instead of listen: send UDP to udp:HOST:PORT (vehicle i: port + 10*i)")
    spacing_m: float = Field(5.0, ge=0, le=1000, description="vehicle i starts i * spacing_m east of home")
    params: dict[str, float] = Field(
        default_factory=dict, description="ArduCopter parameter overrides for every vehicle, e.g. FS_GCS_ENABLE = 1"
    )
    signing_key: str | None = Field(
        None, description="MAVLink2 signing key of the simulated vehicles: 64 hex chars, or 'env:VAR'"
    )
