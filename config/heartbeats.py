"""Liveness of the Celery processes: timestamps kept in Redis, read when metrics are scraped.

Web, worker and beat are separate processes (containers): what one records the others must
see, so the timestamps go to the "heartbeats" cache, which is Redis (the broker's) whenever
there is a broker. Writing one must never break a task: Redis trouble is logged and passed.
"""

from __future__ import annotations

import logging
import time

from django.core.cache import caches

logger = logging.getLogger(__name__)

BEAT = "beat"
TASK_SUCCESS_PREFIX = "task-success:"
_NAMES_KEY = "names"


def record(name: str, when: float | None = None) -> None:
    """Remember that `name` was alive (or succeeded) now."""
    try:
        cache = caches["heartbeats"]
        cache.set(name, when or time.time(), timeout=None)
        names = cache.get(_NAMES_KEY) or []
        if name not in names:
            cache.set(_NAMES_KEY, sorted({*names, name}), timeout=None)
    except Exception as exc:  # Redis down: liveness shows it as stale, the task goes on
        logger.warning("heartbeat %s not recorded: %s", name, exc)


def record_task_success(task_name: str) -> None:
    record(TASK_SUCCESS_PREFIX + task_name)


def read_all() -> dict[str, float]:
    """Every timestamp recorded so far, by name (empty when the cache does not answer)."""
    try:
        cache = caches["heartbeats"]
        names = cache.get(_NAMES_KEY) or []
        return {name: float(value) for name, value in cache.get_many(names).items()}
    except Exception as exc:
        logger.warning("heartbeats not readable: %s", exc)
        return {}
