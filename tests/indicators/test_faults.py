"""Imports under injected faults, with real processes started by the tests: a writer that
pauses mid-file, a database that is not there during a scan, a broker that hangs or dies,
a lost message, a database connection cut mid-import, an edit during an import, and two
files sent together.

Settle times, timeouts and retry delays are shortened here so that each test takes seconds.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import socket
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from django.conf import settings as settings_module
from django.db import DataError, connection
from rest_framework.test import APIClient

from audit.models import AuditEntry
from indicators.imports.inbox import PROCESSING, scan_inbox
from indicators.imports.queue import enqueue_import, receive_import, submit_import
from indicators.imports.reader import STAGE_ROWS
from indicators.imports.run import import_measurements
from indicators.imports.sweep import sweep_imports
from indicators.models import Import, Measurement, MeasurementRevision
from tests.indicators.conftest import HEADER, csv_file, large_csv, wait_for
from tests.indicators.test_import import snapshot
from tests.indicators.test_pipeline import broker_at

ROOT = Path(__file__).resolve().parents[2]
CHANGE = "telefon_teleq,div_nara,2022-T2,total,96,,,rättat\n"  # was 81


@pytest.fixture(autouse=True)
def _empty_inbox(import_folders) -> None:
    """The session's inbox without what an earlier test left in it."""
    for folder in (import_folders["inbox"], import_folders["inbox"] / PROCESSING):
        if folder.is_dir():
            for path in folder.iterdir():
                if path.is_file():
                    path.unlink()


# Writes its first argument, flushes, says so, waits for a line on stdin with the file
# still open, then writes the rest: a source system that pauses mid-file.
SLOW_WRITER = """
import sys
with open(sys.argv[1], "w", encoding="utf-8") as out:
    out.write(sys.argv[2]); out.flush()
    print("paused", flush=True)
    sys.stdin.readline()
    out.write(sys.argv[3])
"""


