"""The import pipeline end to end, with a real Celery worker on Redis.

All three ways in (browser upload, API, inbox folder) end in the same task and service; the
same file twice is applied once; a preview writes nothing until applied; progress advances
while a file is read; a bad file lists its errors; a killed worker leaves nothing behind.
"""

from __future__ import annotations

import os
import signal
import time
from contextlib import contextmanager
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from indicators.imports.inbox import scan_inbox
from indicators.models import Import, ImportStatus, Measurement, MeasurementRevision
from indicators.tasks import scan_import_inbox
from tests.indicators.conftest import csv_file, large_csv, wait_for
from tests.indicators.test_import import snapshot

CHANGE = "telefon_teleq,div_nara,2022-T2,total,96,,,rättat\n"  # was 81 (not fulfilled)
NEW = "sjukfranvaro,div_nara,2021-T2,total,8.1,,,\n"


def telefon() -> Measurement:
    return Measurement.objects.get(
        indicator__code="telefon_teleq", org_unit__code="div_nara", period="2022-T2"
    )


def upload(client, user, path, *, preview: bool = False):
    client.force_login(user)
    with path.open("rb") as handle:
        data = {"file": handle, **({"preview": "on"} if preview else {})}
        return client.post(reverse("indicators:imports"), data)


def test_browser_upload_is_imported_by_the_worker(worker, cast, client, tmp_path):
    response = upload(client, cast["manager"], csv_file(tmp_path, CHANGE + NEW))
    assert response.status_code == 302
    record = wait_for(int(response["Location"].rstrip("/").split("/")[-1]))
    assert (record.status, record.created, record.changed, record.unchanged) == (
        "succeeded",
        1,
        1,
        0,
    )
    assert (record.source, record.user, record.rows_total) == ("upload", cast["manager"], 2)
    assert record.worker and record.duration is not None
    value = telefon()
    assert (value.value, value.source_import, value.source_row) == (96, record, 2)
    [old] = value.revisions.all()
    assert (old.value, old.source_import.filename, old.replaced_by_import) == (
        81,
        "measurements.csv",
        record,
    )
    page = client.get(response["Location"]).text
    assert "Klar" in page and "1 nytt värde" in page and "1 ändrat värde" in page


def test_api_upload_answers_202_and_the_url_follows_the_import(worker, cast, tmp_path):
    api = APIClient()
    api.force_authenticate(cast["manager"])
    with csv_file(tmp_path, CHANGE).open("rb") as handle:
        response = api.post("/api/v1/imports/", {"file": handle}, format="multipart")
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["url"].endswith(f"/api/v1/imports/{body['id']}/")
    assert response["Location"] == body["url"]
    wait_for(body["id"])
    final = api.get(body["url"]).json()
    assert final["status"] == "succeeded"
    assert (final["created"], final["changed"], final["rows_done"], final["progress"]) == (
        0,
        1,
        1,
        1.0,
    )
    assert final["user"] == "manager" and final["source"] == "api"


def test_inbox_files_are_taken_imported_and_filed_with_a_report(worker, cast, import_folders):
    inbox = import_folders["inbox"]
    (inbox / "t2.csv").write_text(
        "indicator,org_unit,period,breakdown,value\n" + CHANGE.rsplit(",,,", 1)[0] + "\n",
        encoding="utf-8",
    )
    (inbox / "bad.csv").write_text(
        "indicator,org_unit,period,breakdown,value\ntelefon_teleq,div_nara,2022-T9,total,7\n",
        encoding="utf-8",
    )
    (inbox / ".partial.csv").write_text("still being written", encoding="utf-8")
    # Celery beat sends this task; here the test does, and the worker scans.
    scan_import_inbox.delay()
    deadline = time.monotonic() + 30
    while Import.objects.filter(source="inbox").count() < 2:
        assert time.monotonic() < deadline, "the inbox was not scanned"
        time.sleep(0.1)
    good = wait_for(Import.objects.get(filename="t2.csv").pk)
    bad = wait_for(Import.objects.get(filename="bad.csv").pk)
    assert (good.status, good.source, good.user, bad.status) == (
        "succeeded",
        "inbox",
        None,
        "failed",
    )
    assert telefon().value == 96
    deadline = time.monotonic() + 10
    while not (inbox / "failed" / f"{bad.pk}_bad.csv.report.txt").exists():
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert (inbox / "done" / f"{good.pk}_t2.csv").exists()
    assert "0 created, 1 changed" in (inbox / "done" / f"{good.pk}_t2.csv.report.txt").read_text()
    report = (inbox / "failed" / f"{bad.pk}_bad.csv.report.txt").read_text()
    assert "row 2, column period: '2022-T9' is not a period" in report
    assert sorted(p.name for p in inbox.iterdir() if p.is_file()) == [".partial.csv"]
    assert scan_inbox() == []  # nothing left to take


