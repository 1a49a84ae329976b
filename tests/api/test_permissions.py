"""The permission matrix: each role x each write operation is allowed, or refused with 403
(401 for anonymous) and nothing changed. Reads are open to every signed-in role."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.forms.models import model_to_dict

from divisions.models import OrgUnit
from indicators.editing import set_measurement
from indicators.models import Assessment, Indicator, Measurement, MeasurementRevision
from scorecard.models import Action, Perspective, PerspectiveAssessment

from .conftest import OTHER_DIVISION

BASE = "/api/v1"


def snapshot() -> dict:
    """Everything a write could change, to prove a refused write changed nothing."""
    return {
        "measurements": sorted(
            tuple(model_to_dict(m).values()) for m in Measurement.objects.order_by("pk")
        ),
        "revisions": MeasurementRevision.objects.count(),
        "assessments": sorted(
            (a.pk, a.override_status, a.override_comment, a.analysis)
            for a in Assessment.objects.all()
        ),
        "perspective_assessments": sorted(
            tuple(model_to_dict(p).values()) for p in PerspectiveAssessment.objects.all()
        ),
        "actions": sorted(str(model_to_dict(a)) for a in Action.objects.all()),
    }


@dataclass(frozen=True)
class Write:
    method: str
    path: Callable[[str], str]  # unit code -> path
    body: Callable[[str], dict]  # unit code -> JSON body


def _measurement(unit: str) -> Measurement:
    return Measurement.objects.filter(org_unit__code=unit).order_by("pk").first()


def _assessment(unit: str) -> Assessment:
    return Assessment.objects.filter(org_unit__code=unit).order_by("pk").first()


def _action(unit: str) -> Action:
    return Action.objects.filter(org_unit__code=unit).order_by("pk").first()


def _perspective_assessment(unit: str) -> PerspectiveAssessment:
    return PerspectiveAssessment.objects.filter(org_unit__code=unit).order_by("pk").first()


WRITES = {
    "create measurement": Write(
        "post",
        lambda unit: f"{BASE}/measurements/",
        lambda unit: {
            "indicator": "besok_filialer",
            "org_unit": unit,
            "period": "2023-T1",
            "value": 123,
        },
    ),
    "update measurement": Write(
        "patch",
        lambda unit: f"{BASE}/measurements/{_measurement(unit).pk}/",
        lambda unit: {"value": 4711, "comment": "rättad"},
    ),
    "override assessment": Write(
        "patch",
        lambda unit: f"{BASE}/assessments/{_assessment(unit).pk}/",
        lambda unit: {"override_status": "partly", "override_comment": "Se analysen."},
    ),
    "set perspective assessment": Write(
        "post",
        lambda unit: f"{BASE}/perspective-assessments/",
        lambda unit: {
            "org_unit": unit,
            "perspective": "ekonomi",
            "period": "2022-T2",
            "status": "partly",
            "text": "Delvis.",
        },
    ),
    "update perspective assessment": Write(
        "patch",
        lambda unit: f"{BASE}/perspective-assessments/{_perspective_assessment(unit).pk}/",
        lambda unit: {"status": "fulfilled"},
    ),
    "create action": Write(
        "post",
        lambda unit: f"{BASE}/actions/",
        lambda unit: {
            "org_unit": unit,
            "perspective": "medarbetare",
            "goal": "Minskad sjukfrånvaro",
            "description": "Hälsosamtal",
        },
    ),
    "update action": Write(
        "patch",
        lambda unit: f"{BASE}/actions/{_action(unit).pk}/",
        lambda unit: {"status": "done"},
    ),
    "delete action": Write(
        "delete", lambda unit: f"{BASE}/actions/{_action(unit).pk}/", lambda unit: {}
    ),
}

# Who may write where: Nära's subtree (a unit in primarvarden, where the reporter works too)
# and the other division.
NARA_UNIT = "avp_pajala"
ALLOWED = {
    "administrator": {NARA_UNIT, OTHER_DIVISION},
    "manager": {NARA_UNIT},
    "reporter": {NARA_UNIT},
    "other_manager": {OTHER_DIVISION},
    "board_member": set(),
    "analyst": set(),
    "anonymous": set(),
}


@pytest.fixture
def targets(cast):
    """Something of every kind to change, in both divisions."""
    admin = cast["administrator"]
    indicator = Indicator.objects.get(code="besok_filialer")
    for code in (NARA_UNIT, OTHER_DIVISION):
        unit = OrgUnit.objects.get(code=code)
        set_measurement(user=admin, indicator=indicator, org_unit=unit, period="2022-T2", value=10)
        PerspectiveAssessment.objects.create(
            org_unit=unit,
            perspective=Perspective.objects.get(code="samhalle"),
            period="2022-T2",
            status="partly",
            text="",
        )
        Action.objects.create(
            org_unit=unit,
            perspective=Perspective.objects.get(code="samhalle"),
            goal="Mål",
            description="Åtgärd",
        )
    assert Assessment.objects.filter(org_unit__code=OTHER_DIVISION).exists()


@pytest.mark.matrix
@pytest.mark.parametrize("role", list(ALLOWED))
@pytest.mark.parametrize("operation", list(WRITES))
@pytest.mark.parametrize("unit", [NARA_UNIT, OTHER_DIVISION])
def test_write_matrix(clients, targets, role, operation, unit):
    write = WRITES[operation]
    path, body = write.path(unit), write.body(unit)
    before = snapshot()
    response = getattr(clients[role], write.method)(path, body, format="json")
    if unit in ALLOWED[role]:
        assert response.status_code in (200, 201, 204), response.content
        assert snapshot() != before
    else:
        expected = 401 if role == "anonymous" else 403
        assert response.status_code == expected, response.content
        assert response["Content-Type"].startswith("application/json")
        assert snapshot() == before


def test_moving_an_action_out_of_ones_subtree_is_refused(clients, targets):
    action = _action(NARA_UNIT)
    before = snapshot()
    response = clients["manager"].patch(
        f"{BASE}/actions/{action.pk}/", {"org_unit": OTHER_DIVISION}, format="json"
    )
    assert response.status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("role", [r for r in ALLOWED if r != "anonymous"])
@pytest.mark.parametrize(
    "resource",
    [
        "org-units",
        "perspectives",
        "strategic-goals",
        "scorecards",
        "success-factors",
        "indicators",
        "placements",
        "measurements",
        "assessments",
        "perspective-assessments",
        "actions",
    ],
)
def test_every_role_reads_everything(clients, targets, role, resource):
    response = clients[role].get(f"{BASE}/{resource}/")
    assert response.status_code == 200
    assert response.json()["results"]


def test_a_division_manager_reads_other_divisions_too(clients, targets):
    response = clients["manager"].get(f"{BASE}/measurements/?org_unit={OTHER_DIVISION}")
    assert response.status_code == 200
    assert len(response.json()["results"]) == 1
