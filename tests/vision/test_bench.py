"""``lookout bench vision`` helpers, and one tiny end-to-end run of the real benchmark (slow)."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from benchmarks import bench_vision, vision_accuracy, vision_measure, vision_summary
from vision.types import Detections


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


@pytest.fixture(scope="module")
def bench_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One data dir (so one ONNX export) for the slow tests of this module."""
    return tmp_path_factory.mktemp("bench-data")


@pytest.mark.slow
def test_bench_runs_end_to_end_with_minimal_sizes(
    tmp_path: Path, bench_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clip = bench_vision.make_clip(tmp_path, frames=20, fps=10.0)
    out = tmp_path / "bench.json"
    rc = bench_vision.main(
        ["--clip", str(clip), "--feeds", "1", "--no-naive", "--workers", "1", "--warmup-s", "0.5",
         "--window-s", "1.5", "--json", str(out)],
        data_dir=bench_data,
    )
    assert rc == 0
    report = json.loads(out.read_text())
    (row,) = report["ours"]
    assert row["feeds"] == 1 and row["fps_mean"] > 0 and row["peak_rss_mb"] > 0 and row["cpu_ms_per_frame"] > 0
    assert "accuracy" not in report  # only with --accuracy or --clips
    assert "feeds sustained at 5 fps" in capsys.readouterr().out


@pytest.mark.slow
def test_bench_over_several_clips_quick_prints_one_summary(
    tmp_path: Path, bench_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a").mkdir()
    clips = [bench_vision.make_clip(tmp_path / "a", frames=20, fps=10.0), bench_vision.make_clip(tmp_path, 30, 10.0)]
    out = tmp_path / "bench.json"
    rc = bench_vision.main(
        ["--clips", ",".join(map(str, clips)), "--quick", "--quick-tries", "0", "--probe-feeds", "1", "--no-naive",
         "--workers", "1", "--warmup-s", "0.5", "--window-s", "1.0", "--json", str(out)],
        data_dir=bench_data,
    )
    assert rc == 0
    report = json.loads(out.read_text())
    assert [r["path"] for r in report["clips"]] == [str(c) for c in clips]
    for rec, frames in zip(report["clips"], (10, 15), strict=True):
        assert rec["resolution"] == "640x360" and rec["ours"][0]["feeds"] == 1
        assert rec["accuracy"]["frames"] == frames and rec["accuracy"]["persons_ref"] > 0
    assert len(report["summary"]) == 2 and report["median"]["clips"] == 2
    text = capsys.readouterr().out
    assert "summary over 2 clip(s)" in text and "\nmedian " in text


def _static_clip(path: Path, frames: int, fps: float) -> Path:
    img = cv2.imread(str(Path(cv2.__file__).parents[1] / "ultralytics" / "assets" / "bus.jpg"))
    img = np.ascontiguousarray(cv2.resize(img, (360, 480)))
    out = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), fps, (360, 480))
    for _ in range(frames):
        out.write(img)
    out.release()
    return path


@pytest.mark.slow
def test_accuracy_role_scores_gated_against_whole_frame_detection(tmp_path: Path, bench_data: Path) -> None:
    weights = vision_measure.onnx_path(bench_data, 320)
    a = argparse.Namespace(imgsz=320, fps=5.0)
    moving = vision_accuracy.role_accuracy(a, weights, bench_vision.make_clip(tmp_path, frames=40, fps=10.0))
    assert moving["frames"] == 20 and moving["persons_ref"] > 0
    assert 0 < moving["recall"] <= 1 and 0 < moving["precision"] <= 1
    assert 0 < moving["detected_frac"] <= 1 and 0 < moving["area_frac"] <= moving["detected_frac"]
    # A still scene: the gate sends only the first frame to the detector (max_skip_s 5 s > 3 s of clip)
    # and the reused detections are still every person the whole-frame detector finds.
    still = vision_accuracy.role_accuracy(a, weights, _static_clip(tmp_path / "still.mp4", 30, 10.0))
    assert still["frames"] == 15 and still["persons_ref"] >= 15
    assert still["detected_frac"] == pytest.approx(1 / 15, abs=1e-3)
    assert still["recall"] >= 0.95 and still["precision"] >= 0.95