def test_the_same_file_twice_is_recognised_and_applied_once(worker, cast, client, tmp_path):
    path = csv_file(tmp_path, CHANGE)
    upload(client, cast["manager"], path)
    first = wait_for(Import.objects.latest("pk").pk)
    assert first.status == "succeeded"
    Measurement.objects.filter(pk=telefon().pk).update(value=Decimal("70"))  # typed in since
    response = upload(client, cast["admin"], path)
    second = Import.objects.latest("pk")
    assert response["Location"].endswith(f"/importer/{second.pk}/")
    assert (second.status, second.duplicate_of, second.sha256) == ("failed", first, first.sha256)
    assert "not applied twice" in second.errors[0]["message"]
    assert telefon().value == 70  # the file did not overwrite the later value
    assert MeasurementRevision.objects.filter(replaced_by_import=second).count() == 0
    assert "Samma fil har redan tagits emot som import" in client.get(response["Location"]).text


def test_a_preview_writes_nothing_until_applied(worker, cast, client, tmp_path):
    before = snapshot()
    response = upload(client, cast["manager"], csv_file(tmp_path, CHANGE + NEW), preview=True)
    record = wait_for(Import.objects.latest("pk").pk)
    assert record.status == "previewed"
    assert (record.created, record.changed, record.unchanged) == (1, 1, 0)
    [changed] = record.preview_rows["changed"]
    assert (changed["row"], changed["old_value"], changed["value"]) == (2, "81", "96")
    assert record.preview_rows["created"][0]["period"] == "2021-T2"
    assert snapshot() == before
    page = client.get(response["Location"]).text
    assert "Förhandsgranskning" in page and "Genomför importen" in page
    assert '<td class="num">81</td><td class="num">96</td>' in page

    client.post(reverse("indicators:import-apply", args=[record.pk]))
    record = wait_for(record.pk)
    assert (record.status, record.attempts) == ("succeeded", 1)
    assert telefon().value == 96 and telefon().source_import == record


def test_a_discarded_preview_changes_nothing(worker, cast, client, tmp_path):
    before = snapshot()
    upload(client, cast["manager"], csv_file(tmp_path, CHANGE), preview=True)
    record = wait_for(Import.objects.latest("pk").pk)
    client.post(reverse("indicators:import-discard", args=[record.pk]))
    record.refresh_from_db()
    assert record.status == "discarded" and snapshot() == before


def test_progress_advances_while_a_large_file_is_read(worker, cast, tmp_path):
    api = APIClient()
    api.force_authenticate(cast["manager"])
    with large_csv(tmp_path / "large.csv", 100_000).open("rb") as handle:
        body = api.post("/api/v1/imports/", {"file": handle}, format="multipart").json()
    seen = []
    deadline = time.monotonic() + 120
    while True:
        state = api.get(body["url"]).json()
        if state["status"] == "running" and state["rows_done"] not in seen:
            seen.append(state["rows_done"])
        if state["status"] not in ("queued", "running"):
            break
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert state["status"] == "succeeded", state["errors"]
    assert state["created"] == 100_000
    assert state["rows_total"] == 100_000 and state["progress"] == 1.0
    # The bar moved: several distinct positions between the start and the end.
    assert len([n for n in seen if 0 < n < 100_000]) >= 2, seen
    assert seen == sorted(seen)


