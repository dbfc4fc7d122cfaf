"""``lookout bench flight --connect URL`` end to end against real ArduCopter SITL (``sitl`` marker;
tiny sizes, numbers not checked: no timing asserts)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.flight.clihelp import cli
from tests.sitl_harness import running_sitl

pytestmark = pytest.mark.sitl


def test_bench_flight_connect_measures_the_vehicle(tmp_path: Path, capsys) -> None:
    with running_sitl(tmp_path / "sitl") as sitl:
        rc = cli(["bench", "flight", "--items", "40", "--repeats", "1", "--connect", sitl.url, "--no-sim"])
    out = capsys.readouterr().out
    assert rc == 0
    assert f"40 wire items, vehicle at {sitl.url}" in out and "ratio naive/flight" in out
