"""``DeskReceiver``: a small signed-webhook receiver, the "dispatch desk" a demo or a bench test starts.

It listens on 127.0.0.1 (a free port by default), checks each request's Standard Webhooks
signature, de-duplicates on ``webhook-id`` (answering 200 to a repeat, as a real desk should) and
keeps the newest ``keep`` messages for display::

    with DeskReceiver(secret="whsec_...") as desk:
        cfg sink url = desk.url
        desk.received() -> [ReceivedMessage]      # newest last; .type, .alert_id, .seq, .body

A request with a bad signature gets 401 and is counted in ``rejected``; nothing else is stored.
"""

from __future__ import annotations

import http.server
import json
import logging
import threading
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dispatch.config import resolve_secret
from dispatch.sinks.webhook import verify

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ReceivedMessage:
    msg_id: str
    type: str
    alert_id: int | None
    seq: int | None
    t_utc: datetime
    body: dict[str, Any]

    def line(self) -> str:
        after = self.body.get("after") or {}
        resp = after.get("response") or {}
        unit = f", unit {resp['unit']}" if resp.get("unit") else ""
        what = f"{after.get('kind', '?')}, {after.get('state', '?')}{unit}"
        return f"desk got {self.type} of alert {self.alert_id} ({what})"


class DeskReceiver:
    def __init__(self, secret: str | None, *, host: str = "127.0.0.1", port: int = 0, keep: int = 200) -> None:
        self.key = resolve_secret(secret, "desk receiver secret")
        self._lock = threading.Lock()
        self._seen: set[str] = set()
        self._messages: deque[ReceivedMessage] = deque(maxlen=keep)
        self.rejected = 0
        self.duplicates = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0") or 0))
                code = outer._handle(dict(self.headers.items()), body)
                self.send_response(code)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self._srv = http.server.ThreadingHTTPServer((host, port), Handler)
        self._srv.daemon_threads = True
        self._thread = threading.Thread(target=self._srv.serve_forever, name="desk-receiver", daemon=True)
        self._thread.start()
        self.url = f"http://{host}:{self._srv.server_port}/lookout"

    def _handle(self, headers: dict[str, str], body: bytes) -> int:
        try:
            msg_id = verify(self.key, headers, body) if self.key is not None else headers.get("webhook-id", "")
            data = json.loads(body) if body.lstrip().startswith(b"{") else {"xml": body.decode("utf-8", "replace")}
        except (ValueError, UnicodeDecodeError) as exc:
            with self._lock:
                self.rejected += 1
            log.warning("desk receiver: refused a request (%s)", exc)
            return 401
        with self._lock:
            if msg_id in self._seen:
                self.duplicates += 1
                return 200
            self._seen.add(msg_id)
            after = data.get("after") or {}
            self._messages.append(ReceivedMessage(msg_id, str(data.get("type", "cap")), after.get("id"),
                                                  data.get("seq"), datetime.now(UTC), data))  # fmt: skip
        return 200

    def received(self) -> list[ReceivedMessage]:
        with self._lock:
            return list(self._messages)

    def close(self) -> None:
        self._srv.shutdown()
        self._srv.server_close()
        self._thread.join(5)

    def __enter__(self) -> DeskReceiver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
