"""``lookout bench flight`` runs end to end with tiny sizes (numbers are not checked: no timing asserts)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.bench_flight import main


@pytest.mark.slow
def test_bench_flight_smoke(tmp_path: Path, capsys) -> None:
    assert main(["--items", "30", "--repeats", "1", "--cpu-seconds", "0"], tmp_path) == 0
    out = capsys.readouterr().out
    assert "30 wire items (29 + home)" in out and "ratio naive/flight" in out
