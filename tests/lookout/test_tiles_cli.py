"""``lookout tiles import|list``: a real MBTiles file and XYZ folder copied into the data dir, broken ones refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from lookout.cli import main
from tests.console.test_map_tiles import make_mbtiles, png


def _run(tmp_path: Path, *argv: str) -> int:
    cfg = tmp_path / "lookout.toml"
    if not cfg.exists():
        cfg.write_text("")
    return main(["--config", str(cfg), "--data-dir", str(tmp_path / "data"), "tiles", *argv])


def test_import_mbtiles_and_xyz_then_list(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    src = tmp_path / "city.mbtiles"
    make_mbtiles(src)
    assert _run(tmp_path, "import", str(src)) == 0
    out = capsys.readouterr().out
    assert "imported 4 PNG tiles, zoom 16-16" in out and "'city'" in out
    copied = tmp_path / "data" / "tiles" / "city.mbtiles"
    assert copied.read_bytes() == src.read_bytes()

    xyz = tmp_path / "ortho"
    (xyz / "3" / "4").mkdir(parents=True)
    (xyz / "3" / "4" / "2.png").write_bytes(png((1, 2, 3)))
    assert _run(tmp_path, "import", str(xyz), "--name", "ortho2026") == 0
    assert (tmp_path / "data" / "tiles" / "ortho2026" / "3" / "4" / "2.png").is_file()

    assert _run(tmp_path, "import", str(src)) == 1  # same name again: refused, says how
    assert "--force" in capsys.readouterr().err
    assert _run(tmp_path, "import", str(src), "--force") == 0

    capsys.readouterr()
    assert _run(tmp_path, "list") == 0
    lines = capsys.readouterr().out.splitlines()
    assert [ln.split("\t")[:2] for ln in lines] == [["city", "mbtiles"], ["ortho2026", "xyz"]]


def test_a_broken_file_is_one_clear_line_and_nothing_is_copied(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.mbtiles"
    db = sqlite3.connect(bad)
    db.execute("CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB)")
    db.execute("INSERT INTO tiles VALUES (1, 0, 0, ?)", (b"\x1a\x00vector-pbf",))
    db.commit()
    db.close()
    assert _run(tmp_path, "import", str(bad)) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "not PNG or JPEG" in err and "bad.mbtiles" in err
    assert not (tmp_path / "data" / "tiles" / "bad.mbtiles").exists()
    trunc = tmp_path / "trunc.mbtiles"
    trunc.write_bytes(b"garbage")
    assert _run(tmp_path, "import", str(trunc)) == 1
    assert "not an MBTiles file" in capsys.readouterr().err
