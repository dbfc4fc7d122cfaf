from __future__ import annotations

from contextlib import nullcontext as does_not_raise
from pathlib import Path

import pytest

from lookout.cli import main
from lookout.config import LookoutConfig, dump_toml, load_config, parse_config
from lookout.errors import ConfigError

GOOD = """
[storage]
evidence_max_gb = 5

[cameras.gate]
url = "rtsp://127.0.0.1:8554/gate"
fps = 4

[links.patrol1]
url = "udp:0.0.0.0:14550"
"""


@pytest.mark.parametrize(
    ("text", "expectation", "message"),
    [
        ("", does_not_raise(), None),
        (GOOD, does_not_raise(), None),
        (
            '[cameras.gate]\nurll = "rtsp://x"\n',
            pytest.raises(ConfigError),
            r"lookout.toml:2 cameras.gate.urll: unknown key \(did you mean 'url'\?\)",
        ),
        (
            '[cameras.gate]\nurl = "rtsp://x"\nfps = 0\n',
            pytest.raises(ConfigError),
            r"lookout.toml:3 cameras.gate.fps: input should be greater than 0",
        ),
        ("[cameras.gate]\nfps = 5\n", pytest.raises(ConfigError), r"cameras.gate.url: required key is missing"),
        ("[storag]\n", pytest.raises(ConfigError), r"lookout.toml:1 storag: unknown key \(did you mean 'storage'\?\)"),
        (
            "[sim]\nvehicles = 'three'\n",
            pytest.raises(ConfigError),
            r"lookout.toml:2 sim.vehicles: input should be a valid integer",
        ),
        ("[sim\nvehicles = 3\n", pytest.raises(ConfigError), r"not valid TOML"),
        (
            '[zones.door]\ncamera = "*"\npolygon = [[0, 0], [5, 0]]\n',
            pytest.raises(ConfigError),
            r"lookout.toml:3 zones.door.polygon: list should have at least 3 items",
        ),
        (
            '[zones.door]\ncamera = "*"\npolygon = [[0, 0], [5, nan], [5, 5]]\n',
            pytest.raises(ConfigError),
            r"lookout.toml:3 zones.door.polygon.1.1: input should be a finite number",
        ),
        (
            '[zones.bow]\ncamera = "*"\npolygon = [[0, 0], [10, 10], [10, 0], [0, 10]]\n',
            pytest.raises(ConfigError),
            r"lookout.toml:3 zones.bow.polygon: edges cross at \(5, 5\); list the vertices in order",
        ),
        (
            '[zones.door]\ncamera = "*"\nkind = "water"\npolgon = [[0, 0], [5, 0], [5, 5]]\n',
            pytest.raises(ConfigError),
            r"lookout.toml:4 zones.door.polgon: unknown key \(did you mean 'polygon'\?\)",
        ),
        (
            GOOD + '[zones.door]\ncamera = "gat"\npolygon = [[0, 0], [5, 0], [5, 5]]\n',
            pytest.raises(ConfigError),
            r"lookout.toml:12 zones.door.camera: no \[cameras.gat\] entry \(did you mean 'gate'\?\); name a config",
        ),
        (
            "cameras.gate.url = 'rtsp://x'\ncameras.gate.imgsz = 333\n",
            pytest.raises(ConfigError),
            r"lookout.toml:2 cameras.gate.imgsz: input should be a multiple of 32",
        ),
    ],
)
def test_parse_config(text: str, expectation, message: str | None) -> None:
    with expectation as info:
        cfg = parse_config(text, "lookout.toml")
        assert isinstance(cfg, LookoutConfig)
    if message:
        assert info is not None
        assert len(str(info.value).splitlines()) == 1
        assert pytest.raises  # keep the table readable
        import re

        assert re.search(message, str(info.value)), str(info.value)


def test_effective_config_round_trips_through_show() -> None:
    cfg = parse_config(GOOD)
    again = parse_config(dump_toml(cfg))
    assert again == cfg
    assert again.cameras["gate"].fps == 4
    assert again.sim.vehicles == LookoutConfig().sim.vehicles


ZONES = GOOD + """
[zones.car_row]
camera = "gate"
kind = "parking"
polygon = [[0, 400], [640, 400], [640, 480], [0, 480]]

[zones."river bank"]
camera = "*"
kind = "water"
normalized = true
polygon = [[0, 0.5], [1, 0.5], [1, 1]]
color = "#00a0ff"
"""


def test_zones_round_trip_through_show() -> None:
    cfg = parse_config(ZONES)
    assert list(cfg.zones) == ["car_row", "river bank"]
    assert cfg.zones["car_row"].polygon[1] == (640.0, 400.0) and cfg.zones["river bank"].normalized
    shown = dump_toml(cfg)
    assert '[zones."river bank"]' in shown
    assert parse_config(shown) == cfg


def test_cli_config_check_names_the_zone_with_an_unknown_camera(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "lookout.toml"
    bad.write_text(ZONES.replace('camera = "gate"', 'camera = "dock"'))
    assert main(["config", "check", str(bad)]) == 1
    (err,) = capsys.readouterr().err.strip().splitlines()
    assert f"{bad}:13 zones.car_row.camera: no [cameras.dock] entry (configured: 'gate');" in err, err


def test_missing_file_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "nope.toml")


def test_cli_config_check_names_key_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "lookout.toml"
    bad.write_text('[storage]\nevidence_max_gb = 2\n\n[cameras.gate]\nurll = "rtsp://10.0.0.5/stream1"\n')
    assert main(["config", "check", str(bad)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert f"{bad}:5 cameras.gate.urll: unknown key" in err
    assert main(["config", "check"]) == 0


def test_cli_config_show_prints_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "show"]) == 0
    out = capsys.readouterr().out
    assert "[sim]" in out and "vehicles = 3" in out
    assert parse_config(out) == LookoutConfig()


def test_the_readme_config_examples_are_valid() -> None:
    """Every ```toml block in the README parses as a whole config (users copy them)."""
    import re

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    blocks = re.findall(r"```toml\n(.*?)```", readme, re.S)
    assert blocks, "the README shows a config example"
    for text in blocks:
        cfg = parse_config(text, "README.md")
        assert cfg.cameras or cfg.zones