def test_the_inbox_leaves_a_file_whose_writer_paused(worker, cast, settings, import_folders):
    settings.STYRKORT_IMPORT_INBOX_SETTLE_SECONDS = 0.3
    inbox = import_folders["inbox"]
    lines = large_csv(inbox.parent / "slow-source.csv", 2_000).read_text().splitlines(True)
    first, rest = "".join(lines[:1_000]), "".join(lines[1_000:])
    writer = subprocess.Popen(
        [sys.executable, "-c", SLOW_WRITER, str(inbox / "slow.csv"), first, rest],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout.readline() == "paused\n"
        # Unchanged for longer than the settle time, over two scans: but still open.
        assert scan_inbox() == []
        time.sleep(0.4)
        assert scan_inbox() == []
        assert (inbox / "slow.csv").exists()
        writer.stdin.write("go on\n")
        writer.stdin.flush()
        assert writer.wait(timeout=10) == 0
    finally:
        writer.kill()
        writer.wait()
    assert scan_inbox() == []  # changed since the last scan: seen once more first
    time.sleep(0.4)
    [record] = scan_inbox()
    record = wait_for(record.pk)
    assert (record.status, record.created, record.rows_total) == ("succeeded", 2_000, 2_000)


def _scan_in_a_process(env: dict[str, str]) -> subprocess.CompletedProcess:
    code = "import django; django.setup(); from indicators.imports.inbox import scan_inbox; "
    code += "scan_inbox()"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_scan_without_its_database_puts_the_file_back(worker, cast, import_folders):
    inbox = import_folders["inbox"]
    (inbox / "t2.csv").write_text(HEADER + CHANGE, encoding="utf-8")
    # Beat's scan in a process whose database refuses connections: it fails after the
    # file was renamed into processing/.
    scan = _scan_in_a_process(
        {
            "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none",
            "STYRKORT_IMPORT_INBOX": str(inbox),
            "STYRKORT_IMPORT_INBOX_SETTLE_SECONDS": "0",
        }
    )
    assert "could not be taken; put back" in scan.stderr, scan.stderr
    assert (inbox / "t2.csv").exists()
    assert not [p for p in (inbox / PROCESSING).iterdir() if p.name.endswith("_t2.csv")]
    assert not Import.objects.filter(source="inbox").exists()
    # The database is back: the next scan takes it.
    [record] = scan_inbox()
    assert wait_for(record.pk).status == "succeeded"


def test_a_file_a_dead_scan_left_in_processing_is_taken_again(worker, cast, import_folders):
    inbox = import_folders["inbox"]
    orphan = inbox / PROCESSING / f".{'a' * 32}_orphan.csv"
    orphan.parent.mkdir(exist_ok=True)
    orphan.write_text(HEADER + CHANGE, encoding="utf-8")
    [record] = scan_inbox()
    assert record.filename == "orphan.csv"
    assert wait_for(record.pk).status == "succeeded"
    assert not orphan.exists()


@contextmanager
def own_redis() -> Iterator[subprocess.Popen]:
    """A redis-server of the test's own on a free loopback port (never the shared one)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    command += ["--appendonly", "no", "--daemonize", "no"]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server.url = f"redis://127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
        yield server
    finally:
        with contextlib.suppress(ProcessLookupError):
            server.send_signal(signal.SIGCONT)
        server.kill()
        server.wait()


def test_a_hanging_broker_answers_503_in_seconds_and_the_sweep_sends_it_later(
    worker, cast, settings, tmp_path
):
    before = snapshot()
    api = APIClient()
    api.force_authenticate(cast["manager"])
    with own_redis() as redis, broker_at(redis.url):
        redis.send_signal(signal.SIGSTOP)  # accepts connections, never answers
        started = time.monotonic()
        with csv_file(tmp_path, CHANGE).open("rb") as handle:
            response = api.post("/api/v1/imports/", {"file": handle}, format="multipart")
        elapsed = time.monotonic() - started
    assert response.status_code == 503 and response["Content-Type"] == "application/json"
    assert elapsed < 4 * settings.STYRKORT_BROKER_TIMEOUT_SECONDS + 2, elapsed
    body = response.json()
    assert "skicka den inte igen" in body["detail"] and body["status"] == "queued"
    assert snapshot() == before
    # The broker is back (the session's): the sweep sends what was never sent.
    settings.STYRKORT_IMPORT_UNSENT_SECONDS = 0
    assert sweep_imports()["resent"] == 1
    record = wait_for(body["id"])
    assert (record.status, record.changed) == ("succeeded", 1)


def test_a_lost_message_is_sent_again_within_the_resend_time(worker, cast, settings, tmp_path):
    with own_redis() as redis, broker_at(redis.url):
        with csv_file(tmp_path, CHANGE).open("rb") as handle:
            record = submit_import(
                fileobj=handle, filename="t2.csv", user=cast["manager"], source="upload"
            )
        assert record.enqueued_at is not None
        redis.kill()  # the message dies with the broker's memory
    settings.STYRKORT_IMPORT_RESEND_SECONDS = 0.5
    assert sweep_imports()["resent"] == 0  # sent moments ago: give it its time
    time.sleep(0.6)
    assert sweep_imports()["resent"] == 1
    record = wait_for(record.pk)
    assert (record.status, record.changed) == ("succeeded", 1)


def _cut_other_connections() -> int:
    """pg_terminate_backend on every other connection to the test database: the worker's."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def _connection_parameters() -> dict:
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params.pop("prepare_threshold", None)
    return params


def _wait_until_blocked(timeout: float = 60.0) -> None:
    """Until another connection to the test database waits for a lock (the import)."""
    deadline = time.monotonic() + timeout
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
        assert time.monotonic() < deadline, "the import never reached the locked value"
        time.sleep(0.05)


def test_a_connection_cut_mid_merge_is_retried_and_applied_once(worker, cast, tmp_path):
    rows = 20_000
    with large_csv(tmp_path / "first.csv", rows, value="50").open("rb") as handle:
        import_measurements(fileobj=handle, filename="first.csv")
    before = Measurement.objects.count()
    last = Measurement.objects.latest("pk")  # the file's last row: its last chunk
    api = APIClient()
    api.force_authenticate(cast["admin"])
    # Another connection holds one value the import will change: the import stops there,
    # mid-merge, and is cut off (with the holder).
    holder = psycopg.connect(**_connection_parameters())
    holder.execute("SELECT 1 FROM indicators_measurement WHERE id = %s FOR UPDATE", [last.pk])
    try:
        # Every row changes a value: each chunk goes through the merge.
        with large_csv(tmp_path / "second.csv", rows, value="60").open("rb") as handle:
            body = api.post("/api/v1/imports/", {"file": handle}, format="multipart").json()
        _wait_until_blocked()
        assert _cut_other_connections() >= 2
    finally:
        holder.close()
    record = wait_for(body["id"], timeout=90)
    assert (record.status, record.changed, record.attempts) == ("succeeded", rows, 1), record.errors
    assert Measurement.objects.count() == before
    assert not Measurement.objects.filter(value=50, period__startswith="19").exists()
    assert MeasurementRevision.objects.filter(replaced_by_import_id=record.pk).count() == rows


def test_a_permanent_error_tells_people_and_keeps_the_sql_in_the_log(cast, monkeypatch, caplog):
    def broken(**kwargs):
        raise DataError('value too long for type character varying(16) in "INSERT ..."')

    monkeypatch.setattr("indicators.imports.run.recompute_assessments", broken)
    before = snapshot()
    with pytest.raises(DataError):
        import_measurements(fileobj=io.BytesIO((HEADER + CHANGE).encode()), filename="t2.csv")
    record = Import.objects.latest("pk")
    assert record.status == "failed"
    message = record.errors[0]["message"]
    assert "internal error" in message and f"import #{record.pk}" in message
    assert "INSERT" not in message and "varying" not in message
    assert "character varying(16)" in caplog.text
    assert snapshot() == before


def test_an_edit_during_an_import_answers_at_once(worker, cast, settings, tmp_path):
    settings.STYRKORT_EDIT_LOCK_TIMEOUT_MS = 300
    rows = STAGE_ROWS + 5_000  # two chunks: the first merged (its rows held), then stopped
    with large_csv(tmp_path / "first.csv", rows, value="50").open("rb") as handle:
        loaded = import_measurements(fileobj=handle, filename="first.csv").record
    values = Measurement.objects.filter(source_import=loaded).select_related(
        "indicator", "org_unit"
    )
    first, last = values.order_by("source_row")[0], values.order_by("-source_row")[0]
    api = APIClient()
    api.force_authenticate(cast["admin"])
    holder = psycopg.connect(**_connection_parameters())  # keeps the import running
    holder.execute("SELECT 1 FROM indicators_measurement WHERE id = %s FOR UPDATE", [last.pk])
    try:
        with large_csv(tmp_path / "second.csv", rows, value="60").open("rb") as handle:
            body = api.post("/api/v1/imports/", {"file": handle}, format="multipart").json()
        _wait_until_blocked()
        edit = {
            "indicator": first.indicator.code,
            "org_unit": first.org_unit.code,
            "period": first.period,
            "value": "70",
        }
        with connection.cursor() as cursor:  # without the fix the edit would wait forever
            cursor.execute("SET statement_timeout = '10s'")
        started = time.monotonic()
        response = api.post("/api/v1/measurements/", edit, format="json")
        assert time.monotonic() - started < 3
        assert response.status_code == 409, response.content
        assert "En import uppdaterar just nu" in response.json()["detail"]
    finally:
        holder.close()
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = 0")
    assert wait_for(body["id"]).status == "succeeded"
    response = api.post("/api/v1/measurements/", edit, format="json")  # now it can
    assert response.status_code == 200, response.content
    first.refresh_from_db()
    assert first.value == 70


def test_two_files_on_the_same_values_are_applied_in_the_order_received(worker, cast):
    def received(value: str, name: str) -> Import:
        body = HEADER + f"telefon_teleq,div_nara,2022-T2,total,{value},,,\n"
        return receive_import(
            fileobj=io.BytesIO(body.encode()), filename=name, user=cast["manager"], source="api"
        )

    earlier, later = received("91", "earlier.csv"), received("92", "later.csv")
    # Their messages arrive the other way round (a redelivery, a resend, two workers).
    enqueue_import(later)
    time.sleep(0.3)
    enqueue_import(earlier)
    earlier, later = wait_for(earlier.pk), wait_for(later.pk)
    assert (earlier.status, later.status) == ("succeeded", "succeeded")
    assert earlier.finished_at < later.finished_at
    value = Measurement.objects.get(
        indicator__code="telefon_teleq", org_unit__code="div_nara", period="2022-T2"
    ).value
    assert value == 92


def _start_worker(broker_url: str, log: Path) -> subprocess.Popen:
    """`celery worker` as conftest starts it, on another broker; ready once it answers."""
    with connection.cursor():
        database = connection.settings_dict["NAME"]
    env = {
        **os.environ,
        "DATABASE_URL": os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/" + database,
        "CELERY_BROKER_URL": broker_url,
        "CONN_MAX_AGE": "0",
        "MEDIA_ROOT": settings_module.MEDIA_ROOT,
        "STYRKORT_IMPORT_PROGRESS_SECONDS": "0.2",
        "STYRKORT_BROKER_TIMEOUT_SECONDS": "1",
        "PYTHONUNBUFFERED": "1",
    }
    # As compose runs it: gossip, mingle and heartbeats on (they talk to the broker too).
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=prefork"]
    command += ["--concurrency=2", "--loglevel=INFO", "-n", "faults@%h"]
    with log.open("wb") as out:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)


