"""``lookout bench vision``: how many 5 fps feeds one machine sustains, ours vs a naive Ultralytics loop.

N copies of one real clip are analysed at the same time:

- **ours**: ``vision.scheduler.Scheduler`` with one worker process per core, the packaged YOLO11n-pose
  (cached ONNX export) + ByteTrack, motion gating, each copy a ``FileSource`` playing the clip in a loop
  at its native fps (like a live camera), analysed at ``--fps``.
- **naive**: one thread per feed, each ``YOLO(pose_weights).track(clip, stream=True)`` (the .pt, as the
  Ultralytics multi-stream example does), every frame analysed as fast as it goes.
- **naive-onnx** (unless ``--no-naive-onnx``): the same loop on the cached ONNX export.

Each side runs in its own process (torch's OpenMP threads would slow ONNX runs in the same process).
For each N, after a warm-up, a window measures analysed fps per feed (results per second; for ours
also how many went through the detector rather than being motion-gated), CPU % of the whole process
tree and peak RSS (sum over the tree). A run "sustains" N when every feed gets >= 95 % of ``--fps``.
``--minutes M`` then runs ours for M minutes at the sustained N and reports RSS drift.

The clip: ``--clip``, else the MIT-licensed CCTV footage in /work/shared/footage (used by path, never
copied), else a clip panned across Ultralytics' bus.jpg/zidane.jpg in a temp dir.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

FOOTAGE = Path("/work/shared/footage/fight/dev_fi009-010_terrace_brawl_concat.mp4")
SUSTAIN = 0.95


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lookout bench vision", description=__doc__.split("\n\n")[0])
    p.add_argument("--clip", type=Path, help="video file to copy into N feeds (default: real CCTV footage)")
    p.add_argument("--fps", type=float, default=5.0, help="target analysed fps per feed")
    p.add_argument("--source-fps", type=float, default=None,
                   help="frame rate of the feed copies (frames of the clip are dropped to get it; default: --fps, "
                        "like a camera substream set to the detect rate; 0 = the clip's native rate)")
    p.add_argument("--imgsz", type=int, default=320, help="detector input size (both sides)")
    p.add_argument("--feeds", default="1,2,4,6,8,10,12,16,20,24,32", help="N values for ours (stops after 2 misses)")
    p.add_argument("--naive-feeds", default="1,2,3,4,5,6,8,10,12", help="N values for naive (stops after 2 misses)")
    p.add_argument("--warmup-s", type=float, default=4.0, help="seconds after every feed's first result")
    p.add_argument("--window-s", type=float, default=8.0, help="measurement window per N")
    p.add_argument("--workers", type=int, default=None, help="worker processes (default: one per core)")
    p.add_argument("--batch-max", type=int, default=None, help="ours: frames per detector call (default: scheduler's)")
    p.add_argument("--no-motion", action="store_true", help="ours: analyse every frame (no motion gating)")
    p.add_argument("--no-naive", action="store_true", help="skip the naive baselines")
    p.add_argument("--no-naive-onnx", action="store_true", help="skip the naive loop on the ONNX export")
    p.add_argument("--minutes", type=float, default=0.0, help="then run ours this long at the sustained N")
    p.add_argument("--long-feeds", type=int, default=None, help="N for --minutes (default: sustained N)")
    p.add_argument("--json", type=Path, help="also write all numbers to this JSON file")
    p.add_argument("--role", choices=["ours", "naive", "naive-onnx", "long", "export"], help=argparse.SUPPRESS)
    p.add_argument("--data-dir", type=Path, help=argparse.SUPPRESS)
    return p


# ---------------------------------------------------------------------------- shared helpers
def make_clip(out_dir: Path, frames: int = 120, fps: float = 20.0) -> Path:
    """A 640x360 clip of real pixels: windows panning across Ultralytics' bus.jpg and zidane.jpg."""
    import cv2
    import numpy as np

    assets = Path(cv2.__file__).parents[1] / "ultralytics" / "assets"
    imgs = [cv2.imread(str(assets / n)) for n in ("bus.jpg", "zidane.jpg")]
    if any(i is None for i in imgs):
        raise SystemExit(f"no clip: {FOOTAGE} and {assets}/bus.jpg are both missing; pass --clip FILE")
    path = out_dir / "bench_clip.mp4"
    out = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), fps, (640, 360))
    for i in range(frames):
        img = imgs[(i // 60) % 2]
        scale = 640 / min(img.shape[1], 900)
        big = cv2.resize(img, None, fx=scale, fy=scale)
        x = min(i % 60 * 4, big.shape[1] - 640)
        y = min(40, big.shape[0] - 360)
        out.write(np.ascontiguousarray(big[y : y + 360, x : x + 640]))
    out.release()
    return path


def retime_clip(clip: Path, fps: float, out_dir: Path) -> Path:
    """A copy of ``clip`` at ``fps`` (frames dropped evenly, same pixels), written to ``out_dir``."""
    import cv2

    cap = cv2.VideoCapture(str(clip))
    native = cap.get(cv2.CAP_PROP_FPS) or fps
    size = (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    out_path = out_dir / f"{clip.stem}_{fps:g}fps.mp4"
    out = cv2.VideoWriter(str(out_path), cv2.VideoWriter.fourcc(*"mp4v"), fps, size)
    k = 0
    t_next = 0.0
    while True:
        ok, img = cap.read()
        if not ok:
            break
        if k / native >= t_next - 1e-9:
            out.write(img)
            t_next += 1.0 / fps
        k += 1
    cap.release()
    out.release()
    return out_path


def tree_usage(pids: list[int], pss: bool = False) -> tuple[float, float]:
    """(CPU seconds, RSS MB) summed over ``pids`` (missing ones count 0). ``pss``: proportional set
    size instead (shared library pages split between the processes, so the sum is not inflated)."""
    import psutil

    cpu = mem = 0.0
    for pid in pids:
        try:
            p = psutil.Process(pid)
            t = p.cpu_times()
            cpu += t.user + t.system
            mem += (p.memory_full_info().pss if pss else p.memory_info().rss) / 2**20
        except psutil.Error:
            pass
    return cpu, mem


class Sampler:
    """Samples RSS (cheap) and, every ``pss_every``-th sample, PSS (reads smaps: ~15 ms CPU per big
    process, which would otherwise be billed to the measured tree) in the background."""

    def __init__(self, pids_fn, every_s: float = 1.0, pss_every: int = 0) -> None:
        self.pids_fn, self.every_s, self.pss_every = pids_fn, every_s, pss_every
        self.peak_mb = 0.0  # RSS summed over the tree
        self.peak_pss_mb = 0.0
        self.series: list[tuple[float, float]] = []  # (s, PSS MB)
        self.rss_series: list[tuple[float, float]] = []  # (s, RSS MB)
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self._t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._t.join(2)

    def _run(self) -> None:
        t0 = time.monotonic()
        k = 0
        while not self._stop.is_set():
            pids = self.pids_fn()
            _, rss = tree_usage(pids)
            self.peak_mb = max(self.peak_mb, rss)
            self.rss_series.append((time.monotonic() - t0, rss))
            if self.pss_every and k % self.pss_every == 0:
                _, pss = tree_usage(pids, pss=True)
                self.peak_pss_mb = max(self.peak_pss_mb, pss)
                self.series.append((time.monotonic() - t0, pss))
            k += 1
            self._stop.wait(self.every_s)


def pose_weights() -> Path:
    from lookout.models import packaged_pose_weights

    return packaged_pose_weights()


def onnx_path(data_dir: Path, imgsz: int) -> Path:
    from vision.detect._ultralytics import export_onnx

    return export_onnx(pose_weights(), "pose", imgsz, data_dir / "models")


def _slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope (MB per second) of (t_s, MB) samples."""
    if len(points) < 2:
        return 0.0
    mt = sum(t for t, _ in points) / len(points)
    mm = sum(m for _, m in points) / len(points)
    return sum((t - mt) * (m - mm) for t, m in points) / max(1e-9, sum((t - mt) ** 2 for t, _ in points))


def _window(counts_fn, pids_fn, warm_done_fn, a: argparse.Namespace, n: int) -> dict[str, Any]:
    """Warm up, then measure per-feed counts, CPU and RSS over ``a.window_s``."""
    deadline = time.monotonic() + 180
    while not warm_done_fn():
        if time.monotonic() > deadline:
            return {"feeds": n, "error": "no results within 180 s"}
        time.sleep(0.1)
    time.sleep(a.warmup_s)
    c0, t0 = counts_fn(), time.monotonic()
    cpu0, _ = tree_usage(pids_fn())
    with Sampler(pids_fn) as s:
        time.sleep(a.window_s)
    c1, t1 = counts_fn(), time.monotonic()
    cpu1, _ = tree_usage(pids_fn())
    _, pss = tree_usage(pids_fn(), pss=True)  # once, after the CPU reading
    dt = t1 - t0
    per_feed = {k: round((c1[k][0] - c0[k][0]) / dt, 2) for k in c1}
    detected = {k: round((c1[k][1] - c0[k][1]) / dt, 2) for k in c1}
    frames = sum(c1[k][0] - c0[k][0] for k in c1)
    cpu_per_frame = (cpu1 - cpu0) / max(1, frames)
    cores = os.cpu_count() or 1
    return {
        "feeds": n,
        "fps_per_feed": per_feed,
        "fps_min": min(per_feed.values()),
        "fps_mean": round(sum(per_feed.values()) / n, 2),
        "detected_fps_mean": round(sum(detected.values()) / n, 2),
        "total_fps": round(sum(per_feed.values()), 1),
        "cpu_pct": round(100 * (cpu1 - cpu0) / dt / (os.cpu_count() or 1), 1),
        "peak_rss_mb": round(s.peak_mb, 1),
        "peak_pss_mb": round(max(s.peak_pss_mb, pss), 1),
        "sustained": min(per_feed.values()) >= SUSTAIN * a.fps,
        # Load-independent capacity: CPU seconds per analysed frame -> feeds a dedicated machine could carry.
        "cpu_ms_per_frame": round(1000 * cpu_per_frame, 1),
        "projected_feeds": int(cores / (cpu_per_frame * a.fps)) if cpu_per_frame > 0 else 0,
        "loadavg_1m": float(open("/proc/loadavg").read().split()[0]) if Path("/proc/loadavg").exists() else None,
    }


# ---------------------------------------------------------------------------- ours
def _ours_scheduler(a: argparse.Namespace, n: int, onnx: Path):
    from vision.config import MotionConfig
    from vision.detect.base import build_detector
    from vision.detect.ultralytics_pose import PoseDetectorConfig
    from vision.feeds import FileSource
    from vision.scheduler import Scheduler
    from vision.track import Tracker

    factory = functools.partial(build_detector, PoseDetectorConfig(imgsz=a.imgsz), onnx)
    extra = {"batch_max": a.batch_max} if a.batch_max else {}
    sched = Scheduler(factory, tracker=functools.partial(Tracker, "bytetrack"), workers=a.workers, **extra)
    motion = MotionConfig(enabled=not a.no_motion)
    frames = _frame_count(a.clip)
    for i in range(n):  # copies start at different frames: real cameras do not run in step
        src = FileSource(f"cam{i}", str(a.clip), loop=True, pace=True, start_frame=(i * 7) % max(1, frames - 1))
        sched.add_feed(src, fps=a.fps, motion=motion)
    return sched


def _frame_count(clip: Path) -> int:
    import cv2

    cap = cv2.VideoCapture(str(clip))
    n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    cap.release()
    return n


def _ours_counts(sched) -> dict[str, tuple[int, int]]:
    return {st.feed: (st.results, st.detected) for st in sched.stats()}


def role_ours(a: argparse.Namespace) -> list[dict[str, Any]]:
    onnx = onnx_path(a.data_dir, a.imgsz)
    out = []
    for n in [int(x) for x in a.feeds.split(",")]:
        sched = _ours_scheduler(a, n, onnx)
        sched.start(timeout_s=180)
        try:
            r = _window(lambda s=sched: _ours_counts(s), lambda s=sched: [os.getpid(), *s.worker_pids],
                        lambda s=sched: all(st.results > 0 for st in s.stats()), a, n)
            st = sched.stats()
            r["source_dropped"] = sum(x.source.dropped for x in st)
            r["missed_slots"] = sum(x.missed for x in st)
        finally:
            sched.stop()
        _emit(r)
        out.append(r)
        if _two_misses(out):
            break
    return out


def _two_misses(rows: list[dict[str, Any]]) -> bool:
    return len(rows) >= 2 and not rows[-1].get("sustained") and not rows[-2].get("sustained")


def role_long(a: argparse.Namespace) -> dict[str, Any]:
    onnx = onnx_path(a.data_dir, a.imgsz)
    n = a.long_feeds or 1
    sched = _ours_scheduler(a, n, onnx)
    sched.start(timeout_s=180)
    pids = lambda: [os.getpid(), *sched.worker_pids]  # noqa: E731
    try:
        with Sampler(pids, every_s=2.0, pss_every=5) as s:
            t0 = time.monotonic()
            c0 = _ours_counts(sched)
            time.sleep(a.minutes * 60)
            c1, dt = _ours_counts(sched), time.monotonic() - t0
    finally:
        stats = sched.stats()
        sched.stop()
    series = s.series
    warm = min(60.0, a.minutes * 30)
    after = [(t, m) for t, m in series if t >= warm] or series
    slope = _slope(after)
    rss_after = [(t, m) for t, m in s.rss_series if t >= warm] or s.rss_series
    half = rss_after[len(rss_after) // 2 :]
    fps = [(c1[k][0] - c0[k][0]) / dt for k in c1]
    r = {
        "feeds": n,
        "minutes": round(dt / 60, 2),
        "pss_start_mb": round(series[0][1], 1),
        "pss_after_warmup_mb": round(after[0][1], 1),
        "pss_end_mb": round(series[-1][1], 1),
        "pss_peak_mb": round(max(m for _, m in series), 1),
        "pss_drift_mb": round(series[-1][1] - after[0][1], 1),
        "pss_slope_mb_per_min": round(slope * 60, 2),
        "rss_peak_mb": round(s.peak_mb, 1),
        "rss_after_warmup_mb": round(rss_after[0][1], 1),
        "rss_end_mb": round(s.rss_series[-1][1], 1),
        "rss_slope_mb_per_min": round(_slope(rss_after) * 60, 2),
        "rss_drift_2nd_half_mb": round(half[-1][1] - half[0][1], 1),
        "fps_min": round(min(fps), 2),
        "fps_mean": round(sum(fps) / len(fps), 2),
        "source_dropped": sum(x.source.dropped for x in stats),
        "samples": len(series),
    }
    _emit(r)
    return r


# ---------------------------------------------------------------------------- naive
def role_naive(a: argparse.Namespace, weights: Path) -> list[dict[str, Any]]:
    from ultralytics import YOLO

    out = []
    for n in [int(x) for x in a.naive_feeds.split(",")]:
        stop = threading.Event()
        counts = {f"cam{i}": [0, 0] for i in range(n)}

        def loop(name: str, stop: threading.Event = stop, counts: dict = counts) -> None:
            model = YOLO(str(weights), task="pose")
            while not stop.is_set():
                for _ in model.track(source=str(a.clip), stream=True, persist=True, imgsz=a.imgsz,
                                     tracker="bytetrack.yaml", verbose=False, device="cpu"):
                    counts[name][0] += 1
                    counts[name][1] += 1
                    if stop.is_set():
                        break

        threads = [threading.Thread(target=loop, args=(k,), daemon=True) for k in counts]
        for t in threads:
            t.start()
        try:
            r = _window(lambda c=counts: {k: tuple(v) for k, v in c.items()}, lambda: [os.getpid()],
                        lambda c=counts: all(v[0] > 0 for v in c.values()), a, n)
        finally:
            stop.set()
            for t in threads:
                t.join(30)
        _emit(r)
        out.append(r)
        if _two_misses(out):
            break
    return out


# ---------------------------------------------------------------------------- orchestration
def _emit(r: dict[str, Any]) -> None:
    print("RESULT " + json.dumps(r), flush=True)


def _sub(role: str, a: argparse.Namespace, argv: list[str], data_dir: Path) -> list[dict[str, Any]]:
    cmd = [sys.executable, "-m", "benchmarks.bench_vision", *argv, "--role", role, "--data-dir", str(data_dir),
           "--clip", str(a.clip)]
    if role == "long":
        cmd += ["--long-feeds", str(a.long_feeds)]
    print(f"[{role}] running ...", flush=True)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    results = []
    for line in proc.stdout:  # type: ignore[union-attr]
        if line.startswith("RESULT "):
            r = json.loads(line[7:])
            results.append(r)
            if "fps_min" in r and "minutes" not in r:
                print(f"  [{role}] N={r['feeds']:>2}  fps/feed min {r['fps_min']:5.2f} mean {r['fps_mean']:5.2f}"
                      f" (detector {r['detected_fps_mean']:5.2f})  CPU {r['cpu_pct']:5.1f}%"
                      f"  peak RSS {r['peak_rss_mb']:6.0f} MB (PSS {r['peak_pss_mb']:6.0f})"
                      f"  {'ok' if r['sustained'] else 'MISS'}  CPU/frame {r['cpu_ms_per_frame']} ms"
                      f" -> ~{r['projected_feeds']} feeds on an idle box  (load {r['loadavg_1m']})", flush=True)
    proc.wait()
    if proc.returncode:
        print(f"[{role}] exited with {proc.returncode}", file=sys.stderr)
    return results


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


def _cpu_per_frame(rows: list[dict[str, Any]]) -> float | None:
    vals = sorted(r["cpu_ms_per_frame"] for r in rows if r.get("cpu_ms_per_frame"))
    return vals[len(vals) // 2] if vals else None


def _best(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    ok = [r for r in rows if r.get("sustained")]
    return max(ok, key=lambda r: r["feeds"]) if ok else None


def main(argv: list[str], data_dir: Path) -> int:
    a = _parser().parse_args(argv)
    if a.role:
        return _role_main(a)
    tmp = tempfile.TemporaryDirectory(prefix="lookout-bench-")
    if a.clip is None:
        a.clip = FOOTAGE if FOOTAGE.is_file() else make_clip(Path(tmp.name))
        if a.clip != FOOTAGE:
            print(f"note: {FOOTAGE} is missing; using a clip panned across Ultralytics' assets")
    if not a.clip.is_file():
        print(f"clip {a.clip} does not exist", file=sys.stderr)
        return 1
    source_fps = a.fps if a.source_fps is None else a.source_fps
    if source_fps > 0:
        a.clip = retime_clip(a.clip, source_fps, Path(tmp.name))
        argv = [*argv, "--source-fps", "0"]
    import cv2

    cap = cv2.VideoCapture(str(a.clip))
    w, h = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
    info = f"{w}x{h} @ {cap.get(cv2.CAP_PROP_FPS):.1f} fps"
    cap.release()
    print(f"lookout bench vision: {os.cpu_count()} cores, clip {a.clip.name} ({info}), target {a.fps} fps/feed, "
          f"imgsz {a.imgsz}, window {a.window_s} s after {a.warmup_s} s warm-up")
    passthrough = _without(argv, "--minutes", "--clip", "--json")
    _sub("export", a, passthrough, data_dir)
    report: dict[str, Any] = {"cores": os.cpu_count(), "clip": str(a.clip), "target_fps": a.fps, "imgsz": a.imgsz}
    report["ours"] = _sub("ours", a, passthrough, data_dir)
    if not a.no_naive:
        report["naive"] = _sub("naive", a, passthrough, data_dir)
        if not a.no_naive_onnx:
            report["naive_onnx"] = _sub("naive-onnx", a, passthrough, data_dir)
    ours = _best(report["ours"])
    n_ours = ours["feeds"] if ours else 0
    print(f"\nfeeds sustained at {a.fps:g} fps (measured, this machine's load): ours {n_ours}", end="")
    for key in ("naive", "naive_onnx"):
        if key in report:
            b = _best(report[key])
            n = b["feeds"] if b else 0
            ratio = f"{n_ours / n:.1f}x" if n else ("inf" if n_ours else "n/a")
            report[f"ratio_vs_{key}"] = n_ours / n if n else None
            print(f"; {key.replace('_', '-')} {n} (ours/{key.replace('_', '-')} = {ratio})", end="")
    print()
    cpu_ours = _cpu_per_frame(report["ours"])
    if cpu_ours:
        print(f"CPU per analysed frame (median over N): ours {cpu_ours:.1f} ms", end="")
        for key in ("naive", "naive_onnx"):
            c = _cpu_per_frame(report.get(key, []))
            if c:
                report[f"cpu_ratio_vs_{key}"] = c / cpu_ours
                print(f"; {key.replace('_', '-')} {c:.1f} ms ({c / cpu_ours:.1f}x ours)", end="")
        print(f"\n-> projected feeds at {a.fps:g} fps on {report['cores']} idle cores: ours "
              f"{int(report['cores'] / (cpu_ours / 1000 * a.fps))}", end="")
        for key in ("naive", "naive_onnx"):
            c = _cpu_per_frame(report.get(key, []))
            if c:
                print(f", {key.replace('_', '-')} {int(report['cores'] / (c / 1000 * a.fps))}", end="")
        print()
    if a.minutes > 0:
        a.long_feeds = a.long_feeds or max(1, n_ours)
        long = _sub("long", a, [*passthrough, "--minutes", str(a.minutes)], data_dir)
        if long:
            r = long[-1]
            report["long"] = r
            print(f"long run: {r['feeds']} feeds for {r['minutes']} min: fps/feed min {r['fps_min']} mean "
                  f"{r['fps_mean']}; PSS {r['pss_start_mb']} -> {r['pss_end_mb']} MB (peak {r['pss_peak_mb']}), "
                  f"drift after warm-up {r['pss_drift_mb']} MB, slope {r['pss_slope_mb_per_min']} MB/min; "
                  f"RSS sum {r['rss_after_warmup_mb']} -> {r['rss_end_mb']} MB (peak {r['rss_peak_mb']}, slope "
                  f"{r['rss_slope_mb_per_min']} MB/min, {r['rss_drift_2nd_half_mb']} MB over the second half)")
    if a.json:
        a.json.write_text(json.dumps(report, indent=1))
    tmp.cleanup()
    return 0


def _role_main(a: argparse.Namespace) -> int:
    from lookout.models import prepare_offline_env

    prepare_offline_env(a.data_dir / "ultralytics")
    if a.role == "export":
        onnx_path(a.data_dir, a.imgsz)
    elif a.role == "ours":
        role_ours(a)
    elif a.role == "long":
        role_long(a)
    elif a.role == "naive":
        role_naive(a, pose_weights())
    elif a.role == "naive-onnx":
        role_naive(a, onnx_path(a.data_dir, a.imgsz))
    return 0


if __name__ == "__main__":
    from lookout.paths import default_data_dir

    ns, _ = _parser().parse_known_args()
    sys.exit(main(sys.argv[1:], ns.data_dir or default_data_dir()))
