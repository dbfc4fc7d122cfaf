"""WPL 110 files as pilots have them (Mission Planner, ArduPilot autotest, MAVProxy fence/rally saves):
they load as ArduPilot/MAVProxy read them, say what was renumbered, and survive WPL -> .plan -> WPL."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from missions import Home, MissionFileError, MissionItem, load_plan, read_plan, save_plan
from missions.formats import wpl
from tests.flight.clihelp import cli

# Mission Planner 1.3 style: spaces and tabs mixed, CRLF, fixed-point floats, home at AMSL in frame 0.
MISSION_PLANNER = (
    "QGC WPL 110\r\n"
    "0\t1\t0\t16\t0.000000\t0.000000\t0.000000\t0.000000\t-35.363262\t149.165237\t584.090027\t1\r\n"
    "1 0 3 22 0.00000000 0.00000000 0.00000000 0.00000000 0.00000000 0.00000000 20.000000 1\r\n"
    "2   0   3   16   0.00000000   0.00000000   0.00000000   0.00000000   -35.36223420   149.16505240   30.0   1\r\n"
    "3\t0\t3  16\t5.00000000 0.00000000\t0.00000000\t0.00000000\t-35.36104450\t149.16627660\t30.000000\t1\r\n"
    "4\t0\t3\t178\t1.00000000\t8.00000000\t-1.00000000\t0.00000000\t0.00000000\t0.00000000\t0.000000\t1\r\n"
    "5\t0\t10\t16\t0.00000000\t0.00000000\t0.00000000\t0.00000000\t-35.36304450\t149.16727660\t45.000000\t1\r\n"
    "6\t0\t3\t177\t2.00000000\t3.00000000\t0.00000000\t0.00000000\t0.00000000\t0.00000000\t0.000000\t1\r\n"
    "7\t0\t3\t20\t0.00000000\t0.00000000\t0.00000000\t0.00000000\t0.00000000\t0.00000000\t0.000000\t1\r\n"
)

# ArduPilot Tools/autotest style: comments, blank lines, home row current 0, a loiter and a land.
AUTOTEST = """QGC WPL 110
# CMAC circuit, flown by the copter autotest
0\t0\t0\t16\t0.000000\t0.000000\t0.000000\t0.000000\t-35.362938\t149.165085\t584.409973\t1

# take off to 20 m
1\t0\t3\t22\t0.000000\t0.000000\t0.000000\t0.000000\t-35.361164\t149.163986\t20.000000\t1
2\t0\t3\t16\t0.000000\t0.000000\t0.000000\t0.000000\t-35.359467\t149.161697\t30.000000\t1
  # an indented comment
3\t0\t3\t19\t10.000000\t0.000000\t0.000000\t0.000000\t-35.366333\t149.162659\t40.000000\t1
4\t0\t3\t21\t0.000000\t0.000000\t0.000000\t0.000000\t-35.362938\t149.165085\t0.000000\t1
"""

# MAVProxy "fence save": no home row, a return point, an inclusion polygon and an exclusion circle.
FENCE = """QGC WPL 110
0\t0\t3\t5000\t0.000000\t0.000000\t0.000000\t0.000000\t-35.363262\t149.165237\t0.000000\t1
1\t0\t0\t5001\t4.000000\t0.000000\t0.000000\t0.000000\t-35.360000\t149.160000\t0.000000\t1
2\t0\t0\t5001\t4.000000\t0.000000\t0.000000\t0.000000\t-35.360000\t149.170000\t0.000000\t1
3\t0\t0\t5001\t4.000000\t0.000000\t0.000000\t0.000000\t-35.370000\t149.170000\t0.000000\t1
4\t0\t0\t5001\t4.000000\t0.000000\t0.000000\t0.000000\t-35.370000\t149.160000\t0.000000\t1
5\t0\t0\t5004\t50.000000\t0.000000\t0.000000\t0.000000\t-35.365000\t149.165000\t0.000000\t1
"""

RALLY = """QGC WPL 110
0\t0\t3\t5100\t0.000000\t0.000000\t0.000000\t0.000000\t-35.361000\t149.163000\t30.000000\t1
1\t0\t3\t5100\t0.000000\t0.000000\t0.000000\t0.000000\t-35.364000\t149.167000\t25.000000\t1
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def roundtrip(tmp_path: Path, src: Path) -> None:
    """WPL -> .plan -> WPL keeps every command, frame, param and coordinate (and fence/rally, home row)."""
    first = load_plan(src)
    save_plan(first, tmp_path / "via.plan")
    assert load_plan(tmp_path / "via.plan") == first
    save_plan(load_plan(tmp_path / "via.plan"), tmp_path / "back.waypoints")
    assert load_plan(tmp_path / "back.waypoints") == first


