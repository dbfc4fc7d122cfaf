"""``lookout bench vision``: how many 5 fps feeds one machine sustains, ours vs a naive Ultralytics loop.

N copies of one real clip are analysed at the same time:

- **ours**: ``vision.scheduler.Scheduler`` with one worker process per core, the packaged YOLO11n-pose
  (cached ONNX export) + ByteTrack, motion gating, each copy a ``FileSource`` playing the clip in a loop
  at its native fps (like a live camera), analysed at ``--fps``.
- **naive**: one thread per feed, each ``YOLO(pose_weights).track(clip, stream=True)`` (the .pt, as the
  Ultralytics multi-stream example does), every frame analysed as fast as it goes.
- **naive-onnx** (unless ``--no-naive-onnx`` or ``--quick``): the same loop on the cached ONNX export.
- **accuracy** (``--accuracy``, default with ``--clips``): motion-gated (+ motion regions) detection
  against whole-frame detection of every frame: person recall/precision, keypoint error
  (``benchmarks.vision_accuracy``).

Each side runs in its own process (torch's OpenMP threads would slow ONNX runs in the same process).
For each N, after a warm-up, a window measures analysed fps per feed (results per second; for ours
also how many went through the detector rather than being motion-gated), CPU % of the whole process
tree and peak RSS (sum over the tree). A run "sustains" N when every feed gets >= 95 % of ``--fps``.
``--quick`` shortens the windows and picks N from the capacity projected by the CPU cost per frame
(``vision_measure.next_feeds``) instead of walking the ``--feeds`` list.
``--minutes M`` then runs ours for M minutes at the sustained N (of the first clip) and reports RSS drift.

The clips: ``--clips`` (paths, ``footage``, ``footage:fight``, ``footage:nofight``) or ``--clip``, else
the MIT-licensed CCTV footage in ``../shared/footage`` or ``$LOOKOUT_FOOTAGE`` (used by path, never
copied), else a clip panned across Ultralytics' bus.jpg/zidane.jpg in a temp dir. One summary table over
all clips ends the run.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.vision_clips import clip_info, make_clip, retime_clip
from benchmarks.vision_measure import Row, best, cpu_per_frame, emit, onnx_path, pose_weights, projected_feeds
from benchmarks.vision_summary import ClipListError, format_table, parse_clips, ratio, summarise

FOOTAGE_CLIP = "fight/dev_fi009-010_terrace_brawl_concat.mp4"  # under lookout.paths.footage_dir()


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lookout bench vision", description=__doc__.split("\n\n")[0])
    p.add_argument("--clip", type=Path, help="video file to copy into N feeds (default: real CCTV footage)")
    p.add_argument("--clips", help="several clips, one after the other: comma-separated paths, 'footage' (every "
                                   "clip in ../shared/footage or $LOOKOUT_FOOTAGE), 'footage:fight' or "
                                   "'footage:nofight'")
    p.add_argument("--quick", action="store_true",
                   help="short windows (2 s warm-up, 5 s) and N chosen around the projected capacity; no naive-onnx")
    p.add_argument("--accuracy", action=argparse.BooleanOptionalAction, default=None,
                   help="check gated detection against whole-frame detection (default: on with --clips)")
    p.add_argument("--fps", type=float, default=5.0, help="target analysed fps per feed")
    p.add_argument("--source-fps", type=float, default=None,
                   help="frame rate of the feed copies (frames of the clip are dropped to get it; default: --fps, "
                        "like a camera substream set to the detect rate; 0 = the clip's native rate)")
    p.add_argument("--imgsz", type=int, default=320, help="detector input size (both sides)")
    p.add_argument("--feeds", default="1,2,4,6,8,10,12,16,20,24,32", help="N values for ours (stops after 2 misses)")
    p.add_argument("--naive-feeds", default="1,2,3,4,5,6,8,10,12", help="N values for naive (stops after 2 misses)")
    p.add_argument("--probe-feeds", type=int, default=None, help="--quick: ours' first N (default: one per worker)")
    p.add_argument("--quick-tries", type=int, default=4, help="--quick: N values tried after the probe, per side")
    p.add_argument("--warmup-s", type=float, default=None, help="seconds after every feed's first result (4; quick 2)")
    p.add_argument("--window-s", type=float, default=None, help="measurement window per N (8; quick 5)")
    p.add_argument("--workers", type=int, default=None, help="worker processes (default: one per core)")
    p.add_argument("--batch-max", type=int, default=None, help="ours: frames per detector call (default: scheduler's)")
    p.add_argument("--no-motion", action="store_true", help="ours: analyse every frame (no motion gating)")
    p.add_argument("--no-naive", action="store_true", help="skip the naive baselines")
    p.add_argument("--no-naive-onnx", action="store_true", help="skip the naive loop on the ONNX export")
    p.add_argument("--minutes", type=float, default=0.0, help="then run ours this long at the sustained N")
    p.add_argument("--long-feeds", type=int, default=None, help="N for --minutes (default: sustained N)")
    p.add_argument("--json", type=Path, help="also write all numbers to this JSON file")
    p.add_argument("--resume", action="store_true",
                   help="with --json: keep the clips a run cut short already saved there, measure only the rest")
    p.add_argument("--summary-of", type=Path, metavar="JSON",
                   help="only print the summary table of a saved --json report (e.g. of a run cut short)")
    p.add_argument("--role", choices=["ours", "naive", "naive-onnx", "long", "export", "accuracy"],
                   help=argparse.SUPPRESS)
    p.add_argument("--data-dir", type=Path, help=argparse.SUPPRESS)
    return p


def _resolve(a: argparse.Namespace) -> argparse.Namespace:
    """Defaults that depend on ``--quick`` (the roles resolve them the same way from the same argv)."""
    if a.warmup_s is None:
        a.warmup_s = 2.0 if a.quick else 4.0
    if a.window_s is None:
        a.window_s = 5.0 if a.quick else 8.0
    if a.probe_feeds is None:
        a.probe_feeds = a.workers or os.cpu_count() or 1
    if a.quick:
        a.no_naive_onnx = True
    if a.accuracy is None:
        a.accuracy = a.clips is not None
    return a


def _without(argv: list[str], *options: str) -> list[str]:
    """``argv`` minus the given options and their values (the orchestrator passes its own)."""
    out, skip = [], False
    for x in argv:
        if skip:
            skip = False
            continue
        if x in options:
            skip = True
            continue
        if any(x.startswith(o + "=") for o in options):
            continue
        out.append(x)
    return out


# ---------------------------------------------------------------------------- orchestration
def _sub(role: str, a: argparse.Namespace, argv: list[str], data_dir: Path, clip: Path,
         extra: tuple[str, ...] = ()) -> list[Row]:
    cmd = [sys.executable, "-m", "benchmarks.bench_vision", *argv, "--role", role, "--data-dir", str(data_dir),
           "--clip", str(clip), *extra]
    if role == "long":
        cmd += ["--long-feeds", str(a.long_feeds)]
    print(f"[{role}] running ...", flush=True)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    results = []
    for line in proc.stdout:  # type: ignore[union-attr]
        if line.startswith("RESULT "):
            r = json.loads(line[7:])
            results.append(r)
            _print_result(role, r)
    proc.wait()
    if proc.returncode:
        print(f"[{role}] exited with {proc.returncode}", file=sys.stderr)
    return results


def _print_result(role: str, r: Row) -> None:
    if "error" in r:
        print(f"  [{role}] N={r.get('feeds')}: {r['error']}", flush=True)
    elif r.get("role") == "accuracy":
        print(f"  [accuracy] {Path(r['clip_path']).name}: {r['frames']} frames: recall {r['recall']} "
              f"precision {r['precision']} kp err "
              f"{r['kp_err_mean']} (of box height); detector on {r['detected_frac']} of frames, "
              f"{r['area_frac']} of pixels (regions {'on' if r['regions_used'] else 'not supported'}); "
              f"{r['detect_ms_whole']} ms/frame whole vs {r['detect_ms_gated']} gated", flush=True)
    elif "fps_min" in r and "minutes" not in r:
        area = f", area {r['area_frac_mean']:.2f}" if r.get("area_frac_mean") is not None else ""
        print(f"  [{role}] N={r['feeds']:>2}  fps/feed min {r['fps_min']:5.2f} mean {r['fps_mean']:5.2f}"
              f" (detector {r['detected_fps_mean']:5.2f}{area})  CPU {r['cpu_pct']:5.1f}%"
              f"  peak RSS {r['peak_rss_mb']:6.0f} MB (PSS {r['peak_pss_mb']:6.0f})"
              f"  {'ok' if r['sustained'] else 'MISS'}  CPU/frame {r['cpu_ms_per_frame']} ms"
              f" -> ~{r['projected_feeds']} feeds on an idle box  (load {r['loadavg_1m']})", flush=True)


def _print_clip_report(a: argparse.Namespace, report: dict[str, Any], cores: int) -> None:
    """The per-clip verdict (sustained feeds and ratios, CPU per frame, projection); adds ratio keys."""
    ours = best(report["ours"])
    n_ours = ours["feeds"] if ours else 0
    print(f"\nfeeds sustained at {a.fps:g} fps (measured, this machine's load): ours {n_ours}", end="")
    for key in ("naive", "naive_onnx"):
        if key in report:
            b = best(report[key])
            n = b["feeds"] if b else 0
            rt = ratio(n_ours, n)
            report[f"ratio_vs_{key}"] = rt
            shown = "n/a" if rt is None else "inf" if math.isinf(rt) else f"{rt:.1f}x"
            print(f"; {key.replace('_', '-')} {n} (ours/{key.replace('_', '-')} = {shown})", end="")
    print()
    cpu_ours = cpu_per_frame(report["ours"])
    if not cpu_ours:
        return
    print(f"CPU per analysed frame (median over N): ours {cpu_ours:.1f} ms", end="")
    for key in ("naive", "naive_onnx"):
        c = cpu_per_frame(report.get(key, []))
        if c:
            report[f"cpu_ratio_vs_{key}"] = c / cpu_ours
            print(f"; {key.replace('_', '-')} {c:.1f} ms ({c / cpu_ours:.1f}x ours)", end="")
    print(f"\n-> projected feeds at {a.fps:g} fps on {cores} idle cores: ours "
          f"{projected_feeds(cpu_ours, a.fps, cores)}", end="")
    for key in ("naive", "naive_onnx"):
        c = cpu_per_frame(report.get(key, []))
        if c:
            print(f", {key.replace('_', '-')} {projected_feeds(c, a.fps, cores)}", end="")
    print()


def _run_clip(a: argparse.Namespace, src: Path, clip: Path, argv: list[str], data_dir: Path,
              accuracy: Row | None) -> dict[str, Any]:
    """Every measured side on one (retimed) clip; the clip's record for the report."""
    w, h, fps = clip_info(clip)
    print(f"\n=== {src.name} ({w}x{h} @ {fps:.1f} fps)", flush=True)
    rec: dict[str, Any] = {"clip": src.stem, "path": str(src), "resolution": f"{w}x{h}"}
    rec["ours"] = _sub("ours", a, argv, data_dir, clip)
    if not a.no_naive:
        rec["naive"] = _sub("naive", a, argv, data_dir, clip)
        if not a.no_naive_onnx:
            rec["naive_onnx"] = _sub("naive-onnx", a, argv, data_dir, clip)
    if a.accuracy:
        rec["accuracy"] = accuracy
    _print_clip_report(a, rec, os.cpu_count() or 1)
    return rec


