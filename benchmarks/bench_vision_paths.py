"""``lookout bench vision --paths``: which way of running the pose network is fastest on this CPU, with
its accuracy against fp32; the choice is written beside the cached export and used from then on.

Calibration frames (int8) come from every other shared-footage clip, test frames from the rest (held
out), ``--frames`` of each. See ``vision.detect._ultralytics_paths`` for the candidates and the check.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from benchmarks.bench_vision_cpu import cpu_line


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lookout bench vision --paths", description=__doc__.split("\n\n")[0])
    p.add_argument("--paths", action="store_true", help="this benchmark")
    p.add_argument("--imgsz", type=int, default=320, help="inference size")
    p.add_argument("--frames", type=int, default=24, help="test frames (and as many calibration frames)")
    p.add_argument("--rounds", type=int, default=3, help="timing rounds over the test frames")
    p.add_argument("--quick", action="store_true", help="12 frames, 2 rounds")
    p.add_argument("--requantize", action="store_true", help="quantize again even if an int8 copy exists")
    return p


def _frames(n: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    import cv2

    from lookout.paths import footage_dir

    root = footage_dir()
    if root is None:
        return [], []
    calib, test = [], []
    for k, clip in enumerate(sorted(root.glob("*/*.mp4"))):
        cap = cv2.VideoCapture(str(clip))
        count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        for pos in (0, count // 2):
            cap.set(cv2.CAP_PROP_POS_FRAMES, pos)
            ok, img = cap.read()
            if ok:
                (calib if k % 2 == 0 else test).append(img)
        cap.release()
    return calib[: 2 * n], test[:n]


def main(argv: list[str], data_dir: Path) -> int:
    from lookout.models import packaged_pose_weights, prepare_offline_env
    from vision.detect._ultralytics import export_onnx
    from vision.detect._ultralytics_paths import MIN_RECALL, choice_file, choose_path, int8_path, measure_paths

    a = _parser().parse_args(argv)
    n, rounds = (12, 2) if a.quick else (a.frames, a.rounds)
    prepare_offline_env(data_dir / "ultralytics")
    calib, test = _frames(n)
    if not test:
        print("no shared footage (../shared/footage or LOOKOUT_FOOTAGE): nothing to calibrate and check on",
              file=sys.stderr)  # fmt: skip
        return 1
    print(f"lookout bench vision --paths: imgsz {a.imgsz}, {len(test)} test frames x {rounds} rounds, "
          f"{len(calib)} calibration frames (other clips)")  # fmt: skip
    print(cpu_line())
    fp32 = export_onnx(packaged_pose_weights(), "pose", a.imgsz, data_dir / "models")
    if a.requantize:
        int8_path(fp32).unlink(missing_ok=True)
    results = measure_paths(fp32, test, a.imgsz, calib=calib, rounds=rounds)
    print(f"{'path':10} {'median ms':>9} {'min ms':>7} {'recall':>7} {'kp err px':>9}  "
          f"(vs onnx-fp32, {results[0].persons} persons)")  # fmt: skip
    for r in results:
        print(f"{r.name:10} {r.ms:9.1f} {r.ms_min:7.1f} {r.recall:7.3f} {r.kp_err_px:9.2f}")
    best = choose_path(fp32, results)
    print(f"chosen: {best} (fastest with recall >= {MIN_RECALL}); written to {choice_file(fp32)}")
    print("bf16 (torch autocast) and OpenVINO are not candidates: see the vision README for what was measured")
    return 0
