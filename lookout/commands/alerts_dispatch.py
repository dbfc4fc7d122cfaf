"""``lookout alerts dispatch|send-test|sinks|report``: the dispatch half of ``lookout alerts``.

``lookout/commands/alerts.py`` (the alert store's commands) calls ``add_subcommands(acts)`` with its
sub-parser action; each parser here sets ``func=run(args, ctx) -> int`` like every other command.
``open_desk(ctx)`` is the one place the CLI builds the dispatch desk (outbox, clock, units) from the
config; the store hook ``desk.on_change`` goes into every ``AlertStore`` the CLI opens.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dispatch.clock import clock_status
from dispatch.desk import DispatchDesk
from dispatch.errors import DispatchError, ResponseError
from lookout.context import Context

TEST_ALERT = {
    "id": 0, "kind": "test", "severity": "low", "state": "new", "feed": "lookout", "zone": None,
    "summary": "Lookout test message: this is not an alert; no action needed", "position": None, "evidence": [],
}  # fmt: skip


def add_subcommands(acts: argparse._SubParsersAction) -> None:
    """Add the dispatch actions to ``lookout alerts``."""
    p = acts.add_parser("dispatch", help="recommend units for a confirmed alert (by ETA vs deadline) or assign one")
    p.add_argument("id", type=int, help="alert id")
    p.add_argument("--unit", help="assign this unit (a [units.NAME] key); without it, show the recommendation")
    p.add_argument("--on-scene", action="store_true", help="the dispatched unit has arrived (stamps the clock)")
    p.add_argument("--wait", type=float, default=5.0, metavar="S", help="deliver the update for up to S s (5)")
    p.set_defaults(func=run_dispatch)

    p = acts.add_parser("send-test", help="send a Test-status message through every sink (or one) and report")
    p.add_argument("--sink", help="only this [dispatch.sinks.NAME]")
    p.add_argument("--wait", type=float, default=15.0, metavar="S", help="wait up to S s for delivery (15)")
    p.set_defaults(func=run_send_test)

    p = acts.add_parser("sinks", help="per-sink health: last success, last error, queue depth, dead letters")
    p.add_argument("--dead", action="store_true", help="list the dead letters")
    p.add_argument("--retry", metavar="ID|all", help="put a dead letter (outbox id) or all of them back in the queue")
    p.add_argument("--drain", type=float, metavar="S", help="deliver what is queued now, for up to S s")
    p.add_argument("--prune", type=float, metavar="DAYS",
                   help="delete delivered messages older than DAYS (each alert's newest is kept)")  # fmt: skip
    p.set_defaults(func=run_sinks)

    p = acts.add_parser("report", help="response times per class: count, median/p90 to scene, %% within target")
    p.add_argument("--since", help="only alerts confirmed on or after this date (YYYY-MM-DD, UTC) or ISO time")
    p.add_argument("-o", "--output", type=Path, metavar="FILE", help="also write FILE.csv and FILE.png (a chart)")
    p.set_defaults(func=run_report)


def open_desk(ctx: Context) -> DispatchDesk:
    cfg = ctx.config
    from dispatch.backends import alerts_target

    return DispatchDesk(alerts_target(cfg.storage.alerts_url, ctx.data_dir), cfg.dispatch, cfg.units,
                        cfg.response_areas, data_dir=ctx.data_dir, audit=ctx.audit().append)  # fmt: skip


def _store(ctx: Context, desk: DispatchDesk) -> Any:
    from lookout.commands.alerts import open_store

    return open_store(ctx, on_change=desk.on_change)


def _actor(args: argparse.Namespace, ctx: Context) -> Any:
    from lookout.commands.alerts import acting_user

    return acting_user(args, ctx)


def _ago(t: datetime | None) -> str:
    if t is None:
        return "never"
    s = (datetime.now(UTC) - t).total_seconds()
    return f"{t.isoformat(timespec='seconds')} ({s:.0f} s ago)"


def _drain(desk: DispatchDesk, wait_s: float, sinks: list[str] | None = None, ids: set[str] | None = None) -> None:
    """Run the sender until the wanted messages (or the whole queue) are delivered/dead, or ``wait_s``."""
    desk.start_sender()
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline and desk.outbox.pending_count(sinks=sinks, msg_ids=ids):
        time.sleep(0.05)  # the sender threads work; the CLI only waits for them
    desk.close()


def run_dispatch(args: argparse.Namespace, ctx: Context) -> int:
    from lookout.access import authorize

    actor = _actor(args, ctx)
    desk = open_desk(ctx)
    with _store(ctx, desk) as store:
        alert = store.get(args.id)
        authorize(actor, "alerts.dispatch" if args.unit or args.on_scene else "alerts.view", ctx.audit().append,
                  f"alert {args.id}")  # fmt: skip
        cls = desk.classify(alert)
        rec = desk.record(alert.id)
        if rec is None:
            raise ResponseError(f"alert {alert.id} is {alert.state}; confirm it before dispatching "
                                f"(lookout alerts confirm {alert.id})")  # fmt: skip
        if args.unit:
            rec = desk.dispatch(alert.id, args.unit, actor.name)
            print(f"alert {alert.id}: {args.unit} dispatched by {actor.name}")
        if args.on_scene:
            rec = desk.on_scene(alert.id, actor.name)
            print(f"alert {alert.id}: {rec.unit} on scene after {rec.time_to_scene_s:.0f} s")
        st = clock_status(rec, amber_at=ctx.config.dispatch.amber_at)
        where = "no position" if alert.position is None else \
            f"{alert.position.lat_deg:.5f}, {alert.position.lon_deg:.5f}"  # fmt: skip
        print(f"alert {alert.id} ({alert.kind}, {where}): class {rec.area} {rec.target_min} min; "
              f"{st.phase}, {st.elapsed_s:.0f} s elapsed, {st.remaining_s:.0f} s left [{st.color}]")  # fmt: skip
        if not cls.inside and alert.position is not None:
            print("  outside every response area: class elsewhere, 5 min")
        if not args.unit and not args.on_scene:
            if alert.position is None:
                print("  no position on the alert: no ETA ranking; assign a unit by hand with --unit NAME")
                return 0
            recm = desk.recommend(alert)
            if not recm.ranked:
                print("  no unit available")
            for i, c in enumerate(recm.ranked):
                mark = "makes it" if c.makes_deadline else f"LATE by {-c.slack_s:.0f} s"
                print(f"  {'*' if i == 0 else ' '} {c.unit.name:<12} {c.unit.callsign:<12} {c.unit.kind:<10} "
                      f"{c.distance_m:7.0f} m  ETA {c.eta_s:5.0f} s  {mark}")  # fmt: skip
            for name, why in recm.not_offered:
                print(f"    {name:<12} not offered: {why}")
            if recm.best is not None:
                print(f"accept: lookout alerts dispatch {alert.id} --unit {recm.best.unit.name}")
    if args.unit or args.on_scene:
        _drain(desk, args.wait)
    desk.close()
    return 0


def run_send_test(args: argparse.Namespace, ctx: Context) -> int:
    from lookout.access import authorize

    actor = _actor(args, ctx)
    authorize(actor, "alerts.dispatch", ctx.audit().append, "send-test")
    desk = open_desk(ctx)
    names = [args.sink] if args.sink else list(desk.outbox.sinks)
    if not names:
        print("no sinks configured: add a [dispatch.sinks.NAME] table (type = webhook | cap | mqtt)", file=sys.stderr)
        return 1
    from dispatch.outbox import connect

    conn = connect(desk.path)
    try:
        from lookout.commands.alerts import open_store

        open_store(ctx).close()  # creates/migrates the database if this is the first run
        conn.execute("BEGIN IMMEDIATE")
        ids = desk.outbox.enqueue_test(conn, names, {**TEST_ALERT, "created_utc": datetime.now(UTC).isoformat()})
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    finally:
        conn.close()
    ctx.audit().append(actor.name, "alerts.send_test", "sinks", sinks=names)
    _drain(desk, args.wait, ids=set(ids))
    desk = open_desk(ctx)
    bad = 0
    for m in desk.outbox.messages(limit=100_000):
        if m.msg_id in ids:
            ok = m.state == "delivered"
            bad += not ok
            why = "" if ok else f": {m.last_error or 'not delivered yet (still queued; see lookout alerts sinks)'}"
            print(f"{m.sink:<14} {'delivered' if ok else m.state}{why}")
    desk.close()
    return 0 if bad == 0 else 1


def run_sinks(args: argparse.Namespace, ctx: Context) -> int:
    desk = open_desk(ctx)
    from lookout.commands.alerts import open_store

    open_store(ctx).close()  # the tables exist even before the first alert
    if args.retry:
        n = desk.outbox.retry(None if args.retry == "all" else int(args.retry))
        print(f"{n} dead letter(s) back in the queue")
    if args.prune is not None:
        print(f"{desk.outbox.prune_delivered(args.prune * 86400)} delivered message(s) pruned")
    if args.drain:
        _drain(desk, args.drain)
        desk = open_desk(ctx)
    sinks = desk.outbox.sinks
    for h in desk.outbox.health():
        cfg = sinks.get(h.sink)
        where = "(not configured any more)" if cfg is None else (cfg.url or cfg.dir or "")
        kind = "?" if cfg is None else cfg.type
        paused = "" if h.paused_until_utc is None else f", backing off until {h.paused_until_utc:%H:%M:%S}"
        print(f"{h.sink} [{kind}] {where}")
        print(f"  queued {h.queue_depth}, dead letters {h.dead_letters}, delivered {h.delivered}{paused}")
        print(f"  last success: {_ago(h.last_success_utc)}")
        print(f"  last error:   {_ago(h.last_error_utc)}" + (f": {h.last_error}" if h.last_error else ""))
    if not desk.outbox.health():
        print("no sinks configured: add a [dispatch.sinks.NAME] table (type = webhook | cap | mqtt)")
    if args.dead:
        for m in desk.outbox.dead_letters():
            print(f"dead #{m.id} {m.sink} {m.type} alert {m.alert_id} seq {m.seq} after {m.attempts} attempts: "
                  f"{m.last_error}")  # fmt: skip
    desk.close()
    return 0


def _since(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        raise DispatchError(f"--since {text!r}: expected a date YYYY-MM-DD or an ISO time") from None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def run_report(args: argparse.Namespace, ctx: Context) -> int:
    from dispatch.report import format_table, output_paths, summarize, write_csv, write_png
    from lookout.commands.alerts import open_store

    since = _since(args.since)
    open_store(ctx).close()
    desk = open_desk(ctx)
    stats = summarize(desk.records(since))
    desk.close()
    print(format_table(stats))
    if args.output is not None:
        csv_path, png_path = output_paths(args.output)
        write_csv(stats, csv_path)
        write_png(stats, png_path)
        print(f"wrote {csv_path} and {png_path}")
    return 0
