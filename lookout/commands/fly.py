"""``lookout fly --connect URL [--sysid N] ACTION``: fly one vehicle from the command line.

ACTION: status | arm | disarm | mode NAME | takeoff ALT | goto LAT LON ALT | rtl | land | pause
      | continue | upload FILE | download FILE | run FILE | setup-signing KEY
``upload`` and ``run`` first check the plan against the vehicle as it is (distance from it and its
home, coordinates, altitude, fence, battery; limits in [missions]) and refuse an unsafe plan with
nothing sent. ``run`` then uploads, arms, takes off, flies AUTO with "waypoint k/n" progress and waits for
landing; exit 0 on success, 1 with one clear reason (e.g. the vehicle's PreArm text) otherwise.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from flight import Link, commands
from flight.errors import MissionTransferError
from flight.types import VehicleState
from lookout.context import Context

ACTIONS = ("status", "arm", "disarm", "mode", "takeoff", "goto", "rtl", "land", "pause", "continue", "upload",
           "download", "run", "setup-signing")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("fly", help="fly a vehicle over MAVLink: status, arm, mode, takeoff, goto, upload, run ...",
                       description=(__doc__ or "").replace("``", ""),
                       formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument(
        "--connect",
        required=True,
        metavar="URL",
        help="pymavlink URL: tcp:127.0.0.1:5760, udp:0.0.0.0:14550, udpout:HOST:PORT, /dev/ttyUSB0,57600",
    )
    p.add_argument("--sysid", type=int, default=None, metavar="N", help="vehicle system id (default: first heard)")
    p.add_argument("--wait", type=float, default=10.0, metavar="S", help="seconds to wait for a heartbeat (10)")
    p.add_argument("--signing-key", default=None, metavar="KEY", help="MAVLink2 signing key: 64 hex chars or env:VAR")
    p.add_argument("--no-tlog", action="store_true", help="do not record a .tlog in <data dir>/tlogs")
    p.add_argument("--user", default=None, metavar="NAME",
                   help="act as this user once users exist (password from $LOOKOUT_PASSWORD or a prompt)")  # fmt: skip
    acts = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    acts.add_parser("status", help="print the vehicle's state")
    acts.add_parser("arm", help="arm (prints the pre-arm reason if refused)")
    acts.add_parser("disarm", help="disarm")
    acts.add_parser("mode", help="change flight mode").add_argument("name", help="GUIDED, AUTO, RTL, LOITER ...")
    acts.add_parser("takeoff", help="take off (armed, GUIDED)").add_argument("alt", type=float, help="m above home")
    g = acts.add_parser("goto", help="fly to a point (GUIDED)")
    g.add_argument("lat", type=float)
    g.add_argument("lon", type=float)
    g.add_argument("alt", type=float, help="m above home")
    acts.add_parser("rtl", help="return to launch")
    acts.add_parser("land", help="land here")
    acts.add_parser("pause", help="hold position in AUTO/GUIDED (MAV_CMD_DO_PAUSE_CONTINUE)")
    acts.add_parser("continue", help="continue after pause")
    acts.add_parser("setup-signing", help="give the vehicle a MAVLink2 signing key (SETUP_SIGNING); then it ignores "
                    "unsigned links except its first port").add_argument("key", help="64 hex chars or env:VAR")
    acts.add_parser("upload", help="upload a plan file (mission, fence, rally)").add_argument("file", type=Path)
    acts.add_parser("download", help="download mission/fence/rally to a file").add_argument("file", type=Path)
    r = acts.add_parser("run", help="check, upload, arm, take off, AUTO, wait for landing")
    r.add_argument("file", type=Path, help=".plan, .waypoints, .geojson or .kml")
    r.add_argument(
        "--ready-timeout",
        type=float,
        default=30.0,
        metavar="S",
        help="wait this long for GPS/EKF before asking the vehicle to arm (30)",
    )
    r.add_argument("--timeout", type=float, default=3600.0, metavar="S", help="give up after this long (3600)")
    p.set_defaults(func=run)


def _signing_key(args: argparse.Namespace, ctx: Context) -> str | None:
    if args.signing_key:
        return args.signing_key
    for cfg in ctx.config.links.values():
        if cfg.url == args.connect and cfg.signing_key:
            return cfg.signing_key
    return None


# the role permission each action needs (dispatch.roles.may); status and download only read
_ROLE_ACTION = {"arm": "flight.arm", "disarm": "flight.arm", "mode": "flight.mode", "takeoff": "flight.takeoff",
                "goto": "flight.goto", "rtl": "flight.rtl", "land": "flight.land", "upload": "flight.upload",
                "run": "flight.run", "pause": "flight.mode", "continue": "flight.mode",
                "setup-signing": "users.manage"}  # fmt: skip


def run(args: argparse.Namespace, ctx: Context) -> int:
    from lookout.access import authorize, resolve_actor

    actor = resolve_actor(ctx.data_dir, args.user, audit=ctx.audit().append)  # before any link is opened
    if args.action in _ROLE_ACTION:
        authorize(actor, _ROLE_ACTION[args.action], ctx.audit().append, f"fly {args.action} via {args.connect}")
    tlog_dir = None if args.no_tlog else ctx.data_dir / "tlogs"
    with Link.open(args.connect, sysid=args.sysid, signing_key=_signing_key(args, ctx), tlog_dir=tlog_dir,
                   wait_heartbeat_s=args.wait) as link:  # fmt: skip
        sid = link.default_sysid()
        if args.action != "status":  # who told which drone to do what, and when
            detail = {k: str(v) for k, v in vars(args).items() if k in ("name", "alt", "lat", "lon", "file")}
            ctx.audit().append(actor.name, f"fly {args.action}", f"sysid {sid} via {args.connect}", **detail)
        args.plan_limits = _plan_limits(ctx)  # upload/run check the plan against this vehicle first
        return _ACTIONS[args.action](link, sid, args)


def _plan_limits(ctx: Context):  # type: ignore[no-untyped-def]
    from flight.plan_check import PlanLimits

    return PlanLimits.from_config(ctx.config.missions)


def _status(link: Link, sid: int, args: argparse.Namespace) -> int:
    link.wait_state(lambda s: s.lat_deg is not None and s.battery_pct is not None, sysid=sid, timeout_s=3.0)
    print(format_state(link.state(sid)))
    return 0


def format_state(s: VehicleState) -> str:
    def f(v: float | None, fmt: str = ".1f", unit: str = "") -> str:
        return "?" if v is None else f"{v:{fmt}}{unit}"

    lines = [
        f"vehicle {s.sysid}/{s.compid}  {s.autopilot} {s.vehicle_type}  mode {s.mode}  "
        f"{'ARMED' if s.armed else 'disarmed'}  {s.system_status}  link {'ok' if s.link_ok else 'LOST'}",
        f"position {f(s.lat_deg, '.7f')}, {f(s.lon_deg, '.7f')}  alt {f(s.alt_rel_m, '.1f', ' m')} rel "
        f"({f(s.alt_amsl_m, '.1f', ' m')} AMSL)  heading {f(s.heading_deg, '.0f')}  "
        f"speed {s.groundspeed_m_s:.1f} m/s  landed {s.landed_state}",
        f"battery {f(s.battery_pct, '.0f', '%')} {f(s.battery_v, '.2f', ' V')}  GPS fix {s.gps_fix} "
        f"({s.gps_sats} sats)  EKF {'ok' if s.ekf_ok else 'NOT ok'}  pre-arm "
        f"{'?' if s.prearm_ok is None else ('ok' if s.prearm_ok else 'FAILING')}",
        f"home {f(s.home_lat_deg, '.7f')}, {f(s.home_lon_deg, '.7f')}  mission item {s.mission_seq}"
        f"{'/' + str(s.mission_total) if s.mission_total else ''}",
    ]
    lines += [f"  text: {t}" for t in s.statustexts[-5:]]
    return "\n".join(lines)


def _simple(name: str):  # type: ignore[no-untyped-def]
    def act(link: Link, sid: int, args: argparse.Namespace) -> int:
        if name in ("arm", "takeoff") and not link.state(sid).armed:  # the pre-flight gate (flight.preflight)
            from flight.preflight import require

            require(link, sid, name, limits=args.plan_limits)
        if name == "arm":
            commands.arm(link, sid)
        elif name == "disarm":
            commands.disarm(link, sid)
        elif name == "mode":
            commands.set_mode(link, args.name, sid)
        elif name == "takeoff":
            commands.takeoff(link, args.alt, sid)
        elif name == "goto":
            commands.goto(link, args.lat, args.lon, args.alt, sid)
        elif name == "rtl":
            commands.rtl(link, sid)
        elif name == "land":
            commands.land(link, sid)
        elif name == "pause":
            commands.pause(link, sid)
        elif name == "continue":
            commands.resume(link, sid)
        print(f"{name}: ok (vehicle {sid}, mode {link.state(sid).mode})")
        return 0

    return act


def _printer(label: str):  # type: ignore[no-untyped-def]
    last = [-1]

    def show(done: int, total: int) -> None:
        step = max(1, total // 10)
        if done != last[0] and done > 0 and (done == total or done % step == 0):
            last[0] = done
            print(f"{label} {done}/{total}", flush=True)

    return show


def _load(path: Path):  # type: ignore[no-untyped-def]
    from missions import load_plan  # lazy: missions pulls in shapely/numpy

    return load_plan(path)


def _upload(link: Link, sid: int, args: argparse.Namespace) -> int:
    from flight.autorun import check_plan_basic
    from flight.mission_transfer import upload_plan
    from flight.plan_check import check_before_upload

    plan = _load(args.file)
    check_plan_basic(plan)
    checked = check_before_upload(link, plan, sid, args.plan_limits, wait_s=args.wait)
    for line in (*checked.notes, checked.summary()):
        print(f"check: {line}", flush=True)
    upload_plan(link, plan, sysid=sid, progress=_printer("upload"))
    print(f"uploaded {len(plan.mission.items)} mission, {len(plan.fence)} fence, {len(plan.rally)} rally items "
          f"to vehicle {sid}")  # fmt: skip
    return 0


def _download(link: Link, sid: int, args: argparse.Namespace) -> int:
    from flight.mission_transfer import download_fence, download_mission, download_rally
    from missions import Plan, save_plan

    mission = download_mission(link, sysid=sid, progress=_printer("download"))
    extra = {}
    for kind, fn in (("fence", download_fence), ("rally", download_rally)):
        try:
            extra[kind] = fn(link, sysid=sid, item_timeout_s=1.0, retries=2)
        except MissionTransferError as exc:
            print(f"note: {kind} not downloaded ({exc})", file=sys.stderr)
    plan = Plan(mission=mission, fence=extra.get("fence", ()), rally=extra.get("rally", ()))
    save_plan(plan, args.file)
    print(f"downloaded {len(mission.items)} mission, {len(plan.fence)} fence, {len(plan.rally)} rally items "
          f"to {args.file}")  # fmt: skip
    return 0


def _run(link: Link, sid: int, args: argparse.Namespace) -> int:
    from flight.autorun import RunProgress, fly_mission

    plan = _load(args.file)
    upload = _printer("upload")

    def show(p: RunProgress) -> None:
        if p.stage == "upload":
            upload(p.done, p.total)
        elif p.stage == "waypoint":
            print(f"waypoint {p.done}/{p.total}", flush=True)
        else:
            print(f"{p.stage}: {p.text}" if p.text else p.stage, flush=True)

    final = fly_mission(link, plan, sysid=sid, progress=show, ready_timeout_s=args.ready_timeout,
                        flight_timeout_s=args.timeout, limits=args.plan_limits)  # fmt: skip
    print(
        f"done: vehicle {sid} landed and disarmed at {final.lat_deg:.6f}, {final.lon_deg:.6f}"
        if final.lat_deg is not None
        else f"done: vehicle {sid} landed and disarmed"
    )
    return 0


def _setup_signing(link: Link, sid: int, args: argparse.Namespace) -> int:
    from flight.signing import setup_signing

    setup_signing(link, args.key, sid)
    link.wait_state(lambda s: s.link_ok, sysid=sid, timeout_s=2.0)
    print(f"setup-signing: key sent to vehicle {sid}; connect with --signing-key (or [links.NAME] signing_key)")
    return 0


_ACTIONS = {name: _simple(name) for name in ("arm", "disarm", "mode", "takeoff", "goto", "rtl", "land", "pause",
                                             "continue")}  # fmt: skip
_ACTIONS.update({"status": _status, "upload": _upload, "download": _download, "run": _run,
                 "setup-signing": _setup_signing})  # fmt: skip
