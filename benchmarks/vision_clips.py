"""The clips ``lookout bench vision`` plays: a clip of real pixels made from Ultralytics' assets (when
there is no shared footage), a clip retimed to another fps (frames dropped evenly), and a clip's size
and fps. ``benchmarks.bench_vision`` re-exports all three.
"""

from __future__ import annotations

from pathlib import Path


def make_clip(out_dir: Path, frames: int = 120, fps: float = 20.0) -> Path:
    """A 640x360 clip of real pixels: windows panning across Ultralytics' bus.jpg and zidane.jpg."""
    import cv2
    import numpy as np

    assets = Path(cv2.__file__).parents[1] / "ultralytics" / "assets"
    imgs = [cv2.imread(str(assets / n)) for n in ("bus.jpg", "zidane.jpg")]
    if any(i is None for i in imgs):
        raise SystemExit(f"no clip: no shared footage and {assets}/bus.jpg is missing; pass --clip FILE")
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


def clip_info(clip: Path) -> tuple[int, int, float]:
    """(width, height, fps) of a video file."""
    import cv2

    cap = cv2.VideoCapture(str(clip))
    info = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)), cap.get(cv2.CAP_PROP_FPS)
    cap.release()
    return info
