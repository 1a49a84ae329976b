"""/metrics: refused without the token, and an import's counters and durations in it (on
the session's real worker: one worker per session, so these tests live beside the pipeline's)."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families
from rest_framework.test import APIClient

from tests.indicators.conftest import csv_file, wait_for

TOKEN = "metrics-test-token-0123456789"
ROWS = (
    "telefon_teleq,div_nara,1999-01,total,91,,,\n"
    "telefon_teleq,div_nara,1999-02,total,92,,,\n"
    "telefon_teleq,div_nara,1999-03,total,93,,,\n"
)


@pytest.fixture
def metrics_token(settings) -> str:
    settings.STYRKORT_METRICS_TOKEN = TOKEN
    settings.STYRKORT_METRICS_ALLOWED_NETWORKS = []
    return TOKEN


def scrape(client, token: str = TOKEN) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


def test_no_token_configured_means_no_endpoint(client, settings, db):
    settings.STYRKORT_METRICS_TOKEN = ""
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404


def test_an_unauthorised_scrape_is_refused(client, metrics_token, settings, db):
    # No login needed (LoginRequiredMiddleware would redirect), but the token is.
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer not-the-token"})
    assert wrong.status_code == 401 and b"styrkort_" not in wrong.content
    assert client.get("/metrics", headers={"Authorization": f"Token {TOKEN}"}).status_code == 401
    settings.STYRKORT_METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    outside = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert outside.status_code == 403
    settings.STYRKORT_METRICS_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_a_scrape_after_an_import_shows_its_counts_durations_and_rows(
    cast, worker, client, metrics_token, tmp_path
):
    api = APIClient()
    api.force_authenticate(cast["manager"])
    with csv_file(tmp_path, ROWS).open("rb") as handle:
        sent = api.post("/api/v1/imports/", {"file": handle}, format="multipart")
    assert sent.status_code == 202, sent.content
    record = wait_for(sent.json()["id"])
    assert record.status == "succeeded" and record.created == 3

    samples = scrape(client)

    assert value(samples, "styrkort_imports", status="succeeded", source="api") == 1
    assert value(samples, "styrkort_import_duration_seconds_count", outcome="succeeded") >= 1
    assert value(samples, "styrkort_import_duration_seconds_bucket", outcome="succeeded", le="+Inf")
    assert value(samples, "styrkort_import_duration_seconds_sum", outcome="succeeded") > 0
    # The demo measurements of the `nara` fixture came in through the command line first.
    created = value(samples, "styrkort_import_rows_total", outcome="created")
    assert created >= 3 and value(samples, "styrkort_import_rows_total", outcome="rejected") == 0
    assert value(samples, "styrkort_import_queue_length") == 0
    assert value(samples, "styrkort_import_oldest_queued_age_seconds") == 0
    # The upload itself, counted and timed by view.
    upload = {"view": "import-list", "method": "POST"}
    assert value(samples, "styrkort_http_requests_total", status="202", **upload) >= 1
    assert value(samples, "styrkort_http_request_duration_seconds_count", **upload) >= 1
    assert value(samples, "styrkort_http_request_db_queries_count", view="import-list") >= 1
    # The worker that ran it answers and recorded the task's success in Redis.
    assert value(samples, "styrkort_celery_workers_responding") >= 1
    task = "indicators.tasks.process_import"
    assert value(samples, "styrkort_celery_task_last_success_age_seconds", task=task) < 120


def test_waiting_and_failed_imports_show_in_the_queue_and_duration_figures(
    client, metrics_token, cast, settings
):
    from datetime import timedelta

    from django.utils import timezone

    from indicators.models import Import, ImportSource

    settings.STYRKORT_METRICS_WORKER_PING_SECONDS = 0
    waited = timezone.now() - timedelta(minutes=5)
    Import.objects.create(
        filename="a.csv", sha256="a" * 64, size=1, source=ImportSource.UPLOAD,
        received_at=waited, enqueued_at=waited,
    )  # fmt: skip
    Import.objects.create(
        filename="b.csv", sha256="b" * 64, size=1, source=ImportSource.INBOX, status="failed",
        rejected=2, started_at=waited, finished_at=waited + timedelta(seconds=7),
    )  # fmt: skip
    Import.objects.filter(sha256="b" * 64).update(started_at=waited)  # auto_now_add
    samples = scrape(client)
    failed = {"name": "styrkort_import_duration_seconds_bucket", "outcome": "failed"}
    assert value(samples, **failed, le="5.0") == 0 and value(samples, **failed, le="15.0") == 1
    assert value(samples, "styrkort_import_duration_seconds_sum", outcome="failed") == 7
    assert value(samples, "styrkort_import_rows_total", outcome="rejected") == 2
    assert value(samples, "styrkort_import_queue_length") == 1
    assert 290 < value(samples, "styrkort_import_oldest_queued_age_seconds") < 400
    assert value(samples, "styrkort_imports", status="queued", source="upload") == 1
    assert ("styrkort_celery_workers_responding", ()) not in samples
