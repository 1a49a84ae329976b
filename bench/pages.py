"""Server time of the dashboard's pages beside the raw SQL they need, measured in one run.

    DATABASE_URL=postgres://127.0.0.1:5432/styrkort_bench_pages SECRET_KEY=x \\
        .venv/bin/python manage.py load_demo --synthetic --divisions 10 --areas 5 \\
        --units 8 --indicators 30 --years 8          # 5.3 million measurements, once
    DATABASE_URL=... SECRET_KEY=x .venv/bin/python bench/pages.py [--runs 30]

For each page (the region overview, a division scorecard, an indicator page):

- page: the time of the whole request through Django's test client, in process (every
  middleware, the session, the view, the selectors, the Plotly figures, the template), as
  the median of --runs requests after a warm-up;
- raw SQL: the very statements that request sent to the database (captured once, with
  their parameters inlined as Django logs them), replayed through a plain cursor with their
  rows fetched, the median of --runs replays. Page and replay alternate, so both see the same
  caches and the same machine load.

Each page twice: as readers get it, from the page cache while the data has not changed
(dashboard/page_cache.py), and rendered in full, as the first reader after a change gets it.

Target (issue 13): each page's median as readers get it within 2 x its raw SQL time + 20 ms;
the rendered figures are printed for the record. Exits non-zero when a page misses it.
`make bench` (bench/run.py) runs it three times per data set size.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from bench.common import Result  # noqa: E402
from divisions.models import OrgUnit  # noqa: E402
from domain.periods import Period  # noqa: E402
from indicators.models import Assessment, Measurement  # noqa: E402

RATIO = 2
SLACK_MS = 20


def pages(division_code: str | None, period: str | None) -> list[tuple[str, str]]:
    division = (
        OrgUnit.objects.get(code=division_code)
        if division_code
        else OrgUnit.objects.filter(kind="division", code__startswith="syn_div_").first()
        or OrgUnit.objects.filter(kind="division").first()
    )
    # The division's newest tertial: the board's pages are read per tertial.
    periods = Assessment.objects.filter(org_unit=division).values_list("period", flat=True)
    tertials = sorted({p for p in periods.distinct() if "-T" in p}, key=Period.sort_key)
    period = period or (tertials[-1] if tertials else None)
    if period is None:
        sys.exit(f"{division.code} has no assessed tertial: load the data first")
    assessment = (
        Assessment.objects.filter(org_unit=division, period=period)
        .select_related("indicator")
        .order_by("indicator__code")
        .first()
    )
    if assessment is None:
        sys.exit(f"{division.code} has no assessed indicator in {period}: load the data first")
    return [
        ("overview", f"/oversikt/{period}/"),
        ("division scorecard", f"/styrkort/{division.code}/{period}/"),
        ("indicator page", f"/styrmatt/{assessment.indicator.code}/{division.code}/{period}/"),
    ]


def board_member_client() -> Client:
    user, _ = get_user_model().objects.get_or_create(username="bench.ledamot")
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    return client


def replay(statements: list[str]) -> float:
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)
            if cursor.description is not None:
                cursor.fetchall()
    return time.perf_counter() - started


def measure(client: Client, url: str, runs: int, *, cached: bool = True) -> dict:
    """The page as readers get it (cached: rendered once per data version) or as the first
    reader after a change does (rendered in full each time)."""
    settings.STYRKORT_PAGE_CACHE = cached
    for _ in range(3):  # warm-up: caches, connection, templates
        assert client.get(url).status_code == 200, url
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    statements = [q["sql"] for q in captured.captured_queries]
    page_times, sql_times = [], []
    for _ in range(runs):
        started = time.perf_counter()
        client.get(url)
        page_times.append(time.perf_counter() - started)
        sql_times.append(replay(statements))
    page_ms = statistics.median(page_times) * 1000
    sql_ms = statistics.median(sql_times) * 1000
    limit = RATIO * sql_ms + SLACK_MS
    return {
        "url": url,
        "queries": len(statements),
        "bytes": len(response.content),
        "page_ms": page_ms,
        "sql_ms": sql_ms,
        "limit_ms": limit,
        "ok": page_ms <= limit,
    }


def run(runs: int = 30, division: str | None = None, period: str | None = None) -> list[Result]:
    """Each page's median beside its raw SQL's, as bench/run.py tabulates them."""
    settings.ALLOWED_HOSTS = ["localhost"]
    client = board_member_client()
    results = []
    for name, url in pages(division, period):
        for cached, label, target in (
            (True, name, f"<= {RATIO}x + {SLACK_MS} ms"),
            (False, f"{name}, rendered", "(first read)"),
        ):
            measured = measure(client, url, runs, cached=cached)
            results.append(
                Result(
                    name=f"page: {label} ({measured['queries']} queries)",
                    unit="ms",
                    figure=measured["page_ms"],
                    baseline=measured["sql_ms"],
                    baseline_name="its raw SQL",
                    target=target,
                    met=measured["ok"],
                )
            )
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--division", help="division code (default: the first synthetic one)")
    parser.add_argument("--period", help="period code (default: the newest tertial with data)")
    args = parser.parse_args()
    settings.ALLOWED_HOSTS = ["localhost"]
    measurements = Measurement.objects.count()
    client = board_member_client()
    print(
        f"{measurements:,} measurements; {args.runs} runs per page; "
        f"database {connection.settings_dict['NAME']}"
    )
    print(
        f"{'page':<30} {'queries':>7} {'page ms':>8} {'raw SQL ms':>10} "
        f"{'limit ms':>8}  verdict  url"
    )
    failed = False
    for name, url in pages(args.division, args.period):
        for cached in (True, False):
            result = measure(client, url, args.runs, cached=cached)
            failed |= cached and not result["ok"]
            print(
                f"{name + ('' if cached else ', rendered'):<30} {result['queries']:>7} "
                f"{result['page_ms']:>8.1f} {result['sql_ms']:>10.1f} {result['limit_ms']:>8.1f}"
                f"  {'ok' if result['ok'] else 'MISSED':<7}  {url}"
            )
    print(
        f"limit = {RATIO} x raw SQL + {SLACK_MS} ms, for the pages as readers get them (from "
        "the page cache while the data is unchanged); 'rendered': the first read after a "
        "change, for the record"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