def _consuming(log: Path, after: int, timeout: float = 30, *, sign: str = "ready.") -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sign in log.read_text(errors="replace")[after:]:
            return True
        time.sleep(0.1)
    return False


@pytest.mark.worker
def test_the_worker_survives_redis_dying_mid_import(transactional_db, cast, tmp_path):
    log = tmp_path / "worker.log"
    api = APIClient()
    api.force_authenticate(cast["admin"])
    with own_redis() as redis:
        port = redis.url.rsplit(":", 1)[1].split("/")[0]
        with broker_at(redis.url):
            worker = _start_worker(redis.url, log)
            try:
                assert _consuming(log, 0), log.read_text()
                with large_csv(tmp_path / "large.csv", 30_000).open("rb") as handle:
                    body = api.post("/api/v1/imports/", {"file": handle}, format="multipart")
                wait_for(body.json()["id"], lambda r: r.status == "running")
                redis.kill()  # mid-import
                redis.wait()
                time.sleep(1)
                assert worker.poll() is None, log.read_text()[-3000:]
                # Redis back (empty: the message died with it), on the same port.
                command = ["redis-server", "--port", port, "--bind", "127.0.0.1"]
                command += ["--save", "", "--appendonly", "no"]
                again = subprocess.Popen(command, stdout=subprocess.DEVNULL)
                try:
                    mark = len(log.read_text(errors="replace"))
                    assert _consuming(log, mark, 60, sign="Connected to"), log.read_text()[-3000:]
                    assert worker.poll() is None, log.read_text()[-3000:]
                    # The import finished in its own transaction all the same.
                    assert wait_for(body.json()["id"]).status == "succeeded"
                    # And the worker takes new work from the new Redis.
                    with csv_file(tmp_path, CHANGE).open("rb") as handle:
                        second = api.post("/api/v1/imports/", {"file": handle}, format="multipart")
                    assert second.status_code == 202, second.content
                    assert wait_for(second.json()["id"]).status == "succeeded"
                finally:
                    again.kill()
                    again.wait()
            finally:
                worker.terminate()
                try:
                    worker.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait()


