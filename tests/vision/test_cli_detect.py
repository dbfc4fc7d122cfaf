"""``lookout detect``: JSON lines, annotated output, tracking over a clip, one-line errors."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from lookout.cli import main
from lookout.models import packaged_pose_weights
from vision.detect._ultralytics import export_onnx

ASSETS = Path(next(iter(importlib.util.find_spec("ultralytics").submodule_search_locations))) / "assets"
BUS = ASSETS / "bus.jpg"


def _lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _classes(obj_list: list[dict], name: str) -> list[dict]:
    return [o for o in obj_list if o["class"] == name]


@pytest.mark.slow
def test_done_when_bus_jpg_json_finds_the_bus_and_people_with_keypoints():
    """The issue's acceptance check, as a user runs it (a real process, stdout must be pure JSON)."""
    exe = Path(sys.executable).with_name("lookout")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "lookout.cli"]
    proc = subprocess.run([*cmd, "detect", str(BUS), "--json"], capture_output=True, text=True, timeout=180,
                          env={**os.environ, "LOOKOUT_CONFIG": ""})
    assert proc.returncode == 0, proc.stderr
    (frame,) = _lines(proc.stdout)
    assert frame["type"] == "detection" and frame["feed"] and frame["frame"] == 0 and frame["capture_t_utc"]
    assert len(_classes(frame["objects"], "bus")) >= 1
    people = _classes(frame["objects"], "person")
    assert len(people) >= 3
    for p in people:
        assert len(p["keypoints"]) == 17 and all(len(k) == 3 for k in p["keypoints"])
        x1, y1, x2, y2 = p["xyxy"]
        assert 0 <= x1 < x2 <= 810 and 0 <= y1 < y2 <= 1080
    assert all(o["keypoints"] is None for o in _classes(frame["objects"], "bus"))


def test_image_out_writes_an_annotated_image(tmp_path, capsys):
    out = tmp_path / "bus-annotated.png"
    assert main(["detect", str(BUS), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "person" in printed and "bus" in printed
    img = cv2.imread(str(out))
    assert img is not None and img.shape == cv2.imread(str(BUS)).shape
    assert not np.array_equal(img, cv2.imread(str(BUS)))
    assert not list(tmp_path.glob(".*partial*"))


def _clip(path: Path, frames: int = 16) -> Path:
    img = cv2.imread(str(ASSETS / "zidane.jpg"))
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, (960, 480))
    for i in range(frames):
        writer.write(np.ascontiguousarray(img[i * 4 : i * 4 + 480, i * 8 : i * 8 + 960]))
    writer.release()
    return path


def test_video_json_tracks_and_writes_annotated_video(tmp_path, capsys):
    clip = _clip(tmp_path / "pan.mp4")
    out = tmp_path / "annotated.mp4"
    rc = main(["detect", str(clip), "--json", "--out", str(out), "--max-frames", "12", "--feed", "gate"])
    assert rc == 0
    frames = _lines(capsys.readouterr().out)
    assert [f["frame"] for f in frames] == list(range(12))
    assert {f["feed"] for f in frames} == {"gate"}
    ids = [sorted(o["tracker_id"] for o in _classes(f["objects"], "person")) for f in frames]
    assert all(len(i) == 2 for i in ids[1:]), ids
    assert len({tuple(i) for i in ids[1:]}) == 1, ids  # the same two ids all along
    cap = cv2.VideoCapture(str(out))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 12
    assert int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)) == 960
    cap.release()


@pytest.fixture(scope="module")
def user_onnx(tmp_path_factory) -> Path:
    """Stand-in 'user weights': the pose model exported to ONNX, outside the cache."""
    cache = Path(os.environ["LOOKOUT_DATA"]) / "models"
    dst = tmp_path_factory.mktemp("weights") / "user-model.onnx"
    shutil.copy2(export_onnx(packaged_pose_weights(), "pose", 320, cache), dst)
    return dst


