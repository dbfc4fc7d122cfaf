"""``lookout bench AREA``: runs ``benchmarks/bench_<area>.py`` (ratios vs a naive baseline, same run)."""

from __future__ import annotations

import argparse
import importlib

from lookout.commands import not_built
from lookout.context import Context

AREAS = ("vision", "flight", "plan", "alerts", "dispatch", "console")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="benchmarks: real path vs a naive baseline, measured in the same run")
    p.add_argument("area", choices=AREAS)
    p.add_argument("rest", nargs=argparse.REMAINDER, help="options for the benchmark (see lookout bench AREA --help)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    try:
        mod = importlib.import_module(f"benchmarks.bench_{args.area}")
    except ModuleNotFoundError as exc:
        if exc.name != f"benchmarks.bench_{args.area}":
            raise
        return not_built(f"bench {args.area}", "its benchmark is part of an open issue")
    return int(mod.main(args.rest, data_dir=ctx.data_dir) or 0)
