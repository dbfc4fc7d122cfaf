"""``lookout alerts dispatch|send-test|sinks|report`` end to end: real files, a real signed-webhook receiver."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dispatch.store import AlertStore
from dispatch.types import AlertInput, Position
from lookout.cli import main
from tests.dispatch.webhook_receiver import Receiver, free_port, wait_for

SECRET = "whsec_" + base64.b64encode(b"desk secret 32 bytes long.......").decode()
T0 = datetime.now(UTC)


def _config(tmp_path: Path, url: str, secret: str = SECRET) -> Path:
    cfg = tmp_path / "lookout.toml"
    cfg.write_text(f"""
[dispatch]
detour_factor = 1.4

[dispatch.sinks.desk]
type = "webhook"
url = "{url}"
secret = "{secret}"
timeout_s = 1.0
backoff_base_s = 0.05
backoff_max_s = 0.2

[dispatch.sinks.capfiles]
type = "cap"
dir = "{tmp_path / "cap"}"

[units.foot1]
callsign = "FOOT 1"
kind = "foot"
lat_deg = 52.3709
lon_deg = 4.89

[units.moto1]
callsign = "MOTO 1"
kind = "motorcycle"
lat_deg = 52.3655
lon_deg = 4.89

[units.car9]
callsign = "CAR 9"

[response_areas.centre]
target_min = 3

[response_areas.centre.geometry]
type = "Polygon"
coordinates = [[[4.88, 52.36], [4.90, 52.36], [4.90, 52.38], [4.88, 52.38], [4.88, 52.36]]]
""")
    return cfg


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for var in ("LOOKOUT_PASSWORD", "LOOKOUT_USER", "LOOKOUT_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    d = tmp_path / "data"
    with AlertStore(d / "alerts.sqlite") as store:
        for i, pos in enumerate([(52.37, 4.89), (52.5, 5.2)], start=1):
            t = T0 + timedelta(seconds=i)
            store.ingest(AlertInput(f"ev{i}", "loitering", "high", f"cam{i}", t, t + timedelta(seconds=5), (i,),
                                    Position(*pos, 5.0), None, f"person {i} loitering", {}, 60.0))  # fmt: skip
    return d


def test_confirm_recommend_dispatch_on_scene_close_and_report(
    tmp_path: Path, data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r = Receiver(base64.b64decode(SECRET[6:])).start()
    cfg = _config(tmp_path, r.url)
    run = lambda *argv: main(["--config", str(cfg), "--data-dir", str(data), "alerts", *argv])  # noqa: E731
    try:
        assert run("dispatch", "1") == 1
        assert "confirm it before dispatching" in capsys.readouterr().err
        assert run("confirm", "1") == 0
        capsys.readouterr()
        assert run("dispatch", "1") == 0
        out = capsys.readouterr().out
        assert "class centre 3 min" in out
        lines = [ln for ln in out.splitlines() if "ETA" in ln]
        assert lines[0].lstrip().startswith("* moto1")  # further than foot1 (555 m vs 100 m), but sooner there
        assert "foot1" in lines[1] and "car9" in out and "no position" in out
        assert "accept: lookout alerts dispatch 1 --unit moto1" in out
        assert run("dispatch", "1", "--unit", "moto1") == 0
        assert run("dispatch", "1", "--unit", "nosuch") == 1
        assert "no unit 'nosuch'" in capsys.readouterr().err
        assert run("dispatch", "1", "--on-scene") == 0
        assert run("close", "1") == 0
        assert run("sinks", "--drain", "10") == 0
        out = capsys.readouterr().out
        assert "desk [webhook]" in out and "queued 0, dead letters 0, delivered 4" in out
        assert wait_for(lambda: r.count() == 4)
        assert [r.accepted[m]["type"] for m in r.order] == ["new", "update", "update", "end"]
        assert r.accepted[r.order[2]]["after"]["response"]["unit"] == "moto1"
        assert len(list((tmp_path / "cap").glob("*.xml"))) == 4
        # an alert outside every response area: elsewhere, 5 min, and it says so
        assert run("confirm", "2") == 0
        capsys.readouterr()
        assert run("dispatch", "2") == 0
        out = capsys.readouterr().out
        assert "class elsewhere 5 min" in out and "outside every response area" in out and "LATE by" in out
        # Test-status message through every sink
        assert run("send-test") == 0
        out = capsys.readouterr().out
        assert "desk           delivered" in out and "capfiles       delivered" in out
        assert any(b["type"] == "test" for b in r.accepted.values())
        # report: table + CSV + PNG
        assert run("report", "-o", str(tmp_path / "rep")) == 0
        out = capsys.readouterr().out
        assert "centre" in out and "100 %" in out
        assert (tmp_path / "rep.csv").read_text().splitlines()[1].startswith("centre,3,1,1,0,")
        assert (tmp_path / "rep.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert run("report", "--since", "yesterday") == 1
        assert "--since 'yesterday'" in capsys.readouterr().err
    finally:
        r.stop()


def test_send_test_reports_wrong_secret_and_unreachable_sinks(
    tmp_path: Path, data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r = Receiver(base64.b64decode(SECRET[6:])).start()
    try:
        cfg = _config(tmp_path, r.url, secret="whsec_" + base64.b64encode(b"wrong").decode())
        assert main(["--config", str(cfg), "--data-dir", str(data), "alerts", "send-test", "--sink", "desk"]) == 1
        out = capsys.readouterr().out
        assert "desk           dead: " in out and "HTTP 401" in out and "dispatch.sinks.desk.secret" in out
    finally:
        r.stop()
    cfg = _config(tmp_path, f"http://127.0.0.1:{free_port()}/hook")
    args = ["--config", str(cfg), "--data-dir", str(data), "alerts"]
    assert main([*args, "send-test", "--sink", "desk", "--wait", "1"]) == 1
    assert "cannot reach" in capsys.readouterr().out
    assert main([*args, "sinks", "--dead"]) == 0
    out = capsys.readouterr().out
    assert "dead #" in out and "queued 1" in out  # the 401 dead letter is listed, the unreachable one waits
    assert main([*args, "send-test", "--sink", "nosuch"]) == 1
    assert "no sink 'nosuch'" in capsys.readouterr().err
