"""Helpers for missions tests: build places/polygons in metres around a reference and convert to lon/lat."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from shapely.geometry.base import BaseGeometry

from missions.geo import LocalFrame
from missions.planners.common import to_lonlat


def lonlat(frame: LocalFrame, geom_enu: BaseGeometry) -> BaseGeometry:
    return to_lonlat(frame, geom_enu)


@pytest.fixture
def places_file(tmp_path: Path) -> Path:
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"kind": "area", "name": "Park", "priority": 3},
         "geometry": {"type": "Polygon", "coordinates": [
             [[13.0, 52.0], [13.01, 52.0], [13.01, 52.006], [13.0, 52.006], [13.0, 52.0]],
             [[13.004, 52.002], [13.006, 52.002], [13.006, 52.004], [13.004, 52.004], [13.004, 52.002]]]}},
        {"type": "Feature", "properties": {"kind": "water", "name": "Lake", "priority": 5},
         "geometry": {"type": "Polygon", "coordinates": [
             [[13.02, 52.0], [13.025, 52.0], [13.025, 52.003], [13.02, 52.003], [13.02, 52.0]]]}},
        {"type": "Feature", "properties": {"kind": "water", "name": "River", "width_m": 20},
         "geometry": {"type": "LineString", "coordinates": [[13.0, 52.01], [13.01, 52.012], [13.02, 52.011]]}},
        {"type": "Feature", "properties": {"kind": "route", "name": "Main St"},
         "geometry": {"type": "LineString", "coordinates": [[13.0, 51.99], [13.01, 51.992], [13.02, 51.991]]}},
        {"type": "Feature", "properties": {"kind": "point", "name": "School", "priority": 1},
         "geometry": {"type": "Point", "coordinates": [13.003, 52.001]}},
        {"type": "Feature", "properties": {"kind": "point", "name": "Station", "priority": 3},
         "geometry": {"type": "Point", "coordinates": [13.013, 52.004]}},
        {"type": "Feature", "properties": {"kind": "point", "name": "Bar", "priority": 5},
         "geometry": {"type": "Point", "coordinates": [13.008, 51.998]}},
        {"type": "Feature", "properties": {"kind": "point", "name": "Square", "priority": 1},
         "geometry": {"type": "Point", "coordinates": [13.016, 52.008]}},
    ]}
    path = tmp_path / "places.geojson"
    path.write_text(json.dumps(doc))
    return path
