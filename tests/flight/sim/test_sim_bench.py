"""Smoke test of benchmarks/sim_cpu.py with tiny sizes (the real numbers come from running it)."""

from __future__ import annotations

from benchmarks.sim_cpu import measure_patrol, measure_sim_cpu


def test_measure_sim_cpu_smoke():
    r = measure_sim_cpu(vehicles=2, seconds=0.5, speedup=5.0)
    assert r["vehicles"] == 2 and r["flying"] == 2
    assert r["sim_s"] > 0.5 and r["telemetry_bytes_per_s"] > 0
    assert 0 <= r["cpu_pct_one_core"] < 100


def test_measure_patrol_smoke():
    r = measure_patrol(speedup=100.0, side_m=100.0)
    assert r["route_m"] == 400 and r["flown_m"] >= 395 and r["sim_s"] > 40
