"""Places from GeoJSON and KML: kinds, names, priorities, widths; fence files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from missions import MissionFileError, mavcmd
from missions.fenceio import load_fence
from missions.places import load_places, save_places


def test_geojson_places(places_file: Path, tmp_path: Path) -> None:
    places = load_places(places_file)
    assert [p.kind for p in places].count("point") == 4
    river = next(p for p in places if p.name == "River")
    assert river.kind == "water" and river.width_m == 20 and river.geometry.geom_type == "LineString"
    assert next(p for p in places if p.name == "School").priority == 1
    save_places(places, tmp_path / "again.geojson")
    assert [(p.kind, p.name, p.priority) for p in load_places(tmp_path / "again.geojson")] == \
        [(p.kind, p.name, p.priority) for p in places]


def test_kind_inferred_and_multipolygon_split(tmp_path: Path) -> None:
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "Two parks"}, "geometry": {"type": "MultiPolygon", "coordinates": [
            [[[0, 0], [0.001, 0], [0.001, 0.001], [0, 0]]], [[[0.01, 0], [0.011, 0], [0.011, 0.001], [0.01, 0]]]]}},
        {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [0.005, 0.005]}},
    ]}
    f = tmp_path / "p.geojson"
    f.write_text(json.dumps(doc))
    places = load_places(f)
    assert [(p.kind, p.name) for p in places] == [("area", "Two parks (1)"), ("area", "Two parks (2)"), ("point", "#2")]


def test_kml_places_google_earth(tmp_path: Path) -> None:
    kml = """<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>
    <Placemark><name>Zone A</name><Polygon><outerBoundaryIs><LinearRing><coordinates>
      13.0,52.0,0 13.01,52.0,0 13.01,52.01,0 13.0,52.01,0 13.0,52.0,0</coordinates></LinearRing></outerBoundaryIs>
      <innerBoundaryIs><LinearRing><coordinates>13.004,52.004 13.006,52.004 13.006,52.006 13.004,52.004
      </coordinates></LinearRing></innerBoundaryIs></Polygon></Placemark>
    <Placemark><name>Road</name><LineString><coordinates>13.0,52.0 13.02,52.0</coordinates></LineString></Placemark>
    <Folder><Placemark><name>Bank</name><Point><coordinates>13.005,52.002,0</coordinates></Point></Placemark></Folder>
    </Document></kml>"""
    f = tmp_path / "ge.kml"
    f.write_text(kml)
    places = load_places(f)
    assert [(p.kind, p.name) for p in places] == [("area", "Zone A"), ("route", "Road"), ("point", "Bank")]
    assert len(places[0].geometry.interiors) == 1


@pytest.mark.parametrize(
    ("props", "inclusion"), [({}, True), ({"kind": "nofly"}, False), ({"inclusion": False}, False)]
)
def test_fence_from_geojson(tmp_path: Path, props: dict, inclusion: bool) -> None:
    doc = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": props, "geometry": {
        "type": "Polygon", "coordinates": [[[13.0, 52.0], [13.01, 52.0], [13.01, 52.01], [13.0, 52.0]]]}}]}
    f = tmp_path / "fence.geojson"
    f.write_text(json.dumps(doc))
    items = load_fence(f)
    want = mavcmd.NAV_FENCE_POLYGON_VERTEX_INCLUSION if inclusion else mavcmd.NAV_FENCE_POLYGON_VERTEX_EXCLUSION
    assert len(items) == 3 and all(it.command == want and it.param1 == 3 for it in items)
    assert (items[0].lat_deg, items[0].lon_deg) == (52.0, 13.0)


def test_fence_file_without_polygons(tmp_path: Path) -> None:
    f = tmp_path / "empty.geojson"
    f.write_text('{"type": "FeatureCollection", "features": []}')
    with pytest.raises(MissionFileError, match="no fence polygons"):
        load_fence(f)


def test_fence_from_kml_names_nofly_and_rejects_bowtie(tmp_path: Path) -> None:
    kml = ('<kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
           "<Placemark><name>Ops area</name><Polygon><outerBoundaryIs><LinearRing><coordinates>"
           "13.0,52.0 13.1,52.0 13.1,52.1 13.0,52.1 13.0,52.0</coordinates></LinearRing></outerBoundaryIs></Polygon>"
           "</Placemark><Placemark><name>No-fly hospital</name><Polygon><outerBoundaryIs><LinearRing><coordinates>"
           "13.01,52.01 13.02,52.01 13.02,52.02 13.01,52.01</coordinates></LinearRing></outerBoundaryIs></Polygon>"
           "</Placemark></Document></kml>")
    f = tmp_path / "fence.kml"
    f.write_text(kml)
    cmds = [it.command for it in load_fence(f)]
    assert cmds == [mavcmd.NAV_FENCE_POLYGON_VERTEX_INCLUSION] * 4 + [mavcmd.NAV_FENCE_POLYGON_VERTEX_EXCLUSION] * 3
    f.write_text(kml.replace("13.1,52.0 13.1,52.1 13.0,52.1", "13.1,52.1 13.1,52.0 13.0,52.1"))
    with pytest.raises(MissionFileError, match=r"Placemark 1 'Ops area'.*Self-intersection"):
        load_fence(f)
