"""``lookout plan``: plan patrol missions from places, check plans before upload, convert formats.

lookout plan KIND INPUT.geojson [options] -o OUT   # KIND: coverage|perimeter|shoreline|route|points
lookout plan check FILE [--fence F]                # exit 1 and list every violation
lookout plan convert IN OUT                        # .plan <-> .waypoints <-> .geojson <-> .kml
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from lookout.context import Context
from missions import Plan, load_plan, save_plan
from missions.errors import MissionError
from missions.fenceio import load_fence
from missions.places import load_places
from missions.planners.api import PLAN_KINDS, plan
from missions.planners.common import Camera, PlanOptions
from missions.validate import check_plan


def _latlon(text: str) -> tuple[float, float]:
    try:
        lat, lon = (float(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected LAT,LON in degrees, got {text!r}") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise argparse.ArgumentTypeError(f"LAT,LON out of range: {text!r}")
    return lat, lon


def _fraction(text: str) -> float:
    v = float(text.rstrip("%"))
    return v / 100 if v > 1 or text.endswith("%") else v


def _kind_parser(sub: argparse._SubParsersAction, kind: str) -> None:
    helps = {
        "coverage": "lawnmower over areas (camera footprint, overlap, best sweep angle)",
        "perimeter": "fly each area's boundary inset, camera looking inward",
        "shoreline": "follow lake shores / both river banks at a stand-off, camera on the water",
        "route": "follow roads, optionally a corridor wider than one footprint",
        "points": "visit key points in a short loop, loiter or orbit at each",
    }
    p = sub.add_parser(kind, help=helps[kind], description=helps[kind])
    p.add_argument("input", type=Path, metavar="INPUT", help="places: .geojson (kind/name/priority) or .kml")
    p.add_argument("-o", "--output", type=Path, required=True, help="plan to write: .plan/.waypoints/.geojson/.kml")
    p.add_argument("--alt", type=float, default=50.0, help="altitude above home, m (default 50)")
    p.add_argument("--speed", type=float, default=None, help="ground speed m/s (default: vehicle profile)")
    p.add_argument("--home", type=_latlon, default=None, metavar="LAT,LON", help="take-off/home position")
    p.add_argument("--hfov", type=float, default=None, help="camera horizontal FOV deg (default: config)")
    p.add_argument("--vfov", type=float, default=None, help="camera vertical FOV deg")
    p.add_argument("--sensor-mm", type=float, default=None, help="sensor width mm (with --focal-mm, instead of FOV)")
    p.add_argument("--focal-mm", type=float, default=None, help="lens focal length mm")
    p.add_argument("--overlap", type=_fraction, default=0.3, help="side overlap, 0..0.9 or %% (default 0.3)")
    p.add_argument("--front-overlap", type=_fraction, default=0.7, help="front overlap (photo trigger spacing)")
    p.add_argument("--angle", type=float, default=None, help="coverage sweep angle deg from east (default: best)")
    p.add_argument("--inset", type=float, default=None, help="perimeter inset m (default half a footprint)")
    p.add_argument("--standoff", type=float, default=30.0, help="shoreline distance from the water m")
    p.add_argument("--corridor", type=float, default=0.0, help="route corridor width m (0 = centre line)")
    p.add_argument("--loiter-s", type=float, default=30.0, help="points: seconds at each point")
    p.add_argument("--orbit", type=float, default=0.0, metavar="R", help="points: orbit radius m (0 = hover above)")
    p.add_argument("--by-priority", action="store_true", help="visit priority 1 first, then 3, then 5")
    p.add_argument("--repeat", type=int, default=1, help="patrol cycles (DO_JUMP)")
    p.add_argument("--on-station-min", type=float, default=0.0, help="repeat cycles to stay at least this long")
    p.add_argument("--fence", type=Path, default=None, help="geofence file to attach (.plan/.geojson/.kml)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=run_kind, kind=kind)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "plan",
        help="plan, check and convert patrol missions",
        description="Plan patrol missions from places, check plans, convert plan files.",
    )
    p.set_defaults(needs_data_dir=False)
    acts = p.add_subparsers(dest="action", metavar="ACTION")
    acts.required = True
    for kind in PLAN_KINDS:
        _kind_parser(acts, kind)
    c = acts.add_parser("check", help="validate a plan: fence, no-fly, altitude, distance, battery, first/last")
    c.add_argument("file", type=Path)
    c.add_argument("--fence", type=Path, default=None, help="extra fence/no-fly file (.plan/.geojson/.kml)")
    c.add_argument("--vehicle", default=None, help="vehicle profile name from [missions.vehicles]")
    c.add_argument("--max-alt", type=float, default=None, help="override the altitude limit m")
    c.add_argument("--max-distance", type=float, default=None, help="override the distance-from-home limit m")
    c.set_defaults(func=run_check)
    v = acts.add_parser("convert", help="convert between .plan, .waypoints, .geojson and .kml")
    v.add_argument("src", type=Path, metavar="IN")
    v.add_argument("dst", type=Path, metavar="OUT")
    v.set_defaults(func=run_convert)


def run_kind(args: argparse.Namespace, ctx: Context) -> int:
    cfg = ctx.config.missions
    vehicle = cfg.vehicles[cfg.default_vehicle]
    camera = Camera(
        hfov_deg=None if args.sensor_mm and args.focal_mm and args.hfov is None else (args.hfov or cfg.camera.hfov_deg),
        vfov_deg=args.vfov if args.vfov is not None else cfg.camera.vfov_deg,
        sensor_w_mm=args.sensor_mm,
        focal_mm=args.focal_mm,
    )
    opts = PlanOptions(
        alt_m=args.alt,
        speed_m_s=args.speed or vehicle.cruise_speed_m_s,
        home=args.home,
        camera=camera,
        side_overlap=args.overlap,
        front_overlap=args.front_overlap,
        sweep_angle_deg=args.angle,
        inset_m=args.inset,
        standoff_m=args.standoff,
        corridor_m=args.corridor,
        loiter_s=args.loiter_s,
        orbit_radius_m=args.orbit,
        by_priority=args.by_priority,
        repeat=args.repeat,
        on_station_s=args.on_station_min * 60,
        climb_m_s=vehicle.climb_m_s,
        descent_m_s=vehicle.descent_m_s,
    )
    places = load_places(args.input)
    fence = load_fence(args.fence) if args.fence else ()
    result = plan(args.kind, places, opts)
    out_plan = Plan(result.mission, fence)
    problems = check_plan(out_plan, cfg, vehicle)
    save_plan(out_plan, args.output)
    s = result.summary
    if args.json:
        print(
            json.dumps(
                {**s.as_dict(), "items": len(result.mission), "output": str(args.output), "violations": problems}
            )
        )
    else:
        print(f"{args.kind}: {len(result.mission)} items -> {args.output}")
        print(
            f"  length {s.length_m / 1000:.2f} km, flight {s.flight_time_s / 60:.1f} min, photos {s.photos}, "
            f"coverage {s.coverage_pct:.1f}%, cycles {s.cycles}"
            + (f", sweep {s.sweep_angle_deg:.0f} deg" if s.sweep_angle_deg is not None else "")
        )
        for n in s.notes:
            print(f"  {n}")
    for p in problems:
        print(f"warning: {p}", file=sys.stderr)
    return 0


def run_check(args: argparse.Namespace, ctx: Context) -> int:
    cfg = ctx.config.missions
    update = {k: v for k, v in (("max_alt_m", args.max_alt), ("max_distance_m", args.max_distance)) if v is not None}
    if update:
        cfg = cfg.model_copy(update=update)
    name = args.vehicle or cfg.default_vehicle
    if name not in cfg.vehicles:
        raise MissionError(f"vehicle profile {name!r} not in [missions.vehicles] ({', '.join(sorted(cfg.vehicles))})")
    plan_ = load_plan(args.file)
    fence = load_fence(args.fence) if args.fence else ()
    problems = check_plan(plan_, cfg, cfg.vehicles[name], fence)
    if not problems:
        from missions.summary import summarize

        print(f"{args.file}: OK ({len(plan_.mission)} items, vehicle {name!r})")
        for line in summarize(plan_, cfg, cfg.vehicles[name]).lines()[1:]:  # what the console's Plan view shows
            print(f"{args.file}: {line}")
        return 0
    for p in problems:
        print(f"{args.file}: {p}")
    print(f"lookout plan check: {args.file}: {len(problems)} violation(s)", file=sys.stderr)
    return 1


def run_convert(args: argparse.Namespace, ctx: Context) -> int:
    p = load_plan(args.src)
    save_plan(p, args.dst)
    print(f"{args.src} -> {args.dst}: {len(p.mission)} mission, {len(p.fence)} fence, {len(p.rally)} rally items")
    return 0
