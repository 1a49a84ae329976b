"""Sending a file again on purpose (issue 11, finding 9), previews that block nobody and
expire, and who may download an uploaded file (finding 10a).

A, then a correction B, then A again to roll B back: the third was a 409 and never applied,
and an unapplied preview blocked the same file for everyone. Every role could download
every uploaded file, never-applied previews included.
"""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from audit.models import AuditEntry
from divisions.models import OrgUnit
from indicators.imports.queue import ImportRefused, apply_import, submit_import
from indicators.imports.sweep import sweep_imports
from indicators.models import Import, ImportSource, Measurement
from tests.cast import INSIDE
from tests.indicators.conftest import HEADER, csv_file, wait_for
from tests.indicators.test_import import snapshot

A = "telefon_teleq,div_nara,2022-T2,total,96,,,första filen\n"  # the value was 81
B = "telefon_teleq,div_nara,2022-T2,total,90,,,rättelse\n"
REASON = "Rättelsen B var fel: tillbaka till värdena i A."
# A value every writer of the cast may write (avp_pajala is under Primärvården in Nära).
PAJALA = f"telefon_teleq,{INSIDE},2022-T2,total,93,,,\n"


def telefon(unit: str = "div_nara") -> Measurement:
    return Measurement.objects.get(
        indicator__code="telefon_teleq", org_unit__code=unit, period="2022-T2"
    )


def upload(client, user, path, *, preview: bool = False):
    client.force_login(user)
    with path.open("rb") as handle:
        data = {"file": handle, **({"preview": "on"} if preview else {})}
        return client.post(reverse("indicators:imports"), data)


def pk_of(response) -> int:
    return int(response["Location"].rstrip("/").split("/")[-1])


def send(body: str, user, *, preview: bool = False, reason: str = "", source=ImportSource.UPLOAD):
    record = submit_import(
        fileobj=io.BytesIO((HEADER + body).encode()),
        filename="values.csv",
        user=user,
        source=source,
        preview=preview,
        reason=reason,
    )
    record.refresh_from_db()
    return record


# ------------------------------------------------------------------- A, B, then A again


def test_a_then_b_then_a_again_from_the_browser_with_the_reason_recorded(
    worker, cast, client, tmp_path
):
    a, b = csv_file(tmp_path, A, "a.csv"), csv_file(tmp_path, B, "b.csv")
    first = wait_for(pk_of(upload(client, cast["manager"], a)))
    assert wait_for(pk_of(upload(client, cast["manager"], b))).status == "succeeded"
    assert telefon().value == 90

    response = upload(client, cast["manager"], a)  # the same file: a duplicate, not applied
    duplicate = Import.objects.get(pk=pk_of(response))
    assert (duplicate.status, duplicate.duplicate_of) == ("failed", first)
    page = client.get(response["Location"]).text
    assert "Importera filen igen" in page

    response = client.post(
        reverse("indicators:import-again", args=[duplicate.pk]), {"reason": REASON}
    )
    again = wait_for(pk_of(response))
    assert (again.status, again.reimport_of, again.reason, again.user, again.source) == (
        "succeeded",
        first,
        REASON,
        cast["manager"],
        "upload",
    )
    assert (again.sha256, again.changed) == (first.sha256, 1)
    value = telefon()
    assert (value.value, value.comment, value.source_import) == (96, "första filen", again)
    entry = AuditEntry.objects.get(
        content_type=ContentType.objects.get_for_model(Import), object_id=str(again.pk)
    )
    assert (entry.username, entry.operation, entry.source) == ("manager", "create", "import")
    assert entry.changes["reason"] == [None, REASON]
    assert entry.changes["reimport_of"] == [None, first.pk]
    page = client.get(reverse("indicators:import", args=[again.pk])).text
    assert REASON in page and f"Samma fil som import {first.pk}." in page


