"""The audit trail: what it records, that it cannot be changed, and where it is read."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, transaction
from django.urls import reverse

from audit.models import AuditEntry, Operation, Source
from audit.services import Actor, ImportedValue, record_import
from divisions.models import OrgUnit
from indicators.editing import set_measurement
from indicators.models import Import, Indicator, Measurement
from scorecard.editing import create_action
from scorecard.models import Action, Perspective
from tests.cast import PERIOD

INDICATOR = "medicinsk_bedomning_3d"


@pytest.fixture
def entry(cast) -> AuditEntry:
    measurement, _ = set_measurement(
        user=cast["manager"],
        indicator=Indicator.objects.get(code=INDICATOR),
        org_unit=OrgUnit.objects.get(code="avp_pajala"),
        period=PERIOD,
        value=Decimal("88.5"),
        source=Source.FORM,
    )
    return AuditEntry.objects.get(object_id=str(measurement.pk), content_type__model="measurement")


def test_a_form_write_records_who_when_what_and_where(entry):
    assert entry.operation == Operation.CREATE
    assert (entry.username, entry.source, entry.period) == ("manager", Source.FORM, PERIOD)
    assert entry.org_unit.code == "avp_pajala"
    assert entry.changes["value"] == [None, "88.5"]
    assert entry.at is not None


def test_the_trail_cannot_be_updated_or_deleted_even_in_the_database(entry):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(username="someone else")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()
    assert AuditEntry.objects.get(pk=entry.pk).username == "manager"


def test_the_admin_shows_and_filters_but_never_edits_the_trail(client, cast, entry):
    client.force_login(cast["admin"])
    changelist = reverse("admin:audit_auditentry_changelist")
    page = client.get(changelist, {"source": "form"})
    assert page.status_code == 200 and entry.object_repr in page.text
    assert client.get(changelist, {"source": "import"}).text.count(entry.object_repr) == 0
    assert client.get(reverse("admin:audit_auditentry_add")).status_code == 403
    change = reverse("admin:audit_auditentry_change", args=[entry.pk])
    assert client.get(change).status_code == 200  # read-only view
    assert client.post(change, {"username": "x"}).status_code == 403
    delete = reverse("admin:audit_auditentry_delete", args=[entry.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert AuditEntry.objects.get(pk=entry.pk).username == "manager"


@pytest.mark.parametrize("role", ["manager", "reporter", "board", "analyst", "outsider"])
def test_non_administrators_are_refused_in_the_admin(client, cast, entry, role):
    client.force_login(cast[role])
    assert client.get(reverse("admin:audit_auditentry_changelist")).status_code == 403
    assert client.get(reverse("admin:index")).status_code == 403


@pytest.mark.parametrize("role", ["admin", "manager", "board", "analyst", "outsider"])
def test_the_history_of_an_object_is_readable_in_the_app(client, cast, entry, role):
    client.force_login(cast[role])
    page = client.get(f"/historik/utfall/{entry.object_id}/")
    assert page.status_code == 200
    assert "Ändringshistorik" in page.text and "manager" in page.text
    assert "88.5" in page.text and "Formulär" in page.text


def test_history_needs_a_login_and_a_known_kind(client, cast, entry):
    assert client.get(f"/historik/utfall/{entry.object_id}/").status_code == 302
    client.force_login(cast["board"])
    assert client.get(f"/historik/hemligt/{entry.object_id}/").status_code == 404
    assert client.get("/historik/utfall/999999/").status_code == 404


def test_the_history_page_has_no_way_to_change_anything(client, cast, entry):
    client.force_login(cast["admin"])
    url = f"/historik/utfall/{entry.object_id}/"
    assert "<form" not in client.get(url).text.split('<main id="main"')[1]
    assert client.post(url).status_code == 405


def test_report_history_lists_values_and_actions(client, cast, entry):
    create_action(
        user=cast["manager"],
        org_unit=OrgUnit.objects.get(code="avp_pajala"),
        perspective=Perspective.objects.get(code="verksamhet"),
        goal="Kortare väntan",
        description="Drop-in",
        source=Source.FORM,
    )
    client.force_login(cast["board"])
    page = client.get(f"/historik/rapport/avp_pajala/{PERIOD}/").text
    assert entry.object_repr in page and "Kortare väntan" in page


def test_admin_changes_are_recorded_with_before_and_after(client, cast):
    action = create_action(
        user=cast["admin"],
        org_unit=OrgUnit.objects.get(code="div_nara"),
        perspective=Perspective.objects.get(code="ekonomi"),
        goal="Budget i balans",
        description="Månadsuppföljning",
        status="ongoing",
    )
    client.force_login(cast["admin"])
    url = reverse("admin:scorecard_action_change", args=[action.pk])
    response = client.post(
        url,
        {
            "org_unit": action.org_unit_id,
            "perspective": action.perspective_id,
            "goal": "Budget i balans",
            "description": "Veckouppföljning",
            "status": "done",
        },
    )
    assert response.status_code == 302
    entry = AuditEntry.objects.filter(object_id=str(action.pk)).latest("pk")
    assert entry.source == Source.ADMIN and entry.operation == Operation.UPDATE
    assert entry.changes == {
        "description": ["Månadsuppföljning", "Veckouppföljning"],
        "status": ["ongoing", "done"],
    }
    client.post(reverse("admin:scorecard_action_delete", args=[action.pk]), {"post": "yes"})
    assert not Action.objects.filter(pk=action.pk).exists()
    deleted = AuditEntry.objects.filter(object_id=str(action.pk)).latest("pk")
    assert deleted.operation == Operation.DELETE
    assert deleted.changes["goal"] == ["Budget i balans", None]


def test_structure_changes_in_the_admin_are_recorded(client, cast):
    client.force_login(cast["admin"])
    unit = OrgUnit.objects.get(code="avp_pajala")
    response = client.post(
        reverse("admin:divisions_orgunit_change", args=[unit.pk]),
        {
            "code": unit.code,
            "name": "Vårdplatser Pajala",
            "kind": unit.kind,
            "parent": unit.parent_id,
            "valid_from": "",
            "valid_to": "",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    entry = AuditEntry.objects.filter(content_type__model="orgunit").latest("pk")
    assert entry.changes["name"] == ["Allmänmedicinska vårdplatser Pajala", "Vårdplatser Pajala"]
    assert entry.org_unit_id == unit.pk


def test_record_import_writes_one_entry_per_changed_value_in_bulk(
    cast, django_assert_max_num_queries
):
    indicator = Indicator.objects.get(code=INDICATOR)
    unit = OrgUnit.objects.get(code="avp_pajala")
    record = Import.objects.create(filename="t2.csv", sha256="0" * 64, size=1, source="upload")

    def value(pk: int, breakdown: str, row: int, before, after) -> ImportedValue:
        return ImportedValue(pk, indicator.pk, unit.pk, PERIOD, breakdown, row, before, after)

    values = [
        value(101, "women", 3, None, {"value": "90", "comment": ""}),
        value(102, "men", 4, None, {"value": "91", "comment": "K"}),
        value(100, "total", 2, {"value": "90", "comment": ""}, {"value": "91", "comment": ""}),
        value(103, "total", 5, {"value": "7", "comment": ""}, {"value": "7", "comment": ""}),
    ]
    with django_assert_max_num_queries(5):
        count = record_import(
            import_record=record,
            user=cast["manager"],
            values=values,
            content_type=ContentType.objects.get_for_model(Measurement),
            indicator_codes={indicator.pk: indicator.code},
            unit_codes={unit.pk: unit.code},
        )
    assert count == 3  # the unchanged value leaves no entry
    entries = AuditEntry.objects.filter(source=Source.IMPORT).order_by("pk")
    assert [e.operation for e in entries] == ["create", "create", "update"]
    assert entries[2].changes == {"value": ["90", "91"]}
    assert entries[2].reference == f"import {record.pk} (t2.csv), rad 2"
    assert entries[0].object_repr == f"{INDICATOR} avp_pajala {PERIOD} women"
    assert entries[0].username == "manager" and entries[0].org_unit_id == unit.pk


def test_actor_from_request_keeps_the_address(rf, cast):
    request = rf.get("/", REMOTE_ADDR="10.1.2.3")
    request.user = cast["manager"]
    actor = Actor.from_request(request, Source.FORM)
    assert (actor.user_id, actor.remote_addr, actor.username) == (
        cast["manager"].pk,
        "10.1.2.3",
        "manager",
    )
