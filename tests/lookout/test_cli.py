from __future__ import annotations

import subprocess
import sys

import pytest

from lookout.cli import build_parser, main
from lookout.commands import COMMANDS


def test_help_lists_every_contract_subcommand() -> None:
    text = build_parser().format_help()
    for name in ("demo", "console", "sim", "fly", "plan", "detect", "alerts", "bench"):
        assert name in text
    assert set(COMMANDS) >= {"demo", "console", "sim", "fly", "plan", "detect", "alerts", "bench"}


def test_console_script_runs_from_a_shell() -> None:
    out = subprocess.run([sys.executable, "-m", "lookout", "--help"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0
    assert "usage: lookout" in out.stdout


def test_unknown_subcommand_is_an_argument_error() -> None:
    with pytest.raises(SystemExit) as info:
        main(["frobnicate"])
    assert info.value.code == 2