# ---------------------------------------------------------------------------- --clips parsing
@pytest.fixture
def footage(tmp_path: Path) -> Path:
    root = tmp_path / "footage"
    for rel in ("fight/b.mp4", "fight/a.mp4", "nofight/c.mp4", "nofight/notes.txt"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(b"x")
    return root


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("footage", ["fight/a.mp4", "fight/b.mp4", "nofight/c.mp4"]),
        ("footage:fight", ["fight/a.mp4", "fight/b.mp4"]),
        ("footage:nofight", ["nofight/c.mp4"]),
        ("footage:nofight,footage:fight", ["nofight/c.mp4", "fight/a.mp4", "fight/b.mp4"]),
        ("footage:fight, footage,", ["fight/a.mp4", "fight/b.mp4", "nofight/c.mp4"]),  # duplicates dropped
        ("{root}/nofight/c.mp4,footage:fight", ["nofight/c.mp4", "fight/a.mp4", "fight/b.mp4"]),
    ],
)
def test_clip_list_parsing(footage: Path, spec: str, expected: list[str]) -> None:
    got = vision_summary.parse_clips(spec.format(root=footage), footage)
    assert [p.relative_to(footage).as_posix() for p in got] == expected


@pytest.mark.parametrize("spec", ["", " , ", "footage:nope", "{root}/missing.mp4", "{root}/fight"])
def test_clip_list_rejects_what_names_no_clip(footage: Path, spec: str) -> None:
    with pytest.raises(vision_summary.ClipListError):
        vision_summary.parse_clips(spec.format(root=footage), footage)


def test_clips_option_with_a_bad_entry_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert bench_vision.main(["--clips", str(tmp_path / "missing.mp4")], data_dir=tmp_path) == 1
    assert "missing.mp4 is not a file" in capsys.readouterr().err


# ---------------------------------------------------------------------------- summary maths
def _row(feeds: int, sustained: bool, cpu_ms: float, fps: float = 5.0, detected: float = 5.0, **kw) -> dict:
    return {"feeds": feeds, "sustained": sustained, "cpu_ms_per_frame": cpu_ms, "fps_mean": fps,
            "detected_fps_mean": detected, **kw}


def _record(name: str, ours: list[dict], naive: list[dict], accuracy: dict | None = None) -> dict:
    return {"clip": name, "resolution": "640x360", "ours": ours, "naive": naive, "accuracy": accuracy}


def test_summary_row_takes_the_largest_sustained_n_and_median_cpu() -> None:
    rec = _record(
        "calm",
        ours=[_row(2, True, 30.0, detected=1.0, area_frac_mean=0.2), _row(9, True, 20.0, detected=2.0,
              area_frac_mean=0.4), _row(12, False, 25.0, fps=4.0, detected=2.0, area_frac_mean=0.6)],
        naive=[_row(1, True, 100.0), _row(3, False, 110.0, fps=3.0), _row(2, True, 90.0)],
        accuracy={"recall": 0.98, "precision": 0.97, "kp_err_mean": 0.01, "detected_frac": 0.4, "area_frac": 0.3,
                  "frames": 10, "persons_ref": 42},
    )
    row = vision_summary.summary_row(rec)
    assert (row["ours_feeds"], row["naive_feeds"], row["ratio"]) == (9, 2, 4.5)
    assert row["cpu_ms_ours"] == 25.0 and row["cpu_ms_naive"] == 100.0 and row["cpu_ratio"] == 4.0
    assert row["detect_share"] == pytest.approx((0.2 + 0.4 + 0.5) / 3, abs=0.01)
    assert row["area_frac"] == pytest.approx(0.4)
    assert row["acc_recall"] == 0.98 and row["acc_frames"] == 10 and row["acc_persons_ref"] == 42


@pytest.mark.parametrize(
    ("ours", "naive", "expected"),
    [(6, 2, 3.0), (0, 2, 0.0), (4, 0, math.inf), (0, 0, None)],
)
def test_ratio_of_sustained_feeds(ours: int, naive: int, expected: float | None) -> None:
    assert vision_summary.ratio(ours, naive) == expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [([], None), ([None], None), ([3.0, None, 1.0, 2.0], 2.0), ([1.0, 4.0], 2.5), ([2.0, math.inf], math.inf),
     ([1.0, 2.0, math.inf], 2.0)],
)
def test_median_skips_undefined_and_orders_inf_last(values: list, expected: float | None) -> None:
    assert vision_summary.median(values) == expected


