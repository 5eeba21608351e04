"""`ycc serve`'s worker child (YCC_WORKER=process): started with the server, restarted if it dies, stopped with it.

The child never outlives the web process: if the web process is killed, the kernel kills the worker too
(PR_SET_PDEATHSIG), so a restarted gateway never finds an orphaned worker handling the same users.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import signal
import sys

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
        self._proc: asyncio.subprocess.Process | None = None
        self._watch: asyncio.Task[None] | None = None
        self._stopping = False
        self.restarts = 0

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.returncode is None

    async def start(self) -> None:
        await self._spawn()
        self._watch = asyncio.create_task(self._watch_loop(), name="worker-watch")

    async def _spawn(self) -> None:
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "handoff.cli", "worker", env=self._env, preexec_fn=_die_hard_with_parent
        )
        log.info("worker process started (pid %s)", self._proc.pid)

    async def _watch_loop(self) -> None:
        while not self._stopping:
            assert self._proc is not None
            code = await self._proc.wait()
            if self._stopping:
                return
            self.restarts += 1
            log.error("worker process exited with %s; restarting in %.0f s", code, RESTART_DELAY)
            await asyncio.sleep(RESTART_DELAY)
            if not self._stopping:
                await self._spawn()

    async def stop(self) -> None:
        """SIGTERM lets the worker finish the step under way; what is left stays pending in the database."""
        self._stopping = True
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        proc = self._proc
        if proc is None or proc.returncode is not None:
            return
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), STOP_TIMEOUT)
        except TimeoutError:
            log.error("worker process did not stop in %.0f s; killing it", STOP_TIMEOUT)
            proc.kill()
            await proc.wait()
