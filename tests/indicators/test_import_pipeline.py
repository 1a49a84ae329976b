"""The import pipeline without a worker: who may send and decide, the sweep that repairs
dead runs, redelivered messages, traceability of values, and the SQLite demo database.

Tasks run in-process here (eager, as in the demo); tests/indicators/test_pipeline.py runs
the same paths through a real worker.
"""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from indicators.imports.inbox import scan_inbox
from indicators.imports.queue import submit_import
from indicators.imports.run import ImportBusy, import_measurements, run_import
from indicators.imports.sweep import sweep_imports
from indicators.models import Import, ImportSource, Measurement
from indicators.selectors import measurement_history
from tests.indicators.conftest import HEADER, csv_file
from tests.indicators.test_import import snapshot
from tests.sqlite_demo import run_on_demo_database

CHANGE = "telefon_teleq,div_nara,2022-T2,total,96,,,rättat\n"


def test_board_members_may_read_imports_but_not_send_files(cast, client, tmp_path):
    client.force_login(cast["board"])
    page = client.get(reverse("indicators:imports"))
    assert page.status_code == 200 and "Ladda upp en fil" not in page.text
    with csv_file(tmp_path, CHANGE).open("rb") as handle:
        assert client.post(reverse("indicators:imports"), {"file": handle}).status_code == 403
    api = APIClient()
    api.force_authenticate(cast["board"])
    with csv_file(tmp_path, CHANGE).open("rb") as handle:
        assert api.post("/api/v1/imports/", {"file": handle}, format="multipart").status_code == 403
    assert not Import.objects.exclude(source=ImportSource.COMMAND).exists()


