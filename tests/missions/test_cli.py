"""``lookout plan``: KIND / check / convert through the real CLI entry point; bad inputs exit 1, write nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lookout.cli import main
from missions import load_plan

HOME = "51.999,13.0"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(["plan", *argv])
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.mark.parametrize("kind", ["coverage", "perimeter", "shoreline", "route", "points"])
def test_plan_kind_writes_plan(
    tmp_path: Path, places_file: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    out_file = tmp_path / f"{kind}.plan"
    rc, out, _ = run(capsys, kind, str(places_file), "--home", HOME, "--alt", "40", "-o", str(out_file), "--json")
    assert rc == 0
    summary = json.loads(out)
    assert summary["kind"] == kind and summary["items"] == len(load_plan(out_file).mission)


def test_check_ok_and_violations_listed(tmp_path: Path, places_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "pts.plan"
    assert run(capsys, "points", str(places_file), "--home", HOME, "--loiter-s", "10", "-o", str(f))[0] == 0
    rc, out, _ = run(capsys, "check", str(f))
    assert rc == 0 and "OK" in out
    rc, out, err = run(capsys, "check", str(f), "--max-alt", "20", "--max-distance", "300")
    lines = out.strip().splitlines()
    assert rc == 1 and len(lines) > 4 and all(line.startswith(str(f)) for line in lines)
    assert any("altitude" in line for line in lines) and any("from home" in line for line in lines)
    assert f"{len(lines)} violation(s)" in err


def test_check_with_fence_file(tmp_path: Path, places_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "cov.waypoints"
    assert run(capsys, "coverage", str(places_file), "--home", HOME, "-o", str(f))[0] == 0
    nofly = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"kind": "nofly"},
             "geometry": {"type": "Polygon", "coordinates": [[[13.001, 52.001], [13.003, 52.001], [13.003, 52.003],
                                                              [13.001, 52.003], [13.001, 52.001]]]}}]}
    fence = tmp_path / "nofly.geojson"
    fence.write_text(json.dumps(nofly))
    rc, out, _ = run(capsys, "check", str(f), "--fence", str(fence))
    assert rc == 1 and "no-fly zone 1" in out


def test_convert_chain_is_exact(tmp_path: Path, places_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = tmp_path / "a.plan"
    assert run(capsys, "shoreline", str(places_file), "--home", HOME, "--repeat", "2", "-o", str(a))[0] == 0
    prev = a
    for suffix in (".waypoints", ".geojson", ".kml", ".plan"):
        nxt = tmp_path / f"b{suffix}"
        assert run(capsys, "convert", str(prev), str(nxt))[0] == 0
        prev = nxt
    assert load_plan(prev).mission == load_plan(a).mission


BAD = [
    ("trunc.geojson", '{"type": "FeatureCollection", "features": [{"type": "Feature"', "line 1 column"),
    ("bowtie.geojson", json.dumps({"type": "FeatureCollection", "features": [{"type": "Feature",
     "properties": {"kind": "area", "name": "Bowtie"}, "geometry": {"type": "Polygon", "coordinates": [
         [[13.0, 52.0], [13.01, 52.01], [13.01, 52.0], [13.0, 52.01], [13.0, 52.0]]]}}]}), "feature 1 'Bowtie'"),
    ("nocoords.kml", '<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark><name>Zone</name><Polygon>'
     "<outerBoundaryIs><LinearRing><coordinates> </coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>"
     "</Document></kml>", "Placemark 1 'Zone'"),
    ("badprio.geojson", json.dumps({"type": "FeatureCollection", "features": [{"type": "Feature",
     "properties": {"kind": "point", "name": "X", "priority": 2}, "geometry": {"type": "Point",
                                                                               "coordinates": [13.0, 52.0]}}]}),
     "priority"),
]


@pytest.mark.parametrize(("name", "text", "place"), BAD)
def test_bad_places_exit_1_write_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, text: str,
                                         place: str) -> None:
    src = tmp_path / name
    src.write_text(text)
    out_file = tmp_path / "out.plan"
    rc, _, err = run(capsys, "coverage", str(src), "-o", str(out_file))
    assert rc == 1 and name in err and place in err and len(err.strip().splitlines()) == 1
    assert not out_file.exists() and sorted(p.name for p in tmp_path.iterdir()) == [name]


@pytest.mark.parametrize(("name", "text", "place"), [
    ("trunc.plan", '{"fileType": "Plan", "mission": {"items": [', "line 1 column"),
    ("hdr.waypoints", "QGC WPL 100\n", "line 1"),
    ("nocoords.kml", "<kml><Placemark><name>P</name><LineString/></Placemark></kml>", "Placemark 1 'P'"),
])
def test_bad_plan_files_convert_and_check(tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, text: str,
                                          place: str) -> None:
    src = tmp_path / name
    src.write_text(text)
    rc, _, err = run(capsys, "convert", str(src), str(tmp_path / "out.geojson"))
    assert rc == 1 and name in err and place in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out.geojson").exists()
    rc, _, err = run(capsys, "check", str(src))
    assert rc == 1 and place in err


def test_parser_accepts_kind_and_actions() -> None:
    from lookout.cli import build_parser

    p = build_parser()
    a = p.parse_args(["plan", "coverage", "area.geojson", "-o", "out.plan", "--overlap", "40%"])
    assert a.kind == "coverage" and a.overlap == pytest.approx(0.4)
    assert p.parse_args(["plan", "check", "f.plan"]).file == Path("f.plan")
    assert p.parse_args(["plan", "convert", "a.plan", "b.kml"]).dst == Path("b.kml")
