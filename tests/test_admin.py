"""The admin pages of divisions, scorecard and indicators, as a superuser sees them."""

import datetime
from decimal import Decimal

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from divisions.models import OrgUnit, RoleAssignment
from indicators.models import (
    Assessment,
    CellComment,
    Import,
    Indicator,
    Measurement,
    MeasurementRevision,
    Placement,
    Target,
)
from scorecard.models import (
    Action,
    PeriodClose,
    Perspective,
    PerspectiveAssessment,
    ReminderSent,
    ReportingDeadline,
    Scorecard,
    StrategicGoal,
    SuccessFactor,
)
from tests.factories import place

APPS = {"divisions", "scorecard", "indicators"}
NO_ADD = {Import, MeasurementRevision, Assessment, PeriodClose, Scorecard, ReminderSent}


@pytest.fixture
def graph(admin_user) -> dict[type, object]:
    """One object of every model the three apps register, keyed by model."""
    now = timezone.now()
    region = OrgUnit.objects.create(code="reg", name="Regionen", kind="region", path="/reg/")
    division = OrgUnit.objects.create(
        code="div", name="Division Nära", kind="division", parent=region, path="/reg/div/"
    )
    perspective = Perspective.objects.create(code="samhalle", name="Samhälle", order=1)
    goal = StrategicGoal.objects.create(code="g1", perspective=perspective, name="Mål ett")
    scorecard = Scorecard.objects.create(org_unit=division, year=2022, name="Nära 2022")
    factor = SuccessFactor.objects.create(
        scorecard=scorecard, code="f1", strategic_goal=goal, name="Faktor ett"
    )
    indicator = Indicator.objects.create(
        code="i1",
        name="Andel patienter som fått vård i tid",
        unit="percent",
        direction="increase",
        aggregation="ratio",
        breakdowns=["total"],
    )
    placement = place(indicator, scorecard, success_factor=factor, follow_up=["T2"])
    target = Target.objects.create(indicator=indicator, kind="at_least", value=Decimal(90))
    record = Import.objects.create(
        filename="utfall.csv", sha256="0" * 64, size=1, source="command", user=admin_user
    )
    measurement = Measurement.objects.create(
        indicator=indicator,
        org_unit=division,
        period="2022-T2",
        breakdown="total",
        value=Decimal(91),
        updated_at=now,
        source_import=record,
        source_row=2,
    )
    revision = MeasurementRevision.objects.create(
        measurement=measurement,
        value=Decimal(80),
        source_import=record,
        source_row=2,
        valid_from=now,
        replaced_at=now,
        replaced_by_import=record,
    )
    assessment = Assessment.objects.create(
        indicator=indicator,
        org_unit=division,
        period="2022-T2",
        computed_status="fulfilled",
        trend="no_data",
        computed_at=now,
    )
    perspective_assessment = PerspectiveAssessment.objects.create(
        org_unit=division, perspective=perspective, period="2022-T2", status="fulfilled"
    )
    action = Action.objects.create(
        org_unit=division,
        perspective=perspective,
        success_factor=factor,
        goal="Kortare väntetider",
        description="Öppna fler tider",
        owner="Verksamhetschef",
    )
    close = PeriodClose.objects.create(
        org_unit=division, period="2021-T3", closed_by=admin_user, closed_at=now
    )
    role = RoleAssignment.objects.create(user=admin_user, role="administrator", org_unit=division)
    cell_comment = CellComment.objects.create(
        indicator=indicator,
        org_unit=division,
        period="2022-T2",
        text="Nytt system",
        author=admin_user,
        created_at=now,
        updated_at=now,
    )
    deadline = ReportingDeadline.objects.create(
        period="2022-T2", due_date=datetime.date(2022, 9, 15), set_by=admin_user
    )
    reminder = ReminderSent.objects.create(
        deadline=deadline,
        org_unit=division,
        kind="before",
        due_date=deadline.due_date,
        recipients=["chef@example.org"],
        missing=3,
        sent_at=now,
    )
    return {
        ReportingDeadline: deadline,
        ReminderSent: reminder,
        OrgUnit: division,
        RoleAssignment: role,
        Perspective: perspective,
        StrategicGoal: goal,
        Scorecard: scorecard,
        SuccessFactor: factor,
        Placement: placement,
        PerspectiveAssessment: perspective_assessment,
        Action: action,
        PeriodClose: close,
        Indicator: indicator,
        Target: target,
        Import: record,
        Measurement: measurement,
        MeasurementRevision: revision,
        Assessment: assessment,
        CellComment: cell_comment,
    }


