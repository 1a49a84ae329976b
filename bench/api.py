"""API throughput under gunicorn, beside a trivial endpoint of the same app in the same run.

    DATABASE_URL=postgres://127.0.0.1:5432/styrkort_bench5m SECRET_KEY=x \\
        .venv/bin/python bench/api.py [--seconds 15] [--workers 2] [--clients 4]

The database must be migrated and hold the synthetic data set; the README's API section
gives the `load_demo --synthetic` sizes for 5 million measurements. The script creates an
analyst `bench.api` with a token, starts gunicorn on a free loopback port with persistent
database connections (CONN_MAX_AGE) and no throttling, and for each endpoint sends requests
from `--clients` threads for `--seconds` seconds (bounded: it stops by itself). It prints
requests/s per endpoint and the ratio to the trivial endpoint (/healthz: one SELECT 1
through the whole middleware stack).
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
TARGET_RATIO = 0.15  # a page of 100 measurements vs the trivial endpoint (issue #5)


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def bench_token_and_indicator() -> tuple[str, str, int]:
    """A token of an analyst, the busiest indicator's code, and its number of rows."""
    from django.contrib.auth import get_user_model
    from django.db.models import Count

    from accounts.services import create_token
    from divisions.models import Role, RoleAssignment
    from indicators.models import Measurement

    user, _ = get_user_model().objects.get_or_create(username="bench.api")
    RoleAssignment.objects.get_or_create(user=user, role=Role.ANALYST, org_unit=None)
    user.api_tokens.update(revoked_at=None)  # keep earlier runs' tokens from piling up
    _token, key = create_token(user=user, name="bench/api.py")
    busiest = (
        Measurement.objects.filter(indicator__code__startswith="syn_div_01")
        .values("indicator__code")
        .annotate(rows=Count("id"))
        .order_by("-rows", "indicator__code")
        .first()
    ) or Measurement.objects.values("indicator__code").annotate(rows=Count("id")).first()
    if busiest is None:
        raise SystemExit("No measurements: load the synthetic data set first (see README).")
    return key, busiest["indicator__code"], busiest["rows"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(port: int, workers: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "STYRKORT_API_THROTTLE_RATE": "",  # measure the API, not the throttle's refusals
        "STYRKORT_API_EXPORT_THROTTLE_RATE": "",
        "CONN_MAX_AGE": os.environ.get("CONN_MAX_AGE", "600"),
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
    }
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "config.wsgi",
        f"--workers={workers}",
        f"--bind=127.0.0.1:{port}",
        "--log-level=warning",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if get(port, "/healthz", {})[0] == 200:
                return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit("gunicorn did not answer /healthz within 30 s")


def get(port: int, path: str, headers: dict[str, str]) -> tuple[int, int]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        # As nginx forwards it in production (SECURE_SSL_REDIRECT would answer 301 otherwise).
        connection.request("GET", path, headers={"X-Forwarded-Proto": "https", **headers})
        response = connection.getresponse()
        body = response.read()
        return response.status, len(body)
    finally:
        connection.close()


def load(port: int, path: str, headers: dict, seconds: float, clients: int) -> dict:
    """Requests/s of `clients` threads sending requests back to back for `seconds`."""
    status, size = get(port, path, headers)  # warm up, and check the answer
    if status != 200:
        raise SystemExit(f"{path} answered {status}")
    counts = [0] * clients
    errors = [0] * clients
    stop = time.monotonic() + seconds

    def client(index: int) -> None:
        while time.monotonic() < stop:
            status, _ = get(port, path, headers)
            if status == 200:
                counts[index] += 1
            else:
                errors[index] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    return {
        "rps": sum(counts) / elapsed,
        "requests": sum(counts),
        "errors": sum(errors),
        "bytes": size,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="per endpoint")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--clients", type=int, default=4, help="concurrent client threads")
    args = parser.parse_args()
    if not 1 <= args.seconds <= 120:
        raise SystemExit("--seconds must be between 1 and 120")
    setup_django()
    from django.db import connection

    from indicators.models import Measurement

    with connection.cursor() as cursor:
        # Fresh planner statistics, as after any bulk load (the plans differ wildly without).
        cursor.execute("ANALYZE")
    key, indicator, indicator_rows = bench_token_and_indicator()
    total = Measurement.objects.count()
    connection.close()
    auth = {"Authorization": f"Token {key}"}
    endpoints = [
        ("trivial: GET /healthz", "/healthz", {}),
        ("measurements, page of 100", "/api/v1/measurements/?page_size=100", auth),
        ("measurements, page of 500", "/api/v1/measurements/?page_size=500", auth),
        (
            f"measurements of {indicator}, page of 100",
            f"/api/v1/measurements/?indicator={indicator}&page_size=100",
            auth,
        ),
        (
            f"CSV export of {indicator} ({indicator_rows:,} rows)",
            f"/api/v1/measurements/?indicator={indicator}&format=csv",
            auth,
        ),
    ]
    port = free_port()
    database = urlparse(os.environ.get("DATABASE_URL", "sqlite")).path.strip("/") or "sqlite"
    print(
        f"database {database}: {total:,} measurements; gunicorn {args.workers} workers, "
        f"{args.clients} clients, {args.seconds:g} s per endpoint, CONN_MAX_AGE="
        f"{os.environ.get('CONN_MAX_AGE', '600')}"
    )
    server = start_gunicorn(port, args.workers)
    try:
        results = [
            (name, load(port, path, headers, args.seconds, args.clients))
            for name, path, headers in endpoints
        ]
    finally:
        server.terminate()
        server.wait(timeout=30)
    trivial = results[0][1]["rps"]
    print(f"{'endpoint':58} {'req/s':>9} {'ratio':>7} {'bytes':>10} {'errors':>6}")
    for name, result in results:
        print(
            f"{name:58} {result['rps']:9.1f} {result['rps'] / trivial:7.3f} "
            f"{result['bytes']:10,} {result['errors']:6}"
        )
    ratio = results[1][1]["rps"] / trivial
    verdict = "meets" if ratio >= TARGET_RATIO else "MISSES"
    print(f"page of 100 / trivial = {ratio:.3f}: {verdict} the target of {TARGET_RATIO}")


if __name__ == "__main__":
    main()
