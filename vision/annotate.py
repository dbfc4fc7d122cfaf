"""Draw detections on a frame: boxes, class labels, tracker ids, keypoints + skeleton, zone polygons.

``annotate(scene, detections, zones) -> scene`` draws on a copy and never changes ``detections``
(supervision's annotator shape). Used by ``lookout detect --out`` and the console's video wall.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import cv2
import numpy as np

from vision.types import CLASS_NAMES, PERSON, Detections

# COCO keypoint skeleton (0 nose, 5/6 shoulders, 9/10 wrists, 11/12 hips, 15/16 ankles).
SKELETON = (
    (15, 13), (13, 11), (16, 14), (14, 12), (11, 12), (5, 11), (6, 12), (5, 6), (5, 7), (6, 8),
    (7, 9), (8, 10), (1, 2), (0, 1), (0, 2), (1, 3), (2, 4), (3, 5), (4, 6),
)  # fmt: skip
PALETTE = (  # BGR, picked by tracker id (or class id when untracked)
    (56, 56, 255), (151, 157, 255), (31, 112, 255), (29, 178, 255), (49, 210, 207), (10, 249, 72),
    (23, 204, 146), (134, 219, 61), (52, 147, 26), (187, 212, 0), (168, 153, 44), (255, 194, 0),
)  # fmt: skip
ZONE_COLOR = (0, 200, 255)
KEYPOINT_MIN_SCORE = 0.3

_Polygon = np.ndarray | Sequence[Sequence[float]] | Any  # or a vision.zones.Zone (its name, polygon, colour)
Zones = Mapping[str, _Polygon] | Sequence[_Polygon]


def _color(det: Detections, i: int) -> tuple[int, int, int]:
    key = int(det.tracker_id[i]) if det.tracker_id is not None else int(det.class_id[i])
    return PALETTE[key % len(PALETTE)]


def _label(det: Detections, i: int) -> str:
    cid = int(det.class_id[i])
    text = f"{CLASS_NAMES.get(cid, str(cid))} {float(det.confidence[i]):.2f}"
    return f"#{int(det.tracker_id[i])} {text}" if det.tracker_id is not None else text


def _draw_zones(img: np.ndarray, zones: Zones, thickness: int) -> None:
    items = zones.items() if isinstance(zones, Mapping) else ((None, z) for z in zones)
    drawn = []
    for key, zone in items:
        # a vision.zones.Zone carries its own name and colour; a bare polygon uses ZONE_COLOR
        name, poly, color = key, zone, ZONE_COLOR
        if hasattr(zone, "polygon"):
            name, poly, color = key or zone.name, zone.polygon, tuple(int(c) for c in zone.color)
        pts = np.asarray(poly, np.float64).reshape(-1, 2)
        if len(pts) >= 2:
            drawn.append((name, np.round(pts).astype(np.int32).reshape(-1, 1, 2), color))
    if not drawn:
        return
    overlay = img.copy()  # one translucent fill for all zones (a full-frame blend per zone is slow)
    for _, ipts, color in drawn:
        cv2.fillPoly(overlay, [ipts], color)
    cv2.addWeighted(overlay, 0.15, img, 0.85, 0, dst=img)
    for name, ipts, color in drawn:
        cv2.polylines(img, [ipts], True, color, thickness, cv2.LINE_AA)
        if name:
            x, y = ipts[:, 0, 0].min(), ipts[:, 0, 1].min()
            cv2.putText(img, str(name), (int(x) + 4, int(y) + 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, color, 1,
                        cv2.LINE_AA)


def _draw_keypoints(img: np.ndarray, kpts: np.ndarray, color: tuple[int, int, int], thickness: int) -> None:
    ok = kpts[:, 2] >= KEYPOINT_MIN_SCORE
    xy = np.round(kpts[:, :2]).astype(np.int32)
    for a, b in SKELETON:
        if ok[a] and ok[b]:
            cv2.line(img, (int(xy[a, 0]), int(xy[a, 1])), (int(xy[b, 0]), int(xy[b, 1])), color, thickness,
                     cv2.LINE_AA)
    for k in np.flatnonzero(ok):
        cv2.circle(img, (int(xy[k, 0]), int(xy[k, 1])), thickness + 1, (255, 255, 255), -1, cv2.LINE_AA)


def annotate(
    scene: np.ndarray,
    detections: Detections,
    zones: Zones | None = None,
    *,
    labels: bool = True,
    keypoints: bool = True,
) -> np.ndarray:
    """Return a copy of the BGR ``scene`` with zones, boxes, labels and person skeletons drawn."""
    img = np.ascontiguousarray(scene).copy()
    thickness = max(1, round(max(img.shape[:2]) / 500))
    if zones:
        _draw_zones(img, zones, thickness)
    for i in range(len(detections)):
        color = _color(detections, i)
        x1, y1, x2, y2 = (round(float(v)) for v in detections.xyxy[i])
        cv2.rectangle(img, (x1, y1), (x2, y2), color, thickness, cv2.LINE_AA)
        if keypoints and detections.keypoints is not None and int(detections.class_id[i]) == PERSON:
            _draw_keypoints(img, detections.keypoints[i], color, thickness)
        if labels:
            text = _label(detections, i)
            scale = 0.4 * thickness + 0.1
            (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
            ty = y1 - 4 if y1 - th - base - 4 >= 0 else y1 + th + 4
            cv2.rectangle(img, (x1, ty - th - 3), (x1 + tw + 4, ty + base - 1), color, -1)
            cv2.putText(img, text, (x1 + 2, ty), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA)
    return img


SEVERITY_COLORS = {"high": (0, 0, 255), "medium": (0, 140, 255), "low": (0, 220, 255)}  # BGR: red, orange, yellow


class EventOverlay:
    """Which events to draw on a feed's frames: each stays ``show_s`` of capture time after it fired."""

    def __init__(self, show_s: float) -> None:
        self.show_s = show_s
        self._shown: list[tuple[Any, float]] = []  # (event, drawn until capture time s)

    def update(self, events: Sequence[Any], t_s: float) -> list[Any]:
        """Add ``events`` fired at capture time ``t_s``; the events to draw on this frame, oldest first."""
        self._shown = [(e, until) for e, until in self._shown if until >= t_s]
        self._shown += [(e, t_s + self.show_s) for e in events]
        return [e for e, _ in self._shown]


def draw_events(img: np.ndarray, events: Sequence[Any]) -> np.ndarray:
    """Draw behaviour events (``vision.behaviours.Event``) on ``img`` IN PLACE: a thick box around the
    involved people in the severity's colour and the event's kind (and zone) above it. Returns ``img``."""
    thickness = max(2, round(max(img.shape[:2]) / 250))
    for ev in events:
        color = SEVERITY_COLORS.get(ev.severity, SEVERITY_COLORS["medium"])
        x1, y1, x2, y2 = (round(float(v)) for v in ev.box_xyxy)
        pad = thickness * 2
        x1, y1, x2, y2 = x1 - pad, y1 - pad, x2 + pad, y2 + pad
        cv2.rectangle(img, (x1, y1), (x2, y2), color, thickness, cv2.LINE_AA)
        text = ev.kind.replace("_", " ").upper() + (f" @ {ev.zone}" if ev.zone else "")
        scale = 0.25 * thickness + 0.2
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 2)
        ty = y1 - 6 if y1 - th - base - 6 >= 0 else y2 + th + 6
        cv2.rectangle(img, (x1, ty - th - 4), (x1 + tw + 6, ty + base), color, -1)
        cv2.putText(img, text, (x1 + 3, ty), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 2, cv2.LINE_AA)
    return img
