"""Rate state shared by every web process: API throttling and sign-in limits.

Kept in the "rates" cache, which is Redis whenever there is one (config/settings.py): a
count kept in one gunicorn worker's memory would let a client spread its requests over the
workers. Every key expires by itself, so the state stays bounded whatever a client sends.

Counting is a sliding window approximated by two fixed windows (the current one, and the
previous one weighted by how much of it still overlaps): one atomic INCR per request, no
list of timestamps per client, and no burst of twice the budget at a window's edge.
Times come from Django's clock (tests move it instead of sleeping).
"""

from __future__ import annotations

import contextlib
import logging
import math
from dataclasses import dataclass

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.utils import timezone

logger = logging.getLogger(__name__)

CACHE = "rates"
PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Rate:
    limit: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> Rate | None:
        """DRF's syntax: "1200/min", "30/hour", "5/15m"; empty = no limit."""
        text = (text or "").strip()
        if not text:
            return None
        count, _, period = text.partition("/")
        digits = "".join(ch for ch in period if ch.isdigit())
        unit = period[len(digits) :][:1]
        return cls(limit=int(count), seconds=int(digits or 1) * PERIODS[unit])


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: float = 0.0  # seconds until one more would be allowed


def _cache():
    return caches[CACHE]


def _windows(key: str, rate: Rate, now: float) -> tuple[str, str, float]:
    window = math.floor(now / rate.seconds)
    elapsed = now / rate.seconds - window
    return f"{key}:{window}", f"{key}:{window - 1}", elapsed


def _retry_after(rate: Rate, previous: int, current: int, elapsed: float) -> float:
    """Seconds until previous * (1 - elapsed) + current + 1 <= limit holds again."""
    room = rate.limit - 1 - current
    if room >= 0 and previous > 0:
        needed = 1 - room / previous  # the share of the window that must pass
        return max(0.0, (needed - elapsed) * rate.seconds)
    # Not this window: in the next one, this window's count is the weighted one.
    rest = (1 - elapsed) * rate.seconds
    if current <= 0:
        return rest
    return rest + max(0.0, 1 - (rate.limit - 1) / current) * rate.seconds


def _counts(cache, current_key: str, previous_key: str) -> tuple[int, int]:
    values = cache.get_many([current_key, previous_key])
    return int(values.get(previous_key) or 0), int(values.get(current_key) or 0)


def _increment(current_key: str, previous_key: str, rate: Rate) -> tuple[int, int]:
    """Count one in the current window: (its count, this one included; the previous one's).

    The key outlives its window and the next (where it is the weighted one), so an INCR
    never meets an expired key. On Redis in one round trip: through Django's cache API it
    took four (INCR first asks whether the key exists), each building a client: about 2 ms
    of every API request.
    """
    cache = _cache()
    timeout = 2 * rate.seconds + 1
    if isinstance(cache, RedisCache):
        # Django's own client (its pool, its keys); integers are stored as plain numbers
        # there, so these values are the ones the cache API reads and writes.
        current_key = cache.make_and_validate_key(current_key)
        pipe = cache._cache.get_client(current_key, write=True).pipeline(transaction=False)
        pipe.set(current_key, 0, nx=True, ex=timeout)
        pipe.incr(current_key)
        pipe.get(cache.make_and_validate_key(previous_key))
        _added, current, previous = pipe.execute()
        return int(current), int(previous or 0)
    cache.add(current_key, 0, timeout=timeout)
    current = cache.incr(current_key)
    return current, int(cache.get(previous_key) or 0)


def take(key: str, rate: Rate) -> Decision:
    """Count one request against `rate`; refused requests are not counted.

    INCR is atomic, so concurrent requests in any number of processes each see a count of
    their own: exactly `limit` pass in a window that starts empty.
    """
    now = timezone.now().timestamp()
    current_key, previous_key, elapsed = _windows(key, rate, now)
    try:
        current, previous = _increment(current_key, previous_key, rate)
    except Exception as exc:  # the cache is down: let the request through, and say so
        logger.warning("rate state unavailable, not limiting", extra={"error": str(exc)})
        return Decision(True)
    if previous * (1 - elapsed) + current <= rate.limit:
        return Decision(True)
    with contextlib.suppress(Exception):  # expired meanwhile: nothing left to give back
        _cache().decr(current_key)
    return Decision(False, _retry_after(rate, previous, current - 1, elapsed))


def count(key: str, rate: Rate) -> float:
    """The weighted number of events counted under `key` in the last window."""
    now = timezone.now().timestamp()
    current_key, previous_key, elapsed = _windows(key, rate, now)
    try:
        previous, current = _counts(_cache(), current_key, previous_key)
    except Exception as exc:
        logger.warning("rate state unavailable", extra={"error": str(exc)})
        return 0.0
    return previous * (1 - elapsed) + current


def add(key: str, rate: Rate) -> float:
    """Count one event (a failed sign-in) and return the weighted count, this one included."""
    now = timezone.now().timestamp()
    current_key, previous_key, elapsed = _windows(key, rate, now)
    try:
        current, previous = _increment(current_key, previous_key, rate)
    except Exception as exc:
        logger.warning("rate state unavailable", extra={"error": str(exc)})
        return 0.0
    return previous * (1 - elapsed) + current


def forget(key: str, rate: Rate) -> None:
    now = timezone.now().timestamp()
    current_key, previous_key, _elapsed = _windows(key, rate, now)
    try:
        _cache().delete_many([current_key, previous_key])
    except Exception as exc:
        logger.warning("rate state unavailable", extra={"error": str(exc)})


def lock(key: str, seconds: int) -> float:
    """Lock `key` for `seconds`; returns the end as a POSIX time."""
    until = timezone.now().timestamp() + seconds
    try:
        # Expires a little after the lock itself (the lock is read against Django's clock).
        _cache().set(f"{key}:lock", until, timeout=seconds + 60)
    except Exception as exc:
        logger.warning("rate state unavailable, not locking", extra={"error": str(exc)})
    return until


def locked_until(key: str) -> float | None:
    try:
        until = _cache().get(f"{key}:lock")
    except Exception as exc:
        logger.warning("rate state unavailable", extra={"error": str(exc)})
        return None
    if until is not None and until > timezone.now().timestamp():
        return float(until)
    return None
