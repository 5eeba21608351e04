"""`ycc serve`'s worker child (YCC_WORKER=process): started with the server, restarted if it dies, stopped with it.

The child never outlives the web process: if the web process is killed, the kernel kills the worker too
(PR_SET_PDEATHSIG), so a restarted gateway never finds an orphaned worker handling the same users. `ycc serve`
spawns it before importing the web app, so the two processes' imports (≈2 s, mostly line-bot-sdk) overlap.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import signal
import subprocess
import sys
import time

from handoff.settings import Settings

log = logging.getLogger(__name__)
RESTART_DELAY = 1.0
STOP_TIMEOUT = 15.0


def die_with_parent(signum: int = signal.SIGTERM) -> None:
    """Linux PR_SET_PDEATHSIG (a preexec_fn): this child gets `signum` when its parent dies, however it dies."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signum)
    except OSError:
        pass


def _die_hard_with_parent() -> None:
    die_with_parent(signal.SIGKILL)


class WorkerProcess:
    def __init__(self, settings: Settings) -> None:
        self._env = {**os.environ, "YCC_RUN_DIR": str(settings.run_dir), "YCC_WORKER": "off"}
        # The child binds this socket just before it starts taking work (runtime.worker.run_worker).
        self._socket = settings.run_dir / "worker.sock"
        self._spawned_at = 0.0
        self._proc: subprocess.Popen[bytes] | None = None
        self._watch: asyncio.Task[None] | None = None
        self._stopping = False

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def ready(self) -> bool:
        """Alive and past its start-up (imports and database take seconds): what /readyz reports, so that nothing
        waiting for the gateway mistakes a worker still starting for one that answers users. A socket left by a
        killed worker is older than this spawn and does not count."""
        try:
            bound = self._socket.stat().st_mtime >= self._spawned_at - 0.1  # the kernel stamps files coarsely
        except OSError:
            return False
        return self.alive and bound

    def spawn(self) -> None:
        self._spawned_at = time.time()
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "handoff.cli", "worker"], env=self._env, preexec_fn=_die_hard_with_parent
        )
        log.info("worker process started (pid %s)", self._proc.pid)

    async def start(self) -> None:
        """Supervise the child (spawning it unless `ycc serve` already did)."""
        if self._proc is None:
            self.spawn()
        self._watch = asyncio.create_task(self._watch_loop(), name="worker-watch")

    async def _watch_loop(self) -> None:
        while not self._stopping:
            proc = self._proc
            assert proc is not None
            await asyncio.to_thread(proc.wait)
            if self._stopping:
                return
            log.error("worker process exited with %s; restarting in %.0f s", proc.returncode, RESTART_DELAY)
            await asyncio.sleep(RESTART_DELAY)
            if not self._stopping:
                self.spawn()

    async def stop(self) -> None:
        """SIGTERM lets the worker finish the step under way; what is left stays pending in the database."""
        self._stopping = True
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            await asyncio.to_thread(proc.wait, STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            log.error("worker process did not stop in %.0f s; killing it", STOP_TIMEOUT)
            proc.kill()
            await asyncio.to_thread(proc.wait)
