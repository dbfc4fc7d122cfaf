"""Config section models owned by ``console`` (no Qt imported here): ``[map]``.

Users are not configured here: they live in ``<data dir>/users.json`` (``lookout users``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, model_validator

if TYPE_CHECKING:
    from console.tilesets import TileLayerSpec


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MapLayerConfig(_Strict):
    """One switchable map layer: an MBTiles file or XYZ folder (``path``) or an online ``url`` template."""

    name: str = Field(description="the name shown in the map's layer menu")
    path: Path | None = Field(None, description=".mbtiles file or XYZ folder; a bare name is looked up in <data>/tiles")
    url: str | None = Field(
        None, description="online tiles, e.g. https://host/{z}/{x}/{y}.png (cached in <data>/tiles/cache)"
    )
    max_zoom: int = Field(19, ge=0, le=22, description="deepest zoom level the layer has")

    @model_validator(mode="after")
    def _one_source(self) -> MapLayerConfig:
        if (self.path is None) == (self.url is None):
            raise ValueError("give either path (an .mbtiles file or XYZ folder) or url (a {z}/{x}/{y} template)")
        if self.url is not None and not all(k in self.url for k in ("{z}", "{x}", "{y}")):
            raise ValueError("url must contain {z}, {x} and {y}")
        return self


class MapConfig(_Strict):
    tiles_dir: Path | None = Field(None, description="offline XYZ tile folder {z}/{x}/{y}.png; None = plain grid")
    center: tuple[float, float] | None = Field(None, description="initial map centre lat_deg, lon_deg")
    layers: list[MapLayerConfig] = Field(
        default_factory=list,
        description="map layers to switch between (first = shown at start); tile sets from `lookout tiles import` "
        "are added after them",
    )

    def layer_specs(self, data_dir: Path) -> list[TileLayerSpec]:
        """Configured layers, then ``tiles_dir``, then the tile sets imported into ``<data_dir>/tiles``."""
        from console.tilesets import TileLayerSpec, discover_layers, spec_for

        root = data_dir / "tiles"
        specs: list[TileLayerSpec] = []
        for layer in self.layers:
            if layer.url is not None:
                specs.append(TileLayerSpec(layer.name, "url", layer.url, layer.max_zoom, root / "cache" / layer.name))
                continue
            assert layer.path is not None
            path = layer.path if layer.path.is_absolute() or layer.path.exists() else root / layer.path
            spec = spec_for(path, layer.name)
            specs.append(TileLayerSpec(spec.name, spec.kind, spec.location, layer.max_zoom))
        if self.tiles_dir is not None:
            specs.append(spec_for(self.tiles_dir))
        known = {s.location for s in specs}
        specs += [s for s in discover_layers(root) if s.location not in known]
        return specs
