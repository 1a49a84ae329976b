"""The rate state counts the same on Redis (one pipelined round trip) as through Django's
cache API (the embedded default's memory cache)."""

from __future__ import annotations

import uuid

import pytest
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache

from accounts import rates


def _run(clock) -> list:
    """Refusals, weighted counts and waits over three windows of a 3-a-minute budget."""
    rate, key = rates.Rate(limit=3, seconds=60), f"test:{uuid.uuid4().hex}"
    seen = [rates.take(key, rate) for _ in range(5)]  # 3 pass, 2 refused and not counted
    seen.append(rates.count(key, rate))
    clock.advance(90)  # half way through the next window: the last one weighs half
    seen += [rates.take(key, rate) for _ in range(3)]
    seen.append(rates.add(key, rate))
    clock.advance(60)
    seen.append(rates.count(key, rate))
    rates.forget(key, rate)
    seen.append(rates.count(key, rate))
    return seen


@pytest.fixture
def start(clock):
    # The start of a minute, so that both runs cut the windows at the same places.
    clock.advance(60 - clock().timestamp() % 60)
    return clock


def test_redis_and_the_memory_cache_count_alike(start, monkeypatch):
    assert isinstance(caches["rates"], RedisCache)  # CI runs against Redis
    now = start()
    on_redis = _run(start)
    start.advance(now.timestamp() - start().timestamp())  # back to the same instant
    memory = LocMemCache(f"test-rates-{uuid.uuid4().hex}", {})
    monkeypatch.setattr(rates, "_cache", lambda: memory)
    in_memory = _run(start)
    assert on_redis == in_memory
    allowed = [d.allowed for d in on_redis[:5]]
    assert allowed == [True, True, True, False, False]
    assert on_redis[5] == 3  # refused requests are not counted
    # Next window, half way: 3 x 0.5 = 1.5 counted, so one more passes (2.5), not a second.
    assert [d.allowed for d in on_redis[6:9]] == [True, False, False]
    assert on_redis[9] == pytest.approx(1.5 + 2)  # a failed sign-in counts even over budget
    assert on_redis[10] == pytest.approx(2 * 0.5)
    assert on_redis[11] == 0
