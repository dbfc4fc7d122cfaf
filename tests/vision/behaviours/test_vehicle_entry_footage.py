"""vehicle_entry on real frames at a jump cut: two clips of one night-street camera 28 s apart (fi089,
a fight beside parked cars; nofi009, walkers past them), spliced: a real jump cut in one view, where
the cached car boxes of the issue's false alarm would stay. No vehicle_entry fires either way round.
Fight then walkers: the fighters' tracks all end at the cut, and the rule sees that frame (and no
other) as a cut. Walkers then fight: ByteTrack carries one walker's id into the next scene (a box
at the same place), so track endings alone cannot see that cut; the composite detector's pixel
test does (``tests/vision/test_parked.py``), and going into a car must be seen anyway."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from lookout.paths import footage_dir
from vision.behaviours.vehicle_entry import VehicleEntryRule

pytestmark = pytest.mark.slow

FOOTAGE = footage_dir()
CLIPS = ("nofight/dev_nofi009_night_street_walkers_parked_cars.mp4", "fight/dev_fi089_night_street_parked_cars.mp4")


@pytest.fixture(scope="module")
def footage_mod():
    if FOOTAGE is None or not all((FOOTAGE / c).is_file() for c in CLIPS):
        pytest.skip("no ../shared/footage with nofi009 and fi089 (set LOOKOUT_FOOTAGE)")
    sys.path.insert(0, str(Path(__file__).parent))
    try:
        import footage
    finally:
        sys.path.pop(0)
    return footage


def _detections(fm, name: str):
    path = FOOTAGE / name
    times, dets = fm.detect_clip(path, 416, None, Path(os.environ["LOOKOUT_DATA"]) / "models")
    return times, dets, fm.frame_size(path)


def _cuts(fm, parts) -> tuple[tuple[float, ...], float]:
    """Cut times (s from the start) the rule saw over the spliced parts, and where the last part began."""
    times, dets, junction = [], [], 0.0
    for t, d, _ in parts:
        junction = times[-1] + (t[1] - t[0]) if times else 0.0
        times += [junction + x for x in t]
        dets += d
    rule = VehicleEntryRule()
    for ctx in fm.contexts("street", times, dets, parts[0][2]):
        assert rule.update(ctx) == []
    return rule.cuts, junction


def test_no_entry_across_a_real_jump_cut_and_the_cut_is_seen(footage_mod):
    walkers, fight = (_detections(footage_mod, c) for c in CLIPS)
    cuts, junction = _cuts(footage_mod, [fight, walkers])  # _cuts asserts no event on any frame
    assert len(cuts) == 1 and cuts[0] == pytest.approx(junction, abs=0.05)
    _cuts(footage_mod, [walkers, fight])
    for single in (walkers, fight):
        assert _cuts(footage_mod, [single])[0] == ()
