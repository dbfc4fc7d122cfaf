"""``lookout bench console`` runs both modes on the real window and prints frame times and idle repaints."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.gui


def test_bench_console_smoke(qtbot, capsys) -> None:  # type: ignore[no-untyped-def]
    from lookout.cli import main

    assert main(["bench", "console", "--drones", "4", "--flying", "2", "--seconds", "4.1", "--size", "900x600"]) == 0
    out = capsys.readouterr().out
    lines = {ln.split()[0]: ln for ln in out.splitlines() if ln.startswith(("  every-tick", "  changed"))}
    assert set(lines) == {"every-tick", "changed-only"}
    for ln in lines.values():
        assert "frame p50" in ln and "p95" in ln and "changed nothing" in ln
    assert "(0 changed nothing), table" in lines["changed-only"]  # the hover second: no map repaint at all
    assert "target p95 < 33 ms: wall " in out and "UI-thread CPU" in out
