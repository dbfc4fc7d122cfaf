"""``lookout bench vision`` helpers, and one tiny end-to-end run of the real benchmark (slow)."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import pytest

from benchmarks import bench_vision


def _frames(path: Path) -> tuple[int, float]:
    cap = cv2.VideoCapture(str(path))
    n = 0
    while cap.grab():
        n += 1
    fps = cap.get(cv2.CAP_PROP_FPS)
    cap.release()
    return n, fps


def test_make_clip_is_real_pixels_and_retime_drops_frames_evenly(tmp_path: Path) -> None:
    clip = bench_vision.make_clip(tmp_path, frames=40, fps=20.0)
    assert _frames(clip) == (40, 20.0)
    slow = bench_vision.retime_clip(clip, 5.0, tmp_path)
    n, fps = _frames(slow)
    assert fps == 5.0 and n == 10


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], []),
        (["--minutes", "3", "--fps", "5"], ["--fps", "5"]),
        (["--minutes=3", "--clip", "x.mp4", "--json", "o.json", "--no-naive"], ["--no-naive"]),
    ],
)
def test_orchestrator_strips_its_own_options(argv: list[str], expected: list[str]) -> None:
    assert bench_vision._without(argv, "--minutes", "--clip", "--json") == expected


@pytest.mark.slow
def test_bench_runs_end_to_end_with_minimal_sizes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clip = bench_vision.make_clip(tmp_path, frames=20, fps=10.0)
    out = tmp_path / "bench.json"
    rc = bench_vision.main(
        ["--clip", str(clip), "--feeds", "1", "--no-naive", "--workers", "1", "--warmup-s", "0.5",
         "--window-s", "1.5", "--json", str(out)],
        data_dir=tmp_path / "data",
    )
    assert rc == 0
    report = json.loads(out.read_text())
    (row,) = report["ours"]
    assert row["feeds"] == 1 and row["fps_mean"] > 0 and row["peak_rss_mb"] > 0 and row["cpu_ms_per_frame"] > 0
    assert "feeds sustained at 5 fps" in capsys.readouterr().out
