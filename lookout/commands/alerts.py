"""``lookout alerts``: list, show, acknowledge, confirm, dismiss, close and export stored alerts.

Every action runs as a user: ``--user NAME`` (or ``LOOKOUT_USER``), password from
``LOOKOUT_PASSWORD`` or a prompt; with no users set up, as the local admin. Each transition is
written to the audit log (``lookout audit verify`` checks the chain). More subcommands (dispatch,
send-test, sinks, report) come from ``lookout.commands.alerts_dispatch.add_subcommands``; a
subcommand added there sets its own ``func`` and gets ``open_store`` / ``acting_user`` from here.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from dispatch.errors import AlertError
from dispatch.roles import Actor
from dispatch.store import AlertStore
from dispatch.types import Alert, AlertState
from lookout.access import authorize, resolve_actor
from lookout.commands import alerts_dispatch
from lookout.context import Context

SEVERITY_MARK = {"high": "!!", "medium": "! ", "low": "  "}


def add_user_option(p: argparse.ArgumentParser, *, top: bool = False) -> None:
    """``--user NAME`` before or after the action (``lookout alerts --user a ack 3`` = ``alerts ack 3 --user a``)."""
    p.add_argument(
        "--user",
        metavar="NAME",
        default=None if top else argparse.SUPPRESS,
        help="act as this user (default $LOOKOUT_USER; password from $LOOKOUT_PASSWORD or a prompt)",
    )


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("alerts", help="list, show, acknowledge, confirm, dismiss, close, export alerts",
                       description=(__doc__ or "").replace("``", ""),
                       formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    add_user_option(p, top=True)
    acts = p.add_subparsers(dest="alerts_action", metavar="ACTION", required=True)
    ls = acts.add_parser("list", help="alerts, newest first")
    ls.add_argument("--state", choices=[s.value for s in AlertState], help="only alerts in this state")
    ls.add_argument("--limit", type=int, default=200, metavar="N", help="at most N alerts (200)")
    ls.add_argument("--json", action="store_true", help="one JSON object per line")
    show = acts.add_parser("show", help="one alert in full: history, notes, evidence")
    show.add_argument("id", type=int)
    show.add_argument("--json", action="store_true", help="the alert as one JSON object")
    for name, help_text in (("ack", "acknowledge: someone is looking at it"), ("confirm", "confirm: it is real"),
                            ("close", "close a confirmed or dismissed alert")):  # fmt: skip
        a = acts.add_parser(name, help=help_text)
        a.add_argument("id", type=int)
        a.add_argument("--note", default="", help="a note kept in the alert's history")
    d = acts.add_parser("dismiss", help="dismiss: not real (a reason is required)")
    d.add_argument("id", type=int)
    d.add_argument("--reason", required=True, help="why it is not real (kept in the history)")
    ex = acts.add_parser("export", help="alert JSON + evidence files into DIR, hashes re-checked")
    ex.add_argument("id", type=int)
    ex.add_argument("-o", "--out", required=True, type=Path, metavar="DIR", help="output directory")
    pr = acts.add_parser("prune", help="apply evidence retention now (admin): dismissed alerts' evidence first")
    pr.add_argument(
        "--max-gb",
        type=float,
        default=None,
        metavar="GB",
        help="cap (default [storage] evidence_max_gb); confirmed alerts' evidence is never deleted",
    )
    for a in acts.choices.values():
        add_user_option(a)
    alerts_dispatch.add_subcommands(acts)
    for a in acts.choices.values():
        if "user" not in {act.dest for act in a._actions}:
            add_user_option(a)
    p.set_defaults(func=run)


def open_store(ctx: Context, **kwargs: Any) -> AlertStore:
    """The data dir's alert store, audited into the data dir's audit log, with the evidence cap from the config."""
    cap = int(ctx.config.storage.evidence_max_gb * 1e9)
    if "on_change" not in kwargs:  # confirm/close from the CLI write their outbox rows and response clock too
        kwargs["on_change"] = alerts_dispatch.open_desk(ctx).on_change
    from dispatch.backends import alerts_target

    target = alerts_target(ctx.config.storage.alerts_url, ctx.data_dir)  # [storage] alerts_url or alerts.sqlite
    return AlertStore(target, audit=ctx.audit().append, evidence_max_bytes=cap, data_dir=ctx.data_dir, **kwargs)


def acting_user(args: argparse.Namespace, ctx: Context) -> Actor:
    return resolve_actor(ctx.data_dir, getattr(args, "user", None), audit=ctx.audit().append)


def run(args: argparse.Namespace, ctx: Context) -> int:
    actor = acting_user(args, ctx)
    with open_store(ctx) as store:
        act = args.alerts_action
        if act in ("list", "show", "export"):
            authorize(actor, "alerts.view", ctx.audit().append, f"alert {args.id}" if act != "list" else "alerts")
        if act == "list":
            state = AlertState(args.state) if args.state else None
            for a in store.list(state, limit=args.limit):
                print(json.dumps(a.to_json(), ensure_ascii=False) if args.json else format_line(a))
            return 0
        if act == "show":
            a = store.get(args.id)
            print(json.dumps(a.to_json(), ensure_ascii=False, indent=2) if args.json else format_alert(a))
            return 0
        if act == "prune":
            from dispatch.retention import enforce_retention
            from vision.evidence import sweep_partials

            authorize(actor, "alerts.prune", ctx.audit().append, "evidence")
            gb = args.max_gb if args.max_gb is not None else ctx.config.storage.evidence_max_gb
            r = enforce_retention(store, ctx.data_dir, int(gb * 1e9))
            half = sweep_partials(ctx.data_dir / "evidence")
            over = "; still over the cap (what is left belongs to confirmed alerts)" if r.over_cap else ""
            print(f"evidence: {r.total_before} -> {r.total_after} bytes (cap {r.max_bytes}); "
                  f"{len(r.removed)} files deleted, {len(half)} half-written files removed{over}")  # fmt: skip
            return 0
        if act == "export":
            written = export_alert(store.get(args.id), ctx.data_dir, args.out)
            ctx.audit().append(actor.name, "alerts.export", f"alert {args.id}", out=str(args.out.resolve()),
                               files=[p.name for p in written])  # fmt: skip
            print(f"alert {args.id}: exported {len(written)} files to {args.out} (hashes checked)")
            return 0
        if act == "ack":
            a = store.acknowledge(args.id, actor, args.note)
        elif act == "confirm":
            a = store.confirm(args.id, actor, args.note)
        elif act == "dismiss":
            a = store.dismiss(args.id, actor, args.reason)
        else:
            a = store.close(args.id, actor, args.note)  # type: ignore[assignment]
        print(f"alert {a.id}: {a.state} by {actor.name}")
        return 0


def format_line(a: Alert) -> str:
    pos = f"{a.position.lat_deg:.6f},{a.position.lon_deg:.6f} ±{a.position.accuracy_m:.0f}m" if a.position else "-"
    return (f"{a.id:>5} {SEVERITY_MARK.get(a.severity, '  ')}{a.severity:<6} {a.state:<12} {a.kind:<18} {a.feed:<12} "
            f"{a.t_start_utc:%Y-%m-%d %H:%M:%S}Z x{a.count:<3} {pos}  {a.summary}")  # fmt: skip


def format_alert(a: Alert) -> str:
    lines = [
        f"alert {a.id}: {a.kind} ({a.severity}) on {a.feed}{' zone ' + a.zone if a.zone else ''} -- {a.state}",
        f"  {a.summary}",
        f"  time {a.t_start_utc.isoformat()} .. {a.t_end_utc.isoformat()}  events {a.count}  tracks "
        f"{', '.join(map(str, a.track_ids)) or '-'}",
        "  position "
        + (
            f"{a.position.lat_deg:.7f}, {a.position.lon_deg:.7f} (±{a.position.accuracy_m:.1f} m)"
            if a.position
            else "unknown"
        ),
    ]
    for t in a.history:
        lines.append(f"  {t.t_utc.isoformat(timespec='seconds')} {t.user}: {t.from_state} -> {t.to_state}"
                     f"{'  (' + t.note + ')' if t.note else ''}")  # fmt: skip
    for e in a.evidence:
        gone = "  REMOVED (retention)" if e.removed else ""
        lines.append(f"  {e.kind:<8} {e.path}  sha256 {e.sha256}  {e.size_bytes} bytes{gone}")
    return "\n".join(lines)


def export_alert(alert: Alert, data_dir: Path, out: Path) -> list[Path]:
    """Write ``out/alert.json`` and copy each evidence file to ``out/<its data-dir path>``, checking hashes.

    A file whose SHA-256 differs from the one stored (or that is missing) is an ``AlertError`` naming it;
    then nothing is left in ``out``. Evidence removed by retention is listed in the JSON, not copied.
    """
    if (out / "alert.json").exists():
        raise AlertError(f"{out} already holds an exported alert (alert.json); choose another -o DIR")
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".export-", dir=out))
    done = False
    try:
        written: list[Path] = []
        for ref in alert.evidence:
            if ref.removed:
                continue
            src = data_dir / ref.path
            dst = staging / ref.path
            dst.parent.mkdir(parents=True, exist_ok=True)
            try:
                digest = _copy_hashing(src, dst)
            except FileNotFoundError:
                raise AlertError(f"alert {alert.id}: evidence file {src} is missing (expected sha256 {ref.sha256}); "
                                 "nothing was exported") from None  # fmt: skip
            if digest != ref.sha256:
                raise AlertError(
                    f"alert {alert.id}: evidence file {src} does not match its stored hash (sha256 {digest}, stored "
                    f"{ref.sha256}): it was altered after the alert; nothing was exported"
                )
            written.append(out / ref.path)
        body = json.dumps(alert.to_json(), ensure_ascii=False, indent=2) + "\n"
        (staging / "alert.json").write_text(body, encoding="utf-8")
        sums = "".join(f"{r.sha256}  {r.path}\n" for r in alert.evidence if not r.removed)
        (staging / "SHA256SUMS").write_text(sums, encoding="utf-8")
        for item in sorted(staging.rglob("*")):
            if item.is_file():
                target = out / item.relative_to(staging)
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(item, target)
        done = True
        return [out / "alert.json", out / "SHA256SUMS", *written]
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if created and not done:
            shutil.rmtree(out, ignore_errors=True)


def _copy_hashing(src: Path, dst: Path) -> str:
    h = hashlib.sha256()
    with src.open("rb") as fi, dst.open("wb") as fo:
        while chunk := fi.read(1 << 20):
            h.update(chunk)
            fo.write(chunk)
    return h.hexdigest()