def test_summary_over_clips_medians_and_table() -> None:
    records = [
        _record("a", [_row(6, True, 20.0)], [_row(2, True, 80.0)], {"recall": 1.0, "precision": 0.9}),
        _record("b", [_row(4, True, 30.0)], [_row(1, False, 90.0, fps=2.0)], {"recall": 0.8, "precision": 1.0}),
        _record("c", [_row(8, True, 10.0)], [_row(2, True, 70.0)], None),
        _record("d", [_row(1, False, 50.0, fps=1.0)], [_row(1, False, 99.0, fps=1.0)]),  # neither sustains
    ]
    rows, med = vision_summary.summarise(records)
    assert [r["ratio"] for r in rows] == [3.0, math.inf, 4.0, None]
    assert med["ratio"] == 4.0 and med["clips"] == 4 and med["clips_ratio_ge_3"] == 3
    assert med["acc_recall"] == 0.9 and med["acc_recall_min"] == 0.8
    table = vision_summary.format_table(rows, med, 5.0)
    lines = table.splitlines()
    assert lines[0].split()[:3] == ["clip", "res", "det"]
    assert lines[2].startswith("b ") and " inf " in lines[2]
    assert lines[5].startswith("median") and "4.0x" in lines[5]
    assert "recall" not in vision_summary.format_table(rows, med, 5.0, accuracy=False).splitlines()[0]


def test_report_json_has_no_bare_infinity() -> None:
    text = json.dumps(bench_vision._jsonable({"r": [math.inf, 1.0], "x": {"y": math.inf}}))
    assert json.loads(text) == {"r": ["inf", 1.0], "x": {"y": "inf"}}


# ---------------------------------------------------------------------------- --quick ladder
def _measured(*rows: tuple[int, bool, float]) -> list[dict]:
    return [{"feeds": n, "sustained": ok, "cpu_ms_per_frame": ms} for n, ok, ms in rows]


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (_measured((2, True, 40.0)), 8),  # 2 cores / (40 ms * 5 fps) = 10 projected; aim 75 %
        (_measured((2, True, 40.0), (9, True, 40.0)), 12),  # beyond the projection: +25 %
        (_measured((2, True, 40.0), (9, False, 60.0)), 5),  # bisect between 2 and 9
        (_measured((2, True, 40.0), (5, True, 40.0), (6, False, 40.0)), None),  # bracketed
        (_measured((1, False, 500.0)), None),  # not even one feed
        (_measured((1, True, 500.0)), 2),  # projection below what already works: one more
        (_measured((2, True, 0.1)), 64),  # capped
        (_measured((2, True, 0.1), (64, True, 0.1)), None),
    ],
)
def test_quick_ladder_brackets_the_sustained_limit(rows: list[dict], expected: int | None) -> None:
    assert vision_measure.next_feeds(rows, 5.0, 2, n_max=64) == expected


def test_quick_ladder_stops_after_its_tries() -> None:
    seen: list[int] = []

    def measure(n: int) -> dict:
        seen.append(n)
        return {"feeds": n, "sustained": n <= 11, "cpu_ms_per_frame": 40.0}

    rows = vision_measure.ladder(measure, [], True, 2, 3, 5.0, 2, lambda r: None)
    assert seen == [2, 8, 10, 13, 13]  # probe, 3 more N values; the miss at 13 is measured twice
    assert [r.get("retry", False) for r in rows] == [False, False, False, False, True]
    full = vision_measure.ladder(measure, [1, 8, 14, 16, 20], False, 0, 0, 5.0, 2, lambda r: None)
    assert [r["feeds"] for r in full] == [1, 8, 14, 16]  # two misses in a row stop the walk


