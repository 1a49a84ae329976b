"""Prometheus metrics at /metrics, for a bearer token only.

Two kinds of figures, chosen by where the truth lives:

- Requests (count, latency, database queries per view) happen in the web processes. They
  are prometheus-client counters; gunicorn runs several processes, so with
  PROMETHEUS_MULTIPROC_DIR set each process writes its own files there and a scrape adds
  them up (prometheus-client's multiprocess mode; gunicorn.conf.py empties the directory
  at start).
- Imports and the queue are read from the Import records at scrape time, not counted in
  the processes that run them: the web receives, a worker runs, the sweep requeues, and
  the database already knows every outcome, duration and row count. A restarted process
  loses nothing and no process has to report to another.

Celery liveness comes from timestamps in Redis (config/heartbeats.py) and a ping of the
workers at scrape time.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import time
from collections.abc import Iterator
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db.models import Count, DurationField, ExpressionWrapper, F, Min, Q, Sum
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.utils import floatToGoString

from config import heartbeats
from indicators.models import Import, ImportStatus

logger = logging.getLogger(__name__)

# --- requests (counted in the web processes) ----------------------------------------------

REQUESTS = Counter(
    "styrkort_http_requests", "HTTP requests answered, by view, method and status.",
    ["view", "method", "status"],
)  # fmt: skip
REQUEST_SECONDS = Histogram(
    "styrkort_http_request_duration_seconds", "Time to answer a request, by view.",
    ["view", "method"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)  # fmt: skip
REQUEST_QUERIES = Histogram(
    "styrkort_http_request_db_queries", "Database queries made by one request, by view.",
    ["view"],
    buckets=(0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000),
)  # fmt: skip


def observe_request(*, view: str, method: str, status: int, seconds: float, queries: int) -> None:
    REQUESTS.labels(view, method, str(status)).inc()
    REQUEST_SECONDS.labels(view, method).observe(seconds)
    REQUEST_QUERIES.labels(view).observe(queries)


# --- imports and the queue (read from the database) ---------------------------------------

DURATION_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600)
# The outcomes whose duration is the work's: a discarded preview's includes a person's wait.
TIMED_OUTCOMES = (ImportStatus.SUCCEEDED, ImportStatus.FAILED, ImportStatus.PREVIEWED)
ROW_OUTCOMES = ("created", "changed", "unchanged", "rejected")


def import_metrics(now: float | None = None) -> Iterator[Metric]:
    now = time.time() if now is None else now
    by_status = GaugeMetricFamily(
        "styrkort_imports", "Import records by status and source.", labels=["status", "source"]
    )
    rows = Import.objects.values("status", "source").annotate(n=Count("pk")).order_by()
    for row in rows:
        by_status.add_metric([row["status"], row["source"]], row["n"])
    yield by_status

    durations = HistogramMetricFamily(
        "styrkort_import_duration_seconds",
        "From a worker's start on an import to its outcome, by outcome.",
        labels=["outcome"],
    )
    duration = ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField())
    buckets = {
        f"le_{i}": Count("pk", filter=Q(duration__lte=timedelta(seconds=bound)))
        for i, bound in enumerate(DURATION_BUCKETS)
    }
    finished = (
        Import.objects.filter(status__in=TIMED_OUTCOMES, finished_at__isnull=False)
        .annotate(duration=duration)
        .values("status")
        .annotate(count=Count("pk"), total=Sum("duration"), **buckets)
        .order_by()
    )
    for row in finished:
        cumulative = [(floatToGoString(b), row[f"le_{i}"]) for i, b in enumerate(DURATION_BUCKETS)]
        cumulative.append(("+Inf", row["count"]))
        total = row["total"].total_seconds() if row["total"] else 0.0
        durations.add_metric([row["status"]], cumulative, sum_value=total)
    yield durations

    row_totals = CounterMetricFamily(
        "styrkort_import_rows",
        "Rows of finished imports by outcome (created, changed, unchanged; rejected rows "
        "of failed files).",
        labels=["outcome"],
    )
    sums = Import.objects.filter(
        status__in=(ImportStatus.SUCCEEDED, ImportStatus.FAILED)
    ).aggregate(**{name: Sum(name) for name in ROW_OUTCOMES})
    for name in ROW_OUTCOMES:
        row_totals.add_metric([name], sums[name] or 0)
    yield row_totals

    queued = Import.objects.filter(status=ImportStatus.QUEUED).aggregate(
        n=Count("pk"), oldest=Min(Coalesce("enqueued_at", "received_at"))
    )
    yield GaugeMetricFamily(
        "styrkort_import_queue_length", "Imports waiting for a worker.", value=queued["n"]
    )
    oldest = queued["oldest"]
    yield GaugeMetricFamily(
        "styrkort_import_oldest_queued_age_seconds",
        "How long the longest-waiting queued import has waited (0: none waiting).",
        value=max(0.0, now - oldest.timestamp()) if oldest else 0.0,
    )


# --- Celery liveness ------------------------------------------------------------------------


def celery_metrics(now: float | None = None) -> Iterator[Metric]:
    now = time.time() if now is None else now
    stamps = heartbeats.read_all()
    beat = stamps.get(heartbeats.BEAT)
    if beat is not None:
        yield GaugeMetricFamily(
            "styrkort_celery_beat_heartbeat_age_seconds",
            "Seconds since Celery beat last sent its heartbeat task.",
            value=max(0.0, now - beat),
        )
    successes = GaugeMetricFamily(
        "styrkort_celery_task_last_success_timestamp_seconds",
        "When a task last succeeded, by task name (absent until it has once).",
        labels=["task"],
    )
    ages = GaugeMetricFamily(
        "styrkort_celery_task_last_success_age_seconds",
        "Seconds since a task last succeeded, by task name.",
        labels=["task"],
    )
    for name, stamp in sorted(stamps.items()):
        if name.startswith(heartbeats.TASK_SUCCESS_PREFIX):
            task = name.removeprefix(heartbeats.TASK_SUCCESS_PREFIX)
            successes.add_metric([task], stamp)
            ages.add_metric([task], max(0.0, now - stamp))
    yield successes
    yield ages
    timeout = settings.STYRKORT_METRICS_WORKER_PING_SECONDS
    if settings.CELERY_BROKER_URL and timeout > 0:
        from config.celery import app

        try:
            answers = app.control.ping(timeout=timeout)
        except Exception as exc:  # the broker is down: no worker can be reached either
            logger.warning("worker ping failed: %s", exc)
            answers = []
        yield GaugeMetricFamily(
            "styrkort_celery_workers_responding",
            "Celery workers that answered a ping during this scrape.",
            value=len(answers),
        )


class _DatabaseCollector:
    def collect(self) -> Iterator[Metric]:
        now = time.time()
        yield from import_metrics(now)
        yield from celery_metrics(now)


def render() -> bytes:
    """Every metric in Prometheus's text format."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        process_registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(process_registry)
    else:
        process_registry = REGISTRY
    read_now = CollectorRegistry(auto_describe=False)
    read_now.register(_DatabaseCollector())
    return generate_latest(process_registry) + generate_latest(read_now)


# --- the endpoint ---------------------------------------------------------------------------


def _from_allowed_network(request: HttpRequest) -> bool:
    networks = settings.STYRKORT_METRICS_ALLOWED_NETWORKS
    if not networks:
        return True
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(net, strict=False) for net in networks)


def _has_token(request: HttpRequest, token: str) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )


@login_not_required  # the scraper has no session; the token is its login
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    token = settings.STYRKORT_METRICS_TOKEN
    if not token:  # off until a token is set: nothing to scrape, nothing to guess
        raise Http404
    if not _from_allowed_network(request):
        return HttpResponse("Forbidden\n", status=403, content_type="text/plain")
    if not _has_token(request, token):
        return HttpResponse(
            "A bearer token is required.\n",
            status=401,
            content_type="text/plain",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    return HttpResponse(render(), content_type=CONTENT_TYPE_LATEST)
