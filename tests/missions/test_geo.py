"""Local ENU frame: exact inverse, metric distances at any latitude, across UTM zone edges and the antimeridian."""

from __future__ import annotations

import math

import numpy as np
import pytest

from missions.geo import LocalFrame, haversine_m


@pytest.mark.parametrize(("lat0", "lon0"), [(0.0, 0.0), (52.5, 13.4), (-33.9, 151.2), (69.6, 18.9), (-54.8, -68.3)])
def test_round_trip_and_distance(lat0: float, lon0: float) -> None:
    f = LocalFrame(lat0, lon0)
    lat = lat0 + np.linspace(-0.02, 0.02, 9)
    lon = lon0 + np.linspace(0.03, -0.03, 9)
    e, n = f.to_enu(lat, lon)
    la, lo = f.to_geo(e, n)
    assert np.allclose(la, lat, atol=1e-9) and np.allclose(lo, lon, atol=1e-9)
    for k in (0, 8):
        d_plane = math.hypot(e[k], n[k])
        assert d_plane == pytest.approx(haversine_m(lat0, lon0, float(lat[k]), float(lon[k])), rel=6e-3)


def test_east_is_east_and_scaled_by_latitude() -> None:
    e_eq, _ = LocalFrame(0.0, 0.0).point_to_enu(0.0, 0.001)
    e_60, n_60 = LocalFrame(60.0, 0.0).point_to_enu(60.0, 0.001)
    assert e_eq == pytest.approx(111.32, abs=0.05)
    assert e_60 == pytest.approx(e_eq * math.cos(math.radians(60)), rel=3e-3)
    assert abs(n_60) < 1e-9


def test_continuous_across_utm_zone_edge_and_antimeridian() -> None:
    f = LocalFrame(47.0, 5.999)  # UTM zones 31/32 meet at 6 E
    e1, _ = f.point_to_enu(47.0, 6.001)
    assert e1 == pytest.approx(haversine_m(47.0, 5.999, 47.0, 6.001), rel=5e-3)
    g = LocalFrame(-16.0, 179.999)
    e2, _ = g.point_to_enu(-16.0, -179.999)
    assert e2 == pytest.approx(haversine_m(-16.0, 179.999, -16.0, -179.999), rel=5e-3) and e2 > 0
    assert g.point_to_geo(e2, 0.0)[1] == pytest.approx(-179.999, abs=1e-9)