# ---------------------------------------------------------------------------- accuracy maths
def _dets(*boxes: tuple[float, float, float, float], kp_shift: float = 0.0) -> Detections:
    xyxy = np.array(boxes, np.float32).reshape(-1, 4)
    kp = np.zeros((len(xyxy), 17, 3), np.float32)
    kp[:, :, 0] = xyxy[:, :1] + kp_shift
    kp[:, :, 1] = xyxy[:, 1:2]
    kp[:, :, 2] = 1.0
    return Detections(xyxy, np.ones(len(xyxy), np.float32), np.zeros(len(xyxy), np.int32), keypoints=kp)


def test_accuracy_score_matches_greedily_at_iou_half() -> None:
    ref = _dets((0, 0, 10, 100), (50, 0, 60, 100), (200, 0, 210, 100))
    got = _dets((0, 0, 10, 100), (52, 0, 62, 100), (100, 0, 110, 100), kp_shift=5.0)  # 2nd IoU 0.67, 3rd none
    s = vision_accuracy.score([(ref, got), (_dets(), _dets())])
    assert (s["persons_ref"], s["persons_gated"], s["matched"]) == (3, 3, 2)
    assert s["recall"] == s["precision"] == pytest.approx(2 / 3, abs=1e-3)
    assert s["kp_err_mean"] == pytest.approx(0.06)  # 5 and 7 px over 100 px boxes
    assert vision_accuracy.score([])["recall"] is None


def test_greedy_match_uses_each_box_once_best_first() -> None:
    ref = np.array([[0, 0, 10, 10], [1, 0, 11, 10]], np.float32)
    got = np.array([[1, 0, 11, 10]], np.float32)
    assert vision_accuracy.greedy_match(ref, got) == [(1, 0)]


@pytest.mark.parametrize(
    ("regions", "expected"),
    [(None, 1.0), ((), 0.0), (((0, 0, 50, 100),), 0.5), (((0, 0, 50, 100), (25, 0, 75, 100)), 0.75),
     (((-10, -10, 300, 300),), 1.0)],
)
def test_region_area_counts_overlaps_once(regions, expected: float) -> None:
    assert vision_accuracy.region_area_frac(regions, (100, 100, 3)) == pytest.approx(expected)


def test_summary_of_a_saved_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = {"cores": 2, "imgsz": 320, "target_fps": 5.0, "quick": True, "clips": [
        _record("calm", [_row(2, True, 20.0), _row(8, True, 20.0)], [_row(1, True, 80.0), _row(2, False, 80.0)],
                {"recall": 1.0, "precision": 1.0}),
        {**_record("busy", [_row(2, True, 50.0)], [_row(1, True, 80.0)]), "ratio_vs_naive": "inf"},
    ]}
    saved = tmp_path / "r.json"
    saved.write_text(json.dumps(report))
    assert bench_vision.main(["--summary-of", str(saved)], data_dir=tmp_path) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "summary over 2 clip(s) (quick, 2 cores, imgsz 320):"
    assert lines[2].split()[4:7] == ["8", "1", "8.0x"] and lines[3].split()[4:7] == ["2", "1", "2.0x"]
    assert lines[4].startswith("median") and "5.0x" in lines[4]
    (tmp_path / "bad.json").write_text("{}")
    assert bench_vision.main(["--summary-of", str(tmp_path / "bad.json")], data_dir=tmp_path) == 1


def test_resume_keeps_saved_clips_and_measures_none_again(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clip = bench_vision.make_clip(tmp_path, frames=10, fps=10.0)
    saved = tmp_path / "r.json"
    saved.write_text(json.dumps({"clips": [{**_record("x", [_row(3, True, 20.0)], [_row(1, True, 80.0)]),
                                            "path": str(clip)}]}))
    rc = bench_vision.main(["--clips", str(clip), "--json", str(saved), "--resume"], data_dir=tmp_path)
    assert rc == 0  # nothing left to measure: no subprocess ran (it would need the model)
    out = capsys.readouterr().out
    assert "1 clip(s) kept" in out and "[ours]" not in out
    report = json.loads(saved.read_text())
    assert report["clips"][0]["resumed"] is True and report["summary"][0]["ratio"] == 3.0
    assert bench_vision.main(["--clips", str(clip), "--resume"], data_dir=tmp_path) == 1  # needs --json
    saved.write_text("[]")
    assert bench_vision.main(["--clips", str(clip), "--json", str(saved), "--resume"], data_dir=tmp_path) == 1