def test_user_weights_drop_in_through_the_config_file(tmp_path, capsys, user_onnx):
    cfg = tmp_path / "lookout.toml"
    cfg.write_text(
        f'[detectors]\nvehicle_weights = "{user_onnx}"\ntracker = "botsort"\n'
        '[detectors.vehicles]\ntype = "yolo-detect"\ntask = "pose"\nclasses = ["person"]\n'
    )
    assert main(["detect", str(BUS), "--config", str(cfg), "--json"]) == 0
    (frame,) = _lines(capsys.readouterr().out)
    # people from the pose detector plus the same people again from the "user" model
    assert len(_classes(frame["objects"], "person")) >= 6


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("missing_source", "no such file"),
        ("dead_url", "cannot open"),
        ("missing_weights", "does not exist"),
        ("garbage_weights", "cannot be loaded"),
        ("relative_weights", "absolute path"),
        ("image_out_as_video", "--out must be an image"),
        ("bad_config_type", "does not match any of the expected tags"),
    ],
)
def test_errors_are_one_line_and_exit_1(tmp_path, capsys, setup, message):
    source, extra = str(BUS), []
    cfg = tmp_path / "lookout.toml"
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"\x00not a checkpoint")
    configs = {
        "missing_weights": f'[detectors]\npose_weights = "{tmp_path / "nope.pt"}"\n',
        "garbage_weights": f'[detectors]\npose_weights = "{garbage}"\n[detectors.people]\nbackend = "torch"\n',
        "relative_weights": '[detectors]\nvehicle_weights = "yolo11n.pt"\n',
        "bad_config_type": '[detectors.vehicles]\ntype = "yolo"\n',
    }
    if setup == "missing_source":
        source = str(tmp_path / "nope.mp4")
    elif setup == "dead_url":
        source = "rtsp://127.0.0.1:9/none"
    elif setup == "image_out_as_video":
        extra = ["--out", str(tmp_path / "x.mp4")]
    if setup in configs:
        cfg.write_text(configs[setup])
        extra += ["--config", str(cfg)]
    assert main(["detect", source, "--json", *extra]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("lookout detect: error:") and message in err[0], captured.err


def test_source_can_be_a_configured_camera_name(tmp_path, capsys):
    cfg = tmp_path / "lookout.toml"
    cfg.write_text(f'[cameras.lobby]\nurl = "{BUS}"\nimgsz = 320\n')
    assert main(["--config", str(cfg), "detect", "lobby", "--json", "--tracker", "none"]) == 0
    (frame,) = _lines(capsys.readouterr().out)
    assert frame["feed"] == "lobby" and len(_classes(frame["objects"], "person")) >= 3


def test_max_frames_must_be_positive(capsys):
    assert main(["detect", str(BUS), "--max-frames", "0"]) == 1
    assert "--max-frames 0 is not positive" in capsys.readouterr().err


@pytest.mark.parametrize(("frames", "step_s", "fps"), [(12, 0.5, 2.0), (3, 0.25, 4.0), (1, 0.0, 5.0)])
def test_live_video_out_rate_is_measured_from_capture_times(tmp_path, frames, step_s, fps):
    from lookout.commands.detect import _VideoOut

    out = _VideoOut(tmp_path / "live.mp4", None)
    img = np.zeros((48, 64, 3), np.uint8)
    for i in range(frames):
        out.write(img, 100.0 + i * step_s)
    out.close(ok=True)
    cap = cv2.VideoCapture(str(tmp_path / "live.mp4"))
    assert cap.get(cv2.CAP_PROP_FPS) == pytest.approx(fps, rel=0.05)
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == frames
    cap.release()


def test_bad_video_out_fails_before_models_load(tmp_path, capsys):
    clip = _clip(tmp_path / "pan.mp4", frames=2)
    assert main(["detect", str(clip), "--out", str(tmp_path / "no-dir" / "x.mp4")]) == 1
    assert "directory does not exist" in capsys.readouterr().err
    assert main(["detect", str(clip), "--out", str(tmp_path / "x.gif")]) == 1
    assert "unknown video type" in capsys.readouterr().err


def _zone_config(path: Path) -> Path:
    path.write_text(
        f'[cameras.lobby]\nurl = "{BUS}"\n[cameras.lobby2]\nurl = "{BUS}"\n'
        '[zones.sky]\ncamera = "lobby"\nkind = "restricted"\ncolor = "#ff00ff"\n'
        "polygon = [[60, 20], [400, 20], [400, 140], [60, 140]]\n"
        '[zones.street]\ncamera = "*"\nkind = "parking"\nnormalized = true\n'
        "polygon = [[0, 0.75], [1, 0.75], [1, 1], [0, 1]]\n"
        '[zones.balconies]\ncamera = "lobby2"\npolygon = [[500, 20], [700, 20], [700, 140], [500, 140]]\n'
    )
    return path


def _share_of_colour(pixels: np.ndarray, bgr: tuple[int, int, int], tol: int = 60) -> float:
    """Fraction of ``pixels`` (n, 3) within ``tol`` of ``bgr`` in every channel."""
    return float(np.mean(np.abs(pixels.astype(int) - np.array(bgr)).max(axis=1) <= tol))


def test_zones_of_a_camera_are_drawn_and_tag_objects_by_foot_point(tmp_path, capsys):
    from vision.zones import KIND_COLORS

    cfg, out = _zone_config(tmp_path / "lookout.toml"), tmp_path / "lobby.png"
    assert main(["--config", str(cfg), "detect", "lobby", "--json", "--tracker", "none", "--out", str(out)]) == 0
    (frame,) = _lines(capsys.readouterr().out)
    people, (bus,) = _classes(frame["objects"], "person"), _classes(frame["objects"], "bus")
    assert len([p for p in people if p["zone"] == "street"]) >= 3  # feet on the street (lowest quarter)
    assert bus["zone"] is None  # its bottom edge ends above the street zone
    img, orig = cv2.imread(str(out)), cv2.imread(str(BUS))
    # the camera's own zone in its colour along its right and bottom edges
    edge = np.concatenate([img[30:130, 400], img[140, 80:390]])
    assert _share_of_colour(edge, (255, 0, 255)) > 0.9
    # the "*" zone (normalized: y = 0.75 * 1080) between the people's boxes
    assert _share_of_colour(img[810, 360:660], KIND_COLORS["parking"]) > 0.9
    # another camera's zone is not drawn
    assert np.array_equal(img[10:150, 490:710], orig[10:150, 490:710])


def test_a_bare_source_gets_only_the_star_zones(tmp_path, capsys):
    from vision.zones import KIND_COLORS

    cfg, out = _zone_config(tmp_path / "lookout.toml"), tmp_path / "bus.png"
    assert main(["--config", str(cfg), "detect", str(BUS), "--json", "--out", str(out)]) == 0
    (frame,) = _lines(capsys.readouterr().out)
    assert {o["zone"] for o in _classes(frame["objects"], "person")} >= {"street"}
    img, orig = cv2.imread(str(out)), cv2.imread(str(BUS))
    assert _share_of_colour(img[810, 360:660], KIND_COLORS["parking"]) > 0.9
    assert np.array_equal(img[10:150, 50:410], orig[10:150, 50:410])  # camera lobby's zone: not here


def _still_clip(path: Path, frames: int, fps: float = 10.0) -> Path:
    """bus.jpg repeated: people standing still, capture times advancing 1/fps per frame."""
    img = cv2.imread(str(BUS))
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (img.shape[1], img.shape[0]))
    for _ in range(frames):
        writer.write(img)
    writer.release()
    return path


