"""``lookout audit verify`` and ``lookout audit list``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from lookout.audit import verify
from lookout.context import Context


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("audit", help="inspect and verify the hash-chained audit log")
    asub = p.add_subparsers(dest="audit_action", metavar="ACTION")
    asub.required = True
    v = asub.add_parser("verify", help="recompute the hash chain; exit 1 if any row was altered")
    v.add_argument("--file", help="audit database (default: <data dir>/audit.sqlite)")
    ls = asub.add_parser("list", help="print the last entries as JSON lines")
    ls.add_argument("-n", type=int, default=50, help="how many entries (default 50)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    if args.audit_action == "verify":
        path = Path(args.file) if args.file else ctx.audit_path
        result = verify(path)
        if result.ok:
            print(f"{path}: ok, {result.rows} rows, chain intact")
            return 0
        print(f"lookout audit: error: {path}: TAMPERED: {result.reason}", file=sys.stderr)
        return 1
    for e in ctx.audit().entries(limit=args.n):
        print(
            json.dumps(
                {
                    "seq": e.seq,
                    "t_utc": e.t_utc,
                    "actor": e.actor,
                    "action": e.action,
                    "subject": e.subject,
                    "detail": e.detail,
                    "hash": e.hash,
                }
            )
        )
    return 0
