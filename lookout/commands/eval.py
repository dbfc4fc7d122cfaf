"""``lookout eval DIR``: run the detectors and behaviour rules over labelled clips and print, per event
kind, recall, precision, false alarms per camera-hour and detection delay, with the settings used.

Label files: ``<clip stem>.labels.json`` beside each clip or under ``--labels`` (format in
``vision/eval.py``; the shared footage's are in ``vision/eval_labels/shared-footage``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from lookout.context import Context


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval", help="score the behaviour rules on labelled clips (recall, precision, false alarms)",
                       description=__doc__)  # fmt: skip
    p.add_argument("dir", metavar="DIR", help="folder of clips (searched recursively)")
    p.add_argument("--labels", metavar="DIR", help="label files here, at the clips' relative paths (default: beside)")
    p.add_argument("--imgsz", type=int, metavar="PX", help="pose inference size (default: [detectors.people] imgsz)")
    p.add_argument("--fps", default="native", help="frames analysed per second, or 'native' (default)")
    p.add_argument("--tracker", choices=("bytetrack", "botsort"), help="default: [detectors] tracker")
    p.add_argument("--tolerance", type=float, default=1.0, metavar="S",
                   help="an event may fire up to S seconds after the labelled end (default 1.0)")  # fmt: skip
    p.add_argument("--cache", metavar="DIR", help="detector output cache (default: <data dir>/eval-cache)")
    p.add_argument("--no-cache", action="store_true", help="run the detectors again")
    p.add_argument("--split", metavar="NAME", help="only clips whose label file says this split (e.g. held_out)")
    p.add_argument("--per-clip", action="store_true", help="also print what fired on each clip")
    p.add_argument("--json", action="store_true", help="one JSON object instead of the table")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    from vision import eval as ev

    try:
        fps = None if args.fps == "native" else float(args.fps)
    except ValueError:
        print(f"lookout eval: error: --fps {args.fps!r} is not a number; give e.g. 10 or 'native'", file=sys.stderr)
        return 2
    root = Path(args.dir).expanduser()
    labels_dir = Path(args.labels).expanduser() if args.labels else None
    try:
        clips = ev.find_labelled(root, labels_dir, args.split)
    except ev.EvalError as exc:
        print(f"lookout eval: error: {exc}", file=sys.stderr)
        return 2
    cfg = ctx.config
    data_dir = ctx.data_dir  # also sets the offline Ultralytics environment
    from lookout.commands.detect import _quiet_ultralytics
    from lookout.wiring import detector_factory

    _quiet_ultralytics()
    imgsz = args.imgsz or cfg.detectors.people.imgsz
    tracker = args.tracker or cfg.detectors.tracker
    factory = detector_factory(cfg, data_dir, imgsz)
    cache = None if args.no_cache else (Path(args.cache).expanduser() if args.cache else data_dir / "eval-cache")
    det = cfg.detectors
    vehicles = det.active_vehicles.type if det.active_vehicles is not None else "none"
    key = f"{det.people.type}|{imgsz}|{vehicles}|{det.vehicle_refresh_s}|{det.vehicle_scene_change}|{det.pose_weights}"
    box: list = []

    def fire(c: ev.ClipLabels) -> tuple[float, list[ev.FiredEvent]]:
        times, dets, size = ev.detect_clip(c.clip, factory, key, fps, cache, box)
        duration = times[-1] + (times[1] - times[0] if len(times) > 1 else 0.0)
        fired = ev.run_rules(c.clip.stem, times, dets, size, cfg.rules, tracker)
        if args.per_clip and not args.json:
            what = "; ".join(f"{f.kind} {f.severity} at {f.end_s:.2f}s" for f in fired) or "-"
            labels = "; ".join(f"{e.kind} {e.start_s:g}-{e.end_s:g}s" for e in c.events) or "-"
            print(f"{c.clip.relative_to(root)}: labelled {labels} | fired {what}")
        return duration, fired

    try:
        results = ev.evaluate(clips, fire)
    finally:
        for d in box:
            d.close()
    scores = ev.score(results, args.tolerance)
    hours = sum(r.duration_s for r in results) / 3600
    settings = {"clips": len(results), "split": args.split, "camera_hours": round(hours, 4), "imgsz": imgsz,
                "fps": "native" if fps is None else fps, "tracker": tracker, "people": det.people.type,
                "vehicles": vehicles, "vehicle_refresh_s": det.vehicle_refresh_s,
                "tolerance_s": args.tolerance, "rules": cfg.rules.model_dump()}  # fmt: skip
    if args.json:
        print(json.dumps({"settings": settings, "kinds": ev.to_json(scores)}))
        return 0
    split = f" (split {args.split})" if args.split else ""
    print(f"lookout eval {root}{split}: {len(results)} clips, {hours * 60:.1f} camera-minutes; pose {det.people.type} "
          f"imgsz {imgsz}, fps {settings['fps']}, tracker {tracker}, vehicles {vehicles} "
          f"(refresh {det.vehicle_refresh_s:g} s, parked-vehicle memory), fire window end + {args.tolerance:g} s, "
          f"[rules] from the config")  # fmt: skip
    for row in ev.table(scores):
        print(row)
    return 0
