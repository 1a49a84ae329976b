"""API throttling (issue 11, finding 6): one budget per user, whatever token or process the
request comes through, kept in Redis; exports in a budget of their own; CSV exports
streamed, so their memory does not grow with the rows."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.services import create_token
from divisions.models import OrgUnit
from indicators.models import Assessment, Indicator, Measurement

BASE = "/api/v1"
ROOT = Path(__file__).resolve().parents[2]


def token_client(user, name: str = "script") -> APIClient:
    _token, key = create_token(user=user, name=name)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def user(db):
    return get_user_model().objects.create_user("analys")


def test_two_tokens_and_the_session_of_one_user_share_one_budget(user, nara, settings, client):
    settings.STYRKORT_API_THROTTLE_RATE = "4/day"
    a, b = token_client(user, "a"), token_client(user, "b")
    client.force_login(user)
    answers = [
        a.get(f"{BASE}/perspectives/").status_code,
        b.get(f"{BASE}/perspectives/").status_code,
        client.get(f"{BASE}/perspectives/").status_code,
        b.get(f"{BASE}/perspectives/").status_code,
    ]
    assert answers == [200, 200, 200, 200]
    for refused in (a, b):
        response = refused.get(f"{BASE}/perspectives/")
        assert response.status_code == 429
        assert int(response["Retry-After"]) > 0
        assert response["Content-Type"] == "application/json"
        assert "detail" in response.json()
    assert client.get(f"{BASE}/perspectives/").status_code == 429
    # Another user has a budget of their own.
    other = get_user_model().objects.create_user("annan")
    assert token_client(other).get(f"{BASE}/perspectives/").status_code == 200


def test_the_budget_is_kept_in_redis_with_an_expiry(user, nara, settings):
    settings.STYRKORT_API_THROTTLE_RATE = "10/min"
    token_client(user).get(f"{BASE}/perspectives/")
    cache = caches["rates"]
    redis = cache._cache.get_client(write=True)
    keys = list(redis.scan_iter(match=cache.make_key(f"throttle:user:user-{user.pk}:*")))
    assert len(keys) == 1
    assert int(redis.get(keys[0])) == 1
    assert 0 < redis.ttl(keys[0]) <= 2 * 60 + 1  # bounded: it goes by itself


def test_a_refused_request_does_not_use_the_budget_and_retry_after_holds(
    user, nara, settings, clock
):
    settings.STYRKORT_API_THROTTLE_RATE = "2/min"
    api = token_client(user)
    assert [api.get(f"{BASE}/perspectives/").status_code for _ in range(4)] == [200, 200, 429, 429]
    wait = int(api.get(f"{BASE}/perspectives/")["Retry-After"])
    assert 0 < wait <= 120
    clock.advance(wait)  # Django's clock: the window moves on without a sleep
    assert api.get(f"{BASE}/perspectives/").status_code == 200


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_exports_have_a_budget_of_their_own(user, nara, settings, fmt):
    settings.STYRKORT_API_THROTTLE_RATE = "100/min"
    settings.STYRKORT_API_EXPORT_THROTTLE_RATE = "2/hour"
    api = token_client(user)
    url = f"{BASE}/measurements/?org_unit=avp_pajala&format={fmt}"
    assert [api.get(url).status_code for _ in range(2)] == [200, 200]
    refused = api.get(url)
    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/json"  # an error is never a table
    assert int(refused["Retry-After"]) > 0
    # Reading pages of JSON goes on: only the exports are used up.
    assert api.get(f"{BASE}/measurements/?org_unit=avp_pajala").status_code == 200
    other = "xlsx" if fmt == "csv" else "csv"
    assert api.get(f"{BASE}/assessments/?format={other}").status_code == 429


# ------------------------------------------------------------------ across processes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def two_servers(transactional_db):
    """Two gunicorn processes on the test database, as two web replicas would be."""
    database = connection.settings_dict
    env = {
        key: os.environ[key] for key in ("PATH", "HOME", "LANG", "SECRET_KEY") if key in os.environ
    } | {
        "DATABASE_URL": (
            f"postgres://{database['USER'] or ''}@{database['HOST'] or '127.0.0.1'}:"
            f"{database['PORT'] or 5432}/{database['NAME']}"
        ),
        "CELERY_BROKER_URL": os.environ["CELERY_BROKER_URL"],
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "STYRKORT_API_THROTTLE_RATE": "20/day",
        "STYRKORT_LOG_LEVEL": "WARNING",
    }
    if database.get("PASSWORD"):
        env["PGPASSWORD"] = database["PASSWORD"]
    ports, processes = [free_port(), free_port()], []
    for port in ports:
        processes.append(
            subprocess.Popen(
                [
                    *(str(ROOT / ".venv/bin/gunicorn"), "config.wsgi:application"),
                    *("--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", "2"),
                ],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    try:
        for port, process in zip(ports, processes, strict=True):
            deadline = time.monotonic() + 60
            while True:
                assert process.poll() is None, "gunicorn stopped"
                try:
                    if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).ok:
                        break
                except (requests.ConnectionError, requests.Timeout):
                    # Not listening yet, or its first answer (imports, connections) slower
                    # than 5 s on a busy machine: ask again until the deadline.
                    pass
                assert time.monotonic() < deadline, f"gunicorn on {port} does not answer"
                time.sleep(0.2)
        yield [f"http://127.0.0.1:{port}" for port in ports]
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)


@pytest.mark.operations
def test_two_processes_and_two_tokens_share_one_budget(two_servers):
    user = get_user_model().objects.create_user("skript")
    keys = [create_token(user=user, name=name)[1] for name in ("a", "b")]
    # Every request goes to the other server and the other token than the one before, four
    # at a time: a count per process or per token would let all 40 through.
    jobs = [(two_servers[i % 2], keys[(i // 2) % 2]) for i in range(40)]

    def send(job):
        url, key = job
        response = requests.get(
            f"{url}{BASE}/perspectives/", headers={"Authorization": f"Token {key}"}, timeout=30
        )
        return response.status_code, response.headers.get("Retry-After")

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(send, jobs))
    passed = [a for a in answers if a[0] == 200]
    refused = [a for a in answers if a[0] == 429]
    assert len(passed) == 20, answers  # the budget, exactly
    assert len(refused) == 20
    assert all(retry is not None and int(retry) > 0 for _status, retry in refused)


# ------------------------------------------------------------------ streamed exports


def _many_rows(count: int) -> None:
    """`count` measurements and assessments of Nära's indicators and units, one per month."""
    indicators = list(Indicator.objects.order_by("pk")[:20])
    units = list(OrgUnit.objects.order_by("pk")[:10])
    months = [f"{year}-{month:02d}" for year in range(1900, 2000) for month in range(1, 13)]
    keys = (
        (indicator, unit, month) for month in months for indicator in indicators for unit in units
    )
    now = timezone.now()
    measurements, assessments = [], []
    for _ in range(count):
        indicator, unit, month = next(keys)
        measurements.append(
            Measurement(
                indicator=indicator,
                org_unit=unit,
                period=month,
                value=1234,
                comment="Kommentar som tar lite plats i exporten",
                updated_at=now,
            )
        )
        assessments.append(
            Assessment(
                indicator=indicator,
                org_unit=unit,
                period=month,
                computed_status="fulfilled",
                trend="up",
                details={"total": {"status": "fulfilled", "trend": "up", "threshold": "1"}},
                computed_at=now,
            )
        )
    Measurement.objects.bulk_create(measurements, batch_size=5000)
    Assessment.objects.bulk_create(assessments, batch_size=5000)