def _print_long(r: Row) -> None:
    print(f"long run: {r['feeds']} feeds for {r['minutes']} min: fps/feed min {r['fps_min']} mean "
          f"{r['fps_mean']}; PSS {r['pss_start_mb']} -> {r['pss_end_mb']} MB (peak {r['pss_peak_mb']}), "
          f"drift after warm-up {r['pss_drift_mb']} MB, slope {r['pss_slope_mb_per_min']} MB/min; "
          f"RSS sum {r['rss_after_warmup_mb']} -> {r['rss_end_mb']} MB (peak {r['rss_peak_mb']}, slope "
          f"{r['rss_slope_mb_per_min']} MB/min, {r['rss_drift_2nd_half_mb']} MB over the second half)")


def _jsonable(obj: Any) -> Any:
    """inf (a ratio when naive sustains nothing) as the string "inf": strict JSON has no Infinity."""
    if isinstance(obj, float) and math.isinf(obj):
        return "inf"
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_jsonable(v) for v in obj]
    return obj


def _pick_clips(a: argparse.Namespace, tmp: Path) -> list[Path]:
    if a.clips is not None:
        return parse_clips(a.clips)
    if a.clip is None:
        from lookout.paths import footage_dir

        root = footage_dir()
        if root is not None and (root / FOOTAGE_CLIP).is_file():
            return [root / FOOTAGE_CLIP]
        print("note: no shared footage (../shared/footage or $LOOKOUT_FOOTAGE); "
              "using a clip panned across Ultralytics' assets")
        return [make_clip(tmp)]
    if not a.clip.is_file():
        raise ClipListError(f"clip {a.clip} does not exist")
    return [a.clip]


