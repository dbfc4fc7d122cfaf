"""A desk process on a PostgreSQL alert store for test_postgres (run as a script; the test SIGKILLs it).

    python pg_child.py URL DATA_DIR RECEIVER_URL SECRET

Opens a dispatch desk on URL with one webhook sink, starts its sender, prints "sending", and keeps
delivering until it is killed (or its stdin closes).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from dispatch.backends import open_desk
from dispatch.config import DispatchConfig, SinkConfig


def main(argv: list[str]) -> int:
    url, data, receiver, secret = argv[0], Path(argv[1]), argv[2], argv[3]
    sink = SinkConfig(type="webhook", url=receiver, secret=secret, timeout_s=1.0, backoff_base_s=0.05,
                      backoff_max_s=0.4, max_attempts=1000)  # fmt: skip
    desk = open_desk(url, DispatchConfig(sinks={"desk": sink}), {}, {}, data_dir=data)
    desk.start_sender()
    print("sending", flush=True)
    sys.stdin.read()  # until the test closes stdin (or kills this process)
    desk.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
