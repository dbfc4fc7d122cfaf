"""Frame sources through the public API: real files, a real RTSP server, real sockets on 127.0.0.1."""

from __future__ import annotations

import itertools
import socket
import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest

from vision.feeds import IteratorSource, SourceNotFound, SourceUnavailable, open_source
from vision.types import CameraPose

ASSETS = Path(cv2.__file__).parents[1] / "ultralytics" / "assets"
RTSP_SERVER = Path(__file__).with_name("rtsp_server.py")
SYSTEM_PY = "/usr/bin/python3"


def make_clip(path: Path, frames: int = 30, fps: float = 20.0, size: tuple[int, int] = (320, 240)) -> Path:
    """A clip of real pixels: a window panning across Ultralytics' bus.jpg."""
    img = cv2.imread(str(ASSETS / "bus.jpg"))
    if img is None:
        pytest.skip(f"ultralytics asset {ASSETS / 'bus.jpg'} is missing")
    w, h = size
    out = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), fps, size)
    for i in range(frames):
        x = (i * 7) % (img.shape[1] - w)
        out.write(np.ascontiguousarray(img[100 : 100 + h, x : x + w]))
    out.release()
    return path


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("clips") / "pan.mp4")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(cond, timeout_s: float, what: str) -> None:
    end = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.02)


# ------------------------------------------------------------------ files and images
def test_file_unpaced_delivers_every_frame_in_order_with_video_times(clip: Path) -> None:
    with open_source(clip, name="pan") as src:
        frames = list(src)
    assert [f.index for f in frames] == list(range(30))
    assert {f.feed for f in frames} == {"pan"}
    assert frames[0].image.shape == (240, 320, 3) and frames[0].image.dtype == np.uint8
    assert frames[0].capture_t_utc.tzinfo is not None
    dt = [(b.capture_t_utc - a.capture_t_utc).total_seconds() for a, b in itertools.pairwise(frames)]
    assert dt == pytest.approx([0.05] * 29, abs=1e-3)
    h = src.health()
    assert h.ended and h.frames == 30 and h.dropped == 0 and h.last_error is None


def test_file_paced_plays_no_faster_than_native_fps(clip: Path) -> None:
    t0 = time.monotonic()
    with open_source(clip, pace=True) as src:
        frames = list(src)
    elapsed = time.monotonic() - t0
    assert len(frames) >= 1
    assert frames[-1].index == 29
    assert elapsed >= 29 / 20.0 * 0.9  # a lower bound: pacing may be late, never early


def test_file_loop_keeps_going_with_increasing_times(clip: Path) -> None:
    got = []
    with open_source(clip, loop=True) as src:
        for f in src:
            got.append(f)
            if len(got) == 75:
                break
    assert [f.index for f in got] == list(range(75))
    assert all(b.capture_t_utc > a.capture_t_utc for a, b in itertools.pairwise(got))


def test_images_directory_and_single_image(tmp_path: Path) -> None:
    for n in ("b.jpg", "a.png"):
        cv2.imwrite(str(tmp_path / n), cv2.imread(str(ASSETS / "zidane.jpg")))
    (tmp_path / "notes.txt").write_text("not an image")
    with open_source(tmp_path) as src:
        assert [f.index for f in src] == [0, 1]
    with open_source(ASSETS / "bus.jpg") as src:
        frames = list(src)
    assert len(frames) == 1 and frames[0].image.shape == (1080, 810, 3) and frames[0].feed == "bus"


def test_fps_limit_decodes_fewer_frames_than_grabbed(clip: Path) -> None:
    with open_source(clip, pace=True, fps_limit=5.0) as src:
        frames = list(src)
    h = src.health()
    assert h.skipped > 0 and h.frames == len(frames) and h.frames + h.skipped == 30
    assert len(frames) < 15


# ------------------------------------------------------------------ bad sources
@pytest.mark.parametrize(
    ("source", "error", "words"),
    [
        ("/nonexistent/cam.mp4", SourceNotFound, ["/nonexistent/cam.mp4", "no such file", "check the path"]),
        ("gopher://host/x", SourceNotFound, ["gopher://", "unsupported scheme"]),
        ("", SourceNotFound, ["empty source"]),
        ("  ", SourceNotFound, ["empty source"]),
    ],
)
def test_bad_source_raises_at_open(source: str, error: type, words: list[str]) -> None:
    with pytest.raises(error) as ei:
        open_source(source, name="x")
    msg = str(ei.value)
    assert "\n" not in msg and all(w in msg for w in words)


