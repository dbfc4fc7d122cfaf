"""Several links at once: one place to read every vehicle's latest snapshot and what changed."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from flight.link import Link
from flight.types import VehicleState

VehicleKey = tuple[str, int]  # (link name, sysid)


class Fleet:
    """Owns links by name. ``states()`` for a full picture, ``changed_since_last_poll()`` for a GUI timer."""

    def __init__(self, links: Mapping[str, Link] | None = None) -> None:
        self._links: dict[str, Link] = dict(links or {})
        self._seen: dict[VehicleKey, int] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_config(cls, links: Mapping[str, Any], data_dir: Path | None = None) -> Fleet:
        """Open every ``LinkConfig`` in ``links`` (``LookoutConfig.links``); closes what opened on error."""
        fleet = cls()
        try:
            for name, cfg in links.items():
                fleet.add(name, Link.from_config(cfg, data_dir))
        except Exception:
            fleet.close()
            raise
        return fleet

    def add(self, name: str, link: Link) -> None:
        with self._lock:
            if name in self._links:
                raise ValueError(f"link name {name!r} already in the fleet")
            self._links[name] = link

    def remove(self, name: str) -> None:
        with self._lock:
            link = self._links.pop(name, None)
            self._seen = {k: v for k, v in self._seen.items() if k[0] != name}
        if link is not None:
            link.close()

    @property
    def links(self) -> dict[str, Link]:
        return dict(self._links)

    def link_for(self, key: VehicleKey) -> Link:
        return self._links[key[0]]

    def states(self) -> dict[VehicleKey, VehicleState]:
        out: dict[VehicleKey, VehicleState] = {}
        for name, link in self.links.items():
            for sysid, st in link.vehicles().items():
                out[(name, sysid)] = st
        return out

    def changed_since_last_poll(self) -> dict[VehicleKey, VehicleState]:
        """Snapshots of vehicles whose state changed since the previous call (all, the first time)."""
        changed: dict[VehicleKey, VehicleState] = {}
        with self._lock:
            for name, link in self._links.items():
                versions = link.versions()
                vehicles = None
                for sysid, ver in versions.items():
                    key = (name, sysid)
                    if self._seen.get(key) != ver:
                        self._seen[key] = ver
                        vehicles = vehicles if vehicles is not None else link.vehicles()
                        if sysid in vehicles:
                            changed[key] = vehicles[sysid]
        return changed

    def close(self) -> None:
        with self._lock:
            links, self._links = list(self._links.values()), {}
        for link in links:
            link.close()

    def __enter__(self) -> Fleet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterable[VehicleKey]:  # type: ignore[override]
        return iter(self.states())