def main(argv: list[str], data_dir: Path) -> int:
    if "--paths" in argv:  # int8 vs fp32 on this CPU, the fastest chosen (benchmarks.bench_vision_paths)
        from benchmarks.bench_vision_paths import main as paths_main

        return paths_main(argv, data_dir)
    if "--crowd" in argv:  # the tiled crowd count vs whole-frame passes (benchmarks.bench_vision_crowd)
        from benchmarks.bench_vision_crowd import main as crowd_main

        return crowd_main(argv, data_dir)
    if "--rates" in argv:  # rule-aware frame rates vs fixed rate and naive (benchmarks.bench_vision_rates)
        from benchmarks.bench_vision_rates import main as rates_main

        return rates_main(argv, data_dir)
    a = _resolve(_parser().parse_args(argv))
    if a.role:
        return _role_main(a)
    if a.summary_of:
        return _summary_of(a.summary_of)
    with tempfile.TemporaryDirectory(prefix="lookout-bench-") as tmp_name:
        tmp = Path(tmp_name)
        try:
            sources = _pick_clips(a, tmp)
            done = _saved_records(a.json) if a.resume else {}
        except ClipListError as exc:
            print(str(exc), file=sys.stderr)
            return 1
        source_fps = a.fps if a.source_fps is None else a.source_fps
        clips = sources
        if source_fps > 0:
            clips = []
            for i, src in enumerate(sources):
                (tmp / str(i)).mkdir()
                clips.append(retime_clip(src, source_fps, tmp / str(i)))
            argv = [*argv, "--source-fps", "0"]
        cores = os.cpu_count() or 1
        print(f"lookout bench vision: {cores} cores, {len(clips)} clip(s), target {a.fps} fps/feed, "
              f"imgsz {a.imgsz}, window {a.window_s} s after {a.warmup_s} s warm-up"
              f"{', quick' if a.quick else ''}{', accuracy check' if a.accuracy else ''}")
        from benchmarks.bench_vision_cpu import cpu_info, cpu_line

        print(cpu_line())  # figures from different CPUs are not comparable
        passthrough = _without(argv, "--minutes", "--clip", "--clips", "--json")
        todo = [c for s, c in zip(sources, clips, strict=True) if str(s) not in done]
        if done:
            print(f"--resume: {len(clips) - len(todo)} clip(s) kept from {a.json}, {len(todo)} to measure")
        report: dict[str, Any] = {"cores": cores, "target_fps": a.fps, "imgsz": a.imgsz, "quick": a.quick,
                                  "window_s": a.window_s, "warmup_s": a.warmup_s, "cpu": cpu_info()}
        acc: dict[str, Row] = {}
        if todo:
            _sub("export", a, passthrough, data_dir, todo[0])
        if a.accuracy and todo:  # first (it is quick), all clips in one process: it measures detections, not CPU
            rows = _sub("accuracy", a, passthrough, data_dir, todo[0], ("--clips", ",".join(map(str, todo))))
            acc = {r["clip_path"]: r for r in rows if "clip_path" in r}
        records: list[dict[str, Any]] = []
        report["clips"] = records
        for src, clip in zip(sources, clips, strict=True):
            if str(src) in done:
                records.append({**done[str(src)], "resumed": True})
                continue
            records.append(_run_clip(a, src, clip, passthrough, data_dir, acc.get(str(clip))))
            _write_json(a.json, report)  # after every clip: a long run that is cut short keeps its numbers
        if len(records) == 1:  # one clip: its numbers at the top level too
            report.update({k: v for k, v in records[0].items() if k not in ("clip", "path")})
            report["clip"] = str(clips[0])
        rows, med = summarise(records)
        report["summary"], report["median"] = rows, med
        print(f"\nsummary over {len(rows)} clip(s):")
        print(format_table(rows, med, a.fps, a.accuracy))
        if a.minutes > 0:
            ours = best(records[0]["ours"])
            a.long_feeds = a.long_feeds or max(1, ours["feeds"] if ours else 0)
            long = _sub("long", a, [*passthrough, "--minutes", str(a.minutes)], data_dir, clips[0])
            if long:
                report["long"] = long[-1]
                _print_long(long[-1])
        _write_json(a.json, report)
    return 0


