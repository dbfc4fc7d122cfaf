"""Config section models owned by ``console`` (no Qt imported here): ``[map]``, ``[users.*]``."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MapConfig(_Strict):
    tiles_dir: Path | None = Field(None, description="offline XYZ tile folder {z}/{x}/{y}.png; None = plain grid")
    center: tuple[float, float] | None = Field(None, description="initial map centre lat_deg, lon_deg")


class UserConfig(_Strict):
    role: Literal["pilot", "operator", "dispatcher", "tester", "admin"] = "operator"