def test_a_then_b_then_a_again_through_the_api_only_with_a_reason(worker, cast, tmp_path):
    api = APIClient()
    api.force_authenticate(cast["manager"])

    def post(path, **data):
        with path.open("rb") as handle:
            return api.post("/api/v1/imports/", {"file": handle, **data}, format="multipart")

    a, b = csv_file(tmp_path, A, "a.csv"), csv_file(tmp_path, B, "b.csv")
    first = wait_for(post(a).json()["id"])
    wait_for(post(b).json()["id"])
    refused = post(a)
    assert refused.status_code == 409
    assert "reason" in refused.json()["detail"] and telefon().value == 90
    sent = post(a, reason=REASON)
    assert sent.status_code == 202, sent.content
    again = wait_for(sent.json()["id"])
    assert (again.status, again.reimport_of_id, again.reason) == ("succeeded", first.pk, REASON)
    assert telefon().value == 96
    body = api.get(sent.json()["url"]).json()
    assert (body["reimport_of"], body["reason"], body["org_unit"]) == (first.pk, REASON, "div_nara")
    assert AuditEntry.objects.filter(object_id=str(again.pk), source="api").exists()


def test_importing_again_needs_a_reason_and_a_writer(cast, client, eager_celery):
    first = send(A, cast["manager"])
    duplicate = send(A, cast["manager"])
    assert duplicate.duplicate_of == first
    url = reverse("indicators:import-again", args=[duplicate.pk])
    before = (snapshot(), Import.objects.count())
    client.force_login(cast["manager"])
    response = client.post(url, {"reason": "  "})
    assert response.status_code == 400 and "Det här fältet är obligatoriskt." in response.text
    for name in ("board", "analyst", "outsider"):
        client.force_login(cast[name])
        page = client.get(reverse("indicators:import", args=[duplicate.pk])).text
        assert "Importera filen igen" not in page
        assert client.post(url, {"reason": REASON}).status_code == 403
    api = APIClient()
    api.force_authenticate(cast["analyst"])
    sent = api.post(
        "/api/v1/imports/",
        {"file": io.BytesIO((HEADER + A).encode()), "reason": REASON},
        format="multipart",
    )
    assert sent.status_code == 403
    assert (snapshot(), Import.objects.count()) == before


# --------------------------------------------------------------------------- previews


def test_a_preview_blocks_nobody_from_sending_the_same_file(cast, eager_celery):
    preview = send(PAJALA, cast["manager"], preview=True)
    other = send(PAJALA, cast["reporter"], preview=True)  # a second preview of the same file
    assert (preview.status, other.status) == ("previewed", "previewed")
    applied = send(PAJALA, cast["admin"])
    assert (applied.status, applied.duplicate_of) == ("succeeded", None)
    assert telefon(INSIDE).value == 93

    # The preview comes too late now: applied, it could undo a later correction unseen.
    with pytest.raises(
        ImportRefused, match=f"importerats sedan förhandsgranskningen \\(import {applied.pk}\\)"
    ):
        apply_import(record=preview, user=cast["manager"])
    preview.refresh_from_db()
    assert preview.status == "previewed"


def test_a_late_preview_is_refused_in_the_browser_and_imported_again_on_purpose(
    cast, client, eager_celery
):
    preview = send(PAJALA, cast["manager"], preview=True)
    applied = send(PAJALA, cast["admin"])
    client.force_login(cast["manager"])
    response = client.post(reverse("indicators:import-apply", args=[preview.pk]), follow=True)
    assert f"Samma fil har importerats sedan förhandsgranskningen (import {applied.pk})" in (
        response.text
    )
    assert "Importera filen igen" in response.text
    response = client.post(
        reverse("indicators:import-again", args=[preview.pk]), {"reason": REASON, "preview": "on"}
    )
    again = Import.objects.get(pk=pk_of(response))
    assert (again.status, again.reimport_of, again.preview) == ("previewed", applied, True)
    apply_import(record=again, user=cast["manager"])
    again.refresh_from_db()
    assert again.status == "succeeded"


