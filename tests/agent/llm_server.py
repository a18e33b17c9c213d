"""A local HTTP server that speaks the OpenAI chat-completions protocol from recorded replies.

Tests point the agent's real HTTP client at it: each POST gets the next recorded reply (a JSON
body, a status code, raw bytes or a delay), and every request body is kept for assertions.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

RECORDINGS = Path(__file__).with_name("llm_recordings")


@dataclass
class Recorded:
    body: Any = None
    status: int = 200
    raw: bytes | None = None
    delay_s: float = 0.0


@dataclass
class FakeLlm:
    url: str
    replies: deque[Recorded] = field(default_factory=deque)
    requests: list[dict[str, Any]] = field(default_factory=list)

    def queue(self, *names: str) -> None:
        """Queue recorded replies by file name (llm_recordings/NAME.json)."""
        for name in names:
            self.replies.append(Recorded(json.loads((RECORDINGS / f"{name}.json").read_text())))


@contextmanager
def fake_llm() -> Iterator[FakeLlm]:
    state = FakeLlm(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = json.loads(self.rfile.read(length))
            state.requests.append({"path": self.path, "body": body,
                                   "auth": self.headers.get("Authorization")})  # fmt: skip
            reply = state.replies.popleft() if state.replies else Recorded(status=500)
            if reply.delay_s:
                time.sleep(reply.delay_s)
            payload = reply.raw if reply.raw is not None else json.dumps(reply.body).encode()
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout test)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
