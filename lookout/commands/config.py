"""``lookout config check [FILE]`` and ``lookout config show``."""

from __future__ import annotations

import argparse
from pathlib import Path

from lookout.config import dump_toml, load_config
from lookout.context import Context


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("config", help="check or show the configuration")
    csub = p.add_subparsers(dest="config_action", metavar="ACTION")
    csub.required = True
    check = csub.add_parser("check", help="validate a config file; exit 1 with the key and line if wrong")
    check.add_argument("file", nargs="?", help="config file (default: --config / $LOOKOUT_CONFIG / defaults)")
    csub.add_parser("show", help="print the effective config, defaults included, as TOML")
    p.set_defaults(func=run, needs_data_dir=False)


def run(args: argparse.Namespace, ctx: Context) -> int:
    if args.config_action == "check":
        path = Path(args.file) if args.file else ctx.config_path
        load_config(path)
        print(f"{path or 'built-in defaults'}: ok")
        return 0
    print(dump_toml(ctx.config), end="")
    return 0