def test_people_standing_in_a_watch_zone_fire_a_loitering_event_line(tmp_path, capsys):
    """End to end: real detector + tracker + rules; the event line follows its frame's detection line."""
    clip = _still_clip(tmp_path / "bus.mp4", 9)
    cfg = tmp_path / "lookout.toml"
    cfg.write_text(
        '[zones.pavement]\ncamera = "*"\nkind = "watch"\nnormalized = true\n'
        "polygon = [[0, 0.5], [1, 0.5], [1, 1], [0, 1]]\n"
        "[rules.loitering]\ndwell_s = 0.5\n"
    )
    out = tmp_path / "events.mp4"
    assert main(["--config", str(cfg), "detect", str(clip), "--json", "--out", str(out), "--feed", "bus"]) == 0
    lines = _lines(capsys.readouterr().out)
    assert {line["type"] for line in lines} == {"detection", "event"}
    events = [line for line in lines if line["type"] == "event"]
    loiter = [e for e in events if e["kind"] == "loitering"]
    assert len(loiter) >= 3, events  # the people on the pavement, once each (cooldown)
    assert len({tuple(e["track_ids"]) for e in loiter}) == len(loiter)
    for e in loiter:
        assert e["zone"] == "pavement" and e["feed"] == "bus" and e["severity"] == "low"
        assert e["details"]["dwell_s"] >= 0.5 and "stayed in 'pavement'" in e["summary"]
        assert e["xy_px"][1] >= 540
    for i, line in enumerate(lines):  # each event right after its frame's detection line (or another event)
        if line["type"] == "event":
            prev = next(p for p in reversed(lines[:i]) if p["type"] == "detection")
            assert prev["frame"] == line["frame"] and lines[i - 1]["type"] in ("detection", "event")
    assert min(e["frame"] for e in loiter) == 5  # 0.5 s of capture time after frame 0
    assert out.exists()


def test_events_print_one_human_line_each_and_need_tracking(tmp_path, capsys):
    clip = _still_clip(tmp_path / "bus.mp4", 4)
    cfg = tmp_path / "lookout.toml"
    cfg.write_text('[zones.all]\ncamera = "*"\nkind = "restricted"\nnormalized = true\n'
                   "polygon = [[0, 0], [1, 0], [1, 1], [0, 1]]\n")  # fmt: skip
    assert main(["--config", str(cfg), "detect", str(clip), "--feed", "bus", "--max-frames", "2"]) == 0
    printed = capsys.readouterr().out.splitlines()
    entries = [line for line in printed if "EVENT zone_entry (medium): person" in line]
    assert len(entries) >= 3 and all(line.startswith("bus frame 0: EVENT") for line in entries), printed
    assert main(["--config", str(cfg), "detect", str(clip), "--json", "--tracker", "none", "--max-frames", "2"]) == 0
    assert {line["type"] for line in _lines(capsys.readouterr().out)} == {"detection"}