def test_mission_planner_file_with_spaces_and_crlf(tmp_path: Path) -> None:
    loaded = read_plan(write(tmp_path, "mp.waypoints", MISSION_PLANNER))
    plan = loaded.plan
    assert loaded.warnings == ()
    assert plan.mission.home == Home(-35.363262, 149.165237, 584.090027) and plan.mission.home_row is None
    assert [(it.command, it.frame) for it in plan.mission.items] == [
        (22, 3), (16, 3), (16, 3), (178, 3), (16, 10), (177, 3), (20, 3)]
    assert plan.mission.items[2].param1 == 5.0 and plan.mission.items[1].lat_deg == -35.3622342
    assert plan.mission.items[3].params == (1.0, 8.0, -1.0, 0.0)
    roundtrip(tmp_path, tmp_path / "mp.waypoints")


def test_autotest_file_with_comments_and_blank_lines(tmp_path: Path) -> None:
    plan = load_plan(write(tmp_path, "CMAC-circuit.txt", AUTOTEST))
    assert [it.command for it in plan.mission.items] == [22, 16, 19, 21]
    assert plan.mission.items[2].param1 == 10.0 and plan.mission.home is not None
    roundtrip(tmp_path, tmp_path / "CMAC-circuit.txt")


def test_home_row_frame_and_command_are_kept_as_written(tmp_path: Path) -> None:
    text = ("QGC WPL 110\n"
            "0\t1\t3\t179\t2\t0\t0\t0\t52.1\t21.0\t0.5\t0\n"
            "1\t0\t3\t22\t0\t0\t0\t0\t0\t0\t10\t1\n")  # fmt: skip
    plan = load_plan(write(tmp_path, "home3.waypoints", text))
    assert plan.mission.home == Home(52.1, 21.0, 0.5)
    assert plan.mission.home_row == MissionItem(179, 3, 2.0, 0.0, 0.0, 0.0, 52.1, 21.0, 0.5, False)
    assert wpl.dumps(plan).splitlines()[1] == "0\t1\t3\t179\t2.0\t0.0\t0.0\t0.0\t52.1\t21.0\t0.5\t0"
    roundtrip(tmp_path, tmp_path / "home3.waypoints")
    for suffix in (".geojson", ".kml"):
        save_plan(plan, tmp_path / f"h{suffix}")
        assert load_plan(tmp_path / f"h{suffix}") == plan


def test_index_gaps_and_repeats_load_in_file_order_with_a_warning(tmp_path: Path, capsys) -> None:
    text = ("QGC WPL 110\n"
            "0\t1\t0\t16\t0\t0\t0\t0\t52.1\t21.0\t100\t1\n"
            "1\t0\t3\t22\t0\t0\t0\t0\t0\t0\t10\t1\n"
            "5\t0\t3\t16\t0\t0\t0\t0\t52.101\t21.0\t10\t1\n"
            "5\t0\t3\t16\t0\t0\t0\t0\t52.102\t21.0\t10\t1\n"
            "9\t0\t3\t177\t2\t1\t0\t0\t0\t0\t0\t1\n"
            "9\t0\t3\t20\t0\t0\t0\t0\t0\t0\t0\t1\n")  # fmt: skip
    path = write(tmp_path, "gaps.waypoints", text)
    loaded = read_plan(path)
    assert [it.lat_deg for it in loaded.plan.mission.items[1:3]] == [52.101, 52.102]
    assert len(loaded.warnings) == 2
    assert loaded.warnings[0] == (f"{path}: 4 row(s) renumbered in file order (indices skip or repeat): line 4 index "
                                  "5 -> 2, line 5 index 5 -> 3, line 6 index 9 -> 4, line 7 index 9 -> 5")
    assert "line 6: DO_JUMP to 2 kept as written" in loaded.warnings[1]
    # The CLI prints the warning (and still converts).
    assert cli(["plan", "convert", str(path), str(tmp_path / "gaps.plan")]) == 0
    err = capsys.readouterr().err
    assert "4 row(s) renumbered in file order" in err


