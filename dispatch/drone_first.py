""""Send a drone first": pick the nearest ready drone for an alert's position (a pure function).

The fleet is passed in as plain snapshots (the composition root builds them from
``flight.VehicleState``), so ``dispatch`` never imports ``flight``. A drone qualifies when its link
is fresh, its battery and GPS are healthy, its EKF is fine and it is not busy with another task;
the acting user's role must allow ``flight.goto``. Nearest means the least ETA: straight-line
distance at cruise speed plus the climb to the safe transit altitude ``[dispatch.drone] alt_rel_m``.
With no qualifying drone, ``DroneRefused`` says why for each one, in one line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from dispatch.config import DispatchConfig
from dispatch.errors import DroneRefused
from dispatch.response import distance_m
from dispatch.roles import Actor


@dataclass(frozen=True, slots=True)
class DroneSnapshot:
    name: str  # vehicle / link name shown to the pilot
    sysid: int
    lat_deg: float | None
    lon_deg: float | None
    battery_pct: float | None
    gps_fix: int  # 0-1 none, 2 2D, 3 3D, 4+ DGPS/RTK
    link_age_s: float
    ekf_ok: bool = True
    busy: str | None = None  # e.g. "flying a mission", "sent to alert 4"
    cruise_m_s: float | None = None


@dataclass(frozen=True, slots=True)
class DroneChoice:
    drone: DroneSnapshot
    distance_m: float
    eta_s: float
    lat_deg: float  # where it goes
    lon_deg: float
    alt_rel_m: float  # at this safe altitude, gimbal pointed at the spot (ROI)


def why_not(d: DroneSnapshot, cfg: DispatchConfig) -> str | None:
    """The reason this drone may not be sent, or None when it is ready."""
    lim = cfg.drone
    if d.link_age_s > lim.max_link_age_s:
        return f"link lost ({d.link_age_s:.0f} s since last heard)"
    if d.lat_deg is None or d.lon_deg is None:
        return "no position"
    if d.gps_fix < lim.min_gps_fix:
        return f"GPS fix {d.gps_fix} (needs {lim.min_gps_fix})"
    if not d.ekf_ok:
        return "EKF not healthy"
    if d.battery_pct is None or d.battery_pct < lim.min_battery_pct:
        got = "unknown" if d.battery_pct is None else f"{d.battery_pct:.0f} %"
        return f"battery {got} (needs {lim.min_battery_pct:.0f} %)"
    if d.busy:
        return d.busy
    return None


def pick_drone(
    drones: Iterable[DroneSnapshot], lat_deg: float, lon_deg: float, cfg: DispatchConfig, actor: Actor | None = None
) -> DroneChoice:
    """The ready drone with the least ETA to the point; ``DroneRefused`` with every reason otherwise."""
    if actor is not None and not actor.may("flight.goto"):
        raise DroneRefused(f"{actor.name} ({actor.role}) may not send a drone (flight.goto); ask a pilot")
    best: DroneChoice | None = None
    reasons = []
    for d in drones:
        why = why_not(d, cfg)
        if why is not None:
            reasons.append(f"{d.name}: {why}")
            continue
        dist = distance_m(d.lat_deg or 0.0, d.lon_deg or 0.0, lat_deg, lon_deg)  # why_not checked both are set
        eta = dist / (d.cruise_m_s or cfg.speed_m_s("drone")) + cfg.drone.alt_rel_m / cfg.drone.climb_m_s
        if best is None or eta < best.eta_s:
            best = DroneChoice(d, dist, eta, lat_deg, lon_deg, cfg.drone.alt_rel_m)
    if best is None:
        detail = "; ".join(reasons) if reasons else "no drones in the fleet"
        raise DroneRefused(f"no drone can go: {detail}")
    return best