def _saved_records(path: Path | None) -> dict[str, dict[str, Any]]:
    """Clip records (by source path) of an earlier run's --json report; none if it does not exist yet."""
    if path is None:
        raise ClipListError("--resume needs --json FILE (the report of the run to continue)")
    if not path.is_file():
        return {}
    try:
        return {r["path"]: r for r in json.loads(path.read_text())["clips"] if "path" in r}
    except (ValueError, KeyError, TypeError) as exc:
        problem = f"--resume: {path} is not a bench report ({exc}); remove it or pick another --json"
        raise ClipListError(problem) from None


def _summary_of(path: Path) -> int:
    try:
        report = json.loads(path.read_text())
        records = report["clips"]
    except (OSError, ValueError, KeyError) as exc:
        print(f"--summary-of {path}: not a saved bench report ({exc}); pass the file --json wrote", file=sys.stderr)
        return 1
    rows, med = summarise(records)
    print(f"summary over {len(rows)} clip(s) ({'quick, ' if report.get('quick') else ''}"
          f"{report.get('cores')} cores, imgsz {report.get('imgsz')}):")
    print(format_table(rows, med, report.get("target_fps", 5.0), any(r.get("accuracy") for r in records)))
    return 0


def _write_json(path: Path | None, report: dict[str, Any]) -> None:
    if path is not None:
        part = path.with_name(path.name + ".part")
        part.write_text(json.dumps(_jsonable(report), indent=1))
        os.replace(part, path)


def _role_main(a: argparse.Namespace) -> int:
    from benchmarks import vision_roles
    from lookout.models import prepare_offline_env

    prepare_offline_env(a.data_dir / "ultralytics")
    if a.role == "export":
        onnx_path(a.data_dir, a.imgsz)
    elif a.role == "ours":
        vision_roles.role_ours(a)
    elif a.role == "long":
        vision_roles.role_long(a)
    elif a.role == "naive":
        vision_roles.role_naive(a, pose_weights())
    elif a.role == "naive-onnx":
        vision_roles.role_naive(a, onnx_path(a.data_dir, a.imgsz))
    elif a.role == "accuracy":
        from benchmarks.vision_accuracy import role_accuracy

        weights = onnx_path(a.data_dir, a.imgsz)
        for clip in parse_clips(a.clips) if a.clips else [a.clip]:
            emit({**role_accuracy(a, weights, clip), "clip_path": str(clip)})
    return 0


if __name__ == "__main__":
    from lookout.paths import default_data_dir

    ns, _ = _parser().parse_known_args()
    sys.exit(main(sys.argv[1:], ns.data_dir or default_data_dir()))
