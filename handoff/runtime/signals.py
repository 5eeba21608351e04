"""Wake-ups between the web process and the worker: one Unix datagram per signal, lossy by design.

Why datagrams: the webhook must return LINE's 200 without waiting on anything, so telling the worker "there is new
work" must never block or fail the request. A lost datagram costs at most one poll interval (the worker still polls
the database), so nothing needs a broker or an acknowledgement. Both ends live on one host, in a directory only the
gateway's user can enter.

Messages are small JSON objects: {"wake": "inbox" | "outbox" | "alerts"} to the worker, {"event": {...}} (a live
console event, ids and kinds only) to the web processes. There may be several web processes (YCC_REUSE_PORT): each
binds its own socket, `web-<pid>.sock`, and the worker's peer is the pattern `web-*`, so a message reaches them all;
a socket left behind by a killed process refuses the datagram and is removed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
MAX_DATAGRAM = 64 * 1024


def socket_files(run_dir: Path) -> list[Path]:
    """Every wake-up socket a gateway's processes may have left in `run_dir` (for purge's checks and clean-up)."""
    return sorted([*run_dir.glob("web-*.sock"), *run_dir.glob("worker.sock")])


class Signals:
    def __init__(self, run_dir: Path, me: str, peer: str, on_message: Callable[[dict[str, Any]], None]) -> None:
        """`peer` may be a glob pattern (`web-*`): every socket that matches it is sent to."""
        self.path = run_dir / f"{me}.sock"
        self.peer = f"{peer}.sock"
        self._run_dir = run_dir
        self._on_message = on_message
        self._sock: socket.socket | None = None

    def open(self) -> None:
        self._run_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()  # left by a process that was killed
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.setblocking(False)
        sock.bind(str(self.path))
        os.chmod(self.path, 0o600)
        self._sock = sock
        asyncio.get_running_loop().add_reader(sock.fileno(), self._read)

    def send(self, message: dict[str, Any]) -> bool:
        """Best effort: False when no peer is there (yet) or every peer's queue is full."""
        if self._sock is None:
            return False
        data = json.dumps(message).encode()
        sent = False
        for peer in self._run_dir.glob(self.peer):
            try:
                self._sock.sendto(data, str(peer))
                sent = True
            except ConnectionRefusedError:
                with contextlib.suppress(OSError):
                    peer.unlink()  # nobody is bound to it: its process died without closing it
            except OSError:
                continue
        return sent

    def _read(self) -> None:
        assert self._sock is not None
        while True:
            try:
                data = self._sock.recv(MAX_DATAGRAM)
            except (BlockingIOError, InterruptedError):
                return
            try:
                message = json.loads(data)
            except ValueError:
                log.warning("ignored a malformed signal datagram (%d bytes)", len(data))
                continue
            if isinstance(message, dict):
                self._on_message(message)

    def close(self) -> None:
        if self._sock is None:
            return
        with contextlib.suppress(Exception):
            asyncio.get_running_loop().remove_reader(self._sock.fileno())
        self._sock.close()
        self._sock = None
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