def test_a_failing_file_lists_its_errors(worker, cast, client, tmp_path):
    before = snapshot()
    body = (
        "telefon_teleq,div_nara,2022-T2,total,96,,,\n"
        "telefon_teleq,div_nara,2022-T2,total,97,,,\n"
        "okand,div_nara,2022-T2,total,1,,,\n"
        "telefon_teleq,div_annan,2022-T2,total,sju,,,\n"
    )
    response = upload(client, cast["manager"], csv_file(tmp_path, body))
    record = wait_for(Import.objects.latest("pk").pk)
    assert record.status == "failed" and record.rejected == 3
    assert [(e["row"], e["column"], e["message"]) for e in record.errors] == [
        (3, "", "duplicates row 2 (telefon_teleq, div_nara, 2022-T2, total)"),
        (4, "indicator", "unknown indicator 'okand'"),
        (5, "value", "'sju' is not a number"),
    ]
    # With each message its code and parameters, to show it in the reader's language.
    assert [(e["code"], e["params"]) for e in record.errors][1:] == [
        ("unknown_indicator", {"code": "okand"}),
        ("not_a_number", {"text": "sju"}),
    ]
    assert snapshot() == before
    page = client.get(response["Location"]).text
    assert "3 rader avvisades; inget importerades." in page
    assert "okänt styrmått &#x27;okand&#x27;" in page


def test_a_killed_worker_leaves_the_database_as_it_was(worker, cast, tmp_path):
    """SIGKILL the worker process mid-import: nothing half-applied, the import runs again."""
    before = Measurement.objects.count()
    api = APIClient()
    api.force_authenticate(cast["admin"])
    with large_csv(tmp_path / "large.csv", 120_000).open("rb") as handle:
        body = api.post("/api/v1/imports/", {"file": handle}, format="multipart").json()
    running = wait_for(
        body["id"], lambda r: r.status == "running" and 0 < r.rows_done < 60_000, timeout=60
    )
    pid = int(running.worker.rsplit(" ", 1)[1])
    assert pid != worker.process.pid  # the prefork child that runs the task
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.5)
    # The killed run's transaction died with its connection: nothing of it is visible.
    assert Measurement.objects.count() == before
    record = Import.objects.get(pk=body["id"])
    assert record.status in (ImportStatus.RUNNING, ImportStatus.QUEUED)
    # acks_late + reject_on_worker_lost: the task comes back; once the dead run's heartbeat
    # is stale it is taken over and runs from the start, in one transaction again.
    record = wait_for(body["id"], timeout=120)
    assert (record.status, record.attempts, record.created) == ("succeeded", 2, 120_000)
    assert Measurement.objects.count() == before + 120_000
    assert worker.process.poll() is None  # the worker itself lives on with a new child


@contextmanager
def broker_at(url: str):
    """Point the app's producers at another broker (Celery keeps pooled connections)."""
    from config.celery import app

    def reset() -> None:  # what Celery does after a fork: new pools from the current URL
        app._pool = None
        app.amqp._producer_pool = None

    # Celery reads CELERY_BROKER_URL from the environment before its own setting.
    old, old_env = app.conf.broker_url, os.environ["CELERY_BROKER_URL"]
    app.conf.broker_url = os.environ["CELERY_BROKER_URL"] = url
    reset()
    try:
        yield
    finally:
        app.conf.broker_url, os.environ["CELERY_BROKER_URL"] = old, old_env
        reset()


@pytest.mark.parametrize("way", ["browser", "api"])
def test_a_broker_outage_gives_a_clear_message_not_a_500(transactional_db, cast, tmp_path, way):
    before = snapshot()
    with broker_at("redis://127.0.0.1:1/0"):  # nothing listens there
        if way == "browser":
            response = upload(Client(), cast["manager"], csv_file(tmp_path, CHANGE))
            assert response.status_code == 503
            assert "importkön svarar inte" in response.text
        else:
            api = APIClient()
            api.force_authenticate(cast["manager"])
            with csv_file(tmp_path, CHANGE).open("rb") as handle:
                response = api.post("/api/v1/imports/", {"file": handle}, format="multipart")
            assert response.status_code == 503
            assert "kön svarar inte" in response.json()["detail"]
    record = Import.objects.latest("pk")
    # Kept, queued and not sent: the sweep sends it when the queue is back (test_faults.py).
    assert (record.status, record.enqueued_at, bool(record.file)) == ("queued", None, True)
    assert snapshot() == before
