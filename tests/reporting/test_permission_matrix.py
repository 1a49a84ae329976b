"""The permission matrix: each role x each write path x inside/outside its scope x open or
closed period. Every refusal is a 403 with the database unchanged (audit trail included);
every permitted write changes the database and leaves an audit entry naming its source.

Write paths: the browser forms (reporting/), the admin, the REST API (/api/v1/) and the
import service (which refuses rows of a closed period and audits each replaced value).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from audit.models import AuditEntry, Source
from audit.services import Actor
from divisions.models import OrgUnit
from indicators.editing import set_measurement
from indicators.models import Assessment, Indicator, Measurement
from scorecard import closing
from scorecard.editing import create_action, set_perspective_assessment
from scorecard.models import Action, Perspective, PerspectiveAssessment
from tests.cast import CAST, INSIDE, OUTSIDE, PERIOD, db_state

# The whole matrix (hundreds of cases) is a tier of its own: make test runs it, make
# test-fast leaves it out.
pytestmark = pytest.mark.matrix

INDICATOR = "medicinsk_bedomning_3d"
ROLES = list(CAST)
# Who may write where (the closed period aside).
WRITES = {
    "admin": {INSIDE, OUTSIDE},
    "manager": {INSIDE},
    "reporter": {INSIDE},
    "board": set(),
    "analyst": set(),
    "outsider": {OUTSIDE},
}


@dataclass
class World:
    units: dict[str, OrgUnit]
    actions: dict[str, Action]
    perspective_assessments: dict[str, PerspectiveAssessment]


@pytest.fixture
def world(cast) -> World:
    """A value, an assessment, a perspective assessment and an action in both units."""
    admin = cast["admin"]
    indicator = Indicator.objects.get(code=INDICATOR)
    verksamhet = Perspective.objects.get(code="verksamhet")
    units, actions, assessments = {}, {}, {}
    for code in (INSIDE, OUTSIDE):
        unit = OrgUnit.objects.get(code=code)
        units[code] = unit
        set_measurement(
            user=admin, indicator=indicator, org_unit=unit, period=PERIOD, value=Decimal(80)
        )
        assessments[code], _ = set_perspective_assessment(
            user=admin, org_unit=unit, perspective=verksamhet, period=PERIOD, status="partly"
        )
        actions[code] = create_action(
            user=admin,
            org_unit=unit,
            perspective=verksamhet,
            goal="Kortare väntetider",
            description="Ny tidbok",
            status="not_started",
        )
    return World(units, actions, assessments)


def close_nara(cast) -> None:
    """Close T2 on the division: the subtree (Primärvården, Pajala) is closed with it."""
    nara = OrgUnit.objects.get(code="div_nara")
    closing.close_period(actor=Actor(cast["admin"], Source.FORM), org_unit=nara, period=PERIOD)


# ----------------------------------------------------------------------------- forms


def _report(unit: str, *rest: str) -> str:
    return f"/rapportera/{unit}/{PERIOD}/" + "".join(f"{part}/" for part in rest)


def form_value(world: World, unit: str):
    return _report(unit, "styrmatt", INDICATOR, "utfall", "total"), {
        "total-value": "85",
        "total-numerator": "",
        "total-denominator": "",
        "total-comment": "Rättat värde",
    }


def form_analysis(world: World, unit: str):
    return _report(unit, "styrmatt", INDICATOR, "analys"), {"analysis": "Analys av utfallet."}


def form_override(world: World, unit: str):
    return _report(unit, "styrmatt", INDICATOR, "bedomning"), {
        "status": "fulfilled",
        "comment": "Målet nås på helår.",
    }


def form_perspective(world: World, unit: str):
    return _report(unit, "perspektiv", "verksamhet"), {
        "status": "fulfilled",
        "text": "Samlad bedömning.",
        # The judged status may differ from the computed roll-up: then a reason is required.
        "justification": "Målet nås på helår.",
    }


def _action_data(world: World) -> dict:
    return {
        "perspective": Perspective.objects.get(code="verksamhet").pk,
        "success_factor": "",
        "number": "7",
        "goal": "Fler besök",
        "description": "Utöka öppettiderna",
        "status": "ongoing",
        "owner": "Verksamhetschef",
        "due_date": "2022-12-31",
        "comment": "",
    }


def form_action_new(world: World, unit: str):
    return _report(unit, "atgarder", "ny"), _action_data(world)


def form_action_edit(world: World, unit: str):
    return _report(unit, "atgarder", str(world.actions[unit].pk)), _action_data(world)


FORM_PATHS = {
    "value": (form_value, True),
    "analysis": (form_analysis, True),
    "override": (form_override, True),
    "perspective": (form_perspective, True),
    # The action plan is the period's (the form's period): a closed period freezes it.
    "action_new": (form_action_new, True),
    "action_edit": (form_action_edit, True),
}


def _expect(role: str, unit: str, closed: bool, period_bound: bool) -> bool:
    if unit not in WRITES[role]:
        return False
    # Only Nära's subtree (INSIDE) is closed; OUTSIDE stays open.
    return not (closed and period_bound and unit == INSIDE)


@pytest.mark.parametrize("closed", [False, True], ids=["open", "closed"])
@pytest.mark.parametrize("unit", [INSIDE, OUTSIDE], ids=["inside", "outside"])
@pytest.mark.parametrize("path", list(FORM_PATHS))
@pytest.mark.parametrize("role", ROLES)
def test_form_writes(client, cast, world, role, path, unit, closed):
    if closed:
        close_nara(cast)
    build, period_bound = FORM_PATHS[path]
    url, data = build(world, unit)
    client.force_login(cast[role])
    before = db_state()
    response = client.post(url, data)
    if _expect(role, unit, closed, period_bound):
        assert response.status_code == 302, response.content[:2000]
        assert db_state() != before
        entry = AuditEntry.objects.latest("pk")
        assert (entry.username, entry.source) == (role, Source.FORM)
    else:
        assert response.status_code == 403
        assert db_state() == before


@pytest.mark.parametrize("path", ["value", "analysis", "override", "perspective"])
def test_closed_period_form_says_why(client, cast, world, path):
    close_nara(cast)
    url, data = FORM_PATHS[path][0](world, INSIDE)
    client.force_login(cast["manager"])
    response = client.post(url, data)
    assert response.status_code == 403
    assert "Perioden 2022-T2 är stängd för Division Nära" in response.text


@pytest.mark.parametrize("role", ROLES)
def test_edit_pages_are_refused_outside_the_scope(client, cast, world, role):
    client.force_login(cast[role])
    url = _report(INSIDE, "styrmatt", INDICATOR)
    expected = 200 if INSIDE in WRITES[role] else 403
    assert client.get(url).status_code == expected


def test_anonymous_is_sent_to_login_and_nothing_changes(client, cast, world):
    url, data = form_value(world, INSIDE)
    before = db_state()
    response = client.post(url, data)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert db_state() == before


# ----------------------------------------------------------------------------- admin


def admin_perspective_assessment(world: World, unit: str):
    item = world.perspective_assessments[unit]
    return reverse("admin:scorecard_perspectiveassessment_change", args=[item.pk]), {
        "org_unit": item.org_unit_id,
        "perspective": item.perspective_id,
        "period": item.period,
        "status": "fulfilled",
        "text": "Ändrad i administrationen.",
    }


def admin_action(world: World, unit: str):
    item = world.actions[unit]
    return reverse("admin:scorecard_action_change", args=[item.pk]), {
        "org_unit": item.org_unit_id,
        "perspective": item.perspective_id,
        "success_factor": "",
        "number": "9",
        "goal": item.goal,
        "description": "Ändrad i administrationen",
        "status": "done",
        "comment": "",
        "owner": "",
        "due_date": "",
    }


ADMIN_PATHS = {
    "perspective_assessment": (admin_perspective_assessment, True),
    "action": (admin_action, False),
}
# The admin pages are the administrators': everyone else is refused there, in scope or not.
ADMIN_WRITES = {role: (WRITES[role] if role == "admin" else set()) for role in ROLES}


@pytest.mark.parametrize("closed", [False, True], ids=["open", "closed"])
@pytest.mark.parametrize("unit", [INSIDE, OUTSIDE], ids=["inside", "outside"])
@pytest.mark.parametrize("path", list(ADMIN_PATHS))
@pytest.mark.parametrize("role", ROLES)
def test_admin_writes(client, cast, world, role, path, unit, closed):
    if closed:
        close_nara(cast)
    build, period_bound = ADMIN_PATHS[path]
    url, data = build(world, unit)
    client.force_login(cast[role])
    before = db_state()
    response = client.post(url, data)
    allowed = unit in ADMIN_WRITES[role] and not (closed and period_bound and unit == INSIDE)
    if allowed:
        assert response.status_code == 302, response.content[:3000]
        assert db_state() != before
        entry = AuditEntry.objects.latest("pk")
        assert (entry.username, entry.source) == (role, Source.ADMIN)
    else:
        assert response.status_code == 403
        assert db_state() == before


# ----------------------------------------------------------------------------- API

API = "/api/v1"


def api_create_measurement(world: World, unit: str):
    return (
        "post",
        f"{API}/measurements/",
        {
            "indicator": INDICATOR,
            "org_unit": unit,
            "period": PERIOD,
            "breakdown": "women",
            "value": 81,
        },
    )


def api_update_measurement(world: World, unit: str):
    measurement = Measurement.objects.get(
        indicator__code=INDICATOR, org_unit__code=unit, period=PERIOD, breakdown="total"
    )
    return "patch", f"{API}/measurements/{measurement.pk}/", {"value": 86, "comment": "API"}


def api_override(world: World, unit: str):
    assessment = Assessment.objects.get(
        indicator__code=INDICATOR, org_unit__code=unit, period=PERIOD
    )
    return (
        "patch",
        f"{API}/assessments/{assessment.pk}/",
        {
            "override_status": "fulfilled",
            "override_comment": "Via API.",
        },
    )


def api_set_perspective_assessment(world: World, unit: str):
    return (
        "post",
        f"{API}/perspective-assessments/",
        {
            "org_unit": unit,
            "perspective": "ekonomi",
            "period": PERIOD,
            "status": "partly",
            "text": "Via API.",
        },
    )


def api_update_perspective_assessment(world: World, unit: str):
    item = world.perspective_assessments[unit]
    return "patch", f"{API}/perspective-assessments/{item.pk}/", {"status": "fulfilled"}


def api_update_action(world: World, unit: str):
    return "patch", f"{API}/actions/{world.actions[unit].pk}/", {"status": "done"}


API_PATHS = {
    "create_measurement": (api_create_measurement, True),
    "update_measurement": (api_update_measurement, True),
    "override": (api_override, True),
    "set_perspective_assessment": (api_set_perspective_assessment, True),
    "update_perspective_assessment": (api_update_perspective_assessment, True),
    "update_action": (api_update_action, False),
}


@pytest.mark.parametrize("closed", [False, True], ids=["open", "closed"])
@pytest.mark.parametrize("unit", [INSIDE, OUTSIDE], ids=["inside", "outside"])
@pytest.mark.parametrize("path", list(API_PATHS))
@pytest.mark.parametrize("role", ROLES)
def test_api_writes(cast, world, role, path, unit, closed):
    from rest_framework.test import APIClient

    if closed:
        close_nara(cast)
    build, period_bound = API_PATHS[path]
    method, url, data = build(world, unit)
    client = APIClient()
    client.force_login(cast[role])
    before = db_state()
    response = getattr(client, method)(url, data, format="json")
    if _expect(role, unit, closed, period_bound):
        assert response.status_code in (200, 201), response.content[:2000]
        assert db_state() != before
        entry = AuditEntry.objects.latest("pk")
        assert (entry.username, entry.source) == (role, Source.API)
    else:
        assert response.status_code == 403, response.content[:2000]
        assert db_state() == before


# ----------------------------------------------------------------------------- import
#
def _import(user, unit: str, value: str = "77"):
    import io

    from indicators.imports.run import import_measurements

    body = f"indicator,org_unit,period,breakdown,value\n{INDICATOR},{unit},{PERIOD},total,{value}\n"
    return import_measurements(
        fileobj=io.BytesIO(body.encode()), filename="t2.csv", user=user, source="upload"
    )


def _import_params():
    for role in ROLES:
        for unit in (INSIDE, OUTSIDE):
            for closed in (False, True):
                yield pytest.param(
                    role, unit, closed, id=f"{role}-{unit}-{'closed' if closed else 'open'}"
                )


@pytest.mark.parametrize(("role", "unit", "closed"), list(_import_params()))
def test_import_writes(cast, world, role, unit, closed):
    from indicators.imports.run import ImportRejected

    if closed:
        close_nara(cast)
    before = db_state()
    if _expect(role, unit, closed, period_bound=True):
        _import(cast[role], unit)
        assert db_state() != before
    else:
        with pytest.raises((ImportRejected, PermissionDenied)):
            _import(cast[role], unit)
        assert db_state() == before


def test_import_changes_are_in_the_audit_trail(cast, world):
    _import(cast["manager"], INSIDE, value="79")
    entry = AuditEntry.objects.latest("pk")
    assert entry.source == Source.IMPORT and entry.username == "manager"
    assert entry.changes["value"] == ["80", "79"]
    assert "t2.csv" in entry.reference


def test_a_user_with_two_scopes_writes_in_both_and_nowhere_else(client, cast, world):
    from divisions.models import Role, RoleAssignment

    user = cast["reporter"]  # Primärvården (with Pajala) ...
    RoleAssignment.objects.create(user=user, role=Role.REPORTER, org_unit=world.units[OUTSIDE])
    client.force_login(user)
    for unit in (INSIDE, OUTSIDE):
        url, data = form_perspective(world, unit)
        assert client.post(url, data).status_code == 302, unit
    url, data = form_perspective(world, "folktandvarden")  # ... but not the dental service
    before = db_state()
    assert client.post(url, data).status_code == 403
    assert db_state() == before


def test_writer_roles_must_name_their_scope(db):
    from django.contrib.auth import get_user_model
    from django.db import IntegrityError

    from divisions.models import Role, RoleAssignment

    user = get_user_model().objects.create_user(username="utan_enhet")
    with pytest.raises(IntegrityError):
        RoleAssignment.objects.create(user=user, role=Role.REPORTER, org_unit=None)
