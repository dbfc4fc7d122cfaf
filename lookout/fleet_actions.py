"""The console's fleet services over ``flight``: ``FleetView`` (``console.services.FleetSource``) and
``FleetActions`` (``console.services.FlightActions`` and ``MissionActions``), every command audited.

Built by ``lookout.wiring`` (which re-exports both) and ``lookout.demo``.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from flight import Fleet, Link, commands
from flight.errors import FlightError, NoVehicle
from flight.mission_transfer import download_mission
from flight.types import VehicleState
from missions import load_plan

_NAV_WITH_POSITION = {16, 17, 18, 19, 21, 22, 82}  # waypoint, loiters, land, takeoff, spline


class FleetView:
    """``console.services.FleetSource`` over a ``flight.Fleet`` (vehicles keyed by sysid)."""

    def __init__(self, fleet: Fleet) -> None:
        self.fleet = fleet

    def snapshot(self) -> Mapping[int, VehicleState]:
        return {st.sysid: st for st in self.fleet.states().values()}

    def link(self, sysid: int) -> Link:
        for (name, sid), _ in self.fleet.states().items():
            if sid == sysid:
                return self.fleet.links[name]
        raise NoVehicle("any configured link", sysid, 0)


AuditFn = Callable[..., Any]  # lookout.audit.AuditLog.append(actor, action, subject, **detail)


class FleetActions:
    """``console.services.FlightActions`` over ``flight.commands`` and ``flight.autorun``.

    Every command is written to the audit log (``audit``), with its outcome, before it returns or raises.
    """

    def __init__(self, view: FleetView, audit: AuditFn | None = None, actor: Any = None, *,
                 plan_limits: Any = None) -> None:  # fmt: skip
        """``actor``: a name for the audit log (no role check), or a ``dispatch.roles.Actor`` whose role is checked.
        ``plan_limits``: ``flight.plan_check.PlanLimits`` for "fly plan" (default: the built-in limits)."""
        self.view = view
        self._plan_limits = plan_limits
        self._audit = audit
        self._user: Any = None  # dispatch.roles.Actor once someone logged in
        self._actor = f"console:{getpass.getuser()}"
        self.set_actor(actor)

    def set_actor(self, actor: Any) -> None:
        """Who is working now (the console's login): an ``Actor`` (role checked per command), a name, or None."""
        if isinstance(actor, str):
            self._user, self._actor = None, actor or self._actor
        elif actor is not None:
            self._user, self._actor = actor, actor.name

    def _do(self, action: str, sysid: int, fn: Callable[[Link], object], **detail: Any) -> None:
        if self._user is not None:  # refuse what the role may not do, whoever calls (audited as "denied")
            from lookout.access import authorize

            need = {"disarm": "flight.arm", "fly_plan": "flight.run",
                    "gimbal": "flight.mode", "roi": "flight.mode", "photo": "flight.mode"}.get(action)
            need = need or f"flight.{action}"
            authorize(self._user, need, self._audit, f"vehicle {sysid}")
        outcome = "ok"
        try:
            fn(self.view.link(sysid))
        except Exception as exc:
            outcome = f"failed: {exc}"
            raise
        finally:
            if self._audit is not None:
                self._audit(self._actor, f"flight.{action}", f"vehicle {sysid}", outcome=outcome, **detail)

    def arm(self, sysid: int) -> None:
        def go(link: Link) -> None:
            _gate(link, sysid, "arm")
            commands.arm(link, sysid)

        self._do("arm", sysid, go)

    def disarm(self, sysid: int) -> None:
        self._do("disarm", sysid, lambda link: commands.disarm(link, sysid))

    def set_mode(self, sysid: int, mode: str) -> None:
        self._do("mode", sysid, lambda link: commands.set_mode(link, mode, sysid), mode=mode)

    def takeoff(self, sysid: int, alt_rel_m: float) -> None:
        def go(link: Link) -> None:
            _gate(link, sysid, "takeoff")
            if link.state(sysid).mode != "GUIDED":
                commands.set_mode(link, "GUIDED", sysid)
            if not link.state(sysid).armed:
                commands.arm(link, sysid)
            commands.takeoff(link, alt_rel_m, sysid)

        self._do("takeoff", sysid, go, alt_rel_m=alt_rel_m)

    def goto(self, sysid: int, lat_deg: float, lon_deg: float, alt_rel_m: float) -> None:
        def go(link: Link) -> None:
            if link.state(sysid).mode != "GUIDED":
                commands.set_mode(link, "GUIDED", sysid)
            commands.goto(link, lat_deg, lon_deg, alt_rel_m, sysid)

        self._do("goto", sysid, go, lat_deg=lat_deg, lon_deg=lon_deg, alt_rel_m=alt_rel_m)

    def rtl(self, sysid: int) -> None:
        self._do("rtl", sysid, lambda link: commands.rtl(link, sysid))

    def land(self, sysid: int) -> None:
        self._do("land", sysid, lambda link: commands.land(link, sysid))

    def fly_plan(self, sysid: int, path: Path, progress: Callable[[str], None]) -> None:
        from flight.autorun import fly_mission

        plan = load_plan(path)

        def fly(link: Link) -> None:
            fly_mission(link, plan, sysid=sysid, progress=lambda p: progress(f"#{sysid} {p}"),
                        limits=self._plan_limits)  # fmt: skip

        self._do("fly_plan", sysid, fly, plan=str(path), items=len(plan.mission.items))

    def preflight(self, sysid: int, action: str) -> Any:
        """The pre-flight checklist of ``action`` (``flight.preflight.Checklist``), read from the vehicle."""
        from flight.preflight import gather

        return gather(self.view.link(sysid), sysid, action, limits=self._plan_limits, settle_s=0.5)

    def set_gimbal(self, sysid: int, pitch_deg: float, yaw_deg: float) -> None:
        self._do("gimbal", sysid, lambda link: commands.set_gimbal(link, pitch_deg, yaw_deg, sysid),
                 gimbal_pitch_deg=pitch_deg, gimbal_yaw_deg=yaw_deg)  # fmt: skip

    def set_roi(self, sysid: int, lat_deg: float, lon_deg: float) -> None:
        self._do("roi", sysid, lambda link: commands.set_roi(link, lat_deg, lon_deg, 0.0, sysid),
                 roi_lat_deg=lat_deg, roi_lon_deg=lon_deg)  # fmt: skip

    def take_photo(self, sysid: int) -> None:
        self._do("photo", sysid, lambda link: commands.trigger_camera(link, sysid))

    def mission_path(self, sysid: int) -> Sequence[tuple[float, float]]:
        mission = download_mission(self.view.link(sysid), sysid=sysid)
        return [(i.lat_deg, i.lon_deg) for i in mission.items if i.command in _NAV_WITH_POSITION and i.lat_deg]

    # ---- the console's Plan view (console.services.MissionActions) -------------------------------
    def upload_plan(self, sysid: int, plan: Any, progress: Callable[[int, int], None] | None = None) -> None:
        """Check ``plan`` against the vehicle (``flight.plan_check``, as ``lookout fly upload``), then send
        mission, fence and rally; ``progress(done, total)`` counts items."""
        from flight.mission_transfer import upload_plan
        from flight.plan_check import check_before_upload

        def up(link: Link) -> None:
            check_before_upload(link, plan, sysid, self._plan_limits, wait_s=5.0)
            upload_plan(link, plan, sysid=sysid, progress=progress)

        self._do("upload", sysid, up, items=len(plan.mission.items), fence=len(plan.fence), rally=len(plan.rally))

    def start_mission(self, sysid: int) -> None:
        """Fly the uploaded mission: on the ground GUIDED, arm, take off to its TAKEOFF altitude, then AUTO;
        in the air AUTO at once."""
        from flight.autorun import takeoff_altitude

        def go(link: Link) -> None:
            _gate(link, sysid, "mission start")
            if not link.state(sysid).armed:
                alt = takeoff_altitude(download_mission(link, sysid=sysid).items)
                commands.set_mode(link, "GUIDED", sysid)
                commands.arm(link, sysid)
                commands.takeoff(link, alt, sysid)
                link.wait_state(lambda s: (s.alt_rel_m or 0.0) >= 0.9 * alt or not s.armed, sysid=sysid,
                                timeout_s=max(30.0, alt * 3))  # fmt: skip
            commands.set_mode(link, "AUTO", sysid)

        self._do("run", sysid, go)

    def pause_mission(self, sysid: int) -> None:
        """Hold where it is (BRAKE, as QGC pauses an ArduCopter; LOITER when BRAKE is refused)."""
        def hold(link: Link) -> None:
            try:
                commands.set_mode(link, "BRAKE", sysid)
            except FlightError:  # a vehicle without BRAKE (plane, PX4) holds in LOITER
                commands.set_mode(link, "LOITER", sysid)

        self._do("mode", sysid, hold, mode="BRAKE")

    def resume_mission(self, sysid: int) -> None:
        """Continue the mission from its current item (AUTO)."""
        self._do("mode", sysid, lambda link: commands.set_mode(link, "AUTO", sysid), mode="AUTO")


def _gate(link: Link, sysid: int, action: str) -> None:
    """The pre-flight gate's blocking items from the vehicle's state, whoever calls (the console's
    dialogs show the full checklist first; the plan is checked at upload). Armed: nothing to check."""
    from dataclasses import replace

    from flight.preflight import PreflightRefused, evaluate

    st = link.state(sysid)
    if st.armed:
        return
    gate = evaluate(st, "arm")  # plan and fence are checked at upload (check_before_upload)
    if not gate.ok:
        raise PreflightRefused(replace(gate, action=action))