def _url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.mark.django_db
def test_every_model_has_its_admin_pages(admin_client, graph):
    registered = {model for model in admin.site._registry if model._meta.app_label in APPS}
    assert registered == set(graph)
    for model, obj in graph.items():
        name = model.__name__
        changelist = _url(model, "changelist")
        assert admin_client.get(changelist).status_code == 200, name
        assert admin_client.get(changelist, {"q": "div"}).status_code == 200, name
        assert admin_client.get(_url(model, "change", obj.pk)).status_code == 200, name
        expected = 403 if model in NO_ADD else 200
        assert admin_client.get(_url(model, "add")).status_code == expected, name


@pytest.mark.django_db
def test_filters_answer(admin_client, graph):
    pages = [
        (OrgUnit, {"validity": "current"}),
        (OrgUnit, {"validity": "ended", "kind": "division"}),
        (Measurement, {"period": "2022-T2", "breakdown": "total"}),
        (Assessment, {"computed_status": "fulfilled", "period": "2022-T2"}),
        (Import, {"status": "queued", "source": "command", "q": "0" * 64}),
        (Action, {"org_unit__id__exact": graph[OrgUnit].pk}),
    ]
    for model, params in pages:
        response = admin_client.get(_url(model, "changelist"), params)
        # An unknown filter parameter would redirect (302) to "?e=1".
        assert response.status_code == 200, (model.__name__, params)


@pytest.mark.django_db
def test_validity_filter(admin_client, graph):
    OrgUnit.objects.filter(code="div").update(valid_to=timezone.localdate().replace(year=2000))
    current = admin_client.get(_url(OrgUnit, "changelist"), {"validity": "current"})
    ended = admin_client.get(_url(OrgUnit, "changelist"), {"validity": "ended"})
    assert [u.code for u in current.context["cl"].result_list] == ["reg"]
    assert [u.code for u in ended.context["cl"].result_list] == ["div"]


@pytest.mark.django_db
def test_adding_an_org_unit_sets_its_path(admin_client, graph):
    division = graph[OrgUnit]
    response = admin_client.post(
        _url(OrgUnit, "add"),
        {"code": "vo1", "name": "Område ett", "kind": "area", "parent": division.pk},
    )
    assert response.status_code == 302
    unit = OrgUnit.objects.get(code="vo1")
    assert unit.path == "/reg/div/vo1/"
    entry = AuditEntry.objects.get(object_id=str(unit.pk), content_type__model="orgunit")
    assert (entry.source, entry.operation) == ("admin", "create")


@pytest.mark.django_db
def test_moving_an_org_unit_moves_its_subtree(admin_client, graph):
    division = graph[OrgUnit]
    region = division.parent
    other = OrgUnit.objects.create(
        code="div2", name="Division två", kind="division", parent=region, path="/reg/div2/"
    )
    OrgUnit.objects.create(
        code="vo1", name="Område", kind="area", parent=division, path="/reg/div/vo1/"
    )
    response = admin_client.post(
        _url(OrgUnit, "change", division.pk),
        {"code": "div", "name": division.name, "kind": "area", "parent": other.pk},
    )
    assert response.status_code == 302
    assert OrgUnit.objects.get(code="div").path == "/reg/div2/div/"
    assert OrgUnit.objects.get(code="vo1").path == "/reg/div2/div/vo1/"
    # Under itself would be a cycle.
    response = admin_client.post(
        _url(OrgUnit, "change", other.pk),
        {"code": "div2", "name": other.name, "kind": "division", "parent": division.pk},
    )
    assert response.status_code == 200
    assert "parent" in response.context["adminform"].form.errors


@pytest.mark.django_db
def test_saving_an_org_unit_through_the_service_moves_its_subtree(graph):
    """The one write path (admin and definitions loader alike) keeps the paths in step."""
    from audit.services import SYSTEM
    from divisions.services import OrgUnitSpec, save_org_unit, upsert_org_units

    division = graph[OrgUnit]
    other = OrgUnit.objects.create(
        code="div2", name="Division två", kind="division", parent=division.parent, path="/reg/div2/"
    )
    OrgUnit.objects.create(
        code="vo1", name="Område", kind="area", parent=division, path="/reg/div/vo1/"
    )
    division.parent = other
    save_org_unit(unit=division, actor=SYSTEM)
    assert OrgUnit.objects.get(code="div").path == "/reg/div2/div/"
    assert OrgUnit.objects.get(code="vo1").path == "/reg/div2/div/vo1/"
    entry = AuditEntry.objects.get(object_id=str(division.pk), content_type__model="orgunit")
    assert (entry.source, entry.changes["parent"]) == ("system", [other.parent_id, other.pk])
    # And back through the loader, which records nothing.
    upsert_org_units(specs=[OrgUnitSpec("div", division.name, "division", "reg")])
    assert OrgUnit.objects.get(code="vo1").path == "/reg/div/vo1/"
    assert AuditEntry.objects.filter(content_type__model="orgunit").count() == 1


