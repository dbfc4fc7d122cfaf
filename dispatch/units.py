"""Response units: their configured identity plus live status and position (``unit_state`` table).

``[units.NAME]`` gives callsign, kind, speed and a start status/position; what changes at run time
(status, position, the alert a unit is assigned to) is kept in ``alerts.sqlite`` so every desk and
process sees the same board. Positions come by hand (console, CLI), from the fleet for drones, or
from a GPS tracker gateway on the bus: ``lookout/units/NAME/position`` with JSON
``{"lat": 52.1, "lon": 4.3, "t": "2026-…Z"}`` (``lat_deg``/``lon_deg`` accepted too), parsed by
``parse_position_message``.
"""

from __future__ import annotations

import json
import math
import re
import sqlite3
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from dispatch.config import UnitConfig
from dispatch.errors import UnitError

STATUSES = ("available", "assigned", "on_scene", "off_duty")
POSITION_TOPIC = re.compile(r"^lookout/units/([A-Za-z0-9_.-]+)/position$")


@dataclass(frozen=True, slots=True)
class Unit:
    name: str
    callsign: str
    kind: str
    status: str
    lat_deg: float | None
    lon_deg: float | None
    position_t_utc: datetime | None
    position_source: str | None
    alert_id: int | None
    speed_m_s: float | None = None
    sysid: int | None = None

    def status_json(self) -> dict[str, object]:
        return {
            "unit": self.name, "callsign": self.callsign, "kind": self.kind, "status": self.status,
            "alert_id": self.alert_id, "lat_deg": self.lat_deg, "lon_deg": self.lon_deg,
            "position_utc": None if self.position_t_utc is None else self.position_t_utc.isoformat(),
        }  # fmt: skip


@dataclass(frozen=True, slots=True)
class PositionReport:
    unit: str
    lat_deg: float
    lon_deg: float
    t_utc: datetime


def _t(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC)


def load_units(conn: sqlite3.Connection, configured: Mapping[str, UnitConfig]) -> dict[str, Unit]:
    """Every configured unit with its live state (the config's start values where none is stored yet)."""
    live = {r[0]: r for r in conn.execute(
        "SELECT name, status, lat_deg, lon_deg, position_t, source, alert_id FROM unit_state")}  # fmt: skip
    out = {}
    for name, c in configured.items():
        r = live.get(name)
        if r is None:
            out[name] = Unit(name, c.callsign, c.kind, c.status, c.lat_deg, c.lon_deg, None,
                             None if c.lat_deg is None else "config", None, c.speed_m_s, c.sysid)  # fmt: skip
        else:
            out[name] = Unit(name, c.callsign, c.kind, r[1], r[2], r[3], _t(r[4]), r[5], r[6], c.speed_m_s, c.sysid)
    return out


def get_unit(conn: sqlite3.Connection, configured: Mapping[str, UnitConfig], name: str) -> Unit:
    units = load_units(conn, configured)
    if name not in units:
        known = ", ".join(sorted(units)) or "none configured"
        raise UnitError(f"no unit {name!r}; [units.NAME] in the config has: {known}")
    return units[name]


def store_unit(conn: sqlite3.Connection, u: Unit) -> None:
    """Write a unit's live state (inside the caller's transaction)."""
    conn.execute(
        "INSERT INTO unit_state (name, status, lat_deg, lon_deg, position_t, source, alert_id, updated_t) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET status = excluded.status, "
        "lat_deg = excluded.lat_deg, lon_deg = excluded.lon_deg, position_t = excluded.position_t, "
        "source = excluded.source, alert_id = excluded.alert_id, updated_t = excluded.updated_t",
        (u.name, u.status, u.lat_deg, u.lon_deg, None if u.position_t_utc is None else u.position_t_utc.timestamp(),
         u.position_source, u.alert_id, time.time()),
    )  # fmt: skip


def check_position(name: str, lat_deg: float, lon_deg: float) -> None:
    if not (math.isfinite(lat_deg) and math.isfinite(lon_deg) and -90 <= lat_deg <= 90 and -180 <= lon_deg <= 180):
        raise UnitError(f"unit {name}: position ({lat_deg}, {lon_deg}) is not lat/lon in degrees; nothing changed")


def parse_position_message(topic: str, payload: bytes) -> PositionReport:
    """A tracker gateway's ``lookout/units/NAME/position`` message; ``UnitError`` (one line) if malformed."""
    m = POSITION_TOPIC.match(topic)
    if m is None:
        raise UnitError(f"{topic}: not a unit position topic (lookout/units/NAME/position)")
    name = m.group(1)
    try:
        d = json.loads(payload)
        lat = float(d["lat"] if "lat" in d else d["lat_deg"])
        lon = float(d["lon"] if "lon" in d else d["lon_deg"])
        t = d.get("t") or d.get("t_utc")
        t_utc = datetime.now(UTC) if t is None else datetime.fromisoformat(str(t).replace("Z", "+00:00"))
    except (ValueError, KeyError, TypeError) as exc:
        raise UnitError(f"{topic}: position message is not JSON with lat and lon ({exc}); ignored") from None
    if t_utc.tzinfo is None:
        t_utc = t_utc.replace(tzinfo=UTC)
    check_position(name, lat, lon)
    return PositionReport(name, lat, lon, t_utc)
