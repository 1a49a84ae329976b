"""The report forms through the real HTTP client: what they save, what they refuse and say."""

from __future__ import annotations

from decimal import Decimal

import pytest

from audit.models import AuditEntry, Source
from indicators.models import Assessment, Measurement, MeasurementRevision
from scorecard.models import Action, PerspectiveAssessment
from tests.cast import PERIOD, db_state

NARA = "div_nara"
SHARE = "utskrivningsklara_1dygn"  # percent, with count breakdowns beside it
BASE = f"/rapportera/{NARA}/{PERIOD}/"


@pytest.fixture
def manager(client, cast):
    client.force_login(cast["manager"])
    return cast["manager"]


def _value_url(indicator: str, breakdown: str = "total") -> str:
    return f"{BASE}styrmatt/{indicator}/utfall/{breakdown}/"


def test_correcting_a_value_keeps_the_old_one_and_records_the_change(client, manager):
    old = Measurement.objects.get(
        indicator__code=SHARE, org_unit__code=NARA, period=PERIOD, breakdown="total"
    )
    response = client.post(
        _value_url(SHARE),
        {
            "total-value": "35,9",
            "total-numerator": "369",
            "total-denominator": "1029",
            "total-comment": "Rättat efter journalgranskning",
        },
    )
    assert response.status_code == 302
    measurement = Measurement.objects.get(pk=old.pk)
    assert measurement.value == Decimal("35.9")
    assert (measurement.numerator, measurement.denominator) == (369, 1029)
    assert measurement.entered_by == manager and measurement.source_import is None
    revision = MeasurementRevision.objects.get(measurement=measurement)
    assert revision.value == old.value
    entry = AuditEntry.objects.get(object_id=str(measurement.pk), operation="update")
    assert entry.source == Source.FORM and entry.username == "manager"
    assert entry.changes["value"] == ["36", "35.9"]
    assert entry.changes["numerator"] == [None, "369"]
    assert client.get(response["Location"]).status_code == 200


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"total-value": "50", "total-numerator": "370", "total-denominator": "1029"},
            "value",
            "Utfallet stämmer inte med täljare och nämnare (som ger 36,0).",
        ),
        (
            {"total-value": "36", "total-numerator": "370", "total-denominator": ""},
            "denominator",
            "Ange både täljare och nämnare, eller ingen av dem.",
        ),
        (
            {"total-value": "36", "total-numerator": "0", "total-denominator": "0"},
            "denominator",
            "Nämnaren måste vara större än noll.",
        ),
        ({"total-value": "tjugo"}, "value", "Fyll i ett tal."),
        ({"total-value": ""}, "value", "Det här fältet är obligatoriskt."),
    ],
)
def test_bad_values_are_refused_with_a_message_beside_the_field(
    client, manager, data, field, message
):
    before = db_state()
    response = client.post(_value_url(SHARE), data)
    assert response.status_code == 400
    assert db_state() == before
    html = response.text
    # The message sits in the field's own error list, which the input points at.
    error_list = f'<ul class="errorlist" id="id_total-{field}_error"><li>{message}</li></ul>'
    assert error_list in html
    assert 'aria-describedby="id_total-' + field + '_error"' in html
    assert 'aria-invalid="true"' in html


def test_count_breakdowns_of_a_share_take_no_numerator(client, manager):
    page = client.get(f"{BASE}styrmatt/{SHARE}/").text
    assert 'name="total-numerator"' in page
    assert 'name="count_vtf_total-numerator"' not in page


