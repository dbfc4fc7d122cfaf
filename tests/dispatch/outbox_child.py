"""The sending process of the outbox fault test (run as a script; the test SIGKILLs and restarts it).

    python outbox_child.py DATA_DIR URL SECRET produce N   # N alerts: confirm, dispatch, close; then send
    python outbox_child.py DATA_DIR URL SECRET resume      # only send; exit 0 when nothing is pending

Prints "produced" once every alert change is committed, and "drained" when the queue is empty.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from dispatch.config import DispatchConfig, SinkConfig, UnitConfig
from dispatch.desk import DispatchDesk
from dispatch.roles import Actor
from dispatch.store import AlertStore
from dispatch.types import AlertInput, Position


def main(argv: list[str]) -> int:
    data, url, secret, mode = Path(argv[0]), argv[1], argv[2], argv[3]
    sink = SinkConfig(type="webhook", url=url, secret=secret, timeout_s=1.0, backoff_base_s=0.05,
                      backoff_max_s=0.4, max_attempts=1000)  # fmt: skip
    cfg = DispatchConfig(sinks={"desk": sink})
    units = {"car1": UnitConfig(callsign="CAR 1", kind="car", lat_deg=52.0, lon_deg=4.0)}
    desk = DispatchDesk(data / "alerts.sqlite", cfg, units, {})
    store = AlertStore(data / "alerts.sqlite", on_change=desk.on_change)
    desk.start_sender()
    if mode == "produce":
        admin = Actor.local_admin()
        t0 = datetime.now(UTC)
        for i in range(int(argv[4])):
            t = t0 + timedelta(seconds=i)
            a = store.ingest(AlertInput(f"ev{i}", "loitering", "high", f"cam{i}", t, t + timedelta(seconds=1), (i,),
                                        Position(52.0 + i * 1e-4, 4.0, 5.0), None, f"alert {i}", {}, 30.0))  # fmt: skip
            store.confirm(a.id, admin)
            desk.dispatch(a.id, "car1")
            store.close(a.id, admin)
        print("produced", flush=True)
    while desk.outbox.messages(state="pending", limit=1):
        time.sleep(0.05)  # the sender threads work; this process only waits for them
    print("drained", flush=True)
    desk.close()
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
