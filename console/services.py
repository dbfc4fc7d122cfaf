"""What the console needs from the rest of Lookout, as small protocols (no Qt here).

The composition root (``lookout.wiring``) implements these over ``flight``, ``flight.sim`` and
``vision``; the console only calls them. Every call that may block (a MAVLink command waits for
its ACK) is made off the GUI thread by the console.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from flight.types import VehicleState

if TYPE_CHECKING:
    from console.tilesets import TileLayerSpec
    from dispatch.roles import Actor
    from dispatch.types import Alert, EvidenceRef


class FleetSource(Protocol):
    def snapshot(self) -> Mapping[int, VehicleState]:
        """Latest state of every vehicle heard, by sysid. Must not block."""
        ...


class FlightActions(Protocol):
    """Blocking vehicle commands; each raises the flight package's error with a clear reason."""

    def arm(self, sysid: int) -> None: ...
    def disarm(self, sysid: int) -> None: ...
    def set_mode(self, sysid: int, mode: str) -> None: ...
    def takeoff(self, sysid: int, alt_rel_m: float) -> None: ...
    def goto(self, sysid: int, lat_deg: float, lon_deg: float, alt_rel_m: float) -> None: ...
    def rtl(self, sysid: int) -> None: ...
    def land(self, sysid: int) -> None: ...
    def fly_plan(self, sysid: int, path: Path, progress: Callable[[str], None]) -> None: ...
    def mission_path(self, sysid: int) -> Sequence[tuple[float, float]]: ...

    # Optional (the console checks with getattr; ``lookout.wiring.FleetActions`` has them all):
    # start_mission(sysid)  -- MissionActions below: the "Start mission" button
    # preflight(sysid, action) -> flight.preflight.Checklist  -- the pre-flight gate, read from the vehicle
    # set_gimbal(sysid, pitch_deg, yaw_deg); set_roi(sysid, lat_deg, lon_deg); take_photo(sysid)


class MissionActions(Protocol):
    """What the Plan view asks of a ``FlightActions`` that also has these (``lookout.wiring.FleetActions``).
    Blocking; called off the GUI thread; ``plan`` is a ``missions.Plan``."""

    def upload_plan(self, sysid: int, plan: Any, progress: Callable[[int, int], None] | None = None) -> None: ...
    def start_mission(self, sysid: int) -> None: ...
    def pause_mission(self, sysid: int) -> None: ...
    def resume_mission(self, sysid: int) -> None: ...


@dataclass(frozen=True, slots=True)
class FeedFrame:
    """What a video tile shows: an (already annotated) BGR image and a caption line."""

    image: np.ndarray
    caption: str
    age_s: float = 0.0


class VideoFeed(Protocol):
    name: str

    def latest(self) -> FeedFrame | None:
        """Newest frame, or None if nothing arrived yet. Must not block."""
        ...

    def status(self) -> str:
        """One line on the source's health for the tile when there is no fresh video. Must not block."""
        ...


class EventLike(Protocol):
    """A behaviour event as the console shows it (``vision.behaviours.Event`` has these fields)."""

    id: str
    kind: str  # e.g. "door_handle_trying", "water_entry", "fight"
    severity: str  # "low" | "medium" | "high"
    feed: str
    t_end_utc: datetime
    summary: str


class EventFeed(Protocol):
    def events_since(self, seq: int) -> tuple[int, Sequence[EventLike]]:
        """The newest sequence number and the events after ``seq`` (oldest first). Must not block."""
        ...


@dataclass(frozen=True, slots=True)
class MapImage:
    """A geo-referenced picture for the map background (e.g. the simulator's aerial image)."""

    image: np.ndarray  # BGR
    north_deg: float
    south_deg: float
    east_deg: float
    west_deg: float


@dataclass(frozen=True, slots=True)
class MapCamera:
    """A fixed camera for the map (from ``[cameras.NAME]`` lat_deg/lon_deg/heading_deg/hfov_deg)."""

    name: str
    lat_deg: float
    lon_deg: float
    heading_deg: float | None = None  # None: position only, no view cone
    hfov_deg: float = 60.0
    range_m: float = 60.0


class AlertSource(Protocol):
    """The alert store as the console sees it (``lookout.console_services.StoreAlerts`` over
    ``dispatch.store.AlertStore``). Every call is local and quick (SQLite on this machine); the
    actions run as ``actor`` and raise ``dispatch.errors.DispatchError`` with a clear reason
    (``PermissionDenied`` when the role may not, ``AlertError`` for a wrong transition)."""

    def changes_since(self, version: int) -> tuple[int, Sequence[Alert]]:
        """The newest version and every alert changed after ``version`` (0: all of them)."""
        ...

    def get(self, alert_id: int) -> Alert: ...
    def acknowledge(self, alert_id: int, actor: Actor, note: str = "") -> Alert: ...
    def confirm(self, alert_id: int, actor: Actor, note: str = "") -> Alert: ...
    def dismiss(self, alert_id: int, actor: Actor, reason: str) -> Alert: ...

    def evidence_path(self, ref: EvidenceRef) -> Path:
        """Where the evidence file of ``ref`` is on this machine (it may not exist yet or any more)."""
        ...


class UserSource(Protocol):
    """Who may work (``dispatch.users.UserDirectory``): the console asks for a login when not empty."""

    def is_empty(self) -> bool: ...

    def authenticate(self, name: str, password: str) -> Actor:
        """The user's Actor; raises ``dispatch.errors.DispatchError`` with a clear reason when refused."""
        ...


@dataclass
class ConsoleServices:
    fleet: FleetSource
    actions: FlightActions | None = None
    feeds: Sequence[VideoFeed] = ()
    events: EventFeed | None = None  # behaviour events from the video wall
    map_image: MapImage | None = None
    map_center: tuple[float, float] | None = None
    tiles_dir: Path | None = None
    title: str = "Lookout"
    alerts: AlertSource | None = None  # the alert queue (dispatch's store)
    users: UserSource | None = None  # with users set up, the console asks who is working
    actor: Actor | None = None  # already logged in (the demo's admin); None: ask ``users`` or local admin
    map_layers: Sequence[TileLayerSpec] = ()  # tile layers to switch between (console.tilesets)
    cameras: Sequence[MapCamera] = ()  # fixed cameras drawn on the map with their view cones
    notice: str = ""  # a problem found while wiring (e.g. the alert store would not open): shown at start
    dispatch: Any = None  # lookout.dispatching.Dispatching: the dispatch panel, units and areas (console.dispatch_dock)
    zones: Any = None  # console.zone_editor.ZoneStore (lookout.config_edit.ConfigZones): "Draw zones…" on video tiles
    missions: Any = None  # missions.config.MissionsConfig: the Plan view's limits and vehicle (None: defaults)
