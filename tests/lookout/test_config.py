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
