"""BehaviourEngine: default rules from config, cooldown, a failing rule, bounded memory, zones per size."""

from __future__ import annotations

import logging
from datetime import timedelta

import numpy as np
import pytest

from tests.vision.behaviours.scripted import T0, H, W, person_at, run, square, tracked
from vision.behaviours import BehaviourEngine, Event, FrameContext, RulesConfig, build_rules
from vision.behaviours.engine import RULE_MODULES
from vision.types import Detections

YARD = square("yard", "watch", 0, 0, 640, 480)


class _Every:
    """A rule that reports each tracked person every frame (to see what the engine lets through)."""

    kind = "zone_entry"

    def __init__(self) -> None:
        self.frames: list[int] = []

    def update(self, ctx: FrameContext) -> list[Event]:
        self.frames.append(ctx.frame_index)
        return [
            Event(self.kind, "low", ctx.feed, ctx.t_utc, ctx.t_utc, ctx.frame_index, (int(tid),), (0.0, 0.0),
                  (0.0, 0.0, 1.0, 1.0), 1.0)
            for tid in ctx.detections.tracker_id
        ]  # fmt: skip


class _Broken:
    kind = "fight"

    def __init__(self) -> None:
        self.calls = 0

    def update(self, ctx: FrameContext) -> list[Event]:
        self.calls += 1
        raise RuntimeError("boom")


def test_default_rules_follow_the_config_and_skip_missing_modules(caplog):
    with caplog.at_level(logging.WARNING):
        kinds = [r.kind for r in build_rules(RulesConfig())]
    assert {"water_entry", "loitering", "crowd", "zone_entry"} <= set(kinds)
    assert kinds == [k for k in RULE_MODULES.values() if k in kinds]  # EVENT_KINDS order
    for field, kind in RULE_MODULES.items():  # every module either loads or is named in a warning
        assert kind in kinds or f"vision.behaviours.{field}" in caplog.text
    off = RulesConfig.model_validate({"crowd": {"enabled": False}, "water_entry": {"enabled": False}})
    kinds = [r.kind for r in build_rules(off)]
    assert "crowd" not in kinds and "water_entry" not in kinds and "loitering" in kinds
    first, second = build_rules(RulesConfig()), build_rules(RulesConfig())
    assert all(a is not b for a, b in zip(first, second, strict=True))  # fresh state per feed


def test_cooldown_per_kind_and_main_track():
    rule = _Every()
    eng = BehaviourEngine("cam", RulesConfig(cooldown_s=1.0), rules=[rule])
    frames = [tracked({1: person_at(100, 100)})] * 15 + [tracked({1: person_at(100, 100), 2: person_at(300, 100)})] * 10
    fired = [(k, e.track_ids[0]) for k, _, e in run(eng, frames)]
    # track 1 at 0.0, 1.0, 2.0 s; track 2 (new at 1.5 s) at once and again 1 s later
    assert fired == [(0, 1), (10, 1), (15, 2), (20, 1)]
    assert len(rule.frames) == 25 and eng.suppressed == 25 + 10 - 4


def test_zero_cooldown_lets_everything_through():
    eng = BehaviourEngine("cam", RulesConfig(cooldown_s=0), rules=[_Every()])
    assert len(run(eng, [tracked({1: person_at(100, 100)})] * 5)) == 5


def test_a_rule_that_raises_does_not_stop_the_others(caplog):
    broken, every = _Broken(), _Every()
    eng = BehaviourEngine("cam", RulesConfig(cooldown_s=0), rules=[broken, every])
    with caplog.at_level(logging.ERROR):
        events = run(eng, [tracked({1: person_at(100, 100)})] * 5)
    assert len(events) == 5 and broken.calls == 5  # the broken rule keeps being tried
    assert eng.errors == {"fight": 5}
    assert caplog.text.count("behaviour rule fight failed") == 1 and "RuntimeError: boom" in caplog.text


def test_untracked_detections_run_no_rules(caplog):
    rule = _Every()
    eng = BehaviourEngine("cam", RulesConfig(cooldown_s=0), rules=[rule])
    det = Detections(np.array([person_at(100, 100)], np.float32), np.ones(1, np.float32), np.zeros(1, np.int32))
    with caplog.at_level(logging.WARNING):
        assert run(eng, [det] * 3) == []
    assert rule.frames == [] and caplog.text.count("no tracker ids") == 1


def test_memory_is_bounded_with_many_short_lived_tracks():
    cfg = RulesConfig.model_validate({"cooldown_s": 1.0, "loitering": {"dwell_s": 0.3}})
    door = square("door", "restricted", 0, 0, 640, 300)
    eng = BehaviourEngine("cam", cfg, [YARD, door], expire_s=2.0)
    frames = (tracked({k: person_at(20 + (k % 30) * 20, 200 + k % 7), k + 100_000: person_at(600, 400)})
              for k in range(3000))  # two new ids every frame for 300 s at 10 fps, each seen once
    events = run(eng, frames)
    mem = eng.memory()
    assert mem["history"] <= 2 * 21, mem  # tracks seen in the last 2 s
    for kind in ("water_entry", "loitering", "crowd", "zone_entry"):
        assert mem[kind] <= mem["history"], mem
    assert mem["cooldown"] <= 64 + 11, mem  # keys of the last 1 s, pruned past 64
    assert sorted(e.kind for _, _, e in events) == ["zone_entry"] * 3000  # each id entered the door once


def test_zones_come_from_a_callable_per_frame_size():
    sizes = []

    def zones(w: int, h: int):
        sizes.append((w, h))
        return [square("door", "restricted", w / 2, 0, w, h)]

    eng = BehaviourEngine("cam", RulesConfig(cooldown_s=0), zones)
    det = tracked({1: person_at(400, 100)})  # right half at 640 wide; left half at 1280
    fired = [bool(eng.update(k, T0 + timedelta(seconds=k), w, H, det)) for k, w in enumerate((W, W, 1280, W))]
    assert sizes == [(W, H), (1280, H), (W, H)]
    assert fired == [True, False, False, True]  # enters, stays, "leaves" (bigger frame), enters again


@pytest.mark.parametrize("bad", [{"cooldown_s": -1}, {"crowd": {"min_people": 1}}, {"loitering": {"dwel_s": 3}}])
def test_bad_rule_config_is_rejected(bad):
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        RulesConfig.model_validate(bad)


def test_rules_config_round_trips_through_lookout_config_show():
    from lookout.config import dump_toml, parse_config

    cfg = parse_config("[rules]\ncooldown_s = 5\n[rules.loitering]\ndwell_s = 12.5\nexit_grace_s = 0\n"
                       "[rules.crowd]\nmin_people = 3\nlink_heights = 1.5\n")  # fmt: skip
    assert cfg.rules.loitering.dwell_s == 12.5 and cfg.rules.crowd.link_heights == 1.5
    assert parse_config(dump_toml(cfg)) == cfg


def test_a_rule_module_that_does_not_exist_is_skipped_with_a_warning(monkeypatch, caplog):
    import importlib

    from vision.behaviours import engine as engine_mod

    real = importlib.import_module

    def no_fight(name: str, *a):
        if name == "vision.behaviours.fight":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return real(name, *a)

    monkeypatch.setattr(engine_mod.importlib, "import_module", no_fight)
    with caplog.at_level(logging.WARNING):
        kinds = [r.kind for r in build_rules(RulesConfig())]
    assert "fight" not in kinds and "water_entry" in kinds
    assert "behaviour rule fight is not available (no module vision.behaviours.fight)" in caplog.text