@pytest.mark.slow
def test_memory_of_an_import_does_not_grow_with_the_changed_rows(cast, tmp_path, monkeypatch):
    """The audit of changed values is streamed, a batch at a time: Python's peak while 40,000
    changed values are audited stays that of a batch (it held them all, and every entry)."""
    from indicators.imports import run

    peaks = []
    original = run._record_changed_values

    def traced(*args, **kwargs):
        tracemalloc.start()
        try:
            original(*args, **kwargs)
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()

    monkeypatch.setattr(run, "_record_changed_values", traced)
    rows = 2 * STAGE_ROWS
    with large_csv(tmp_path / "first.csv", rows, value="50").open("rb") as handle:
        import_measurements(fileobj=handle, filename="first.csv")
    with large_csv(tmp_path / "second.csv", rows, value="60").open("rb") as handle:
        result = import_measurements(fileobj=handle, filename="second.csv")
    assert result.changed == rows
    assert (
        AuditEntry.objects.filter(reference__startswith=f"import {result.record.pk} ").count()
        == rows
    )
    assert peaks[0] < 16 * 2**20, f"{peaks[0] / 2**20:.0f} MiB"


def test_worker_processes_are_recycled():
    from config.celery import app

    assert app.conf.worker_max_tasks_per_child and app.conf.worker_max_memory_per_child
