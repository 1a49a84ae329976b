"""API throughput under gunicorn, beside a trivial endpoint of the same app in the same run.

    DATABASE_URL=postgres://127.0.0.1:5432/styrkort_bench5m SECRET_KEY=x \\
        .venv/bin/python bench/api.py [--seconds 12] [--workers 2] [--clients 4]

The database must be migrated and hold the synthetic data set; the README's API section
gives the `load_demo --synthetic` sizes for 5 million measurements. The script creates an
analyst `bench.api` with a token, starts gunicorn on a free loopback port with persistent
database connections (CONN_MAX_AGE) and no throttling, and sends requests to each endpoint
from `--clients` threads, in short rounds that take the endpoints in turn (so that a change
in the machine's load falls on all of them alike) for about `--seconds` per endpoint; it
stops by itself. Per endpoint: the median requests/s of its rounds, and the median ratio
to the trivial endpoint (/healthz: one SELECT 1 through the whole middleware stack) and to
the unfiltered page of the same round.

Targets (issue 13): a page of 100 at 0.3 x /healthz or better. A filtered page must not
cost what a poor plan costs (once: reading the table in id order until the page was full,
seconds at 5 million values, and half the unfiltered page's rate at best): its statement reads
no more than READ_PAGES pages' worth of values (EXPLAIN ANALYZE of the page's own statement,
rows returned and rows its filters passed over), and it serves at least FILTERED_RATIO of
the unfiltered page's requests/s. Not 1.0: the filter is work the unfiltered page does not
do (its form, its WHERE clause compiled, its code found by the statement), about 0.2 ms of a
2 ms request; even with the whole filtered queryset memoised the pages ran at 0.91-1.01.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Result, get, median, setup_django, start_gunicorn, stop

TARGET_RATIO = 0.3  # a page of 100 measurements vs the trivial endpoint (issue 13)
FILTERED_RATIO = 0.8  # a filtered page vs the unfiltered one (see above)
READ_PAGES = 10  # rows of the value table a page's statement may read, in pages
PAGE_SIZE = 100
ROUND_SECONDS = 1.5


def bench_token() -> str:
    from django.contrib.auth import get_user_model

    from accounts.services import create_token
    from divisions.models import Role, RoleAssignment

    user, _ = get_user_model().objects.get_or_create(username="bench.api")
    RoleAssignment.objects.get_or_create(user=user, role=Role.ANALYST, org_unit=None)
    user.api_tokens.update(revoked_at=None)  # keep earlier runs' tokens from piling up
    _token, key = create_token(user=user, name="bench/api.py")
    return key


def filters() -> list[tuple[str, str]]:
    """(name, query) of the filtered pages: one indicator, one org unit, recent changes."""
    from django.db import connection

    with connection.cursor() as cursor:
        # The newest rows: an indicator and unit whose values sit at the end of the id order
        # (the case that once read the whole table), and the time of the newest 0.1 %.
        cursor.execute(
            "SELECT i.code, o.code FROM indicators_measurement m JOIN indicators_indicator i "
            "ON i.id = m.indicator_id JOIN divisions_orgunit o ON o.id = m.org_unit_id "
            "ORDER BY m.id DESC LIMIT 1"
        )
        row = cursor.fetchone()
        if row is None:
            raise SystemExit("No measurements: load the synthetic data set first (see README).")
        indicator, unit = row
        cursor.execute("SELECT max(id) - min(id) FROM indicators_measurement")
        span = cursor.fetchone()[0] or 0
        cursor.execute(
            "SELECT updated_at FROM indicators_measurement WHERE id <= "
            "(SELECT max(id) FROM indicators_measurement) - %s ORDER BY id DESC LIMIT 1",
            [span // 1000],
        )
        since = cursor.fetchone()
    result = [
        ("one indicator", f"indicator={indicator}"),
        ("one org unit", f"org_unit={unit}"),
    ]
    if since is not None:
        stamp = since[0].strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        result.append(("updated_since (newest values)", f"updated_since={stamp}"))
    return result


def rows_read(path: str, key: str) -> int:
    """Rows of the value table the statement of a page reads (returned, and passed over by
    its filters), by EXPLAIN ANALYZE of the statement the page ran, in this process."""
    import json

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_AUTHORIZATION=f"Token {key}", HTTP_HOST="127.0.0.1")
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, secure=True)
    if response.status_code != 200:
        raise SystemExit(f"{path} answered {response.status_code}")
    table = "indicators_measurement"
    statements = [
        q["sql"] for q in queries if f'FROM "{table}"' in q["sql"] and "LIMIT" in q["sql"]
    ]
    if len(statements) != 1:
        raise SystemExit(f"{path}: expected one page statement, found {len(statements)}")
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + statements[0])
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan

    def read(node: dict) -> float:
        own = 0.0
        if node.get("Relation Name") == table:
            passed = node.get("Rows Removed by Filter", 0) + node.get(
                "Rows Removed by Index Recheck", 0
            )
            own = (node["Actual Rows"] + passed) * node["Actual Loops"]
        return own + sum(read(child) for child in node.get("Plans", ()))

    return round(read(plan[0]["Plan"]))


def load(port: int, path: str, headers: dict, seconds: float, clients: int) -> float:
    """Requests/s of `clients` threads sending requests back to back for `seconds`."""
    counts = [0] * clients
    errors = [0] * clients
    stop_at = time.monotonic() + seconds

    def client(index: int) -> None:
        while time.monotonic() < stop_at:
            status, _size, _headers = get(port, path, headers)
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
    if sum(errors):
        raise SystemExit(f"{path}: {sum(errors)} requests failed")
    return sum(counts) / (time.monotonic() - started)


def run(seconds: float = 12.0, workers: int = 2, clients: int = 4) -> list[Result]:
    """The API's figures against /healthz and the unfiltered page, as bench/run.py
    tabulates them (Django must be set up)."""
    from django.db import connection

    with connection.cursor() as cursor:
        # Fresh planner statistics, as after any bulk load (the plans differ wildly without).
        cursor.execute("ANALYZE indicators_measurement")
    key = bench_token()
    filtered = filters()
    base = f"/api/v1/measurements/?page_size={PAGE_SIZE}"
    read = {name: rows_read(f"{base}&{query}", key) for name, query in filtered}
    connection.close()
    auth = {"Authorization": f"Token {key}"}
    endpoints = [
        ("healthz", "/healthz", {}),
        ("page", base, auth),
        *((name, f"{base}&{query}", auth) for name, query in filtered),
    ]
    from bench.common import free_port

    port = free_port()
    server = start_gunicorn(port, workers)
    rates: dict[str, list[float]] = {name: [] for name, _p, _h in endpoints}
    try:
        for _name, path, headers in endpoints:  # warm up, and check the answers
            status, _size, _headers = get(port, path, headers)
            if status != 200:
                raise SystemExit(f"{path} answered {status}")
        rounds = max(2, round(seconds / ROUND_SECONDS))
        for _ in range(rounds):
            for name, path, headers in endpoints:
                rates[name].append(load(port, path, headers, ROUND_SECONDS, clients))
    finally:
        stop(server)
    page_ratios = [p / h for p, h in zip(rates["page"], rates["healthz"], strict=True)]
    results = [
        Result(
            name="API: page of 100 (req/s)",
            unit="req/s",
            figure=median(rates["page"]),
            baseline=median(rates["healthz"]),
            baseline_name="/healthz",
            target=f">= {TARGET_RATIO}x",
            met=median(page_ratios) >= TARGET_RATIO,
        )
    ]
    for name, _query in filtered:
        ratios = [f / p for f, p in zip(rates[name], rates["page"], strict=True)]
        results.append(
            Result(
                name=f"API: page of 100, {name} (req/s)",
                unit="req/s",
                figure=median(rates[name]),
                baseline=median(rates["page"]),
                baseline_name="unfiltered page",
                target=f">= {FILTERED_RATIO}x",
                met=median(ratios) >= FILTERED_RATIO,
            )
        )
        results.append(
            Result(
                name=f"API: {name}: rows the page reads",
                unit="rows",
                figure=read[name],
                baseline=PAGE_SIZE + 1,
                baseline_name="rows of a page",
                target=f"<= {READ_PAGES}x",
                met=read[name] <= READ_PAGES * (PAGE_SIZE + 1),
            )
        )
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=12.0, help="per endpoint")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--clients", type=int, default=4, help="concurrent client threads")
    args = parser.parse_args()
    if not 1 <= args.seconds <= 120:
        raise SystemExit("--seconds must be between 1 and 120")
    setup_django()
    database = urlparse(os.environ.get("DATABASE_URL", "sqlite")).path.strip("/") or "sqlite"
    print(f"database {database}; gunicorn {args.workers} workers, {args.clients} clients")
    results = run(args.seconds, args.workers, args.clients)
    print(f"{'figure':56} {'value':>9} {'baseline':>9} {'ratio':>6}  target   verdict")
    for r in results:
        print(
            f"{r.name:56} {r.figure:9.1f} {r.baseline:9.1f} {r.ratio:6.2f}  {r.target:8} "
            f"{'met' if r.met else 'MISSED'}"
        )
    return 0 if all(r.met for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
