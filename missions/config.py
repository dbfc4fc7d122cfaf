"""Config section models owned by ``missions``: ``[missions]`` (limits, vehicle profiles)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MissionsConfig(_Strict):
    max_alt_m: float = Field(120.0, gt=0, le=1000, description="highest altitude any plan may use (AGL)")
    max_distance_m: float = Field(5000.0, gt=0, description="farthest any item may be from home")
