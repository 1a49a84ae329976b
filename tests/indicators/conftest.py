"""Fixtures of the import pipeline: a real Celery worker on Redis and folders.

The worker is started once per session, as production runs it (`celery -A config worker`,
prefork with one child), against the test database and the test's Redis database. Tests
that use it need committed data: `transactional_db`. A worker that does not start fails
those tests; it never skips them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import pytest
from django.db import connection

from config.celery import app as celery_app
from divisions.models import OrgUnit
from indicators.models import Import, ImportStatus

ROOT = Path(__file__).resolve().parents[2]
STALE_SECONDS = 4  # the worker's STYRKORT_IMPORT_STALE_SECONDS: a killed run is retried soon
HEADER = "indicator,org_unit,period,breakdown,value,numerator,denominator,comment\n"


@dataclass
class Worker:
    process: subprocess.Popen
    name: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-6000:]


@pytest.fixture(scope="session")
def import_folders(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("imports")
    folders = {"media": base / "media", "inbox": base / "inbox"}
    for path in folders.values():
        path.mkdir()
    return folders


@pytest.fixture(autouse=True)
def _import_settings(settings, import_folders) -> None:
    """Uploaded files and the inbox in the session's folders (the worker uses the same)."""
    settings.MEDIA_ROOT = str(import_folders["media"])
    settings.STYRKORT_IMPORT_INBOX = str(import_folders["inbox"])
    settings.STYRKORT_IMPORT_INBOX_SETTLE_SECONDS = 0


def _test_database_url() -> str:
    parts = urlparse(os.environ["DATABASE_URL"])
    return urlunparse(parts._replace(path="/" + connection.settings_dict["NAME"]))


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker, import_folders, tmp_path_factory):
    """`celery -A config worker` on the test database; stopped at the end of the session."""
    name = f"styrkort-test-{uuid.uuid4().hex[:8]}@%h"
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    with django_db_blocker.unblock():
        database_url = _test_database_url()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CONN_MAX_AGE": "0",
        "MEDIA_ROOT": str(import_folders["media"]),
        "STYRKORT_IMPORT_INBOX": str(import_folders["inbox"]),
        "STYRKORT_IMPORT_INBOX_SETTLE_SECONDS": "0",
        "STYRKORT_IMPORT_STALE_SECONDS": str(STALE_SECONDS),
        "STYRKORT_IMPORT_PROGRESS_SECONDS": "0.2",  # a test's import lasts seconds
        "STYRKORT_IMPORT_DB_RETRY_SECONDS": "0.5",
        "STYRKORT_IMPORT_ORDER_RETRY_SECONDS": "0.5",
        "PYTHONUNBUFFERED": "1",
    }
    celery_app.control.purge()  # messages left in the test Redis by an earlier session
    command = [
        sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=prefork",
        "--concurrency=1", "--loglevel=INFO", "-n", name,
        # A fresh child per task: transactional tests flush the database between tests, and
        # a long-lived child would keep ids it cached (content types) from the last one.
        "--max-tasks-per-child=1",
        "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)
    worker = Worker(process, name.replace("%h", os.uname().nodename), log)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"the Celery worker exited at start:\n{worker.output()}")
            if celery_app.control.ping(destination=[worker.name], timeout=1.0):
                break
            if time.monotonic() > deadline:
                pytest.fail(f"the Celery worker did not answer a ping:\n{worker.output()}")
        yield worker
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def worker(celery_worker, transactional_db) -> Worker:
    """The session's worker, alive (the kill test kills its child; the parent replaces it)."""
    if celery_worker.process.poll() is not None:
        pytest.fail(f"the Celery worker has died:\n{celery_worker.output()}")
    return celery_worker


@pytest.fixture
def eager_celery() -> Iterator[None]:
    """Tasks run in-process, as in the demo (no broker): for tests without a worker."""
    # By its namespaced name: celery 5.6 reads that one (Django's setting) before the plain.
    before = celery_app.conf.task_always_eager
    celery_app.conf.CELERY_TASK_ALWAYS_EAGER = True
    yield
    celery_app.conf.CELERY_TASK_ALWAYS_EAGER = before


def wait_for(
    pk: int, done: Callable[[Import], bool] | None = None, timeout: float = 60.0
) -> Import:
    """Poll an import until `done` (default: a final status); fails with the record."""
    done = done or (lambda r: r.status not in (ImportStatus.QUEUED, ImportStatus.RUNNING))
    deadline = time.monotonic() + timeout
    while True:
        record = Import.objects.get(pk=pk)
        if done(record):
            return record
        if time.monotonic() > deadline:
            pytest.fail(f"import #{pk} still {record.status} after {timeout} s: {record.errors}")
        time.sleep(0.1)


@pytest.fixture
def cast(cast) -> dict:
    """The suite's cast (tests/cast.py); "other_manager" is its outsider, another division's
    manager."""
    return {**cast, "other_manager": cast["outsider"]}


def csv_file(tmp_path: Path, body: str, name: str = "values.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def large_csv(path: Path, rows: int, *, value: str = "50") -> Path:
    """`rows` values nobody has imported yet: two indicators x Nära's units x months."""
    units = list(
        OrgUnit.objects.filter(path__contains="/div_nara/")
        .order_by("code")
        .values_list("code", flat=True)
    )
    periods = [f"{year}-{month:02d}" for year in range(1900, 3000) for month in range(1, 13)]
    written = 0
    with path.open("w", encoding="utf-8") as handle:
        handle.write(HEADER)
        for code in ("sjukfranvaro", "telefon_teleq", "sip_deltagit"):
            for unit in units:
                for period in periods:
                    if written == rows:
                        return path
                    handle.write(f"{code},{unit},{period},total,{value},,,\n")
                    written += 1
    raise ValueError(f"cannot make {rows} distinct rows")
