"""lookout.config_edit: zones written into a real config file, comments kept, a backup, bad edits refused."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lookout.config import load_config
from lookout.config_edit import ConfigZones, save_zones
from lookout.errors import ConfigError
from vision.zones import ZoneConfig

BASE = """# top comment
[cameras.gate]
url = "cam.mp4"
"""
POND = ZoneConfig(camera="gate", kind="water", normalized=True, polygon=[(0.1, 0.5), (0.9, 0.5), (0.5, 0.95)])


def test_zones_go_in_and_everything_else_stays(tmp_path: Path) -> None:
    path = tmp_path / "lookout.toml"
    path.write_text(BASE)
    os.chmod(path, 0o640)
    cfg = save_zones(path, {"river bank": POND})
    text = path.read_text()
    assert text.startswith(BASE) and '[zones."river bank"]' in text
    assert cfg.zones["river bank"] == POND and load_config(path).zones["river bank"] == POND
    assert (tmp_path / "lookout.toml.bak").read_text() == BASE and (path.stat().st_mode & 0o777) == 0o640
    # replaced in place, the comment after the table and the next table kept
    path.write_text(text + "# about rules\n[rules]\ncooldown_s = 5\n")
    save_zones(path, {"pond": POND})
    text = path.read_text()
    assert "river bank" not in text and "[zones.pond]" in text and text.index("[zones.pond]") < text.index("# about")
    assert load_config(path).rules.cooldown_s == 5 and text.startswith(BASE)


def test_a_bad_edit_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "lookout.toml"
    path.write_text(BASE)
    bad = ZoneConfig.model_construct(camera="dock", kind="water", normalized=True, polygon=[(0, 0), (1, 0), (0, 1)],
                                     color=None, geojson=None, place=None)  # fmt: skip
    with pytest.raises(ConfigError, match=r"lookout.toml:\d+ zones.pond.camera: no \[cameras.dock\].*nothing saved"):
        save_zones(path, {"pond": bad})
    assert path.read_text() == BASE and not (tmp_path / "lookout.toml.bak").exists()
    path.write_text("zones.pond = {camera = 'gate', polygon = [[0, 0], [5, 0], [0, 5]]}\n" + BASE)
    with pytest.raises(ConfigError, match="form the editor cannot change"):
        save_zones(path, {"pond": POND})


def test_config_zones_keeps_other_feeds_and_refuses_a_name_in_use(tmp_path: Path) -> None:
    path = tmp_path / "lookout.toml"
    path.write_text(BASE + '[cameras.yard]\nurl = "y.mp4"\n[zones.yard_door]\ncamera = "yard"\n'
                    "polygon = [[0, 0], [9, 0], [0, 9]]\n")  # fmt: skip
    seen: list[object] = []
    store = ConfigZones(path, on_saved=seen.append)
    assert store.zones("gate") == [] and [z.name for z in store.zones("yard")] == ["yard_door"]
    from console.zone_editor import DrawnZone

    with pytest.raises(ConfigError, match="'yard_door' is in use"):
        store.save("gate", [DrawnZone("yard_door", "water", ((0.1, 0.1), (0.5, 0.1), (0.3, 0.5)))])
    store.save("gate", [DrawnZone("pond", "water", ((0.1, 0.1), (0.5, 0.1), (0.3, 0.5)))])
    assert sorted(load_config(path).zones) == ["pond", "yard_door"] and len(seen) == 1


def test_saved_zones_reach_the_running_wall(tmp_path: Path) -> None:
    from lookout.wiring import VisionWall
    from vision.feeds import IteratorSource

    path = tmp_path / "lookout.toml"
    path.write_text(BASE)
    wall = VisionWall(load_config(path), tmp_path, workers=1, evidence=False, listen=False)
    try:
        wall.add(IteratorSource("gate", lambda: iter(())), 5.0, zones=True)
        fp = wall.pipeline.feeds["gate"]
        assert fp.zones(640, 360) == ()
        from console.zone_editor import DrawnZone

        ConfigZones(path, on_saved=wall.set_zones).save("gate", [DrawnZone("pond", "water", ((0.1, 0.5), (0.9, 0.5),
                                                                                            (0.5, 0.9)))])
        (zone,) = fp.zones(640, 360)
        assert zone.name == "pond" and zone.kind == "water" and zone.polygon[1].tolist() == [576.0, 180.0]
    finally:
        wall.stop()