def test_a_preview_left_undecided_expires(cast, client, settings, eager_celery):
    settings.STYRKORT_IMPORT_PREVIEW_HOURS = 24
    before = snapshot()
    stale = send(PAJALA, cast["manager"], preview=True)
    recent = send(A, cast["manager"], preview=True)
    Import.objects.filter(pk=stale.pk).update(previewed_at=timezone.now() - timedelta(hours=25))
    client.force_login(cast["manager"])
    response = client.post(reverse("indicators:import-apply", args=[stale.pk]), follow=True)
    assert (
        "Förhandsgranskningen gick ut efter 24 timmar utan beslut; inget skrevs." in response.text
    )
    stale.refresh_from_db()
    assert stale.status == "discarded" and stale.error_count == 1
    assert snapshot() == before

    Import.objects.filter(pk=recent.pk).update(previewed_at=timezone.now() - timedelta(hours=23))
    assert sweep_imports()["expired"] == 0
    Import.objects.filter(pk=recent.pk).update(previewed_at=timezone.now() - timedelta(hours=25))
    assert sweep_imports()["expired"] == 1
    recent.refresh_from_db()
    assert recent.status == "discarded"
    assert recent.errors[0]["message"].startswith("Förhandsgranskningen gick ut")


# ---------------------------------------------------------- who may download the file

ROLES = ["admin", "manager", "reporter", "board", "analyst", "outsider"]


def _downloads(client, cast, record) -> dict[str, int]:
    url = reverse("indicators:import-file", args=[record.pk])
    found = {}
    for name in ROLES:
        client.force_login(cast[name])
        page = client.get(reverse("indicators:import", args=[record.pk])).text
        status = client.get(url).status_code
        assert (url in page) == (status == 200), name  # a link exactly where it works
        found[name] = status
    return found


def test_the_sender_the_writers_of_its_unit_and_administrators_download_a_file(
    cast, client, eager_celery
):
    # Sent by the manager, rows under Primärvården: its reporter writes there too.
    record = send(PAJALA, cast["manager"])
    assert record.org_unit.code == INSIDE
    assert _downloads(client, cast, record) == {
        "admin": 200,
        "manager": 200,
        "reporter": 200,
        "board": 403,
        "analyst": 403,
        "outsider": 403,
    }
    # Sent by an administrator, rows of the division: the reporter's area is not enough.
    record = send(A, cast["admin"])
    assert record.org_unit.code == "div_nara"
    assert _downloads(client, cast, record) == {
        "admin": 200,
        "manager": 200,
        "reporter": 403,
        "board": 403,
        "analyst": 403,
        "outsider": 403,
    }


def test_a_never_applied_preview_is_downloaded_by_the_same_people_only(cast, client, eager_celery):
    record = send(PAJALA, cast["reporter"], preview=True)
    assert record.status == "previewed" and record.org_unit.code == INSIDE
    assert _downloads(client, cast, record) == {
        "admin": 200,
        "manager": 200,
        "reporter": 200,
        "board": 403,
        "analyst": 403,
        "outsider": 403,
    }


def test_a_file_whose_rows_name_no_known_unit_is_for_its_sender_and_administrators(
    cast, client, eager_celery
):
    record = send("telefon_teleq,okand_enhet,2022-T2,total,1,,,\n", cast["manager"])
    assert record.status == "failed" and record.org_unit is None
    assert _downloads(client, cast, record) == {
        "admin": 200,
        "manager": 200,
        "reporter": 403,
        "board": 403,
        "analyst": 403,
        "outsider": 403,
    }


def test_imports_made_before_the_rule_get_their_org_unit(nara):
    from importlib import import_module

    migration = import_module("indicators.migrations.0007_import_again_and_org_unit")
    record = Import.objects.get(filename="measurements.csv")  # Nära's T2, by the command
    assert record.org_unit == OrgUnit.objects.get(code="div_nara")
    Import.objects.update(org_unit=None)
    migration.org_unit_of_imports(apps, None)
    record.refresh_from_db()
    assert record.org_unit.code == "div_nara"