def test_fence_and_rally_files_become_the_plans_fence_and_rally(tmp_path: Path) -> None:
    fence = load_plan(write(tmp_path, "fence.waypoints", FENCE))
    assert fence.mission.items == () and fence.mission.home is None
    assert [it.command for it in fence.fence] == [5000, 5001, 5001, 5001, 5001, 5004]
    assert fence.fence[5].param1 == 50.0 and fence.fence[0].frame == 3
    text = wpl.dumps(fence)
    assert text.splitlines()[1].startswith("0\t0\t3\t5000\t")  # no home row added to a fence file
    roundtrip(tmp_path, tmp_path / "fence.waypoints")
    rally = load_plan(write(tmp_path, "rally.waypoints", RALLY))
    assert rally.mission.items == () and [it.alt_m for it in rally.rally] == [30.0, 25.0]
    roundtrip(tmp_path, tmp_path / "rally.waypoints")
    # Fence rows among mission rows: kept as the fence (to upload as one), with a warning.
    mixed = AUTOTEST + FENCE.split("\n", 1)[1].replace("0\t0\t3\t5000", "5\t0\t3\t5000")
    loaded = read_plan(write(tmp_path, "mixed.waypoints", mixed))
    assert len(loaded.plan.mission.items) == 4 and len(loaded.plan.fence) == 6
    assert any("6 fence and 0 rally row(s) among the mission rows" in w for w in loaded.warnings)
    roundtrip(tmp_path, tmp_path / "mixed.waypoints")


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("trailing", [True, False])
def test_700_items_any_line_ending_with_or_without_a_final_newline(tmp_path: Path, newline: str,
                                                                   trailing: bool) -> None:  # fmt: skip
    rows = ["QGC WPL 110   ", "0\t1\t0\t16\t0\t0\t0\t0\t47.0\t8.0\t400\t1"]
    rows += [f"{i}\t0\t3\t16\t0\t0\t0\t0\t{47 + i * 1e-5:.7f}\t{8 + i * 1e-5:.7f}\t{20 + i % 7}\t1"
             for i in range(1, 751)]
    text = newline.join(rows) + (newline if trailing else "")
    path = write(tmp_path, "big.waypoints", "\ufeff" + text)  # with a BOM, as Windows editors save
    loaded = read_plan(path)
    assert loaded.warnings == () and len(loaded.plan.mission.items) == 750
    assert loaded.plan.mission.items[-1].lat_deg == float(f"{47 + 750e-5:.7f}")
    roundtrip(tmp_path, path)


def test_old_qgc_wpl_120_has_no_home_row(tmp_path: Path) -> None:
    text = ("QGC WPL 120\n"
            "0\t0\t3\t22\t0\t0\t0\t0\t0\t0\t10\t1\n"
            "1\t0\t3\t16\t0\t0\t0\t0\t52.1\t21.0\t10\t1\n"
            "2\t0\t3\t177\t1\t2\t0\t0\t0\t0\t0\t1\n")  # fmt: skip
    plan = load_plan(write(tmp_path, "old.txt", text))
    assert plan.mission.home is None and [it.command for it in plan.mission.items] == [22, 16, 177]
    assert plan.mission.items[2].param1 == 2.0  # jump to the waypoint: seq 2 once home is seq 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("QGC WPL 110\n0\t1\t0\t16\t0\t0\t0\t0\t0\t0\t0\t1\n1\t0\t3\t16\t0\t0\t0\t0\t1\n",
         "plan.waypoints line 3: expected 12 fields, got 9 (is this a QGC WPL 110 file?)"),
        ("# saved by a tool\n\nQGC WPL 110\n0 1 0 16 0 0 0 0 0 0 0 1\n1 0 3 abc 0 0 0 0 1 2 3 1\n",
         "plan.waypoints line 5: command 'abc' is not a whole number"),
        ("QGC WPL 110\n0 1 0 16 0 0 0 0 0 0 0 1\n1 0 3 16 0 0 0 0 north 2 3 1\n",
         "plan.waypoints line 3: latitude 'north' is not a number"),
        ("QGC WPL 100\n", "plan.waypoints line 1: expected header 'QGC WPL 110', got 'QGC WPL 100'"),
        ("", "plan.waypoints line 1: expected header 'QGC WPL 110', got an empty file"),
        ("# only a comment\n", "plan.waypoints line 1: expected header 'QGC WPL 110', got an empty file"),
    ],
)
def test_errors_name_the_file_and_line_with_a_fix(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, "plan.waypoints", text)
    with pytest.raises(MissionFileError) as err:
        load_plan(path)
    assert str(err.value).replace(str(tmp_path) + "/", "").startswith(message), str(err.value)
    assert "\n" not in str(err.value)


def test_nan_params_and_integral_floats_in_integer_columns(tmp_path: Path) -> None:
    text = "QGC WPL 110\n0 1 0 16 0 0 0 0 0 0 0 1\n1.0 0 3.0 22 0 0 0 nan 0 0 10 1\n"
    plan = load_plan(write(tmp_path, "f.waypoints", text))
    it = plan.mission.items[0]
    assert (it.command, it.frame) == (22, 3) and math.isnan(it.param4) and plan.mission.home is None
