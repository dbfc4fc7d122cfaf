"""Write zones into ``lookout.toml`` (the console's zone editor saves through here).

Only the ``[zones.NAME]`` tables are rewritten, as text: every other line, comment and blank line of
the file stays as it was. The new text is validated with ``lookout.config.parse_config`` before
anything is written; a bad edit raises ``ConfigError`` (file, line, key, fix) and changes nothing.
On success the previous file is kept as ``lookout.toml.bak`` and the new one replaces it atomically
(temp file + ``os.replace``).

    cfg = save_zones(path, {"pond": ZoneConfig(camera="gate", kind="water", normalized=True,
                                              polygon=[(0.1, 0.5), (0.5, 0.5), (0.3, 0.9)])})
    store = ConfigZones(path, on_saved=wall.set_zones)   # console.zone_editor.ZoneStore
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import tomllib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from lookout.config import LookoutConfig, parse_config
from lookout.errors import ConfigError
from vision.zones import ZoneConfig

_BARE = re.compile(r"^[A-Za-z0-9_-]+$")
_HEADER = re.compile(r"^\s*\[\s*zones\s*(?:\.\s*(?P<name>[A-Za-z0-9_-]+|\"(?:[^\"\\]|\\.)*\"|'[^']*')\s*)?\]\s*(#.*)?$")
_ANY_HEADER = re.compile(r"^\s*\[")


def _key(name: str) -> str:
    return name if _BARE.match(name) else json.dumps(name)


def _num(v: float) -> str:
    return f"{float(v):.6g}" if not float(v).is_integer() else str(int(v))


def zone_toml(name: str, zone: ZoneConfig) -> str:
    """One ``[zones.NAME]`` table as TOML text (only the keys that differ from their defaults, plus camera and kind)."""
    lines = [f"[zones.{_key(name)}]", f"camera = {json.dumps(zone.camera)}", f"kind = {json.dumps(zone.kind)}"]
    if zone.normalized:
        lines.append("normalized = true")
    if zone.polygon is not None:
        lines.append("polygon = [" + ", ".join(f"[{_num(x)}, {_num(y)}]" for x, y in zone.polygon) + "]")
    if zone.geojson is not None:
        lines.append(f"geojson = {json.dumps(str(zone.geojson))}")
    if zone.place is not None:
        lines.append(f"place = {json.dumps(zone.place)}")
    if zone.color is not None:
        lines.append(f"color = {json.dumps(zone.color)}")
    return "\n".join(lines) + "\n"


def replace_zones_text(text: str, zones: Mapping[str, ZoneConfig]) -> str:
    """``text`` with its ``[zones.*]`` tables replaced by ``zones`` (at the place of the first one, else at
    the end). Comments and blank lines just before the next table stay where they are."""
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    insert_at: int | None = None
    i = 0
    while i < len(lines):
        if not _HEADER.match(lines[i]):
            out.append(lines[i])
            i += 1
            continue
        if insert_at is None:
            insert_at = len(out)
        j = i + 1
        while j < len(lines) and not _ANY_HEADER.match(lines[j]):
            j += 1
        k = j  # keep trailing blank/comment lines (they introduce what follows)
        while k > i + 1 and (not lines[k - 1].strip() or lines[k - 1].lstrip().startswith("#")):
            k -= 1
        out.extend(lines[k:j])
        i = j
    block = "\n".join(zone_toml(n, z) for n, z in zones.items())
    if insert_at is None:
        if out and not out[-1].endswith("\n"):
            out[-1] += "\n"
        sep = "\n" if out and out[-1].strip() else ""
        return "".join(out) + (sep + block if block else "")
    if block and insert_at < len(out) and out[insert_at].strip():
        block += "\n"
    return "".join(out[:insert_at]) + block + "".join(out[insert_at:])


def save_zones(path: Path, zones: Mapping[str, ZoneConfig]) -> LookoutConfig:
    """Replace the file's ``[zones.*]`` with ``zones``, validate, keep ``<file>.bak``, write atomically.

    Returns the new config. Raises ``ConfigError`` (nothing written) when the file cannot be read, defines
    zones in a form this cannot edit (an inline ``zones = {...}``), or the result does not validate."""
    try:
        old = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        old = ""
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config ({exc}); zones not saved") from None
    new = replace_zones_text(old, zones)
    try:
        rest = tomllib.loads(replace_zones_text(old, {}))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); fix it by hand, zones not saved") from None
    if rest.get("zones"):
        raise ConfigError(f"{path}: zones are written in a form the editor cannot change (inline or dotted keys); "
                          "write each as a [zones.NAME] table, zones not saved")  # fmt: skip
    try:
        cfg = parse_config(new, str(path))
    except ConfigError as exc:
        raise ConfigError(f"{exc}; nothing saved") from None
    if old:
        shutil.copy2(path, path.with_name(path.name + ".bak"))
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(new)
        if old:
            shutil.copymode(path, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return cfg


class ConfigZones:
    """``console.zone_editor.ZoneStore`` over a config file: a feed's pixel zones in, drawn zones out.

    ``save`` keeps every other feed's zones (and GeoJSON zones) as they are; ``on_saved`` gets the new
    ``[zones.*]`` mapping (``VisionWall.set_zones``: the running pipeline uses them from the next frame)."""

    def __init__(self, path: Path, *, on_saved: Callable[[Mapping[str, ZoneConfig]], Any] | None = None) -> None:
        self.path = path
        self.on_saved = on_saved

    def _current(self) -> dict[str, ZoneConfig]:
        from lookout.config import load_config

        return dict(load_config(self.path).zones) if self.path.exists() else {}

    def zones(self, feed: str) -> list[Any]:
        from console.zone_editor import DrawnZone

        return [DrawnZone(n, z.kind, tuple((float(x), float(y)) for x, y in z.polygon), z.normalized)
                for n, z in self._current().items() if z.camera == feed and z.polygon is not None]  # fmt: skip

    def save(self, feed: str, drawn: Sequence[Any]) -> None:
        """Raises ``ConfigError`` (one line, nothing changed) when the zones do not validate."""
        from pydantic import ValidationError

        current = self._current()
        keep = {n: z for n, z in current.items() if not (z.camera == feed and z.polygon is not None)}
        new: dict[str, ZoneConfig] = {}
        for d in drawn:
            if d.name in keep or d.name in new:
                raise ConfigError(f"{self.path}: zone name {d.name!r} is in use; pick another name, nothing saved")
            old = current.get(d.name)
            try:
                new[d.name] = ZoneConfig(camera=feed, kind=d.kind, normalized=d.normalized, polygon=list(d.points),
                                         color=old.color if old is not None else None)  # fmt: skip
            except ValidationError as exc:
                why = exc.errors()[0]["msg"]
                raise ConfigError(f"{self.path} zones.{d.name}: {why[0].lower() + why[1:]}; nothing saved") from None
        cfg = save_zones(self.path, {**keep, **new})
        if self.on_saved is not None:
            self.on_saved(cfg.zones)


__all__ = ["ConfigZones", "replace_zones_text", "save_zones", "zone_toml"]
