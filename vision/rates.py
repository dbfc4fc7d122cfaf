"""Rule-aware frame rates: analyse a feed as often as its rules need, decided per feed each second.

The rules need full rate only where something can happen fast: a person at a parked vehicle (door
handles, getting in) or people close together (fights, crowds). People walking in open space need
a low rate (tracks, loitering, water entry are slow); with no one in view the feed idles at a trickle,
motion-gated as before (the first detection of a person switches it up at once).

    policy = RatePolicy(RatesConfig())
    fps = policy.update("gate", detections, t_s, base_fps=5.0)   # the rate to analyse at from now on
    policy.level("gate")                                          # "full" | "low" | "idle"

Upgrades take effect on the frame that shows the need; downgrades wait ``hold_s`` after the need was
last seen, and are decided at most once per ``decide_every_s`` (1 s).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from vision.types import PERSON, VEHICLE_CLASSES, Detections

Level = Literal["full", "low", "idle"]
_ORDER: dict[str, int] = {"idle": 0, "low": 1, "full": 2}


class RatesConfig(BaseModel):
    """``[cameras.NAME.rates]``: analysed fps by what the rules need (``fps`` of the camera is the full rate)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(True, description="adapt the analysed rate to what the rules need; false = always fps")
    low_fps: float = Field(2.0, gt=0, le=60, description="people in open space (no vehicle, no group) this often")
    idle_fps: float = Field(1.0, gt=0, le=60, description="no one in view: this often (and only on motion)")
    near_vehicle: float = Field(
        0.5, ge=0, le=5, description="a person this many of their own heights from a vehicle box needs full rate"
    )
    group_heights: float = Field(
        1.0, ge=0, le=5, description="two people whose feet are closer than this many heights need full rate"
    )
    hold_s: float = Field(3.0, ge=0, le=60, description="keep a higher rate this long after its need was last seen")
    decide_every_s: float = Field(1.0, gt=0, le=10, description="decide lower rates at most this often, s")


def need(det: Detections, cfg: RatesConfig) -> Level:
    """What these detections need: full (person at a vehicle, or a tight group), low (people), idle (no one)."""
    cls = np.asarray(det.class_id)
    boxes = np.asarray(det.xyxy, np.float32).reshape(-1, 4)
    people = boxes[cls == PERSON]
    if not len(people):
        return "idle"
    heights = np.maximum(people[:, 3] - people[:, 1], 1.0)
    vehicles = boxes[np.isin(cls, VEHICLE_CLASSES)]
    if len(vehicles):
        pad = (heights * cfg.near_vehicle)[:, None]
        grown = people + np.hstack([-pad, -pad, pad, pad])
        overlap_x = (grown[:, None, 0] < vehicles[None, :, 2]) & (grown[:, None, 2] > vehicles[None, :, 0])
        overlap_y = (grown[:, None, 1] < vehicles[None, :, 3]) & (grown[:, None, 3] > vehicles[None, :, 1])
        if (overlap_x & overlap_y).any():
            return "full"
    if len(people) >= 2:
        feet = np.stack([(people[:, 0] + people[:, 2]) / 2, people[:, 3]], axis=1)
        d = np.linalg.norm(feet[:, None, :] - feet[None, :, :], axis=2)
        limit = cfg.group_heights * (heights[:, None] + heights[None, :]) / 2
        np.fill_diagonal(d, np.inf)
        if (d < limit).any():
            return "full"
    return "low"


@dataclass(slots=True)
class _State:
    level: Level = "full"  # start at full rate until the first decision
    since_need: dict[str, float] | None = None  # level -> last time it was needed
    decided_s: float = -1e18


class RatePolicy:
    """Per-feed rate decisions (thread-safe enough for one caller per feed: the scheduler's result thread)."""

    def __init__(self, config: RatesConfig | None = None) -> None:
        self.config = config or RatesConfig()
        self._feeds: dict[str, _State] = {}
        self.changes = 0  # level changes, all feeds

    def level(self, feed: str) -> Level:
        st = self._feeds.get(feed)
        return "full" if st is None else st.level

    def fps(self, level: Level, base_fps: float) -> float:
        cfg = self.config
        if not cfg.enabled or level == "full":
            return base_fps
        return min(base_fps, cfg.low_fps if level == "low" else cfg.idle_fps)

    def update(self, feed: str, det: Detections, t_s: float, base_fps: float) -> float:
        """Take one analysed frame's detections (capture time ``t_s``); return the feed's rate from now on."""
        cfg = self.config
        if not cfg.enabled:
            return base_fps
        st = self._feeds.get(feed)
        if st is None:  # a new feed starts at full rate, as if everything had just been needed
            st = self._feeds[feed] = _State("full", {"idle": t_s, "low": t_s, "full": t_s}, t_s)
        assert st.since_need is not None
        now_need = need(det, cfg)
        for lv in ("idle", "low", "full"):
            if _ORDER[lv] <= _ORDER[now_need]:
                st.since_need[lv] = t_s
        if _ORDER[now_need] > _ORDER[st.level]:  # more is needed: at once
            self._set(st, now_need, t_s)
        elif t_s - st.decided_s >= cfg.decide_every_s:
            held: Level = "idle"
            for lv in ("low", "full"):
                last = st.since_need.get(lv)
                if last is not None and t_s - last <= cfg.hold_s:
                    held = lv  # type: ignore[assignment]
            st.decided_s = t_s
            if held != st.level:
                self._set(st, held, t_s)
        return self.fps(st.level, base_fps)

    def _set(self, st: _State, level: Level, t_s: float) -> None:
        st.level = level
        st.decided_s = t_s
        self.changes += 1

    def forget(self, feed: str) -> None:
        self._feeds.pop(feed, None)


__all__ = ["Level", "RatePolicy", "RatesConfig", "need"]