def test_messages_in_english(client, manager, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.post(_value_url(SHARE), {"total-value": ""})
    assert response.status_code == 400
    assert "This field is required." in response.text


def test_override_needs_a_comment_and_keeps_the_computed_status(client, manager):
    url = f"{BASE}styrmatt/{SHARE}/bedomning/"
    assessment = Assessment.objects.get(indicator__code=SHARE, org_unit__code=NARA, period=PERIOD)
    response = client.post(url, {"status": "fulfilled", "comment": " "})
    assert response.status_code == 400
    assert "En manuell bedömning måste motiveras." in response.text
    assert Assessment.objects.get(pk=assessment.pk).override_status == ""

    response = client.post(url, {"status": "fulfilled", "comment": "Ny rutin från juni."})
    assert response.status_code == 302
    stored = Assessment.objects.get(pk=assessment.pk)
    assert stored.override_status == "fulfilled"
    assert stored.computed_status == assessment.computed_status == "not_fulfilled"
    report = client.get(BASE).text
    assert "Manuell bedömning" in report and "beräknad" in report
    assert "Ny rutin från juni." in report


def test_analysis_is_saved_per_indicator_and_period(client, manager):
    response = client.post(f"{BASE}styrmatt/{SHARE}/analys/", {"analysis": "Bristande flöde."})
    assert response.status_code == 302
    assessment = Assessment.objects.get(indicator__code=SHARE, org_unit__code=NARA, period=PERIOD)
    assert assessment.analysis == "Bristande flöde."
    assert AuditEntry.objects.filter(object_id=str(assessment.pk), source="form").exists()


def test_perspective_assessment_needs_status_and_text(client, manager):
    url = f"{BASE}perspektiv/verksamhet/"
    response = client.post(url, {"status": "", "text": ""})
    assert response.status_code == 400
    assert response.text.count("Det här fältet är obligatoriskt.") == 2
    # Verksamhet rolls up to "not fulfilled": judging it otherwise says why.
    response = client.post(
        url,
        {"status": "partly", "text": "Tillgängligheten brister.", "justification": "Nära."},
    )
    assert response.status_code == 302
    item = PerspectiveAssessment.objects.get(
        org_unit__code=NARA, perspective__code="verksamhet", period=PERIOD
    )
    assert (item.status, item.updated_by) == ("partly", manager)


def test_action_plan_add_and_edit(client, manager):
    from scorecard.models import Perspective, SuccessFactor

    verksamhet = Perspective.objects.get(code="verksamhet")
    factor = SuccessFactor.objects.get(
        code="sf_primarvarden_nav", scorecard__org_unit__code="div_nara"
    )
    data = {
        "perspective": verksamhet.pk,
        "success_factor": factor.pk,
        "number": "12",
        "goal": "Fast vårdkontakt för fler",
        "description": "Listning hos fast läkare",
        "status": "not_started",
        "owner": "Primärvårdschef",
        "due_date": "2022-12-31",
        "comment": "",
    }
    response = client.post(f"{BASE}atgarder/ny/", data)
    assert response.status_code == 302
    action = Action.objects.get(goal="Fast vårdkontakt för fler")
    assert action.org_unit.code == NARA and action.status == "not_started"
    response = client.post(f"{BASE}atgarder/{action.pk}/", {**data, "status": "paused"})
    assert response.status_code == 302
    assert Action.objects.get(pk=action.pk).status == "paused"
    entries = AuditEntry.objects.filter(object_id=str(action.pk), content_type__model="action")
    assert [e.operation for e in entries.order_by("pk")] == ["create", "update"]
    assert entries.order_by("pk").last().changes == {"status": ["not_started", "paused"]}


def test_action_factor_must_belong_to_the_perspective(client, manager):
    from scorecard.models import Perspective, SuccessFactor

    response = client.post(
        f"{BASE}atgarder/ny/",
        {
            "perspective": Perspective.objects.get(code="ekonomi").pk,
            "success_factor": SuccessFactor.objects.get(
                code="sf_primarvarden_nav", scorecard__org_unit__code="div_nara"
            ).pk,
            "goal": "x",
            "description": "y",
            "status": "ongoing",
        },
    )
    assert response.status_code == 400
    assert "Framgångsfaktorn hör till ett annat perspektiv (Verksamhet)." in response.text
    assert not Action.objects.filter(goal="x").exists()


def test_actions_of_another_unit_are_not_found_here(client, cast, manager):
    from scorecard.models import Perspective
    from tests.cast import OUTSIDE

    other = Action.objects.create(
        org_unit=cast["outsider"].role_assignments.get().org_unit,
        perspective=Perspective.objects.first(),
        goal="Annan",
        description="Annan",
    )
    assert other.org_unit.code == OUTSIDE
    assert client.get(f"{BASE}atgarder/{other.pk}/").status_code == 404


def test_report_page_is_readable_by_the_board_without_edit_links(client, cast):
    client.force_login(cast["board"])
    page = client.get(BASE).text
    assert "Rapport – Division Nära" in page
    assert "Rapportera" not in page and "Lägg till åtgärd" not in page


def test_the_nav_link_leads_to_the_users_report(client, cast):
    client.force_login(cast["manager"])
    response = client.get("/rapportera/")
    assert response.status_code == 302 and response["Location"] == BASE
    page = client.get(BASE).text
    assert 'href="/rapportera/" aria-current="page"' in page
