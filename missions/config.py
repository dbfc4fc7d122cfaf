"""Config section models owned by ``missions``: ``[missions]`` (limits, vehicle profiles, camera)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VehicleProfile(_Strict):
    """Endurance model: usable energy = battery_wh x (1 - reserve_pct/100); power by flight phase."""

    cruise_speed_m_s: float = Field(10.0, gt=0, le=60, description="planned ground speed")
    climb_m_s: float = Field(3.0, gt=0, description="take-off climb rate")
    descent_m_s: float = Field(2.0, gt=0, description="landing descent rate")
    battery_wh: float = Field(130.0, gt=0, description="battery energy when full")
    hover_power_w: float = Field(380.0, gt=0, description="electrical power while hovering/loitering")
    cruise_power_w: float = Field(360.0, gt=0, description="electrical power in forward flight")
    reserve_pct: float = Field(25.0, ge=0, lt=100, description="energy kept back for landing/RTL")

    def usable_s(self) -> float:
        """Seconds of flight available at the mixed power (hover/cruise average, conservative: the max)."""
        return self.battery_wh * (1 - self.reserve_pct / 100) * 3600.0 / max(self.hover_power_w, self.cruise_power_w)


class CameraProfile(_Strict):
    hfov_deg: float = Field(70.0, gt=1, lt=179, description="horizontal field of view")
    vfov_deg: float | None = Field(None, gt=1, lt=179, description="vertical FOV (default: 4:3 from hfov)")


class MissionsConfig(_Strict):
    max_alt_m: float = Field(120.0, gt=0, le=1000, description="highest altitude any plan may use (AGL)")
    max_distance_m: float = Field(
        5000.0, gt=0,
        description="farthest any item may be from home; before an upload also from the vehicle and its own home",
    )
    min_alt_m: float = Field(
        0.0, ge=-1000, le=1000, description="lowest altitude above home a NAV item may use (before an upload)"
    )
    battery_drain_pct_per_min: float = Field(
        4.0, gt=0, le=100, description="battery % a vehicle uses per minute of flight (route check before an upload)"
    )
    battery_reserve_pct: float = Field(
        25.0, ge=0, lt=100, description="battery % that must be left after the whole route (before an upload)"
    )
    default_vehicle: str = Field("quad", description="profile used by 'lookout plan check' without --vehicle")
    vehicles: dict[str, VehicleProfile] = Field(
        default_factory=lambda: {"quad": VehicleProfile()}, description="named vehicle endurance profiles"
    )
    camera: CameraProfile = Field(default_factory=CameraProfile)

    @model_validator(mode="after")
    def _default_exists(self) -> MissionsConfig:
        if self.min_alt_m >= self.max_alt_m:
            raise ValueError(f"min_alt_m {self.min_alt_m:g} must be below max_alt_m {self.max_alt_m:g}")
        if self.default_vehicle not in self.vehicles:
            names = ", ".join(sorted(self.vehicles)) or "none"
            raise ValueError(f"default_vehicle {self.default_vehicle!r} is not in [missions.vehicles] ({names})")
        return self
