"""Imports have a time limit (issue 11, finding 2): soft, then hard. Each test starts a
worker of its own (on a Redis of its own) with a limit of a second or two, and sends it an
import that cannot finish: the test holds the lock imports are applied under. The limits
travel in the task's message, so the sender (here the test) has them set too.

At the soft limit the run is rolled back and the import failed with the reason; at the hard
limit (here the only one) the pool kills the process and the worker's main process says why.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from django.conf import settings as settings_module
from django.db import connection
from rest_framework.test import APIClient

from indicators.bulk import IMPORT_LOCK
from tests.indicators.conftest import csv_file, wait_for
from tests.indicators.test_faults import _connection_parameters, _wait_until_blocked, own_redis
from tests.indicators.test_import import snapshot
from tests.indicators.test_pipeline import broker_at

ROOT = Path(__file__).resolve().parents[2]
CHANGE = "telefon_teleq,div_nara,2022-T2,total,96,,,rättat\n"  # was 81

pytestmark = pytest.mark.worker


@contextmanager
def worker_with(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    """`celery worker` as production runs it, with `env` on top, on a Redis of its own;
    the app's producers point at that Redis meanwhile."""
    with connection.cursor():
        database = connection.settings_dict["NAME"]
    with own_redis() as redis, broker_at(redis.url):
        environment = {
            **os.environ,
            "DATABASE_URL": os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/" + database,
            "CELERY_BROKER_URL": redis.url,
            "CONN_MAX_AGE": "0",
            "MEDIA_ROOT": settings_module.MEDIA_ROOT,
            "STYRKORT_IMPORT_PROGRESS_SECONDS": "0.2",
            "PYTHONUNBUFFERED": "1",
            **env,
        }
        command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=prefork"]
        command += ["--concurrency=1", "--loglevel=INFO", "-n", "limits@%h"]
        command += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
        with log.open("wb") as out:
            process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=out, stderr=out)
        try:
            deadline = time.monotonic() + 60
            while "ready." not in log.read_text(errors="replace"):
                assert process.poll() is None, log.read_text()[-3000:]
                assert time.monotonic() < deadline, log.read_text()[-3000:]
                time.sleep(0.1)
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextmanager
def imports_held() -> Iterator[None]:
    """Hold the lock every import is applied under, from a connection of the test's own."""
    with psycopg.connect(**_connection_parameters(), autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", [IMPORT_LOCK])
        try:
            yield
        finally:
            holder.execute("SELECT pg_advisory_unlock(%s)", [IMPORT_LOCK])


def _send(user, tmp_path) -> int:
    api = APIClient()
    api.force_authenticate(user)
    with csv_file(tmp_path, CHANGE).open("rb") as handle:
        sent = api.post("/api/v1/imports/", {"file": handle}, format="multipart")
    assert sent.status_code == 202, sent.content
    return sent.json()["id"]


def _limits(settings, soft: int, hard: int) -> dict[str, str]:
    settings.STYRKORT_IMPORT_SOFT_TIME_LIMIT_SECONDS = soft
    settings.STYRKORT_IMPORT_TIME_LIMIT_SECONDS = hard
    return {
        "STYRKORT_IMPORT_SOFT_TIME_LIMIT_SECONDS": str(soft),
        "STYRKORT_IMPORT_TIME_LIMIT_SECONDS": str(hard),
    }


def test_the_soft_time_limit_rolls_the_import_back_and_says_why(
    transactional_db, cast, settings, tmp_path
):
    before = snapshot()
    env = _limits(settings, soft=1, hard=60)
    log = tmp_path / "worker.log"
    with worker_with(env, log) as worker, imports_held():
        pk = _send(cast["manager"], tmp_path)
        _wait_until_blocked()
        record = wait_for(pk, timeout=60)
        assert worker.poll() is None, log.read_text()[-3000:]
    assert record.status == "failed", record.errors
    assert record.errors == [
        {
            "row": 0,
            "column": "",
            "message": "Importen tog längre tid än gränsen på 1 s och avbröts; inget skrevs. "
            "Dela upp filen i mindre delar och skicka dem var för sig.",
        }
    ]
    assert record.finished_at is not None and record.error_count == 1
    assert snapshot() == before
    assert "Soft time limit (1s) exceeded" in log.read_text()


def test_the_hard_time_limit_kills_the_run_and_the_worker_says_why(
    transactional_db, cast, settings, tmp_path
):
    before = snapshot()
    env = _limits(settings, soft=0, hard=2)  # no soft limit: only the kill can stop it
    log = tmp_path / "worker.log"
    with worker_with(env, log) as worker, imports_held():
        pk = _send(cast["manager"], tmp_path)
        _wait_until_blocked()
        record = wait_for(pk, timeout=60)
        assert worker.poll() is None, log.read_text()[-3000:]  # the main process lives on
    assert record.status == "failed", record.errors
    assert record.errors[0]["message"] == (
        "Importen stoppades när den nått tidsgränsen (2 s); inget skrevs. Dela upp filen i "
        "mindre delar och skicka dem var för sig."
    )
    assert snapshot() == before
    assert "Hard time limit (2s) exceeded" in log.read_text()
