"""``lookout console`` over a configured link to a simulated copter in this process."""

from __future__ import annotations

from pathlib import Path

import pytest

from lookout.cli import main

pytestmark = pytest.mark.gui


def test_console_without_links_or_cameras_says_what_to_configure(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    cfg = tmp_path / "lookout.toml"
    cfg.write_text("")
    assert main(["--config", str(cfg), "console"]) == 1
    err = capsys.readouterr().err
    assert "[links.NAME]" in err and "lookout demo" in err


def test_console_shows_a_configured_vehicle_and_saves_a_screenshot(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from flight.sim import SimFleet

    with SimFleet.start(vehicles=1, speedup=5.0, listen="tcp:127.0.0.1:0") as sim:
        cfg = tmp_path / "lookout.toml"
        cfg.write_text(f'[links.patrol1]\nurl = "{sim.vehicles[0].url}"\n')
        shot = tmp_path / "console.png"
        rc = main(["--config", str(cfg), "--data-dir", str(tmp_path / "data"), "console",
                   "--quit-after", "4", "--screenshot", str(shot)])  # fmt: skip
    assert rc == 0
    assert shot.is_file() and shot.stat().st_size > 10_000


def test_demo_without_a_display_is_one_clear_error(monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert main(["demo"]) == 1
    err = capsys.readouterr().err.strip()
    assert "no display" in err and "xvfb-run" in err and len(err.splitlines()) == 1


def test_a_corrupt_alert_database_leaves_the_console_flying_and_says_why(qtbot, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from flight.sim import SimFleet

    data = tmp_path / "data"
    data.mkdir()
    (data / "alerts.sqlite").write_bytes(b"this is not a database" * 100)
    with SimFleet.start(vehicles=1, speedup=5.0, listen="tcp:127.0.0.1:0") as sim:
        cfg = tmp_path / "lookout.toml"
        cfg.write_text(f'[links.patrol1]\nurl = "{sim.vehicles[0].url}"\n')
        rc = main(["--config", str(cfg), "--data-dir", str(data), "console", "--quit-after", "2"])
    assert rc == 0
    err = capsys.readouterr().err
    assert "no alert queue" in err and "alerts.sqlite" in err and "move it aside" in err
    assert (data / "alerts.sqlite").read_bytes() == b"this is not a database" * 100  # nothing was changed
