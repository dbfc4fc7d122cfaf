"""The video wall's workers run the tiled crowd count and the crowd rule counts it: the real wall, scheduler,
worker process and packaged models on the real nightclub crowd clip (the whole-frame pass at 320 sees a
few of the people, never the crowd of 8 the rule needs)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from lookout.paths import footage_dir

NIGHTCLUB = "nofight/dev_nofi049_nightclub_crowd.mp4"


@pytest.mark.slow  # a real worker process loads the models (~10 s) and the clip plays in real time
def test_the_walls_workers_count_the_crowd_the_rule_fires_on(tmp_path: Path) -> None:
    from lookout.config import parse_config
    from lookout.wiring import VisionWall

    root = footage_dir()
    if root is None or not (root / NIGHTCLUB).is_file():
        pytest.skip(f"no shared footage clip {NIGHTCLUB} (../shared/footage or LOOKOUT_FOOTAGE)")
    cfg = parse_config(
        f'[cameras.club]\nurl = "{root / NIGHTCLUB}"\nfps = 15\nloop = true\nmotion.enabled = false\n'
        "[detectors.crowd]\nmin_people = 3\n"  # the pass runs when the whole-frame pass sees 3 (it sees 0-6 here)
        "[rules.crowd]\nmin_duration_s = 1.0\n"
    )
    wall = VisionWall(cfg, Path(os.environ["LOOKOUT_DATA"]), workers=1, evidence=False)  # the suite's export cache
    wall.add_cameras(cfg.cameras)
    wall.start()
    try:
        deadline, crowd = time.monotonic() + 120, []
        while not crowd and time.monotonic() < deadline:
            wall.flush(1.0)
            crowd = [e for e in wall.events_since(0)[1] if e.kind == "crowd"]
            time.sleep(0.1)
    finally:
        wall.stop()
    assert crowd, "no crowd event within 120 s"
    ev = crowd[0]
    assert ev.feed == "club" and ev.details["counted"] == "tiled" and ev.details["people"] >= 8
