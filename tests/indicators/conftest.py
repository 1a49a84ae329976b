"""Fixtures of the import pipeline: a real Celery worker on Redis and folders.

The worker is started once per session, as production runs it (`celery -A config worker`,
prefork with one child), against the test database and the test's Redis database. Tests
that use it need committed data: `transactional_db`. A worker that does not start fails
those tests; it never skips them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from config.celery import app as celery_app
from divisions.models import OrgUnit
from indicators.models import Import, ImportStatus
from tests.workers import Worker, running_worker

ROOT = Path(__file__).resolve().parents[2]
STALE_SECONDS = 4  # the worker's STYRKORT_IMPORT_STALE_SECONDS: a killed run is retried soon
HEADER = "indicator,org_unit,period,breakdown,value,numerator,denominator,comment\n"


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


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker, import_folders, tmp_path_factory):
    """`celery -A config worker` on the test database; stopped at the end of the session."""
    celery_app.control.purge()  # messages left in the test Redis by an earlier session
    env = {
        "MEDIA_ROOT": str(import_folders["media"]),
        "STYRKORT_IMPORT_INBOX": str(import_folders["inbox"]),
        "STYRKORT_IMPORT_INBOX_SETTLE_SECONDS": "0",
        "STYRKORT_IMPORT_STALE_SECONDS": str(STALE_SECONDS),
        "STYRKORT_IMPORT_PROGRESS_SECONDS": "0.2",  # a test's import lasts seconds
        "STYRKORT_IMPORT_DB_RETRY_SECONDS": "0.5",
        "STYRKORT_IMPORT_ORDER_RETRY_SECONDS": "0.5",
    }
    with running_worker(django_db_blocker, tmp_path_factory.mktemp("worker"), env=env) as worker:
        yield worker


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
