"""``[rules]``: which behaviour rules run and their thresholds (one sub-table per rule).

Each rule's model is owned by the rule's module author; fields may be added with defaults, never
renamed. Durations are seconds of capture time; sizes relative to the person's box height where a
pixel size would depend on the camera's distance.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DoorHandleConfig(_Strict):
    """A person's wrist at the door height of a parked car, on several cars one after another."""

    enabled: bool = True
    min_vehicles: int = Field(2, ge=2, le=20, description="different parked cars touched before it fires")
    window_s: float = Field(90.0, gt=0, description="within this many seconds")
    min_touch_s: float = Field(0.6, ge=0, description="a wrist must stay at a door this long to count as a try")
    single_car: bool = Field(True, description="also report door work at one car (low severity)")
    single_car_pulls: int = Field(3, ge=2, le=50, description="separate held touches at one car's door ...")
    single_car_hold_s: float = Field(4.0, gt=0, description="... or one touch held this long, counts as door work")
    single_car_window_s: float = Field(30.0, gt=0, description="the pulls fall within this many seconds")


class VehicleEntryConfig(_Strict):
    """A person who was touching a parked car disappears into it (the door opened: it was unlocked)."""

    enabled: bool = True
    vanish_s: float = Field(2.0, gt=0, description="the person is gone from view this long next to the car")
    min_touch_s: float = Field(0.6, ge=0, description="a wrist must stay at the door this long (as door_handles)")
    last_touch_s: float = Field(
        2.0, gt=0, description="the touch ended at most this long before the person was last seen"
    )
    prior_window_s: float = Field(120.0, gt=0, description="other cars tried this long before make it high severity")
    require_inside: bool = Field(
        True, description="the body must be seen going into the car's outline (else: gone beside it for vanish_s)"
    )
    enter_vanish_s: float = Field(0.5, gt=0, description="after going into the outline, gone this long")
    enter_window_s: float = Field(5.0, gt=0, description="the body goes in at most this long after the last touch")
    inside_frac: float = Field(0.6, gt=0, le=1, description="share of the person's box inside the car's outline")
    min_inside_s: float = Field(0.15, ge=0, description="seen going in for at least this long")
    require_door_work: bool = Field(
        True, description="only after door work at that car or tries at others (an owner opening it stays quiet)"
    )
    door_work_pulls: int = Field(3, ge=1, le=50, description="door work: this many separate held touches ...")
    door_work_hold_s: float = Field(4.0, gt=0, description="... or one touch held this long")


class FightConfig(_Strict):
    """Fast limb motion between people close together, sustained."""

    enabled: bool = True
    min_people: int = Field(2, ge=2, le=50)
    min_duration_s: float = Field(0.8, gt=0, description="the motion must last this long")
    limb_speed: float = Field(
        0.45, gt=0, description="a wrist sweeping this fast against the torso (box heights/s) is 'active'"
    )
    near: float = Field(0.5, ge=0, description="people are close when their boxes' gap is at most this x box height")
    active_frac: float = Field(0.3, gt=0, le=1, description="this share of a close group (and >= 1) must be active")
    window_s: float = Field(0.8, gt=0, le=5, description="limb sweep is measured over this window, s")
    gap_s: float = Field(0.8, ge=0, description="a pause in the motion this short does not restart the clock, s")


class WaterEntryConfig(_Strict):
    """A person's foot point entering a ``kind = "water"`` zone."""

    enabled: bool = True
    min_inside_s: float = Field(1.0, ge=0, description="inside the water zone this long (not a wobbling box)")


class LoiteringConfig(_Strict):
    """A person staying inside a ``restricted``/``watch`` zone too long (no such zones: the rule does nothing)."""

    enabled: bool = True
    dwell_s: float = Field(60.0, gt=0, description="seconds inside the zone before it fires")
    exit_grace_s: float = Field(2.0, ge=0, description="time outside the zone that does not end the stay")


class CrowdConfig(_Strict):
    """Many people close together."""

    enabled: bool = True
    min_people: int = Field(8, ge=2, le=1000, description="people in one group")
    min_duration_s: float = Field(5.0, ge=0, description="the group holds this long")
    link_heights: float = Field(
        1.0, gt=0, le=10, description="people closer than this many box heights (foot to foot) are one group"
    )
    gap_s: float = Field(1.0, ge=0, description="time below min_people that does not end the crowd")
    tiled_hold_s: float = Field(
        2.0, ge=0, le=60, description="a tiled count (vision.crowd, ~1 Hz) stands for the group this long, s"
    )


class ZoneEntryConfig(_Strict):
    """A person entering a ``kind = "restricted"`` zone."""

    enabled: bool = True


class RulesConfig(_Strict):
    """``[rules]``: every rule on by default; ``cooldown_s`` stops one situation firing again and again."""

    cooldown_s: float = Field(30.0, ge=0, description="the same rule and track fire at most this often, s")
    door_handles: DoorHandleConfig = Field(default_factory=DoorHandleConfig)
    vehicle_entry: VehicleEntryConfig = Field(default_factory=VehicleEntryConfig)
    fight: FightConfig = Field(default_factory=FightConfig)
    water_entry: WaterEntryConfig = Field(default_factory=WaterEntryConfig)
    loitering: LoiteringConfig = Field(default_factory=LoiteringConfig)
    crowd: CrowdConfig = Field(default_factory=CrowdConfig)
    zone_entry: ZoneEntryConfig = Field(default_factory=ZoneEntryConfig)
