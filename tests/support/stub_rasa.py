"""A Rasa REST channel stand-in for pipeline tests that need Rasa to be slow, down or back on demand.

The real Rasa server is exercised by tests/e2e with a trained model; this one only answers like it.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class StubRasa:
    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.received: list[dict[str, Any]] = []
        self.delay = 0.0
        self.nlu_header: str | None = None  # X-YCC-NLU as bot/channels/gateway.py sends it
        self._server: ThreadingHTTPServer | None = None

    def answer(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            {
                "recipient_id": body["sender"],
                "text": f"bot:{body['message']}",
                "buttons": [{"title": "はい", "payload": "/affirm"}],
            }
        ]

    def start(self) -> StubRasa:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, payload: Any, nlu: str | None = None) -> None:
                data = json.dumps(payload, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                if nlu is not None:
                    self.send_header("X-YCC-NLU", nlu)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._send(200, {"model_file": "stub.tar.gz"})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                stub.received.append(body)
                if stub.delay:
                    time.sleep(stub.delay)
                self._send(200, stub.answer(body), stub.nlu_header)

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
