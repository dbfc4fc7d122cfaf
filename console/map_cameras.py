"""Cameras on the map: fixed cameras with their view cones, drone cameras from pose and gimbal, and
the drone camera's footprint on the ground (the image corners and edges through
``vision.geolocate.pixel_to_ground``, flat ground at the drone's home altitude).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QBrush, QColor, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsPolygonItem, QGraphicsScene, QGraphicsSimpleTextItem

from console.services import MapCamera
from flight.types import VehicleState
from vision.geolocate import offset_latlon, pixel_to_ground
from vision.types import CameraPose

DRONE_HFOV_DEG = 70.0
DRONE_ASPECT = 16 / 9
FOOTPRINT_MAX_RANGE_M = 400.0
DRONE_CONE_M = 25.0  # length of the drawn camera wedge at a drone
ToScene = Callable[[float, float], QPointF]


def cone_latlon(lat: float, lon: float, heading_deg: float, hfov_deg: float, range_m: float,
                steps: int = 8) -> list[tuple[float, float]]:  # fmt: skip
    """A wedge: the apex, then an arc of ``range_m`` across the field of view."""
    pts = [(lat, lon)]
    for i in range(steps + 1):
        a = math.radians(heading_deg - hfov_deg / 2 + hfov_deg * i / steps)
        pts.append(offset_latlon(lat, lon, range_m * math.cos(a), range_m * math.sin(a)))
    return pts


def drone_pose(state: VehicleState, hfov_deg: float = DRONE_HFOV_DEG) -> CameraPose | None:
    """The drone camera's pose: vehicle position, stabilised gimbal pitch, yaw = heading + gimbal yaw."""
    if state.lat_deg is None or state.lon_deg is None or state.alt_rel_m is None:
        return None
    home_amsl = state.home_alt_amsl_m if state.home_alt_amsl_m is not None else 0.0
    alt_amsl = state.alt_amsl_m if state.alt_amsl_m is not None else home_amsl + state.alt_rel_m
    return CameraPose(state.lat_deg, state.lon_deg, alt_amsl, state.alt_rel_m, 0.0, state.gimbal_pitch_deg,
                      ((state.heading_deg or 0.0) + state.gimbal_yaw_deg) % 360.0, hfov_deg)  # fmt: skip


def footprint_latlon(pose: CameraPose, width_px: int = 1600, height_px: int | None = None,
                     per_edge: int = 6) -> list[tuple[float, float]]:  # fmt: skip
    """Ground points of the image corners (clockwise from top-left). When a corner looks above the
    horizon or beyond ``FOOTPRINT_MAX_RANGE_M``, the image border is sampled (``per_edge`` points a
    side) and the rays that do reach the ground are kept: a partial footprint near the horizon."""
    h = height_px or int(width_px / DRONE_ASPECT)
    corners = [(0.0, 0.0), (float(width_px), 0.0), (float(width_px), float(h)), (0.0, float(h))]
    fixes = [pixel_to_ground(u, v, width_px, h, pose, max_range_m=FOOTPRINT_MAX_RANGE_M) for u, v in corners]
    if all(f is not None for f in fixes):
        return [(f.lat_deg, f.lon_deg) for f in fixes if f is not None]
    border: list[tuple[float, float]] = []
    for i in range(per_edge):
        border.append((width_px * i / per_edge, 0.0))
    for i in range(per_edge):
        border.append((float(width_px), h * i / per_edge))
    for i in range(per_edge):
        border.append((width_px * (1 - i / per_edge), float(h)))
    for i in range(per_edge):
        border.append((0.0, h * (1 - i / per_edge)))
    pts = []
    for u, v in border:
        fix = pixel_to_ground(u, v, width_px, h, pose, max_range_m=FOOTPRINT_MAX_RANGE_M)
        if fix is not None:
            pts.append((fix.lat_deg, fix.lon_deg))
    return pts


class FixedCameraItems:
    def __init__(self, scene: QGraphicsScene, to_scene: ToScene, cam: MapCamera) -> None:
        self.cone = QGraphicsPolygonItem()
        if cam.heading_deg is not None:
            poly = QPolygonF([to_scene(la, lo) for la, lo in
                              cone_latlon(cam.lat_deg, cam.lon_deg, cam.heading_deg, cam.hfov_deg, cam.range_m)])
            self.cone.setPolygon(poly)
        self.cone.setBrush(QBrush(QColor(255, 213, 79, 70)))
        pen = QPen(QColor("#ffd54f"), 1.5)
        pen.setCosmetic(True)
        self.cone.setPen(pen)
        self.cone.setZValue(3)
        self.cone.setToolTip(f"camera {cam.name}")
        self.label = QGraphicsSimpleTextItem(f"▣ {cam.name}")
        self.label.setBrush(QBrush(QColor("#ffd54f")))
        self.label.setFlag(QGraphicsSimpleTextItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.label.setPos(to_scene(cam.lat_deg, cam.lon_deg))
        self.label.setZValue(16)
        scene.addItem(self.cone)
        scene.addItem(self.label)


class DroneCameraItems:
    """A drone's camera: a wedge showing where it looks and its footprint on the ground, in the drone's colour."""

    def __init__(self, scene: QGraphicsScene, color: QColor) -> None:
        self.footprint = QGraphicsPolygonItem()
        fill = QColor(color)
        fill.setAlpha(30)
        self.footprint.setBrush(QBrush(fill))
        pen = QPen(color, 1.0)
        pen.setCosmetic(True)
        self.footprint.setPen(pen)
        self.footprint.setZValue(6)
        scene.addItem(self.footprint)
        # Where the camera looks: a short wedge from the drone (yaw = heading + gimbal yaw, hfov).
        self.cone = QGraphicsPolygonItem()
        cone_fill = QColor(color)
        cone_fill.setAlpha(90)
        self.cone.setBrush(QBrush(cone_fill))
        self.cone.setPen(QPen(Qt.PenStyle.NoPen))
        self.cone.setZValue(7)
        self.cone.setVisible(False)
        scene.addItem(self.cone)
        self.latlon: list[tuple[float, float]] = []

    def update(self, state: VehicleState, to_scene: ToScene) -> None:
        pose = drone_pose(state)
        if pose is not None:
            wedge = cone_latlon(pose.lat_deg, pose.lon_deg, pose.yaw_deg, pose.hfov_deg, DRONE_CONE_M, steps=4)
            self.cone.setPolygon(QPolygonF([to_scene(la, lo) for la, lo in wedge]))
        self.cone.setVisible(pose is not None)
        airborne = state.alt_rel_m is not None and state.alt_rel_m > 1.0
        self.latlon = footprint_latlon(pose) if pose is not None and airborne else []
        if len(self.latlon) < 3:
            self.footprint.setVisible(False)
            return
        self.footprint.setPolygon(QPolygonF([to_scene(la, lo) for la, lo in self.latlon]))
        self.footprint.setVisible(True)
