"""Smoke test: the plan benchmark runs end to end with tiny sizes and meets its own targets."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.bench_plan import main


@pytest.mark.slow
def test_bench_plan_smoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["--runs", "2", "--points", "12", "--starts", "3", "--seeds", "1"], tmp_path)
    out = capsys.readouterr().out
    assert rc == 0 and "PASS" in out and "FAIL" not in out