@pytest.mark.parametrize("scheme", ["rtsp", "http", "tcp"])
def test_dead_url_at_start_is_one_clear_line_naming_the_url(scheme: str) -> None:
    port = free_port()  # nothing listens there: connection refused
    url = f"{scheme}://viewer:s3cret@127.0.0.1:{port}/cam"
    src = open_source(url, name="gate", open_timeout_s=2.0)
    with pytest.raises(SourceUnavailable) as ei:
        src.start()
    msg = str(ei.value)
    assert "\n" not in msg
    assert f"127.0.0.1:{port}/cam" in msg and "gate" in msg and "check" in msg
    assert "s3cret" not in msg  # credentials are masked
    assert src.health().ended


def test_dead_url_on_a_running_wall_keeps_retrying() -> None:
    port = free_port()
    src = open_source(f"rtsp://127.0.0.1:{port}/cam", name="wall", open_timeout_s=1.0, backoff_max_s=0.2)
    src.start(require=False)
    try:
        wait_until(lambda: src.health().last_error is not None, 10, "a recorded open failure")
        h = src.health()
        assert not h.connected and not h.ended and "open failed" in h.last_error
    finally:
        assert src.stop(timeout_s=5.0)
    assert src.health().ended


# ------------------------------------------------------------------ iterator source
def test_iterator_source_passes_pose_and_time_through() -> None:
    t0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    poses = [CameraPose(47.0 + i, 8.0, 500.0, 50.0, 0.0, -45.0, 90.0, 70.0) for i in range(3)]
    items = [(np.full((48, 64, 3), i, np.uint8), t0 + timedelta(seconds=i), p) for i, p in enumerate(poses)]
    with IteratorSource("drone1", iter(items), block=True) as src:
        frames = list(src)
    assert [f.pose for f in frames] == poses
    assert [f.capture_t_utc for f in frames] == [t for _, t, _ in items]
    assert [int(f.image[0, 0, 0]) for f in frames] == [0, 1, 2]
    assert {f.feed for f in frames} == {"drone1"}


def test_iterator_source_two_tuples_and_naive_time_is_an_error() -> None:
    good = [(np.zeros((8, 8, 3), np.uint8), datetime.now(UTC))]
    with IteratorSource("a", good, block=True) as src:
        assert [f.pose for f in src] == [None]
    bad = [(np.zeros((8, 8, 3), np.uint8), datetime(2026, 1, 1))]
    with IteratorSource("b", bad, block=True) as src:
        assert list(src) == []
    assert "timezone" in (src.health().last_error or "")


def test_iterator_factory_is_live_and_restarted_after_failure() -> None:
    calls = []

    def frames():
        calls.append(1)
        yield np.zeros((8, 8, 3), np.uint8), datetime.now(UTC)
        raise ConnectionError("camera link lost")

    src = IteratorSource("sim", frames, backoff_initial_s=0.01, backoff_max_s=0.05)
    src.start()
    try:
        wait_until(lambda: src.health().reconnects >= 2, 10, "two reconnects")
    finally:
        src.stop()
    h = src.health()
    assert "camera link lost" in h.last_error and h.gaps >= 2 and len(calls) >= 3


def test_slow_consumer_makes_the_source_drop_not_queue() -> None:
    release = threading.Event()

    def frames():
        for i in range(200):
            yield np.full((8, 8, 3), i % 256, np.uint8), datetime.now(UTC)
        release.set()

    with IteratorSource("fast", frames()) as src:
        assert release.wait(10)
        wait_until(lambda: src.health().frames == 200, 5, "all frames published")
        last = src.latest()
    h = src.health()
    assert last is not None and last.index == 199  # only the newest frame is kept
    assert h.dropped == 199


