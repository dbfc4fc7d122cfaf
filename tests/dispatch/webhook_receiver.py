"""A real webhook receiver for the dispatch tests: http.server on 127.0.0.1, signature check, de-dup.

It answers 401 to a bad signature, 500 at random with ``fail_rate`` (before accepting), and 200 to
a message id it already accepted (counted in ``duplicates``), as a real desk that de-duplicates on
``webhook-id`` would.
"""

from __future__ import annotations

import http.server
import json
import random
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from dispatch.sinks.webhook import verify


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(cond: Callable[[], object], timeout_s: float = 20.0, step_s: float = 0.01) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(step_s)  # polling a condition with a deadline, not a timing assumption
    return bool(cond())


class Receiver:
    def __init__(self, key: bytes, *, port: int = 0, fail_rate: float = 0.0, seed: int = 1, delay_s: float = 0.0):
        self.key = key
        self.port = port or free_port()
        self.fail_rate = fail_rate
        self.delay_s = delay_s
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self.accepted: dict[str, dict[str, Any]] = {}
        self.order: list[str] = []
        self.duplicates = 0
        self.bad_signatures = 0
        self.failed_on_purpose = 0
        self.content_types: set[str] = set()
        self._srv: http.server.ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> Receiver:
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                status = outer.handle(dict(self.headers.items()), body)
                if outer.delay_s:
                    time.sleep(outer.delay_s)  # a slow receiver, so a kill lands mid-delivery
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        http.server.ThreadingHTTPServer.allow_reuse_address = True
        self._srv = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._srv.daemon_threads = True
        threading.Thread(target=self._srv.serve_forever, daemon=True).start()
        return self

    def handle(self, headers: dict[str, str], body: bytes) -> int:
        try:
            msg_id = verify(self.key, headers, body)
        except ValueError:
            with self._lock:
                self.bad_signatures += 1
            return 401
        with self._lock:
            self.content_types.add(headers.get("Content-Type") or headers.get("content-type") or "")
            if msg_id in self.accepted:
                self.duplicates += 1
                return 200
            if self._rng.random() < self.fail_rate:
                self.failed_on_purpose += 1
                return 500
            ctype = headers.get("Content-Type") or headers.get("content-type") or ""
            self.accepted[msg_id] = json.loads(body) if "json" in ctype else {"xml": body.decode()}
            self.order.append(msg_id)
        return 200

    def count(self) -> int:
        with self._lock:
            return len(self.accepted)

    def stop(self) -> None:
        if self._srv is not None:
            self._srv.shutdown()
            self._srv.server_close()
            self._srv = None
