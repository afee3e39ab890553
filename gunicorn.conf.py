"""gunicorn hooks for /metrics under several workers; gunicorn reads this file from the
working directory by itself. Without PROMETHEUS_MULTIPROC_DIR they do nothing.

With PROMETHEUS_MULTIPROC_DIR set (an empty folder writable by the workers, e.g. a tmpfs),
each worker writes its counters there and /metrics adds every worker's up
(docs/operations.md, "Metrics").
"""

import os
from pathlib import Path
from typing import Any


def on_starting(server: Any) -> None:
    """Forget the counts of a previous run: they belong to processes that are gone."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        for stale in Path(folder).glob("*.db"):
            stale.unlink()


def child_exit(server: Any, worker: Any) -> None:
    """A worker's gauges die with it (its counters stay in the totals)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
