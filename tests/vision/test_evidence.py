"""vision.evidence: the frame ring, snapshots and MP4 clips, read back with ffprobe."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest

from vision.clipwriter import clip_encoder
from vision.errors import EvidenceError, VisionError
from vision.eval import read_clip
from vision.evidence import EvidenceFile, EvidenceRecorder, FrameRing

T0 = datetime(2026, 12, 5, 22, 0, 0, tzinfo=UTC)
FPS = 5.0


def _frame(i: int, w: int = 320, h: int = 180, noise: bool = False) -> np.ndarray:
    """Frame ``i``: its index in binary as 8 black/white squares along the top, a moving bar."""
    rng = np.random.default_rng(i)
    img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8) if noise else np.full((h, w, 3), 90, np.uint8)
    for bit in range(8):
        img[8:28, 8 + 24 * bit : 28 + 24 * bit] = 255 if (i >> bit) & 1 else 0
    x = (i * 7) % (w - 20)
    img[h - 40 : h - 10, x : x + 20] = (0, 0, 255)
    return img


def _t(i: int) -> datetime:
    return T0 + timedelta(seconds=i / FPS)


class _Sink:
    """Collects on_ready / on_error calls; waits for them without sleeping."""

    def __init__(self) -> None:
        self.ready: list[EvidenceFile] = []
        self.errors: list[EvidenceError] = []
        self._cv = threading.Condition()

    def on_ready(self, ef: EvidenceFile) -> None:
        with self._cv:
            self.ready.append(ef)
            self._cv.notify_all()

    def on_error(self, err: EvidenceError) -> None:
        with self._cv:
            self.errors.append(err)
            self._cv.notify_all()

    def wait(self, n: int, timeout_s: float = 60.0) -> None:
        with self._cv:
            assert self._cv.wait_for(lambda: len(self.ready) + len(self.errors) >= n, timeout=timeout_s)


@pytest.fixture
def sink() -> _Sink:
    return _Sink()


@pytest.fixture
def recorder(tmp_path: Path, sink: _Sink) -> Iterator[EvidenceRecorder]:
    rec = EvidenceRecorder("gate", tmp_path / "evidence", on_ready=sink.on_ready, on_error=sink.on_error)
    yield rec
    rec.close()


def _probe(path: Path) -> dict:
    if shutil.which("ffprobe") is None:
        pytest.skip("ffprobe is not installed (scripts/setup installs ffmpeg)")
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration:stream=codec_name,width,height,nb_frames",
         "-of", "json", str(path)], capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return json.loads(out.stdout)


def _index_of(img: np.ndarray) -> int:
    return sum(1 << bit for bit in range(8) if img[12:24, 12 + 24 * bit : 24 + 24 * bit].mean() > 128)


def test_clip_covers_five_seconds_either_side_and_plays(recorder: EvidenceRecorder, sink: _Sink) -> None:
    event = 40  # frame 40 = 8 s in
    for i in range(event + 1):
        recorder.push(_frame(i), _t(i))
    recorder.request_clip("evt-1", _t(event))
    for i in range(event + 1, event + 40):  # the clip closes at the first frame >= t + 5 s (frame 65)
        recorder.push(_frame(i), _t(i))
    sink.wait(1)
    assert not sink.errors, sink.errors
    (clip,) = sink.ready
    assert clip.kind == "clip" and clip.mime == "video/mp4" and clip.feed == "gate" and clip.event_id == "evt-1"
    assert clip.path.is_absolute() and clip.path.name == "clip.mp4"
    assert clip.path.parent == recorder.out_dir / "2026-12-05" / "evt-1"
    assert clip.t_start_utc <= _t(event) - timedelta(seconds=5) and clip.t_end_utc >= _t(event) + timedelta(seconds=5)
    data = clip.path.read_bytes()
    assert hashlib.sha256(data).hexdigest() == clip.sha256 and len(data) == clip.size_bytes
    info = _probe(clip.path)
    assert float(info["format"]["duration"]) >= 10.0
    stream = info["streams"][0]
    assert (stream["width"], stream["height"]) == (320, 180)
    if clip_encoder() in ("ffmpeg", "cv2-avc1"):
        assert stream["codec_name"] == "h264"
    frames, _ = read_clip(clip.path)
    assert len(frames) >= 50
    assert _index_of(frames[0]) == event - 25 and _index_of(frames[-1]) == event + 25  # [t-5 s, t+5 s] at 5 fps
    assert [p.name for p in clip.path.parent.iterdir()] == ["clip.mp4"]  # no temp file left


def test_snapshot_is_written_now_and_decodes(recorder: EvidenceRecorder) -> None:
    img = _frame(3, 640, 360)
    ef = recorder.snapshot("evt-2", img, _t(3), box=(100, 100, 200, 300), caption="loitering 12 s")
    assert ef.kind == "snapshot" and ef.mime == "image/jpeg" and ef.path.name == "snapshot.jpg"
    data = ef.path.read_bytes()
    assert hashlib.sha256(data).hexdigest() == ef.sha256 and ef.size_bytes == len(data)
    back = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert back is not None and back.shape == (360, 640, 3)
    assert back[200, 100, 2] > 200 and back[200, 100, 0] < 60  # the red box was drawn on the snapshot
    assert img[200, 100, 2] == 90  # ... not on the caller's frame


def test_flush_at_end_of_stream_finishes_pending_clips(recorder: EvidenceRecorder, sink: _Sink) -> None:
    for i in range(40):
        recorder.push(_frame(i), _t(i))
    recorder.request_clip("evt-3", _t(30))
    for i in range(40, 45):  # the stream ends 3 s after the event
        recorder.push(_frame(i), _t(i))
    assert recorder.pending_clips == 1 and not sink.ready
    assert recorder.flush(timeout_s=60)
    (clip,) = sink.ready
    assert clip.t_start_utc <= _t(5) and clip.t_end_utc == _t(44)
    assert float(_probe(clip.path)["format"]["duration"]) >= 7.8
    assert recorder.pending_clips == 0


def test_ring_memory_is_bounded_by_bytes_and_seconds(tmp_path: Path, sink: _Sink) -> None:
    rec = EvidenceRecorder("cam", tmp_path, on_ready=sink.on_ready, max_ring_bytes=1_500_000)
    try:
        sizes = []
        for i in range(120):
            rec.push(_frame(i, 640, 360, noise=True), _t(i))
            sizes.append(rec.ring.bytes)
        assert max(sizes) <= 1_500_000
        assert len(rec.ring) < 120
        rec.ring.clear()
        for i in range(300):  # small frames: the time cap binds (pre_s 5 s + 3 s slack)
            rec.push(_frame(i), _t(i))
        assert rec.ring.span_s <= 8.0 and len(rec.ring) == 41
    finally:
        rec.close()
    ring = FrameRing(max_s=10, max_bytes=10**9)
    for i in range(100):
        ring.add(ring.encode(_frame(i), _t(i)))
    ring.add(ring.encode(_frame(0), _t(0)))  # time went backwards (a looped file): the ring starts over
    assert len(ring) == 1


def test_mp4v_fallback_plays(tmp_path: Path, sink: _Sink) -> None:
    rec = EvidenceRecorder("cam", tmp_path, on_ready=sink.on_ready, on_error=sink.on_error, encoder="mp4v",
                           pre_s=1.0, post_s=1.0)  # fmt: skip
    try:
        for i in range(20):
            rec.push(_frame(i), _t(i))
        rec.request_clip("evt-4", _t(10))
        rec.flush()
    finally:
        rec.close()
    assert not sink.errors
    (clip,) = sink.ready
    info = _probe(clip.path)
    assert info["streams"][0]["codec_name"] == "mpeg4"
    assert float(info["format"]["duration"]) >= 1.8


def test_bad_event_id_changes_nothing(recorder: EvidenceRecorder) -> None:
    with pytest.raises(EvidenceError, match="event ids") as err:
        recorder.snapshot("../../etc", _frame(0), _t(0))
    assert isinstance(err.value, VisionError)
    assert not recorder.out_dir.exists()


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 700 KB tmpfs (needs root: ``mount -t tmpfs``), unmounted afterwards."""
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=700k", "tmpfs", str(mnt)], capture_output=True,
                         text=True, check=False)  # fmt: skip
    if res.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill (needs root): {res.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_disk_full_during_a_clip_is_one_error_and_no_partial_file(tiny_disk: Path, sink: _Sink) -> None:
    rec = EvidenceRecorder("cam", tiny_disk / "evidence", on_ready=sink.on_ready, on_error=sink.on_error,
                           pre_s=2.0, post_s=2.0)  # fmt: skip
    try:
        for i in range(15):  # noise does not compress: a 4 s clip of it is megabytes
            rec.push(_frame(i, 640, 360, noise=True), _t(i))
        snap = rec.snapshot("evt-5", _frame(10, 640, 360), _t(10))  # fits
        rec.request_clip("evt-5", _t(10))
        for i in range(15, 25):
            rec.push(_frame(i, 640, 360, noise=True), _t(i))
        sink.wait(1)
        assert not sink.ready
        (err,) = sink.errors
        line = str(err)
        assert "\n" not in line and "no space left on device" in line and "clip.mp4" in line, line
        assert sorted(p.name for p in snap.path.parent.iterdir()) == ["snapshot.jpg"]  # no partial clip
        # the ring keeps working, and the next clip (that fits) is written
        for i in range(25, 60):
            rec.push(_frame(i, 160, 90), _t(i))
        assert len(rec.ring) > 0
        rec.request_clip("evt-6", _t(50))
        for i in range(60, 75):
            rec.push(_frame(i, 160, 90), _t(i))
        sink.wait(2)
        assert len(sink.ready) == 1 and sink.ready[0].event_id == "evt-6"
        assert hashlib.sha256(sink.ready[0].path.read_bytes()).hexdigest() == sink.ready[0].sha256
    finally:
        rec.close()


def test_disk_full_during_a_snapshot_raises_one_line(tiny_disk: Path, recorder: EvidenceRecorder) -> None:
    filler = tiny_disk / "filler"
    with open(filler, "wb", buffering=0) as fh, pytest.raises(OSError):
        while True:
            fh.write(os.urandom(65536))
    rec = EvidenceRecorder("cam", tiny_disk / "evidence", on_ready=lambda ef: None)
    try:
        with pytest.raises(EvidenceError, match="no space left on device") as err:
            rec.snapshot("evt-7", _frame(1, 640, 360, noise=True), _t(1))
        assert "\n" not in str(err.value)
        assert not any((tiny_disk / "evidence").rglob("*.jpg"))
    finally:
        rec.close()


def test_clip_timeline_keeps_real_time_across_dropped_frames() -> None:
    from vision.clipwriter import timeline

    times = [_t(i) for i in range(10)] + [_t(i) for i in range(20, 30)]  # 2 s of frames missing in the middle
    fps, order = timeline(times)
    assert fps == 5.0
    assert len(order) == 30  # 0..29 at 5 fps: the clip lasts the real 5.8 s (+1 frame), not 3.8 s
    assert order[:10] == list(range(10)) and order[10:20] == [9] * 10 and order[20:] == list(range(10, 20))


def test_a_stalled_feed_still_gets_its_clip(tmp_path: Path, sink: _Sink) -> None:
    rec = EvidenceRecorder("cam", tmp_path, on_ready=sink.on_ready, on_error=sink.on_error, post_s=1.0, stall_s=0.2)
    try:
        for i in range(30):
            rec.push(_frame(i), _t(i))
        rec.request_clip("evt-8", _t(28))  # no frame ever comes after it: the feed stalled
        sink.wait(1, timeout_s=30.0)  # finished by the writer thread's timer (post_s + stall_s), no flush
    finally:
        rec.close()
    (clip,) = sink.ready
    assert clip.t_start_utc <= _t(3) and clip.t_end_utc == _t(29)


def test_half_written_files_left_by_a_killed_writer_are_swept(tmp_path: Path) -> None:
    from vision.evidence import sweep_partials

    day = tmp_path / "2026-06-01" / "ev1"
    day.mkdir(parents=True)
    final = day / "clip.mp4"
    old_clip, old_snap = day / ".clip.partial-1a2b.mp4", day / ".snapshot.partial-3c4d.jpg"
    new_clip = day / ".clip.partial-5e6f.mp4"  # being encoded right now
    for f in (final, old_clip, old_snap, new_clip):
        f.write_bytes(b"x")
    now = new_clip.stat().st_mtime
    for f in (old_clip, old_snap):
        os.utime(f, (now - 3600, now - 3600))
    assert sorted(sweep_partials(tmp_path, 600.0, now=now + 1)) == sorted([old_clip, old_snap])
    assert final.exists() and new_clip.exists() and not old_clip.exists()
    assert sweep_partials(tmp_path / "missing") == []