@pytest.mark.django_db
def test_correcting_a_measurement_keeps_the_old_value(admin_client, admin_user, graph):
    measurement = graph[Measurement]
    response = admin_client.post(
        _url(Measurement, "change", measurement.pk),
        {"value": "50", "numerator": "", "denominator": "", "comment": "rättad"},
    )
    assert response.status_code == 302
    measurement.refresh_from_db()
    assert measurement.value == Decimal(50)
    assert (measurement.source_import, measurement.source_row) == (None, None)
    assert measurement.entered_by == admin_user
    kept = measurement.revisions.order_by("-pk").first()
    assert (kept.value, kept.source_row) == (Decimal(91), 2)
    assessment = Assessment.objects.get(pk=graph[Assessment].pk)
    assert assessment.computed_status == "not_fulfilled"  # 50 < 90 - band
    entry = AuditEntry.objects.get(object_id=str(measurement.pk), content_type__model="measurement")
    assert entry.changes["value"] == ["91", "50"]


def _read_only_inline(prefix: str, *objects) -> dict[str, str]:
    """The management form of an inline whose rows are only shown."""
    rows = {f"{prefix}-{n}-id": str(obj.pk) for n, obj in enumerate(objects)}
    return {
        f"{prefix}-TOTAL_FORMS": str(len(objects)),
        f"{prefix}-INITIAL_FORMS": str(len(objects)),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
        **rows,
    }


@pytest.mark.django_db
def test_targets_edited_on_the_indicator_page_are_recorded(admin_client, graph):
    indicator, target = graph[Indicator], graph[Target]
    form = {
        "code": indicator.code,
        "name": indicator.name,
        "unit": "percent",
        "direction": "increase",
        "aggregation": "ratio",
        "breakdowns": '["total"]',
        "trend_band": "0",
        **_read_only_inline("placements", graph[Placement]),
        "targets-TOTAL_FORMS": "1",
        "targets-INITIAL_FORMS": "1",
        "targets-MIN_NUM_FORMS": "0",
        "targets-MAX_NUM_FORMS": "1000",
        "targets-0-id": target.pk,
        "targets-0-indicator": indicator.pk,
        "targets-0-kind": "at_least",
        "targets-0-value": "40",
    }
    response = admin_client.post(_url(Indicator, "change", indicator.pk), form)
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.value == Decimal(40)
    entry = AuditEntry.objects.get(object_id=str(target.pk), content_type__model="target")
    assert entry.changes["value"] == ["90", "40"]
    # The new target is applied at once: 91 >= 40.
    assert (
        Assessment.objects.get(pk=graph[Assessment].pk).computed_at > graph[Assessment].computed_at
    )


@pytest.mark.django_db
def test_users_roles_are_on_the_user_page(admin_client, admin_user, graph):
    response = admin_client.get(reverse("admin:auth_user_change", args=[admin_user.pk]))
    assert response.status_code == 200
    assert b"role_assignments-0-role" in response.content


@pytest.mark.django_db
def test_administrator_who_is_no_superuser_only_views_measurements(
    client, django_user_model, graph
):
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("analytiker", is_staff=True)
    RoleAssignment.objects.create(user=user, role="administrator")
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_measurement", "change_measurement"])
    )
    client.force_login(user)
    measurement = graph[Measurement]
    page = client.get(_url(Measurement, "change", measurement.pk))
    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    assert client.get(_url(Measurement, "add")).status_code == 403


@pytest.mark.django_db
def test_admin_is_closed_to_others(client, django_user_model):
    # Anonymous: to the login page. Signed in but no administrator: a plain 403
    # (config.security.AdminOnlyForAdministratorsMiddleware), not the admin's login form.
    assert client.get("/admin/").status_code == 302
    user = django_user_model.objects.create_user("rapportor", password="x" * 12)
    client.force_login(user)
    assert client.get("/admin/").status_code == 403


