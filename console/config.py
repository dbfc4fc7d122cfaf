"""Config section models owned by ``console`` (no Qt imported here): ``[map]``.

Users are not configured here: they live in ``<data dir>/users.json`` (``lookout users``).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MapConfig(_Strict):
    tiles_dir: Path | None = Field(None, description="offline XYZ tile folder {z}/{x}/{y}.png; None = plain grid")
    center: tuple[float, float] | None = Field(None, description="initial map centre lat_deg, lon_deg")
