"""The dispatch desk composed with the alert store, the fleet and the bus (the console's ``DispatchService``).

    dispatching = Dispatching.open(data_dir, cfg, audit=audit.append)   # the desk over <data>/alerts.sqlite
    store = AlertStore(..., on_change=dispatching.on_change)           # confirms write outbox rows
    dispatching.attach(store=store, fleet=FleetView(...), actions=FleetActions(...))
    dispatching.start()                                                # sender threads (+ unit feed on MQTT)
    ...
    dispatching.close()                                                # stops them

What it adds to ``dispatch.desk.DispatchDesk``:

- **Role checks and audit** for the console's decisions: ``assign``/``on_scene`` need ``alerts.dispatch``,
  ``close_alert`` ``alerts.close`` (checked by the store), ``place_unit`` ``alerts.dispatch``.
- **Drone units follow the fleet**: ``sync_drones()`` hands the fleet's snapshots to ``desk.sync_drones``.
- **Unit positions from the bus**: with ``[bus] type = "mqtt"``, ``dispatch.unit_feed.UnitPositionFeed``
  (``lookout/units/NAME/position`` JSON) feeds the desk.
- **Send a drone first**: ``send_drone(alert, actor)`` builds ``DroneSnapshot``s from the fleet, lets
  ``dispatch.drone_first.pick_drone`` choose (link, battery, GPS, EKF, role; a drone already sent to another
  alert is busy), then flies it: a drone on the ground takes off to ``[dispatch.drone] alt_rel_m`` first;
  GUIDED goto the spot at that altitude, and the gimbal/nose pointed at the spot (``flight.commands.set_roi``).
  ``DroneRefused`` (a ``DispatchError``) says why no drone can go.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from dispatch.clock import ResponseRecord
from dispatch.desk import DispatchDesk
from dispatch.drone_first import DroneChoice, DroneSnapshot, pick_drone
from dispatch.errors import DispatchError, ResponseError
from dispatch.response import Recommendation
from dispatch.roles import Actor
from dispatch.units import Unit
from lookout.access import authorize

log = logging.getLogger(__name__)
AuditFn = Callable[..., Any]
AIRBORNE_M = 3.0  # above this (relative altitude) a drone counts as flying: no takeoff first
BUSY_MODES = {"RTL": "returning home (RTL)", "LAND": "landing", "SMART_RTL": "returning home (SmartRTL)"}


@dataclass(frozen=True, slots=True)
class AreaShape:
    """A response area as the map draws it."""

    name: str
    label: str
    target_min: int
    ring: tuple[tuple[float, float], ...]  # (lat, lon), closed


@dataclass(frozen=True, slots=True)
class DroneSent:
    sysid: int
    name: str
    alert_id: int
    distance_m: float
    eta_s: float
    alt_rel_m: float
    took_off: bool
    roi: bool  # the gimbal/nose was pointed at the spot (ROI accepted)
    orbit: str = ""  # "3-turn orbit of 40 m": flying the orbit mission (fly_orbit), else a GUIDED goto

    def line(self) -> str:
        how = "taking off, then " if self.took_off else ""
        if self.orbit:
            how += f"a {self.orbit} around it, "
        roi = "" if self.roi else " (ROI refused: camera not pointed)"
        who = f"Drone #{self.sysid}" if self.name == f"#{self.sysid}" else self.name
        return (f"{who} sent to alert {self.alert_id}: {how}{self.distance_m:.0f} m at "
                f"{self.alt_rel_m:.0f} m, ETA {self.eta_s:.0f} s{roi}")  # fmt: skip


def drone_snapshots(states: Iterable[Any], busy: Mapping[int, str] | None = None,
                    names: Mapping[int, str] | None = None) -> list[DroneSnapshot]:  # fmt: skip
    """``flight.types.VehicleState`` -> ``DroneSnapshot`` (dispatch never imports flight)."""
    out = []
    for st in states:
        why = (busy or {}).get(st.sysid) or BUSY_MODES.get(st.mode)
        name = f"{names[st.sysid]} (#{st.sysid})" if names and st.sysid in names else f"#{st.sysid}"
        out.append(DroneSnapshot(name=name, sysid=st.sysid, lat_deg=st.lat_deg, lon_deg=st.lon_deg,
                                 battery_pct=st.battery_pct, gps_fix=st.gps_fix, link_age_s=st.link_age_s,
                                 ekf_ok=st.ekf_ok, busy=why))  # fmt: skip
    return out


def orbit_plan(lat_deg: float, lon_deg: float, alt_rel_m: float, radius_m: float = 40.0,
               turns: float = 3.0) -> Any:
    """A short orbit of the spot (``missions`` items): takeoff, camera on the spot (ROI), in to the circle,
    ``turns`` circles of ``radius_m`` around it (NAV_LOITER_TURNS), camera free, RTL."""
    from missions import mavcmd
    from missions.geo import LocalFrame
    from missions.types import Mission, MissionItem, Plan

    if not 10.0 <= radius_m <= 500.0 or not 0.5 <= turns <= 20:
        raise ResponseError(f"orbit of {radius_m:g} m x {turns:g} turns: use a radius of 10..500 m and 0.5..20 turns")
    entry_lat, entry_lon = LocalFrame(lat_deg, lon_deg).point_to_geo(0.0, radius_m)  # north of the spot
    items = (
        MissionItem(mavcmd.NAV_TAKEOFF, alt_m=alt_rel_m),
        MissionItem(mavcmd.DO_SET_ROI_LOCATION, lat_deg=lat_deg, lon_deg=lon_deg, alt_m=0.0),
        MissionItem(mavcmd.NAV_WAYPOINT, lat_deg=entry_lat, lon_deg=entry_lon, alt_m=alt_rel_m),
        MissionItem(mavcmd.NAV_LOITER_TURNS, param1=turns, param3=radius_m, lat_deg=lat_deg, lon_deg=lon_deg,
                    alt_m=alt_rel_m),
        MissionItem(mavcmd.DO_SET_ROI_NONE),
        MissionItem(mavcmd.NAV_RETURN_TO_LAUNCH),
    )
    return Plan(mission=Mission(items=items))


class Dispatching:
    """``DispatchDesk`` + the alert store + the fleet + the bus, for the console and the demo."""

    def __init__(self, desk: DispatchDesk, areas: Mapping[str, Any] | None = None, *, audit: AuditFn | None = None,
                 bus_url: str | None = None) -> None:  # fmt: skip
        self.desk = desk
        self._areas = dict(areas or {})  # [response_areas.NAME] (label, target) for the map
        self._audit = audit
        self._bus_url = bus_url
        self.store: Any = None  # dispatch.store.AlertStore (for close)
        self.fleet: Any = None  # console.services.FleetSource (FleetView)
        self.actions: Any = None  # lookout.wiring.FleetActions
        self.unit_feed: Any = None
        self.receiver: Any = None  # the demo's dispatch.receiver.DeskReceiver, shown in the console
        self.on_drone_sent: Callable[[int, int], None] | None = None  # (sysid, alert id), before it is flown
        self._sent: dict[int, int] = {}  # sysid -> alert id it was sent to
        self._lock = threading.Lock()
        self.sender_error: str | None = None

    @classmethod
    def open(cls, data_dir: Path, cfg: Any, *, audit: AuditFn | None = None) -> Dispatching:
        """The desk from ``[dispatch]``, ``[units]``, ``[response_areas]`` over ``[storage] alerts_url``
        (PostgreSQL) or ``<data_dir>/alerts.sqlite``."""
        from dispatch.backends import alerts_target

        target = alerts_target(getattr(cfg.storage, "alerts_url", None), Path(data_dir))
        desk = DispatchDesk(target, cfg.dispatch, cfg.units, cfg.response_areas, data_dir=Path(data_dir),
                            audit=audit)  # fmt: skip
        return cls(desk, cfg.response_areas, audit=audit, bus_url=cfg.bus.url if cfg.bus.type == "mqtt" else None)

    @property
    def on_change(self) -> Callable[..., None]:
        """The store's hook (``AlertStore(on_change=...)``): response clock and outbox rows in its transaction."""
        return self.desk.on_change

    def attach(self, *, store: Any = None, fleet: Any = None, actions: Any = None) -> Dispatching:
        if store is not None:
            self.store = store
        if fleet is not None:
            self.fleet = fleet
        if actions is not None:
            self.actions = actions
        return self

    def start(self, *, unit_feed: bool = True) -> Dispatching:
        """Start the outbox sender (one thread per sink) and, on an MQTT bus, the unit position feed.

        A sink that cannot start (e.g. its ``env:`` secret is unset) is one line in ``sender_error``
        and the log; the outbox keeps writing rows, delivered once the sender runs (nothing lost)."""
        try:
            self.desk.start_sender()
        except DispatchError as exc:
            self.sender_error = f"dispatch forwarding is off: {exc}"
            log.error("%s", self.sender_error)
        if unit_feed and self._bus_url and self.desk.unit_cfg:
            import os
            import socket

            from dispatch.unit_feed import UnitPositionFeed

            # one client id per process: two consoles with the same id would throw each other off the broker
            cid = f"lookout-units-{socket.gethostname()}-{os.getpid()}"[:64]
            self.unit_feed = UnitPositionFeed(self._bus_url, self.desk, client_id=cid)
        return self

    def close(self) -> None:
        if self.unit_feed is not None:
            self.unit_feed.close()
            self.unit_feed = None
        self.desk.close()

    # ---- what the console shows ----------------------------------------------------------------
    @property
    def source(self) -> Dispatching:
        """The panel's ``DispatchSource``: the desk's, except that a drone sent first is not offered again."""
        return self

    @property
    def outbox(self) -> Any:
        return self.desk.outbox

    def classify(self, alert: Any) -> Any:
        return self.desk.classify(alert)

    def record(self, alert_id: int) -> ResponseRecord | None:
        return self.desk.record(alert_id)

    def clock(self, alert_id: int, now: Any = None) -> Any:
        return self.desk.clock(alert_id, now)

    def recommend(self, alert: Any, now: Any = None) -> Recommendation:
        """``desk.recommend``, with drones already sent to an alert (drone first) moved to not offered."""
        rec = self.desk.recommend(alert, now)
        sent = self.sent_drones()
        if not sent:
            return rec
        busy = {u.name: sent[u.sysid] for u in self.desk.units() if u.sysid in sent}
        ranked = tuple(c for c in rec.ranked if c.unit.name not in busy)
        offered = {c.unit.name for c in rec.ranked}
        skipped = tuple((n, f"drone sent to alert {busy[n]}") for n in busy if n in offered)
        return Recommendation(ranked, rec.not_offered + skipped)

    def units(self) -> list[Unit]:
        """The unit board; a drone sent first shows as assigned to that alert (display only)."""
        sent = self.sent_drones()
        out = self.desk.units()
        if not sent:
            return out
        return [replace(u, status="assigned", alert_id=sent[u.sysid]) if u.sysid in sent and u.status == "available"
                else u for u in out]  # fmt: skip

    def areas(self) -> list[AreaShape]:
        out = []
        for name, ring in self.desk.areas.polygons().items():
            c = self._areas.get(name)
            label = (c.label if c is not None else None) or name
            out.append(AreaShape(name, label, c.target_min if c is not None else 5, tuple(ring)))
        return sorted(out, key=lambda a: -a.target_min)  # widest class drawn first, key sites on top

    def received(self) -> list[str]:
        """What the demo's dispatch desk received, newest last (empty without a receiver)."""
        return [] if self.receiver is None else [m.line() for m in self.receiver.received()]

    # ---- decisions (blocking: the console calls them off the GUI thread) -----------------------
    def assign(self, alert_id: int, unit: str, actor: Actor) -> ResponseRecord:
        authorize(actor, "alerts.dispatch", self._audit, f"alert {alert_id}")
        return self.desk.dispatch(alert_id, unit, actor.name)

    def on_scene(self, alert_id: int, actor: Actor) -> ResponseRecord:
        authorize(actor, "alerts.dispatch", self._audit, f"alert {alert_id}")
        return self.desk.on_scene(alert_id, actor.name)

    def close_alert(self, alert_id: int, actor: Actor, note: str = "") -> Any:
        if self.store is None:
            raise ResponseError("no alert store attached; close the alert with `lookout alerts close ID`")
        with self._lock:
            self._sent = {s: a for s, a in self._sent.items() if a != alert_id}
        return self.store.close(alert_id, actor, note)

    def place_unit(self, unit: str, lat_deg: float, lon_deg: float, actor: Actor) -> Unit:
        authorize(actor, "alerts.dispatch", self._audit, f"unit {unit}")
        u = self.desk.set_position(unit, lat_deg, lon_deg, source="manual")
        if self._audit is not None:
            self._audit(actor.name, "units.position", f"unit {unit}", lat_deg=lat_deg, lon_deg=lon_deg)
        return u

    def sync_drones(self) -> int:
        """Drone units take their vehicle's position from the fleet (writes only on real moves)."""
        if self.fleet is None:
            return 0
        return self.desk.sync_drones(self.fleet.snapshot().values())

    # ---- send a drone first ---------------------------------------------------------------------
    def choose_drone(self, alert: Any, actor: Actor | None, *, only: int | None = None) -> DroneChoice:
        """The drone that would go (``DroneRefused`` with every reason when none may)."""
        if alert.position is None:
            raise ResponseError(f"alert {alert.id} has no position; fly a drone there by hand (right-click the map)")
        if self.fleet is None or self.actions is None:
            raise ResponseError("no fleet in this console; a drone can be sent from a console with [links.*]")
        names = {u.sysid: u.callsign for u in self.units() if u.sysid is not None}
        with self._lock:
            busy = {s: f"sent to alert {a}" for s, a in self._sent.items() if a != alert.id}
        snaps = drone_snapshots(self.fleet.snapshot().values(), busy, names)
        if only is not None:  # the drone the pilot confirmed, still ready?
            snaps = [d for d in snaps if d.sysid == only]
        return pick_drone(snaps, alert.position.lat_deg, alert.position.lon_deg, self.desk.cfg, actor)

    def send_drone(self, alert: Any, actor: Actor | None, progress: Callable[[str], None] | None = None,
                   *, climb_timeout_s: float = 90.0) -> DroneSent:  # fmt: skip
        """Fly the chosen drone to the alert: takeoff when on the ground, GUIDED goto at the safe altitude, ROI."""
        from flight import commands

        choice = self.choose_drone(alert, actor)
        sysid, alt = choice.drone.sysid, choice.alt_rel_m
        lat, lon = choice.lat_deg, choice.lon_deg
        say = progress or (lambda _m: None)
        with self._sending(sysid, alert.id):  # e.g. the demo ends that drone's patrol first
            st = self.fleet.snapshot().get(sysid)
            took_off = self._take_off_unless_flying(sysid, st, alt, f"alert {alert.id}", say, climb_timeout_s)
            self.actions.goto(sysid, lat, lon, alt)  # GUIDED + position target (audited, role-checked)
            roi = True
            try:
                commands.set_roi(self.fleet.link(sysid), lat, lon, 0.0, sysid)
            except Exception as exc:  # the drone still goes; the pilot points the camera by hand
                roi = False
                log.warning("drone #%d: ROI on alert %d refused: %s", sysid, alert.id, exc)
        sent = DroneSent(sysid, choice.drone.name, alert.id, choice.distance_m, choice.eta_s, alt, took_off, roi)
        if self._audit is not None:
            self._audit(actor.name if actor else "lookout", "alerts.drone_sent", f"alert {alert.id}", sysid=sysid,
                        distance_m=round(choice.distance_m), alt_rel_m=alt, took_off=took_off, roi=roi)  # fmt: skip
        return sent

    def fly_orbit(self, alert: Any, actor: Actor | None, *, sysid: int | None = None, radius_m: float = 40.0,
                  turns: float = 3.0, progress: Callable[[str], None] | None = None,
                  climb_timeout_s: float = 90.0) -> DroneSent:  # fmt: skip
        """The pilot confirmed it: the chosen drone (``sysid``, else the nearest ready one) flies a short
        orbit mission around the alert (``orbit_plan``) in AUTO: checked against the vehicle
        (``flight.plan_check``), uploaded, then AUTO; a drone on the ground takes off first. Returns once
        the mission runs (it ends with RTL)."""
        from flight import commands
        from flight.mission_transfer import upload_plan
        from flight.plan_check import check_before_upload

        if actor is not None:
            authorize(actor, "flight.run", self._audit, f"alert {alert.id}")
        choice = self.choose_drone(alert, actor, only=sysid)
        sid, alt = choice.drone.sysid, choice.alt_rel_m
        plan = orbit_plan(choice.lat_deg, choice.lon_deg, alt, radius_m, turns)
        say = progress or (lambda _m: None)
        link = self.fleet.link(sid)
        with self._sending(sid, alert.id):
            check_before_upload(link, plan, sid, wait_s=5.0)  # UnsafePlan: nothing uploaded
            st = self.fleet.snapshot().get(sid)
            took_off = self._take_off_unless_flying(sid, st, alt, f"the orbit of alert {alert.id}", say,
                                                    climb_timeout_s)  # fmt: skip
            if not took_off and st is not None and st.mode == "AUTO":
                self.actions.set_mode(sid, "GUIDED")  # hold while the new mission goes up
            upload_plan(link, plan, sysid=sid)
            self.actions.set_mode(sid, "AUTO")
            with contextlib.suppress(Exception):  # ArduCopter starts AUTO by itself when flying; PX4 wants this
                if link.state(sid).autopilot == "px4":
                    commands.mission_start(link, sid)
        if self._audit is not None:
            self._audit(actor.name if actor else "lookout", "alerts.drone_orbit", f"alert {alert.id}", sysid=sid,
                        radius_m=radius_m, turns=turns, alt_rel_m=alt, took_off=took_off)  # fmt: skip
        return DroneSent(sid, choice.drone.name, alert.id, choice.distance_m, choice.eta_s, alt, took_off, True,
                         orbit=f"{turns:g}-turn orbit of {radius_m:g} m")  # fmt: skip

    def sent_drones(self) -> dict[int, int]:
        with self._lock:
            return dict(self._sent)

    @contextlib.contextmanager
    def _sending(self, sysid: int, alert_id: int) -> Iterator[None]:
        """``sysid`` counts as sent to ``alert_id`` (``on_drone_sent`` told) unless the block raises."""
        with self._lock:
            self._sent[sysid] = alert_id
        try:
            if self.on_drone_sent is not None:
                self.on_drone_sent(sysid, alert_id)
            yield
        except BaseException:
            with self._lock:
                self._sent.pop(sysid, None)
            raise

    def _take_off_unless_flying(self, sysid: int, st: Any, alt: float, why: str, say: Callable[[str], None],
                                climb_timeout_s: float) -> bool:  # fmt: skip
        """A drone not flying (no snapshot, disarmed, below ``AIRBORNE_M``) takes off to ``alt`` and climbs
        part way before it goes on; True when it took off."""
        if st is not None and st.armed and (st.alt_rel_m or 0.0) >= AIRBORNE_M:
            return False
        say(f"#{sysid} taking off to {alt:.0f} m for {why}")
        self.actions.takeoff(sysid, alt)
        self._wait_climb(sysid, min(AIRBORNE_M * 2, alt * 0.5), climb_timeout_s)
        return True

    def _wait_climb(self, sysid: int, alt_m: float, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            st = self.fleet.snapshot().get(sysid)
            if st is not None and (st.alt_rel_m or 0.0) >= alt_m:
                return
            time.sleep(0.1)
        raise ResponseError(f"drone #{sysid} did not climb to {alt_m:.0f} m within {timeout_s:.0f} s; "
                            "check it in the fleet table (mode, arming)")  # fmt: skip

