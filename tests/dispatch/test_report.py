"""``dispatch.report``: per-class count, median/p90 time to scene, share within target; CSV and PNG."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dispatch.clock import ResponseRecord
from dispatch.report import format_table, output_paths, percentile, summarize, write_csv, write_png

T0 = datetime(2026, 6, 1, 12, tzinfo=UTC)


def rec(i: int, area: str, target: int, to_scene_s: float | None) -> ResponseRecord:
    on = None if to_scene_s is None else T0 + timedelta(seconds=to_scene_s)
    return ResponseRecord(i, area, target, 52.0, 4.0, T0, "car1" if on else None, None, on, "desk", None, None)


RECORDS = [
    rec(1, "station", 1, 40), rec(2, "station", 1, 50), rec(3, "station", 1, 70), rec(4, "station", 1, None),
    rec(5, "centre", 3, 100), rec(6, "elsewhere", 5, 290), rec(7, "elsewhere", 5, 310),
]  # fmt: skip


def test_summary_per_class() -> None:
    stats = {s.area: s for s in summarize(RECORDS)}
    st = stats["station"]
    assert (st.count, st.reached, st.not_reached, st.median_s) == (4, 3, 1, 50)
    assert st.p90_s == pytest.approx(66.0)  # 50 + 0.8 * (70 - 50)
    assert st.within_pct == pytest.approx(200 / 3)
    assert stats["elsewhere"].within_pct == 50 and stats["centre"].p90_s == 100
    assert [s.area for s in summarize(RECORDS)] == ["station", "centre", "elsewhere"]  # tightest target first
    assert summarize([rec(9, "x", 3, None)])[0].median_s is None


def test_percentile_edges() -> None:
    assert percentile([5.0], 90) == 5.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    with pytest.raises(IndexError):
        percentile([], 50)


def test_table_csv_png(tmp_path: Path) -> None:
    stats = summarize(RECORDS)
    table = format_table(stats)
    assert "station" in table and "0:50.0" in table and "67 %" in table
    assert "no confirmed alerts" in format_table([])
    csv_path, png_path = output_paths(tmp_path / "out" / "week")
    assert (csv_path.name, png_path.name) == ("week.csv", "week.png")
    assert output_paths(tmp_path / "r.png") == (tmp_path / "r.csv", tmp_path / "r.png")
    write_csv(stats, csv_path)
    write_png(stats, png_path)
    rows = list(csv.DictReader(csv_path.open()))
    assert rows[0] == {"class": "station", "target_min": "1", "alerts": "4", "on_scene": "3", "not_reached": "1",
                       "median_s": "50.0", "p90_s": "66.0", "within_pct": "66.7"}  # fmt: skip
    assert png_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png_path.stat().st_size > 5000
    assert sorted(p.name for p in csv_path.parent.iterdir()) == ["week.csv", "week.png"]  # no temp files left
    write_png([], tmp_path / "empty.png")  # nothing confirmed yet: still a chart, not an error
