"""Config section models owned by ``dispatch``: ``[dispatch]`` sinks and ``[units.*]``."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UnitConfig(_Strict):
    """A response unit (patrol car, foot patrol, drone team) the dispatcher may send."""

    callsign: str = Field(description="radio callsign shown to dispatch")
    kind: str = Field("car", description="car | foot | drone | boat")
    lat_deg: float = Field(ge=-90, le=90)
    lon_deg: float = Field(ge=-180, le=180)


class DispatchConfig(_Strict):
    webhook_url: str | None = Field(None, description="POST confirmed alerts here as JSON")
