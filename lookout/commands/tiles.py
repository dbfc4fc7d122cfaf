"""``lookout tiles``: offline map tile sets for the console.

lookout tiles import FILE.mbtiles|DIR [--name NAME] [--force]   # validate, copy into <data>/tiles
lookout tiles list                                               # what the console's layer menu offers

An imported set becomes a map layer of its own (after the configured ``[map] layers``). A broken file
is refused with one line saying why; nothing is copied then.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from lookout.context import Context


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("tiles", help="offline map tiles: import an MBTiles file or XYZ folder, list the layers",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    acts = p.add_subparsers(dest="action", required=True)
    imp = acts.add_parser("import", help="validate a tile set and copy it into <data dir>/tiles")
    imp.add_argument("source", type=Path, help="an .mbtiles file (raster PNG/JPEG) or an XYZ folder {z}/{x}/{y}.png")
    imp.add_argument("--name", help="layer name (default: the file or folder name)")
    imp.add_argument("--force", action="store_true", help="replace a tile set of the same name")
    acts.add_parser("list", help="list the map layers the console offers")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    from console.tilesets import TilesetError, validate_tileset

    if args.action == "list":
        specs = ctx.config.map.layer_specs(ctx.data_dir)
        if not specs:
            print("no map layers: the console shows a plain grid (`lookout tiles import FILE.mbtiles` adds one)")
        for s in specs:
            print(f"{s.name}\t{s.kind}\t{s.location}")
        return 0
    src: Path = args.source
    try:
        info = validate_tileset(src)
    except TilesetError as exc:
        print(f"lookout tiles import: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"lookout tiles import: {src}: cannot read ({exc.strerror or exc})", file=sys.stderr)
        return 1
    name = args.name or src.stem if src.is_file() else args.name or src.resolve().name
    if not name or name.startswith(".") or "/" in name or name == "cache":
        print(f"lookout tiles import: {name!r} is not a usable layer name; give --name NAME", file=sys.stderr)
        return 1
    root = ctx.data_dir / "tiles"
    root.mkdir(parents=True, exist_ok=True)
    dest = root / (f"{name}.mbtiles" if info.kind == "mbtiles" else name)
    if dest.exists() and not args.force:
        print(f"lookout tiles import: {dest} exists; add --force to replace it or --name to keep both", file=sys.stderr)
        return 1
    tmp = root / f".{name}.importing"
    _remove(tmp)
    if info.kind == "mbtiles":
        shutil.copyfile(src, tmp)
    else:
        shutil.copytree(src, tmp)
    if dest.is_dir():
        _remove(dest)
    os.replace(tmp, dest)
    print(f"imported {info.tiles} {info.image_format.upper()} tiles, zoom {info.min_zoom}-{info.max_zoom}, "
          f"as map layer {name!r} ({dest})")  # fmt: skip
    return 0


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()
