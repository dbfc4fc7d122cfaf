"""vision.eval and ``lookout eval DIR``: label files, scoring, and the command on a real clip through
the real packaged models (a short video written from Ultralytics' bus photo)."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import pytest

from lookout.cli import main
from vision.eval import (
    ClipLabels,
    ClipResult,
    EvalError,
    FiredEvent,
    LabelledEvent,
    find_labelled,
    parse_labels,
    score,
    table,
)

REPO = Path(__file__).resolve().parents[2]


def _label(path: Path, clip: str, events: list[dict], kinds: list[str] | None = None) -> Path:
    body: dict = {"clip": clip, "source": "test", "licence": "test", "events": events}
    if kinds is not None:
        body["labelled_kinds"] = kinds
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(body))
    return path


def test_labels_beside_clips_or_in_a_labels_folder(tmp_path):
    clips = tmp_path / "clips"
    (clips / "a").mkdir(parents=True)
    (clips / "a" / "one.mp4").write_bytes(b"x")
    (clips / "two.mp4").write_bytes(b"x")
    (clips / "unlabelled.mp4").write_bytes(b"x")
    _label(clips / "a" / "one.labels.json", "one.mp4", [{"kind": "fight", "start_s": 0.5, "end_s": 1.5}])
    _label(tmp_path / "labels" / "two.labels.json", "two.mp4", [], ["vehicle_entry"])
    beside = find_labelled(clips)
    assert [(c.clip.name, c.events) for c in beside] == [("one.mp4", (LabelledEvent("fight", 0.5, 1.5),))]
    assert "water_entry" in beside[0].kinds  # no labelled_kinds: every kind was labelled
    other = find_labelled(clips, tmp_path / "labels")
    assert [(c.clip.name, c.kinds) for c in other] == [("two.mp4", ("vehicle_entry",))]


def test_a_split_picks_its_clips_and_an_unknown_split_is_one_error(tmp_path):
    for name, split in (("tuned.mp4", "tune"), ("kept.mp4", "held_out"), ("plain.mp4", None)):
        (tmp_path / name).write_bytes(b"x")
        label = _label(tmp_path / name.replace(".mp4", ".labels.json"), name, [])
        if split:
            label.write_text(json.dumps({**json.loads(label.read_text()), "split": split}))
    assert [c.clip.name for c in find_labelled(tmp_path, split="held_out")] == ["kept.mp4"]
    assert len(find_labelled(tmp_path)) == 3
    with pytest.raises(EvalError, match="no clip is in split 'test'; the labels have: held_out, tune"):
        find_labelled(tmp_path, split="test")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{not json", "not a label file"),
        ('{"events": [{"kind": "fight"}]}', "not a label file"),
        ('{"events": [{"kind": "punch", "start_s": 0, "end_s": 1}]}', "unknown kind 'punch'"),
        ('{"labelled_kinds": ["fight"], "events": [{"kind": "fight", "start_s": 2, "end_s": 1}]}', "ends before"),
        ('{"labelled_kinds": ["crowd"], "events": [{"kind": "fight", "start_s": 0, "end_s": 1}]}', "ends before"),
    ],
)
def test_bad_label_files_say_what_and_where(tmp_path, body, message):
    p = tmp_path / "x.labels.json"
    p.write_text(body)
    with pytest.raises(EvalError, match=message) as exc:
        parse_labels(p, tmp_path / "x.mp4")
    assert str(p) in str(exc.value)


def test_no_labels_is_one_clear_error(tmp_path):
    with pytest.raises(EvalError, match="no clip has"):
        find_labelled(tmp_path)
    with pytest.raises(EvalError, match="not a folder"):
        find_labelled(tmp_path / "missing")


def _clip(name: str, kinds: tuple[str, ...], events=(), duration=2.0, fired=()) -> ClipResult:
    labels = ClipLabels(Path(name), Path(name + ".labels.json"), kinds, tuple(events))
    return ClipResult(labels, duration, tuple(FiredEvent(k, "medium", s, e, "") for k, s, e in fired))


def test_scoring_recall_precision_false_alarms_delay():
    kinds = ("fight", "vehicle_entry")
    results = [
        _clip("f1", kinds, [LabelledEvent("fight", 0.0, 2.0)], fired=[("fight", 0.0, 0.8)]),  # hit, delay 0.8
        _clip("f2", kinds, [LabelledEvent("fight", 1.0, 2.0)], fired=[("fight", 0.0, 0.6)]),  # fired too early
        _clip("f3", kinds, [LabelledEvent("fight", 0.0, 1.0)], fired=[("fight", 0.5, 1.9)]),  # within tolerance
        _clip("n1", kinds, [], duration=3600.0 - 6.0, fired=[("fight", 0.0, 5.0), ("vehicle_entry", 1.0, 3.0)]),
        _clip("z", ("water_entry",), [], fired=[("fight", 0.0, 1.0)]),  # fight not labelled here: not scored
    ]
    by_kind = {s.kind: s for s in score(results, tolerance_s=1.0)}
    assert list(by_kind) == ["vehicle_entry", "water_entry", "fight"]  # EVENT_KINDS order, labelled kinds only
    fight, entry = by_kind["fight"], by_kind["vehicle_entry"]
    assert (fight.kind, fight.clips, fight.labelled, fight.detected) == ("fight", 4, 3, 2)
    assert fight.recall == pytest.approx(2 / 3)
    assert (fight.fired, fight.matched_fired, fight.false_alarms) == (4, 2, 2)
    assert fight.precision == pytest.approx(0.5)
    assert fight.hours == pytest.approx(1.0)
    assert fight.fa_per_hour == pytest.approx(2.0)
    assert (fight.negative_clips, fight.negative_false_alarms) == (1, 1)
    assert fight.delays_s == pytest.approx((0.8, 1.9))
    assert (entry.labelled, entry.recall, entry.fired, entry.false_alarms) == (0, None, 1, 1)
    rows = list(table([fight, entry]))
    assert rows[0].startswith("| kind |") and rows[2].startswith("| fight | 4 | 3 | 2 | 0.67 | 4 | 0.50 | 2 | 2 |")
    assert rows[2].endswith("| 1.35 / 1.90 |")


def test_shared_footage_labels_are_valid():
    labels = REPO / "vision" / "eval_labels" / "shared-footage"
    files = sorted(labels.rglob("*.labels.json"))
    assert len(files) == 34
    parsed = [parse_labels(p, p.with_name(json.loads(p.read_text())["clip"])) for p in files]
    assert sum(1 for c in parsed if c.events) == 17
    assert all("MIT" in c.licence and c.source for c in parsed)


@pytest.mark.slow
def test_lookout_eval_on_a_real_clip(tmp_path, capsys, bus_img):
    """Two seconds of a still street photo (people, a bus) through the real models: nothing happens,
    so a labelled fight is missed and nothing fires; the table and the JSON say so."""
    clips = tmp_path / "clips"
    clips.mkdir()
    out = cv2.VideoWriter(str(clips / "bus.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, bus_img.shape[1::-1])
    for _ in range(20):
        out.write(bus_img)
    out.release()
    _label(clips / "bus.labels.json", "bus.avi", [{"kind": "fight", "start_s": 0.0, "end_s": 2.0}],
           ["fight", "vehicle_entry", "door_handle_trying"])  # fmt: skip
    cache = tmp_path / "cache"
    assert main(["eval", str(clips), "--cache", str(cache), "--per-clip"]) == 0
    text = capsys.readouterr().out
    assert "bus.avi: labelled fight 0-2s | fired -" in text
    assert "| fight | 1 | 1 | 0 | 0.00 | 0 | - | 0 | 0 |" in text
    assert "imgsz 320, fps native, tracker bytetrack" in text
    assert len(list(cache.glob("*.npz"))) == 1  # the detector's output is cached
    assert main(["eval", str(clips), "--cache", str(cache), "--json", "--fps", "5"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["settings"]["fps"] == 5.0 and body["settings"]["clips"] == 1
    assert {k["kind"]: k["recall"] for k in body["kinds"]} == {"door_handle_trying": None, "vehicle_entry": None,
                                                               "fight": 0.0}  # fmt: skip


def test_lookout_eval_without_labels_is_one_line(tmp_path, capsys):
    assert main(["eval", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no clip has a *.labels.json label file" in err[0]
    assert main(["eval", str(tmp_path), "--fps", "fast"]) == 2
