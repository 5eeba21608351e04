"""Where a gateway's processes count their metrics, set before prometheus_client is first imported.

prometheus_client picks its multiprocess mode once, at import, from PROMETHEUS_MULTIPROC_DIR. `ycc serve` and
`ycc worker` call `use_metrics_dir` first thing; the worker child `ycc serve` spawns inherits the variable. Kept
apart from handoff.http.metrics so the worker need not import Sanic for it.
"""

from __future__ import annotations

import logging
import os
import sys

from handoff.settings import Settings

log = logging.getLogger(__name__)
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def use_metrics_dir(settings: Settings) -> bool:
    """Make this process, and the children it spawns afterwards, count into settings.metrics_dir (mode 0700).
    False, with a warning, if prometheus_client was imported before: its metrics then count for this process
    alone."""
    if "prometheus_client" in sys.modules:
        if not multiprocess():
            log.warning("metrics count per process: prometheus_client was imported before its directory was set")
        return multiprocess()
    settings.metrics_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.environ[MULTIPROC_ENV] = str(settings.metrics_dir)
    return True


def multiprocess() -> bool:
    """Whether prometheus_client in this process writes its values to the shared directory."""
    from prometheus_client import values

    return bool(getattr(values.ValueClass, "_multiprocess", False))