def test_anonymous_users_are_sent_to_log_in(client, db):
    response = client.get(reverse("indicators:imports"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_rows_outside_what_the_sender_may_write_reject_the_file(
    cast, client, tmp_path, eager_celery
):
    before = snapshot()
    client.force_login(cast["other_manager"])
    with csv_file(tmp_path, CHANGE).open("rb") as handle:
        response = client.post(reverse("indicators:imports"), {"file": handle})
    record = Import.objects.latest("pk")
    assert response["Location"] == reverse("indicators:import", args=[record.pk])
    assert record.status == "failed"
    assert record.errors == [
        {
            "row": 2,
            "column": "org_unit",
            "message": "you may not change values of 'div_nara'",
            "code": "not_yours",  # to say it in the reader's language (indicators.messages)
            "params": {"code": "div_nara"},
        }
    ]
    assert snapshot() == before


def test_only_the_sender_or_an_administrator_applies_a_preview(
    cast, client, tmp_path, eager_celery
):
    record = submit_import(
        fileobj=io.BytesIO((HEADER + CHANGE).encode()),
        filename="t2.csv",
        user=cast["manager"],
        source=ImportSource.UPLOAD,
        preview=True,
    )
    record.refresh_from_db()
    assert record.status == "previewed"
    before = snapshot()
    client.force_login(cast["other_manager"])
    assert client.post(reverse("indicators:import-apply", args=[record.pk])).status_code == 403
    assert client.post(reverse("indicators:import-discard", args=[record.pk])).status_code == 403
    assert (
        "Genomför importen" not in client.get(reverse("indicators:import", args=[record.pk])).text
    )
    record.refresh_from_db()
    assert record.status == "previewed" and snapshot() == before
    client.force_login(cast["admin"])
    client.post(reverse("indicators:import-apply", args=[record.pk]))
    record.refresh_from_db()
    assert record.status == "succeeded"
    assert Measurement.objects.get(source_import=record).value == 96


def _stale_running_import(user, attempts: int) -> Import:
    """An import a worker took (its attempt number `attempts`), then died on."""
    record = Import.objects.create(
        filename="t2.csv",
        sha256="0" * 64,
        size=10,
        source=ImportSource.UPLOAD,
        user=user,
        attempts=attempts - 1,
    )
    record.file.save("t2.csv", ContentFile((HEADER + CHANGE).encode()))
    assert Import.claim(record.pk, worker="a dead worker", stale_before=timezone.now())
    Import.objects.filter(pk=record.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=5))
    record.refresh_from_db()
    return record


def test_the_sweep_runs_again_what_a_dead_worker_left_running(cast, eager_celery):
    record = _stale_running_import(cast["manager"], attempts=1)
    assert sweep_imports()["requeued"] == 1
    record.refresh_from_db()
    assert (record.status, record.attempts, record.changed) == ("succeeded", 2, 1)


def test_the_sweep_gives_up_after_three_dead_runs(cast, eager_celery):
    before = snapshot()
    record = _stale_running_import(cast["manager"], attempts=3)
    assert sweep_imports()["failed"] == 1
    record.refresh_from_db()
    assert record.status == "failed"
    assert "stopped during this import 3 times" in record.errors[0]["message"]
    assert snapshot() == before


def test_the_sweep_fails_an_import_its_time_limit_killed(cast, settings, eager_celery):
    """Killed at the hard limit, and the worker could not say so: running it again would only
    be killed again."""
    settings.STYRKORT_IMPORT_TIME_LIMIT_SECONDS = 60
    before = snapshot()
    record = _stale_running_import(cast["manager"], attempts=1)
    Import.objects.filter(pk=record.pk).update(started_at=timezone.now() - timedelta(minutes=2))
    assert sweep_imports()["failed"] == 1
    record.refresh_from_db()
    assert record.status == "failed" and record.attempts == 1
    assert record.errors[0]["message"].startswith(
        "Importen stoppades när den nått tidsgränsen (60 s)"
    )
    assert snapshot() == before


def test_a_second_delivery_of_the_task_changes_nothing(cast):
    record = import_measurements(
        fileobj=io.BytesIO((HEADER + CHANGE).encode()), filename="t2.csv"
    ).record
    before = snapshot()
    assert run_import(import_id=record.pk).status == "succeeded"
    assert snapshot() == before
    busy = Import.objects.create(filename="t2.csv", sha256="1" * 64, size=10, source="upload")
    assert Import.claim(busy.pk, worker="a live worker", stale_before=timezone.now())
    with pytest.raises(ImportBusy):  # a live worker is on it: the task retries later
        run_import(import_id=busy.pk)
    assert run_import(import_id=10**9) is None


def test_a_file_over_the_size_limit_is_recorded_and_not_kept(cast, settings, eager_celery):
    settings.STYRKORT_IMPORT_MAX_BYTES = 10
    record = submit_import(
        fileobj=io.BytesIO((HEADER + CHANGE).encode()),
        filename="t2.csv",
        user=cast["manager"],
        source=ImportSource.UPLOAD,
    )
    assert record.status == "failed" and not record.file
    assert "the limit is 10 bytes" in record.errors[0]["message"]


def test_numbers_beyond_the_database_column_are_row_errors(nara):
    from indicators.imports.run import ImportRejected

    with pytest.raises(ImportRejected) as rejected:
        import_measurements(
            fileobj=io.BytesIO(
                (HEADER + "telefon_teleq,div_nara,2022-T2,total,1e15,,,\n").encode()
            ),
            filename="big.csv",
        )
    assert str(rejected.value.errors[0]).startswith("row 2, column value: 1E+15 is too large")


def test_the_inbox_leaves_files_that_are_still_being_written(cast, settings, import_folders):
    settings.STYRKORT_IMPORT_INBOX_SETTLE_SECONDS = 60
    (import_folders["inbox"] / "new.csv").write_text(HEADER + CHANGE, encoding="utf-8")
    try:
        assert scan_inbox() == []
        assert (import_folders["inbox"] / "new.csv").exists()
    finally:
        (import_folders["inbox"] / "new.csv").unlink()


def test_every_value_knows_its_import_row_and_history(nara, cast, client):
    correction = import_measurements(
        fileobj=io.BytesIO((HEADER + CHANGE).encode()), filename="t2.csv", user=cast["manager"]
    ).record
    measurement = Measurement.objects.get(
        indicator__code="telefon_teleq", org_unit__code="div_nara", period="2022-T2"
    )
    current, earlier = measurement_history(measurement)
    assert (current.valid_to, current.value, current.source_import_id) == (
        None,
        96,
        correction.pk,
    )
    assert (current.source_row, earlier.value, earlier.valid_to) == (
        2,
        81,
        current.valid_from,
    )
    assert Import.objects.get(pk=earlier.source_import_id).filename == "measurements.csv"


def test_the_demo_database_sqlite_runs_the_same_import_path(tmp_path):
    """SQLite (make demo) stages rows without COPY: same results, run in-process (eager)."""
    script = """
        import io, json
        import django
        django.setup()
        from django.core.management import call_command
        call_command("migrate", verbosity=0, skip_checks=True)
        from indicators.models import Assessment, ImportSource, Measurement
        from indicators.imports.queue import apply_import, submit_import
        from indicators.imports.run import import_measurements
        from demo.nara import DATA_DIR
        from indicators.definitions import load_scorecard, read_definition
        from django.contrib.auth import get_user_model

        load_scorecard(definition=read_definition((DATA_DIR / "scorecard.yaml").read_text()))
        def run(body, name="values.csv"):
            r = import_measurements(fileobj=io.BytesIO(body), filename=name)
            return [r.created, r.changed, r.unchanged]
        csv = (DATA_DIR / "measurements.csv").read_bytes()
        header = b"indicator,org_unit,period,breakdown,value,numerator,denominator,comment\\n"
        out = {"first": run(csv, "measurements.csv"), "again": run(csv, "measurements.csv")}
        out["fix"] = run(header + "telefon_teleq,div_nara,2022-T2,total,96,,,rättat\\n".encode())
        telefon = Measurement.objects.get(indicator__code="telefon_teleq", period="2022-T2")
        out["value"] = [str(telefon.value), telefon.revisions.count(), telefon.source_row]
        out["status"] = Assessment.objects.get(
            indicator__code="telefon_teleq", org_unit__code="div_nara", period="2022-T2"
        ).computed_status
        admin = get_user_model().objects.create_superuser("admin", password="x-not-used-x")
        record = submit_import(
            fileobj=io.BytesIO(header + b"sjukfranvaro,div_nara,2021-T2,total,8.1,,,\\n"),
            filename="upload.csv", user=admin, source=ImportSource.UPLOAD, preview=True,
        )
        out["preview"] = [record.status, record.created, record.preview_rows["created"][0]["value"]]
        record = apply_import(record=record, user=admin)
        out["applied"] = [record.status, record.created]
        out["sick_leave"] = Assessment.objects.get(
            indicator__code="sjukfranvaro", period="2022-T2"
        ).computed_status
        print("RESULT" + json.dumps(out))
        """
    out = run_on_demo_database(script, tmp_path)
    assert out["first"][0] > 80 and out["first"][1:] == [0, 0]
    assert out["again"] == [0, 0, out["first"][0]]
    assert out["fix"] == [0, 1, 0]
    assert out["value"] == ["96.000000", 1, 2]
    assert out["status"] == "fulfilled"
    assert out["preview"] == ["previewed", 1, "8.1"]
    assert out["applied"] == ["succeeded", 1]
    assert out["sick_leave"] == "fulfilled"
