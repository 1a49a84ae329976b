"""The beat task through a real Celery worker, against the local Kolada."""

from __future__ import annotations

import time

from django.conf import settings

from benchmarks.models import BenchmarkSync, BenchmarkValue
from config.celery import app as celery_app
from indicators.models import Indicator
from tests.benchmarks.conftest import QUEUE


def test_beat_schedules_the_sync_daily():
    entry = settings.CELERY_BEAT_SCHEDULE["sync-benchmarks"]
    assert entry["task"] == "benchmarks.tasks.sync_benchmarks"
    assert entry["schedule"] == 24 * 60 * 60
    assert entry["task"] in celery_app.tasks


def test_the_beat_task_syncs_in_a_real_worker(benchmarks_worker, transactional_db):
    Indicator.objects.create(
        code="bedomning_3d", name="b", unit="percent", direction="increase", kolada_kpi="N79173"
    )
    # As beat sends it: by name, no arguments (to the test worker's own queue).
    celery_app.send_task("benchmarks.tasks.sync_benchmarks", queue=QUEUE)
    deadline = time.monotonic() + 60
    while not BenchmarkSync.objects.exists():
        assert time.monotonic() < deadline, benchmarks_worker.output()
        time.sleep(0.2)
    log = BenchmarkSync.objects.get()
    # The worker's settings: Norrbotten, the country and the default peers 0022-0024; the
    # recording has 2020-2022, inside the default ten years.
    assert log.outcome == "changed" and log.errors == []
    assert log.created == 45
    assert BenchmarkValue.objects.get(kpi_id="N79173", area="0025", year=2022, gender="T").value