@pytest.mark.django_db
def test_a_scorecards_page_shows_its_success_factors_and_placements(admin_client, graph):
    scorecard = graph[Scorecard]
    page = admin_client.get(_url(Scorecard, "change", scorecard.pk))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Faktor ett" in html and "Andel patienter som fått vård i tid" in html
    # Whose and which year are fixed; the name is edited and recorded.
    form = {
        "name": "Division Nära 2022",
        **_read_only_inline("success_factors", graph[SuccessFactor]),
        **_read_only_inline("placements", graph[Placement]),
    }
    response = admin_client.post(_url(Scorecard, "change", scorecard.pk), form)
    assert response.status_code == 302
    scorecard.refresh_from_db()
    assert (scorecard.name, scorecard.year, scorecard.org_unit) == (
        "Division Nära 2022",
        2022,
        graph[OrgUnit],
    )
    entry = AuditEntry.objects.get(object_id=str(scorecard.pk), content_type__model="scorecard")
    assert (entry.source, entry.changes["name"]) == ("admin", ["Nära 2022", "Division Nära 2022"])
    assert admin_client.get(_url(Scorecard, "delete", scorecard.pk)).status_code == 403


def _placement_form(placement: Placement, **changes) -> dict:
    form = {
        "scorecard": placement.scorecard_id,
        "indicator": placement.indicator_id,
        "success_factor": placement.success_factor_id,
        "name": placement.name,
        "breakdowns": '["total"]',
        "follow_up": '["T2"]',
        "baseline_text": "",
        "order": "0",
    }
    return {**form, **changes}


@pytest.mark.django_db
def test_a_placement_is_edited_recorded_and_judged_again(admin_client, graph):
    placement, assessment = graph[Placement], graph[Assessment]
    url = _url(Placement, "change", placement.pk)
    response = admin_client.post(url, _placement_form(placement, name="Vård i tid"))
    assert response.status_code == 302
    placement.refresh_from_db()
    assert placement.name == "Vård i tid"
    entry = AuditEntry.objects.get(object_id=str(placement.pk), content_type__model="placement")
    assert (entry.source, entry.changes["name"][1]) == ("admin", "Vård i tid")
    # Recomputed: the assessment now remembers the placement that judged it.
    assert Assessment.objects.get(pk=assessment.pk).computed_at > assessment.computed_at


@pytest.mark.django_db
def test_a_placement_refuses_another_scorecards_success_factor(admin_client, graph):
    placement = graph[Placement]
    other = Scorecard.objects.create(org_unit=graph[OrgUnit], year=2023)
    foreign = SuccessFactor.objects.create(
        scorecard=other, code="f1", strategic_goal=graph[StrategicGoal], name="Faktor 2023"
    )
    url = _url(Placement, "change", placement.pk)
    response = admin_client.post(url, _placement_form(placement, success_factor=foreign.pk))
    assert response.status_code == 200
    assert "success_factor" in response.context["adminform"].form.errors
    response = admin_client.post(url, _placement_form(placement, breakdowns='["women"]'))
    assert response.status_code == 200
    assert "breakdowns" in response.context["adminform"].form.errors
    placement.refresh_from_db()
    assert placement.success_factor_id == graph[SuccessFactor].pk


@pytest.mark.django_db(transaction=True)
def test_a_measurement_saved_while_an_import_holds_it_is_a_message_not_a_500(
    client, admin_user, graph, settings
):
    import psycopg
    from django.db import connection

    settings.STYRKORT_EDIT_LOCK_TIMEOUT_MS = 200
    measurement = graph[Measurement]
    client.force_login(admin_user)
    url = _url(Measurement, "change", measurement.pk)
    params = connection.get_connection_params()
    for name in ("cursor_factory", "context", "prepare_threshold"):
        params.pop(name, None)
    # Another connection holds the row, as an import merging its values does.
    holder = psycopg.connect(**params)
    try:
        holder.execute(
            "SELECT 1 FROM indicators_measurement WHERE id = %s FOR UPDATE", [measurement.pk]
        )
        form = {"value": "50", "numerator": "", "denominator": "", "comment": "rättad"}
        response = client.post(url, form)
    finally:
        holder.close()
    assert response.status_code == 302 and response["Location"] == url
    page = client.get(url)
    assert "En import uppdaterar just nu" in page.content.decode()
    measurement.refresh_from_db()
    assert measurement.value == Decimal(91)
    assert not measurement.revisions.exclude(pk=graph[MeasurementRevision].pk).exists()
    assert not AuditEntry.objects.filter(content_type__model="measurement").exists()
    # Once the import is done, the same save goes through.
    assert client.post(url, form).status_code == 302
    measurement.refresh_from_db()
    assert measurement.value == Decimal(50)