# ------------------------------------------------------------------ RTSP: kill and restart the server
def _gst_ok() -> bool:
    try:
        r = subprocess.run(
            [SYSTEM_PY, "-c", "import gi; gi.require_version('GstRtspServer', '1.0');"
             "from gi.repository import GstRtspServer"],
            capture_output=True, timeout=20,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return r.returncode == 0


def _start_rtsp(port: int) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen(
        [SYSTEM_PY, str(RTSP_SERVER), str(port), "90"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    line = proc.stdout.readline().strip()  # type: ignore[union-attr]
    if not line.startswith("READY"):
        proc.kill()
        raise AssertionError(f"RTSP server did not start: {line!r}")
    return proc, int(line.split()[1])


def _kill(proc: subprocess.Popen) -> None:
    proc.kill()
    proc.wait(10)


@pytest.mark.slow
def test_rtsp_reconnects_within_5s_after_server_returns_while_file_feed_continues(clip: Path) -> None:
    if not Path(SYSTEM_PY).exists() or not _gst_ok():
        pytest.skip("system python3 with gi + gir1.2-gst-rtsp-server-1.0 is not installed")
    server, port = _start_rtsp(0)
    url = f"rtsp://127.0.0.1:{port}/cam"
    cam = open_source(url, name="cam", open_timeout_s=5.0, read_timeout_s=2.0, backoff_max_s=2.0)
    other = open_source(clip, name="file", loop=True, pace=True)
    try:
        cam.start(timeout_s=20)
        other.start()
        wait_until(lambda: cam.health().frames >= 5, 20, "first RTSP frames")
        _kill(server)
        wait_until(lambda: not cam.health().connected, 15, "the drop to be noticed")
        during = other.health().frames
        wait_until(lambda: other.health().frames >= during + 10, 10, "the file feed to keep going")
        frames_before = cam.health().frames
        server, port2 = _start_rtsp(port)
        back = time.monotonic()
        assert port2 == port
        wait_until(lambda: cam.health().frames > frames_before, 15, "RTSP frames after the restart")
        took = time.monotonic() - back
        assert took < 5.0, f"reconnected {took:.1f} s after the server returned"
        h = cam.health()
        assert h.reconnects == 1 and h.connected and h.gaps == 1
        (gap,) = cam.gaps()
        assert gap.end_t_utc is not None and gap.duration_s > 0
        assert other.health().dropped >= 0 and other.health().reconnects == 0
    finally:
        cam.stop()
        other.stop()
        _kill(server)


# ------------------------------------------------------------------ other network transports (ffmpeg as sender)
def _ffmpeg(args: list[str]) -> subprocess.Popen:
    return subprocess.Popen(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-stream_loop", "-1", *args],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


H264 = ["-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "10", "-pix_fmt", "yuv420p"]


@pytest.mark.parametrize(
    ("kind", "sender", "url"),
    [
        ("tcp-ts", lambda clip, p: ["-i", str(clip), *H264, "-f", "mpegts", f"tcp://127.0.0.1:{p}?listen=1"],
         "tcp://127.0.0.1:{p}"),
        ("http-ts", lambda clip, p: ["-i", str(clip), *H264, "-f", "mpegts", "-listen", "1",
                                     f"http://127.0.0.1:{p}/cam.ts"], "http://127.0.0.1:{p}/cam.ts"),
        ("http-mjpeg", lambda clip, p: ["-i", str(clip), "-c:v", "mjpeg", "-q:v", "5", "-f", "mpjpeg", "-listen", "1",
                                        f"http://127.0.0.1:{p}/cam.mjpg"], "http://127.0.0.1:{p}/cam.mjpg"),
        ("udp-h264", lambda clip, p: ["-i", str(clip), *H264, "-f", "mpegts", f"udp://127.0.0.1:{p}?pkt_size=1316"],
         "udp://127.0.0.1:{p}?overrun_nonfatal=1"),
    ],
)
def test_network_transports_deliver_frames(clip: Path, kind: str, sender, url: str) -> None:
    if subprocess.run(["which", "ffmpeg"], capture_output=True).returncode:
        pytest.skip("ffmpeg is not installed")
    port = free_port()
    proc = _ffmpeg(sender(clip, port))
    src = open_source(url.format(p=port), name=kind, open_timeout_s=5.0, read_timeout_s=3.0, backoff_max_s=0.3)
    try:
        src.start(require=False)  # the sender may need a moment to listen
        wait_until(lambda: src.health().frames >= 5, 30, f"5 frames over {kind} ({src.health().last_error})")
        f = src.latest()
        assert f is not None and f.image.shape == (240, 320, 3) and f.feed == kind
    finally:
        src.stop()
        proc.kill()
        proc.wait(10)


# ------------------------------------------------------------------ [cameras.X] config
def test_open_camera_applies_the_camera_config(clip: Path) -> None:
    from vision.config import CameraConfig
    from vision.feeds import FileSource, StreamSource, open_camera

    cam = CameraConfig(url=str(clip), loop=True, pace=True, open_timeout_s=7, read_timeout_s=4, reconnect_max_s=1.5)
    src = open_camera("lot", cam)
    assert isinstance(src, FileSource) and src.name == "lot" and src.loop and src.pace
    assert (src.open_timeout_s, src.read_timeout_s, src.backoff_max_s) == (7, 4, 1.5)
    live = open_camera("gate", CameraConfig(url="rtsp://10.0.0.5/stream1"))
    assert isinstance(live, StreamSource) and live.url == "rtsp://10.0.0.5/stream1"


@pytest.mark.parametrize(
    "bad",
    [{"fps": 0}, {"open_timeout_s": 0}, {"reconnect_max_s": -1}, {"motion": {"threshold": 0}},
     {"motion": {"method": "optical-flow"}}, {"motion": {"min_area_frac": 2}}, {"urll": "x"}],
)
def test_camera_config_rejects_bad_values(bad: dict) -> None:
    from pydantic import ValidationError

    from vision.config import CameraConfig

    with pytest.raises(ValidationError):
        CameraConfig(**{"url": "rtsp://x/y", **bad})


def test_file_start_frame_skips_ahead(clip: Path) -> None:
    from vision.feeds import FileSource

    with FileSource("late", str(clip), start_frame=20) as src:
        frames = list(src)
    assert len(frames) == 10