def _export_peak(api, resource: str) -> tuple[int, int]:
    """(rows, peak bytes allocated by Python) of one CSV export, read to its end."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        response = api.get(f"{BASE}/{resource}/?format=csv&period_from=1900&period_to=1999")
        assert response.status_code == 200
        chunks = response.streaming_content if response.streaming else [response.content]
        lines = sum(chunk.count(b"\n") for chunk in chunks)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return lines - 1, peak


@pytest.mark.parametrize("resource", ["measurements", "assessments"])
def test_a_csv_export_is_streamed_in_memory_that_does_not_grow_with_its_rows(
    user, nara, settings, resource
):
    settings.STYRKORT_API_THROTTLE_RATE = ""
    settings.STYRKORT_API_EXPORT_THROTTLE_RATE = ""
    api = token_client(user)
    _many_rows(3_000)
    small_rows, small_peak = _export_peak(api, resource)
    Measurement.objects.filter(period__lt="2000").delete()
    Assessment.objects.filter(period__lt="2000").delete()
    _many_rows(30_000)
    large_rows, large_peak = _export_peak(api, resource)
    assert (small_rows, large_rows) == (3_000, 30_000)
    print(f"{resource}: peak {small_peak / 2**20:.1f} MiB (3k), {large_peak / 2**20:.1f} MiB (30k)")
    # Ten times the rows, about the same memory: a chunk of rows at a time.
    assert large_peak < 2 * small_peak
    assert large_peak < 32 * 2**20


def test_the_streamed_csv_is_the_exchange_format_from_start_to_end(user, nara):
    api = token_client(user)
    response = api.get(f"{BASE}/measurements/?org_unit=div_nara&subtree=true&format=csv")
    assert response.streaming
    assert response["Content-Disposition"] == 'attachment; filename="measurements.csv"'
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.count("\n") == 1 + Measurement.objects.count()
